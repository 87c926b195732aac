"""Each slot's app imported into this process under its own module name, called over ASGI.

No port, no process: about a megabyte per extra copy instead of a uvicorn process. The module is
imported with `DATABASE_PATH` pointing at the slot's DB (AWM apps bind their engine at import).
App exceptions become HTTP 500, as a real server answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import sys
import threading
import traceback
import types
import warnings
from pathlib import Path
from urllib.parse import quote, unquote, urlencode


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
        super().__init__(None)
        self.module = module
        self._app = module.app
        self._closed = False

    async def _exchange(self, request: HttpRequest, timeout_s: float) -> tuple[int, str]:
        """One request straight into the ASGI app.

        The farm's hot path: an httpx client (or its ASGITransport) costs ~0.4 ms a call under load
        for URL and header handling that a call inside this process does not need. What matters is
        kept: an app exception is answered with HTTP 500, as a server would.
        """
        body = b"" if request.json is None else json.dumps(request.json).encode()
        headers = [(b"host", b"scenario")]
        if request.json is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": "http", "path": unquote(request.path), "raw_path": request.path.encode(), "root_path": "",
            "query_string": urlencode(request.query, quote_via=quote).encode(), "headers": headers,
            "client": ("127.0.0.1", 0), "server": ("scenario", 80),
        }  # fmt: skip
        status, chunks, done = 0, [], asyncio.Event()
        request_sent = False

        async def receive() -> dict:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self._app(scope, receive, send)
        except Exception:  # Starlette has sent its 500 already, or nothing was sent at all
            if not status:
                status, chunks = 500, [b"Internal Server Error"]
        done.set()
        return status, b"".join(chunks).decode("utf-8", errors="replace")

    def alive(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        dispose_module(self.module)


class InProcessBackend(Backend):
    """Hosts apps inside this process, called directly over ASGI (no port, no process)."""

    name = "inprocess"

    async def start(self, scenario: Scenario, db_path: Path, workdir: Path) -> InProcessApp:
        # importing runs the scenario's module code: off the event loop, so other slots keep serving
        return InProcessApp(await asyncio.to_thread(import_app_module, scenario, db_path))

    async def create_schema(self, scenario: Scenario, db_path: Path, workdir: Path, timeout_s: float) -> None:
        module = await asyncio.to_thread(import_app_module, scenario, db_path)
        dispose_module(module)
