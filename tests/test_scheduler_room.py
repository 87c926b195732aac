"""The scheduler's view of a worker's room, against an in-process stand-in for the worker actor.

A heartbeat is a snapshot taken on the worker when it runs, read by the scheduler when it comes
back: leases the scheduler released meanwhile are still in it. Counting those as the worker's own
("foreign") leases made a queued request wait for room that was already there, until its timeout
(the CI failures "1 leases hold all 2 slots, 1 requests waiting" after every lease was released).
No Ray here: the scheduler's bookkeeping is driven call by call, deterministically.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from awm_ray.farm.errors import LeaseTimeout
from awm_ray.farm.scheduler import FarmScheduler, _Worker


class _Method:
    """`handle.method.remote(...)`, answered by an in-process coroutine."""

    def __init__(self, fn):
        self.fn = fn

    def remote(self, *args: Any, **kwargs: Any) -> asyncio.Future:
        return asyncio.ensure_future(self.fn(*args, **kwargs))


class StandInWorker:
    """What the scheduler asks of a worker actor: bind and release slots, answer heartbeats.
    `hold_beats`: heartbeats take their snapshot at once and answer when it is set."""

    incarnation = "incarnation-1"

    def __init__(self, max_slots: int):
        self.max_slots = max_slots
        self.held: dict[str, str] = {}
        self.hold_beats: asyncio.Event | None = None
        self.beats_in_flight = self.most_beats_in_flight = 0
        for name in ("acquire", "release", "heartbeat"):
            setattr(self, name, _Method(getattr(self, f"_{name}")))

    async def _acquire(self, lease_id, token, name, box, want_tools=True, incarnation=None, granted=False):
        assert len(self.held) < self.max_slots, "the scheduler over-placed"
        self.held[lease_id] = token
        return {"tools": [] if want_tools else None, "tool_source": "stand-in"}

    async def _release(self, lease_id, token):
        return self.held.pop(lease_id, None) is not None

    async def _heartbeat(self, ack=None):
        snapshot = list(self.held)  # taken when the worker runs it ...
        self.beats_in_flight += 1
        self.most_beats_in_flight = max(self.most_beats_in_flight, self.beats_in_flight)
        try:
            if self.hold_beats is not None:
                await self.hold_beats.wait()  # ... read by the scheduler when it comes back
        finally:
            self.beats_in_flight -= 1
        return {"faults": [], "incarnation": self.incarnation, "leases": snapshot, "inventory": {},
                "size": len(self.held), "leased": len(self.held), "stats": {}}  # fmt: skip


def scheduler_with(stand_in: StandInWorker) -> tuple[FarmScheduler, _Worker]:
    scheduler = FarmScheduler({"heartbeat_s": 3600, "lease_timeout_s": 30}, {"backend": "inprocess"})
    worker = _Worker("w000", stand_in, "node-1", stand_in.max_slots, incarnation=stand_in.incarnation, alive=True)
    scheduler._workers.append(worker)
    scheduler._catalog["tiny_1"] = object()  # the scenario's object ref; the stand-in never reads it
    return scheduler, worker


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_a_heartbeat_sent_before_releases_does_not_count_the_released_leases_as_held():
    async def main():
        stand_in = StandInWorker(max_slots=2)
        scheduler, worker = scheduler_with(stand_in)
        first = [await scheduler.lease("tiny_1", 5) for _ in range(2)]  # every slot
        stand_in.hold_beats = asyncio.Event()
        beat = asyncio.ensure_future(scheduler._beat(worker))  # in flight: its snapshot holds both
        await settle()
        for grant in first:
            assert await scheduler.release(grant["lease_id"], grant["token"])
        await settle()
        assert stand_in.held == {}  # the worker has them back
        stand_in.hold_beats.set()
        await beat
        assert worker.foreign == 0, "leases this scheduler released were counted as someone else's"
        again = [await scheduler.lease("tiny_1", 2) for _ in range(2)]
        await settle()  # warm grants bind in the background
        assert sorted(stand_in.held) == sorted(g["lease_id"] for g in again)

    asyncio.run(main())


def test_a_queued_request_is_woken_when_a_heartbeat_shows_room():
    """Room that appears in a heartbeat (a foreign lease the worker ended) wakes who waits for it."""

    async def main():
        stand_in = StandInWorker(max_slots=2)
        scheduler, worker = scheduler_with(stand_in)
        stand_in.held["left-by-a-false-death-verdict"] = "token"  # held there, unknown here
        await scheduler._beat(worker)
        assert worker.foreign == 1
        mine = await scheduler.lease("tiny_1", 5)
        waiting = asyncio.ensure_future(scheduler.lease("tiny_1", 5))
        await settle()
        assert not waiting.done() and len(scheduler._waiters) == 1
        del stand_in.held["left-by-a-false-death-verdict"]  # it expired on the worker
        await scheduler._beat(worker)
        grant = await asyncio.wait_for(waiting, 2)
        assert set(stand_in.held) == {mine["lease_id"], grant["lease_id"]}

    asyncio.run(main())


def test_a_full_worker_still_makes_requests_wait_and_time_out():
    async def main():
        stand_in = StandInWorker(max_slots=1)
        scheduler, worker = scheduler_with(stand_in)
        await scheduler.lease("tiny_1", 5)
        await scheduler._beat(worker)
        with pytest.raises(LeaseTimeout, match="1 leases hold all 1 slots"):
            await scheduler.lease("tiny_1", 0.3)

    asyncio.run(main())


def test_a_failed_heartbeat_does_not_start_the_next_round_while_others_are_in_flight():
    """Two heartbeats of one worker in flight at once: the older snapshot, read last, would undo the
    newer one (a lease released between them counted as foreign again)."""

    async def main():
        slow, broken = StandInWorker(max_slots=2), StandInWorker(max_slots=2)
        scheduler, _ = scheduler_with(slow)
        scheduler.farm.heartbeat_s = 0.01

        async def malformed(ack=None):
            return {"faults": []}  # no incarnation, leases, ...: _beat raises KeyError

        broken.heartbeat = _Method(malformed)
        scheduler._workers.append(_Worker("w001", broken, "node-1", 2, incarnation=broken.incarnation, alive=True))
        slow.hold_beats = asyncio.Event()
        sweep = asyncio.ensure_future(scheduler._sweep_forever())
        await asyncio.sleep(0.3)  # ~30 rounds, were each to start without waiting
        slow.hold_beats.set()
        await asyncio.sleep(0.05)
        sweep.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sweep
        assert slow.most_beats_in_flight == 1

    asyncio.run(main())
