"""`awm-ray validate`: build, host and call every endpoint of every scenario; write val_reports."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from awm_ray.cli.options import BACKEND_OPTION, CONTEXT, DATA_OPTIONS, OUT_DIR, OUT_FILE, POSITIVE, load_command_config
from awm_ray.cli.output import console, nothing_loaded, progress
from awm_ray.loading import BUNDLED, DatasetWriter, load_scenarios
from awm_ray.scenario import ScenarioError


@click.command("validate", context_settings=CONTEXT, short_help="Build, host and call every endpoint; write val_reports")
@DATA_OPTIONS
@BACKEND_OPTION
@click.option("--concurrency", type=POSITIVE, default=2, help="scenarios validated at once")
@click.option("--out", type=OUT_FILE, help="write {summary, scenarios: [val_report...]} as JSON here")
@click.option("--write-dataset", type=OUT_DIR, metavar="DIR", help="write the dataset back in the arcee layout with val_report")
def command(config: Path | None, concurrency: int, out: Path | None, write_dataset: Path | None, **_: Any) -> int:
    """Build, host and call every endpoint of every scenario; write val_reports."""
    from awm_ray.validate import Validator, summarize

    settings = load_command_config(config)
    data = settings.data
    errors: list[ScenarioError] = []
    scenarios = load_scenarios(data.dataset, data.split, data.max_scenarios, data.scenario_filter, errors)
    reports: list[dict[str, Any]] = []
    writer = DatasetWriter(write_dataset) if write_dataset else None

    async def run() -> None:
        validator = Validator(settings.hosting, verification=settings.verification)
        columns = (TextColumn("validating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                   TextColumn("{task.description}"))  # fmt: skip
        try:
            with progress(columns, "validated") as bars:
                bar = bars.add_task("", total=count_hint(data.dataset, data.max_scenarios))
                async for scenario, report in validator.validate_many(scenarios, concurrency):
                    reports.append(report)
                    if writer is not None:
                        writer.write(replace(scenario, val_report=report))
                    bars.update(bar, advance=1, description=f"{scenario.name}: {report['passed']}/{len(report['endpoints'])}")
        finally:
            validator.close()
            if writer is not None:
                writer.close()

    asyncio.run(run())
    if not reports:
        for line in map(str, errors):
            console.print(f"skipped: {line}", highlight=False)
        raise ValueError(nothing_loaded(data, errors))
    summary = summarize(reports)
    summary["bad_rows"] = [str(e) for e in errors]
    print_validation(reports, summary)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"summary": summary, "scenarios": reports}, indent=1, ensure_ascii=False))
        console.print(f"report written to {out}", highlight=False)
    if writer is not None:
        console.print(f"dataset with val_report written to {write_dataset} ({len(writer.files)} file(s))", highlight=False)
    return 0


def count_hint(dataset: str, max_scenarios: int | None) -> int | None:
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


def print_validation(reports: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """One table row per scenario (status, endpoints passed, notes), then the totals and the unusable rows."""
    table = Table(title="awm-ray validate")
    table.add_column("scenario", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("endpoints ok", justify="right", no_wrap=True)
    table.add_column("tasks ok", justify="right", no_wrap=True)
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
        if bad := task_problems(r.get("tasks") or []):
            notes.append("tasks: " + bad)
        if (r.get("app_state") or {}).get("kept_in_memory"):
            notes.append("keeps state in memory (" + ", ".join(r["app_state"]["endpoints"][:3]) + "): a fresh app per episode")
        status_style = {"ok": "green", "failed": "red"}.get(r["status"], "yellow")
        table.add_row(
            r["scenario"], Text(r["status"], style=status_style), f"{r['passed']}/{len(r['endpoints'])}",
            tasks_ok(r.get("tasks") or []), "; ".join(notes),
        )  # fmt: skip
    console.print(table)
    by_status = ", ".join(f"{k} {v}" for k, v in summary["scenarios_by_status"].items())
    console.print(
        f"scenarios: {summary['scenarios']} ({by_status}); endpoints passed {summary['endpoints_passed']}, "
        f"failed {summary['endpoints_failed']}; db statement failures {summary['db_statement_failures']}",
        highlight=False,
    )
    for mode, statuses in summary.get("tasks", {}).items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        console.print(f"tasks ({mode} verifiers): {sum(statuses.values())} ({counts})", highlight=False)
    if summary.get("apps_keeping_state"):
        console.print(f"apps keeping state in memory (a fresh app per episode): {', '.join(summary['apps_keeping_state'])}",
                      highlight=False)  # fmt: skip
    if summary["failure_reasons"]:
        console.print("failure reasons: " + "; ".join(f"{k} x{v}" for k, v in summary["failure_reasons"].items()), highlight=False)
    if summary["bad_rows"]:
        console.print(Text(f"{len(summary['bad_rows'])} unusable row(s) or file(s):", style="yellow"))
        for line in summary["bad_rows"]:
            console.print(f"  {line}", highlight=False)


def tasks_ok(entries: list[dict[str, Any]]) -> str:
    """"ok/checked" over a report's tasks (per task and mode that has a verifier), "-" when none has one."""
    checked = [e for e in entries if e["verifier"]["status"] != "missing"]
    if not checked:
        return "-"
    return f"{sum(1 for e in checked if e['verifier']['status'] == 'ok')}/{len(checked)}"


def task_problems(entries: list[dict[str, Any]]) -> str:
    """"2 broken (sql #2, ...), 1 degenerate (code #4)": the tasks that are not ok and not missing."""
    by_status: dict[str, list[str]] = {}
    for e in entries:
        status = e["verifier"]["status"]
        if status not in ("ok", "missing"):
            by_status.setdefault(status, []).append(f"{e['verifier']['mode']} #{e['index']}")
    return "; ".join(f"{len(v)} {k} ({', '.join(v[:4])}{' ...' if len(v) > 4 else ''})" for k, v in by_status.items())
