"""Small measuring helpers: timers, ratios, percentiles, CPU time of process groups."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import Any

from awm_ray.percentiles import percentiles

def pct(values: Iterable[float | None]) -> dict[str, Any]:
    """p50 / p95 (inclusive linear interpolation) and n, rounded; None when empty (`awm_ray.percentiles`)."""
    return percentiles(values, (50, 95))


def p50p95(stats: dict[str, Any]) -> dict[str, Any]:
    return {"p50": stats["p50"], "p95": stats["p95"]}


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all processes, ours and others')."""
    import psutil

    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


def cpu_seconds(groups: dict[str, tuple[list[int], bool]]) -> dict[str, float]:
    import psutil

    out = {}
    for name, (pids, descendants) in groups.items():
        total = 0.0
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                procs = [proc, *proc.children(recursive=True)] if descendants else [proc]
            except psutil.Error:
                continue
            for q in procs:
                with contextlib.suppress(psutil.Error):
                    t = q.cpu_times()
                    total += t.user + t.system
        out[name] = total
    return out
