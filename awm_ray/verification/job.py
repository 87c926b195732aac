"""The sandbox job that runs one generated verifier (`awm_ray.verification.job:run`).

It runs in a child of the sandbox's zygote (`awm_ray.hosting.sandbox`), already under its limits
and its audit hook (no processes, no network, no writes outside its own directory). On top of those
it adds what a verifier needs and nothing more, as upstream AWM runs it:

- the two databases are **read-only**: `sqlite3.connect(path)` of either path (the way generated
  code opens them) is turned into `file:PATH?mode=ro`, and the sandbox refuses any writable open;
- **reads are confined**: an audit hook refuses to open or list files other than the two databases
  (and their journals), the job's own directory and Python's own installation (so imports work):
  `/proc/self/environ`, `/etc/passwd` or a home directory cannot be read;
- the code is compiled and executed with `sqlite3`, `json`, `os` and `re` in its namespace, and its
  function (`verify_task_completion` for code mode, `verify_task` for sql mode) called with the
  arguments its signature names (`initial_db_path`, `final_db_path`, `final_answer`), or by position.

The job returns `{"outcome": "returned", "value": <the function's result, made JSON-safe>}`,
`{"outcome": "compile_error", "message"}` or `{"outcome": "missing_function", "message"}`; an
exception the verifier raises propagates, and the sandbox reports it as error "raised".
"""

from __future__ import annotations

import builtins
import inspect
import json
import math
import os
import re
import sqlite3
import sys
import urllib.parse
from typing import Any

# mirrored in awm_ray.scenario.native (this module imports only the standard library, so that the
# sandbox's zygote can preload it cheaply)
FUNCTIONS = {"code": "verify_task_completion", "sql": "verify_task"}
MAX_VALUE_CHARS = 256_000
_READ_EVENTS = ("open", "os.listdir", "os.scandir", "glob.glob")
_ALWAYS_READABLE = ("/dev/null", "/dev/urandom", "/dev/random", "/etc/localtime")


def run(
    code: str,
    mode: str,
    initial_db_path: str,
    final_db_path: str,
    final_answer: str | None = None,
) -> dict[str, Any]:
    """Compile `code`, call its `mode` function on the two databases; see the module doc."""
    function_name = FUNCTIONS[mode]
    databases = [os.path.realpath(initial_db_path), os.path.realpath(final_db_path)]
    _read_only_databases(databases)
    _confine_reads(databases)
    try:
        compiled = compile(code, f"<{function_name}>", "exec")
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        return {"outcome": "compile_error", "message": _compile_message(exc)}
    namespace: dict[str, Any] = {"__name__": "awm_verifier", "__builtins__": builtins,
                                 "sqlite3": sqlite3, "json": json, "os": os, "re": re}  # fmt: skip
    exec(compiled, namespace)  # noqa: S102 - the point of the job: untrusted code, inside the sandbox
    function = namespace.get(function_name)
    if not callable(function):
        defined = sorted(k for k, v in namespace.items() if inspect.isfunction(v))
        return {
            "outcome": "missing_function",
            "message": f"the code defines no function {function_name}() (it defines: {', '.join(defined) or 'none'})",
        }
    args, kwargs = _arguments(function, initial_db_path, final_db_path, final_answer)
    value = _jsonable(function(*args, **kwargs))
    size = len(json.dumps(value, ensure_ascii=False))
    if size > MAX_VALUE_CHARS:  # keep the verdict; say how much evidence there was
        kept = {"result": value["result"]} if isinstance(value, dict) and "result" in value else {}
        value = {**kept, "_truncated": f"the verifier returned {size} characters of JSON; the limit is {MAX_VALUE_CHARS}"}
    return {"outcome": "returned", "value": value}


def _arguments(function: Any, initial: str, final: str, answer: str | None) -> tuple[list, dict]:
    """Arguments by the names the signature uses; unknown names get the values by position.

    Read from the code object (as `inspect.signature` would, without its cost): a verifier is
    always a plain function defined by `def` in its code.
    """
    known = {"initial_db_path": initial, "final_db_path": final, "final_answer": answer}
    code = getattr(function, "__code__", None)
    if code is None:
        return [initial, final], {}
    positional = code.co_varnames[: code.co_argcount]
    keyword_only = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    if code.co_flags & inspect.CO_VARKEYWORDS:
        return [], known
    names = [n for n in (*positional, *keyword_only) if n not in positional[: code.co_posonlyargcount]]
    if not code.co_posonlyargcount and all(n in known for n in names):
        return [], {n: known[n] for n in names}
    count = 3 if code.co_flags & inspect.CO_VARARGS else len(positional)
    return [initial, final, answer][:count], {}


def _read_only_databases(databases: list[str]) -> None:
    """`sqlite3.connect(path)` of either database opens it read-only (as upstream's chmod 0444 does)."""
    connect = sqlite3.connect

    def read_only_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if not kwargs.get("uri") and isinstance(database, (str, bytes, os.PathLike)):
            path = os.fsdecode(os.fspath(database))
            if os.path.realpath(path) in databases:
                uri = "file:" + urllib.parse.quote(os.path.realpath(path)) + "?mode=ro"
                return connect(uri, *args, **{**kwargs, "uri": True})
        return connect(database, *args, **kwargs)

    sqlite3.connect = read_only_connect  # type: ignore[assignment]  # this process is the job's alone


def _confine_reads(databases: list[str]) -> None:
    """An audit hook refusing reads outside the databases, the job's directory and Python itself."""
    allowed_files = {p + suffix for p in databases for suffix in ("", "-journal", "-wal", "-shm")}
    allowed_files.update(_ALWAYS_READABLE)
    own = {os.path.realpath(os.getcwd()), os.path.realpath(os.environ.get("TMPDIR") or os.getcwd())}
    roots_t = tuple(sorted(own | _python_roots()))
    realpath, join, getcwd, fsdecode = os.path.realpath, os.path.join, os.getcwd, os.fsdecode

    def hook(event: str, args: tuple) -> None:
        if event == "sqlite3.connect" and args:
            path = _database_path(args[0])
            if path is None or realpath(join(getcwd(), path)) in allowed_files:
                return
            raise PermissionError(f"awm-ray verifier: may only open its two databases, not {path}")
        if event not in _READ_EVENTS or not args:
            return
        path = args[0]
        if path is None or isinstance(path, int):
            return  # an open descriptor (checked when it was opened) or the current directory
        if isinstance(path, bytes):
            path = fsdecode(path)
        if not isinstance(path, str):
            try:
                path = fsdecode(os.fspath(path))
            except TypeError:
                return
        target = realpath(join(getcwd(), path))
        if target in allowed_files or any(target == r or target.startswith(r + os.sep) for r in roots_t):
            return
        raise PermissionError(f"awm-ray verifier: may only read its two databases, not {target}")

    sys.addaudithook(hook)


_PYTHON_ROOTS: set[str] = set()


def _python_roots() -> set[str]:
    """Where Python's own modules are (readable, so imports work): computed once per process (in
    the sandbox's zygote, which preloads this module), not per verification."""
    if not _PYTHON_ROOTS:
        for entry in (sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path):
            if entry and os.path.isabs(entry) and not _too_broad(entry):
                _PYTHON_ROOTS.add(os.path.realpath(entry))
    return _PYTHON_ROOTS


def _database_path(database: Any) -> str | None:
    """The file a `sqlite3.connect` argument names (None: an in-memory database)."""
    if isinstance(database, bytes):
        database = os.fsdecode(database)
    if not isinstance(database, str):
        try:
            database = os.fsdecode(os.fspath(database))
        except TypeError:
            return None
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    if database.startswith("file:"):
        location = urllib.parse.unquote(database[5:].partition("?")[0])
        return location[2:] if location.startswith("//") else location
    return database


def _too_broad(path: str) -> bool:
    """A sys.path entry that would open the whole file system (the root, /proc, a home dir)."""
    real = os.path.realpath(path)
    return real in ("/", "/proc", "/etc", "/home", "/root", "/tmp", "/var", "/usr") or real.startswith("/proc/")


def _compile_message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno}" + (f", column {exc.offset})" if exc.offset else ")") if exc.lineno else ""
        text = f"\n    {exc.text.rstrip()}" if exc.text else ""
        return f"SyntaxError: {exc.msg}{where}{text}"
    return f"{type(exc).__name__}: {exc}"


def _jsonable(value: Any, depth: int = 0) -> Any:
    """The verifier's result as JSON: sets and tuples as lists, NaN as None, other objects as text."""
    if depth > 40:
        return "<nested too deep>"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_jsonable(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


_python_roots()
