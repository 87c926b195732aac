"""Validation of a scenario's own tasks: every verifier run once on the untouched database.

Each (task, mode) gets a status (the `tasks` list of the val_report; README "val_report"):

| status | meaning |
|---|---|
| `ok` | the verifier ran and, in code mode, said "others" (nothing done yet, nothing complete) |
| `degenerate` | code mode: it says "complete" before the agent did anything (nothing to do, or a wrong check) |
| `broken` | it does not compile, lacks its function, raises, returns no verdict, or tries what the sandbox refuses |
| `timeout` | it passed its wall-clock or CPU limit |
| `missing` | the task has no verifier in this mode |

Sql mode has no verdict of its own (the judge gives one from its evidence), so it is never
`degenerate`. Eval and the environments skip `degenerate` and `broken` tasks unless asked to keep them.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from awm_ray.scenario import Scenario
from awm_ray.scenario.native import VERIFIER_MODES
from awm_ray.verification.runner import Verification, VerifierRunner

SKIPPED_STATUSES = ("degenerate", "broken")
_MESSAGE_CHARS = 300


def task_status(v: Verification) -> str:
    """The val_report status of one run on the untouched database (see the module doc)."""
    if v.error == "missing":
        return "missing"
    if v.error == "timeout":
        return "timeout"
    if v.error is not None:
        return "broken"
    return "degenerate" if v.mode == "code" and v.result == "complete" else "ok"


async def check_tasks(runner: VerifierRunner, scenario: Scenario, template: str | Path) -> list[dict[str, Any]]:
    """One entry per task and mode: `{"index", "task", "verifier": {"mode", "status", "error",
    "message", "ms"}}`, each verifier run with the untouched `template` as both databases.

    Modes: those any of the scenario's tasks has a verifier in (code when none has one), so a
    task lacking one the others have is reported `missing`.
    """
    modes = [m for m in VERIFIER_MODES if any(m in t.verifiers for t in scenario.tasks)] or ["code"]
    entries = []
    for task in scenario.tasks:
        for mode in modes:
            v = await runner.verify(task.verifier(mode), template, template, None, mode=mode, task_index=task.index)
            message = (v.message or "").strip().splitlines()
            entries.append(
                {
                    "index": task.index,
                    "task": task.task,
                    "verifier": {
                        "mode": mode,
                        "status": task_status(v),
                        "error": v.error,
                        "message": message[0][:_MESSAGE_CHARS] if message else None,
                        "ms": round(v.ms, 1),
                    },
                }
            )
    return entries


def summarize_tasks(reports: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """`{mode: {status: count}}` over the `tasks` of many val_reports."""
    counts: dict[str, collections.Counter[str]] = {}
    for report in reports:
        for entry in report.get("tasks") or []:
            verifier = entry.get("verifier") or {}
            counts.setdefault(verifier.get("mode", "?"), collections.Counter())[verifier.get("status", "?")] += 1
    return {mode: dict(c) for mode, c in counts.items()}
