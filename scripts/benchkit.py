"""What the small benchmarks (`bench_loading.py`, `bench_preflight.py`) share: machine facts and the JSON they print."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from awm_ray.machine import machine_facts

REPO = Path(__file__).resolve().parents[1]


def add_synthetic_arguments(parser: argparse.ArgumentParser, n_help: str) -> None:
    """`--data DIR` (a make_synthetic_dataset.py output to reuse) and `--n` (how many scenarios)."""
    parser.add_argument("--data", type=Path, help="a make_synthetic_dataset.py output directory (default: make --n)")
    parser.add_argument("--n", type=int, default=1000, help=n_help)


def synthetic(data: Path | None, n: int, root: Path) -> Path:
    """`data`, or `n` synthetic scenarios made under `root` (scripts/make_synthetic_dataset.py; minutes)."""
    if data is not None:
        return data
    out = root / "synthetic"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_synthetic_dataset.py"), "--n", str(n), "--out", str(out)],
                   check=True, capture_output=True)  # fmt: skip
    return out


def emit(name: str, started: float, result: dict[str, Any], out: Path | None) -> int:
    """Print `result` as the benchmark's JSON report (and write it to `out`); the exit code 0."""
    facts = {**machine_facts(), "load_avg_1m_at_end": round(os.getloadavg()[0], 1)}  # the machine is shared
    report = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
              "seconds_total": round(time.time() - started, 1), "machine": facts, **result}  # fmt: skip
    text = json.dumps(report, indent=1)
    print(text)
    if out:
        out.write_text(text + "\n")
    return 0
