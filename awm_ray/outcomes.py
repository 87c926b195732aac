"""How an episode ended: the closed set of stop reasons, and errors named by their own cause.

Shared by the evaluator (`results.jsonl` rows) and the verifiers environment (`state["awm"]`).
A row's `stop` is one of `STOP_REASONS`; when something failed, `error` is a single text that
starts with the cause's own name (`ScenarioUnavailable: scenario 'x' could not be started: ...`,
never Ray's `RayTaskError(...)` wrapping, a traceback or terminal colour codes) and `error_kind` is
that name, which summaries group by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from awm_ray.farm.errors import FarmError, LeaseLost, LeaseTimeout, ScenarioUnavailable, UnknownScenario
from awm_ray.text import clean, strip_ansi

STOP_REASONS: dict[str, str] = {
    "no_tool_calls": "the model answered without calling a tool: the episode's normal end",
    "max_turns": "the model was still calling tools when max_turns model turns were used up (in the verifiers "
    "environment also: its timeout_seconds or total completion token limit ran out)",
    "model_error": "the model endpoint failed: an HTTP error (e.g. 400 for a bad request), a timeout, a "
    "connection error, or a 2xx reply that is not a chat completion",
    "model_refusal": "the model refused: its reply carried `refusal` and no tool call",
    "model_truncated": "the model's reply was cut off at its token limit (finish_reason 'length'); tool calls "
    "in it were not run",
    "model_empty": "the model's reply had no choices, or neither text nor tool calls",
    "lease_lost": "the episode's slot was lost (lease expired, its server, worker or node died), on the retry too",
    "lease_timeout": "no slot of the scenario became free within farm.lease_timeout_s",
    "scenario_unavailable": "the scenario's app could not be started, or the farm does not know the scenario",
    "farm_error": "another error of the farm",
    "internal_error": "a fault of awm-ray itself, or the episode runner died (see `error`)",
}
MAX_ERROR_CHARS = 2000
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:\([\w.]+\))?: ")
_MODEL_EMPTY = ("EmptyModelResponseError", "InvalidModelResponseError")  # verifiers' names for such replies


@dataclass(frozen=True)
class Failure:
    """What ended an episode early: `stop` (one of `STOP_REASONS`), `kind` and `error` text."""

    stop: str
    kind: str
    error: str


def cause_of(exc: BaseException) -> BaseException:
    """The exception that really happened: Ray's task-error wrapping and verifiers' error wrappers removed."""
    return _chain(exc)[-1]


def classify(exc: BaseException) -> Failure:
    """The stop reason, kind and error text for an exception that ended an episode."""
    chain = _chain(exc)
    cause = chain[-1]
    kind = _kind(cause)
    if isinstance(cause, LeaseLost):
        stop = "lease_lost"
    elif isinstance(cause, LeaseTimeout):
        stop = "lease_timeout"
    elif isinstance(cause, (ScenarioUnavailable, UnknownScenario)):
        stop = "scenario_unavailable"
    elif isinstance(cause, FarmError):
        stop = "farm_error"
    elif kind in _MODEL_EMPTY:
        stop = "model_empty"
    elif _is_model_error(cause) or any(type(e).__name__ == "ModelError" for e in chain):
        stop = "model_error"  # verifiers' ModelError: the reply could not be had or read
    else:
        stop = "internal_error"
    return Failure(stop, kind, error_text(cause, kind))


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc`, then what each wrapper wraps (Ray's `cause`, verifiers' `__cause__`), the cause last."""
    chain = [exc]
    while len(chain) < 8:
        inner = getattr(exc, "cause", None)  # ray.exceptions.RayTaskError carries the task's own error
        if type(exc).__name__.startswith("RayTaskError") and isinstance(inner, BaseException):
            exc = inner
        elif _is_wrapper(exc) and isinstance(exc.__cause__, BaseException):
            exc = exc.__cause__
        else:
            break
        chain.append(exc)
    return chain


def error_text(exc: BaseException, kind: str | None = None) -> str:
    """`"<Kind>: <message>"`, without escape codes or lone surrogates, at most `MAX_ERROR_CHARS`."""
    kind = kind or _kind(exc)
    message = strip_ansi(clean(str(exc))).strip()
    if type(exc).__name__.startswith("RayTaskError") or message.startswith("ray::"):
        message = _last_exception_line(message)
    text = f"{kind}: {message}" if message else kind
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _kind(exc: BaseException) -> str:
    name = type(exc).__name__
    if name.startswith("RayTaskError(") and name.endswith(")"):
        return name[len("RayTaskError(") : -1]
    return name


def _is_wrapper(exc: BaseException) -> bool:
    """verifiers wraps the model client's errors (`ModelError`) and the farm's (our `FarmUnavailable`)."""
    return type(exc).__name__ in ("ModelError", "FarmUnavailable") and exc.__cause__ is not None


def _is_model_error(exc: BaseException) -> bool:
    from awm_ray.conversation import ReplyError

    if isinstance(exc, ReplyError):
        return True
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        return False
    if isinstance(exc, openai.OpenAIError):
        return True
    return type(exc).__name__ in ("ModelError", "OverlongPromptError")


def _last_exception_line(text: str) -> str:
    """The message of the `Name: message` line that ends a traceback (the cause), else the text."""
    lines = text.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if _EXCEPTION_LINE.match(lines[index]):
            return "\n".join(lines[index:]).split(": ", 1)[1].strip()
    return text
