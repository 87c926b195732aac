"""The `awm-ray` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from awm_ray.config import Config, load_config
from awm_ray.loading import BUNDLED, DatasetUnavailable, DatasetWriter, load_scenarios
from awm_ray.scenario import ScenarioError

console = Console() if sys.stdout.isatty() else Console(width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="awm-ray", description="Ray rollout farm for Agent World Model environments.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser(
        "validate", help="build, host and call every endpoint of every scenario; write val_reports"
    )
    _data_args(validate)
    validate.add_argument("--backend", choices=["subprocess", "inprocess"], help="override hosting.backend")
    validate.add_argument("--concurrency", type=int, default=2, help="scenarios validated at once (default 2)")
    validate.add_argument("--out", type=Path, help="write {summary, scenarios: [val_report...]} as JSON here")
    validate.add_argument(
        "--write-dataset", type=Path, metavar="DIR", help="write the dataset back in the arcee layout with val_report"
    )
    validate.set_defaults(run=_cmd_validate)

    evaluate = commands.add_parser(
        "eval", help="evaluate a model (or the built-in reference policy) on the farm; writes results.jsonl"
    )
    _data_args(evaluate)
    evaluate.add_argument("--backend", choices=["subprocess", "inprocess"], help="override hosting.backend")
    evaluate.add_argument("--address", help="Ray address to join (default: farm.address, else a new local Ray)")
    evaluate.add_argument("--model", help="model name at --base-url (default: the reference --policy)")
    evaluate.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    evaluate.add_argument("--api-key-var", help="environment variable holding the endpoint's API key")
    evaluate.add_argument("--policy", choices=["oracle", "random", "noop"], default="oracle",
                          help="reference policy used when no --model is given (a harness check, not a model)")
    evaluate.add_argument("--num-examples", type=int, help="evaluate at most N tasks")
    evaluate.add_argument("--tasks-per-scenario", type=int, default=1)
    evaluate.add_argument("--rollouts-per-example", type=int, default=1)
    evaluate.add_argument("--chain-length", type=int, default=1, help="endpoints per task (2+ chains them)")
    evaluate.add_argument("--concurrency", type=int, default=8, help="episodes in flight")
    evaluate.add_argument("--max-turns", type=int, default=20)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--out", type=Path, help="output directory (default runs/eval-<time>)")
    evaluate.add_argument("--resume", action="store_true", help="continue --out, skipping finished rollouts")
    evaluate.set_defaults(run=_cmd_eval)  # fmt: skip

    farm = commands.add_parser("farm", help="run or inspect the Ray farm")
    farm_commands = farm.add_subparsers(dest="farm_command", required=True)
    up = farm_commands.add_parser("up", help="start the farm and its HTTP gateway; Ctrl-C stops both")
    _data_args(up)
    up.add_argument("--backend", choices=["subprocess", "inprocess"], help="override hosting.backend")
    up.add_argument("--address", help="Ray address to join (default: farm.address, else a new local Ray)")
    up.add_argument("--host", help="gateway address (default 127.0.0.1)")
    up.add_argument("--port", type=int, help="gateway port (default 8765; 0 = any free port)")
    up.add_argument("--allow-remote", action="store_true", default=None, help="allow a non-loopback gateway address")
    up.add_argument("--prewarm", type=int, default=0, metavar="K", help="start K idle slots of every scenario")
    up.set_defaults(run=_cmd_farm_up)
    status = farm_commands.add_parser("status", help="print the farm's counters and workers")
    status.add_argument("--config", type=Path, help="a configs/*.yaml file (for farm.name / namespace)")
    status.add_argument("--address", default="auto", help="Ray address of the cluster (default auto)")
    status.add_argument("--gateway", metavar="URL", help="ask a gateway over HTTP instead of joining Ray")
    status.add_argument("--json", action="store_true", help="print the raw JSON")
    status.set_defaults(run=_cmd_farm_status)

    policy = commands.add_parser("policy", help="a scripted reference policy (a harness check, not a model)")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_serve = policy_commands.add_parser(
        "serve", help="serve the reference policy as an OpenAI-compatible /v1/chat/completions endpoint"
    )
    policy_serve.add_argument("--mode", choices=["oracle", "random", "noop"], required=True, help="which scripted agent")
    policy_serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    policy_serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    policy_serve.add_argument("--seed", type=int, default=0, help="seed of the random mode (default 0)")
    policy_serve.set_defaults(run=_cmd_policy_serve)

    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (DatasetUnavailable, ScenarioError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 2


def _cmd_policy_serve(args: argparse.Namespace) -> int:
    from awm_ray.policy import banner, serve

    serve(args.mode, args.host, args.port, args.seed, on_ready=lambda url: print(banner(args.mode, url), flush=True))
    return 0


def _data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a configs/*.yaml file (flags override it)")
    parser.add_argument(
        "--dataset", help=f"'{BUNDLED}' (default), a hub dataset name, a .jsonl/.parquet file, or a directory"
    )
    parser.add_argument("--split", help="dataset split (default train)")
    parser.add_argument("--max-scenarios", type=int, help="load at most this many scenarios")
    parser.add_argument("--filter", dest="scenario_filter", help="comma-separated scenario names or glob patterns")


def _config(args: argparse.Namespace, **overrides: Any) -> Config:
    return load_config(
        args.config,
        {
            "data.dataset": args.dataset,
            "data.split": args.split,
            "data.max_scenarios": args.max_scenarios,
            "data.scenario_filter": args.scenario_filter.split(",") if args.scenario_filter else None,
            **overrides,
        },
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    from awm_ray.validate import Validator, summarize

    config = _config(args, **{"hosting.backend": args.backend})
    data = config.data
    errors: list[ScenarioError] = []
    scenarios = load_scenarios(data.dataset, data.split, data.max_scenarios, data.scenario_filter, errors)
    reports: list[dict[str, Any]] = []
    writer = DatasetWriter(args.write_dataset) if args.write_dataset else None

    async def run() -> None:
        validator = Validator(config.hosting)
        columns = (TextColumn("validating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                   TextColumn("{task.description}"))  # fmt: skip
        try:
            with _progress(columns, "validated") as progress:
                bar = progress.add_task("", total=_count_hint(data.dataset, data.max_scenarios))
                async for scenario, report in validator.validate_many(scenarios, args.concurrency):
                    reports.append(report)
                    if writer is not None:
                        writer.write(replace(scenario, val_report=report))
                    progress.update(bar, advance=1, description=f"{scenario.name}: {report['passed']}/{len(report['endpoints'])}")
        finally:
            validator.close()
            if writer is not None:
                writer.close()

    asyncio.run(run())
    summary = summarize(reports)
    summary["bad_rows"] = [str(e) for e in errors]
    _print_validation(reports, summary)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"summary": summary, "scenarios": reports}, indent=1, ensure_ascii=False))
        console.print(f"report written to {args.out}")
    if writer is not None:
        console.print(f"dataset with val_report written to {args.write_dataset} ({len(writer.files)} file(s))")
    return 0 if reports else 1


def _cmd_eval(args: argparse.Namespace) -> int:
    import time

    from awm_ray.evaluate import EvalSettings, evaluate
    from awm_ray.farm import Farm

    if args.model and not args.base_url:
        raise ValueError("--model needs --base-url (an OpenAI-compatible endpoint)")
    config = _config(args, **{"hosting.backend": args.backend, "farm.address": args.address})
    out = args.out or Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S")
    settings = EvalSettings(
        out_dir=out, model=args.model, base_url=args.base_url, api_key_var=args.api_key_var, policy=args.policy,
        num_examples=args.num_examples, tasks_per_scenario=args.tasks_per_scenario,
        rollouts_per_example=args.rollouts_per_example, concurrency=args.concurrency, max_turns=args.max_turns,
        seed=args.seed, chain_length=args.chain_length, resume=args.resume,
    )  # fmt: skip
    if not args.resume and (out / "results.jsonl").exists():
        raise FileExistsError(f"{out / 'results.jsonl'} exists: pass --resume to continue it, or another --out")
    data = config.data
    errors: list[ScenarioError] = []
    scenarios = list(load_scenarios(data.dataset, data.split, data.max_scenarios, data.scenario_filter, errors))
    for exc in errors:
        console.print(f"[yellow]skipped row:[/yellow] {exc}", highlight=False)
    console.print(f"{settings.label}: {len(scenarios)} scenario(s), writing to {out}", highlight=False)
    farm = Farm.start(config, scenarios)
    columns = (TextColumn("episodes"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.description}"))  # fmt: skip
    try:
        with _progress(columns, "episodes") as progress:
            bar = progress.add_task("", total=None, rate="")
            rewards: list[float] = []
            started = time.monotonic()

            def update(done: int, total: int, row: dict[str, Any] | None) -> None:
                if row is not None:
                    rewards.append(row["reward"])
                rate = done / max(1e-9, time.monotonic() - started)
                mean = f"mean reward {sum(rewards) / len(rewards):.3f}" if rewards else ""
                progress.update(bar, total=total, completed=done, rate=f"{rate:.1f}/s", description=mean)

            summary = evaluate(scenarios, settings, farm, update)
    finally:
        farm.shutdown()
    _print_eval(summary, out)
    return 0


def _print_eval(summary: dict[str, Any], out: Path) -> None:
    table = Table(title=f"awm-ray eval — {summary['label']}")
    table.add_column("scenario", no_wrap=True)
    table.add_column("rollouts", justify="right")
    table.add_column("mean reward", justify="right")
    for name, s in list(summary["by_scenario"].items())[:40]:
        table.add_row(name, str(s["n"]), f"{s['mean_reward']:.3f}")
    if len(summary["by_scenario"]) > 40:
        table.add_row(f"... {len(summary['by_scenario']) - 40} more in summary.json", "", "")
    console.print(table)
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in summary["metrics"].items() if v is not None)
    mean = summary["mean_reward"]
    console.print(
        f"{summary['label']}\nrollouts {summary['rollouts']}, mean reward "
        f"{'n/a' if mean is None else f'{mean:.3f}'} ({metrics}); error rows {summary['error_rows']}"
        f"{' ' + str(summary['errors']) if summary['errors'] else ''}; retried {summary['retried']}; "
        f"{summary['throughput']['rollouts_per_s']} rollouts/s",
        highlight=False,
    )
    console.print(f"results: {out / 'results.jsonl'}  summary: {out / 'summary.json'}", highlight=False)


def _cmd_farm_up(args: argparse.Namespace) -> int:
    import signal
    import threading

    import ray

    from awm_ray.farm import Farm

    config = _config(
        args,
        **{
            "hosting.backend": args.backend,
            "farm.address": args.address,
            "gateway.host": args.host,
            "gateway.port": args.port,
            "gateway.allow_remote": args.allow_remote,
        },
    )
    from awm_ray.farm.gateway import check_bind

    check_bind(config.gateway.host, config.gateway.allow_remote)
    console.print("starting the farm ...")
    farm = Farm.start(config)
    stop = threading.Event()
    try:
        url = farm.start_gateway(config.gateway.host, config.gateway.port, config.gateway.allow_remote)
        if args.prewarm:
            farm.sync.prewarm(farm.scenario_names(), args.prewarm)
        stats = farm.sync.stats()
        console.print(
            f"farm {config.farm.name!r} is up: {stats['scenarios']} scenarios, {len(stats['workers'])} workers "
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


def _cmd_farm_status(args: argparse.Namespace) -> int:
    if args.gateway:
        from awm_ray.farm.remote import RemoteFarm

        async def fetch() -> dict[str, Any]:
            remote = RemoteFarm(args.gateway)
            try:
                return await remote.stats()
            finally:
                await remote.close()

        stats = asyncio.run(fetch())
    else:
        from awm_ray.farm import Farm

        farm = Farm.connect(args.address, load_config(args.config))
        try:
            stats = farm.sync.stats()
        finally:
            farm.shutdown()
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        _print_farm_stats(stats)
    return 0


def _print_farm_stats(stats: dict[str, Any]) -> None:
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


class _LineProgress:
    """Progress for logs and pipes (no live bar there): a line every `every_s` seconds and at the end."""

    def __init__(self, noun: str, every_s: float = 10.0):
        import time

        self.noun, self.every_s, self._time = noun, every_s, time.monotonic
        self.started = self.last = self._time()
        self.total: float | None = None
        self.done = 0.0
        self.description = ""

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        self.total = total
        return 0

    def update(self, task: int, *, advance: float = 0, completed: float | None = None, total: float | None = None,
               description: str | None = None, **_: Any) -> None:  # fmt: skip
        self.done = completed if completed is not None else self.done + advance
        self.total = total if total is not None else self.total
        self.description = description if description is not None else self.description
        if self._time() - self.last >= self.every_s:
            self._print()

    def _print(self) -> None:
        self.last = self._time()
        elapsed = max(1e-9, self.last - self.started)
        rate = self.done / elapsed
        of = f"/{self.total:.0f}" if self.total else ""
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate > 0 else ""
        console.print(f"{self.noun} {self.done:.0f}{of} ({rate:.2f}/s{eta}) {self.description}", highlight=False)

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._print()


def _progress(columns: tuple, noun: str) -> Any:
    """A live bar on a terminal, periodic lines otherwise."""
    return Progress(*columns, console=console) if console.is_terminal else _LineProgress(noun)


def _count_hint(dataset: str, max_scenarios: int | None) -> int | None:
    """Total for the progress bar when it is cheap to know (local JSON Lines)."""
    from awm_ray.loading import BUNDLED_PATH

    path = BUNDLED_PATH if dataset == BUNDLED else Path(dataset)
    files = [path] if path.is_file() and path.suffix == ".jsonl" else []
    if path.is_dir() and (path / "gen_envs.jsonl").is_file():
        return None
    if path.is_dir():
        files = sorted(path.rglob("*.jsonl"))
    if not files:
        return max_scenarios
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return min(total, max_scenarios) if max_scenarios else total


def _print_validation(reports: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    table = Table(title="awm-ray validate")
    table.add_column("scenario", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("endpoints ok", justify="right", no_wrap=True)
    table.add_column("notes", overflow="fold")
    for r in reports:
        notes = []
        if r["missing"]:
            notes.append("missing " + ", ".join(r["missing"]))
        if db_fail := len((r.get("database") or {}).get("failures") or []):
            notes.append(f"{db_fail} db statement(s) failed")
        if diffs := len(r.get("spec_mismatches") or []):
            notes.append(f"{diffs} spec/app difference(s)")
        failed = [e["operation_id"] for e in r["endpoints"] if not e["passed"]]
        if failed:
            notes.append("failed: " + ", ".join(failed[:5]) + (" ..." if len(failed) > 5 else ""))
        if r.get("error"):
            notes.append(r["error"].splitlines()[0][:120])
        status_style = {"ok": "green", "failed": "red"}.get(r["status"], "yellow")
        table.add_row(
            r["scenario"], f"[{status_style}]{r['status']}[/]", f"{r['passed']}/{len(r['endpoints'])}", "; ".join(notes)
        )
    console.print(table)
    by_status = ", ".join(f"{k} {v}" for k, v in summary["scenarios_by_status"].items())
    console.print(
        f"scenarios: {summary['scenarios']} ({by_status}); endpoints passed {summary['endpoints_passed']}, "
        f"failed {summary['endpoints_failed']}; db statement failures {summary['db_statement_failures']}",
        highlight=False,
    )
    if summary["failure_reasons"]:
        console.print("failure reasons: " + "; ".join(f"{k} x{v}" for k, v in summary["failure_reasons"].items()), highlight=False)
    if summary["bad_rows"]:
        console.print(f"[yellow]{len(summary['bad_rows'])} unusable row(s):[/yellow]")
        for line in summary["bad_rows"]:
            console.print(f"  {line}", highlight=False)


if __name__ == "__main__":
    sys.exit(main())
