"""`awm-ray eval`: the reference policies end to end, results files, and --resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray

from awm_ray.cli import main


@pytest.fixture(scope="module")
def local_ray():
    info = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    yield info.address_info["gcs_address"]
    ray.shutdown()


def run_eval(out: Path, *args: str) -> dict:
    assert main(["eval", "--out", str(out), "--backend", "inprocess", *args]) == 0
    return json.loads((out / "summary.json").read_text())


def test_reference_policies_on_the_bundled_scenarios(local_ray, tmp_path, capsys):
    oracle = run_eval(tmp_path / "oracle", "--tasks-per-scenario", "3", "--concurrency", "8")
    printed = capsys.readouterr().out
    assert "harness check" in printed and "not a model score" in printed
    assert oracle["rollouts"] == 12 and oracle["mean_reward"] >= 0.95 and oracle["error_rows"] == 0
    assert "harness check" in oracle["label"]
    random_policy = run_eval(tmp_path / "random", "--tasks-per-scenario", "3", "--policy", "random")
    noop = run_eval(tmp_path / "noop", "--tasks-per-scenario", "3", "--policy", "noop")
    assert random_policy["mean_reward"] <= oracle["mean_reward"] - 0.3
    assert noop["mean_reward"] == 0.0 and noop["error_rows"] == 0

    import datasets

    rows = datasets.load_dataset("json", data_files=str(tmp_path / "oracle" / "results.jsonl"), split="train")
    assert rows.num_rows == 12
    assert {"scenario", "targets", "reward", "metrics", "tool_calls", "timings", "error"} <= set(rows.column_names)
    assert rows[0]["tool_calls"][0]["status"] == 200
    summary = oracle
    assert set(summary["by_scenario"]) == {"bookstore_1", "recipe_planner_1", "task_tracker_1", "travel_booking_1"}
    assert summary["by_endpoint"] and summary["throughput"]["rollouts_per_s"] > 0


def test_resume_after_a_kill_finishes_without_repeating_rows(local_ray, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "awm_ray.cli", "eval", "--out", str(out), "--backend", "inprocess",
           "--address", local_ray, "--tasks-per-scenario", "10", "--concurrency", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and len(results.read_text().splitlines()) >= 5:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    with open(results, "a") as fh:  # a row cut short by the crash
        fh.write('{"id": "half a ro')
    before = [json.loads(line)["id"] for line in results.read_text().splitlines()[:-1]]
    assert 5 <= len(before) < 39

    summary = run_eval(out, "--address", local_ray, "--tasks-per-scenario", "10", "--resume")
    ids = [json.loads(line)["id"] for line in results.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 39  # every rollout once: 4 scenarios, 10/10/10/9 passed endpoints
    assert ids[: len(before)] == before
    assert summary["rollouts"] == 39 and summary["error_rows"] == 0
    assert summary["throughput"]["rollouts_this_run"] == 39 - len(before)


def test_refuses_to_overwrite_results_without_resume(local_ray, tmp_path, capsys):
    out = tmp_path / "once"
    run_eval(out, "--num-examples", "1")
    capsys.readouterr()
    assert main(["eval", "--out", str(out), "--num-examples", "1"]) == 2
    assert "pass --resume" in capsys.readouterr().out


def test_resume_drops_lines_that_are_not_rows_of_this_run(local_ray, tmp_path, caplog):
    out = tmp_path / "damaged"
    first = run_eval(out, "--address", local_ray, "--tasks-per-scenario", "1")
    results = out / "results.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    planned = len(rows)
    assert first["rollouts"] == planned >= 2
    kept, redo = rows[:-1], rows[-1]
    scenario = kept[0]["scenario"]
    damage = ["null", "[]", json.dumps({k: v for k, v in kept[0].items() if k != "id"}), json.dumps(kept[0]),
              json.dumps({**kept[0], "id": f"{scenario}#0/99"}), json.dumps({**kept[0], "id": 5}),
              json.dumps({**redo, "reward": "abc"})]  # fmt: skip
    results.write_text("".join(json.dumps(r) + "\n" for r in kept) + "\n".join(damage) + "\n")

    caplog.clear()
    summary = run_eval(out, "--address", local_ray, "--tasks-per-scenario", "1", "--resume")
    assert summary["rollouts"] == planned and summary["throughput"]["rollouts_this_run"] == 1  # only the bad-reward one
    assert sum(s["n"] for s in summary["by_scenario"].values()) == planned and isinstance(summary["mean_reward"], float)
    ids = [json.loads(line)["id"] for line in results.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == planned and ids[:-1] == [r["id"] for r in kept] and ids[-1] == redo["id"]
    (warning,) = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    first_bad = len(kept) + 1
    assert "dropped 7 line(s)" in warning and "results.dropped.jsonl" in warning
    assert (out / "results.dropped.jsonl").read_text().splitlines() == damage  # set aside, not lost
    for number in range(first_bad, first_bad + 7):
        assert f" {number} (" in warning
