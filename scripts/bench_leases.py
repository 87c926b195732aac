"""What keeping N leases alive costs: renewal traffic and CPU, through the Ray client and the gateway.

Usage::

    python scripts/bench_leases.py [--leases 10000] [--rounds 20] [--idle-s 30] [--out FILE.json]
    python scripts/bench_leases.py --quick      # 1,000 leases, 10 rounds, 10 s idle

A holder renews every lease it holds in one call per worker (Ray client) or one request per 5,000
leases (`RemoteFarm` through the gateway) per round, a round every `lease_ttl_s / 3`
(`awm_ray.farm.holder`). This starts a local Ray and a farm (in-process backend, two workers, a
one-route scenario so that 10,000 slots fit in memory), takes N real leases from one holder, and
measures:

- ``idle``: CPU of the scheduler, the workers and the holder over ``--idle-s`` seconds with the N
  leases held and nothing renewed (the farm's own heartbeats: the baseline);
- ``ray`` / ``gateway``: ``--rounds`` renewal rounds of all N leases, each the very function the
  holder's keepalive thread runs (`Farm._renew_round`, `RemoteFarm._renew_round`): wall time per
  round, bytes sent per round, and CPU per round of every process involved;
- ``per_minute``: those per-round costs times the rounds a minute at the default `lease_ttl_s`
  (600 s: a round every 200 s, 0.3 a minute) and at 3 s (a round a second, 60 a minute), beside
  the idle baseline per minute.

Leases are released in steps of 250 between the phases, and `farm.worker_dead_after_s` is 300 s:
a worker resetting thousands of slots at once answers heartbeats late, and on a loaded machine
30 s of silence gets it taken for dead (and replaced) mid-benchmark.

The JSON goes to stdout and to ``--out``; progress to stderr. Everything started is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pickle
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger("bench_leases")

SCENARIO_CODE = '''
from fastapi import FastAPI

app = FastAPI(title="lease bench")


@app.get("/api/ping", operation_id="ping", description="Answer pong.")
def ping():
    return {"pong": True}
'''
SCENARIO_DB = {"tables": [{"name": "t", "ddl": "CREATE TABLE t (id INTEGER PRIMARY KEY)", "indexes": []}]}
SCENARIO_SAMPLE = {"tables": [{"table_name": "t", "insert_statements": ["INSERT INTO t VALUES (1);"]}]}


def cpu_s(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            raise RuntimeError(f"the {name} (pid {pid}) died during the benchmark") from None
        out[name] = times.user + times.system
    return out


def delta_ms(before: dict[str, float], after: dict[str, float], per: float = 1.0) -> dict[str, float]:
    return {k: round((after[k] - before[k]) * 1000 / per, 3) for k in before}


def spread(values: list[float]) -> dict[str, float]:
    data = sorted(values)
    return {"p50": round(statistics.median(data), 3), "p95": round(data[min(len(data) - 1, int(0.95 * len(data)))], 3),
            "n": len(data)}  # fmt: skip


def rss_mb(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


async def lease_many(lease: Any, n: int, chunk: int = 250) -> list[Any]:
    episodes: list[Any] = []
    while len(episodes) < n:
        episodes += await asyncio.gather(*(lease() for _ in range(min(chunk, n - len(episodes)))))
        log.info("  %d/%d leased", len(episodes), n)
    return episodes


def measure_rounds(renew_round: Any, batch: list[Any], rounds: int, pids: dict[str, int]) -> dict[str, Any]:
    walls = []
    before = cpu_s(pids)
    for _ in range(rounds):
        started = time.perf_counter()
        lost = renew_round(batch)
        walls.append((time.perf_counter() - started) * 1000)
        if lost:
            raise RuntimeError(f"{len(lost)} leases were not renewed: the benchmark would measure the wrong thing")
    after = cpu_s(pids)
    return {"round_ms": spread(walls), "cpu_ms_per_round": delta_ms(before, after, rounds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="1,000 leases, 10 rounds, 10 s idle")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.leases, args.rounds, args.idle_s = 1_000, 10, 10.0
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    import httpx
    import ray

    from awm_ray.config import load_config
    from awm_ray.farm import Farm
    from awm_ray.farm.gateway import start_gateway
    from awm_ray.farm.remote import RENEW_CHUNK, RemoteFarm
    from awm_ray.scenario import Scenario

    n, workers = args.leases, 2
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    config = load_config(None, {"hosting.backend": "inprocess", "farm.name": "bench-leases", "farm.workers_per_node": workers,
                                "farm.slots_per_worker": (n + workers - 1) // workers, "farm.lease_ttl_s": 600,
                                "farm.lease_timeout_s": 600, "farm.worker_dead_after_s": 300,
                                "gateway.port": 0})  # fmt: skip
    scenario = Scenario(name="ping_1", code=SCENARIO_CODE, db_schema=SCENARIO_DB, sample_data=SCENARIO_SAMPLE)
    farm = Farm.start(config, [scenario])
    result: dict[str, Any] = {"leases": n, "workers": workers, "rounds": args.rounds, "idle_s": args.idle_s,
                              "renew_chunk": RENEW_CHUNK, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                                      "ray": ray.__version__}}  # fmt: skip
    try:
        stats = farm.sync.stats()
        pids = {f"worker {w['worker_id']}": w["pid"] for w in stats["workers"]}
        pids["scheduler"] = stats["pid"]
        pids["holder"] = os.getpid()

        log.info("leasing %d slots through the Ray client ...", n)
        started = time.perf_counter()
        episodes = farm.sync.run(lease_many(lambda: farm.lease("ping_1", keepalive=False), n))
        result["lease_all_s"] = round(time.perf_counter() - started, 1)
        result["rss_mb"] = {name: rss_mb(pid) for name, pid in pids.items()}

        log.info("idle for %.0f s with %d leases held ...", args.idle_s, n)
        before = cpu_s(pids)
        time.sleep(args.idle_s)
        result["idle"] = {"cpu_ms_per_s": delta_ms(before, cpu_s(pids), args.idle_s)}

        log.info("%d renewal rounds through the Ray client ...", args.rounds)
        batch = list(farm._held._held.values())
        result["ray"] = measure_rounds(farm._renew_round, batch, args.rounds, pids)
        by_worker: dict[str, list] = {}
        for held in batch:
            by_worker.setdefault(held.route[1], []).append((held.lease_id, held.token))
        result["ray"]["calls_per_round"] = len(by_worker)
        result["ray"]["bytes_per_round"] = sum(len(pickle.dumps(pairs)) for pairs in by_worker.values())

        async def release(episodes: list[Any], chunk: int = 250) -> None:
            # In steps: each release resets a slot, and a worker busy with thousands of resets at
            # once stops answering heartbeats long enough to be taken for dead.
            for i in range(0, len(episodes), chunk):
                await asyncio.gather(*(ep.release() for ep in episodes[i : i + chunk]))
                await asyncio.sleep(0.5)

        farm.sync.run(release(episodes))
        del episodes, batch

        url = start_gateway(farm, "127.0.0.1", 0)

        async def through_the_gateway() -> None:
            async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
                pids["gateway"] = (await http.get("/v1/health")).json()["pid"]
            remote = RemoteFarm(url, timeout_s=600)
            remote._held.close()  # no background rounds while we time ours
            log.info("leasing %d slots through the gateway ...", n)
            started = time.perf_counter()
            remote_episodes = await lease_many(lambda: remote.lease("ping_1"), n)
            result["gateway_lease_all_s"] = round(time.perf_counter() - started, 1)
            log.info("%d renewal rounds through the gateway ...", args.rounds)
            batch = list(remote._held._held.values())
            result["gateway"] = measure_rounds(remote._renew_round, batch, args.rounds, pids)
            result["gateway"]["requests_per_round"] = -(-len(batch) // RENEW_CHUNK)
            result["gateway"]["bytes_per_round"] = sum(
                len(json.dumps({"leases": [{"lease_id": h.lease_id, "token": h.token} for h in batch[i : i + RENEW_CHUNK]]}))
                for i in range(0, len(batch), RENEW_CHUNK)
            )
            result["rss_mb_with_gateway"] = {name: rss_mb(pid) for name, pid in pids.items()}
            await release(remote_episodes)
            await remote.close()

        asyncio.run(through_the_gateway())
        result["per_minute"] = per_minute(result)
    finally:
        farm.shutdown()
        ray.shutdown()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


def per_minute(result: dict[str, Any]) -> dict[str, Any]:
    """Per-round costs at the rounds a minute of two ttls, beside the idle heartbeat baseline."""
    out: dict[str, Any] = {"idle_cpu_ms": {k: round(v * 60, 1) for k, v in result["idle"]["cpu_ms_per_s"].items()}}
    for ttl in (600.0, 3.0):
        rounds = 60 / (ttl / 3)
        for path in ("ray", "gateway"):
            cost = result[path]
            out[f"{path}_ttl_{ttl:g}s"] = {
                "rounds": round(rounds, 2),
                "kb_sent": round(cost["bytes_per_round"] * rounds / 1024, 1),
                "cpu_ms": {k: round(v * rounds, 1) for k, v in cost["cpu_ms_per_round"].items()},
            }
    return out


if __name__ == "__main__":
    sys.exit(main())
