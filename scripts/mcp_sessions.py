"""Open and close MCP sessions in a loop against one MCP host; print what is left growing, as JSON.

Each session is a real `mcp` SDK client on `POST /v1/mcp?scenario=S` (the host leases a slot on
`initialize`), lists the tools, makes one call and closes the session (`DELETE`: the host
releases the lease). Every `--every` sessions it records the farm's active leases, the host's
held leases, sessions and MCP endpoints, and the serving process's RSS, open file descriptors,
TCP connections, threads and child processes. The exit code is 1 when something grew: leases or
sessions left, more than `--fd-slack` descriptors or connections, RSS up more than `--rss-limit`
(after the first checkpoint, which includes warm-up).

    python scripts/mcp_sessions.py --sessions 1000 --out mcp_sessions.json     # a local farm + MCP host

By default it starts a local farm (bundled scenarios, in-process backend) and an `McpHost` in this
process, so the serving process measured is this one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

from awm_ray.config import load_config  # noqa: E402
from awm_ray.farm import Farm  # noqa: E402
from awm_ray.mcp import McpHost  # noqa: E402

SCENARIOS = {"bookstore_1": ("search_books", {"query": "dune"}), "task_tracker_1": ("list_my_projects", {}),
             "recipe_planner_1": ("list_meal_plan", {"days_ahead": 7}), "travel_booking_1": ("search_flights", {"origin": "SFO", "destination": "JFK"})}  # fmt: skip


def sample(host: McpHost, farm_stats: dict, i: int, started: float) -> dict:
    proc = psutil.Process()
    gc.collect()
    return {
        "session": i,
        "seconds": round(time.monotonic() - started, 1),
        "farm_leases_active": farm_stats["leases_active"],
        "host_leases_held": host.held(),
        "host_sessions": len(host.sessions),
        "host_endpoints": len(host.endpoints),
        "rss_mb": round(proc.memory_info().rss / 2**20, 1),
        "fds": proc.num_fds(),
        "tcp_connections": len(proc.net_connections("tcp")),
        "threads": proc.num_threads(),
        "children": len(proc.children(recursive=True)),
        "asyncio_tasks": len(asyncio.all_tasks()),
    }


async def one_session(url: str, scenario: str) -> bool:
    tool, arguments = SCENARIOS[scenario]
    async with create_mcp_http_client() as http, streamable_http_client(f"{url}?scenario={scenario}", http_client=http) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            result = await session.call_tool(tool, arguments)
    return bool(tools) and result.content[0].text.startswith("HTTP 2")


async def main(args: argparse.Namespace) -> dict:
    config = load_config(None, {"hosting.backend": "inprocess", "farm.name": "mcp-sessions", "farm.workers_per_node": 1})
    farm = await asyncio.to_thread(Farm.start, config)
    try:
        async with McpHost(farm) as host:
            url = f"{host.url}/v1/mcp"
            started = time.monotonic()
            checkpoints, failures = [], 0
            names = itertools.cycle(SCENARIOS)
            for i in range(1, args.sessions + 1):
                try:
                    ok = await asyncio.wait_for(one_session(url, next(names)), 60)
                except Exception as exc:  # recorded, and the loop goes on
                    logging.warning("session %d failed: %s", i, exc)
                    ok = False
                failures += not ok
                if i == 1 or i % args.every == 0 or i == args.sessions:
                    await asyncio.sleep(0.05)  # let the last release land
                    checkpoints.append(sample(host, await farm.stats(), i, started))
                    print(json.dumps(checkpoints[-1]), file=sys.stderr)
            seconds = time.monotonic() - started
    finally:
        await asyncio.to_thread(farm.shutdown)
    first, last = checkpoints[0], checkpoints[-1]
    growth = {k: last[k] - first[k] for k in ("rss_mb", "fds", "tcp_connections", "threads", "children", "asyncio_tasks")}
    checks = {
        "no_failed_session": failures == 0,
        "no_lease_left": last["farm_leases_active"] == 0 and last["host_leases_held"] == 0,
        "no_session_or_endpoint_left": last["host_sessions"] == 0 and last["host_endpoints"] == 0,
        "fds_flat": growth["fds"] <= args.fd_slack and growth["tcp_connections"] <= args.fd_slack,
        "no_process_or_thread_left": growth["children"] <= 0 and growth["threads"] <= args.fd_slack,
        "rss_flat": growth["rss_mb"] <= first["rss_mb"] * args.rss_limit,
    }
    return {"sessions": args.sessions, "failed": failures, "seconds": round(seconds, 1),
            "sessions_per_s": round(args.sessions / seconds, 2), "growth": growth, "checks": checks,
            "ok": all(checks.values()), "checkpoints": checkpoints}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="record a checkpoint every N sessions")
    parser.add_argument("--fd-slack", type=int, default=8, help="descriptors/connections/threads allowed to differ")
    parser.add_argument("--rss-limit", type=float, default=0.10, help="RSS growth allowed, as a fraction")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = asyncio.run(main(args))
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)
    sys.exit(0 if report["ok"] else 1)
