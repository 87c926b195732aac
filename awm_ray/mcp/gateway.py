"""The gateway's MCP routes: a gateway extension (`awm_ray.farm.gateway` calls it while building its app).

- every lease grant (`POST /v1/leases`) carries `mcp_url`: `/v1/leases/{id}/mcp`, relative to the
  gateway, guarded by the lease's token like every other route of the lease;
- `/v1/leases/{id}/mcp` serves that lease as MCP (streamable HTTP); when the lease leaves the
  gateway's table (released, lost, silent past its ttl, the gateway stopping) its MCP sessions end;
- `POST /v1/mcp?scenario=NAME`: one MCP session = one lease, held by the gateway for the session
  and released when it ends (`DELETE`, or silent for `farm.lease_ttl_s`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from awm_ray.farm.errors import LeaseLost, WrongToken
from awm_ray.mcp.host import LEASE_PATH, mount
from awm_ray.mcp.http import LeaseEndpoints, SessionLeases


def mcp_extension(app: Any, table: Any) -> contextlib.AbstractAsyncContextManager[None]:
    """`GatewayExtension`: add the MCP routes to the gateway `app` over its `LeaseTable`."""
    endpoints = LeaseEndpoints()
    table.on_end(endpoints.end)
    table.add_grant_fields(lambda episode: {"mcp_url": LEASE_PATH.format(lease_id=episode.lease_id)})

    async def resolve(lease_id: str, token: str) -> Any:
        try:
            return table.get(lease_id, f"Bearer {token}")
        except WrongToken as exc:
            return 403, str(exc)
        except LeaseLost as exc:
            return 404, str(exc)

    async def acquire(scenario: str) -> Any:
        return await table.lease(scenario, None, keepalive=True)  # held for the session; its idle limit ends it

    async def release(episode: Any) -> None:
        await table.end(episode.lease_id)

    sessions = SessionLeases(endpoints, acquire, release, idle_timeout_s=table.farm.config.farm.lease_ttl_s)
    mount(app, endpoints, resolve, sessions)

    @contextlib.asynccontextmanager
    async def lifetime() -> AsyncIterator[None]:
        async def sweep() -> None:
            while True:
                await asyncio.sleep(max(0.5, min(30.0, sessions.idle_timeout_s / 2)))
                await sessions.end_idle()

        sweeper = asyncio.ensure_future(sweep())
        try:
            yield
        finally:
            sweeper.cancel()
            await sessions.aclose()
            await endpoints.aclose()

    return lifetime()
