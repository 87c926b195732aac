"""Replies read leniently, histories a strict server accepts, safe text and errors named by their
cause: the pure parts under the episode loops (no Ray, no network)."""

from __future__ import annotations

import json

import pytest

from awm_ray.conversation import ReplyError, load_body, parse_reply, replay_arguments, wellformed
from awm_ray.farm.errors import LeaseLost, ScenarioUnavailable
from awm_ray.outcomes import STOP_REASONS, classify, error_text
from awm_ray.text import clean, dumps, finite_json, lone_surrogate, non_finite, one_line


def reply(message: dict, finish_reason: str = "stop", **extra) -> dict:
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish_reason}], **extra}


def test_text_that_utf8_cannot_hold_is_replaced_and_nothing_else():
    assert clean("Done \ud83d") == "Done \ufffd" and clean("a\x00b \U0001F600") == "a\x00b \U0001F600"
    assert json.loads(dumps({"k\udfff": ["\ud83d", 1]})) == {"k\ufffd": ["\ufffd", 1]}
    assert lone_surrogate({"a": ["ok", "x\udc00"]}) == "'\\udc00' at position 1" and lone_surrogate("ok") is None
    assert one_line("\x1b[31mred\x1b[0m\nnext line", 100) == "red next line"
    assert load_body(b'{"choices": [], "x": "caf\xe9"}') == {"choices": [], "x": "caf\ufffd"}
    with pytest.raises(ReplyError, match="not JSON"):
        load_body(b"<html>502 Bad Gateway</html>")
    for unreadable, why in ((b"[" * 100_000, "nested too deeply"), (b'{"n": ' + b"9" * 5001 + b"}", "longer than 4300 digits")):
        with pytest.raises(ReplyError, match=why) as info:  # a ReplyError: a model_error, not RecursionError
            load_body(unreadable)
        assert classify(info.value).stop == "model_error"


def test_replies_are_read_leniently():
    taken: set[str] = set()
    odd = parse_reply(reply({"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                             "tool_calls": {"function": {"name": "f", "arguments": {"x": 1}}}}, "tool_calls"),
                      taken, 1)  # fmt: skip
    (call,) = odd.tool_calls
    assert odd.text == "ab" and call.model_id is None and call.id == "call_awm_1_0" and call.arguments == '{"x": 1}'
    assert parse_reply({"choices": "nope"}, taken, 2).outcome == "model_empty"
    assert parse_reply({"choices": [{"message": None}]}, taken, 2).outcome == "model_empty"
    assert parse_reply("not even an object", taken, 2).outcome == "model_empty"
    assert parse_reply(reply({"role": "assistant", "content": "", "reasoning_content": "hmm"}), taken, 2).outcome is None
    cut = parse_reply(reply({"role": "assistant", "content": "half"}, "length"), taken, 2)
    assert cut.outcome == "model_truncated"
    usage = parse_reply(reply({"role": "assistant", "content": "x"}, usage={"prompt_tokens": 3, "completion_tokens": 2}),
                        taken, 3).usage  # fmt: skip
    assert usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


@pytest.mark.parametrize(("sent", "replayed"), [
    ('{"a": 1}', '{"a": 1}'), ('{"a": "hel', "{}"), ("null", "{}"), ("", "{}"), (None, "{}"), ("[1]", "{}"),
    ({"a": 1}, '{"a": 1}'), ('{"s": "\ud83d"}', '{"s": "\ufffd"}'),
    ('{"s": ' + "[" * 10_000 + "]" * 10_000 + "}", "{}"), ('{"n": ' + "7" * 5001 + "}", "{}"),
    ('{"a": NaN}', "{}"), ('{"a": Infinity}', "{}"), ('{"a": [1, {"b": -Infinity}]}', "{}"), ('{"a": 1e999}', "{}"),
    ({"a": float("nan")}, "{}"), ('{"a": 1e308, "b": -0.0}', '{"a": 1e308, "b": -0.0}'),
])  # fmt: skip
def test_arguments_are_replayed_as_json_objects(sent, replayed):
    assert replay_arguments(sent) == replayed


def test_histories_come_out_well_formed():
    history = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u \ud83d"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "a", "arguments": '{"x": 1'}},
            {"id": "dup", "type": "function", "function": {"name": "b", "arguments": "{}"}},
            {"id": "dup", "type": "function", "function": {"name": "c", "arguments": "null"}}]},
        {"role": "tool", "tool_call_id": None, "content": "ra"},
        {"role": "tool", "tool_call_id": "dup", "content": "rb"},
        {"role": "tool", "tool_call_id": "dup", "content": "rc"},
        {"role": "assistant", "content": "ok", "tool_calls": []},
    ]  # fmt: skip
    out = wellformed(history)
    ids = [c["id"] for c in out[2]["tool_calls"]]
    assert len(set(ids)) == 3 and ids[1] == "dup" and all(ids)
    assert [m["tool_call_id"] for m in out[3:6]] == ids  # answers matched in order
    assert [c["function"]["arguments"] for c in out[2]["tool_calls"]] == ["{}", "{}", "{}"]
    assert out[1]["content"] == "u \ufffd" and "tool_calls" not in out[6]  # OpenAI refuses an empty list
    assert wellformed(out) == out  # stable: replaying a repaired history changes nothing
    assert history[2]["tool_calls"][0]["function"]["arguments"] == '{"x": 1'  # the input is not touched


def test_errors_are_named_by_their_cause():
    wrapped = ScenarioUnavailable("scenario 'x' could not be started: boom")
    failure = classify(wrapped)
    assert (failure.stop, failure.kind) == ("scenario_unavailable", "ScenarioUnavailable")
    assert failure.error == "ScenarioUnavailable: scenario 'x' could not be started: boom"

    class RayTaskError(Exception):  # what Ray raises: the cause in `.cause`, a coloured traceback in str()
        pass

    ray_error = RayTaskError("\x1b[36mray::FarmScheduler.lease()\x1b[39m (pid=1)\nTraceback ...\nLeaseLost: gone")
    ray_error.cause = LeaseLost("lease 1 expired")
    assert classify(ray_error).error == "LeaseLost: lease 1 expired" and classify(ray_error).stop == "lease_lost"
    unwrapped = error_text(RayTaskError("\x1b[36mray::X()\x1b[39m (pid=1)\n  File 'a'\nValueError: bad thing"))
    assert unwrapped == "RayTaskError: bad thing"
    assert classify(KeyError("k")).stop == "internal_error" and set(STOP_REASONS) >= {"model_error", "lease_timeout"}
    assert classify(ReplyError("not JSON")).stop == "model_error"
    assert len(error_text(RuntimeError("x" * 10_000))) <= 2000


_COMPLETION = {"id": "x", "object": "chat.completion", "created": 1, "model": "m"}


@pytest.mark.parametrize(
    "tool_calls, expected",
    [
        ([{"id": "a", "name": "ping", "arguments": "{}"}], [("a", "ping", "{}")]),  # flat: no "function"
        ({"id": "a", "type": "function", "function": {"name": "ping", "arguments": "{}"}}, [("a", "ping", "{}")]),  # one object
        ([5, {"function": {"name": "ping", "arguments": '{"a": 1'}}], [("call_awm_1_1", "ping", '{"a": 1')]),  # junk, cut short
        (["x"], []),
        ([], []),
    ],
)  # fmt: skip
def test_what_the_verifiers_env_writes_back_passes_verifiers_validation(tool_calls, expected):
    """verifiers 0.3 validates each reply as an openai `ChatCompletion`; a reply `parse_reply` reads must
    reach it in that shape, or the rollout ends as a model error. Arguments stay as sent (the tool answers)."""
    import httpx
    from openai.types.chat import ChatCompletion

    from awm_ray.env_wire import WellFormedOpenAI

    body = {**_COMPLETION, "choices": [{"index": 0, "finish_reason": "tool_calls",
                                        "message": {"role": "assistant", "content": None, "tool_calls": tool_calls}}]}  # fmt: skip
    raw = httpx.Response(200, content=json.dumps(body).encode(), request=httpx.Request("POST", "http://m/v1/chat/completions"))
    record: dict = {}
    written = WellFormedOpenAI(None, record)._read(raw, [])
    message = ChatCompletion.model_validate_json(written.content).choices[0].message
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []] == expected
    assert [c["id"] for c in record["turns"][0]["tool_calls"]] == [e[0] for e in expected]


def test_ids_are_unique_after_cleaning():
    """Two ids that differ only in their lone surrogates clean to the same text: the second gets an id
    of ours (a strict server refuses a repeated id), and each tool message still answers its own call."""
    calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": "{}"}}
             for i, n in (("a\ud800", "f"), ("a\ud801", "g"))]  # fmt: skip
    taken: set[str] = set()
    read = parse_reply(reply({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"), taken, 1)
    assert [c.id for c in read.tool_calls] == ["a\ufffd", "call_awm_1_1"] and taken == {"a\ufffd", "call_awm_1_1"}
    later = parse_reply(reply({"role": "assistant", "content": None, "tool_calls": [{**calls[0], "id": "a\udfff"}]}), taken, 2)
    assert later.tool_calls[0].id == "call_awm_2_0"  # unique in the conversation, not only in the reply

    out = wellformed([
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "a\ud801", "content": "from g"},
        {"role": "tool", "tool_call_id": "a\ud800", "content": "from f"},
        {"role": "assistant", "content": None, "tool_calls": [{**calls[0], "id": "a\ufffd"}]},
        {"role": "tool", "tool_call_id": "a\ufffd", "content": "again"},
    ])  # fmt: skip
    ids = [c["id"] for m in out if m.get("tool_calls") for c in m["tool_calls"]]
    assert len(ids) == len(set(ids)) == 3 and ids[0] == "a\ufffd"
    assert [m["tool_call_id"] for m in out if m["role"] == "tool"] == [ids[1], ids[0], ids[2]]
    assert wellformed(out) == out


@pytest.mark.parametrize("tool_calls", [5, 0, "ping", True, 1.5, None, []])
def test_tool_calls_that_are_not_a_list_are_no_calls(tool_calls):
    """What a model sent as `tool_calls` never raises, nor turns into calls made of a value's parts."""
    out = wellformed([{"role": "user", "content": "u"}, {"role": "assistant", "content": "done", "tool_calls": tool_calls}])
    assert out[1] == {"role": "assistant", "content": "done"}


def test_one_tool_call_object_is_one_call():
    call = {"id": "c1", "type": "function", "function": {"name": "ping", "arguments": '{"a": 1}'}}
    flat = {"id": "c2", "name": "ping", "arguments": "{}"}  # no "function": read as parse_reply reads it
    out = wellformed([
        {"role": "assistant", "content": None, "tool_calls": call}, {"role": "tool", "tool_call_id": "c1", "content": "r"},
        {"role": "assistant", "content": None, "tool_calls": [flat]}, {"role": "tool", "tool_call_id": "c2", "content": "r"},
    ])  # fmt: skip
    assert out[0]["tool_calls"] == [call] and out[1]["tool_call_id"] == "c1"
    assert out[2]["tool_calls"] == [{"id": "c2", "type": "function", "function": {"name": "ping", "arguments": "{}"}}]


def test_nan_and_infinity_never_reach_a_history():
    """`json.loads` reads NaN, Infinity and 1e999 (as infinity); JSON has no such numbers, and strict
    servers refuse a body that holds them. The history carries `{}` (or null); what was sent stays."""
    assert non_finite({"a": [1, {"b": float("-inf")}]}) == "-Infinity at 'a[1].b'" and non_finite({"a": 1e308}) is None
    assert non_finite(json.loads('{"x": 1e999}')) == "Infinity at 'x'" and non_finite(float("nan")) == "NaN"
    deep = json.loads("[" * 900 + "NaN" + "]" * 900)  # walked without recursion
    assert non_finite(deep) == "NaN at '" + "[0]" * 900 + "'" and json.dumps(finite_json(deep)).count("null") == 1

    body = reply({"role": "assistant", "content": None, "x_score": float("inf"), "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"n": NaN}'}},
        {"id": "c2", "type": "function", "function": {"name": "g", "arguments": {"n": float("inf")}}}]}, "tool_calls")  # fmt: skip
    read = parse_reply(body, set(), 1)
    assert [c.arguments for c in read.tool_calls] == ['{"n": NaN}', '{"n": Infinity}']  # as the model sent them
    json.dumps(read.message, allow_nan=False)
    history = [{"role": "user", "content": "u", "meta": {"t": float("nan")}}, body["choices"][0]["message"],
               {"role": "tool", "tool_call_id": "c1", "content": "Error: not valid JSON"}]  # fmt: skip
    out = wellformed(history)
    json.dumps(out, allow_nan=False)  # raises ValueError on NaN/Infinity
    assert [c["function"]["arguments"] for c in out[1]["tool_calls"]] == ["{}", "{}"]
    assert out[0]["meta"] == {"t": None} and out[1]["x_score"] is None
    assert history[1]["tool_calls"][0]["function"]["arguments"] == '{"n": NaN}'  # the input is not touched
