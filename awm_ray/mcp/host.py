"""Serving leases as MCP: the routes a gateway mounts, and a small host of its own.

Routes (what `mount()` adds to a Starlette/FastAPI app):

    /v1/leases/{lease_id}/mcp   the lease's MCP endpoint (streamable HTTP), guarded by its token
                                (`Authorization: Bearer <token>`, or `?token=<token>`)
    /v1/mcp                     one MCP session = one lease (`?scenario=NAME` on `initialize`)

`McpHost` serves these for a farm handle from this process (a Ray `Farm` or a `RemoteFarm`), on a
loopback port of its own: the verifiers 0.4 Taskset uses it for the leases its rollouts hold, and
tests use it without a gateway.

```python
host = McpHost(farm)
url = await host.start()                      # http://127.0.0.1:PORT
ep = await farm.lease("bookstore_1")
mcp_url, token = host.register(ep)            # .../v1/leases/<id>/mcp
...                                           # any MCP client, header Authorization: Bearer <token>
await host.release(ep.lease_id)               # ends its MCP sessions and the lease
await host.stop()
```
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from awm_ray.hosting import CallResult
from awm_ray.mcp.http import LeaseEndpoints, SessionLeases, _error, bearer_token
from awm_ray.mcp.server import LeaseEpisode

log = logging.getLogger(__name__)

LEASE_PATH = "/v1/leases/{lease_id}/mcp"
SESSION_PATH = "/v1/mcp"

# resolve(lease_id, token) -> the held episode, or (HTTP status, detail) when the caller may not use it
Resolve = Callable[[str, str], Awaitable["LeaseEpisode | tuple[int, str]"]]


class LeaseRoute:
    """ASGI endpoint of `/v1/leases/{lease_id}/mcp`: checks the token, then serves MCP."""

    def __init__(self, endpoints: LeaseEndpoints, resolve: Resolve):
        self.endpoints, self._resolve = endpoints, resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lease_id = scope["path_params"]["lease_id"]
        found = await self._resolve(lease_id, bearer_token(scope))
        if isinstance(found, tuple):
            await _error(send, found[0], found[1])
            return
        await self.endpoints.handle(found, scope, receive, send)


def mount(app: Starlette, endpoints: LeaseEndpoints, resolve: Resolve, sessions: SessionLeases) -> None:
    """Add the MCP routes to `app` (after its own routes, so those keep precedence)."""
    app.router.routes.append(Route(LEASE_PATH, endpoint=LeaseRoute(endpoints, resolve)))
    app.router.routes.append(Route(SESSION_PATH, endpoint=sessions))


def mcp_url(base_url: str, lease_id: str) -> str:
    return base_url.rstrip("/") + LEASE_PATH.format(lease_id=lease_id)


class McpHost:
    """MCP for leases held by this process, on `127.0.0.1:<port>` (uvicorn in this event loop).

    `on_call(lease_id, result)` sees every tool call made through MCP (the Taskset records them
    for its rewards). `idle_timeout_s` ends `/v1/mcp` sessions (and their leases) that go silent."""

    def __init__(
        self,
        farm: Any,
        on_call: Callable[[str, CallResult], None] | None = None,
        idle_timeout_s: float = 600.0,
        host: str = "127.0.0.1",
    ):
        self.farm = farm
        self.endpoints = LeaseEndpoints(on_call)
        self._held: dict[str, tuple[LeaseEpisode, str]] = {}
        self.sessions = SessionLeases(self.endpoints, self._acquire, self._release_episode, idle_timeout_s)
        self.app = Starlette()
        mount(self.app, self.endpoints, self._resolve, self.sessions)
        self._host = host
        self.url: str | None = None
        self._server: Any = None
        self._serve_task: asyncio.Task | None = None
        self._sweeper: asyncio.Task | None = None

    # ---- leases ------------------------------------------------------------------------------

    def register(self, episode: LeaseEpisode) -> tuple[str, str]:
        """Serve `episode` as MCP; returns (its MCP URL, the token that guards it)."""
        if self.url is None:
            raise RuntimeError("McpHost.start() first")
        token = secrets.token_urlsafe(24)
        self._held[episode.lease_id] = (episode, token)
        return mcp_url(self.url, episode.lease_id), token

    def held(self) -> int:
        return len(self._held)

    async def release(self, lease_id: str) -> None:
        """End the lease's MCP sessions and release it. Safe to call twice."""
        entry = self._held.pop(lease_id, None)
        await self.endpoints.end(lease_id)
        if entry is not None:
            await entry[0].release()  # type: ignore[attr-defined]

    async def _resolve(self, lease_id: str, token: str) -> LeaseEpisode | tuple[int, str]:
        entry = self._held.get(lease_id)
        if entry is None:
            return 404, f"lease {lease_id} is not held here (released, expired or never granted)"
        if not secrets.compare_digest(token, entry[1]):
            return 403, "missing or wrong lease token"
        return entry[0]

    async def _acquire(self, scenario: str) -> LeaseEpisode:
        episode = await self.farm.lease(scenario)
        self._held[episode.lease_id] = (episode, secrets.token_urlsafe(24))
        return episode

    async def _release_episode(self, episode: LeaseEpisode) -> None:
        await self.release(episode.lease_id)

    # ---- serving -----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        """Start serving on a loopback port (0: any free one); returns the base URL."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, port))
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._serve_task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serve_task.done():
                sock.close()
                self._serve_task.result()
            await asyncio.sleep(0.01)
        self.url = f"http://{self._host}:{sock.getsockname()[1]}"
        self._sweeper = asyncio.ensure_future(self._sweep())
        return self.url

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, self.sessions.idle_timeout_s / 2))
            await self.sessions.end_idle()

    async def stop(self) -> None:
        """Release every lease held here and stop serving."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        await self.sessions.aclose()
        for lease_id in list(self._held):
            with contextlib.suppress(Exception):
                await self.release(lease_id)
        await self.endpoints.aclose()
        if self._server is not None:
            self._server.should_exit = True
            if self._serve_task is not None:
                await asyncio.wait([self._serve_task], timeout=10)
            self._server = None
        self.url = None

    async def __aenter__(self) -> McpHost:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
