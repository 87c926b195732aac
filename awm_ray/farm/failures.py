"""What scenario code did to the farm, per scenario, and when a scenario is no longer served.

The scheduler charges a scenario a failure for each failed start (`ScenarioUnavailable` from a
worker; not when the worker only repeats a failure it remembers, `hosting.failed_start_ttl_s`) and
for each server or worker death its own code caused (the workers' heartbeat `faults`: a server that
exited, crashed or hit its CPU limit; a worker stopped by its watchdog or by a fatal signal in
scenario code). A worker or server killed from outside charges nobody. At `limit` failures
(`farm.max_scenario_failures`) the scenario is unavailable for the farm's life: its leases fail at
once with the last reason. A successful start clears its failed starts, not its deaths; adding the
scenario again (`forget`) clears both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class _Count:
    starts: int = 0  # failed starts since its last successful one
    deaths: int = 0  # servers or workers its code ended

    @property
    def total(self) -> int:
        return self.starts + self.deaths


class ScenarioFailures:
    """Failures by scenario and the scenarios made unavailable (see the module doc)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[str, _Count] = {}
        self.unavailable: dict[str, str] = {}  # scenario -> the message its leases fail with

    def charge(self, scenario: str, reason: str, death: bool) -> bool:
        """One failure of `scenario`; True if that made it unavailable."""
        if scenario in self.unavailable:
            return False
        count = self._counts.setdefault(scenario, _Count())
        if death:
            count.deaths += 1
        else:
            count.starts += 1
        log.warning("scenario %s failed (%d of %d): %s", scenario, count.total, self.limit, reason.splitlines()[0][:300])
        if count.total < self.limit:
            return False
        self.unavailable[scenario] = (
            f"scenario {scenario!r} is unavailable on this farm: it failed {count.total} times "
            f"(farm.max_scenario_failures = {self.limit}); the last time: {reason}"
        )
        return True

    def charge_start(self, scenario: str, exc: BaseException) -> bool:
        """A worker's failed start (its own exception, `remembered` if it only repeats one)."""
        return False if getattr(exc, "remembered", False) else self.charge(scenario, str(exc), death=False)

    def started(self, scenario: str) -> None:
        """A start of `scenario` succeeded: its failed starts no longer count."""
        if scenario in self._counts:
            self._counts[scenario].starts = 0

    def take_faults(self, seen: tuple[str | None, int], beat: dict[str, Any]) -> tuple[tuple[str, int], list[str]]:
        """Charge the deaths a worker's heartbeat reports that `seen` (incarnation, last seq) had not.

        Returns the new `seen` and the scenarios that became unavailable.
        """
        incarnation, last = seen
        if incarnation != beat["incarnation"]:
            last = 0
        newly = []
        for fault in beat.get("faults") or []:
            if fault["seq"] > last:
                if self.charge(fault["scenario"], fault["reason"], death=True):
                    newly.append(fault["scenario"])
                last = fault["seq"]
        return (beat["incarnation"], last), newly

    def forget(self, scenario: str) -> None:
        self._counts.pop(scenario, None)
        self.unavailable.pop(scenario, None)

    def counts(self) -> dict[str, int]:
        return {name: c.total for name, c in self._counts.items() if c.total}
