"""The scripted agents: each mode's next message for a conversation (pure, stateless).

Modes:
- `oracle`: parses the first user message as `awm_ray.scenario.tasks.task_prompt` phrases it
  ("Please ... Use a = 1, b = \"x\"." or "First, please ... Then, please ..."), matches each step to
  the tool whose description fits best, calls the tools in step order, then answers.
- `random`: calls 1-3 random tools with example arguments, deterministic for (seed, conversation).
- `noop`: answers at once, no tool calls.
- `spray`: calls every tool once, in the order offered, with its example arguments, then answers:
  what gaming `endpoint_hit` looks like (it hits every target and does no task).

Given a `SolutionBook`, `oracle` plays the reference solution of a scenario's own task (matched by
the task's text and the tools offered) instead of parsing the prompt, and answers with the
solution's answer when the task asks a question.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from typing import Any

from awm_ray.scenario.native import Solution
from awm_ray.text import loads

from .conversation import (
    _answer,
    _Call,
    _calls_so_far,
    _digest,
    _final,
    _first_user_text,
    _forced_tool,
    _same_json,
    _tool_call,
    _tool_defs,
)
from .matching import rank_tools
from .prompts import Step, parse_steps
from .solutions import SolutionBook

log = logging.getLogger(__name__)

MODES = ("oracle", "random", "noop", "spray")
MODEL_PREFIX = "awm-ray-reference-"
HARNESS_NOTE = "a harness check, not a model score"
_PLACEHOLDERS: dict[str | None, Any] = {
    "string": "example", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {},
}  # fmt: skip


def model_id(mode: str) -> str:
    """The model id a policy serves, e.g. `awm-ray-reference-oracle`."""
    return f"{MODEL_PREFIX}{mode}"


def next_message(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    mode: str,
    seed: int = 0,
    tool_choice: Any = None,
    solutions: SolutionBook | None = None,
) -> dict[str, Any]:
    """The assistant's next message for this conversation: one tool call, or a final answer.

    `tools` are OpenAI tools (`{"type": "function", "function": {...}}`) or bare definitions
    (`{"name", "description", "parameters"}`). `tool_choice` "none" forces an answer; a named
    function restricts the choice to it. `solutions`: reference solutions the oracle plays for
    the tasks they solve. Pure: the same input gives the same message.
    """
    if mode not in MODES:
        raise ValueError(f"unknown policy mode {mode!r}; choose one of {', '.join(MODES)}")
    defs = _tool_defs(tools)
    forced = _forced_tool(tool_choice)
    if forced is not None:
        defs = [d for d in defs if d["name"] == forced] or defs
    calls = _calls_so_far(messages)
    if mode == "noop" or tool_choice == "none" or not defs:
        reason = "reference noop policy" if mode == "noop" else "no tool to call"
        return _answer(f"No action taken ({reason}; {HARNESS_NOTE}).") if not calls else _final(calls)
    if mode == "random":
        return _random_turn(messages, defs, calls, seed)
    if mode == "spray":
        return _spray_turn(messages, defs, calls)
    solution = solutions.lookup(_first_user_text(messages), (d["name"] for d in defs)) if solutions else None
    if solution is not None:
        return _solution_turn(messages, solution, calls)
    return _oracle_turn(messages, defs, calls)


def _spray_turn(messages: Sequence[Mapping[str, Any]], defs: list[dict[str, Any]], calls: list[_Call]) -> dict[str, Any]:
    """Every tool once, in the order offered, with example arguments; then the usual summary."""
    if len(calls) >= len(defs):
        return _final(calls)
    tool = defs[len(calls)]
    return _tool_call(messages, tool["name"], _example_arguments(tool))


def _solution_turn(messages: Sequence[Mapping[str, Any]], solution: Solution, calls: list[_Call]) -> dict[str, Any]:
    """The solution's next call (whatever the earlier ones answered), then its answer."""
    if len(calls) < len(solution.calls):
        step = solution.calls[len(calls)]
        log.debug("oracle: solution step %d/%d -> %s", len(calls) + 1, len(solution.calls), step.tool)
        return _tool_call(messages, step.tool, dict(step.arguments))
    return _answer(solution.answer) if solution.answer else _final(calls)


def _oracle_turn(messages: Sequence[Mapping[str, Any]], defs: list[dict[str, Any]], calls: list[_Call]) -> dict[str, Any]:
    steps = parse_steps(_first_user_text(messages))
    by_name = {d["name"]: d for d in defs}
    plan = [rank_tools(step, defs)[0][1] for step in steps]
    step, tries = 0, 0
    for call in calls:  # replay the conversation: which step are we on, is a retry due?
        if step >= len(steps):
            break
        tries += 1
        retry = _example_arguments(by_name[plan[step]])
        failed = call.result is not None and call.result.lstrip().startswith("Error:")
        if failed and tries == 1 and not _same_json(call.arguments, retry):
            continue
        step, tries = step + 1, 0
    if step >= len(steps):
        return _final(calls)
    tool = by_name[plan[step]]
    if tries == 1:  # the first try of this step failed: retry once with the schema's examples
        log.debug("oracle: retrying step %d (%s) with schema examples", step + 1, tool["name"])
        return _tool_call(messages, tool["name"], _example_arguments(tool))
    arguments = _oracle_arguments(steps[step], tool, calls)
    log.debug("oracle: step %d/%d -> %s", step + 1, len(steps), tool["name"])
    return _tool_call(messages, tool["name"], arguments)


def _oracle_arguments(step: Step, tool: Mapping[str, Any], calls: Sequence[_Call]) -> dict[str, Any]:
    """The step's own arguments the tool takes; then examples, earlier ids, placeholders for required."""
    props: Mapping[str, Any] = tool["parameters"].get("properties") or {}
    arguments = {k: v for k, v in step.arguments.items() if k in props}
    for name in tool["parameters"].get("required") or []:
        if name in arguments:
            continue
        schema = props.get(name) or {}
        if schema.get("examples"):
            arguments[name] = schema["examples"][0]
        elif (seen := _id_from_results(name, calls)) is not None:
            arguments[name] = seen
        else:
            arguments[name] = _PLACEHOLDERS.get(schema.get("type"), "example")
    return arguments


def _id_from_results(name: str, calls: Sequence[_Call]) -> Any:
    """A value for `name` (or an `id`, for `..._id` names) from the latest tool result that has one."""
    keys = [name] + (["id"] if name == "id" or name.endswith("_id") else [])
    for call in reversed(calls):
        body = _json_body(call.result)
        if body is None:
            continue
        for key in keys:
            found = _find_key(body, key)
            if found is not None:
                return found
    return None


def _find_key(value: Any, key: str) -> Any:
    """Breadth-first: the first scalar under `key` in a JSON value."""
    layer = [value]
    for _ in range(6):
        nxt: list[Any] = []
        for item in layer:
            if isinstance(item, Mapping):
                found = item.get(key)
                if isinstance(found, (str, int, float)) and not isinstance(found, bool):
                    return found
                nxt.extend(v for v in item.values() if isinstance(v, (Mapping, list)))
            elif isinstance(item, list):
                nxt.extend(v for v in item if isinstance(v, (Mapping, list)))
        layer = nxt
    return None


def _json_body(result: str | None) -> Any:
    if not result or result.lstrip().startswith("Error:"):
        return None
    text = result.split("\n", 1)[1] if result.startswith("HTTP ") and "\n" in result else result
    try:
        return loads(text)
    except json.JSONDecodeError:
        return None


def _random_turn(
    messages: Sequence[Mapping[str, Any]], defs: list[dict[str, Any]], calls: list[_Call], seed: int
) -> dict[str, Any]:
    wanted = 1 + random.Random(f"awm-ray-policy:{seed}:{_first_user_text(messages)}").randrange(3)
    if len(calls) >= wanted:
        return _final(calls)
    rng = random.Random(_digest(seed, messages))
    tool = rng.choice(defs)
    required = set(tool["parameters"].get("required") or [])
    arguments = {
        k: v for k, v in _example_arguments(tool).items() if k in required or rng.random() < 0.5
    }
    return _tool_call(messages, tool["name"], arguments)


def _example_arguments(tool: Mapping[str, Any]) -> dict[str, Any]:
    """Each parameter's first schema example; required ones without an example get a typed placeholder."""
    props: Mapping[str, Any] = tool["parameters"].get("properties") or {}
    required = set(tool["parameters"].get("required") or [])
    arguments: dict[str, Any] = {}
    for name, schema in props.items():
        schema = schema if isinstance(schema, Mapping) else {}
        if schema.get("examples"):
            arguments[name] = schema["examples"][0]
        elif name in required:
            arguments[name] = _PLACEHOLDERS.get(schema.get("type"), "example")
    return arguments
