"""The verifiers 0.4 façade: `vf-eval awm-ray` plays AWM tasks whose tools are the rollout's own lease.

`import awm_ray` exports `AWMTaskset`, `AWMEnv` and `AWMHarness` when verifiers 0.4 is installed
(`awm_ray/__init__.py`); with 0.3 it exports `load_environment` (`awm_ray/env.py`) instead.

- `AWMTaskset` loads scenarios and samples endpoint tasks exactly as `load_environment` and
  `awm-ray eval` do (the scenarios' own, database-verified tasks are not served here yet: use
  `awm-ray eval --tasks native` or the 0.3 environment's `tasks="native"`); its config fields
  (`--env.taskset.<field>`) are the seed's arguments plus the farm's.
- `AWMEnv.start()` reaches the farm once per serving process (a local farm, a Ray address, or a
  gateway URL) and serves the leases of this process as MCP on a loopback port (`McpHost`).
- `AWMTask.setup()` leases a slot and points the rollout's one toolset at that lease's MCP URL,
  so the harness's MCP client sees exactly the lease's tools; every call goes through the farm
  and is recorded for the rewards.
- `AWMEnv.run()` releases the leases of every trace it minted in a `finally` (success, a failed
  rollout, Ctrl-C); a killed process leaves them to the farm's lease expiry.
- Rewards and metrics come from `awm_ray/rewards.py`, the code `awm-ray eval` scores with.
- `AWMHarness` is verifiers' `null` harness (a plain chat loop with MCP tools) and `AWMEnv`'s
  agent runs in the `subprocess` runtime by default: the lease's MCP URL is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
from typing import Any

import verifiers.v1 as vf
from pydantic import Field
from verifiers.v1.harnesses.null import NullHarness

from awm_ray import rewards
from awm_ray.config import Config, load_config
from awm_ray.farm.errors import FarmError
from awm_ray.hosting import CallResult
from awm_ray.loading import BUNDLED, DEFAULT_DATASET, load_scenarios
from awm_ray.scenario import Scenario, ScenarioError
from awm_ray.scenario.tasks import SYSTEM_PROMPT, scenario_tasks

log = logging.getLogger(__name__)


# ---- config and data ----------------------------------------------------------------------------


class AWMTasksetConfig(vf.TasksetConfig):
    """`--env.taskset.<field>`: the `awm-harness-1k` arguments with its defaults, plus the farm."""

    tasks_per_scenario: int = Field(1, ge=1)
    """Tasks sampled per scenario (seeded by `seed` and the scenario name)."""
    max_scenarios: int | None = Field(None, ge=1)
    """Load at most this many scenarios."""
    scenario_filter: str | list[str] | None = None
    """Scenario names or glob patterns (a list, or one comma-separated string)."""
    max_turns: int = Field(20, ge=1)
    """Model turns per rollout; the rollout stops after this many."""
    seed: int = 0
    """Seed of the task sampler."""
    include_llm_judge: bool = False
    """Add the monitor-only `llm_judge` metric (an OpenAI-compatible judge, built on first use)."""
    judge_model: str = "gpt-4.1-nano"
    """The judge's model."""
    judge_base_url: str | None = None
    """The judge's endpoint (None: the `openai` client's default); key from OPENAI_API_KEY."""
    dataset_name: str = DEFAULT_DATASET
    """A hub dataset, `bundled`, or a local file or directory (see the README's Layouts)."""
    split: str = "train"
    """Dataset split."""
    chain_length: int = Field(1, ge=1)
    """Endpoints chained in one task."""
    farm: str | None = None
    """None: start a local farm in each serving process; a Ray address ("auto", "ray://..."):
    join a running farm; an http(s) URL: lease through that farm's gateway."""
    farm_config: str | None = None
    """A configs/*.yaml file for the farm (hosting, farm sizes, timeouts)."""
    backend: str | None = None
    """Override `hosting.backend`: "inprocess" or "subprocess"."""


class AWMData(vf.TaskData):
    scenario: str
    """The scenario whose slot the rollout leases."""
    task_index: int
    """The task's index among the scenario's sampled tasks."""
    targets: list[str]
    """The operation ids the task asks for (what `endpoint_hit` checks)."""
    max_turns: int = 20
    """Model turns before the rollout stops."""
    judge_model: str | None = None
    """The `llm_judge` metric's model, when the taskset includes it."""
    judge_base_url: str | None = None
    """The `llm_judge` metric's endpoint."""


class AWMState(vf.State):
    lease_id: str | None = None
    """The rollout's lease on the farm (set as soon as it is granted)."""
    error: str | None = None
    """Why the rollout could not lease, if it could not."""


class LeaseTools(vf.Toolset):
    """The rollout's lease, reached at the MCP URL `AWMTask.setup` put in its config (never launched)."""

    TOOL_PREFIX = None  # the tools keep the scenario's names


# ---- the serving process: one farm connection, one MCP host ------------------------------------


class Serving:
    """What `AWMEnv.start()` opens once per serving process: the farm, and the MCP host of its leases."""

    def __init__(self, farm: Any, host: Any, owns_farm: bool):
        self.farm, self.host, self.owns_farm = farm, host, owns_farm
        self.calls: dict[str, list[dict[str, Any]]] = {}

    def record(self, lease_id: str, result: CallResult) -> None:
        record = result.to_dict()
        record["text"] = result.text
        self.calls.setdefault(lease_id, []).append(record)

    async def release(self, lease_id: str) -> None:
        self.calls.pop(lease_id, None)
        await self.host.release(lease_id)


_serving: Serving | None = None


def serving() -> Serving:
    if _serving is None:
        raise RuntimeError("the awm-ray farm is not connected in this process: AWMEnv.start() connects it")
    return _serving


def farm_config(config: AWMTasksetConfig) -> Config:
    settings = load_config(config.farm_config)
    if config.backend:
        settings.hosting.backend = config.backend  # type: ignore[assignment]
    return settings


def connect(target: str | None, settings: Config, scenarios: list[Scenario]) -> tuple[Any, bool]:
    """(a farm handle, whether we started it) for `target` (see `AWMTasksetConfig.farm`)."""
    from awm_ray.farm import Farm

    if target and target.startswith(("http://", "https://")):
        from awm_ray.farm.remote import RemoteFarm

        return RemoteFarm(target), False
    if target:
        farm = Farm.connect(target, settings)
        farm.add_scenarios(scenarios)
        return farm, False
    return Farm.start(settings, scenarios), True


# ---- tasks ---------------------------------------------------------------------------------------


class _RolloutToolsets:
    """`Task.toolsets`: verifiers calls it on the class (to plan tunnels) and on the rollout's task
    (after `setup`); on a task it points at that rollout's lease."""

    def __get__(self, task: AWMTask | None, owner: type) -> Any:
        def toolsets(_config: Any) -> list[vf.Toolset]:
            url = getattr(task, "mcp_url", None) or "http://127.0.0.1/unleased"  # a loopback URL: no tunnel
            return [LeaseTools(vf.ToolsetConfig(url=url))]

        return toolsets


class AWMTask(vf.Task[AWMData, AWMState, vf.TaskConfig]):
    toolsets = _RolloutToolsets()  # type: ignore[assignment]
    mcp_url: str | None = None

    @property
    def key(self) -> str:
        return f"{self.data.scenario}#{self.data.task_index}"

    async def setup(self, trace: vf.Trace, runtime: vf.Runtime) -> None:
        served = serving()
        try:
            episode = await served.farm.lease(self.data.scenario)
        except FarmError as exc:
            trace.state.error = f"{type(exc).__name__}: {exc}"
            raise vf.TaskError(f"no slot of {self.data.scenario}: {exc}") from exc
        trace.state.lease_id = episode.lease_id  # before any other await: the env's release finds it
        url, token = served.host.register(episode)
        served.calls[episode.lease_id] = []
        self.mcp_url = f"{url}?token={token}"

    def calls(self, trace: vf.Trace) -> list[dict[str, Any]]:
        lease_id = trace.state.lease_id
        return list(serving().calls.get(lease_id, [])) if lease_id and _serving is not None else []

    @vf.stop
    async def max_turns_reached(self, trace: vf.Trace) -> bool:
        return len(trace.assistant_messages) >= self.data.max_turns

    @vf.reward(weight=rewards.REWARD_WEIGHTS["endpoint_hit"])
    async def endpoint_hit(self, trace: vf.Trace) -> float:
        """1 when every target operation was called (any order), else 0."""
        return rewards.endpoint_hit(self.data.targets, self.calls(trace))

    @vf.metric
    async def tool_call_count(self, trace: vf.Trace) -> float:
        return float(len(self.calls(trace)))

    @vf.metric
    async def endpoint_success(self, trace: vf.Trace) -> float:
        """1 when every target was called and answered 2xx at least once."""
        return rewards.endpoint_success(self.data.targets, self.calls(trace))

    @vf.metric
    async def tool_error_count(self, trace: vf.Trace) -> float:
        """Calls that never reached the app (bad arguments, unknown tool, timeout) or answered >= 400."""
        return rewards.tool_error_count(self.calls(trace))


async def llm_judge(task: AWMData, trace: vf.Trace) -> float:
    """Monitor-only: an OpenAI-compatible judge asked whether the request was accomplished
    (plugged in by `include_llm_judge`; 0 when the judge cannot be reached)."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=task.judge_base_url, api_key=os.environ.get("OPENAI_API_KEY") or "unset")
    prompt = rewards.JUDGE_PROMPT.format(question=task.prompt_text, answer=", ".join(task.targets), response=trace.transcript)
    try:
        reply = await client.chat.completions.create(model=task.judge_model or "gpt-4.1-nano",
                                                     messages=[{"role": "user", "content": prompt}])  # fmt: skip
    except Exception as exc:
        log.warning("llm_judge failed: %s", exc)
        return 0.0
    finally:
        await client.close()
    return 1.0 if "yes" in (reply.choices[0].message.content or "").lower() else 0.0


# ---- taskset, env, harness -----------------------------------------------------------------------


class AWMTaskset(vf.Taskset[AWMTask, AWMTasksetConfig]):
    """AWM tasks of the configured scenarios, one per (scenario, sampled task)."""

    _scenarios: list[Scenario] | None = None

    def scenarios(self) -> list[Scenario]:
        if self._scenarios is None:
            c = self.config
            errors: list[ScenarioError] = []
            self._scenarios = list(load_scenarios(c.dataset_name or BUNDLED, c.split, c.max_scenarios, c.scenario_filter, errors))
            if errors:
                log.warning("%d scenario(s) skipped: %s", len(errors), "; ".join(map(str, errors[:3])))
        return self._scenarios

    def load(self):
        c = self.config
        task_config = c.task
        if c.include_llm_judge:
            task_config = task_config.model_copy(
                update={"metrics": {**task_config.metrics, "llm_judge": vf.DecoratedFunctionConfig(fn="awm_ray.taskset:llm_judge")}}
            )
        skipped: list[str] = []
        count = 0
        for scenario, _tools, tasks in scenario_tasks(self.scenarios(), c.tasks_per_scenario, c.seed, c.chain_length, skipped):
            for index, task in enumerate(tasks):
                count += 1
                data = AWMData(name=f"{scenario.name}#{index}", prompt=task.prompt, system_prompt=SYSTEM_PROMPT,
                               scenario=scenario.name, task_index=index, targets=list(task.targets),
                               max_turns=c.max_turns, judge_model=c.judge_model if c.include_llm_judge else None,
                               judge_base_url=c.judge_base_url)  # fmt: skip
                yield AWMTask(data, task_config)
        if not count:
            raise ValueError("no task could be built: " + "; ".join(skipped[:5]))


class AWMEnvConfig(vf.EnvConfig):
    agent: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())
    """The one seat; its harness runs beside the farm's MCP host (subprocess runtime by default)."""


class AWMEnv(vf.Env[AWMEnvConfig]):
    """One agent per task; the farm connected once per serving process; every lease released."""

    async def start(self) -> None:
        global _serving
        if _serving is not None:
            return
        from awm_ray.mcp import McpHost

        config: AWMTasksetConfig = self.taskset.config  # type: ignore[assignment]
        scenarios = self.taskset.scenarios() if not (config.farm or "").startswith("http") else []  # type: ignore[attr-defined]
        farm, owns = await asyncio.to_thread(connect, config.farm, farm_config(config), scenarios)
        served = Serving(farm, None, owns)
        served.host = McpHost(farm, on_call=served.record)
        try:
            await served.host.start()
        except BaseException:
            await _close_farm(farm, owns)
            raise
        _serving = served
        log.info("awm-ray: farm %s, MCP host %s", config.farm or "(local)", served.host.url)

    async def stop(self) -> None:
        global _serving
        served, _serving = _serving, None
        if served is None:
            return
        try:
            await served.host.stop()
        finally:
            await _close_farm(served.farm, served.owns_farm)

    async def run(self, task: vf.Task, agents: vf.Agents) -> None:
        minted: list[vf.Trace] = []
        task = copy.copy(task)  # this rollout's own: setup() points its toolset at its own lease
        try:
            await agents.agent.run(task, on_trace=minted.append)
        finally:
            await asyncio.shield(_release(minted))


async def _release(traces: list[vf.Trace]) -> None:
    if _serving is None:
        return
    for trace in traces:
        lease_id = getattr(trace.state, "lease_id", None)
        if lease_id:
            try:
                await _serving.release(lease_id)
            except Exception as exc:  # the farm expires it on its own
                log.warning("releasing lease %s failed: %s", lease_id, exc)


async def _close_farm(farm: Any, owns: bool) -> None:
    if hasattr(farm, "close"):
        await farm.close()
    else:
        await asyncio.to_thread(farm.shutdown)  # leaves a farm it joined running, stops one it started


class AWMHarness(NullHarness):
    """verifiers' `null` harness: a plain chat loop over the rollout's MCP tools."""


__all__ = ["AWMEnv", "AWMHarness", "AWMTaskset"]
