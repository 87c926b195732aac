"""Helpers for farm tests: a local Ray per module, farms with small configs, a healthy lease; the leak checks are `awm_ray.machine`'s."""

from __future__ import annotations

import pytest
import ray

from awm_ray.config import Config, load_config
from awm_ray.machine import listening_ports, serve_processes

__all__ = ["config", "listening_ports", "local_ray", "serve_processes", "still_serving"]


def config(backend: str = "inprocess", **farm: object) -> Config:
    overrides = {"hosting.backend": backend, "hosting.call_timeout_s": 10, "farm.heartbeat_s": 0.5}
    overrides.update({f"farm.{k}": v for k, v in farm.items()})
    return load_config(None, overrides)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray for one test module (`pytestmark = pytest.mark.usefixtures("local_ray")`)."""
    info = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    yield info
    ray.shutdown()


async def still_serving(farm, timeout_s: float = 30) -> None:
    """A fresh lease of the healthy `tiny_1` makes a successful call (the farm goes on after a hostile case)."""
    async with farm.lease("tiny_1", timeout_s=timeout_s) as ep:
        result = await ep.call("list_notes", "{}")
    assert result.ok and "Buy milk" in result.text, result.text
