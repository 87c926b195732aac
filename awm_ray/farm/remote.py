"""The farm over HTTP: the same episode interface as `Farm`, through the gateway.

For processes that are not Ray drivers (verifiers env-server workers, other trainers):

```python
farm = RemoteFarm("http://127.0.0.1:8765")
async with farm.lease("bookstore_1") as ep:
    result = await ep.call("search_books", '{"query": "dune"}')
await farm.close()
```

Like `Farm`, a `RemoteFarm` is a lease holder: it renews every lease it holds from a background
thread, all of them in one `POST /v1/leases/renew` per round (`awm_ray.farm.holder`), so a lease
lives as long as this process; killed, it stops renewing and the gateway's farm expires its leases
after `lease_ttl_s`. Errors are the farm's own classes with the gateway's `detail` as their text,
the same text `Farm` raises.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import weakref
from typing import Any
from urllib.parse import urlsplit

import httpx

from awm_ray.farm.errors import LeaseLost, from_kind
from awm_ray.farm.holder import Held, HeldLeases, LeaseRequest
from awm_ray.hosting import CallResult
from awm_ray.verification import Verification

log = logging.getLogger(__name__)
RENEW_CHUNK = 5_000  # leases per renewal request (the gateway takes up to 10,000)
_JSON = {"Content-Type": "application/json"}


def _raise_for(response: httpx.Response) -> None:
    """Raise the farm error a gateway error answer stands for (`{"error": kind, "detail": text}`)."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
        kind, detail = body.get("error"), body.get("detail")
    except (ValueError, AttributeError):
        kind, detail = None, None
    if not isinstance(detail, str):
        detail = f"the gateway answered {response.status_code}: {response.text[:500]}"
    raise from_kind(kind, detail)


class RemoteEpisode:
    def __init__(self, farm: RemoteFarm, grant: dict[str, Any]):
        self._farm = farm
        self.lease_id: str = grant["lease_id"]
        self._token: str = grant["token"]
        self._auth = {"Authorization": f"Bearer {self._token}"}
        self.scenario: str = grant["scenario"]
        self.worker_id: str = grant["worker_id"]
        self.node_id: str = grant["node_id"]
        self.tools: list[dict[str, Any]] = grant["tools"]
        self.lease_ttl_s: float = float(grant.get("lease_ttl_s") or 600.0)
        self.released = False
        farm._held.add(Held(self.lease_id, self._token, self.lease_ttl_s, True))
        self._finalizer = weakref.finalize(self, farm._held.discard, self.lease_id)  # dropped: no longer renewed
        self._finalizer.atexit = False

    async def call(self, tool: str, arguments: str | dict | None = None) -> CallResult:
        if self.released:
            raise LeaseLost(f"lease {self.lease_id} was released")
        try:
            # ASCII JSON: text the model sent that UTF-8 cannot encode (a lone surrogate) still travels,
            # and the farm answers it as a bad argument, as it does for a call through Ray
            body = json.dumps({"tool": tool, "arguments": arguments}).encode()
            response = await self._farm._http.post(
                f"/v1/leases/{self.lease_id}/calls", content=body, headers={**self._auth, **_JSON}
            )
        except httpx.HTTPError as exc:
            raise LeaseLost(f"lease {self.lease_id}: the gateway is unreachable ({type(exc).__name__}: {exc})") from None
        _raise_for(response)
        body = response.json()
        body.pop("ok", None)
        return CallResult(**body)

    async def verify(self, task_index: int, final_answer: str | None = None, mode: str | None = None) -> Verification:
        """`Episode.verify` through the gateway (`POST /v1/leases/{id}/verify`): the task's verifier
        run on the worker holding the slot, before release."""
        if self.released:
            raise LeaseLost(f"lease {self.lease_id} was released")
        body = {"task_index": task_index, "final_answer": final_answer, "mode": mode}
        try:
            response = await self._farm._http.post(f"/v1/leases/{self.lease_id}/verify", json=body, headers=self._auth)
        except httpx.HTTPError as exc:
            raise LeaseLost(f"lease {self.lease_id}: the gateway is unreachable ({type(exc).__name__}: {exc})") from None
        _raise_for(response)
        return Verification.from_dict(response.json())

    async def renew(self) -> None:
        """Renew the lease now (the farm handle does it by itself); `LeaseLost` if it ended."""
        _raise_for(await self._farm._http.post(f"/v1/leases/{self.lease_id}/renew", headers=self._auth))

    async def release(self) -> None:
        """Give the lease back. Safe twice; if the request cannot be sent or is cancelled, the
        holder's background thread sends it, so a cancelled episode still releases at once."""
        if self.released:
            return
        self.released = True
        self._finalizer.detach()
        self._farm._held.discard(self.lease_id)
        try:
            await self._farm._http.delete(f"/v1/leases/{self.lease_id}", headers=self._auth)
        except (httpx.HTTPError, asyncio.CancelledError) as exc:
            self._farm._release_later(self.lease_id, self._token)
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def __aenter__(self) -> RemoteEpisode:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class GatewayUnreachable(ConnectionError):
    """No gateway answered at the URL (connection refused or reset, timed out, or not HTTP)."""


class RemoteFarm:
    """A farm reached through its HTTP gateway."""

    def __init__(self, url: str, timeout_s: float = 120.0):
        """Raises `ValueError` for a URL that is not http(s)://host[:port]; requests that find no
        gateway there raise `GatewayUnreachable`."""
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"the gateway URL must look like http://HOST:PORT, not {url[:200]!r}")
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=timeout_s, trust_env=False, limits=httpx.Limits(max_keepalive_connections=64)
        )
        self._sync_http: httpx.Client | None = None  # the keepalive thread's own connection
        self._held = HeldLeases(self._renew_round, name="awm-ray-remote-keepalive")
        self._closed = False
        atexit.register(_close_at_exit, weakref.ref(self))

    def lease(self, scenario: str, timeout_s: float | None = None) -> LeaseRequest[RemoteEpisode]:
        """A lease on a clean slot of `scenario`: `await` it, or use it as an async context manager.
        Cancelling the awaiting task closes the request, and the gateway withdraws it."""

        async def get() -> RemoteEpisode:
            response = await self._send("POST", "/v1/leases", json={"scenario": scenario, "timeout_s": timeout_s},
                                        timeout=(timeout_s or 600) + 30)  # fmt: skip
            _raise_for(response)
            return RemoteEpisode(self, response.json())

        return LeaseRequest(get)

    async def stats(self) -> dict[str, Any]:
        response = await self._send("GET", "/v1/stats")
        _raise_for(response)
        return response.json()

    async def health(self) -> dict[str, Any]:
        response = await self._send("GET", "/v1/health")
        _raise_for(response)
        return response.json()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # refused, reset, timed out, not HTTP: nobody serves there
            detail = str(exc) or type(exc).__name__
            raise GatewayUnreachable(f"cannot reach the farm's gateway at {self.url}: {detail}") from None

    async def close(self) -> None:
        """Release every lease this handle still holds and close its connections."""
        if self._closed:
            return
        self._closed = True
        self._held.close()
        held = self._held.take_all()
        await asyncio.gather(
            *(self._http.delete(f"/v1/leases/{h.lease_id}", headers={"Authorization": f"Bearer {h.token}"})
              for h in held), return_exceptions=True,
        )  # fmt: skip
        await self._http.aclose()
        if self._sync_http is not None:
            self._sync_http.close()

    # ---- the keepalive thread's side (blocking) -------------------------------------------

    def _client(self) -> httpx.Client:
        if self._sync_http is None:
            self._sync_http = httpx.Client(base_url=self.url, timeout=self._timeout_s, trust_env=False)
        return self._sync_http

    def _renew_round(self, batch: list[Held]) -> list[str]:
        lost: list[str] = []
        for start in range(0, len(batch), RENEW_CHUNK):
            chunk = [{"lease_id": h.lease_id, "token": h.token} for h in batch[start : start + RENEW_CHUNK]]
            response = self._client().post("/v1/leases/renew", json={"leases": chunk})
            _raise_for(response)
            lost += response.json()["lost"]
        return lost

    def _release_later(self, lease_id: str, token: str) -> None:
        """Send a release from a thread (the caller's task was cancelled, or its request failed)."""
        import threading

        def send() -> None:
            try:
                self._client().delete(f"/v1/leases/{lease_id}", headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as exc:  # the gateway is gone: the lease expires on its own
                log.info("releasing lease %s: %s", lease_id, exc)

        threading.Thread(target=send, name="awm-ray-release", daemon=True).start()

    def _close_now(self) -> None:
        """At interpreter exit: release what is held, synchronously."""
        if self._closed:
            return
        self._closed = True
        self._held.close()
        for held in self._held.take_all():
            try:
                self._client().delete(f"/v1/leases/{held.lease_id}", headers={"Authorization": f"Bearer {held.token}"})
            except httpx.HTTPError:
                break  # the gateway is gone: the leases expire on their own
        if self._sync_http is not None:
            self._sync_http.close()


def _close_at_exit(ref: weakref.ref[RemoteFarm]) -> None:
    farm = ref()
    if farm is not None:
        farm._close_now()
