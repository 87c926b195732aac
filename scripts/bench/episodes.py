"""Phase C3: scripted 5-call episodes per second, farm (each backend) vs spawn-per-episode, at several concurrencies."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .farms import FarmRun, run_farm_load
from .plans import BACKENDS, Plan
from .probe import ScenarioPlan
from .spawn import Baseline, run_baseline_load

log = logging.getLogger("bench_farm")


async def bench_episodes(runs: dict[str, FarmRun], baseline: Baseline, names: list[str], plans: dict[str, ScenarioPlan],
                         plan: Plan, max_concurrency: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    """`{"farm": {backend: {c: [run, ...]}}, "spawn_baseline": {c: [run, ...]}}`, one run per round.

    Backends alternate which goes first from one concurrency to the next; a backend is not timed above
    its `max_concurrency` (the farm was sized for it).
    """
    eps: dict[str, dict[str, list[dict]]] = {b: {} for b in BACKENDS}
    base: dict[str, list[dict]] = {}
    for rnd in range(plan.episode_rounds):
        for c in plan.concurrencies:
            order = list(BACKENDS) if (rnd + plan.concurrencies.index(c)) % 2 == 0 else list(BACKENDS)[::-1]
            for b in order:
                if c > max_concurrency[b]:
                    continue
                r = await run_farm_load(runs[b], names, plans, c, plan.farm_episodes[c])
                eps[b].setdefault(str(c), []).append(r)
                log.info("farm %s c=%d: %.1f episodes/s (episode p50 %.1f ms)", b, c, r["episodes_per_s"],
                         r["episode_ms"]["p50"])  # fmt: skip
        for c in plan.baseline_concurrencies:
            r = await asyncio.to_thread(run_baseline_load, baseline, names, c, plan.baseline_episodes[c])
            base.setdefault(str(c), []).append(r)
            log.info("baseline c=%d: %.2f episodes/s (episode p50 %.0f ms)", c, r["episodes_per_s"],
                     r["episode_ms"]["p50"])  # fmt: skip
    return {"farm": eps, "spawn_baseline": base}
