"""The scheduler actor: grants leases, places them on workers, queues, and notices deaths.

Placement: a worker with a warm idle slot of the scenario first; else the least-loaded worker
with room, on the least-loaded node; else the request waits in a bounded FIFO queue. Calls do not
pass through here: a grant names the worker, and the caller talks to it with the lease's token.
A periodic sweep asks every worker for a heartbeat: leases a worker ended (expiry, dead server)
are forgotten, a worker that died or restarted loses its leases, and nodes without workers get them.
Failed starts and the deaths workers report are charged to their scenario (`ScenarioFailures`);
at `farm.max_scenario_failures` a scenario's leases fail at once with `ScenarioUnavailable`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from awm_ray.config import FarmConfig, HostingConfig
from awm_ray.farm.errors import LeaseTimeout, ScenarioUnavailable, StaleWorker, UnknownScenario, plain, quoted
from awm_ray.farm.failures import ScenarioFailures
from awm_ray.farm.metrics import SchedulerMetrics
from awm_ray.farm.worker import FarmWorker
from awm_ray.hosting.pool import PoolFull
from awm_ray.percentiles import percentiles
from awm_ray.scenario import Scenario

log = logging.getLogger(__name__)
_REQUEST_MEMORY = 10_000  # granted / withdrawn lease request ids remembered for a late withdraw / lease

# Approximate resident memory of one slot, for sizing slots_per_worker from node memory.
SLOT_MB = {"subprocess": 70, "inprocess": 8}
SLOT_CAP = {"subprocess": 256, "inprocess": 2000}


@dataclass(eq=False)
class _Worker:
    worker_id: str
    handle: Any
    node_id: str
    max_slots: int
    incarnation: str | None = None
    call_socket: str | None = None  # the worker's same-node call socket (see local_calls)
    alive: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    size: int = 0
    leases: set[str] = field(default_factory=set)
    foreign: int = 0  # leases the worker reports that this scheduler does not know; they take room too
    # Leases this scheduler released -> when the worker answered the release (None: not yet). A
    # heartbeat is a snapshot taken before it comes back: they may still be in it, but are not foreign.
    releasing: dict[str, float | None] = field(default_factory=dict)
    warm: collections.Counter = field(default_factory=collections.Counter)
    version: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    faults_seen: tuple[str | None, int] = (None, 0)  # (incarnation, last fault seq) taken from its heartbeats

    @property
    def free(self) -> int:
        """Slots neither leased through this scheduler nor held there for a lease it does not know."""
        return max(0, self.max_slots - len(self.leases) - self.foreign) if self.alive else 0

    @property
    def room(self) -> bool:
        return self.free > 0


@dataclass(eq=False)
class _Lease:
    lease_id: str
    token: str
    scenario: str
    worker: _Worker
    confirmed_at: float | None = None


def worker_memory_mb(farm: FarmConfig, node_memory_bytes: float, workers: int) -> int:
    """The default `hosting.worker_memory_mb`: a worker's share of its node's memory, plus 1 GB."""
    return int(node_memory_bytes / 2**20 * farm.memory_fraction / max(1, workers)) + 1024


def slots_per_worker(farm: FarmConfig, backend: str, node_memory_bytes: float, workers: int) -> int:
    if farm.slots_per_worker:
        return farm.slots_per_worker
    budget_mb = node_memory_bytes / 2**20 * farm.memory_fraction / max(1, workers)
    return int(max(4, min(SLOT_CAP[backend], budget_mb // SLOT_MB[backend])))


class FarmScheduler:
    """Leases slots of named scenarios on a set of `FarmWorker` actors it creates and watches."""

    def __init__(self, farm: dict, hosting: dict):
        self.farm = FarmConfig.model_validate(farm)
        self.hosting = HostingConfig.model_validate(hosting)
        self.farm_id = uuid.uuid4().hex[:12]
        base = Path(self.hosting.workdir) if self.hosting.workdir else Path(tempfile.gettempdir())
        self.root = str(base / f"awm-ray-{self.farm_id}")
        self._workers: list[_Worker] = []
        self._leases: dict[str, _Lease] = {}
        self._catalog: dict[str, ray.ObjectRef] = {}
        self._tools: dict[str, list[dict]] = {}
        self.failures = ScenarioFailures(self.farm.max_scenario_failures)
        self._background: set[asyncio.Task] = set()
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._requests: dict[str, asyncio.Task] = {}  # request id -> the lease call serving it
        self._granted_to: collections.OrderedDict[str, str] = collections.OrderedDict()  # request id -> lease id
        self._withdrawn: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._next_worker = 0
        self._sweeper: asyncio.Task | None = None
        self._closed = False
        self.granted = 0
        self.lost = 0
        self.timeouts = 0
        self.lease_ms: collections.deque[float] = collections.deque(maxlen=4096)
        self.metrics = SchedulerMetrics()

    # ---- life cycle -----------------------------------------------------------------------

    async def start(self) -> dict[str, Any]:
        await self._ensure_workers()
        if not self._workers:
            raise RuntimeError("no alive Ray node to place farm workers on")
        infos = await asyncio.gather(*(self._first_beat(w) for w in self._workers))
        self._sweeper = asyncio.ensure_future(self._sweep_forever())
        return {"farm_id": self.farm_id, "workers": infos, "root": self.root}

    async def shutdown(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(LeaseTimeout("the farm is shutting down"))
        await asyncio.gather(
            *(asyncio.wait_for(w.handle.shutdown.remote(), 60) for w in self._workers), return_exceptions=True
        )
        for w in self._workers:
            ray.kill(w.handle, no_restart=True)
        self._workers.clear()
        shutil.rmtree(self.root, ignore_errors=True)  # what dead workers left on this node

    # ---- scenarios ------------------------------------------------------------------------

    async def add_scenarios(self, scenarios: list[Scenario]) -> int:
        for scenario in scenarios:
            self._catalog[scenario.name] = ray.put(scenario)  # owned by this actor: outlives the driver
            self._tools.pop(scenario.name, None)
            self.failures.forget(scenario.name)  # added again: it gets a fresh start
        return len(self._catalog)

    async def scenario_names(self) -> list[str]:
        return list(self._catalog)

    # ---- leases ---------------------------------------------------------------------------

    async def lease(self, scenario: str, timeout_s: float | None = None, request_id: str | None = None) -> dict[str, Any]:
        """Grant a lease on a clean slot of `scenario`, waiting up to `timeout_s` for room.

        `request_id` (the caller's): `withdraw(request_id)` cancels the request while it waits, or
        releases the lease if it was granted meanwhile (the caller gave up: nobody holds it).
        """
        if request_id is None:
            return await self._lease(scenario, timeout_s)
        if request_id in self._withdrawn:
            raise LeaseTimeout("the lease request was withdrawn by its caller")
        task = asyncio.current_task()
        assert task is not None
        self._requests[request_id] = task
        try:
            grant = await self._lease(scenario, timeout_s)
        finally:
            self._requests.pop(request_id, None)
        if request_id in self._withdrawn:  # withdrawn as it was granted (a cancel can be lost in wait_for)
            await self.release(grant["lease_id"], grant["token"])
            raise LeaseTimeout("the lease request was withdrawn by its caller")
        self._remember(self._granted_to, request_id, grant["lease_id"])
        return grant

    async def withdraw(self, request_id: str) -> str:
        """The caller of `lease(..., request_id)` gave up (cancelled, timed out, disconnected):
        cancel the request if it still waits, release its lease if it was granted. Returns what
        was done: "cancelled", "released" or "noted" (the request has not arrived yet: it will be refused)."""
        self._remember(self._withdrawn, request_id, None)
        task = self._requests.pop(request_id, None)
        if task is not None:
            task.cancel()
            return "cancelled"
        lease_id = self._granted_to.pop(request_id, None)
        lease = self._leases.get(lease_id) if lease_id else None
        if lease is not None:
            await self.release(lease.lease_id, lease.token)
            return "released"
        return "noted"

    @staticmethod
    def _remember(memory: collections.OrderedDict, key: str, value: Any) -> None:
        memory[key] = value
        while len(memory) > _REQUEST_MEMORY:
            memory.popitem(last=False)

    async def _lease(self, scenario: str, timeout_s: float | None) -> dict[str, Any]:
        started = time.perf_counter()
        ref = self._catalog.get(scenario)
        if ref is None:
            raise UnknownScenario(f"the farm has no scenario named {quoted(scenario)} ({len(self._catalog)} known)")
        timeout = self.farm.lease_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        my_turn = retrying = False
        while True:
            if self._closed:
                raise LeaseTimeout("the farm is shutting down")
            if scenario in self.failures.unavailable:
                raise ScenarioUnavailable(self.failures.unavailable[scenario])
            if retrying and time.monotonic() >= deadline:  # e.g. workers that kept dying while granting it
                self.timeouts += 1
                raise LeaseTimeout(f"no slot of {scenario!r} could be granted within {timeout:g} s (its workers "
                                   "were full, failed or restarted meanwhile)")  # fmt: skip
            worker = self._choose(scenario) if (my_turn or not self._waiters) else None
            if worker is None:
                await self._wait_for_room(deadline, timeout, front=my_turn)
                my_turn = True
                continue
            lease, warm = self._reserve(worker, scenario)
            tools = self._tools.get(scenario)
            granted_now = warm and tools is not None
            acquire = worker.handle.acquire.remote(lease.lease_id, lease.token, scenario, [ref], tools is None,
                                                   worker.incarnation, granted_now)  # fmt: skip
            if granted_now:
                # A warm slot is there: grant now, bind in the background. The worker holds back
                # this lease's calls until the binding lands, so nothing is lost but a round trip.
                self._spawn(self._confirm(lease, worker, acquire))
            else:
                try:
                    granted = await acquire
                except PoolFull:  # it holds more than this scheduler knew (a release still on its way)
                    self._forget(lease)
                    worker.size, worker.warm = worker.max_slots, collections.Counter()  # stale: wait for a heartbeat
                    retrying = True  # the deadline holds however often this happens
                    await asyncio.sleep(0.05)
                    continue
                except StaleWorker:
                    self._forget(lease)
                    self._worker_lost(worker, "it restarted")
                    retrying = True
                    continue
                except ScenarioUnavailable as exc:  # the worker could not start it: a failure of the scenario
                    self._forget(lease)
                    self._charged(self.failures.charge_start(scenario, plain(exc)))
                    raise plain(exc) from None
                except ray.exceptions.RayTaskError as exc:  # the worker's other answers
                    self._forget(lease)
                    raise plain(exc) from None
                except asyncio.CancelledError:  # withdrawn: the worker may still bind a slot to it
                    self._forget(lease)
                    self._hand_back(lease)
                    raise
                except ray.exceptions.RayError as exc:  # died, unavailable, or unschedulable (its node left)
                    self._forget(lease)
                    self._worker_lost(worker, f"it failed while granting a lease ({type(exc).__name__})")
                    retrying = True
                    continue
                lease.confirmed_at = time.monotonic()
                self.failures.started(scenario)
                tools = self._tools.setdefault(scenario, granted["tools"] or [])
            self.granted += 1
            elapsed = (time.perf_counter() - started) * 1000
            self.lease_ms.append(elapsed)
            self.metrics.leases.inc()
            self.metrics.lease_ms.observe(elapsed)
            return {
                "lease_id": lease.lease_id,
                "token": lease.token,
                "scenario": scenario,
                "worker": worker.handle,
                "worker_id": worker.worker_id,
                "incarnation": worker.incarnation,
                "node_id": worker.node_id,
                "call_socket": worker.call_socket,
                "tools": tools,
                "lease_ttl_s": self.farm.lease_ttl_s,
            }

    async def _confirm(self, lease: _Lease, worker: _Worker, acquire: Any) -> None:
        """The background half of a warm grant: note the binding, or undo the grant if it failed."""
        try:
            await acquire
        except StaleWorker:
            self._forget(lease)
            self._worker_lost(worker, "it restarted")
            return
        except ray.exceptions.RayTaskError as exc:  # the worker could not bind: the holder gets LeaseLost
            if lease.lease_id in self._leases:  # (not when it was released before its binding landed)
                log.warning("warm lease %s on %s could not be bound: %s", lease.lease_id, worker.worker_id, exc)
            self._forget(lease)
            return
        except ray.exceptions.RayError as exc:
            self._forget(lease)
            self._worker_lost(worker, f"it failed while binding a lease ({type(exc).__name__})")
            return
        lease.confirmed_at = time.monotonic()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def release(self, lease_id: str, token: str, lost: bool = False) -> bool:
        """End a lease. `lost`: its holder saw it lost (a dead server or worker), so until the next
        heartbeat that worker gets no warm grants, which skip asking it (a retry must not land on
        the same dead worker)."""
        lease = self._leases.get(lease_id)
        if lease is None or not secrets.compare_digest(lease.token, token):
            return False
        if lost:
            lease.worker.warm.clear()
            lease.worker.version += 1
        self._forget(lease)
        self._hand_back(lease)
        return True

    def _hand_back(self, lease: _Lease) -> None:
        """Release a lease this scheduler already forgot on its worker, in the background."""
        lease.worker.releasing[lease.lease_id] = None  # now: a heartbeat may come back before the task runs
        self._spawn(self._release_on_worker(lease))

    async def _release_on_worker(self, lease: _Lease) -> None:
        """Hand the slot back; only the worker's answer makes it count as warm again (a dead worker
        never looks warm, so warm grants, which skip the round trip, only go to live workers)."""
        worker = lease.worker
        try:
            released = await worker.handle.release.remote(lease.lease_id, lease.token)
        except ray.exceptions.RayError as exc:
            self._worker_lost(worker, f"it failed while releasing a lease ({type(exc).__name__})")
            return
        finally:
            if lease.lease_id in worker.releasing:
                worker.releasing[lease.lease_id] = time.monotonic()
        if released and worker.alive:
            worker.warm[lease.scenario] += 1
            worker.version += 1

    async def prewarm(self, names: list[str], per_scenario: int = 1) -> int:
        """Start idle slots of these scenarios, spread over the workers; returns how many started."""
        started = 0
        for name in names:
            ref = self._catalog.get(name)
            if ref is None:
                raise UnknownScenario(f"the farm has no scenario named {quoted(name)}")
            for _ in range(per_scenario):
                candidates = [w for w in self._workers if w.alive and w.size < w.max_slots]
                if not candidates:
                    return started
                if name in self.failures.unavailable:
                    raise ScenarioUnavailable(self.failures.unavailable[name])
                worker = min(candidates, key=lambda w: (w.size / w.max_slots, w.worker_id))
                worker.size += 1
                worker.version += 1
                try:
                    warmed = await worker.handle.prewarm.remote(name, [ref])
                except ScenarioUnavailable as exc:
                    worker.size -= 1
                    self._charged(self.failures.charge_start(name, plain(exc)))
                    raise plain(exc) from None
                if warmed:
                    worker.warm[name] += 1
                    started += 1
                else:
                    worker.size -= 1
        return started

    # ---- observability --------------------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        alive = [w for w in self._workers if w.alive]  # before the await: a worker may die meanwhile
        beats = await asyncio.gather(
            *(asyncio.wait_for(w.handle.stats.remote(), 10) for w in alive), return_exceptions=True
        )
        workers = []
        reset_ms: list[float] = []
        totals: collections.Counter = collections.Counter()
        for w, beat in zip(alive, beats, strict=True):
            if isinstance(beat, BaseException):
                continue
            reset_ms.extend(beat.pop("reset_ms_recent"))
            totals.update({k: v for k, v in beat["stats"].items() if isinstance(v, int)})
            workers.append({"worker_id": w.worker_id, "node_id": w.node_id, "alive": True, "size": beat["size"],
                            "leased": beat["leased"], "max_slots": w.max_slots, **beat["stats"],
                            "server_pids": beat["server_pids"], "pid": beat["pid"],
                            "incarnation": beat["incarnation"]})  # fmt: skip
        answered = {w["worker_id"] for w in workers}
        workers += [{"worker_id": w.worker_id, "node_id": w.node_id, "alive": False}
                    for w in self._workers if w.worker_id not in answered]  # fmt: skip
        return {
            "farm_id": self.farm_id,
            "pid": os.getpid(),
            "backend": self.hosting.backend,
            "scenarios": len(self._catalog),
            "workers": workers,
            "nodes": len({w.node_id for w in self._workers if w.alive}),
            "slots": sum(w.get("size", 0) for w in workers),
            "leases_active": len(self._leases),
            "queue_depth": len(self._waiters),
            "unavailable": dict(self.failures.unavailable),
            "scenario_failures": self.failures.counts(),
            "leases_granted": self.granted,
            "leases_lost": self.lost + totals.get("leases_lost", 0),
            "lease_timeouts": self.timeouts,
            "lease_ms": percentiles(self.lease_ms),
            "reset_ms": percentiles(reset_ms),
            "totals": dict(totals),
            "root": self.root,
        }

    def _charged(self, made_unavailable: bool | list[str]) -> None:
        """After a scenario became unavailable: queued requests look again (those for it now fail)."""
        if made_unavailable:
            self._wake(len(self._waiters))

    # ---- placement --------------------------------------------------------------------------

    def _choose(self, scenario: str) -> _Worker | None:
        candidates = [w for w in self._workers if w.room]
        if not candidates:
            return None
        warm = [w for w in candidates if w.warm[scenario] > 0]
        node_load: collections.Counter = collections.Counter()
        for w in self._workers:
            node_load[w.node_id] += len(w.leases)
        return min(warm or candidates, key=lambda w: (node_load[w.node_id], len(w.leases) / w.max_slots, w.worker_id))

    def _reserve(self, worker: _Worker, scenario: str) -> tuple[_Lease, bool]:
        """Book a slot on `worker`; True with it if a warm slot of the scenario is there to take."""
        lease = _Lease(uuid.uuid4().hex, secrets.token_urlsafe(24), scenario, worker)
        self._leases[lease.lease_id] = lease
        worker.leases.add(lease.lease_id)
        worker.version += 1
        if worker.warm[scenario] > 0:
            worker.warm[scenario] -= 1
            return lease, True
        if worker.size < worker.max_slots:
            worker.size += 1
        else:  # the worker evicts its least recently used idle slot; the next heartbeat says which
            for name, count in worker.warm.most_common():
                if count > 0:
                    worker.warm[name] -= 1
                    break
        return lease, False

    def _forget(self, lease: _Lease) -> None:
        if self._leases.pop(lease.lease_id, None) is None:
            return
        lease.worker.leases.discard(lease.lease_id)
        lease.worker.version += 1
        self._wake()

    async def _wait_for_room(self, deadline: float, timeout: float, front: bool) -> None:
        if len(self._waiters) >= self.farm.max_queue and not front:
            self.timeouts += 1
            raise LeaseTimeout(f"the lease queue is full ({self.farm.max_queue} waiting); retry later")
        fut = asyncio.get_running_loop().create_future()
        (self._waiters.appendleft if front else self._waiters.append)(fut)
        self.metrics.queue_depth.set(len(self._waiters))
        try:
            await asyncio.wait_for(fut, max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            self.timeouts += 1
            slots = sum(w.max_slots for w in self._workers if w.alive)
            raise LeaseTimeout(
                f"no slot became free within {timeout:g} s ({len(self._leases)} leases hold all {slots} slots, "
                f"{len(self._waiters)} requests waiting); release leases sooner, lower concurrency, "
                "or raise farm.slots_per_worker / add nodes"
            ) from None
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)
            self.metrics.queue_depth.set(len(self._waiters))

    def _wake(self, n: int = 1) -> None:
        while n > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                n -= 1

    # ---- workers ----------------------------------------------------------------------------

    async def _ensure_workers(self) -> None:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        per_node: collections.Counter = collections.Counter(w.node_id for w in self._workers)
        for node in nodes:
            node_id = node["NodeID"]
            resources = node.get("Resources", {})
            wanted = self.farm.workers_per_node or max(1, int(resources.get("CPU", 1)))
            memory = resources.get("memory", 4 * 2**30)
            max_slots = slots_per_worker(self.farm, self.hosting.backend, memory, wanted)
            memory_mb = worker_memory_mb(self.farm, memory, wanted)
            for _ in range(wanted - per_node[node_id]):
                self._workers.append(self._create_worker(node_id, max_slots, memory_mb))

    def _create_worker(self, node_id: str, max_slots: int, memory_mb: int | None = None) -> _Worker:
        worker_id = f"w{self._next_worker:03d}"
        self._next_worker += 1
        handle = _worker_class().options(
            num_cpus=self.farm.worker_num_cpus,
            max_restarts=self.farm.worker_max_restarts,
            max_task_retries=0,
            max_concurrency=100_000,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote(worker_id, self.root, self.hosting.model_dump(mode="json"), max_slots, self.farm.lease_ttl_s,
                 min(1.0, self.farm.heartbeat_s), memory_mb)  # fmt: skip
        return _Worker(worker_id, handle, node_id, max_slots)

    async def _first_beat(self, worker: _Worker) -> dict[str, Any]:
        info = await worker.handle.ready.remote()
        worker.node_id, worker.incarnation, worker.alive = info["node_id"], info["incarnation"], True
        worker.call_socket = info.get("call_socket")
        worker.last_seen = time.monotonic()
        self.metrics.workers.set(sum(w.alive for w in self._workers))
        return info

    def _worker_lost(self, worker: _Worker, reason: str) -> None:
        if worker.leases:
            log.warning("worker %s: %d lease(s) lost: %s", worker.worker_id, len(worker.leases), reason)
        for lease_id in list(worker.leases):
            lease = self._leases.pop(lease_id, None)
            if lease is not None:
                self.lost += 1
                self.metrics.leases_lost.inc()
        worker.leases.clear()
        worker.foreign = 0
        worker.releasing.clear()
        worker.alive, worker.size, worker.warm = False, 0, collections.Counter()
        worker.version += 1
        self.metrics.workers.set(sum(w.alive for w in self._workers))

    async def _sweep_forever(self) -> None:
        rounds = 0
        while not self._closed:
            await asyncio.sleep(self.farm.heartbeat_s)
            try:
                workers = list(self._workers)
                # every heartbeat ends before the next round starts, failed ones too: two of one worker
                # in flight at once would let the older snapshot, read last, undo what the newer showed
                outcomes = await asyncio.gather(*(self._beat(w) for w in workers), return_exceptions=True)
                for worker, outcome in zip(workers, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        log.error("heartbeat of worker %s failed", worker.worker_id, exc_info=outcome)
                rounds += 1
                if rounds % 5 == 0:
                    await self._replace_dead_workers()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler sweep failed")

    async def _beat(self, worker: _Worker) -> None:
        sent, version = time.monotonic(), worker.version
        try:
            beat = await asyncio.wait_for(
                worker.handle.heartbeat.remote(worker.faults_seen), max(5.0, 5 * self.farm.heartbeat_s)
            )
        except ray.exceptions.RayError as exc:  # dead, restarting, or its node left
            if worker.alive:
                self._worker_lost(worker, f"it stopped answering ({type(exc).__name__})")
            return
        except TimeoutError:  # slow (a loaded machine) is not dead: its episodes go on meanwhile
            if worker.alive and time.monotonic() - worker.last_seen > self.farm.worker_dead_after_s:
                self._worker_lost(worker, f"it has not answered for {self.farm.worker_dead_after_s:g} s")
            return
        worker.last_seen = time.monotonic()
        worker.faults_seen, newly = self.failures.take_faults(worker.faults_seen, beat)
        self._charged(newly)
        if beat["incarnation"] != worker.incarnation:
            if worker.alive:
                self._worker_lost(worker, "it restarted")
            worker.incarnation, worker.alive = beat["incarnation"], True
            info = await worker.handle.ready.remote()
            worker.node_id, worker.call_socket = info["node_id"], info.get("call_socket")
            self.metrics.workers.set(sum(w.alive for w in self._workers))
            self._wake(worker.max_slots)
        elif not worker.alive:
            worker.alive = True
            self._wake(worker.max_slots)
        held = set(beat["leases"])
        # Held there, unknown here (e.g. after a false death verdict); not the leases released since
        # the snapshot was taken (answered after `sent`, or not yet): they are not foreign, only late.
        in_flight = {lease_id for lease_id, answered in worker.releasing.items() if answered is None or answered >= sent}
        worker.releasing = {lease_id: worker.releasing[lease_id] for lease_id in in_flight}
        worker.foreign = len(held - worker.leases - in_flight)
        for lease_id in list(worker.leases):
            lease = self._leases.get(lease_id)
            if lease and lease.confirmed_at is not None and lease.confirmed_at < sent and lease_id not in held:
                self._forget(lease)  # the worker ended it: expired, or its server died
        worker.stats = beat["stats"]
        if worker.version == version:  # nothing changed while the heartbeat was in flight
            worker.size = beat["size"]
            worker.warm = collections.Counter(
                {name: c["idle"] + c["resetting"] for name, c in beat["inventory"].items() if c["idle"] + c["resetting"]}
            )
        self._wake(worker.free)  # room a heartbeat shows (a foreign lease ended) goes to who waits for it

    async def _replace_dead_workers(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            if not worker.alive and now - worker.last_seen > self.farm.worker_dead_after_s:
                log.warning("worker %s gave no sign for %.0f s: replacing it", worker.worker_id, now - worker.last_seen)
                ray.kill(worker.handle, no_restart=True)
                self._workers.remove(worker)
        before = len(self._workers)
        await self._ensure_workers()
        for worker in self._workers[before:]:
            try:
                await asyncio.wait_for(self._first_beat(worker), 120)
            except (ray.exceptions.RayError, asyncio.TimeoutError) as exc:
                log.warning("new worker %s did not start: %s", worker.worker_id, exc)
        if len(self._workers) > before:
            self._wake(sum(w.max_slots for w in self._workers[before:]))


_WORKER_CLASS: Any = None


def _worker_class() -> Any:
    global _WORKER_CLASS
    if _WORKER_CLASS is None:
        _WORKER_CLASS = ray.remote(FarmWorker)
    return _WORKER_CLASS
