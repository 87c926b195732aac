"""Serving the gateway: under uvicorn in a Ray actor beside the farm's scheduler."""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import logging
import socket
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from awm_ray.farm.client import Farm

log = logging.getLogger(__name__)


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless it was asked for explicitly."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_remote:
        raise ValueError(
            f"refusing to bind the gateway to {host}: it would be reachable from other machines. "
            "Pass --allow-remote (gateway.allow_remote: true) if that is what you want."
        )


def start_gateway(
    farm: Farm, host: str | None = None, port: int | None = None, allow_remote: bool | None = None,
    extensions: list[str] | None = None,
) -> str:  # fmt: skip
    """Serve the HTTP gateway of `farm` from an actor beside its scheduler; returns its URL.

    Unset arguments come from `farm.config.gateway`; `extensions`: "module:function" names of
    `GatewayExtension`s (see `awm_ray.farm.gateway.app`). The gateway stops with `farm.shutdown()`.
    """
    gateway = farm.config.gateway.model_copy(
        update={k: v for k, v in {"host": host, "port": port, "allow_remote": allow_remote}.items() if v is not None}
    )
    check_bind(gateway.host, gateway.allow_remote)
    here = ray.get_runtime_context().get_node_id()
    actor = ray.remote(GatewayServer).options(
        num_cpus=0, max_concurrency=1000, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
    ).remote(farm.config.model_copy(update={"gateway": gateway}).model_dump(mode="json"), extensions or [])

    def stop() -> None:
        try:
            ray.get(actor.stop.remote(), timeout=30)
        except ray.exceptions.RayError as exc:
            log.warning("gateway shutdown: %s", exc)
        ray.kill(actor)

    try:
        url = ray.get(actor.start.remote())
    except BaseException:
        ray.kill(actor)
        raise
    farm.on_shutdown(stop)
    return url


class GatewayServer:
    """Runs the gateway under uvicorn inside a Ray actor, beside the farm."""

    def __init__(self, config: dict, extensions: list[str]):
        from awm_ray.config import Config

        self.config = Config.model_validate(config)
        self.farm = Farm.connect(None, self.config)
        self.extensions = [_load(name) for name in extensions]
        self._server: Any = None
        self._task: asyncio.Task | None = None

    async def start(self) -> str:
        import uvicorn

        from awm_ray.farm.gateway.app import build_app

        host, port = self.config.gateway.host, self.config.gateway.port
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        port = sock.getsockname()[1]
        app = build_app(self.farm, self.config.gateway, self.extensions)
        config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=120)
        self._server = uvicorn.Server(config)
        self._task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._task is not None:
                await asyncio.wait([self._task], timeout=10)
        await self.farm.release_all()


def _load(name: str) -> Any:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)
