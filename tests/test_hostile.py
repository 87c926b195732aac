"""Hostile and broken inputs, through a farm on a local Ray: each gets a clear error, the farm goes on.

One local Ray for the module and one farm per backend (one worker, so a scenario's remembered start
failure is seen by the next lease), holding every hostile scenario; each test ends by leasing a
healthy scenario and calling it. The last tests shut the farms down and look for leftovers.
Cases only a separate process can contain (a handler that blocks the event loop) run on subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
import ray
from apps import broken_rows, fails_at_import, hangs_at_import, hostile, spec_disagrees, tiny
from farmkit import listening_ports, serve_processes, still_serving

from awm_ray.config import Config, load_config
from awm_ray.farm import Farm, ScenarioUnavailable

BACKENDS = ["inprocess", "subprocess"]
START_TIMEOUT_S = 8  # a subprocess server needs 3-5 s on a loaded 2-core machine
CALL_TIMEOUT_S = 2
MAX_OUTPUT = 200_000
MAX_RESPONSE = 5_000
# set in the driver before ray.init: Ray's processes, and so the farm workers, inherit them
SECRETS = {"AWM_HOSTILE_API_KEY": "hostile-secret-1", "AWM_HOSTILE_SETTING": "hostile-secret-2",
           "RAY_HOSTILE_TOKEN": "hostile-secret-3"}  # fmt: skip


def hostile_config(backend: str) -> Config:
    return load_config(None, {
        "hosting.backend": backend, "hosting.start_timeout_s": START_TIMEOUT_S, "hosting.start_attempts": 1,
        "hosting.call_timeout_s": CALL_TIMEOUT_S, "hosting.max_output_bytes": MAX_OUTPUT,
        "hosting.max_response_chars": MAX_RESPONSE, "farm.name": f"hostile-{backend}", "farm.heartbeat_s": 0.5,
        "farm.workers_per_node": 1, "farm.slots_per_worker": 16,
    })  # fmt: skip


def scenarios():
    return [tiny(), hostile(), fails_at_import(), hangs_at_import("hangs_sleep_1", "sleep"),
            hangs_at_import("hangs_spin_1", "spin"), broken_rows(), spec_disagrees()]  # fmt: skip


class Farms:
    """One farm per backend, started on first use and shut down by the last tests (or at the end)."""

    def __init__(self):
        self.started: dict[str, Farm] = {}

    def __call__(self, backend: str) -> Farm:
        if backend not in self.started:
            self.started[backend] = Farm.start(hostile_config(backend), scenarios())
        return self.started[backend]

    def shutdown(self, backend: str) -> None:
        farm = self.started.pop(backend, None)
        if farm is not None:
            farm.shutdown()


@pytest.fixture(scope="module")
def farms():
    saved = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    handles = Farms()
    try:
        yield handles
    finally:
        for backend in list(handles.started):
            handles.shutdown(backend)
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(coro):
    return asyncio.run(coro)


async def wait_for_total(farm: Farm, key: str, at_least: int, timeout_s: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        stats = await farm.stats()
        if stats["totals"].get(key, 0) >= at_least:
            return stats
        assert time.monotonic() < deadline, f"{key} stayed below {at_least}: {stats['totals']}"
        await asyncio.sleep(0.2)


def reason(error_text: str) -> str:
    """The worker's own message at the end of a Ray-wrapped error (after Ray's traceback)."""
    return error_text[error_text.rindex("could not be started: ") :]


async def on_hostile(farm: Farm, *calls: tuple[str, str | dict | None]) -> list:
    async with farm.lease("hostile_1", timeout_s=30) as ep:
        return [await ep.call(tool, args) for tool, args in calls]


def calls_then_still_serving(farm: Farm, *calls: tuple[str, str | dict | None]) -> list:
    """(a) the results of `calls` on a lease of the hostile scenario, after (b) `still_serving`."""

    async def main() -> list:
        results = await on_hostile(farm, *calls)
        await still_serving(farm)
        return results

    return run(main())


# ---- the model's mistakes -------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_malformed_json_arguments(farms, backend):
    farm = farms(backend)

    calls = [("create_note", '{"title": '), ("create_note", "[1, 2]"), ("create_note", "nul")]
    unterminated, array, garbage = calls_then_still_serving(farm, *calls)
    assert unterminated.error == "arguments" and "are not valid JSON" in unterminated.text
    assert array.error == "arguments" and "must be a JSON object, got array" in array.text
    assert garbage.error == "arguments" and "not valid JSON" in garbage.text
    assert all(r.status is None for r in (unterminated, array, garbage))


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_tool(farms, backend):
    farm = farms(backend)

    for result in calls_then_still_serving(farm, ("drop_all_tables", "{}"), ("", "{}")):
        assert result.error == "unknown_tool" and result.status is None
        assert "unknown tool" in result.text and "list_notes" in result.text  # it lists what exists


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_argument_types(farms, backend):
    farm = farms(backend)

    calls = [("get_note", '{"note_id": "abc"}'), ("create_note", '{"title": ["a"]}')]
    not_int, not_str = calls_then_still_serving(farm, *calls)
    assert not_int.error == "arguments" and "'note_id' must be of type integer" in not_int.text
    assert not_str.error == "arguments" and "'title' must be of type string" in not_str.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_required_arguments(farms, backend):
    farm = farms(backend)

    no_id, no_title = calls_then_still_serving(farm, ("get_note", "{}"), ("create_note", None))
    assert no_id.error == "arguments" and "'note_id' is required (missing)" in no_id.text
    assert no_title.error == "arguments" and "'title' is required (missing)" in no_title.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_extra_arguments(farms, backend):
    farm = farms(backend)

    (extra,) = calls_then_still_serving(farm, ("list_notes", '{"contains": "milk", "drop": true, "admin": 1}'))
    assert extra.error == "arguments" and "unknown argument(s) 'admin', 'drop'" in extra.text
    assert "It takes: contains: string (optional)" in extra.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_arguments_are_rejected_unparsed(farms, backend):
    farm = farms(backend)
    limit = farm.config.hosting.max_argument_bytes

    huge = {"title": "x" * (3 * limit)}
    for result in calls_then_still_serving(farm, ("create_note", json.dumps(huge)), ("create_note", huge)):
        assert result.error == "arguments" and result.status is None
        assert f"the limit is {limit}" in result.text and "bytes" in result.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_path_traversal_and_url_tricks_stay_in_their_route(farms, backend):
    farm = farms(backend)
    rejected = ["../admin/secret", "..", ".", "a/b", "..\\admin", ""]
    literal = ["%2e%2e", "%2e%2e%2fadmin%2fsecret", "?#", "secret?x=1#frag", "..%2F..%2Fadmin"]

    calls = [("read_file", json.dumps({"name": n})) for n in rejected + literal]
    calls.append(("list_notes", json.dumps({"contains": "x&admin=1#/../api/admin/secret"})))
    results = calls_then_still_serving(farm, *calls)
    for name, result in zip(rejected, results, strict=False):
        assert result.error == "arguments" and "is part of the URL path" in result.text, (name, result.text)
    for name, result in zip(literal, results[len(rejected) :], strict=False):
        assert result.status == 200 and json.loads(result.text.split("\n", 1)[1]) == {"name": name}, (name, result.text)
    assert results[-1].status == 200 and json.loads(results[-1].text.split("\n", 1)[1]) == {"notes": []}
    assert not any("admin-only" in r.text for r in results)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tool_names_that_are_not_operations(farms, backend):
    farm = farms(backend)
    names = ["/api/notes", "GET /api/notes", "admin_secret", "/api/admin/secret", "read_file.__globals__", "app"]

    for name, result in zip(names, calls_then_still_serving(farm, *[(n, "{}") for n in names]), strict=True):
        assert result.error == "unknown_tool" and result.status is None, name
        assert f"unknown tool '{name}'" in result.text and "read_file" in result.text


# ---- broken or hostile scenario code ---------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_code_that_fails_to_import(farms, backend):
    farm = farms(backend)

    async def main():
        with pytest.raises(ScenarioUnavailable, match="could not be started") as info:
            await farm.lease("fails_at_import_1")
        await still_serving(farm)
        return str(info.value)

    message = run(main())
    assert "ModuleNotFoundError" in message and "no_such_module_xyz" in message


@pytest.mark.parametrize("how", ["sleep", "spin"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_code_that_hangs_at_import(farms, backend, how):
    """Bounded by start_timeout_s; an import that waits behind it still starts; the failure is
    remembered, so the next lease fails at once."""
    farm = farms(backend)
    name = f"hangs_{how}_1"
    fresh = tiny(f"fresh_after_{how}")  # code no slot of this worker has imported yet
    farm.add_scenarios([fresh])

    async def main():
        started = time.monotonic()
        hung = asyncio.ensure_future(farm.lease(name))
        await asyncio.sleep(0.5)
        async with farm.lease(fresh.name, timeout_s=30) as ep:  # imported while the hung one holds the gate
            fresh_result = await ep.call("list_notes", "{}")
        with pytest.raises(ScenarioUnavailable) as first:
            await hung
        first_s = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(ScenarioUnavailable) as again:
            await farm.lease(name)
        again_s = time.monotonic() - started
        await still_serving(farm)
        return fresh_result, str(first.value), first_s, str(again.value), again_s, await farm.stats()

    fresh_result, first, first_s, again, again_s, stats = run(main())
    assert fresh_result.ok and "Buy milk" in fresh_result.text
    assert START_TIMEOUT_S <= first_s < START_TIMEOUT_S + 10
    if backend == "inprocess":  # the sandboxed trial import (hosting.preflight) hung, not the worker's own
        assert f"did not finish importing within {START_TIMEOUT_S} s" in first
        assert "the sandboxed trial import was killed" in first
    else:
        assert f"server did not answer within {START_TIMEOUT_S} s (it hangs, or is very slow, at import)" in first
    assert again_s < 2.0 and "not retried for" in again
    assert reason(again).startswith(reason(first))  # the same reason, remembered
    assert stats["totals"]["starts_refused"] >= 1
    if backend == "subprocess":  # the hung server was killed: every server left is a live slot's
        workers_pids = {pid for w in stats["workers"] for pid in w["server_pids"]}
        assert {p.pid for p in serve_processes(stats["root"])} <= workers_pids
    else:  # the hung code never ran in the worker: no import thread of it is stuck there
        assert stats["totals"]["import_threads_stuck"] == 0 and stats["totals"]["preflight_failures"] >= 1


@pytest.mark.parametrize("tool", ["hang", "hang_async"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_endpoint_that_never_answers(farms, backend, tool):
    """The call times out; the episode goes on; its slot is closed on release, never reset and reused."""
    farm = farms(backend)

    async def main():
        before = (await farm.stats())["totals"].get("calls_abandoned", 0)
        started = time.monotonic()
        hung, after = await on_hostile(farm, (tool, "{}"), ("list_notes", "{}"))
        took = time.monotonic() - started
        stats = await wait_for_total(farm, "calls_abandoned", before + 1)
        await still_serving(farm)
        return hung, after, took, stats

    hung, after, took, stats = run(main())
    assert hung.error == "timeout" and hung.status is None
    assert f"did not answer tool '{tool}' (no answer within {CALL_TIMEOUT_S} s)" in hung.text
    assert after.ok  # the same episode can go on
    assert took < CALL_TIMEOUT_S + 5
    assert stats["totals"]["calls_abandoned"] >= 1


def test_endpoint_that_blocks_the_event_loop_is_contained_by_subprocess(farms):
    """`async def` + `while True: pass` wedges the loop it runs on: only a separate process contains
    that (in-process it would stop the worker's own loop; see the README's limits)."""
    farm = farms("subprocess")

    async def main():
        spin, after = await on_hostile(farm, ("spin", "{}"), ("list_notes", "{}"))
        stats = await wait_for_total(farm, "calls_abandoned", 1)
        await still_serving(farm)
        return spin, after, stats

    spin, after, stats = run(main())
    assert spin.error == "timeout" and "did not answer tool 'spin'" in spin.text
    assert after.error == "timeout"  # this server is wedged for good; release closes (kills) it
    workers_pids = {pid for w in stats["workers"] for pid in w["server_pids"]}
    deadline = time.monotonic() + 10
    while {p.pid for p in serve_processes(stats["root"])} - workers_pids and time.monotonic() < deadline:
        time.sleep(0.2)
    assert {p.pid for p in serve_processes(stats["root"])} <= workers_pids


@pytest.mark.parametrize("backend", BACKENDS)
def test_endpoint_that_floods_stdout(farms, backend):
    farm = farms(backend)

    async def main():
        async with farm.lease("hostile_1") as ep:
            result = await ep.call("spam", '{"megabytes": 3}')
            stats = await farm.stats()
            logs = {p: p.stat().st_size for p in Path(stats["root"]).glob("*/slots/*/server.log")}
        await still_serving(farm)
        return result, logs, await farm.stats()

    result, logs, stats = run(main())
    assert result.ok and json.loads(result.text.split("\n", 1)[1])["printed_bytes"] > 6_000_000
    if backend == "subprocess":  # each server's own log file is capped
        spammed = [p for p in logs if "reached its" in p.read_text(errors="replace")] if logs else []
        assert logs and max(logs.values()) < MAX_OUTPUT + 4_000, logs
        assert spammed, "the cap leaves a note in the log"
    else:  # scenario output shares the worker's stdout/stderr: capped per worker process
        assert stats["totals"]["output_bytes_dropped"] > 6_000_000 - MAX_OUTPUT
        logs_dir = Path(ray._private.worker._global_node.get_logs_dir_path())
        logs = [p for p in logs_dir.glob("worker-*") if p.suffix in (".out", ".err")]
        assert logs and max(p.stat().st_size for p in logs) < MAX_OUTPUT + 100_000
        assert any(f"reached its {MAX_OUTPUT}-byte cap" in p.read_text(errors="replace") for p in logs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_code_that_looks_for_secrets_finds_none(farms, backend):
    farm = farms(backend)

    async def main():
        (found,) = await on_hostile(farm, ("secrets", '{"needle": "hostile-secret"}'))
        (named,) = await on_hostile(farm, ("secrets", '{"needle": "HOSTILE"}'))
        await still_serving(farm)
        return json.loads(found.text.split("\n", 1)[1]), json.loads(named.text.split("\n", 1)[1])

    found, named = run(main())
    assert found["environ"] == [] and named["environ"] == []
    if backend == "subprocess":
        assert found["proc_self"] is False  # its own process, started with a minimal environment
    else:
        # in-process code shares the worker's process: os.environ is scrubbed, and the initial
        # environment block (/proc/self/environ), which still holds what the worker inherited, is refused
        assert found["proc_self"].startswith("PermissionError: awm-ray: scenario code may not read /proc/self/environ")
    # nor may it read its host's (the worker's or the raylet's) environment block
    assert found["proc_parent"].startswith("PermissionError: awm-ray: scenario code may not read /proc/")


@pytest.mark.parametrize("backend", BACKENDS)
def test_code_that_dials_out_is_refused(farms, backend):
    farm = farms(backend)

    (dial,) = calls_then_still_serving(farm, ("dial", '{"host": "203.0.113.1", "port": 80}'))
    out = json.loads(dial.text.split("\n", 1)[1])
    refused = "PermissionError: awm-ray: scenario code may not connect outside loopback (203.0.113.1:80)"
    assert out["connect"] == refused and out["sendto"] == refused and out["create_connection"] == refused
    assert out["resolve"].startswith("PermissionError: awm-ray: scenario code may not resolve 'example.com'")
    assert "awm-ray: scenario code may not resolve 'example.com'" in out["urlopen"]
    assert out["loopback"].startswith("ConnectionRefusedError")  # loopback is allowed (nothing listens there)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dataset_rows_with_broken_sql(farms, backend):
    """The DB build runs what it can and reports the rest (5 statements here); the scenario serves."""
    farm = farms(backend)

    async def main():
        async with farm.lease("broken_rows_1") as ep:
            listed = await ep.call("list_notes", "{}")
            created = await ep.call("create_note", '{"title": "still works"}')
        stats = await wait_for_total(farm, "db_statements_failed", 5)
        await still_serving(farm)
        return listed, created, stats

    listed, created, stats = run(main())
    assert listed.ok and "Buy milk" in listed.text and "Call Bob" in listed.text
    assert "unterminated" not in listed.text and "duplicate id" not in listed.text
    assert created.ok and '"id":3' in created.text
    assert stats["totals"]["db_statements_failed"] == 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_spec_that_disagrees_with_the_code(farms, backend):
    farm = farms(backend)

    async def main():
        async with farm.lease("spec_disagrees_1") as ep:
            tools = {t["name"] for t in ep.tools}
            calls = [("archive_note", '{"note_id": 1}'), ("delete_note", '{"note_id": 1}'),
                     ("get_note", '{"note_id": 1}'), ("get_note", '{"note_id": 99}')]  # fmt: skip
            results = [await ep.call(tool, args) for tool, args in calls]
        await still_serving(farm)
        return tools, results

    tools, (archive, delete, get, missing) = run(main())
    assert {"archive_note", "delete_note", "get_note"} <= tools  # tools come from the spec
    assert archive.status == 404
    assert "does not serve tool 'archive_note' (POST /api/notes/{note_id}/archive)" in archive.text
    assert delete.status == 405 and "does not serve tool 'delete_note' (DELETE /api/notes/{note_id})" in delete.text
    assert get.ok and "Buy milk" in get.text
    assert missing.status == 404 and "Note not found" in missing.text and "does not serve" not in missing.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_response_is_truncated(farms, backend):
    farm = farms(backend)

    (result,) = calls_then_still_serving(farm, ("huge", '{"megabytes": 5}'))
    body_chars = len('{"blob":""}') + 5_000_000
    assert result.ok and len(result.text) < MAX_RESPONSE + 200
    assert f"[truncated: {body_chars - MAX_RESPONSE} more characters]" in result.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_sys_exit_in_an_endpoint_is_a_500(farms, backend):
    farm = farms(backend)

    quit_result, after = calls_then_still_serving(farm, ("quit", "{}"), ("list_notes", "{}"))
    assert quit_result.status == 500 and quit_result.error is None and "Internal Server Error" in quit_result.text
    assert after.ok  # the server (or the worker) did not exit


# ---- and nothing is left behind ----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_zz_shutdown_leaves_no_process_port_or_file(farms, backend):
    farm = farms(backend)
    run(still_serving(farm))
    stats = run(farm.stats())
    farms.shutdown(backend)
    root = stats["root"]
    assert not Path(root).exists(), "temp DBs and logs left behind"
    assert serve_processes(root) == []
    pids = [p for w in stats["workers"] for p in w.get("server_pids", [])]
    assert listening_ports(pids) == set()
