"""The Backend seam: how a scenario app is hosted is invisible above this line.

A `Backend` starts a `HostedApp` for (scenario code, DB file); a `HostedApp` takes an
`HttpRequest` and returns an `HttpResponse` (plain primitives both ways, like httpx transports).
Both implementations answer the same requests with the same responses, 500s included.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import httpx

from awm_ray.scenario import HttpRequest, HttpResponse, Scenario


class BackendError(RuntimeError):
    """The hosted app could not be reached or started."""


class ServerStartError(BackendError):
    """The app failed to import or never answered; the message carries the reason (and log tail)."""


class ServerGone(BackendError):
    """The app's process died or its connection broke mid-call."""


class CallTimeout(BackendError):
    """The app did not answer within the call timeout."""


def database_url(db_path: Path) -> str:
    """The SQLAlchemy URL AWM apps read from `DATABASE_PATH`."""
    return f"sqlite:///{Path(db_path).resolve()}"


class HostedApp(ABC):
    """One running instance of a scenario app over one DB file."""

    def __init__(self, client: httpx.AsyncClient | None):
        self._client = client  # HTTP apps only; in-process apps override `_exchange`

    @property
    def pid(self) -> int | None:
        """The serving process, when it is not ours."""
        return None

    @abstractmethod
    def alive(self) -> bool: ...

    def death(self) -> tuple[bool, str] | None:
        """For an app that died by itself: (whether its own code caused it, what happened); else None."""
        return None

    async def send(self, request: HttpRequest, timeout_s: float) -> HttpResponse:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s + 1.0):  # the in-process transport has no timeouts of its own
                status, text = await self._exchange(request, timeout_s)
        except (httpx.TimeoutException, TimeoutError):
            raise CallTimeout(f"no answer within {timeout_s:g} s") from None
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise ServerGone(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        return HttpResponse(status, text, (time.perf_counter() - started) * 1000)

    async def _exchange(self, request: HttpRequest, timeout_s: float) -> tuple[int, str]:
        assert self._client is not None
        response = await self._client.request(
            request.method, request.path, params=list(request.query) or None, json=request.json, timeout=timeout_s
        )
        return response.status_code, response.text

    async def openapi(self, timeout_s: float = 30.0) -> dict[str, Any]:
        response = await self.send(HttpRequest("GET", "/openapi.json"), timeout_s)
        if not response.ok:
            raise BackendError(f"GET /openapi.json answered {response.status}: {response.body[:300]}")
        return json.loads(response.body)

    @abstractmethod
    async def close(self) -> None: ...


class Backend(ABC):
    """Starts hosted apps. `name` is what configs and reports call it."""

    name: str

    @abstractmethod
    async def start(self, scenario: Scenario, db_path: Path, workdir: Path) -> HostedApp:
        """Host `scenario.code` over `db_path`; `workdir` is the slot's own directory (logs)."""

    async def create_schema(self, scenario: Scenario, db_path: Path, workdir: Path, timeout_s: float) -> None:
        """Let the app's own ORM create its tables in `db_path` (for rows without a `db` part)."""
        raise NotImplementedError

    def containment_stats(self) -> dict[str, int]:
        """Counters of what scenario code left behind in this process (in-process backends only)."""
        return {}

    def close(self) -> None:
        """Release what the backend itself holds (not the apps, which close on their own)."""


def import_failure(exc: BaseException, module_file: str) -> str:
    """What importing scenario code raised, for an error text: the cause first, then up to three
    frames of the scenario's own code (`module_file`), none of ours; at most ~2,000 characters."""
    cause = "".join(traceback.format_exception_only(exc)).strip()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == module_file][-3:]
    where = "".join(traceback.format_list(frames)).rstrip()
    return f"{cause[-1500:]}\n{where[-500:]}" if where else cause[-2000:]

