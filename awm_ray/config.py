"""Configuration: `configs/*.yaml`, validated with pydantic; CLI flags override fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

BackendName = Literal["subprocess", "inprocess"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HostingConfig(_Strict):
    """How one machine hosts scenario servers (a Slot = one app + its own DB file)."""

    backend: BackendName = Field(
        "subprocess",
        description="subprocess: each slot is a uvicorn process on a leased loopback port (isolation); "
        "inprocess: the app is imported into the hosting process and served over ASGI (density, no port).",
    )
    start_timeout_s: float = Field(30.0, gt=0, description="Seconds a server may take to import and answer.")
    start_attempts: int = Field(2, ge=1, description="Attempts to start a server (each on a new port) before failing.")
    call_timeout_s: float = Field(30.0, gt=0, description="Seconds one tool call may take before it is abandoned.")
    max_response_chars: int = Field(
        20_000, ge=100, description="Response bodies longer than this are truncated in the text the model sees."
    )
    max_argument_bytes: int = Field(
        1_000_000, ge=1_000, description="Tool-call arguments longer than this are rejected before parsing."
    )
    port_range: tuple[int, int] | None = Field(
        None, description="Inclusive [low, high] ports to lease from; null lets the kernel pick free ports."
    )
    workdir: Path | None = Field(
        None, description="Where slot directories (live DBs, logs) and templates go; null = a fresh temp dir."
    )

    @field_validator("port_range")
    @classmethod
    def _ordered(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not (1024 <= value[0] <= value[1] <= 65535):
            raise ValueError("port_range must be [low, high] with 1024 <= low <= high <= 65535")
        return value


class DataConfig(_Strict):
    """Which scenarios to load and how tasks are drawn from them."""

    dataset: str = Field("bundled", description="'bundled', a hub dataset name, or a local file/directory.")
    split: str = Field("train", description="Dataset split (hub and local arcee-layout datasets).")
    max_scenarios: int | None = Field(None, ge=1, description="Load at most this many scenarios.")
    scenario_filter: list[str] | None = Field(
        None, description="Scenario names or glob patterns to keep (null keeps all)."
    )


class Config(_Strict):
    """Top-level awm-ray configuration."""

    hosting: HostingConfig = Field(default_factory=HostingConfig, description="Scenario servers on one machine.")
    data: DataConfig = Field(default_factory=DataConfig, description="Which scenarios to load.")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read a YAML config (or the defaults), then apply dotted overrides like `{"hosting.backend": "inprocess"}`."""
    raw: dict[str, Any] = {}
    if path is not None:
        with open(path) as fh:
            raw = yaml.safe_load(fh) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return Config.model_validate(raw)
