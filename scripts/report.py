"""Render ``docs/RESULTS.md`` and its plots from a benchmark JSON and one or more soak JSONs.

Usage::

    python scripts/report.py --bench BENCH.json --soak SOAK.json [--soak MORE.json ...] [--out-dir docs]

The inputs come from ``scripts/bench_farm.py --out`` and ``scripts/soak.py --out``. The report is
regenerated, never edited by hand, so the numbers in the docs are always ones a script measured.
Targets are re-checked here from the raw figures (not copied from the inputs) so the table and the
thresholds it states cannot drift apart. Keys the report needs are required (exit code 2 naming
the missing key); descriptive extras may be absent and show as "n/a". Only the paths written are
printed; diagnostics go to the log (stderr).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the report runs in CI and over ssh
import matplotlib.pyplot as plt

log = logging.getLogger("report")

FIGSIZE, DPI = (9, 5), 100  # ~900x500 px
RSS_TARGET_MB = 6000  # all scenarios warm at n=1000
CHAOS_MARKERS = {"kill_server": "v", "kill_worker": "s", "kill_node": "X"}


class ReportError(Exception):
    """An input the report cannot be built from; `main` turns it into exit code 2."""


class Doc:
    """A loaded input file; lookups name the file and the dotted key when something is missing."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind
        if not path.is_file():
            raise ReportError(f"{kind} file not found: {path}")
        try:
            self.data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ReportError(f"{kind} file {path} is not readable JSON: {exc}") from exc
        if not isinstance(self.data, dict):
            raise ReportError(f"{kind} file {path}: expected a JSON object at the top level")

    def need(self, key: str, expect: type | None = None) -> Any:
        """Value at a dotted key, which must exist (it may be null: a measurement that produced nothing,
        unless `expect` asks for a container the report iterates)."""
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                hint = self.data.get("extra", {}).get("error") if isinstance(self.data.get("extra"), dict) else None
                raise ReportError(f"{self.kind} file {self.path}: missing key '{key}'"
                                  + (f" (the run recorded an error: {hint})" if hint else ""))  # fmt: skip
            node = node[part]
        if expect is not None and not isinstance(node, expect):
            raise ReportError(f"{self.kind} file {self.path}: key '{key}' should be a JSON "
                              f"{'object' if expect is dict else 'array'}, got {json.dumps(node)[:60]}")  # fmt: skip
        return node

    def get(self, key: str, default: Any = None) -> Any:
        """Value at a dotted key that the report can do without."""
        try:
            return self.need(key)
        except ReportError:
            return default


# ---------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------


def num(v: Any, unit: str = "") -> str:
    """Few significant digits: the docs are read by people, the JSON keeps the full values."""
    if v is None:
        return "n/a"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if isinstance(v, int):
        s = f"{v:,}"
    else:
        s = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return f"{s} {unit}".rstrip() if unit and unit not in "×%" else s + unit


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "yes" if ok else "**NO**"


def check(value: Any, test: Callable[[float], bool]) -> bool | None:
    return bool(test(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None


def ratio(a: Any, b: Any) -> float | None:
    return a / b if isinstance(a, int | float) and isinstance(b, int | float) and b else None


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


# ---------------------------------------------------------------------------------------------
# benchmark section
# ---------------------------------------------------------------------------------------------


def bench_rows(b: Doc) -> list[tuple[str, ...]]:
    """The headline targets, each re-checked against its threshold."""
    lease, reset = b.need("lease_ms.p50"), b.need("reset_ms.p50")
    speedup, overhead = b.need("reset_speedup"), b.need("tool_call_overhead_ratio")
    farm64 = b.need("episodes_per_s.farm", dict).get("64")
    base8 = b.need("episodes_per_s.spawn_baseline", dict).get("8")
    eps_x = ratio(farm64, base8)
    n, rss = b.need("all_scenarios.n"), b.need("all_scenarios.rss_mb")
    rss_note = f"n={num(n)}"
    if n != 1000:  # a --quick run measures fewer and extrapolates; say so rather than pass it off as measured
        rss = b.get("all_scenarios.extra.estimate_at_1000.rss_mb")
        rss_note = f"estimated from n={num(n)}"
    calls = f" ({num(b.get('tool_call_ms.farm.p50'))} vs {num(b.get('tool_call_ms.direct.p50'))} ms direct)"
    return [
        ("lease p50 (`lease_ms.p50`)", num(lease, "ms"), "≤ 5 ms", verdict(check(lease, lambda v: v <= 5))),
        ("reset p50 (`reset_ms.p50`)", num(reset, "ms"), "≤ 5 ms", verdict(check(reset, lambda v: v <= 5))),
        ("reset speedup (spawn p50 / lease p50)", num(speedup, "×"), "≥ 100×",
         verdict(check(speedup, lambda v: v >= 100))),
        ("tool-call overhead (farm p50 / direct p50)", num(overhead, "×") + calls, "≤ 1.5×",
         verdict(check(overhead, lambda v: v <= 1.5))),
        ("episodes/s, farm c=64 vs spawn baseline c=8", f"{num(farm64)} vs {num(base8)} ({num(eps_x, '×')})",
         "≥ 20×", verdict(check(eps_x, lambda v: v >= 20))),
        ("RSS, all scenarios warm at n=1000", f"{num(rss, 'MB')} ({rss_note})", f"≤ {RSS_TARGET_MB:,} MB",
         verdict(check(rss, lambda v: v <= RSS_TARGET_MB))),
    ] + verification_rows(b)  # fmt: skip


def verification_rows(b: Doc) -> list[tuple[str, ...]]:
    """The verification target, when the run measured it (benchmarks before phase V did not)."""
    added = b.get("verification.added_ms_p50")
    if added is None:
        return []
    shown = (f"{num(added, 'ms')} (verify p50/p95 {num(b.get('verification.verify_ms.p50'))} / "
             f"{num(b.get('verification.verify_ms.p95'))} ms)")  # fmt: skip
    return [("verification added to an episode (p50 with − without)", shown, "≤ 20 ms",
             verdict(check(added, lambda v: v <= 20)))]  # fmt: skip


def bench_details(b: Doc) -> list[str]:
    """Supporting figures: percentiles, per-concurrency throughput, memory per slot, both backends."""
    eps = b.need("episodes_per_s")
    mem = b.get("rss_mb_per_slot") or {}
    lines = [
        (f"- p50 / p95: lease {num(b.get('lease_ms.p50'))} / {num(b.get('lease_ms.p95'))} ms, "
         f"reset {num(b.get('reset_ms.p50'))} / {num(b.get('reset_ms.p95'))} ms, "
         f"spawn baseline {num(b.need('spawn_baseline_ms.p50'))} / {num(b.get('spawn_baseline_ms.p95'))} ms."),
        "- episodes/s: farm " + ", ".join(f"c={c}: {num(v)}" for c, v in eps["farm"].items())
        + "; spawn baseline " + ", ".join(f"c={c}: {num(v)}" for c, v in eps["spawn_baseline"].items()) + ".",
        "- memory per extra warm slot (RSS): " + (", ".join(f"{k} {num(v, 'MB')}" for k, v in mem.items()) or "n/a")
        + f"; all {num(b.get('all_scenarios.n'))} scenarios warm in {num(b.get('all_scenarios.warm_s'), 's')}.",
    ]  # fmt: skip
    by_backend = b.get("extra.by_backend") or {}
    if by_backend:
        lines += ["", "Both backends (the table above uses `" + str(b.get("extra.backend", "n/a")) + "`):", ""]
        metrics = [("lease p50 (ms)", "lease_ms.p50"), ("reset p50 (ms)", "reset_ms.p50"),
                   ("call overhead (×)", "tool_call_overhead_ratio"), ("episodes/s c=64", "episodes_per_s.farm.64"),
                   ("RSS per extra slot (MB)", "rss_mb_per_slot")]  # fmt: skip
        rows = [(label, *(num(dig(d, key)) for d in by_backend.values())) for label, key in metrics]
        lines += table(("metric", *by_backend), rows)
    return lines


def dig(d: Any, key: str) -> Any:
    for part in key.split("."):
        d = d.get(part) if isinstance(d, dict) else None
    return d


def bench_command(b: Doc) -> str:
    """The bench JSON records its mode and backend, not its command line; rebuild the equivalent."""
    if b.get("command"):
        return str(b.get("command"))
    mode, backend = b.get("extra.mode"), b.get("extra.backend")
    flags = [f"--{mode}"] if mode in ("quick", "full", "smoke") else []
    flags += [f"--backend {backend}"] if backend and backend != "inprocess" else []
    return " ".join(["python scripts/bench_farm.py", *flags, "--out bench.json"])


def machine_line(m: dict[str, Any] | None) -> str:
    m = m or {}
    return (f"{num(m.get('cpus'))} CPUs, {num(m.get('memory_gb'), 'GB')} RAM, Python {m.get('python', 'n/a')}, "
            f"Ray {m.get('ray', 'n/a')}")  # fmt: skip


def bench_section(b: Doc) -> list[str]:
    lines = ["## Benchmark", "",
             f"From `{b.path.name}` (mode `{b.get('extra.mode', 'n/a')}`, backend `{b.get('extra.backend', 'n/a')}`).",
             ""]  # fmt: skip
    lines += table(("metric", "measured", "target", "met?"), bench_rows(b))
    lines += ["", *bench_details(b), "", f"Machine: {machine_line(b.get('machine'))}.", "",
              "![episodes per second vs concurrency](episodes_per_s.png)", "",
              "![lease and reset vs spawning a server](reset_vs_spawn.png)", "",
              "Reproduce:", "", "```bash", bench_command(b), "```", ""]  # fmt: skip
    return lines


# ---------------------------------------------------------------------------------------------
# soak section
# ---------------------------------------------------------------------------------------------


def soak_rows(s: Doc) -> list[tuple[str, ...]]:
    """Episodes, resets, leaks, latency and memory; the must-hold ones re-checked here."""
    ep = {k: s.need(f"episodes.{k}") for k in ("submitted", "completed", "lost", "hung")}
    leaks: dict[str, Any] = s.need("leaks", dict)
    leak_total = None if any(v is None for v in leaks.values()) else sum(leaks.values())
    first, last = s.need("latency_ms.first_tenth.p99"), s.need("latency_ms.last_tenth.p99")
    drift = s.get("latency_ms.p99_last_over_first")
    drift = drift if drift is not None else ratio(last, first)
    growth = s.need("rss_mb.growth_pct")
    sign = "+" if isinstance(growth, int | float) and growth > 0 else ""
    resets = f"{num(s.get('resets.total'))} / {num(s.get('resets.verified'))} / {num(s.get('resets.quarantined'))}"
    return [
        ("episodes submitted / completed", f"{num(ep['submitted'])} / {num(ep['completed'])}", "", ""),
        ("failed with a clear error / retried",
         f"{num(s.get('episodes.failed_with_clear_error'))} / {num(s.get('episodes.retried'))}", "", ""),
        ("lost episodes", num(ep["lost"]), "= 0", verdict(check(ep["lost"], lambda v: v == 0))),
        ("hung episodes", num(ep["hung"]), "= 0", verdict(check(ep["hung"], lambda v: v == 0))),
        ("resets total / verified / quarantined", resets, "", ""),
        ("leaks: " + ", ".join(k.replace("_", " ") for k in leaks), " / ".join(num(v) for v in leaks.values()),
         "all 0", verdict(check(leak_total, lambda v: v == 0))),
        ("tool-call latency p50 / p99", f"{num(s.need('latency_ms.p50'))} / {num(s.need('latency_ms.p99'))} ms",
         "", ""),
        ("tool-call p99, first → last tenth", f"{num(first)} → {num(last)} ms ({num(drift, '×')})", "≤ 1.5×",
         verdict(check(drift, lambda v: v <= 1.5))),
        ("episode p50 / p99", f"{num(s.get('episode_ms.p50'))} / {num(s.get('episode_ms.p99'))} ms", "", ""),
        ("RSS start → end",
         f"{num(s.get('rss_mb.start'))} → {num(s.get('rss_mb.end'))} MB ({sign}{num(growth, '%')})",
         "< 10%", verdict(check(growth, lambda v: v < 10))),
    ]  # fmt: skip


def soak_section(s: Doc, heading: str) -> list[str]:
    cfg = s.need("config", dict)
    for key in ("config.episodes", "config.concurrency", "config.chaos"):
        s.need(key)
    s.need("timeline", list)  # checked here so a bad file fails before any plot is written
    scen = cfg.get("scenarios") or []
    shown = ", ".join(scen[:5]) + (", …" if len(scen) > 5 else "")
    scen_txt = f"{len(scen)} scenarios" + (f" ({shown})" if scen else "")
    lines = [f"### {heading}", "",
             (f"Config: {num(cfg['episodes'])} episodes, concurrency {num(cfg['concurrency'])}, "
              f"chaos {'on' if cfg['chaos'] else 'off'}, {num(cfg.get('nodes'))} node(s), "
              f"backend `{cfg.get('backend', 'n/a')}`, seed {num(cfg.get('seed'))}, {scen_txt}; "
              f"ran {num(s.get('duration_s'), 's')} at {num(s.get('episodes_per_s'))} episodes/s."), ""]  # fmt: skip
    rows = soak_rows(s)
    lines += table(("metric", "measured", "must hold", "held?"), rows)
    mine = all(r[3] == "yes" for r in rows if r[3])
    recorded = s.get("passed")
    if recorded is not None and bool(recorded) != mine:
        log.warning("%s: soak.py says passed=%s but the re-checked must-holds say %s", s.path, recorded, mine)
    lines += ["", f"Must-holds: {'all held' if mine else '**not all held**'}"
              + (f" (soak.py verdict: {'passed' if recorded else 'failed'})." if recorded is not None else "."), ""]
    counts = s.get("chaos.counts") or {}
    events = s.get("chaos.events") or []
    chaos = ", ".join(f"{k.replace('_', ' ')} {num(v)}" for k, v in counts.items()) if counts else "n/a"
    lines += [f"Chaos: {chaos} ({len(events)} events; marked on the latency plot)." if cfg["chaos"]
              else "Chaos: off.", ""]  # fmt: skip
    errors = s.get("errors")
    if errors:
        lines += table(("error kind", "count"), [(f"`{k}`", num(v)) for k, v in sorted(errors.items(),
                                                                                       key=lambda kv: -kv[1])])
    else:
        lines.append("Errors by kind: " + ("none." if errors == {} else "n/a."))
    lines += ["", f"Machine: {machine_line(s.get('machine'))}.", "", "Command:", "", "```bash",
              str(s.get("command", "n/a")), "```", ""]  # fmt: skip
    return lines


def soak_label(s: Doc) -> str:
    cfg = s.get("config") or {}
    return f"{s.path.stem} (c={cfg.get('concurrency', '?')}{', chaos' if cfg.get('chaos') else ''})"


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------


def save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    log.info("wrote %s", path)
    return path


def plot_soak_latency(soaks: list[Doc], path: Path) -> Path:
    """p50/p99 per call over time: drift and chaos spikes show here, averages would hide them.

    Chaos events get their own strip under the latency axes (one row per soak file) so the ticks
    never cover the curves; faint lines carry them up into the latency panel.
    """
    fig, (ax, strip) = plt.subplots(2, 1, figsize=FIGSIZE, sharex=True, gridspec_kw={"height_ratios": [7, 1]})
    kinds_seen: set[str] = set()
    for i, s in enumerate(soaks):
        color = f"C{i}"
        tl = [p for p in s.need("timeline", list) if isinstance(p, dict) and p.get("t_s") is not None]
        t = [p["t_s"] for p in tl]
        ax.plot(t, [p.get("call_p50_ms") for p in tl], color=color, lw=1.8, label=f"{soak_label(s)} p50")
        ax.plot(t, [p.get("call_p99_ms") for p in tl], color=color, lw=1.4, ls="--", label=f"{soak_label(s)} p99")
        for ev in s.get("chaos.events") or []:
            if ev.get("t_s") is None:
                continue
            kind = ev.get("kind", "other")
            ax.axvline(ev["t_s"], color=color, lw=0.8, alpha=0.25)
            strip.vlines(ev["t_s"], i - 0.35, i + 0.35, color=color, lw=1.5)
            strip.plot(ev["t_s"], i, ls="", marker=CHAOS_MARKERS.get(kind, "o"), color=color, ms=6)
            kinds_seen.add(kind)
    for kind in sorted(kinds_seen):
        ax.plot([], [], ls="", marker=CHAOS_MARKERS.get(kind, "o"), color="0.3", label=f"chaos: {kind}")
    if ax.has_data():
        ax.set_yscale("log")
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    else:
        ax.text(0.5, 0.5, "no timeline data", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("tool-call latency (ms, log scale)")
    ax.set_title("Soak: tool-call latency over time")
    ax.grid(True, which="both", alpha=0.3)
    strip.set_ylim(-0.6, len(soaks) - 0.4)
    strip.set_yticks([])
    strip.set_ylabel("chaos", rotation=0, ha="right", va="center")
    strip.set_xlabel("time since soak start (s)")
    strip.grid(True, axis="x", alpha=0.3)
    return save(fig, path)


def plot_episodes_per_s(b: Doc, path: Path) -> Path:
    """Throughput vs concurrency on log axes: the farm/baseline gap spans orders of magnitude."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    series = [("farm", "episodes_per_s.farm", "C0", "o"), ("spawn per episode (baseline)",
                                                            "episodes_per_s.spawn_baseline", "C3", "s")]
    for label, key, color, marker in series:
        pts = sorted((int(c), v) for c, v in b.need(key, dict).items() if v is not None)
        if not pts:
            continue
        ax.plot([c for c, _ in pts], [v for _, v in pts], marker=marker, color=color, lw=2, ms=8, label=label)
        for c, v in pts:
            ax.annotate(num(v), (c, v), textcoords="offset points", xytext=(0, 9), ha="center", fontsize=10)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    concurrencies = sorted({int(c) for _, k, _, _ in series for c in b.need(k)})
    ax.set_xticks(concurrencies, [str(c) for c in concurrencies])
    ax.set_xlabel("concurrent episodes")
    ax.set_ylabel("episodes per second (log scale)")
    ax.set_title("Episodes per second: farm vs a fresh server per episode")
    ax.margins(x=0.08, y=0.15)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save(fig, path)


def plot_reset_vs_spawn(b: Doc, path: Path) -> Path:
    """What a new episode costs: lease/reset on a warm slot vs building and starting a server."""
    bars = [("lease p50", b.need("lease_ms.p50"), "C0"), ("reset p50", b.need("reset_ms.p50"), "C2"),
            ("spawn baseline p50", b.need("spawn_baseline_ms.p50"), "C3")]  # fmt: skip
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for i, (label, v, color) in enumerate(bars):
        if v is None:
            ax.text(i, 1, "n/a", ha="center")
            continue
        ax.bar(i, v, color=color, width=0.6)
        ax.annotate(num(v, "ms"), (i, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=11,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"}, zorder=3)
    ax.axhline(5, color="0.3", ls="--", lw=1, label="5 ms target (lease, reset)", zorder=1)
    ax.set_xticks(range(len(bars)), [label for label, _, _ in bars])
    ax.set_yscale("log")
    ax.set_ylabel("time per new episode (ms, log scale)")
    ax.set_title("Starting an episode: warm-slot lease/reset vs spawning a server")
    ax.margins(y=0.2)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend()
    return save(fig, path)


# ---------------------------------------------------------------------------------------------
# the whole report
# ---------------------------------------------------------------------------------------------


def render(bench: Doc, soaks: list[Doc], command: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# awm-ray results", "",
             f"*Generated by `scripts/report.py` on {now} from `{bench.path.name}` and "
             + ", ".join(f"`{s.path.name}`" for s in soaks) + "; do not edit by hand. Regenerate with:*", "",
             "```bash", command, "```", "",
             ("What the rollout farm measured: the benchmark compares a warm farm slot (lease, reset, tool call) "
              "with the per-rollout way of building a database and starting a server for every episode; the soak "
              "runs many episodes, optionally under chaos (killed servers, workers, nodes), and checks that nothing "
              "is lost, hangs, leaks or slows down over time."), ""]  # fmt: skip
    lines += bench_section(bench)
    lines += ["## Soak", "", "![tool-call latency during the soak](soak_latency.png)", ""]
    for s in soaks:
        lines += soak_section(s, f"Soak: `{s.path.name}`" if len(soaks) > 1 else f"`{s.path.name}`")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, required=True, help="JSON from scripts/bench_farm.py --out")
    parser.add_argument("--soak", type=Path, action="append", required=True, help="JSON from scripts/soak.py (repeat)")
    parser.add_argument("--out-dir", type=Path, default=Path("docs"), help="where RESULTS.md and the PNGs go")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    soak_args = [x for s in args.soak for x in ("--soak", str(s))]
    command = shlex.join(["python", "scripts/report.py", "--bench", str(args.bench), *soak_args,
                          "--out-dir", str(args.out_dir)])  # fmt: skip
    try:
        bench = Doc(args.bench, "bench")
        soaks = [Doc(p, "soak") for p in args.soak]
        text = render(bench, soaks, command)  # validates every required key before anything is written
        args.out_dir.mkdir(parents=True, exist_ok=True)
        written = [
            plot_soak_latency(soaks, args.out_dir / "soak_latency.png"),
            plot_episodes_per_s(bench, args.out_dir / "episodes_per_s.png"),
            plot_reset_vs_spawn(bench, args.out_dir / "reset_vs_spawn.png"),
        ]
        results = args.out_dir / "RESULTS.md"
        results.write_text(text)
        written.append(results)
    except ReportError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
