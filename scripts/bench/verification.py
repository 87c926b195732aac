"""Phase V: verification of a scenario's own task at the end of an episode, and what it adds.

The same episodes twice, interleaved round by round: a bundled scenario's own task played by its
reference solution (lease, the solution's tool calls, release), once with `ep.verify()` before the
release and once without. Reports `verify_ms` (the client's wait for `ep.verify()`, sandbox round
trip and Ray hop included) and the verifier's own `verifier_ms`, episodes per second and episode
latency with and without, and `added_ms_p50` (episode p50 with minus without), the number the
target bounds (<= 20 ms).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .farms import FarmRun
from .measure import ms_since, pct
from .plans import Plan

log = logging.getLogger("bench_farm")
TARGET_ADDED_MS_P50 = 20.0


def native_episodes(scenarios: list[Any]) -> list[tuple[str, int, list[tuple[str, dict]], str | None]]:
    """(scenario, task index, solution calls, answer) of every bundled task with a code verifier."""
    out = []
    for s in scenarios:
        for task in s.tasks:
            if task.solution is not None and task.verifier("code") is not None:
                calls = [(c.tool, dict(c.arguments)) for c in task.solution.calls]
                out.append((s.name, task.index, calls, task.solution.answer))
    return out


async def _episode(farm: Any, item: tuple, verify: bool, verify_ms: list[float], verifier_ms: list[float],
                   results: dict[str, int]) -> float:  # fmt: skip
    name, index, calls, answer = item
    t0 = time.perf_counter()
    async with farm.lease(name) as ep:
        for tool, arguments in calls:
            await ep.call(tool, arguments)
        if verify:
            t1 = time.perf_counter()
            v = await ep.verify(index, answer)
            verify_ms.append(ms_since(t1))
            verifier_ms.append(v.ms)
            key = v.error or v.result or "none"
            results[key] = results.get(key, 0) + 1
    return ms_since(t0)


async def bench_verification(run: FarmRun, scenarios: list[Any], plan: Plan) -> dict[str, Any]:
    """`{"verify_ms", "verifier_ms", "with", "without", "added_ms_p50", "target_ms", "met", "results"}`."""
    import asyncio

    items = native_episodes(scenarios)
    if not items:
        return {"error": "no scenario has its own tasks with solutions"}
    farm = run.farm
    verify_ms: list[float] = []
    verifier_ms: list[float] = []
    results: dict[str, int] = {}
    out: dict[str, Any] = {}
    for c in plan.verification_concurrencies:
        timed = {"with": [], "without": []}
        walls = {"with": 0.0, "without": 0.0}
        counts = {"with": 0, "without": 0}
        warm = [_episode(farm, items[i % len(items)], True, [], [], {}) for i in range(max(c, len(items)))]
        await asyncio.gather(*warm)  # every scenario warm, every worker's sandbox started (untimed)
        for rnd in range(plan.verification_rounds):
            order = ("with", "without") if rnd % 2 == 0 else ("without", "with")
            for mode in order:
                queue = list(range(len(items))) * max(1, plan.verification_episodes // len(items))

                async def worker() -> None:
                    while queue:
                        i = queue.pop()
                        ms = await _episode(farm, items[i], mode == "with", verify_ms, verifier_ms, results)
                        timed[mode].append(ms)

                t0 = time.perf_counter()
                n = len(queue)
                await asyncio.gather(*(worker() for _ in range(c)))
                walls[mode] += time.perf_counter() - t0
                counts[mode] += n
        with_p, without_p = pct(timed["with"]), pct(timed["without"])
        out[str(c)] = {
            "with": {"episodes_per_s": round(counts["with"] / walls["with"], 2), "episode_ms": with_p},
            "without": {"episodes_per_s": round(counts["without"] / walls["without"], 2), "episode_ms": without_p},
            "added_ms_p50": round(with_p["p50"] - without_p["p50"], 3),
        }
        log.info("verification c=%d: %.1f vs %.1f episodes/s with/without, episode p50 +%.1f ms", c,
                 out[str(c)]["with"]["episodes_per_s"], out[str(c)]["without"]["episodes_per_s"],
                 out[str(c)]["added_ms_p50"])  # fmt: skip
    latency = out[str(min(plan.verification_concurrencies))]
    return {
        "verify_ms": pct(verify_ms),
        "verifier_ms": pct(verifier_ms),
        "by_concurrency": out,
        "added_ms_p50": latency["added_ms_p50"],
        "target_ms": TARGET_ADDED_MS_P50,
        "met": latency["added_ms_p50"] <= TARGET_ADDED_MS_P50,
        "results": results,
        "tasks": len(items),
    }
