"""Stop a process that hosts scenario code in-process once that code has taken it over, and say whose.

Two things in-process scenario code can do that no call timeout stops: block the event loop (an
`async def` handler that spins or sleeps synchronously) and grow the process's memory without
bound. `Watchdog` (a daemon thread, one per farm worker) checks every `period_s`:

- the loop has not run for `wedge_s` while scenario code is on the loop thread's stack;
- resident memory is over `memory_mb`.

Memory first gets a gentler answer: the culprit (the scenario whose code is running, from
`sys._current_frames()`; when none runs at that moment, the scenario whose calls grew memory most,
`note_growth`) is handed to `on_memory` on the event loop, which closes that scenario's slots (its
module, and what its globals hold, is freed) and charges it a failure; the worker and the other
scenarios' episodes go on. Only if memory is still over the limit `grace_s` later, or the loop is
blocked, the watchdog writes a death note (`note_path`, JSON `{"scenarios": [...], "reason": str}`)
naming the scenario(s) and ends the process: Ray restarts the worker, whose next incarnation reads
the note (`read_evidence`) and reports it, and the scheduler charges the scenario a failure
(`farm.max_scenario_failures`).

`enable_fatal_dump(path)` makes a fatal signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL) write
every thread's stack to `path` (faulthandler); `read_evidence` finds the scenario on the crashing
thread's stack. A process killed from outside (SIGKILL: the OOM killer, an operator, a chaos test)
leaves no evidence, and no scenario is charged for it.
"""

from __future__ import annotations

import asyncio
import collections
import faulthandler
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

ACTIVE = False  # True once a Watchdog runs in this process: in-process calls then note their memory growth
_SCENARIO_FILE = re.compile(r"<awm-ray scenario (.+?)>")
_GROWTH: collections.Counter[str] = collections.Counter()
_STATM: int | None = None
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """This process's resident memory (from /proc/self/statm; ~2 µs)."""
    global _STATM
    if _STATM is None:
        _STATM = os.open("/proc/self/statm", os.O_RDONLY)
    return int(os.pread(_STATM, 128, 0).split()[1]) * _PAGE


def note_growth(scenario: str, delta: int) -> None:
    """Charge `delta` bytes of resident-memory growth to a call of `scenario`."""
    if delta > 0 and scenario:
        _GROWTH[scenario] += delta


def running_scenarios(thread_id: int | None = None) -> list[str]:
    """Scenarios whose code is on the stack of `thread_id` (of any thread if None), innermost first."""
    names: list[str] = []
    for ident, frame in sys._current_frames().items():
        if thread_id is not None and ident != thread_id:
            continue
        while frame is not None:
            match = _SCENARIO_FILE.fullmatch(frame.f_code.co_filename)
            if match and match.group(1) not in names:
                names.append(match.group(1))
            frame = frame.f_back
    return names


def memory_culprits(limit: int) -> list[str]:
    """Whose code most likely grew memory: the scenario whose calls grew it by a tenth of the limit or
    more (most first), else the scenarios whose code is running now."""
    grown = [name for name, delta in _GROWTH.most_common(1) if delta >= limit // 10]
    return grown or running_scenarios()


class Watchdog:
    """See the module doc. `start(loop)` from the loop's own thread; `stop()` to end it."""

    def __init__(
        self, note_path: Path, memory_mb: int | None, wedge_s: float, period_s: float = 0.25,
        on_memory: Callable[[list[str], str], None] | None = None, grace_s: float = 5.0,
    ):  # fmt: skip
        self.note_path = Path(note_path)
        self.memory_limit = memory_mb * 2**20 if memory_mb else None
        self.wedge_s = wedge_s
        self.period_s = period_s
        self.on_memory = on_memory
        self.grace_s = grace_s
        self._handed_over_at: float | None = None  # when on_memory was last asked to free memory
        self._unattributed_since: float | None = None  # over the limit with no culprit known since
        self._stamp = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._stop = threading.Event()
        self._warned = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        global ACTIVE
        self._loop, self._loop_thread = loop, threading.get_ident()
        self._tick()
        threading.Thread(target=self._watch, name="awm-watchdog", daemon=True).start()
        ACTIVE = True

    def stop(self) -> None:
        self._stop.set()

    def _tick(self) -> None:
        self._stamp = time.monotonic()
        if not self._stop.is_set() and self._loop is not None:
            self._loop.call_later(self.period_s, self._tick)

    def _watch(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self._check()
            except Exception:  # noqa: BLE001 - the watchdog must not die of its own bug
                log.exception("watchdog check failed")

    def _check(self) -> None:
        stalled = time.monotonic() - self._stamp
        if stalled > self.wedge_s:
            culprits = running_scenarios(self._loop_thread)
            if culprits:
                self._end(culprits, f"its code blocked the worker's event loop for {stalled:.0f} s (a call that "
                                    "never yields: a spinning or synchronously sleeping async handler)")  # fmt: skip
            elif not self._warned:
                self._warned = True
                log.warning("the event loop has not run for %.0f s (no scenario code on its stack)", stalled)
        else:
            self._warned = False
        if self.memory_limit is None:
            return
        rss = rss_bytes()
        if rss <= self.memory_limit:
            self._handed_over_at = self._unattributed_since = None  # freed: the next time is a new time
            return
        now = time.monotonic()
        culprits = memory_culprits(self.memory_limit)
        grown = ", ".join(f"{n}: +{_GROWTH[n] / 2**20:.0f} MB" for n in culprits if _GROWTH[n])
        reason = (f"the worker's memory reached {rss / 2**20:.0f} MB, over its limit of "
                  f"{self.memory_limit / 2**20:.0f} MB (hosting.worker_memory_mb)"
                  + (f"; growth during its calls: {grown}" if grown else ""))  # fmt: skip
        if self._handed_over_at is not None and now - self._handed_over_at < self.grace_s:
            return  # the scenario's slots are being closed: give the memory time to come back
        if culprits:
            self._unattributed_since = None
        else:  # whose it is shows once its call returns
            self._unattributed_since = self._unattributed_since or now
            if now - self._unattributed_since < self.grace_s:
                return
        if self.on_memory is not None and culprits and self._handed_over_at is None and stalled < self.wedge_s:
            self._handed_over_at = now
            for name in culprits:
                _GROWTH.pop(name, None)
            log.warning("scenario(s) %s: %s; closing their slots", ", ".join(culprits), reason)
            self._loop.call_soon_threadsafe(self.on_memory, culprits, reason)  # type: ignore[union-attr]
            return
        self._end(culprits, reason + ("" if self._handed_over_at is None else
                                      f"; still over {self.grace_s:g} s after closing its slots"))  # fmt: skip

    def _end(self, scenarios: list[str], reason: str) -> None:
        note = {"scenarios": scenarios, "reason": reason, "pid": os.getpid(), "at": time.time()}
        try:
            tmp = self.note_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(note))
            tmp.replace(self.note_path)
        except OSError as exc:
            log.error("could not write the death note %s: %s", self.note_path, exc)
        log.error("ending this worker: scenario(s) %s: %s", ", ".join(scenarios) or "(unknown)", reason)
        for handler in logging.getLogger().handlers:
            try:
                handler.flush()
            except Exception:  # noqa: BLE001, S110
                pass
        os._exit(1)


def enable_fatal_dump(path: Path) -> IO[str]:
    """Dump every thread's stack to `path` on a fatal signal; returns the open file (keep it open)."""
    fh = open(path, "w")  # noqa: SIM115 - faulthandler writes to it at the process's death
    faulthandler.enable(fh, all_threads=True)
    return fh


def read_evidence(root: Path) -> list[tuple[str, str]]:
    """(scenario, reason) pairs a previous process left in `root`: its death note, or a fatal dump
    whose crashing thread ran scenario code. Empty when it left none (killed from outside)."""
    found: list[tuple[str, str]] = []
    note_path = Path(root) / "death.json"
    try:
        note = json.loads(note_path.read_text())
        found += [(name, note["reason"]) for name in note.get("scenarios") or []]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        dump = (Path(root) / "fatal.log").read_text(errors="replace")
    except OSError:
        dump = ""
    if dump.strip():
        first = dump.strip().splitlines()[0]
        current = dump.split("Current thread", 1)[1] if "Current thread" in dump else dump
        current = re.split(r"\n\s*\nThread ", current, maxsplit=1)[0]
        for name in dict.fromkeys(_SCENARIO_FILE.findall(current)):
            found.append((name, f"its code crashed the worker process ({first.strip()})"))
    return found
