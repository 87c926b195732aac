"""Tasks from val_report: tolerant reading, deterministic seeded sampling, chained targets."""

from __future__ import annotations

import pytest

from awm_ray.scenario import parse_scenario, passed_operations, sample_tasks, tools_from_spec


@pytest.fixture()
def tools(awm_rows):
    return tools_from_spec(parse_scenario(awm_rows["content_platform_1"]).spec)


def ours(tools, failing=("get_channel_by_id",)):
    return {"endpoints": [{"operation_id": t.operation_id, "passed": t.operation_id not in failing} for t in tools.values()]}


@pytest.mark.parametrize(
    "report",
    [
        [{"operation_id": "a", "passed": True}, {"operation_id": "b", "passed": False}, {"operation_id": "c", "ok": True}],
        {"results": [{"operationId": "a", "status": "pass"}, {"tool": "b", "status": "fail"}, {"name": "c", "status_code": 201}]},
        {"a": True, "b": False, "c": {"status": 200}},
        {"a": 200, "b": 500, "c": "passed"},
        {"endpoints": {"a": {"success": True}, "b": {"status": "error"}, "c": {"code": "204"}}},
        [{"method": "GET", "path": "/a", "passed": True}, {"method": "GET", "path": "/b", "status": 404},
         {"method": "get", "path": "/c", "http_status": 200}],
    ],
)  # fmt: skip
def test_report_formats_are_read_tolerantly(report):
    spec = {"api_groups": [{"endpoints": [{"path": f"/{x}", "method": "GET", "operation_id": x} for x in "abc"]}]}
    assert passed_operations(report, tools_from_spec(spec)) == ["a", "c"]


def test_no_report_means_none():
    assert passed_operations(None) is None
    assert passed_operations({"unrelated": [1, 2]}) is None


def test_sampling_is_deterministic_and_changes_with_the_seed(tools):
    report = ours(tools)
    a = sample_tasks("content_platform_1", tools, report, 5, seed=0)
    b = sample_tasks("content_platform_1", tools, report, 5, seed=0)
    c = sample_tasks("content_platform_1", tools, report, 5, seed=1)
    assert a == b
    assert [t.targets for t in a] != [t.targets for t in c]
    assert len({t.targets for t in a}) == 5
    assert all(t.targets[0] != "get_channel_by_id" for t in a + c)  # only passed endpoints


def test_failed_endpoints_are_never_targets(tools):
    passing = ["search_channels", "create_playlist"]
    report = {"endpoints": [{"operation_id": op, "passed": op in passing} for op in tools]}
    tasks = sample_tasks("content_platform_1", tools, report, 10, seed=3)
    assert sorted(t.targets[0] for t in tasks) == sorted(passing)


def test_prompt_is_a_request_with_the_example_arguments(tools):
    report = {"endpoints": [{"operation_id": "search_channels", "passed": True}]}
    (task,) = sample_tasks("content_platform_1", tools, report, 1, seed=0)
    assert task.prompt == (
        "Please find channels whose name matches a search query, optionally with pagination. "
        'Use query = "Kurzgesagt", limit = 10, offset = 0.'
    )
    assert task.targets == ("search_channels",)


def test_chained_tasks(tools):
    tasks = sample_tasks("content_platform_1", tools, ours(tools), 4, seed=7, chain_length=2)
    assert len(tasks) == 4
    for task in tasks:
        assert len(task.targets) == 2 and task.targets[0] != task.targets[1]
        assert task.prompt.startswith("First, ") and " Then, " in task.prompt
    assert tasks == sample_tasks("content_platform_1", tools, ours(tools), 4, seed=7, chain_length=2)


def test_missing_or_empty_reports_raise_clearly(tools):
    with pytest.raises(ValueError, match="no val_report"):
        sample_tasks("content_platform_1", tools, None, 1, seed=0)
    with pytest.raises(ValueError, match="0 passed endpoint"):
        sample_tasks("content_platform_1", tools, {"endpoints": []}, 1, seed=0)
