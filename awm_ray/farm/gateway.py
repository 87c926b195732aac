"""HTTP access to the farm for processes that are not Ray drivers.

A thin transport over the client API: every route is one `Farm` / `Episode` call. Leases are held
by the gateway; a call or release must carry the lease's token (`Authorization: Bearer <token>`).

    POST   /v1/leases                {"scenario": ..., "timeout_s": ...}  -> lease_id, token, tools
    POST   /v1/leases/{id}/calls     {"tool": ..., "arguments": ...}      -> text, status, error, ...
    POST   /v1/leases/{id}/renew
    DELETE /v1/leases/{id}
    GET    /v1/health   GET /v1/stats   GET /v1/scenarios
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import time
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from awm_ray.farm.client import Episode, Farm
from awm_ray.farm.errors import FarmError, LeaseLost, LeaseTimeout, ScenarioUnavailable, UnknownScenario

log = logging.getLogger(__name__)


class LeaseRequest(BaseModel):
    scenario: str = Field(..., description="Scenario name.")
    timeout_s: float | None = Field(None, gt=0, description="How long to wait for a free slot.")


class CallRequest(BaseModel):
    tool: str
    arguments: str | dict[str, Any] | None = None


_STATUS = {LeaseLost: 410, LeaseTimeout: 503, UnknownScenario: 404, ScenarioUnavailable: 502}


def build_app(farm: Farm, idle_timeout_s: float | None = None) -> FastAPI:
    """The gateway app over a connected `Farm` handle."""
    episodes: dict[str, tuple[Episode, str]] = {}
    last_used: dict[str, float] = {}
    idle_timeout = idle_timeout_s or farm.config.farm.lease_ttl_s

    async def forget_idle() -> None:
        """Drop leases whose holder went silent (the farm expires them too)."""
        while True:
            await asyncio.sleep(min(30.0, idle_timeout / 2))
            now = time.monotonic()
            for lease_id in [k for k, t in last_used.items() if now - t > idle_timeout]:
                last_used.pop(lease_id, None)
                entry = episodes.pop(lease_id, None)
                if entry is not None:
                    await entry[0].release()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        sweeper = asyncio.ensure_future(forget_idle())
        yield
        sweeper.cancel()
        for episode, _token in list(episodes.values()):
            await episode.release()
        episodes.clear()

    app = FastAPI(title="awm-ray gateway", version="1", lifespan=lifespan)

    def held(lease_id: str, authorization: str | None) -> Episode:
        entry = episodes.get(lease_id)
        if entry is None:
            raise HTTPException(410, {"error": "lease_lost", "detail": f"lease {lease_id} is not held here"})
        episode, token = entry
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given, token):
            raise HTTPException(403, {"error": "forbidden", "detail": "missing or wrong lease token"})
        last_used[lease_id] = time.monotonic()
        return episode

    @app.exception_handler(FarmError)
    async def farm_error(_, exc: FarmError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 500)
        name = {410: "lease_lost", 503: "lease_timeout", 404: "unknown_scenario", 502: "scenario_unavailable"}
        return JSONResponse({"error": name.get(status, "farm_error"), "detail": str(exc)}, status_code=status)

    @app.post("/v1/leases", status_code=201)
    async def create_lease(body: LeaseRequest) -> dict[str, Any]:
        episode = await farm.lease(body.scenario, body.timeout_s)
        episodes[episode.lease_id] = (episode, episode._token)
        last_used[episode.lease_id] = time.monotonic()
        return {
            "lease_id": episode.lease_id,
            "token": episode._token,
            "scenario": episode.scenario,
            "worker_id": episode.worker_id,
            "node_id": episode.node_id,
            "tools": episode.tools,
        }

    @app.post("/v1/leases/{lease_id}/calls")
    async def call(lease_id: str, body: CallRequest, authorization: str | None = Header(None)) -> dict[str, Any]:
        episode = held(lease_id, authorization)
        try:
            result = await episode.call(body.tool, body.arguments)
        except LeaseLost:
            episodes.pop(lease_id, None)
            raise
        return {**asdict(result), "ok": result.ok}

    @app.post("/v1/leases/{lease_id}/renew", status_code=204)
    async def renew(lease_id: str, authorization: str | None = Header(None)) -> None:
        await held(lease_id, authorization).renew()

    @app.delete("/v1/leases/{lease_id}", status_code=204)
    async def release(lease_id: str, authorization: str | None = Header(None)) -> None:
        episode = held(lease_id, authorization)
        episodes.pop(lease_id, None)
        last_used.pop(lease_id, None)
        await episode.release()

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        stats = await farm.stats()
        alive = sum(1 for w in stats["workers"] if w.get("alive"))
        return {"status": "ok" if alive else "degraded", "workers_alive": alive, "nodes": stats["nodes"],
                "leases_held_here": len(episodes)}  # fmt: skip

    @app.get("/v1/stats")
    async def stats() -> dict[str, Any]:
        return await farm.stats()

    @app.get("/v1/scenarios")
    async def scenarios() -> list[str]:
        return await asyncio.to_thread(farm.scenario_names)

    return app


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless it was asked for explicitly."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_remote:
        raise ValueError(
            f"refusing to bind the gateway to {host}: it would be reachable from other machines. "
            "Pass --allow-remote (gateway.allow_remote: true) if that is what you want."
        )


class GatewayServer:
    """Runs the gateway under uvicorn inside a Ray actor, beside the farm."""

    def __init__(self, farm_config: dict, host: str, port: int):
        from awm_ray.config import Config

        self.farm = Farm.connect(None, Config(farm=farm_config))
        self.host, self.port = host, port
        self._server: Any = None
        self._task: asyncio.Task | None = None

    async def start(self) -> str:
        import socket

        import uvicorn

        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(build_app(self.farm), log_level="warning", access_log=False, timeout_keep_alive=120)
        self._server = uvicorn.Server(config)
        self._task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._task is not None:
                await asyncio.wait([self._task], timeout=10)
