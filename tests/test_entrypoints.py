"""The documented entry points as users run them: vf-eval, and `ray job submit` of an eval."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from awm_ray.policy import PolicyServer

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.verifiers("0.3")
@pytest.mark.parametrize("env_id", ["awm-ray", "awm-harness-1k"])
def test_vf_eval_against_the_reference_policy(tmp_path, env_id):
    env = {**os.environ, "POLICY_KEY": "unused", "PATH": f"{BIN}:{os.environ['PATH']}"}
    with PolicyServer("oracle") as server:
        cmd = [str(BIN / "vf-eval"), env_id, "-m", "awm-ray-reference-oracle", "-b", server.base_url, "-k", "POLICY_KEY",
               "-n", "5", "-r", "2", "-a", json.dumps({"dataset_name": "bundled", "tasks_per_scenario": 2}),
               "--save-results", "--output-dir", str(tmp_path), "--disable-tui"]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    (results,) = tmp_path.rglob("results.jsonl")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(rows) == 10 and all(r["reward"] == 1.0 for r in rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ray_job_submit_of_an_eval(tmp_path):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    port, dashboard = _free_port(), _free_port()
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", f"--port={port}", f"--dashboard-port={dashboard}", "--num-cpus=2",
         "--disable-usage-stats", "--block"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{dashboard}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/version", timeout=2)
                break
            except urllib.error.HTTPError:  # it answers (401 under token auth): it is up
                break
            except OSError:
                assert time.monotonic() < deadline and head.poll() is None, "the Ray head did not start"
                time.sleep(1)
        out = tmp_path / "job"
        deadline = time.monotonic() + 240
        while True:  # a fresh head's job agent takes a while to register (longer on a busy machine)
            done = subprocess.run(
                [str(REPO / "scripts" / "submit_eval.sh"), "--out", str(out), "--num-examples", "4", "--backend",
                 "inprocess"],
                capture_output=True, text=True, timeout=300, env={**env, "RAY_DASHBOARD": url},
            )  # fmt: skip
            if "No available agent" not in done.stdout + done.stderr or time.monotonic() > deadline:
                break
            time.sleep(3)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        assert "succeeded" in done.stdout + done.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert summary["rollouts"] == 4 and summary["mean_reward"] == 1.0
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(60)
        shutil.rmtree(tmp_path / "job", ignore_errors=True)
