"""The farm's client API: start or connect, lease an episode, call tools, release.

```python
farm = Farm.start(config)                      # local Ray, or Farm.connect("auto")
async with farm.lease("bookstore_1") as ep:    # a clean, verified slot of the scenario
    result = await ep.call("search_books", '{"query": "dune"}')
    print(result.text)                         # "HTTP 200 OK\\n{...}"
farm.shutdown()
```

Lease lifetime: a lease lives as long as its holder. The handle renews every lease it holds in
the background (one call per worker per round, `awm_ray.farm.holder`), so a long model turn never
loses its slot, while a holder process that dies stops renewing and its leases expire after
`farm.lease_ttl_s`. Giving up releases: cancelling the task that awaits `farm.lease(...)`
withdraws the request (or releases the grant), leaving an `async with farm.lease(...)` block in
any way releases the lease, an `Episode` dropped without release is released when collected,
and `shutdown()` (also run at interpreter exit) releases whatever the handle still holds.

`farm.sync` offers the same for scripts without an event loop (`awm_ray.farm.sync`).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import uuid
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from awm_ray.config import Config, FarmConfig
from awm_ray.farm.errors import FarmError, LeaseLost, plain
from awm_ray.farm.holder import Held, HeldLeases, LeaseRequest
from awm_ray.farm.local_calls import CallConnection, SocketUnusable
from awm_ray.farm.scheduler import FarmScheduler
from awm_ray.hosting import CallResult
from awm_ray.scenario import Scenario
from awm_ray.verification import Verification

if TYPE_CHECKING:
    from awm_ray.farm.sync import SyncFarm

log = logging.getLogger(__name__)
_ADD_BATCH = 64
_RELEASE_AT_EXIT_S = 10.0


class Episode:
    """One lease: a slot of one scenario, held until `release()` (or the context manager exits).

    `lease_ttl_s`: the farm's lease ttl; `keepalive`: whether the farm handle renews it (the
    default); without it, a pause longer than `lease_ttl_s` with no call or `renew()` loses it.
    """

    def __init__(self, farm: Farm, grant: dict[str, Any], keepalive: bool = True):
        self._farm = farm
        self.lease_id: str = grant["lease_id"]
        self._token: str = grant["token"]
        self._worker = grant["worker"]
        self._incarnation: str | None = grant.get("incarnation")
        self.scenario: str = grant["scenario"]
        self.worker_id: str = grant["worker_id"]
        self.node_id: str = grant["node_id"]
        self.tools: list[dict[str, Any]] = grant["tools"]
        self.lease_ttl_s: float = float(grant.get("lease_ttl_s") or farm.config.farm.lease_ttl_s)
        self.keepalive = keepalive
        self.released = False
        self._lost = False  # a call saw the lease lost: the release says so
        socket_path = grant.get("call_socket")
        self._local = CallConnection(socket_path) if socket_path and self.node_id == farm.node_id else None
        self._route = (self._worker, self.worker_id, self._incarnation)  # where renewals go
        farm._held.add(Held(self.lease_id, self._token, self.lease_ttl_s, keepalive, self._route))
        # Dropped without release: released when collected (never kept alive for nobody).
        self._finalizer = weakref.finalize(self, _release_abandoned, farm._held, farm._scheduler, self.lease_id, self._token)
        self._finalizer.atexit = False  # at exit the farm handle releases what it holds

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
        request = {"tool": tool, "arguments": arguments}
        ray_call = lambda: self._worker.call.remote(self.lease_id, self._token, tool, arguments, self._incarnation)  # noqa: E731
        result = await self._on_node(request, ray_call)
        return result if isinstance(result, CallResult) else CallResult(**result)

    async def _on_node(self, request: dict[str, Any], ray_call: Callable[[], Any]) -> Any:
        """The worker's answer to `request`: over its socket when it is on this node (no Ray hop),
        else (or when the socket cannot be used) through `ray_call()`."""
        if self._local is not None:
            try:
                return await self._local.exchange(
                    {**request, "lease_id": self.lease_id, "token": self._token, "incarnation": self._incarnation}
                )
            except SocketUnusable as exc:
                log.info("lease %s: same-node call socket unusable (%s); using Ray", self.lease_id, exc)
                self._local = None
        return await self._on_worker(ray_call())

    async def verify(self, task_index: int, final_answer: str | None = None, mode: str | None = None) -> Verification:
        """Run the verifier of the scenario's own task `task_index` on this episode's database, before
        release: on the worker that holds the slot, in its sandbox, with the pristine template as the
        initial database and the live one as the final, both read-only. `mode`: "code" or "sql"
        (default `verification.mode`). The verifier's faults come back in the `Verification`
        (`error`); `LeaseLost` and `FarmError` (no such task) are raised."""
        if self.released:
            raise LeaseLost(f"lease {self.lease_id} was released")
        config = self._farm.config.verification
        mode, settings = mode or config.mode, config.model_dump(mode="json", exclude={"judge"})
        try:
            return Verification.from_dict(await self._verify(task_index, final_answer, mode, settings))
        except LeaseLost:
            self._lost = True
            raise

    async def _verify(self, task_index: int, final_answer: str | None, mode: str, settings: dict) -> dict[str, Any]:
        request = {"op": "verify", "task_index": task_index, "final_answer": final_answer, "mode": mode,
                   "settings": settings}  # fmt: skip
        return await self._on_node(request, lambda: self._worker.verify.remote(
            self.lease_id, self._token, task_index, final_answer, mode, settings, self._incarnation,
        ))  # fmt: skip

    async def renew(self) -> None:
        """Renew the lease now (the farm handle does it by itself unless `keepalive=False`; each
        call renews it too). Raises `LeaseLost` if it already ended."""
        await self._on_worker(self._worker.renew.remote(self.lease_id, self._token, self._incarnation))

    async def _on_worker(self, ref: Any) -> Any:
        """Await a worker call; a worker that died, or cannot come back, means the lease is lost."""
        try:
            return await ref
        except ray.exceptions.RayTaskError as exc:  # the worker's own error: hand it on without Ray's wrapping
            raise plain(exc) from None
        except ray.exceptions.RayError as exc:  # actor died, unavailable, unschedulable (its node left)
            raise LeaseLost(f"lease {self.lease_id}: its worker {self.worker_id} is gone ({type(exc).__name__})") from None

    async def release(self) -> None:
        """Give the slot back (it is reset in the background). Safe to call twice, and from a
        task being cancelled: the release is on its way before the first await."""
        if self.released:
            return
        self.released = True
        self._finalizer.detach()
        self._farm._held.discard(self.lease_id)
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


def _release_abandoned(held: HeldLeases, scheduler: Any, lease_id: str, token: str) -> None:
    """An `Episode` was collected without `release()`: stop renewing it and give it back."""
    if held.discard(lease_id) is None:
        return
    try:
        scheduler.release.remote(lease_id, token)
    except Exception:  # Ray already shut down: the lease expires on its own
        pass


class Farm:
    """A handle on a running farm (a named scheduler actor and its workers).

    A handle is a lease holder: it keeps its leases alive while its process lives (see the
    module docstring) and releases them at `shutdown()` or interpreter exit.
    """

    def __init__(self, scheduler: Any, config: Config, owns_farm: bool, owns_ray: bool):
        self._scheduler = scheduler
        self.config = config
        self._owns_farm = owns_farm
        self._owns_ray = owns_ray
        self._sync: SyncFarm | None = None
        self._held = HeldLeases(self._renew_round, name="awm-ray-keepalive")
        self._pending: dict[str, Any] = {}  # lease request id -> the scheduler call awaiting its grant
        self._on_shutdown: list[Callable[[], None]] = []
        self._closed = False
        self._root: str | None = None  # the farm's directory on this node, when this handle started the farm
        # Episodes on this node call their worker over its socket; a Ray Client driver is not on a node.
        self.node_id: str | None = None if ray.util.client.ray.is_connected() else ray.get_runtime_context().get_node_id()
        atexit.register(_shutdown_at_exit, weakref.ref(self))

    # ---- start / connect / stop -----------------------------------------------------------

    @classmethod
    def start(
        cls, config: Config | FarmConfig | None = None, scenarios: Iterable[Scenario] | None = None
    ) -> Farm:
        """Start a farm (and a local Ray if none is running) with the config's scenarios
        (`config.data`, the bundled ones by default) or the given ones. The farm lives until
        `shutdown()` or until this process exits (it is shut down at exit)."""
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
            farm._root = ray.get(scheduler.start.remote())["root"]
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

    def on_shutdown(self, stop: Callable[[], None]) -> None:
        """Run `stop()` first thing in `shutdown()` (what serves this farm, e.g. its gateway)."""
        self._on_shutdown.append(stop)

    def shutdown(self) -> None:
        """Release what this handle holds, withdraw its waiting lease requests, and stop the farm
        if this handle started it (every server, port and temp file goes). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        while self._on_shutdown:
            stop = self._on_shutdown.pop()
            try:
                stop()
            except Exception as exc:
                log.warning("stopping %s at farm shutdown: %s", getattr(stop, "__qualname__", stop), exc)
        if self._sync is not None:
            self._sync.close()
        self._held.close()
        if not self._owns_farm:  # a shared farm: give back what we hold (an owned one goes entirely)
            try:
                ray.get(self._give_up_everything(), timeout=_RELEASE_AT_EXIT_S)
            except (ray.exceptions.RayError, TimeoutError) as exc:
                log.warning("releasing this handle's leases at shutdown: %s (they expire on their own)", exc)
        if self._owns_farm:
            try:
                ray.get(self._scheduler.shutdown.remote(), timeout=120)
            except ray.exceptions.RayError as exc:
                log.warning("farm shutdown: %s", exc)
            ray.kill(self._scheduler, no_restart=True)
            self._owns_farm = False
        if self._owns_ray:  # its processes are gone once this returns: nothing writes the farm's directory
            ray.shutdown()
            self._owns_ray = False
        if self._root and self.node_id is not None:  # the scheduler ran here (node affinity)
            # the scheduler and its workers remove it themselves; not when a worker was still busy
            # at interpreter exit, or died: what they left goes with the farm
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    # ---- scenarios ------------------------------------------------------------------------

    def add_scenarios(self, scenarios: Iterable[Scenario]) -> int:
        """Register scenarios (streamed in batches); returns how many the farm knows."""
        batch: list[Scenario] = []
        known = 0
        for scenario in scenarios:
            batch.append(scenario)
            if len(batch) >= _ADD_BATCH:
                known = self._get(self._scheduler.add_scenarios.remote(batch))
                batch = []
        if batch or not known:
            known = self._get(self._scheduler.add_scenarios.remote(batch))
        return known

    def scenario_names(self) -> list[str]:
        return self._get(self._scheduler.scenario_names.remote())

    # ---- async API ------------------------------------------------------------------------

    def lease(self, scenario: str, timeout_s: float | None = None, keepalive: bool = True) -> LeaseRequest[Episode]:
        """A lease on a clean slot of `scenario`: `await` it, or use it as an async context manager.

        Waits up to `timeout_s` (default `farm.lease_timeout_s`) for a free slot, then raises
        `LeaseTimeout`; an unknown name raises `UnknownScenario`, a scenario that cannot start
        `ScenarioUnavailable`. Cancelling the awaiting task withdraws the request. `keepalive`:
        renew the lease in the background while this process lives (False: the caller renews,
        as the gateway does for its remote clients).
        """

        async def get() -> Episode:
            request_id = uuid.uuid4().hex
            ref = self._scheduler.lease.remote(scenario, timeout_s, request_id)
            self._pending[request_id] = ref
            try:
                grant = await ref
            except asyncio.CancelledError:  # the caller gave up: nobody may hold what comes of it
                self._withdraw(request_id)
                raise
            except ray.exceptions.RayError as exc:
                raise _farm_error(exc) from None
            finally:
                self._pending.pop(request_id, None)
            return Episode(self, grant, keepalive)

        return LeaseRequest(get)

    async def renew(self, episodes: Iterable[Episode]) -> list[str]:
        """Renew many leases with one call per worker; returns the ids of those no longer held."""
        calls = self._renewal_calls([Held(e.lease_id, e._token, e.lease_ttl_s, e.keepalive, e._route) for e in episodes])
        lost: list[str] = []
        for group, ref in calls:
            try:
                lost += await ref
            except ray.exceptions.RayError:  # the worker is gone, and its leases with it
                lost += [h.lease_id for h in group]
        return lost

    async def release_all(self) -> int:
        """Withdraw this handle's waiting lease requests and release every lease it holds (a
        holder that stops: an evaluator's runner, a gateway); returns how many were released."""
        refs = self._give_up_everything()
        await asyncio.gather(*refs, return_exceptions=True)
        return len(refs)

    async def prewarm(self, scenarios: Iterable[str], per_scenario: int = 1) -> int:
        return await self._await(self._scheduler.prewarm.remote(list(scenarios), per_scenario))

    async def stats(self) -> dict[str, Any]:
        return await self._await(self._scheduler.stats.remote())

    @property
    def sync(self) -> SyncFarm:
        """The same API for synchronous code."""
        if self._sync is None:
            from awm_ray.farm.sync import SyncFarm

            self._sync = SyncFarm(self)
        return self._sync

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ---- internals ------------------------------------------------------------------------

    def _withdraw(self, request_id: str) -> Any:
        """Tell the scheduler a lease request was given up (submitted at once: no await needed)."""
        try:
            return self._scheduler.withdraw.remote(request_id)
        except Exception as exc:  # Ray is going down: the grant, if any, expires on its own
            log.debug("withdrawing lease request %s: %s", request_id, exc)
            return None

    def _give_up_everything(self) -> list[Any]:
        refs = [self._withdraw(request_id) for request_id in list(self._pending)]
        for held in self._held.take_all():
            refs.append(self._scheduler.release.remote(held.lease_id, held.token))
        return [ref for ref in refs if ref is not None]

    def _renewal_calls(self, batch: list[Held]) -> list[tuple[list[Held], Any]]:
        """One `renew_leases` call per worker, submitted now: `[(its leases, its ref)]`."""
        by_worker: dict[str, list[Held]] = {}
        for held in batch:
            by_worker.setdefault(held.route[1], []).append(held)
        return [(group, group[0].route[0].renew_leases.remote([(h.lease_id, h.token) for h in group], group[0].route[2]))
                for group in by_worker.values()]  # fmt: skip

    def _renew_round(self, batch: list[Held]) -> list[str]:
        """The keepalive thread's round (blocking): the ids of leases no longer held."""
        calls = self._renewal_calls(batch)
        timeout = min(30.0, max(1.0, min(h.ttl_s for h in batch) / 3)) if batch else 1.0
        ray.wait([ref for _, ref in calls], num_returns=len(calls), timeout=timeout)
        lost: list[str] = []
        for group, ref in calls:
            try:
                lost += ray.get(ref, timeout=0)
            except ray.exceptions.GetTimeoutError:  # a slow worker: try again next round
                continue
            except ray.exceptions.RayError:  # the worker is gone, and its leases with it
                lost += [h.lease_id for h in group]
        return lost

    def _get(self, ref: Any, timeout: float | None = None) -> Any:
        try:
            return ray.get(ref, timeout=timeout)
        except ray.exceptions.RayError as exc:
            raise _farm_error(exc) from None

    async def _await(self, ref: Any) -> Any:
        try:
            return await ref
        except ray.exceptions.RayError as exc:
            raise _farm_error(exc) from None


def _farm_error(exc: ray.exceptions.RayError) -> BaseException:
    """A scheduler call's failure as the caller should see it: the farm's own error unwrapped; a
    scheduler that is gone as a `FarmError` saying so; anything else (a bug) unchanged."""
    inner = plain(exc)
    if inner is not exc:
        return inner
    if isinstance(exc, (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError)):
        return FarmError(f"the farm is not running: its scheduler is gone ({type(exc).__name__})")
    return exc


def _shutdown_at_exit(ref: weakref.ref[Farm]) -> None:
    farm = ref()
    if farm is not None and not farm._closed and ray.is_initialized():
        try:
            farm.shutdown()
        except Exception as exc:  # exit must go on
            log.warning("farm shutdown at exit: %s", exc)


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
