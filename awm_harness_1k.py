"""Drop-in name for the `awm-harness-1k` verifiers environment, served by awm-ray.

`vf.load_environment("awm-harness-1k", ...)` imports this module and calls `load_environment`.
"""

from awm_ray.env import load_environment

__all__ = ["load_environment"]
