"""The verifiers environment: AWM tasks whose tool calls run on the farm.

`load_environment(...)` takes every argument of the `awm-harness-1k` environment (same defaults),
plus how to reach the farm and which tasks to play. Each rollout leases a clean slot of its scenario
in `setup_state`, sends its tool calls through the farm, and releases the slot in an idempotent
cleanup; the rubric reads only what the rollout copied into `state["awm"]`.

With `tasks="native"` the rows are the scenarios' own tasks: the cleanup verifies the episode on the
farm before it releases the slot (`ep.verify`, the task's verifier in the worker's sandbox), in sql
mode asks the judge, and the rubric scores `task_complete` (`awm_ray.rewards.score_native`, the
same scoring as `awm-ray eval`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterable
from typing import Any

import verifiers as vf
from datasets import Dataset

from awm_ray import rewards
from awm_ray.config import Config, load_config
from awm_ray.farm.errors import FarmError, LeaseLost
from awm_ray.env_wire import wellformed_client
from awm_ray.loading import BUNDLED, DEFAULT_DATASET, load_scenarios
from awm_ray.outcomes import cause_of, classify, error_text
from awm_ray.scenario import Scenario, ScenarioError
from awm_ray.scenario.tasks import SYSTEM_PROMPT, native_scenario_tasks, scenario_tasks
from awm_ray.text import one_line

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = SYSTEM_PROMPT
SEED_JUDGE_MODEL = "gpt-4.1-nano"  # the seed's default `judge_model`


class FarmUnavailable(vf.InfraError):
    """The rollout could not get (or lost) its slot on the farm."""


def build_dataset(
    scenarios: Iterable[Scenario],
    tasks_per_scenario: int,
    seed: int,
    chain_length: int = 1,
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
    skipped: list[str] | None = None,
    tasks: str = "endpoint",
    verifier: str = "code",
    include_degenerate: bool = False,
    skipped_tasks: dict[str, int] | None = None,
) -> Dataset:
    """One row per task: `prompt` messages and `info` (a JSON string, so rows keep their own tools).

    `tasks="native"`: the scenarios' own tasks with a `verifier`-mode verifier (those validate
    marked degenerate or broken left out unless `include_degenerate`; counted in `skipped_tasks`);
    `info` then also has `task_kind` and `verifier`, and `task_index` is the task's own index.
    """
    rows = []
    skipped = skipped if skipped is not None else []
    native = tasks == "native"
    if native:
        tasks_of: Any = native_scenario_tasks(scenarios, tasks_per_scenario, verifier, include_degenerate, skipped,
                                              skipped_tasks)  # fmt: skip
    else:
        tasks_of = scenario_tasks(scenarios, tasks_per_scenario, seed, chain_length, skipped)
    for scenario, tools, chosen in tasks_of:
        definitions = tools.definitions()
        for position, task in enumerate(chosen):
            text = task.task if native else task.prompt
            prompt = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
                {"role": "user", "content": text}
            ]
            info = {"scenario": scenario.name, "task_index": task.index if native else position,
                    "targets": list(task.targets), "tool_defs": definitions, "task_kind": tasks,
                    "verifier": verifier if native else None}  # fmt: skip
            rows.append({"prompt": prompt, "answer": "", "info": json.dumps(info)})
    if not rows:
        raise ValueError("no task could be built: " + "; ".join(skipped[:5]))
    return Dataset.from_list(rows)


class AWMEnv(vf.MultiTurnEnv):
    """Multi-turn tool use against scenario slots leased from the farm."""

    def __init__(self, farm_target: str | None, config: Config, scenarios: list[Scenario], judge: Any = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        self.farm_target = farm_target
        self.config = config
        self.judge = judge  # the sql-mode Judge of native tasks (None: no verdict, a judge_error)
        self._scenarios: list[Scenario] | None = scenarios
        self._farm: Any = None
        self._farm_lock = asyncio.Lock()
        self._owns_farm = False
        self._episodes: dict[str, Any] = {}

    async def farm(self) -> Any:
        """The farm, reached (or started) on first use, so loading the environment stays cheap."""
        async with self._farm_lock:
            if self._farm is None:
                self._farm = await asyncio.to_thread(self._connect)
        return self._farm

    def _connect(self) -> Any:
        from awm_ray.farm import Farm

        target = self.farm_target
        if target and target.startswith(("http://", "https://")):
            from awm_ray.farm.remote import RemoteFarm

            return RemoteFarm(target)
        if target:
            farm = Farm.connect(target, self.config)
            farm.add_scenarios(self._scenarios or [])
        else:
            farm = Farm.start(self.config, self._scenarios or [])
            self._owns_farm = True
        self._scenarios = None  # the farm holds them now
        return farm

    async def setup_state(self, state: vf.State) -> vf.State:
        info = state["info"]
        state["awm"] = {"scenario": info["scenario"], "targets": list(info["targets"]), "calls": [],
                        "lease_id": None, "stop": None, "error": None, "error_kind": None, "turns": [],
                        "usage": {}, "task_kind": info.get("task_kind") or "endpoint",
                        "task_index": info.get("task_index"), "verifier": info.get("verifier"),
                        "verification": None}  # fmt: skip
        try:
            episode = await (await self.farm()).lease(info["scenario"])
        except FarmError as exc:
            raise FarmUnavailable(error_text(cause_of(exc))) from exc
        self._episodes[state["trajectory_id"]] = episode
        state["awm"]["lease_id"] = episode.lease_id
        return state

    async def get_model_response(self, state: vf.State, prompt: vf.Messages, client: Any = None,
                                 **kwargs: Any) -> vf.Response:  # fmt: skip
        """The model's reply, over a history a strict server accepts (`awm_ray.env_wire`)."""
        client = client if client is not None else state["client"]
        awm = state.get("awm")
        if awm is not None:
            client = wellformed_client(client, awm)
        return await super().get_model_response(state, prompt, client=client, **kwargs)

    async def env_response(self, messages: vf.Messages, state: vf.State, **kwargs: Any) -> vf.Messages:
        episode = self._episodes.get(state["trajectory_id"])
        replies = []
        for call in getattr(messages[-1], "tool_calls", None) or []:  # in the order the model sent them
            if episode is None:
                raise FarmUnavailable(f"rollout {state['trajectory_id']} holds no lease")
            try:
                result = await episode.call(call.name, call.arguments)
            except LeaseLost as exc:
                raise FarmUnavailable(f"the environment was lost mid-episode: {error_text(exc)}") from exc
            record = {**result.to_dict(), "call_id": call.id, "arguments": call.arguments, "text": result.text}
            state["awm"]["calls"].append(record)
            log.debug("rollout %s: %s -> %s", state["trajectory_id"], one_line(call.name, 80), result.status)
            replies.append(vf.ToolMessage(tool_call_id=call.id, content=result.text))
        return replies

    @vf.stop
    async def no_tool_calls(self, state: vf.State) -> bool:
        """The model answered without calling a tool: the episode is over."""
        trajectory = state["trajectory"]
        if not trajectory:
            return False
        last = trajectory[-1]["completion"]
        last = last[-1] if isinstance(last, list) and last else last
        return not getattr(last, "tool_calls", None)

    @vf.stop(priority=50)
    async def model_stopped(self, state: vf.State) -> bool:
        """The model refused, or its reply was cut off at its token limit (its tool calls are not run)."""
        turns = (state.get("awm") or {}).get("turns") or []
        return bool(turns) and turns[-1].get("outcome") in ("model_refusal", "model_truncated")

    @vf.cleanup
    async def release_lease(self, state: vf.State) -> None:
        """Give the slot back and record how the rollout ended (runs before scoring; safe to run twice)."""
        awm = state.get("awm")
        if awm is not None:
            awm.update(rollout_outcome(state))
        episode = self._episodes.pop(state.get("trajectory_id"), None)
        if episode is None:
            return
        verification = None
        try:
            if awm is not None and awm.get("task_kind") == "native":
                verification = await self._verify(episode, state)
        finally:
            await episode.release()
        if verification is not None:
            await self._judge(verification, state)
            awm["verification"] = verification.to_dict()

    async def _verify(self, episode: Any, state: vf.State) -> Any:
        """The episode's verification before release; None when the lease is gone (recorded as its error)."""
        awm = state["awm"]
        try:
            return await episode.verify(awm["task_index"], final_text(state), awm["verifier"])
        except FarmError as exc:
            awm["verification_error"] = error_text(exc)
            log.warning("rollout %s could not be verified: %s", state.get("trajectory_id"), error_text(exc))
            return None

    async def _judge(self, verification: Any, state: vf.State) -> None:
        if verification.mode != "sql" or verification.error is not None:
            return
        if self.judge is None:
            verification.judge_error = "no judge configured (judge_model): sql mode needs one"
            return
        prompt = next((m.get("content") for m in state.get("prompt") or [] if _get(m, "role") == "user"), "")
        messages = [_as_dict(m) for m in (state.get("completion") or [])]
        result = await self.judge.judge(str(prompt or ""), messages, verification.evidence, final_text(state))
        verification.verdict, verification.judge_error, verification.judge_ms = result.verdict, result.error, result.ms

    @vf.teardown
    async def release_everything(self) -> None:
        episodes, self._episodes = list(self._episodes.values()), {}
        for episode in episodes:
            try:
                await episode.release()
            except Exception as exc:  # the farm may already be gone at exit
                log.debug("release at teardown failed: %s", exc)
        farm, self._farm = self._farm, None
        if farm is None:
            return
        if hasattr(farm, "close"):
            await farm.close()
        elif self._owns_farm:
            try:
                await asyncio.to_thread(farm.shutdown)
            except RuntimeError:  # at interpreter exit no thread can start: shut down here
                farm.shutdown()


def _get(message: Any, key: str) -> Any:
    return message.get(key) if isinstance(message, dict) else getattr(message, key, None)


def _as_dict(message: Any) -> dict[str, Any]:
    if isinstance(message, dict):
        return message
    dump = getattr(message, "model_dump", None)
    return dump() if callable(dump) else {"role": _get(message, "role"), "content": _get(message, "content")}


def final_text(state: vf.State) -> str | None:
    """The model's last reply text (its final answer), None when it had none."""
    completion = state.get("completion") or []
    for message in reversed(completion if isinstance(completion, list) else []):
        if _get(message, "role") == "assistant":
            content = _get(message, "content")
            if isinstance(content, list):
                content = "".join(_get(p, "text") or "" for p in content)
            return content or None
    return None


def rollout_outcome(state: vf.State) -> dict[str, Any]:
    """`stop` (one of `awm_ray.outcomes.STOP_REASONS`), `error` and `error_kind` of a finished rollout."""
    error = state.get("error")
    if error is not None:
        failure = classify(error)
        return {"stop": failure.stop, "error": failure.error, "error_kind": failure.kind}
    turns = (state.get("awm") or {}).get("turns") or []
    outcome = turns[-1].get("outcome") if turns else None
    condition = state.get("stop_condition")
    if outcome in ("model_refusal", "model_truncated"):
        stop = outcome
    elif condition == "no_tool_calls":
        stop = "no_tool_calls"
    elif condition in ("max_turns_reached", "max_total_completion_tokens_reached", "timeout_reached"):
        stop = "max_turns"
    elif condition == "prompt_too_long":
        return {"stop": "model_error", "error": "OverlongPromptError: the model server refused the prompt as too long",
                "error_kind": "OverlongPromptError"}  # fmt: skip
    else:
        return {"stop": "internal_error", "error": f"RolloutStopped: verifiers ended the rollout ({condition})",
                "error_kind": "RolloutStopped"}  # fmt: skip
    return {"stop": stop, "error": None, "error_kind": None}


# ---- rubric ---------------------------------------------------------------------------------


def _awm(state: vf.State) -> tuple[list[str], list[dict[str, Any]]]:
    awm = state.get("awm") or {}
    return awm.get("targets", []), awm.get("calls", [])


async def endpoint_hit(state: vf.State) -> float:
    """1 when every target operation was called (in any order), else 0."""
    return rewards.endpoint_hit(*_awm(state))


async def endpoint_success(state: vf.State) -> float:
    """1 when every target was called and answered 2xx at least once."""
    return rewards.endpoint_success(*_awm(state))


async def tool_call_count(state: vf.State) -> float:
    return float(len(_awm(state)[1]))


async def tool_error_count(state: vf.State) -> float:
    """Calls that never reached the app (bad arguments, unknown tool, timeout) or answered >= 400."""
    return rewards.tool_error_count(_awm(state)[1])


def make_llm_judge(judge_model: str, judge_base_url: str | None):
    """A monitor-only judge whose client is built on first use (a missing key must not break loading)."""
    rubric: list[Any] = []

    async def llm_judge(prompt: vf.Messages, completion: vf.Messages, state: vf.State) -> float:
        if not rubric:
            from openai import AsyncOpenAI

            client = AsyncOpenAI(base_url=judge_base_url, api_key=os.environ.get("OPENAI_API_KEY") or "unset")
            rubric.append(vf.JudgeRubric(judge_client=client, judge_model=judge_model, judge_prompt=rewards.JUDGE_PROMPT))
        answer = ", ".join(_awm(state)[0])
        try:
            verdict = await rubric[0].judge(prompt, completion, answer, state)
        except Exception as exc:
            log.warning("llm_judge failed: %s", exc)
            return 0.0
        return 1.0 if "yes" in str(verdict).lower() else 0.0

    return llm_judge


def make_rubric(include_llm_judge: bool, judge_model: str, judge_base_url: str | None, tasks: str = "endpoint") -> vf.Rubric:
    """Endpoint tasks: endpoint_hit (weight 1) and monitors. Native tasks: `rewards.reward_weights("native")`."""
    if tasks == "native":
        weights = rewards.reward_weights("native")
        funcs = [_native_metric(name) for name in weights]
        rubric = vf.Rubric(funcs=funcs, weights=list(weights.values()))
    else:
        rubric = vf.Rubric(funcs=[endpoint_hit, tool_call_count], weights=[1.0, 0.0])
        rubric.add_metric(endpoint_success)
        rubric.add_metric(tool_error_count)
    if include_llm_judge:
        rubric.add_metric(make_llm_judge(judge_model, judge_base_url))
    return rubric


def _native_metric(name: str):
    """A reward function reading metric `name` of `rewards.score_native` over the rollout's `awm`."""

    async def metric(state: vf.State) -> float:
        awm = state.get("awm") or {}
        scored = rewards.score_native(awm.get("targets", []), awm.get("calls", []), awm.get("verification"))
        return scored[name]

    metric.__name__ = name
    return metric


# ---- entry point ------------------------------------------------------------------------------


def load_environment(
    tasks_per_scenario: int = 1,
    max_scenarios: int | None = None,
    scenario_filter: str | list[str] | None = None,
    max_turns: int = 20,
    seed: int = 0,
    include_llm_judge: bool = False,
    judge_model: str = SEED_JUDGE_MODEL,
    judge_base_url: str | None = None,
    dataset_name: str = DEFAULT_DATASET,
    split: str = "train",
    chain_length: int = 1,
    farm: str | None = None,
    farm_config: str | dict | None = None,
    backend: str | None = None,
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
    tasks: str | None = None,
    verifier: str | None = None,
    include_degenerate: bool | None = None,
    judge_api_key_var: str | None = None,
    **kwargs: Any,
) -> AWMEnv:
    """AWM tool-use tasks served by an awm-ray farm.

    The first nine arguments are those of `awm-harness-1k`, with its defaults. `dataset_name`:
    a hub dataset, `"bundled"`, or a local path. `farm`: None starts a local farm on first use;
    a Ray address ("auto", "ray://...") joins a running one; an http(s) URL uses its gateway.
    `farm_config`: a YAML path or a dict in the `configs/*.yaml` shape.

    `tasks`: "endpoint" (the seed's tasks, rewarded by endpoint_hit) or "native" (the scenarios' own
    tasks, rewarded by task_complete from their verifiers); `verifier`: "code" or "sql" (sql mode's
    judge is `judge_model` at `judge_base_url`, its key in `judge_api_key_var`; at the seed's
    default `judge_model` a `verification.judge.model` in the config wins); `include_degenerate`
    keeps tasks validate marked degenerate or broken. None takes each from the config (`data.tasks`,
    `verification.*`).
    """
    if isinstance(farm_config, dict):
        config = Config.model_validate(farm_config)
    else:
        config = load_config(farm_config)
    if backend:
        config.hosting.backend = backend  # type: ignore[assignment]
    if tasks is not None:
        config.data.tasks = tasks  # type: ignore[assignment]
    if verifier is not None:
        config.verification.mode = verifier  # type: ignore[assignment]
    if include_degenerate is not None:
        config.verification.include_degenerate = include_degenerate
    config = Config.model_validate(config.model_dump())  # the overrides checked like the file
    kind, mode = config.data.tasks, config.verification.mode
    errors: list[ScenarioError] = []
    scenarios = list(load_scenarios(dataset_name or BUNDLED, split, max_scenarios, scenario_filter, errors))
    skipped: list[str] = [str(e) for e in errors]
    left_out: dict[str, int] = {}
    dataset = build_dataset(scenarios, tasks_per_scenario, seed, chain_length, system_prompt, skipped, kind, mode,
                            config.verification.include_degenerate, left_out)  # fmt: skip
    if skipped:
        log.warning("%d scenario(s) skipped: %s", len(skipped), "; ".join(skipped[:3]))
    if left_out:
        bad = [f"{left_out[k]} {k}" for k in ("degenerate", "broken") if left_out.get(k)]
        log.warning("tasks left out: %s%s", ", ".join(f"{n} {k}" for k, n in left_out.items()),
                    " (include_degenerate=True keeps the degenerate and broken ones)" if bad else "")  # fmt: skip
    judge = None
    if kind == "native" and mode == "sql":
        from awm_ray.verification.judge import Judge

        settings = config.verification.judge.model_copy(update={
            "model": config.verification.judge.model if judge_model == SEED_JUDGE_MODEL and
                     config.verification.judge.model else judge_model,
            "base_url": judge_base_url or config.verification.judge.base_url,
            "api_key_var": judge_api_key_var or config.verification.judge.api_key_var,
        })  # fmt: skip
        judge = Judge(settings, evidence_chars=config.verification.evidence_chars)  # its client is built on first use
    return AWMEnv(
        farm,
        config,
        scenarios,
        judge,
        dataset=dataset,
        eval_dataset=dataset,
        rubric=make_rubric(include_llm_judge, judge_model, judge_base_url, kind),
        max_turns=max_turns,
        **kwargs,
    )
