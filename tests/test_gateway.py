"""The HTTP gateway over real HTTP from other processes: bad input shed with a 4xx and a bounded
error (F12), errors that are the cause alone and the same text everywhere (F13), a client that
gives up while queued leaves nothing held (F11), and leases that live as long as their remote holder.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
import ray

from apps import tiny
from awm_ray.farm import Farm, FarmError, ScenarioUnavailable, UnknownScenario
from awm_ray.farm.gateway import start_gateway
from farmkit import config

TTL = 3.0


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="awm-ray-tests")
    yield
    ray.shutdown()


def broken() -> object:
    return tiny("broken_1", code=tiny().code.replace("app = FastAPI(", "raise RuntimeError('boom at import')\napp = FastAPI("))


@pytest.fixture(scope="module")
def gateway():
    """A farm with two slots of `tiny_1` (and a scenario that cannot start) behind a gateway."""
    farm = Farm.start(config("inprocess", name="gateway-tests", workers_per_node=1, slots_per_worker=2,
                             lease_ttl_s=TTL), [tiny(), broken()])  # fmt: skip
    try:
        yield farm, start_gateway(farm, "127.0.0.1", 0)
    finally:
        farm.shutdown()


def run_client(script: str, *args: str, timeout: float = 180) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def stats(farm: Farm) -> dict:
    return farm.sync.stats()


BAD_INPUT = r"""
import json, sys
import httpx

url = sys.argv[1]
big = 50 * 2**20
http = httpx.Client(base_url=url, timeout=60, trust_env=False)
grant = http.post("/v1/leases", json={"scenario": "tiny_1"}).json()
lease, token = grant["lease_id"], grant["token"]
auth = {"Authorization": f"Bearer {token}"}
calls = f"/v1/leases/{lease}/calls"

def chunks():
    for _ in range(big // 2**20):
        yield b"x" * 2**20

cases = {
    "50 MB body": lambda: http.post("/v1/leases", content=b'{"scenario": "' + b"x" * big + b'"}',
                                    headers={"Content-Type": "application/json"}),
    "50 MB chunked body": lambda: http.post("/v1/leases", content=chunks(), headers={"Content-Type": "application/json"}),
    "50 MB call arguments": lambda: http.post(calls, json={"tool": "list_notes", "arguments": "x" * big}, headers=auth),
    "1 MB scenario name": lambda: http.post("/v1/leases", json={"scenario": "y" * 2**20}),
    "500-character unknown scenario": lambda: http.post("/v1/leases", json={"scenario": "z" * 500}),
    "1 MB header": lambda: http.post(calls, json={"tool": "list_notes"}, headers={"Authorization": "Bearer " + "t" * 2**20}),
    "60 KB lease id": lambda: http.post(f"/v1/leases/{'a' * 60_000}/calls", json={"tool": "list_notes"}, headers=auth),
    "500-character lease id": lambda: http.delete(f"/v1/leases/{'a' * 500}", headers=auth),
    "invalid JSON": lambda: http.post("/v1/leases", content=b'{"scenario": ', headers={"Content-Type": "application/json"}),
    "not UTF-8": lambda: http.post("/v1/leases", content=b'{"scenario": "\xff\xfe"}', headers={"Content-Type": "application/json"}),
    "a JSON array": lambda: http.post("/v1/leases", json=["tiny_1"]),
    "no content type": lambda: http.post("/v1/leases", content=b'{"scenario": "tiny_1"}'),
    "text/plain": lambda: http.post("/v1/leases", content=b"tiny_1", headers={"Content-Type": "text/plain"}),
    "scenario a number": lambda: http.post("/v1/leases", json={"scenario": 7}),
    "scenario missing": lambda: http.post("/v1/leases", json={}),
    "timeout_s a string": lambda: http.post("/v1/leases", json={"scenario": "tiny_1", "timeout_s": "soon"}),
    "timeout_s negative": lambda: http.post("/v1/leases", json={"scenario": "tiny_1", "timeout_s": -1}),
    "timeout_s NaN": lambda: http.post("/v1/leases", content=b'{"scenario": "tiny_1", "timeout_s": NaN}',
                                       headers={"Content-Type": "application/json"}),
    "timeout_s Infinity": lambda: http.post("/v1/leases", content=b'{"scenario": "tiny_1", "timeout_s": Infinity}',
                                            headers={"Content-Type": "application/json"}),
    "timeout_s 1e308": lambda: http.post("/v1/leases", json={"scenario": "tiny_1", "timeout_s": 1e308}),
    "arguments a list": lambda: http.post(calls, json={"tool": "list_notes", "arguments": [1, 2]}, headers=auth),
    "arguments nested 100,000 deep": lambda: http.post(calls, content=b'{"tool": "list_notes", "arguments": {"a": '
                                                       + b"[" * 100_000 + b"]" * 100_000 + b"}}",
                                                       headers={**auth, "Content-Type": "application/json"}),
    "tool missing": lambda: http.post(calls, json={"arguments": {}}, headers=auth),
    "tool 10,000 characters": lambda: http.post(calls, json={"tool": "t" * 10_000}, headers=auth),
    "no token": lambda: http.post(calls, json={"tool": "list_notes"}),
    "wrong token": lambda: http.post(calls, json={"tool": "list_notes"}, headers={"Authorization": "Bearer nope"}),
    "token not ASCII": lambda: http.post(calls, json={"tool": "list_notes"},
                                         headers={"Authorization": "Bearer \xe9\xe8".encode("latin-1")}),
    "renew with 10,001 leases": lambda: http.post("/v1/leases/renew",
                                                  json={"leases": [{"lease_id": "a", "token": "b"}] * 10_001}),
    "renew not a list": lambda: http.post("/v1/leases/renew", json={"leases": "all"}),
    "unknown route": lambda: http.get("/v1/nothing/here"),
    "wrong method": lambda: http.put("/v1/leases"),
}
out = {}
for name, send in cases.items():
    try:
        response = send()
    except httpx.HTTPError as exc:  # the server closed the connection: acceptable only if said so
        out[name] = {"status": None, "closed": type(exc).__name__}
        continue
    try:
        body = response.json()
    except ValueError:
        body = None
    out[name] = {"status": response.status_code, "length": len(response.content), "body": body if len(response.content) < 5000 else None}
surrogate = http.post(calls, content=b'{"tool": "list_\\ud800"}', headers={**auth, "Content-Type": "application/json"})
out["lone surrogate in the tool name"] = {"status": surrogate.status_code, "json": surrogate.json()}
http.delete(f"/v1/leases/{lease}", headers=auth)  # 410 if it expired meanwhile: nobody renewed it
grant = http.post("/v1/leases", json={"scenario": "tiny_1"}).json()
auth = {"Authorization": f"Bearer {grant['token']}"}
out["still serving"] = http.post(f"/v1/leases/{grant['lease_id']}/calls", json={"tool": "list_notes"}, headers=auth).status_code
http.delete(f"/v1/leases/{grant['lease_id']}", headers=auth)
print(json.dumps(out))
"""


def test_bad_input_gets_a_bounded_4xx_and_never_a_500(gateway):
    farm, url = gateway
    out = run_client(BAD_INPUT, url)
    assert out.pop("still serving") == 200
    surrogate = out.pop("lone surrogate in the tool name")  # not valid UTF-8: refused with a reason
    assert surrogate["status"] == 422 and "unicode" in surrogate["json"]["detail"]
    for name in ("50 MB body", "50 MB chunked body", "50 MB call arguments"):
        assert out[name]["status"] == 413, (name, out[name])
    parser_refusals = {"1 MB header", "60 KB lease id"}  # uvicorn's HTTP parser may refuse these itself
    for name, answer in out.items():
        if name in parser_refusals and (answer["status"] is None or answer["body"] is None):
            assert answer["status"] in (None, 400, 413, 414, 431), (name, answer)
            continue
        assert 400 <= answer["status"] < 500, (name, answer)
        assert answer["length"] < 3000, (name, answer["length"])  # nothing echoed back in full
        body = answer["body"]
        assert set(body) == {"error", "detail"} and isinstance(body["detail"], str) and body["detail"], (name, body)
    assert out["500-character unknown scenario"]["status"] == 404
    assert out["500-character unknown scenario"]["body"]["error"] == "unknown_scenario"
    assert out["wrong token"]["status"] == 403 and out["no token"]["status"] == 403
    assert out["500-character lease id"]["status"] == 410
    assert out["renew with 10,001 leases"]["status"] in (413, 422)
    deadline = time.monotonic() + 2 * TTL
    while stats(farm)["leases_active"]:  # the released ones at once; one that expired at the next heartbeat
        assert time.monotonic() < deadline
        time.sleep(0.2)


def send_slowly_then_read(url: str, head: bytes, pieces: list[bytes]) -> bytes:
    """Send a request as most clients do (the whole body first, here slowly), then read the answer."""
    address = httpx.URL(url)
    with socket.create_connection((address.host, address.port), timeout=30) as sock:
        sock.sendall(head)
        for piece in pieces:
            sock.sendall(piece)  # BrokenPipeError / ConnectionResetError if the gateway hung up meanwhile
            time.sleep(0.01)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_client_that_sends_its_whole_body_first_still_reads_the_413(gateway):
    """A refused body is read and dropped, not cut off: a gateway that answers 413 and hangs up while
    the body is still coming resets the connection under a client that writes before it reads (httpx,
    requests), which then reports a broken connection instead of the 413."""
    _, url = gateway
    megabyte = b"x" * 2**20
    sized = (b"POST /v1/leases HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % (12 * len(megabyte)))  # fmt: skip
    chunked = (b"POST /v1/leases HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
               b"Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    framed = b"%x\r\n%s\r\n" % (len(megabyte), megabyte)
    for head, pieces in ((sized, [megabyte] * 12), (chunked, [framed] * 12 + [b"0\r\n\r\n"])):
        answer = send_slowly_then_read(url, head, pieces)
        status, _, body = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 413"), answer[:300]
        assert json.loads(body)["error"] == "too_large"


def test_arguments_json_cannot_read_are_answered_like_any_bad_arguments(gateway):
    _, url = gateway
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as http:
        grant = http.post("/v1/leases", json={"scenario": "tiny_1"}).json()
        auth = {"Authorization": f"Bearer {grant['token']}"}
        calls = f"/v1/leases/{grant['lease_id']}/calls"
        try:
            answers = [http.post(calls, json={"tool": "list_notes", "arguments": arguments}, headers=auth)
                       for arguments in ('{"a": ', '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}", '{"a": ' + "7" * 5001 + "}")]  # fmt: skip
        finally:
            http.delete(f"/v1/leases/{grant['lease_id']}", headers=auth)
    truncated, deep, long_number = (answer.json() for answer in answers)
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert truncated["error"] == deep["error"] == long_number["error"] == "arguments"
    assert "not valid JSON (arrays/objects nested too deeply" in deep["text"]
    assert "not valid JSON (a number longer than 4300 digits" in long_number["text"]


def test_errors_are_the_cause_alone_and_the_same_text_everywhere(gateway):
    from awm_ray.farm.remote import RemoteFarm

    farm, url = gateway

    async def errors():
        remote = RemoteFarm(url)
        found = {}
        for name in ("broken_1", "q" * 300):
            for via, client in (("ray", farm), ("remote", remote)):
                try:
                    await client.lease(name)
                except FarmError as exc:
                    found[(name[:8], via)] = exc
        await remote.close()
        return found

    found = asyncio.run(errors())
    answer = httpx.post(f"{url}/v1/leases", json={"scenario": "q" * 300}, trust_env=False).json()
    for (name, via), exc in found.items():
        assert type(exc) is (ScenarioUnavailable if name == "broken_1" else UnknownScenario), (via, type(exc))
        text = str(exc)
        for leak in ("\x1b[", "pid=", "ip=", "actor_id", "ray::", "Traceback", "awm_ray/", "gateway answered"):
            assert leak not in text, (via, leak, text[:300])
    unknown = str(found[("qqqqqqqq", "ray")])
    assert unknown == str(found[("qqqqqqqq", "remote")]) == answer["detail"]  # one text everywhere
    assert answer["error"] == "unknown_scenario" and len(unknown) < 200  # the name is cut, not echoed
    for via in ("ray", "remote"):
        assert str(found[("broken_1", via)]).startswith("scenario 'broken_1' could not be started")
        assert "boom at import" in str(found[("broken_1", via)])


GIVE_UP = r"""
import asyncio, json, sys, time
import httpx
from awm_ray.farm.remote import RemoteFarm

url = sys.argv[1]
out = {}
try:
    httpx.post(f"{url}/v1/leases", json={"scenario": "tiny_1", "timeout_s": 60}, timeout=1.5, trust_env=False)
except httpx.TimeoutException as exc:
    out["raw"] = type(exc).__name__

async def cancelled():
    farm = RemoteFarm(url)
    try:
        await asyncio.wait_for(farm.lease("tiny_1", timeout_s=60), 1.5)
    except (asyncio.TimeoutError, TimeoutError):
        out["remote"] = "TimeoutError"
    await farm.close()

asyncio.run(cancelled())
print(json.dumps(out), flush=True)
time.sleep(30)  # alive: only the closed requests can tell the gateway they were given up
"""


def test_a_client_that_gives_up_while_queued_leaves_nothing_held(gateway):
    """F11: the raw HTTP client times out, the `RemoteFarm` caller is cancelled, while queued."""
    farm, url = gateway

    async def hold_every_slot():
        return [await farm.lease("tiny_1") for _ in range(2)]

    held = asyncio.run(hold_every_slot())
    proc = subprocess.Popen([sys.executable, "-c", GIVE_UP, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert json.loads(line) == {"raw": "ReadTimeout", "remote": "TimeoutError"}, proc.stderr.read()[-3000:] if not line else line
        deadline = time.monotonic() + 10
        while stats(farm)["queue_depth"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stats(farm)["queue_depth"] == 0  # withdrawn when they gave up, not at their 60 s timeout

        async def release():
            for ep in held:
                await ep.release()

        asyncio.run(release())
        deadline = time.monotonic() + 10
        while stats(farm)["leases_active"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stats(farm)["leases_active"] == 0  # no grant went to nobody
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


REMOTE_HOLDER = r"""
import asyncio, sys
from awm_ray.farm.remote import RemoteFarm

async def main():
    farm = RemoteFarm(sys.argv[1])
    ep = await farm.lease("tiny_1")
    print(ep.lease_id, flush=True)
    await asyncio.sleep(3 * float(sys.argv[2]))  # silent for three ttl: only the keepalive speaks
    print((await ep.call("list_notes")).status, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_remote_holder_keeps_its_lease_while_alive_and_loses_it_killed(gateway):
    farm, url = gateway
    procs = [subprocess.Popen([sys.executable, "-c", REMOTE_HOLDER, url, str(TTL)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    try:
        for proc in procs:
            assert proc.stdout.readline().strip(), proc.stderr.read()[-3000:]
        survivor, victim = procs
        assert survivor.stdout.readline().strip() == "200"  # after 3 ttl of silence: still its lease
        victim.stdout.readline()
        assert stats(farm)["leases_active"] == 2
        victim.kill()
        victim.wait()
        killed_at = time.monotonic()
        while stats(farm)["leases_active"] != 1 and time.monotonic() - killed_at < TTL + 10:
            time.sleep(0.1)
        gone_after = time.monotonic() - killed_at
        assert stats(farm)["leases_active"] == 1 and TTL - 0.5 <= gone_after <= TTL + 10, gone_after
        deadline = time.monotonic() + 2 * TTL
        while httpx.get(f"{url}/v1/health", trust_env=False).json()["leases_held_here"] != 1:
            assert time.monotonic() < deadline  # the gateway forgets the expired lease too
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
