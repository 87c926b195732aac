"""Rewards of one episode from what it did: the calls it made and, for a scenario's own task, how
its verification came out. The one scoring module of every façade (`awm-ray eval`, the verifiers
0.3 rubric, the verifiers 0.4 taskset), so all of them score the same way.

Two kinds of task (`TASK_KINDS`):

- `endpoint` (the seed's harness: "do what this endpoint does"): reward = `endpoint_hit`;
  monitor-only `tool_call_count`, `endpoint_success`, `tool_error_count`.
- `native` (the scenario's own task, checked by its verifier on the databases): reward =
  `task_complete` (1 when the code verifier says "complete", or in sql mode the judge's verdict is
  "complete"; 0 otherwise, a verifier or judge error included); monitor-only `endpoint_hit` and
  `endpoint_success` (against the reference solution's operations, when the task has them),
  `tool_call_count`, `tool_error_count`, `verifier_ms`.

```python
metrics = score_episode("native", targets, calls, verification)   # {"reward": 1.0, "task_complete": 1.0, ...}
weights = reward_weights("native")                                # {"task_complete": 1.0, "endpoint_hit": 0.0, ...}
```
`calls` are the episode's tool calls as rows record them (`{"operation_id", "status", "error", ...}`);
`verification` is a `awm_ray.verification.Verification` or its `to_dict()` (None: not verified).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TASK_KINDS = ("endpoint", "native")
REWARD_WEIGHTS = {"endpoint_hit": 1.0, "tool_call_count": 0.0, "endpoint_success": 0.0, "tool_error_count": 0.0}
NATIVE_REWARD_WEIGHTS = {
    "task_complete": 1.0, "endpoint_hit": 0.0, "endpoint_success": 0.0, "tool_call_count": 0.0,
    "tool_error_count": 0.0, "verifier_ms": 0.0,
}  # fmt: skip


def reward_weights(kind: str = "endpoint") -> dict[str, float]:
    """`{metric: weight}` of a task kind (weight 0 = monitor-only); the reward is their weighted sum."""
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown task kind {kind!r}; choose one of {', '.join(TASK_KINDS)}")
    return dict(NATIVE_REWARD_WEIGHTS if kind == "native" else REWARD_WEIGHTS)


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


def task_complete(verification: Any) -> float:
    """1 when the verification says the task is done: code mode's `result`, sql mode's judge
    `verdict`, is "complete" (and there was no error); else 0."""
    v = _as_dict(verification)
    if not v or v.get("error"):
        return 0.0
    outcome = v.get("verdict") if v.get("mode") == "sql" else v.get("result")
    return 1.0 if outcome == "complete" else 0.0


def verifier_ms(verification: Any) -> float:
    """Milliseconds the verifier took (0 when not verified)."""
    v = _as_dict(verification)
    return float(v.get("ms") or 0.0) if v else 0.0


def score(targets: Sequence[str], calls: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """An endpoint task's metrics, and `reward` = their weighted sum (only endpoint_hit counts)."""
    metrics = {
        "endpoint_hit": endpoint_hit(targets, calls),
        "tool_call_count": float(len(calls)),
        "endpoint_success": endpoint_success(targets, calls),
        "tool_error_count": tool_error_count(calls),
    }
    return {"reward": sum(REWARD_WEIGHTS[k] * v for k, v in metrics.items()), **metrics}


def score_native(targets: Sequence[str], calls: Sequence[Mapping[str, Any]], verification: Any) -> dict[str, float]:
    """A scenario's own task: metrics, and `reward` = their weighted sum (only task_complete counts)."""
    metrics = {
        "task_complete": task_complete(verification),
        "endpoint_hit": endpoint_hit(targets, calls),
        "endpoint_success": endpoint_success(targets, calls),
        "tool_call_count": float(len(calls)),
        "tool_error_count": tool_error_count(calls),
        "verifier_ms": verifier_ms(verification),
    }
    return {"reward": sum(NATIVE_REWARD_WEIGHTS[k] * v for k, v in metrics.items()), **metrics}


def score_episode(
    kind: str, targets: Sequence[str], calls: Sequence[Mapping[str, Any]], verification: Any = None
) -> dict[str, float]:
    """`score` for an endpoint task, `score_native` for a scenario's own task."""
    if kind == "native":
        return score_native(targets, calls, verification)
    if kind != "endpoint":
        raise ValueError(f"unknown task kind {kind!r}; choose one of {', '.join(TASK_KINDS)}")
    return score(targets, calls)


def _as_dict(verification: Any) -> Mapping[str, Any] | None:
    if verification is None:
        return None
    if isinstance(verification, Mapping):
        return verification
    to_dict = getattr(verification, "to_dict", None)
    return to_dict() if callable(to_dict) else None


# The monitor-only `llm_judge` of both verifiers façades asks this ({question}, {answer}, {response}).
JUDGE_PROMPT = """A user asked an assistant to operate an application through API tools.

Request:
```
{question}
```

Operations that accomplish it:
```
{answer}
```

The assistant's tool calls and final reply:
```
{response}
```

Did the assistant accomplish the request? Respond "yes" or "no" only."""
