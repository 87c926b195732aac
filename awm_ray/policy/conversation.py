"""Reading a chat-completions conversation (tools, tool calls so far) and writing the assistant's messages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awm_ray.text import loads

_SUMMARY_CHARS = 240


@dataclass(frozen=True)
class _Call:
    name: str
    arguments: str
    result: str | None  # the tool message's text, None when there is none (yet)


def _tool_defs(tools: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Bare `{"name", "description", "parameters"}` from OpenAI tools or bare definitions."""
    defs: list[dict[str, Any]] = []
    for tool in tools or []:
        fn = tool.get("function") if isinstance(tool.get("function"), Mapping) else tool
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            continue
        params = fn.get("parameters") if isinstance(fn.get("parameters"), Mapping) else {}
        defs.append({"name": name, "description": str(fn.get("description") or ""), "parameters": params})
    return defs


def _forced_tool(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, Mapping):
        fn = tool_choice.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return fn["name"]
    return None


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, Mapping) else str(part) for part in content
        )
    return "" if content is None else str(content)


def _first_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in messages:
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _calls_so_far(messages: Sequence[Mapping[str, Any]]) -> list[_Call]:
    """Every assistant tool call in order, with the text of the tool message that answered it."""
    results = {
        m.get("tool_call_id"): _content_text(m.get("content")) for m in messages if m.get("role") == "tool"
    }
    calls: list[_Call] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            arguments = fn.get("arguments")
            text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
            calls.append(_Call(str(fn.get("name", "")), text, results.get(call.get("id"))))
    return calls


def _same_json(text: str, value: Any) -> bool:
    try:
        return loads(text) == value
    except json.JSONDecodeError:
        return False


def _digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _tool_call(messages: Sequence[Mapping[str, Any]], name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    text = json.dumps(arguments, ensure_ascii=False)
    call_id = "call_" + _digest(name, text, messages)[:24]
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}],
    }


def _final(calls: Sequence[_Call]) -> dict[str, Any]:
    if not calls:
        return _answer("I could not find a tool for this request.")
    last = calls[-1]
    result = " ".join((last.result or "(no result)").split())
    if len(result) > _SUMMARY_CHARS:
        result = result[: _SUMMARY_CHARS - 3] + "..."
    plural = "s" if len(calls) > 1 else ""
    return _answer(f"Done: {len(calls)} tool call{plural}; the last, {last.name}, returned: {result}")


def _answer(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}
