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
    verification_episodes: int = 40  # per round, concurrency and mode (with / without verification)
    verification_rounds: int = 2  # each round times both modes, in alternating order
    verification_concurrencies: tuple[int, ...] = (1, 8)
    concurrencies: tuple[int, ...] = (1, 8, 64)
    baseline_concurrencies: tuple[int, ...] = (1, 8)
    notes: list[str] = field(default_factory=list)


# one row per size, in the order of Plan's fields; episodes are given per concurrency (farm: 1, 8, 64; spawn: 1, 8)
#          reset spawn lease call  farm episodes      spawn episodes  rounds  subprocess  n_all  profile  serial
#          reps  reps  reps  reps  at c=1, 8, 64      at c=1, 8               max c                      prewarm
_SIZES = {
    "quick":   (25,   3,   40,   60, (40, 160, 640),    (4, 16),        1,      8,          200,   150,     0),
    "default": (60,   5,   75,  125, (60, 240, 768),    (6, 24),        1,      64,         1000,  160,     16),
    "full":    (150,  10,  200, 300, (120, 480, 1920),  (10, 40),       2,      64,         1000,  600,     48),
    "smoke":   (3,    1,   4,   6,   (4, 16, 64),       (1, 8),         1,      8,          12,    20,      4),
}  # fmt: skip
"""`smoke` is a seconds-long sanity run of every code path (its numbers mean nothing)."""

# verification phase: episodes per round, concurrency and mode; rounds
_VERIFICATION = {"quick": (40, 2), "default": (80, 2), "full": (160, 3), "smoke": (8, 1)}

PLANS = {
    mode: Plan(mode, *row[:4], dict(zip((1, 8, 64), row[4])), dict(zip((1, 8), row[5])), *row[6:], *_VERIFICATION[mode])
    for mode, row in _SIZES.items()
}
