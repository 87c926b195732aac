"""Real model traffic through the evaluator (`../shared/cases/README.md`, cases 1-3, 5, 6, 9-12).

Episodes run against the shared strict scripted model server (as strict as OpenAI about tool-call
ids and as vLLM/SGLang about replayed arguments) on 127.0.0.1, through the real `openai` client,
on a farm of each backend where the farm is involved.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import datasets
import pytest
from openai import AsyncOpenAI

from apps import TINY_CODE, tiny
from awm_ray.evaluate import ChatEndpoint, EvalSettings, NothingToEvaluate, ResumeRefused, evaluate, run_episode
from awm_ray.farm import Farm
from awm_ray.loading import load_scenarios
from awm_ray.outcomes import STOP_REASONS
from farmkit import config, local_ray  # noqa: F401 (fixtures)
from modelkit import QA_DATASET, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("local_ray")

BAD_BYTES = '''

from fastapi import Response


@app.get("/api/bad_bytes", operation_id="bad_bytes", description="Answer bytes that are not UTF-8.")
def bad_bytes():
    return Response(content=b'{"name": "caf\\xe9 \\xff\\xfe"}', media_type="application/json")
'''


@pytest.fixture(scope="module")
def qa():
    return list(load_scenarios(str(QA_DATASET)))


@pytest.fixture(scope="module", params=["inprocess", "subprocess"])
def farm(request, qa):
    backend = request.param
    started = Farm.start(config(backend, name=f"traffic-{backend}", workers_per_node=1, slots_per_worker=6),
                         [*qa, tiny("bytes_1", TINY_CODE + BAD_BYTES)])  # fmt: skip
    yield started
    started.shutdown()


def record(prompt: str = "Do it.", scenario: str = "qa_notes_1", targets=("ping",)) -> dict:
    return {"id": f"{scenario}#0/0", "example_id": f"{scenario}#0", "rollout": 0, "scenario": scenario,
            "task_index": 0, "prompt": prompt, "targets": list(targets)}  # fmt: skip


def play(farm, server, model: str, max_turns: int = 6, **rec) -> dict:
    async def main():
        client = AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        try:
            return await run_episode(farm, ChatEndpoint(client, model), record(**rec), max_turns)
        finally:
            await client.close()

    return asyncio.run(main())


def assert_history_accepted(server, model: str) -> None:
    """Every request the server got is one a strict server accepts (ids present, unique, answered;
    replayed arguments JSON objects): the checks of strict_model_server.py, applied to all of them."""
    requests = server.requests(model)
    assert requests, f"no request of {model}"
    for request in requests:
        seen, answered = set(), set()
        for message in request["messages"]:
            for call in message.get("tool_calls") or []:
                assert call.get("id") and call["id"] not in seen, request["messages"]
                seen.add(call["id"])
                assert isinstance(json.loads(call["function"]["arguments"]), dict)
            if message["role"] == "tool":
                assert message["tool_call_id"] in seen and message["tool_call_id"] not in answered
                answered.add(message["tool_call_id"])
        assert answered == seen  # every call answered


# ---- case 1: text is never fatal ----------------------------------------------------------


def test_a_lone_surrogate_in_the_final_text_costs_nothing(farm, server):
    row = play(farm, server, "surrogate_in_final_text")
    assert row["stop"] == "no_tool_calls" and row["error"] is None
    assert row["final_text"] == "Done \ufffd"
    assert row["messages"][-1]["content"] == "Done \ufffd"


def test_odd_text_in_tool_calls_comes_back_as_errors_the_model_can_read(farm, server):
    row = play(farm, server, "odd_text_in_calls")
    assert row["stop"] == "no_tool_calls" and row["error"] is None, row["error"]
    escaped, raw, nul, name = row["tool_calls"]
    assert escaped["error"] == "arguments" and escaped["status"] is None
    tool_texts = [m["content"] for m in row["messages"] if m["role"] == "tool"]
    assert "not valid Unicode (a lone surrogate" in tool_texts[0]
    assert raw["status"] == 200 and '"slug_received":"caf\ufffd"' in tool_texts[1]  # replaced on the way in
    assert nul["status"] == 200 and "a\\u0000b" in tool_texts[2]
    assert name["error"] == "unknown_tool" and "pin\ufffdg" in tool_texts[3]
    assert row["final_text"] == "done \ufffd."
    json.dumps(row, ensure_ascii=False).encode()  # nothing in the row that UTF-8 cannot hold
    assert_history_accepted(server, "odd_text_in_calls")


def test_lone_surrogates_and_bad_bytes_through_the_farm_api(farm):
    """Another harness calling the farm directly: same error texts on both backends, never a crash."""

    async def main():
        async with farm.lease("qa_notes_1") as ep:
            out = [await ep.call("get_note", '{"slug": "caf\ud83d"}'), await ep.call("get_note", {"slug": "\udfff"}),
                   await ep.call("pi\ud83dng", "{}"), await ep.call("get_note", '{"slug": "x\\u0000y"}')]
        async with farm.lease("bytes_1") as ep:
            out.append(await ep.call("bad_bytes", "{}"))
        return out

    surrogate, in_dict, name, nul, bad_bytes = asyncio.run(main())
    assert surrogate.error == in_dict.error == "arguments" and "lone surrogate" in surrogate.text
    assert name.error == "unknown_tool" and "pi\ufffdng" in name.text
    assert nul.status == 200 and "x\\u0000y" in nul.text
    assert bad_bytes.status == 200 and "caf\ufffd \ufffd\ufffd" in bad_bytes.text
    for result in (surrogate, in_dict, name, nul, bad_bytes):
        result.text.encode("utf-8")


def test_a_bad_character_never_stops_a_run(farm, server, qa, tmp_path):
    if farm.config.hosting.backend != "inprocess":
        pytest.skip("the run-level check needs one backend; the episode-level ones run on both")
    settings = EvalSettings(out_dir=tmp_path / "run", model="surrogate_in_final_text", base_url=server.base_url,
                            tasks_per_scenario=2, rollouts_per_example=2, concurrency=2, max_turns=4)  # fmt: skip
    summary = evaluate([s for s in qa if s.name == "qa_notes_1"], settings, farm)
    assert summary["rollouts"] == 4 and summary["error_rows"] == 0
    rows = datasets.load_dataset("json", data_files=str(tmp_path / "run" / "results.jsonl"), split="train")
    assert rows.num_rows == 4 and set(rows["final_text"]) == {"Done \ufffd"}
    assert {"messages", "usage", "error_kind", "stop"} <= set(rows.column_names)
    assert rows[0]["usage"]["total_tokens"] == 36 and len(rows[0]["usage"]["turns"]) == 2  # 18 a turn, as served
    assert summary["tokens"]["total_tokens"] == 4 * 36 and summary["stops"] == {"no_tool_calls": 4}


# ---- cases 2, 3, 9: the history sent back is one a strict server accepts ---------------------


def test_a_tool_call_without_an_id_gets_one(farm, server):
    row = play(farm, server, "tool_call_without_id")
    assert row["stop"] == "no_tool_calls" and row["turns"] == 2 and row["error"] is None
    (call,) = row["tool_calls"]
    assert call["model_call_id"] is None and call["call_id"] and call["status"] == 200
    tool_message = next(m for m in row["messages"] if m["role"] == "tool")
    assert tool_message["tool_call_id"] == call["call_id"] == row["messages"][2]["tool_calls"][0]["id"]
    assert_history_accepted(server, "tool_call_without_id")


def test_truncated_arguments_are_answered_and_the_model_retries(farm, server):
    row = play(farm, server, "truncated_arguments_then_retry")
    assert row["stop"] == "no_tool_calls" and row["turns"] == 3 and row["error"] is None
    first, second = row["tool_calls"]
    assert first["error"] == "arguments" and first["arguments"] == '{"slug": "hello-wor'  # what the model sent
    assert second["status"] == 200
    second_request = server.requests("truncated_arguments_then_retry")[-2]
    replayed = second_request["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert replayed == "{}"  # the server re-parses it: a JSON object
    assert "not valid JSON" in second_request["messages"][3]["content"]  # the model saw our error
    assert_history_accepted(server, "truncated_arguments_then_retry")


def test_arguments_json_cannot_read_are_answered_like_truncated_ones(farm, server):
    row = play(farm, server, "unreadable_arguments_then_retry")
    assert row["stop"] == "no_tool_calls" and row["turns"] == 3 and row["error"] is None, row["error"]
    deep, big, good = row["tool_calls"]
    assert deep["error"] == big["error"] == "arguments" and deep["status"] is None and good["status"] == 200
    assert deep["arguments"].endswith("]" * 10 + "}") and len(big["arguments"]) == 5001 + 10  # what the model sent
    second_request = server.requests("unreadable_arguments_then_retry")[-2]
    assert [c["function"]["arguments"] for c in second_request["messages"][2]["tool_calls"]] == ["{}", "{}"]
    answers = [m["content"] for m in second_request["messages"] if m["role"] == "tool"]
    assert "not valid JSON (arrays/objects nested too deeply" in answers[0]
    assert "not valid JSON (a number longer than 4300 digits" in answers[1]
    assert_history_accepted(server, "unreadable_arguments_then_retry")


def test_a_reply_nested_hundreds_deep_is_read_like_any_other(farm, server):
    row = play(farm, server, "deep_reply")
    assert row["stop"] == "no_tool_calls" and row["error"] is None, row["error"]
    (call,) = row["tool_calls"]
    assert call["arguments"].endswith("]" * 10 + "}") and call["tool"] == "get_note"
    assert_history_accepted(server, "deep_reply")


def test_null_means_no_arguments_and_errors_name_json_types(farm, server):
    row = play(farm, server, "null_arguments")
    null, empty, array = row["tool_calls"]
    assert null["status"] == empty["status"] == 200
    assert array["error"] == "arguments"
    text = [m["content"] for m in row["messages"] if m["role"] == "tool"][2]
    assert "must be a JSON object, got array" in text and "list" not in text
    assert_history_accepted(server, "null_arguments")


def test_repeated_ids_are_made_unique_and_parallel_calls_keep_their_order(farm, server):
    row = play(farm, server, "repeated_ids")
    assert row["stop"] == "no_tool_calls" and row["error"] is None
    assert [c["tool"] for c in row["tool_calls"]] == ["get_note", "ping", "get_note"]
    ids = [c["call_id"] for c in row["tool_calls"]]
    assert ids[0] == "same" and len(set(ids)) == 3 and all(c["model_call_id"] == "same" for c in row["tool_calls"])
    answers = [m for m in row["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in answers] == ids
    assert '"found":true' in answers[0]["content"] and '"pong":true' in answers[1]["content"]
    assert_history_accepted(server, "repeated_ids")


# ---- cases 5, 11: model outcomes and stop reasons -----------------------------------------


@pytest.mark.parametrize(
    ("model", "stop", "error"),
    [
        ("no_choices", "model_empty", "model_empty: the reply has no choices"),
        ("says_nothing", "model_empty", "model_empty: the reply has neither text nor tool calls"),
        ("refusal", "model_refusal", None),
        ("cut_off", "model_truncated", None),
        ("no_script_for_this_model", "model_error", "InternalServerError: "),
    ],
)
def test_model_outcomes_have_their_own_names(farm, server, model, stop, error):
    if farm.config.hosting.backend != "inprocess":
        pytest.skip("model outcomes do not depend on the backend")
    row = play(farm, server, model)
    assert row["stop"] == stop and stop in STOP_REASONS
    if error is None:
        assert row["error"] is None
    else:
        assert row["error"].startswith(error) and row["error_kind"] == error.split(":")[0]
    if stop == "model_refusal":
        assert row["final_text"] == "I can't help."
    if stop == "model_truncated":
        assert [c["tool"] for c in row["tool_calls"]] == ["ping"]  # the cut-off turn's call is not run


def test_max_turns_is_only_for_a_model_still_calling_tools(farm, server):
    row = play(farm, server, "always_ping", max_turns=3)
    assert row["stop"] == "max_turns" and row["turns"] == 3 and len(row["tool_calls"]) == 3 and row["error"] is None


# ---- case 10: errors start with their cause --------------------------------------------------


def test_a_scenario_that_fails_to_import_is_named_by_its_cause(farm, server, qa, tmp_path):
    row = play(farm, server, "tool_call_without_id", scenario="qa_broken_1")
    assert row["stop"] == "scenario_unavailable" and row["error_kind"] == "ScenarioUnavailable"
    assert row["error"].startswith("ScenarioUnavailable: scenario 'qa_broken_1' could not be started")
    assert "boom at import time" in row["error"] and "\x1b" not in row["error"] and "RayTaskError" not in row["error"]
    if farm.config.hosting.backend == "inprocess":
        settings = EvalSettings(out_dir=tmp_path / "broken", model="tool_call_without_id", base_url=server.base_url)
        summary = evaluate([s for s in qa if s.name == "qa_broken_1"], settings, farm)
        assert summary["errors"] == {"ScenarioUnavailable": 1} and summary["stops"] == {"scenario_unavailable": 1}
        assert summary["error_examples"]["ScenarioUnavailable"].startswith("ScenarioUnavailable: scenario")


# ---- cases 6, 12: runs that mean what they say -------------------------------------------------


def test_resume_continues_only_the_same_run(farm, server, qa, tmp_path):
    if farm.config.hosting.backend != "inprocess":
        pytest.skip("resume does not depend on the backend")
    notes = [s for s in qa if s.name == "qa_notes_1"]
    out = tmp_path / "resumed"
    first = evaluate(notes, EvalSettings(out_dir=out, policy="oracle", rollouts_per_example=2), farm)
    assert first["rollouts"] == 2 and first["mean_reward"] == 1.0
    other = EvalSettings(out_dir=out, model="ping_then_create", base_url=server.base_url, resume=True)
    with pytest.raises(ResumeRefused, match="model") as refused:
        evaluate(notes, other, farm)
    assert "awm-ray-reference-oracle" in str(refused.value) and "ping_then_create" in str(refused.value)
    assert "base_url" in str(refused.value)
    for change in ({"seed": 1}, {"max_turns": 3}, {"sampling": {"temperature": 0.5}}):
        with pytest.raises(ResumeRefused, match=next(iter(change))):
            evaluate(notes, EvalSettings(out_dir=out, policy="oracle", resume=True, **change), farm)
    # the same run goes on (more rollouts of the same tasks do not change what a row means)
    again = evaluate(notes, EvalSettings(out_dir=out, policy="oracle", resume=True, rollouts_per_example=4), farm)
    assert again["rollouts"] == 4 and again["throughput"]["rollouts_this_run"] == 2
    assert len((out / "results.jsonl").read_text().splitlines()) == 4


def test_nothing_to_evaluate_is_an_error_that_says_what_to_run(farm, tmp_path):
    if farm.config.hosting.backend != "inprocess":
        pytest.skip("planning does not depend on the backend")
    (scenario,) = [s for s in load_scenarios(str(QA_DATASET)) if s.name == "qa_notes_1"]
    from dataclasses import replace

    bare = replace(scenario, spec=None, val_report=None)
    with pytest.raises(NothingToEvaluate, match="awm-ray validate") as nothing:
        evaluate([bare], EvalSettings(out_dir=tmp_path / "none"), farm)
    assert "qa_notes_1" in str(nothing.value)
    assert not (tmp_path / "none" / "results.jsonl").exists()
    with pytest.raises(NothingToEvaluate, match="no scenario was loaded"):
        evaluate([], EvalSettings(out_dir=tmp_path / "none"), farm)


def test_rows_of_differing_shapes_load_as_one_dataset(farm, server, tmp_path):
    if farm.config.hosting.backend != "inprocess":
        pytest.skip("the file format does not depend on the backend")
    from awm_ray.results import Results

    results = Results(tmp_path, {"model": "mixed"}, resume=False)
    for model in ("no_choices", "refusal", "truncated_arguments_then_retry", "tool_call_without_id", "odd_text_in_calls"):
        results.add(play(farm, server, model))
    summary = results.close()
    rows = datasets.load_dataset("json", data_files=str(Path(tmp_path) / "results.jsonl"), split="train")
    assert rows.num_rows == 5 and rows["stop"][:2] == ["model_empty", "model_refusal"]
    assert summary["tool_errors"] == {"arguments": 2, "unknown_tool": 1}


# ---- the same through `awm-ray eval`: refused before anything starts ---------------------------


def test_the_cli_says_what_to_run_when_there_is_nothing_to_evaluate(tmp_path, capsys):
    from awm_ray.cli import main

    rows = [json.loads(line) for line in (QA_DATASET / "qa.jsonl").read_text().splitlines()]
    bare = {k: v for k, v in rows[0].items() if k not in ("spec", "val_report")}
    (tmp_path / "bare.jsonl").write_text(json.dumps(bare) + "\n")
    assert main(["eval", "--dataset", str(tmp_path / "bare.jsonl"), "--out", str(tmp_path / "out")]) == 2
    printed = " ".join(capsys.readouterr().out.split())
    assert "nothing to evaluate" in printed and "awm-ray validate --dataset" in printed and "qa_notes_1" in printed


def test_the_cli_refuses_to_resume_another_run(tmp_path, capsys):
    from awm_ray.cli import main

    out = tmp_path / "run"
    out.mkdir()
    identity = EvalSettings(out_dir=out, dataset=str(QA_DATASET), split="train").identity()  # the oracle's run
    (out / "run.json").write_text(json.dumps({"format": "awm-ray/run/v1", "identity": identity}))
    (out / "results.jsonl").write_text("")
    argv = ["eval", "--dataset", str(QA_DATASET), "--filter", "qa_notes_1", "--out", str(out), "--resume"]
    assert main([*argv, "--model", "ping_then_create", "--base-url", "http://127.0.0.1:9/v1"]) == 2
    printed = " ".join(capsys.readouterr().out.split())
    assert "--resume refused" in printed and "model" in printed and "ping_then_create" in printed
    assert main([*argv, "--temperature", "0.3"]) == 2
    assert "sampling" in " ".join(capsys.readouterr().out.split())
