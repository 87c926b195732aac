"""`--tasks native` end to end on one local farm: the evaluator with the reference policies (oracle
solves, noop and spray complete nothing though spray hits every endpoint), sql mode with a scripted
judge, skipped degenerate tasks, and the verifiers 0.3 environment scoring the same rows the same way."""

from __future__ import annotations

import asyncio
import json

import pytest
import ray

from awm_ray.evaluate import EvalSettings, NothingToEvaluate, evaluate, preflight
from awm_ray.farm import Farm
from awm_ray.loading import load_scenarios
from awm_ray.results import read_rows
from awm_ray.scenario import parse_scenario
from farmkit import config
from test_judge import ScriptedJudgeServer

BUNDLED = list(load_scenarios("bundled"))
SQL = """def verify_task(initial_db_path, final_db_path):
    import sqlite3
    def copies(path):
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT COALESCE(SUM(quantity), 0) FROM cart_items ci JOIN carts c ON c.id = ci.cart_id "
                                "JOIN books b ON b.id = ci.book_id WHERE c.user_id = 1 AND b.title = 'The Left Hand of Darkness'").fetchone()[0]
        finally:
            conn.close()
    return {"copies_before": copies(initial_db_path), "copies_after": copies(final_db_path)}
"""


def bookstore_with_sql_verifiers():
    """bookstore_1 whose task 0 also has a sql-mode verifier, and whose task 1 validate marked degenerate."""
    shop = next(s for s in BUNDLED if s.name == "bookstore_1")
    row = shop.to_row()
    row["scenario"] = "bookstore_sql"
    verifiers = json.loads(row["verifiers"])
    verifiers["sql"] = [{"task_idx": 0, "task": shop.task(0).task, "verification": {"code": SQL}}]
    row["verifiers"] = json.dumps(verifiers)
    report = json.loads(row["val_report"])
    report["tasks"] = [{"index": 1, "task": shop.task(1).task, "verifier": {"mode": "code", "status": "degenerate"}}]
    row["val_report"] = json.dumps(report)
    return parse_scenario(row)


@pytest.fixture(scope="module")
def farm():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    farm = Farm.start(config("inprocess", name="native-eval", workers_per_node=2, slots_per_worker=6),
                      [*BUNDLED, bookstore_with_sql_verifiers()])  # fmt: skip
    try:
        yield farm
    finally:
        farm.shutdown()
        ray.shutdown()


def run(farm, tmp_path, name, scenarios=BUNDLED, **settings):
    base = {"tasks": "native", "tasks_per_scenario": 5, "concurrency": 4, "max_turns": 30, "dataset": "bundled"}
    eval_settings = EvalSettings(out_dir=tmp_path / name, **{**base, **settings})
    summary = evaluate(scenarios, eval_settings, farm)
    rows = read_rows(tmp_path / name / "results.jsonl").rows
    return summary, {(r["scenario"], r["task_index"]): r for r in rows}


@pytest.fixture(scope="module")
def reference_runs(farm, tmp_path_factory):
    """The oracle and spray runs on every bundled task (shared by the tests that read them)."""
    out = tmp_path_factory.mktemp("reference")
    return {policy: run(farm, out, policy, policy=policy) for policy in ("oracle", "spray")}


def test_reference_policies_on_the_bundled_scenarios_own_tasks(farm, tmp_path, reference_runs):
    oracle, rows = reference_runs["oracle"]
    assert oracle["rollouts"] == 20 and oracle["task_complete"] == 1.0 and oracle["mean_reward"] == 1.0
    assert oracle["verification"]["results"] == {"complete": 20} and oracle["verification"]["errors"] == {}
    row = rows[("bookstore_1", 4)]
    assert row["task_kind"] == "native" and row["prompt"] == BUNDLED[0].task(4).task
    v = row["verification"]
    assert (v["mode"], v["result"], v["error"], v["task_index"]) == ("code", "complete", None, 4)
    assert v["ms"] > 0 and row["timings"]["verify_ms"] >= v["ms"] * 0.5 and row["metrics"]["verifier_ms"] == v["ms"]
    assert set(oracle["task_complete_by_task"]) == {f"{s.name}#{t.index}" for s in BUNDLED for t in s.tasks}

    noop, _ = run(farm, tmp_path, "noop", policy="noop", tasks_per_scenario=2)
    assert noop["rollouts"] == 8 and noop["task_complete"] == 0.0 and noop["metrics"]["endpoint_hit"] == 0.0

    spray, rows = reference_runs["spray"]
    assert spray["task_complete"] == 0.0 and spray["metrics"]["endpoint_hit"] == 1.0  # gamed endpoint_hit, no task done
    assert all(r["verification"]["result"] == "others" for r in rows.values())


def test_sql_mode_with_a_scripted_judge_and_degenerate_tasks_skipped(farm, tmp_path, monkeypatch):
    sql_shop = bookstore_with_sql_verifiers()
    with ScriptedJudgeServer() as judge:
        monkeypatch.setenv("AWM_TEST_JUDGE_KEY", "judge-key")
        verification = {"judge": {"model": "judge-1", "base_url": judge.base_url, "api_key_var": "AWM_TEST_JUDGE_KEY"}}
        summary, rows = run(farm, tmp_path, "sql", scenarios=[sql_shop], policy="oracle", verifier="sql",
                            verification=verification)  # fmt: skip
    (row,) = rows.values()  # only task 0 has a sql verifier
    v = row["verification"]
    assert v["mode"] == "sql" and v["evidence"] == {"copies_before": 0, "copies_after": 2}
    assert v["verdict"] == "complete" and v["judge_error"] is None and row["reward"] == 1.0
    assert "copies_after" in judge.requests[-1]["messages"][-1]["content"]  # the judge read the evidence
    assert summary["skipped_tasks"] == {"no_verifier": 4}

    # code mode: task 1 was marked degenerate, so it is left out unless asked for
    summary, rows = run(farm, tmp_path, "code", scenarios=[sql_shop], policy="oracle")
    assert sorted(i for _, i in rows) == [0, 2, 3, 4] and summary["skipped_tasks"] == {"degenerate": 1}
    _, rows = run(farm, tmp_path, "code-all", scenarios=[sql_shop], policy="oracle", include_degenerate=True)
    assert sorted(i for _, i in rows) == [0, 1, 2, 3, 4]


def test_native_settings_are_checked_before_anything_starts(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="--verifier sql needs a judge"):
        preflight(BUNDLED, EvalSettings(out_dir=tmp_path / "a", tasks="native", verifier="sql"))
    monkeypatch.delenv("NO_SUCH_JUDGE_KEY", raising=False)
    with pytest.raises(ValueError, match="NO_SUCH_JUDGE_KEY"):
        preflight(BUNDLED, EvalSettings(out_dir=tmp_path / "b", tasks="native", verifier="sql",
                                        verification={"judge": {"model": "j", "api_key_var": "NO_SUCH_JUDGE_KEY"}}))  # fmt: skip
    with pytest.raises(NothingToEvaluate, match="has a task of its own"):
        preflight(BUNDLED, EvalSettings(out_dir=tmp_path / "c", tasks="native", verifier="sql",
                                        verification={"judge": {"model": "j", "api_key_var": ""}}))  # fmt: skip


@pytest.mark.verifiers("0.3")
def test_the_verifiers_environment_scores_the_same_rows_the_same_way(farm, reference_runs):
    import verifiers as vf
    from openai import AsyncOpenAI

    from awm_ray.env import load_environment
    from awm_ray.policy import PolicyServer, SolutionBook

    env = load_environment(dataset_name="bundled", tasks="native", tasks_per_scenario=2, max_turns=30, farm="auto",
                           farm_config={"farm": {"name": "native-eval", "namespace": "awm-ray"}})  # fmt: skip
    infos = [json.loads(i) for i in env.dataset["info"]]
    assert {i["task_kind"] for i in infos} == {"native"} and len(infos) == 8
    for policy in ("oracle", "spray"):
        _, eval_rows = reference_runs[policy]

        async def main():
            with PolicyServer(policy, solutions=SolutionBook.from_scenarios(BUNDLED)) as server:
                client = vf.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=server.base_url, api_key="unused"))
                return await env.evaluate(client=client, model=server.model, num_examples=8, rollouts_per_example=1,
                                          state_columns=["awm"])  # fmt: skip

        outputs = asyncio.run(main())["outputs"]
        assert len(outputs) == 8
        for output in outputs:
            awm = output["awm"]
            row = eval_rows[(awm["scenario"], awm["task_index"])]
            assert output["reward"] == row["reward"], (policy, awm["scenario"], awm["task_index"])
            assert output["metrics"]["task_complete"] == row["metrics"]["task_complete"]
            assert output["metrics"]["endpoint_hit"] == row["metrics"]["endpoint_hit"]
            assert awm["verification"]["result"] == row["verification"]["result"]
    asyncio.run(env.release_everything())
