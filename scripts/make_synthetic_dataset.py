"""Write a synthetic AWM-style data set in the arcee layout.

Usage::

    python scripts/make_synthetic_dataset.py --n 1000 --seed 0 --out data/synthetic

writes ``DIR/scenarios-00000.jsonl``, ``DIR/scenarios-00001.jsonl``, ... (one scenario per line:
``scenario``, ``env``, ``db``, ``sample``, ``spec``, ``val_report``). The same ``--seed`` gives
byte-identical files. See ``awm_ray.synthetic``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _import_write_dataset():
    try:
        from awm_ray.synthetic import write_dataset
    except ImportError:  # run from a checkout without installing the package
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from awm_ray.synthetic import write_dataset
    return write_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate synthetic AWM scenarios (arcee layout, JSON Lines shards).")
    parser.add_argument("--n", type=int, required=True, help="number of scenarios to generate")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed -> identical files)")
    parser.add_argument("--out", type=Path, required=True, help="output directory for scenarios-NNNNN.jsonl shards")
    parser.add_argument("--shard-size", type=int, default=250, help="scenarios per shard (default 250)")
    args = parser.parse_args(argv)
    if args.n < 0 or args.shard_size < 1:
        parser.error("--n must be >= 0 and --shard-size >= 1")

    write_dataset = _import_write_dataset()
    started = time.perf_counter()
    paths = write_dataset(args.n, args.seed, args.out, shard_size=args.shard_size)
    elapsed = time.perf_counter() - started
    total = 0
    for path in paths:
        size = path.stat().st_size
        total += size
        print(f"{path}\t{size / 1e6:.1f} MB")
    print(
        f"wrote {args.n} scenarios in {len(paths)} shard(s), {total / 1e6:.1f} MB, "
        f"seed {args.seed}, {elapsed:.1f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
