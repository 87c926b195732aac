"""The leases a gateway holds for its remote clients, and the routes that lease, call, renew, release.

The gateway holds each lease on behalf of one remote client, which proves itself with the lease's
token (`Authorization: Bearer <token>`). The gateway never keeps a lease alive by itself: its
client renews it (each call renews it too; `RemoteFarm` renews all its leases in one
`POST /v1/leases/renew` per round), so a client that stops (killed, gone) loses its leases after
`farm.lease_ttl_s` exactly as a Ray client would. A client that gives up while its
`POST /v1/leases` waits (a timeout, a closed connection) has its request withdrawn; a grant that
arrives after it left is released at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from awm_ray.farm.client import Episode, Farm
from awm_ray.farm.errors import LeaseLost, WrongToken, quoted

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_NAME_CHARS = 512
MAX_RENEW_BATCH = 10_000
MAX_ANSWER_CHARS = 1_000_000
CLIENT_GONE = 499  # nginx's "client closed request": nobody reads it, but logs say what happened


class LeaseBody(BaseModel):
    scenario: str = Field(..., min_length=1, max_length=MAX_NAME_CHARS, description="Scenario name.")
    timeout_s: float | None = Field(
        None, gt=0, le=86_400, allow_inf_nan=False, description="How long to wait for a free slot (s)."
    )


class CallBody(BaseModel):
    tool: str = Field(..., max_length=MAX_NAME_CHARS)
    arguments: str | dict[str, Any] | None = None


class VerifyBody(BaseModel):
    task_index: int = Field(..., ge=0, le=1_000_000, description="The scenario's own task to verify.")
    final_answer: str | None = Field(None, max_length=MAX_ANSWER_CHARS, description="The agent's final answer.")
    mode: Literal["code", "sql"] | None = Field(None, description="Verifier mode (default: the farm's verification.mode).")


class LeaseKey(BaseModel):
    lease_id: str = Field(..., max_length=128)
    token: str = Field(..., max_length=256)


class RenewBody(BaseModel):
    leases: list[LeaseKey] = Field(..., max_length=MAX_RENEW_BATCH)


class LeaseTable:
    """The gateway's leases by id, with their tokens and when their client last showed up.

    `on_end(callback)`: `callback(lease_id)` (sync or async) runs when a lease leaves the table
    (released, lost, idle past its ttl, or the gateway stopping): for whatever was bound to it.
    """

    def __init__(self, farm: Farm):
        self.farm = farm
        self._episodes: dict[str, Episode] = {}
        self._seen: dict[str, float] = {}
        self._on_end: list[Callable[[str], Awaitable[None] | None]] = []
        self._grant_fields: list[Callable[[Episode], dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self._episodes)

    def on_end(self, callback: Callable[[str], Awaitable[None] | None]) -> None:
        self._on_end.append(callback)

    def add_grant_fields(self, fields: Callable[[Episode], dict[str, Any]]) -> None:
        """`fields(episode)` adds keys to the answer of `POST /v1/leases` (e.g. an `mcp_url`)."""
        self._grant_fields.append(fields)

    def grant(self, episode: Episode) -> dict[str, Any]:
        """What a lease's holder is told: id, token, tools, ttl, and the extensions' fields."""
        body = {"lease_id": episode.lease_id, "token": episode._token, "scenario": episode.scenario,
                "worker_id": episode.worker_id, "node_id": episode.node_id, "tools": episode.tools,
                "lease_ttl_s": episode.lease_ttl_s}  # fmt: skip
        for fields in self._grant_fields:
            body.update(fields(episode))
        return body

    async def lease(self, scenario: str, timeout_s: float | None, keepalive: bool = False) -> Episode:
        """Lease for a remote client, which renews it (`keepalive=False`), or for a holder inside
        this process that ends it itself (`keepalive=True`: renewed here until `end()`, never
        ended for silence; e.g. a session whose own idle timeout ends it)."""
        episode = await self.farm.lease(scenario, timeout_s, keepalive=keepalive)
        self._episodes[episode.lease_id] = episode
        self._seen[episode.lease_id] = time.monotonic()
        return episode

    def get(self, lease_id: str, authorization: str | None) -> Episode:
        """The lease `lease_id` if `authorization` carries its token; `LeaseLost` / `WrongToken` else."""
        episode = self._episodes.get(lease_id)
        if episode is None:
            raise LeaseLost(f"lease {quoted(lease_id, 80)} is not held here (released, expired, or never granted)")
        if not _same_token(bearer(authorization), episode._token):
            raise WrongToken("missing or wrong lease token (Authorization: Bearer <token>)")
        self._seen[lease_id] = time.monotonic()
        return episode

    async def call(self, lease_id: str, authorization: str | None, tool: str, arguments: Any) -> dict[str, Any]:
        episode = self.get(lease_id, authorization)
        try:
            result = await episode.call(tool, arguments)
        except LeaseLost:
            await self.end(lease_id)
            raise
        return {**asdict(result), "ok": result.ok}

    async def verify(self, lease_id: str, authorization: str | None, body: VerifyBody) -> dict[str, Any]:
        """The lease's episode verified (`Episode.verify`), as `Verification.to_dict()`."""
        episode = self.get(lease_id, authorization)
        try:
            verification = await episode.verify(body.task_index, body.final_answer, body.mode)
        except LeaseLost:
            await self.end(lease_id)
            raise
        return verification.to_dict()

    async def renew(self, keys: list[LeaseKey]) -> list[str]:
        """Renew those of `keys` held here under their token (one farm call per worker); returns
        the ids of the others (not held here, wrong token, or ended on the farm)."""
        now = time.monotonic()
        episodes, lost = [], []
        for key in keys:
            episode = self._episodes.get(key.lease_id)
            if episode is not None and _same_token(key.token, episode._token):
                episodes.append(episode)
                self._seen[key.lease_id] = now
            else:
                lost.append(key.lease_id)
        gone = await self.farm.renew(episodes) if episodes else []
        for lease_id in gone:
            await self.end(lease_id)
        return lost + gone

    async def release(self, lease_id: str, authorization: str | None) -> None:
        self.get(lease_id, authorization)
        await self.end(lease_id)

    async def end(self, lease_id: str) -> None:
        """Forget the lease here and give it back to the farm (safe twice)."""
        self._seen.pop(lease_id, None)
        episode = self._episodes.pop(lease_id, None)
        if episode is None:
            return
        await episode.release()
        for callback in self._on_end:
            try:
                done = callback(lease_id)
                if asyncio.iscoroutine(done):
                    await done
            except Exception:
                log.exception("a callback at the end of lease %s failed", lease_id)

    async def forget_silent(self) -> None:
        """Periodically end leases whose client was silent past their ttl (the farm has expired them)."""
        while True:
            ttl = min((e.lease_ttl_s for e in self._episodes.values()), default=self.farm.config.farm.lease_ttl_s)
            await asyncio.sleep(max(0.5, min(30.0, ttl / 2)))
            now = time.monotonic()
            for lease_id, episode in list(self._episodes.items()):
                if not episode.keepalive and now - self._seen.get(lease_id, now) > episode.lease_ttl_s:
                    await self.end(lease_id)

    async def close(self) -> None:
        await asyncio.gather(*(self.end(lease_id) for lease_id in list(self._episodes)))


def bearer(authorization: str | None) -> str:
    value = (authorization or "").strip()
    return value[7:].strip() if value[:7].lower() == "bearer " else value


def _same_token(given: str, token: str) -> bool:
    """Constant-time comparison that takes any string (a header may hold non-ASCII characters)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode("utf-8"))


async def until_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T | None:
    """Run `work` unless the client disconnects first (then cancel it and return None)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if task.cancelled():
        return None
    return task.result()


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def lease_routes(table: LeaseTable) -> APIRouter:
    """`POST /v1/leases`, `POST /v1/leases/renew`, `POST /v1/leases/{id}/calls`,
    `POST /v1/leases/{id}/verify`, `POST /v1/leases/{id}/renew`, `DELETE /v1/leases/{id}`."""
    router = APIRouter(prefix="/v1/leases")

    @router.post("", status_code=201)
    async def create_lease(body: LeaseBody, request: Request) -> Any:
        episode = await until_disconnected(request, table.lease(body.scenario, body.timeout_s))
        if episode is None or await request.is_disconnected():  # nobody is there to receive it
            if episode is not None:
                await table.end(episode.lease_id)
            log.info("a client left while its lease request for %s waited: withdrawn", quoted(body.scenario))
            return Response(status_code=CLIENT_GONE)
        return table.grant(episode)

    @router.post("/renew")
    async def renew_many(body: RenewBody) -> dict[str, Any]:
        lost = await table.renew(body.leases)
        return {"renewed": len(body.leases) - len(lost), "lost": lost}

    @router.post("/{lease_id}/calls")
    async def call(lease_id: str, body: CallBody, authorization: str | None = Header(None)) -> dict[str, Any]:
        return await table.call(lease_id, authorization, body.tool, body.arguments)

    @router.post("/{lease_id}/verify")
    async def verify(lease_id: str, body: VerifyBody, authorization: str | None = Header(None)) -> dict[str, Any]:
        return await table.verify(lease_id, authorization, body)

    @router.post("/{lease_id}/renew", status_code=204)
    async def renew(lease_id: str, authorization: str | None = Header(None)) -> None:
        episode = table.get(lease_id, authorization)
        if await table.farm.renew([episode]):
            await table.end(lease_id)
            raise LeaseLost(f"lease {lease_id} is no longer held (expired or lost)")

    @router.delete("/{lease_id}", status_code=204)
    async def release(lease_id: str, authorization: str | None = Header(None)) -> None:
        await table.release(lease_id, authorization)

    return router
