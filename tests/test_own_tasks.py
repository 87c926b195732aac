"""The own tasks of the bundled scenarios and of synthetic ones (no Ray): each verifier says "others"
on the untouched database, "complete" after the reference solution's calls, and "others" after a
spray of every tool with its example arguments."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest

from awm_ray.config import HostingConfig, VerificationConfig
from awm_ray.hosting import Slot, TemplateStore, make_backend
from awm_ray.loading import load_scenarios
from awm_ray.scenario import parse_scenario, tools_from_spec
from awm_ray.synthetic import generate_scenario
from awm_ray.verification import VerifierRunner

BUNDLED = {s.name: s for s in load_scenarios("bundled")}
SYNTHETIC = {s.name: s for s in (parse_scenario(generate_scenario(i, 11)) for i in range(4))}
SCENARIOS = {**BUNDLED, **SYNTHETIC}


@pytest.fixture(scope="module")
def host():
    """`host(name, calls, answers)`: a fresh slot of the scenario (reset), the calls made, then the
    code verdict of each task with its answer (`answers[index]`)."""
    loop = asyncio.new_event_loop()
    root = Path(tempfile.mkdtemp(prefix="awm-ray-test-tasks-"))
    backend = make_backend(HostingConfig(backend="inprocess"))
    templates = TemplateStore(root / "templates", backend)
    runner = VerifierRunner(VerificationConfig())
    loop.run_until_complete(runner.start())
    slots: dict[str, Slot] = {}

    async def episode(name: str, calls: list[tuple[str, dict]], answers: dict[int, str | None], ok: bool = False
                      ) -> dict[int, str]:  # fmt: skip
        scenario = SCENARIOS[name]
        slot = slots.get(name)
        if slot is None:
            slot = slots[name] = await Slot(scenario, backend, await templates.get(scenario), root / name).start()
        await slot.reset()
        for tool, arguments in calls:
            result = await slot.call(tool, arguments)
            assert result.ok or not ok, (name, tool, result.text[:300])  # a solution's calls all succeed
        verdicts = {}
        for index, answer in answers.items():
            verifier = scenario.task(index).verifier("code")
            v = await runner.verify(verifier, slot.template.path, slot.db_path, answer)
            assert v.error is None, v
            verdicts[index] = v.result
        return verdicts

    try:
        yield lambda *args: loop.run_until_complete(episode(*args))
    finally:
        for slot in slots.values():
            loop.run_until_complete(slot.close())
        loop.run_until_complete(runner.close())
        backend.close()
        loop.close()
        shutil.rmtree(root, ignore_errors=True)


def scenario_tools(scenario):
    return tools_from_spec(scenario.spec).definitions()


def test_every_bundled_and_synthetic_scenario_has_tasks_with_a_verifier_and_a_solution():
    assert len(BUNDLED) >= 4
    for scenario in SCENARIOS.values():
        assert len(scenario.tasks) >= (4 if scenario.name in BUNDLED else 3), scenario.name
        tools = {t["name"] for t in scenario_tools(scenario)}
        for task in scenario.tasks:
            assert task.verifier("code") is not None and task.solution is not None
            assert task.targets and set(task.targets) <= tools, (scenario.name, task.index)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_untouched_solved_and_sprayed(host, name):
    tasks = SCENARIOS[name].tasks
    assert host(name, [], {t.index: None for t in tasks}) == {t.index: "others" for t in tasks}
    for task in tasks:
        solution = [(c.tool, dict(c.arguments)) for c in task.solution.calls]
        assert host(name, solution, {task.index: task.solution.answer}, True) == {task.index: "complete"}
    spray = [(t["name"], example_arguments(t)) for t in scenario_tools(SCENARIOS[name])]
    assert host(name, spray, {t.index: "Done." for t in tasks}) == {t.index: "others" for t in tasks}


def example_arguments(tool: dict) -> dict:
    props = tool["parameters"].get("properties") or {}
    return {k: v["examples"][0] for k, v in props.items() if v.get("examples")}
