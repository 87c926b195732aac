"""Rewards of one episode from what it did: the target operations and the calls it made.

Shared by the verifiers rubric and the batched evaluator, so both score the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REWARD_WEIGHTS = {"endpoint_hit": 1.0, "tool_call_count": 0.0, "endpoint_success": 0.0, "tool_error_count": 0.0}


def endpoint_hit(targets: Sequence[str], calls: Iterable[Mapping[str, Any]]) -> float:
    """1 when every target operation was called (any order), else 0."""
    called = {c.get("operation_id") for c in calls}
    return 1.0 if targets and set(targets) <= called else 0.0


def endpoint_success(targets: Sequence[str], calls: Iterable[Mapping[str, Any]]) -> float:
    """1 when every target was called and answered 2xx at least once."""
    ok = {c.get("operation_id") for c in calls if c.get("status") and 200 <= c["status"] < 300}
    return 1.0 if targets and set(targets) <= ok else 0.0


def tool_error_count(calls: Iterable[Mapping[str, Any]]) -> float:
    """Calls that never reached the app (bad arguments, unknown tool, timeout) or answered >= 400."""
    return float(sum(1 for c in calls if c.get("error") or (c.get("status") or 0) >= 400))


def score(targets: Sequence[str], calls: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """All metrics, and `reward` = their weighted sum (only endpoint_hit counts)."""
    metrics = {
        "endpoint_hit": endpoint_hit(targets, calls),
        "tool_call_count": float(len(calls)),
        "endpoint_success": endpoint_success(targets, calls),
        "tool_error_count": tool_error_count(calls),
    }
    return {"reward": sum(REWARD_WEIGHTS[k] * v for k, v in metrics.items()), **metrics}
