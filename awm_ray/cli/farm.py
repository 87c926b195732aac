"""`awm-ray farm up` / `farm status`: a long-running farm with its HTTP gateway, and its counters."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from awm_ray.cli.options import CONTEXT, DATA_OPTIONS, FARM_OPTIONS, NON_NEGATIVE, PATH, PORT, config_option, load_command_config
from awm_ray.cli.output import console, nothing_loaded, report_bad_rows
from awm_ray.config import load_config


@click.group("farm", context_settings=CONTEXT)
def command() -> None:
    """Run or inspect the Ray farm."""


@command.command("up", context_settings=CONTEXT)
@DATA_OPTIONS
@FARM_OPTIONS
@config_option("--host", key="gateway.host", help="gateway address (default 127.0.0.1)")
@config_option("--port", key="gateway.port", type=PORT, help="gateway port (default 8765; 0 = any free port)")
@config_option("--allow-remote", key="gateway.allow_remote", is_flag=True, default=None,
               help="allow a non-loopback gateway address")
@click.option("--prewarm", type=NON_NEGATIVE, default=0, metavar="K", help="start K idle slots of every scenario")
def up(config: Path | None, prewarm: int, **_: Any) -> int:
    """Start the farm and its HTTP gateway; Ctrl-C stops both."""
    import itertools
    import signal
    import threading

    import ray

    from awm_ray.loading import load_scenarios

    from awm_ray.farm import Farm
    from awm_ray.farm.gateway import check_bind, start_gateway

    settings = load_command_config(config)
    check_bind(settings.gateway.host, settings.gateway.allow_remote)
    data, errors = settings.data, []
    scenarios = load_scenarios(data.dataset, data.split, data.max_scenarios, data.scenario_filter, errors)
    first = next(scenarios, None)  # a farm of no scenario is refused before it starts
    if first is None:
        report_bad_rows(errors)
        raise ValueError(nothing_loaded(data, errors))
    console.print("starting the farm ...")
    farm = Farm.start(settings, itertools.chain([first], scenarios))
    report_bad_rows(errors)
    stop = threading.Event()
    try:
        url = start_gateway(farm, extensions=["awm_ray.mcp.gateway:mcp_extension"])  # host/port: settings.gateway; MCP per lease
        if prewarm:
            farm.sync.prewarm(farm.scenario_names(), prewarm)
        stats = farm.sync.stats()
        console.print(
            f"farm {settings.farm.name!r} is up: {stats['scenarios']} scenarios, {len(stats['workers'])} workers "
            f"on {stats['nodes']} node(s), backend {stats['backend']}",
            highlight=False,
        )
        console.print(f"gateway: {url}", highlight=False)
        console.print(f"ray address: {ray.get_runtime_context().gcs_address}  (awm-ray farm status --address ...)", highlight=False)
        console.print("Ctrl-C stops the farm and the gateway.")
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1.0):
            pass
    finally:
        console.print("stopping the farm ...")
        farm.shutdown()
    return 0


@command.command("status", context_settings=CONTEXT)
@click.option("--config", type=PATH, help="a configs/*.yaml file (for farm.name / namespace)")
@click.option("--address", default="auto", help="Ray address of the cluster")
@click.option("--gateway", metavar="URL", help="ask a gateway over HTTP instead of joining Ray")
@click.option("--json", "as_json", is_flag=True, help="print the raw JSON")
def status(config: Path | None, address: str, gateway: str | None, as_json: bool) -> int:
    """Print the farm's counters and workers."""
    if gateway:
        from awm_ray.farm.remote import RemoteFarm

        async def fetch() -> dict[str, Any]:
            remote = RemoteFarm(gateway)
            try:
                return await remote.stats()
            finally:
                await remote.close()

        stats = asyncio.run(fetch())
    else:
        from awm_ray.farm import Farm

        try:
            farm = Farm.connect(address, load_config(config))
        except (RuntimeError, ConnectionError) as exc:  # no cluster there, or no farm on it: one line, not a traceback
            raise ValueError(f"{exc} (Ray address {address!r}: pass --address, or --gateway URL)") from None
        try:
            stats = farm.sync.stats()
        finally:
            farm.shutdown()
    if as_json:
        print(json.dumps(stats, indent=1))
    else:
        print_farm_stats(stats)
    return 0


def print_farm_stats(stats: dict[str, Any]) -> None:
    """The farm's counters as one table, then one row per worker."""
    totals = stats.get("totals", {})
    summary = Table(title=f"awm-ray farm {stats['farm_id']}", show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    rows = [
        ("backend", stats["backend"]),
        ("scenarios", stats["scenarios"]),
        ("nodes / workers", f"{stats['nodes']} / {len(stats['workers'])}"),
        ("slots", stats["slots"]),
        ("leases active", stats["leases_active"]),
        ("queue depth", stats["queue_depth"]),
        ("leases granted", stats["leases_granted"]),
        ("leases lost", stats["leases_lost"]),
        ("lease timeouts", stats["lease_timeouts"]),
        ("lease ms p50 / p95", f"{stats['lease_ms']['p50']} / {stats['lease_ms']['p95']}"),
        ("resets (verified)", f"{totals.get('resets', 0)} ({totals.get('resets_verified', 0)})"),
        ("reset ms p50 / p95", f"{stats['reset_ms']['p50']} / {stats['reset_ms']['p95']}"),
        ("slots quarantined", totals.get("quarantined", 0)),
        ("slot restarts", totals.get("slot_restarts", 0)),
        ("tool calls", totals.get("calls", 0)),
    ]
    for name, value in rows:
        summary.add_row(name, str(value))
    console.print(summary)
    workers = Table(title="workers")
    for col in ("worker", "node", "alive", "slots", "leased", "max", "calls", "resets", "restarts"):
        workers.add_column(col, justify="right" if col not in ("worker", "node") else "left")
    for w in stats["workers"]:
        workers.add_row(
            w["worker_id"], w["node_id"][:12], "yes" if w.get("alive") else "no", str(w.get("size", "-")),
            str(w.get("leased", "-")), str(w.get("max_slots", "-")), str(w.get("calls", "-")),
            str(w.get("resets", "-")), str(w.get("slot_restarts", "-")),
        )  # fmt: skip
    console.print(workers)
