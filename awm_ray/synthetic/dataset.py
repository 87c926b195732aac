"""Scenario rows (arcee layout) and sharded JSON Lines data sets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from .builder import _Builder


SHARD_PATTERN = "scenarios-{:05d}.jsonl"
_SHARD_RE = re.compile(r"^scenarios-\d{5}\.jsonl$")

# Upper bound on the size of a generated module (AWM modules are ~1,000-3,000 lines).
_MAX_LINES = 3000


def generate_scenario(index: int, seed: int) -> dict[str, Any]:
    """Build scenario number ``index`` of the data set seeded by ``seed``.

    Returns one row of the arcee layout: ``scenario`` (``synthetic_<domain>_<index:04d>``), ``env``
    (server code), ``db``, ``sample`` and ``spec`` (JSON strings), ``val_report`` (None), and the
    scenario's own tasks as JSON strings: ``tasks`` (``[{"task", "targets"}]``), ``verifiers``
    (``{"code": [{"task_idx", "task", "verification": {"code"}}]}``, AWM's code mode) and
    ``solutions`` (``[{"calls": [{"tool", "arguments"}], "answer"}]``, for the reference policy).
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    b = _Builder(int(index), int(seed))
    b.select_endpoints()
    env = b.render_code()
    while env.count("\n") > _MAX_LINES and b.drop_one():
        env = b.render_code()
    return {
        "scenario": b.name,
        "env": env,
        "db": json.dumps(b.render_db(), ensure_ascii=False),
        "sample": json.dumps(b.render_sample(), ensure_ascii=False),
        "spec": json.dumps(b.render_spec(), ensure_ascii=False),
        "val_report": None,
        **_task_columns(b.render_tasks(int(seed), int(index))),
    }


def _task_columns(tasks: list[dict[str, Any]]) -> dict[str, str]:
    """The ``tasks``, ``verifiers`` and ``solutions`` columns (see ``awm_ray.scenario.native``)."""
    verifiers = [{"task_idx": i, "task": t["task"], "verification": {"code": t["verifier"]}} for i, t in enumerate(tasks)]
    return {
        "tasks": json.dumps([{"task": t["task"], "targets": t["targets"]} for t in tasks], ensure_ascii=False),
        "verifiers": json.dumps({"code": verifiers}, ensure_ascii=False),
        "solutions": json.dumps([t["solution"] for t in tasks], ensure_ascii=False),
    }


def iter_scenarios(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """Yield scenarios ``0..n-1`` one at a time (nothing is kept in memory)."""
    for index in range(n):
        yield generate_scenario(index, seed)


def write_dataset(n: int, seed: int, out_dir: Path, shard_size: int = 250) -> list[Path]:
    """Write ``n`` scenarios as ``out_dir/scenarios-00000.jsonl``, ... and return the shard paths.

    Streams: one scenario is in memory at a time. Shards of earlier runs in ``out_dir`` (files named
    ``scenarios-NNNNN.jsonl``) are removed first so a reader never mixes two data sets. Each shard
    is written to a temporary name and renamed when complete.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.iterdir()):
        if _SHARD_RE.match(old.name) and old.is_file():
            old.unlink()
    paths: list[Path] = []
    rows = iter_scenarios(n, seed)
    for shard in range((n + shard_size - 1) // shard_size):
        path = out_dir / SHARD_PATTERN.format(shard)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            for _ in range(min(shard_size, n - shard * shard_size)):
                fh.write(json.dumps(next(rows), ensure_ascii=False))
                fh.write("\n")
        tmp.replace(path)
        paths.append(path)
    return paths
