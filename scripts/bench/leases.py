"""Phase C1: leases of warm scenarios, interleaved across backends."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .farms import FarmRun
from .measure import ms_since, pct
from .plans import Plan
from .probe import ScenarioPlan

async def bench_leases(runs: dict[str, FarmRun], names: list[str], plans: dict[str, ScenarioPlan],
                       plan: Plan) -> dict[str, Any]:  # fmt: skip
    samples: dict[str, list[float]] = {b: [] for b in runs}
    first_call: dict[str, list[float]] = {b: [] for b in runs}
    back_to_back: dict[str, list[float]] = {b: [] for b in runs}
    order = list(runs)
    for rep in range(plan.lease_reps):
        for name in names:
            for b in order if rep % 2 == 0 else order[::-1]:
                farm = runs[b].farm
                t0 = time.perf_counter()
                ep = await farm.lease(name)
                samples[b].append(ms_since(t0))
                if rep % 3 == 0:  # lease + first call, what a rollout waits for its first observation
                    tool, args = plans[name].reads[0]
                    await ep.call(tool, args)
                    first_call[b].append(ms_since(t0))
                await ep.release()
                await asyncio.sleep(0.015)  # the background reset (a few ms) is done before the next lease
    # back to back, same scenario: the next lease may wait for the reset of the slot just released
    for rep in range(max(10, plan.lease_reps // 3)):
        for b in order if rep % 2 == 0 else order[::-1]:
            name = names[rep % len(names)]
            for _ in range(2):
                t0 = time.perf_counter()
                ep = await runs[b].farm.lease(name)
                back_to_back[b].append(ms_since(t0))
                await ep.release()
        await asyncio.sleep(0.03)
    return {
        b: {"lease_ms": pct(samples[b]), "lease_plus_first_call_ms": pct(first_call[b]),
            "lease_back_to_back_ms": pct(back_to_back[b])}  # fmt: skip
        for b in runs
    }
