"""The farm's client API: start or connect, lease an episode, call tools, release.

```python
farm = Farm.start(config)                      # local Ray, or Farm.connect("auto")
async with farm.lease("bookstore_1") as ep:    # a clean, verified slot of the scenario
    result = await ep.call("search_books", '{"query": "dune"}')
    print(result.text)                         # "HTTP 200 OK\\n{...}"
farm.shutdown()
```

`farm.sync` offers the same for scripts without an event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from awm_ray.config import Config, FarmConfig
from awm_ray.farm.errors import FarmError, LeaseLost
from awm_ray.farm.local_calls import CallConnection, SocketUnusable
from awm_ray.farm.scheduler import FarmScheduler
from awm_ray.hosting import CallResult
from awm_ray.scenario import Scenario
from awm_ray.verification import Verification

log = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E")
_ADD_BATCH = 64


class Episode:
    """One lease: a slot of one scenario, held until `release()` (or the context manager exits)."""

    def __init__(self, farm: Farm, grant: dict[str, Any]):
        self._farm = farm
        self.lease_id: str = grant["lease_id"]
        self._token: str = grant["token"]
        self._worker = grant["worker"]
        self._incarnation: str | None = grant.get("incarnation")
        self.scenario: str = grant["scenario"]
        self.worker_id: str = grant["worker_id"]
        self.node_id: str = grant["node_id"]
        self.tools: list[dict[str, Any]] = grant["tools"]
        self.released = False
        self._lost = False  # a call saw the lease lost: the release says so
        socket_path = grant.get("call_socket")
        self._local = CallConnection(socket_path) if socket_path and self.node_id == farm.node_id else None

    async def call(self, tool: str, arguments: str | dict | None = None) -> CallResult:
        """Run one tool call. The model's mistakes and the app's errors come back as text in the
        result; a lease that ended (expiry, dead server, worker or node) raises `LeaseLost`."""
        if self.released:
            raise LeaseLost(f"lease {self.lease_id} was released")
        try:
            return await self._call(tool, arguments)
        except LeaseLost:
            self._lost = True
            raise

    async def _call(self, tool: str, arguments: str | dict | None) -> CallResult:
        if self._local is not None:  # the worker is on this node: skip the Ray hop
            request = {"lease_id": self.lease_id, "token": self._token, "tool": tool, "arguments": arguments,
                       "incarnation": self._incarnation}  # fmt: skip
            try:
                return await self._local.call(request)
            except SocketUnusable as exc:
                log.info("lease %s: same-node call socket unusable (%s); calling through Ray", self.lease_id, exc)
                self._local = None
        return await self._on_worker(self._worker.call.remote(self.lease_id, self._token, tool, arguments, self._incarnation))

    async def verify(self, task_index: int, final_answer: str | None = None, mode: str | None = None) -> Verification:
        """Run the verifier of the scenario's own task `task_index` on this episode's database, before
        release: on the worker that holds the slot, in its sandbox, with the pristine template as the
        initial database and the live one as the final, both read-only. `mode`: "code" or "sql"
        (default `verification.mode`). The verifier's faults come back in the `Verification`
        (`error`); `LeaseLost` and `FarmError` (no such task) are raised."""
        if self.released:
            raise LeaseLost(f"lease {self.lease_id} was released")
        settings = self._farm.config.verification
        data = await self._on_worker(self._worker.verify.remote(
            self.lease_id, self._token, task_index, final_answer, mode or settings.mode,
            settings.model_dump(mode="json", exclude={"judge"}), self._incarnation,
        ))  # fmt: skip
        return Verification.from_dict(data)

    async def renew(self) -> None:
        """Keep the lease alive through a long pause between calls (each call renews it too)."""
        await self._on_worker(self._worker.renew.remote(self.lease_id, self._token, self._incarnation))

    async def _on_worker(self, ref: Any) -> Any:
        """Await a worker call; a worker that died, or cannot come back, means the lease is lost."""
        try:
            return await ref
        except ray.exceptions.RayTaskError as exc:  # the worker's own error: hand it on without Ray's wrapping
            if isinstance(exc.cause, FarmError):
                raise exc.cause from None
            raise
        except ray.exceptions.RayError as exc:  # actor died, unavailable, unschedulable (its node left)
            raise LeaseLost(f"lease {self.lease_id}: its worker {self.worker_id} is gone ({type(exc).__name__})") from None

    async def release(self) -> None:
        """Give the slot back (it is reset in the background). Safe to call twice."""
        if self.released:
            return
        self.released = True
        if self._local is not None:
            self._local.close()
        try:
            known = await self._farm._scheduler.release.remote(self.lease_id, self._token, self._lost)
            if not known and not self._lost:
                # The scheduler has forgotten the lease (it thought the worker dead, or lost track of
                # it); the worker may still hold the slot: give it back there, or it waits for expiry.
                await asyncio.wait_for(self._worker.release.remote(self.lease_id, self._token), 10)
        except (ray.exceptions.RayError, TimeoutError) as exc:  # a restarting worker holds nothing of ours
            log.warning("releasing lease %s failed: %s", self.lease_id, type(exc).__name__)

    async def __aenter__(self) -> Episode:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()

    def __repr__(self) -> str:
        return f"Episode({self.scenario!r}, lease={self.lease_id[:8]}, worker={self.worker_id})"


class LeaseRequest(Generic[E]):
    """`await farm.lease(x)` gives an episode; `async with farm.lease(x) as ep` also releases it."""

    def __init__(self, get: Callable[[], Awaitable[E]]):
        self._get = get
        self._episode: E | None = None

    def __await__(self):
        return self._get().__await__()

    async def __aenter__(self) -> E:
        self._episode = await self._get()
        return self._episode

    async def __aexit__(self, *exc: object) -> None:
        if self._episode is not None:
            await self._episode.release()  # type: ignore[attr-defined]


class Farm:
    """A handle on a running farm (a named scheduler actor and its workers)."""

    def __init__(self, scheduler: Any, config: Config, owns_farm: bool, owns_ray: bool):
        self._scheduler = scheduler
        self.config = config
        self._owns_farm = owns_farm
        self._owns_ray = owns_ray
        self._sync: SyncFarm | None = None
        self._gateway: Any = None
        # Episodes on this node call their worker over its socket; a Ray Client driver is not on a node.
        self.node_id: str | None = None if ray.util.client.ray.is_connected() else ray.get_runtime_context().get_node_id()

    # ---- start / connect / stop -----------------------------------------------------------

    @classmethod
    def start(
        cls, config: Config | FarmConfig | None = None, scenarios: Iterable[Scenario] | None = None
    ) -> Farm:
        """Start a farm (and a local Ray if none is running) with the config's scenarios
        (`config.data`, the bundled ones by default) or the given ones."""
        config = _as_config(config)
        owns_ray = _init_ray(config.farm)
        here = ray.get_runtime_context().get_node_id()  # the scheduler owns the workers: keep it beside us
        actor = ray.remote(FarmScheduler).options(
            name=config.farm.name,
            namespace=config.farm.namespace,
            num_cpus=0,
            max_concurrency=100_000,
            scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
        )
        try:
            scheduler = actor.remote(config.farm.model_dump(mode="json"), config.hosting.model_dump(mode="json"))
        except ValueError as exc:
            if owns_ray:
                ray.shutdown()
            raise RuntimeError(
                f"a farm named {config.farm.name!r} already runs in namespace {config.farm.namespace!r}: "
                "use Farm.connect(), or set farm.name to start another"
            ) from exc
        farm = cls(scheduler, config, owns_farm=True, owns_ray=owns_ray)
        try:
            ray.get(scheduler.start.remote())
            if scenarios is None:
                from awm_ray.loading import load_scenarios

                data = config.data
                scenarios = load_scenarios(data.dataset, data.split, data.max_scenarios, data.scenario_filter)
            farm.add_scenarios(scenarios)
        except BaseException:
            farm.shutdown()
            raise
        return farm

    @classmethod
    def connect(cls, address: str | None = "auto", config: Config | FarmConfig | None = None) -> Farm:
        """Attach to a farm that runs on the Ray cluster at `address`."""
        config = _as_config(config)
        if address is not None:
            config.farm.address = address
        owns_ray = _init_ray(config.farm)
        try:
            scheduler = ray.get_actor(config.farm.name, namespace=config.farm.namespace)
        except ValueError:
            if owns_ray:
                ray.shutdown()
            raise RuntimeError(
                f"no farm named {config.farm.name!r} in namespace {config.farm.namespace!r} on this Ray cluster; "
                "start one with `awm-ray farm up`"
            ) from None
        return cls(scheduler, config, owns_farm=False, owns_ray=owns_ray)

    def start_gateway(self, host: str = "127.0.0.1", port: int = 8765, allow_remote: bool = False) -> str:
        """Serve the HTTP gateway from an actor beside the scheduler; returns its URL."""
        from awm_ray.farm.gateway import GatewayServer, check_bind

        check_bind(host, allow_remote)
        here = ray.get_runtime_context().get_node_id()
        self._gateway = ray.remote(GatewayServer).options(
            num_cpus=0, max_concurrency=1000, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
        ).remote(self.config.farm.model_dump(mode="json"), host, port)
        try:
            return ray.get(self._gateway.start.remote())
        except BaseException:
            ray.kill(self._gateway)
            self._gateway = None
            raise

    def shutdown(self) -> None:
        """Stop the farm (if this handle started it): every server, port and temp file goes."""
        if self._sync is not None:
            self._sync.close()
        if self._gateway is not None:
            try:
                ray.get(self._gateway.stop.remote(), timeout=30)
            except ray.exceptions.RayError as exc:
                log.warning("gateway shutdown: %s", exc)
            ray.kill(self._gateway)
            self._gateway = None
        if self._owns_farm:
            try:
                ray.get(self._scheduler.shutdown.remote(), timeout=120)
            except ray.exceptions.RayError as exc:
                log.warning("farm shutdown: %s", exc)
            ray.kill(self._scheduler, no_restart=True)
            self._owns_farm = False
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    # ---- scenarios ------------------------------------------------------------------------

    def add_scenarios(self, scenarios: Iterable[Scenario]) -> int:
        """Register scenarios (streamed in batches); returns how many the farm knows."""
        batch: list[Scenario] = []
        known = 0
        for scenario in scenarios:
            batch.append(scenario)
            if len(batch) >= _ADD_BATCH:
                known = ray.get(self._scheduler.add_scenarios.remote(batch))
                batch = []
        if batch or not known:
            known = ray.get(self._scheduler.add_scenarios.remote(batch))
        return known

    def scenario_names(self) -> list[str]:
        return ray.get(self._scheduler.scenario_names.remote())

    # ---- async API ------------------------------------------------------------------------

    def lease(self, scenario: str, timeout_s: float | None = None) -> LeaseRequest[Episode]:
        """A lease on a clean slot of `scenario`: `await` it, or use it as an async context manager."""

        async def get() -> Episode:
            return Episode(self, await self._scheduler.lease.remote(scenario, timeout_s))

        return LeaseRequest(get)

    async def prewarm(self, scenarios: Iterable[str], per_scenario: int = 1) -> int:
        return await self._scheduler.prewarm.remote(list(scenarios), per_scenario)

    async def stats(self) -> dict[str, Any]:
        return await self._scheduler.stats.remote()

    @property
    def sync(self) -> SyncFarm:
        """The same API for synchronous code."""
        if self._sync is None:
            self._sync = SyncFarm(self)
        return self._sync

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class SyncEpisode:
    def __init__(self, runner: SyncFarm, episode: Episode):
        self._runner, self.episode = runner, episode
        self.tools, self.scenario, self.lease_id = episode.tools, episode.scenario, episode.lease_id

    def call(self, tool: str, arguments: str | dict | None = None) -> CallResult:
        return self._runner.run(self.episode.call(tool, arguments))

    def renew(self) -> None:
        self._runner.run(self.episode.renew())

    def release(self) -> None:
        self._runner.run(self.episode.release())

    def __enter__(self) -> SyncEpisode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SyncFarm:
    """Runs the async API on a private event loop thread."""

    def __init__(self, farm: Farm):
        self._farm = farm
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="awm-ray-sync", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def lease(self, scenario: str, timeout_s: float | None = None) -> SyncEpisode:
        return SyncEpisode(self, self.run(self._lease(scenario, timeout_s)))

    async def _lease(self, scenario: str, timeout_s: float | None) -> Episode:
        return await self._farm.lease(scenario, timeout_s)

    def prewarm(self, scenarios: Iterable[str], per_scenario: int = 1) -> int:
        return self.run(self._farm.prewarm(scenarios, per_scenario))

    def stats(self) -> dict[str, Any]:
        return self.run(self._farm.stats())

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def _as_config(config: Config | FarmConfig | None) -> Config:
    if config is None:
        return Config()
    if isinstance(config, FarmConfig):
        return Config(farm=config)
    return config.model_copy(deep=True)


def _init_ray(farm: FarmConfig) -> bool:
    """Initialise Ray unless it already is; True if we did (and so shut it down later)."""
    if ray.is_initialized():
        return False
    explicit = farm.address not in (None, "auto") and not farm.address.startswith("ray://")
    if explicit and "RAY_AUTH_MODE" not in os.environ and (Path.home() / ".ray" / "auth_token").exists():
        # Ray turns token auth on for local clusters but uses the saved token by itself only for
        # address "auto"; joining such a cluster by its explicit address needs it asked for.
        os.environ["RAY_AUTH_MODE"] = "token"
        try:  # Ray reads the mode when it is imported: refresh it (what `ray start` does itself)
            from ray._raylet import Config as RayConfig

            RayConfig.initialize("")
        except (ImportError, AttributeError):
            log.warning("could not switch Ray to token auth; set RAY_AUTH_MODE=token before starting")
    address = farm.address
    if address is None and not os.environ.get("RAY_ADDRESS"):
        # A new local Ray, never a cluster some earlier `ray start` left on record (it may be dead).
        # Inside `ray job submit`, RAY_ADDRESS names the job's cluster and is used as it is.
        address = "local"
    ray.init(
        address=address, namespace=farm.namespace, log_to_driver=False, include_dashboard=False,
        configure_logging=False,
    )  # fmt: skip
    return True
