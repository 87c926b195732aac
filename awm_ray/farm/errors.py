"""Errors a farm client sees. They cross Ray process boundaries, so they stay plain."""

from __future__ import annotations


class FarmError(RuntimeError):
    """Base class of the farm's own errors."""


class LeaseLost(FarmError):
    """The lease no longer holds a slot: expired, released, its server or worker died, or its node left.

    The episode cannot continue on it; take a new lease to retry.
    """


class LeaseTimeout(FarmError):
    """No slot became free within the lease timeout, or the wait queue is full."""


class UnknownScenario(FarmError):
    """The farm has no scenario of that name (add it with `farm.add_scenarios`)."""


class ScenarioUnavailable(FarmError):
    """The scenario's server or database could not be started; the message carries the reason."""


class StaleWorker(FarmError):
    """A worker was asked to act for an incarnation of itself that died (Ray restarted it since)."""
