"""Apps that keep state in memory (case 7 of `../shared/cases/README.md`): `awm-ray validate` finds
them, and the farm gives each of their episodes a fresh app, started in the background, while other
scenarios keep reusing their warm apps."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from apps import TINY_CODE, tiny
from awm_ray.app_state import comparable, keeps_state, wants_fresh_app
from awm_ray.config import HostingConfig
from awm_ray.farm import Farm
from awm_ray.hosting import InProcessBackend
from awm_ray.hosting.pool import SlotPool
from awm_ray.loading import load_scenarios
from awm_ray.validate import Validator
from farmkit import config, local_ray  # noqa: F401 (fixture)
from modelkit import QA_DATASET

VARYING = '''

import random
import uuid
from datetime import datetime


@app.get("/api/dice", operation_id="roll_dice", description="Roll a die.")
def roll_dice():
    return {"rolled": random.randint(1, 999_999), "at": datetime.utcnow().isoformat(), "request": str(uuid.uuid4())}


@app.get("/api/clock", operation_id="clock", description="What time it is.")
def clock():
    return {"now": datetime.utcnow().isoformat(), "trace": uuid.uuid4().hex}
'''


def qa_notes():
    return next(s for s in load_scenarios(str(QA_DATASET)) if s.name == "qa_notes_1")


def validate(scenarios, backend: str) -> dict[str, dict]:
    async def main():
        validator = Validator(HostingConfig(backend=backend, call_timeout_s=10))
        try:
            return {s.name: await validator.validate(s) for s in scenarios}
        finally:
            validator.close()

    return asyncio.run(main())


def test_comparable_masks_timestamps_and_generated_ids():
    a = '{"id": "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b", "at": "2026-11-30T12:00:01.123456", "t": 1796042500}'
    b = '{"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "at": "2026-11-30T12:00:09.654321", "t": 1796042510}'
    assert comparable(a) == comparable(b)
    assert comparable('{"n": 1}') != comparable('{"n": 2}')
    assert keeps_state({"app_state": {"kept_in_memory": True}}) and not keeps_state({"endpoints": []})
    assert not keeps_state(None) and not keeps_state([{"operation_id": "x"}])
    assert wants_fresh_app("always", None) and not wants_fresh_app("never", {"app_state": {"kept_in_memory": True}})


@pytest.mark.parametrize("backend", ["inprocess", "subprocess"])
def test_validate_finds_the_app_that_keeps_state(backend):
    reports = validate([qa_notes(), tiny(), tiny("varying_1", TINY_CODE + VARYING)], backend)
    state = reports["qa_notes_1"]["app_state"]
    assert state["kept_in_memory"] is True and state["endpoints"] == ["ping"]
    assert "calls_seen_by_this_app" in state["example"]
    assert reports["tiny_1"]["app_state"]["kept_in_memory"] is False
    varying = reports["varying_1"]["app_state"]  # differs on every call, also between fresh apps: not state
    assert varying["kept_in_memory"] is False and varying["varies"] == ["roll_dice"]  # clock: masked away


def test_a_released_slot_of_an_app_with_state_is_replaced_by_a_fresh_one_in_the_background(tmp_path):
    stateful = replace(qa_notes(), val_report={**qa_notes().val_report, "app_state": {"kept_in_memory": True}})

    async def main():
        pool = SlotPool(HostingConfig(call_timeout_s=10), InProcessBackend(), tmp_path / "pool", 4)
        try:
            seen = []
            for _ in range(3):
                slot = await pool.acquire(stateful)
                seen.append(json.loads((await slot.call("ping", "{}")).text.split("\n", 1)[1])["calls_seen_by_this_app"])
                pool.release(slot)
                assert pool.inventory()["qa_notes_1"] == {"idle": 0, "leased": 0, "resetting": 1}  # a fresh app starting
                for _ in range(200):  # it gets ready on its own, before any lease asks for it
                    if pool.inventory()["qa_notes_1"]["idle"] == 1:
                        break
                    await asyncio.sleep(0.05)
                assert pool.inventory()["qa_notes_1"]["idle"] == 1
            starts = pool.stats.slot_starts
            slot = await pool.acquire(stateful)  # the waiting fresh app: no start of its own
            assert pool.stats.slot_starts == starts and pool.stats.fresh_apps == 3 and pool.stats.resets == 0
            pool.release(slot)
            warm = await pool.acquire(tiny())  # a scenario without state: reset and reused as before
            pool.release(warm)
            assert await pool.acquire(tiny()) is warm and pool.stats.resets == 1
            return seen
        finally:
            await pool.close()

    assert asyncio.run(main()) == [1, 1, 1]


@pytest.mark.usefixtures("local_ray")
@pytest.mark.parametrize("backend", ["inprocess", "subprocess"])
def test_three_episodes_each_see_a_fresh_app_and_others_stay_warm(backend):
    notes = qa_notes()
    (report,) = validate([notes], backend).values()
    flagged = replace(notes, val_report=report)
    unflagged = replace(notes, name="qa_notes_unvalidated")  # the same code, no app_state in its report
    farm = Farm.start(config(backend, name=f"app-state-{backend}", workers_per_node=1, slots_per_worker=4),
                      [flagged, unflagged])  # fmt: skip

    async def pings(name: str) -> list[int]:
        seen = []
        for _ in range(3):
            async with farm.lease(name) as ep:
                text = (await ep.call("ping", "{}")).text
                seen.append(json.loads(text.split("\n", 1)[1])["calls_seen_by_this_app"])
        return seen

    try:
        fresh, warm = asyncio.run(pings("qa_notes_1")), asyncio.run(pings("qa_notes_unvalidated"))
        stats = farm.sync.stats()
    finally:
        farm.shutdown()
    assert fresh == [1, 1, 1]  # every episode sees what a fresh server would
    assert warm == [1, 2, 3]  # not flagged: the warm app is reused, its memory with it
    assert stats["totals"]["fresh_apps"] >= 2 and stats["totals"]["resets"] >= 2
