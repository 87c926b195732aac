"""How much each size of run measures (`--quick`, default, `--full`, `--smoke`)."""

from __future__ import annotations

from dataclasses import dataclass, field

BACKENDS = ("inprocess", "subprocess")


@dataclass
class Plan:
    mode: str
    reset_reps: int  # per scenario and backend
    spawn_reps: int  # per scenario
    lease_reps: int  # per scenario and backend
    call_reps: int  # per scenario and mode (farm-inprocess, farm-subprocess, direct)
    farm_episodes: dict[int, int]  # concurrency -> episodes timed
    baseline_episodes: dict[int, int]
    episode_rounds: int  # each round times both backends, in alternating order
    subprocess_max_concurrency: int  # the subprocess farm is sized (and timed) up to this
    n_all: int  # scenarios warm at once in the all_scenarios part
    profile_reps: int  # calls/leases per profiled path (0 = skip the profile section)
    serial_prewarm_n: int  # scenarios for the serial-vs-parallel prewarm comparison (0 = skip)
    concurrencies: tuple[int, ...] = (1, 8, 64)
    baseline_concurrencies: tuple[int, ...] = (1, 8)
    notes: list[str] = field(default_factory=list)


PLANS = {
    "quick": Plan("quick", reset_reps=25, spawn_reps=3, lease_reps=40, call_reps=60,
                  farm_episodes={1: 40, 8: 160, 64: 640}, baseline_episodes={1: 4, 8: 16}, episode_rounds=1,
                  subprocess_max_concurrency=8, n_all=200, profile_reps=150, serial_prewarm_n=0),
    "default": Plan("default", reset_reps=60, spawn_reps=5, lease_reps=75, call_reps=125,
                    farm_episodes={1: 60, 8: 240, 64: 768}, baseline_episodes={1: 6, 8: 24}, episode_rounds=1,
                    subprocess_max_concurrency=64, n_all=1000, profile_reps=160, serial_prewarm_n=16),
    "full": Plan("full", reset_reps=150, spawn_reps=10, lease_reps=200, call_reps=300,
                 farm_episodes={1: 120, 8: 480, 64: 1920}, baseline_episodes={1: 10, 8: 40}, episode_rounds=2,
                 subprocess_max_concurrency=64, n_all=1000, profile_reps=600, serial_prewarm_n=48),
    # a seconds-long sanity run of every code path (numbers meaningless)
    "smoke": Plan("smoke", reset_reps=3, spawn_reps=1, lease_reps=4, call_reps=6,
                  farm_episodes={1: 4, 8: 16, 64: 64}, baseline_episodes={1: 1, 8: 8}, episode_rounds=1,
                  subprocess_max_concurrency=8, n_all=12, profile_reps=20, serial_prewarm_n=4),
}  # fmt: skip
