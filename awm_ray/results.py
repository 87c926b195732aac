"""An evaluation's files: `run.json`, `results.jsonl` (one row per rollout) and `summary.json`.

`results.jsonl` is append-only and flushed row by row, so a crash loses nothing that finished; a
line cut short by a crash is dropped on `--resume`. Rows are written with `awm_ray.text.dumps`: no
text a model or an app sends can stop a run from writing them. `run.json` holds what the rows mean
(model, endpoint, dataset, task settings, sampling); `--resume` continues only a run with the same
identity, and says what differs otherwise. `summary.json` is rewritten as rows arrive.

On `--resume`, a line that is not a row of this run is dropped with one warning naming its line
number: `results.jsonl` is rewritten without it, and it is appended to `results.dropped.jsonl`
(set aside, never deleted: a run resumed with fewer `--num-examples` keeps the other examples'
rows there). Such a line is not JSON (cut short by a crash), not an object, without a string `id`
this run plans, without a numeric `reward`, or without the fields the summary reads; of rows with
the same id the first is kept. The summary then counts each planned rollout once.
"""

from __future__ import annotations

import collections
import fcntl
import json
import logging
import math
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from awm_ray import rewards
from awm_ray.conversation import USAGE_KEYS
from awm_ray.outcomes import STOP_REASONS
from awm_ray.percentiles import percentiles
from awm_ray.text import dumps, loads, one_line

log = logging.getLogger(__name__)
RUN_FORMAT = "awm-ray/run/v1"
DROPPED_FILE = "results.dropped.jsonl"  # where --resume sets aside the lines of results.jsonl it does not count
LOCK_FILE = ".awm-ray.lock"  # an empty file a run holds an flock on while it writes the directory


class ResumeRefused(ValueError):
    """`--resume` was asked to continue a run made with other settings (the message names them)."""


class Results:
    """`run.json`, `results.jsonl` and `summary.json` in one output directory.

    `identity` is what makes the rows mean what they mean (see `EvalSettings.identity`); `label`
    and `settings` only describe the run in the summary. With `resume`, rows already written are
    read back (`done` holds their ids) and a different identity raises `ResumeRefused`; without
    it, an existing non-empty `results.jsonl` raises `FileExistsError`. `planned` holds the ids of
    the rollouts this run plans: a resumed row with another id is dropped (see the module doc);
    None keeps every id. The directory is locked until `close()` or the process ends (`flock` on its
    `.awm-ray.lock`, an empty file that stays): a second run on it (two jobs given the same `--out`)
    raises `FileExistsError` and touches nothing.
    """

    def __init__(self, out_dir: Path, identity: Mapping[str, Any], resume: bool, label: str = "",
                 settings: Mapping[str, Any] | None = None, planned: Collection[str] | None = None):  # fmt: skip
        self.planned = planned
        self.dir = Path(out_dir)
        self.results_path = self.dir / "results.jsonl"
        self.summary_path = self.dir / "summary.json"
        self.run_path = self.dir / "run.json"
        self.identity = dict(identity)
        self.label = label
        self.settings = dict(settings or {})
        self.rows: list[dict[str, Any]] = []
        self._lock: int | None = _lock_dir(self.dir)
        try:
            if resume:
                read = read_rows(self.results_path, self.planned)
                self.rows = read.rows
                self._check_identity()  # before anything is moved: a refused resume changes nothing
                self._set_aside(read)
            elif self.results_path.exists() and self.results_path.stat().st_size:
                raise FileExistsError(f"{self.results_path} exists: pass --resume to continue it, or another --out")
            self.run_path.write_text(dumps({"format": RUN_FORMAT, "identity": self.identity}, indent=1))
            self._fh = open(self.results_path, "a", encoding="utf-8")
        except BaseException:
            self._unlock()
            raise
        self.done = {r["id"] for r in self.rows}
        self.resumed = len(self.rows)
        self.started = time.monotonic()
        self._last_summary = 0.0

    def add(self, row: dict[str, Any]) -> None:
        """Append one row (flushed at once); a row that cannot be written as JSON is written as an error row."""
        try:
            line = dumps(row)
        except (TypeError, ValueError) as exc:  # a value JSON cannot hold: keep the row, say what was lost
            log.error("row %s could not be written as JSON: %s", row.get("id"), exc)
            line = dumps(row, default=repr)
        self._fh.write(line + "\n")
        self._fh.flush()
        self.rows.append(row)
        if time.monotonic() - self._last_summary > 2.0:
            self.write_summary()

    def summary(self) -> dict[str, Any]:
        """Totals over every row (this run's and resumed ones); shapes in the README ("Evaluate")."""
        rows = self.rows
        by_scenario: dict[str, list[float]] = collections.defaultdict(list)
        by_endpoint: dict[str, list[float]] = collections.defaultdict(list)
        errors: collections.Counter[str] = collections.Counter()
        examples: dict[str, str] = {}
        stops: collections.Counter[str] = collections.Counter()
        tool_errors: collections.Counter[str] = collections.Counter()
        tokens: dict[str, Any] = {k: 0 for k in USAGE_KEYS}
        rows_without_usage = 0
        for r in rows:
            by_scenario[r["scenario"]].append(r["reward"])
            for target in r["targets"]:
                hit = any(c.get("operation_id") == target for c in r["tool_calls"])
                by_endpoint[target].append(1.0 if hit else 0.0)
            stops[r.get("stop") or "unknown"] += 1
            if r.get("error"):
                kind = r.get("error_kind") or r["error"].split(":", 1)[0]
                errors[kind] += 1
                examples.setdefault(kind, one_line(r["error"], 300))
            for call in r["tool_calls"]:
                kind = tool_error_kind(call)
                if kind:
                    tool_errors[kind] += 1
            usage = r.get("usage") or {}
            if usage.get("total_tokens") is None and r.get("turns"):
                rows_without_usage += 1
            for key in USAGE_KEYS:
                tokens[key] += usage.get(key) or 0
        elapsed = time.monotonic() - self.started
        new = len(rows) - self.resumed
        tokens["rows_without_usage"] = rows_without_usage

        def mean(values: list[float]) -> float | None:
            return round(sum(values) / len(values), 4) if values else None

        metric_keys = list(rewards.REWARD_WEIGHTS)
        for r in rows:
            metric_keys += [k for k in r["metrics"] if k not in metric_keys]
        return {
            "label": self.label,
            "rollouts": len(rows),
            "mean_reward": mean([r["reward"] for r in rows]),
            "metrics": {k: mean([r["metrics"][k] for r in rows if k in r["metrics"]]) for k in metric_keys},
            "stops": {k: stops[k] for k in [*STOP_REASONS, "unknown"] if stops.get(k)},
            "errors": dict(errors.most_common()),
            "error_examples": examples,
            "error_rows": sum(1 for r in rows if r.get("error")),
            "retried": sum(1 for r in rows if r.get("retried")),
            "tool_calls": sum(len(r["tool_calls"]) for r in rows),
            "tool_errors": dict(tool_errors.most_common()),
            "tokens": tokens,
            "by_scenario": {k: {"n": len(v), "mean_reward": mean(v)} for k, v in sorted(by_scenario.items())},
            "by_endpoint": {k: {"n": len(v), "hit_rate": mean(v)} for k, v in sorted(by_endpoint.items())},
            **native_summary(rows),
            "throughput": {"rollouts_this_run": new, "elapsed_s": round(elapsed, 2),
                           "rollouts_per_s": round(new / elapsed, 3) if elapsed > 0 else None},  # fmt: skip
            "settings": self.settings,
        }

    def write_summary(self) -> dict[str, Any]:
        summary = self.summary()
        tmp = self.summary_path.with_suffix(".json.tmp")
        tmp.write_text(dumps(summary, indent=1), encoding="utf-8")
        tmp.replace(self.summary_path)
        self._last_summary = time.monotonic()
        return summary

    def close(self) -> dict[str, Any]:
        """Close `results.jsonl`, write `summary.json` and unlock the directory (whatever fails); the summary."""
        try:
            self._fh.close()
            return self.write_summary()
        finally:
            self._unlock()

    # ---- internals -----------------------------------------------------------------------

    def _set_aside(self, read: ReadBack) -> None:
        if read.dropped:  # set aside, not deleted: rows of other examples of a run resumed with fewer
            with open(self.dir / DROPPED_FILE, "ab") as fh:
                fh.writelines(read.dropped_lines)
            log.warning("%s", dropped_warning(self.results_path, read.dropped))
        if self.results_path.exists() and self.results_path.read_bytes() != b"".join(read.lines):  # (a size check
            # missed a skipped blank line that cancels the newline a last line lacked: the next row joined it)
            tmp = self.results_path.with_suffix(".jsonl.tmp")  # the rows kept, byte for byte, each on its line
            with open(tmp, "wb") as fh:  # (a crash while writing leaves the old file)
                fh.writelines(read.lines)
            tmp.replace(self.results_path)

    def _check_identity(self) -> None:
        check_identity(self.dir, self.identity, self.rows)

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _lock_dir(directory: Path) -> int:
    """Create `directory` and hold an exclusive lock on its `LOCK_FILE`; returns the descriptor that holds it.

    The lock file is opened for writing: on NFS, `flock` is carried out as a POSIX record lock, which
    refuses an exclusive lock on a descriptor open only for reading (a lock on the directory itself
    would always fail there). It is never removed: a second run that opened it before the removal
    would lock a file nobody else can see."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FileExistsError(f"{directory} is being written by another run: wait for it to end, or pass another --out") from None
    except OSError as exc:  # a file system without locks: run, unguarded
        log.warning("could not lock %s (%s): a second run given it would not be refused", directory / LOCK_FILE, exc)
    return fd


class ReadBack(NamedTuple):
    """What `read_rows` found in a `results.jsonl`."""

    rows: list[dict[str, Any]]  # the rows kept, in file order
    lines: list[bytes]  # their lines as written (newline included)
    dropped: list[tuple[int, str]]  # (1-based line number, why) of every line dropped
    dropped_lines: list[bytes]  # the dropped lines as written (newline included), in file order


def read_rows(path: Path, planned: Collection[str] | None = None) -> ReadBack:
    """The rows of a `results.jsonl` (none when it does not exist), without the lines that are not
    rows of this run (why: `row_problem`), ids not in `planned` (when given), and repeated ids (the
    first row of an id is kept)."""
    rows: list[dict[str, Any]] = []
    lines: list[bytes] = []
    dropped: list[tuple[int, str]] = []
    dropped_lines: list[bytes] = []
    seen: set[str] = set()
    if not path.exists():
        return ReadBack(rows, lines, dropped, dropped_lines)
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            line = line if line.endswith(b"\n") else line + b"\n"
            try:
                row = loads(line)
            except json.JSONDecodeError:  # not JSON (cut short), not UTF-8, too deep, a number too long
                dropped.append((number, "not JSON"))
                dropped_lines.append(line)
                continue
            problem = row_problem(row)
            if problem is None and planned is not None and row["id"] not in planned:
                problem = f"id {one_line(row['id'], 60)!r} is not a rollout of this run"
            if problem is None and row["id"] in seen:
                problem = f"a second row of {one_line(row['id'], 60)!r}"
            if problem is not None:
                dropped.append((number, problem))
                dropped_lines.append(line)
                continue
            seen.add(row["id"])
            rows.append(row)
            lines.append(line)
    return ReadBack(rows, lines, dropped, dropped_lines)


def row_problem(row: Any) -> str | None:
    """Why `row` (a decoded line of `results.jsonl`) is not a row the summary can count, or None."""
    if not isinstance(row, dict):
        return "not a JSON object"
    if not isinstance(row.get("id"), str):
        return "no string id"
    if not _is_number(row.get("reward")):
        return "reward is not a number"
    for key, kind in (("scenario", str), ("targets", list), ("tool_calls", list), ("metrics", dict)):
        if not isinstance(row.get(key), kind):
            return f"no {key} ({kind.__name__})"
    if not all(isinstance(call, dict) for call in row["tool_calls"]):
        return "a tool call that is not an object"
    if not all(_is_number(v) for v in row["metrics"].values()):
        return "a metric that is not a number"
    for key in ("usage", "verification", "timings"):
        if row.get(key) is not None and not isinstance(row[key], dict):
            return f"{key} is not an object"
    if row.get("error") and not isinstance(row["error"], str):
        return "an error that is not text"
    if not _all(row["targets"], lambda t: isinstance(t, str)):
        return "a target that is not text"
    if not _all((row.get("stop"), row.get("error_kind")), _text_or_none):
        return "a stop or error_kind that is not text"
    usage = row.get("usage") or {}
    if not _all((usage.get(key) for key in USAGE_KEYS), _number_or_none):
        return "a usage count that is not a number"
    v = row.get("verification") or {}
    if not _all((v.get("error"), v.get("verdict"), v.get("result")), _text_or_none):
        return "a verification error or verdict that is not text"
    if not _all((v.get("ms"), (row.get("timings") or {}).get("verify_ms")), _number_or_none):
        return "a verification time that is not a number"
    if row.get("task_kind") == "native":
        for key, kind in (("example_id", str), ("prompt", str), ("task_index", int)):
            if not isinstance(row.get(key), kind):
                return f"a native row without {key} ({kind.__name__})"
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _all(values: Any, test: Callable[[Any], bool]) -> bool:
    return all(test(v) for v in values)


def _text_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _number_or_none(value: Any) -> bool:
    return value is None or _is_number(value)


def dropped_warning(path: Path, dropped: list[tuple[int, str]]) -> str:
    """One line naming the lines of `path` that `--resume` dropped, and why."""
    shown = ", ".join(f"{number} ({why})" for number, why in dropped[:20])
    more = f" and {len(dropped) - 20} more" if len(dropped) > 20 else ""
    return (f"--resume: dropped {len(dropped)} line(s) of {path} that are not rows of this run (moved to "
            f"{path.with_name(DROPPED_FILE)}): line {shown}{more}")


def check_identity(out_dir: Path, identity: Mapping[str, Any], rows: list[dict[str, Any]]) -> None:
    """Raise `ResumeRefused` naming what differs between `identity` and the run in `out_dir` (its
    `run.json`, or for a run made before `run.json` existed, its rows' model)."""
    run_path = Path(out_dir) / "run.json"
    before: dict[str, Any] | None = None
    if run_path.exists():
        try:
            before = json.loads(run_path.read_text(encoding="utf-8"))["identity"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ResumeRefused(f"--resume refused: {run_path} is unreadable ({exc}); use another --out") from None
    elif rows:
        before = {"model": rows[0].get("model")}
    if before is None:
        return
    differs = [
        f"{key} {_show(before.get(key))} -> {_show(identity.get(key))}"
        for key in sorted(set(before) | set(identity))
        if key in before and before.get(key) != identity.get(key)
    ]
    if differs:
        raise ResumeRefused(
            f"--resume refused: {out_dir} holds a different run ({'; '.join(differs)}). Its rows would be "
            "counted as this run's. Resume with the same settings, or use another --out."
        )


def check_planned(rows: Iterable[Mapping[str, Any]], records: Iterable[Mapping[str, Any]], where: Path) -> None:
    """Raise `ResumeRefused` when a finished row's task differs from what this run plans for its id."""
    finished = {r["id"]: r for r in rows}
    for record in records:
        row = finished.get(record["id"])
        if row is None:
            continue
        for key in ("scenario", "prompt", "targets"):
            if key in row and row[key] != record[key]:
                raise ResumeRefused(
                    f"--resume refused: rollout {record['id']} in {where} was asked {key} "
                    f"{one_line(row[key], 120)!r}, this run would ask {one_line(record[key], 120)!r}: the dataset "
                    "or the task settings differ. Use another --out for a new run."
                )


def tool_error_kind(call: Mapping[str, Any]) -> str | None:
    """How a tool call failed, for the summary: its error (`arguments`, `unknown_tool`, `timeout`,
    `server_gone`) or `http_4xx` / `http_5xx`; None for a 2xx/3xx answer."""
    if call.get("error"):
        return str(call["error"])
    status = call.get("status")
    if isinstance(status, int) and status >= 400:
        return f"http_{status // 100}xx"
    return None


def _show(value: Any) -> str:
    return "none" if value is None else one_line(json.dumps(value, ensure_ascii=False, sort_keys=True), 120)


def native_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """For rows of scenarios' own tasks: `task_complete` by scenario and by task, and `verification`
    (rows verified, errors by kind, verdicts, judge errors, verify and verifier ms p50/p95). Empty
    when no row is a native one."""
    native = [r for r in rows if r.get("task_kind") == "native"]
    if not native:
        return {}
    by_scenario: dict[str, list[float]] = collections.defaultdict(list)
    by_task: dict[str, dict[str, Any]] = {}
    errors: collections.Counter[str] = collections.Counter()
    verdicts: collections.Counter[str] = collections.Counter()
    verify_ms, verifier_ms = [], []
    judge_errors = verified = 0
    for r in native:
        done = r["metrics"].get("task_complete", 0.0)
        by_scenario[r["scenario"]].append(done)
        task = by_task.setdefault(r["example_id"], {"scenario": r["scenario"], "task_index": r["task_index"],
                                                    "task": one_line(r["prompt"], 160), "rollouts": []})  # fmt: skip
        task["rollouts"].append(done)
        v = r.get("verification")
        if v is None:
            errors["not_verified"] += 1
            continue
        verified += 1
        if v.get("error"):
            errors[v["error"]] += 1
        outcome = v.get("verdict") if v.get("mode") == "sql" else v.get("result")
        if outcome:
            verdicts[outcome] += 1
        judge_errors += bool(v.get("judge_error"))
        if (r.get("timings") or {}).get("verify_ms") is not None:
            verify_ms.append(r["timings"]["verify_ms"])
        if v.get("ms") is not None:
            verifier_ms.append(v["ms"])

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return {
        "task_complete": mean([r["metrics"].get("task_complete", 0.0) for r in native]),
        "task_complete_by_scenario": {k: {"n": len(v), "task_complete": mean(v)} for k, v in sorted(by_scenario.items())},
        "task_complete_by_task": {
            k: {"scenario": t["scenario"], "task_index": t["task_index"], "task": t["task"], "n": len(t["rollouts"]),
                "task_complete": mean(t["rollouts"])}
            for k, t in sorted(by_task.items())
        },  # fmt: skip
        "verification": {
            "verified": verified, "errors": dict(errors.most_common()), "results": dict(verdicts.most_common()),
            "judge_errors": judge_errors, "verify_ms": percentiles(verify_ms), "verifier_ms": percentiles(verifier_ms),
        },  # fmt: skip
    }
