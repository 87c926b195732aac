"""Phase A: `Slot.reset()` after a write, both backends, no Ray; and the no-Ray floor of a call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from .measure import ms_since, pct
from .plans import BACKENDS, Plan
from .probe import probe_scenario, raw_asgi_call

log = logging.getLogger("bench_farm")


async def bench_reset(scenarios: list[Any], plan: Plan, workdir: Path, extra_scenarios: list[Any]) -> dict[str, Any]:
    from awm_ray.config import HostingConfig
    from awm_ray.hosting import Slot, TemplateStore, make_backend
    from awm_ray.scenario import content_checksum, restore

    out: dict[str, Any] = {"by_backend": {}, "by_scenario": {}}
    slots: dict[str, dict[str, Any]] = {}
    stores = {}
    backends = {}
    try:
        for b in BACKENDS:
            backends[b] = make_backend(HostingConfig(backend=b))
            stores[b] = TemplateStore(workdir / f"templates-{b}", backends[b])
            slots[b] = {}
            for s in scenarios:
                t0 = time.perf_counter()
                tpl = await stores[b].get(s)
                slot = Slot(s, backends[b], tpl, workdir / "slots" / f"{b}-{s.name}")
                await slot.start()
                slots[b][s.name] = slot
                log.info("reset bench: %s slot of %s started in %.0f ms", b, s.name, ms_since(t0))
        plans = {s.name: await probe_scenario(slots["inprocess"][s.name]) for s in scenarios}
        # the subprocess backend must give the same answers: check the first read of each scenario
        agree = {}
        for s in scenarios:
            tool, args = plans[s.name].reads[0]
            a = await slots["inprocess"][s.name].call(tool, args)
            b_ = await slots["subprocess"][s.name].call(tool, args)
            agree[s.name] = a.status == b_.status
        out["backends_same_status_on_first_read"] = agree

        samples: dict[str, list[float]] = {b: [] for b in BACKENDS}
        per_scenario: dict[str, list[float]] = {s.name: [] for s in scenarios}
        dirty_after_write = 0
        writes_done = 0
        for rep in range(plan.reset_reps):
            order = BACKENDS if rep % 2 == 0 else BACKENDS[::-1]
            for s in scenarios:
                sp = plans[s.name]
                for b in order:
                    slot = slots[b][s.name]
                    if sp.write is not None:
                        await slot.call(*sp.write)
                        writes_done += 1
                        if rep == 0:
                            dirty_after_write += content_checksum(slot.db_path) != slot.template.checksum
                    took = await slot.reset()
                    samples[b].append(took)
                    if b == "inprocess":
                        per_scenario[s.name].append(took)
        for b in BACKENDS:
            out["by_backend"][b] = pct(samples[b])
        out["by_scenario"] = {name: pct(v) for name, v in per_scenario.items()}
        out["writes_before_reset"] = writes_done
        out["first_writes_that_changed_the_db"] = dirty_after_write
        out["db_bytes"] = {s.name: slots["inprocess"][s.name].template.path.stat().st_size for s in scenarios}

        # where reset time goes: restore (backup) vs checksum, synchronously, and the thread hop
        restore_ms, checksum_ms, thread_hop_ms = [], [], []
        for rep in range(max(10, plan.reset_reps // 2)):
            for s in scenarios:
                slot = slots["inprocess"][s.name]
                t0 = time.perf_counter()
                restore(slot.template.path, slot.db_path)
                restore_ms.append(ms_since(t0))
                t0 = time.perf_counter()
                content_checksum(slot.db_path)
                checksum_ms.append(ms_since(t0))
                t0 = time.perf_counter()
                await asyncio.to_thread(lambda: None)
                thread_hop_ms.append(ms_since(t0))
        out["breakdown_ms"] = {"restore_backup": pct(restore_ms), "content_checksum": pct(checksum_ms),
                               "asyncio_to_thread_hop": pct(thread_hop_ms)}  # fmt: skip

        # bigger, AWM-like databases: synthetic scenarios and (if present) a real AWM row
        bigger: dict[str, Any] = {}
        for s in extra_scenarios:
            try:
                tpl = await stores["inprocess"].get(s)
                slot = Slot(s, backends["inprocess"], tpl, workdir / "slots" / f"extra-{s.name}")
                await slot.start()
            except Exception as exc:  # noqa: BLE001 - an extra measurement must not stop the run
                bigger[s.name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                continue
            try:
                sp = await probe_scenario(slot)
                took = []
                for _ in range(max(10, plan.reset_reps // 2)):
                    if sp.write is not None:
                        await slot.call(*sp.write)
                    took.append(await slot.reset())
                bigger[s.name] = {"db_bytes": tpl.path.stat().st_size, "reset_ms": pct(took),
                                  "write": sp.write[0] if sp.write else None}  # fmt: skip
            finally:
                await slot.close()
        out["bigger_dbs"] = bigger

        # the no-Ray cost of one call on a hosted slot: the floor of a farm call
        floor: dict[str, list[float]] = {b: [] for b in BACKENDS}
        floor_inner: dict[str, list[float]] = {b: [] for b in BACKENDS}
        parse_ms: list[float] = []
        for rep in range(max(20, plan.call_reps // 2)):
            for s in scenarios:
                tool, args = plans[s.name].reads[rep % len(plans[s.name].reads)]
                for b in BACKENDS if rep % 2 == 0 else BACKENDS[::-1]:
                    t0 = time.perf_counter()
                    r = await slots[b][s.name].call(tool, args)
                    floor[b].append(ms_since(t0))
                    floor_inner[b].append(r.elapsed_ms)
                t0 = time.perf_counter()
                slots["inprocess"][s.name].tools.request(tool, args)
                parse_ms.append(ms_since(t0))
        out["slot_call_no_ray_ms"] = {b: pct(v) for b, v in floor.items()}
        out["slot_call_no_ray_request_time_ms"] = {b: pct(v) for b, v in floor_inner.items()}
        out["tool_request_build_ms"] = pct(parse_ms)
        # the in-process transport: httpx.ASGITransport (what InProcessApp uses) vs calling the ASGI app directly
        via_httpx, via_raw = [], []
        for rep in range(max(20, plan.call_reps // 2)):
            for s in scenarios:
                slot = slots["inprocess"][s.name]
                tool, args = plans[s.name].reads[rep % len(plans[s.name].reads)]
                req = slot.tools.request(tool, args)
                t0 = time.perf_counter()
                await slot.app.send(req, 30.0)
                via_httpx.append(ms_since(t0))
                t0 = time.perf_counter()
                await raw_asgi_call(slot.app.module.app, req)
                via_raw.append(ms_since(t0))
        out["inprocess_transport_ms"] = {"httpx_asgi_transport": pct(via_httpx), "raw_asgi_call": pct(via_raw)}
        return {"result": out, "plans": plans}
    finally:
        for per in slots.values():
            for slot in per.values():
                with contextlib.suppress(Exception):
                    await slot.close()
        for backend in backends.values():
            backend.close()
