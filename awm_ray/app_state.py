"""Apps that keep state in memory across episodes: how `awm-ray validate` finds them, and the verdict.

A slot's reset restores its database exactly, but what an app keeps in its own memory (a
module-level list, a cache, a counter) survives it: the next episode on that warm app would see
what the last one left. `awm-ray validate` looks for it (`check_app_state`): it calls every
endpoint with its example arguments on a fresh app (each call after a reset), then makes the same
calls again on the same app after resets. An answer that differs (timestamps and generated ids
masked: `comparable`) is asked a third time, of a second fresh app: if that one answers like the
first fresh app did, the difference is state the app kept (`kept_in_memory`); if not, the endpoint
merely varies from call to call (randomness, the clock) and is listed under `varies`.

The verdict goes into the val_report as `app_state`; the farm gives scenarios whose app keeps
state a fresh app for every episode (`hosting.fresh_app`, `wants_fresh_app`). Nothing here
imports Ray.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from awm_ray.text import one_line

_MASKS = (
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"), "<time>"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b"), "<time>"),
    (re.compile(r"\b\d{10,}(?:\.\d+)?\b"), "<number>"),  # epoch seconds or milliseconds
    (re.compile(r"\b[0-9a-fA-F]{16,}\b"), "<hex>"),  # secrets.token_hex, digests
    (re.compile(r"\b[A-Za-z0-9_-]{24,}\b"), "<token>"),  # secrets.token_urlsafe and the like
)
MODES = ("auto", "always", "never")


def comparable(text: str) -> str:
    """`text` with timestamps, UUIDs, long numbers and random-looking tokens masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


async def check_app_state(
    first: Mapping[str, str],
    call_all: Callable[[], Awaitable[Mapping[str, str]]],
    call_all_fresh: Callable[[], Awaitable[Mapping[str, str]]],
) -> dict[str, Any]:
    """The `app_state` part of a val_report.

    `first` maps each tool to the text it answered on a fresh app; `call_all` makes the same calls
    again on that app (each after a reset), `call_all_fresh` on a second fresh app; both return the
    texts by tool. The second fresh app is started only when some answer differed.
    """
    again = await call_all()
    differs = [t for t in first if comparable(first[t]) != comparable(again.get(t, ""))]
    report: dict[str, Any] = {"checked": True, "kept_in_memory": False, "endpoints": [], "varies": [], "example": None}
    if not differs:
        return report
    fresh = await call_all_fresh()
    for tool in differs:
        if comparable(fresh.get(tool, "")) == comparable(first[tool]):
            report["endpoints"].append(tool)
        else:
            report["varies"].append(tool)
    if report["endpoints"]:
        tool = report["endpoints"][0]
        report["kept_in_memory"] = True
        report["example"] = (
            f"{tool}: a fresh app answered {one_line(first[tool], 160)!r}, the same app after a reset "
            f"{one_line(again.get(tool, ''), 160)!r}"
        )
    return report


def keeps_state(val_report: Any) -> bool:
    """Whether a val_report says the scenario's app keeps state in memory across resets."""
    if not isinstance(val_report, Mapping):
        return False
    state = val_report.get("app_state")
    return isinstance(state, Mapping) and state.get("kept_in_memory") is True


def wants_fresh_app(mode: str, val_report: Any) -> bool:
    """Whether each episode of a scenario gets a fresh app under `hosting.fresh_app` = `mode`:
    `always`, `never`, or `auto` (when its val_report says the app keeps state in memory)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    return keeps_state(val_report)
