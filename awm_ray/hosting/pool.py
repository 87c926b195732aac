"""A bounded, warm, LRU set of Slots: what one farm worker owns (no Ray here).

`acquire(scenario)` hands out a clean slot of that scenario: an idle warm one if there is one,
one whose reset is finishing, or a new one (evicting the least recently used idle slot when full).
`release(slot)` resets it in the background and verifies it before it is offered again; a slot
that fails verification is quarantined (closed and counted). Dead servers are replaced, and so are
slots with an abandoned (timed-out) call, whose handler may still be writing to the live DB.

A scenario whose start failed is remembered for `hosting.failed_start_ttl_s`: its next leases fail
at once with the same reason, instead of each importing (or hanging on) the same broken code again.

A scenario whose app keeps state in memory across resets (its val_report's `app_state`, found by
`awm-ray validate`; or every scenario with `hosting.fresh_app: always`) never reuses an app: a
released slot of it is closed, and a fresh one is started in its place at once, in the background
(counted as resetting, so the next lease of the scenario waits for it as for a reset, not for a
start of its own). Other scenarios keep their warm apps.

A slot whose server died by its own doing (an exit, a crash signal, its CPU limit; not SIGKILL from
outside) is listed in `faults` for the farm worker to report (see `farm.max_scenario_failures`).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awm_ray.app_state import wants_fresh_app
from awm_ray.config import HostingConfig
from awm_ray.hosting.backend import Backend, BackendError
from awm_ray.hosting.slot import Slot, SlotUnusable
from awm_ray.hosting.templates import TemplateStore
from awm_ray.scenario import Scenario, ScenarioError

log = logging.getLogger(__name__)


class PoolFull(RuntimeError):
    """Every slot is leased or starting; nothing can be evicted."""


@dataclass
class PoolStats:
    slot_starts: int = 0
    slot_start_failures: int = 0
    slot_restarts: int = 0
    evictions: int = 0
    resets: int = 0
    resets_verified: int = 0
    quarantined: int = 0
    calls_abandoned: int = 0  # timed-out calls; their slots were closed, not reset
    starts_refused: int = 0  # leases refused at once: the scenario's start failed within failed_start_ttl_s
    db_statements_failed: int = 0  # schema/insert statements that failed while building template DBs
    fresh_apps: int = 0  # slots started in place of a released one whose app keeps state in memory
    reset_ms: collections.deque = field(default_factory=lambda: collections.deque(maxlen=2048))
    probe: Callable[[], dict[str, int]] | None = field(default=None, repr=False)  # the backend's own counters

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("reset_ms", "probe")}
        out.update(self.probe() if self.probe is not None else {})
        out["reset_ms_recent"] = list(self.reset_ms)
        return out


@dataclass(eq=False)
class _Entry:
    slot: Slot
    state: str  # "idle" | "leased" | "resetting"
    last_used: float
    reset: asyncio.Task | None = None
    doomed: bool = False  # dropped instead of offered again once its reset ends (see drop_scenario)


class SlotPool:
    """Slots of many scenarios in one process, at most `max_slots` at once."""

    def __init__(self, hosting: HostingConfig, backend: Backend, root: Path, max_slots: int):
        if max_slots < 1:
            raise ValueError("max_slots must be at least 1")
        self.hosting = hosting
        self.backend = backend
        self.root = Path(root)
        self.max_slots = max_slots
        self.templates = TemplateStore(self.root / "templates", backend, hosting.start_timeout_s)
        self.stats = PoolStats(probe=backend.containment_stats)
        self._failed: dict[tuple[str, str, str], tuple[float, Callable[[str], Exception], str]] = {}  # until expiry
        self._entries: dict[Slot, _Entry] = {}
        self._starting = 0
        self._counter = 0
        self._background: set[asyncio.Task] = set()
        self._room: asyncio.Event | None = None  # set when a slot turns idle or goes (see _wait_for_room)
        self._closed = False
        self.faults: list[tuple[str, str]] = []  # (scenario, what its code did to its server), for the worker to take

    # ---- what the worker asks -------------------------------------------------------------

    async def acquire(self, scenario: Scenario, wait_s: float = 0.0) -> Slot:
        """A clean slot of `scenario`, leased to the caller until `release()`.

        When every slot is leased, `PoolFull` at once, or after waiting up to `wait_s` for one to be
        released (a lease the scheduler already granted must not fail just because it raced).
        """
        deadline = time.monotonic() + wait_s
        while True:
            if self._closed:  # nothing starts in a closed pool (its directory may be gone already)
                raise PoolFull("the pool is closed")
            entry = self._pick_idle(scenario.name)
            if entry is None:
                entry = self._pick_resetting(scenario.name)
                if entry is not None:
                    await asyncio.shield(entry.reset)  # type: ignore[arg-type]
                    continue  # it is idle (clean) or gone now: look again
                try:
                    return await self._start_new(scenario)
                except PoolFull:
                    if self._closed or not await self._wait_for_room(deadline):
                        raise
                    continue
            if entry.slot.alive:
                entry.state, entry.last_used = "leased", time.monotonic()
                return entry.slot
            self.stats.slot_restarts += 1
            await self._drop(entry)

    def release(self, slot: Slot, broken: bool = False) -> None:
        """Give a slot back: it is reset and verified in the background (or dropped if broken)."""
        entry = self._entries.get(slot)
        if entry is None or entry.state != "leased":
            return
        if slot.abandoned_calls:
            self.stats.calls_abandoned += slot.abandoned_calls
            log.info("closing a slot of %s: %d call(s) on it timed out", slot.scenario.name, slot.abandoned_calls)
            self._spawn(self._drop(entry))
            return
        if broken or not slot.alive or entry.doomed:
            self.stats.slot_restarts += 1
            self._spawn(self._drop(entry))
            return
        if wants_fresh_app(self.hosting.fresh_app, slot.scenario.val_report):
            self._renew(entry)
            return
        entry.state = "resetting"
        entry.reset = self._spawn(self._reset(entry))

    async def prewarm(self, scenario: Scenario) -> bool:
        """Start one idle slot of `scenario` if there is room; True if one was added."""
        if self._closed or len(self._entries) + self._starting >= self.max_slots:
            return False
        slot = await self._start_new(scenario)
        self._entries[slot].state = "idle"
        return True

    async def check(self) -> None:
        """Replace idle slots whose server died (called periodically by the worker)."""
        for entry in list(self._entries.values()) if not self._closed else []:
            if entry.state == "idle" and not entry.slot.alive:
                self.stats.slot_restarts += 1
                scenario = entry.slot.scenario
                await self._drop(entry)
                try:
                    await self.prewarm(scenario)
                except Exception as exc:  # the scenario itself no longer starts: leave it cold
                    log.warning("could not restart a slot of %s: %s", scenario.name, exc)

    def drop_scenario(self, name: str) -> list[asyncio.Task]:
        """Close every idle slot of scenario `name` now, and each one resetting once its reset ends
        (leased ones are their holders' until released); the tasks that close them."""
        tasks = []
        for entry in list(self._entries.values()):
            if entry.slot.scenario.name != name:
                continue
            entry.doomed = True
            if entry.state == "idle":
                tasks.append(self._spawn(self._drop(entry)))
        return tasks

    def inventory(self) -> dict[str, dict[str, int]]:
        """Slots by scenario and state."""
        out: dict[str, dict[str, int]] = {}
        for entry in self._entries.values():
            counts = out.setdefault(entry.slot.scenario.name, {"idle": 0, "leased": 0, "resetting": 0})
            counts[entry.state] += 1
        return out

    @property
    def size(self) -> int:
        return len(self._entries) + self._starting

    @property
    def leased(self) -> int:
        return sum(1 for e in self._entries.values() if e.state == "leased")

    def server_pids(self) -> list[int]:
        return [e.slot.app.pid for e in self._entries.values() if e.slot.app is not None and e.slot.app.pid]

    async def close(self) -> None:
        self._closed = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        entries, self._entries = list(self._entries.values()), {}
        await asyncio.gather(*(e.slot.close() for e in entries), return_exceptions=True)
        self.backend.close()

    # ---- internals -------------------------------------------------------------------------

    def _pick_idle(self, name: str) -> _Entry | None:
        idle = [e for e in self._entries.values() if e.state == "idle" and e.slot.scenario.name == name]
        return max(idle, key=lambda e: e.last_used) if idle else None

    def _pick_resetting(self, name: str) -> _Entry | None:
        return next(
            (e for e in self._entries.values() if e.state == "resetting" and e.slot.scenario.name == name), None
        )

    def _refuse_if_failed(self, scenario: Scenario) -> None:
        key = (scenario.name, scenario.code_hash, scenario.data_hash)
        failed = self._failed.get(key)
        if failed is None:
            return
        until, make, text = failed
        left = until - time.monotonic()
        if left <= 0:
            del self._failed[key]
            return
        self.stats.starts_refused += 1
        ago = self.hosting.failed_start_ttl_s - left
        refusal = make(f"{text} [this start failed {ago:.0f} s ago; not retried for {left:.0f} s]")
        refusal.remembered = True  # the same failure again, not a new one (the scheduler counts new ones)
        raise refusal

    def _remember_failure(self, scenario: Scenario, exc: BaseException) -> None:
        """Keep the failure's type and text (not the exception: its traceback holds the failed slot)."""
        if self.hosting.failed_start_ttl_s <= 0 or not isinstance(exc, (BackendError, ScenarioError)):
            return
        if isinstance(exc, ScenarioError):
            make, text = functools.partial(ScenarioError, exc.scenario, exc.field), exc.message
        else:
            make, text = type(exc), str(exc)
        now = time.monotonic()
        self._failed = {k: v for k, v in self._failed.items() if v[0] > now}
        self._failed[(scenario.name, scenario.code_hash, scenario.data_hash)] = (
            now + self.hosting.failed_start_ttl_s, make, text,
        )  # fmt: skip

    async def _start_new(self, scenario: Scenario) -> Slot:
        self._refuse_if_failed(scenario)
        while self.size >= self.max_slots:
            idle = [e for e in self._entries.values() if e.state == "idle"]
            if idle:
                break
            resetting = [e.reset for e in self._entries.values() if e.state == "resetting" and e.reset]
            if not resetting:
                raise PoolFull(f"all {self.max_slots} slots are leased or starting")
            await asyncio.wait([asyncio.shield(t) for t in resetting], return_when=asyncio.FIRST_COMPLETED)
        victim = min(idle, key=lambda e: e.last_used) if self.size >= self.max_slots else None
        if victim is not None:
            self.stats.evictions += 1
            self._entries.pop(victim.slot, None)
        self._starting += 1  # the room is ours from here, before any await
        try:
            if victim is not None:
                await self._drop(victim)
            template = await self.templates.get(scenario)
            self.stats.db_statements_failed = self.templates.statements_failed
            slot = self._new_slot(scenario, template)
            await slot.start()
        except BaseException as exc:
            self.stats.slot_start_failures += 1
            self._remember_failure(scenario, exc)
            self._room_changed()  # its place is free again
            raise
        finally:
            self._starting -= 1
        self.stats.slot_starts += 1
        if self._closed:
            await slot.close()
            raise PoolFull("the pool is closing")
        self._entries[slot] = _Entry(slot, "leased", time.monotonic())
        return slot

    def _renew(self, used: _Entry) -> None:
        """Put a slot with a fresh app in the place of `used` (closed): it counts as resetting until
        its app has started, so the next lease of the scenario waits for it, as for a reset."""
        self._entries.pop(used.slot, None)
        fresh = _Entry(self._new_slot(used.slot.scenario, used.slot.template), "resetting", time.monotonic())
        self._entries[fresh.slot] = fresh
        fresh.reset = self._spawn(self._start_fresh(fresh, used.slot))

    async def _start_fresh(self, entry: _Entry, used: Slot) -> None:
        try:
            await used.close()
        except Exception as exc:  # noqa: BLE001 - the used app is gone either way
            log.warning("closing a used slot of %s failed: %s", used.scenario.name, exc)
        try:
            await entry.slot.start()
        except Exception as exc:  # noqa: BLE001 - the next lease starts one itself (and says why it cannot)
            self.stats.slot_start_failures += 1
            self._remember_failure(entry.slot.scenario, exc)
            log.warning("could not start a fresh app of %s: %s", entry.slot.scenario.name, exc)
            await self._drop(entry)
            return
        self.stats.slot_starts += 1
        self.stats.fresh_apps += 1
        if self._entries.get(entry.slot) is entry:
            entry.state, entry.reset = "idle", None
            self._room_changed()

    def _new_slot(self, scenario: Scenario, template: Any) -> Slot:
        self._counter += 1
        return Slot(
            scenario, self.backend, template, self.root / "slots" / f"{self._counter:06d}",
            self.hosting.call_timeout_s, self.hosting.max_response_chars, self.hosting.max_argument_bytes,
        )  # fmt: skip

    async def _reset(self, entry: _Entry) -> None:
        self.stats.resets += 1
        try:
            took = await entry.slot.reset()
        except SlotUnusable as exc:
            self.stats.quarantined += 1
            log.warning("quarantining a slot of %s: %s", entry.slot.scenario.name, exc)
            await self._drop(entry)
            return
        self.stats.resets_verified += 1
        self.stats.reset_ms.append(took)
        if entry.slot.alive and not entry.doomed:
            entry.state, entry.reset = "idle", None
            self._room_changed()
        else:
            self.stats.slot_restarts += 1
            await self._drop(entry)

    async def _wait_for_room(self, deadline: float) -> bool:
        """Wait until a slot turns idle or goes; False if `deadline` passed first."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if self._room is None:
            self._room = asyncio.Event()
        try:
            await asyncio.wait_for(self._room.wait(), left)
        except TimeoutError:
            return False
        return True

    def _room_changed(self) -> None:
        if self._room is not None:
            self._room.set()
            self._room = None

    async def _drop(self, entry: _Entry) -> None:
        self._entries.pop(entry.slot, None)
        self._room_changed()
        death = entry.slot.app.death() if entry.slot.app is not None else None
        if death is not None and death[0]:
            self.faults.append((entry.slot.scenario.name, death[1]))
            del self.faults[:-1000]
        try:
            await entry.slot.close()
        except Exception as exc:
            log.warning("closing a slot of %s failed: %s", entry.slot.scenario.name, exc)

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task
