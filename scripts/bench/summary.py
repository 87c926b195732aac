"""The top-level keys and targets from the raw measurements, and the human summary on stderr."""

from __future__ import annotations

import statistics
from typing import Any

from .measure import p50p95, ratio
from .plans import BACKENDS

def summarize(result: dict[str, Any], default_backend: str) -> None:
    """Fill the top-level keys and targets from the raw measurements in `extra`."""
    extra = result["extra"]
    by_backend: dict[str, Any] = {}
    direct = extra["tool_calls"]["direct"]
    for b in BACKENDS:
        lease = extra["leases"][b]["lease_ms"]
        farm_call = extra["tool_calls"]["farm"][b]
        eps_raw = extra["episodes"]["farm"][b]
        eps = {c: round(statistics.median(r["episodes_per_s"] for r in runs), 3) for c, runs in eps_raw.items()}
        for c in ("1", "8", "64"):
            eps.setdefault(c, None)
        by_backend[b] = {
            "lease_ms": p50p95(lease),
            "tool_call_ms": {"farm": p50p95(farm_call), "direct": p50p95(direct)},
            "tool_call_overhead_ratio": ratio(farm_call["p50"], direct["p50"]),
            "episodes_per_s": {"farm": eps},
            "reset_ms": p50p95(extra["reset"]["by_backend"][b]),
            "rss_mb_per_slot": extra["rss"][b]["rss_mb_per_slot"],
            "pss_mb_per_slot": extra["rss"][b]["pss_mb_per_slot"],
        }
    extra["by_backend"] = by_backend
    base_eps = {c: round(statistics.median(r["episodes_per_s"] for r in runs), 3)
                for c, runs in extra["episodes"]["spawn_baseline"].items()}  # fmt: skip
    d = by_backend[default_backend]
    spawn = p50p95(extra["spawn_baseline"]["ms"])
    result["lease_ms"] = d["lease_ms"]
    result["reset_ms"] = d["reset_ms"]
    result["spawn_baseline_ms"] = spawn
    result["reset_speedup"] = ratio(spawn["p50"], d["lease_ms"]["p50"], 1)
    result["tool_call_ms"] = d["tool_call_ms"]
    result["tool_call_overhead_ratio"] = d["tool_call_overhead_ratio"]
    result["episodes_per_s"] = {"farm": d["episodes_per_s"]["farm"], "spawn_baseline": base_eps}
    result["rss_mb_per_slot"] = {b: by_backend[b]["rss_mb_per_slot"] for b in BACKENDS}
    for b in BACKENDS:
        by_backend[b]["reset_speedup"] = ratio(spawn["p50"], by_backend[b]["lease_ms"]["p50"], 1)
        by_backend[b]["episodes_per_s"]["spawn_baseline"] = base_eps
    extra["backend_per_key"] = {
        "lease_ms": f"farm, {default_backend}",
        "reset_ms": f"Slot.reset() without Ray, {default_backend} slot",
        "spawn_baseline_ms": "per-rollout: build_database + SubprocessBackend (uvicorn subprocess) + first call + stop",
        "tool_call_ms.farm": f"farm, {default_backend}",
        "tool_call_ms.direct": "keep-alive httpx.Client -> local uvicorn subprocess of the same scenario",
        "episodes_per_s.farm": f"farm, {default_backend}",
        "episodes_per_s.spawn_baseline": "per-rollout, thread pool",
        "rss_mb_per_slot": "each backend, farm workers + their children",
        "all_scenarios": "farm, inprocess",
        "by_backend": "extra.by_backend has every farm measurement for both backends",
    }
    extra["memory_metric_note"] = (
        "rss_mb_per_slot is the RSS delta of the worker processes + their children divided by the added "
        "slots; PSS (shared pages split between processes) is in extra.by_backend.*.pss_mb_per_slot"
    )
    verification = result.get("verification") or {}
    result["verify_ms"] = p50p95(verification["verify_ms"]) if verification.get("verify_ms") else None
    allsc = result["all_scenarios"]
    rss_1000 = allsc["rss_mb"] if allsc["n"] == 1000 else allsc["extra"].get("estimate_at_1000", {}).get("rss_mb")
    f64 = d["episodes_per_s"]["farm"].get("64")
    b8 = base_eps.get("8")
    result["targets"] = {
        "lease_ms.p50 <= 5": _le(d["lease_ms"]["p50"], 5),
        "reset_ms.p50 <= 5": _le(d["reset_ms"]["p50"], 5),
        "reset_speedup >= 100": _ge(result["reset_speedup"], 100),
        "tool_call_overhead_ratio <= 1.5": _le(d["tool_call_overhead_ratio"], 1.5),
        "episodes_per_s.farm.64 >= 20 x spawn_baseline.8": (
            f64 is not None and b8 is not None and f64 >= 20 * b8
        ),
        "all_scenarios.rss_mb <= 6144 at n=1000": _le(rss_1000, 6144),
        "verification.added_ms_p50 <= 20": _le(verification.get("added_ms_p50"), 20),
    }
    extra["targets_detail"] = {
        "backend": default_backend,
        "lease_ms.p50": d["lease_ms"]["p50"],
        "reset_ms.p50": d["reset_ms"]["p50"],
        "reset_speedup": result["reset_speedup"],
        "tool_call_overhead_ratio": d["tool_call_overhead_ratio"],
        "episodes_per_s.farm.64 / spawn_baseline.8": ratio(f64, b8, 1),
        "all_scenarios.rss_mb at n=1000": rss_1000,
        "all_scenarios.rss_mb_is_estimate": allsc["n"] != 1000,
        "by_backend": {
            b: {
                "lease_ms.p50 <= 5": _le(by_backend[b]["lease_ms"]["p50"], 5),
                "reset_ms.p50 <= 5": _le(by_backend[b]["reset_ms"]["p50"], 5),
                "reset_speedup >= 100": _ge(by_backend[b]["reset_speedup"], 100),
                "tool_call_overhead_ratio <= 1.5": _le(by_backend[b]["tool_call_overhead_ratio"], 1.5),
                "episodes_per_s.farm.64 >= 20 x spawn_baseline.8": (
                    by_backend[b]["episodes_per_s"]["farm"].get("64") is not None and b8 is not None
                    and by_backend[b]["episodes_per_s"]["farm"]["64"] >= 20 * b8
                ),
            }
            for b in BACKENDS
        },
    }  # fmt: skip


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def _ge(value: float | None, limit: float) -> bool:
    return value is not None and value >= limit


def human_summary(result: dict[str, Any]) -> str:
    e = result["extra"]
    lines = [f"awm-ray farm benchmark ({e['mode']}, backend {e['backend']}, {e['total_s']:.0f} s)"]
    lines.append(f"  {'':28} {'inprocess':>18} {'subprocess':>18}")
    bb = e["by_backend"]

    def both(fn: Any) -> str:
        return " ".join(f"{fn(bb[b]):>18}" for b in BACKENDS)

    def fmt(x: dict[str, Any]) -> str:
        return f"{x['p50']} / {x['p95']}" if x.get("p50") is not None else "-"

    lines.append(f"  {'lease ms p50/p95':28} " + both(lambda d: fmt(d["lease_ms"])))
    lines.append(f"  {'reset ms p50/p95':28} " + both(lambda d: fmt(d["reset_ms"])))
    lines.append(f"  {'farm call ms p50/p95':28} " + both(lambda d: fmt(d["tool_call_ms"]["farm"])))
    lines.append(f"  {'call overhead ratio':28} " + both(lambda d: str(d["tool_call_overhead_ratio"])))
    lines.append(f"  {'reset speedup':28} " + both(lambda d: str(d["reset_speedup"])))
    for c in ("1", "8", "64"):
        lines.append(f"  {'episodes/s c=' + c:28} " + both(lambda d, c=c: str(d["episodes_per_s"]["farm"].get(c))))
    lines.append(f"  {'MB per extra slot (RSS/PSS)':28} "
                 + both(lambda d: f"{d['rss_mb_per_slot']} / {d['pss_mb_per_slot']}"))
    lines.append(f"  direct keep-alive call ms p50/p95: {fmt(result['tool_call_ms']['direct'])}")
    lines.append(f"  spawn baseline ms p50/p95: {fmt(result['spawn_baseline_ms'])}; "
                 f"episodes/s {result['episodes_per_s']['spawn_baseline']}")  # fmt: skip
    v = result.get("verification") or {}
    if v.get("by_concurrency"):
        eps = ", ".join(f"c={c}: {r['with']['episodes_per_s']} with / {r['without']['episodes_per_s']} without"
                        for c, r in v["by_concurrency"].items())  # fmt: skip
        lines.append(f"  verify ms p50/p95: {fmt(v['verify_ms'])} (verifier itself {fmt(v['verifier_ms'])}); "
                     f"episode p50 +{v['added_ms_p50']} ms; episodes/s {eps}")  # fmt: skip
    a = result["all_scenarios"]
    lines.append(f"  all scenarios: n={a['n']} warm in {a['warm_s']} s, RSS {a['rss_mb']} MB ({a['backend']})")
    for k, v in result["targets"].items():
        lines.append(f"  target {'MET ' if v else 'MISS'} {k}")
    return "\n".join(lines)
