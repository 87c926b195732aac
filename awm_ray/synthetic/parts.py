"""Pieces of the generated server: pydantic fields and models, path/query parameters, endpoints."""

from __future__ import annotations

from typing import Any

from .schema import _human, _Col, _Table


class _F:
    """A pydantic model field."""

    def __init__(
        self,
        name: str,
        ann: str,
        stype: str,
        required: bool,
        desc: str,
        example: Any,
        default: str = "None",
        ref: str | None = None,
        is_list: bool = False,
    ) -> None:
        self.name, self.ann, self.stype, self.required = name, ann, stype, required
        self.desc, self.example, self.default, self.ref, self.is_list = desc, example, default, ref, is_list


class _M:
    def __init__(self, name: str, fields: list[_F], orm: bool = False) -> None:
        self.name, self.fields, self.orm = name, fields, orm


class _P:
    """A path or query parameter."""

    def __init__(
        self,
        name: str,
        ann: str,
        stype: str,
        loc: str,
        required: bool,
        desc: str,
        example: Any,
        default: str = "None",
        extra: str = "",
    ) -> None:
        self.name, self.ann, self.stype, self.loc, self.required = name, ann, stype, loc, required
        self.desc, self.example, self.default, self.extra = desc, example, default, extra


class _E:
    def __init__(
        self,
        method: str,
        path: str,
        op: str,
        summary: str,
        desc: str,
        tags: list[str],
        group: str,
        params: list[_P],
        body: str | None,
        resp: str,
        lines: list[str],
        tables: dict[str, list[str]],
        status: int = 200,
    ) -> None:
        self.method, self.path, self.op, self.summary, self.desc = method, path, op, summary, desc
        self.tags, self.group, self.params, self.body, self.resp = tags, group, params, body, resp
        self.lines, self.tables, self.status = lines, tables, status


def _col_desc(table: _Table, col: _Col) -> str:
    hs = table.hs
    if col.kind == "fk":
        return f"ID of the {col.ref.hs} this {hs} belongs to."
    if col.kind == "bool":
        words = col.name.split("_")
        if words[0] in ("is", "has", "needs", "requires", "allows", "includes", "accepts"):
            verb = {
                "is": "is",
                "has": "has",
                "needs": "needs",
                "requires": "requires",
                "allows": "allows",
                "includes": "includes",
                "accepts": "accepts",
            }[words[0]]
            return f"Whether the {hs} {verb} {' '.join(words[1:])} (true/false)."
        return f"Whether {_human(col.name)} applies to the {hs} (true/false)."
    if col.kind == "enum":
        return f"{_human(col.name).capitalize()} of the {hs}; one of: {', '.join(col.choices)}."
    if col.kind == "code":
        return f"Unique {_human(col.name)} of the {hs} (e.g. {col.prefix}-12345)."
    if col.kind in ("dt", "ts"):
        return f"{_human(col.name).capitalize()} timestamp of the {hs} (ISO 8601)."
    if col.kind == "money":
        return f"{_human(col.name).capitalize()} of the {hs} in US dollars."
    return f"{_human(col.name).capitalize()} of the {hs}."
