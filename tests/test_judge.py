"""The sql-mode judge against a scripted OpenAI-compatible server on 127.0.0.1, and verdict parsing."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from awm_ray.config import JudgeConfig
from awm_ray.verification.judge import Judge, judge_prompt, parse_verdict

REPLIES = {
    "json_complete": '{"verdict": "complete", "reason": "The wish list holds the three air fryers."}',
    "fenced_incomplete": 'Here is my judgement:\n```json\n{"verdict": "incomplete", "reason": "only two items"}\n```',
    "prose_server_error": "The API answered 500 to every call.\nVerdict: server error",
    "label_agent_error": "Label: agent_error (it deleted the wrong list)",
    "garbage": "I am not able to decide this one.",
    "ambiguous": "It is either complete or incomplete, hard to say.",
    "slow": '{"verdict": "complete"}',
}


class ScriptedJudgeServer:
    """An OpenAI-compatible endpoint whose reply depends on the case named in the task text."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[dict] = []

        @self.app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self.requests.append(body)
            text = body["messages"][-1]["content"]
            case = text.split("CASE:", 1)[1].split()[0] if "CASE:" in text else "json_complete"
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(0.05)
                if case == "http500":
                    return JSONResponse({"error": {"message": "judge overloaded", "type": "server_error"}}, status_code=500)
                if case == "slow":
                    await asyncio.sleep(5)
                content = REPLIES[case]
            finally:
                self.in_flight -= 1
            return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip

    def __enter__(self) -> ScriptedJudgeServer:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the scripted judge did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def server():
    with ScriptedJudgeServer() as s:
        yield s


def make_judge(server, monkeypatch, **config) -> Judge:
    monkeypatch.setenv("AWM_TEST_JUDGE_KEY", "judge-key")
    settings = {"model": "judge-1", "base_url": server.base_url, "api_key_var": "AWM_TEST_JUDGE_KEY", "max_retries": 0,
                "timeout_s": 10, **config}  # fmt: skip
    return Judge(JudgeConfig(**settings))


TRAJECTORY = [
    {"role": "user", "content": "Make a list."},
    {"role": "assistant", "content": None,
     "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "create_list", "arguments": '{"name": "K"}'}}]},
    {"role": "tool", "tool_call_id": "c1", "content": 'HTTP 201 Created\n{"id": 4}'},
    {"role": "assistant", "content": "Created the list."},
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "verdict"),
    [("json_complete", "complete"), ("fenced_incomplete", "incomplete"), ("prose_server_error", "server_error"),
     ("label_agent_error", "agent_error")],
)  # fmt: skip
def test_each_verdict_is_read_from_the_judges_reply(server, monkeypatch, case, verdict):
    judge = make_judge(server, monkeypatch)
    result = asyncio.run(judge.judge(f"CASE:{case} make a list", TRAJECTORY, {"new_lists": [{"id": 4}]}, "Created it."))
    assert result.verdict == verdict and result.error is None and result.ms > 0
    sent = server.requests[-1]
    assert sent["model"] == "judge-1" and sent["temperature"] == 0
    prompt = sent["messages"][-1]["content"]
    assert "CALL create_list" in prompt and '"new_lists"' in prompt and "Created it." in prompt


@pytest.mark.parametrize(
    ("case", "words"),
    [("garbage", "no verdict in the judge's reply"), ("ambiguous", "no verdict"), ("http500", "HTTP 500"),
     ("slow", "Timeout")],
)  # fmt: skip
def test_judge_failures_are_recorded_not_raised(server, monkeypatch, case, words):
    judge = make_judge(server, monkeypatch, timeout_s=1)
    result = asyncio.run(judge.judge(f"CASE:{case} make a list", TRAJECTORY, {}, None))
    assert result.verdict is None and words in result.error, result


def test_missing_api_key_is_a_recorded_error(server, monkeypatch):
    judge = make_judge(server, monkeypatch)
    monkeypatch.delenv("AWM_TEST_JUDGE_KEY")
    result = asyncio.run(judge.judge("CASE:json_complete", TRAJECTORY, {}, None))
    assert result.verdict is None and "AWM_TEST_JUDGE_KEY is not set" in result.error


def test_concurrency_is_bounded(server, monkeypatch):
    judge = make_judge(server, monkeypatch, concurrency=2)
    deadline = time.monotonic() + 10
    while server.in_flight:  # a request an earlier test gave up on may still be held by the server
        assert time.monotonic() < deadline
        time.sleep(0.1)
    server.max_in_flight = 0

    async def many():
        return await asyncio.gather(*(judge.judge(f"CASE:json_complete n{i}", TRAJECTORY, {}, None) for i in range(8)))

    results = asyncio.run(many())
    assert all(r.verdict == "complete" for r in results)
    assert server.max_in_flight == 2


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ('{"verdict": "Complete"}', "complete"),
        ('{"label": "not complete", "reason": "x"}', "incomplete"),
        ("Final verdict: INCOMPLETE.", "incomplete"),
        ("verdict - server_error", "server_error"),
        ("The agent made an agent error here.", "agent_error"),
        ("**complete**", "complete"),
        ("incomplete", "incomplete"),
        ("", None),
        ("complete? incomplete? agent error?", None),
    ],
)
def test_parse_verdict(text, verdict):
    assert parse_verdict(text)[0] == verdict


def test_prompt_caps_long_evidence_and_trajectories():
    long_trajectory = [{"role": "tool", "content": "x" * 5000}] * 20
    prompt = judge_prompt("Task.", long_trajectory, {"rows": list(range(20000))}, None, evidence_chars=1000)
    assert "[trajectory shortened]" in prompt and "more characters]" in prompt and len(prompt) < 20_000
    assert json.dumps({"a": 1}) not in prompt
