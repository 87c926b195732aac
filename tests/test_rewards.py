"""The one scoring module: endpoint tasks and a scenario's own tasks (code and sql mode)."""

from __future__ import annotations

import pytest

from awm_ray import rewards
from awm_ray.verification import Verification

CALLS = [
    {"operation_id": "add_book_to_cart", "status": 201, "error": None},
    {"operation_id": "place_order", "status": 400, "error": None},
    {"operation_id": "search_books", "status": None, "error": "arguments"},
]


def test_endpoint_tasks_score_as_before():
    metrics = rewards.score_episode("endpoint", ["add_book_to_cart"], CALLS)
    assert metrics == {"reward": 1.0, "endpoint_hit": 1.0, "tool_call_count": 3.0, "endpoint_success": 1.0,
                       "tool_error_count": 2.0}  # fmt: skip
    assert rewards.reward_weights("endpoint") == rewards.REWARD_WEIGHTS


@pytest.mark.parametrize(
    ("verification", "complete"),
    [
        (Verification("code", 0, result="complete", ms=12.5), 1.0),
        (Verification("code", 0, result="others", ms=3.0), 0.0),
        (Verification("code", 0, error="timeout", ms=10000.0), 0.0),
        (Verification("sql", 0, evidence={"n": 1}, verdict="complete", ms=8.0), 1.0),
        (Verification("sql", 0, evidence={"n": 1}, verdict="incomplete", ms=8.0), 0.0),
        (Verification("sql", 0, evidence={"n": 1}, verdict=None, judge_error="HTTP 500", ms=8.0), 0.0),
        (None, 0.0),
    ],
)
def test_native_tasks_reward_only_task_complete(verification, complete):
    for given in (verification, verification.to_dict() if verification else None):
        metrics = rewards.score_episode("native", ["place_order"], CALLS, given)
        assert metrics["reward"] == metrics["task_complete"] == complete
        assert metrics["endpoint_hit"] == 1.0 and metrics["endpoint_success"] == 0.0  # monitor-only
        assert metrics["tool_call_count"] == 3.0 and metrics["tool_error_count"] == 2.0
        assert metrics["verifier_ms"] == (verification.ms if verification else 0.0)
    weights = rewards.reward_weights("native")
    assert weights["task_complete"] == 1.0 and sum(weights.values()) == 1.0
    assert set(weights) | {"reward"} == set(metrics)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown task kind"):
        rewards.score_episode("vibes", [], [])
