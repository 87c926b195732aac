"""The farm over HTTP: the same episode interface as `Farm`, through the gateway.

For processes that are not Ray drivers (verifiers env-server workers, other trainers):

```python
farm = RemoteFarm("http://127.0.0.1:8765")
async with farm.lease("bookstore_1") as ep:
    result = await ep.call("search_books", '{"query": "dune"}')
await farm.close()
```
"""

from __future__ import annotations

from typing import Any

import httpx

from awm_ray.farm.client import LeaseRequest
from awm_ray.farm.errors import FarmError, LeaseLost, LeaseTimeout, ScenarioUnavailable, UnknownScenario
from awm_ray.hosting import CallResult

_ERRORS = {"lease_lost": LeaseLost, "lease_timeout": LeaseTimeout, "unknown_scenario": UnknownScenario,
           "scenario_unavailable": ScenarioUnavailable}  # fmt: skip


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        body = body.get("detail", body) if isinstance(body.get("detail"), dict) else body
        kind, detail = body.get("error"), body.get("detail", response.text)
    except (ValueError, AttributeError):
        kind, detail = None, response.text
    raise _ERRORS.get(kind, FarmError)(f"gateway answered {response.status_code}: {detail}")


class RemoteEpisode:
    def __init__(self, farm: RemoteFarm, grant: dict[str, Any]):
        self._farm = farm
        self.lease_id: str = grant["lease_id"]
        self._auth = {"Authorization": f"Bearer {grant['token']}"}
        self.scenario: str = grant["scenario"]
        self.worker_id: str = grant["worker_id"]
        self.node_id: str = grant["node_id"]
        self.tools: list[dict[str, Any]] = grant["tools"]
        self.released = False

    async def call(self, tool: str, arguments: str | dict | None = None) -> CallResult:
        try:
            response = await self._farm._http.post(
                f"/v1/leases/{self.lease_id}/calls", json={"tool": tool, "arguments": arguments}, headers=self._auth
            )
        except httpx.HTTPError as exc:
            raise LeaseLost(f"lease {self.lease_id}: the gateway is unreachable ({type(exc).__name__}: {exc})") from None
        _raise_for(response)
        body = response.json()
        body.pop("ok", None)
        return CallResult(**body)

    async def renew(self) -> None:
        _raise_for(await self._farm._http.post(f"/v1/leases/{self.lease_id}/renew", headers=self._auth))

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            await self._farm._http.delete(f"/v1/leases/{self.lease_id}", headers=self._auth)
        except httpx.HTTPError:
            pass  # the farm expires the lease on its own

    async def __aenter__(self) -> RemoteEpisode:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class RemoteFarm:
    """A farm reached through its HTTP gateway."""

    def __init__(self, url: str, timeout_s: float = 120.0):
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=timeout_s, trust_env=False, limits=httpx.Limits(max_keepalive_connections=64)
        )

    def lease(self, scenario: str, timeout_s: float | None = None) -> LeaseRequest[RemoteEpisode]:
        """A lease on a clean slot of `scenario`: `await` it, or use it as an async context manager."""

        async def get() -> RemoteEpisode:
            response = await self._http.post(
                "/v1/leases", json={"scenario": scenario, "timeout_s": timeout_s}, timeout=(timeout_s or 600) + 30
            )
            _raise_for(response)
            return RemoteEpisode(self, response.json())

        return LeaseRequest(get)

    async def stats(self) -> dict[str, Any]:
        response = await self._http.get("/v1/stats")
        _raise_for(response)
        return response.json()

    async def health(self) -> dict[str, Any]:
        response = await self._http.get("/v1/health")
        _raise_for(response)
        return response.json()

    async def close(self) -> None:
        await self._http.aclose()
