"""Synthetic AWM-style scenarios: server code, SQLite schema, sample data and API spec.

A scenario here has the same shape as a row of the Agent World Model dataset (AWM-1K): a FastAPI
module backed by SQLAlchemy, a SQLite schema, INSERT statements and a spec of the endpoints. The
rows are written in the "arcee layout" (``scenario``, ``env``, ``db``, ``sample``, ``spec``,
``val_report``), JSON Lines, sharded as ``scenarios-00000.jsonl``, ``scenarios-00001.jsonl``, ...

Everything is derived from one internal description per scenario, so the spec agrees with the code
by construction, and every endpoint answers 2xx when called with its spec examples on a fresh copy
of the database built from ``db`` + ``sample``.

Deterministic: ``generate_scenario(index, seed)`` depends only on its arguments (seeded from a
SHA-256 of both, never on ``hash()``), so the same seed gives byte-identical files.

Standard library only. The package's modules follow the generator's concerns: ``vocabulary``
(domains and words), ``schema`` (columns, tables), ``values`` (sample and example values), ``parts``
(models, parameters, endpoints), ``builder`` (one scenario's description and endpoint choice) with
its mixins ``models``, ``filters``, ``crud``, ``queries``, ``actions``, ``nested``, ``users``,
``render`` and ``tasks`` (the scenario's own tasks, AWM-style verifiers and reference solutions), and
``dataset`` (rows and shards).

Example::

    >>> row = generate_scenario(0, seed=7)
    >>> sorted(row)
    ['db', 'env', 'sample', 'scenario', 'solutions', 'spec', 'tasks', 'val_report', 'verifiers']
    >>> write_dataset(1000, seed=7, out_dir=Path("data/synthetic"))  # doctest: +SKIP
"""

from __future__ import annotations

from .dataset import SHARD_PATTERN, generate_scenario, iter_scenarios, write_dataset
from .vocabulary import DOMAINS

__all__ = ["DOMAINS", "generate_scenario", "iter_scenarios", "write_dataset", "SHARD_PATTERN"]
