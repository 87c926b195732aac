"""Phase B: the per-rollout baseline (build the DB, spawn a uvicorn subprocess, call, stop), no Ray."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from .measure import ms_since, pct
from .plans import Plan
from .probe import ScenarioPlan

log = logging.getLogger("bench_farm")


class Baseline:
    """Build the DB from SQL, spawn a uvicorn subprocess of the scenario, call it, stop it."""

    def __init__(self, scenarios: list[Any], plans: dict[str, ScenarioPlan], workdir: Path):
        from awm_ray.scenario import tools_from_spec

        self.scenarios = {s.name: s for s in scenarios}
        self.plans = plans
        self.toolsets = {s.name: tools_from_spec(s.spec) for s in scenarios}
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)

    async def run(self, name: str, calls: list[tuple[str, str]]) -> dict[str, float]:
        from awm_ray.hosting import SubprocessBackend
        from awm_ray.scenario import build_database

        scenario = self.scenarios[name]
        toolset = self.toolsets[name]
        here = self.workdir / uuid.uuid4().hex[:12]
        here.mkdir()
        backend = SubprocessBackend(start_timeout_s=60)
        app = None
        t0 = time.perf_counter()
        try:
            db_path = here / "live.db"
            await asyncio.to_thread(build_database, db_path, scenario.db_schema, scenario.sample_data)
            t_build = time.perf_counter()
            app = await backend.start(scenario, db_path, here)
            t_ready = time.perf_counter()
            statuses = []
            first_call_ms = None
            for i, (tool, args) in enumerate(calls):
                tc = time.perf_counter()
                response = await app.send(toolset.request(tool, args), 30.0)
                statuses.append(response.status)
                if i == 0:
                    first_call_ms = ms_since(tc)
            t_calls = time.perf_counter()
            await app.close()
            app = None
            t_stop = time.perf_counter()
        finally:
            if app is not None:
                await app.close()
            backend.close()
            await asyncio.to_thread(shutil.rmtree, here, True)
        return {
            "total_ms": (t_stop - t0) * 1000,
            "build_ms": (t_build - t0) * 1000,
            "spawn_to_ready_ms": (t_ready - t_build) * 1000,
            "first_call_ms": first_call_ms or 0.0,
            "calls_ms": (t_calls - t_ready) * 1000,
            "stop_ms": (t_stop - t_calls) * 1000,
            "non_2xx": sum(1 for s in statuses if not 200 <= s < 300),
        }

    def run_blocking(self, name: str, calls: list[tuple[str, str]]) -> dict[str, float]:
        return asyncio.run(self.run(name, calls))


async def bench_spawn(baseline: Baseline, names: list[str], plan: Plan) -> dict[str, Any]:
    runs = []
    for rep in range(plan.spawn_reps):
        for name in names:
            r = await baseline.run(name, baseline.plans[name].episode[:1])
            runs.append(r)
            log.info("spawn baseline %s: %.0f ms (build %.1f, spawn %.0f, call %.1f, stop %.0f)", name,
                     r["total_ms"], r["build_ms"], r["spawn_to_ready_ms"], r["first_call_ms"], r["stop_ms"])  # fmt: skip
    keys = ("total_ms", "build_ms", "spawn_to_ready_ms", "first_call_ms", "stop_ms")
    return {
        "ms": pct([r["total_ms"] for r in runs]),
        "breakdown_ms": {k: pct([r[k] for r in runs]) for k in keys[1:]},
        "non_2xx_first_calls": sum(r["non_2xx"] for r in runs),
        "how": "build_database (SQL) -> SubprocessBackend.start (python _serve.py, uvicorn; ready = GET "
        "/openapi.json 200, polled every 20 ms) -> first tool call -> close (SIGTERM to the process group)",
    }


def run_baseline_load(baseline: Baseline, names: list[str], concurrency: int, episodes: int) -> dict[str, Any]:
    jobs = [names[i % len(names)] for i in range(episodes)]
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="baseline") as pool:
        results = list(pool.map(lambda n: baseline.run_blocking(n, baseline.plans[n].episode), jobs))
    wall = time.perf_counter() - t0
    return {
        "episodes_per_s": round(episodes / wall, 3),
        "episodes": episodes,
        "wall_s": round(wall, 3),
        "episode_ms": pct([r["total_ms"] for r in results]),
        "non_2xx_calls": sum(r["non_2xx"] for r in results),
    }
