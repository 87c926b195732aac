"""Leases as MCP servers (the official `mcp` SDK): over streamable HTTP and over stdio.

- `lease_server(episode)`: the MCP server of one lease (tools = the lease's tools, calls = `ep.call`);
- `LeaseEndpoints` / `SessionLeases` / `mount()`: the HTTP routes a gateway serves;
- `McpHost`: those routes on a loopback port of this process, for leases it holds;
- `serve_stdio(farm, scenario)`: one leased slot over stdio (`awm-ray mcp SCENARIO`).
"""

from awm_ray.mcp.host import LEASE_PATH, SESSION_PATH, McpHost, mcp_url, mount
from awm_ray.mcp.http import LeaseEndpoints, SessionLeases, bearer_token
from awm_ray.mcp.server import lease_server, mcp_tools
from awm_ray.mcp.stdio import serve_stdio

__all__ = [
    "LEASE_PATH",
    "SESSION_PATH",
    "LeaseEndpoints",
    "McpHost",
    "SessionLeases",
    "bearer_token",
    "lease_server",
    "mcp_tools",
    "mcp_url",
    "mount",
    "serve_stdio",
]
