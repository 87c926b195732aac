"""Loading the same scenarios from every dataset format: time and peak memory, side by side (JSON).

    python scripts/bench_loading.py --out loading.json                 # 1,000 synthetic scenarios, 3 runs each
    python scripts/bench_loading.py --data DIR --runs 1                # reuse a make_synthetic_dataset.py output

Each format is written from the same rows (the synthetic arcee rows: JSON strings for the parts),
then loaded with `load_scenarios` in a fresh process per run: `seconds` is the wall time of the
load, `peak_mb` the most its resident memory grew during the load (sampled every 5 ms from
/proc/self/statm, over the RSS just before it, after importing awm_ray, datasets and pyarrow;
memory-mapped file pages count too). Medians over `--runs`. The synthetic parts mix value types from row to row,
which Arrow cannot store as structs, so the nested-struct parquet is measured on the bundled
scenarios repeated (`--nested-copies`) under new names, beside the same rows as JSON Lines.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import add_synthetic_arguments, emit, synthetic

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import json, os, sys, threading, time
import datasets, pyarrow  # noqa: F401 - in the baseline: every format's reader is imported before measuring
from awm_ray.loading import load_scenarios

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

base = peak = rss()
done = threading.Event()

def sample():
    global peak
    while not done.wait(0.005):
        peak = max(peak, rss())

threading.Thread(target=sample, daemon=True).start()
started = time.perf_counter()
errors = []
names = [s.name for s in load_scenarios(sys.argv[1], errors=errors)]
took = time.perf_counter() - started
done.set()
peak = max(peak, rss())
print(json.dumps({"scenarios": len(names), "errors": len(errors), "seconds": took, "peak_mb": (peak - base) / 2**20}))
"""

def write_formats(rows: list[dict], nested_rows: list[dict], root: Path) -> dict[str, Path]:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    datasets.disable_progress_bars()  # stdout carries the JSON report
    paths = {}
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    paths["jsonl"] = root / "all.jsonl"
    paths["jsonl"].write_text(lines)
    paths["jsonl.gz"] = root / "all.jsonl.gz"
    with gzip.open(paths["jsonl.gz"], "wt") as fh:
        fh.write(lines)
    paths["json array"] = root / "array.json"
    paths["json array"].write_text(json.dumps(rows))
    shards = root / "shards"
    shards.mkdir()
    for i in range(4):
        (shards / f"part-{i}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[i::4]))
    paths["directory of 4 jsonl"] = shards
    table = pa.Table.from_pylist(rows)
    paths["parquet, 1 row group"] = root / "one_group.parquet"
    pq.write_table(table, paths["parquet, 1 row group"])
    paths["parquet, row groups of 100"] = root / "groups.parquet"
    pq.write_table(table, paths["parquet, row groups of 100"], row_group_size=100)
    paths["save_to_disk"] = root / "saved"
    datasets.Dataset.from_list(rows).save_to_disk(str(paths["save_to_disk"]))
    paths["nested: jsonl"] = root / "nested.jsonl"
    paths["nested: jsonl"].write_text("".join(json.dumps(r) + "\n" for r in nested_rows))
    structured = [{**r, **{k: json.loads(r[k]) for k in ("db", "sample", "spec", "val_report") if isinstance(r.get(k), str)}}
                  for r in nested_rows]  # fmt: skip
    paths["nested: parquet structs"] = root / "nested.parquet"
    pq.write_table(pa.Table.from_pylist(structured), paths["nested: parquet structs"])
    return paths


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def measure(path: Path, runs: int) -> dict:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, cwd=REPO, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "scenarios": results[0]["scenarios"],
        "errors": results[0]["errors"],
        "seconds": round(statistics.median(r["seconds"] for r in results), 2),
        "peak_mb": round(statistics.median(r["peak_mb"] for r in results), 1),
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_synthetic_arguments(parser, "synthetic scenarios to make when --data is not given")
    parser.add_argument("--nested-copies", type=int, default=250, help="copies of the bundled scenarios, nested")
    parser.add_argument("--runs", type=int, default=3, help="loads per format (median)")
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="awm-ray-bench-loading-") as tmp:
        root = Path(tmp)
        data = synthetic(args.data, args.n, root)
        rows = [json.loads(line) for f in sorted(data.glob("*.jsonl")) for line in f.open() if line.strip()]
        bundled = [json.loads(line) for line in (REPO / "awm_ray" / "data" / "bundled.jsonl").open() if line.strip()]
        nested = [dict(r, scenario=f"{r['scenario']}_copy{i}") for i in range(args.nested_copies) for r in bundled]
        paths = write_formats(rows, nested, root)
        del rows, nested
        formats = {name: {"size_mb": size_mb(path), **measure(path, args.runs)} for name, path in paths.items()}
    return emit("loading", started, {"formats": formats}, args.out)

if __name__ == "__main__":
    sys.exit(main())
