"""Text from models and apps, made safe to write, send and log.

Model servers and scenario apps can hand us strings that Python holds but UTF-8 cannot encode
(lone UTF-16 surrogates such as `"\\ud83d"`, which some tokenizers emit), bytes that are not UTF-8,
terminal escape codes in error texts, and texts of many megabytes. Every place that writes such
text to a file, an HTTP body or a log goes through this module:

- `clean(text)`: lone surrogates become U+FFFD (the Unicode replacement character); everything
  else, NUL included, is kept. `clean_json(value)` does the same through lists and dicts.
- `dumps(value)`: `json.dumps` of the cleaned value (UTF-8 safe, `ensure_ascii=False`).
- `decode(data)`: bytes to text, invalid UTF-8 replaced.
- `loads(text)`: `json.loads` for JSON from a model or a client: every way it cannot be read
  (nesting past Python's recursion limit, an integer past `sys.get_int_max_str_digits()`) raises
  `json.JSONDecodeError`, like any invalid JSON.
- `lone_surrogate(value)`: where the first unencodable character is (to tell a caller so).
- `non_finite(value)`: where a NaN/Infinity is (`json.loads` reads them; JSON has no such number),
  and `finite_json(value)`: the value with each of them sent as `null`.
- `one_line(text, limit)`: a log- and table-safe excerpt (no escape codes, no newlines, capped).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (a no-op copy-free pass for clean text)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT, text)
    return text


def clean_json(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, strings, numbers) with every string `clean`ed, keys too.

    A copy (tuples become lists), made without recursion: anything `json.loads` can read, however
    deeply nested, is cleaned (a recursive walk fails at about half of the depth it accepts)."""
    root: list[Any] = [None]
    todo: list[tuple[Any, Any, Any]] = [(value, root, 0)]  # (source, the copy it goes into, its key there)
    while todo:
        source, into, key = todo.pop()
        if isinstance(source, str):
            into[key] = clean(source)
        elif isinstance(source, dict):
            copy: dict[Any, Any] = {}
            into[key] = copy
            items = [(clean(k) if isinstance(k, str) else k, v) for k, v in source.items()]
            for k, _ in items:
                copy[k] = None  # the keys' order, before their values are filled in
            todo.extend((v, copy, k) for k, v in reversed(items))  # in order: of two keys that clean alike, the later wins
        elif isinstance(source, (list, tuple)):
            items_copy: list[Any] = [None] * len(source)
            into[key] = items_copy
            todo.extend((v, items_copy, i) for i, v in reversed(list(enumerate(source))))
        else:
            into[key] = source
    return root[0]


def non_finite(value: Any) -> str | None:
    """Where `value` (JSON-like) holds a number JSON has none for, e.g. `"NaN at 'a.b[0]'"`; None if nowhere.

    `json.loads` reads `NaN`, `Infinity`, `-Infinity` and numbers too large for a float (`1e999`, read
    as infinity), but JSON has no such numbers: strict servers and `json.dumps(allow_nan=False)` refuse
    them. Walked without recursion (`_walk`), so a value nested as deep as `loads` reads is fine."""
    for item, trail, is_key in _walk(value):
        if not is_key and isinstance(item, float) and not math.isfinite(item):
            name = "NaN" if math.isnan(item) else "Infinity" if item > 0 else "-Infinity"
            return f"{name} at {_path(trail)!r}" if trail is not None else name
    return None


def finite_json(value: Any) -> Any:
    """`value` (JSON-like) with every NaN/Infinity (`non_finite`) replaced by None, as strict servers accept
    it; `value` itself when it holds none, else a copy (lists and dicts; tuples become lists)."""
    if non_finite(value) is None:
        return value
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, float) and not math.isfinite(item):
            container[key] = None
        elif isinstance(item, Mapping):
            container[key] = copy = dict(item)
            stack.extend((copy, k) for k in copy)
        elif isinstance(item, (list, tuple)):
            container[key] = copy = list(item)
            stack.extend((copy, i) for i in range(len(copy)))
    return root[0]


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps(value, ensure_ascii=False)` that never fails on text: lone surrogates become U+FFFD.

    Raises `TypeError`/`ValueError` only for values JSON cannot hold (as `json.dumps` does)."""
    kwargs.setdefault("ensure_ascii", False)
    try:
        text = json.dumps(value, **kwargs)
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return json.dumps(clean_json(value), **kwargs)


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`, raising `json.JSONDecodeError` for every text it cannot read.

    `json.loads` raises `RecursionError` for arrays/objects nested past Python's recursion limit
    (`[[[...` 10,000 deep) and `ValueError` for an integer longer than `sys.get_int_max_str_digits()`
    (4,300 digits by default); here both become a `json.JSONDecodeError` naming the cause and the
    position where it starts, so a caller handles them like any other invalid JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        doc = text if isinstance(text, str) else decode(bytes(text))
        if isinstance(exc, UnicodeDecodeError):  # bytes that are not UTF-8 (a ValueError too)
            msg, pos = f"not UTF-8 ({exc.reason})", exc.start
        elif isinstance(exc, RecursionError):
            msg, pos = "arrays/objects nested too deeply", _deepest(doc)
        else:  # int() over its digit limit
            match = _LONG_INT.search(doc)
            msg = f"a number longer than {sys.get_int_max_str_digits()} digits ({type(exc).__name__})"
            pos = match.start() if match else 0
        raise json.JSONDecodeError(msg, doc, pos) from None

_LONG_INT = re.compile(r"-?\d{1000,}")


def _deepest(doc: str) -> int:
    """The position of the first bracket at the deepest nesting of `doc` (strings skipped)."""
    depth = best = where = 0
    in_string = escaped = False
    for pos, char in enumerate(doc):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > best:
                best, where = depth, pos
        elif char in "]}":
            depth -= 1
    return where


def decode(data: bytes) -> str:
    """Bytes from a server as text; invalid UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", errors="replace")


def lone_surrogate(value: Any) -> str | None:
    """A description of the first lone surrogate in `value` (a string, or inside a JSON-like value, keys
    too), e.g. `"'\\\\ud83d' at position 5"`; None when every string can be encoded as UTF-8."""
    for item, _, _ in _walk(value):
        if isinstance(item, str):
            match = _SURROGATE.search(item)
            if match is not None:
                return f"{match.group()!r} at position {match.start()}"
    return None


def _walk(value: Any) -> Iterator[tuple[Any, Any, bool]]:
    """`(item, trail, is_key)` for `value` and everything inside it, in document order (a dict's key
    just before its value), without recursion: a walk that recursed failed at about half of the depth
    `json.loads` reads. `trail` is None at the top, else `(parent trail, key or index, is_index)`."""
    todo: list[tuple[Any, Any, bool]] = [(value, None, False)]
    while todo:
        item, trail, is_key = todo.pop()
        yield item, trail, is_key
        if is_key:
            continue
        if isinstance(item, Mapping):
            for k, v in reversed(list(item.items())):
                todo.append((v, (trail, k, False), False))
                todo.append((k, trail, True))
        elif isinstance(item, (list, tuple)):
            todo.extend((v, (trail, i, True), False) for i, v in reversed(list(enumerate(item))))


def _path(trail: Any) -> str:
    """`a.b[0]` for the trail `_walk` gives an item."""
    steps = []
    while trail is not None:
        trail, step, is_index = trail
        steps.append((step, is_index))
    path = ""
    for step, is_index in reversed(steps):
        path = f"{path}[{step}]" if is_index else f"{path}.{step}" if path else str(step)
    return path


def strip_ansi(text: str) -> str:
    """`text` without terminal escape codes (colours, cursor moves)."""
    return _ANSI.sub("", text)


def one_line(text: Any, limit: int = 300) -> str:
    """A clean, single-line excerpt of `text` for logs and tables, at most `limit` characters."""
    flat = " ".join(strip_ansi(clean(str(text))).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
