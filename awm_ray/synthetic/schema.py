"""Schema model of a synthetic scenario: column kinds and their SQL/Python/spec types, tables, and
the literal helpers (Python source, SQL) the renderers share.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any


_SQL_TYPE = {
    "title": "TEXT",
    "person": "TEXT",
    "text": "TEXT",
    "enum": "TEXT",
    "code": "TEXT",
    "email": "TEXT",
    "phone": "TEXT",
    "uname": "TEXT",
    "uemail": "TEXT",
    "int": "INTEGER",
    "fk": "INTEGER",
    "real": "REAL",
    "money": "REAL",
    "bool": "BOOLEAN",
    "dt": "DATETIME",
    "ts": "DATETIME",
}
_PY_TYPE = {"TEXT": "str", "INTEGER": "int", "REAL": "float", "BOOLEAN": "bool", "DATETIME": "datetime"}
_SPEC_TYPE = {"TEXT": "string", "INTEGER": "integer", "REAL": "float", "BOOLEAN": "boolean", "DATETIME": "string"}
_ORM_TYPE = {"TEXT": "String", "INTEGER": "Integer", "REAL": "Float", "BOOLEAN": "Boolean", "DATETIME": "DateTime"}


class _Sql(str):
    """A raw SQL expression in an INSERT (e.g. ``datetime('now', '-3 days')``)."""


def _rng(seed: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"awm-ray-synthetic:{seed}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _human(name: str) -> str:
    return name.replace("_", " ")


def _a(noun: str) -> str:
    """Noun with its indefinite article."""
    lower = noun.lower()
    vowel = lower[:1] in "aeiou" and not lower.startswith(("user", "uni", "use", "eu", "one"))
    return ("an " if vowel else "a ") + noun


def _py(value: Any) -> str:
    """Python source literal for a JSON-like value."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _sql_literal(value: Any) -> str:
    if isinstance(value, _Sql):
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class _Col:
    def __init__(self, name: str, kind: str, args: tuple[str, ...] = (), words: str = "") -> None:
        self.name = name
        self.kind = kind
        self.choices: tuple[str, ...] = ()
        self.lo: float = 0
        self.hi: float = 0
        self.prefix = ""
        self.ref: _Table | None = None
        self.words = words
        if kind == "enum":
            self.choices = tuple(args[0].split(","))
        elif kind == "int":
            self.lo, self.hi = int(args[0]), int(args[1])
        elif kind in ("real", "money"):
            self.lo, self.hi = float(args[0]), float(args[1])
        elif kind == "code":
            self.prefix = args[0]
        self.sql = _SQL_TYPE[kind]
        self.py = _PY_TYPE[self.sql]
        self.stype = _SPEC_TYPE[self.sql]
        self.nullable = kind in ("text", "dt", "email", "phone", "ts")
        self.unique = kind in ("code", "uname", "uemail")

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "real", "money")

    @property
    def searchable(self) -> bool:
        return self.kind in ("title", "person", "text", "code", "email", "uname", "uemail")

    @property
    def ann(self) -> str:
        return f"Optional[{self.py}]" if self.nullable else self.py


class _Table:
    def __init__(self, name: str, singular: str, cols: list[_Col], parents: list["_Table"], owned: bool) -> None:
        self.name = name
        self.singular = singular
        self.cls = _camel(singular)
        self.hs = _human(singular)
        self.hp = _human(name)
        self.slug = name.replace("_", "-")
        self.cols = cols  # without id
        self.parents = parents  # non-user parents, in FK order
        self.owned = owned
        self.rows: list[dict[str, Any]] = []
        labels = [c for c in cols if c.kind in ("title", "person", "code", "uname")]
        self.label = labels[0]
        self.indexes: list[tuple[str, list[str], bool]] = []

    @property
    def id_param(self) -> str:
        return f"{self.singular}_id"

    def data_cols(self) -> list[_Col]:
        return [c for c in self.cols if c.kind not in ("fk", "ts")]

    def fk_cols(self) -> list[_Col]:
        return [c for c in self.cols if c.kind == "fk"]

    def writable(self, skip: tuple[str, ...] = ()) -> list[_Col]:
        out = []
        for c in self.cols:
            if c.kind == "ts" or c.name in skip:
                continue
            if c.kind == "fk" and c.name == "user_id" and self.owned:
                continue
            out.append(c)
        return out

    def of(self, kind: str) -> list[_Col]:
        return [c for c in self.data_cols() if c.kind == kind]

    def numerics(self) -> list[_Col]:
        return [c for c in self.data_cols() if c.numeric]

    def ids(self) -> list[int]:
        return [r["id"] for r in self.rows]
