"""Benchmark the awm-ray farm against the per-rollout way (a fresh server per episode).

Usage::

    python scripts/bench_farm.py [--quick | --full | --smoke] [--backend inprocess|subprocess] --out FILE.json

Sizes: default (a few minutes on 2 cores; N=1000 for the all-scenarios part), ``--quick`` (about 2-3
minutes: fewer repetitions, N=200 with a marked estimate for 1,000, subprocess farm only up to
concurrency 8), ``--full`` (more repetitions, two rounds of the episode runs), ``--smoke`` (a
one-minute check that every code path runs; its numbers mean nothing).

Everything runs side by side in one process, on the same scenarios (the bundled ones; synthetic
ones for the 1,000-scenario part), on one local Ray started once:

- ``reset_ms``: `Slot.reset()` (restore + verification) right after a write call, no Ray.
- ``spawn_baseline_ms``: build the DB from SQL + start a uvicorn subprocess + first call + stop.
- ``lease_ms``: `await farm.lease(name)` of a warm scenario until the Episode is in hand.
- ``tool_call_ms``: a farm call vs a keep-alive `httpx.Client` call to a local uvicorn of the same
  scenario (same endpoint and arguments), interleaved.
- ``episodes_per_s``: a scripted 5-call episode at several concurrencies, farm vs spawn-per-episode.
- ``rss_mb_per_slot``: memory per extra warm slot, for both backends.
- ``all_scenarios``: N synthetic scenarios warm at once on the in-process backend.

Both backends are measured; the top-level keys report `--backend` and ``extra.by_backend`` holds
both. Compared things are interleaved. ``extra.profile`` says where lease and call time goes (Ray
round trips, the lease path hop by hop, cProfile inside the scheduler and workers, CPU per episode
by process). The JSON goes to stdout and to ``--out``; progress and a human summary go to stderr.
Everything started here is stopped, every temp dir removed (Ray runs in its own temp dir).

The worker and scheduler internals are reached through Ray's ``__ray_call__`` (benchmark
introspection only: worker handles and pids, cProfile on the actors' event loops).

This file is the entry point (flags, Ray, the JSON); each phase is a module of ``scripts/bench/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from awm_ray.machine import machine_details, machine_facts
from bench.plans import BACKENDS, PLANS
from bench.run import bench
from bench.summary import human_summary, summarize

log = logging.getLogger("bench_farm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="well under 5 minutes: fewer repetitions, n=200")
    size.add_argument("--full", action="store_true", help="more repetitions (longer)")
    size.add_argument("--smoke", action="store_true",
                      help="seconds-long check of every code path (numbers meaningless)")  # fmt: skip
    parser.add_argument("--backend", choices=BACKENDS, default="inprocess", help="backend of the top-level keys")
    parser.add_argument("--out", type=Path, required=True, help="write the JSON here (also printed to stdout)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("ray", "httpx", "awm_ray"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mode = "quick" if args.quick else "full" if args.full else "smoke" if args.smoke else "default"
    plan = PLANS[mode]

    import ray

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="awm-bench-"))
    ray_tmp = None
    result: dict[str, Any] = {
        "lease_ms": None, "reset_ms": None, "spawn_baseline_ms": None, "reset_speedup": None,
        "tool_call_ms": None, "tool_call_overhead_ratio": None, "episodes_per_s": None,
        "rss_mb_per_slot": None, "all_scenarios": None, "machine": machine_facts(), "targets": None,
        "extra": {"mode": mode, "backend": args.backend, "plan": plan.__dict__, "machine": machine_details(),
                  "phase_s": {}},
    }  # fmt: skip
    failed = None
    ray_started_here = False
    try:
        if not ray.is_initialized():
            ray_tmp = Path(tempfile.mkdtemp(prefix="awm-bench-ray-"))
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False,
                     namespace="awm-ray-bench", _temp_dir=str(ray_tmp))  # fmt: skip
            ray_started_here = True
        resources = ray.cluster_resources()
        result["extra"]["ray_resources"] = {k: v for k, v in resources.items() if not k.startswith("node:")}
        asyncio.run(bench(args, plan, workdir, result))
        summarize(result, args.backend)
    except BaseException as exc:  # still write what was measured
        failed = exc
        log.exception("benchmark failed")
        result["extra"]["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if ray_started_here:
            ray.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
        if ray_tmp is not None:
            shutil.rmtree(ray_tmp, ignore_errors=True)
        result["extra"]["total_s"] = round(time.perf_counter() - started, 1)
        result["extra"]["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        result["extra"]["cleanup"] = {**result["extra"].get("cleanup", {}), "workdir_removed": not workdir.exists(),
                                      "ray_temp_removed": ray_tmp is None or not ray_tmp.exists()}  # fmt: skip
        text = json.dumps(result, indent=2, default=str)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(text)
        if failed is None:
            print(human_summary(result), file=sys.stderr)
    if isinstance(failed, KeyboardInterrupt):
        return 130
    return 0 if failed is None else 1


if __name__ == "__main__":
    raise SystemExit(main())
