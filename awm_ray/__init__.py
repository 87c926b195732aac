"""awm-ray: warm, resettable Agent World Model scenario servers for tool-use rollouts.

The names below are imported on first use, so that importing a submodule imports only what it
needs (the verifier sandbox forks a process that imports `awm_ray.verification.job`, and keeps it
small this way).
"""

__version__ = "0.1.0"

_LAZY = {
    "DatasetUnavailable": "awm_ray.loading",
    "load_scenarios": "awm_ray.loading",
    "Scenario": "awm_ray.scenario",
    "ScenarioError": "awm_ray.scenario",
    "Task": "awm_ray.scenario",
    "parse_scenario": "awm_ray.scenario",
    "sample_tasks": "awm_ray.scenario",
    # `vf.load_environment("awm-ray")` looks up `awm_ray.load_environment`; importing verifiers is slow
    "load_environment": "awm_ray.env",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
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
