"""Each slot's app imported into this process under its own module name, called over ASGI.

No port, no process: about a megabyte per extra copy instead of a uvicorn process. The module is
imported with `DATABASE_PATH` pointing at the slot's DB (AWM apps bind their engine at import).
App exceptions become HTTP 500, as a real server answers.

Imports are bounded by the start timeout: each runs in a thread of its own (not the loop's shared
executor, which a hung import would slowly use up), one at a time (`_EnvGate`), and the timeout
runs from when its turn comes. One that runs over is abandoned: the gate opens for the next
import, and the thread is sent `ImportAbandoned`, which stops pure-Python code at its next
bytecode; a thread blocked in native code (`time.sleep(10**6)`) stays until that call returns,
then stops. Such threads are counted (`containment_stats`). Only code that catches BaseException
can run on after that, with whatever `DATABASE_PATH` holds by then: a limit of in-process hosting.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import json
import logging
import os
import re
import sys
import threading
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

from awm_ray.hosting import guard, watchdog
from awm_ray.hosting.backend import Backend, HostedApp, ServerStartError, database_url, import_failure
from awm_ray.hosting.preflight import Preflight
from awm_ray.scenario import HttpRequest, Scenario

log = logging.getLogger(__name__)

# AWM's generated code uses Field(example=...) and datetime.utcnow(): their deprecation warnings fire
# at import and again when FastAPI renders its OpenAPI document, long after the import returned.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"<awm-ray scenario")
warnings.filterwarnings("ignore", message=r"`example` has been deprecated")
_COUNTER = itertools.count()
_ABANDONED: list[threading.Thread] = []  # import threads that ran past their timeout


class ImportAbandoned(BaseException):
    """Raised in an import thread that ran past the start timeout (a BaseException, so that
    scenario code's own `except Exception` does not swallow it)."""


class _Ticket:
    """One import's claim on the env gate."""

    __slots__ = ("abandoned", "module_name", "on_enter", "previous")

    def __init__(self, on_enter: Callable[[], object] | None = None) -> None:
        self.abandoned = False
        self.module_name: str | None = None
        self.previous: str | None = None
        self.on_enter = on_enter  # called once the gate is ours: the start timeout runs from here


class _EnvGate:
    """At most one import at a time sets `DATABASE_PATH` (process-global) and runs module code.

    Unlike a plain lock, the claim of an import that timed out can be given up by the one waiting
    for it (`abandon`): the gate opens for the next import at once, and the stuck thread's own
    `leave` later finds it no longer holds the gate and touches nothing (not the env, which by then
    belongs to another import). A lock held by a hung import would block every later import forever.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holder: _Ticket | None = None

    def enter(self, ticket: _Ticket, database_path: str) -> bool:
        with self._cond:
            while self._holder is not None and not ticket.abandoned:
                self._cond.wait()
            if ticket.abandoned:
                return False
            self._holder, ticket.previous = ticket, os.environ.get("DATABASE_PATH")
            os.environ["DATABASE_PATH"] = database_path
        if ticket.on_enter is not None:
            try:
                ticket.on_enter()
            except RuntimeError:  # the waiting loop is gone: nobody needs to know
                pass
        return True

    def leave(self, ticket: _Ticket) -> None:
        with self._cond:
            if self._holder is ticket:
                self._release(ticket)

    def abandon(self, ticket: _Ticket) -> None:
        with self._cond:
            ticket.abandoned = True
            if self._holder is ticket:
                self._release(ticket)
            if ticket.module_name is not None:
                sys.modules.pop(ticket.module_name, None)
            self._cond.notify_all()  # a waiter whose own ticket was abandoned gives up too

    def _release(self, ticket: _Ticket) -> None:
        if ticket.previous is None:
            os.environ.pop("DATABASE_PATH", None)
        else:
            os.environ["DATABASE_PATH"] = ticket.previous
        self._holder = None
        self._cond.notify_all()


_GATE = _EnvGate()


def import_app_module(scenario: Scenario, db_path: Path, ticket: _Ticket | None = None) -> types.ModuleType:
    """Execute the scenario code as a fresh module bound to `db_path`; raise `ServerStartError` on failure.

    Blocking and unbounded: `import_bounded` is the way to call it from the event loop.
    """
    if scenario.code is None:
        raise ServerStartError(f"scenario {scenario.name!r} has no server code (missing part: env)")
    ticket = ticket or _Ticket()
    slug = re.sub(r"\W", "_", scenario.name)[:40]
    name = ticket.module_name = f"awm_scenario_{slug}_{next(_COUNTER)}"
    module = types.ModuleType(name)
    module.__file__ = f"<awm-ray scenario {scenario.name}>"
    if not _GATE.enter(ticket, database_url(db_path)):
        raise ImportAbandoned
    sys.modules[name] = module  # pydantic resolves annotations through sys.modules
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(scenario.code, module.__file__, "exec"), module.__dict__)
    except ImportAbandoned:
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit etc. too: scenario code must not end the worker
        sys.modules.pop(name, None)
        raise ServerStartError(f"importing scenario {scenario.name!r} failed: {import_failure(exc, module.__file__)}") from None
    finally:
        _GATE.leave(ticket)
    if getattr(module, "app", None) is None:
        sys.modules.pop(name, None)
        raise ServerStartError(f"scenario {scenario.name!r} defines no module-level `app`")
    return module


async def import_bounded(scenario: Scenario, db_path: Path, timeout_s: float) -> types.ModuleType:
    """`import_app_module` in a thread of its own, given up after `timeout_s` (see the module doc)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[types.ModuleType] = loop.create_future()
    entered: asyncio.Future[None] = loop.create_future()
    ticket = _Ticket(lambda: loop.call_soon_threadsafe(lambda: entered.done() or entered.set_result(None)))

    def settle(module: types.ModuleType | None, error: BaseException | None) -> None:
        if done.done():  # given up on already
            if module is not None:
                dispose_module(module)
        elif error is not None:
            done.set_exception(error)
        else:
            done.set_result(module)  # type: ignore[arg-type]

    def run() -> None:
        try:
            guard.IN_SCENARIO.set(True)  # its prints count against the output cap
            try:
                outcome: tuple = (import_app_module(scenario, db_path, ticket), None)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                outcome = (None, exc)
            loop.call_soon_threadsafe(settle, *outcome)
        except BaseException:  # noqa: BLE001, S110 - ImportAbandoned arriving late, or the loop closed
            pass

    thread = threading.Thread(target=run, name=f"awm-import-{scenario.name}"[:60], daemon=True)
    thread.start()
    try:
        # waiting for the gate (other imports, each bounded the same way) is not part of the timeout
        await asyncio.wait([entered, done], return_when=asyncio.FIRST_COMPLETED)
        async with asyncio.timeout(timeout_s):
            return await asyncio.shield(done)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _GATE.abandon(ticket)
        if done.done() and not done.cancelled() and done.exception() is None:
            dispose_module(done.result())  # it finished just as it was given up
        done.cancel()  # a module that still arrives is disposed by `settle`
        entered.cancel()
        if thread.is_alive():
            try:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(ImportAbandoned))
            except PermissionError:  # inside a sandbox, which refuses ctypes: its wall limit ends the thread
                pass
        if isinstance(exc, asyncio.CancelledError):
            raise
    for _ in range(10):  # pure Python stops at its next bytecode: give it a moment
        if not thread.is_alive():
            break
        await asyncio.sleep(0.05)
    if thread.is_alive():
        _ABANDONED[:] = [t for t in _ABANDONED if t.is_alive()] + [thread]
        how = "its thread is blocked in native code (e.g. time.sleep) and stays until that returns"
    else:
        how = "its thread was stopped"
    log.warning("scenario %s: import abandoned after %g s; %s", scenario.name, timeout_s, how)
    raise ServerStartError(
        f"scenario {scenario.name!r} did not finish importing within {timeout_s:g} s (it hangs, or is very slow, "
        f"at import; {how})"
    )


def stuck_import_threads() -> int:
    """Abandoned import threads still alive in this process."""
    return sum(t.is_alive() for t in _ABANDONED)


def dispose_module(module: types.ModuleType) -> None:
    engine = getattr(module, "engine", None)
    if engine is not None and hasattr(engine, "dispose"):
        engine.dispose()
    sys.modules.pop(module.__name__, None)
    _forget_endpoint_caches()


def _forget_endpoint_caches() -> None:
    """Let a disposed app's module be freed.

    FastAPI memoizes what kind of callable each endpoint is in module-level LRU caches of 4,096
    entries (`fastapi.dependencies.models`); every entry keeps its endpoint's whole module alive, so
    a worker that replaces slots kept ~1.3 MB per replaced app, up to ~400 of them. Clearing the
    caches costs the live apps one cheap `inspect` check per endpoint on their next call.
    """
    try:
        from fastapi.dependencies import models
    except ImportError:
        return
    for value in vars(models).values():
        if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
            value.cache_clear()


class InProcessApp(HostedApp):
    def __init__(self, module: types.ModuleType, scenario_name: str = ""):
        super().__init__(None)
        self.module = module
        self.scenario_name = scenario_name
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

        marked = guard.IN_SCENARIO.set(True)  # what the app prints counts against the output cap
        rss = watchdog.rss_bytes() if watchdog.ACTIVE else 0
        try:
            await self._app(scope, receive, send)
        except (Exception, SystemExit):  # Starlette has sent its 500 already, or nothing was sent at all
            if not status:
                status, chunks = 500, [b"Internal Server Error"]
        finally:
            guard.IN_SCENARIO.reset(marked)
            if rss:
                watchdog.note_growth(self.scenario_name, watchdog.rss_bytes() - rss)
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
    """Hosts apps inside this process, called directly over ASGI (no port, no process).

    Containment (`guard`) is not this class's business: `make_backend` applies it to a farm worker's
    process, never to one that merely constructs a backend (a test, the validate CLI).
    """

    name = "inprocess"

    def __init__(self, start_timeout_s: float = 30.0, preflight: Preflight | None = None):
        self.start_timeout_s = start_timeout_s
        self.preflight = preflight

    async def start(self, scenario: Scenario, db_path: Path, workdir: Path) -> InProcessApp:
        if self.preflight is not None:  # new code is imported in a sandboxed child first
            await self.preflight.check(scenario, db_path)
        # importing runs the scenario's module code: off the event loop, so other slots keep serving
        return InProcessApp(await import_bounded(scenario, db_path, self.start_timeout_s), scenario.name)

    async def create_schema(self, scenario: Scenario, db_path: Path, workdir: Path, timeout_s: float) -> None:
        if self.preflight is not None:
            await self.preflight.check(scenario, db_path)
        dispose_module(await import_bounded(scenario, db_path, timeout_s))

    def containment_stats(self) -> dict[str, int]:
        stats = {"import_threads_stuck": stuck_import_threads(), "output_bytes_dropped": guard.output_dropped()}
        if self.preflight is not None:
            stats.update(preflight_imports=self.preflight.checks, preflight_failures=self.preflight.failures)
        return stats

    def close(self) -> None:
        if self.preflight is not None:
            self.preflight.close()
