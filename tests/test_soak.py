"""The CI soak: scripts/soak.py with chaos; any lost, hung or leaked item fails the suite.

The full run (`--episodes 10000 --concurrency 128 --chaos --nodes 3`) is in docs/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def soak(tmp_path: Path, *flags: str) -> dict:
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "soak.py"), *flags, "--out", str(out)],
        check=False, capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert out.exists(), f"soak.py wrote no report (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    return json.loads(out.read_text())


def check_nothing_lost_hung_or_leaked(report: dict) -> None:
    episodes = report["episodes"]
    assert episodes["lost"] == 0, report["errors"]
    assert episodes["hung"] == 0
    assert episodes["completed"] + episodes["failed_with_clear_error"] == episodes["submitted"]
    assert report["leaks"] == {"processes": 0, "ports": 0, "leases": 0, "temp_files": 0}, report.get("leak_details")
    assert sum(report["chaos"]["counts"].values()) >= 1, "chaos never struck"
    assert report["resets"]["verified"] > 0


@pytest.mark.timeout(600)
def test_ci_soak_with_chaos(tmp_path):
    """The issue's CI command: 300 episodes, 16 at once, worker actors killed mid-run (in-process backend)."""
    report = soak(tmp_path, "--episodes", "300", "--concurrency", "16", "--chaos")
    check_nothing_lost_hung_or_leaked(report)
    assert report["chaos"]["counts"]["kill_worker"] >= 1
    assert report["episodes"]["retried"] >= 1  # the killed workers' episodes were retried, not lost


@pytest.mark.timeout(600)
def test_ci_soak_killing_scenario_servers(tmp_path):
    """The subprocess backend, whose scenario servers chaos can kill -9 as well."""
    report = soak(tmp_path, "--episodes", "150", "--concurrency", "8", "--chaos", "--chaos-events", "4",
                  "--backend", "subprocess")  # fmt: skip
    check_nothing_lost_hung_or_leaked(report)
    assert report["chaos"]["counts"]["kill_server"] >= 1


def test_the_leak_check_sees_a_leftover_process_and_file(tmp_path):
    """soak.py's leak count must be able to fail: a child process and a file under the farm root count."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("soak_script", REPO / "scripts" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = tmp_path / "awm-ray-000000000000"
    (root / "w000").mkdir(parents=True)
    (root / "w000" / "live.db").write_bytes(b"x")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left = module.leftovers(str(root), set(), set(), settle_s=0.5)
    finally:
        child.kill()
        child.wait()
    assert [p["pid"] for p in left["processes"]] == [child.pid]
    assert left["temp_files"] and left["ports"] == []
