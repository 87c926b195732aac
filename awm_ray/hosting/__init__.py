"""Hosting on one machine: the Backend seam, port leases, template DBs and Slots."""

import logging
import sys
import tempfile
import uuid
from pathlib import Path

from awm_ray.config import HostingConfig
from awm_ray.hosting import guard
from awm_ray.hosting.backend import Backend, BackendError, CallTimeout, HostedApp, ServerGone, ServerStartError
from awm_ray.hosting.inprocess_backend import InProcessBackend
from awm_ray.hosting.ports import PortAllocator, PortLease
from awm_ray.hosting.preflight import Preflight
from awm_ray.hosting.slot import CallResult, Slot, SlotUnusable
from awm_ray.hosting.subprocess_backend import SubprocessBackend
from awm_ray.hosting.templates import Template, TemplateStore

log = logging.getLogger(__name__)


def make_backend(
    config: HostingConfig, host: str = "127.0.0.1", root: Path | None = None, cache_dir: Path | None = None
) -> Backend:
    """The backend a hosting config names.

    In a Ray actor (a farm worker: a process that exists only to host), the in-process backend
    also contains this process before any scenario code runs in it: see `contain_this_process`.
    With `hosting.preflight`, the in-process backend imports each new code in a sandbox first
    (`Preflight`; its files under `root`, a fresh temp path if None; passes shared via `cache_dir`).
    """
    if config.backend == "inprocess":
        if _in_ray_actor():
            contain_this_process(config)
        preflight = None
        if config.preflight:
            root = root or Path(tempfile.gettempdir()) / f"awm-ray-preflight-{uuid.uuid4().hex[:12]}"
            preflight = Preflight(root, config.import_memory_mb, config.start_timeout_s, cache_dir)
        return InProcessBackend(config.start_timeout_s, preflight)
    return SubprocessBackend(
        PortAllocator(host, config.port_range), config.start_timeout_s, config.start_attempts,
        config.max_output_bytes, config.loopback_only, config.server_memory_mb, config.server_cpu_s,
    )  # fmt: skip


def contain_this_process(config: HostingConfig) -> None:
    """Cap scenario output, scrub the environment, allow only loopback sockets (as `config` says), and
    refuse exit/kill/fork/exec/ctypes to scenario code (`guard.install_process_guard`).

    For good: none of it can be undone, so only for processes that host scenario code in-process.
    """
    guard.cap_output(config.max_output_bytes, scenario_only=True)
    guard.install_process_guard()
    if config.scrub_environment:
        removed = guard.scrub_environment()
        log.info("removed %d environment variables before hosting scenario code in this process", len(removed))
    if config.loopback_only:
        guard.install_network_guard()


def _in_ray_actor() -> bool:
    ray = sys.modules.get("ray")
    try:
        return ray is not None and ray.is_initialized() and ray.get_runtime_context().get_actor_id() is not None
    except Exception:  # noqa: BLE001 - not in a Ray worker after all
        return False


__all__ = [
    "Backend",
    "BackendError",
    "CallResult",
    "CallTimeout",
    "HostedApp",
    "InProcessBackend",
    "PortAllocator",
    "PortLease",
    "Preflight",
    "ServerGone",
    "ServerStartError",
    "Slot",
    "SlotUnusable",
    "SubprocessBackend",
    "Template",
    "TemplateStore",
    "contain_this_process",
    "make_backend",
]
