#!/usr/bin/env bash
# Submit `awm-ray eval` to a running Ray cluster as a Ray job: the episodes run on the cluster,
# this machine only submits and follows the log.
#
#   ray start --head                                   # or an existing cluster
#   scripts/submit_eval.sh --out /abs/path/run1 --num-examples 100 [awm-ray eval flags]
#
# RAY_DASHBOARD (default http://127.0.0.1:8265) is the cluster's job-submission address. Give --out
# an absolute path on the head node: a job runs in a temporary copy of this directory.
set -euo pipefail
cd "$(dirname "$0")/.."
# Clusters started with `ray start` use token auth when a token exists; the job client must send it.
if [ -z "${RAY_AUTH_MODE:-}" ] && [ -f "${RAY_AUTH_TOKEN_PATH:-$HOME/.ray/auth_token}" ]; then
  export RAY_AUTH_MODE=token
fi
exec ray job submit --address "${RAY_DASHBOARD:-http://127.0.0.1:8265}" --working-dir . -- awm-ray eval "$@"
