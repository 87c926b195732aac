"""Batched evaluation on the cluster: whole episodes run next to the farm, the driver collects.

The driver plans rollouts (task × rollout index), skips those already in `results.jsonl`
(`resume`), and hands them to `EpisodeRunner` actors, one per node, which lease a slot, talk to
an OpenAI-compatible endpoint with the `openai` client, call tools through the farm, and return
one row per rollout. Rows are appended to `results.jsonl` as they arrive and `summary.json` is
rewritten as it goes, so a crash loses nothing that finished.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awm_ray import rewards
from awm_ray.farm.errors import FarmError, LeaseLost
from awm_ray.scenario import Scenario
from awm_ray.scenario.tasks import SYSTEM_PROMPT, scenario_tasks

log = logging.getLogger(__name__)


@dataclass
class EvalSettings:
    """What to evaluate and how (the `awm-ray eval` flags)."""

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

    @property
    def label(self) -> str:
        if self.model:
            return f"model {self.model}"
        return f"harness check with the reference policy '{self.policy}' (not a model score)"


def plan(scenarios: Iterable[Scenario], settings: EvalSettings, skipped: list[str]) -> Iterator[dict[str, Any]]:
    """Rollout records in a stable order: (scenario, task index, rollout index)."""
    examples = 0
    tasks_of = scenario_tasks(scenarios, settings.tasks_per_scenario, settings.seed, settings.chain_length, skipped)
    for scenario, _, tasks in tasks_of:
        for index, task in enumerate(tasks):
            if settings.num_examples is not None and examples >= settings.num_examples:
                return
            examples += 1
            for rollout in range(settings.rollouts_per_example):
                example_id = f"{scenario.name}#{index}"
                yield {"id": f"{example_id}/{rollout}", "example_id": example_id, "rollout": rollout,
                       "scenario": scenario.name, "task_index": index, "prompt": task.prompt,
                       "targets": list(task.targets)}  # fmt: skip


def empty_row(record: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    """A results row with nothing done yet (every key present, so all rows share one schema)."""
    metrics = rewards.score(record["targets"], [])
    return {**record, "reward": metrics.pop("reward"), "metrics": metrics, "tool_calls": [], "final_text": None,
            "turns": 0, "stop": None, "error": error, "retried": False, "model": None,
            "timings": {"lease_ms": None, "model_ms": 0.0, "env_ms": 0.0, "total_ms": None}}  # fmt: skip


async def run_episode(farm: Any, client: Any, model: str, record: dict[str, Any], max_turns: int,
                      sampling: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Play one rollout: lease, converse with the model, call tools, release; never raises."""
    import openai

    started = time.perf_counter()
    row = empty_row(record)
    for attempt in (0, 1):
        calls: list[dict[str, Any]] = []
        timings = row["timings"]
        timings["model_ms"] = timings["env_ms"] = 0.0
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT},
                                          {"role": "user", "content": record["prompt"]}]  # fmt: skip
        try:
            t = time.perf_counter()
            async with farm.lease(record["scenario"]) as episode:
                timings["lease_ms"] = round((time.perf_counter() - t) * 1000, 3)
                tools = [{"type": "function", "function": d} for d in episode.tools]
                row["stop"] = "max_turns"
                for turn in range(1, max_turns + 1):
                    row["turns"] = turn
                    t = time.perf_counter()
                    response = await client.chat.completions.create(
                        model=model, messages=messages, tools=tools, **(sampling or {})
                    )
                    timings["model_ms"] += (time.perf_counter() - t) * 1000
                    message = response.choices[0].message
                    messages.append(message.model_dump(exclude_none=True))
                    if not message.tool_calls:
                        row["final_text"], row["stop"] = message.content, "no_tool_calls"
                        break
                    for tool_call in message.tool_calls:
                        t = time.perf_counter()
                        result = await episode.call(tool_call.function.name, tool_call.function.arguments)
                        timings["env_ms"] += (time.perf_counter() - t) * 1000
                        calls.append(result.to_dict())
                        messages.append({"role": "tool", "tool_call_id": tool_call.id, "content": result.text})
            row["error"] = None
            break
        except LeaseLost as exc:
            row["error"] = f"LeaseLost: {exc}"
            if attempt == 0:
                row["retried"] = True
                continue
        except FarmError as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
        except openai.OpenAIError as exc:
            row["error"] = f"model: {type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug must cost one row, not the run
            log.exception("episode %s failed", record["id"])
            row["error"] = f"internal: {type(exc).__name__}: {exc}"
        break
    metrics = rewards.score(record["targets"], calls)
    row.update(reward=metrics.pop("reward"), metrics=metrics, tool_calls=calls)
    row["timings"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row["timings"].items()}
    row["timings"]["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return row


class EpisodeRunner:
    """A Ray actor that plays many episodes at once against one model endpoint."""

    def __init__(self, farm_config: dict, model: str | None, base_url: str | None, api_key: str | None,
                 policy: str, seed: int, max_turns: int, sampling: dict[str, Any]):  # fmt: skip
        from openai import AsyncOpenAI

        from awm_ray.config import Config
        from awm_ray.farm import Farm

        self._policy_server = None
        if model is None:
            from awm_ray.policy import PolicyServer

            self._policy_server = PolicyServer(policy, seed=seed)
            self._policy_server.__enter__()
            base_url, model, api_key = self._policy_server.base_url, f"awm-ray-reference-{policy}", "unused"
        self.model = model
        self.client = AsyncOpenAI(base_url=base_url, api_key=api_key or "unset", max_retries=2, timeout=600)
        self.farm = Farm.connect(None, Config(farm=farm_config))
        self.max_turns = max_turns
        self.sampling = sampling

    async def run(self, record: dict[str, Any]) -> dict[str, Any]:
        row = await run_episode(self.farm, self.client, self.model, record, self.max_turns, self.sampling)
        row["model"] = self.model
        return row

    async def close(self) -> None:
        await self.farm.release_all()  # whatever a cancelled episode still held or awaited
        await self.client.close()
        if self._policy_server is not None:
            self._policy_server.__exit__(None, None, None)
            self._policy_server = None


class Results:
    """`results.jsonl` (append-only, one row per rollout) and `summary.json` (rewritten as it goes)."""

    def __init__(self, out_dir: Path, settings: EvalSettings, resume: bool):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.results_path = self.dir / "results.jsonl"
        self.summary_path = self.dir / "summary.json"
        self.settings = settings
        self.rows: list[dict[str, Any]] = []
        if resume:
            self.rows = self._read_existing()
        elif self.results_path.exists() and self.results_path.stat().st_size:
            raise FileExistsError(f"{self.results_path} exists: pass --resume to continue it, or another --out")
        self.done = {r["id"] for r in self.rows}
        self.resumed = len(self.rows)
        self._fh = open(self.results_path, "a", encoding="utf-8")
        self.started = time.monotonic()
        self._last_summary = 0.0

    def _read_existing(self) -> list[dict[str, Any]]:
        if not self.results_path.exists():
            return []
        rows, good_bytes = [], 0
        with open(self.results_path, "rb") as fh:
            for line in fh:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a line cut short by a crash: drop it and what follows
                good_bytes += len(line)
        with open(self.results_path, "r+b") as fh:
            fh.truncate(good_bytes)
        return rows

    def add(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        self.rows.append(row)
        if time.monotonic() - self._last_summary > 2.0:
            self.write_summary()

    def summary(self) -> dict[str, Any]:
        rows = self.rows
        by_scenario: dict[str, list[float]] = collections.defaultdict(list)
        by_endpoint: dict[str, list[float]] = collections.defaultdict(list)
        errors: collections.Counter[str] = collections.Counter()
        for r in rows:
            by_scenario[r["scenario"]].append(r["reward"])
            for target in r["targets"]:
                hit = any(c.get("operation_id") == target for c in r["tool_calls"])
                by_endpoint[target].append(1.0 if hit else 0.0)
            if r.get("error"):
                errors[r["error"].split(":")[0]] += 1
        elapsed = time.monotonic() - self.started
        new = len(rows) - self.resumed

        def mean(values: list[float]) -> float | None:
            return round(sum(values) / len(values), 4) if values else None

        return {
            "label": self.settings.label,
            "rollouts": len(rows),
            "mean_reward": mean([r["reward"] for r in rows]),
            "metrics": {k: mean([r["metrics"][k] for r in rows]) for k in rewards.REWARD_WEIGHTS},
            "errors": dict(errors),
            "error_rows": sum(1 for r in rows if r.get("error")),
            "retried": sum(1 for r in rows if r.get("retried")),
            "by_scenario": {k: {"n": len(v), "mean_reward": mean(v)} for k, v in sorted(by_scenario.items())},
            "by_endpoint": {k: {"n": len(v), "hit_rate": mean(v)} for k, v in sorted(by_endpoint.items())},
            "throughput": {"rollouts_this_run": new, "elapsed_s": round(elapsed, 2),
                           "rollouts_per_s": round(new / elapsed, 3) if elapsed > 0 else None},  # fmt: skip
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in self.settings.__dict__.items()},
        }

    def write_summary(self) -> dict[str, Any]:
        summary = self.summary()
        tmp = self.summary_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(summary, indent=1, ensure_ascii=False))
        tmp.replace(self.summary_path)
        self._last_summary = time.monotonic()
        return summary

    def close(self) -> dict[str, Any]:
        self._fh.close()
        return self.write_summary()


def evaluate(scenarios: Iterable[Scenario], settings: EvalSettings, farm: Any,
             progress: Callable[[int, int, dict[str, Any] | None], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run every planned rollout not yet in `results.jsonl` on the farm; returns the summary."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    skipped: list[str] = []
    results = Results(settings.out_dir, settings, settings.resume)
    todo = [r for r in plan(scenarios, settings, skipped) if r["id"] not in results.done]
    if skipped:
        log.warning("%d scenario(s) without tasks: %s", len(skipped), "; ".join(skipped[:3]))
    if progress:
        progress(0, len(todo), None)
    api_key = os.environ.get(settings.api_key_var) if settings.api_key_var else None
    if settings.model and settings.api_key_var and api_key is None:
        raise ValueError(f"environment variable {settings.api_key_var} (--api-key-var) is not set")
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    runners = [
        ray.remote(EpisodeRunner).options(
            num_cpus=0, max_concurrency=max(1, settings.concurrency),
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True),
        ).remote(farm.config.farm.model_dump(mode="json"), settings.model, settings.base_url, api_key,
                 settings.policy, settings.seed, settings.max_turns, settings.sampling)
        for node in nodes[: max(1, min(len(nodes), settings.concurrency))]
    ]  # fmt: skip
    in_flight: dict[Any, dict[str, Any]] = {}
    queue = collections.deque(todo)
    finished = 0
    try:
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
                    row = empty_row(record, f"runner: {type(exc).__name__}: {exc}"[:500])
                results.add(row)
                finished += 1
                if progress:
                    progress(finished, len(todo), row)
    finally:
        for ref in in_flight:
            ray.cancel(ref)
        for runner in runners:
            try:
                ray.get(runner.close.remote(), timeout=30)
            except ray.exceptions.RayError as exc:
                log.debug("closing a runner: %s", exc)
            ray.kill(runner)
        summary = results.close()
    summary["skipped_scenarios"] = skipped
    return summary
