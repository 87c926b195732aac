"""awm-ray: warm, resettable Agent World Model scenario servers for tool-use rollouts."""

from awm_ray.loading import DatasetUnavailable, load_scenarios
from awm_ray.scenario import Scenario, ScenarioError, Task, parse_scenario, sample_tasks

__version__ = "0.1.0"

__all__ = [
    "DatasetUnavailable",
    "Scenario",
    "ScenarioError",
    "Task",
    "load_scenarios",
    "parse_scenario",
    "sample_tasks",
]
