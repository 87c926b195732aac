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
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import cProfile
import json
import logging
import math
import multiprocessing
import os
import platform
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("bench_farm")

BACKENDS = ("inprocess", "subprocess")
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "awm_samples"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# ---------------------------------------------------------------------------------------------
# plans
# ---------------------------------------------------------------------------------------------


@dataclass
class Plan:
    mode: str
    reset_reps: int  # per scenario and backend
    spawn_reps: int  # per scenario
    lease_reps: int  # per scenario and backend
    call_reps: int  # per scenario and mode (farm-inprocess, farm-subprocess, direct)
    farm_episodes: dict[int, int]  # concurrency -> episodes timed
    baseline_episodes: dict[int, int]
    episode_rounds: int  # each round times both backends, in alternating order
    subprocess_max_concurrency: int  # the subprocess farm is sized (and timed) up to this
    n_all: int  # scenarios warm at once in the all_scenarios part
    profile_reps: int  # calls/leases per profiled path (0 = skip the profile section)
    serial_prewarm_n: int  # scenarios for the serial-vs-parallel prewarm comparison (0 = skip)
    concurrencies: tuple[int, ...] = (1, 8, 64)
    baseline_concurrencies: tuple[int, ...] = (1, 8)
    notes: list[str] = field(default_factory=list)


PLANS = {
    "quick": Plan("quick", reset_reps=25, spawn_reps=3, lease_reps=40, call_reps=60,
                  farm_episodes={1: 40, 8: 160, 64: 640}, baseline_episodes={1: 4, 8: 16}, episode_rounds=1,
                  subprocess_max_concurrency=8, n_all=200, profile_reps=150, serial_prewarm_n=0),
    "default": Plan("default", reset_reps=60, spawn_reps=5, lease_reps=75, call_reps=125,
                    farm_episodes={1: 60, 8: 240, 64: 768}, baseline_episodes={1: 6, 8: 24}, episode_rounds=1,
                    subprocess_max_concurrency=64, n_all=1000, profile_reps=160, serial_prewarm_n=16),
    "full": Plan("full", reset_reps=150, spawn_reps=10, lease_reps=200, call_reps=300,
                 farm_episodes={1: 120, 8: 480, 64: 1920}, baseline_episodes={1: 10, 8: 40}, episode_rounds=2,
                 subprocess_max_concurrency=64, n_all=1000, profile_reps=600, serial_prewarm_n=48),
    # a seconds-long sanity run of every code path (numbers meaningless)
    "smoke": Plan("smoke", reset_reps=3, spawn_reps=1, lease_reps=4, call_reps=6,
                  farm_episodes={1: 4, 8: 16, 64: 64}, baseline_episodes={1: 1, 8: 8}, episode_rounds=1,
                  subprocess_max_concurrency=8, n_all=12, profile_reps=20, serial_prewarm_n=4),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------


def pct(values: list[float]) -> dict[str, Any]:
    """p50 / p95 (inclusive linear interpolation) and n, rounded; None when empty."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return {"p50": None, "p95": None, "n": 0}
    if len(data) == 1:
        return {"p50": round(data[0], 3), "p95": round(data[0], 3), "n": 1}
    q = statistics.quantiles(data, n=100, method="inclusive")
    return {"p50": round(statistics.median(data), 3), "p95": round(q[94], 3), "n": len(data)}


def p50p95(stats: dict[str, Any]) -> dict[str, Any]:
    return {"p50": stats["p50"], "p95": stats["p95"]}


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def machine_info() -> dict[str, Any]:
    import psutil
    import ray

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 2),
        "python": platform.python_version(),
        "ray": ray.__version__,
    }


def machine_extra() -> dict[str, Any]:
    import psutil

    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": model,
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "memory_available_gb_at_start": round(psutil.virtual_memory().available / 2**30, 2),
    }


def tree_memory(pids: list[int]) -> dict[str, Any]:
    """Summed RSS and PSS (MB) of these processes and all their descendants."""
    import psutil

    seen: set[int] = set()
    rss = pss = 0
    procs = 0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in tree:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                info = proc.memory_full_info()
            except psutil.AccessDenied:
                info = proc.memory_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            procs += 1
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1), "processes": procs}


# ---------------------------------------------------------------------------------------------
# scenario probing: which tools to call
# ---------------------------------------------------------------------------------------------


@dataclass
class ScenarioPlan:
    name: str
    reads: list[tuple[str, str]]  # (tool, JSON arguments) of GET tools answering 2xx on a fresh DB
    write: tuple[str, str] | None  # a write tool that answers 2xx and changes the DB
    episode: list[tuple[str, str]]  # the scripted 5-call episode

    def read_requests(self, toolset: Any) -> list[tuple[str, str, Any]]:
        """(tool, args, HttpRequest) for the direct calls: the same request the farm's slot sends."""
        return [(tool, args, toolset.request(tool, args)) for tool, args in self.reads]


async def probe_scenario(slot: Any) -> ScenarioPlan:
    """Call every endpoint with its example arguments on a fresh DB; keep readers and one writer."""
    from awm_ray.scenario import content_checksum

    reads: list[tuple[str, str]] = []
    writes: list[tuple[str, str]] = []
    for tool in slot.tools.values():
        args = json.dumps(tool.example_arguments())
        await slot.reset()
        result = await slot.call(tool.name, args)
        if not result.ok:
            continue
        if tool.method == "GET":
            reads.append((tool.name, args))
        elif tool.method in WRITE_METHODS:
            changed = await asyncio.to_thread(content_checksum, slot.db_path) != slot.template.checksum
            if changed:
                writes.append((tool.name, args))
    await slot.reset()
    if not reads:
        raise RuntimeError(f"scenario {slot.scenario.name}: no GET endpoint answers 2xx to its example arguments")
    writes.sort(key=lambda w: (slot.tools[w[0]].method != "POST",))
    write = writes[0] if writes else None
    r = [reads[i % len(reads)] for i in range(4)]
    episode = [r[0], r[1], write or r[2], r[2], r[3]]
    return ScenarioPlan(slot.scenario.name, reads[:3], write, episode)


async def raw_asgi_call(app: Any, req: Any) -> tuple[int, bytes]:
    """One request straight into an ASGI app (no httpx): the floor of the in-process backend."""
    from urllib.parse import urlencode

    body = json.dumps(req.json).encode() if req.json is not None else b""
    headers = [(b"host", b"scenario")]
    if req.json is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": req.method,
             "scheme": "http", "path": req.path, "raw_path": req.path.encode(),
             "query_string": urlencode(list(req.query)).encode(), "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("scenario", 80)}  # fmt: skip
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


# ---------------------------------------------------------------------------------------------
# phase A: reset cost (no Ray)
# ---------------------------------------------------------------------------------------------


async def bench_reset(scenarios: list[Any], plan: Plan, workdir: Path, extra_scenarios: list[Any]) -> dict[str, Any]:
    from awm_ray.config import HostingConfig
    from awm_ray.hosting import Slot, TemplateStore, make_backend
    from awm_ray.scenario import content_checksum, restore

    out: dict[str, Any] = {"by_backend": {}, "by_scenario": {}}
    slots: dict[str, dict[str, Any]] = {}
    stores = {}
    backends = {}
    try:
        for b in BACKENDS:
            backends[b] = make_backend(HostingConfig(backend=b))
            stores[b] = TemplateStore(workdir / f"templates-{b}", backends[b])
            slots[b] = {}
            for s in scenarios:
                t0 = time.perf_counter()
                tpl = await stores[b].get(s)
                slot = Slot(s, backends[b], tpl, workdir / "slots" / f"{b}-{s.name}")
                await slot.start()
                slots[b][s.name] = slot
                log.info("reset bench: %s slot of %s started in %.0f ms", b, s.name, ms_since(t0))
        plans = {s.name: await probe_scenario(slots["inprocess"][s.name]) for s in scenarios}
        # the subprocess backend must give the same answers: check the first read of each scenario
        agree = {}
        for s in scenarios:
            tool, args = plans[s.name].reads[0]
            a = await slots["inprocess"][s.name].call(tool, args)
            b_ = await slots["subprocess"][s.name].call(tool, args)
            agree[s.name] = a.status == b_.status
        out["backends_same_status_on_first_read"] = agree

        samples: dict[str, list[float]] = {b: [] for b in BACKENDS}
        per_scenario: dict[str, list[float]] = {s.name: [] for s in scenarios}
        dirty_after_write = 0
        writes_done = 0
        for rep in range(plan.reset_reps):
            order = BACKENDS if rep % 2 == 0 else BACKENDS[::-1]
            for s in scenarios:
                sp = plans[s.name]
                for b in order:
                    slot = slots[b][s.name]
                    if sp.write is not None:
                        await slot.call(*sp.write)
                        writes_done += 1
                        if rep == 0:
                            dirty_after_write += content_checksum(slot.db_path) != slot.template.checksum
                    took = await slot.reset()
                    samples[b].append(took)
                    if b == "inprocess":
                        per_scenario[s.name].append(took)
        for b in BACKENDS:
            out["by_backend"][b] = pct(samples[b])
        out["by_scenario"] = {name: pct(v) for name, v in per_scenario.items()}
        out["writes_before_reset"] = writes_done
        out["first_writes_that_changed_the_db"] = dirty_after_write
        out["db_bytes"] = {s.name: slots["inprocess"][s.name].template.path.stat().st_size for s in scenarios}

        # where reset time goes: restore (backup) vs checksum, synchronously, and the thread hop
        restore_ms, checksum_ms, thread_hop_ms = [], [], []
        for rep in range(max(10, plan.reset_reps // 2)):
            for s in scenarios:
                slot = slots["inprocess"][s.name]
                t0 = time.perf_counter()
                restore(slot.template.path, slot.db_path)
                restore_ms.append(ms_since(t0))
                t0 = time.perf_counter()
                content_checksum(slot.db_path)
                checksum_ms.append(ms_since(t0))
                t0 = time.perf_counter()
                await asyncio.to_thread(lambda: None)
                thread_hop_ms.append(ms_since(t0))
        out["breakdown_ms"] = {"restore_backup": pct(restore_ms), "content_checksum": pct(checksum_ms),
                               "asyncio_to_thread_hop": pct(thread_hop_ms)}  # fmt: skip

        # bigger, AWM-like databases: synthetic scenarios and (if present) a real AWM row
        bigger: dict[str, Any] = {}
        for s in extra_scenarios:
            try:
                tpl = await stores["inprocess"].get(s)
                slot = Slot(s, backends["inprocess"], tpl, workdir / "slots" / f"extra-{s.name}")
                await slot.start()
            except Exception as exc:  # noqa: BLE001 - an extra measurement must not stop the run
                bigger[s.name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                continue
            try:
                sp = await probe_scenario(slot)
                took = []
                for _ in range(max(10, plan.reset_reps // 2)):
                    if sp.write is not None:
                        await slot.call(*sp.write)
                    took.append(await slot.reset())
                bigger[s.name] = {"db_bytes": tpl.path.stat().st_size, "reset_ms": pct(took),
                                  "write": sp.write[0] if sp.write else None}  # fmt: skip
            finally:
                await slot.close()
        out["bigger_dbs"] = bigger

        # the no-Ray cost of one call on a hosted slot: the floor of a farm call
        floor: dict[str, list[float]] = {b: [] for b in BACKENDS}
        floor_inner: dict[str, list[float]] = {b: [] for b in BACKENDS}
        parse_ms: list[float] = []
        for rep in range(max(20, plan.call_reps // 2)):
            for s in scenarios:
                tool, args = plans[s.name].reads[rep % len(plans[s.name].reads)]
                for b in BACKENDS if rep % 2 == 0 else BACKENDS[::-1]:
                    t0 = time.perf_counter()
                    r = await slots[b][s.name].call(tool, args)
                    floor[b].append(ms_since(t0))
                    floor_inner[b].append(r.elapsed_ms)
                t0 = time.perf_counter()
                slots["inprocess"][s.name].tools.request(tool, args)
                parse_ms.append(ms_since(t0))
        out["slot_call_no_ray_ms"] = {b: pct(v) for b, v in floor.items()}
        out["slot_call_no_ray_request_time_ms"] = {b: pct(v) for b, v in floor_inner.items()}
        out["tool_request_build_ms"] = pct(parse_ms)
        # the in-process transport: httpx.ASGITransport (what InProcessApp uses) vs calling the ASGI app directly
        via_httpx, via_raw = [], []
        for rep in range(max(20, plan.call_reps // 2)):
            for s in scenarios:
                slot = slots["inprocess"][s.name]
                tool, args = plans[s.name].reads[rep % len(plans[s.name].reads)]
                req = slot.tools.request(tool, args)
                t0 = time.perf_counter()
                await slot.app.send(req, 30.0)
                via_httpx.append(ms_since(t0))
                t0 = time.perf_counter()
                await raw_asgi_call(slot.app.module.app, req)
                via_raw.append(ms_since(t0))
        out["inprocess_transport_ms"] = {"httpx_asgi_transport": pct(via_httpx), "raw_asgi_call": pct(via_raw)}
        return {"result": out, "plans": plans}
    finally:
        for per in slots.values():
            for slot in per.values():
                with contextlib.suppress(Exception):
                    await slot.close()
        for backend in backends.values():
            backend.close()


# ---------------------------------------------------------------------------------------------
# phase B: the per-rollout baseline (no Ray)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# phase C: the farms
# ---------------------------------------------------------------------------------------------


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


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all processes, ours and others')."""
    import psutil

    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


def cpu_seconds(groups: dict[str, tuple[list[int], bool]]) -> dict[str, float]:
    import psutil

    out = {}
    for name, (pids, descendants) in groups.items():
        total = 0.0
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                procs = [proc, *proc.children(recursive=True)] if descendants else [proc]
            except psutil.Error:
                continue
            for q in procs:
                with contextlib.suppress(psutil.Error):
                    t = q.cpu_times()
                    total += t.user + t.system
        out[name] = total
    return out


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


async def bench_tool_calls(runs: dict[str, FarmRun], names: list[str], plans: dict[str, ScenarioPlan],
                           scenarios: list[Any], plan: Plan, workdir: Path) -> dict[str, Any]:  # fmt: skip
    """Farm calls (each backend) and direct keep-alive HTTP calls to a local uvicorn, interleaved."""
    import httpx

    from awm_ray.hosting import SubprocessBackend
    from awm_ray.scenario import build_database, tools_from_spec

    backend = SubprocessBackend(start_timeout_s=60)
    servers: dict[str, Any] = {}
    clients: dict[str, httpx.Client] = {}
    episodes: dict[tuple[str, str], Any] = {}
    try:
        for s in scenarios:
            here = workdir / f"direct-{s.name}"
            here.mkdir(parents=True)
            db_path = here / "live.db"
            build_database(db_path, s.db_schema, s.sample_data)
            servers[s.name] = await backend.start(s, db_path, here)
            clients[s.name] = httpx.Client(base_url=f"http://127.0.0.1:{servers[s.name].port}", trust_env=False,
                                           timeout=30.0)  # fmt: skip
        requests = {s.name: plans[s.name].read_requests(tools_from_spec(s.spec)) for s in scenarios}
        for b, run in runs.items():
            for name in names:
                episodes[(b, name)] = await run.farm.lease(name)
        samples: dict[str, list[float]] = {"direct": [], **{b: [] for b in runs}}
        direct_with_build: list[float] = []
        inside: dict[str, list[float]] = {b: [] for b in runs}  # the slot's own request time, in the worker
        toolsets = {s.name: tools_from_spec(s.spec) for s in scenarios}
        modes = ["direct", *runs]
        mismatches = 0
        for rep in range(plan.call_reps + 5):
            for name in names:
                tool, args, req = requests[name][rep % len(requests[name])]
                k = rep % len(modes)
                texts = {}
                for mode in modes[k:] + modes[:k]:
                    t0 = time.perf_counter()
                    if mode == "direct":
                        resp = clients[name].request(req.method, req.path, params=list(req.query) or None,
                                                     json=req.json)  # fmt: skip
                        text = resp.text
                        took = ms_since(t0)
                        texts[mode] = (resp.status_code, text)
                    else:
                        result = await episodes[(mode, name)].call(tool, args)
                        took = ms_since(t0)
                        texts[mode] = (result.status, result.text.split("\n", 1)[1] if "\n" in result.text else "")
                        if rep >= 5:
                            inside[mode].append(result.elapsed_ms)
                    if rep >= 5:  # the first rounds warm connections and caches
                        samples[mode].append(took)
                if rep >= 5:
                    # direct again, now also turning the tool call into the request (what the farm's slot does)
                    t0 = time.perf_counter()
                    r2 = toolsets[name].request(tool, args)
                    clients[name].request(r2.method, r2.path, params=list(r2.query) or None, json=r2.json).text
                    direct_with_build.append(ms_since(t0))
                statuses = {v[0] for v in texts.values()}
                mismatches += len(statuses) != 1
        return {
            "direct": pct(samples["direct"]),
            "direct_incl_tool_to_request": pct(direct_with_build),
            "farm": {b: pct(samples[b]) for b in runs},
            "farm_request_time_inside_worker": {b: pct(inside[b]) for b in runs},
            "farm_minus_inside_p50_ms": {b: round(pct(samples[b])["p50"] - pct(inside[b])["p50"], 3) for b in runs},
            "status_mismatches": mismatches,
            "endpoints": {n: [t for t, _ in plans[n].reads] for n in names},
        }
    finally:
        for ep in episodes.values():
            with contextlib.suppress(Exception):
                await ep.release()
        for c in clients.values():
            c.close()
        for app in servers.values():
            with contextlib.suppress(Exception):
                await app.close()
        backend.close()


# ---------------------------------------------------------------------------------------------
# profile: where lease and call time goes
# ---------------------------------------------------------------------------------------------


def _actor_loop(self: Any) -> Any:
    """The event loop an awm-ray actor serves on (its periodic task lives there)."""
    for attr in ("_loop_task", "_sweeper"):
        task = getattr(self, attr, None)
        if task is not None:
            return task.get_loop()
    return None


def _on_actor_loop(self: Any, fn: Any) -> bool:
    """Run `fn` on the actor's event-loop thread (where its async methods run) and wait for it."""
    import asyncio as _asyncio
    import threading as _threading

    loop = _actor_loop(self)
    if loop is None:
        return False
    try:
        running = _asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn()
        return True
    done = _threading.Event()

    def run() -> None:
        try:
            fn()
        finally:
            done.set()

    loop.call_soon_threadsafe(run)
    return done.wait(10)


def _profile_start(self: Any) -> bool:
    import cProfile as _cProfile

    prof = _cProfile.Profile()
    self._bench_profile = prof
    return _on_actor_loop(self, prof.enable)


def _profile_stop(self: Any, top: int = 14) -> dict[str, Any]:
    import pstats as _pstats
    from pathlib import Path as _Path

    prof = getattr(self, "_bench_profile", None)
    if prof is None:
        return {"total_tottime_ms": 0.0, "top_by_tottime": [], "by_package_ms": {}}
    _on_actor_loop(self, prof.disable)
    self._bench_profile = None
    st = _pstats.Stats(prof)
    rows = []
    by_package: dict[str, float] = {}
    for (filename, line, func), (cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append({"func": f"{_Path(filename).name}:{line}:{func}", "calls": nc, "tottime_ms": round(tt * 1000, 2),
                     "cumtime_ms": round(ct * 1000, 2)})  # fmt: skip
        key = "builtins/C" if filename == "~" else "scenario app code" if filename.startswith("<awm-ray") else None
        if key is None:
            parts = _Path(filename).parts
            key = next((parts[i + 1] for i in range(len(parts) - 1) if parts[i] == "site-packages"), None)
            key = key or ("awm_ray" if "awm_ray" in parts else "stdlib/other")
            if key == "ray" and "_private" in parts:
                key = "ray (_private)"
        by_package[key] = by_package.get(key, 0.0) + tt * 1000
    rows.sort(key=lambda r: r["tottime_ms"], reverse=True)
    return {
        "total_tottime_ms": round(sum(r["tottime_ms"] for r in rows), 1),
        "top_by_tottime": rows[:top],
        "by_package_ms": {k: round(v, 1) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]},
    }


async def bench_profile(runs: dict[str, FarmRun], names: list[str], plans: dict[str, ScenarioPlan],
                        plan: Plan, default_backend: str) -> dict[str, Any]:  # fmt: skip
    """Ray hops timed one by one, and cProfile inside the scheduler and a worker."""
    import pickle

    import ray

    out: dict[str, Any] = {}
    n = plan.profile_reps
    run = runs[default_backend]
    farm = run.farm
    sched = farm._scheduler
    # 1. bare round trips: driver -> scheduler, driver -> worker (cheap async methods)
    rtt_s, rtt_w, rtt_sync = [], [], []
    worker = run.worker_handles[0] if run.worker_handles else None
    for i in range(n):
        t0 = time.perf_counter()
        await sched.scenario_names.remote()
        rtt_s.append(ms_since(t0))
        if worker is not None:
            t0 = time.perf_counter()
            await worker.ready.remote()
            rtt_w.append(ms_since(t0))
            t0 = time.perf_counter()
            await asyncio.to_thread(ray.get, worker.ready.remote())
            rtt_sync.append(ms_since(t0))
    out["rtt_ms"] = {"driver_to_scheduler_await": pct(rtt_s), "driver_to_worker_await": pct(rtt_w),
                     "driver_to_worker_ray_get_in_thread": pct(rtt_sync)}  # fmt: skip

    # 2. the lease path in pieces
    lease_client, release_ms = [], []
    before = await farm.stats()
    for i in range(n):
        name = names[i % len(names)]
        t0 = time.perf_counter()
        ep = await farm.lease(name)
        lease_client.append(ms_since(t0))
        t0 = time.perf_counter()
        await ep.release()
        release_ms.append(ms_since(t0))
        await asyncio.sleep(0.02)
    after = await farm.stats()
    internal = await sched.__ray_call__.remote(lambda self, k: list(self.lease_ms)[-k:], n)
    grant = await sched.lease.remote(names[0], None)
    grant_bytes = len(pickle.dumps({k: v for k, v in grant.items() if k != "worker"}))
    t0 = time.perf_counter()
    for _ in range(200):
        pickle.loads(pickle.dumps({k: v for k, v in grant.items() if k != "worker"}))
    grant_pickle_ms = ms_since(t0) / 200
    await sched.release.remote(grant["lease_id"], grant["token"])
    await asyncio.sleep(0.05)
    # the worker's acquire alone, called from the driver (a lease the scheduler does not know)
    acquire_direct, acquire_no_ref = [], []
    if worker is not None:
        scen_box = [ray.put("unused: the worker has the scenario cached")]
        tools_cached_box = ["unused"]
        for i in range(n // 2):
            name = names[i % len(names)]
            for box, sink in ((scen_box, acquire_direct), (tools_cached_box, acquire_no_ref)):
                lid, tok = uuid.uuid4().hex, secrets.token_urlsafe(24)
                t0 = time.perf_counter()
                try:
                    await worker.acquire.remote(lid, tok, name, box)
                except Exception:  # noqa: BLE001 - the worker may hold no slot of it; skip
                    continue
                sink.append(ms_since(t0))
                await worker.release.remote(lid, tok)
                await asyncio.sleep(0.02)
    out["lease_path_ms"] = {
        "client_lease": pct(lease_client),
        "scheduler_internal_lease": pct(internal),  # the scheduler's own timer: includes its worker.acquire hop
        "driver_to_worker_acquire_with_objectref_arg": pct(acquire_direct),
        "driver_to_worker_acquire_plain_arg": pct(acquire_no_ref),
        "client_release": pct(release_ms),
        "grant_bytes_without_handle": grant_bytes,
        "grant_pickle_roundtrip_ms": round(grant_pickle_ms, 4),
        "tools_in_grant": len(grant["tools"]),
        "leases_during": after["leases_granted"] - before["leases_granted"],
    }

    # what returning an ActorHandle (as every grant does) costs, against a plain dict of the same call
    small, with_handle = [], []
    for i in range(n):
        t0 = time.perf_counter()
        await sched.__ray_call__.remote(lambda self: {"worker_id": "w000", "x": 1})
        small.append(ms_since(t0))
        t0 = time.perf_counter()
        await sched.__ray_call__.remote(lambda self: {"worker_id": "w000", "worker": self._workers[0].handle})
        with_handle.append(ms_since(t0))
    out["return_actor_handle_ms"] = {"plain_dict": pct(small), "dict_with_actor_handle": pct(with_handle)}

    # 3. Ray metrics inside a worker: one Histogram.observe (the worker records one per call) and one Gauge.set
    def _metric_cost(self: Any, k: int = 2000) -> dict[str, float]:
        import time as _time

        t = _time.perf_counter()
        for _ in range(k):
            self.metrics.call_ms.observe(1.0)
        observe = (_time.perf_counter() - t) / k * 1e6
        t = _time.perf_counter()
        for _ in range(k):
            self.metrics.slots.set(1)
        gauge = (_time.perf_counter() - t) / k * 1e6
        return {"histogram_observe_us": round(observe, 2), "gauge_set_us": round(gauge, 2)}

    if worker is not None:
        out["ray_metrics_in_worker"] = await worker.__ray_call__.remote(_metric_cost)

    # 4. cProfile in the worker (calls, each backend) and in the scheduler (leases)
    name = names[0]
    tool, args = plans[name].reads[0]
    out["worker_profile_calls"] = {}
    for b, r in runs.items():
        ep = await r.farm.lease(name)
        try:
            wh = ep._worker
            for _ in range(20):
                await ep.call(tool, args)
            enabled = await wh.__ray_call__.remote(_profile_start)
            t0 = time.perf_counter()
            for _ in range(n):
                await ep.call(tool, args)
            wall = ms_since(t0)
            prof = await wh.__ray_call__.remote(_profile_stop)
            out["worker_profile_calls"][b] = {"calls": n, "tool": tool, "client_ms_per_call": round(wall / n, 3),
                                              "profiler_on": enabled, **prof}  # fmt: skip
        finally:
            await ep.release()
    await asyncio.sleep(0.05)
    await sched.__ray_call__.remote(_profile_start)
    t0 = time.perf_counter()
    for i in range(n // 2):
        e = await farm.lease(names[i % len(names)])
        await e.release()
        await asyncio.sleep(0.01)
    wall = ms_since(t0)
    prof = await sched.__ray_call__.remote(_profile_stop)
    out["scheduler_profile_leases"] = {"lease_release_pairs": n // 2, "client_ms_per_pair": round(wall / (n // 2), 3),
                                       **prof}  # fmt: skip
    # the workers' event-loop threads under a c=64 episode load (Python only: C++ threads and to_thread resets
    # are not in it; compare with cpu_ms_per_episode of the episodes phase)
    if run.worker_handles:
        episodes = max(64, n)
        await asyncio.gather(*(h.__ray_call__.remote(_profile_start) for h in run.worker_handles))
        await sched.__ray_call__.remote(_profile_start)
        load = await run_farm_load(run, names, plans, 64, episodes)
        profs = await asyncio.gather(*(h.__ray_call__.remote(_profile_stop, 20) for h in run.worker_handles))
        sprof = await sched.__ray_call__.remote(_profile_stop, 10)
        merged: dict[str, float] = {}
        for p in profs:
            for k, v in p["by_package_ms"].items():
                merged[k] = merged.get(k, 0.0) + v
        out["load_profile_c64"] = {
            "episodes": episodes,
            "episodes_per_s_with_profiler": load["episodes_per_s"],
            "cpu_ms_per_episode_with_profiler": load["cpu_ms_per_episode"],
            "workers_python_ms_per_episode": round(sum(p["total_tottime_ms"] for p in profs) / episodes, 3),
            "workers_python_ms_per_episode_by_package": {k: round(v / episodes, 3) for k, v in
                                                         sorted(merged.items(), key=lambda kv: -kv[1])},
            "scheduler_python_ms_per_episode": round(sprof["total_tottime_ms"] / episodes, 3),
            "scheduler_by_package_ms": sprof["by_package_ms"],
            "worker_top_by_tottime": [p["top_by_tottime"][:12] for p in profs],
        }  # fmt: skip
    # 5. the driver itself: where a farm call spends client-side CPU
    ep = await farm.lease(name)
    try:
        tool, args = plans[name].reads[0]
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n // 2):
            await ep.call(tool, args)
        prof.disable()
        st = pstats.Stats(prof)
        rows = []
        for (filename, line, func), (cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
            rows.append({"func": f"{Path(filename).name}:{line}:{func}", "calls": nc,
                         "tottime_ms": round(tt * 1000, 2)})  # fmt: skip
        rows.sort(key=lambda r: r["tottime_ms"], reverse=True)
        out["driver_profile_calls"] = {"calls": n // 2, "top_by_tottime": rows[:10]}
    finally:
        await ep.release()
    return out


# ---------------------------------------------------------------------------------------------
# phase D: all scenarios at once
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# the whole run
# ---------------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, plan: Plan, workdir: Path, result: dict[str, Any]) -> None:
    from awm_ray.config import load_config
    from awm_ray.farm import Farm
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

    # A. reset (no Ray)
    t0 = time.perf_counter()
    log.info("phase A: Slot.reset() after a write, both backends, no Ray")
    a = await bench_reset(scenarios, plan, workdir / "reset", bigger)
    plans: dict[str, ScenarioPlan] = a["plans"]
    extra["reset"] = a["result"]
    extra["episode_script"] = {n: [t for t, _ in sp.episode] for n, sp in plans.items()}
    timings["reset"] = round(time.perf_counter() - t0, 1)

    # B. per-rollout baseline: one spawn
    t0 = time.perf_counter()
    log.info("phase B: spawn baseline (build DB + uvicorn subprocess + first call + stop)")
    baseline = Baseline(scenarios, plans, workdir / "baseline")
    extra["spawn_baseline"] = await bench_spawn(baseline, names, plan)
    timings["spawn_baseline"] = round(time.perf_counter() - t0, 1)

    # C. the farms, both backends alive at once so their measurements interleave
    t0 = time.perf_counter()
    import psutil

    RAY_SYSTEM_PIDS[:] = [p.pid for p in psutil.Process().children(recursive=False)
                          if "baseline" not in p.name()]  # fmt: skip
    with contextlib.suppress(psutil.Error):
        extra["ray_system_processes"] = sorted({psutil.Process(p).name() for p in RAY_SYSTEM_PIDS})
    runs: dict[str, FarmRun] = {}
    per_backend_max_c = {"inprocess": max(plan.concurrencies),
                         "subprocess": min(max(plan.concurrencies), plan.subprocess_max_concurrency)}  # fmt: skip
    try:
        for b in BACKENDS:
            max_c = per_backend_max_c[b]
            per_scenario = math.ceil(max_c / len(names)) + 2
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
        # memory per extra slot: 1 warm slot per scenario (+ a few calls) -> per_scenario slots each
        for b, run in runs.items():
            farm = run.farm
            await prewarm_parallel(farm, names, 1, 2 * len(run.worker_pids))
            for name in names:
                await farm_episode(farm, name, plans[name].episode)
            await asyncio.sleep(0.5)
            mem_a = tree_memory(run.worker_pids)
            slots_a = (await farm.stats())["slots"]
            t1 = time.perf_counter()
            target = extra["slots_per_scenario"][b]
            # prewarm adds `per_scenario` idle slots each call: top up to the target
            await prewarm_parallel(farm, names, target - 1, 2 * len(run.worker_pids))
            prewarm_s = time.perf_counter() - t1
            await asyncio.sleep(1.0)
            mem_b = tree_memory(run.worker_pids)
            slots_b = (await farm.stats())["slots"]
            k = max(1, slots_b - slots_a)
            extra.setdefault("rss", {})[b] = {
                "slots_before": slots_a, "slots_after": slots_b, "before": mem_a, "after": mem_b,
                "rss_mb_per_slot": round((mem_b["rss_mb"] - mem_a["rss_mb"]) / k, 3),
                "pss_mb_per_slot": round((mem_b["pss_mb"] - mem_a["pss_mb"]) / k, 3),
                "prewarm_s": round(prewarm_s, 2), "prewarm_ms_per_slot": round(prewarm_s / k * 1000, 1),
            }  # fmt: skip
            log.info("%s: %d -> %d slots, RSS %+.0f MB (%.2f MB/slot), PSS %.2f MB/slot, prewarm %.1f s",
                     b, slots_a, slots_b, mem_b["rss_mb"] - mem_a["rss_mb"], extra["rss"][b]["rss_mb_per_slot"],
                     extra["rss"][b]["pss_mb_per_slot"], prewarm_s)  # fmt: skip
        timings["farms_start_and_prewarm"] = round(time.perf_counter() - t0, 1)

        t0 = time.perf_counter()
        log.info("phase C1: leases, interleaved across backends")
        extra["leases"] = await bench_leases(runs, names, plans, plan)
        timings["leases"] = round(time.perf_counter() - t0, 1)

        t0 = time.perf_counter()
        log.info("phase C2: tool calls, farm (both backends) vs direct keep-alive HTTP, interleaved")
        extra["tool_calls"] = await bench_tool_calls(runs, names, plans, scenarios, plan, workdir / "direct")
        timings["tool_calls"] = round(time.perf_counter() - t0, 1)

        t0 = time.perf_counter()
        log.info("phase C3: episodes per second")
        eps: dict[str, dict[str, list[dict]]] = {b: {} for b in BACKENDS}
        base: dict[str, list[dict]] = {}
        for rnd in range(plan.episode_rounds):
            for c in plan.concurrencies:
                order = list(BACKENDS) if (rnd + plan.concurrencies.index(c)) % 2 == 0 else list(BACKENDS)[::-1]
                for b in order:
                    if c > per_backend_max_c[b]:
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
        extra["episodes"] = {"farm": eps, "spawn_baseline": base}
        timings["episodes"] = round(time.perf_counter() - t0, 1)

        if plan.profile_reps:
            t0 = time.perf_counter()
            log.info("profile: Ray hops, lease path, worker and scheduler cProfile")
            try:
                extra["profile"] = await bench_profile(runs, names, plans, plan, args.backend)
            except Exception as exc:  # noqa: BLE001 - the profile is extra
                log.exception("profile failed")
                extra["profile"] = {"error": f"{type(exc).__name__}: {exc}"}
            timings["profile"] = round(time.perf_counter() - t0, 1)
        for b, run in runs.items():
            st = await run.farm.stats()
            extra.setdefault("farm_stats_at_end", {})[b] = {
                k: st[k] for k in ("slots", "leases_granted", "leases_lost", "lease_timeouts", "lease_ms", "reset_ms",
                                   "totals")
            }  # fmt: skip
    finally:
        for b, run in list(runs.items()):
            t1 = time.perf_counter()
            await asyncio.to_thread(run.farm.shutdown)
            extra.setdefault("farm_shutdown_s", {})[b] = round(time.perf_counter() - t1, 2)
            extra.setdefault("cleanup", {})[f"{b}_root_removed"] = run.root is not None and not Path(run.root).exists()

    # D. all scenarios at once (in-process)
    t0 = time.perf_counter()
    log.info("phase D: %d synthetic scenarios warm at once (inprocess)", plan.n_all)
    result["all_scenarios"] = await bench_all_scenarios(plan)
    timings["all_scenarios"] = round(time.perf_counter() - t0, 1)


def summarize(result: dict[str, Any], default_backend: str) -> None:
    """Fill the top-level keys and targets from the raw measurements in `extra`."""
    extra = result["extra"]
    by_backend: dict[str, Any] = {}
    direct = extra["tool_calls"]["direct"]
    for b in BACKENDS:
        lease = extra["leases"][b]["lease_ms"]
        farm_call = extra["tool_calls"]["farm"][b]
        eps_raw = extra["episodes"]["farm"][b]
        eps = {c: round(statistics.median(r["episodes_per_s"] for r in runs), 3) for c, runs in eps_raw.items()}
        for c in ("1", "8", "64"):
            eps.setdefault(c, None)
        by_backend[b] = {
            "lease_ms": p50p95(lease),
            "tool_call_ms": {"farm": p50p95(farm_call), "direct": p50p95(direct)},
            "tool_call_overhead_ratio": ratio(farm_call["p50"], direct["p50"]),
            "episodes_per_s": {"farm": eps},
            "reset_ms": p50p95(extra["reset"]["by_backend"][b]),
            "rss_mb_per_slot": extra["rss"][b]["rss_mb_per_slot"],
            "pss_mb_per_slot": extra["rss"][b]["pss_mb_per_slot"],
        }
    extra["by_backend"] = by_backend
    base_eps = {c: round(statistics.median(r["episodes_per_s"] for r in runs), 3)
                for c, runs in extra["episodes"]["spawn_baseline"].items()}  # fmt: skip
    d = by_backend[default_backend]
    spawn = p50p95(extra["spawn_baseline"]["ms"])
    result["lease_ms"] = d["lease_ms"]
    result["reset_ms"] = d["reset_ms"]
    result["spawn_baseline_ms"] = spawn
    result["reset_speedup"] = ratio(spawn["p50"], d["lease_ms"]["p50"], 1)
    result["tool_call_ms"] = d["tool_call_ms"]
    result["tool_call_overhead_ratio"] = d["tool_call_overhead_ratio"]
    result["episodes_per_s"] = {"farm": d["episodes_per_s"]["farm"], "spawn_baseline": base_eps}
    result["rss_mb_per_slot"] = {b: by_backend[b]["rss_mb_per_slot"] for b in BACKENDS}
    for b in BACKENDS:
        by_backend[b]["reset_speedup"] = ratio(spawn["p50"], by_backend[b]["lease_ms"]["p50"], 1)
        by_backend[b]["episodes_per_s"]["spawn_baseline"] = base_eps
    extra["backend_per_key"] = {
        "lease_ms": f"farm, {default_backend}",
        "reset_ms": f"Slot.reset() without Ray, {default_backend} slot",
        "spawn_baseline_ms": "per-rollout: build_database + SubprocessBackend (uvicorn subprocess) + first call + stop",
        "tool_call_ms.farm": f"farm, {default_backend}",
        "tool_call_ms.direct": "keep-alive httpx.Client -> local uvicorn subprocess of the same scenario",
        "episodes_per_s.farm": f"farm, {default_backend}",
        "episodes_per_s.spawn_baseline": "per-rollout, thread pool",
        "rss_mb_per_slot": "each backend, farm workers + their children",
        "all_scenarios": "farm, inprocess",
        "by_backend": "extra.by_backend has every farm measurement for both backends",
    }
    extra["memory_metric_note"] = (
        "rss_mb_per_slot is the RSS delta of the worker processes + their children divided by the added "
        "slots; PSS (shared pages split between processes) is in extra.by_backend.*.pss_mb_per_slot"
    )
    allsc = result["all_scenarios"]
    rss_1000 = allsc["rss_mb"] if allsc["n"] == 1000 else allsc["extra"].get("estimate_at_1000", {}).get("rss_mb")
    f64 = d["episodes_per_s"]["farm"].get("64")
    b8 = base_eps.get("8")
    result["targets"] = {
        "lease_ms.p50 <= 5": _le(d["lease_ms"]["p50"], 5),
        "reset_ms.p50 <= 5": _le(d["reset_ms"]["p50"], 5),
        "reset_speedup >= 100": _ge(result["reset_speedup"], 100),
        "tool_call_overhead_ratio <= 1.5": _le(d["tool_call_overhead_ratio"], 1.5),
        "episodes_per_s.farm.64 >= 20 x spawn_baseline.8": (
            f64 is not None and b8 is not None and f64 >= 20 * b8
        ),
        "all_scenarios.rss_mb <= 6144 at n=1000": _le(rss_1000, 6144),
    }
    extra["targets_detail"] = {
        "backend": default_backend,
        "lease_ms.p50": d["lease_ms"]["p50"],
        "reset_ms.p50": d["reset_ms"]["p50"],
        "reset_speedup": result["reset_speedup"],
        "tool_call_overhead_ratio": d["tool_call_overhead_ratio"],
        "episodes_per_s.farm.64 / spawn_baseline.8": ratio(f64, b8, 1),
        "all_scenarios.rss_mb at n=1000": rss_1000,
        "all_scenarios.rss_mb_is_estimate": allsc["n"] != 1000,
        "by_backend": {
            b: {
                "lease_ms.p50 <= 5": _le(by_backend[b]["lease_ms"]["p50"], 5),
                "reset_ms.p50 <= 5": _le(by_backend[b]["reset_ms"]["p50"], 5),
                "reset_speedup >= 100": _ge(by_backend[b]["reset_speedup"], 100),
                "tool_call_overhead_ratio <= 1.5": _le(by_backend[b]["tool_call_overhead_ratio"], 1.5),
                "episodes_per_s.farm.64 >= 20 x spawn_baseline.8": (
                    by_backend[b]["episodes_per_s"]["farm"].get("64") is not None and b8 is not None
                    and by_backend[b]["episodes_per_s"]["farm"]["64"] >= 20 * b8
                ),
            }
            for b in BACKENDS
        },
    }  # fmt: skip


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def _ge(value: float | None, limit: float) -> bool:
    return value is not None and value >= limit


def human_summary(result: dict[str, Any]) -> str:
    e = result["extra"]
    lines = [f"awm-ray farm benchmark ({e['mode']}, backend {e['backend']}, {e['total_s']:.0f} s)"]
    lines.append(f"  {'':28} {'inprocess':>18} {'subprocess':>18}")
    bb = e["by_backend"]

    def both(fn: Any) -> str:
        return " ".join(f"{fn(bb[b]):>18}" for b in BACKENDS)

    def fmt(x: dict[str, Any]) -> str:
        return f"{x['p50']} / {x['p95']}" if x.get("p50") is not None else "-"

    lines.append(f"  {'lease ms p50/p95':28} " + both(lambda d: fmt(d["lease_ms"])))
    lines.append(f"  {'reset ms p50/p95':28} " + both(lambda d: fmt(d["reset_ms"])))
    lines.append(f"  {'farm call ms p50/p95':28} " + both(lambda d: fmt(d["tool_call_ms"]["farm"])))
    lines.append(f"  {'call overhead ratio':28} " + both(lambda d: str(d["tool_call_overhead_ratio"])))
    lines.append(f"  {'reset speedup':28} " + both(lambda d: str(d["reset_speedup"])))
    for c in ("1", "8", "64"):
        lines.append(f"  {'episodes/s c=' + c:28} " + both(lambda d, c=c: str(d["episodes_per_s"]["farm"].get(c))))
    lines.append(f"  {'MB per extra slot (RSS/PSS)':28} "
                 + both(lambda d: f"{d['rss_mb_per_slot']} / {d['pss_mb_per_slot']}"))
    lines.append(f"  direct keep-alive call ms p50/p95: {fmt(result['tool_call_ms']['direct'])}")
    lines.append(f"  spawn baseline ms p50/p95: {fmt(result['spawn_baseline_ms'])}; "
                 f"episodes/s {result['episodes_per_s']['spawn_baseline']}")  # fmt: skip
    a = result["all_scenarios"]
    lines.append(f"  all scenarios: n={a['n']} warm in {a['warm_s']} s, RSS {a['rss_mb']} MB ({a['backend']})")
    for k, v in result["targets"].items():
        lines.append(f"  target {'MET ' if v else 'MISS'} {k}")
    return "\n".join(lines)


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
        "rss_mb_per_slot": None, "all_scenarios": None, "machine": machine_info(), "targets": None,
        "extra": {"mode": mode, "backend": args.backend, "plan": plan.__dict__, "machine": machine_extra(),
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
