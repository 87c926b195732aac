"""`vf-eval awm-ray` under verifiers 0.4 against a farm that `awm-ray farm up` runs in its own process.

The model is the reference policy; the agent is verifiers' own chat loop (the `null` harness, run in
the subprocess runtime), whose MCP client reaches each rollout's lease. After a run that succeeds,
one whose model fails, and one interrupted with Ctrl-C, the farm holds no lease.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from vfcompat import require_verifiers

pytestmark = pytest.mark.timeout(900)  # vf-eval runs take minutes on 2 cores
require_verifiers("0.4")

from awm_ray.loading import load_scenarios  # noqa: E402
from awm_ray.policy import PolicyServer  # noqa: E402
from awm_ray.scenario.tools import tools_from_spec  # noqa: E402

BIN = Path(sys.executable).parent
TOOLS = {s.name: tools_from_spec(s.spec).definitions() for s in load_scenarios("bundled")}
ENV = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "POLICY_KEY": "unused"}


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the process exited before printing {prefix!r} (rc {proc.poll()})")
        if line.strip().startswith(prefix):
            return line.strip()[len(prefix) :].strip().split()[0]
    raise AssertionError(f"no {prefix!r} line within {timeout_s} s")


@pytest.fixture(scope="module")
def gateway():
    """(gateway URL, Ray address) of `awm-ray farm up` running in a process of its own."""
    proc = subprocess.Popen(
        [str(BIN / "awm-ray"), "farm", "up", "--port", "0", "--dataset", "bundled"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, start_new_session=True,
    )  # fmt: skip
    try:
        url = wait_for_line(proc, "gateway:")
        address = wait_for_line(proc, "ray address:")
        yield url, address
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def stats(url: str) -> dict:
    return httpx.get(f"{url}/v1/stats", timeout=60, trust_env=False).json()


def vf_eval(out: Path, base_url: str, farm: str, n: int, **popen) -> list[str]:
    return [str(BIN / "vf-eval"), "awm-ray", "-m", "awm-ray-reference-oracle", "--client.base-url", base_url,
            "--client.api-key-var", "POLICY_KEY", "-n", str(n), "-r", "1", "-c", str(n),
            "--env.taskset.dataset-name", "bundled", "--env.taskset.farm", farm, "--no-push", "-o", str(out)]  # fmt: skip


def traces(out: Path) -> list[dict]:
    (path,) = out.rglob("traces.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_vf_eval_scores_every_rollout_like_awm_ray_eval_and_releases_every_lease(gateway, tmp_path):
    url, address = gateway
    before = stats(url)["leases_granted"]
    with PolicyServer("oracle") as policy:
        done = subprocess.run(vf_eval(tmp_path / "vf", policy.base_url, url, 4), capture_output=True, text=True,
                              timeout=600, env=ENV, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        # the same tasks through `awm-ray eval`, on the same farm's cluster (a farm of its own name)
        (tmp_path / "eval.yaml").write_text("farm:\n  name: awm-ray-eval-compare\n")
        evaluated = subprocess.run(
            [str(BIN / "awm-ray"), "eval", "--config", str(tmp_path / "eval.yaml"), "--address", address,
             "--dataset", "bundled", "--tasks-per-scenario", "1", "--out", str(tmp_path / "eval")],
            capture_output=True, text=True, timeout=600, env=ENV, cwd=tmp_path,
        )  # fmt: skip
        assert evaluated.returncode == 0, (evaluated.stdout + evaluated.stderr)[-4000:]
    after = stats(url)
    episodes = traces(tmp_path / "vf")
    assert len(episodes) == 4 and all(e["ok"] for e in episodes)
    scored = {}
    for episode in episodes:
        (trace,) = episode["traces"]
        data = trace["task"]["data"]
        assert [t["name"] for t in trace["tools"]] == [t["name"] for t in TOOLS[data["scenario"]]]  # the lease's tools
        scored[f"{data['scenario']}#{data['task_index']}"] = {
            "reward": trace["rewards"]["endpoint_hit"]["score"] * trace["rewards"]["endpoint_hit"]["weight"],
            **trace["metrics"], "endpoint_hit": trace["rewards"]["endpoint_hit"]["score"],
        }  # fmt: skip
    rows = [json.loads(line) for line in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    expected = {row["id"].split("/")[0]: {"reward": row["reward"], **row["metrics"]} for row in rows}
    assert set(scored) == set(expected)
    for task, got in scored.items():
        assert {k: got[k] for k in expected[task]} == expected[task], task
    assert after["leases_granted"] - before == 4 and after["leases_active"] == 0


def test_a_model_error_fails_the_rollouts_and_releases_their_leases(gateway, tmp_path):
    url, _ = gateway
    before = stats(url)["leases_granted"]
    with PolicyServer("oracle") as policy:
        broken = policy.base_url.replace("/v1", "/no-such-route/v1")  # every model call answers 404
        done = subprocess.run(vf_eval(tmp_path, broken, url, 2), capture_output=True, text=True, timeout=600,
                              env=ENV, cwd=tmp_path)  # fmt: skip
    episodes = traces(tmp_path)
    assert len(episodes) == 2 and not any(e["ok"] for e in episodes), done.stdout[-2000:]
    errors = [err["message"] for e in episodes for t in e["traces"] for err in t["errors"]]
    assert errors and all("404" in message for message in errors)
    after = stats(url)
    assert after["leases_granted"] - before == 2 and after["leases_active"] == 0


def test_ctrl_c_mid_run_releases_every_lease(gateway, tmp_path):
    url, _ = gateway
    before = stats(url)["leases_granted"]
    with PolicyServer("oracle") as policy:
        proc = subprocess.Popen(vf_eval(tmp_path, policy.base_url, url, 4), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=ENV, cwd=tmp_path, start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while stats(url)["leases_active"] == 0:  # wait until rollouts hold leases
                assert proc.poll() is None and time.monotonic() < deadline, "no lease was taken"
                time.sleep(0.5)
            held = stats(url)["leases_active"]
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
            proc.wait(180)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
    after = stats(url)
    assert held >= 1 and after["leases_granted"] > before
    assert after["leases_active"] == 0


def test_the_gateway_serves_each_lease_as_mcp(gateway):
    """The gateway of `awm-ray farm up`: a grant's `mcp_url` speaks MCP (the SDK's client) with the
    lease's tools and call texts, refuses a wrong token and a released lease; `/v1/mcp` leases per session."""
    from test_mcp import mcp_session, post_initialize, texts, tool_dicts

    from awm_ray.mcp import mcp_tools

    url, _ = gateway

    async def main():
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=120) as http:
            grant = (await http.post("/v1/leases", json={"scenario": "bookstore_1"})).json()
            auth = {"Authorization": f"Bearer {grant['token']}"}
            mcp = url + grant["mcp_url"]
            async with mcp_session(mcp, grant["token"]) as session:
                assert tool_dicts((await session.list_tools()).tools) == tool_dicts(mcp_tools(grant["tools"]))
                for arguments in ({"query": "dune"}, {"query": 5, "bogus": 1}):
                    got = texts(await session.call_tool("search_books", arguments))
                    want = (await http.post(f"/v1/leases/{grant['lease_id']}/calls", headers=auth,
                                            json={"tool": "search_books", "arguments": arguments})).json()["text"]  # fmt: skip
                    assert got == want
            statuses = {"wrong": await post_initialize(mcp, "wrong")}
            await http.delete(f"/v1/leases/{grant['lease_id']}", headers=auth)
            statuses["released"] = await post_initialize(mcp, grant["token"])
            async with mcp_session(f"{url}/v1/mcp?scenario=task_tracker_1") as session:
                assert texts(await session.call_tool("list_my_projects", {})).startswith("HTTP 200")
                during = (await http.get("/v1/stats")).json()["leases_active"]
            await asyncio.sleep(0.5)
            return statuses, during, (await http.get("/v1/stats")).json()["leases_active"]

    statuses, during, after = asyncio.run(main())
    assert statuses == {"wrong": 403, "released": 404} and during == 1 and after == 0
