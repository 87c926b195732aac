"""Open and close MCP sessions in a loop against one MCP host or one gateway; print what is left growing, as JSON.

Each session is a real `mcp` SDK client on `POST /v1/mcp?scenario=S` (the host leases a slot on
`initialize`), lists the tools, makes one call and closes the session (`DELETE`: the host
releases the lease). Every `--every` sessions it records the farm's active leases, the leases the
host holds (and, in-process, its MCP sessions and endpoints), and the serving process's RSS, open
file descriptors, TCP connections, threads and child processes. The exit code is 1 when something
grew: leases or sessions left, more than `--fd-slack` descriptors or connections, RSS up more than
`--rss-limit` (after the first checkpoint, which includes warm-up).

    python scripts/mcp_sessions.py --sessions 1000 --out mcp_sessions.json             # a local farm + MCP host
    python scripts/mcp_sessions.py --gateway --sessions 1000 --out mcp_sessions.json   # `awm-ray farm up`'s gateway

By default it starts a local farm (bundled scenarios, in-process backend, one worker) and an
`McpHost` in this process, so the serving process measured is this one. With `--gateway` it runs
`awm-ray farm up` (`python -m awm_ray.cli`; the same farm on a new local Ray, gateway on a free port)
in a process of its own, as a user would; the serving process measured is the gateway's (the pid its
`/v1/health` names), the leases are `/v1/stats`'s `leases_active` and `/v1/health`'s
`leases_held_here` (the gateway does not count its MCP sessions; each holds one of those leases), and
`farm_processes` counts the processes under `farm up`. At the end it stops `farm up` with SIGINT to
its process group (what Ctrl-C does) and checks that it exits 0, that none of its processes is left,
that the gateway's port is closed and that the farm's directory is gone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

SCENARIOS = {"bookstore_1": ("search_books", {"query": "dune"}), "task_tracker_1": ("list_my_projects", {}),
             "recipe_planner_1": ("list_meal_plan", {"days_ahead": 7}), "travel_booking_1": ("search_flights", {"origin": "SFO", "destination": "JFK"})}  # fmt: skip
GROWTH = ("rss_mb", "fds", "tcp_connections", "threads", "children", "asyncio_tasks", "farm_processes")
FARM_UP = ["farm", "up", "--port", "0", "--dataset", "bundled", "--backend", "inprocess", "--farm-name", "mcp-sessions"]
# One worker, as in-process: a second one starts its verifier sandbox on its first lease, at any session.
ONE_WORKER = "farm:\n  workers_per_node: 1\n"
Probe = Callable[[int, float], Awaitable[dict]]


def process_sample(proc: psutil.Process) -> dict:
    """RSS (MB), open descriptors, TCP connections, threads and child processes (any depth) of `proc`."""
    return {
        "rss_mb": round(proc.memory_info().rss / 2**20, 1),
        "fds": proc.num_fds(),
        "tcp_connections": len(proc.net_connections("tcp")),
        "threads": proc.num_threads(),
        "children": len(proc.children(recursive=True)),
    }


def sample(host, farm_stats: dict, i: int, started: float) -> dict:
    gc.collect()
    return {
        "session": i,
        "seconds": round(time.monotonic() - started, 1),
        "farm_leases_active": farm_stats["leases_active"],
        "host_leases_held": host.held(),
        "host_sessions": len(host.sessions),
        "host_endpoints": len(host.endpoints),
        **process_sample(psutil.Process()),
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


async def session_loop(url: str, args: argparse.Namespace, probe: Probe) -> tuple[list[dict], int, float]:
    """Run `args.sessions` sessions on `url` (`.../v1/mcp`); `probe(i, started)` makes each checkpoint.

    Returns (checkpoints, failed sessions, seconds)."""
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
            checkpoints.append(await probe(i, started))
            print(json.dumps(checkpoints[-1]), file=sys.stderr)
    return checkpoints, failures, time.monotonic() - started


def verdict(args: argparse.Namespace, checkpoints: list[dict], failures: int, seconds: float, checks: dict) -> dict:
    """The JSON report: growth from the first checkpoint to the last, the common checks, then `checks`."""
    first, last = checkpoints[0], checkpoints[-1]
    growth = {k: round(last[k] - first[k], 1) for k in GROWTH if k in last}
    held = [v for k, v in last.items() if k.endswith("_leases_held")]
    checks = {
        "no_failed_session": failures == 0,
        "no_lease_left": last["farm_leases_active"] == 0 and held == [0],
        **checks,
        "fds_flat": growth["fds"] <= args.fd_slack and growth["tcp_connections"] <= args.fd_slack,
        "no_process_or_thread_left": growth["children"] <= 0 and growth.get("farm_processes", 0) <= 0
        and growth["threads"] <= args.fd_slack,
        "rss_flat": growth["rss_mb"] <= first["rss_mb"] * args.rss_limit,
    }
    return {"mode": "gateway" if args.gateway else "host", "sessions": args.sessions, "failed": failures,
            "seconds": round(seconds, 1), "sessions_per_s": round(args.sessions / seconds, 2), "growth": growth,
            "checks": checks, "ok": all(checks.values()), "checkpoints": checkpoints}  # fmt: skip


async def main(args: argparse.Namespace) -> dict:
    from awm_ray.config import load_config
    from awm_ray.farm import Farm
    from awm_ray.mcp import McpHost

    config = load_config(None, {"hosting.backend": "inprocess", "farm.name": "mcp-sessions", "farm.workers_per_node": 1})
    farm = await asyncio.to_thread(Farm.start, config)
    try:
        async with McpHost(farm) as host:

            async def probe(i: int, started: float) -> dict:
                return sample(host, await farm.stats(), i, started)

            checkpoints, failures, seconds = await session_loop(f"{host.url}/v1/mcp", args, probe)
            last = checkpoints[-1]
            checks = {"no_session_or_endpoint_left": last["host_sessions"] == 0 and last["host_endpoints"] == 0}
    finally:
        await asyncio.to_thread(farm.shutdown)
    return verdict(args, checkpoints, failures, seconds, checks)


@contextlib.asynccontextmanager
async def farm_up(stopped: dict) -> AsyncIterator[tuple[str, subprocess.Popen]]:
    """`awm-ray farm up` in a process (and process group) of its own; yields (gateway URL, process) once
    it serves. On exit: SIGINT to its group, then `stopped` gets the checks of what it left."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a new local Ray, never a running one
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="awm-ray-mcp-sessions-") as tmp:
        log, config = Path(tmp) / "farm-up.log", Path(tmp) / "farm.yaml"
        config.write_text(ONE_WORKER)
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "awm_ray.cli", *FARM_UP, "--config", str(config)], stdout=out,
                                    stderr=subprocess.STDOUT, env=env, cwd=tmp, start_new_session=True)  # fmt: skip
        url, root = None, None
        try:
            deadline = time.monotonic() + 300
            while url is None:
                lines = [line.split() for line in log.read_text().splitlines()]
                url = next((words[1] for words in lines if words[:1] == ["gateway:"]), None)
                if url is None and (proc.poll() is not None or time.monotonic() > deadline):
                    raise RuntimeError(f"awm-ray farm up did not serve (rc {proc.poll()}):\n{log.read_text()[-3000:]}")
                await asyncio.sleep(0.2)
            async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=60) as http:
                root = (await http.get("/v1/stats")).raise_for_status().json()["root"]
            yield url, proc
        finally:
            tree: list[psutil.Process] = []
            with contextlib.suppress(psutil.Error):  # gone already if it exited early (and was reaped)
                tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                rc = await asyncio.to_thread(proc.wait, 120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                rc = await asyncio.to_thread(proc.wait, 30)
            _, alive = await asyncio.to_thread(psutil.wait_procs, tree, 60)
            for p in alive:  # recorded as left, then not left behind
                with contextlib.suppress(psutil.Error):
                    p.kill()
            stopped.update({"stopped_on_sigint": rc == 0, "no_farm_process_left": not alive,
                            "gateway_port_closed": url is not None and not _accepts(url),
                            "farm_dir_removed": root is not None and not Path(root).exists()})  # fmt: skip
            if rc != 0 or alive:
                logging.warning("farm up: rc %s, %d process(es) left:\n%s", rc, len(alive), log.read_text()[-3000:])


def _accepts(url: str) -> bool:
    """Whether something accepts TCP connections at `url`'s host and port."""
    address = urlsplit(url)
    try:
        socket.create_connection((address.hostname, address.port), 2).close()
    except OSError:
        return False
    return True


async def main_gateway(args: argparse.Namespace) -> dict:
    checks: dict[str, bool] = {}
    async with farm_up(checks) as (url, proc), httpx.AsyncClient(base_url=url, trust_env=False, timeout=60) as http:
        gateway = psutil.Process((await http.get("/v1/health")).json()["pid"])

        async def probe(i: int, started: float) -> dict:
            health, stats = (await http.get("/v1/health")).json(), (await http.get("/v1/stats")).json()
            return {"session": i, "seconds": round(time.monotonic() - started, 1), "farm_leases_active": stats["leases_active"],
                    "gateway_leases_held": health["leases_held_here"], **process_sample(gateway),
                    "farm_processes": len(psutil.Process(proc.pid).children(recursive=True))}  # fmt: skip

        checkpoints, failures, seconds = await session_loop(f"{url}/v1/mcp", args, probe)
    return verdict(args, checkpoints, failures, seconds, checks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", action="store_true", help="against the gateway of `awm-ray farm up` in its own process")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="record a checkpoint every N sessions")
    parser.add_argument("--fd-slack", type=int, default=8, help="descriptors/connections/threads allowed to differ")
    parser.add_argument("--rss-limit", type=float, default=0.10, help="RSS growth allowed, as a fraction")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = asyncio.run((main_gateway if args.gateway else main)(args))
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)
    sys.exit(0 if report["ok"] else 1)
