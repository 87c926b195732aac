"""Errors a farm client sees. They cross Ray process boundaries and HTTP, so they stay plain.

`str()` of every `FarmError` is its cause alone: no Ray traceback, colour codes, pid, IP, actor id
or source path of ours, and never more than `MAX_MESSAGE_CHARS` characters (a message that quotes
a caller's input cannot grow with it). The same text travels unchanged through the Ray client
(`Farm`), the HTTP gateway (the `detail` of its error body) and `RemoteFarm`. Each class has a
`kind`, the stable name the gateway puts in `error` and `RemoteFarm` maps back to the class.
"""

from __future__ import annotations

import re

MAX_MESSAGE_CHARS = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def clean_message(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A message fit to show anyone: terminal escapes and control characters removed, at most
    `limit` characters, any string (lone surrogates included) made valid UTF-8."""
    text = _CONTROL.sub("", _ANSI.sub("", str(text)))
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return clip(text.strip(), limit)


def quoted(value: object, limit: int = 100) -> str:
    """`repr` of a caller's value for a message, cut to `limit` characters."""
    return clip(repr(value), limit)


class FarmError(RuntimeError):
    """Base class of the farm's own errors; `str()` is the cause alone (see the module docstring)."""

    kind = "farm_error"

    def __init__(self, message: object = "") -> None:
        super().__init__(clean_message(message))


class LeaseLost(FarmError):
    """The lease no longer holds a slot: expired, released, its server or worker died, or its node left.

    The episode cannot continue on it; take a new lease to retry.
    """

    kind = "lease_lost"


class LeaseTimeout(FarmError):
    """No slot became free within the lease timeout, or the wait queue is full."""

    kind = "lease_timeout"


class UnknownScenario(FarmError):
    """The farm has no scenario of that name (add it with `farm.add_scenarios`)."""

    kind = "unknown_scenario"


class UnknownTask(FarmError):
    """`verify` named a task the lease's scenario does not have (or a mode it has no verifier for)."""

    kind = "unknown_task"


class ScenarioUnavailable(FarmError):
    """The scenario's server or database could not be started; the message carries the reason."""

    kind = "scenario_unavailable"


class WrongToken(FarmError):
    """A call named a lease with a token that is not the lease's."""

    kind = "forbidden"


class StaleWorker(FarmError):
    """A worker was asked to act for an incarnation of itself that died (Ray restarted it since)."""

    kind = "stale_worker"


KINDS: dict[str, type[FarmError]] = {
    cls.kind: cls for cls in (FarmError, LeaseLost, LeaseTimeout, UnknownScenario, UnknownTask, ScenarioUnavailable, WrongToken)
}


def from_kind(kind: object, message: str) -> FarmError:
    """The error of that `kind` (a gateway's `error` field); a kind we do not know is a `FarmError`."""
    return KINDS.get(kind if isinstance(kind, str) else "", FarmError)(message)


def plain(exc: BaseException) -> BaseException:
    """The farm's own error inside Ray's wrapping (`RayTaskError(ScenarioUnavailable)`, possibly
    wrapped twice: worker -> scheduler -> caller) as the plain class; anything else unchanged
    (a bug keeps Ray's traceback, which is what one needs to find it)."""
    inner = exc
    for _ in range(8):
        cause = getattr(inner, "cause", None)
        if cause is None or not type(inner).__module__.startswith("ray."):
            break
        inner = cause
    return inner if isinstance(inner, FarmError) else exc
