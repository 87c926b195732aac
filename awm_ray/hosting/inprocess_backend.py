"""Each slot's app imported into this process under its own module name, served over ASGI.

No port, no process: about a megabyte per extra copy instead of a uvicorn process. The module is
imported with `DATABASE_PATH` pointing at the slot's DB (AWM apps bind their engine at import).
App exceptions become HTTP 500, as a real server answers.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import threading
import traceback
import types
import warnings
from pathlib import Path

import httpx

from awm_ray.hosting.backend import Backend, HostedApp, ServerStartError, database_url
from awm_ray.scenario import HttpRequest, Scenario

# AWM's generated code uses Field(example=...) and datetime.utcnow(): their deprecation warnings fire
# at import and again when FastAPI renders its OpenAPI document, long after the import returned.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"<awm-ray scenario")
warnings.filterwarnings("ignore", message=r"`example` has been deprecated")
_IMPORT_LOCK = threading.Lock()  # DATABASE_PATH is process-global while a module imports
_COUNTER = itertools.count()


def import_app_module(scenario: Scenario, db_path: Path) -> types.ModuleType:
    """Execute the scenario code as a fresh module bound to `db_path`; raise `ServerStartError` on failure."""
    if scenario.code is None:
        raise ServerStartError(f"scenario {scenario.name!r} has no server code (missing part: env)")
    slug = re.sub(r"\W", "_", scenario.name)[:40]
    name = f"awm_scenario_{slug}_{next(_COUNTER)}"
    module = types.ModuleType(name)
    module.__file__ = f"<awm-ray scenario {scenario.name}>"
    with _IMPORT_LOCK:
        previous = os.environ.get("DATABASE_PATH")
        os.environ["DATABASE_PATH"] = database_url(db_path)
        sys.modules[name] = module  # pydantic resolves annotations through sys.modules
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(scenario.code, module.__file__, "exec"), module.__dict__)
        except (Exception, SystemExit) as exc:
            sys.modules.pop(name, None)
            detail = "".join(traceback.format_exception(exc, limit=-3)).strip()
            raise ServerStartError(f"importing scenario {scenario.name!r} failed:\n{detail[-2000:]}") from None
        finally:
            if previous is None:
                os.environ.pop("DATABASE_PATH", None)
            else:
                os.environ["DATABASE_PATH"] = previous
    if getattr(module, "app", None) is None:
        sys.modules.pop(name, None)
        raise ServerStartError(f"scenario {scenario.name!r} defines no module-level `app`")
    return module


def dispose_module(module: types.ModuleType) -> None:
    engine = getattr(module, "engine", None)
    if engine is not None and hasattr(engine, "dispose"):
        engine.dispose()
    sys.modules.pop(module.__name__, None)


class InProcessApp(HostedApp):
    def __init__(self, module: types.ModuleType):
        self._transport = httpx.ASGITransport(app=module.app, raise_app_exceptions=False)
        super().__init__(httpx.AsyncClient(transport=self._transport, base_url="http://scenario"))
        self.module = module
        self._closed = False

    async def _exchange(self, request: HttpRequest, timeout_s: float) -> tuple[int, str]:
        # Straight to the transport: no cookies, redirects or auth to process in-process (~0.2 ms a call).
        outgoing = httpx.Request(
            request.method, "http://scenario" + request.path, params=list(request.query) or None, json=request.json
        )
        response = await self._transport.handle_async_request(outgoing)
        body = await response.aread()
        return response.status_code, body.decode("utf-8", errors="replace")

    def alive(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._client.aclose()
        dispose_module(self.module)


class InProcessBackend(Backend):
    """Hosts apps inside this process (`httpx.ASGITransport`)."""

    name = "inprocess"

    async def start(self, scenario: Scenario, db_path: Path, workdir: Path) -> InProcessApp:
        # importing runs the scenario's module code: off the event loop, so other slots keep serving
        return InProcessApp(await asyncio.to_thread(import_app_module, scenario, db_path))

    async def create_schema(self, scenario: Scenario, db_path: Path, workdir: Path, timeout_s: float) -> None:
        module = await asyncio.to_thread(import_app_module, scenario, db_path)
        dispose_module(module)
