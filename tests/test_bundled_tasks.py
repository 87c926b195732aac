"""The bundled scenarios' own tasks (no Ray): each verifier says "others" on the untouched database,
"complete" after the reference solution's calls, and "others" after a spray of every tool."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from awm_ray.config import HostingConfig, VerificationConfig
from awm_ray.hosting import Slot, TemplateStore, make_backend
from awm_ray.loading import load_scenarios
from awm_ray.verification import VerifierRunner

SCENARIOS = {s.name: s for s in load_scenarios("bundled")}


@pytest.fixture(scope="module")
def host():
    loop = asyncio.new_event_loop()
    root = Path(tempfile.mkdtemp(prefix="awm-ray-test-tasks-"))
    backend = make_backend(HostingConfig(backend="inprocess"))
    templates = TemplateStore(root / "templates", backend)
    runner = VerifierRunner(VerificationConfig())
    loop.run_until_complete(runner.start())
    slots: dict[str, Slot] = {}

    async def episode(name: str, calls: list[tuple[str, dict]], task_index: int, answer: str | None) -> str:
        scenario = SCENARIOS[name]
        slot = slots.get(name)
        if slot is None:
            slot = slots[name] = await Slot(scenario, backend, await templates.get(scenario), root / name).start()
        await slot.reset()
        for tool, arguments in calls:
            await slot.call(tool, arguments)
        v = await runner.verify(scenario.task(task_index).verifier("code"), slot.template.path, slot.db_path, answer)
        assert v.error is None, v
        return v.result

    try:
        yield lambda *args: loop.run_until_complete(episode(*args))
    finally:
        for slot in slots.values():
            loop.run_until_complete(slot.close())
        loop.run_until_complete(runner.close())
        backend.close()
        loop.close()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


CASES = [(name, task.index) for name, s in sorted(SCENARIOS.items()) for task in s.tasks]


def test_every_bundled_scenario_has_tasks_with_a_verifier_and_a_solution():
    assert len(SCENARIOS) >= 4
    for scenario in SCENARIOS.values():
        assert len(scenario.tasks) >= 4, scenario.name
        tools = {t["name"] for t in scenario_tools(scenario)}
        for task in scenario.tasks:
            assert task.verifier("code") is not None and task.solution is not None
            assert task.targets and set(task.targets) <= tools, (scenario.name, task.index)


def scenario_tools(scenario):
    from awm_ray.scenario import tools_from_spec

    return tools_from_spec(scenario.spec).definitions()


@pytest.mark.parametrize(("name", "index"), CASES)
def test_untouched_solved_and_sprayed(host, name, index):
    task = SCENARIOS[name].task(index)
    solution = [(c.tool, dict(c.arguments)) for c in task.solution.calls]
    assert host(name, [], index, None) == "others"
    assert host(name, solution, index, task.solution.answer) == "complete"
    spray = [(t["name"], example_arguments(t)) for t in scenario_tools(SCENARIOS[name])]
    assert host(name, spray, index, "Done.") == "others"


def example_arguments(tool: dict) -> dict:
    props = tool["parameters"].get("properties") or {}
    return {k: v["examples"][0] for k, v in props.items() if v.get("examples")}
