"""Chat-completion conversations as strict model servers accept them (no I/O here).

Real model servers send tool calls without ids, with ids that repeat, with arguments cut short
(`{"slug": "hello-wor`), `null`, or an array; some reply with no choices, a refusal, or a reply cut
off at the token limit. Real servers are also strict about what comes back: OpenAI wants every tool
call to carry an id that its tool message names; vLLM and SGLang re-parse the arguments of earlier
tool calls and answer 400 when one is not a JSON object. Both awm-ray façades (the evaluator and the
verifiers environment) read replies with `parse_reply` and send histories made by `wellformed`:

- every tool call gets an id, unique in the conversation (the model's own when it sent a fresh
  one; else `call_awm_<turn>_<index>`), and the tool message that answers it names that id;
- arguments that are not a JSON object (cut short, `null`, empty, an array, or holding NaN/Infinity,
  which `json.loads` reads but JSON has no number for) are replayed as `{}`: the model still reads
  the error its call got, and the row keeps what it really sent;
- parallel tool calls keep their order, each answered in turn;
- text is cleaned (`awm_ray.text.clean`): a lone surrogate never reaches an HTTP body or a file;
  a NaN/Infinity anywhere else in a message is sent as `null` (`finite_json`).

The OpenAI chat-completions format: https://platform.openai.com/docs/api-reference/chat/create.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from awm_ray.text import clean, clean_json, decode, finite_json, loads, non_finite

USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


class ReplyError(ValueError):
    """The model endpoint answered 2xx with something that is not a chat completion (not JSON)."""


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a reply: the id used in the conversation and what the model sent."""

    id: str  # the model's id, or the one assigned because it sent none (or one already used)
    model_id: str | None  # the id as the model sent it (None: missing or not a string)
    name: str
    arguments: str | None  # as the model sent them (a non-string value is given as its JSON text)
    index: int  # position in the reply (parallel calls keep this order)


@dataclass
class ModelReply:
    """One chat-completion reply, read leniently.

    `outcome` is None when the episode goes on (tool calls to run) or ends normally (a final
    text); otherwise one of `model_empty` (no choices, or neither text nor tool calls),
    `model_refusal` (the message carries `refusal`), `model_truncated` (`finish_reason: length`).
    """

    message: dict[str, Any] | None  # the assistant message as it goes into the history (ids filled in)
    tool_calls: list[ToolCall] = field(default_factory=list)
    text: str | None = None  # the message's text (content parts joined), cleaned
    refusal: str | None = None
    finish_reason: str | None = None
    usage: dict[str, int | None] | None = None  # prompt/completion/total tokens, as the server counted
    outcome: str | None = None
    detail: str | None = None  # why the outcome (for model_empty: what was missing)


def load_body(content: bytes | str) -> Any:
    """The JSON body of a model response; invalid UTF-8 is replaced, invalid JSON (also nested too deeply
    or holding a number too long to read: `awm_ray.text.loads`) raises `ReplyError`."""
    text = decode(content) if isinstance(content, (bytes, bytearray)) else content
    try:
        return loads(text)
    except json.JSONDecodeError as exc:  # also nested too deeply, a number too long (`awm_ray.text.loads`)
        raise ReplyError(f"the model endpoint's reply is not JSON ({exc.msg} at position {exc.pos}): {text[:200]!r}") from None


def parse_reply(body: Any, taken_ids: set[str], turn: int) -> ModelReply:
    """Read a chat-completion response body (a decoded JSON value).

    `taken_ids` holds the tool-call ids already in the conversation; the ids of this reply are
    added to it. `turn` (1-based) names assigned ids. Never raises for what a server sends.
    """
    usage = _usage(body.get("usage") if isinstance(body, Mapping) else None)
    choices = body.get("choices") if isinstance(body, Mapping) else None
    if not isinstance(choices, list) or not choices:
        return ModelReply(None, usage=usage, outcome="model_empty", detail="the reply has no choices")
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    raw = choice.get("message")
    if not isinstance(raw, Mapping):
        return ModelReply(None, usage=usage, outcome="model_empty", detail="the reply's choice has no message")
    finish_reason = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    text = _text(raw.get("content"))
    refusal = clean(raw["refusal"]) if isinstance(raw.get("refusal"), str) and raw["refusal"] else None
    calls = _tool_calls(raw.get("tool_calls"), taken_ids, turn)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [_wire_call(c.id, c.name, c.arguments) for c in calls]
    if refusal is not None:
        message["refusal"] = refusal
    reply = ModelReply(message, calls, text, refusal, finish_reason, usage)
    if finish_reason == "length":
        reply.outcome, reply.detail = "model_truncated", "the reply was cut off at the token limit (finish_reason: length)"
    elif refusal is not None and not calls:
        reply.outcome, reply.detail = "model_refusal", refusal
    elif not calls and not (text or "").strip() and not _has_reasoning(raw):
        reply.outcome, reply.detail = "model_empty", "the reply has neither text nor tool calls"
    return reply


def replay_arguments(arguments: Any) -> str:
    """Arguments as they are replayed in the history: a JSON object's text (`{}` for anything else,
    an object holding NaN/Infinity included: strict servers refuse it, and the tool answered an error)."""
    if isinstance(arguments, Mapping):
        return "{}" if non_finite(arguments) else json.dumps(clean_json(dict(arguments)), ensure_ascii=False)
    if not isinstance(arguments, str) or not arguments.strip():
        return "{}"
    try:
        parsed = loads(arguments)
    except json.JSONDecodeError:
        return "{}"
    return clean(arguments) if isinstance(parsed, dict) and non_finite(parsed) is None else "{}"


def wellformed(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A copy of a chat history that a strict server accepts (see the module doc).

    Every message is copied with its text cleaned and NaN/Infinity sent as null. An assistant
    message's `tool_calls` (a list; one call object alone counts as a list of it, anything else as
    no calls) become `{id, type, function: {name, arguments}}` with ids unique and arguments a JSON
    object's text; a tool message names the id of the call it answers (matched by id, or by
    position after its assistant message when the id was missing or repeated).
    """
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    pending: list[str] = []  # ids of the last assistant message's calls, in order, not yet answered
    renamed: dict[str, list[str]] = {}  # a model id -> the ids its calls got
    turn = 0
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            turn += 1
            copy: dict[str, Any] = _copy(message)
            calls = _call_list(message.get("tool_calls"))
            pending, renamed = [], {}
            if calls:
                wired = []
                for index, call in enumerate(calls):
                    call = call if isinstance(call, Mapping) else {}
                    function = call.get("function") if isinstance(call.get("function"), Mapping) else call
                    given = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None
                    call_id = _fresh_id(given, taken, turn, index)
                    pending.append(call_id)
                    if given is not None:
                        renamed.setdefault(given, []).append(call_id)
                    wired.append(_wire_call(call_id, str(function.get("name") or ""), function.get("arguments")))
                copy["tool_calls"] = wired
            else:
                copy.pop("tool_calls", None)  # OpenAI refuses an empty list
            out.append(copy)
        elif role == "tool":
            given = message.get("tool_call_id")
            targets = renamed.get(given) if isinstance(given, str) else None
            if targets and targets[0] in pending:
                call_id = targets.pop(0)
            elif pending:
                call_id = pending[0]
            else:
                call_id = clean(given) if isinstance(given, str) and given else f"call_awm_orphan_{len(out)}"
            if call_id in pending:
                pending.remove(call_id)
            out.append({**_copy(message), "tool_call_id": call_id})
        else:
            out.append(_copy(message))
    return out


def add_usage(total: dict[str, int | None], usage: Mapping[str, int | None] | None) -> None:
    """Add one turn's token counts to `total` (a count stays None until some turn reports it)."""
    for key in USAGE_KEYS:
        value = (usage or {}).get(key)
        if isinstance(value, int):
            total[key] = (total.get(key) or 0) + value


# ---- internals -------------------------------------------------------------------------------


def _wire_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": clean(name), "arguments": replay_arguments(arguments)}}


def _copy(message: Mapping[str, Any]) -> dict[str, Any]:
    return finite_json(clean_json(dict(message)))


def _call_list(raw: Any) -> list[Any]:
    """A message's `tool_calls` as a list: one call object alone is a list of it; anything else that is
    not a list (null, a number, a string, `true`) means no calls."""
    return [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []


def _fresh_id(given: str | None, taken: set[str], turn: int, index: int) -> str:
    """`given`, cleaned, if the conversation does not hold it yet; else an id of ours that it does not hold.

    Checked after cleaning: two ids that differ only in their lone surrogates (`"a\\ud800"`,
    `"a\\udc00"`) become the same text, and a strict server refuses a repeated id."""
    call_id = clean(given) if given is not None else None
    if call_id is None or call_id in taken:
        call_id, n = f"call_awm_{turn}_{index}", 2
        while call_id in taken:
            call_id, n = f"call_awm_{turn}_{index}_{n}", n + 1
    taken.add(call_id)
    return call_id


def _tool_calls(raw: Any, taken: set[str], turn: int) -> list[ToolCall]:
    calls = []
    for index, item in enumerate(_call_list(raw)):
        if not isinstance(item, Mapping):
            continue
        function = item.get("function") if isinstance(item.get("function"), Mapping) else item
        given = item.get("id") if isinstance(item.get("id"), str) and item.get("id") else None
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            arguments = json.dumps(clean_json(arguments), ensure_ascii=False)
        name = function.get("name")
        calls.append(
            ToolCall(_fresh_id(given, taken, turn, index), clean(given) if given else None,
                     clean(name) if isinstance(name, str) else "", clean(arguments) if arguments else arguments, index)
        )  # fmt: skip
    return calls


def _text(content: Any) -> str | None:
    """A message's text: a string as it is, content parts joined (text parts only), else None."""
    if isinstance(content, str):
        return clean(content)
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)]
        return clean("".join(parts)) if parts else None
    return None


def _has_reasoning(message: Mapping[str, Any]) -> bool:
    return any(isinstance(message.get(k), str) and message[k] for k in ("reasoning_content", "reasoning"))


def _usage(raw: Any) -> dict[str, int | None] | None:
    if not isinstance(raw, Mapping):
        return None
    usage = {k: raw.get(k) if isinstance(raw.get(k), int) and not isinstance(raw.get(k), bool) else None for k in USAGE_KEYS}
    if usage["total_tokens"] is None and usage["prompt_tokens"] is not None and usage["completion_tokens"] is not None:
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage
