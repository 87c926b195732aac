"""AWM's own tasks and their generated verifiers, parsed from a dataset row (pure data).

AWM-1K ships ten natural-language tasks per scenario (`gen_tasks.jsonl`: `{"scenario", "tasks":
[str, ...]}`) and, per task, generated code that compares the database before and after an episode,
in two modes (rows `{"scenario", "task_idx", "task", "verification": {"code": str}}`):

- **code** (`gen_verifier.pure_code.jsonl`): `verify_task_completion(initial_db_path, final_db_path,
  final_answer=None) -> {"result": "complete" | "others"}`: a verdict on its own;
- **sql** (`gen_verifier.jsonl`): `verify_task(initial_db_path, final_db_path) -> dict`: evidence
  only, which an LLM judge turns into a verdict.

A row carries them as `tasks` (a list of strings, or of objects `{"task", "targets"?, "solution"?}`)
and `verifiers` (`{"code": [rows], "sql": [rows]}` with the upstream rows above, or one list of such
rows whose mode is named by a `mode` key or recognised from the function the code defines). Each
may be a JSON string; `solutions` (a list parallel to `tasks`) holds reference solutions
`{"calls": [{"tool", "arguments"}], "answer": str | null}`. `targets` (the operations a reference
solution calls) and solutions (for the reference policy only: never shown to a model) exist for
tasks awm-ray writes itself (bundled and synthetic scenarios); upstream tasks have neither.

Scenario names are joined across files by `normalise_name`, so a display name
("DocuSign (E-Signature & Agreement Workflow)") meets its normalised id
(`docusign_e_signature_agreement_workflow`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VERIFIER_MODES = ("code", "sql")
# the function each mode's code defines (AWM's names)
VERIFIER_FUNCTIONS = {"code": "verify_task_completion", "sql": "verify_task"}
# what `awm-ray validate` records per task (README "val_report")
TASK_STATUSES = ("ok", "degenerate", "broken", "timeout", "missing")
_DEF_RE = {mode: re.compile(rf"^\s*(?:async\s+)?def\s+{name}\s*\(", re.MULTILINE) for mode, name in VERIFIER_FUNCTIONS.items()}


class TaskFormatError(ValueError):
    """A `tasks` or `verifiers` value that cannot be read; `field` names where."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Verifier:
    """One task's generated verification code in one mode ("code" or "sql")."""

    mode: str
    code: str

    @property
    def function(self) -> str:
        """The function the code is expected to define (`verify_task_completion` / `verify_task`)."""
        return VERIFIER_FUNCTIONS[self.mode]

    def to_row(self, index: int, task: str) -> dict[str, Any]:
        """The upstream row shape (without `scenario`)."""
        return {"task_idx": index, "task": task, "verification": {"code": self.code}}


@dataclass(frozen=True, eq=False)
class ToolStep:
    """One tool call of a reference solution: the tool (operation id) and its arguments."""

    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "arguments": dict(self.arguments)}


@dataclass(frozen=True, eq=False)
class Solution:
    """A reference solution: tool calls in order, then (for a task that asks a question) the answer."""

    calls: tuple[ToolStep, ...] = ()
    answer: str | None = None

    @property
    def tools(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.tool for step in self.calls))

    def to_dict(self) -> dict[str, Any]:
        return {"calls": [c.to_dict() for c in self.calls], "answer": self.answer}


@dataclass(frozen=True, eq=False)
class NativeTask:
    """One of the scenario's own tasks: its text, its verifiers by mode, and (when known) the
    operations and tool calls of a reference solution."""

    index: int
    task: str
    verifiers: Mapping[str, Verifier] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    solution: Solution | None = None

    def verifier(self, mode: str) -> Verifier | None:
        if mode not in VERIFIER_MODES:
            raise ValueError(f"unknown verifier mode {mode!r}; choose one of {', '.join(VERIFIER_MODES)}")
        return self.verifiers.get(mode)


def normalise_name(name: str) -> str:
    """A scenario's join key: lower case, runs of anything but letters and digits as one `_`.

    >>> normalise_name("DocuSign (E-Signature & Agreement Workflow)")
    'docusign_e_signature_agreement_workflow'
    """
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def verifier_mode(code: str) -> str | None:
    """The mode whose function `code` defines ("code" first: its name contains the other's)."""
    for mode in ("code", "sql"):
        if _DEF_RE[mode].search(code):
            return mode
    return None


def parse_native_tasks(tasks: Any, verifiers: Any = None, solutions: Any = None) -> tuple[NativeTask, ...]:
    """The row's `tasks`, `verifiers` and (optional, parallel to tasks) `solutions` as NativeTasks.

    Verifier rows whose `task_idx` has no task text take their own `task` text. Raises
    `TaskFormatError` for a value that is not in one of the shapes in the module doc.
    """
    texts = _task_entries(_loads("tasks", tasks))
    by_mode = _verifier_rows(_loads("verifiers", verifiers))
    solutions = _loads("solutions", solutions)
    if solutions is not None and not isinstance(solutions, list):
        raise TaskFormatError("solutions", f"expected a list parallel to tasks, got {type(solutions).__name__}")
    indexes = sorted(set(texts) | {i for rows in by_mode.values() for i in rows})
    out = []
    for index in indexes:
        entry = texts.get(index, {})
        text = entry.get("task")
        found: dict[str, Verifier] = {}
        for mode, rows in by_mode.items():
            row = rows.get(index)
            if row is None:
                continue
            text = text or row.get("task")
            found[mode] = Verifier(mode, row["code"])
        if not isinstance(text, str) or not text.strip():
            raise TaskFormatError(f"tasks[{index}]", "a task needs its text (a non-empty string)")
        solution = entry.get("solution")
        if solution is None and solutions is not None and index < len(solutions):
            solution = solutions[index]
        out.append(
            NativeTask(
                index=index,
                task=text.strip(),
                verifiers=found,
                targets=tuple(entry.get("targets") or ()),
                solution=None if solution is None else _solution(index, solution),
            )
        )
    return tuple(out)


def tasks_to_row(tasks: Sequence[NativeTask]) -> dict[str, str]:
    """The row columns `tasks`, `verifiers` and `solutions` as JSON strings.

    Always strings (`"[]"`, `"{}"` when there is nothing), so that every row of a written dataset has
    the same column types (`datasets` refuses shards whose column is null in one and text in another).
    """
    entries: list[Any] = [{"task": t.task, "targets": list(t.targets)} if t.targets else t.task for t in tasks]
    if [t.index for t in tasks] != list(range(len(tasks))):  # keep each task's own index
        entries = [dict(e if isinstance(e, dict) else {"task": e}, index=t.index) for e, t in zip(entries, tasks, strict=True)]
    verifiers = {
        mode: [t.verifiers[mode].to_row(t.index, t.task) for t in tasks if mode in t.verifiers] for mode in VERIFIER_MODES
    }
    solutions = []
    if any(t.solution is not None for t in tasks):
        solutions = [None if t.solution is None else t.solution.to_dict() for t in tasks]
    return {
        "tasks": json.dumps(entries, ensure_ascii=False),
        "verifiers": json.dumps({m: rows for m, rows in verifiers.items() if rows}, ensure_ascii=False),
        "solutions": json.dumps(solutions, ensure_ascii=False),
    }


def task_statuses(val_report: Any, mode: str) -> dict[int, str]:
    """`{task index: status}` that `awm-ray validate` recorded for the verifiers of `mode`.

    Reads the val_report's `tasks` list (one entry per task and mode: `{"index", "task", "verifier":
    {"mode", "status", ...}}`); empty when the report has none.
    """
    if not isinstance(val_report, Mapping) or not isinstance(val_report.get("tasks"), list):
        return {}
    out: dict[int, str] = {}
    for entry in val_report["tasks"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("index"), int):
            continue
        verifier = entry.get("verifier")
        if isinstance(verifier, Mapping) and verifier.get("mode") == mode and isinstance(verifier.get("status"), str):
            out[entry["index"]] = verifier["status"]
    return out


def choose_tasks(
    tasks: Sequence[NativeTask], val_report: Any, mode: str, count: int | None = None, include_degenerate: bool = False
) -> tuple[list[NativeTask], dict[str, int]]:
    """The tasks an evaluation plays in `mode`, in index order, at most `count`; and what it skipped.

    Skipped (`{reason: count}`): tasks with no verifier in `mode` (`no_verifier`), and, unless
    `include_degenerate`, those `awm-ray validate` marked `degenerate` or `broken` in `val_report`.
    """
    statuses = task_statuses(val_report, mode)
    chosen: list[NativeTask] = []
    skipped: dict[str, int] = {}
    for task in sorted(tasks, key=lambda t: t.index):
        reason = None
        if task.verifier(mode) is None:
            reason = "no_verifier"
        elif not include_degenerate and statuses.get(task.index) in ("degenerate", "broken"):
            reason = statuses[task.index]
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
        elif count is None or len(chosen) < count:
            chosen.append(task)
    return chosen, skipped


# ---- reading --------------------------------------------------------------------------------


def _loads(name: str, value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise TaskFormatError(name, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    return value


def _task_entries(value: Any) -> dict[int, dict[str, Any]]:
    if value is None:
        return {}
    if isinstance(value, Mapping) and "tasks" in value:  # a whole gen_tasks row
        value = value["tasks"]
    if not isinstance(value, list):
        raise TaskFormatError("tasks", f"expected a list of task texts, got {type(value).__name__}")
    out: dict[int, dict[str, Any]] = {}
    for position, item in enumerate(value):
        if isinstance(item, str):
            out[position] = {"task": item}
        elif isinstance(item, Mapping):
            index = item.get("index", item.get("task_idx", position))
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise TaskFormatError(f"tasks[{position}].index", f"expected an integer >= 0, got {index!r}")
            text = item.get("task", item.get("prompt"))
            targets = item.get("targets") or ()
            if not isinstance(targets, (list, tuple)) or not all(isinstance(t, str) for t in targets):
                raise TaskFormatError(f"tasks[{position}].targets", "expected a list of operation ids")
            out[index] = {"task": text, "targets": tuple(targets), "solution": item.get("solution")}
        elif item is not None:
            raise TaskFormatError(f"tasks[{position}]", f"expected a string or an object, got {type(item).__name__}")
    return out


def _verifier_rows(value: Any) -> dict[str, dict[int, dict[str, Any]]]:
    """`{mode: {task_idx: {"code", "task"}}}` from the accepted shapes."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    if value is None:
        return out
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in VERIFIER_MODES]
        if unknown:
            raise TaskFormatError("verifiers", f"expected keys {' / '.join(VERIFIER_MODES)}, got {unknown[0]!r}")
        items = [(mode, row) for mode, rows in value.items() if rows is not None for row in _as_list(mode, rows)]
    elif isinstance(value, list):
        items = [(None, row) for row in value]
    else:
        raise TaskFormatError("verifiers", f"expected an object by mode or a list of rows, got {type(value).__name__}")
    for position, (mode, row) in enumerate(items):
        where = f"verifiers.{mode}[{position}]" if mode else f"verifiers[{position}]"
        if not isinstance(row, Mapping):
            raise TaskFormatError(where, f"expected an object, got {type(row).__name__}")
        verification = row.get("verification")
        if isinstance(verification, str):
            verification = _loads(f"{where}.verification", verification)
        code = verification.get("code") if isinstance(verification, Mapping) else row.get("code")
        if not isinstance(code, str) or not code.strip():
            raise TaskFormatError(f"{where}.verification.code", "expected the verifier's code (a non-empty string)")
        index = row.get("task_idx", row.get("index"))
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise TaskFormatError(f"{where}.task_idx", f"expected an integer >= 0, got {index!r}")
        row_mode = row.get("mode") or mode or verifier_mode(code)
        if row_mode is None:
            # code that defines neither function: keep it under the mode its file says, or call it
            # code mode; running it reports the missing function as its error
            row_mode = "code"
        if row_mode not in VERIFIER_MODES:
            raise TaskFormatError(f"{where}.mode", f"expected one of {', '.join(VERIFIER_MODES)}, got {row_mode!r}")
        out.setdefault(row_mode, {})[index] = {"code": code, "task": row.get("task")}
    return out


def _as_list(mode: str, rows: Any) -> list:
    rows = _loads(f"verifiers.{mode}", rows)
    if not isinstance(rows, list):
        raise TaskFormatError(f"verifiers.{mode}", f"expected a list of rows, got {type(rows).__name__}")
    return rows


def _solution(index: int, value: Any) -> Solution:
    """`{"calls": [{"tool", "arguments"}], "answer": str | None}`, or the calls alone as a list."""
    where = f"solutions[{index}]"
    answer = None
    if isinstance(value, Mapping):
        answer = value.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise TaskFormatError(f"{where}.answer", f"expected a string, got {type(answer).__name__}")
        value = value.get("calls", [])
    if not isinstance(value, list):
        raise TaskFormatError(where, f"expected a list of tool calls, got {type(value).__name__}")
    steps = []
    for position, step in enumerate(value):
        tool = step.get("tool") if isinstance(step, Mapping) else None
        arguments = step.get("arguments", {}) if isinstance(step, Mapping) else None
        if not isinstance(tool, str) or not isinstance(arguments, Mapping):
            raise TaskFormatError(f"{where}[{position}]", "expected {'tool': str, 'arguments': {...}}")
        steps.append(ToolStep(tool, dict(arguments)))
    return Solution(tuple(steps), answer)
