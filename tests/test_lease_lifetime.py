"""A lease lives as long as its holder, and nobody holds a lease they gave up.

Live holders keep their leases through pauses far longer than `lease_ttl_s` (a 10 s model turn
with a 3 s ttl, through `evaluate()` and the verifiers 0.3 environment); a holder killed with -9
loses them after the ttl; a cancelled, timed-out or interrupted caller leaves nothing held (F16, on
the Ray client, the evaluator and the verifiers environment); a process that exits without closing
leaves no farm, directory or error behind (F17).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray

from apps import tiny
from awm_ray.farm import Farm, FarmError, LeaseLost
from farmkit import config

REPO = Path(__file__).resolve().parents[1]
CASES = REPO.parent / "shared" / "cases"
QA_DATASET = CASES / "qa_dataset"
TTL = 3.0


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    info = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    yield info.address_info["gcs_address"]
    ray.shutdown()


def start(name: str, scenarios=None, **farm) -> Farm:
    farm.setdefault("workers_per_node", 1)
    farm.setdefault("slots_per_worker", 4)
    return Farm.start(config("inprocess", name=name, **farm), scenarios if scenarios is not None else [tiny()])


def held_leases(farm: Farm) -> int:
    return farm.sync.stats()["leases_active"]


async def until(farm: Farm, predicate, timeout: float = 20.0) -> dict:
    """The farm's stats once `predicate(stats)` holds (polling: a loaded machine is slow); fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate(stats := await farm.stats()):
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.1)
    return stats


def wait_for(predicate, timeout: float, step: float = 0.1) -> float:
    """Seconds until `predicate()` held; fails after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true within {timeout} s")
        time.sleep(step)
    return time.monotonic() - started


# ---- a live holder keeps its leases; a dead one loses them -----------------------------------


def test_a_live_holder_keeps_its_lease_through_pauses_longer_than_the_ttl():
    farm = start("keepalive", lease_ttl_s=1.5)
    try:
        async def main():
            async with farm.lease("tiny_1") as ep:
                await ep.call("create_note", '{"title": "kept"}')
                await asyncio.sleep(4.0)  # > 2 ttl without a call
                time.sleep(2.5)  # the event loop itself blocked: renewals run on their own thread
                listed = await ep.call("list_notes")
                assert listed.status == 200 and "kept" in listed.text
            return await farm.stats()

        stats = asyncio.run(main())
        assert stats["leases_active"] == 0
        assert farm._held.rounds >= 3  # renewed in rounds, not per call
    finally:
        farm.shutdown()


HOLDER = r"""
import asyncio, sys, time
from awm_ray.config import load_config
from awm_ray.farm import Farm

farm = Farm.connect(sys.argv[1], load_config(None, {"farm.name": sys.argv[2]}))

async def main():
    episodes = [await farm.lease("tiny_1") for _ in range(int(sys.argv[3]))]
    print(" ".join(ep.lease_id for ep in episodes), flush=True)
    if sys.argv[4] == "wait":
        await asyncio.sleep(3600)
    # "exit": leave without releasing anything or shutting down

asyncio.run(main())
"""


def holder_process(gcs: str, farm_name: str, leases: int, then: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, gcs, farm_name, str(leases), then],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    line = proc.stdout.readline()
    if not line:
        pytest.fail(f"the holder process failed: {proc.stderr.read()[-3000:]}")
    return proc, line.split()


def test_a_killed_holder_loses_its_lease_after_the_ttl_and_a_live_one_keeps_it(local_ray):
    farm = start("killed-holder", lease_ttl_s=TTL, slots_per_worker=2)
    try:
        survivor, _ = holder_process(local_ray, "killed-holder", 1, "wait")
        victim, _ = holder_process(local_ray, "killed-holder", 1, "wait")
        assert held_leases(farm) == 2
        victim.kill()  # -9: no chance to release
        victim.wait()
        killed_at = time.monotonic()
        time.sleep(1.0)
        assert held_leases(farm) == 2  # not released: it expires
        wait_for(lambda: held_leases(farm) == 1, TTL + 10)
        assert time.monotonic() - killed_at >= TTL - 0.5
        time.sleep(2 * TTL)
        assert held_leases(farm) == 1 and survivor.poll() is None  # the live holder's lease lives on
        survivor.kill()
        survivor.wait()
    finally:
        farm.shutdown()


def test_a_holder_that_exits_without_releasing_gives_its_leases_back_at_once(local_ray):
    farm = start("exiting-holder", lease_ttl_s=600)
    try:
        proc, leases = holder_process(local_ray, "exiting-holder", 2, "exit")
        assert len(leases) == 2
        assert proc.wait(60) == 0, proc.stderr.read()[-3000:]
        assert "Traceback" not in proc.stderr.read()
        assert held_leases(farm) == 0  # released at exit, not 600 s later
    finally:
        farm.shutdown()


def test_an_episode_dropped_without_release_is_given_back():
    farm = start("dropped", lease_ttl_s=600)
    try:
        async def main():
            episode = await farm.lease("tiny_1")
            assert (await farm.stats())["leases_active"] == 1
            del episode
            gc.collect()
            await until(farm, lambda s: s["leases_active"] == 0, 10)  # not after its 600 s ttl

        asyncio.run(main())
        assert len(farm._held) == 0
    finally:
        farm.shutdown()


# ---- giving up: cancelled, timed out, interrupted ---------------------------------------------


def test_cancelled_and_timed_out_lease_requests_hold_nothing():
    farm = start("give-up", slots_per_worker=2)
    try:
        async def main():
            first = [await farm.lease("tiny_1") for _ in range(2)]  # every slot
            waiting = asyncio.ensure_future(farm.lease("tiny_1", timeout_s=60))
            await until(farm, lambda s: s["queue_depth"] == 1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(farm.lease("tiny_1", timeout_s=60), 0.5)
            await until(farm, lambda s: s["queue_depth"] == 0, 10)  # withdrawn at once, not at their 60 s timeout
            for ep in first:
                await ep.release()
            # Requests cancelled at every moment of their life, granted or not: none may leave a lease.
            for round_ in range(3):
                tasks = [asyncio.ensure_future(farm.lease("tiny_1", timeout_s=60)) for _ in range(12)]
                await asyncio.sleep(0.01 * round_)
                for i, task in enumerate(tasks):
                    await asyncio.sleep(0.005 * i)
                    task.cancel()
                for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                    if not isinstance(outcome, BaseException):
                        await outcome.release()  # granted before the cancel: ours to release
            # ... and no worker holds a slot for one of them (a lease the scheduler forgot, the worker kept)
            return await until(farm, lambda s: s["leases_active"] == 0 and s["queue_depth"] == 0
                               and all(w["leased"] == 0 for w in s["workers"]), 10)  # fmt: skip

        asyncio.run(main())

        async def again():  # every slot is free again
            return [await farm.lease("tiny_1", timeout_s=30) for _ in range(2)]
        assert len(asyncio.run(again())) == 2
    finally:
        farm.shutdown()


def test_a_lease_released_before_its_acquire_arrives_binds_nothing():
    """A withdrawn request's release can reach the worker before its acquire does (an async Ray actor
    does not run one caller's calls in the order sent): the acquire must then bind no slot, or the
    worker holds one that no lease the scheduler knows can give back until the ttl ends it."""
    farm = start("early-release", slots_per_worker=2)
    try:
        async def main():
            async with farm.lease("tiny_1") as ep:
                worker = ep._worker
            scenario = [tiny()]
            assert await worker.release.remote("early", "its-token") is False
            with pytest.raises(LeaseLost, match="released before a slot was bound"):
                await worker.acquire.remote("early", "its-token", "tiny_1", scenario)
            assert (await worker.heartbeat.remote())["leases"] == []
            # A call that came first waits for the binding; the release does not wait with it, and
            # the acquire that binds nothing tells the call at once.
            call = worker.call.remote("called", "its-token", "list_notes", None)
            await asyncio.sleep(0.5)
            assert await asyncio.wait_for(worker.release.remote("called", "its-token"), 10) is False
            with pytest.raises(LeaseLost, match="released before a slot was bound"):
                await worker.acquire.remote("called", "its-token", "tiny_1", scenario)
            with pytest.raises(LeaseLost, match="released before a slot was bound"):
                await asyncio.wait_for(call, 3)
            # A release under another token (a stale or forged one) does not stop the lease.
            assert await worker.release.remote("late", "not-its-token") is False
            await worker.acquire.remote("late", "its-token", "tiny_1", scenario)
            assert (await worker.heartbeat.remote())["leases"] == ["late"]
            assert await worker.release.remote("late", "its-token") is True
            assert (await worker.heartbeat.remote())["leases"] == []

        asyncio.run(main())
    finally:
        farm.shutdown()


def test_a_sync_caller_interrupted_while_waiting_withdraws_its_request(ctrl_c):
    farm = start("sync-give-up", slots_per_worker=1)
    try:
        blocker = farm.sync.lease("tiny_1")
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()  # Ctrl-C
        with pytest.raises(KeyboardInterrupt):
            farm.sync.lease("tiny_1", timeout_s=60)  # waits for the only slot
        wait_for(lambda: farm.sync.stats()["queue_depth"] == 0, 10)
        blocker.release()
        wait_for(lambda: farm.sync.stats()["leases_active"] == 0, 10)
    finally:
        farm.shutdown()


def test_farm_errors_are_the_plain_class_with_the_cause_alone():
    broken = tiny("broken_1", code=tiny().code.replace("app = FastAPI(", "raise RuntimeError('boom at import')\napp = FastAPI("))
    farm = start("plain-errors", scenarios=[tiny(), broken])
    try:
        async def main():
            errors = []
            for name in ("broken_1", "x" * 100_000):
                try:
                    await farm.lease(name)
                except FarmError as exc:
                    errors.append(exc)
            return errors

        unavailable, unknown = asyncio.run(main())
        for exc in (unavailable, unknown):
            assert type(exc).__module__ == "awm_ray.farm.errors"  # not RayTaskError(...)
            text = str(exc)
            for leak in ("\x1b[", "pid=", "ip=", "actor_id", "ray::", "Traceback", "awm_ray/", ".py\""):
                assert leak not in text, (leak, text[:300])
            assert len(text) <= 2100
        assert str(unavailable).startswith(
            "scenario 'broken_1' could not be started: importing scenario 'broken_1' failed: RuntimeError: boom at import"
        )
        assert str(unknown).startswith("the farm has no scenario named 'xxx") and "more characters" in str(unknown)
    finally:
        farm.shutdown()


# ---- a 10 s model turn with lease_ttl_s 3; the evaluator and the verifiers env giving up ------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    """The strict scripted model server with our own reply scripts: a 10 s second turn, a 60 s one."""
    replies = tmp_path_factory.mktemp("replies")
    ping = {"role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "ping", "arguments": "{}"}}]}
    note = {"role": "assistant", "content": None,
            "tool_calls": [{"id": "call_2", "type": "function",
                            "function": {"name": "get_note", "arguments": "{\"slug\": \"hello-world\"}"}}]}  # fmt: skip
    done = {"role": "assistant", "content": "done."}
    for name, delay in (("ten_second_turn", 10), ("minute_turn", 60)):
        script = {"delay": {"1": delay}, "strict_tool_ids": True, "turns": [ping, note, done]}
        (replies / f"{name}.json").write_text(json.dumps(script))
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(CASES / "strict_model_server.py"), str(port), str(replies)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the strict model server did not start")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/v1"
    proc.kill()
    proc.wait()


def qa_scenarios():
    from awm_ray.loading import load_scenarios

    return list(load_scenarios(str(QA_DATASET), scenario_filter=["qa_notes_1"]))


def test_a_ten_second_model_turn_keeps_its_lease_in_evaluate(model_server, tmp_path, monkeypatch):
    from awm_ray.evaluate import EvalSettings, evaluate

    monkeypatch.setenv("STRICT_KEY", "unused")
    scenarios = qa_scenarios()
    farm = start("ten-second-eval", scenarios, lease_ttl_s=TTL)
    try:
        settings = EvalSettings(out_dir=tmp_path / "run", model="ten_second_turn", base_url=model_server,
                                api_key_var="STRICT_KEY", concurrency=1, max_turns=6)  # fmt: skip
        started = time.monotonic()
        summary = evaluate(scenarios, settings, farm)
        assert time.monotonic() - started >= 10
        row = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
        assert summary["rollouts"] == 1 and summary["error_rows"] == 0, row["error"]
        assert row["error"] is None and not row["retried"] and row["stop"] == "no_tool_calls"
        assert [c["tool"] for c in row["tool_calls"]] == ["ping", "get_note"]
        assert all(c["status"] == 200 for c in row["tool_calls"])  # the second call, after 10 s, on the same lease
        assert farm.sync.stats()["leases_active"] == 0
    finally:
        farm.shutdown()


def test_an_interrupted_evaluate_holds_nothing(model_server, tmp_path, monkeypatch, ctrl_c):
    from awm_ray.evaluate import EvalSettings, evaluate

    monkeypatch.setenv("STRICT_KEY", "unused")
    scenarios = qa_scenarios()
    farm = start("interrupted-eval", scenarios, lease_ttl_s=600, slots_per_worker=8)
    try:
        settings = EvalSettings(out_dir=tmp_path / "run", model="minute_turn", base_url=model_server,
                                api_key_var="STRICT_KEY", concurrency=4, rollouts_per_example=4, max_turns=6)  # fmt: skip

        def interrupt_when_leases_are_held() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and farm.sync.stats()["leases_active"] < 4:
                time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, in the middle of four minute-long turns

        threading.Thread(target=interrupt_when_leases_are_held, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            evaluate(scenarios, settings, farm)
        interrupted = time.monotonic()
        wait_for(lambda: farm.sync.stats()["leases_active"] == 0, 30)
        assert time.monotonic() - interrupted < 30  # released at once, not after lease_ttl_s (600 s)
    finally:
        farm.shutdown()


@pytest.mark.verifiers("0.3")
def test_a_ten_second_model_turn_keeps_its_lease_in_the_verifiers_env(model_server):
    import verifiers as vf
    from openai import AsyncOpenAI

    from awm_ray.env import load_environment

    env = load_environment(
        dataset_name=str(QA_DATASET), scenario_filter="qa_notes_1", max_turns=6,
        farm_config={"hosting": {"backend": "inprocess"},
                     "farm": {"name": "ten-second-env", "workers_per_node": 1, "lease_ttl_s": TTL, "heartbeat_s": 0.5}},
    )  # fmt: skip
    client = vf.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=model_server, api_key="unused"))

    async def main():
        try:
            results = await env.evaluate(client=client, model="ten_second_turn", num_examples=1, rollouts_per_example=1,
                                         state_columns=["awm"])
            stats = await (await env.farm()).stats()
        finally:
            await env.release_everything()
        return results, stats

    results, stats = asyncio.run(main())
    awm = results["outputs"][0]["awm"]
    assert awm.get("error") is None
    assert [c["tool"] for c in awm["calls"]] == ["ping", "get_note"] and all(c["status"] == 200 for c in awm["calls"])
    assert stats["leases_active"] == 0


@pytest.mark.verifiers("0.3")
def test_a_cancelled_verifiers_evaluate_holds_nothing(model_server):
    """F16: a training loop cancels `env.evaluate` while its rollouts hold or await leases."""
    import verifiers as vf
    from openai import AsyncOpenAI

    from awm_ray.env import load_environment

    env = load_environment(
        dataset_name=str(QA_DATASET), scenario_filter="qa_notes_1", max_turns=6,
        farm_config={"hosting": {"backend": "inprocess"},
                     "farm": {"name": "cancelled-env", "workers_per_node": 1, "slots_per_worker": 4,
                              "lease_ttl_s": 600, "heartbeat_s": 0.5}},
    )  # fmt: skip
    client = vf.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=model_server, api_key="unused"))

    async def main():
        farm = await env.farm()
        try:
            run = asyncio.ensure_future(env.evaluate(client=client, model="minute_turn", num_examples=1,
                                                     rollouts_per_example=12, max_concurrent=12))  # fmt: skip
            for _ in range(600):  # 4 hold a slot (in their minute-long turn), 8 wait for one
                stats = await farm.stats()
                if len(env._episodes) == 4 and stats["queue_depth"] == 8:
                    break
                await asyncio.sleep(0.1)
            assert stats["leases_active"] == 4 and stats["queue_depth"] == 8, stats
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            return await until(farm, lambda s: s["leases_active"] == 0 and s["queue_depth"] == 0, 10), len(env._episodes)
        finally:
            await env.release_everything()

    stats, tracked = asyncio.run(main())
    assert stats["leases_active"] == 0 and stats["queue_depth"] == 0 and tracked == 0


EXIT_WITHOUT_CLOSING = r"""
import asyncio, sys
import verifiers as vf
from openai import AsyncOpenAI
from awm_ray.env import load_environment

env = load_environment(dataset_name=sys.argv[1], scenario_filter="qa_notes_1", max_turns=6, farm_config={
    "hosting": {"backend": "inprocess", "workdir": sys.argv[3]},
    "farm": {"name": "exit-without-closing", "workers_per_node": 1, "slots_per_worker": 2}})
client = vf.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=sys.argv[2], api_key="unused"))

async def main():
    run = asyncio.ensure_future(env.evaluate(client=client, model="minute_turn", num_examples=1,
                                             rollouts_per_example=2, max_concurrent=2))
    farm = await env.farm()
    while (await farm.stats())["leases_active"] < 2:
        await asyncio.sleep(0.1)
    print("holding", flush=True)
    run.cancel()

asyncio.run(main())
# exits here without closing the environment or its farm
"""


@pytest.mark.verifiers("0.3")
def test_a_process_that_exits_without_closing_leaves_nothing_behind(model_server, tmp_path):
    """F17: the verifiers environment's own farm (and its Ray) in a process that just exits."""
    workdir = tmp_path / "farms"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-c", EXIT_WITHOUT_CLOSING, str(QA_DATASET), model_server, str(workdir)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "holding" in done.stdout
    for bad in ("cannot schedule new futures", "Traceback"):
        assert bad not in done.stderr, done.stderr[-3000:]
    left = sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*"))
    assert left == [], f"the farm's directory outlived its process: {left}\n{done.stderr[-3000:]}"
