"""What the in-process backend's sandboxed trial import (`hosting.preflight`) costs (JSON).

    python scripts/bench_preflight.py --out preflight.json               # 1,000 synthetic scenarios
    python scripts/bench_preflight.py --data DIR --first 20 --n 200       # reuse a make_synthetic_dataset.py output

- `first_lease`: starting a slot of a scenario whose code this process has not imported yet (template
  DB + import, as a worker's first lease of it does), with and without the trial import; medians
  over `--first` distinct scenarios, alternating the two so machine load hits both alike.
- `warm_up`: trial imports of `--n` distinct scenarios, one at a time and two at a time (a node's two
  workers), wall time in total and per scenario; what a farm's warm-up of N new scenarios adds.
- `zygote`: starting the sandbox (its preloads) and its resident memory (one per farm worker).
No Ray: the backend and the preflight are measured as a worker uses them.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchkit import add_synthetic_arguments, emit, synthetic

def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


async def first_lease(scenarios: list, root: Path, timeout_s: float) -> dict:
    from awm_ray.hosting import InProcessBackend, Preflight, TemplateStore
    from awm_ray.hosting.slot import Slot

    preflight = Preflight(root / "preflight", 1024, timeout_s)
    await preflight.start()
    backends = {"with_preflight": InProcessBackend(timeout_s, preflight), "without": InProcessBackend(timeout_s)}
    times: dict[str, list[float]] = {k: [] for k in backends}
    try:
        for i, scenario in enumerate(scenarios):
            order = list(backends) if i % 2 == 0 else list(reversed(backends))
            for name in order:
                backend = backends[name]
                store = TemplateStore(root / f"templates-{name}-{i}", backend)
                started = time.perf_counter()
                template = await store.get(scenario)
                slot = await Slot(scenario, backend, template, root / f"slot-{name}-{i}").start()
                times[name].append((time.perf_counter() - started) * 1000)
                await slot.close()
    finally:
        preflight.close()
    med = {k: round(statistics.median(v), 1) for k, v in times.items()}
    return {"n": len(scenarios), "ms_p50": med, "added_ms_p50": round(med["with_preflight"] - med["without"], 1),
            "ms_all": {k: [round(x, 1) for x in v] for k, v in times.items()}}  # fmt: skip


async def warm_up(scenarios: list, root: Path, timeout_s: float) -> dict:
    from awm_ray.hosting import Preflight

    out = {}
    for parallel in (1, 2):
        preflights = [Preflight(root / f"warm-{parallel}-{k}", 1024, timeout_s) for k in range(parallel)]
        await asyncio.gather(*(p.start() for p in preflights))
        db = root / "empty.db"
        db.touch()
        started = time.perf_counter()

        async def run(k: int) -> None:
            for scenario in scenarios[k::parallel]:
                await preflights[k].check(scenario, db)

        await asyncio.gather(*(run(k) for k in range(parallel)))
        took = time.perf_counter() - started
        failures = sum(p.failures for p in preflights)
        ms = [m for p in preflights for m in p.ms]
        for p in preflights:
            p.close()
        out[f"{parallel}_at_a_time"] = {"total_s": round(took, 1), "per_scenario_ms": round(took * 1000 / len(scenarios), 1),
                                        "trial_ms_p50": round(statistics.median(ms), 1), "failures": failures}  # fmt: skip
    return {"n": len(scenarios), **out}


async def zygote(root: Path) -> dict:
    from awm_ray.hosting import Preflight

    starts, rss = [], []
    for k in range(3):
        preflight = Preflight(root / f"zygote-{k}", 1024, 30)
        started = time.perf_counter()
        await preflight.start()
        starts.append(time.perf_counter() - started)
        rss.append(rss_mb(preflight.sandbox.pid))
        preflight.close()
    return {"start_s_p50": round(statistics.median(starts), 2), "rss_mb_p50": round(statistics.median(rss), 1)}


async def main_async(args: argparse.Namespace, root: Path) -> dict:
    from awm_ray.loading import load_scenarios

    data = synthetic(args.data, args.n, root)
    scenarios = list(load_scenarios(str(data), max_scenarios=args.n))
    result = {"zygote": await zygote(root)}
    result["first_lease"] = await first_lease(scenarios[: args.first], root, args.timeout_s)
    result["warm_up"] = await warm_up(scenarios, root, args.timeout_s)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_synthetic_arguments(parser, "scenarios for the warm-up")
    parser.add_argument("--first", type=int, default=20, help="scenarios for the first-lease comparison")
    parser.add_argument("--timeout-s", type=float, default=60.0, help="hosting.start_timeout_s")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="awm-ray-bench-preflight-"))
    started = time.time()
    try:
        result = asyncio.run(main_async(args, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return emit("preflight", started, result, args.out)

if __name__ == "__main__":
    sys.exit(main())
