"""Model traffic for tests: the strict scripted model server of `../shared/cases`, our own scripts.

`StrictServer(dir)` runs `../shared/cases/strict_model_server.py` on a free 127.0.0.1 port with a
replies directory holding the shared scripts (linked, never copied into the repo) and the scripts
below; `requests()` reads back what it was sent (`STRICT_SERVER_LOG`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
CASES = REPO.parent / "shared" / "cases"
QA_DATASET = CASES / "qa_dataset"


def _call(name: str, arguments: Any, call_id: str | None = "auto") -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        call["id"] = call_id
    return call


def _turn(*calls: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    return message


def _raw(message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {"id": "raw", "object": "chat.completion", "created": 0, "model": "x",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}]}  # fmt: skip


DEEP = 600  # nesting of the deep_reply script

# Our own scripts, beside the shared ones (same format: see strict_model_server.py).
SCRIPTS: dict[str, dict[str, Any]] = {
    # null / empty / missing arguments all mean "no arguments"; a JSON array is refused naming JSON types
    "null_arguments": {"strict_history_args": True, "strict_tool_ids": True, "turns": [
        _turn(_call("ping", "null", "c1"), _call("ping", "", "c2"), _call("ping", "[1, 2]", "c3")),
        _turn(content="done.")]},
    # the same id in two turns and twice in one turn; parallel calls answered in order
    "repeated_ids": {"strict_tool_ids": True, "strict_history_args": True, "turns": [
        _turn(_call("get_note", '{"slug": "hello-world"}', "same"), _call("ping", "{}", "same")),
        _turn(_call("get_note", '{"slug": "missing"}', "same")),
        _turn(content="done.")]},
    # lone surrogates in tool arguments (as a JSON escape inside the arguments text, and raw in the
    # reply), a NUL, a lone surrogate in a tool name, and in the final text
    "odd_text_in_calls": {"strict_tool_ids": True, "strict_history_args": True, "turns": [
        _turn(_call("get_note", '{"slug": "caf\\ud83d"}', "c1"), _call("get_note", '{"slug": "caf\ud83d"}', "c2"),
              _call("get_note", '{"slug": "a\\u0000b"}', "c3"), _call("pin\ud83dg", "{}", "c4")),
        _turn(content="done \ud83d.")]},
    "refusal": {"raw_responses": {"0": _raw({"role": "assistant", "content": None, "refusal": "I can't help."}, "stop")}},
    "cut_off": {"raw_responses": {"1": _raw(_turn(_call("get_note", '{"slug": "hel', "c2")), "length")},
                "turns": [_turn(_call("ping", "{}", "c1"))]},
    "says_nothing": {"turns": [_turn(content="")]},
    # arguments json cannot read: nested 10,000 deep, an integer of 5,001 digits; then a good call
    "unreadable_arguments_then_retry": {"strict_tool_ids": True, "strict_history_args": True, "turns": [
        _turn(_call("get_note", '{"slug": ' + "[" * 10_000 + "]" * 10_000 + "}", "c1"),
              _call("get_note", '{"slug": ' + "7" * 5001 + "}", "c2")),
        _turn(_call("get_note", '{"slug": "hello-world"}', "c3")),
        _turn(content="done.")]},
    "always_ping": {"turns": [_turn(_call("ping", "{}", f"c{i}")) for i in range(10)]},
    # a reply nested 600 deep (a field we do not read, and arguments json reads but no app expects),
    # past where a recursive walk of it fails, well within what json reads
    "deep_reply": {"strict_tool_ids": True, "strict_history_args": True, "raw_responses": {"0": {
        **_raw(_turn(_call("get_note", '{"slug": "hello-world", "deep": ' + "[" * DEEP + "]" * DEEP + "}", "c1")),
               "tool_calls"), "trace": json.loads("[" * DEEP + "]" * DEEP)}}},
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StrictServer:
    """The shared strict scripted model server on 127.0.0.1, as a context manager."""

    def __init__(self, workdir: Path, extra: dict[str, dict[str, Any]] | None = None):
        self.replies = workdir / "replies"
        self.replies.mkdir(parents=True, exist_ok=True)
        for script in sorted((CASES / "model_replies").glob("*.json")):
            target = self.replies / script.name
            if not target.exists():
                target.symlink_to(script)
        for name, script in {**SCRIPTS, **(extra or {})}.items():
            (self.replies / f"{name}.json").write_text(json.dumps(script))
        self.log = workdir / "requests.jsonl"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> StrictServer:
        env = {**os.environ, "STRICT_SERVER_LOG": str(self.log)}
        self._proc = subprocess.Popen(
            [sys.executable, str(CASES / "strict_model_server.py"), str(self.port), str(self.replies)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"strict model server exited: {self._proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/docs", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("strict model server did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc.stderr.close()
            self._proc = None

    def requests(self, model: str | None = None) -> list[dict[str, Any]]:
        """The requests the server received (oldest first), of one model if given."""
        if not self.log.exists():
            return []
        found = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [r for r in found if model is None or r["model"] == model]

    def add(self, name: str, script: dict[str, Any]) -> None:
        (self.replies / f"{name}.json").write_text(json.dumps(script))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The strict scripted model server for one test module (import this fixture into the module)."""
    with StrictServer(tmp_path_factory.mktemp("strict")) as running:
        yield running
