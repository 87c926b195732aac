"""Each slot's app in its own uvicorn process, on a leased loopback port.

The process gets its own process group, dies with its parent, writes to a log file (never an
unread pipe) of at most `max_output_bytes` plus the tail of what was dropped, sees only the
environment variables an AWM app reads (no API keys), and may only use loopback and Unix sockets
(`guard`, installed by `_serve.py` before the app is imported).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from awm_ray.hosting.backend import Backend, HostedApp, ServerStartError, database_url
from awm_ray.hosting.ports import PortAllocator, PortLease
from awm_ray.scenario import HttpRequest, Scenario

log = logging.getLogger(__name__)

SERVE_SCRIPT = Path(__file__).with_name("_serve.py")
LOG_TAIL_CHARS = 2_000


def _server_env(db_path: Path, port: int) -> dict[str, str]:
    return {
        "DATABASE_PATH": database_url(db_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PATH": os.defpath,
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "MALLOC_ARENA_MAX": "2",  # glibc's per-thread arenas reserve address space the memory limit counts
    }


def log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - chars))
            return fh.read().decode(errors="replace").strip()
    except OSError:
        return ""


def describe_exit(code: int) -> tuple[bool, str]:
    """(whether the process ended itself, what happened) for a server's exit status.

    SIGKILL and SIGTERM come from outside (the OOM killer, an operator, a chaos test): not the
    scenario's doing. An exit code, SIGXCPU (its CPU limit) or a crash signal are its own.
    """
    if code >= 0:
        return True, f"exited with code {code}"
    try:
        sig = signal.Signals(-code)
    except ValueError:
        return True, f"was killed by signal {-code}"
    if sig == signal.SIGXCPU:
        return True, "was killed by SIGXCPU: it used up its CPU limit (hosting.server_cpu_s)"
    if sig in (signal.SIGKILL, signal.SIGTERM):  # its code may not send signals (guard): someone else did
        return False, f"was killed by {sig.name} (not by its own code: the OOM killer, an operator)"
    return True, f"was killed by {sig.name}"


def kill_group(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    """Stop a server and everything it spawned (its whole process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(grace_s)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        log.warning("server pid %s did not exit after SIGKILL", proc.pid)


class SubprocessApp(HostedApp):
    def __init__(self, proc: subprocess.Popen, lease: PortLease, log_path: Path):
        super().__init__(
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{lease.port}",
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=300),
                trust_env=False,
            )
        )
        self.proc = proc
        self.lease = lease
        self.log_path = log_path
        self._closing = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    @property
    def port(self) -> int:
        return self.lease.port

    def alive(self) -> bool:
        return self.proc.poll() is None

    def death(self) -> tuple[bool, str] | None:
        code = self.proc.poll()
        if code is None or self._closing:
            return None
        own, how = describe_exit(code)
        tail = log_tail(self.log_path, 600)
        return own, f"its server {how}" + (f"; its log ends:\n{tail}" if tail else "")

    async def close(self) -> None:
        self._closing = True
        await self._client.aclose()
        await asyncio.to_thread(kill_group, self.proc)
        self.lease.release()


class SubprocessBackend(Backend):
    """Hosts each app with `python _serve.py` (uvicorn) on a port leased from `ports`.

    `memory_mb` / `cpu_s`: each server's address-space and CPU-seconds rlimits (None: none).
    """

    name = "subprocess"

    def __init__(
        self,
        ports: PortAllocator | None = None,
        start_timeout_s: float = 30.0,
        start_attempts: int = 2,
        max_output_bytes: int = 1_000_000,
        loopback_only: bool = True,
        memory_mb: int | None = None,
        cpu_s: float | None = None,
    ):
        self.ports = ports or PortAllocator()
        self.start_timeout_s = start_timeout_s
        self.start_attempts = start_attempts
        self.max_output_bytes = max_output_bytes
        self.loopback_only = loopback_only
        self.memory_mb = memory_mb
        self.cpu_s = cpu_s

    def _command(self, code_path: Path, *extra: str) -> list[str]:
        cmd = [sys.executable, str(SERVE_SCRIPT), "--app", str(code_path), "--parent", str(os.getpid())]
        cmd += ["--max-output-bytes", str(self.max_output_bytes), *(["--loopback-only"] if self.loopback_only else [])]
        cmd += ["--memory-mb", str(self.memory_mb or 0), "--cpu-s", str(self.cpu_s or 0)]
        return cmd + list(extra)

    async def start(self, scenario: Scenario, db_path: Path, workdir: Path) -> SubprocessApp:
        if scenario.code is None:
            raise ServerStartError(f"scenario {scenario.name!r} has no server code (missing part: env)")
        workdir.mkdir(parents=True, exist_ok=True)
        code_path = workdir / "app.py"
        code_path.write_text(scenario.code)
        reasons: list[str] = []
        for attempt in range(1, self.start_attempts + 1):
            log_path = workdir / f"server-{attempt}.log" if attempt > 1 else workdir / "server.log"
            lease = self.ports.lease()
            proc = self._spawn(code_path, db_path, lease, log_path)
            app = SubprocessApp(proc, lease, log_path)
            try:
                await self._wait_ready(app)
            except ServerStartError as exc:
                await app.close()
                reasons.append(f"attempt {attempt} (port {lease.port}): {exc}")
                log.warning("scenario %s failed to start: %s", scenario.name, exc)
                continue
            lease.hand_over()
            return app
        raise ServerStartError(
            f"scenario {scenario.name!r} did not start after {self.start_attempts} attempt(s):\n" + "\n".join(reasons)
        )

    async def create_schema(self, scenario: Scenario, db_path: Path, workdir: Path, timeout_s: float) -> None:
        if scenario.code is None:
            raise ServerStartError(f"scenario {scenario.name!r} has neither a db schema nor server code")
        workdir.mkdir(parents=True, exist_ok=True)
        code_path = workdir / "schema_app.py"
        code_path.write_text(scenario.code)
        log_path = workdir / "schema.log"
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(
                self._command(code_path, "--create-schema"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=_server_env(db_path, 0), cwd=workdir, start_new_session=True,
            )  # fmt: skip
        try:
            code = await asyncio.to_thread(proc.wait, timeout_s)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise ServerStartError(f"importing {scenario.name!r} to create its schema took over {timeout_s:g} s") from None
        if code != 0:
            raise ServerStartError(f"importing {scenario.name!r} failed (exit {code}):\n{log_tail(log_path)}")

    def _spawn(self, code_path: Path, db_path: Path, lease: PortLease, log_path: Path) -> subprocess.Popen:
        fd = lease.fileno()
        cmd = self._command(code_path, "--fd", str(fd))
        with open(log_path, "wb") as out:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_server_env(db_path, lease.port),
                cwd=code_path.parent,
                pass_fds=(fd,),
                start_new_session=True,
            )

    async def _wait_ready(self, app: SubprocessApp) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        probe = HttpRequest("GET", "/openapi.json")
        while True:
            if not app.alive():
                raise ServerStartError(f"server {describe_exit(app.proc.returncode)[1]}:\n{log_tail(app.log_path)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = log_tail(app.log_path)
                raise ServerStartError(
                    f"server did not answer within {self.start_timeout_s:g} s (it hangs, or is very slow, at "
                    f"import); its process group is killed" + (f":\n{tail}" if tail else "")
                )
            try:
                response = await app.send(probe, min(0.5, remaining))
            except Exception:  # not accepting yet (still importing), or mid-start
                await asyncio.sleep(0.02)
                continue
            if response.ok:
                return
            raise ServerStartError(f"GET /openapi.json answered {response.status}:\n{response.body[:500]}")
