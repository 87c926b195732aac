"""Import new scenario code in a sandboxed child before a process that matters imports it.

The in-process backend runs scenario code inside its host (a farm worker, a validator): code that
calls `os._exit`, kills its process, allocates 5 GB, loops or forks at import would take the host
down with it. `Preflight.check(scenario, db_path)` first imports the code in a child of a
`Sandbox` (limits: `hosting.import_memory_mb` of memory, `hosting.start_timeout_s` of wall and CPU
time, loopback-only network, no processes), against a copy of the slot's DB, exactly as
`import_app_module` would; only code that imports cleanly there reaches the host. A pass is
remembered per code hash (in this process, and in `cache_dir` for the other processes of a farm on
this node); a failure raises `ServerStartError` with the reason, and is not cached here (the pool
and the scheduler remember failures, see `SlotPool` and `farm.max_scenario_failures`).

Cost: one fork and one import per new code per node (~0.1-0.3 s on this machine), paid by the
first lease of a scenario; later leases of the same code pay nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sys
import time
import types
import warnings
from pathlib import Path

from awm_ray.hosting.backend import ServerStartError, database_url, import_failure
from awm_ray.hosting.sandbox import DEFAULT_PRELOAD, Limits, Sandbox
from awm_ray.scenario import Scenario

log = logging.getLogger(__name__)
JOB = "awm_ray.hosting.preflight:import_scenario"


def _module_name(name: str) -> str:
    return f"awm_scenario_{re.sub(r'[^0-9A-Za-z_]', '_', name)[:40]}_preflight"


def import_scenario(code: str, name: str, db_file: str) -> dict:
    """Sandbox job: import `code` as module code with `DATABASE_PATH` at `db_file`; report its app.

    Returns {"routes": number of routes of its module-level `app`}, or {"error": text} (the cause
    and the scenario's own frames, as `import_app_module` words it) when the code raises; memory
    errors and the sandbox's refusals propagate, for the sandbox to report as such.
    """
    os.environ["DATABASE_PATH"] = database_url(Path(db_file))
    module = types.ModuleType(_module_name(name))
    module.__file__ = f"<awm-ray scenario {name}>"
    sys.modules[module.__name__] = module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, module.__file__, "exec"), module.__dict__)  # noqa: S102 - the point of the sandbox
    except (MemoryError, PermissionError):  # out of memory, or refused by the sandbox's guard
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the scenario's fault, worded like the host's import
        return {"error": import_failure(exc, module.__file__)}
    app = getattr(module, "app", None)
    if app is None:
        raise LookupError("the code defines no module-level `app`")
    return {"routes": len(getattr(app, "routes", []) or [])}


def warm_up(root: str) -> None:
    """Zygote warm-up: import one bundled scenario (trusted), so each trial starts with FastAPI's,
    pydantic's and SQLAlchemy's lazy imports done and their caches warm."""
    from awm_ray.loading import load_scenarios

    scenario = next(iter(load_scenarios("bundled")))
    db_file = Path(root) / "warm-up.db"
    try:
        import_scenario(scenario.code or "", scenario.name, str(db_file))
    finally:
        module = sys.modules.pop(_module_name(scenario.name), None)
        engine = getattr(module, "engine", None)
        if engine is not None:
            engine.dispose()
        db_file.unlink(missing_ok=True)
        os.environ.pop("DATABASE_PATH", None)


class Preflight:
    """Trial imports in a sandbox, one per new code hash (see the module doc).

    `root`: a private directory for the trial DB copies; `cache_dir`: where passes are shared with
    other processes (None: this process only). `close()` stops the sandbox.
    """

    def __init__(self, root: Path, memory_mb: int, timeout_s: float, cache_dir: Path | None = None):
        self.root = Path(root)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.limits = Limits(wall_s=timeout_s, cpu_s=timeout_s, memory_mb=memory_mb, network="loopback")
        self.sandbox = Sandbox(preload=(*DEFAULT_PRELOAD, "awm_ray.hosting.preflight"), root=self.root / "sandbox",
                               warmup="awm_ray.hosting.preflight:warm_up")  # fmt: skip
        self._passed: set[str] = set()
        self._running: dict[str, asyncio.Future] = {}
        self._count = 0
        self.checks = 0
        self.failures = 0
        self.ms: list[float] = []

    async def start(self) -> None:
        """Start the sandbox now (otherwise the first check does)."""
        await self.sandbox.start()

    async def check(self, scenario: Scenario, db_path: Path) -> None:
        """Return once `scenario.code` is known to import cleanly; else raise `ServerStartError`."""
        if scenario.code is None:
            return
        key = scenario.code_hash
        while True:
            if key in self._passed or (self.cache_dir is not None and (self.cache_dir / key).exists()):
                self._passed.add(key)
                return
            running = self._running.get(key)
            if running is None:
                break
            try:  # the same code is being tried: share its verdict
                await asyncio.shield(running)
                return
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this caller was cancelled
                # the caller trying it was cancelled, not this one: look again (and try it if nobody does)
        future = self._running[key] = asyncio.get_running_loop().create_future()
        try:
            await self._try(scenario, db_path)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else need
            raise
        else:
            future.set_result(None)
            self._passed.add(key)
            if self.cache_dir is not None:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                (self.cache_dir / key).touch()
        finally:
            self._running.pop(key, None)

    async def _try(self, scenario: Scenario, db_path: Path) -> None:
        self._count += 1
        workdir = self.root / "trials" / f"{self._count:06d}"
        workdir.mkdir(parents=True)
        started = time.perf_counter()
        try:
            if Path(db_path).exists():
                shutil.copyfile(db_path, workdir / "trial.db")
            result = await self.sandbox.run(
                JOB, {"code": scenario.code, "name": scenario.name, "db_file": str(workdir / "trial.db")},
                self.limits, workdir=workdir,
            )  # fmt: skip
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.checks += 1
        self.ms.append((time.perf_counter() - started) * 1000)
        if result.ok and not (result.value or {}).get("error"):
            return
        self.failures += 1
        if result.ok:  # the code raised: the same words as an import in the host
            log.warning("preflight of %s failed (raised)", scenario.name)
            raise ServerStartError(f"importing scenario {scenario.name!r} failed: {result.value['error']}")
        name, limit = scenario.name, self.limits
        reasons = {
            "raised": f"importing scenario {name!r} failed:\n{result.message}",
            "timeout": f"scenario {name!r} did not finish importing within {limit.wall_s:g} s (it hangs, or is very "
            "slow, at import; the sandboxed trial import was killed)",
            "cpu": f"scenario {name!r} did not finish importing within {limit.wall_s:g} s of CPU time (it spins at "
            "import; the sandboxed trial import was killed)",
            "memory": f"scenario {name!r} ran out of memory at import (limit hosting.import_memory_mb = "
            f"{limit.memory_mb:g} MB):\n{result.message}",
            "crashed": f"importing scenario {name!r} ends the process that imports it (it would take its host "
            f"down): the sandboxed trial import {result.message.removeprefix('the job ')}",
            "refused": f"importing scenario {name!r} tried what scenario code may not do: {result.message}",
        }
        reason = reasons.get(result.error or "", f"importing scenario {name!r} failed: {result.message}")
        log.warning("preflight of %s failed (%s)", name, result.error)
        raise ServerStartError(reason)

    def close(self) -> None:
        self.sandbox.close_now()
        shutil.rmtree(self.root, ignore_errors=True)
