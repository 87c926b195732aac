"""Phase D: N synthetic scenarios warm at once on the in-process backend (and memory per warm slot)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import time
import uuid
from pathlib import Path
from typing import Any

from awm_ray.machine import tree_memory

from .farms import FarmRun, farm_episode, farm_internals, prewarm_parallel
from .measure import cpu_seconds, machine_busy_s, ms_since, pct
from .plans import Plan
from .probe import ScenarioPlan

log = logging.getLogger("bench_farm")


async def bench_slot_memory(runs: dict[str, FarmRun], names: list[str], plans: dict[str, ScenarioPlan],
                            slots_per_scenario: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    """Memory per extra warm slot, per backend: RSS/PSS of the workers and their children with one warm
    slot per scenario (after an episode each), then topped up to `slots_per_scenario[backend]` each."""
    out: dict[str, Any] = {}
    for b, run in runs.items():
        farm = run.farm
        await prewarm_parallel(farm, names, 1, 2 * len(run.worker_pids))
        for name in names:
            await farm_episode(farm, name, plans[name].episode)
        await asyncio.sleep(0.5)
        mem_a = tree_memory(run.worker_pids)
        slots_a = (await farm.stats())["slots"]
        t1 = time.perf_counter()
        target = slots_per_scenario[b]
        # prewarm adds `per_scenario` idle slots each call: top up to the target
        await prewarm_parallel(farm, names, target - 1, 2 * len(run.worker_pids))
        prewarm_s = time.perf_counter() - t1
        await asyncio.sleep(1.0)
        mem_b = tree_memory(run.worker_pids)
        slots_b = (await farm.stats())["slots"]
        k = max(1, slots_b - slots_a)
        out[b] = {
            "slots_before": slots_a, "slots_after": slots_b, "before": mem_a, "after": mem_b,
            "rss_mb_per_slot": round((mem_b["rss_mb"] - mem_a["rss_mb"]) / k, 3),
            "pss_mb_per_slot": round((mem_b["pss_mb"] - mem_a["pss_mb"]) / k, 3),
            "prewarm_s": round(prewarm_s, 2), "prewarm_ms_per_slot": round(prewarm_s / k * 1000, 1),
        }  # fmt: skip
        log.info("%s: %d -> %d slots, RSS %+.0f MB (%.2f MB/slot), PSS %.2f MB/slot, prewarm %.1f s",
                 b, slots_a, slots_b, mem_b["rss_mb"] - mem_a["rss_mb"], out[b]["rss_mb_per_slot"],
                 out[b]["pss_mb_per_slot"], prewarm_s)  # fmt: skip
    return out


async def bench_all_scenarios(plan: Plan) -> dict[str, Any]:
    from awm_ray.config import load_config
    from awm_ray.farm import Farm
    from awm_ray.scenario import parse_scenario, tools_from_spec
    from awm_ray.synthetic import generate_scenario

    n = plan.n_all
    seed = 0
    overrides = {"hosting.backend": "inprocess", "farm.name": f"bench-all-{uuid.uuid4().hex[:6]}",
                 "farm.slots_per_worker": n + 8, "farm.namespace": "awm-ray-bench"}  # fmt: skip
    config = load_config(None, overrides)
    sample_every = max(1, n // 20)
    kept: list[Any] = []
    gen_s = [0.0]

    def scenarios():
        ctx = multiprocessing.get_context("spawn")
        t0 = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1)), mp_context=ctx) as pool:
            for i, row in enumerate(pool.map(generate_scenario, range(n), [seed] * n, chunksize=8)):
                s = parse_scenario(row)
                if i % sample_every == 0:
                    kept.append(s)
                yield s
        gen_s[0] = time.perf_counter() - t0

    t0 = time.perf_counter()
    farm = await asyncio.to_thread(Farm.start, config, scenarios())
    load_s = time.perf_counter() - t0
    run = FarmRun("inprocess", farm, config.model_dump(mode="json"))
    out: dict[str, Any] = {}
    try:
        await farm_internals(run)
        names = await asyncio.to_thread(farm.scenario_names)
        mem_empty = tree_memory(run.worker_pids)
        log.info("all_scenarios: %d scenarios generated and registered in %.1f s; prewarming", len(names), load_s)
        calls = 2 * max(1, len(run.worker_pids))
        # two halves, memory measured after each: the second half gives the marginal cost per scenario
        half = len(names) // 2
        busy0, load0 = machine_busy_s(), os.getloadavg()[0]
        cpu0 = cpu_seconds(run.cpu_groups())
        t0 = time.perf_counter()
        started_half = await prewarm_parallel(farm, names[:half], 1, calls)
        warm_half_s = time.perf_counter() - t0
        mem_half = tree_memory(run.worker_pids)
        t0 = time.perf_counter()
        started = started_half + await prewarm_parallel(farm, names[half:], 1, calls)
        warm_s = warm_half_s + time.perf_counter() - t0
        wall_s = time.perf_counter() - t0 + warm_half_s
        cpu1 = cpu_seconds(run.cpu_groups())
        busy = (machine_busy_s() - busy0) / wall_s / (os.cpu_count() or 1)
        log.info("all_scenarios: %d slots warm in %.1f s", started, warm_s)
        await asyncio.sleep(1.0)
        mem = tree_memory(run.worker_pids)
        marginal_rss = (mem["rss_mb"] - mem_half["rss_mb"]) / max(1, started - started_half)
        marginal_pss = (mem["pss_mb"] - mem_half["pss_mb"]) / max(1, started - started_half)
        stats = await farm.stats()
        # a sample of them, leased and called
        lease_ms, ok = [], 0
        for s in kept:
            tools = tools_from_spec(s.spec)
            tool = next((t for t in tools.values() if t.method == "GET"), next(iter(tools.values())))
            t1 = time.perf_counter()
            ep = await farm.lease(s.name)
            lease_ms.append(ms_since(t1))
            r = await ep.call(tool.name, tool.example_arguments())
            ok += r.ok
            await ep.release()
        sched_pid = None
        with contextlib.suppress(Exception):
            sched_pid = await farm._scheduler.__ray_call__.remote(lambda self: os.getpid())
        out = {
            "n": len(names),
            "backend": "inprocess",
            "warm_s": round(warm_s, 2),
            "rss_mb": mem["rss_mb"],
            "extra": {
                "slots_started": started,
                "slots_in_stats": stats["slots"],
                "pss_mb": mem["pss_mb"],
                "worker_processes": len(run.worker_pids),
                "memory_before_prewarm": mem_empty,
                "memory_at_half": {**mem_half, "slots": started_half},
                "rss_mb_per_scenario_marginal": round(marginal_rss, 3),
                "pss_mb_per_scenario_marginal": round(marginal_pss, 3),
                "rss_mb_per_scenario_average": round((mem["rss_mb"] - mem_empty["rss_mb"]) / max(1, started), 3),
                "scheduler_memory": tree_memory([sched_pid]) if sched_pid else None,
                "generate_and_register_s": round(load_s, 2),
                "generate_s": round(gen_s[0], 2),
                "prewarm_calls_in_parallel": calls,
                "during_prewarm": {
                    "machine_busy_fraction": round(busy, 3),
                    "our_cpu_s": {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0},
                    "our_cpu_fraction_of_machine": round(sum(cpu1[k] - cpu0[k] for k in cpu0) / wall_s
                                                         / (os.cpu_count() or 1), 3),
                    "loadavg_1m_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
                },  # fmt: skip
                "warm_s_per_scenario_ms": round(warm_s / max(1, started) * 1000, 2),
                "sampled_lease_ms": pct(lease_ms),
                "sampled_calls_2xx": f"{ok}/{len(kept)}",
                "config": run.config,
            },
        }
        if len(names) != 1000:
            out["extra"]["estimate_at_1000"] = {
                "rss_mb": round(mem["rss_mb"] + marginal_rss * (1000 - started), 1),
                "warm_s": round(warm_s / max(1, started) * 1000, 1),
                "note": "extrapolated from this run (measured total + marginal MB per scenario of its second "
                "half x the scenarios missing); not measured",
            }
        # serial vs parallel prewarm: one farm.prewarm call awaits each worker in turn
        if plan.serial_prewarm_n:
            k = plan.serial_prewarm_n
            subset = names[:k]
            t1 = time.perf_counter()
            a = await farm.prewarm(subset, 1)
            serial = time.perf_counter() - t1
            t1 = time.perf_counter()
            b = await prewarm_parallel(farm, names[k:2 * k], 1, calls)
            parallel = time.perf_counter() - t1
            out["extra"]["prewarm_one_call_vs_parallel_calls"] = {
                "scenarios": k, "one_call_s": round(serial, 2), "one_call_started": a,
                f"{calls}_calls_s": round(parallel, 2), "parallel_started": b,
            }  # fmt: skip
    finally:
        await asyncio.to_thread(farm.shutdown)
        out.setdefault("extra", {})["root_removed"] = run.root is not None and not Path(run.root).exists()
    return out
