"""Percentile summaries of latency samples, one definition for the farm's stats, the benchmark and the soak."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def percentiles(values: Iterable[float | None], quantiles: tuple[int, ...] = (50, 95), digits: int = 3) -> dict[str, float | int | None]:
    """`{"p50": ..., "p95": ..., "n": count}` of `values` (`None`s skipped), rounded to `digits`.

    Percentiles interpolate linearly between the two nearest samples (`statistics.quantiles(...,
    method="inclusive")`, numpy's default); p50 is the median. `quantiles` are whole percents in
    1..99. With no samples every percentile is `None` and `n` is 0. Raises `ValueError` for a
    quantile outside 1..99.
    """
    if any(not 1 <= q <= 99 for q in quantiles):
        raise ValueError(f"quantiles must be whole percents in 1..99, got {quantiles}")
    data = sorted(v for v in values if v is not None)
    if len(data) < 2:
        value = round(data[0], digits) if data else None
        return {**{f"p{q}": value for q in quantiles}, "n": len(data)}
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    summary: dict[str, float | int | None] = {
        f"p{q}": round(statistics.median(data) if q == 50 else cuts[q - 1], digits) for q in quantiles
    }
    summary["n"] = len(data)
    return summary
