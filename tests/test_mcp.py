"""Leases as MCP servers, driven by the official `mcp` SDK client on a local Ray farm.

Runs with whichever `mcp` major the venv has (1.x beside verifiers 0.3, 2.0 beside 0.4).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import ray
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from awm_ray.farm import Farm
from awm_ray.loading import load_scenarios
from awm_ray.mcp import McpHost, mcp_tools
from farmkit import config

SEARCH = {"query": "dune"}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def farm():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    farm = Farm.start(config("inprocess", name="mcp-test", workers_per_node=1), load_scenarios("bundled"))
    yield farm
    farm.shutdown()
    ray.shutdown()


@contextlib.asynccontextmanager
async def mcp_session(url: str, token: str | None = None, **headers: str):
    """An initialized `ClientSession` of the SDK over streamable HTTP."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with create_mcp_http_client(headers=headers) as http, streamable_http_client(url, http_client=http) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            yield session


def tool_dicts(tools) -> list[dict]:
    keep = ("name", "description", "inputSchema")
    return [{k: v for k, v in t.model_dump(by_alias=True, exclude_none=True).items() if k in keep} for t in tools]


def is_error(result) -> bool:
    return bool(result.model_dump(by_alias=True).get("isError"))


def texts(result) -> str:
    return "\n".join(block.text for block in result.content)


def test_tools_and_calls_equal_the_lease_s(farm):
    async def main():
        async with McpHost(farm) as host, farm.lease("bookstore_1") as reference:
            ep = await farm.lease("bookstore_1")
            url, token = host.register(ep)
            async with mcp_session(url, token) as session:
                listed = (await session.list_tools()).tools
                assert tool_dicts(listed) == tool_dicts(mcp_tools(ep.tools))
                assert [t["inputSchema"] for t in tool_dicts(listed)] == [t["parameters"] for t in ep.tools]
                cases = [("search_books", SEARCH), ("search_books", {"query": 5, "bogus": 1}),
                         ("no_such_tool", {}), ("get_book", {"book_id": "../x"})]  # fmt: skip
                for tool, arguments in cases:
                    got = await session.call_tool(tool, arguments)
                    want = await reference.call(tool, arguments)
                    assert texts(got) == want.text
                    assert is_error(got) is (not want.ok)
                assert any(c[0] != "search_books" for c in cases)
            await host.release(ep.lease_id)
        return await farm.stats()

    stats = asyncio.run(main())
    assert stats["leases_active"] == 0


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}  # fmt: skip


async def post_initialize(url: str, token: str | None) -> int:
    headers = {"Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(trust_env=False) as client:
        return (await client.post(url, json=INITIALIZE, headers=headers)).status_code


def test_a_bad_token_and_a_released_lease_are_refused(farm):
    async def main():
        async with McpHost(farm) as host:
            ep = await farm.lease("task_tracker_1")
            url, token = host.register(ep)
            statuses = {"none": await post_initialize(url, None), "wrong": await post_initialize(url, "wrong"),
                        "right": await post_initialize(url, token)}  # fmt: skip
            with pytest.raises(Exception):  # the SDK client gives up on a refused token
                async with mcp_session(url, "wrong"):
                    pass
            async with mcp_session(url + f"?token={token}") as session:  # the token in the URL works too
                assert (await session.list_tools()).tools
            async with mcp_session(url, token) as session:
                assert texts(await session.call_tool("list_my_projects", {})).startswith("HTTP 200")
                await host.release(ep.lease_id)  # ending the lease ends the session
                after = None
                with contextlib.suppress(Exception):
                    after = await asyncio.wait_for(session.call_tool("list_my_projects", {}), 20)
                assert after is None or is_error(after)
            statuses["released"] = await post_initialize(url, token)
            return statuses, await farm.stats(), host.held(), len(host.endpoints)

    statuses, stats, held, endpoints = asyncio.run(main())
    assert statuses == {"none": 403, "wrong": 403, "right": 200, "released": 404}
    assert stats["leases_active"] == 0 and held == 0 and endpoints == 0


def test_v1_mcp_leases_per_session(farm):
    async def main():
        async with McpHost(farm, idle_timeout_s=5) as host:
            url = f"{host.url}/v1/mcp"
            async with mcp_session(f"{url}?scenario=bookstore_1") as session:
                assert host.held() == 1 and (await farm.stats())["leases_active"] == 1
                result = await session.call_tool("search_books", SEARCH)
                assert texts(result).startswith("HTTP 200")
            await asyncio.sleep(0.2)
            after_close = (await farm.stats())["leases_active"], host.held(), len(host.sessions)
            async with mcp_session(url, **{"X-AWM-Scenario": "recipe_planner_1"}):
                pass
            with pytest.raises(Exception):
                async with mcp_session(url):  # no scenario named
                    pass
            with pytest.raises(Exception):
                async with mcp_session(f"{url}?scenario=no_such_scenario"):
                    pass
            await asyncio.sleep(0.2)
            return after_close, (await farm.stats())["leases_active"], host.held()

    after_close, active, held = asyncio.run(main())
    assert after_close == (0, 0, 0)
    assert active == 0 and held == 0


def test_awm_ray_mcp_serves_a_leased_slot_over_stdio(farm):
    """`awm-ray mcp SCENARIO` as a desktop client runs it: a command whose stdin/stdout speak MCP."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    address = ray.get_runtime_context().gcs_address  # join this module's farm, as a user would with --address
    command = [str(Path(sys.executable).parent / "awm-ray"), "mcp", "bookstore_1", "--address", address, "--farm-name", "mcp-test"]

    async def main():
        params = StdioServerParameters(command=command[0], args=command[1:])
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = [t.name for t in (await session.list_tools()).tools]
            result = await session.call_tool("search_books", SEARCH)
            held = (await farm.stats())["leases_active"]
        for _ in range(100):
            if (await farm.stats())["leases_active"] == 0:
                break
            await asyncio.sleep(0.1)
        return names, texts(result), held, (await farm.stats())["leases_active"]

    names, text, held, after = asyncio.run(main())
    assert "search_books" in names and text.startswith("HTTP 200") and json.loads(text.split("\n", 1)[1])
    assert held == 1 and after == 0


def test_an_openai_agents_agent_solves_bundled_tasks_through_a_lease_s_mcp_url(farm):
    """The `openai-agents` SDK (an agent framework that consumes MCP servers), with the reference
    policy as its model, solves one task of every bundled scenario through its lease's MCP URL;
    the farm's own reward code scores what it did, as `awm-ray eval` would."""
    from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
    from agents.mcp import MCPServerStreamableHttp
    from openai import AsyncOpenAI

    from awm_ray import rewards
    from awm_ray.policy import PolicyServer
    from awm_ray.scenario.tasks import SYSTEM_PROMPT, scenario_tasks

    set_tracing_disabled(True)  # no trace export (no network)
    tasks = [(s.name, ts[0]) for s, _, ts in scenario_tasks(load_scenarios("bundled"), 1, 0, 1, [])]
    calls: dict[str, list[dict]] = {}

    async def main(base_url: str):
        model = OpenAIChatCompletionsModel("awm-ray-reference-oracle", AsyncOpenAI(base_url=base_url, api_key="unused"))
        scores = {}
        async with McpHost(farm, on_call=lambda lease, r: calls.setdefault(lease, []).append(r.to_dict())) as host:
            for scenario, task in tasks:
                ep = await farm.lease(scenario)
                url, token = host.register(ep)
                server = MCPServerStreamableHttp({"url": url, "headers": {"Authorization": f"Bearer {token}"}},
                                                 cache_tools_list=True, client_session_timeout_seconds=60)  # fmt: skip
                async with server:
                    listed = await server.list_tools()
                    agent = Agent(name="awm", instructions=SYSTEM_PROMPT, model=model, mcp_servers=[server])
                    result = await Runner.run(agent, task.prompt, max_turns=10)
                await host.release(ep.lease_id)
                assert [t.name for t in listed] == [t["name"] for t in ep.tools]
                scores[scenario] = (rewards.score(list(task.targets), calls.get(ep.lease_id, [])), result.final_output)
        return scores, await farm.stats()

    with PolicyServer("oracle") as policy:
        scores, stats = asyncio.run(main(policy.base_url))
    assert len(scores) == 4
    for scenario, (score, final) in scores.items():
        assert score["reward"] == 1.0 and score["endpoint_success"] == 1.0, (scenario, score)
        assert isinstance(final, str) and final, scenario
    assert stats["leases_active"] == 0


def test_mcp_sessions_script_against_farm_up_leaves_nothing(tmp_path):
    """`scripts/mcp_sessions.py --gateway`, short (the 1,000-session run is in the README): SDK sessions
    on `/v1/mcp` of `awm-ray farm up` in its own process, stopped with Ctrl-C's SIGINT at the end;
    nothing held or grown, no process of it left, its port closed, its farm directory gone."""
    out = tmp_path / "sessions.json"
    script = [sys.executable, str(REPO / "scripts" / "mcp_sessions.py"), "--gateway", "--sessions", "20", "--every", "10"]
    done = subprocess.run([*script, "--out", str(out)], capture_output=True, text=True, timeout=400)
    report = json.loads(out.read_text()) if out.exists() else {}
    why = {k: report.get(k) for k in ("failed", "growth", "checks")}
    assert done.returncode == 0, f"{why}\n{done.stderr[-4000:]}"
    assert report["mode"] == "gateway" and report["failed"] == 0 and report["ok"]
    assert {"no_lease_left", "stopped_on_sigint", "no_farm_process_left", "gateway_port_closed"} <= set(report["checks"])
    assert all(report["checks"].values()), report["checks"]
    assert [c["session"] for c in report["checkpoints"]] == [1, 10, 20]
    assert report["checkpoints"][-1]["farm_processes"] > 0  # it measured farm up's own processes
