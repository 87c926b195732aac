"""`awm-ray mcp SCENARIO`: one leased slot served as an MCP server over stdio.

For desktop MCP clients and inspectors, which start a server as a command, e.g.
`npx @modelcontextprotocol/inspector awm-ray mcp bookstore_1` or, in a client's config,
`{"command": "awm-ray", "args": ["mcp", "bookstore_1", "--gateway", "http://127.0.0.1:8765"]}`.
stdout carries only MCP messages; logs go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from awm_ray.cli.options import CONTEXT, DATA_OPTIONS, FARM_OPTIONS, load_command_config


@click.command("mcp", context_settings=CONTEXT)
@click.argument("scenario")
@DATA_OPTIONS
@FARM_OPTIONS
@click.option("--gateway", metavar="URL", help="lease through a farm's HTTP gateway instead of Ray")
@click.option("--lease-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="seconds to wait for a free slot (default farm.lease_timeout_s)")  # fmt: skip
def command(scenario: str, config: Path | None, gateway: str | None, lease_timeout: float | None, **_: Any) -> int:
    """Serve one leased slot of SCENARIO as an MCP server over stdio, until the client hangs up.

    Without --gateway or --address it starts a local farm with the --dataset scenarios."""
    settings = load_command_config(config)
    if gateway:
        from awm_ray.farm.remote import RemoteFarm

        asyncio.run(_serve_remote(RemoteFarm(gateway), scenario, lease_timeout))
        return 0
    from awm_ray.farm import Farm

    with contextlib.redirect_stdout(sys.stderr):  # stdout belongs to the MCP client
        farm = Farm.connect(settings.farm.address, settings) if settings.farm.address else Farm.start(settings)
    try:
        asyncio.run(_serve(farm, scenario, lease_timeout))
    finally:
        farm.shutdown()
    return 0


async def _serve(farm: Any, scenario: str, timeout_s: float | None) -> None:
    from awm_ray.mcp import serve_stdio

    await serve_stdio(farm, scenario, timeout_s)


async def _serve_remote(farm: Any, scenario: str, timeout_s: float | None) -> None:
    try:
        await _serve(farm, scenario, timeout_s)
    finally:
        await farm.close()
