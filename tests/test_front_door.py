"""Scenario code that attacks the process hosting it (FRONT_DOOR.md F1-F3), through a farm on each backend.

Whatever the code does at import or in a call (exit, kill, exhaust memory, fork, never yield), the
scenario gets a clear error, is unavailable after `farm.max_scenario_failures` failures, every other
scenario keeps serving, and no worker crash-loops. One local Ray and one farm per backend (one
worker each, so restarts are visible); `awm-ray validate` and `awm-ray eval` on the case files
FRONT_DOOR.md's script builds.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import ray
from apps import attacks_at_import, attacks_in_call, tiny
from farmkit import still_serving

from awm_ray.cli import main
from awm_ray.config import load_config
from awm_ray.farm import Farm, LeaseLost, ScenarioUnavailable

BACKENDS = ["inprocess", "subprocess"]
MAX_FAILURES = 2
CALL_TIMEOUT_S = 3


def front_door_config(backend: str):
    return load_config(None, {
        "hosting.backend": backend, "hosting.start_timeout_s": 30, "hosting.start_attempts": 1,
        "hosting.call_timeout_s": CALL_TIMEOUT_S, "hosting.worker_memory_mb": 1024,
        "hosting.server_memory_mb": 1024, "hosting.import_memory_mb": 512, "hosting.failed_start_ttl_s": 1,
        "farm.name": f"front-door-{backend}", "farm.heartbeat_s": 0.5, "farm.workers_per_node": 1,
        "farm.slots_per_worker": 12, "farm.max_scenario_failures": MAX_FAILURES,
    })  # fmt: skip


def scenarios():
    return [tiny(), *(attacks_at_import(h) for h in ("exit", "kill", "memory", "fork")),
            *(attacks_in_call(h) for h in ("exit", "kill", "fork", "memory", "spin"))]  # fmt: skip


@pytest.fixture(scope="module")
def farms():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    started: dict[str, Farm] = {}

    def get(backend: str) -> Farm:
        if backend not in started:
            started[backend] = Farm.start(front_door_config(backend), scenarios())
        return started[backend]

    try:
        yield get
    finally:
        for farm in started.values():
            farm.shutdown()
        ray.shutdown()


@pytest.fixture(scope="module")
def cases(front_door_cases) -> Path:
    return front_door_cases


def run(coro):
    return asyncio.run(coro)


async def worker_pid(farm: Farm) -> int:
    (worker,) = [w for w in (await farm.stats())["workers"] if w.get("alive")]
    return worker["pid"]


async def unavailable_after_failures(farm: Farm, name: str, attempt, timeout_s: float = 120) -> tuple[list[str], str]:
    """Call `attempt()` until the scenario is unavailable; the failures seen, and the final refusal."""
    failures: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            failures.append(await attempt())
        except ScenarioUnavailable as exc:
            if "is unavailable on this farm" in str(exc):
                return failures, str(exc)
            failures.append(str(exc))
        await asyncio.sleep(0.5)
    raise AssertionError(f"{name} never became unavailable; failures: {failures}")


# ---- at import (F1, F2, F3 through the farm) ----------------------------------------------------

AT_IMPORT_WORDS = {
    ("inprocess", "exit"): "ends the process that imports it (it would take its host down): the sandboxed trial "
                           "import exited with code 1",
    ("inprocess", "kill"): "the sandboxed trial import was killed by SIGKILL",
    ("inprocess", "memory"): "ran out of memory at import (limit hosting.import_memory_mb = 512 MB)",
    ("inprocess", "fork"): "may not start processes (fork)",
    ("subprocess", "exit"): "server exited with code 1",
    ("subprocess", "kill"): "scenario code may not send signals",
    ("subprocess", "memory"): "MemoryError",
    ("subprocess", "fork"): "scenario code may not start processes (fork)",
}


@pytest.mark.parametrize("how", ["exit", "kill", "memory", "fork"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_code_that_attacks_its_host_at_import(farms, backend, how):
    farm = farms(backend)
    name = f"{how}s_at_import_1"

    async def main():
        pid = await worker_pid(farm)
        started = time.monotonic()
        failures, final = await unavailable_after_failures(farm, name, lambda: farm.lease(name, timeout_s=60).__aenter__())
        took = time.monotonic() - started
        refused_at = time.monotonic()
        with pytest.raises(ScenarioUnavailable, match="is unavailable on this farm"):
            await farm.lease(name)
        refused_s = time.monotonic() - refused_at
        await still_serving(farm)
        return failures, final, took, refused_s, pid, await worker_pid(farm), await farm.stats()

    failures, final, took, refused_s, pid_before, pid_after, stats = run(main())
    assert len(failures) >= MAX_FAILURES, failures  # (a failure a worker remembers is reported, not counted again)
    words = AT_IMPORT_WORDS[backend, how]
    assert all(words in f for f in failures), failures
    assert f"it failed {MAX_FAILURES} times (farm.max_scenario_failures = {MAX_FAILURES})" in final and words in final
    assert refused_s < 2 and took < 90
    assert pid_after == pid_before and stats["leases_lost"] == 0  # no worker died: nothing crash-looped
    assert name in stats["unavailable"]


# ---- in a call ------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["exit", "kill", "fork"])
def test_code_that_attacks_its_worker_in_a_call_inprocess_gets_a_500(farms, how):
    """In-process, exit/kill/fork from scenario code are refused in the worker: the call answers 500."""
    farm = farms("inprocess")

    async def main():
        pid = await worker_pid(farm)
        async with farm.lease(f"{how}s_in_call_1", timeout_s=60) as ep:
            results = [await ep.call("attack", "{}") for _ in range(3)]
            after = await ep.call("list_notes", "{}")
        await still_serving(farm)
        return results, after, pid, await worker_pid(farm), await farm.stats()

    results, after, pid_before, pid_after, stats = run(main())
    assert all(r.status == 500 for r in results), [r.text for r in results]
    assert after.ok and pid_after == pid_before and stats["leases_lost"] == 0
    assert f"{how}s_in_call_1" not in stats["unavailable"] and not stats["scenario_failures"].get(f"{how}s_in_call_1")


@pytest.mark.parametrize("how", ["kill", "fork", "memory"])
def test_code_that_attacks_its_server_in_a_call_subprocess_gets_a_500(farms, how):
    """A server refuses its code kill and fork; its memory limit turns a 1 GB allocation into MemoryError."""
    farm = farms("subprocess")

    async def main():
        async with farm.lease(f"{how}s_in_call_1", timeout_s=60) as ep:
            results = [await ep.call("attack", "{}") for _ in range(2)]
            after = await ep.call("list_notes", "{}")
        await still_serving(farm)
        return results, after, await farm.stats()

    results, after, stats = run(main())
    assert all(r.status == 500 for r in results), [r.text for r in results]
    assert after.ok and f"{how}s_in_call_1" not in stats["unavailable"]


CALL_DEATHS = {
    ("subprocess", "exit"): "its server exited with code 7",
    ("inprocess", "spin"): "its code blocked the worker's event loop",
}


@pytest.mark.parametrize(("backend", "how"), list(CALL_DEATHS))
def test_code_that_ends_its_host_in_a_call_is_charged_and_then_unavailable(farms, backend, how):
    """A server that exits, or a worker stopped by its watchdog (a blocked loop): the episode gets
    LeaseLost, the scenario is charged, and after the limit it is unavailable."""
    farm = farms(backend)
    name = f"{how}s_in_call_1"

    async def attempt() -> str:
        async with farm.lease(name, timeout_s=90) as ep:
            try:
                result = await ep.call("attack", "{}")
            except LeaseLost as exc:
                return f"LeaseLost: {exc}"
        return f"answered {result.status}: {result.text[:200]}"

    async def main():
        failures, final = await unavailable_after_failures(farm, name, attempt, timeout_s=240)
        await still_serving(farm)
        return failures, final, await farm.stats()

    failures, final, stats = run(main())
    assert failures and all(f.startswith("LeaseLost") for f in failures), failures
    assert f"it failed {MAX_FAILURES} times" in final and CALL_DEATHS[backend, how] in final, final
    assert stats["unavailable"][name] in final  # (a Ray client error still wraps it in a traceback)


# ---- the CLI on FRONT_DOOR.md's files (F1, F2, F3) ---------------------------------------------


@pytest.mark.parametrize("case", ["exit_at_import", "memory_at_import"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_validate_reports_code_that_kills_its_host_and_writes_the_report(cases, tmp_path, backend, case, capsys):
    out = tmp_path / "report.json"
    assert main(["validate", "--backend", backend, "--dataset", str(cases / "hostile" / f"{case}.jsonl"),
                 "--out", str(out)]) == 0  # fmt: skip
    reports = {r["scenario"]: r for r in json.loads(out.read_text())["scenarios"]}
    bad = reports["exits_at_import" if case == "exit_at_import" else "hogs_memory"]
    assert bad["status"] == "failed"
    if case == "exit_at_import":
        words = "ended the process that hosted it" if backend == "inprocess" else "server exited with code 1"
    else:
        words = "MemoryError"
    assert words in bad["error"], bad["error"]
    assert reports["task_tracker_1"]["status"] == "ok" and reports["task_tracker_1"]["failed"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_eval_gives_the_scenario_that_kills_its_host_an_error_row(farms, cases, tmp_path, backend):
    farms(backend)  # the module's Ray
    out = tmp_path / "run"
    started = time.monotonic()
    assert main(["eval", "--backend", backend, "--dataset", str(cases / "hostile" / "exit_at_import.jsonl"),
                 "--out", str(out), "--concurrency", "4"]) == 0  # fmt: skip
    took = time.monotonic() - started
    rows = {r["scenario"]: r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    error = rows["exits_at_import"]["error"]
    assert "ScenarioUnavailable" in error.split(":")[0]  # (the cause alone once farm errors drop Ray's wrapping)
    assert ("exited with code 1" if backend == "inprocess" else "server exited with code 1") in error
    assert rows["task_tracker_1"]["error"] is None and rows["task_tracker_1"]["reward"] == 1.0
    assert took < 180


def test_code_that_grows_its_worker_past_its_memory_limit_inprocess_is_closed_and_charged(farms):
    """1 GB kept per call: the watchdog closes that scenario's slots (freeing what its module holds)
    and charges it; the worker lives on; after the limit the scenario is unavailable."""
    farm = farms("inprocess")
    name = "memorys_in_call_1"

    async def attempt() -> str:
        async with farm.lease(name, timeout_s=90) as ep:
            try:
                result = await ep.call("attack", "{}")
                await asyncio.sleep(2)  # the watchdog looks every 0.25 s
                return f"answered {result.status}, then {(await ep.call('list_notes', '{}')).status}"
            except LeaseLost as exc:
                return f"LeaseLost: {exc}"

    async def main():
        pid = await worker_pid(farm)
        failures, final = await unavailable_after_failures(farm, name, attempt, timeout_s=240)
        await still_serving(farm)
        return failures, final, pid, await worker_pid(farm), await farm.stats()

    failures, final, pid_before, pid_after, stats = run(main())
    assert failures and all("LeaseLost" in f and "its scenario's slots were closed" in f for f in failures), failures
    assert f"it failed {MAX_FAILURES} times" in final and "over its limit of 1024 MB (hosting.worker_memory_mb)" in final
    assert "its slots on worker w000 were closed" in final
    assert pid_after == pid_before  # the worker itself went on


def test_scenario_failures_count_new_failures_and_deaths_not_repeats():
    from awm_ray.farm.failures import ScenarioFailures

    failures = ScenarioFailures(limit=3)
    repeat = RuntimeError("import failed [this start failed 2 s ago; not retried for 58 s]")
    repeat.remembered = True
    assert not failures.charge_start("a", RuntimeError("import failed"))
    assert not failures.charge_start("a", repeat)  # a worker repeating what it remembers: not counted
    failures.started("a")  # a start that worked clears the failed starts ...
    assert failures.counts() == {}
    beat = {"incarnation": "i1", "faults": [{"seq": 1, "scenario": "a", "reason": "its server exited with code 7"},
                                            {"seq": 2, "scenario": "b", "reason": "x"}]}  # fmt: skip
    seen, newly = failures.take_faults((None, 0), beat)
    assert seen == ("i1", 2) and newly == [] and failures.counts() == {"a": 1, "b": 1}
    assert failures.take_faults(seen, beat) == (("i1", 2), [])  # the same heartbeat again: nothing new
    failures.started("a")  # ... not the deaths
    assert not failures.charge_start("a", RuntimeError("import failed again"))
    restarted = {"incarnation": "i2", "faults": [{"seq": 1, "scenario": "a", "reason": "its code blocked the loop"}]}
    seen, newly = failures.take_faults(seen, restarted)  # a new incarnation numbers its faults from 1
    assert newly == ["a"] and "it failed 3 times" in failures.unavailable["a"]
    assert failures.unavailable["a"].endswith("the last time: its code blocked the loop")
    failures.forget("a")
    assert "a" not in failures.unavailable and failures.counts() == {"b": 1}
