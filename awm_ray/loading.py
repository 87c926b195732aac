"""Where scenarios come from: the bundled set, a hub dataset, local files in either layout.

Everything streams: rows are parsed one at a time, so 1,000 server codes are never held twice.
A bad row is logged, added to `errors` and skipped; the rest still load. So is a file that cannot
be read (`UnreadableFile`, naming it) and a row whose scenario name an earlier row already used
(`DuplicateScenario`, naming both places: the first row wins). Local files of every format are
read by `awm_ray.dataset_files`.
"""

from __future__ import annotations

import codecs
import fnmatch
import json
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from awm_ray import dataset_files
from awm_ray.scenario import Scenario, ScenarioError, parse_scenario
from awm_ray.scenario.native import normalise_name

log = logging.getLogger(__name__)

DEFAULT_DATASET = "arcee-train/awm_1k_fixed_harness"
BUNDLED = "bundled"
BUNDLED_PATH = Path(__file__).parent / "data" / "bundled.jsonl"
# AWM-1K file -> the columns it contributes to a row
_AWM_FILES = {
    "gen_envs.jsonl": ("full_code",),
    "gen_db.jsonl": ("db_schema",),
    "gen_sample.jsonl": ("sample_data",),
    "gen_spec.jsonl": ("api_spec",),
    "gen_tasks.jsonl": ("tasks",),
}
# AWM-1K files with one row per task (`task_idx`, `task`, `verification`) -> the verifier mode
_AWM_VERIFIER_FILES = {"gen_verifier.pure_code.jsonl": "code", "gen_verifier.jsonl": "sql"}
_TASK_FILES = {"gen_tasks.jsonl", *_AWM_VERIFIER_FILES}

ScenarioFilter = str | Sequence[str] | Callable[[str], bool] | None


class DatasetUnavailable(RuntimeError):
    """The dataset cannot be reached or found; the message says what to do instead."""


class UnreadableFile(ScenarioError):
    """A file of the dataset that could not be read; it is skipped and the other files load."""

    def __init__(self, message: str):
        super().__init__(None, "<file>", message)

    def __str__(self) -> str:
        return self.message


class DuplicateScenario(ScenarioError):
    """A row whose scenario name an earlier row already used; it is skipped (the first row wins)."""

    def __init__(self, name: str, where: str, first: str):
        super().__init__(name, "scenario", f"the name is used again at {where} (first at {first}); scenario names "
                         "must be unique: this row is skipped, the first one is used")  # fmt: skip


def load_scenarios(
    dataset_name: str = DEFAULT_DATASET,
    split: str = "train",
    max_scenarios: int | None = None,
    scenario_filter: ScenarioFilter = None,
    errors: list[ScenarioError] | None = None,
) -> Iterator[Scenario]:
    """Yield scenarios from `dataset_name`: "bundled", a local file/directory, or a hub dataset.

    `scenario_filter` keeps scenarios by name (or by its normalised id, `normalise_name`): a list of
    names or glob patterns, a comma-separated string of them, or a predicate. Rows that fail to parse are appended to `errors` (if given).
    """
    keep = _name_filter(scenario_filter)
    rows = _rows(dataset_name, split, keep)
    count = 0
    seen: dict[str, str] = {}  # name -> where its row was
    for row, where in rows:
        if max_scenarios is not None and count >= max_scenarios:
            break
        if row is None:  # a file that cannot be read: `where` says which and why
            _bad(dataset_name, UnreadableFile(where), errors)
            continue
        name = row.get("scenario", row.get("name")) if isinstance(row, Mapping) else None
        if isinstance(name, str) and not (keep(name.strip()) or keep(normalise_name(name))):
            continue
        try:
            if isinstance(row, Mapping) and "__error__" in row:
                raise ScenarioError(name, "<row>", row["__error__"])
            scenario = parse_scenario(row)
        except ScenarioError as exc:
            _bad(dataset_name, exc, errors)
            continue
        if scenario.name in seen:
            duplicate = DuplicateScenario(scenario.name, where, seen[scenario.name])
            if errors is None:
                raise duplicate
            _bad(dataset_name, duplicate, errors)
            continue
        seen[scenario.name] = where
        count += 1
        yield scenario


def _bad(dataset_name: str, exc: ScenarioError, errors: list[ScenarioError] | None) -> None:
    log.warning("skipping %s of %s: %s", "a file" if isinstance(exc, UnreadableFile) else "a row", dataset_name, exc)
    if errors is not None:
        errors.append(exc)


class DatasetWriter:
    """Writes scenarios in the arcee layout as JSON Lines shards `scenarios-00000.jsonl`, ..."""

    def __init__(self, out_dir: str | Path, shard_size: int = 250):
        self.out_dir = Path(out_dir)
        self.shard_size = shard_size
        self.files: list[Path] = []
        self._count = 0
        self._fh: Any = None
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def write(self, scenario: Scenario) -> None:
        if self._count % self.shard_size == 0:
            self.close()
            self.files.append(self.out_dir / f"scenarios-{self._count // self.shard_size:05d}.jsonl")
            self._fh = open(self.files[-1], "w", encoding="utf-8")
        self._fh.write(json.dumps(scenario.to_row(), ensure_ascii=False) + "\n")
        self._count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_dataset(scenarios: Iterable[Scenario], out_dir: str | Path, shard_size: int = 250) -> list[Path]:
    """Write scenarios in the arcee layout; returns the shard files."""
    with DatasetWriter(out_dir, shard_size) as writer:
        for scenario in scenarios:
            writer.write(scenario)
    return writer.files


def _name_filter(scenario_filter: ScenarioFilter) -> Callable[[str], bool]:
    if scenario_filter is None:
        return lambda name: True
    if callable(scenario_filter):
        return scenario_filter
    patterns = scenario_filter.split(",") if isinstance(scenario_filter, str) else list(scenario_filter)
    patterns = [p.strip() for p in patterns if p and p.strip()]
    return lambda name: any(fnmatch.fnmatchcase(name, p) for p in patterns)


Located = tuple[Mapping[str, Any] | None, str]  # (row, where it came from); (None, why) for an unreadable file


def _rows(dataset_name: str, split: str, keep: Callable[[str], bool]) -> Iterator[Located]:
    if dataset_name == BUNDLED:
        return dataset_files.rows(BUNDLED_PATH)
    path = Path(dataset_name).expanduser()
    if path.is_dir() and any((path / name).is_file() for name in (*_AWM_FILES, *_AWM_VERIFIER_FILES)):
        return _awm_rows(path, keep)
    local = path.exists() or any(c in dataset_name for c in "*?[")
    if not local and os.sep in dataset_name and (dataset_name.startswith((".", "/", "~")) or dataset_name.count("/") != 1):
        raise DatasetUnavailable(f"{dataset_name}: no such file or directory")
    if not local:
        return _hub_rows(dataset_name, split)
    try:
        found = dataset_files.sources(dataset_name)
    except FileNotFoundError as exc:
        raise DatasetUnavailable(str(exc)) from None
    if not found:
        raise DatasetUnavailable(
            f"{path}: no dataset files (.jsonl, .json, .parquet, .arrow, .csv, optionally compressed), no "
            "save_to_disk folder, and no gen_*.jsonl (AWM-1K layout)"
        )
    return (located for source in found for located in dataset_files.rows(source, split))


def _awm_rows(root: Path, keep: Callable[[str], bool]) -> Iterator[Located]:
    """Join AWM-1K's per-stage files on the scenario, holding only byte offsets in memory.

    Files are joined by `normalise_name(scenario)`, so a display name in one file meets its
    normalised id in another; the row is named as the server/db/spec files name it. The verifier
    files (one row per task) become the row's `verifiers` `{"code": [...], "sql": [...]}`.
    """
    offsets: dict[str, dict[str, list[int]]] = {}
    names: dict[str, tuple[int, str]] = {}  # key -> (0 if a server/db/sample/spec file names it, name)
    for filename in (*_AWM_FILES, *_AWM_VERIFIER_FILES):
        for name, pos in _scenario_offsets(root / filename):
            key = normalise_name(name)
            if not (keep(name) or keep(key)):
                continue
            names[key] = min(names.get(key, (2, name)), (int(filename in _TASK_FILES), name))
            found = offsets.setdefault(key, {}).setdefault(filename, [])
            if filename in _AWM_VERIFIER_FILES or not found:
                found.append(pos)
    for key, files in offsets.items():
        row: dict[str, Any] = {"scenario": names[key][1]}
        for filename, positions in files.items():
            records = [_record_at(root / filename, pos) for pos in positions]
            if filename in _AWM_VERIFIER_FILES:
                row.setdefault("verifiers", {})[_AWM_VERIFIER_FILES[filename]] = records
            else:
                row.update({col: records[0].get(col) for col in _AWM_FILES[filename] if col in records[0]})
        yield row, f"{root} (AWM-1K layout, scenario {row['scenario']!r})"


def _scenario_offsets(path: Path) -> Iterator[tuple[str, int]]:
    """`(scenario name, byte offset)` of each readable line of a gen_*.jsonl file.

    A line that is not UTF-8 (`UnicodeDecodeError`, a `ValueError`), not JSON, not an object, or
    nested too deep for the parser (`RecursionError`) is skipped with a warning naming the file,
    line and byte; the other lines still load. A leading UTF-8 byte-order mark is ignored.
    """
    if not path.is_file():
        return
    with open(path, "rb") as fh:
        lineno = 0
        while True:
            pos = fh.tell()
            line = fh.readline()
            if not line:
                break
            lineno += 1
            if pos == 0 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
            try:
                name = json.loads(line).get("scenario")
            except (ValueError, RecursionError, AttributeError) as exc:
                why = "nested too deeply" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
                log.warning("%s:%d (byte %d): unreadable line skipped (%s)", path, lineno, pos, str(why)[:200])
                continue
            if isinstance(name, str) and name.strip():
                yield name.strip(), pos


def _record_at(path: Path, pos: int) -> dict[str, Any]:
    with open(path, "rb") as fh:
        fh.seek(pos)
        line = fh.readline()
        return json.loads(line[len(codecs.BOM_UTF8) :] if pos == 0 and line.startswith(codecs.BOM_UTF8) else line)


def _hub_rows(name: str, split: str) -> Iterator[Located]:
    offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"
    if not offline:
        _check_hub_reachable(name)
    return ((dataset_files.clean_row(row), f"{name}[{i}]") for i, row in enumerate(_hf_rows(name, split=split)))


def _check_hub_reachable(name: str, timeout_s: float = 3.0) -> None:
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        raise DatasetUnavailable(
            f"cannot reach the Hugging Face hub at {host}:{port} to load {name!r} ({exc}). "
            "Pass a local dataset instead: a directory or .jsonl/.parquet file in the arcee layout, "
            "a directory of AWM-1K gen_*.jsonl files, or 'bundled' "
            "(e.g. `awm-ray validate --dataset path/to/data`, or load_environment(dataset_name='bundled'))."
        ) from None


def _hf_rows(path: str, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    import datasets

    try:
        stream = datasets.load_dataset(path, streaming=True, **kwargs)
        yield from stream
    except DatasetUnavailable:
        raise
    except Exception as exc:
        raise DatasetUnavailable(f"could not load dataset {path!r}: {type(exc).__name__}: {exc}") from exc
