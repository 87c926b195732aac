"""MCP over streamable HTTP for leases held by this process (the gateway's, or a Taskset's).

`LeaseEndpoints` keeps one MCP server (and the SDK's session manager) per lease, created on the
lease's first MCP request and ended with the lease: `end(lease_id)` closes its sessions, and a
later request for it answers 404. Checking the caller's token is the mounting app's job.

`SessionLeases` is the ASGI app behind `POST /v1/mcp`: a client that cannot make a separate
lease call names a scenario (`?scenario=NAME` or the `X-AWM-Scenario` header) on its
`initialize` request; the lease is taken then, the MCP session id becomes the key to it, and
the lease is released when the session ends (`DELETE` with the session id, `end_idle()` for a
session silent longer than its idle limit, or `aclose()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Message, Receive, Scope, Send

from awm_ray.farm.errors import FarmError, LeaseTimeout, ScenarioUnavailable, UnknownScenario
from awm_ray.hosting import CallResult
from awm_ray.mcp.server import LeaseEpisode, lease_server

log = logging.getLogger(__name__)
SESSION_HEADER = "mcp-session-id"
SCENARIO_HEADER = "x-awm-scenario"
# MCP protocol versions that open a session with `initialize` (the 2026 versions are sessionless)
HANDSHAKE_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}


class _Endpoint:
    """The SDK's session manager for one lease, run in a task of its own until the lease ends."""

    def __init__(self, episode: LeaseEpisode, on_call: Callable[[str, CallResult], None] | None):
        self.episode = episode
        self.manager = StreamableHTTPSessionManager(app=lease_server(episode, on_call), json_response=True)
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async with self.manager.run():
            self._ready.set()
            await self._stop.wait()

    async def ready(self) -> None:
        waiter = asyncio.ensure_future(self._ready.wait())
        await asyncio.wait([waiter, self._task], return_when=asyncio.FIRST_COMPLETED)
        if not self._ready.is_set():
            waiter.cancel()
            self._task.result()  # raises what stopped the manager

    async def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(self._task, 10)


class LeaseEndpoints:
    """One MCP endpoint per lease; `handle()` serves one HTTP request of a lease's MCP session."""

    def __init__(self, on_call: Callable[[str, CallResult], None] | None = None):
        self._open: dict[str, _Endpoint] = {}
        self._on_call = on_call

    def __len__(self) -> int:
        return len(self._open)

    def __contains__(self, lease_id: str) -> bool:
        return lease_id in self._open

    async def handle(self, episode: LeaseEpisode, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one MCP request (POST, GET or DELETE) for `episode`'s lease."""
        endpoint = self._open.get(episode.lease_id)
        if endpoint is None:
            endpoint = self._open[episode.lease_id] = _Endpoint(episode, self._on_call)
        await endpoint.ready()
        await endpoint.manager.handle_request(scope, receive, send)

    async def end(self, lease_id: str) -> None:
        """End the MCP sessions of a lease (it was released or lost). Safe to call twice."""
        endpoint = self._open.pop(lease_id, None)
        if endpoint is not None:
            await endpoint.close()

    async def aclose(self) -> None:
        for lease_id in list(self._open):
            await self.end(lease_id)


class SessionLeases:
    """ASGI app for `POST /v1/mcp`: one MCP session, one lease, released when the session ends.

    `acquire(scenario)` takes a lease (raising `FarmError`s), `release(episode)` gives it back;
    both belong to the mounting app, which keeps its own table of the leases it holds."""

    def __init__(
        self,
        endpoints: LeaseEndpoints,
        acquire: Callable[[str], Awaitable[LeaseEpisode]],
        release: Callable[[LeaseEpisode], Awaitable[None]],
        idle_timeout_s: float = 600.0,
    ):
        self.endpoints = endpoints
        self._acquire, self._release = acquire, release
        self.idle_timeout_s = idle_timeout_s
        self._sessions: dict[str, LeaseEpisode] = {}
        self._last_seen: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        session_id = headers.get(SESSION_HEADER)
        if session_id is not None:
            await self._existing(session_id, scope, receive, send)
            return
        if scope["method"] != "POST":
            await _error(send, 400, "an MCP session starts with a POST of `initialize` (no session id given)")
            return
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in HANDSHAKE_VERSIONS:
            # A sessionless (2026) client: refuse, so it falls back to the `initialize` handshake.
            await _error(send, 400, f"/v1/mcp leases per session; protocol {version} has no sessions. "
                                    "Lease with POST /v1/leases and use its mcp_url instead.")  # fmt: skip
            return
        scenario = _query(scope).get("scenario") or headers.get(SCENARIO_HEADER)
        if not scenario:
            await _error(send, 400, "name the scenario: POST /v1/mcp?scenario=NAME or the X-AWM-Scenario header")
            return
        try:
            episode = await self._acquire(scenario)
        except FarmError as exc:
            status = {UnknownScenario: 404, LeaseTimeout: 503, ScenarioUnavailable: 502}.get(type(exc), 500)
            await _error(send, status, str(exc))
            return
        created: list[str] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                for key, value in message.get("headers", []):
                    if key.decode("latin-1").lower() == SESSION_HEADER:
                        created.append(value.decode("latin-1"))
            await send(message)

        try:
            await self.endpoints.handle(episode, scope, receive, capture)
        finally:
            if created:
                self._sessions[created[0]] = episode
                self._last_seen[created[0]] = time.monotonic()
            else:  # not an initialize (the SDK refused it) or the request failed: nothing holds it
                await self._end_lease(episode)

    async def _existing(self, session_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        episode = self._sessions.get(session_id)
        if episode is None or episode.lease_id not in self.endpoints:
            if episode is not None:  # its lease ended on its own (expiry, lost): forget the session
                await self._end_session(session_id)
            await _error(send, 404, "Session not found (it ended, or its lease did)")
            return
        self._last_seen[session_id] = time.monotonic()
        await self.endpoints.handle(episode, scope, receive, send)
        if scope["method"] == "DELETE":
            await self._end_session(session_id)

    async def _end_session(self, session_id: str) -> None:
        episode = self._sessions.pop(session_id, None)
        self._last_seen.pop(session_id, None)
        if episode is not None:
            await self._end_lease(episode)

    async def _end_lease(self, episode: LeaseEpisode) -> None:
        await self.endpoints.end(episode.lease_id)
        try:
            await self._release(episode)
        except Exception as exc:  # the farm expires it on its own
            log.warning("releasing lease %s of an MCP session failed: %s", episode.lease_id, exc)

    async def end_idle(self) -> int:
        """End sessions silent for longer than `idle_timeout_s`; returns how many."""
        cutoff = time.monotonic() - self.idle_timeout_s
        idle = [sid for sid, seen in self._last_seen.items() if seen < cutoff]
        for session_id in idle:
            await self._end_session(session_id)
        return len(idle)

    async def aclose(self) -> None:
        for session_id in list(self._sessions):
            await self._end_session(session_id)


def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


async def _error(send: Send, status: int, detail: str) -> None:
    """A JSON-RPC error body (what MCP clients read) with an HTTP status."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": detail}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def bearer_token(scope: Scope) -> str:
    """The lease token of a request: `Authorization: Bearer <token>`, or `?token=` for clients
    that are configured by URL alone (verifiers toolsets, desktop MCP configs)."""
    for key, value in scope.get("headers", []):
        if key.lower() == b"authorization":
            return value.decode("latin-1").removeprefix("Bearer ").strip()
    return _query(scope).get("token", "")


def request_headers(scope: Scope) -> dict[str, Any]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
