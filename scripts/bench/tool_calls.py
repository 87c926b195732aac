"""Phase C2: tool calls through the farm (each backend) vs direct keep-alive HTTP, interleaved."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from .farms import FarmRun
from .measure import ms_since, pct
from .plans import Plan
from .probe import ScenarioPlan

async def bench_tool_calls(runs: dict[str, FarmRun], names: list[str], plans: dict[str, ScenarioPlan],
                           scenarios: list[Any], plan: Plan, workdir: Path) -> dict[str, Any]:  # fmt: skip
    """Farm calls (each backend) and direct keep-alive HTTP calls to a local uvicorn, interleaved."""
    import httpx

    from awm_ray.hosting import SubprocessBackend
    from awm_ray.scenario import build_database, tools_from_spec

    backend = SubprocessBackend(start_timeout_s=60)
    servers: dict[str, Any] = {}
    clients: dict[str, httpx.Client] = {}
    episodes: dict[tuple[str, str], Any] = {}
    try:
        for s in scenarios:
            here = workdir / f"direct-{s.name}"
            here.mkdir(parents=True)
            db_path = here / "live.db"
            build_database(db_path, s.db_schema, s.sample_data)
            servers[s.name] = await backend.start(s, db_path, here)
            clients[s.name] = httpx.Client(base_url=f"http://127.0.0.1:{servers[s.name].port}", trust_env=False,
                                           timeout=30.0)  # fmt: skip
        requests = {s.name: plans[s.name].read_requests(tools_from_spec(s.spec)) for s in scenarios}
        for b, run in runs.items():
            for name in names:
                episodes[(b, name)] = await run.farm.lease(name)
        samples: dict[str, list[float]] = {"direct": [], **{b: [] for b in runs}}
        direct_with_build: list[float] = []
        inside: dict[str, list[float]] = {b: [] for b in runs}  # the slot's own request time, in the worker
        toolsets = {s.name: tools_from_spec(s.spec) for s in scenarios}
        modes = ["direct", *runs]
        mismatches = 0
        for rep in range(plan.call_reps + 5):
            for name in names:
                tool, args, req = requests[name][rep % len(requests[name])]
                k = rep % len(modes)
                texts = {}
                for mode in modes[k:] + modes[:k]:
                    t0 = time.perf_counter()
                    if mode == "direct":
                        resp = clients[name].request(req.method, req.path, params=list(req.query) or None,
                                                     json=req.json)  # fmt: skip
                        text = resp.text
                        took = ms_since(t0)
                        texts[mode] = (resp.status_code, text)
                    else:
                        result = await episodes[(mode, name)].call(tool, args)
                        took = ms_since(t0)
                        texts[mode] = (result.status, result.text.split("\n", 1)[1] if "\n" in result.text else "")
                        if rep >= 5:
                            inside[mode].append(result.elapsed_ms)
                    if rep >= 5:  # the first rounds warm connections and caches
                        samples[mode].append(took)
                if rep >= 5:
                    # direct again, now also turning the tool call into the request (what the farm's slot does)
                    t0 = time.perf_counter()
                    r2 = toolsets[name].request(tool, args)
                    clients[name].request(r2.method, r2.path, params=list(r2.query) or None, json=r2.json).text
                    direct_with_build.append(ms_since(t0))
                statuses = {v[0] for v in texts.values()}
                mismatches += len(statuses) != 1
        return {
            "direct": pct(samples["direct"]),
            "direct_incl_tool_to_request": pct(direct_with_build),
            "farm": {b: pct(samples[b]) for b in runs},
            "farm_request_time_inside_worker": {b: pct(inside[b]) for b in runs},
            "farm_minus_inside_p50_ms": {b: round(pct(samples[b])["p50"] - pct(inside[b])["p50"], 3) for b in runs},
            "status_mismatches": mismatches,
            "endpoints": {n: [t for t, _ in plans[n].reads] for n in names},
        }
    finally:
        for ep in episodes.values():
            with contextlib.suppress(Exception):
                await ep.release()
        for c in clients.values():
            c.close()
        for app in servers.values():
            with contextlib.suppress(Exception):
                await app.close()
        backend.close()
