"""What the verifiers environment writes back for verifiers 0.3 to validate: real servers send
shapes an `openai` `ChatCompletion` does not take (content as parts, a finish reason such as `abort`
or null, usage with null counts, no id, created or model, NaN); each must come back in the shape it
takes, while the turn's record keeps what the server sent. Pure: no verifiers, no network."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openai.types.chat import ChatCompletion

from awm_ray.env_wire import WellFormedOpenAI

_URL = "http://m/v1/chat/completions"
_BASE = {"id": "x", "object": "chat.completion", "created": 1, "model": "m"}
_CALL = {"id": "c1", "type": "function", "function": {"name": "ping", "arguments": "{}"}}


def _write_back(body: Any) -> tuple[ChatCompletion, dict[str, Any], bytes]:
    """The reply as verifiers reads it (`model_validate_json`, and `model_validate` of the parsed body),
    the turn's record, and the bytes written back."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    raw = httpx.Response(200, content=content, headers={"content-type": "application/json"},
                         request=httpx.Request("POST", _URL))  # fmt: skip
    record: dict[str, Any] = {}
    written = WellFormedOpenAI(None, record)._read(raw, [])
    ChatCompletion.model_validate(json.loads(written.content))
    return ChatCompletion.model_validate_json(written.content), record["turns"][0], written.content


def _body(message: Any = None, finish_reason: Any = "stop", **top: Any) -> dict[str, Any]:
    choice = {"index": 0, "finish_reason": finish_reason, "message": message or {"role": "assistant", "content": "hi"}}
    return {**_BASE, "choices": [choice], **top}


def test_content_as_parts_is_written_back_as_its_text():
    parts = [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "b"}]
    completion, turn, _ = _write_back(_body({"role": "assistant", "content": parts}))
    assert completion.choices[0].message.content == "ab" and turn["outcome"] is None


@pytest.mark.parametrize("finish_reason", ["abort", None, 3, "eos", {"type": "stop"}, "MISSING"])
@pytest.mark.parametrize("with_call", [False, True])
def test_a_finish_reason_the_type_has_no_name_for(finish_reason, with_call):
    message = {"role": "assistant", "content": None if with_call else "hi", **({"tool_calls": [_CALL]} if with_call else {})}
    body = _body(message, finish_reason)
    if finish_reason == "MISSING":
        del body["choices"][0]["finish_reason"]
    completion, turn, _ = _write_back(body)
    assert completion.choices[0].finish_reason == ("tool_calls" if with_call else "stop")
    assert turn["finish_reason"] == (finish_reason if finish_reason in ("abort", "eos") else None)  # as sent (a text)
    assert turn["outcome"] is None


@pytest.mark.parametrize(("usage", "written"), [
    ({"prompt_tokens": None, "completion_tokens": None, "total_tokens": None}, None),
    ({"prompt_tokens": 3, "completion_tokens": None, "total_tokens": 3}, None),
    ({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": None}, (3, 2, 5)),
    ({"prompt_tokens": 3, "completion_tokens": 2}, (3, 2, 5)),
    ({"prompt_tokens": "3", "completion_tokens": True, "total_tokens": 4.0}, None),
    ({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
      "completion_tokens_details": {"reasoning_tokens": None, "audio_tokens": "n/a", "accepted_prediction_tokens": 1},
      "prompt_tokens_details": "none"}, (3, 2, 5)),
    ("lots", None), ([], None), (None, None),
])  # fmt: skip
def test_usage_with_counts_that_are_not_integers(usage, written):
    completion, turn, _ = _write_back(_body(usage=usage))
    got = completion.usage
    if written is None:
        assert got is None
    else:
        assert (got.prompt_tokens, got.completion_tokens, got.total_tokens) == written
    if isinstance(usage, dict):  # the record keeps the server's counts (an integer only)
        assert turn["usage"]["prompt_tokens"] == (usage.get("prompt_tokens") if isinstance(usage.get("prompt_tokens"), int) else None)


def test_usage_details_keep_their_integer_counts():
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "completion_tokens_details": {"reasoning_tokens": 7, "x": "y"}}
    completion, _, _ = _write_back(_body(usage=usage))
    assert completion.usage.completion_tokens_details.reasoning_tokens == 7


@pytest.mark.parametrize("drop", ["id", "created", "model", "object", "role", "index"])
def test_missing_fields(drop):
    body = _body()
    for holder in (body, body["choices"][0], body["choices"][0]["message"]):
        holder.pop(drop, None)
    completion, _, _ = _write_back(body)
    assert completion.choices[0].message.content == "hi" and completion.choices[0].message.role == "assistant"


def test_odd_fields():
    body = _body({"role": "user", "content": "hi", "refusal": 5, "annotations": "none", "function_call": [1],
                  "audio": "x", "reasoning_content": "thought"},  # fmt: skip
                 id=7, created="yesterday", model=None, object="chat.completion.chunk", service_tier="on_demand",
                 system_fingerprint=3)  # fmt: skip
    body["choices"][0].update(index="0", logprobs="none")
    completion, _, _ = _write_back(body)
    message = completion.choices[0].message
    assert (completion.id, completion.created, completion.model, completion.service_tier) == ("", 0, "", None)
    assert (message.role, message.content, message.refusal, message.annotations) == ("assistant", "hi", None, None)
    assert message.model_extra == {"reasoning_content": "thought"}  # verifiers reads the reasoning from here


def test_logprobs_as_servers_send_them_stay():
    logprobs = {"content": [{"token": "hi", "bytes": [104, 105], "logprob": float("-inf"), "top_logprobs": []}]}
    body = _body()
    body["choices"][0]["logprobs"] = logprobs
    completion, _, _ = _write_back(body)
    assert completion.choices[0].logprobs.content[0].logprob == float("-inf")


def test_only_the_choice_read_is_written_back():
    body = _body()
    body["choices"].append({"index": 1, "finish_reason": "abort", "message": {"content": ["x"]}})
    completion, _, _ = _write_back(body)
    assert len(completion.choices) == 1 and completion.choices[0].message.content == "hi"


@pytest.mark.parametrize("body", [{**_BASE, "choices": []}, {**_BASE}, {**_BASE, "choices": [5]}, {**_BASE, "choices": "x"},
                                  [1, 2], "text"])  # fmt: skip
def test_no_choices_stay_no_choices(body):
    completion, turn, _ = _write_back(body)
    assert completion.choices == [] and turn["outcome"] == "model_empty"


def test_a_choice_without_a_message_is_an_empty_reply():
    body = _body()
    del body["choices"][0]["message"]
    completion, turn, _ = _write_back(body)
    message = completion.choices[0].message
    assert (message.content, message.tool_calls) == (None, None) and turn["outcome"] == "model_empty"


def test_nan_and_infinity_in_a_reply():
    """A reply with NaN arguments and counts comes back valid: the message (which joins the history)
    holds no NaN/Infinity, the arguments stay as sent (the tool answers them), and so does the record."""
    text = (b'{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, '
            b'"finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "score": NaN, "tool_calls": ['
            b'{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"n": 1e999}}}]}}], '
            b'"usage": {"prompt_tokens": NaN, "completion_tokens": 2, "total_tokens": Infinity}}')  # fmt: skip
    completion, turn, written = _write_back(text)
    message = json.loads(written)["choices"][0]["message"]
    json.dumps(message, allow_nan=False)
    assert completion.choices[0].message.tool_calls[0].function.arguments == '{"n": Infinity}' == turn["tool_calls"][0]["arguments"]
    assert completion.usage is None and message["score"] is None
