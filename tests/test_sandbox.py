"""The sandbox (awm_ray.hosting.sandbox) on its own: no Ray, one zygote for the module."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path

import psutil
import pytest

from awm_ray.hosting.sandbox import Limits, Sandbox, SandboxResult

SECRET = "AWM_SANDBOX_TEST_API_KEY"
FAST = Limits(wall_s=5, cpu_s=3, memory_mb=256)


@pytest.fixture(scope="module")
def sandbox():
    os.environ[SECRET] = "sandbox-secret-1"
    box = Sandbox()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(box.start())
    box.loop = loop
    try:
        yield box
    finally:
        loop.run_until_complete(box.close())
        loop.close()
        os.environ.pop(SECRET, None)
        assert not box.root.exists()


def run(box: Sandbox, job: str, limits: Limits = FAST, workdir: Path | None = None, **kwargs) -> SandboxResult:
    return box.loop.run_until_complete(box.run(f"sandbox_jobs:{job}", kwargs, limits, workdir))


def test_a_job_returns_json_from_its_own_dir_with_a_minimal_environment(sandbox):
    result = run(sandbox, "echo", a=1, b=["x"])
    assert result.ok and result.error is None, result
    value = result.value
    assert value["kwargs"] == {"a": 1, "b": ["x"]}
    assert value["pid"] not in (os.getpid(), sandbox.pid)
    assert Path(value["cwd"]).parent == sandbox.root and value["tmp"].startswith(value["cwd"])
    assert set(value["env"]) == {"PATH", "LANG", "HOME", "TMPDIR"}
    assert not Path(value["cwd"]).exists()  # its directory goes with it
    assert run(sandbox, "echo_async", value=[1, 2]).value == [1, 2]


@pytest.mark.parametrize(
    ("job", "kwargs", "error", "words"),
    [
        ("spin", {}, "cpu", "CPU limit of 1 s"),
        ("sleep", {}, "timeout", "wall-clock limit of 2 s"),
        ("allocate", {"gb": 5}, "memory", "memory limit of 256 MB"),
        ("shell", {}, "refused", "may not run shell commands"),
        ("fork_bomb", {}, "refused", "may not start processes (fork)"),
        ("spawn", {}, "refused", "may not start processes (subprocess)"),
        ("exit_hard", {"code": 3}, "crashed", "exited with code 3"),
        ("exit_soft", {"code": 4}, "raised", "SystemExit: 4"),
        ("raise_error", {}, "raised", "ValueError: the job's own error"),
        ("parent_environ", {}, "refused", "may not read another process's /proc entry"),
        ("connect", {"host": "203.0.113.1", "port": 80}, "refused", "may not look up network names"),
        ("write", {"path": "/tmp/awm-ray-sandbox-escape.txt"}, "refused", "may not write outside its own directory"),
        ("native_escape", {}, "refused", "may not import ctypes"),
        ("huge_result", {"mb": 20}, "refused", "result is larger than"),
        ("not_json", {}, "raised", "not JSON serializable"),
        ("noisy_then_fails", {}, "crashed", "noise before the failure"),
    ],
)
def test_each_hostile_job_becomes_a_recorded_error_and_the_zygote_lives_on(sandbox, job, kwargs, error, words):
    zygote = sandbox.pid
    # a spinning job meets its CPU limit however loaded the machine is (wall 30 s); a sleeping one its wall limit
    limits = Limits(wall_s=2 if job == "sleep" else 30, cpu_s=1, memory_mb=256)
    result = run(sandbox, job, limits, **kwargs)
    assert not result.ok and result.error == error, result
    assert words in result.message, result.message
    assert sandbox.pid == zygote and psutil.pid_exists(zygote)
    assert not Path("/tmp/awm-ray-sandbox-escape.txt").exists()
    assert run(sandbox, "echo", after=job).ok


def test_the_environment_block_holds_no_secret(sandbox):
    assert os.environ[SECRET]
    text = run(sandbox, "read", path="/proc/self/environ").value
    assert "sandbox-secret" not in text and SECRET not in text
    assert "sandbox-secret" not in str(run(sandbox, "echo").value["env"])


def test_loopback_network_only_when_asked(sandbox):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer():
        conn, _ = server.accept()
        conn.sendall(b"hello")
        conn.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    refused = run(sandbox, "connect", host="127.0.0.1", port=port)
    assert refused.error == "refused" and "network is 'none'" in refused.message
    loopback = Limits(wall_s=5, network="loopback")
    assert run(sandbox, "connect", loopback, host="127.0.0.1", port=port).value == "hello"
    outside = run(sandbox, "connect", loopback, host="203.0.113.1", port=80)
    assert outside.error == "refused" and "outside loopback" in outside.message
    thread.join(5)
    server.close()


def test_workdir_is_writable_and_other_databases_only_read_only(sandbox, tmp_path):
    assert run(sandbox, "write", workdir=tmp_path, path="note.txt").value == str(tmp_path / "note.txt")
    assert (tmp_path / "note.txt").read_text() == "x"
    outside = tmp_path.parent / f"{tmp_path.name}-outside.db"
    with sqlite3.connect(outside) as db:
        db.execute("create table t (x)")
        db.execute("insert into t values (1)")
    try:
        refused = run(sandbox, "sqlite_write", path=str(outside))
        assert refused.error == "refused" and "mode=ro" in refused.message
        assert run(sandbox, "sqlite_read", path=str(outside)).value == 1
        assert run(sandbox, "sqlite_write", workdir=tmp_path, path="mine.db").value == "written"
    finally:
        outside.unlink()


def test_jobs_run_at_once_and_a_crash_does_not_touch_the_others(sandbox):
    async def many():
        return await asyncio.gather(
            *(sandbox.run("sandbox_jobs:echo", {"i": i}, FAST) for i in range(8)),
            sandbox.run("sandbox_jobs:exit_hard", {"code": 1}, FAST),
        )

    results = sandbox.loop.run_until_complete(many())
    assert [r.value["kwargs"]["i"] for r in results[:8]] == list(range(8))
    assert results[8].error == "crashed"


def test_a_dead_zygote_is_restarted_and_its_running_job_reported(sandbox):
    async def kill_mid_job():
        job = asyncio.ensure_future(sandbox.run("sandbox_jobs:sleep", {}, Limits(wall_s=20)))
        await asyncio.sleep(0.5)
        os.kill(sandbox.pid, signal.SIGKILL)
        return await job

    old = sandbox.pid
    lost = sandbox.loop.run_until_complete(kill_mid_job())
    assert lost.error == "crashed" and "zygote" in lost.message
    after = run(sandbox, "echo")
    assert after.ok and sandbox.pid != old and sandbox.stats.zygote_starts >= 2
    time.sleep(0.2)
    orphans = [p for p in psutil.process_iter(["cmdline"]) if str(sandbox.root) in " ".join(p.info["cmdline"] or [])]
    assert [p.pid for p in orphans] == [sandbox.pid]  # the old zygote's child died with it


OWNER = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from awm_ray.hosting.sandbox import Limits, Sandbox
box = Sandbox()
async def main():
    job = asyncio.ensure_future(box.run("sandbox_jobs:sleep", {}, Limits(wall_s=60)))
    for _ in range(600):  # the zygote starts in ~1 s, much longer on a loaded machine (CI saw pid None)
        if box.pid is not None:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # and the job on it
    print(box.root, box.pid, flush=True)
    await job
asyncio.run(main())
"""


def test_an_owner_killed_outright_leaves_no_zygote_job_or_temp_dir():
    """SIGKILL gives the owner no chance to close(): the zygote removes its root, and its jobs die."""
    import subprocess
    import sys

    tests = str(Path(__file__).parent)
    owner = subprocess.Popen([sys.executable, "-c", OWNER, tests], stdout=subprocess.PIPE, text=True)
    try:
        root, zygote = owner.stdout.readline().split()
        assert Path(root).is_dir() and psutil.pid_exists(int(zygote))
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 20
    while (Path(root).exists() or psutil.pid_exists(int(zygote))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(root).exists(), f"{root} left behind"
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if root in " ".join(p.info["cmdline"] or [])]
    assert not psutil.pid_exists(int(zygote)) and left == []
