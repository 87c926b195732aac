"""results.jsonl read back on --resume: what the summary cannot count is set aside, never lost."""

from __future__ import annotations

import json

import pytest

from awm_ray.results import DROPPED_FILE, Results, read_rows, row_problem

GOOD = {"id": "s#0/0", "model": "m", "scenario": "s", "reward": 1.0, "targets": ["op"], "tool_calls": [{"operation_id": "op"}],
        "metrics": {"endpoint_hit": 1.0}}  # fmt: skip
NATIVE = {**GOOD, "id": "s#t0/0", "task_kind": "native", "example_id": "s#t0", "task_index": 0, "prompt": "do it",
          "verification": {"mode": "code", "result": "complete", "ms": 0.0}, "timings": {"verify_ms": 3.0}}  # fmt: skip


@pytest.mark.parametrize(
    "row, why",
    [
        ({**GOOD, "metrics": {"endpoint_hit": "1"}}, "a metric that is not a number"),
        ({**GOOD, "metrics": {"endpoint_hit": float("nan")}}, "a metric that is not a number"),
        ({**GOOD, "usage": [1, 2]}, "usage is not an object"),
        ({**GOOD, "verification": "complete"}, "verification is not an object"),
        ({**GOOD, "error": {"kind": "x"}}, "an error that is not text"),
        ({k: v for k, v in NATIVE.items() if k != "example_id"}, "a native row without example_id (str)"),
        ({**NATIVE, "prompt": None}, "a native row without prompt (str)"),
        ({**NATIVE, "task_index": "0"}, "a native row without task_index (int)"),
        ({**GOOD, "reward": 10**400}, "reward is not a number"),
        ({**GOOD, "targets": [["op"]]}, "a target that is not text"),
        ({**GOOD, "stop": ["x"]}, "a stop or error_kind that is not text"),
        ({**GOOD, "error": "e", "error_kind": {"a": 1}}, "a stop or error_kind that is not text"),
        ({**GOOD, "usage": {"total_tokens": "5"}}, "a usage count that is not a number"),
        ({**NATIVE, "verification": {"mode": "sql", "verdict": ["x"]}}, "a verification error or verdict that is not text"),
        ({**NATIVE, "timings": {"verify_ms": "5"}}, "a verification time that is not a number"),
    ],
)  # fmt: skip
def test_a_row_the_summary_would_trip_on_is_named(row, why):
    assert row_problem(row) == why
    assert row_problem(GOOD) is None and row_problem(NATIVE) is None
    real_usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, "turns": [{"total_tokens": 4}]}
    assert row_problem({**GOOD, "usage": real_usage}) is None


def test_a_last_row_without_its_newline_is_not_joined_by_the_next(tmp_path):
    """A blank line skipped (-1 byte) and a newline added to the last row (+1) once hid the rewrite."""
    (tmp_path / "results.jsonl").write_bytes(b"\n" + json.dumps(GOOD).encode())  # a crash lost the newline
    results = Results(tmp_path, {"model": "m"}, resume=True, planned={GOOD["id"], "s#1/0"})
    results.add({**GOOD, "id": "s#1/0"})
    results.close()
    assert [r["id"] for r in read_rows(tmp_path / "results.jsonl").rows] == [GOOD["id"], "s#1/0"]


def test_resume_sets_aside_what_it_does_not_count_and_the_summary_holds(tmp_path):
    """A run resumed with fewer examples, or over edited rows, keeps every line: in results.jsonl
    (the rows it counts) or in results.dropped.jsonl (the rest, byte for byte)."""
    other = {**GOOD, "id": "s#9/0"}  # another example of the same run, not planned this time
    edited = {**GOOD, "id": "s#1/0", "metrics": {"endpoint_hit": "yes"}}
    lines = [json.dumps(GOOD), json.dumps(NATIVE), json.dumps(other), json.dumps(edited), '{"cut short']
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + "\n")
    results = Results(tmp_path, {"model": "m"}, resume=True, planned={GOOD["id"], NATIVE["id"], edited["id"]})
    try:
        assert results.done == {GOOD["id"], NATIVE["id"]}
        summary = results.summary()
        assert summary["rollouts"] == 2 and summary["verification"]["verifier_ms"]["n"] == 1  # a 0 ms verifier counts
    finally:
        results.close()
    assert (tmp_path / "results.jsonl").read_text().splitlines() == lines[:2]
    assert (tmp_path / DROPPED_FILE).read_text().splitlines() == lines[2:]
    assert len(read_rows(tmp_path / "results.jsonl").rows) == 2


def test_a_refused_resume_moves_nothing(tmp_path):
    from awm_ray.results import ResumeRefused

    text = json.dumps(GOOD) + "\n" + '{"cut short\n'
    (tmp_path / "results.jsonl").write_text(text)
    with pytest.raises(ResumeRefused):
        Results(tmp_path, {"model": "another"}, resume=True, planned={GOOD["id"]})
    assert (tmp_path / "results.jsonl").read_text() == text and not (tmp_path / DROPPED_FILE).exists()


WRITER = """
import sys, time
from awm_ray.results import Results
results = Results(sys.argv[1], {"model": "first"}, resume=False)
print("writing", flush=True)
time.sleep(60)
"""


def test_a_second_run_on_the_same_out_is_refused_while_the_first_writes(tmp_path):
    """Two jobs given the same --out: the second is refused and changes nothing; once the first
    ends (closed, or its process gone) the directory is free again."""
    import subprocess
    import sys

    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "writing\n"
        run_json = (out / "run.json").read_text()
        for resume in (False, True):
            with pytest.raises(FileExistsError, match="being written by another run"):
                Results(out, {"model": "second"}, resume=resume)
        assert (out / "run.json").read_text() == run_json  # untouched
    finally:
        first.kill()
        first.wait()
    second = Results(out, {"model": "second"}, resume=False)  # the lock went with the process
    with pytest.raises(FileExistsError, match="being written by another run"):
        Results(out, {"model": "third"}, resume=False)  # also within one process
    second.close()
    Results(out, {"model": "second"}, resume=True).close()


def test_close_unlocks_the_directory_whatever_fails(tmp_path, monkeypatch):
    first = Results(tmp_path, {"model": "m"}, resume=False)

    def full_disk(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Results, "write_summary", full_disk)
    with pytest.raises(OSError, match="No space left"):
        first.close()
    monkeypatch.undo()
    first.close()  # twice: nothing closed twice
    Results(tmp_path, {"model": "m"}, resume=True).close()  # the directory is free
