"""The sql-mode judge: a task, the episode, and its verifier's evidence -> a verdict, by an LLM.

AWM's recommended mode ("code-augmented LLM-as-a-judge"): the generated `verify_task` returns
evidence read from both databases, and a judge model labels the episode `complete`, `incomplete`,
`server_error` (the environment failed the agent) or `agent_error` (the agent broke something or
gave up). The judge is any OpenAI-compatible chat-completions endpoint, called with the `openai`
client, at most `JudgeConfig.concurrency` requests at once per `Judge`.

```python
judge = Judge(JudgeConfig(model="gpt-4.1-mini", api_key_var="OPENAI_API_KEY"))
result = await judge.judge(task, messages, evidence, final_answer)
result.verdict   # "complete" | "incomplete" | "server_error" | "agent_error" | None
result.error     # why there is no verdict (the endpoint failed, the reply had no verdict), else None
```

A judge failure is never raised: it is recorded in the `JudgeResult` (and so per row).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awm_ray.config import JudgeConfig

log = logging.getLogger(__name__)

VERDICTS = ("complete", "incomplete", "server_error", "agent_error")
_SYNONYMS = {
    "complete": "complete", "completed": "complete", "success": "complete", "successful": "complete",
    "incomplete": "incomplete", "not complete": "incomplete", "not completed": "incomplete",
    "partial": "incomplete", "partially complete": "incomplete", "failed": "incomplete",
    "server error": "server_error", "server_error": "server_error", "environment error": "server_error",
    "agent error": "agent_error", "agent_error": "agent_error",
}  # fmt: skip
_KEYS = ("verdict", "label", "result", "classification", "status", "answer")
_WORD = r"(?<![A-Za-z_])({})(?![A-Za-z_])"
_LABEL_RE = re.compile(_WORD.format("|".join(sorted((re.escape(k) for k in _SYNONYMS), key=len, reverse=True))), re.I)
_LINE_RE = re.compile(r"^\W*(?:final\s+)?(?:verdict|label|classification|answer|result)\W*[:=-]\s*(.+)$", re.I | re.M)
_TRAJECTORY_CHARS = 12_000
_MESSAGE_CHARS = 1_500

SYSTEM_PROMPT = """You judge whether an AI agent completed a task in a web application it operated through API tools.
You get the task, the agent's trajectory (its tool calls, the responses, its final answer), and evidence that
verification code read from the application's database before and after the episode. Trust the evidence about
what changed in the database over the agent's own claims.

Answer with one JSON object and nothing else: {"verdict": "<label>", "reason": "<one sentence>"}, where <label> is
- "complete": the task was fully done (and a question was answered correctly);
- "incomplete": the task was not done, or only partly, or done wrongly;
- "server_error": the application failed (errors from the server, not the agent's fault) so the task could not be done;
- "agent_error": the agent made an error that broke the task (wrong records changed, gave up, invalid calls)."""


@dataclass(frozen=True)
class JudgeResult:
    """`verdict` (one of `VERDICTS`, or None), `reason` (the judge's), `error` (why no verdict),
    `ms` (wall-clock of the judge request, retries included), `raw` (the reply, capped)."""

    verdict: str | None
    reason: str | None = None
    error: str | None = None
    ms: float = 0.0
    raw: str | None = None


def parse_verdict(text: str | None) -> tuple[str | None, str | None]:
    """`(verdict, reason)` from a judge's reply: a JSON object with `verdict` (or `label`,
    `result`, ...), a "Verdict: X" line, or else exactly one label named in the text. Synonyms
    count ("completed", "not complete", "server error"); an ambiguous or empty reply gives None."""
    if not text or not text.strip():
        return None, None
    for candidate in _json_objects(text):
        for key in _KEYS:
            value = candidate.get(key)
            if isinstance(value, str) and (verdict := _label(value)) is not None:
                reason = candidate.get("reason") or candidate.get("explanation")
                return verdict, reason if isinstance(reason, str) else None
    lines = _LINE_RE.findall(text)
    for line in reversed(lines):
        if (verdict := _label(line)) is not None:
            return verdict, None
    found = {_SYNONYMS[m.lower()] for m in _LABEL_RE.findall(text)}
    return (found.pop(), None) if len(found) == 1 else (None, None)


def _label(value: str) -> str | None:
    value = value.strip().strip("\"'`*.").strip()
    exact = _SYNONYMS.get(value.lower().replace("-", " ").replace("_", " ")) or _SYNONYMS.get(value.lower())
    if exact:
        return exact
    found = {_SYNONYMS[m.lower()] for m in _LABEL_RE.findall(value)}
    return found.pop() if len(found) == 1 else None


def _json_objects(text: str) -> list[dict[str, Any]]:
    """JSON objects in `text`: the whole of it, a fenced block, or any balanced `{...}`."""
    decoder = json.JSONDecoder()
    out = []
    for start in [m.start() for m in re.finditer(r"\{", text)]:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def judge_prompt(task: str, trajectory: Sequence[Mapping[str, Any]] | str, evidence: Any, final_answer: str | None,
                 evidence_chars: int = 20_000) -> str:  # fmt: skip
    """The user message the judge reads: task, trajectory (capped), final answer, evidence (capped)."""
    steps = trajectory if isinstance(trajectory, str) else _render_trajectory(trajectory)
    if len(steps) > _TRAJECTORY_CHARS:
        steps = steps[: _TRAJECTORY_CHARS // 2] + "\n... [trajectory shortened] ...\n" + steps[-_TRAJECTORY_CHARS // 2 :]
    shown = evidence if isinstance(evidence, str) else json.dumps(evidence, ensure_ascii=False, indent=1, default=str)
    if len(shown) > evidence_chars:
        shown = shown[:evidence_chars] + f"... [truncated: {len(shown) - evidence_chars} more characters]"
    return (
        f"## Task\n{task}\n\n## Trajectory\n{steps or '(no tool calls)'}\n\n"
        f"## Final answer\n{final_answer or '(none)'}\n\n## Verification evidence (from the database)\n{shown}\n\n"
        'Reply with {"verdict": ..., "reason": ...}.'
    )


def _render_trajectory(messages: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for m in messages:
        role = m.get("role")
        if role in ("system", "user"):
            continue
        if role == "assistant":
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                lines.append(f"CALL {fn.get('name')}({_cap(str(fn.get('arguments')))})")
            if m.get("content"):
                lines.append(f"ASSISTANT: {_cap(_text(m.get('content')))}")
        elif role == "tool":
            lines.append(f"RESULT: {_cap(_text(m.get('content')))}")
    return "\n".join(lines)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, Mapping) else str(p) for p in content)
    return "" if content is None else str(content)


def _cap(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + " ..."


class Judge:
    """An LLM judge over one OpenAI-compatible endpoint; its client is built on first use."""

    def __init__(self, config: JudgeConfig, client: Any = None, evidence_chars: int = 20_000):
        if not config.model:
            raise ValueError("the sql-mode judge needs a model (--judge-model / verification.judge.model)")
        self.config = config
        self.evidence_chars = evidence_chars
        self._client = client
        self._limits: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._limits:
            self._limits = {loop: asyncio.Semaphore(self.config.concurrency)}  # one loop at a time
        return self._limits[loop]

    def client(self) -> Any:
        """The `openai.AsyncOpenAI` client (raises `RuntimeError` when its API key variable is unset)."""
        if self._client is None:
            import openai

            key = os.environ.get(self.config.api_key_var)
            if not key:
                raise RuntimeError(f"the judge's API key variable {self.config.api_key_var} is not set")
            self._client = openai.AsyncOpenAI(
                base_url=self.config.base_url, api_key=key, timeout=self.config.timeout_s,
                max_retries=self.config.max_retries,
            )  # fmt: skip
        return self._client

    async def judge(
        self,
        task: str,
        trajectory: Sequence[Mapping[str, Any]] | str,
        evidence: Any,
        final_answer: str | None = None,
    ) -> JudgeResult:
        """The judge's verdict on one episode; never raises for the judge's faults."""
        started = time.perf_counter()
        prompt = judge_prompt(task, trajectory, evidence, final_answer, self.evidence_chars)
        async with self._semaphore():
            try:
                reply = await self.client().chat.completions.create(
                    model=self.config.model,
                    messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
                    temperature=0,
                    max_tokens=self.config.max_tokens,
                )
            except Exception as exc:  # noqa: BLE001 - every failure of the judge is this row's judge_error
                ms = (time.perf_counter() - started) * 1000
                return JudgeResult(None, error=_error_text(exc), ms=ms)
        ms = (time.perf_counter() - started) * 1000
        try:
            text = reply.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError):
            return JudgeResult(None, error="the judge's reply has no message", ms=ms)
        verdict, reason = parse_verdict(text)
        raw = text if len(text) <= 500 else text[:500] + "..."
        if verdict is None:
            return JudgeResult(None, error=f"no verdict in the judge's reply: {raw[:200]!r}", ms=ms, raw=raw)
        return JudgeResult(verdict, reason, None, ms, raw)


def _error_text(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    message = str(getattr(exc, "message", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = f"HTTP {status}: " if status else ""
    return f"judge request failed ({type(exc).__name__}): {where}{message[:300]}"
