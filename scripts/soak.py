#!/usr/bin/env python3
"""Soak the farm: many scripted episodes at once, optionally with chaos, and a JSON account of what held.

    python scripts/soak.py --episodes 300 --concurrency 16 --chaos --out soak.json
    python scripts/soak.py --episodes 10000 --concurrency 128 --chaos --nodes 3 --out soak-full.json

Episodes are the evaluator's own (`awm_ray.evaluate.run_episode`: lease, converse, call tools, release,
one retry on a fresh lease when a lease is lost) over oracle tasks of 1-3 chained calls, reads and
writes, several scenarios, many episodes of one scenario at once. The model is the reference oracle
policy called in-process (no HTTP), so the driver's time goes to the farm.

With `--chaos`, at seeded random points of progress it SIGKILLs scenario server processes
(subprocess backend), worker actor processes, and with `--nodes` > 1 whole simulated nodes (a new
node joins after each). The JSON counts episodes (completed, failed with a clear error, retried,
lost, hung), resets, leaks after shutdown, tool-call latency in the first and last tenth, and the
farm's RSS; the exit code is 1 when a must-hold check fails.

With `--hostile`, `--hostile-share` of the episodes play copies of a healthy scenario whose code
attacks its host (`HOSTILE`: exit, kill or allocate 5 GB at import; exit, kill or allocate 1 GB on
every request), mixed with the healthy ones. They are counted apart (`hostile_episodes`): each must
end in a clear error row or a completed episode whose attacked calls answered 500; the healthy ones
must hang nothing and lose nothing, except where a hostile scenario stopped their worker (the memory
hog, when closing its slots did not bring the worker under its limit): that strike is not chaos's, so
an episode chaos struck before is lost twice (`hostile_worker_stops`; at most `--concurrency` each);
worker restarts stay within what chaos and `farm.max_scenario_failures` explain (no crash loop); the
scenarios that kill their host end unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import json
import logging
import math
import os
import queue
import random
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import ray

from awm_ray.config import load_config
from awm_ray.evaluate import EvalSettings, plan, run_episode
from awm_ray.farm import Farm
from awm_ray.loading import load_scenarios
from awm_ray.machine import farm_dirs, listening_ports, machine_facts
from awm_ray.percentiles import percentiles
from awm_ray.policy import next_message

log = logging.getLogger("soak")
REPO = Path(__file__).resolve().parents[1]
MODEL = "awm-ray-reference-oracle"
NODE_CPUS = 2


# ---- the episodes ----------------------------------------------------------------------------

_ON_EVERY_REQUEST = """

@app.middleware("http")
async def _awm_soak_attack(request, call_next):
    if request.url.path != "/openapi.json":  # the subprocess backend's readiness probe gets through
{attack}
    return await call_next(request)
"""
HOSTILE = {
    "exit_at_import": ("import os\nos._exit(1)\n", None),
    "kill_at_import": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", None),
    "memory_at_import": ("_awm_soak_hog = b'x' * (5 * 2**30)\n", None),
    "exit_in_call": ("", "        import os\n        os._exit(7)"),
    "kill_in_call": ("", "        import os, signal\n        os.kill(os.getpid(), signal.SIGKILL)"),
    "memory_in_call": ("_AWM_SOAK_HOGS = []\n", "        _AWM_SOAK_HOGS.append(b'x' * 2**30)"),
}
"""Scenario code that attacks its host: (module prelude, code run on every request but /openapi.json)."""
KILLS_ITS_HOST = {"exit_in_call", "memory_in_call"}  # may end a server or worker before it is unavailable


def hostile_scenarios(base: Any) -> list:
    """Copies of `base` (its tasks, spec and data) whose code attacks its host, one per `HOSTILE` kind."""
    from dataclasses import replace

    out = []
    for kind, (prelude, attack) in HOSTILE.items():
        code = prelude + base.code + (_ON_EVERY_REQUEST.format(attack=attack) if attack else "")
        out.append(replace(base, name=f"hostile_{kind}", code=code))
    return out


class OraclePolicy:
    """The reference oracle as a model endpoint (`awm_ray.evaluate.ModelEndpoint`), without HTTP."""

    def __init__(self) -> None:
        self._n = 0

    async def complete(self, messages: list[dict], tools: list[dict]) -> dict[str, Any]:
        self._n += 1
        message = next_message(messages, tools, "oracle")
        return {
            "id": f"soak-{self._n}", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        }  # fmt: skip


class TimedFarm:
    """The farm as `run_episode` sees it, timing every tool call (when it ended, how long it took)."""

    def __init__(self, farm: Farm, calls: list[tuple[float, float]]):
        self._farm, self._calls = farm, calls

    def lease(self, scenario: str) -> _TimedLease:
        return _TimedLease(self._farm.lease(scenario), self._calls)


class _TimedLease:
    def __init__(self, request: Any, calls: list[tuple[float, float]]):
        self._request, self._calls = request, calls

    async def __aenter__(self) -> _TimedEpisode:
        return _TimedEpisode(await self._request.__aenter__(), self._calls)

    async def __aexit__(self, *exc: object) -> None:
        await self._request.__aexit__(*exc)


class _TimedEpisode:
    def __init__(self, episode: Any, calls: list[tuple[float, float]]):
        self._episode, self._calls, self.tools = episode, calls, episode.tools

    async def call(self, tool: str, arguments: Any = None) -> Any:
        started = time.perf_counter()
        result = await self._episode.call(tool, arguments)
        self._calls.append((time.monotonic(), (time.perf_counter() - started) * 1000))
        return result


def episode_records(scenarios: list, episodes: int, seed: int, tasks_per_scenario: int) -> list[dict[str, Any]]:
    """`episodes` rollout records cycling over oracle tasks (chains of 1-3 calls) of every scenario."""
    records: list[dict[str, Any]] = []
    for chain in (1, 2, 3):
        settings = EvalSettings(out_dir=Path("."), tasks_per_scenario=tasks_per_scenario, seed=seed,
                                chain_length=chain)  # fmt: skip
        records += plan(scenarios, settings, skipped=[])
    if not records:
        raise SystemExit("no tasks could be drawn from these scenarios")
    random.Random(seed).shuffle(records)
    return [{**records[i % len(records)], "id": f"{records[i % len(records)]['id']}~{i}"} for i in range(episodes)]


# ---- chaos ---------------------------------------------------------------------------------


class Chaos:
    """Kills at seeded random points of progress: servers, workers, whole simulated nodes.

    Strikes fall between 10% and 85% of the episodes, at least `min_gap_s` apart, and never while
    an episode that was running at the previous strike is still running: an episode hit by one is
    retried once, so each episode sees at most one strike (a failure rate so high that the retry is
    hit again is a different test; it would count as lost). Strikes pushed past the window are
    reported as `not_struck`. Node changes run on the main thread, which Ray's `Cluster` needs.
    """

    def __init__(self, farm: Farm, cluster: Any, backend: str, episodes: int, events: int, seed: int,
                 started: float, min_gap_s: float = 2.0):  # fmt: skip
        self.farm, self.cluster, self.started, self.min_gap_s = farm, cluster, started, min_gap_s
        self.rng = random.Random(seed)
        kinds = ["kill_worker"] + (["kill_server"] * 2 if backend == "subprocess" else [])
        nodes_to_kill = max(1, events // 6) if cluster is not None else 0
        strikes = [self.rng.choice(kinds) for _ in range(events - nodes_to_kill)] + ["kill_node"] * nodes_to_kill
        self.rng.shuffle(strikes)
        # inside [10%, 85%] of the run: the first and last tenths, compared for drift, see no strike
        self.last_point = episodes * 17 // 20
        points = sorted(self.rng.sample(range(max(1, episodes // 10), max(2, self.last_point)), len(strikes)))
        self.pending = collections.deque(zip(points, strikes, strict=True))
        self.events: list[dict[str, Any]] = []
        self.counts: collections.Counter = collections.Counter({"kill_server": 0, "kill_worker": 0, "kill_node": 0})
        self.main_thread_jobs: queue.Queue = queue.Queue()
        self.running: set[str] = set()  # episodes in flight (kept by the soak)
        self._cohort: set[str] = set()  # those running at the last strike, or starting soon after it
        self._cohort_open_until = -math.inf
        self._last_strike = -math.inf
        self._busy = False

    async def maybe_strike(self, completed: int) -> None:
        if self._busy or not self.pending or self.pending[0][0] > completed:
            return
        if time.monotonic() - self._last_strike < self.min_gap_s or self._cohort & self.running:
            return
        if completed > self.last_point:  # deferred past the window by the gap: not struck (reported)
            return
        _, kind = self.pending.popleft()
        self._busy = True
        self._cohort = set(self.running)
        # an episode starting in the next seconds may still be granted a slot on what was just killed
        self._cohort_open_until = time.monotonic() + 10
        try:
            target = await getattr(self, kind)()
        except Exception as exc:  # noqa: BLE001 - chaos that fails to strike is reported, never fatal
            log.warning("chaos %s failed: %s", kind, exc)
            target = None
        finally:
            self._busy = False
        self._last_strike = time.monotonic()
        if target is not None:
            self.counts[kind] += 1
            self.events.append({"t_s": round(time.monotonic() - self.started, 3), "kind": kind, "target": target})
            log.info("chaos: %s %s at %d episodes", kind, target, completed)

    def worker_kills(self) -> int:
        """Worker restarts chaos caused: each worker kill, and the two workers of each node killed."""
        return self.counts["kill_worker"] + 2 * self.counts["kill_node"]

    def episode_started(self, episode_id: str) -> None:
        self.running.add(episode_id)
        if time.monotonic() < self._cohort_open_until:
            self._cohort.add(episode_id)

    async def kill_server(self) -> str | None:
        pids = sorted(p for w in (await self.farm.stats())["workers"] for p in w.get("server_pids", []))
        if not pids:
            return None
        pid = self.rng.choice(pids)
        os.kill(pid, signal.SIGKILL)
        return f"server pid {pid}"

    async def kill_worker(self) -> str | None:
        workers = sorted((w["worker_id"], w["pid"]) for w in (await self.farm.stats())["workers"] if w.get("pid"))
        if not workers:
            return None
        worker_id, pid = self.rng.choice(workers)
        os.kill(pid, signal.SIGKILL)
        return f"{worker_id} (pid {pid})"

    async def kill_node(self) -> str | None:
        nodes = sorted(self.cluster.worker_nodes, key=lambda n: n.node_id)
        if not nodes:
            return None
        node = self.rng.choice(nodes)

        def replace() -> None:
            self.cluster.remove_node(node)
            self.cluster.add_node(num_cpus=NODE_CPUS)  # capacity comes back, as in a real cluster

        done: concurrent.futures.Future = concurrent.futures.Future()
        self.main_thread_jobs.put((replace, done))
        await asyncio.wrap_future(done)
        return f"node {node.node_id[:12]}"

    def serve_main_thread(self, until: threading.Event) -> None:
        """Run node changes queued by `kill_node` until the soak ends."""
        while not until.is_set():
            try:
                job, done = self.main_thread_jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                done.set_result(job())
            except Exception as exc:  # noqa: BLE001 - handed to the waiting coroutine
                done.set_exception(exc)


# ---- measurements --------------------------------------------------------------------------


def pct(values: list[float]) -> dict[str, float | int | None]:
    """`{"p50", "p99", "n"}` of `values` (ms)."""
    return percentiles(values, (50, 99))


def farm_rss_mb(stats: dict[str, Any]) -> float:
    """Resident memory of the farm: worker processes and their scenario servers."""
    total = 0
    for worker in stats["workers"]:
        for pid in [worker.get("pid"), *worker.get("server_pids", [])]:
            try:
                total += psutil.Process(pid).memory_info().rss if pid else 0
            except psutil.Error:
                continue
    return round(total / 2**20, 1)


def worker_rss_mb(stats: dict[str, Any]) -> dict[str, float]:
    """RSS of each worker process (with its servers), by pid."""
    return {str(w["pid"]): farm_rss_mb({"workers": [w]}) for w in stats["workers"] if w.get("pid")}


def rss_window(timeline: list[dict[str, Any]], episodes: int) -> dict[str, Any]:
    """Farm RSS early (samples while the second tenth of episodes ran: imports and caches warm) and
    late (the last tenth), as medians so one sample taken mid-restart does not decide it."""
    early = [t for t in timeline if episodes * 0.1 <= t["completed"] <= episodes * 0.2] or timeline[:2]
    late = [t for t in timeline if t["completed"] >= episodes * 0.9] or timeline[-2:]

    def median(rows: list[dict[str, Any]], key: str) -> float | None:
        return round(statistics.median(r[key] for r in rows), 1) if rows else None

    # the same worker processes at the end of both windows: growth that restarts and new nodes (which
    # start small and warm up) do not blur; a leak shows here first
    first, last = early[-1].get("worker_rss_mb", {}), late[-1].get("worker_rss_mb", {})
    both = sorted(set(first) & set(last))
    before, after = sum(first[p] for p in both), sum(last[p] for p in both)
    return {"start": median(early, "rss_mb"), "end": median(late, "rss_mb"),
            "slots_start": median(early, "slots"), "slots_end": median(late, "slots"),
            "same_workers": {"workers": len(both), "start": round(before, 1), "end": round(after, 1),
                             "growth_pct": round(100 * (after - before) / before, 1) if before else None}}


class Sampler:
    """Every `period_s`: progress, call latency of the window, farm RSS; and reset counts per worker life."""

    def __init__(self, farm: Farm, calls: list[tuple[float, float]], started: float, period_s: float):
        self.farm, self.calls, self.started, self.period_s = farm, calls, started, period_s
        self.timeline: list[dict[str, Any]] = []
        self.resets: dict[tuple[str, str], dict[str, int]] = {}  # (worker, incarnation) -> its counters
        self.completed = 0
        self._seen_calls = 0
        self._last = (started, 0)

    async def sample(self) -> dict[str, Any]:
        stats = await self.farm.stats()
        for w in stats["workers"]:
            if w.get("incarnation"):
                self.resets[(w["worker_id"], w["incarnation"])] = {
                    k: w.get(k, 0) for k in ("resets", "resets_verified", "quarantined")
                }
        now = time.monotonic()
        window = [ms for _, ms in self.calls[self._seen_calls:]]
        self._seen_calls = len(self.calls)
        then, done_then = self._last
        self._last = (now, self.completed)
        latency = pct(window)
        self.timeline.append({
            "t_s": round(now - self.started, 2), "completed": self.completed,
            "episodes_per_s": round((self.completed - done_then) / max(now - then, 1e-9), 2),
            "call_p50_ms": latency["p50"], "call_p99_ms": latency["p99"], "rss_mb": farm_rss_mb(stats),
            "slots": stats["slots"], "workers": sum(1 for w in stats["workers"] if w.get("pid")),
            "worker_rss_mb": worker_rss_mb(stats),
        })  # fmt: skip
        return stats

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                await self.sample()
            except Exception as exc:  # noqa: BLE001 - a farm busy recovering may miss a sample
                log.warning("sample failed: %s", exc)

    def reset_totals(self) -> dict[str, int]:
        total = collections.Counter()
        for counters in self.resets.values():
            total.update(counters)
        return {"total": total["resets"], "verified": total["resets_verified"], "quarantined": total["quarantined"]}


def leftovers(root: str, ports_before: set[int], dirs_before: set[Path], settle_s: float = 20.0) -> dict[str, Any]:
    """What the farm left behind after shutdown: processes we started (Ray's included) or that run
    from the farm's directory, their listening ports and ours, and files (waits for stragglers)."""
    me = psutil.Process()
    deadline = time.monotonic() + settle_s
    while True:
        found = {p.pid: p for p in me.children(recursive=True)}
        for proc in psutil.process_iter(["cmdline"]):
            if root in " ".join(proc.info["cmdline"] or []):
                found[proc.pid] = proc
        processes = []
        for pid, proc in sorted(found.items()):
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    processes.append({"pid": pid, "cmdline": " ".join(proc.cmdline())[:200]})
            except psutil.Error:
                continue
        ports = sorted(listening_ports([me.pid, *found]) - ports_before)
        files = [str(p) for p in Path(root).rglob("*")] if Path(root).exists() else []
        new_dirs = sorted(str(d) for d in farm_dirs() - dirs_before if d.exists())
        if (not processes and not ports and not files and not new_dirs) or time.monotonic() > deadline:
            return {"processes": processes, "ports": ports, "temp_files": files + new_dirs}
        time.sleep(0.5)


# ---- the run -------------------------------------------------------------------------------


def start_ray(nodes: int) -> Any:
    """A local Ray, or a simulated cluster of `nodes` nodes on this machine (returned)."""
    if nodes <= 1:
        ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)
        return None
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": NODE_CPUS})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=NODE_CPUS)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    return cluster


async def soak(args: argparse.Namespace, farm: Farm, chaos: Chaos | None, records: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.monotonic()
    if chaos is not None:
        chaos.started = started
    calls: list[tuple[float, float]] = []
    sampler = Sampler(farm, calls, started, args.sample_s)
    timed, policy = TimedFarm(farm, calls), OraclePolicy()
    outcomes: collections.Counter = collections.Counter()
    errors: collections.Counter = collections.Counter()
    hostile: collections.defaultdict = collections.defaultdict(collections.Counter)  # per hostile scenario
    hostile_errors: collections.Counter = collections.Counter()
    lost: list[dict[str, Any]] = []  # healthy episodes lost twice: what ended them, and when
    episode_ms: list[float] = []
    slowest: list[tuple] = []  # the ten longest episodes, to tell where a long wait was spent
    gate = asyncio.Semaphore(args.concurrency)
    progress_every = max(1, len(records) // 20)

    async def one(record: dict[str, Any]) -> None:
        async with gate:
            if chaos is not None:
                chaos.episode_started(record["id"])
            t0 = time.perf_counter()
            try:
                row = await asyncio.wait_for(run_episode(timed, policy, record, args.max_turns), args.episode_timeout_s)
            except TimeoutError:
                if record["scenario"].startswith("hostile_"):
                    hostile[record["scenario"]]["hung"] += 1
                else:
                    outcomes["hung"] += 1
                log.error("episode %s did not finish within %g s", record["id"], args.episode_timeout_s)
                return
            finally:
                if chaos is not None:
                    chaos.running.discard(record["id"])
            episode_ms.append((time.perf_counter() - t0) * 1000)
            slowest.append((episode_ms[-1], record["id"], row["timings"], row["retried"], len(row["tool_calls"])))
            slowest.sort(reverse=True)
            del slowest[10:]
        if record["scenario"].startswith("hostile_"):
            hostile[record["scenario"]]["retried"] += bool(row["retried"])
            if row["error"] is None:
                statuses = [c["status"] for c in row["tool_calls"]]
                hostile[record["scenario"]]["completed, attacked calls answered 500" if 500 in statuses
                                            else "completed"] += 1  # fmt: skip
            else:
                hostile[record["scenario"]]["clear_error" if row["error"].strip() else "unclear_error"] += 1
                hostile_errors[row["error"].split(":", 1)[0]] += 1
            sampler.completed += 1
            if chaos is not None:
                await chaos.maybe_strike(sampler.completed)
            return
        outcomes["retried"] += bool(row["retried"])
        if row["error"] is None:
            outcomes["completed"] += 1
        elif row["error"].startswith("LeaseLost"):
            outcomes["lost"] += 1
            errors["LeaseLost after a retry"] += 1
            lost.append({"id": record["id"], "error": row["error"][:500], "at_s": round(time.monotonic() - started, 2)})
            log.error("episode %s lost twice: %s", record["id"], row["error"][:300])
        else:
            outcomes["failed_with_clear_error"] += 1
            errors[row["error"].split(":", 1)[0]] += 1
            log.warning("episode %s: %s", record["id"], row["error"][:300])
        sampler.completed += 1
        if sampler.completed % progress_every == 0:
            log.info("%d/%d episodes (%.1f/s)", sampler.completed, len(records),
                     sampler.completed / (time.monotonic() - started))  # fmt: skip
        if chaos is not None:
            await chaos.maybe_strike(sampler.completed)

    # Warm the pools to their working size first, so RSS growth measures leaks, not the pools filling up.
    names = sorted({r["scenario"] for r in records if not r["scenario"].startswith("hostile_")})
    warmed = await farm.prewarm(names, per_scenario=math.ceil(1.25 * args.concurrency / len(names)))
    log.info("prewarmed %d slots", warmed)
    sampling = asyncio.ensure_future(sampler.run_forever())
    try:
        await asyncio.gather(*(one(r) for r in records))
    finally:
        sampling.cancel()
    duration = time.monotonic() - started
    final = await sampler.sample()
    settle_until = time.monotonic() + 10  # releases reach the workers in the background
    while time.monotonic() < settle_until and (final["leases_active"] or any(w.get("leased") for w in final["workers"])):
        await asyncio.sleep(0.5)
        final = await farm.stats()
    tenth = max(1, len(calls) // 10)
    ordered = [ms for _, ms in sorted(calls)]
    first, last = pct(ordered[:tenth]), pct(ordered[-tenth:])
    healthy = sum(1 for r in records if not r["scenario"].startswith("hostile_"))
    return {
        "duration_s": round(duration, 1),
        "episodes_per_s": round(len(records) / duration, 2),
        "episodes": {"submitted": healthy, **{k: outcomes[k] for k in
                     ("completed", "failed_with_clear_error", "retried", "lost", "hung")}},
        "hostile_episodes": {"submitted": len(records) - healthy,
                             "by_scenario": {name: dict(c) for name, c in sorted(hostile.items())},
                             "errors": dict(hostile_errors)} if hostile else None,
        "worker_restarts": sum(max(0, n - 1) for n in collections.Counter(w for w, _ in sampler.resets).values()),
        "unavailable": final.get("unavailable", {}),
        "errors": dict(errors),
        "lost_episodes": lost,
        "chaos": {"counts": dict(chaos.counts), "events": chaos.events, "not_struck": len(chaos.pending)}
        if chaos else {"counts": {}, "events": [], "not_struck": 0},
        "resets": sampler.reset_totals(),
        # leases still held when every episode is done: the scheduler's books, and the slots the
        # workers still hold leased (a lease the scheduler forgot but a worker kept counts too)
        "leases_active_at_end": max(final["leases_active"], sum(w.get("leased", 0) for w in final["workers"])),
        "latency_ms": {**pct(ordered), "first_tenth": first, "last_tenth": last,
                       "p99_last_over_first": round(last["p99"] / first["p99"], 3) if first["p99"] else None},
        "episode_ms": pct(episode_ms),
        "slowest_episodes": [{"ms": round(ms, 1), "id": i, "timings": t, "retried": r, "calls": n}
                             for ms, i, t, r, n in slowest],
        "rss_mb": rss_window(sampler.timeline, len(records)),
        "timeline": sampler.timeline,
        "root": final["root"],
    }


def run_soak_thread(args: argparse.Namespace, farm: Farm, chaos: Chaos | None, records: list) -> dict[str, Any]:
    """The episodes run on an event loop in a thread; the main thread serves chaos's node changes."""
    finished, outcome = threading.Event(), {}

    def target() -> None:
        try:
            outcome["report"] = asyncio.run(soak(args, farm, chaos, records))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            outcome["error"] = exc
        finally:
            finished.set()

    thread = threading.Thread(target=target, name="soak-episodes")
    thread.start()
    if chaos is not None:
        chaos.serve_main_thread(finished)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["report"]


def private_tmp() -> Path:
    """A temp directory of this run's own for the farm's files (workers inherit TMPDIR), so the leak
    check sees only what this run left, not other runs on a shared machine; Ray keeps /tmp/ray."""
    os.environ.setdefault("RAY_TMPDIR", tempfile.gettempdir())  # Ray adds "ray/"
    path = Path(tempfile.mkdtemp(prefix="awm-soak-"))
    os.environ["TMPDIR"] = str(path)
    tempfile.tempdir = None  # recomputed from TMPDIR
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = private_tmp()
    ports_before, dirs_before = listening_ports([os.getpid()]), farm_dirs()
    cluster = start_ray(args.nodes)
    scenarios = list(load_scenarios(args.dataset, max_scenarios=args.max_scenarios))
    records = episode_records(scenarios, args.episodes, args.seed, args.tasks_per_scenario)
    hostile: list = []
    if args.hostile:
        hostile = hostile_scenarios(scenarios[0])
        per_kind = max(5, round(args.hostile_share * args.episodes / len(hostile)))  # >= 5: enough to be refused
        attacks = [r for i, h in enumerate(hostile) for r in episode_records([h], per_kind, args.seed + i, 1)]
        random.Random(args.seed).shuffle(attacks)
        count = len(attacks)
        step = len(records) / count  # spread over the run
        for i, record in enumerate(attacks):
            records.insert(min(len(records), int(i * step) + i), record)
    nodes = max(1, args.nodes)
    workers_per_node = args.workers_per_node
    slots = max(4, math.ceil(args.concurrency * 1.5 / (workers_per_node * nodes)) + len(scenarios))
    overrides = {
        "hosting.backend": args.backend, "farm.name": f"soak-{os.getpid()}", "farm.workers_per_node": workers_per_node,
        "farm.slots_per_worker": slots + len(hostile), "farm.heartbeat_s": 0.5, "farm.worker_dead_after_s": 10,
    }  # fmt: skip
    if hostile:  # limits small enough that a 1 GB allocation per request trips them on a shared machine;
        # a failed start retried soon (each retry is a fresh failure, counted toward farm.max_scenario_failures)
        overrides.update({"hosting.worker_memory_mb": 1280, "hosting.server_memory_mb": 1024,
                          "hosting.failed_start_ttl_s": 1})  # fmt: skip
    config = load_config(args.config, overrides)
    log.info("soak: %d episodes, concurrency %d, %s backend, %d node(s), chaos %s", len(records), args.concurrency,
             config.hosting.backend, nodes, "on" if args.chaos else "off")  # fmt: skip
    farm = Farm.start(config, scenarios + hostile)
    chaos = None
    if args.chaos:
        chaos = Chaos(farm, cluster, config.hosting.backend, len(records), args.chaos_events, args.seed, time.monotonic())
    try:
        report = run_soak_thread(args, farm, chaos, records)
    finally:
        farm.shutdown()
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
    left = leftovers(report.pop("root"), ports_before, dirs_before)
    shutil.rmtree(tmp, ignore_errors=True)
    leases = report.pop("leases_active_at_end")
    report["leaks"] = {"processes": len(left["processes"]), "ports": len(left["ports"]), "leases": leases,
                       "temp_files": len(left["temp_files"])}  # fmt: skip
    report["leak_details"] = {k: v[:20] for k, v in left.items() if v}
    rss = report["rss_mb"]
    rss["growth_pct"] = round(100 * (rss["end"] - rss["start"]) / rss["start"], 1) if rss["start"] else None
    ratio = report["latency_ms"]["p99_last_over_first"]
    lost = report["episodes"]["lost"]
    if hostile:
        # A hostile scenario that stops its worker (memory still over the limit after its slots were
        # closed) ends the leases of healthy episodes there too: a strike chaos does not schedule, so
        # an episode chaos struck before may be struck twice. Such losses are allowed, at most
        # --concurrency per stop, and only in a run that shows the stop (more restarts than chaos kills).
        report["hostile_worker_stops"] = max(0, report["worker_restarts"] - (chaos.worker_kills() if chaos else 0))
        lost_check = ("lost == 0, or <= concurrency per worker a hostile scenario stopped",
                      lost <= args.concurrency * report["hostile_worker_stops"])  # fmt: skip
    else:
        lost_check = ("lost == 0", lost == 0)
    report["checks"] = {
        lost_check[0]: lost_check[1],
        "hung == 0": report["episodes"]["hung"] == 0,
        **(hostile_checks(report, config, chaos) if hostile else {}),
        "no leaks": not any(report["leaks"].values()),
    }
    drift = {"p99 last tenth <= 1.5x first": ratio is not None and ratio <= 1.5,
             "rss growth < 10%": rss["growth_pct"] is not None and rss["growth_pct"] < 10}  # fmt: skip
    if hostile:  # hostile scenarios' slots come and go mid-run: drift is reported, not judged
        report["drift"] = drift
    else:
        report["checks"].update(drift)
    report["passed"] = all(report["checks"].values())
    report["config"] = {"episodes": args.episodes, "concurrency": args.concurrency, "chaos": args.chaos,
                        "nodes": nodes, "backend": config.hosting.backend, "seed": args.seed,
                        "workers_per_node": workers_per_node, "slots_per_worker": slots,
                        "scenarios": [s.name for s in scenarios]}  # fmt: skip
    report["command"] = "python scripts/soak.py " + shlex.join(sys.argv[1:])
    report["machine"] = machine_facts()
    return report


def hostile_checks(report: dict[str, Any], config: Any, chaos: Chaos | None) -> dict[str, bool]:
    """What `--hostile` must show (see the module doc)."""
    by_scenario = report["hostile_episodes"]["by_scenario"]
    outcomes = collections.Counter()
    for counts in by_scenario.values():
        outcomes.update(counts)
    explained = (chaos.worker_kills() if chaos else 0) + config.farm.max_scenario_failures * len(KILLS_ITS_HOST)
    return {
        "hostile: hung == 0 and every episode a clear error or answered": outcomes["hung"] == 0
        and outcomes["unclear_error"] == 0,
        "hostile: those that kill their host end unavailable": all(
            f"hostile_{kind}" in report["unavailable"] for kind in HOSTILE
            if kind in ("exit_at_import", "kill_at_import", "memory_at_import") or
            (kind == "exit_in_call" and config.hosting.backend == "subprocess") or
            (kind == "memory_in_call" and config.hosting.backend == "inprocess")
        ),
        f"no worker crash loop (restarts <= {explained})": report["worker_restarts"] <= explained,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--chaos", action="store_true", help="kill servers, workers and (with --nodes) nodes mid-run")
    p.add_argument("--nodes", type=int, default=1, help="simulated Ray nodes on this machine (1 = a plain local Ray)")
    p.add_argument("--chaos-events", type=int, default=None, help="how many kills (default: episodes/400, at least 4)")
    p.add_argument("--backend", choices=["inprocess", "subprocess"], default=None, help="default: the config's")
    p.add_argument("--config", default=str(REPO / "configs" / "local.yaml"))
    p.add_argument("--dataset", default="bundled")
    p.add_argument("--max-scenarios", type=int, default=None)
    p.add_argument("--tasks-per-scenario", type=int, default=10)
    p.add_argument("--workers-per-node", type=int, default=2)
    p.add_argument("--max-turns", type=int, default=8)
    p.add_argument("--episode-timeout-s", type=float, default=300.0, help="an episode still running then is 'hung'")
    p.add_argument("--sample-s", type=float, default=2.0, help="period of the timeline samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hostile", action="store_true", help="mix in scenarios whose code attacks its host (HOSTILE)")
    p.add_argument("--hostile-share", type=float, default=0.1, help="share of the episodes that play them")
    p.add_argument("--out", required=True, help="write the JSON here (a summary goes to stdout)")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if args.chaos_events is None:
        args.chaos_events = max(4, args.episodes // 400)
    if args.episodes < 10 or args.concurrency < 1:
        p.error("--episodes must be at least 10 and --concurrency at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    report = run(args)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    summary = {k: report[k] for k in ("episodes", "hostile_episodes", "worker_restarts", "unavailable", "resets",
                                      "leaks", "latency_ms", "rss_mb", "checks", "passed")}
    print(json.dumps({**summary, "chaos": report["chaos"]["counts"], "duration_s": report["duration_s"]}, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
