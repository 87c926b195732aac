"""The farm's client API for code without an event loop: `farm.sync.lease(...)`, `.stats()`, ...

Calls run on a private event loop thread. A call interrupted in the calling thread (Ctrl-C, an
exception raised into it) is cancelled on that loop too, so an interrupted `lease()` withdraws its
request instead of leaving a grant behind for nobody.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from awm_ray.hosting import CallResult

if TYPE_CHECKING:
    from awm_ray.farm.client import Episode, Farm
    from awm_ray.verification import Verification

T = TypeVar("T")
_TICK_S = 0.2


class SyncEpisode:
    def __init__(self, runner: SyncFarm, episode: Episode):
        self._runner, self.episode = runner, episode
        self.tools, self.scenario, self.lease_id = episode.tools, episode.scenario, episode.lease_id

    def call(self, tool: str, arguments: str | dict | None = None) -> CallResult:
        return self._runner.run(self.episode.call(tool, arguments))

    def verify(self, task_index: int, final_answer: str | None = None, mode: str | None = None) -> Verification:
        return self._runner.run(self.episode.verify(task_index, final_answer, mode))

    def renew(self) -> None:
        self._runner.run(self.episode.renew())

    def release(self) -> None:
        self._runner.run(self.episode.release())

    def __enter__(self) -> SyncEpisode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SyncFarm:
    """Runs the async API on a private event loop thread."""

    def __init__(self, farm: Farm):
        self._farm = farm
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="awm-ray-sync", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            while not future.done():  # short waits: a signal (Ctrl-C) is handled within a tick
                concurrent.futures.wait([future], timeout=_TICK_S)
            return future.result()
        except BaseException:
            future.cancel()  # interrupted here (e.g. KeyboardInterrupt): cancel it there too
            raise

    def lease(self, scenario: str, timeout_s: float | None = None) -> SyncEpisode:
        return SyncEpisode(self, self.run(self._lease(scenario, timeout_s)))

    async def _lease(self, scenario: str, timeout_s: float | None) -> Episode:
        return await self._farm.lease(scenario, timeout_s)

    def prewarm(self, scenarios: Iterable[str], per_scenario: int = 1) -> int:
        return self.run(self._farm.prewarm(scenarios, per_scenario))

    def stats(self) -> dict[str, Any]:
        return self.run(self._farm.stats())

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
