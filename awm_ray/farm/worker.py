"""The worker actor: owns a SlotPool on one node and serves the calls of the leases it holds.

Callers reach a worker directly with the lease's id and secret token (the scheduler only grants
and releases), so calls never queue behind one central actor.

Faults of scenario code (a server that died by its own doing, a worker that its in-process code
stopped: see `hosting.watchdog`) are reported in the heartbeat (`faults`, kept until acknowledged),
so the scheduler can charge the scenario (`farm.max_scenario_failures`). A new incarnation reports
what its predecessor left as evidence (a death note, a fatal-signal dump naming scenario code).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import hmac
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray

from awm_ray.config import HostingConfig, VerificationConfig
from awm_ray.farm.errors import LeaseLost, ScenarioUnavailable, StaleWorker, UnknownTask, WrongToken
from awm_ray.farm.local_calls import CallSocket
from awm_ray.farm.metrics import WorkerMetrics
from awm_ray.hosting import BackendError, CallResult, Slot, make_backend, watchdog
from awm_ray.hosting.pool import SlotPool
from awm_ray.scenario import Scenario, ScenarioError
from awm_ray.verification import VerifierRunner

log = logging.getLogger(__name__)
_ENDED_MEMORY = 10_000
_FARM_DIR = re.compile(r"awm-ray-[0-9a-f]{12}")
STALE_FARM_S = 600.0
UNSEEN_WAIT_S = 5.0  # how long a call waits for a lease whose acquire has not arrived (see _await_binding)
PREFLIGHT_PASSED = "preflight-passed"  # per farm and node: code hashes whose sandboxed trial import passed


def remove_stale_farms(base: Path, keep: Path, stale_after_s: float = STALE_FARM_S) -> list[Path]:
    """Delete the directories of farms on this node whose workers all stopped ticking long ago.

    Workers touch `<farm>/<worker>/.alive` every tick; a farm killed with -9 leaves its live DBs
    behind, and the next farm on the node removes them.
    """
    removed = []
    now = time.time()
    for farm_dir in base.iterdir() if base.is_dir() else []:
        if farm_dir == keep or not farm_dir.is_dir() or not _FARM_DIR.fullmatch(farm_dir.name):
            continue
        stamps = [p.stat().st_mtime for p in farm_dir.glob("*/.alive")] or [farm_dir.stat().st_mtime]
        if now - max(stamps) > stale_after_s:
            shutil.rmtree(farm_dir, ignore_errors=True)
            removed.append(farm_dir)
    return removed


@dataclass(eq=False)
class _Held:
    slot: Slot
    token: str
    last_call: float


class FarmWorker:
    """One worker: up to `max_slots` warm slots, leases by id + token, background resets."""

    def __init__(
        self, worker_id: str, root: str, hosting: dict, max_slots: int, lease_ttl_s: float, tick_s: float,
        memory_limit_mb: int | None = None,
    ):  # fmt: skip
        self.worker_id = worker_id
        self.incarnation = uuid.uuid4().hex
        self.root = Path(root) / worker_id
        self._faults: list[dict[str, Any]] = []  # {"seq", "scenario", "reason"} until the scheduler acknowledges
        self._fault_seq = 0
        for scenario, reason in watchdog.read_evidence(self.root):  # what stopped our predecessor
            self._fault(scenario, f"its code stopped farm worker {worker_id}: {reason}")
        shutil.rmtree(self.root, ignore_errors=True)  # leftovers of a previous incarnation
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".alive").touch()
        for stale in remove_stale_farms(self.root.parent.parent, keep=self.root.parent):
            log.warning("removed %s, left by a farm that stopped without shutting down", stale)
        self.hosting = HostingConfig.model_validate(hosting)
        self.memory_limit_mb = self.hosting.worker_memory_mb or memory_limit_mb
        self._watchdog: watchdog.Watchdog | None = None
        self._fatal_dump = watchdog.enable_fatal_dump(self.root / "fatal.log") if self.hosting.backend == "inprocess" else None
        backend = make_backend(self.hosting, root=self.root / "preflight", cache_dir=self.root.parent / PREFLIGHT_PASSED)
        self.pool = SlotPool(self.hosting, backend, self.root, max_slots)
        self.lease_ttl_s = lease_ttl_s
        self.tick_s = tick_s
        self._leases: dict[str, _Held] = {}
        self._ended: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._scenarios: collections.OrderedDict[str, Scenario] = collections.OrderedDict()
        self._tools: dict[str, list[dict]] = {}
        self._bindings: dict[str, asyncio.Future] = {}
        self._acquiring: set[str] = set()  # leases whose acquire is running here
        # Leases released before their acquire arrived (an async actor does not run one caller's
        # calls in the order sent): lease id -> token, so that acquire binds nothing for them.
        self._released_early: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.bind_timeout_s = 120.0  # a granted lease's binding may wait for a reset or a cold start
        self._loop_task: asyncio.Task | None = None
        self._call_socket = CallSocket(self.root / "calls.sock", self.call, self.verify)
        self._call_socket_path: str | None = None
        self.metrics = WorkerMetrics(worker_id)
        self._exported: dict[str, int] = {}
        self.calls = 0
        self.leases_lost = 0
        self._verifiers: VerifierRunner | None = None  # its sandbox starts with the first verify()

    async def ready(self) -> dict[str, Any]:
        if self._loop_task is None:
            self._loop_task = asyncio.ensure_future(self._tick_forever())
            self._call_socket_path = await self._call_socket.start()
            if self.hosting.backend == "inprocess":
                self._watchdog = watchdog.Watchdog(
                    self.root / "death.json", self.memory_limit_mb, wedge_s=self.hosting.call_timeout_s + 2,
                    on_memory=self._free_memory,
                )
                self._watchdog.start(asyncio.get_running_loop())
                preflight = getattr(self.pool.backend, "preflight", None)
                if preflight is not None:  # its zygote's imports take a second or two: not on a lease's time
                    asyncio.ensure_future(_quietly(preflight.start()))
        return {
            "worker_id": self.worker_id,
            "incarnation": self.incarnation,
            "node_id": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "max_slots": self.pool.max_slots,
            "backend": self.hosting.backend,
            "call_socket": self._call_socket_path,
        }

    # ---- leases ---------------------------------------------------------------------------

    async def acquire(
        self, lease_id: str, token: str, name: str, scenario_box: list, want_tools: bool = True,
        incarnation: str | None = None, granted: bool = False,
    ) -> dict[str, Any]:
        """Bind a clean slot of scenario `name` to the lease (and return its tools if asked).

        The scheduler may grant a warm lease before this finishes (`granted`); calls that arrive
        first wait for the binding (`_bound`), so no call ever reaches a slot that is not the
        lease's. Such a lease's warm slot may have been evicted meanwhile: it then waits for room
        (up to `bind_timeout_s`) rather than fail with `PoolFull` as an ungranted request does.
        """
        if incarnation is not None and incarnation != self.incarnation:  # granted by someone who saw us die
            raise StaleWorker(f"worker {self.worker_id} restarted since lease {lease_id} was granted on it")
        binding = self._binding(lease_id)
        if self._was_released(lease_id, token):  # a call waiting for the binding learns it at once
            self._fail_binding(lease_id, binding, LeaseLost("released before a slot was bound to it"))
            raise LeaseLost(f"lease {lease_id} was released before a slot was bound to it")
        self._acquiring.add(lease_id)
        try:
            if self._loop_task is None:
                await self.ready()
            scenario = await self._scenario(name, scenario_box)
            slot = await self.pool.acquire(scenario, wait_s=self.bind_timeout_s if granted else 0.0)
        except (BackendError, ScenarioError) as exc:
            error: Exception = ScenarioUnavailable(f"scenario {name!r} could not be started: {exc}")
            error.remembered = getattr(exc, "remembered", False)  # a failure this worker reports again
            self._fail_binding(lease_id, binding, error)
            raise error from None
        except BaseException as exc:
            self._fail_binding(lease_id, binding, exc)
            raise
        finally:
            self._acquiring.discard(lease_id)
        if self._was_released(lease_id, token):  # released while the slot was on its way
            self.pool.release(slot)
            self._fail_binding(lease_id, binding, LeaseLost("released before a slot was bound to it"))
            raise LeaseLost(f"lease {lease_id} was released before a slot was bound to it")
        if scenario.tasks and self._verifiers is None:  # start its sandbox now, not on the first verify()
            self._verifier_runner(prestart=True)
        self._leases[lease_id] = _Held(slot, token, time.monotonic())
        self._bindings.pop(lease_id, None)
        if not binding.done():
            binding.set_result(None)
        if name not in self._tools:
            self._tools[name] = slot.tools.definitions() if slot.tools else []
        return {"tools": self._tools[name] if want_tools else None, "tool_source": slot.tool_source}

    async def call(
        self, lease_id: str, token: str, tool: str, arguments: str | dict | None, incarnation: str | None = None
    ) -> CallResult:
        held = await self._bound(lease_id, token, incarnation)
        held.last_call = time.monotonic()
        started = time.perf_counter()
        result = await held.slot.call(tool, arguments)
        self.calls += 1
        self.metrics.call_ms.observe((time.perf_counter() - started) * 1000)
        if result.error == "server_gone":
            self._end(lease_id, f"its scenario server died mid-episode ({result.text})", broken=True)
            raise LeaseLost(f"lease {lease_id}: its scenario server died mid-episode; take a new lease")
        return result

    async def verify(
        self, lease_id: str, token: str, task_index: int, final_answer: str | None = None, mode: str = "code",
        settings: dict | None = None, incarnation: str | None = None,
    ) -> dict[str, Any]:
        """Run the verifier of the lease's scenario's own task `task_index` (in `mode`) on the slot's
        template (initial) and live database (final), both read-only, in this worker's sandbox.

        Returns `Verification.to_dict()`; the verifier's faults are in it, never raised. Raises
        `LeaseLost` like a call, `UnknownTask` for a task the scenario does not have. Renews the lease.
        """  # fmt: skip
        held = await self._bound(lease_id, token, incarnation)
        held.last_call = time.monotonic()
        slot = held.slot
        config = VerificationConfig.model_validate(settings) if settings else None
        try:
            v = await self._verifier_runner().verify_task(
                slot.scenario, task_index, slot.template.path, slot.db_path, final_answer, mode, config
            )
        except (KeyError, ValueError) as exc:
            raise UnknownTask(f"lease {lease_id}: {exc.args[0] if exc.args else exc}") from None
        held.last_call = time.monotonic()
        return v.to_dict()

    def _verifier_runner(self, prestart: bool = False) -> VerifierRunner:
        """This worker's verifier runner; `prestart` starts its sandbox in the background."""
        if self._verifiers is None:
            self._verifiers = VerifierRunner(VerificationConfig())
            if prestart:
                asyncio.ensure_future(self._start_verifiers(self._verifiers))
        return self._verifiers

    @staticmethod
    async def _start_verifiers(runner: VerifierRunner) -> None:
        try:
            await runner.start()
        except Exception as exc:  # noqa: BLE001 - verify() starts it again and reports the failure per row
            log.warning("could not start the verifier sandbox ahead of time: %s", exc)

    async def renew(self, lease_id: str, token: str, incarnation: str | None = None) -> None:
        (await self._bound(lease_id, token, incarnation)).last_call = time.monotonic()

    async def renew_leases(self, leases: list[tuple[str, str]], incarnation: str | None = None) -> list[str]:
        """Renew many leases at once (a holder's keepalive round): `[(lease_id, token), ...]`.
        Returns the ids this worker does not hold under that token (ended, or never here); a
        lease whose binding is still on its way counts as held."""
        if incarnation is not None and incarnation != self.incarnation:
            return [lease_id for lease_id, _ in leases]
        now = time.monotonic()
        lost = []
        for lease_id, token in leases:
            held = self._leases.get(lease_id)
            if held is not None and hmac.compare_digest(held.token, token):
                held.last_call = now
            elif held is not None or lease_id not in self._bindings:
                lost.append(lease_id)
        return lost

    async def release(self, lease_id: str, token: str) -> bool:
        """End a lease; True if this worker held it under `token`. A lease whose acquire has not
        bound a slot yet (still running, or not arrived) is noted, so that its acquire binds nothing."""
        held = self._leases.get(lease_id)
        if held is None and lease_id not in self._ended:
            self._released_early[lease_id] = token
            while len(self._released_early) > _ENDED_MEMORY:
                self._released_early.popitem(last=False)
            binding = self._bindings.get(lease_id)
            if binding is not None and lease_id in self._acquiring:  # its acquire runs: wait, so the answer is exact
                try:
                    await asyncio.wait_for(asyncio.shield(binding), self.bind_timeout_s)
                except Exception:
                    pass
            held = self._leases.get(lease_id)
        if held is None or not hmac.compare_digest(held.token, token):
            return False
        self._end(lease_id, "released")
        return True

    def _was_released(self, lease_id: str, token: str) -> bool:
        early = self._released_early.get(lease_id)
        if early is None or not hmac.compare_digest(early, token):
            return False
        del self._released_early[lease_id]
        return True

    async def prewarm(self, name: str, scenario_box: list) -> bool:
        await self.ready()
        try:
            return await self.pool.prewarm(await self._scenario(name, scenario_box))
        except (BackendError, ScenarioError) as exc:
            error = ScenarioUnavailable(f"scenario {name!r} could not be started: {exc}")
            error.remembered = getattr(exc, "remembered", False)
            raise error from None

    # ---- what the scheduler polls ---------------------------------------------------------

    async def heartbeat(self, ack: tuple[str, int] | None = None) -> dict[str, Any]:
        """Counters, leases and inventory; `faults` not yet acknowledged (`ack`: (incarnation, last seq seen))."""
        for scenario, reason in self.pool.faults:
            self._fault(scenario, reason)
        self.pool.faults.clear()
        if ack is not None and ack[0] == self.incarnation:
            self._faults = [f for f in self._faults if f["seq"] > ack[1]]
        stats = self.pool.stats.to_dict()
        stats.pop("reset_ms_recent")
        return {
            "faults": list(self._faults),
            "incarnation": self.incarnation,
            "leases": list(self._leases),
            "inventory": self.pool.inventory(),
            "size": self.pool.size,
            "leased": self.pool.leased,
            "stats": {**stats, "calls": self.calls, "leases_lost": self.leases_lost},
        }

    async def stats(self) -> dict[str, Any]:
        beat = await self.heartbeat()
        beat["reset_ms_recent"] = list(self.pool.stats.reset_ms)
        beat["server_pids"] = self.pool.server_pids()
        beat["pid"] = os.getpid()
        return beat

    async def shutdown(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
        if self._watchdog is not None:
            self._watchdog.stop()
        await self._call_socket.close()
        if self._verifiers is not None:
            await self._verifiers.close()
        await self.pool.close()
        shutil.rmtree(self.root, ignore_errors=True)
        farm_dir = self.root.parent  # the farm's directory on this node, once its last worker is gone
        try:
            if not [p for p in farm_dir.iterdir() if p.name != PREFLIGHT_PASSED]:
                shutil.rmtree(farm_dir, ignore_errors=True)
        except OSError:
            pass

    # ---- internals ------------------------------------------------------------------------

    async def _bound(self, lease_id: str, token: str, incarnation: str | None) -> _Held:
        """The lease's slot, waiting (briefly) for a binding that is still on its way."""
        if incarnation is not None and incarnation != self.incarnation:
            raise LeaseLost(f"lease {lease_id} is no longer valid: its worker {self.worker_id} restarted")
        if lease_id not in self._leases and lease_id not in self._ended:
            await self._await_binding(lease_id)
        held = self._leases.get(lease_id)
        if held is None:
            reason = self._ended.get(lease_id, "this worker does not hold it")
            raise LeaseLost(f"lease {lease_id} is no longer valid: {reason}")
        if not hmac.compare_digest(held.token, token):
            raise WrongToken(f"lease {lease_id}: wrong token")
        return held

    async def _await_binding(self, lease_id: str) -> None:
        """Wait for a warm grant's binding: up to `bind_timeout_s` once its acquire has arrived (it may
        wait for a reset or a cold start), but only `UNSEEN_WAIT_S` for a lease no acquire ever named
        (a forged or stale id must not hold a caller, or a future here, for two minutes)."""
        started = time.monotonic()
        future = self._binding(lease_id)
        while not future.done():
            waited = time.monotonic() - started
            limit = self.bind_timeout_s if lease_id in self._acquiring else min(UNSEEN_WAIT_S, self.bind_timeout_s)
            if waited >= limit:
                if self._bindings.get(lease_id) is future:
                    self._bindings.pop(lease_id)
                log.warning("lease %s: a call waited %.1f s for its binding (%s); it is answered as lost", lease_id,
                            waited, "its acquire is still running" if lease_id in self._acquiring else "no acquire named it")  # fmt: skip
                return
            try:
                await asyncio.wait_for(asyncio.shield(future), min(limit - waited, 1.0))
            except TimeoutError:
                continue
            except Exception:
                return  # the binding failed: its reason is in _ended

    def _binding(self, lease_id: str) -> asyncio.Future:
        future = self._bindings.get(lease_id)
        if future is None:
            future = self._bindings[lease_id] = asyncio.get_running_loop().create_future()
        return future

    def _fail_binding(self, lease_id: str, binding: asyncio.Future, exc: BaseException) -> None:
        self._bindings.pop(lease_id, None)
        self._remember_end(lease_id, f"no slot could be bound to it ({type(exc).__name__}: {exc})")
        if not binding.done():
            binding.set_exception(LeaseLost(str(exc)))
            binding.exception()  # retrieved here, so an unawaited failure is not logged as lost

    def _free_memory(self, names: list[str], reason: str) -> None:
        """The watchdog's first answer to memory over the limit: close the culprits' slots (their
        modules, and what their globals hold, are freed), end their leases, charge them a failure."""
        drops: list[asyncio.Task] = []
        for name in names:
            self._fault(name, f"{reason}; its slots on worker {self.worker_id} were closed")
            for lease_id, held in list(self._leases.items()):
                if held.slot.scenario.name == name:
                    self._end(lease_id, f"its scenario's slots were closed: {reason}", broken=True)
            drops += self.pool.drop_scenario(name)
        asyncio.ensure_future(_collect_after(drops))

    def _fault(self, scenario: str, reason: str) -> None:
        self._fault_seq += 1
        self._faults.append({"seq": self._fault_seq, "scenario": scenario, "reason": reason})
        del self._faults[:-1000]
        log.warning("scenario %s: %s", scenario, reason)

    def _remember_end(self, lease_id: str, reason: str) -> None:
        self._ended[lease_id] = reason
        while len(self._ended) > _ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _end(self, lease_id: str, reason: str, broken: bool = False) -> None:
        held = self._leases.pop(lease_id, None)
        if held is None:
            return
        self._remember_end(lease_id, reason)
        if reason != "released":
            self.leases_lost += 1
            self.metrics.leases_lost.inc()
        self.pool.release(held.slot, broken=broken)

    async def _scenario(self, name: str, box: list) -> Scenario:
        scenario = self._scenarios.get(name)
        if scenario is None:
            scenario = await box[0] if isinstance(box[0], ray.ObjectRef) else box[0]
            self._scenarios[name] = scenario
        self._scenarios.move_to_end(name)
        while len(self._scenarios) > max(64, 2 * self.pool.max_slots):
            self._scenarios.popitem(last=False)
        return scenario

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                now = time.monotonic()
                for lease_id, held in list(self._leases.items()):
                    if now - held.last_call > self.lease_ttl_s:
                        self._end(lease_id, f"expired after {self.lease_ttl_s:g} s without a call or renewal")
                await self.pool.check()
                self._export_metrics()
                self._check_health()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker %s: periodic check failed", self.worker_id)

    def _export_metrics(self) -> None:
        stats, seen = self.pool.stats, self._exported
        new_resets = stats.resets_verified - seen.get("resets_verified", 0)
        for ms in list(stats.reset_ms)[len(stats.reset_ms) - min(new_resets, len(stats.reset_ms)):]:
            self.metrics.reset_ms.observe(ms)
        for name, counter in (("resets", self.metrics.resets), ("quarantined", self.metrics.quarantined),
                              ("slot_restarts", self.metrics.slot_restarts)):  # fmt: skip
            delta = getattr(stats, name) - seen.get(name, 0)
            if delta > 0:
                counter.inc(delta)
        self._exported = {k: getattr(stats, k) for k in ("resets", "resets_verified", "quarantined", "slot_restarts")}
        self.metrics.slots.set(self.pool.size)

    def _check_health(self) -> None:
        """A worker that cannot write its own directory cannot host anything: exit so Ray restarts it."""
        probe = self.root / ".alive"
        try:
            probe.write_text(str(time.time()))
        except OSError as exc:
            log.error("worker %s cannot write %s (%s): exiting for a restart", self.worker_id, self.root, exc)
            os._exit(1)


async def _collect_after(tasks: list[asyncio.Task]) -> None:
    """Once closed slots are gone, free their modules' reference cycles (what a hog held)."""
    await asyncio.sleep(0.5)  # the release of an ended lease closes its slot in the background
    await asyncio.gather(*tasks, return_exceptions=True)
    gc.collect()


async def _quietly(coro: Any) -> None:
    try:
        await coro
    except Exception as exc:  # noqa: BLE001 - the first preflight that needs it tries again and reports
        log.warning("the preflight sandbox did not start: %s", exc)
