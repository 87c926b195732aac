"""Run untrusted Python in a pre-started process, one forked child per job, under limits.

```python
from awm_ray.hosting.sandbox import Limits, Sandbox

sandbox = Sandbox()                      # one per owner (a farm worker, a validator)
await sandbox.start()                    # optional: the first run() starts it
result = await sandbox.run("mypkg.checks:verify", {"db_path": "/x/final.db"}, Limits(wall_s=10, memory_mb=256))
if result.ok:
    print(result.value)                  # what verify(**kwargs) returned (JSON)
else:
    print(result.error, result.message)  # "timeout" | "cpu" | "memory" | "crashed" | "raised" | "refused"
await sandbox.close()
```

A job is a function importable in the sandbox (`"package.module:function"`), called with JSON-able
keyword arguments; it returns JSON (a coroutine function is run with `asyncio.run`). The sandbox is
a "zygote" Python (`_zygote.py`) started with a minimal environment (no secrets: `PATH`, `LANG`),
the owner's `sys.path` and the `preload` modules imported, that forks one child per job. The child
gets its own temp dir (its cwd, TMPDIR and HOME; `workdir` instead as cwd when given, writable too),
every inherited descriptor closed, rlimits (address space: what the zygote maps + `memory_mb`; CPU
seconds; file size; no core files) and an audit hook that refuses fork/exec/system/spawn (the
fork-bomb guard: as root, RLIMIT_NPROC does not bind), signals to other processes, ctypes, reading
other processes' `/proc` entries, writing outside its own directories (SQLite included: open other
databases with `file:PATH?mode=ro`) and sockets beyond `Limits.network`. It is killed with its
process group at the wall-clock limit. A crashed or killed child never takes the zygote down; a dead
zygote is restarted on the next `run()` (its running jobs end with error "crashed").

What it is not: a kernel sandbox. Reads are not confined (except other processes' /proc), the
audit hook stops Python-level actions only (it closes the known native escapes: ctypes and
`_posixsubprocess` are refused), and the child runs as the owner's user: run the owner as a user
that holds no secrets.

Costs (2-core machine): starting the zygote ~1-3 s (its preloads); a job that returns at once
~5-15 ms; its memory is shared with the zygote until written (the zygote calls `gc.freeze()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

ZYGOTE_SCRIPT = Path(__file__).with_name("_zygote.py")
DEFAULT_PRELOAD = ("json", "sqlite3", "asyncio", "re", "decimal", "datetime", "pydantic", "sqlalchemy", "fastapi")
ERRORS = ("timeout", "cpu", "memory", "crashed", "raised", "refused")
Network = Literal["none", "loopback"]


@dataclass(frozen=True)
class Limits:
    """What one job may use.

    `wall_s`: seconds of wall-clock time before the child is killed (error "timeout").
    `cpu_s`: CPU seconds (RLIMIT_CPU; error "cpu"); None = `wall_s`.
    `memory_mb`: address space the job may add to what the zygote maps (RLIMIT_AS; error "memory").
    `network`: "none" (Unix socketpairs only) or "loopback" (127.0.0.1/::1 and Unix sockets).
    `file_mb`: largest file the job may write (RLIMIT_FSIZE; writing past it raises OSError).
    """

    wall_s: float = 10.0
    cpu_s: float | None = None
    memory_mb: float = 512.0
    network: Network = "none"
    file_mb: float = 64.0

    def __post_init__(self) -> None:
        if not self.wall_s > 0 or (self.cpu_s is not None and not self.cpu_s > 0):
            raise ValueError("Limits.wall_s and cpu_s must be positive")
        if not self.memory_mb > 0 or not self.file_mb > 0:
            raise ValueError("Limits.memory_mb and file_mb must be positive")
        if self.network not in ("none", "loopback"):
            raise ValueError(f"Limits.network must be 'none' or 'loopback', not {self.network!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"wall_s": self.wall_s, "cpu_s": self.cpu_s if self.cpu_s is not None else self.wall_s,
                "memory_mb": self.memory_mb, "network": self.network, "file_mb": self.file_mb}  # fmt: skip


@dataclass(frozen=True)
class SandboxResult:
    """One job's outcome.

    `ok`: the function returned; `value` is what it returned (JSON). Otherwise `error` is one of
    `ERRORS`: "timeout" (wall-clock limit), "cpu" (CPU limit), "memory" (MemoryError or an
    out-of-memory crash), "crashed" (the child died without a result: `os._exit`, a signal, a
    native crash, or the zygote died), "raised" (the function raised; `sys.exit` too), "refused"
    (the audit hook refused something and the job did not recover, or its result was too large).
    `message` says what happened (a traceback, the tail of the job's output); `wall_ms` is the
    child's wall-clock time as the zygote measured it.
    """

    ok: bool
    value: Any = None
    error: str | None = None
    message: str = ""
    wall_ms: float = 0.0


@dataclass
class SandboxStats:
    jobs: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    zygote_starts: int = 0


class SandboxError(RuntimeError):
    """The zygote could not be started (the message says why)."""


class Sandbox:
    """One zygote process and the jobs it runs; at most `max_jobs` children at once.

    `preload`: modules the zygote imports before forking (shared by every child; a module that
    fails to import is logged and left to the job). `warmup`: "package.module:function", trusted
    code the zygote runs once after the preloads (called with the sandbox's root directory), e.g. to
    warm the lazy imports and caches every job would otherwise pay for. `root`: where job
    directories go (a private temp dir by default, removed by `close()`). Bound to the event loop
    of its first use; used from another loop, it starts a fresh zygote.
    """

    def __init__(
        self,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        root: str | Path | None = None,
        max_jobs: int | None = None,
        start_timeout_s: float = 60.0,
        warmup: str | None = None,
    ):
        self.preload = tuple(preload)
        self.warmup = warmup
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="awm-ray-sandbox-")) if root is None else Path(root)
        self.max_jobs = max_jobs or max(2, os.cpu_count() or 2)
        self.start_timeout_s = start_timeout_s
        self.stats = SandboxStats()
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None
        self._closed = False
        self.pid: int | None = None

    # ---- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the zygote if it is not running (waits for its preloads). Raises `SandboxError`."""
        if self._closed:
            raise SandboxError("the sandbox is closed")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._kill()
            self._loop, self._starting, self._slots = loop, asyncio.Lock(), asyncio.Semaphore(self.max_jobs)
        assert self._starting is not None
        async with self._starting:
            if self._alive():
                return
            self._kill()
            await self._spawn()

    async def run(
        self,
        target: str,
        kwargs: Mapping[str, Any] | str | None = None,
        limits: Limits | None = None,
        workdir: str | Path | None = None,
    ) -> SandboxResult:
        """Run `target(**kwargs)` in a fresh child under `limits`; never raises for the job's faults.

        `target`: "package.module:function". `kwargs`: a mapping of JSON values, or a JSON object
        as a string. `workdir`: an existing directory to run in (writable by the job; not removed).
        Raises `SandboxError` only when the zygote cannot be started at all.
        """
        if ":" not in target:
            raise ValueError(f"target must be 'package.module:function', not {target!r}")
        limits = limits or Limits()
        payload = kwargs if isinstance(kwargs, str) or kwargs is None else json.dumps(dict(kwargs))
        if workdir is not None and not Path(workdir).is_dir():
            raise ValueError(f"workdir {workdir} is not a directory")
        await self.start()
        assert self._slots is not None
        async with self._slots:
            for attempt in (1, 2):  # a zygote that died between jobs is restarted once, transparently
                await self.start()
                job_id = next(self._ids)
                future = asyncio.get_running_loop().create_future()
                self._pending[job_id] = future
                request = {"id": job_id, "target": target, "kwargs": payload, "limits": limits.to_dict(),
                           "workdir": None if workdir is None else str(Path(workdir).resolve())}  # fmt: skip
                try:
                    self._write(request)
                    await self._writer.drain()  # type: ignore[union-attr]
                except (ConnectionError, OSError, AttributeError):
                    self._pending.pop(job_id, None)
                    self._kill()
                    if attempt == 1:
                        continue
                    return self._record(SandboxResult(False, None, "crashed", "the sandbox's zygote is not reachable"))
                try:
                    async with asyncio.timeout(limits.wall_s + 10.0):  # the zygote kills at wall_s: this is its own hang
                        outcome = await future
                except TimeoutError:
                    self._pending.pop(job_id, None)
                    log.warning("sandbox zygote %s did not report job %d in time: restarting it", self.pid, job_id)
                    self._kill()
                    return self._record(SandboxResult(False, None, "timeout",
                                                      f"no result within {limits.wall_s + 10:g} s (the zygote hung)"))  # fmt: skip
                return self._record(outcome)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """Stop the zygote (its children die with it) and remove the job directories we made."""
        self._closed = True
        self._kill()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reader_task
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def close_now(self) -> None:
        """`close()` for code without an event loop (or at interpreter exit)."""
        self._closed = True
        self._kill()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- internals ------------------------------------------------------------------------

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._writer is not None

    async def _spawn(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = [sys.executable, "-I", str(ZYGOTE_SCRIPT), "--fd", str(theirs.fileno()), "--parent", str(os.getpid()),
               "--root", str(self.root), "--sys-path", json.dumps([p for p in sys.path if p]),
               "--preload", ",".join(self.preload), "--warmup", self.warmup or "",
               *(["--remove-root"] if self._own_root else [])]  # fmt: skip
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "MALLOC_ARENA_MAX": "2"}
        try:
            with open(self.root / "zygote.log", "ab") as out:
                self._proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.root,
                    pass_fds=(theirs.fileno(),), start_new_session=True,
                )  # fmt: skip
        except OSError as exc:
            ours.close()
            raise SandboxError(f"could not start the sandbox's zygote: {exc}") from exc
        finally:
            theirs.close()
        self.stats.zygote_starts += 1
        reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        try:
            async with asyncio.timeout(self.start_timeout_s):
                ready = await _read_frame(reader)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
            tail = _tail(self.root / "zygote.log")
            self._kill()
            raise SandboxError(f"the sandbox's zygote did not start ({type(exc).__name__}){': ' + tail if tail else ''}") from None
        except BaseException:  # cancelled while it started: a zygote nobody reads from is not a running one
            self._kill()
            raise
        self.pid = ready.get("pid")
        if ready.get("preload_errors"):
            log.warning("sandbox preloads that failed (jobs import them themselves): %s", ready["preload_errors"])
        self._reader_task = asyncio.ensure_future(self._read_results(reader, self._proc))

    async def _read_results(self, reader: asyncio.StreamReader, proc: subprocess.Popen) -> None:
        try:
            while True:
                outcome = await _read_frame(reader)
                future = self._pending.pop(outcome.pop("id", None), None)
                if future is not None and not future.done():
                    future.set_result(SandboxResult(**{k: outcome.get(k) for k in ("ok", "value", "error", "message")},
                                                    wall_ms=outcome.get("wall_ms") or 0.0))  # fmt: skip
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            if self._proc is proc:  # it died (or was killed): its jobs are lost, the next run() restarts it
                code = proc.poll()
                self._kill()
                for future in self._pending.values():
                    if not future.done():
                        future.set_result(SandboxResult(False, None, "crashed",
                                                        f"the sandbox's zygote exited (code {code}) while the job ran"))  # fmt: skip
                self._pending.clear()

    def _write(self, message: dict) -> None:
        data = json.dumps(message, ensure_ascii=False).encode()
        self._writer.write(struct.pack(">I", len(data)) + data)  # type: ignore[union-attr]

    def _kill(self) -> None:
        proc, writer, self._proc, self._writer = self._proc, self._writer, None, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        for future in self._pending.values():
            if not future.done():
                future.set_result(SandboxResult(False, None, "crashed", "the sandbox's zygote was stopped while the job ran"))
        self._pending.clear()

    def _record(self, result: SandboxResult) -> SandboxResult:
        self.stats.jobs += 1
        if not result.ok and result.error:
            self.stats.failed[result.error] = self.stats.failed.get(result.error, 0) + 1
        return result

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                os.killpg(proc.pid, 9)


async def _read_frame(reader: asyncio.StreamReader) -> dict:
    (size,) = struct.unpack(">I", await reader.readexactly(4))
    return json.loads(await reader.readexactly(size))


def _tail(path: Path, chars: int = 1_500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:].strip()
    except OSError:
        return ""

