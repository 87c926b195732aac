"""What the verifiers environment sends to the model server and reads from it.

verifiers 0.3 owns a rollout's message list and its model client: `OpenAIChatCompletionsClient`
validates each reply as an `openai` `ChatCompletion` (a tool call without an id fails the whole
rollout) and replays the history as it was (arguments cut short, repeated ids: a strict server
answers 400). `WellFormedOpenAI` wraps the client's `AsyncOpenAI` for one model request, the one
place both directions pass: the request's history goes out `wellformed`, and the reply comes back
read by `parse_reply` (ids filled in, text cleaned) and written back in the one shape verifiers'
`ChatCompletion.model_validate_json` accepts (`_as_chat_completion`: servers also send content as a
list of parts, a finish reason such as `abort` or null, usage with null counts, no id, created or
model; any of these fails verifiers' validation, and the rollout with it). What the model really
sent, and how each turn ended, is kept in the rollout's `state["awm"]["turns"]`.

The hook is `client.post(path, body=..., cast_to=httpx.Response)` (a raw response), through which verifiers 0.3.1's
chat-completions client sends every request (`post_chat_completion_with_routed_experts_sidecar`);
other clients (completions, responses, token clients) are used as they are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from typing import Any

from awm_ray.conversation import ModelReply, ReplyError, add_usage, load_body, parse_reply, wellformed
from awm_ray.text import clean_json, finite_json

log = logging.getLogger(__name__)
_CHAT_PATH = "/chat/completions"
_FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")  # what `Choice` accepts
_SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast")  # what `ChatCompletion` accepts
_TYPED_MESSAGE_KEYS = ("annotations", "audio", "function_call")  # typed there, read by neither verifiers nor us: dropped


class WellFormedOpenAI:
    """An `AsyncOpenAI` for one chat-completions request, reading and writing well-formed histories.

    `record` (the rollout's `state["awm"]`) gets one entry per reply in `turns`: `finish_reason`,
    `outcome` (None, `model_empty`, `model_refusal`, `model_truncated`), `usage`, and the tool calls
    as the model sent them (`id`, `model_id`, `name`, `arguments`); `usage` adds up the tokens.
    Every other attribute is the wrapped client's.
    """

    def __init__(self, client: Any, record: MutableMapping[str, Any]):
        self._client = client
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def post(self, path: str, *, cast_to: Any, body: Any = None, **kwargs: Any) -> Any:
        if not path.endswith(_CHAT_PATH) or not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return await self._client.post(path, cast_to=cast_to, body=body, **kwargs)
        history = wellformed(body["messages"])
        response = await self._client.post(path, cast_to=cast_to, body={**body, "messages": history}, **kwargs)
        if not isinstance(getattr(response, "content", None), bytes) or not hasattr(response, "status_code"):
            return response  # a parsed object (another caller than verifiers' raw post): leave it be
        return self._read(response, history)

    def _read(self, response: Any, history: list[dict[str, Any]]) -> Any:
        """The raw response (an `httpx.Response`, or the same type from the `httpx` fork the `openai`
        client may use) with its body read leniently and written back as verifiers' types need it."""
        try:
            data = load_body(response.content)
        except ReplyError as exc:
            self._record.setdefault("turns", []).append({"outcome": None, "error": str(exc)})
            return response  # verifiers reports it as the model error it is
        data = clean_json(data)
        taken = {c["id"] for m in history for c in m.get("tool_calls") or []}
        turn = sum(1 for m in history if m.get("role") == "assistant") + 1
        reply = parse_reply(data, taken, turn)
        entry = {
            "finish_reason": reply.finish_reason, "outcome": reply.outcome, "detail": reply.detail,
            "usage": reply.usage, "tool_calls": [
                {"id": c.id, "model_id": c.model_id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls
            ],
        }  # fmt: skip
        self._record.setdefault("turns", []).append(entry)
        add_usage(self._record.setdefault("usage", {}), reply.usage)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        content = json.dumps(_as_chat_completion(data, reply)).encode()
        return type(response)(response.status_code, headers=headers, content=content, request=response.request)


def _as_chat_completion(data: Any, reply: ModelReply) -> dict[str, Any]:
    """The reply `data` (cleaned JSON) as the body of an `openai` `ChatCompletion` with one choice, the
    one `reply` read: what verifiers validates it as. Fields that type cannot hold are replaced (missing
    or odd id/model/created, a finish reason outside its set, usage counts that are not integers,
    content parts); the turn's record keeps them as sent. Extra keys stay (reasoning, vendor fields).
    No choices stays none, and a choice without a message gets an empty one: verifiers reports either
    as the model error it is."""
    body = dict(data) if isinstance(data, dict) else {}
    body["id"] = body["id"] if isinstance(body.get("id"), str) else ""
    body["object"] = "chat.completion"
    body["created"] = body["created"] if _is_int(body.get("created")) else 0
    body["model"] = body["model"] if isinstance(body.get("model"), str) else ""
    body["usage"] = _usage(body.get("usage"), reply)
    if body.get("service_tier") not in (None, *_SERVICE_TIERS):
        body["service_tier"] = None
    if not isinstance(body.get("system_fingerprint"), (str, type(None))):
        body["system_fingerprint"] = None
    choices = body.get("choices")
    first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    if first is None:
        body["choices"] = []
        return body
    choice = dict(first)
    raw = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    message = {k: v for k, v in raw.items() if k not in _TYPED_MESSAGE_KEYS or v is None}
    message.update(role="assistant", content=reply.text,  # content parts joined, as parse_reply read them
                   refusal=raw["refusal"] if isinstance(raw.get("refusal"), str) else None)  # fmt: skip
    if reply.tool_calls or "tool_calls" in raw:
        # the calls as read, in the shape verifiers' types require (a flat call, one object
        # instead of a list, or items that are not calls fail its validation otherwise)
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments if c.arguments is not None else "{}"}}
            for c in reply.tool_calls
        ] or None  # arguments as sent: the tool answers what cannot be read, and the model retries
    choice["message"] = finite_json(message)  # it joins the history; logprobs may stay -Infinity (a float)
    choice["index"] = choice["index"] if _is_int(choice.get("index")) else 0
    if choice.get("finish_reason") not in _FINISH_REASONS:  # "abort", "eos", null, a number
        choice["finish_reason"] = "tool_calls" if reply.tool_calls else "stop"
    if not isinstance(choice.get("logprobs"), (dict, type(None))):
        choice["logprobs"] = None
    body["choices"] = [choice]  # the one choice read (verifiers refuses more than one anyway)
    return body


def _usage(raw: Any, reply: ModelReply) -> dict[str, Any] | None:
    """`usage` as `CompletionUsage` takes it: integer counts (the total added up when missing), else None
    (what verifiers makes of counts it cannot read); details kept with their integer counts only."""
    counts = reply.usage or {}
    if not isinstance(raw, dict) or not all(_is_int(counts.get(k)) for k in ("prompt_tokens", "completion_tokens")):
        return None
    usage = {**raw, **counts}
    for key in ("prompt_tokens_details", "completion_tokens_details"):
        details = raw.get(key)
        usage[key] = {k: v for k, v in details.items() if _is_int(v)} if isinstance(details, dict) else None
    return finite_json(usage)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def wellformed_client(client: Any, record: MutableMapping[str, Any]) -> Any:
    """`client` (a verifiers client) reading and writing through `WellFormedOpenAI`, when it is
    verifiers' own chat-completions client over an `AsyncOpenAI`; otherwise `client` itself."""
    import verifiers as vf

    if type(client) is not vf.OpenAIChatCompletionsClient or not callable(getattr(client.client, "post", None)):
        return client
    wrapped = vf.OpenAIChatCompletionsClient(WellFormedOpenAI(client.client, record))
    wrapped._config = client.config  # extra headers from state, base URL for sampling args
    return wrapped
