"""The farms under test: a started farm with its worker pids, episodes and timed episode loads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .measure import cpu_seconds, machine_busy_s, ms_since, pct
from .plans import BACKENDS
from .probe import ScenarioPlan

log = logging.getLogger("bench_farm")


@dataclass
class FarmRun:
    backend: str
    farm: Any
    config: dict[str, Any]
    worker_handles: list[Any] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)
    scheduler_pid: int | None = None
    root: str | None = None

    def cpu_groups(self) -> dict[str, tuple[list[int], bool]]:
        """Process groups whose CPU time an episode run is charged to: (pids, with descendants)."""
        return {
            "driver": ([os.getpid()], False),
            "scheduler": ([self.scheduler_pid] if self.scheduler_pid else [], False),
            "workers_and_servers": (self.worker_pids, True),
            "ray_system": (RAY_SYSTEM_PIDS, False),
        }


RAY_SYSTEM_PIDS: list[int] = []  # gcs_server, raylet, ... (children of this driver when it started Ray)


async def farm_internals(run: FarmRun) -> None:
    """Worker handles and pids (through `__ray_call__` on the scheduler: benchmark introspection)."""
    try:
        handles = await run.farm._scheduler.__ray_call__.remote(lambda self: [w.handle for w in self._workers])
        infos = await asyncio.gather(*(h.ready.remote() for h in handles))
        run.worker_handles = list(handles)
        run.worker_pids = [i["pid"] for i in infos]
    except Exception as exc:  # noqa: BLE001 - fall back to the process table
        import psutil

        log.warning("could not reach the workers through the scheduler (%s); scanning processes", exc)
        run.worker_pids = [p.pid for p in psutil.process_iter(["cmdline"])
                           if "ray::FarmWorker" in " ".join(p.info["cmdline"] or [])]  # fmt: skip
    with contextlib.suppress(Exception):
        run.scheduler_pid = await run.farm._scheduler.__ray_call__.remote(lambda self: os.getpid())
    stats = await run.farm.stats()
    run.root = stats["root"]


async def prewarm_parallel(farm: Any, names: list[str], per_scenario: int, calls: int) -> int:
    """farm.prewarm split over `calls` concurrent requests (one call is serial over the workers)."""
    chunks = [names[i::calls] for i in range(calls) if names[i::calls]]
    counts = await asyncio.gather(*(farm.prewarm(chunk, per_scenario) for chunk in chunks))
    return sum(counts)


async def farm_episode(farm: Any, name: str, calls: list[tuple[str, str]]) -> tuple[float, int]:
    t0 = time.perf_counter()
    bad = 0
    ep = await farm.lease(name)
    try:
        for tool, args in calls:
            result = await ep.call(tool, args)
            bad += not result.ok
    finally:
        await ep.release()
    return ms_since(t0), bad


async def run_farm_load(run: FarmRun, names: list[str], plans: dict[str, ScenarioPlan], concurrency: int,
                        episodes: int) -> dict[str, Any]:  # fmt: skip
    farm = run.farm
    remaining = [episodes]
    latencies: list[float] = []
    bad = [0]

    async def task(i: int) -> None:
        name = names[i % len(names)]
        while remaining[0] > 0:
            remaining[0] -= 1
            ms, b = await farm_episode(farm, name, plans[name].episode)
            latencies.append(ms)
            bad[0] += b

    # warm-up: one episode per task, untimed
    await asyncio.gather(*(farm_episode(farm, names[i % len(names)], plans[names[i % len(names)]].episode)
                           for i in range(concurrency)))  # fmt: skip
    before = await farm.stats()
    groups = run.cpu_groups()
    cpu0 = cpu_seconds(groups)
    busy0 = machine_busy_s()
    t0 = time.perf_counter()
    await asyncio.gather(*(task(i) for i in range(concurrency)))
    wall = time.perf_counter() - t0
    busy1 = machine_busy_s()
    cpu1 = cpu_seconds(groups)
    after = await farm.stats()
    cpu = {k: round((cpu1[k] - cpu0[k]) * 1000 / episodes, 3) for k in cpu0}
    cpu["total"] = round(sum(cpu.values()), 3)
    return {
        "cpu_ms_per_episode": cpu,
        "cpu_utilisation_of_machine": round(sum(cpu1[k] - cpu0[k] for k in cpu0) / wall / (os.cpu_count() or 1), 3),
        "machine_busy_fraction": round((busy1 - busy0) / wall / (os.cpu_count() or 1), 3),
        "episodes_per_s": round(episodes / wall, 3),
        "episodes": episodes,
        "wall_s": round(wall, 3),
        "episode_ms": pct(latencies),
        "non_2xx_calls": bad[0],
        "cold_slot_starts_while_timed": after["totals"].get("slot_starts", 0) - before["totals"].get("slot_starts", 0),
        "evictions_while_timed": after["totals"].get("evictions", 0) - before["totals"].get("evictions", 0),
        "queue_depth_after": after["queue_depth"],
    }


async def start_farm_runs(runs: dict[str, FarmRun], scenarios: list[Any], max_concurrency: dict[str, int],
                          extra: dict[str, Any]) -> None:  # fmt: skip
    """Start one farm per backend into `runs` (sized for `max_concurrency[backend]` episodes at once).

    Records `extra.ray_system_processes`, `farm_start_s`, `farm_config`, `farm_workers` and
    `slots_per_scenario` per backend. `runs` is filled as farms come up, so the caller can stop them.
    """
    import psutil

    from awm_ray.config import load_config
    from awm_ray.farm import Farm

    RAY_SYSTEM_PIDS[:] = [p.pid for p in psutil.Process().children(recursive=False)
                          if "baseline" not in p.name()]  # fmt: skip
    with contextlib.suppress(psutil.Error):
        extra["ray_system_processes"] = sorted({psutil.Process(p).name() for p in RAY_SYSTEM_PIDS})
    names = [s.name for s in scenarios]
    for b in BACKENDS:
        per_scenario = math.ceil(max_concurrency[b] / len(names)) + 2
        spw = max(8, math.ceil(per_scenario * len(names) * 1.3 / 2))
        overrides = {"hosting.backend": b, "farm.name": f"bench-{b}-{uuid.uuid4().hex[:6]}",
                     "farm.namespace": "awm-ray-bench", "farm.slots_per_worker": spw}  # fmt: skip
        config = load_config(None, overrides)
        t1 = time.perf_counter()
        farm = await asyncio.to_thread(Farm.start, config, scenarios)
        run = FarmRun(b, farm, config.model_dump(mode="json"))
        runs[b] = run
        await farm_internals(run)
        extra.setdefault("farm_start_s", {})[b] = round(time.perf_counter() - t1, 2)
        extra.setdefault("farm_config", {})[b] = run.config
        extra.setdefault("farm_workers", {})[b] = len(run.worker_pids)
        extra.setdefault("slots_per_scenario", {})[b] = per_scenario


async def stop_farm_runs(runs: dict[str, FarmRun], extra: dict[str, Any]) -> None:
    """Shut every farm down; record `extra.farm_shutdown_s` and whether each farm's root dir is gone."""
    for b, run in list(runs.items()):
        t1 = time.perf_counter()
        await asyncio.to_thread(run.farm.shutdown)
        extra.setdefault("farm_shutdown_s", {})[b] = round(time.perf_counter() - t1, 2)
        extra.setdefault("cleanup", {})[f"{b}_root_removed"] = run.root is not None and not Path(run.root).exists()
