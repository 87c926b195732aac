"""The gateway's FastAPI app: routes, request limits and one error format.

Every error answers `{"error": KIND, "detail": TEXT}`: KIND a stable name (`lease_lost` 410,
`lease_timeout` 503, `unknown_scenario` 404, `scenario_unavailable` 502, `forbidden` 403,
`bad_request` 400/422, `too_large` 413, `not_found` 404, `method_not_allowed` 405, `farm_error`
500, `internal` 500), TEXT the cause alone, at most 2,000 characters, never the caller's input
echoed in full (a farm error's text is exactly `str()` of the error the Ray client raises).
Request bodies over `gateway.max_request_bytes` are refused with 413 before they are parsed (the rest
of such a body is read and dropped first, for up to `DRAIN_S`, so that the client sees the answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from awm_ray.config import GatewayConfig
from awm_ray.farm.client import Farm
from awm_ray.farm.errors import FarmError, clean_message, clip
from awm_ray.farm.gateway.leases import LeaseTable, lease_routes

log = logging.getLogger(__name__)

DRAIN_S = 10.0  # how long the rest of a refused request body is read and dropped (see `drain`)

STATUS = {"lease_lost": 410, "lease_timeout": 503, "unknown_scenario": 404, "unknown_task": 404, "scenario_unavailable": 502,
          "forbidden": 403, "farm_error": 500}  # fmt: skip
_HTTP_KINDS = {400: "bad_request", 401: "forbidden", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 422: "bad_request"}  # fmt: skip

# Called once while the app is built: add routes or mounts; may return a context entered for the
# app's lifetime (e.g. a session manager), exited before the gateway's leases are released.
GatewayExtension = Callable[[FastAPI, LeaseTable], AbstractAsyncContextManager[Any] | None]


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: text that is not valid UTF-8 (a lone surrogate from a model or
    an app) is sent as a JSON escape instead of failing the response."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class BodyLimit:
    """Refuse a request body over `max_bytes` with 413 before it is parsed: at once when its
    Content-Length says so, else as soon as that many bytes arrived (chunked bodies). (FastAPI's
    own `max_body_size` answers the first case in plain text, outside this gateway's error format.)"""

    def __init__(self, app: Any, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if message.get("more_body", False):
                        await drain(receive)
                    raise HTTPException(413)  # answered by the app's handler, in the gateway's format
            return message

        await self.app(scope, limited, send)

    async def _too_large(self, scope: Any, receive: Any, send: Any) -> None:
        drained = await drain(receive)
        response = error_response(413, "too_large", f"request body over the gateway's limit of {self.max_bytes} bytes")
        if not drained:
            response.headers["connection"] = "close"  # the rest of the body is left unread
        await response(scope, receive, send)


async def drain(receive: Any, within_s: float = DRAIN_S) -> bool:
    """Read and drop the rest of a refused request body, for up to `within_s` seconds. Most clients
    send their whole body before they read the answer: a server that answers and closes while the
    body is still coming resets the connection under them, and they report a broken connection
    instead of the 413. True if the body was read to its end (the connection can be kept)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            message = await asyncio.wait_for(receive(), remaining)
        except TimeoutError:
            return False
        if message["type"] != "http.request":  # the client went away
            return False
        if not message.get("more_body", False):
            return True


def error_response(status: int, kind: str, detail: object) -> SafeJSONResponse:
    return SafeJSONResponse({"error": kind, "detail": clean_message(detail)}, status_code=status)


def build_app(farm: Farm, config: GatewayConfig | None = None, extensions: Sequence[GatewayExtension] = ()) -> FastAPI:
    """The gateway app over a connected `Farm` handle (see the package docstring for the routes)."""
    config = config or farm.config.gateway
    table = LeaseTable(farm)
    contexts: list[AbstractAsyncContextManager[Any]] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sweeper = asyncio.ensure_future(table.forget_silent())
        try:
            async with contextlib.AsyncExitStack() as stack:
                for context in contexts:
                    await stack.enter_async_context(context)
                yield
        finally:
            sweeper.cancel()
            await table.close()

    app = FastAPI(title="awm-ray gateway", version="1", lifespan=lifespan, default_response_class=SafeJSONResponse)
    app.state.leases = table
    app.add_middleware(BodyLimit, max_bytes=config.max_request_bytes)
    _add_error_handlers(app)
    app.include_router(lease_routes(table))

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        stats = await farm.stats()
        alive = sum(1 for w in stats["workers"] if w.get("alive"))
        return {"status": "ok" if alive else "degraded", "workers_alive": alive, "nodes": stats["nodes"],
                "leases_held_here": len(table), "pid": os.getpid()}  # fmt: skip

    @app.get("/v1/stats")
    async def stats() -> dict[str, Any]:
        return await farm.stats()

    @app.get("/v1/scenarios")
    async def scenarios() -> list[str]:
        return await asyncio.to_thread(farm.scenario_names)

    for extend in extensions:
        context = extend(app, table)
        if context is not None:
            contexts.append(context)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FarmError)
    async def farm_error(_: Request, exc: FarmError) -> SafeJSONResponse:
        return error_response(STATUS.get(exc.kind, 500), exc.kind if exc.kind in STATUS else "farm_error", exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> SafeJSONResponse:
        problems = []
        for error in exc.errors()[:5]:  # the place and the rule, never the input
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            problems.append(f"{clip(where, 100)}: {clip(str(error.get('msg', 'invalid')), 200)}")
        more = len(exc.errors()) - len(problems)
        return error_response(422, "bad_request", "; ".join(problems) + (f"; and {more} more" if more > 0 else ""))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> SafeJSONResponse:
        kind = _HTTP_KINDS.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal")
        detail = "request body over the gateway's limit" if exc.status_code == 413 else exc.detail
        return error_response(exc.status_code, kind, detail)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> SafeJSONResponse:
        log.error("gateway: a request failed", exc_info=exc)
        return error_response(500, "internal", f"the gateway failed ({type(exc).__name__}); see its log")
