"""Backends, port leases and Slots on one machine (no Ray)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from apps import TINY_CODE, tiny
from awm_ray.hosting import (
    InProcessBackend,
    PortAllocator,
    ServerStartError,
    Slot,
    SlotUnusable,
    SubprocessBackend,
    Template,
    TemplateStore,
)
from awm_ray.loading import load_scenarios
from awm_ray.scenario import content_checksum, parse_scenario

BACKENDS = {"subprocess": SubprocessBackend, "inprocess": InProcessBackend}


def run(coro):
    return asyncio.run(coro)


async def started(scenario, backend, tmp_path: Path, store: TemplateStore | None = None, tag: str = "s") -> Slot:
    store = store or TemplateStore(tmp_path / "templates", backend)
    template = await store.get(scenario)
    return await Slot(scenario, backend, template, tmp_path / f"slot-{tag}", call_timeout_s=5).start()


# ---- port leases -------------------------------------------------------------------------


def test_port_leases_are_bound_listening_and_released():
    ports = PortAllocator()
    a, b = ports.lease(), ports.lease()
    assert a.port != b.port and ports.leased == {a.port, b.port}
    socket.create_connection(("127.0.0.1", a.port), timeout=1).close()  # already listening
    with pytest.raises(OSError):  # nobody else can bind it
        socket.socket().bind(("127.0.0.1", a.port))
    a.release()
    b.release()
    assert ports.leased == frozenset()


def test_port_range_skips_busy_ports_and_runs_out_clearly():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    busy = probe.getsockname()[1]
    probe.listen()
    low = busy - 1 if busy > 1025 else busy
    ports = PortAllocator(port_range=(low, busy + 1))
    leases = []
    try:
        for _ in range(3):
            try:
                leases.append(ports.lease())
            except RuntimeError as exc:
                assert "no free port" in str(exc)
                break
        assert busy not in {lease.port for lease in leases}
        assert len(leases) >= 1
        with pytest.raises(RuntimeError, match="no free port"):
            for _ in range(5):
                leases.append(ports.lease())
    finally:
        for lease in leases:
            lease.release()
        probe.close()


# ---- both backends behave the same -------------------------------------------------------

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


def comparable(text: str) -> str:
    return _TIMESTAMP.sub("<time>", text)


@pytest.mark.parametrize("which", ["content_platform_1", "bundled"])
def test_backends_answer_every_endpoint_identically(tmp_path, awm_rows, which):
    scenarios = [parse_scenario(awm_rows["content_platform_1"])] if which != "bundled" else list(load_scenarios("bundled"))
    assert scenarios

    async def main():
        sub, inp = SubprocessBackend(), InProcessBackend()
        store = TemplateStore(tmp_path / "templates", sub)
        compared = 0
        for scenario in scenarios:
            a = await started(scenario, sub, tmp_path, store, f"{scenario.name}-sub")
            b = await started(scenario, inp, tmp_path, store, f"{scenario.name}-inp")
            try:
                assert list(a.tools) == list(b.tools)
                statuses = set()
                for name, tool in a.tools.items():
                    await a.reset()
                    await b.reset()
                    args = json.dumps(tool.example_arguments())
                    ra, rb = await a.call(name, args), await b.call(name, args)
                    assert (ra.status, ra.error) == (rb.status, rb.error), name
                    assert comparable(ra.text) == comparable(rb.text), name
                    statuses.add(ra.status)
                    compared += 1
                assert statuses & {200, 201}
            finally:
                await a.close()
                await b.close()
        return compared

    assert run(main()) >= 30


# ---- reset ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_reset_restores_the_template_after_writes(tmp_path, backend):
    async def main():
        slot = await started(tiny(), BACKENDS[backend](), tmp_path)
        try:
            for i in range(3):
                assert (await slot.call("create_note", json.dumps({"title": f"note {i}"}))).status == 200
            assert content_checksum(slot.db_path) != slot.template.checksum
            listed = await slot.call("list_notes", "{}")
            assert "note 2" in listed.text
            took = await slot.reset()
            assert took > 0 and slot.usable
            assert content_checksum(slot.db_path) == slot.template.checksum
            after = await slot.call("list_notes", "{}")  # the running app sees the restored rows
            assert "note 0" not in after.text and "Buy milk" in after.text
            created = await slot.call("create_note", '{"title": "again"}')
            assert '"id":3' in created.text  # ids continue from the template, not from before the reset
        finally:
            await slot.close()
        assert not slot.workdir.exists()

    run(main())


def test_a_reset_that_does_not_verify_marks_the_slot_unusable(tmp_path):
    async def main():
        backend = InProcessBackend()
        slot = await started(tiny(), backend, tmp_path)
        try:
            slot.template = Template(slot.template.path, "0" * 40, slot.template.report)
            with pytest.raises(SlotUnusable, match="checksum"):
                await slot.reset()
            assert not slot.usable
        finally:
            await slot.close()

    run(main())


# ---- calls ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_calls_return_text_and_never_raise(tmp_path, backend):
    async def main():
        slot = await started(tiny(), BACKENDS[backend](), tmp_path)
        try:
            assert slot.tool_source == "openapi"  # no spec: tools from the app's OpenAPI
            ok = await slot.call("get_note", '{"note_id": "1"}')
            assert ok.status == 200 and ok.text.startswith("HTTP 200 OK\n") and "Buy milk" in ok.text
            missing = await slot.call("get_note", '{"note_id": 99}')
            assert missing.status == 404 and "Note not found" in missing.text
            boom = await slot.call("boom", "{}")
            assert boom.status == 500 and boom.error is None
            after = await slot.call("list_notes", "{}")  # the connection survives a 500
            assert after.status == 200
            bad = await slot.call("get_note", '{"note_id": "x"}')
            assert bad.status is None and bad.error == "arguments" and "integer" in bad.text
            unknown = await slot.call("drop_tables", "{}")
            assert unknown.error == "unknown_tool" and "list_notes" in unknown.text
            huge = await slot.call("create_note", json.dumps({"title": "x" * 2_000_000}))
            assert huge.error == "arguments" and "limit" in huge.text
            slot.call_timeout_s = 0.5
            slow = await slot.call("nap", '{"seconds": 5}')
            assert slow.error == "timeout" and "did not answer" in slow.text
            slot.call_timeout_s = 5
            assert (await slot.call("nap", '{"seconds": 0}')).status == 200
        finally:
            await slot.close()

    run(main())


def test_long_responses_are_truncated(tmp_path):
    async def main():
        slot = await started(tiny(), InProcessBackend(), tmp_path)
        slot.max_response_chars = 100
        try:
            for i in range(20):
                await slot.call("create_note", json.dumps({"title": f"a long title number {i}"}))
            listed = await slot.call("list_notes", "{}")
            assert "[truncated:" in listed.text and len(listed.text) < 200
        finally:
            await slot.close()

    run(main())


# ---- the subprocess backend's process hygiene -------------------------------------------


def test_server_sees_no_secrets_and_binds_loopback_in_its_own_group(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")

    async def main():
        slot = await started(tiny(), SubprocessBackend(), tmp_path)
        try:
            env = json.loads((await slot.call("read_env", "{}")).text.split("\n", 1)[1])
            assert set(env) <= {"DATABASE_PATH", "HOST", "PORT", "PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "LANG", "LC_CTYPE", "MALLOC_ARENA_MAX"}
            assert env["DATABASE_PATH"] == f"sqlite:///{slot.db_path.resolve()}"
            pid = slot.app.pid
            assert os.getpgid(pid) == pid != os.getpgid(0)
            listening = [c.laddr for c in psutil.Process(pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN]
            assert listening and all(addr.ip == "127.0.0.1" for addr in listening)
            assert (slot.workdir / "server.log").exists()
        finally:
            await slot.close()
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    run(main())


def test_killed_server_gives_a_clear_error(tmp_path):
    async def main():
        slot = await started(tiny(), SubprocessBackend(), tmp_path)
        try:
            os.kill(slot.app.pid, signal.SIGKILL)
            slot.app.proc.wait(5)
            result = await slot.call("list_notes", "{}")
            assert result.error == "server_gone" and "unavailable" in result.text
            assert not slot.alive and not slot.usable
        finally:
            await slot.close()

    run(main())


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_broken_code_fails_to_start_with_the_reason(tmp_path, backend):
    broken = TINY_CODE.replace("app = FastAPI(", "raise RuntimeError('generated code is broken')\napp = FastAPI(")

    async def main():
        with pytest.raises(ServerStartError) as info:
            await started(tiny(code=broken), BACKENDS[backend](start_attempts=2) if backend == "subprocess" else InProcessBackend(), tmp_path)
        text = str(info.value)
        assert "generated code is broken" in text
        if backend == "subprocess":
            assert "attempt 1" in text and "attempt 2" in text

    run(main())


def test_no_module_level_app_is_reported(tmp_path):
    async def main():
        with pytest.raises(ServerStartError, match="no module-level `app`"):
            await started(tiny(code=TINY_CODE.replace("app = FastAPI(", "application = FastAPI(").replace("@app.", "@application.")),
                          InProcessBackend(), tmp_path)  # fmt: skip

    run(main())


def test_server_dies_with_its_parent(tmp_path):
    """kill -9 of the hosting process takes its scenario servers with it."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from apps import tiny
        from awm_ray.hosting import SubprocessBackend, Slot, TemplateStore

        async def main():
            backend = SubprocessBackend()
            template = await TemplateStore(Path({str(tmp_path)!r}) / "t", backend).get(tiny())
            slot = await Slot(tiny(), backend, template, Path({str(tmp_path)!r}) / "s").start()
            print(slot.app.pid, flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    host = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(host.stdout.readline())
        assert psutil.pid_exists(server_pid)
        host.kill()
        host.wait(5)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(server_pid) and time.monotonic() < deadline:
            try:
                if psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        assert not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE
    finally:
        host.kill()
        host.stdout.close()


def test_closed_inprocess_slots_are_freed(tmp_path):
    """A worker replaces in-process slots all day: a closed slot's module must not stay in memory
    (FastAPI's endpoint caches used to keep ~1.3 MB per replaced app)."""
    import gc
    import weakref

    async def main():
        backend = InProcessBackend()
        store = TemplateStore(tmp_path / "templates", backend)
        apps = []
        for i in range(12):
            slot = await started(tiny(), backend, tmp_path, store, tag=str(i))
            assert (await slot.call("list_notes", "{}")).status == 200
            apps.append(weakref.ref(slot.app.module.app))
            await slot.close()
            del slot
        await asyncio.sleep(0.1)
        gc.collect()
        return sum(ref() is not None for ref in apps)

    assert run(main()) <= 1, "closed in-process apps are still alive"
