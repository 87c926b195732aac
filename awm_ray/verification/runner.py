"""Run a task's generated verifier in the sandbox and record what came of it.

```python
runner = VerifierRunner(VerificationConfig())
v = await runner.verify(task.verifier("code"), template_path, live_db_path, final_answer="Done.")
v.result      # "complete" | "others" (code mode), None on an error
v.evidence    # what the verifier returned (capped): the sql-mode judge reads it
v.error       # None, or one of VERIFIER_ERRORS; v.message says what happened
await runner.close()
```

Generated code is untrusted: it runs in a child of a pre-started sandbox process
(`awm_ray.hosting.sandbox`) with a wall-clock, CPU and memory limit, no network, no processes, a
minimal environment, its own temp dir, both databases read-only and no reads outside them
(`awm_ray.verification.job`). Whatever it does, `verify()` returns a `Verification`; it never raises
for the verifier's faults.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from awm_ray.config import VerificationConfig
from awm_ray.hosting.sandbox import Limits, Sandbox, SandboxError
from awm_ray.scenario import Scenario
from awm_ray.scenario.native import Verifier

log = logging.getLogger(__name__)

JOB = "awm_ray.verification.job:run"
# what `Verification.error` may be
VERIFIER_ERRORS = (
    "missing",  # the task has no verifier in this mode
    "compile",  # the code does not compile
    "missing_function",  # it compiles but defines no verify_task_completion / verify_task
    "raised",  # the verifier raised (sys.exit included)
    "bad_result",  # code mode: it returned something other than {"result": "complete" | "others"}
    "timeout",  # wall-clock or CPU limit
    "memory",  # memory limit
    "refused",  # the sandbox refused what it tried (processes, network, files outside its databases)
    "crashed",  # its process died without a result
    "sandbox",  # the sandbox itself could not run it
)
CODE_RESULTS = ("complete", "others")
_SANDBOX_ERRORS = {"timeout": "timeout", "cpu": "timeout", "memory": "memory", "crashed": "crashed",
                   "raised": "raised", "refused": "refused"}  # fmt: skip
_MESSAGE_CHARS = 2_000


@dataclass
class Verification:
    """What one verifier run gave.

    `mode`: "code" or "sql". `result`: code mode's verdict ("complete" | "others"), None otherwise.
    `verdict`: sql mode's verdict, set by the judge (`awm_ray.verification.judge`). `evidence`: the
    verifier's return value (JSON, capped to `VerificationConfig.evidence_chars` of JSON text; a
    capped value is a string ending "... [truncated: N more characters]"). `error`: None or one of
    `VERIFIER_ERRORS`; `judge_error`: why the judge gave no verdict. `ms`: wall-clock milliseconds
    of the run, sandbox round trip included.
    """

    mode: str
    task_index: int | None = None
    result: str | None = None
    verdict: str | None = None
    evidence: Any = None
    error: str | None = None
    message: str = ""
    ms: float = 0.0
    judge_error: str | None = None
    judge_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """The task was done: code mode's result, or sql mode's judge verdict, is "complete"."""
        return (self.verdict if self.mode == "sql" else self.result) == "complete"

    def to_dict(self) -> dict[str, Any]:
        """The row's `verification`: {mode, result | verdict, evidence, error, message, ms, ...}."""
        out: dict[str, Any] = {"mode": self.mode, "task_index": self.task_index}
        if self.mode == "sql":
            out["verdict"] = self.verdict
        else:
            out["result"] = self.result
        out.update(evidence=self.evidence, error=self.error, message=self.message or None, ms=round(self.ms, 3))
        if self.mode == "sql":
            out.update(judge_error=self.judge_error, judge_ms=None if self.judge_ms is None else round(self.judge_ms, 3))
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        known = {"mode", "task_index", "result", "verdict", "evidence", "error", "message", "ms", "judge_error", "judge_ms"}
        return cls(**{k: v for k, v in data.items() if k in known}, extra={k: v for k, v in data.items() if k not in known})


class VerifierRunner:
    """Runs verifiers in one sandbox (started on first use); one per owner (a worker, a validator)."""

    def __init__(self, config: VerificationConfig | None = None, sandbox: Sandbox | None = None):
        self.config = config or VerificationConfig()
        self._own_sandbox = sandbox is None
        self.sandbox = sandbox or Sandbox(
            preload=("json", "sqlite3", "re", "inspect", "tempfile", "urllib.parse", "awm_ray.verification.job"),
            max_jobs=self.config.max_concurrent,
        )
        self.limits = _limits(self.config)

    async def start(self) -> None:
        """Start the sandbox now (the first `verify()` does otherwise)."""
        await self.sandbox.start()

    async def verify(
        self,
        verifier: Verifier | None,
        initial_db: str | Path,
        final_db: str | Path,
        final_answer: str | None = None,
        mode: str | None = None,
        task_index: int | None = None,
        config: VerificationConfig | None = None,
    ) -> Verification:
        """Run `verifier` on (initial, final) databases; never raises for the verifier's faults.

        `verifier` None means the task has none in `mode` (error "missing"). `config`: limits and
        evidence cap for this run (default: the runner's). Raises nothing but `CancelledError`.
        """
        config = config or self.config
        limits = self.limits if config is self.config else _limits(config)
        mode = verifier.mode if verifier is not None else (mode or "code")
        if verifier is None:
            return Verification(mode, task_index, error="missing", message=f"the task has no {mode}-mode verifier")
        try:
            await self.sandbox.start()  # its first start (~1-3 s) is not the verifier's time
        except SandboxError as exc:
            log.error("verifier sandbox unavailable: %s", exc)
            return Verification(mode, task_index, error="sandbox", message=_cap_text(str(exc)))
        started = time.perf_counter()
        kwargs = {"code": verifier.code, "mode": verifier.mode, "initial_db_path": str(initial_db),
                  "final_db_path": str(final_db), "final_answer": final_answer}  # fmt: skip
        try:
            outcome = await self.sandbox.run(JOB, kwargs, limits)
        except SandboxError as exc:
            log.error("verifier sandbox unavailable: %s", exc)
            return Verification(mode, task_index, error="sandbox", message=_cap_text(str(exc)), ms=_ms(started))
        ms = _ms(started)
        if not outcome.ok:
            return Verification(
                mode, task_index, error=_SANDBOX_ERRORS.get(outcome.error or "", "crashed"),
                message=_cap_text(outcome.message), ms=ms,
            )  # fmt: skip
        value = outcome.value if isinstance(outcome.value, dict) else {}
        kind = value.get("outcome")
        if kind == "compile_error":
            return Verification(mode, task_index, error="compile", message=_cap_text(value.get("message", "")), ms=ms)
        if kind == "missing_function":
            return Verification(mode, task_index, error="missing_function", message=value.get("message", ""), ms=ms)
        returned = value.get("value")
        verification = Verification(mode, task_index, evidence=cap_evidence(returned, config.evidence_chars), ms=ms)
        if mode == "code":
            result = code_result(returned)
            if result is None:
                return replace(
                    verification, error="bad_result",
                    message=f"verify_task_completion returned {_preview(returned)}; expected "
                            '{"result": "complete"} or {"result": "others"}',
                )  # fmt: skip
            verification.result = result
        return verification

    async def verify_task(
        self,
        scenario: Scenario,
        task_index: int,
        initial_db: str | Path,
        final_db: str | Path,
        final_answer: str | None = None,
        mode: str = "code",
        config: VerificationConfig | None = None,
    ) -> Verification:
        """`verify()` with the scenario's own task `task_index`'s verifier in `mode`.

        Raises `KeyError` when the scenario has no such task, `ValueError` for an unknown mode.
        """
        task = scenario.task(task_index)
        return await self.verify(task.verifier(mode), initial_db, final_db, final_answer, mode, task_index, config)

    async def close(self) -> None:
        if self._own_sandbox:
            await self.sandbox.close()

    def close_now(self) -> None:
        if self._own_sandbox:
            self.sandbox.close_now()


def _limits(config: VerificationConfig) -> Limits:
    return Limits(wall_s=config.wall_s, cpu_s=config.cpu_s, memory_mb=config.memory_mb, network="none")


def code_result(value: Any) -> str | None:
    """Code mode's verdict from what the verifier returned: `{"result": "complete"|"others"}` (any
    case, surrounding spaces), or the bare string; None for anything else."""
    if isinstance(value, dict):
        value = value.get("result")
    if isinstance(value, str) and value.strip().lower() in CODE_RESULTS:
        return value.strip().lower()
    return None


def cap_evidence(value: Any, limit: int) -> Any:
    """`value` as is when its JSON fits in `limit` characters, else that JSON cut, as a string."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    if len(text) <= limit:
        return value
    return text[:limit] + f"... [truncated: {len(text) - limit} more characters]"


def _cap_text(text: str) -> str:
    text = text or ""
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS // 2] + " ... " + text[-_MESSAGE_CHARS // 2 :]


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:200] + "..."


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
