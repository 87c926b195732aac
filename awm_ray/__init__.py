"""awm-ray: warm, resettable Agent World Model scenario servers for tool-use rollouts."""

from awm_ray.loading import DatasetUnavailable, load_scenarios
from awm_ray.scenario import Scenario, ScenarioError, Task, parse_scenario, sample_tasks

__version__ = "0.1.0"


def __getattr__(name: str):
    # `vf.load_environment("awm-ray")` looks up `awm_ray.load_environment`; importing verifiers is
    # slow, so it happens only then.
    if name == "load_environment":
        from awm_ray.env import load_environment

        return load_environment
    raise AttributeError(f"module 'awm_ray' has no attribute {name!r}")


__all__ = [
    "DatasetUnavailable",
    "Scenario",
    "ScenarioError",
    "Task",
    "load_environment",
    "load_scenarios",
    "parse_scenario",
    "sample_tasks",
]
