"""awm-ray: warm, resettable Agent World Model scenario servers for tool-use rollouts.

The names below are imported on first use, so that importing a submodule imports only what it
needs (the verifier sandbox forks a process that imports `awm_ray.verification.job`, and keeps it
small this way).

verifiers finds awm-ray by this module: with verifiers 0.3, `vf.load_environment("awm-ray")` calls
`load_environment` (`awm_ray/env.py`); with verifiers 0.4, `vf-eval awm-ray` loads the Taskset,
Env and Harness that `__all__` names (`awm_ray/taskset.py`). `__all__` names the façade of the
installed verifiers only.
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
    # `vf.load_environment("awm-ray")` (0.3) looks up `awm_ray.load_environment`
    "load_environment": "awm_ray.env",
    # `vf-eval awm-ray` (0.4) loads the Taskset, Env and Harness subclasses in `__all__`
    "AWMEnv": "awm_ray.taskset",
    "AWMHarness": "awm_ray.taskset",
    "AWMTaskset": "awm_ray.taskset",
}
_FACADES = {"0.3": ["load_environment"], "0.4": ["AWMEnv", "AWMHarness", "AWMTaskset"]}
_COMMON = ["DatasetUnavailable", "Scenario", "ScenarioError", "Task", "load_scenarios", "parse_scenario", "sample_tasks"]


def verifiers_major() -> str | None:
    """The installed verifiers' major version ("0.3", "0.4", ...), or None without verifiers."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return ".".join(version("verifiers").split(".")[:2])
    except PackageNotFoundError:
        return None


def __getattr__(name: str):
    if name == "__all__":
        return _COMMON + _FACADES.get(verifiers_major() or "", [])
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'awm_ray' has no attribute {name!r}")
