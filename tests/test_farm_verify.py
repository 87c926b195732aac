"""Verification on the farm: `ep.verify()` runs the task's verifier on the worker holding the slot
(template = initial, live DB = final, both read-only, in the worker's sandbox); hostile verifiers are
recorded errors and the workers and the farm go on serving."""

from __future__ import annotations

import asyncio
import json

import psutil
import pytest
import ray

from awm_ray.farm import Farm, LeaseLost, UnknownTask
from awm_ray.loading import load_scenarios
from awm_ray.scenario import parse_scenario
from farmkit import config

BUNDLED = {s.name: s for s in load_scenarios("bundled")}
SIGNATURE = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    "
HOSTILE = {
    "infinite_loop": ("while True:\n        pass", "timeout"),
    "five_gb": ("return {'result': str(len(b'x' * (5 * 2**30)))}", "memory"),
    "os_system": ("os.system('touch /tmp/awm-farm-verifier-pwned')\n    return {'result': 'complete'}", "refused"),
    "socket_out": ("import socket\n    socket.create_connection(('203.0.113.1', 80), timeout=3)", "refused"),
    "proc_environ": ("return {'result': open('/proc/self/environ').read()}", "refused"),
    "sys_exit": ("import sys\n    sys.exit(3)", "raised"),
    "fork_bomb": ("while True:\n        os.fork()", "refused"),
    "syntax_error": ("return {'result': 'complete'", "compile"),
}


def hostile_scenario():
    """bookstore_1 with its own tasks replaced by hostile verifiers (task i = the i-th case)."""
    row = BUNDLED["bookstore_1"].to_row()
    row["scenario"] = "bookstore_hostile"
    row["tasks"] = json.dumps([f"Hostile {name}." for name in HOSTILE])
    row["verifiers"] = json.dumps({"code": [{"task_idx": i, "task": f"Hostile {name}.", "verification": {"code": SIGNATURE + body}}
                                           for i, (name, (body, _)) in enumerate(HOSTILE.items())]})  # fmt: skip
    row["solutions"] = "[]"
    return parse_scenario(row)


@pytest.fixture(scope="module")
def farm():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    settings = config("inprocess", name="verify", workers_per_node=2, slots_per_worker=4)
    settings.verification.wall_s, settings.verification.cpu_s, settings.verification.memory_mb = 4, 2, 256
    farm = Farm.start(settings, [BUNDLED["bookstore_1"], hostile_scenario()])
    try:
        yield farm
    finally:
        farm.shutdown()
        ray.shutdown()


def test_verify_before_release_sees_what_the_episode_did(farm):
    shop = BUNDLED["bookstore_1"]

    async def main():
        async with farm.lease("bookstore_1") as ep:
            untouched = await ep.verify(0)
            assert (untouched.mode, untouched.result, untouched.error) == ("code", "others", None)
            for call in shop.task(0).solution.calls:
                assert (await ep.call(call.tool, dict(call.arguments))).ok
            done = await ep.verify(0, "Added them.")
            assert done.result == "complete" and done.complete and done.ms > 0
            assert (await ep.verify(1)).result == "others"  # another task, still undone
            assert ep._local is not None  # the worker is on this node: that went over its socket
            local, ep._local = ep._local, None
            assert (await ep.verify(0, "Added them.")).result == "complete"  # and through Ray, the same
            ep._local = local
            sql = await ep.verify(0, mode="sql")
            assert sql.error == "missing"  # the bundled tasks have code verifiers only
            with pytest.raises(UnknownTask, match="no task 99"):
                await ep.verify(99)
        with pytest.raises(LeaseLost):
            await ep.verify(0)
        async with farm.lease("bookstore_1") as ep:  # the slot was reset: the next episode starts clean
            assert (await ep.verify(0)).result == "others"

    asyncio.run(main())


def test_hostile_verifiers_are_recorded_errors_and_the_farm_goes_on(farm):
    async def main():
        workers = {w["pid"] for w in (await farm.stats())["workers"] if w.get("pid")}
        async with farm.lease("bookstore_hostile") as ep:
            for index, (name, (_, error)) in enumerate(HOSTILE.items()):
                v = await ep.verify(index)
                assert v.error == error and v.result is None, (name, v)
            assert (await ep.call("search_books", "{}")).status == 200  # the episode itself goes on
        async with farm.lease("bookstore_1") as ep:
            for call in BUNDLED["bookstore_1"].task(2).solution.calls:
                await ep.call(call.tool, dict(call.arguments))
            assert (await ep.verify(2)).result == "complete"
        after = {w["pid"] for w in (await farm.stats())["workers"] if w.get("pid")}
        return workers, after

    workers, after = asyncio.run(main())
    assert workers == after and all(psutil.pid_exists(pid) for pid in after)  # no worker died or restarted
    assert not __import__("os").path.exists("/tmp/awm-farm-verifier-pwned")


def test_verify_through_the_gateway(farm):
    import httpx

    from awm_ray.farm.gateway import start_gateway
    from awm_ray.farm.remote import RemoteFarm

    url = start_gateway(farm, "127.0.0.1", 0)
    shop = BUNDLED["bookstore_1"]

    async def main():
        remote = RemoteFarm(url)
        try:
            async with remote.lease("bookstore_1") as ep:
                assert (await ep.verify(2)).result == "others"
                for call in shop.task(2).solution.calls:
                    assert (await ep.call(call.tool, dict(call.arguments))).ok
                done = await ep.verify(2, "Posted.")
                assert (done.mode, done.result, done.error, done.task_index) == ("code", "complete", None, 2)
                with pytest.raises(UnknownTask, match="no task 42"):
                    await ep.verify(42)
                async with httpx.AsyncClient(base_url=url) as http:
                    missing = await http.post(f"/v1/leases/{ep.lease_id}/verify", json={"task_index": 42},
                                              headers={"Authorization": f"Bearer {ep._token}"})  # fmt: skip
                    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_task")  # not a 500
                    wrong = await http.post(f"/v1/leases/{ep.lease_id}/verify", json={"task_index": 0},
                                            headers={"Authorization": "Bearer nope"})  # fmt: skip
                    bad = await http.post(f"/v1/leases/{ep.lease_id}/verify", json={"task_index": "zero"},
                                          headers={"Authorization": f"Bearer {ep._token}"})  # fmt: skip
                assert wrong.status_code in (401, 403) and bad.status_code in (400, 422)
                assert "detail" in bad.json()
            with pytest.raises(LeaseLost):
                await ep.verify(2)
        finally:
            await remote.close()

    asyncio.run(main())
