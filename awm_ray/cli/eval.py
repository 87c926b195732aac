"""`awm-ray eval`: episodes on the farm against a model or the reference policy; results.jsonl + summary.json."""

from __future__ import annotations

import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from awm_ray.cli.options import (
    CONTEXT,
    DATA_OPTIONS,
    FARM_OPTIONS,
    MODEL_OPTIONS,
    OUT_DIR,
    POSITIVE,
    SAMPLING_OPTIONS,
    TASK_OPTIONS,
    check_writable,
    load_command_config,
    sampling_args,
)
from awm_ray.cli.output import console, nothing_loaded, progress, report_bad_rows
from awm_ray.loading import load_scenarios
from awm_ray.scenario import ScenarioError
from awm_ray.text import one_line


@click.command("eval", context_settings=CONTEXT, short_help="Evaluate a model (or the reference policy) on the farm")
@DATA_OPTIONS
@TASK_OPTIONS
@FARM_OPTIONS
@MODEL_OPTIONS
@click.option("--num-examples", type=POSITIVE, help="evaluate at most N tasks")
@click.option("--tasks-per-scenario", type=POSITIVE, default=1)
@click.option("--rollouts-per-example", type=POSITIVE, default=1)
@click.option("--chain-length", type=POSITIVE, default=1, help="endpoints per task (2+ chains them)")
@click.option("--concurrency", type=POSITIVE, default=8, help="episodes in flight")
@click.option("--max-turns", type=POSITIVE, default=20)
@click.option("--seed", type=int, default=0)
@click.option("--out", type=OUT_DIR, help="output directory (default runs/eval-<time>)")
@click.option("--resume", is_flag=True, help="continue --out (the same run only: same model, endpoint, dataset, "
              "tasks and sampling), skipping finished rollouts")
@SAMPLING_OPTIONS
def command(config: Path | None, out: Path | None, **options: Any) -> int:
    """Evaluate a model (or the built-in reference policy) on the farm; writes results.jsonl."""
    # every option named like an `EvalSettings` field is passed to it as is
    from awm_ray.evaluate import EvalSettings, evaluate, preflight
    from awm_ray.farm import Farm

    if options["model"] and not options["base_url"]:
        raise ValueError("--model needs --base-url (an OpenAI-compatible endpoint)")
    settings = load_command_config(config)
    out = out or check_writable(Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S"), directory=True)
    options["sampling"] = sampling_args(options.pop("sampling_args"), options.pop("temperature"), options.pop("max_tokens"))
    options["request_timeout_s"] = options.pop("request_timeout")
    names = {f.name for f in fields(EvalSettings)}
    eval_settings = EvalSettings(out_dir=out, **{name: value for name, value in options.items() if name in names})
    data = settings.data
    eval_settings.dataset, eval_settings.split = data.dataset, data.split
    eval_settings.tasks, eval_settings.verifier = data.tasks, settings.verification.mode
    eval_settings.include_degenerate = settings.verification.include_degenerate
    eval_settings.verification = settings.verification.model_dump(mode="json")
    errors: list[ScenarioError] = []
    scenarios = list(load_scenarios(data.dataset, data.split, data.max_scenarios, data.scenario_filter, errors))
    report_bad_rows(errors)
    if not scenarios:
        raise ValueError(nothing_loaded(data, errors))
    preflight(scenarios, eval_settings)  # nothing to run, or a --resume of another run: say so before starting Ray
    if eval_settings.resume and not (out / "results.jsonl").exists():  # a typo'd --out would silently start over
        console.print(f"--resume: no earlier run in {out}; starting a new one", highlight=False, markup=False)
    console.print(f"{eval_settings.label}: {len(scenarios)} scenario(s), writing to {out}", highlight=False, markup=False)
    farm = Farm.start(settings, scenarios)
    columns = (TextColumn("episodes"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.description}"))  # fmt: skip
    try:
        with progress(columns, "episodes") as bars:
            bar = bars.add_task("", total=None, rate="")
            rewards: list[float] = []
            started = time.monotonic()

            def update(done: int, total: int, row: dict[str, Any] | None) -> None:
                if row is not None:
                    rewards.append(row["reward"])
                rate = done / max(1e-9, time.monotonic() - started)
                mean = f"mean reward {sum(rewards) / len(rewards):.3f}" if rewards else ""
                bars.update(bar, total=total, completed=done, rate=f"{rate:.1f}/s", description=mean)

            summary = evaluate(scenarios, eval_settings, farm, update)
    finally:
        farm.shutdown()
    print_eval(summary, out)
    return 0


def print_eval(summary: dict[str, Any], out: Path) -> None:
    """Mean reward per scenario (the first 40), then the run's totals and where its files are."""
    table = Table(title=f"awm-ray eval — {summary['label']}")
    table.add_column("scenario", no_wrap=True)
    table.add_column("rollouts", justify="right")
    table.add_column("mean reward", justify="right")
    native = summary.get("task_complete_by_scenario") or {}
    if native:
        table.add_column("task_complete", justify="right")
    for name, s in list(summary["by_scenario"].items())[:40]:
        extra = [f"{native[name]['task_complete']:.3f}"] if name in native else []
        table.add_row(name, str(s["n"]), f"{s['mean_reward']:.3f}", *extra)
    if len(summary["by_scenario"]) > 40:
        table.add_row(f"... {len(summary['by_scenario']) - 40} more in summary.json", "", "", *([""] if native else []))
    console.print(table)
    if native:
        print_native(summary)
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in summary["metrics"].items() if v is not None)
    mean = summary["mean_reward"]
    tokens = summary.get("tokens") or {}
    console.print(
        f"{summary['label']}\nrollouts {summary['rollouts']}, mean reward "
        f"{'n/a' if mean is None else f'{mean:.3f}'} ({metrics}); error rows {summary['error_rows']}"
        f"{' ' + str(summary['errors']) if summary['errors'] else ''}; retried {summary['retried']}; "
        f"{summary['throughput']['rollouts_per_s']} rollouts/s",
        highlight=False, markup=False,
    )
    console.print(
        f"stops {_counts(summary.get('stops'))}; tool calls {summary.get('tool_calls', 0)}, errors "
        f"{_counts(summary.get('tool_errors'))}; tokens {tokens.get('prompt_tokens', 0)} prompt + "
        f"{tokens.get('completion_tokens', 0)} completion = {tokens.get('total_tokens', 0)}",
        highlight=False, markup=False,
    )
    for kind, example in (summary.get("error_examples") or {}).items():
        console.print(f"  {kind} x{summary['errors'].get(kind, 0)}: {one_line(example, 200)}", highlight=False, markup=False)
    console.print(f"results: {out / 'results.jsonl'}  summary: {out / 'summary.json'}", highlight=False)


def print_native(summary: dict[str, Any]) -> None:
    """A scenario's own tasks: task_complete per task (the first 40), and how verification went."""
    table = Table(title="task_complete by task")
    table.add_column("task", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("task_complete", justify="right")
    table.add_column("text", overflow="fold")
    tasks = summary.get("task_complete_by_task") or {}
    for key, t in list(tasks.items())[:40]:
        table.add_row(key, str(t["n"]), f"{t['task_complete']:.3f}", Text(t["task"]))
    if len(tasks) > 40:
        table.add_row(f"... {len(tasks) - 40} more in summary.json", "", "", "")
    console.print(table)
    v = summary.get("verification") or {}
    ms = v.get("verify_ms") or {}
    console.print(
        f"task_complete {summary.get('task_complete')}; verified {v.get('verified', 0)}, results "
        f"{_counts(v.get('results'))}, errors {_counts(v.get('errors'))}, judge errors {v.get('judge_errors', 0)}; "
        f"verify ms p50 {ms.get('p50')} p95 {ms.get('p95')}",
        highlight=False, markup=False,
    )
    if summary.get("skipped_tasks"):
        console.print(f"tasks left out: {_counts(summary['skipped_tasks'])}", highlight=False, markup=False)


def _counts(counts: dict[str, int] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in (counts or {}).items()) or "none"
