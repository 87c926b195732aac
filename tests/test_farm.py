"""The farm on a local Ray: leases, calls, isolation, failures, expiry, queueing, clean shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
import ray

from apps import TINY_CODE, tiny
from awm_ray.farm import Farm, FarmError, LeaseLost, LeaseTimeout, ScenarioUnavailable, UnknownScenario
from awm_ray.farm.gateway import start_gateway
from awm_ray.farm.local_calls import CallConnection
from awm_ray.loading import load_scenarios
from farmkit import config, listening_ports, serve_processes


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    yield
    ray.shutdown()


def start(name: str, backend: str = "inprocess", scenarios=None, **farm) -> Farm:
    farm.setdefault("workers_per_node", 2)
    farm.setdefault("slots_per_worker", 8)
    return Farm.start(config(backend, name=name, **farm), scenarios if scenarios is not None else [tiny()])


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("backend", ["inprocess", "subprocess"])
def test_lease_call_release_and_a_clean_shutdown(backend):
    farm = start(f"basic-{backend}", backend, [tiny(), *load_scenarios("bundled")])
    stats = None
    try:
        async def main():
            async with farm.lease("tiny_1") as ep:
                assert {t["name"] for t in ep.tools} >= {"list_notes", "create_note", "get_note"}
                created = await ep.call("create_note", '{"title": "hello"}')
                assert created.status == 200 and '"hello"' in created.text
                bad = await ep.call("get_note", '{"note_id": "abc"}')
                assert bad.error == "arguments" and bad.text.startswith("Error:")
            async with farm.lease("bookstore_1") as ep:
                tool = next(t for t in ep.tools if t["name"] == "search_books")
                assert tool["parameters"]["type"] == "object"
                assert (await ep.call("search_books", "{}")).status == 200
            with pytest.raises(LeaseLost):
                await ep.call("search_books", "{}")  # released
            with pytest.raises(UnknownScenario):
                await farm.lease("no_such_scenario")
            return await farm.stats()

        stats = run(main())
        assert stats["leases_granted"] == 2 and stats["leases_active"] == 0 and stats["scenarios"] == 5
        assert stats["totals"]["calls"] == 3
        with farm.sync.lease("tiny_1") as ep:  # the sync wrapper
            assert ep.call("list_notes").status == 200
    finally:
        farm.shutdown()
    root = stats["root"]
    assert not Path(root).exists(), "temp DBs and logs left behind"
    assert serve_processes(root) == []
    pids = [p for w in stats["workers"] for p in w.get("server_pids", [])]
    assert listening_ports(pids) == set()


def test_concurrent_episodes_of_one_scenario_are_isolated():
    farm = start("isolation", slots_per_worker=8)
    try:
        async def episode(i: int):
            async with farm.lease("tiny_1") as ep:
                await ep.call("create_note", json.dumps({"title": f"episode {i}"}))
                await asyncio.sleep(0.05)
                listed = (await ep.call("list_notes")).text
                return [n for n in range(16) if f'"episode {n}"' in listed], ep.worker_id

        async def main():
            results = await asyncio.gather(*(episode(i) for i in range(16)))
            await asyncio.sleep(1.0)  # background resets finish
            stats = await farm.stats()
            # a new episode on every slot sees only the template rows
            eps = [await farm.lease("tiny_1") for _ in range(16)]
            texts = [(await ep.call("list_notes")).text for ep in eps]
            for ep in eps:
                await ep.release()
            return results, stats, texts

        results, stats, texts = run(main())
        assert [seen for seen, _ in results] == [[i] for i in range(16)]
        assert len({worker for _, worker in results}) == 2  # spread over both workers
        assert stats["totals"]["resets_verified"] == 16 and stats["totals"]["quarantined"] == 0
        assert all("episode" not in t and "Buy milk" in t for t in texts)
    finally:
        farm.shutdown()


def test_killed_server_ends_its_lease_and_the_worker_keeps_serving():
    farm = start("kill-server", "subprocess", workers_per_node=1, slots_per_worker=4)
    try:
        async def main():
            victim = await farm.lease("tiny_1")
            bystander = await farm.lease("tiny_1")
            assert victim.worker_id == bystander.worker_id
            await victim.call("create_note", '{"title": "before"}')
            pids = set((await farm.stats())["workers"][0]["server_pids"])
            # find the victim's server: the one whose DB holds the note
            for pid in pids:
                db = next(a for a in psutil.Process(pid).cmdline() if a.endswith("app.py"))
                if "before" in (Path(db).parent / "live.db").read_bytes().decode(errors="ignore"):
                    os.kill(pid, signal.SIGKILL)
                    break
            else:
                raise AssertionError("victim server not found")
            with pytest.raises(LeaseLost, match="server died"):
                await victim.call("list_notes")
            assert (await bystander.call("list_notes")).status == 200
            await bystander.release()
            await victim.release()
            async with farm.lease("tiny_1") as fresh:
                assert (await fresh.call("list_notes")).status == 200
            await asyncio.sleep(1.5)
            return await farm.stats()

        stats = run(main())
        assert stats["totals"]["slot_restarts"] >= 1 and stats["leases_lost"] >= 1
    finally:
        farm.shutdown()


def test_killed_worker_is_restarted_and_new_leases_succeed():
    farm = start("kill-worker", workers_per_node=1, slots_per_worker=4)
    try:
        async def main():
            ep = await farm.lease("tiny_1")
            assert (await ep.call("list_notes")).status == 200  # the same-node connection is open now
            ray.kill(ep._worker, no_restart=False)  # asynchronous: calls may be served until it lands
            with pytest.raises(LeaseLost):
                for _ in range(300):
                    await ep.call("list_notes")
                    await asyncio.sleep(0.1)
            await ep.release()
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with farm.lease("tiny_1", timeout_s=10) as again:
                        return (await again.call("list_notes")).status
                except LeaseLost:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.5)

        assert run(main()) == 200
    finally:
        farm.shutdown()


def test_same_node_calls_use_the_worker_socket_and_still_need_the_token():
    farm = start("call-socket", workers_per_node=1, slots_per_worker=4)
    try:
        async def main():
            async with farm.lease("tiny_1") as ep:
                assert ep._local is not None, "a worker on this node should be called over its socket"
                path = Path(ep._local.path)
                assert path.stat().st_mode & 0o777 == 0o600
                assert (await ep.call("create_note", '{"title": "via socket"}')).status == 200
                assert ep._local._streams is not None  # the call went over the socket, not through Ray
                forged = CallConnection(str(path))
                with pytest.raises(FarmError, match="wrong token"):
                    await forged.call({"lease_id": ep.lease_id, "token": "guess", "tool": "list_notes"})
                with pytest.raises(LeaseLost):
                    await forged.call({"lease_id": "not-a-lease", "token": "x", "tool": "list_notes"})
                forged.close()
                reader, writer = await asyncio.open_unix_connection(str(path))
                writer.write(b"\x00\x00\x00\x05garbl")  # not JSON: the worker drops this connection only
                await writer.drain()
                assert await reader.read() == b""
                writer.close()
                listed = await ep.call("list_notes")
                assert listed.status == 200 and "via socket" in listed.text
            return path

        path = run(main())
    finally:
        farm.shutdown()
    assert not path.exists()


def test_a_lease_nobody_renews_expires():
    farm = start("expiry", workers_per_node=1, slots_per_worker=1, lease_ttl_s=1.5)
    try:
        async def main():
            held = await farm.lease("tiny_1", keepalive=False)  # as if its holder had died
            await held.call("create_note", '{"title": "abandoned"}')
            await asyncio.sleep(3.5)
            with pytest.raises(LeaseLost, match="expired"):
                await held.call("list_notes")
            async with farm.lease("tiny_1", timeout_s=10) as ep:  # the only slot is back, and clean
                text = (await ep.call("list_notes")).text
            return text, await farm.stats()

        text, stats = run(main())
        assert "abandoned" not in text
        assert stats["leases_active"] == 0
    finally:
        farm.shutdown()


def test_more_requests_than_slots_queue_or_time_out_clearly():
    farm = start("queue", workers_per_node=1, slots_per_worker=2)
    try:
        async def main():
            first = [await farm.lease("tiny_1") for _ in range(2)]

            async def later(i):
                async with farm.lease("tiny_1", timeout_s=20) as ep:
                    return (await ep.call("list_notes")).status

            waiting = [asyncio.ensure_future(later(i)) for i in range(4)]
            await asyncio.sleep(0.5)
            assert (await farm.stats())["queue_depth"] == 4
            with pytest.raises(LeaseTimeout, match="no slot became free"):
                await farm.lease("tiny_1", timeout_s=0.3)
            for ep in first:
                await ep.release()
            return await asyncio.gather(*waiting)

        assert run(main()) == [200, 200, 200, 200]
    finally:
        farm.shutdown()


def test_broken_scenario_code_is_a_clear_error_and_the_farm_goes_on():
    broken = tiny("broken_1", code=TINY_CODE.replace("app = FastAPI(", "import no_such_module\napp = FastAPI("))
    farm = start("broken", scenarios=[tiny(), broken])
    try:
        async def main():
            with pytest.raises(ScenarioUnavailable, match="no_such_module"):
                await farm.lease("broken_1")
            async with farm.lease("tiny_1") as ep:
                return (await ep.call("list_notes")).status

        assert run(main()) == 200
    finally:
        farm.shutdown()


def test_prewarm_makes_the_first_lease_warm():
    farm = start("prewarm", workers_per_node=2, slots_per_worker=4)
    try:
        async def main():
            assert await farm.prewarm(["tiny_1"], per_scenario=2) == 2
            await asyncio.sleep(1.0)
            stats = await farm.stats()
            assert stats["slots"] == 2
            started = time.perf_counter()
            async with farm.lease("tiny_1"):
                elapsed = time.perf_counter() - started
            return elapsed, (await farm.stats())["totals"]["slot_starts"]

        _, starts = run(main())
        assert starts == 2  # the lease used a prewarmed slot
    finally:
        farm.shutdown()


GATEWAY_CLIENT = r"""
import asyncio, json, sys
import httpx
from awm_ray.farm.remote import RemoteFarm
from awm_ray.farm import LeaseLost, UnknownScenario

async def main(url):
    out = {}
    farm = RemoteFarm(url)
    async with farm.lease("tiny_1") as ep:
        out["tools"] = sorted(t["name"] for t in ep.tools)
        out["create"] = (await ep.call("create_note", {"title": "over http"})).status
        listed = await ep.call("list_notes")
        out["listed"] = "over http" in listed.text
        bad = await ep.call("get_note", '{"note_id": "x"}')
        out["bad_args"] = bad.error
        raw = httpx.post(f"{url}/v1/leases/{ep.lease_id}/calls", json={"tool": "list_notes"},
                         headers={"Authorization": "Bearer not-the-token"})
        out["wrong_token"] = raw.status_code
    try:
        await ep.call("list_notes")
    except LeaseLost:
        out["after_release"] = "LeaseLost"
    try:
        await farm.lease("nope")
    except UnknownScenario:
        out["unknown"] = "UnknownScenario"
    out["health"] = (await farm.health())["status"]
    out["stats_leases"] = (await farm.stats())["leases_granted"]
    await farm.close()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
"""


def test_gateway_over_real_http_from_another_process():
    import subprocess
    import sys

    farm = start("gateway")
    try:
        url = start_gateway(farm, "127.0.0.1", 0)
        assert url.startswith("http://127.0.0.1:")
        done = subprocess.run([sys.executable, "-c", GATEWAY_CLIENT, url], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out == {
            "tools": ["boom", "create_note", "get_note", "list_notes", "nap", "read_env"],
            "create": 200, "listed": True, "bad_args": "arguments", "wrong_token": 403,
            "after_release": "LeaseLost", "unknown": "UnknownScenario", "health": "ok", "stats_leases": 1,
        }  # fmt: skip
        with pytest.raises(ValueError, match="allow-remote"):
            start_gateway(farm, "0.0.0.0", 0)
    finally:
        farm.shutdown()
