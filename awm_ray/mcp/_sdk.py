"""The few places where the `mcp` SDK's 1.x and 2.x APIs differ, in one module.

verifiers 0.3 pulls in `mcp<2` and verifiers 0.4 pins `mcp==2.0.0`, so awm-ray runs on both.
Everything else (`mcp.types`, `StreamableHTTPSessionManager`, `stdio_server`, `Server.run`,
the client transports) has the same shape in both majors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server

MCP_MAJOR = int(version("mcp").split(".")[0])

ListTools = Callable[[], Awaitable[list[types.Tool]]]
CallTool = Callable[[str, dict[str, Any]], Awaitable[types.CallToolResult]]


def make_server(name: str, version_: str, list_tools: ListTools, call_tool: CallTool) -> Server:
    """A low-level MCP server answering `tools/list` and `tools/call` with the given coroutines.

    The SDK's own input validation is off: arguments reach `call_tool` as the client sent them,
    so a bad call gets the farm's error text, exactly as `ep.call` would."""
    if MCP_MAJOR >= 2:

        async def on_list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
            return types.ListToolsResult(tools=await list_tools())

        async def on_call_tool(_ctx: Any, params: Any) -> types.CallToolResult:
            return await call_tool(params.name, dict(params.arguments or {}))

        return Server(name, version=version_, on_list_tools=on_list_tools, on_call_tool=on_call_tool)

    server = Server(name, version=version_)
    server.list_tools()(list_tools)
    server.call_tool(validate_input=False)(call_tool)
    return server


def text_result(text: str, is_error: bool) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=is_error)
