"""Assemble the bundled scenarios (awm_ray/data/bundled.jsonl) from their sources in scripts/bundled/.

Each scenario directory holds app.py, db.json, sample.json and spec.json, and its own tasks:
tasks.json (`[{"task", "verifier": "verifiers/task_N.py", "solution": {"calls", "answer"}}]`) with
one code-mode verifier per task in AWM's format (`verify_task_completion(initial_db_path,
final_db_path, final_answer=None) -> {"result": "complete" | "others"}`). A task's targets are the
tools its solution calls. The row's val_report is produced by validating it, exactly as
`awm-ray validate --write-dataset` would.

    python scripts/build_bundled.py [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from awm_ray.loading import BUNDLED_PATH, load_scenarios, write_dataset
from awm_ray.scenario import Scenario, parse_scenario
from awm_ray.validate import Validator

SOURCES = Path(__file__).parent / "bundled"


def source_scenarios() -> list[Scenario]:
    scenarios = []
    for folder in sorted(p for p in SOURCES.iterdir() if p.is_dir()):
        row = {
            "scenario": folder.name,
            "env": (folder / "app.py").read_text(),
            "db": (folder / "db.json").read_text(),
            "sample": (folder / "sample.json").read_text(),
            "spec": (folder / "spec.json").read_text(),
            **native_tasks(folder),
        }
        scenarios.append(parse_scenario(row))
    return scenarios


def native_tasks(folder: Path) -> dict[str, object]:
    """The `tasks`, `verifiers` and `solutions` columns from tasks.json and its verifier files."""
    path = folder / "tasks.json"
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text())
    tasks, verifiers, solutions = [], [], []
    for index, entry in enumerate(entries):
        solution = entry["solution"]
        tools = list(dict.fromkeys(call["tool"] for call in solution["calls"]))
        tasks.append({"task": entry["task"], "targets": tools})
        code = (folder / entry["verifier"]).read_text()
        verifiers.append({"task_idx": index, "task": entry["task"], "verification": {"code": code}})
        solutions.append(solution)
    return {"tasks": tasks, "verifiers": {"code": verifiers}, "solutions": solutions}


def _tasks_key(s: Scenario) -> list:
    return [(t.index, t.task, t.targets, {m: v.code for m, v in t.verifiers.items()},
             None if t.solution is None else t.solution.to_dict()) for t in s.tasks]  # fmt: skip


def same_sources(a: Scenario, b: Scenario) -> bool:
    return (a.name, a.code, a.db_schema, a.sample_data, a.spec, _tasks_key(a)) == (
        b.name, b.code, b.db_schema, b.sample_data, b.spec, _tasks_key(b)
    )  # fmt: skip


async def validated(scenarios: list[Scenario]) -> list[Scenario]:
    validator = Validator()
    try:
        return [replace(s, val_report=r) async for s, r in validator.validate_many(scenarios)]
    finally:
        validator.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that bundled.jsonl matches the sources")
    args = parser.parse_args()
    sources = source_scenarios()
    if args.check:
        bundled = list(load_scenarios("bundled"))
        stale = len(bundled) != len(sources) or not all(map(same_sources, sources, bundled))
        print("bundled.jsonl is " + ("STALE: run scripts/build_bundled.py" if stale else "up to date"))
        return 1 if stale else 0
    rows = asyncio.run(validated(sources))
    tmp = BUNDLED_PATH.parent / "tmp-bundled"
    (written,) = write_dataset(rows, tmp, shard_size=len(rows))
    written.replace(BUNDLED_PATH)
    tmp.rmdir()
    for row in rows:
        report = row.val_report
        print(f"{row.name}: {report['passed']}/{len(report['endpoints'])} endpoints passed, status {report['status']}")
    print(f"wrote {BUNDLED_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
