"""Profile: Ray hops timed one by one, the lease path hop by hop, cProfile inside the actors and the driver.

The worker and scheduler internals are reached through Ray's `__ray_call__` (benchmark introspection only).
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from .farms import FarmRun, run_farm_load
from .measure import ms_since, pct
from .plans import Plan
from .probe import ScenarioPlan

def _actor_loop(self: Any) -> Any:
    """The event loop an awm-ray actor serves on (its periodic task lives there)."""
    for attr in ("_loop_task", "_sweeper"):
        task = getattr(self, attr, None)
        if task is not None:
            return task.get_loop()
    return None


def _on_actor_loop(self: Any, fn: Any) -> bool:
    """Run `fn` on the actor's event-loop thread (where its async methods run) and wait for it."""
    import asyncio as _asyncio
    import threading as _threading

    loop = _actor_loop(self)
    if loop is None:
        return False
    try:
        running = _asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn()
        return True
    done = _threading.Event()

    def run() -> None:
        try:
            fn()
        finally:
            done.set()

    loop.call_soon_threadsafe(run)
    return done.wait(10)


def _profile_start(self: Any) -> bool:
    import cProfile as _cProfile

    prof = _cProfile.Profile()
    self._bench_profile = prof
    return _on_actor_loop(self, prof.enable)


def _profile_stop(self: Any, top: int = 14) -> dict[str, Any]:
    import pstats as _pstats
    from pathlib import Path as _Path

    prof = getattr(self, "_bench_profile", None)
    if prof is None:
        return {"total_tottime_ms": 0.0, "top_by_tottime": [], "by_package_ms": {}}
    _on_actor_loop(self, prof.disable)
    self._bench_profile = None
    st = _pstats.Stats(prof)
    rows = []
    by_package: dict[str, float] = {}
    for (filename, line, func), (cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append({"func": f"{_Path(filename).name}:{line}:{func}", "calls": nc, "tottime_ms": round(tt * 1000, 2),
                     "cumtime_ms": round(ct * 1000, 2)})  # fmt: skip
        key = "builtins/C" if filename == "~" else "scenario app code" if filename.startswith("<awm-ray") else None
        if key is None:
            parts = _Path(filename).parts
            key = next((parts[i + 1] for i in range(len(parts) - 1) if parts[i] == "site-packages"), None)
            key = key or ("awm_ray" if "awm_ray" in parts else "stdlib/other")
            if key == "ray" and "_private" in parts:
                key = "ray (_private)"
        by_package[key] = by_package.get(key, 0.0) + tt * 1000
    rows.sort(key=lambda r: r["tottime_ms"], reverse=True)
    return {
        "total_tottime_ms": round(sum(r["tottime_ms"] for r in rows), 1),
        "top_by_tottime": rows[:top],
        "by_package_ms": {k: round(v, 1) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]},
    }


async def bench_profile(runs: dict[str, FarmRun], names: list[str], plans: dict[str, ScenarioPlan],
                        plan: Plan, default_backend: str) -> dict[str, Any]:  # fmt: skip
    """Ray hops timed one by one, and cProfile inside the scheduler and a worker."""
    import pickle

    import ray

    out: dict[str, Any] = {}
    n = plan.profile_reps
    run = runs[default_backend]
    farm = run.farm
    sched = farm._scheduler
    # 1. bare round trips: driver -> scheduler, driver -> worker (cheap async methods)
    rtt_s, rtt_w, rtt_sync = [], [], []
    worker = run.worker_handles[0] if run.worker_handles else None
    for i in range(n):
        t0 = time.perf_counter()
        await sched.scenario_names.remote()
        rtt_s.append(ms_since(t0))
        if worker is not None:
            t0 = time.perf_counter()
            await worker.ready.remote()
            rtt_w.append(ms_since(t0))
            t0 = time.perf_counter()
            await asyncio.to_thread(ray.get, worker.ready.remote())
            rtt_sync.append(ms_since(t0))
    out["rtt_ms"] = {"driver_to_scheduler_await": pct(rtt_s), "driver_to_worker_await": pct(rtt_w),
                     "driver_to_worker_ray_get_in_thread": pct(rtt_sync)}  # fmt: skip

    # 2. the lease path in pieces
    lease_client, release_ms = [], []
    before = await farm.stats()
    for i in range(n):
        name = names[i % len(names)]
        t0 = time.perf_counter()
        ep = await farm.lease(name)
        lease_client.append(ms_since(t0))
        t0 = time.perf_counter()
        await ep.release()
        release_ms.append(ms_since(t0))
        await asyncio.sleep(0.02)
    after = await farm.stats()
    internal = await sched.__ray_call__.remote(lambda self, k: list(self.lease_ms)[-k:], n)
    grant = await sched.lease.remote(names[0], None)
    grant_bytes = len(pickle.dumps({k: v for k, v in grant.items() if k != "worker"}))
    t0 = time.perf_counter()
    for _ in range(200):
        pickle.loads(pickle.dumps({k: v for k, v in grant.items() if k != "worker"}))
    grant_pickle_ms = ms_since(t0) / 200
    await sched.release.remote(grant["lease_id"], grant["token"])
    await asyncio.sleep(0.05)
    # the worker's acquire alone, called from the driver (a lease the scheduler does not know)
    acquire_direct, acquire_no_ref = [], []
    if worker is not None:
        scen_box = [ray.put("unused: the worker has the scenario cached")]
        tools_cached_box = ["unused"]
        for i in range(n // 2):
            name = names[i % len(names)]
            for box, sink in ((scen_box, acquire_direct), (tools_cached_box, acquire_no_ref)):
                lid, tok = uuid.uuid4().hex, secrets.token_urlsafe(24)
                t0 = time.perf_counter()
                try:
                    await worker.acquire.remote(lid, tok, name, box)
                except Exception:  # noqa: BLE001 - the worker may hold no slot of it; skip
                    continue
                sink.append(ms_since(t0))
                await worker.release.remote(lid, tok)
                await asyncio.sleep(0.02)
    out["lease_path_ms"] = {
        "client_lease": pct(lease_client),
        "scheduler_internal_lease": pct(internal),  # the scheduler's own timer: includes its worker.acquire hop
        "driver_to_worker_acquire_with_objectref_arg": pct(acquire_direct),
        "driver_to_worker_acquire_plain_arg": pct(acquire_no_ref),
        "client_release": pct(release_ms),
        "grant_bytes_without_handle": grant_bytes,
        "grant_pickle_roundtrip_ms": round(grant_pickle_ms, 4),
        "tools_in_grant": len(grant["tools"]),
        "leases_during": after["leases_granted"] - before["leases_granted"],
    }

    # what returning an ActorHandle (as every grant does) costs, against a plain dict of the same call
    small, with_handle = [], []
    for i in range(n):
        t0 = time.perf_counter()
        await sched.__ray_call__.remote(lambda self: {"worker_id": "w000", "x": 1})
        small.append(ms_since(t0))
        t0 = time.perf_counter()
        await sched.__ray_call__.remote(lambda self: {"worker_id": "w000", "worker": self._workers[0].handle})
        with_handle.append(ms_since(t0))
    out["return_actor_handle_ms"] = {"plain_dict": pct(small), "dict_with_actor_handle": pct(with_handle)}

    # 3. Ray metrics inside a worker: one Histogram.observe (the worker records one per call) and one Gauge.set
    def _metric_cost(self: Any, k: int = 2000) -> dict[str, float]:
        import time as _time

        t = _time.perf_counter()
        for _ in range(k):
            self.metrics.call_ms.observe(1.0)
        observe = (_time.perf_counter() - t) / k * 1e6
        t = _time.perf_counter()
        for _ in range(k):
            self.metrics.slots.set(1)
        gauge = (_time.perf_counter() - t) / k * 1e6
        return {"histogram_observe_us": round(observe, 2), "gauge_set_us": round(gauge, 2)}

    if worker is not None:
        out["ray_metrics_in_worker"] = await worker.__ray_call__.remote(_metric_cost)

    # 4. cProfile in the worker (calls, each backend) and in the scheduler (leases)
    name = names[0]
    tool, args = plans[name].reads[0]
    out["worker_profile_calls"] = {}
    for b, r in runs.items():
        ep = await r.farm.lease(name)
        try:
            wh = ep._worker
            for _ in range(20):
                await ep.call(tool, args)
            enabled = await wh.__ray_call__.remote(_profile_start)
            t0 = time.perf_counter()
            for _ in range(n):
                await ep.call(tool, args)
            wall = ms_since(t0)
            prof = await wh.__ray_call__.remote(_profile_stop)
            out["worker_profile_calls"][b] = {"calls": n, "tool": tool, "client_ms_per_call": round(wall / n, 3),
                                              "profiler_on": enabled, **prof}  # fmt: skip
        finally:
            await ep.release()
    await asyncio.sleep(0.05)
    await sched.__ray_call__.remote(_profile_start)
    t0 = time.perf_counter()
    for i in range(n // 2):
        e = await farm.lease(names[i % len(names)])
        await e.release()
        await asyncio.sleep(0.01)
    wall = ms_since(t0)
    prof = await sched.__ray_call__.remote(_profile_stop)
    out["scheduler_profile_leases"] = {"lease_release_pairs": n // 2, "client_ms_per_pair": round(wall / (n // 2), 3),
                                       **prof}  # fmt: skip
    # the workers' event-loop threads under a c=64 episode load (Python only: C++ threads and to_thread resets
    # are not in it; compare with cpu_ms_per_episode of the episodes phase)
    if run.worker_handles:
        episodes = max(64, n)
        await asyncio.gather(*(h.__ray_call__.remote(_profile_start) for h in run.worker_handles))
        await sched.__ray_call__.remote(_profile_start)
        load = await run_farm_load(run, names, plans, 64, episodes)
        profs = await asyncio.gather(*(h.__ray_call__.remote(_profile_stop, 20) for h in run.worker_handles))
        sprof = await sched.__ray_call__.remote(_profile_stop, 10)
        merged: dict[str, float] = {}
        for p in profs:
            for k, v in p["by_package_ms"].items():
                merged[k] = merged.get(k, 0.0) + v
        out["load_profile_c64"] = {
            "episodes": episodes,
            "episodes_per_s_with_profiler": load["episodes_per_s"],
            "cpu_ms_per_episode_with_profiler": load["cpu_ms_per_episode"],
            "workers_python_ms_per_episode": round(sum(p["total_tottime_ms"] for p in profs) / episodes, 3),
            "workers_python_ms_per_episode_by_package": {k: round(v / episodes, 3) for k, v in
                                                         sorted(merged.items(), key=lambda kv: -kv[1])},
            "scheduler_python_ms_per_episode": round(sprof["total_tottime_ms"] / episodes, 3),
            "scheduler_by_package_ms": sprof["by_package_ms"],
            "worker_top_by_tottime": [p["top_by_tottime"][:12] for p in profs],
        }  # fmt: skip
    # 5. the driver itself: where a farm call spends client-side CPU
    ep = await farm.lease(name)
    try:
        tool, args = plans[name].reads[0]
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n // 2):
            await ep.call(tool, args)
        prof.disable()
        st = pstats.Stats(prof)
        rows = []
        for (filename, line, func), (cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
            rows.append({"func": f"{Path(filename).name}:{line}:{func}", "calls": nc,
                         "tottime_ms": round(tt * 1000, 2)})  # fmt: skip
        rows.sort(key=lambda r: r["tottime_ms"], reverse=True)
        out["driver_profile_calls"] = {"calls": n // 2, "top_by_tottime": rows[:10]}
    finally:
        await ep.release()
    return out
