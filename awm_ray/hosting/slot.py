"""A Slot: one hosted instance of a scenario and its own live DB file.

`reset()` restores the live DB from the template while the app keeps running, then checks the
content checksum; a slot that fails the check is marked unusable. `call()` turns a tool call into
a request and the response into the text the model sees; it never raises for the model's mistakes
or the app's bugs.
"""

from __future__ import annotations

import asyncio
import logging
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

log = logging.getLogger(__name__)


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
        """Run one tool call; errors of every kind come back as text for the model."""
        assert self.tools is not None, "start() the slot first"
        if isinstance(arguments, str) and len(arguments) > self.max_argument_bytes:
            return CallResult(
                tool, f"Error: arguments for tool '{tool}' are {len(arguments)} bytes; the limit is "
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
            return CallResult(tool, f"Error: the server did not answer tool '{tool}' ({exc}).", None, "timeout", operation_id)
        except (ServerGone, BackendError, SlotUnusable) as exc:
            self.usable = self.alive
            return CallResult(
                tool, f"Error: the environment's server is unavailable ({exc}).", None, "server_gone", operation_id
            )
        return CallResult(
            tool, response.as_text(self.max_response_chars), response.status, None, operation_id, response.elapsed_ms
        )

    async def close(self) -> None:
        self.usable = False
        app, self.app = self.app, None
        try:
            if app is not None:
                await app.close()
        finally:
            await asyncio.to_thread(shutil.rmtree, self.workdir, True)
