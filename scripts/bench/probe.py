"""Scenario probing: which tools a benchmark calls (readers, one writer, a 5-call episode)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class ScenarioPlan:
    name: str
    reads: list[tuple[str, str]]  # (tool, JSON arguments) of GET tools answering 2xx on a fresh DB
    write: tuple[str, str] | None  # a write tool that answers 2xx and changes the DB
    episode: list[tuple[str, str]]  # the scripted 5-call episode

    def read_requests(self, toolset: Any) -> list[tuple[str, str, Any]]:
        """(tool, args, HttpRequest) for the direct calls: the same request the farm's slot sends."""
        return [(tool, args, toolset.request(tool, args)) for tool, args in self.reads]


async def probe_scenario(slot: Any) -> ScenarioPlan:
    """Call every endpoint with its example arguments on a fresh DB; keep readers and one writer."""
    from awm_ray.scenario import content_checksum

    reads: list[tuple[str, str]] = []
    writes: list[tuple[str, str]] = []
    for tool in slot.tools.values():
        args = json.dumps(tool.example_arguments())
        await slot.reset()
        result = await slot.call(tool.name, args)
        if not result.ok:
            continue
        if tool.method == "GET":
            reads.append((tool.name, args))
        elif tool.method in WRITE_METHODS:
            changed = await asyncio.to_thread(content_checksum, slot.db_path) != slot.template.checksum
            if changed:
                writes.append((tool.name, args))
    await slot.reset()
    if not reads:
        raise RuntimeError(f"scenario {slot.scenario.name}: no GET endpoint answers 2xx to its example arguments")
    writes.sort(key=lambda w: (slot.tools[w[0]].method != "POST",))
    write = writes[0] if writes else None
    r = [reads[i % len(reads)] for i in range(4)]
    episode = [r[0], r[1], write or r[2], r[2], r[3]]
    return ScenarioPlan(slot.scenario.name, reads[:3], write, episode)


async def raw_asgi_call(app: Any, req: Any) -> tuple[int, bytes]:
    """One request straight into an ASGI app (no httpx): the floor of the in-process backend."""
    from urllib.parse import urlencode

    body = json.dumps(req.json).encode() if req.json is not None else b""
    headers = [(b"host", b"scenario")]
    if req.json is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": req.method,
             "scheme": "http", "path": req.path, "raw_path": req.path.encode(),
             "query_string": urlencode(list(req.query)).encode(), "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("scenario", 80)}  # fmt: skip
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)
