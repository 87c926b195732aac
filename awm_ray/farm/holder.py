"""What a lease holder keeps, for the Ray client (`Farm`) and the HTTP client (`RemoteFarm`) alike.

A lease lives as long as its holder: a holder process renews every lease it holds from one daemon
thread, in batches (one request per worker, or per gateway, per round, whatever the number of
leases), so a model turn of any length never loses its slot, and an event loop that is busy or
blocked does not stop the renewals. A holder that dies (killed, its node lost) stops renewing and
its leases expire after the farm's `lease_ttl_s`. Rounds run every `lease_ttl_s / 3` (the shortest
ttl among the leases held), so two rounds may fail in a row before a lease expires.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)
E = TypeVar("E")

RENEW_FRACTION = 1 / 3  # a round every ttl/3: a lease survives two failed rounds
MIN_INTERVAL_S = 0.05


@dataclass(eq=False)
class Held:
    """One lease a holder holds: what a renewal needs (`route`: where it is renewed, client-specific)."""

    lease_id: str
    token: str
    ttl_s: float
    keepalive: bool
    route: Any = None


class HeldLeases:
    """The leases one client handle holds, and the daemon thread that renews those with `keepalive`.

    `renew(batch)` gets every kept-alive lease once per round and returns the ids of those that
    are no longer held (dropped from the round); it runs on the keepalive thread, so it must be
    thread-safe and blocking (no event loop). An exception is logged and the next round retries.
    """

    def __init__(self, renew: Callable[[list[Held]], Iterable[str]], name: str):
        self._renew = renew
        self._name = name
        self._held: dict[str, Held] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.rounds = 0
        self.renewed = 0

    def add(self, held: Held) -> None:
        with self._cond:
            self._held[held.lease_id] = held
            if held.keepalive and not self._closed:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
                self._cond.notify()  # its ttl may be shorter than the current round's interval

    def discard(self, lease_id: str) -> Held | None:
        with self._cond:
            return self._held.pop(lease_id, None)

    def take_all(self) -> list[Held]:
        """Every held lease, forgotten here (for a release of them all)."""
        with self._cond:
            held, self._held = list(self._held.values()), {}
            return held

    def __len__(self) -> int:
        return len(self._held)

    def close(self) -> None:
        """Stop the thread (the leases stay held until released or expired)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _interval(self) -> float | None:
        ttls = [h.ttl_s for h in self._held.values() if h.keepalive]
        return max(MIN_INTERVAL_S, min(ttls) * RENEW_FRACTION) if ttls else None

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            with self._cond:
                while not self._closed:
                    interval = self._interval()
                    wait = None if interval is None else last + interval - time.monotonic()
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closed:
                    return
                batch = [h for h in self._held.values() if h.keepalive]
            last = time.monotonic()
            try:
                lost = set(self._renew(batch))
            except Exception as exc:  # the farm or gateway unreachable for a moment: retry next round
                log.warning("renewing %d lease(s) failed: %s: %s", len(batch), type(exc).__name__, exc)
                continue
            self.rounds += 1
            self.renewed += len(batch) - len(lost)
            if lost:
                log.info("%d lease(s) no longer held (expired or lost): not renewed any more", len(lost))
                with self._cond:
                    for lease_id in lost:
                        self._held.pop(lease_id, None)


class LeaseRequest(Generic[E]):
    """`await farm.lease(x)` gives an episode; `async with farm.lease(x) as ep` also releases it.

    Cancelling the task that awaits it withdraws the request (a grant that arrives later is
    released); an exception or cancellation inside the `async with` block releases the lease.
    """

    def __init__(self, get: Callable[[], Awaitable[E]]):
        self._get = get
        self._episode: E | None = None

    def __await__(self):
        return self._get().__await__()

    async def __aenter__(self) -> E:
        self._episode = await self._get()
        return self._episode

    async def __aexit__(self, *exc: object) -> None:
        if self._episode is not None:
            await self._episode.release()  # type: ignore[attr-defined]
