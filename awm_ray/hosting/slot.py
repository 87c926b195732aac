"""A Slot: one hosted instance of a scenario and its own live DB file.

`reset()` restores the live DB from the template while the app keeps running, then checks the
content checksum; a slot that fails the check is marked unusable. `call()` turns a tool call into
a request and the response into the text the model sees; it never raises for the model's mistakes
or the app's bugs. A call that times out is abandoned, not stopped: its handler may still write to
the live DB after a reset, so such a slot is counted (`abandoned_calls`) and closed, never reused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awm_ray.hosting.backend import Backend, BackendError, CallTimeout, HostedApp, ServerGone
from awm_ray.hosting.templates import Template
from awm_ray.scenario import (
    HttpRequest,
    HttpResponse,
    Scenario,
    ToolCallError,
    Toolset,
    content_checksum,
    restore,
    spec_from_openapi,
    tools_from_spec,
)
from awm_ray.scenario.tools import iter_endpoints
from awm_ray.text import clean

log = logging.getLogger(__name__)
# what Starlette answers when no route matches: the tool's spec and the app's code disagree
_ROUTING_MISSES = {(404, '{"detail":"Not Found"}'), (405, '{"detail":"Method Not Allowed"}')}
_PLACEHOLDER = re.compile(r"{[^{}]*}")


class SlotUnusable(RuntimeError):
    """The slot's DB could not be restored to the template, or its server is gone."""


@dataclass(frozen=True)
class CallResult:
    """One tool call as the episode records it."""

    tool: str
    text: str  # what the model sees
    status: int | None = None  # HTTP status, None when no request was sent
    error: str | None = None  # "arguments", "unknown_tool", "timeout", "server_gone"; None if a response came back
    operation_id: str | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool, "operation_id": self.operation_id, "status": self.status,
            "error": self.error, "elapsed_ms": round(self.elapsed_ms, 3),
        }  # fmt: skip


class Slot:
    """One scenario app (via a `Backend`) over one DB file copied from its `Template`."""

    def __init__(
        self,
        scenario: Scenario,
        backend: Backend,
        template: Template,
        workdir: Path,
        call_timeout_s: float = 30.0,
        max_response_chars: int = 20_000,
        max_argument_bytes: int = 1_000_000,
    ):
        self.scenario = scenario
        self.backend = backend
        self.template = template
        self.workdir = Path(workdir)
        self.db_path = self.workdir / "live.db"
        self.call_timeout_s = call_timeout_s
        self.max_response_chars = max_response_chars
        self.max_argument_bytes = max_argument_bytes
        self.app: HostedApp | None = None
        self.tools: Toolset | None = None
        self.tool_source: str | None = None
        self.spec: Mapping[str, Any] | None = scenario.spec  # the app's own, when the scenario has none
        self.usable = False
        self.abandoned_calls = 0  # calls that timed out: their handler may still run (see the module doc)
        self._app_routes: set[tuple[str, str]] | None = None

    async def start(self) -> Slot:
        self.workdir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, self.template.path, self.db_path)
        self.db_path.chmod(0o644)
        try:
            self.app = await self.backend.start(self.scenario, self.db_path, self.workdir)
            if self.scenario.spec is not None:
                self.tools, self.tool_source = tools_from_spec(self.scenario.spec), "spec"
            else:
                self.spec = spec_from_openapi(await self.app.openapi())
                self.tools, self.tool_source = tools_from_spec(self.spec), "openapi"
        except BaseException:
            await self.close()
            raise
        self.usable = True
        return self

    @property
    def alive(self) -> bool:
        return self.app is not None and self.app.alive()

    async def reset(self) -> float:
        """Restore the live DB from the template and verify it; returns milliseconds taken."""
        started = time.perf_counter()
        try:
            await asyncio.to_thread(self._restore_and_verify)
        except Exception as exc:
            self.usable = False
            raise SlotUnusable(f"slot of {self.scenario.name!r}: reset failed: {exc}") from exc
        return (time.perf_counter() - started) * 1000

    def _restore_and_verify(self) -> None:
        restore(self.template.path, self.db_path)
        checksum = content_checksum(self.db_path)
        if checksum != self.template.checksum:
            raise RuntimeError(f"live DB checksum {checksum[:12]} != template {self.template.checksum[:12]}")

    async def send(self, request: HttpRequest) -> HttpResponse:
        if self.app is None:
            raise SlotUnusable(f"slot of {self.scenario.name!r} is not started")
        return await self.app.send(request, self.call_timeout_s)

    async def call(self, tool: str, arguments: str | dict | None) -> CallResult:
        """Run one tool call; errors of every kind come back as text for the model.

        The result's texts are safe to encode (`awm_ray.text.clean`): a tool name or argument the
        model sent with a lone surrogate is echoed in an error text with U+FFFD in its place."""
        result = await self._call(tool, arguments)
        return dataclasses.replace(result, tool=clean(result.tool), text=clean(result.text))

    async def _call(self, tool: str, arguments: str | dict | None) -> CallResult:
        assert self.tools is not None, "start() the slot first"
        size = len(arguments) if isinstance(arguments, str) else _json_size(arguments)
        if size > self.max_argument_bytes:
            return CallResult(
                tool, f"Error: arguments for tool '{tool}' are {size} bytes; the limit is "
                f"{self.max_argument_bytes}.", error="arguments",
            )  # fmt: skip
        try:
            request = self.tools.request(tool, arguments)
        except ToolCallError as exc:
            return CallResult(tool, str(exc), error="unknown_tool" if tool not in self.tools else "arguments")
        operation_id = self.tools[tool].operation_id
        try:
            response = await self.send(request)
        except CallTimeout as exc:
            self.abandoned_calls += 1
            return CallResult(tool, f"Error: the server did not answer tool '{tool}' ({exc}).", None, "timeout", operation_id)
        except (ServerGone, BackendError, SlotUnusable) as exc:
            self.usable = self.alive
            return CallResult(
                tool, f"Error: the environment's server is unavailable ({exc}).", None, "server_gone", operation_id
            )
        text = response.as_text(self.max_response_chars)
        routing_miss = response.status in (404, 405) and (response.status, response.body.strip()) in _ROUTING_MISSES
        if routing_miss and await self._unserved(tool):
            method, path = self.tools[tool].method, self.tools[tool].path
            text += (
                f"\nNote: the environment's server does not serve tool '{tool}' ({method} {path}): the scenario's "
                "API spec lists an operation its code does not implement."
            )
        return CallResult(tool, text, response.status, None, operation_id, response.elapsed_ms)

    async def _unserved(self, tool: str) -> bool:
        """Whether the app has no route for `tool` (its tools came from a spec the code disagrees with)."""
        if self.tool_source != "spec" or self.app is None:
            return False
        if self._app_routes is None:
            try:
                app_spec = spec_from_openapi(await self.app.openapi(self.call_timeout_s))
            except Exception:  # noqa: BLE001 - no OpenAPI document: say nothing rather than guess
                return False
            self._app_routes = {_route_key(e["method"], e["path"]) for e in iter_endpoints(app_spec)}
        spec_tool = self.tools[tool]  # type: ignore[index]
        return _route_key(spec_tool.method, spec_tool.path) not in self._app_routes

    async def close(self) -> None:
        self.usable = False
        app, self.app = self.app, None
        try:
            if app is not None:
                await app.close()
        finally:
            await asyncio.to_thread(shutil.rmtree, self.workdir, True)


def _json_size(arguments: Any) -> int:
    if arguments is None:
        return 0
    try:
        return len(json.dumps(arguments, default=str))
    except (TypeError, ValueError):
        return 0  # not JSON-able: the tool layer says what is wrong with it


def _route_key(method: str, path: str) -> tuple[str, str]:
    return str(method).upper(), _PLACEHOLDER.sub("{}", path.rstrip("/") or "/")
