"""Compare two `bench_farm.py` JSONs: the same keys, and every target with the same verdict.

    python scripts/bench/compare.py BEFORE.json AFTER.json

Prints the key paths found in only one of them, each target's verdict in both, and the headline
figures side by side; exits 1 if the key sets differ or a verdict flips, else 0. Keys that name
measured things rather than fields (Python packages in a profile, which vary from run to run) are
compared as one key. Needs no Ray and no awm_ray.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DATA_KEYED = ("by_package_ms", "by_package")
"""Dicts keyed by what a profile happened to see (package names): their own keys are not compared."""

HEADLINES = ("lease_ms", "reset_ms", "spawn_baseline_ms", "reset_speedup", "tool_call_ms", "tool_call_overhead_ratio",
             "episodes_per_s", "rss_mb_per_slot")  # fmt: skip


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every dict key under `value` (list items as `[]`, so lengths do not matter)."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            if not any(path.endswith(k) for k in DATA_KEYED):
                paths |= key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


def outermost(paths: list[str]) -> list[str]:
    """The paths whose parent is not among `paths` (a missing section is named once)."""
    present = set(paths)
    return [p for p in paths if not any(p.startswith((q + ".", q + "[")) for q in present if q != p)]


def compare(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(paths only before, paths only after, targets whose verdict differs), each sorted."""
    a, b = key_paths(before), key_paths(after)
    targets_a, targets_b = before.get("targets") or {}, after.get("targets") or {}
    flipped = sorted(t for t in set(targets_a) | set(targets_b) if targets_a.get(t) != targets_b.get(t))
    return sorted(a - b), sorted(b - a), flipped


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = (json.loads(Path(p).read_text()) for p in argv)
    only_before, only_after, flipped = compare(before, after)
    print(f"keys: {len(key_paths(before))} before, {len(key_paths(after))} after")
    for label, paths in (("only before:", only_before), ("only after: ", only_after)):
        for path in outermost(paths):
            under = sum(p.startswith((path + ".", path + "[")) for p in paths)
            print(f"  {label} {path}" + (f" (and {under} keys under it)" if under else ""))
    for target in sorted(set(before.get("targets") or {}) | set(after.get("targets") or {})):
        verdicts = [("MET" if d.get("targets", {}).get(target) else "MISS") for d in (before, after)]
        print(f"  {'FLIPPED' if target in flipped else 'same   '} {verdicts[0]:>4} -> {verdicts[1]:<4} {target}")
    for key in HEADLINES:
        print(f"  {key}: {json.dumps(before.get(key))} -> {json.dumps(after.get(key))}")
    return 1 if only_before or only_after or flipped else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
