"""Batched evaluation on the cluster: whole episodes run next to the farm, the driver collects.

The driver plans rollouts (task × rollout index), skips those already in `results.jsonl`
(`resume`, only for the same run: `awm_ray.results`), and hands them to `EpisodeRunner` actors, one
per node, which lease a slot, talk to an OpenAI-compatible endpoint with the `openai` client, call
tools through the farm, and return one row per rollout. Rows are appended to `results.jsonl` as
they arrive and `summary.json` is rewritten as it goes, so a crash loses nothing that finished.

Nothing a model sends ends a run: replies are read leniently and histories replayed in a form
strict servers accept (`awm_ray.conversation`), text is made safe to write (`awm_ray.text`), and an
episode that fails ends with a stop reason from `STOP_REASONS` and an error named by its cause
(`awm_ray.outcomes`). One row may fail; the run goes on.

A row of `results.jsonl` (every key in every row, so `datasets.load_dataset("json", ...)` reads them):
`id` (`scenario#task/rollout`), `example_id`, `rollout`, `scenario`, `task_index`, `prompt`,
`targets`, `reward`, `metrics`, `tool_calls` (one per call: `tool`, `operation_id`, `status`, `error`,
`elapsed_ms`, `call_id`, `model_call_id`, `arguments` as the model sent them), `messages` (the whole
conversation as sent to the model, tool messages included, and its last reply), `usage`
(`prompt_tokens`, `completion_tokens`, `total_tokens`, and `turns`: the same per model turn),
`final_text`, `turns`, `stop`, `error`, `error_kind`, `retried`, `model`, `timings` (ms), and for
a scenario's own task (`--tasks native`) `task_kind` ("endpoint" | "native"), `verifier` (its mode)
and `verification` (`{mode, task_index, result | verdict, evidence (capped), error, message, ms}`,
None for endpoint tasks and for episodes that ended before they could be verified).

Native episodes are verified on the farm before release (`ep.verify`: the worker holding the slot
runs the task's verifier in its sandbox on the template and the live database); in sql mode the
judge (`awm_ray.verification.judge`) then reads the verifier's evidence after the release.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from awm_ray import rewards
from awm_ray.conversation import ModelReply, add_usage, load_body, parse_reply, wellformed
from awm_ray.farm.errors import LeaseLost
from awm_ray.outcomes import STOP_REASONS, Failure, classify
from awm_ray.results import Results, ResumeRefused, check_identity, check_planned, read_rows
from awm_ray.scenario import Scenario
from awm_ray.scenario.tasks import SYSTEM_PROMPT, native_scenario_tasks, scenario_tasks
from awm_ray.text import one_line

log = logging.getLogger(__name__)

__all__ = ["STOP_REASONS", "EvalSettings", "NothingToEvaluate", "ResumeRefused", "evaluate", "plan", "preflight",
           "run_episode"]


class NothingToEvaluate(ValueError):
    """The dataset and flags give no rollout to run; the message says what to run instead."""


@dataclass
class EvalSettings:
    """What to evaluate and how (the `awm-ray eval` flags).

    `sampling` goes into every chat-completions request (`temperature`, `max_tokens`, `top_p`, ...;
    keys the `openai` client does not know go into its `extra_body`). `request_timeout_s` bounds
    one model request; `max_concurrent_requests` bounds the model requests in flight over the whole
    run (None: as many as episodes). `dataset`/`split` say where the scenarios came from (for
    `--resume`); None takes them from the farm's config.
    """

    out_dir: Path
    model: str | None = None
    base_url: str | None = None
    api_key_var: str | None = None
    policy: str = "oracle"
    num_examples: int | None = None
    tasks_per_scenario: int = 1
    rollouts_per_example: int = 1
    concurrency: int = 8
    max_turns: int = 20
    seed: int = 0
    chain_length: int = 1
    resume: bool = False
    sampling: dict[str, Any] = field(default_factory=dict)
    request_timeout_s: float = 600.0
    max_concurrent_requests: int | None = None
    dataset: str | None = None
    split: str | None = None
    tasks: str = "endpoint"
    verifier: str = "code"
    include_degenerate: bool = False
    verification: dict[str, Any] = field(default_factory=dict)

    @property
    def native(self) -> bool:
        """The scenarios' own tasks, scored by their verifiers (`--tasks native`)."""
        return self.tasks == "native"

    @property
    def judge(self) -> dict[str, Any]:
        """The sql-mode judge's config (`JudgeConfig` fields; `model` None: no judge)."""
        return dict(self.verification.get("judge") or {})

    @property
    def label(self) -> str:
        if self.model:
            return f"model {self.model}"
        return f"harness check with the reference policy '{self.policy}' (not a model score)"

    @property
    def model_name(self) -> str:
        """The model the rows are played by (the reference policy's id when no model is given)."""
        from awm_ray.policy import model_id

        return self.model or model_id(self.policy)

    def identity(self) -> dict[str, Any]:
        """What makes a row mean what it means: a resumed run must match it (`awm_ray.results`)."""
        return {
            "model": self.model_name, "base_url": self.base_url if self.model else None,
            "policy": None if self.model else self.policy, "dataset": self.dataset, "split": self.split,
            "seed": self.seed, "tasks_per_scenario": self.tasks_per_scenario, "chain_length": self.chain_length,
            "max_turns": self.max_turns, "sampling": dict(sorted(self.sampling.items())),
            "tasks": self.tasks, "verifier": self.verifier if self.native else None,
            "judge_model": self.judge.get("model") if self.native and self.verifier == "sql" else None,
        }  # fmt: skip


def plan(scenarios: Iterable[Scenario], settings: EvalSettings, skipped: list[str]) -> Iterator[dict[str, Any]]:
    """Rollout records in a stable order: (scenario, task index, rollout index).

    Endpoint tasks are sampled from passed endpoints; native tasks are the scenario's own ones that
    have a verifier in `settings.verifier` mode (not those validate marked degenerate or broken,
    unless `include_degenerate`: `skipped_tasks` counts the ones left out).
    """
    examples = 0
    if settings.native:
        tasks_of: Iterator[tuple[Scenario, Any, list[Any]]] = native_scenario_tasks(
            scenarios, settings.tasks_per_scenario, settings.verifier, settings.include_degenerate, skipped
        )
    else:
        tasks_of = scenario_tasks(scenarios, settings.tasks_per_scenario, settings.seed, settings.chain_length, skipped)
    for scenario, _, tasks in tasks_of:
        for position, task in enumerate(tasks):
            if settings.num_examples is not None and examples >= settings.num_examples:
                return
            examples += 1
            index = task.index if settings.native else position
            prompt = task.task if settings.native else task.prompt
            for rollout in range(settings.rollouts_per_example):
                example_id = f"{scenario.name}#{index}"
                yield {"id": f"{example_id}/{rollout}", "example_id": example_id, "rollout": rollout,
                       "scenario": scenario.name, "task_index": index, "prompt": prompt,
                       "targets": list(task.targets), "task_kind": settings.tasks,
                       "verifier": settings.verifier if settings.native else None}  # fmt: skip


def empty_row(record: dict[str, Any], failure: Failure | None = None) -> dict[str, Any]:
    """A results row with nothing done yet (every key present, so all rows share one schema)."""
    metrics = rewards.score_episode(record.get("task_kind") or "endpoint", record["targets"], [])
    return {**record, "reward": metrics.pop("reward"), "metrics": metrics, "tool_calls": [], "messages": [],
            "verification": None,
            "usage": {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None, "turns": []},
            "final_text": None, "turns": 0, "stop": failure.stop if failure else None,
            "error": failure.error if failure else None, "error_kind": failure.kind if failure else None,
            "retried": False, "model": None,
            "timings": {"lease_ms": None, "model_ms": 0.0, "env_ms": 0.0, "verify_ms": None, "total_ms": None}}  # fmt: skip


class ModelEndpoint(Protocol):
    """What an episode talks to: one chat-completions request -> the response body (decoded JSON)."""

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any: ...


class ChatEndpoint:
    """An OpenAI-compatible chat-completions endpoint through the `openai` client.

    The body is read as it came (`with_raw_response`), so replies the SDK's types do not allow (a
    tool call without an id, no choices) reach `parse_reply` intact; HTTP errors raise the SDK's
    `openai.APIError`s. `gate` (an asyncio.Semaphore) bounds the requests in flight.
    """

    def __init__(self, client: Any, model: str, sampling: dict[str, Any] | None = None, gate: Any = None):
        self.client, self.model, self.gate = client, model, gate
        self.sampling, self.extra_body = _split_sampling(client, dict(sampling or {}))

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, **self.sampling}
        if tools:
            kwargs["tools"] = tools
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        if self.gate is None:
            response = await self.client.chat.completions.with_raw_response.create(**kwargs)
        else:
            async with self.gate:
                response = await self.client.chat.completions.with_raw_response.create(**kwargs)
        return load_body(response.content)


def _split_sampling(client: Any, sampling: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sampling keys the client's `create` takes, and the rest (sent in the request body as they are)."""
    try:
        known = set(inspect.signature(client.chat.completions.create).parameters)
    except (AttributeError, TypeError, ValueError):
        return sampling, {}
    extra = dict(sampling.pop("extra_body", None) or {})
    for key in [k for k in sampling if k not in known]:
        extra[key] = sampling.pop(key)
    return sampling, extra


async def run_episode(farm: Any, endpoint: ModelEndpoint, record: dict[str, Any], max_turns: int,
                      judge: Any = None) -> dict[str, Any]:  # fmt: skip
    """Play one rollout: lease, converse with the model, call tools, (native: verify,) release. Never raises.

    The row's `stop` is one of `STOP_REASONS`; a lease lost mid-episode is retried once on a
    fresh lease (`retried`), with a fresh conversation. `judge`: the sql-mode `Judge` (None: sql
    rows get the verifier's evidence and a `judge_error`, no verdict).
    """
    started = time.perf_counter()
    row = empty_row(record)
    for attempt in (0, 1):
        episode = _EpisodeLoop(record, row)
        try:
            await episode.play(farm, endpoint, max_turns, judge)
        except LeaseLost as exc:
            episode.fail(classify(exc))
            if attempt == 0:
                row["retried"] = True
                continue
        except Exception as exc:  # noqa: BLE001 - one row may fail; the run goes on
            failure = classify(exc)
            if failure.stop == "internal_error":
                log.exception("episode %s failed", record["id"])
            episode.fail(failure)
        finally:
            episode.finish()
        break
    row["timings"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row["timings"].items()}
    row["timings"]["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return row


class _EpisodeLoop:
    """One attempt at a rollout, writing into its row."""

    def __init__(self, record: dict[str, Any], row: dict[str, Any]):
        self.record, self.row = record, row
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT},
                                               {"role": "user", "content": record["prompt"]}]  # fmt: skip
        self.calls: list[dict[str, Any]] = []
        self.usage: dict[str, Any] = {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None, "turns": []}
        self.ids: set[str] = set()
        self.verification: Any = None  # a Verification, once the episode is verified
        row.update(stop=None, error=None, error_kind=None, final_text=None, turns=0)
        row["timings"].update(model_ms=0.0, env_ms=0.0, lease_ms=None, verify_ms=None)

    async def play(self, farm: Any, endpoint: ModelEndpoint, max_turns: int, judge: Any) -> None:
        """Converse on a lease, verify what the episode did (native tasks) even when the conversation
        failed, release, then judge (sql mode); a failed conversation is raised last."""
        timings = self.row["timings"]
        t = time.perf_counter()
        failed: Exception | None = None
        async with farm.lease(self.record["scenario"]) as episode:
            timings["lease_ms"] = (time.perf_counter() - t) * 1000
            try:
                await self._converse(episode, endpoint, max_turns)
            except LeaseLost:
                raise
            except Exception as exc:  # noqa: BLE001 - the episode ended badly; what it did is still verified
                failed = exc
            if self.record.get("task_kind") == "native":
                t = time.perf_counter()
                self.verification = await episode.verify(self.record["task_index"], self.row["final_text"],
                                                         self.record["verifier"])  # fmt: skip
                timings["verify_ms"] = (time.perf_counter() - t) * 1000
        await self.judge(judge)  # never raises: the judge's faults are the row's judge_error
        if failed is not None:
            raise failed

    async def _converse(self, episode: Any, endpoint: ModelEndpoint, max_turns: int) -> None:
        row, timings = self.row, self.row["timings"]
        tools = [{"type": "function", "function": d} for d in episode.tools]
        row["stop"] = "max_turns"
        for turn in range(1, max_turns + 1):
            row["turns"] = turn
            t = time.perf_counter()
            body = await endpoint.complete(wellformed(self.messages), tools)
            timings["model_ms"] += (time.perf_counter() - t) * 1000
            reply = parse_reply(body, self.ids, turn)
            self._count(reply)
            if reply.message is not None:
                self.messages.append(reply.message)
            if reply.outcome is not None:
                self._model_outcome(reply)
                return
            if not reply.tool_calls:
                row["stop"], row["final_text"] = "no_tool_calls", reply.text
                return
            for call in reply.tool_calls:  # in the order the model sent them
                t = time.perf_counter()
                result = await episode.call(call.name, call.arguments)
                timings["env_ms"] += (time.perf_counter() - t) * 1000
                self.calls.append({**result.to_dict(), "call_id": call.id, "model_call_id": call.model_id,
                                   "arguments": call.arguments})  # fmt: skip
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": result.text})

    async def judge(self, judge: Any) -> None:
        """Sql mode, after the release: the judge's verdict from the verifier's evidence."""
        v = self.verification
        if v is None or v.mode != "sql" or v.error is not None:
            return
        if judge is None:
            v.judge_error = "no judge configured (--judge-model / verification.judge.model): sql mode needs one"
            return
        result = await judge.judge(self.record["prompt"], self.messages, v.evidence, self.row["final_text"])
        v.verdict, v.judge_error, v.judge_ms = result.verdict, result.error, result.ms
        if result.reason:
            v.extra["judge_reason"] = result.reason

    def fail(self, failure: Failure) -> None:
        self.row.update(stop=failure.stop, error=failure.error, error_kind=failure.kind)

    def finish(self) -> None:
        kind = self.record.get("task_kind") or "endpoint"
        metrics = rewards.score_episode(kind, self.record["targets"], self.calls, self.verification)
        verification = None if self.verification is None else self.verification.to_dict()
        self.row.update(reward=metrics.pop("reward"), metrics=metrics, tool_calls=self.calls,
                        messages=_row_messages(self.messages), usage=self.usage, verification=verification)  # fmt: skip

    def _count(self, reply: ModelReply) -> None:
        turn_usage = dict(reply.usage or {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None})
        self.usage["turns"].append(turn_usage)
        add_usage(self.usage, reply.usage)

    def _model_outcome(self, reply: ModelReply) -> None:
        self.row["stop"] = reply.outcome
        self.row["final_text"] = reply.text if reply.refusal is None else reply.refusal
        if reply.outcome == "model_empty":
            self.row.update(error=f"model_empty: {reply.detail}", error_kind="model_empty")


def _row_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as sent, every message with the same keys (Arrow needs one schema per column)."""
    out = []
    for m in wellformed(messages):
        calls = m.get("tool_calls")
        out.append({"role": m.get("role"), "content": m.get("content"), "tool_calls": calls or None,
                    "tool_call_id": m.get("tool_call_id")})  # fmt: skip
    return out


class EpisodeRunner:
    """A Ray actor that plays many episodes at once against one model endpoint.

    `verification`: the `VerificationConfig` of native episodes (limits, judge); `judge_api_key`:
    the judge's key, read by the driver; `solutions`: `SolutionBook.to_json()` the reference
    policy's oracle plays for scenarios' own tasks.
    """

    def __init__(self, farm_config: dict, model: str | None, base_url: str | None, api_key: str | None,
                 policy: str, seed: int, max_turns: int, sampling: dict[str, Any],
                 request_timeout_s: float = 600.0, max_requests: int | None = None,
                 verification: dict[str, Any] | None = None, judge_api_key: str | None = None,
                 solutions: list[dict[str, Any]] | None = None):  # fmt: skip
        from openai import AsyncOpenAI

        from awm_ray.config import Config
        from awm_ray.farm import Farm

        self._policy_server = None
        if model is None:
            from awm_ray.policy import PolicyServer, SolutionBook, model_id

            book = SolutionBook.from_json(solutions) if solutions else None
            self._policy_server = PolicyServer(policy, seed=seed, solutions=book)
            self._policy_server.__enter__()
            base_url, model, api_key = self._policy_server.base_url, model_id(policy), "unused"
        self.model = model
        self.client = AsyncOpenAI(base_url=base_url, api_key=api_key or "unset", max_retries=2, timeout=request_timeout_s)
        gate = asyncio.Semaphore(max_requests) if max_requests else None
        self.endpoint = ChatEndpoint(self.client, model, sampling, gate)
        config = Config(farm=farm_config, verification=verification or {})
        self.farm = Farm.connect(None, config)
        self.max_turns = max_turns
        self.judge = None
        if config.verification.judge.model:
            from awm_ray.verification.judge import Judge

            judge = config.verification.judge
            client = AsyncOpenAI(base_url=judge.base_url, api_key=judge_api_key or "unset", timeout=judge.timeout_s,
                                 max_retries=judge.max_retries)  # fmt: skip
            self.judge = Judge(judge, client, config.verification.evidence_chars)

    async def run(self, record: dict[str, Any]) -> dict[str, Any]:
        row = await run_episode(self.farm, self.endpoint, record, self.max_turns, self.judge)
        row["model"] = self.model
        return row

    async def close(self) -> None:
        await self.farm.release_all()  # whatever a cancelled episode still held or awaited
        await self.client.close()
        if self.judge is not None:
            await self.judge.client().close()
        if self._policy_server is not None:
            self._policy_server.__exit__(None, None, None)
            self._policy_server = None


def evaluate(scenarios: Iterable[Scenario], settings: EvalSettings, farm: Any,
             progress: Callable[[int, int, dict[str, Any] | None], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run every planned rollout not yet in `results.jsonl` on the farm; returns the summary.

    Raises `NothingToEvaluate` when the scenarios give no task, `ResumeRefused` when `resume`
    would continue a different run, `FileExistsError` when results exist and `resume` is off.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    scenarios = list(scenarios)
    data = getattr(getattr(farm, "config", None), "data", None)
    if settings.dataset is None and data is not None:
        settings.dataset, settings.split = data.dataset, data.split
    planned, skipped = preflight(scenarios, settings)
    if skipped:
        log.warning("%d scenario(s) without tasks: %s", len(skipped), "; ".join(skipped[:3]))
    left_out = skipped_tasks(scenarios, settings)
    if left_out:
        log.warning("%s", skipped_tasks_warning(left_out, settings))
    api_key = os.environ.get(settings.api_key_var) if settings.api_key_var else None
    if settings.model and settings.api_key_var and api_key is None:
        raise ValueError(f"environment variable {settings.api_key_var} (--api-key-var) is not set")
    judge_api_key, solutions = None, None
    if settings.native:
        judge_api_key = _judge_key(settings)
        if not settings.model:
            from awm_ray.policy import SolutionBook

            solutions = SolutionBook.from_scenarios(scenarios).to_json()
    results = Results(settings.out_dir, settings.identity(), settings.resume, settings.label, _describe(settings),
                      planned={r["id"] for r in planned})
    todo = [r for r in planned if r["id"] not in results.done]
    max_requests = settings.max_concurrent_requests
    runners: list[Any] = []
    in_flight: dict[Any, dict[str, Any]] = {}
    queue = collections.deque(todo)
    finished = 0
    try:
        if progress:
            progress(0, len(todo), None)
        nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
        nodes = nodes[: max(1, min(len(todo), settings.concurrency, max_requests or settings.concurrency))]
        for i, node in enumerate(nodes if todo else []):  # the model requests split so that they add up to the bound
            share = max_requests // len(nodes) + (i < max_requests % len(nodes)) if max_requests else None
            runners.append(ray.remote(EpisodeRunner).options(
                num_cpus=0, max_concurrency=max(1, settings.concurrency),
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True),
            ).remote(farm.config.farm.model_dump(mode="json"), settings.model, settings.base_url, api_key,
                     settings.policy, settings.seed, settings.max_turns, settings.sampling, settings.request_timeout_s,
                     share, settings.verification, judge_api_key, solutions))  # fmt: skip
        while queue or in_flight:
            while queue and len(in_flight) < settings.concurrency:
                record = queue.popleft()
                runner = runners[len(in_flight) % len(runners)]
                in_flight[runner.run.remote(record)] = record
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=5.0)
            for ref in ready:
                record = in_flight.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the runner died: record it, keep going
                    failure = classify(exc)
                    row = empty_row(record, Failure("internal_error", failure.kind, f"episode runner: {failure.error}"))
                    row["model"] = settings.model_name
                results.add(row)
                finished += 1
                if progress:
                    try:
                        progress(finished, len(todo), row)
                    except Exception as exc:  # noqa: BLE001 - a display fault must not end the run
                        log.warning("progress display failed: %s", one_line(exc))
    finally:
        try:
            for ref in in_flight:
                ray.cancel(ref)
            for runner in runners:
                try:
                    ray.get(runner.close.remote(), timeout=30)
                except ray.exceptions.RayError as exc:
                    log.debug("closing a runner: %s", exc)
                ray.kill(runner)
        finally:  # whatever the teardown raised: the rows are summed up and --out is unlocked
            summary = results.close()
    summary["skipped_scenarios"] = skipped
    summary["skipped_tasks"] = left_out
    return summary


def skipped_tasks(scenarios: Iterable[Scenario], settings: EvalSettings) -> dict[str, int]:
    """Native runs: the scenarios' own tasks the plan leaves out, by reason (empty for endpoint runs)."""
    if not settings.native:
        return {}
    counts: dict[str, int] = {}
    for _ in native_scenario_tasks(scenarios, None, settings.verifier, settings.include_degenerate, [], counts):
        pass
    return counts


def skipped_tasks_warning(counts: dict[str, int], settings: EvalSettings) -> str:
    """"skipping 3 degenerate and 1 broken task(s) (--include-degenerate keeps them); 7 have no code verifier"."""
    parts = []
    bad = [f"{counts[k]} {k}" for k in ("degenerate", "broken") if counts.get(k)]
    if bad:
        parts.append(f"skipping {' and '.join(bad)} task(s) (awm-ray validate marked them; --include-degenerate "
                     "keeps them)")  # fmt: skip
    if counts.get("no_verifier"):
        parts.append(f"{counts['no_verifier']} task(s) have no {settings.verifier} verifier")
    return "; ".join(parts)


def _judge_key(settings: EvalSettings) -> str | None:
    """The sql-mode judge's API key, from its variable (None when there is no judge or no variable)."""
    judge = settings.judge
    if settings.verifier != "sql" or not judge.get("model") or not judge.get("api_key_var"):
        return None
    return os.environ.get(judge["api_key_var"])


RESERVED_SAMPLING = {
    "model": "use --model", "messages": "the episode builds the conversation", "tools": "the scenario gives the tools",
    "functions": "the scenario gives the tools", "stream": "replies are read whole", "stream_options": "replies are read whole",
    "n": "an episode follows one reply per turn",
}  # fmt: skip
"""Request fields the episode loop owns; `sampling` may not set them (they would replace the episode's own)."""


def check_sampling(sampling: dict[str, Any]) -> None:
    """Raises `ValueError` naming a reserved field (`RESERVED_SAMPLING`) that `sampling` sets."""
    for key in sampling:
        if key in RESERVED_SAMPLING:
            raise ValueError(f"--sampling-args may not set {key!r} ({RESERVED_SAMPLING[key]})")


def check_native(settings: EvalSettings) -> None:
    """A native run's settings, before anything starts: raises `ValueError` saying what to pass."""
    if settings.tasks not in rewards.TASK_KINDS:
        raise ValueError(f"--tasks must be one of {', '.join(rewards.TASK_KINDS)}, not {settings.tasks!r}")
    if not settings.native:
        return
    if settings.chain_length != 1:
        raise ValueError("--chain-length applies to endpoint tasks only; a scenario's own tasks are played as they are")
    if settings.verifier == "sql":
        judge = settings.judge
        if not judge.get("model"):
            raise ValueError("--verifier sql needs a judge: pass --judge-model (and --judge-base-url, "
                             "--judge-api-key-var), or use --verifier code")  # fmt: skip
        var = judge.get("api_key_var")
        if var and not os.environ.get(var):
            raise ValueError(f"environment variable {var} (--judge-api-key-var) is not set")


def preflight(scenarios: Iterable[Scenario], settings: EvalSettings) -> tuple[list[dict[str, Any]], list[str]]:
    """The rollouts a run plans and the scenarios it skips (with why), checked before anything starts.

    Raises `NothingToEvaluate` (no rollout to run), `ResumeRefused` (`resume` of a different run,
    or of rows whose tasks differ from this run's), `FileExistsError` (results exist, no `resume`).
    """
    check_sampling(settings.sampling)
    check_native(settings)
    skipped: list[str] = []
    scenarios = list(scenarios)
    planned = list(plan(scenarios, settings, skipped))
    if not planned:
        raise NothingToEvaluate(nothing_to_evaluate(scenarios, skipped, settings.dataset, settings.native))
    results_path = Path(settings.out_dir) / "results.jsonl"
    if settings.resume:
        rows = read_rows(results_path, {r["id"] for r in planned}).rows
        check_identity(Path(settings.out_dir), settings.identity(), rows)
        check_planned(rows, planned, results_path)
    elif results_path.exists() and results_path.stat().st_size:
        raise FileExistsError(f"{results_path} exists: pass --resume to continue it, or another --out")
    return planned, skipped


def nothing_to_evaluate(scenarios: list[Scenario], skipped: list[str], dataset: str | None, native: bool = False) -> str:
    """Why no rollout could be planned, and what to run."""
    where = f"--dataset {dataset}" if dataset else "the dataset"
    if not scenarios:
        return f"nothing to evaluate: no scenario was loaded from {where} (check --dataset, --filter, --max-scenarios)"
    reasons = "; ".join(skipped[:3]) + (f"; ... {len(skipped) - 3} more" if len(skipped) > 3 else "")
    if native:
        return (
            f"nothing to evaluate: none of the {len(scenarios)} scenario(s) has a task of its own to play ({reasons}). "
            "Native tasks come from the dataset's tasks and verifiers (AWM-1K gen_tasks.jsonl and gen_verifier*.jsonl, "
            "or tasks/verifiers columns); try --verifier with the other mode, --include-degenerate, or --tasks endpoint"
        )
    return (
        f"nothing to evaluate: none of the {len(scenarios)} scenario(s) gave a task ({reasons}). Tasks come from "
        f"endpoints a val_report marks as passed: run `awm-ray validate {where} --write-dataset DIR`, then "
        "`awm-ray eval --dataset DIR ...`"
    )


def _describe(settings: EvalSettings) -> dict[str, Any]:
    out = {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.__dict__.items()}
    out.pop("resume", None)
    return out
