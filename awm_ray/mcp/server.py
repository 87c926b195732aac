"""One lease as an MCP server: `tools/list` gives the lease's tools, `tools/call` runs `ep.call`.

Works over any episode of the client API (`Episode` on Ray, `RemoteEpisode` through a gateway):

```python
async with farm.lease("bookstore_1") as ep:
    server = lease_server(ep)          # an `mcp.server.lowlevel.Server`
    # serve it over stdio (`serve_stdio`) or streamable HTTP (`LeaseEndpoints`)
```

A tool's `inputSchema` is the lease's `parameters` schema unchanged; a call's text is the
`CallResult.text` the farm returned, and `isError` is true unless the app answered 2xx. A lease
that ended mid-session answers every later call with `isError` and the farm's `LeaseLost` text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from mcp import types
from mcp.server.lowlevel import Server

import awm_ray
from awm_ray.farm.errors import LeaseLost
from awm_ray.hosting import CallResult
from awm_ray.mcp._sdk import make_server, text_result

log = logging.getLogger(__name__)


class LeaseEpisode(Protocol):
    """What the MCP server needs of an episode (`Episode` and `RemoteEpisode` both fit)."""

    lease_id: str
    scenario: str
    tools: list[dict[str, Any]]

    async def call(self, tool: str, arguments: str | dict | None = None) -> CallResult: ...


def mcp_tools(tools: list[dict[str, Any]]) -> list[types.Tool]:
    """Our tool definitions (`{"name", "description", "parameters"}`) as MCP tools, schemas unchanged."""
    return [types.Tool(name=t["name"], description=t.get("description") or None, inputSchema=t["parameters"]) for t in tools]


def lease_server(episode: LeaseEpisode, on_call: Callable[[str, CallResult], None] | None = None) -> Server:
    """An MCP server bound to one lease. `on_call(lease_id, result)` sees every call's result."""
    tools = mcp_tools(episode.tools)

    async def list_tools() -> list[types.Tool]:
        return tools

    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            result = await episode.call(name, arguments)
        except LeaseLost as exc:
            log.info("MCP call on lost lease %s: %s", episode.lease_id, exc)
            return text_result(f"Error: {exc}", is_error=True)
        if on_call is not None:
            on_call(episode.lease_id, result)
        return text_result(result.text, is_error=not result.ok)

    return make_server(f"awm-ray/{episode.scenario}", awm_ray.__version__, list_tools, call_tool)
