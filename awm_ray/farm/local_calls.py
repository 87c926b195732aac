"""Same-node tool calls over a worker's Unix socket instead of a Ray actor call.

A Ray actor round trip costs ~1.3 ms here, about a third of a whole tool call. An episode whose
worker runs on its own node sends calls over a keep-alive connection to the worker's socket
(`<worker dir>/calls.sock`, mode 0600, inside the farm's private directory) instead. The worker
checks the lease id and its secret token exactly as for a Ray call, so holding a connection grants
nothing. Across nodes, and whenever the socket cannot be used, calls go through Ray.

Frames are a 4-byte big-endian length and a JSON body, both ways.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from awm_ray.farm.errors import FarmError, LeaseLost, from_kind
from awm_ray.hosting import CallResult

log = logging.getLogger(__name__)
_HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024  # arguments and responses of many MB pass; a runaway frame does not
_MAX_UNIX_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS

CallHandler = Callable[[str, str, str, Any, str | None], Awaitable[CallResult]]


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
    return json.loads(await reader.readexactly(size))


def _frame(body: Any) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    if len(data) > MAX_FRAME:
        raise ValueError(f"frame of {len(data)} bytes exceeds the {MAX_FRAME}-byte limit")
    return _HEADER.pack(len(data)) + data


def _result_body(result: CallResult) -> dict[str, Any]:
    return {
        "tool": result.tool, "text": result.text, "status": result.status, "error": result.error,
        "operation_id": result.operation_id, "elapsed_ms": result.elapsed_ms,
    }  # fmt: skip


class CallSocket:
    """The worker's side: serves `handler(lease_id, token, tool, arguments, incarnation)`, and, for
    requests with `"op": "verify"`, `verify_handler(lease_id, token, task_index, final_answer, mode,
    settings, incarnation)` (the worker's `verify`, whose answer is a JSON object)."""

    def __init__(self, path: Path, handler: CallHandler, verify_handler: Callable[..., Awaitable[dict]] | None = None):
        self.path = path
        self._handler = handler
        self._verify_handler = verify_handler
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> str | None:
        """Listen; returns the socket path, or None where Unix sockets cannot be used."""
        if len(os.fsencode(self.path)) > _MAX_UNIX_PATH or not hasattr(asyncio, "start_unix_server"):
            return None
        self.path.unlink(missing_ok=True)
        old_umask = os.umask(0o177)  # created 0600: only this user's processes may connect
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=1 << 20)
        except OSError as exc:
            log.warning("no same-node call socket at %s (%s): calls go through Ray", self.path, exc)
            return None
        finally:
            os.umask(old_umask)
        return str(self.path)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.close()
            self._server = None
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                try:
                    request = await _read_frame(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                writer.write(_frame(await self._answer(request)))
                await writer.drain()
        except (ValueError, ConnectionError) as exc:  # a garbled or oversized frame ends the connection
            log.warning("call socket: dropping a connection: %s", exc)
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _answer(self, request: Any) -> dict[str, Any]:
        if isinstance(request, dict) and request.get("op") == "verify" and self._verify_handler is not None:
            return await self._answer_verify(request)
        try:
            lease_id, token, tool = request["lease_id"], request["token"], request["tool"]
            arguments, incarnation = request.get("arguments"), request.get("incarnation")
        except (KeyError, TypeError, AttributeError) as exc:  # not the handler's errors: only the request's
            return {"error": {"kind": FarmError.kind, "message": f"malformed call request: {exc!r}"}}
        try:
            result = await self._handler(lease_id, token, tool, arguments, incarnation)
        except FarmError as exc:
            return {"error": {"kind": exc.kind, "message": str(exc)}}
        except Exception as exc:
            log.exception("call socket: a call failed")
            return {"error": {"kind": FarmError.kind, "message": f"the worker failed the call: {type(exc).__name__}: {exc}"}}
        return {"result": _result_body(result)}


    async def _answer_verify(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            args = (request["lease_id"], request["token"], int(request["task_index"]), request.get("final_answer"),
                    request.get("mode") or "code", request.get("settings"), request.get("incarnation"))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            return {"error": {"kind": FarmError.kind, "message": f"malformed verify request: {exc!r}"}}
        try:
            assert self._verify_handler is not None
            return {"result": await self._verify_handler(*args)}
        except FarmError as exc:
            return {"error": {"kind": exc.kind, "message": str(exc)}}
        except Exception as exc:
            log.exception("call socket: a verification failed")
            return {"error": {"kind": FarmError.kind, "message": f"the worker failed the verification: {type(exc).__name__}: {exc}"}}


class SocketUnusable(Exception):
    """The connection failed before or while sending: the caller may use the Ray path instead."""


class CallConnection:
    """The episode's side: one keep-alive connection, one call at a time, bound to one event loop."""

    def __init__(self, path: str):
        self.path = path
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    async def call(self, request: dict[str, Any]) -> CallResult:
        """Send one call. Raises `SocketUnusable` if the request may not have reached the worker;
        `LeaseLost` if the worker went away after taking it."""
        return CallResult(**await self.exchange(request))

    async def exchange(self, request: dict[str, Any]) -> Any:
        """Send one request (a call, or `"op": "verify"`) and return its `result`; errors as `call`."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a different loop (a connection belongs to one)
            self.close()
            self._loop, self._lock = loop, asyncio.Lock()
        assert self._lock is not None
        async with self._lock:
            try:
                if self._streams is None:
                    self._streams = await asyncio.open_unix_connection(self.path, limit=1 << 20)
                reader, writer = self._streams
                writer.write(_frame(request))
                await writer.drain()
            except (OSError, ValueError) as exc:
                self.close()
                raise SocketUnusable(str(exc)) from None
            try:
                answer = await _read_frame(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
                self.close()
                raise LeaseLost(f"lease {request['lease_id']}: its worker went away mid-call ({type(exc).__name__})") from None
        if "error" in answer:
            raise from_kind(answer["error"]["kind"], answer["error"]["message"])
        return answer["result"]

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None
