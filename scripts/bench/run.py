"""The whole run: the phases in order, each timed (`extra.phase_s`), into one result dict."""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .episodes import bench_episodes
from .farms import FarmRun, start_farm_runs, stop_farm_runs
from .leases import bench_leases
from .memory import bench_all_scenarios, bench_slot_memory
from .plans import Plan
from .probe import ScenarioPlan
from .profiling import bench_profile
from .reset import bench_reset
from .spawn import Baseline, bench_spawn
from .tool_calls import bench_tool_calls
from .verification import bench_verification

log = logging.getLogger("bench_farm")

SAMPLES_DIR = Path(__file__).resolve().parents[3] / "shared" / "awm_samples"


@contextlib.contextmanager
def phase(timings: dict[str, float], key: str, message: str, *args: Any) -> Iterator[None]:
    """Log `message` and record the block's wall time in seconds as `timings[key]`."""
    t0 = time.perf_counter()
    log.info(message, *args)
    yield
    timings[key] = round(time.perf_counter() - t0, 1)


async def bench(args: argparse.Namespace, plan: Plan, workdir: Path, result: dict[str, Any]) -> None:
    from awm_ray.loading import load_scenarios
    from awm_ray.scenario import parse_scenario
    from awm_ray.synthetic import generate_scenario

    extra = result["extra"]
    timings = extra["phase_s"]
    scenarios = list(load_scenarios("bundled"))
    names = [s.name for s in scenarios]
    extra["scenarios"] = names
    bigger = [parse_scenario(generate_scenario(i, 0)) for i in (1, 4)]
    if SAMPLES_DIR.is_dir():
        with contextlib.suppress(Exception):
            bigger += list(load_scenarios(str(SAMPLES_DIR), scenario_filter=["content_platform_1"]))

    with phase(timings, "reset", "phase A: Slot.reset() after a write, both backends, no Ray"):
        a = await bench_reset(scenarios, plan, workdir / "reset", bigger)
        plans: dict[str, ScenarioPlan] = a["plans"]
        extra["reset"] = a["result"]
        extra["episode_script"] = {n: [t for t, _ in sp.episode] for n, sp in plans.items()}

    with phase(timings, "spawn_baseline", "phase B: spawn baseline (build DB + uvicorn subprocess + first call + stop)"):
        baseline = Baseline(scenarios, plans, workdir / "baseline")
        extra["spawn_baseline"] = await bench_spawn(baseline, names, plan)

    # C. the farms, both backends alive at once so their measurements interleave
    runs: dict[str, FarmRun] = {}
    max_concurrency = {"inprocess": max(plan.concurrencies),
                       "subprocess": min(max(plan.concurrencies), plan.subprocess_max_concurrency)}  # fmt: skip
    try:
        with phase(timings, "farms_start_and_prewarm", "starting the farms"):
            await start_farm_runs(runs, scenarios, max_concurrency, extra)
            extra["rss"] = await bench_slot_memory(runs, names, plans, extra["slots_per_scenario"])
        with phase(timings, "leases", "phase C1: leases, interleaved across backends"):
            extra["leases"] = await bench_leases(runs, names, plans, plan)
        with phase(timings, "tool_calls", "phase C2: tool calls, farm (both backends) vs direct keep-alive HTTP, interleaved"):
            extra["tool_calls"] = await bench_tool_calls(runs, names, plans, scenarios, plan, workdir / "direct")
        with phase(timings, "episodes", "phase C3: episodes per second"):
            extra["episodes"] = await bench_episodes(runs, baseline, names, plans, plan, max_concurrency)
        with phase(timings, "verification", "phase V: own tasks with and without verification before release (inprocess)"):
            result["verification"] = await bench_verification(runs["inprocess"], scenarios, plan)
        if plan.profile_reps:
            with phase(timings, "profile", "profile: Ray hops, lease path, worker and scheduler cProfile"):
                try:
                    extra["profile"] = await bench_profile(runs, names, plans, plan, args.backend)
                except Exception as exc:  # noqa: BLE001 - the profile is extra
                    log.exception("profile failed")
                    extra["profile"] = {"error": f"{type(exc).__name__}: {exc}"}
        for b, run in runs.items():
            st = await run.farm.stats()
            extra.setdefault("farm_stats_at_end", {})[b] = {
                k: st[k] for k in ("slots", "leases_granted", "leases_lost", "lease_timeouts", "lease_ms", "reset_ms",
                                   "totals")
            }  # fmt: skip
    finally:
        await stop_farm_runs(runs, extra)

    with phase(timings, "all_scenarios", "phase D: %d synthetic scenarios warm at once (inprocess)", plan.n_all):
        result["all_scenarios"] = await bench_all_scenarios(plan)
