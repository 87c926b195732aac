"""Hosting on one machine: the Backend seam, port leases, template DBs and Slots."""

from awm_ray.config import HostingConfig
from awm_ray.hosting.backend import Backend, BackendError, CallTimeout, HostedApp, ServerGone, ServerStartError
from awm_ray.hosting.inprocess_backend import InProcessBackend
from awm_ray.hosting.ports import PortAllocator, PortLease
from awm_ray.hosting.slot import CallResult, Slot, SlotUnusable
from awm_ray.hosting.subprocess_backend import SubprocessBackend
from awm_ray.hosting.templates import Template, TemplateStore


def make_backend(config: HostingConfig, host: str = "127.0.0.1") -> Backend:
    """The backend a hosting config names."""
    if config.backend == "inprocess":
        return InProcessBackend()
    return SubprocessBackend(PortAllocator(host, config.port_range), config.start_timeout_s, config.start_attempts)


__all__ = [
    "Backend",
    "BackendError",
    "CallResult",
    "CallTimeout",
    "HostedApp",
    "InProcessBackend",
    "PortAllocator",
    "PortLease",
    "ServerGone",
    "ServerStartError",
    "Slot",
    "SlotUnusable",
    "SubprocessBackend",
    "Template",
    "TemplateStore",
    "make_backend",
]
