"""Real model traffic through the verifiers 0.3 environment (`../shared/cases/README.md`, cases 1-3,
5, 9-11): the shared strict scripted model server on 127.0.0.1, verifiers' own chat-completions
client, and the farm reached through Ray and through its HTTP gateway (`RemoteFarm`)."""

from __future__ import annotations

import asyncio
import json

import pytest
from vfcompat import require_verifiers

require_verifiers("0.3")

import verifiers as vf  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

from awm_ray.env import load_environment  # noqa: E402
from awm_ray.farm import Farm  # noqa: E402
from awm_ray.farm.gateway import start_gateway  # noqa: E402
from awm_ray.outcomes import STOP_REASONS  # noqa: E402
from farmkit import config, local_ray  # noqa: E402, F401 (fixtures)
from modelkit import QA_DATASET, server  # noqa: E402, F401 (fixtures)

pytestmark = pytest.mark.usefixtures("local_ray")


@pytest.fixture(scope="module")
def gateway():
    farm = Farm.start(config("inprocess", name="env-traffic-gateway", workers_per_node=1), [])
    try:
        yield farm, start_gateway(farm, "127.0.0.1", 0)
    finally:
        farm.shutdown()


@pytest.fixture(scope="module", params=["ray", "gateway"])
def env(request, gateway):
    farm_config = {"hosting": {"backend": "inprocess"}, "farm": {"name": "env-traffic", "workers_per_node": 1}}
    target = None
    if request.param == "gateway":
        gateway_farm, target = gateway
        from awm_ray.loading import load_scenarios

        gateway_farm.add_scenarios(load_scenarios(str(QA_DATASET)))
    environment = load_environment(dataset_name=str(QA_DATASET), scenario_filter="qa_notes_1", max_turns=5,
                                   farm=target, farm_config=farm_config)  # fmt: skip
    yield environment
    asyncio.run(environment.release_everything())


def rollout(env, server, model: str, **kwargs) -> dict:
    async def main():
        client = vf.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0))
        try:
            results = await env.evaluate(client=client, model=model, num_examples=1, rollouts_per_example=1,
                                         state_columns=["awm"], **kwargs)  # fmt: skip
        finally:
            if env.farm_target:  # a RemoteFarm's HTTP client belongs to this event loop: close it here
                await env.release_everything()
        return results["outputs"][0]

    return asyncio.run(main())


def accepted(server, model: str) -> None:
    for request in server.requests(model):
        ids = [c["id"] for m in request["messages"] for c in m.get("tool_calls") or []]
        assert all(ids) and len(ids) == len(set(ids))
        for m in request["messages"]:
            for c in m.get("tool_calls") or []:
                assert isinstance(json.loads(c["function"]["arguments"]), dict)
            if m["role"] == "tool":
                assert m["tool_call_id"] in ids


def test_a_lone_surrogate_in_the_final_text(env, server, tmp_path):
    output = rollout(env, server, "surrogate_in_final_text", save_results=True, results_path=tmp_path / "vf")
    awm = output["awm"]
    assert awm["stop"] == "no_tool_calls" and awm["error"] is None
    assert output["completion"][-1]["content"] == "Done \ufffd"
    assert any(p.is_file() and p.stat().st_size for p in (tmp_path / "vf").rglob("*"))  # verifiers saved it


def test_a_tool_call_without_an_id(env, server):
    awm = rollout(env, server, "tool_call_without_id")["awm"]
    assert awm["stop"] == "no_tool_calls" and awm["error"] is None
    (call,) = awm["calls"]
    assert call["status"] == 200 and call["call_id"]
    assert awm["turns"][0]["tool_calls"][0]["model_id"] is None
    accepted(server, "tool_call_without_id")


def test_truncated_arguments_then_retry(env, server):
    awm = rollout(env, server, "truncated_arguments_then_retry")["awm"]
    assert awm["stop"] == "no_tool_calls" and awm["error"] is None
    first, second = awm["calls"]
    assert first["error"] == "arguments" and first["arguments"] == '{"slug": "hello-wor'
    assert second["status"] == 200
    accepted(server, "truncated_arguments_then_retry")


def test_arguments_json_cannot_read(env, server):
    awm = rollout(env, server, "unreadable_arguments_then_retry")["awm"]
    assert awm["stop"] == "no_tool_calls" and awm["error"] is None, awm["error"]
    deep, big, good = awm["calls"]
    assert deep["error"] == big["error"] == "arguments" and good["status"] == 200
    assert "nested too deeply" in deep["text"] and "longer than 4300 digits" in big["text"]
    assert len(big["arguments"]) == 5001 + 10
    accepted(server, "unreadable_arguments_then_retry")


def test_a_reply_nested_hundreds_deep_is_a_model_error(env, server):
    """We read it (a recursive walk of it raised RecursionError); verifiers' own parser
    (pydantic's JSON, about 255 levels) does not: the model error it is, named by its cause."""
    awm = rollout(env, server, "deep_reply")["awm"]
    assert awm["stop"] == "model_error" and "recursion limit exceeded" in awm["error"], awm["error"]
    assert "RecursionError" not in awm["error"]
    assert awm["turns"][0]["tool_calls"][0]["arguments"].endswith("]" * 10 + "}")  # what the model sent, read


def test_null_and_odd_text_arguments(env, server):
    awm = rollout(env, server, "null_arguments")["awm"]
    assert [c["status"] for c in awm["calls"]] == [200, 200, None]
    assert "got array" in awm["calls"][2]["text"]
    awm = rollout(env, server, "odd_text_in_calls")["awm"]
    assert [c["error"] for c in awm["calls"]] == ["arguments", None, None, "unknown_tool"]
    assert "lone surrogate" in awm["calls"][0]["text"] and "pin\ufffdg" in awm["calls"][3]["text"]
    accepted(server, "odd_text_in_calls")


@pytest.mark.parametrize(
    ("model", "stop", "kind"),
    [("no_choices", "model_empty", "InvalidModelResponseError"), ("says_nothing", "model_empty", "EmptyModelResponseError"),
     ("refusal", "model_refusal", None), ("cut_off", "model_truncated", None),
     ("no_script_for_this_model", "model_error", "InternalServerError"), ("always_ping", "max_turns", None)],
)  # fmt: skip
def test_stop_reasons(env, server, model, stop, kind):
    awm = rollout(env, server, model)["awm"]
    assert awm["stop"] == stop and stop in STOP_REASONS
    assert awm["error_kind"] == kind
    if kind:
        assert awm["error"].startswith(f"{kind}: ")
    if stop == "model_truncated":
        assert [c["tool"] for c in awm["calls"]] == ["ping"]


def test_a_scenario_that_fails_to_import(server, gateway):
    environment = load_environment(dataset_name=str(QA_DATASET), scenario_filter="qa_broken_1",
                                   farm_config={"hosting": {"backend": "inprocess"}, "farm": {"name": "env-broken"}})  # fmt: skip
    try:
        awm = rollout(environment, server, "tool_call_without_id")["awm"]
    finally:
        asyncio.run(environment.release_everything())
    assert awm["stop"] == "scenario_unavailable" and awm["error_kind"] == "ScenarioUnavailable"
    assert awm["error"].startswith("ScenarioUnavailable: scenario 'qa_broken_1' could not be started")
    assert "\x1b" not in awm["error"] and "boom at import time" in awm["error"]
