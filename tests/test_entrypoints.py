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


@pytest.mark.timeout(900)  # a fresh head's job agent can take minutes on a busy machine
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
        # F14: relative --out land where the user runs the script (not in the job's copy of the project),
        # and two jobs submitted at once both run (each its own farm)
        cwd = tmp_path / "here"
        cwd.mkdir()

        def submit(out: str, *extra: str) -> subprocess.Popen:
            cmd = [str(REPO / "scripts" / "submit_eval.sh"), "--out", out, "--num-examples", "4", "--backend", "inprocess", *extra]
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                                    env={**env, "RAY_DASHBOARD": url})  # fmt: skip

        deadline = time.monotonic() + 480
        while True:  # a fresh head's job agent takes a while to register (longer on a busy machine)
            jobs = [submit("runs/a"), submit("runs/b")]
            outputs = [job.communicate(timeout=300)[0] for job in jobs]
            if not any("No available agent" in o for o in outputs) or time.monotonic() > deadline:
                break
            shutil.rmtree(cwd / "runs", ignore_errors=True)
            time.sleep(3)
        for job, output in zip(jobs, outputs, strict=True):
            assert job.returncode == 0, output[-4000:]
            assert "succeeded" in output
        for name in ("a", "b"):
            summary = json.loads((cwd / "runs" / name / "summary.json").read_text())
            assert summary["rollouts"] == 4 and summary["mean_reward"] == 1.0
        again = submit("runs/a")  # refused before a job is submitted
        output = again.communicate(timeout=60)[0]
        assert again.returncode == 2 and "results.jsonl exists: pass --resume" in output and "job " not in output
        refused = submit("/proc/awm-ray-run")
        assert refused.wait(60) == 2 and "cannot be written" in refused.communicate()[0]
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(60)
        shutil.rmtree(tmp_path / "here", ignore_errors=True)
