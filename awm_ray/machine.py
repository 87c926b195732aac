"""What runs on this machine: our scenario servers, their ports, farm directories, memory, machine facts.

For the leak checks and measurements of the test suite, `scripts/soak.py` and `scripts/bench/`
(none of the farm's own code uses it). It needs `psutil`, which is a `dev` extra, not a dependency
of the farm: it is imported on first use, and a missing one raises `ModuleNotFoundError` saying how
to install it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

SERVE_MARK = "_serve.py"
"""In the command line of every subprocess-backend scenario server (`python .../_serve.py ...`)."""

ZYGOTE_MARK = "_zygote.py"
"""In the command line of every sandbox zygote (`awm_ray.hosting.sandbox`: `python -I .../_zygote.py ...`)."""

FARM_DIR_GLOB = "awm-ray-*"
"""Farm roots and other awm-ray temp dirs, under the temp directory (`tempfile.gettempdir()`)."""


def _psutil() -> ModuleType:
    try:
        import psutil
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "awm_ray.machine needs psutil (a dev dependency): pip install 'awm-ray[dev]' or pip install psutil"
        ) from exc
    return psutil


def listening_ports(pids: Iterable[int]) -> set[int]:
    """TCP ports on which these processes listen; a process that is gone or hidden counts as none."""
    psutil = _psutil()
    ports: set[int] = set()
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections("tcp")
        except psutil.Error:
            continue
        ports |= {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}
    return ports


def serve_processes(
    root: str | Path | None = None, descendants_of: int | None = None, marks: tuple[str, ...] = (SERVE_MARK,)
) -> list[Any]:
    """Scenario server processes (`psutil.Process`) alive on this machine.

    `root`: only those whose command line names this farm directory. `descendants_of`: only children
    (at any depth) of this pid, e.g. `os.getpid()` for the servers this process started. `marks`:
    what the command line holds (`(SERVE_MARK, ZYGOTE_MARK)`: sandbox zygotes too).
    """
    psutil = _psutil()
    if descendants_of is None:
        candidates = list(psutil.process_iter(["cmdline"]))
    else:
        try:
            candidates = psutil.Process(descendants_of).children(recursive=True)
        except psutil.Error:
            return []
    found = []
    for proc in candidates:
        try:
            command = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if any(mark in command for mark in marks) and (root is None or str(root) in command):
            found.append(proc)
    return found


def farm_dirs() -> set[Path]:
    """awm-ray directories in the temp directory now (compare two calls to find what a run left)."""
    return set(Path(tempfile.gettempdir()).glob(FARM_DIR_GLOB))


def tree_memory(pids: Iterable[int]) -> dict[str, Any]:
    """Summed RSS and PSS (MB, one decimal) of these processes and all their descendants, each counted once.

    `{"rss_mb", "pss_mb", "processes"}`; PSS falls back to RSS where the kernel does not give it.
    """
    psutil = _psutil()
    seen: set[int] = set()
    rss = pss = 0
    procs = 0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in tree:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                info = proc.memory_full_info()
            except psutil.AccessDenied:
                info = proc.memory_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            procs += 1
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1), "processes": procs}


def machine_facts() -> dict[str, Any]:
    """`{"cpus", "memory_gb", "python", "ray"}`: what a benchmark or soak figure was measured on."""
    import ray

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(_psutil().virtual_memory().total / 2**30, 2),
        "python": platform.python_version(),
        "ray": ray.__version__,
    }


def machine_details() -> dict[str, Any]:
    """`{"cpu_model", "platform", "loadavg_at_start", "memory_available_gb_at_start"}`, read now."""
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_model": model,
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "memory_available_gb_at_start": round(_psutil().virtual_memory().available / 2**30, 2),
    }
