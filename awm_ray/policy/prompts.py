"""Reading a task prompt: its steps and each step's `Use name = value, ...` arguments."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

@dataclass(frozen=True)
class Step:
    """One request of a task prompt: its text (without "Please" and the Use clause) and arguments."""

    text: str
    arguments: dict[str, Any] = field(default_factory=dict)


def parse_steps(prompt: str) -> list[Step]:
    """Split a task prompt into steps and read each step's `Use name = value, ...` clause.

    Values are JSON literals (as `task_prompt` writes them); anything else is kept as a string.
    A prompt not in that shape becomes one step with no arguments.
    """
    text = prompt.strip()
    chained = re.match(r"first,\s*", text, re.IGNORECASE)
    if chained:
        text = text[chained.end() :]
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        use = _USE_RE.search(text, pos)
        then = _THEN_RE.search(text, pos) if chained else None
        if then is not None and (use is None or then.start() < use.start()):
            steps.append(Step(_clean_step(text[pos : then.start()])))
            pos = then.end()
            continue
        if use is None:
            steps.append(Step(_clean_step(text[pos:])))
            break
        request = _clean_step(text[pos : use.start()])
        arguments, pos = _parse_use_clause(text, use.end())
        steps.append(Step(request, arguments))
        following = _THEN_RE.match(text, pos) if chained else None
        if following is None:
            break
        pos = following.end()
    return [s for s in steps if s.text or s.arguments] or [Step(_clean_step(prompt))]


_USE_RE = re.compile(r"(?<=[.!?])\s+Use\s+(?=[^\s=,]+\s*=)")
_THEN_RE = re.compile(r"\s*\bThen,\s*")
_NAME_RE = re.compile(r"\s*([^\s=,]+)\s*=\s*")
_BARE_RE = re.compile(r"(.*?)(?=,\s*[^\s=,]+\s*=|\.(?:\s|$)|$)", re.DOTALL)  # an unquoted value
_COMMA_RE = re.compile(r"\s*,\s*(?=[^\s=,]+\s*=)")
_STOP_RE = re.compile(r"\s*\.")
_DECODER = json.JSONDecoder()


def _parse_use_clause(text: str, pos: int) -> tuple[dict[str, Any], int]:
    """Read `name = value, name = value.` from `pos`; returns the arguments and the end position."""
    arguments: dict[str, Any] = {}
    while True:
        name = _NAME_RE.match(text, pos)
        if name is None:
            break
        pos = name.end()
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):  # not JSON, nested too deeply, a number too long
            bare = _BARE_RE.match(text, pos)
            assert bare is not None
            value, pos = bare.group(1).strip(), bare.end()
        arguments[name.group(1)] = value
        comma = _COMMA_RE.match(text, pos)
        if comma is None:
            break
        pos = comma.end()
    stop = _STOP_RE.match(text, pos)
    return arguments, stop.end() if stop else pos


def _clean_step(text: str) -> str:
    text = re.sub(r"^\s*please\s+", "", text.strip(), flags=re.IGNORECASE)
    return text.rstrip(" .").strip()
