"""`awm-ray mcp SCENARIO`: one leased slot served as MCP over stdin/stdout.

For desktop MCP clients and inspectors, which start a server as a command. The lease is taken
before the first message is read and released when the client closes the stream (or the
process is interrupted); a process killed outright leaves it to the farm's lease expiry.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.stdio import stdio_server

from awm_ray.mcp.server import lease_server

log = logging.getLogger(__name__)


async def serve_stdio(farm: Any, scenario: str, timeout_s: float | None = None) -> None:
    """Lease a slot of `scenario` on `farm` (a `Farm` or `RemoteFarm`) and serve it over stdio
    until the client hangs up. Raises the farm's error (`UnknownScenario`, `LeaseTimeout`, ...)
    if no lease is granted."""
    async with farm.lease(scenario, timeout_s) as episode:
        log.info("serving lease %s of %s over stdio", episode.lease_id, scenario)
        server = lease_server(episode)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
