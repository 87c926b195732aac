"""Configs are validated; every shipped config loads; flags override fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from awm_ray.config import Config, ConfigError, load_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_load(path):
    assert isinstance(load_config(path), Config)


def test_every_field_is_documented():
    def walk(model):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation)

    walk(Config)


def test_overrides_and_errors(tmp_path):
    config = load_config(None, {"hosting.backend": "inprocess", "data.max_scenarios": 3, "data.split": None})
    assert config.hosting.backend == "inprocess" and config.data.max_scenarios == 3 and config.data.split == "train"
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosting:\n  backend: docker\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: hosting.backend: Input should be 'subprocess' or 'inprocess'"):
        load_config(bad)
    bad.write_text("hosting:\n  colour: blue\n")
    with pytest.raises(ConfigError, match="hosting.colour: Extra inputs are not permitted"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"port_range must be \[low, high\]"):
        load_config(None, {"hosting.port_range": [9000, 8000]})
    bad.write_text("hosting: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


@pytest.mark.parametrize("override", [{"farm.worker_num_cpus": float("inf")}, {"farm.lease_ttl_s": 1e400},
                                      {"farm.heartbeat_s": float("nan")}, {"hosting.call_timeout_s": float("-inf")}])  # fmt: skip
def test_infinite_or_nan_numbers_are_refused(override):
    """`worker_num_cpus: .inf` reached Ray (an OverflowError traceback); `lease_ttl_s: 1e400` never expired."""
    with pytest.raises(ConfigError, match="finite number"):
        load_config(None, override)
