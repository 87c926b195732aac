"""The farm: Ray worker actors own warm slots; a scheduler actor leases them to episodes."""

from awm_ray.farm.client import Episode, Farm
from awm_ray.farm.errors import FarmError, LeaseLost, LeaseTimeout, ScenarioUnavailable, UnknownScenario, UnknownTask
from awm_ray.farm.sync import SyncEpisode, SyncFarm

__all__ = [
    "Episode",
    "Farm",
    "FarmError",
    "LeaseLost",
    "LeaseTimeout",
    "ScenarioUnavailable",
    "SyncEpisode",
    "SyncFarm",
    "UnknownScenario",
    "UnknownTask",
]
