"""Helpers for farm tests: a local Ray per module, farms with small configs, leak checks."""

from __future__ import annotations

from pathlib import Path

import psutil

from awm_ray.config import Config, load_config


def config(backend: str = "inprocess", **farm: object) -> Config:
    overrides = {"hosting.backend": backend, "hosting.call_timeout_s": 10, "farm.heartbeat_s": 0.5}
    overrides.update({f"farm.{k}": v for k, v in farm.items()})
    return load_config(None, overrides)


def serve_processes(root: str | Path | None = None) -> list[psutil.Process]:
    """Scenario server processes on this machine (of one farm, if `root` is given)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "_serve.py" in cmd and (root is None or str(root) in cmd):
            found.append(proc)
    return found


def listening_ports(pids: list[int]) -> set[int]:
    ports = set()
    for pid in pids:
        try:
            ports |= {c.laddr.port for c in psutil.Process(pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        except psutil.Error:
            continue
    return ports
