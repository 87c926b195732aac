"""Tasks sampled from the endpoints a scenario's validation report says work.

`val_report` is read tolerantly, because the upstream format is unpublished. Accepted:
- awm-ray's own report: `{"endpoints": [{"operation_id": ..., "passed": true, ...}], ...}`;
- any list of per-endpoint entries, or such a list under `endpoints`, `results`, `report`,
  `endpoint_results` or `val_report`;
- a mapping `{operation_id: entry}`.
An entry names its endpoint by `operation_id` (or `operationId`, `tool`, `name`, `endpoint`), or by
`method` + `path`; it passes when a flag `passed`/`pass`/`ok`/`success`/`valid` is true, or a
`status` is "pass"/"passed"/"ok"/"success", or a status code (`status_code`, `code`,
`http_status`, or a numeric `status`, or the entry itself) is 2xx. An entry that is a bare `true`
passes too.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from awm_ray.scenario.model import Scenario
from awm_ray.scenario.native import NativeTask, choose_tasks
from awm_ray.scenario.tools import Tool, Toolset, tools_from_spec

SYSTEM_PROMPT = (
    "You operate a web application through its API tools. Do what the user asks by calling the "
    "tools; when the request is done, reply with a short summary of what you did."
)
_ID_KEYS = ("operation_id", "operationId", "tool", "tool_name", "name", "endpoint")
_FLAG_KEYS = ("passed", "pass", "ok", "success", "valid")
_CODE_KEYS = ("status_code", "code", "http_status", "status")
_PASS_WORDS = {"pass", "passed", "ok", "success", "succeeded", "valid"}
_WRAPPERS = ("endpoints", "results", "report", "endpoint_results", "val_report")


@dataclass(frozen=True)
class Task:
    """One thing to ask of an agent: a prompt and the operation(s) that accomplish it."""

    scenario: str
    prompt: str
    targets: tuple[str, ...]  # operation_ids, in the order a chained task wants them

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "prompt": self.prompt, "targets": list(self.targets)}


def passed_operations(val_report: Any, tools: Toolset | None = None) -> list[str] | None:
    """The operation_ids a validation report marks as passed, in report order.

    Returns None when there is no report (or nothing in it looks like an endpoint entry).
    """
    entries = _entries(val_report)
    if entries is None:
        return None
    by_route = {(t.method, t.path): t.operation_id for t in (tools or {}).values()} if tools else {}
    passed: list[str] = []
    for key, entry in entries:
        operation = key or _entry_id(entry, by_route)
        if operation and _passes(entry) and operation not in passed:
            passed.append(operation)
    return passed


def sample_tasks(
    scenario: str,
    tools: Toolset,
    val_report: Any,
    count: int,
    seed: int,
    chain_length: int = 1,
) -> list[Task]:
    """`count` tasks over passed endpoints, the same for the same (scenario, seed).

    With `chain_length` > 1 each task chains that many distinct passed endpoints. Raises
    `ValueError` when the report is missing or lists no passed endpoint of these tools.
    """
    passed = passed_operations(val_report, tools)
    if passed is None:
        raise ValueError(f"scenario {scenario!r} has no val_report: run `awm-ray validate --write-dataset DIR` first")
    known = {t.operation_id for t in tools.values()}
    candidates = [op for op in passed if op in known]
    if len(candidates) < max(1, chain_length):
        raise ValueError(
            f"scenario {scenario!r}: {len(candidates)} passed endpoint(s), need {max(1, chain_length)} for a task"
        )
    rng = random.Random(f"awm-ray:{seed}:{scenario}")
    if chain_length <= 1:
        picks = rng.sample(candidates, min(count, len(candidates)))
        chains = [[p] for p in picks]
    else:
        chains, seen = [], set()
        for _ in range(count * 20):
            chain = tuple(rng.sample(candidates, chain_length))
            if chain not in seen:
                seen.add(chain)
                chains.append(list(chain))
            if len(chains) == count:
                break
    return [Task(scenario, task_prompt([tools.by_operation_id(op) for op in chain]), tuple(chain)) for chain in chains]


def scenario_tasks(
    scenarios: Iterable[Scenario], count: int, seed: int, chain_length: int, skipped: list[str]
) -> Iterator[tuple[Scenario, Toolset, list[Task]]]:
    """Each scenario with its tools and its sampled tasks; one that cannot give tasks is added to
    `skipped` with the reason."""
    for scenario in scenarios:
        if scenario.spec is None:
            skipped.append(f"{scenario.name}: no spec (validate it and use the written dataset)")
            continue
        tools = tools_from_spec(scenario.spec)
        try:
            tasks = sample_tasks(scenario.name, tools, scenario.val_report, count, seed, chain_length)
        except ValueError as exc:
            skipped.append(str(exc))
            continue
        yield scenario, tools, tasks


def native_scenario_tasks(
    scenarios: Iterable[Scenario],
    count: int | None,
    mode: str,
    include_degenerate: bool,
    skipped: list[str],
    skipped_tasks: dict[str, int] | None = None,
) -> Iterator[tuple[Scenario, Toolset, list[NativeTask]]]:
    """Each scenario with its tools and the own tasks to play with `mode` verifiers (at most `count`
    per scenario, `choose_tasks`); a scenario with none is added to `skipped` with the reason, and
    the tasks left out are counted by reason in `skipped_tasks` (`no_verifier`, `degenerate`, `broken`)."""
    for scenario in scenarios:
        if not scenario.tasks:
            skipped.append(f"{scenario.name}: no tasks of its own")
            continue
        if scenario.spec is None:
            skipped.append(f"{scenario.name}: no spec (validate it and use the written dataset)")
            continue
        tasks, left_out = choose_tasks(scenario.tasks, scenario.val_report, mode, count, include_degenerate)
        for reason, n in left_out.items():
            if skipped_tasks is not None:
                skipped_tasks[reason] = skipped_tasks.get(reason, 0) + n
        if not tasks:
            reasons = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in left_out.items())
            skipped.append(f"{scenario.name}: none of its {len(scenario.tasks)} tasks can be played with {mode} "
                           f"verifiers ({reasons})")  # fmt: skip
            continue
        yield scenario, tools_from_spec(scenario.spec), tasks


def task_prompt(tools: Iterable[Tool]) -> str:
    """A user request built from the endpoints' descriptions and their example arguments."""
    steps = [_request_for(tool) for tool in tools]
    if len(steps) == 1:
        return steps[0]
    return " ".join(f"{'First' if i == 0 else 'Then'}, {s[0].lower()}{s[1:]}" for i, s in enumerate(steps))


def _request_for(tool: Tool) -> str:
    text = tool.purpose.strip().rstrip(".") or f"call {tool.operation_id}"
    first, _, rest = text.partition(" ")
    first = _imperative(first)
    sentence = f"Please {first.lower() if not first.isupper() else first} {rest}".strip() + "."
    args = tool.example_arguments()
    if args:
        sentence += " Use " + ", ".join(f"{k} = {_show(v)}" for k, v in args.items()) + "."
    return sentence


def _imperative(word: str) -> str:
    """'Returns' -> 'Return', 'Searches' -> 'Search'; an imperative stays as it is."""
    if re.fullmatch(r"[A-Z][a-z]+(ches|shes|sses|xes)", word):
        return word[:-2]
    if re.fullmatch(r"[A-Z][a-z]+ies", word):
        return word[:-3] + "y"
    if re.fullmatch(r"[A-Z][a-z]+[^s]s", word) and word.lower() not in {"process", "access", "focus"}:
        return word[:-1]
    return word


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _entries(report: Any) -> list[tuple[str | None, Any]] | None:
    if report is None:
        return None
    if isinstance(report, Mapping):
        for key in _WRAPPERS:
            if isinstance(report.get(key), (list, Mapping)):
                return _entries(report[key])
        items = [(str(k), v) for k, v in report.items() if isinstance(v, (Mapping, bool, int, str))]
        return items or None
    if isinstance(report, list):
        return [(None, e) for e in report if isinstance(e, Mapping)]
    return None


def _entry_id(entry: Any, by_route: Mapping[tuple[str, str], str]) -> str | None:
    if not isinstance(entry, Mapping):
        return None
    for key in _ID_KEYS:
        if isinstance(entry.get(key), str) and entry[key]:
            return entry[key]
    method, path = entry.get("method"), entry.get("path")
    if isinstance(method, str) and isinstance(path, str):
        return by_route.get((method.upper(), path))
    return None


def _passes(entry: Any) -> bool:
    if isinstance(entry, bool):
        return entry
    if isinstance(entry, int):
        return 200 <= entry < 300
    if isinstance(entry, str):
        return entry.strip().lower() in _PASS_WORDS
    if not isinstance(entry, Mapping):
        return False
    for key in _FLAG_KEYS:
        if isinstance(entry.get(key), bool):
            return entry[key]
    for key in _CODE_KEYS:
        value = entry.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return 200 <= value < 300
        if isinstance(value, str):
            if value.strip().isdigit():
                return 200 <= int(value) < 300
            return value.strip().lower() in _PASS_WORDS
    return False
