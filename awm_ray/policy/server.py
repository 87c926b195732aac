"""The OpenAI-compatible chat-completions server that serves the scripted agents.

`build_app` serves `next_message`; `PolicyServer` runs it in a background thread (tests, notebooks);
`serve` runs it in the foreground (`awm-ray policy serve`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict

from .agents import HARNESS_NOTE, MODES, model_id, next_message
from .conversation import _digest
from .solutions import SolutionBook

log = logging.getLogger(__name__)

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


class ChatRequest(BaseModel):
    """The parts of an OpenAI chat-completions request the policy reads; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    temperature: float | None = None
    max_tokens: int | None = None
    n: int | None = None
    stream: bool | None = None


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": None}}, status_code=status)


def build_app(mode: str, seed: int = 0, solutions: SolutionBook | None = None) -> FastAPI:
    """The policy as `POST /v1/chat/completions` and `GET /v1/models` (served id `awm-ray-reference-<mode>`).

    `solutions`: reference solutions of scenarios' own tasks, which the oracle plays (see `agents`)."""
    if mode not in MODES:
        raise ValueError(f"unknown policy mode {mode!r}; choose one of {', '.join(MODES)}")
    served = model_id(mode)
    app = FastAPI(title=f"awm-ray reference policy ({mode}) - {HARNESS_NOTE}", docs_url=None, redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}" for e in exc.errors()
        )
        return _error(400, f"invalid request: {problems}")

    @app.exception_handler(_BadRequest)
    async def bad_request(_: Request, exc: _BadRequest) -> JSONResponse:
        return _error(400, str(exc), exc.param)

    model_card = {"id": served, "object": "model", "created": 0, "owned_by": "awm-ray (reference policy, not a model)"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card]}

    @app.get("/v1/models/{name}")
    async def model(name: str) -> JSONResponse:
        if name != served:
            return _error(404, f"model {name!r} not found; this server serves {served!r}", "model")
        return JSONResponse(model_card)

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        if body.n not in (None, 1):
            raise _BadRequest(f"n={body.n} is not supported by the awm-ray reference policy; only n=1", "n")
        if not body.messages:
            raise _BadRequest("messages must not be empty", "messages")
        for i, message in enumerate(body.messages):
            if message.get("role") not in _ROLES:
                raise _BadRequest(f"messages[{i}].role must be one of {sorted(_ROLES)}", f"messages[{i}].role")
        for i, tool in enumerate(body.tools or []):
            fn = tool.get("function")
            if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
                raise _BadRequest(f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ...}}}}", f"tools[{i}]")
        message = next_message(body.messages, body.tools or [], mode, seed, body.tool_choice, solutions)
        calls = message.get("tool_calls") or []
        log.info("%s: %d message(s) -> %s", served, len(body.messages),
                 ", ".join(c["function"]["name"] for c in calls) or "answer")  # fmt: skip
        prompt_tokens = max(1, len(json.dumps(body.messages, default=str)) // 4 + len(json.dumps(body.tools or [])) // 4)
        completion_tokens = max(1, len(json.dumps(message, ensure_ascii=False)) // 4)
        completion = {
            "id": "chatcmpl-" + _digest(served, seed, body.messages)[:24],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": served,
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        if body.stream:
            return StreamingResponse(_stream(completion), media_type="text/event-stream")
        return completion

    return app


def _stream(completion: dict[str, Any]):
    """A chat completion as OpenAI's server-sent `chat.completion.chunk` events: the whole message
    in one delta (tool calls with their `index`), then the finish reason with the usage, then
    `[DONE]` (what streaming clients such as chat-loop harnesses read)."""
    choice = completion["choices"][0]
    message = dict(choice["message"])
    if message.get("tool_calls"):
        message["tool_calls"] = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
    head = {k: completion[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    chunks = [
        head | {"choices": [{"index": 0, "delta": message, "finish_reason": None, "logprobs": None}]},
        head | {"choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"], "logprobs": None}],
                "usage": completion["usage"]},
    ]  # fmt: skip
    for chunk in chunks:
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


def banner(mode: str, base_url: str) -> str:
    """The line printed when a policy server is up."""
    return f"reference policy ({mode}) — {HARNESS_NOTE} — listening on {base_url}"


def serve(
    mode: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    seed: int = 0,
    on_ready: Callable[[str], None] | None = None,
    solutions: SolutionBook | None = None,
) -> None:
    """Serve the policy in the foreground until SIGINT/SIGTERM, then return normally.

    `on_ready(base_url)` runs once the server accepts requests; port 0 picks a free port (the real
    one is in the base URL).
    """
    import signal

    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the reference policy listens on %s: it is reachable from other machines", host)
    app = build_app(mode, seed, solutions)
    sock = _listening_socket(host, port)
    base_url = _url(host, sock.getsockname()[1])

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit and on_ready is not None:
                on_ready(base_url)

    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    in_main = threading.current_thread() is threading.main_thread()
    # uvicorn re-raises the signal that stopped it once its own handlers are gone; ending the
    # server here instead makes SIGTERM a clean exit (and covers a SIGTERM before uvicorn's handlers).
    previous = signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True)) if in_main else None
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sock.close()
    log.info("reference policy (%s) stopped", mode)


class PolicyServer:
    """The policy under uvicorn on 127.0.0.1 (a free port) in a background thread; a context manager.

    >>> with PolicyServer("oracle") as server:
    ...     client = AsyncOpenAI(base_url=server.base_url, api_key="unused")
    """

    def __init__(
        self,
        mode: str = "oracle",
        seed: int = 0,
        host: str = "127.0.0.1",
        startup_timeout: float = 10.0,
        solutions: SolutionBook | None = None,
    ):
        self.mode, self.seed, self.host = mode, seed, host
        self.startup_timeout = startup_timeout
        self.model = model_id(mode)
        self.port: int | None = None
        self._app = build_app(mode, seed, solutions)
        self._server: Any = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("PolicyServer is not running")
        return _url(self.host, self.port)

    def start(self) -> PolicyServer:
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("PolicyServer already started")
        self._sock = _listening_socket(self.host, 0)
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"awm-ray-policy-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                error = self._error
                self.stop()
                raise RuntimeError(f"the reference policy server did not start: {error!r}") from error
            time.sleep(0.01)
        log.info("%s", banner(self.mode, self.base_url))
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc
            log.exception("reference policy server crashed")

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, join its thread and close the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("reference policy server thread did not stop within %.0f s", timeout)
        if self._sock is not None:
            self._sock.close()
        self._thread, self._server, self._sock, self.port = None, None, None, None

    def __enter__(self) -> PolicyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
