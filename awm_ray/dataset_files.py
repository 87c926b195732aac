"""Dataset rows from local files, in every format the Hugging Face ecosystem writes, one row at a time.

| what | read with | memory |
|---|---|---|
| `.jsonl` / `.ndjson` (and `.json` holding one object per line) | line by line (`json.loads`) | one row |
| `.json` holding one array | an incremental decoder over the array's elements | one row |
| `.json` holding one document (`{"data": [...]}`, or a single row) | `json.load` | the document |
| `.parquet` | `pyarrow.parquet.ParquetFile.iter_batches` | about two row groups' columns |
| a `save_to_disk` folder (`state.json`, `dataset_info.json`; or `dataset_dict.json`) | `datasets.load_from_disk` | memory-mapped |
| `.arrow`, `.csv`, `.tsv` | `datasets.load_dataset(<builder>, streaming=True)` | one batch |

Any of the text formats may be compressed (`.gz`, `.bz2`, `.xz`, and `.zst`/`.lz4` when their
packages are installed; decompressed as it is read, through `fsspec`). JSON Lines and JSON arrays
are read with `json`, not Arrow: their nested parts keep the types and keys each row has (Arrow
would unify them across rows, and fails on parts whose types differ from row to row).

Arrow-backed formats (parquet, arrow, save_to_disk, csv) store a nested part as a struct whose
fields are the union over all rows: every key any row has, as null where a row lacks it. Rows from
them go through `undo_unification`, which drops null-valued keys inside nested parts (a null that
a nested part really held reads as absent, which AWM's parts treat alike).

`rows(path)` yields `(row, where)` pairs; a file that cannot be read yields one `UnreadableFile`
marker (`(None, "<file>: why")`) and stops, so the caller names it and goes on with the others.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger(__name__)

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".lz4": "lz4"}
TEXT_KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
TABLE_KINDS = {".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".csv": "csv", ".tsv": "csv"}
DOCUMENT_KEYS = ("data", "rows", "scenarios", "train", "items", "records")
_CHUNK = 1 << 20

Row = Mapping[str, Any]


class UnreadableFile(Exception):
    """A dataset file that could not be read (the message names it and says why)."""


def kind_of(path: Path) -> tuple[str, str | None] | None:
    """(format, compression) from a file name (`a.jsonl.gz` -> ("jsonl", "gzip")), None if unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    kind = TEXT_KINDS.get(suffixes[-1]) or (TABLE_KINDS.get(suffixes[-1]) if compression is None else None)
    return (kind, compression) if kind else None


def is_saved_dataset(path: Path) -> bool:
    """A `Dataset.save_to_disk` / `DatasetDict.save_to_disk` folder."""
    return path.is_dir() and (
        ((path / "state.json").is_file() and (path / "dataset_info.json").is_file())
        or (path / "dataset_dict.json").is_file()
    )


def sources(target: str | Path) -> list[Path]:
    """The files and saved-dataset folders a path, directory or glob names, in a stable order.

    Each real file and directory is taken once: a symlink to a directory already walked (`ln -s .
    data/self`) or to a file already found is skipped, so a link loop neither recurses (exponentially,
    with two loops) nor yields the same rows again under longer names.
    Raises `FileNotFoundError` (nothing there or nothing matched) with the reason.
    """
    text = str(target)
    path = Path(text).expanduser()
    if path.exists():
        candidates = [path]
    elif any(c in text for c in "*?["):
        candidates = _glob(str(path))
        if not candidates:
            raise FileNotFoundError(f"{text}: no file matches")
    else:
        raise FileNotFoundError(f"{text}: no such file or directory")
    found: list[Path] = []
    seen: set[str] = set()  # real paths of the directories walked and the files found
    for candidate in candidates:
        if candidate.is_dir():
            found += _walk(candidate, seen)
        elif kind_of(candidate) is not None:
            if _first_visit(candidate, seen):
                found.append(candidate)
        elif len(candidates) == 1:
            raise FileNotFoundError(
                f"{candidate}: not a dataset file (expected .jsonl, .json, .parquet, .arrow or .csv, optionally "
                ".gz/.bz2/.xz-compressed, a directory of them, or a save_to_disk folder)"
            )
    return found


def _first_visit(path: Path, seen: set[str]) -> bool:
    """True the first time a real path (symlinks resolved) is met; logs the repeat otherwise."""
    real = os.path.realpath(path)
    if real in seen:
        log.info("%s: the same file or directory as one already read (%s), skipped", path, real)
        return False
    seen.add(real)
    return True


def _walk(directory: Path, seen: set[str]) -> list[Path]:
    if not _first_visit(directory, seen):
        return []
    if is_saved_dataset(directory):
        return [directory]
    found: list[Path] = []
    for child in sorted(directory.iterdir()):
        if child.name.startswith((".", "_")):  # .cache, _SUCCESS and the like
            continue
        if child.is_dir():
            found += _walk(child, seen)
        elif kind_of(child) is not None:
            if _first_visit(child, seen):
                found.append(child)
        else:
            log.debug("%s: not a dataset file, ignored", child)
    return found


def _glob(pattern: str) -> list[Path]:
    """`glob.glob(pattern, recursive=True)`, sorted, but `**` enters each real directory once.

    (`glob` follows directory symlinks under `**` with no loop check: `ln -s . a; ln -s . b` makes it
    walk 2**40 paths.) Like `glob`, wildcards match no hidden names.
    """
    if "**" not in pattern:
        return [Path(p) for p in sorted(glob.glob(pattern))]
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
    base = os.path.join(*parts[:first]) if first else ""
    matcher = re.compile(_translate(parts[first:]))
    found: list[Path] = []
    seen = {os.path.realpath(base or os.curdir)}
    for directory, dirnames, filenames in os.walk(base or os.curdir, followlinks=True):
        dirnames[:] = [d for d in sorted(dirnames) if not d.startswith(".") and _first_visit(Path(directory, d), seen)]
        relative = os.path.relpath(directory, base or os.curdir)
        for name in (*dirnames, *(f for f in filenames if not f.startswith("."))):
            rel = name if relative == os.curdir else f"{relative}/{name}".replace(os.sep, "/")
            if matcher.fullmatch(rel):
                found.append(Path(os.path.join(base, rel)))
    return sorted(found)


def _translate(parts: tuple[str, ...]) -> str:
    """A regex for `/`-joined relative paths from glob components (`**` is zero or more directories)."""
    out = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            out += ".*" if last else "(?:[^/]+/)*"
            continue
        i = 0
        while i < len(part):
            char = part[i]
            end = part.find("]", i + 2) if char == "[" else -1
            if char == "*":
                out += "[^/]*"
            elif char == "?":
                out += "[^/]"
            elif end > 0:
                body = part[i + 1 : end]
                out += "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
                i = end
            else:
                out += re.escape(char)
            i += 1
        out += "" if last else "/"
    return out


def rows(source: Path, split: str = "train") -> Iterator[tuple[Row | None, str]]:
    """(row, where) for each row of one source; `(None, message)` once if it cannot be read.

    A row that is JSON `null` comes back as an error row (`__error__` says why): a bare `None` would
    read as the unreadable-file marker, naming the place but giving no reason.
    """
    try:
        for row, where in _source_rows(source, split):
            if row is None:
                row = {"scenario": Path(where).name, "__error__": "a row must be a JSON object, got null"}
            yield row, where
    except UnreadableFile as exc:
        yield None, str(exc)
    except UnicodeDecodeError as exc:
        yield None, f"{source}: not UTF-8 text (byte {exc.object[exc.start]:#04x}): skipped from there on"
    except Exception as exc:  # noqa: BLE001 - any reader's failure: name the file, go on with the others
        yield None, f"{source}: cannot be read ({type(exc).__name__}: {str(exc)[:300]}): skipped"


def _source_rows(source: Path, split: str) -> Iterator[tuple[Row | None, str]]:
    if source.is_dir():
        yield from _saved_rows(source, split)
        return
    kind, compression = kind_of(source) or ("", None)
    if kind in ("jsonl", "json"):
        with _open_text(source, compression) as fh:
            yield from _json_rows(fh, source, kind)
    elif kind == "parquet":
        yield from _parquet_rows(source)
    elif kind in ("arrow", "csv"):
        yield from _builder_rows(kind, source)
    else:
        raise UnreadableFile(f"{source}: unknown format")


def _open_text(path: Path, compression: str | None) -> TextIO:
    """UTF-8 text; `utf-8-sig` drops a leading byte-order mark (Windows tools write one), nothing else."""
    if compression is None:
        return open(path, encoding="utf-8-sig")  # noqa: SIM115 - closed by the caller's with
    import fsspec

    return fsspec.open(str(path), "rt", compression=compression, encoding="utf-8-sig").open()


# ---- JSON --------------------------------------------------------------------------------------


def _json_rows(fh: TextIO, path: Path, kind: str) -> Iterator[tuple[Row | None, str]]:
    head = fh.read(_CHUNK)
    start = len(head) - len(head.lstrip())
    if head[start : start + 1] == "[":
        yield from _array_rows(fh, head, start + 1, path)
        return
    first = _json_or_none(head[start:].split("\n", 1)[0])
    if kind == "json" and head.strip() and (first is None or _is_document(first)):  # one document
        document = json.loads(head + fh.read())
        yield from _document_rows(document, path)
        return
    yield from _line_rows(fh, head, path)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the interpreter's stack
        return None


def _is_document(value: Any) -> bool:
    """An object holding rows under a key rather than being a row."""
    return isinstance(value, Mapping) and "scenario" not in value and "name" not in value and any(
        isinstance(value.get(k), list) for k in DOCUMENT_KEYS
    )


def _line_rows(fh: TextIO, head: str, path: Path) -> Iterator[tuple[Row | None, str]]:
    """JSON Lines; a file whose first line is not JSON is not JSON Lines (one error for the file)."""
    lineno = 0
    pending = head
    seen_good = False
    while True:
        *lines, pending = pending.split("\n")
        for line in lines:
            lineno += 1
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except RecursionError:  # valid-looking JSON nested too deep: this line only, never the file
                yield _too_deep(path, lineno)
                continue
            except ValueError as exc:
                if not seen_good:
                    raise UnreadableFile(f"{path}: not JSON Lines (line {lineno}: {exc}): skipped") from None
                yield {"scenario": f"{path.name}:{lineno}", "__error__": f"line is not valid JSON: {exc}"}, f"{path}:{lineno}"
                continue
            seen_good = True
            yield row, f"{path}:{lineno}"
        more = fh.read(_CHUNK)
        if not more:
            break
        pending += more
    if pending.strip():
        lineno += 1
        try:
            yield json.loads(pending), f"{path}:{lineno}"
        except RecursionError:
            yield _too_deep(path, lineno)
        except ValueError as exc:
            if not seen_good:
                raise UnreadableFile(f"{path}: not JSON Lines (line {lineno}: {exc}): skipped") from None
            yield {"scenario": f"{path.name}:{lineno}", "__error__": f"line is not valid JSON: {exc}"}, f"{path}:{lineno}"


def _too_deep(path: Path, lineno: int) -> tuple[Row, str]:
    return {"scenario": f"{path.name}:{lineno}", "__error__": "line is nested too deeply to parse"}, f"{path}:{lineno}"


def _array_rows(fh: TextIO, buffer: str, pos: int, path: Path) -> Iterator[tuple[Row | None, str]]:
    """The elements of one JSON array, decoded one at a time (`raw_decode` over a sliding buffer)."""
    decoder = json.JSONDecoder()
    index = 0
    eof = False
    expect_value = True  # after '[' or ','
    while True:
        while True:  # skip whitespace, and the comma between elements
            while pos < len(buffer) and buffer[pos] in " \t\r\n":
                pos += 1
            if pos < len(buffer) or eof:
                break
            buffer, pos = buffer[pos:] + fh.read(_CHUNK), 0
            eof = pos >= len(buffer)
        if pos >= len(buffer):
            raise UnreadableFile(f"{path}: the JSON array is not closed (after element {index})")
        char = buffer[pos]
        if char == "]":
            return
        if not expect_value:
            if char != ",":
                raise UnreadableFile(f"{path}: expected ',' or ']' after element {index} of the JSON array")
            pos, expect_value = pos + 1, True
            continue
        while True:
            try:
                value, end = decoder.raw_decode(buffer, pos)
                if end < len(buffer) or eof:
                    break
            except ValueError:
                if eof:
                    raise UnreadableFile(f"{path}: element {index} of the JSON array is not valid JSON") from None
            more = fh.read(max(_CHUNK, len(buffer) - pos))  # grows with the element: linear overall
            buffer, pos = buffer[pos:] + more, 0
            eof = not more
        yield value, f"{path}[{index}]"
        index += 1
        buffer, pos, expect_value = buffer[end:], 0, False


def _document_rows(document: Any, path: Path) -> Iterator[tuple[Row | None, str]]:
    if isinstance(document, Mapping):
        for key in DOCUMENT_KEYS:
            if isinstance(document.get(key), list):
                for index, row in enumerate(document[key]):
                    yield row, f"{path}:{key}[{index}]"
                return
        if "scenario" in document or "name" in document:
            yield document, str(path)
            return
    raise UnreadableFile(
        f"{path}: a JSON document that is neither rows (JSON Lines, an array, or an object with a list under "
        f"one of {', '.join(DOCUMENT_KEYS)}) nor one row: skipped"
    )


# ---- Arrow-backed formats ----------------------------------------------------------------------


def undo_unification(value: Any) -> Any:
    """Drop the null-valued keys Arrow's schema unification added to nested dicts (recursively)."""
    if isinstance(value, dict):
        return {k: undo_unification(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [undo_unification(v) for v in value]
    return value


def clean_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: undo_unification(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}


def _parquet_rows(path: Path) -> Iterator[tuple[Row | None, str]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, buffer_size=1 << 16, pre_buffer=False)
    index = 0
    for batch in parquet.iter_batches(batch_size=16, use_threads=False):
        for row in batch.to_pylist():
            yield clean_row(row), f"{path}[{index}]"
            index += 1


def _saved_rows(path: Path, split: str) -> Iterator[tuple[Row | None, str]]:
    import datasets

    saved = datasets.load_from_disk(str(path))
    if isinstance(saved, datasets.DatasetDict):
        if split not in saved:
            raise UnreadableFile(f"{path}: a saved DatasetDict without split {split!r} (it has {', '.join(saved)})")
        saved = saved[split]
    for index, row in enumerate(saved):
        yield clean_row(row), f"{path}[{index}]"


def _builder_rows(kind: str, path: Path) -> Iterator[tuple[Row | None, str]]:
    import datasets

    options = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
    stream = datasets.load_dataset(kind, data_files=str(path), split="train", streaming=True, **options)
    for index, row in enumerate(stream):
        yield clean_row(row), f"{path}[{index}]"
