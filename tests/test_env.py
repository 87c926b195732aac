"""The verifiers environment: drop-in arguments, dataset shape, and evaluate() through the farm."""

from __future__ import annotations

import asyncio
import inspect
import json
import time

import pytest
from vfcompat import require_verifiers

require_verifiers("0.3")

import ray  # noqa: E402
import verifiers as vf  # noqa: E402

from awm_ray.env import load_environment  # noqa: E402
from awm_ray.loading import DatasetUnavailable  # noqa: E402

HARNESS_DEFAULTS = {
    "tasks_per_scenario": 1, "max_scenarios": None, "scenario_filter": None, "max_turns": 20, "seed": 0,
    "include_llm_judge": False, "judge_model": "gpt-4.1-nano", "judge_base_url": None,
    "dataset_name": "arcee-train/awm_1k_fixed_harness",
}  # fmt: skip


def test_every_awm_harness_argument_with_its_default():
    params = inspect.signature(load_environment).parameters
    for name, default in HARNESS_DEFAULTS.items():
        assert params[name].default == default, name
    assert {"farm", "farm_config", "backend"} <= set(params)


def test_drop_in_names_and_dataset_rows():
    for env_id in ("awm-harness-1k", "awm-ray"):
        env = vf.load_environment(env_id, dataset_name="bundled", tasks_per_scenario=2, seed=3)
        assert len(env.dataset) == 8
    row = env.dataset[0]
    assert isinstance(row["info"], str)  # a JSON string: per-row tools never merge across rows
    info = json.loads(row["info"])
    assert {"scenario", "targets", "tool_defs"} <= set(info)
    assert all(set(t) == {"name", "description", "parameters"} for t in info["tool_defs"])
    assert row["prompt"][-1]["role"] == "user"
    again = vf.load_environment("awm-ray", dataset_name="bundled", tasks_per_scenario=2, seed=3)
    assert again.dataset["info"] == env.dataset["info"]  # same seed, same tasks


def test_the_hub_default_fails_fast_and_says_so(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.monotonic()
    with pytest.raises(DatasetUnavailable, match="bundled"):
        load_environment()
    assert time.monotonic() - started < 10


def test_an_llm_judge_without_a_key_does_not_break_loading(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    env = load_environment(dataset_name="bundled", include_llm_judge=True, judge_base_url="http://127.0.0.1:9/v1")
    assert "llm_judge" in env.rubric._get_reward_func_names()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    yield
    ray.shutdown()


def test_evaluate_through_the_farm_with_the_reference_policy(local_ray):
    from openai import AsyncOpenAI

    from awm_ray.policy import PolicyServer

    env = load_environment(
        dataset_name="bundled", tasks_per_scenario=2, max_turns=6,
        farm_config={"hosting": {"backend": "inprocess"}, "farm": {"name": "env-test", "workers_per_node": 1}},
    )  # fmt: skip

    async def main():
        with PolicyServer("oracle") as server:
            client = vf.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=server.base_url, api_key="unused"))
            results = await env.evaluate(client=client, model="awm-ray-reference-oracle", num_examples=6,
                                         rollouts_per_example=1, state_columns=["awm"])  # fmt: skip
            stats = await (await env.farm()).stats()
            await env.release_everything()
            return results, stats

    results, stats = asyncio.run(main())
    outputs = results["outputs"]
    assert len(outputs) == 6
    assert [o["reward"] for o in outputs] == [1.0] * 6
    for output in outputs:
        awm = output["awm"]
        assert awm["calls"] and awm["calls"][0]["status"] == 200 and "text" in awm["calls"][0]
        assert set(awm["targets"]) <= {c["operation_id"] for c in awm["calls"]}
    assert stats["leases_granted"] == 6 and stats["leases_active"] == 0  # every lease released
    with pytest.raises(RuntimeError, match="no farm named"):  # the env shut its own farm down
        from awm_ray.farm import Farm

        Farm.connect(None, env.config)
