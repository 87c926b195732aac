"""The farm benchmark behind `scripts/bench_farm.py`, one module per phase.

`plans` (sizes), `probe` (which tools to call), `reset` (A), `spawn` (B, the per-rollout baseline),
`farms` (the farms under test and timed episode loads), `leases` (C1), `tool_calls` (C2),
`episodes` (C3), `profiling` (where lease and call time goes), `memory` (memory per slot and D, all
scenarios at once), `summary` (top-level keys, targets, the human summary), `run` (the phases in
order); `measure` has the timers and CPU counters they share.

Functions of this package run inside Ray actors (`__ray_call__`, benchmark introspection); Ray
workers cannot import `scripts/bench`, so the package is pickled by value, as the single-file
script's functions were.
"""

import sys

from ray import cloudpickle

cloudpickle.register_pickle_by_value(sys.modules[__name__])
