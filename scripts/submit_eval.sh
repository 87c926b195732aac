#!/usr/bin/env bash
# Submit `awm-ray eval` to a running Ray cluster as a Ray job: the episodes run on the cluster,
# this machine only submits and follows the log.
#
#   ray start --head                                   # or an existing cluster
#   scripts/submit_eval.sh --out runs/run1 --num-examples 100 [awm-ray eval flags]
#
# RAY_DASHBOARD (default http://127.0.0.1:8265) is the cluster's job-submission address.
# A job runs in a temporary copy of this directory, so `--out` is resolved here, against the
# directory you run this from (runs/run1 -> $PWD/runs/run1), and must be writable: results land
# where you look, never in Ray's package cache. The job runs on the head node: with a remote
# cluster, give a path the head node can write (e.g. a shared file system). Without --out,
# $PWD/runs/eval-<time>. Each job gets its own farm (`--farm-name awm-ray-eval-<submission id>`,
# unless you give one), so jobs submitted at once all run. An --out that already holds results is
# refused before anything is submitted (pass --resume to continue that run); two jobs submitted at
# once with the same --out: the second to start is refused (a run locks its --out while it writes).
set -euo pipefail

out=""
farm_name=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { echo "error: --out needs a directory" >&2; exit 2; }; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --farm-name) [ $# -ge 2 ] || { echo "error: --farm-name needs a name" >&2; exit 2; }; farm_name="$2"; shift 2 ;;
    --farm-name=*) farm_name="${1#--farm-name=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || out="runs/eval-$(date +%Y%m%d-%H%M%S)"
case "$out" in
  /*) ;;
  "~"|"~/"*) out="$HOME${out#\~}" ;;
  *) out="$PWD/$out" ;;
esac
if ! mkdir -p "$out" 2>/dev/null || ! [ -w "$out" ] || ! ( : > "$out/.awm-ray-probe" ) 2>/dev/null; then
  echo "error: --out $out cannot be written" >&2
  exit 2
fi
rm -f "$out/.awm-ray-probe"
if [ -s "$out/results.jsonl" ] && [[ " ${args[*]-} " != *" --resume "* ]]; then  # refused here, not by a job
  echo "error: $out/results.jsonl exists: pass --resume to continue it, or another --out" >&2
  exit 2
fi
submission="awm-ray-eval-$(date +%Y%m%d-%H%M%S)-$$"
[ -n "$farm_name" ] || farm_name="$submission"
cd "$(dirname "$0")/.."
# Clusters started with `ray start` use token auth when a token exists; the job client must send it.
if [ -z "${RAY_AUTH_MODE:-}" ] && [ -f "${RAY_AUTH_TOKEN_PATH:-$HOME/.ray/auth_token}" ]; then
  export RAY_AUTH_MODE=token
fi
echo "job $submission: results in $out (farm $farm_name)"
exec ray job submit --address "${RAY_DASHBOARD:-http://127.0.0.1:8265}" --submission-id "$submission" \
  --working-dir . -- awm-ray eval --out "$out" --farm-name "$farm_name" ${args[@]+"${args[@]}"}
