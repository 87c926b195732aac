"""SlotPool: warm reuse, background verified resets, LRU eviction, dead servers, quarantine."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import shutil
from dataclasses import replace

import pytest

from apps import tiny
from awm_ray.config import HostingConfig
from awm_ray.hosting import InProcessBackend, SubprocessBackend
from awm_ray.hosting.pool import PoolFull, SlotPool
from awm_ray.scenario import content_checksum


def pool(tmp_path, max_slots=4, backend="inprocess"):
    b = InProcessBackend() if backend == "inprocess" else SubprocessBackend()
    return SlotPool(HostingConfig(backend=backend, call_timeout_s=5), b, tmp_path / "pool", max_slots)


def run(coro):
    return asyncio.run(coro)


def test_released_slots_are_reset_verified_and_reused_warm(tmp_path):
    async def main():
        p = pool(tmp_path)
        try:
            slot = await p.acquire(tiny())
            await slot.call("create_note", '{"title": "scratch"}')
            p.release(slot)
            assert p.inventory() == {"tiny_1": {"idle": 0, "leased": 0, "resetting": 1}}
            again = await p.acquire(tiny())  # waits for the reset, then reuses the warm slot
            assert again is slot
            assert content_checksum(slot.db_path) == slot.template.checksum
            assert "scratch" not in (await again.call("list_notes", "{}")).text
            p.release(again)
            await asyncio.sleep(0.2)
            assert p.inventory() == {"tiny_1": {"idle": 1, "leased": 0, "resetting": 0}}
            assert (p.stats.slot_starts, p.stats.resets, p.stats.resets_verified) == (1, 2, 2)
        finally:
            await p.close()

    run(main())


def test_full_pool_evicts_the_least_recently_used_idle_slot(tmp_path):
    async def main():
        p = pool(tmp_path, max_slots=2)
        try:
            a = await p.acquire(tiny("a"))
            b = await p.acquire(tiny("b"))
            with pytest.raises(PoolFull):
                await p.acquire(tiny("c"))
            p.release(a)
            await asyncio.sleep(0.1)
            c = await p.acquire(tiny("c"))
            assert p.stats.evictions == 1 and set(p.inventory()) == {"b", "c"}
            assert not a.workdir.exists()
            p.release(b)
            p.release(c)
        finally:
            await p.close()

    run(main())


def test_a_full_pool_can_be_waited_on_until_a_slot_is_released(tmp_path):
    """A lease the scheduler granted already waits for room instead of failing with PoolFull."""

    async def main():
        p = pool(tmp_path, max_slots=1)
        try:
            a = await p.acquire(tiny("a"))
            with pytest.raises(PoolFull):
                await p.acquire(tiny("b"), wait_s=0.3)  # nobody releases: it gives up after the wait
            waiter = asyncio.ensure_future(p.acquire(tiny("b"), wait_s=10))
            await asyncio.sleep(0.3)
            assert not waiter.done()
            p.release(a)
            b = await asyncio.wait_for(waiter, 10)
            assert b.scenario.name == "b" and p.stats.evictions == 1
            p.release(b)
        finally:
            await p.close()

    run(main())


def test_concurrent_leases_of_one_scenario_never_share_a_slot(tmp_path):
    async def main():
        p = pool(tmp_path, max_slots=16)
        try:
            slots = await asyncio.gather(*(p.acquire(tiny()) for _ in range(16)))
            assert len({id(s) for s in slots}) == 16

            async def episode(i, slot):
                await slot.call("create_note", json.dumps({"title": f"episode {i}"}))
                listed = (await slot.call("list_notes", "{}")).text
                return [n for n in range(16) if f'"episode {n}"' in listed]

            seen = await asyncio.gather(*(episode(i, s) for i, s in enumerate(slots)))
            assert seen == [[i] for i in range(16)]
            for s in slots:
                p.release(s)
            await asyncio.sleep(0.3)
            assert all(content_checksum(s.db_path) == s.template.checksum for s in slots)
            assert p.inventory()["tiny_1"]["idle"] == 16
        finally:
            await p.close()

    run(main())


def test_dead_servers_are_replaced(tmp_path):
    async def main():
        p = pool(tmp_path, max_slots=2, backend="subprocess")
        try:
            slot = await p.acquire(tiny())
            p.release(slot)
            await asyncio.sleep(0.2)
            os.kill(slot.app.pid, signal.SIGKILL)
            slot.app.proc.wait(5)
            await p.check()  # idle and dead: replaced by a fresh warm slot
            assert p.stats.slot_restarts == 1 and p.inventory()["tiny_1"]["idle"] == 1
            fresh = await p.acquire(tiny())
            assert fresh is not slot and fresh.alive
            assert (await fresh.call("get_note", '{"note_id": 1}')).status == 200
            os.kill(fresh.app.pid, signal.SIGKILL)  # dies while leased: released as broken
            fresh.app.proc.wait(5)
            p.release(fresh)
            await asyncio.sleep(0.2)
            assert p.inventory() == {} and p.stats.slot_restarts == 2
        finally:
            await p.close()

    run(main())


def test_a_slot_that_fails_verification_is_quarantined(tmp_path):
    async def main():
        p = pool(tmp_path)
        try:
            slot = await p.acquire(tiny())
            slot.template = replace(slot.template, checksum="bad")
            p.release(slot)
            await asyncio.sleep(0.2)
            assert p.stats.quarantined == 1 and p.inventory() == {}
            assert (await p.acquire(tiny())) is not slot
        finally:
            await p.close()

    run(main())


def test_directories_of_killed_farms_are_removed(tmp_path):
    import os
    import time

    from awm_ray.farm.worker import remove_stale_farms

    old, fresh, mine, other = (tmp_path / n for n in ("awm-ray-aaaaaaaaaaaa", "awm-ray-bbbbbbbbbbbb",
                                                       "awm-ray-cccccccccccc", "not-a-farm"))  # fmt: skip
    for farm in (old, fresh, mine, other):
        (farm / "w000").mkdir(parents=True)
        (farm / "w000" / ".alive").touch()
    long_ago = time.time() - 3600
    os.utime(old / "w000" / ".alive", (long_ago, long_ago))
    os.utime(other / "w000" / ".alive", (long_ago, long_ago))
    os.utime(mine / "w000" / ".alive", (long_ago, long_ago))
    assert remove_stale_farms(tmp_path, keep=mine) == [old]
    assert not old.exists() and fresh.exists() and mine.exists() and other.exists()


def test_a_closed_pool_starts_nothing_and_leaves_no_directory(tmp_path):
    """A lease, prewarm or health check that reaches a worker after its pool closed (shutdown races
    the last calls) must not bring the pool's directory back: it outlives the farm otherwise."""

    async def main():
        p = pool(tmp_path)
        slot = await p.acquire(tiny())
        await p.close()
        shutil.rmtree(p.root, ignore_errors=True)  # what the worker does after closing its pool
        with pytest.raises(PoolFull, match="closed"):
            await p.acquire(tiny())
        assert await p.prewarm(tiny()) is False
        await p.check()
        p.release(slot)  # a release after close is a no-op
        await asyncio.sleep(0.2)
        assert not p.root.exists()

    run(main())
