"""Pydantic models of the generated server and the code snippets endpoints are made of (a mixin of ``_Builder``)."""

from __future__ import annotations

from typing import Any

from .parts import _F, _M, _col_desc
from .schema import _Sql, _human, _a, _Col, _Table


class _Models:
    """Pydantic models of the generated server and the code snippets endpoints are made of (a mixin of ``_Builder``)."""

    # ---- models ------------------------------------------------------------------------------

    def _model(self, name: str, fields: list[_F], orm: bool = False) -> str:
        if name not in self.models:
            self.models[name] = _M(name, fields, orm)
        return name

    def _example_row(self, table: _Table) -> dict[str, Any]:
        return self.rng.choice(table.rows)

    def _row_example(self, table: _Table, col: _Col, row: dict[str, Any]) -> Any:
        value = row.get(col.name)
        if col.kind in ("ts", "dt"):
            return self.vals.iso_dt() if (isinstance(value, _Sql) or value is None) else value.replace(" ", "T")
        if col.kind == "bool":
            return bool(value)
        if value is None:
            return self.vals.fresh(table, col)
        return value

    def entity_model(self, table: _Table) -> str:
        name = f"{table.cls}Model"
        if name in self.models:
            return name
        row = self._example_row(table)
        fields = [_F("id", "int", "integer", True, f"Unique ID of the {table.hs}.", row["id"])]
        for c in table.cols:
            fields.append(
                _F(c.name, c.ann, c.stype, not c.nullable, _col_desc(table, c), self._row_example(table, c, row))
            )
        return self._model(name, fields, orm=True)

    def body_model(self, name: str, table: _Table, cols: list[_Col], mode: str) -> tuple[str, dict[str, Any]]:
        """mode: create/replace (NOT NULL columns required) or patch (all optional)."""
        fields = []
        examples = {}
        for c in cols:
            ex = self.vals.fresh(table, c)
            examples[c.name] = ex
            if mode == "patch":
                fields.append(
                    _F(
                        c.name,
                        f"Optional[{c.py}]",
                        c.stype,
                        False,
                        f"New value for {_human(c.name)}; omit to keep the current value.",
                        ex,
                    )
                )
            elif c.kind == "bool":
                fields.append(
                    _F(c.name, "bool", c.stype, False, _col_desc(table, c) + " Defaults to false.", ex, default="False")
                )
            else:
                fields.append(_F(c.name, c.ann, c.stype, not c.nullable, _col_desc(table, c), ex))
        return self._model(name, fields), examples

    def list_model(self, name: str, key: str, table: _Table, extra: list[_F]) -> str:
        item = self.entity_model(table)
        fields = [_F(key, f"List[{item}]", "array", True, f"Matching {table.hp}.", [], ref=item, is_list=True)]
        return self._model(name, fields + extra)

    def serializer(self, table: _Table) -> str:
        """Name of the module-level function turning an ORM row into its entity model."""
        self.entity_model(table)
        return f"serialize_{table.singular}"

    def single_model(self, table: _Table) -> str:
        item = self.entity_model(table)
        return self._model(
            f"{table.cls}Response", [_F(table.singular, item, "object", True, f"The {table.hs} record.", {}, ref=item)]
        )

    # ---- code snippets -----------------------------------------------------------------------

    @staticmethod
    def ctor(
        model: str, table: _Table, var: str, indent: int, extra: list[tuple[str, str]] = (), trailing: str = ""
    ) -> list[str]:
        pad = " " * indent
        lines = [f"{pad}{model}(", f"{pad}    id={var}.id,"]
        lines += [f"{pad}    {c.name}={var}.{c.name}," for c in table.cols]
        lines += [f"{pad}    {k}={v}," for k, v in extra]
        lines.append(f"{pad}){trailing}")
        return lines

    @staticmethod
    def fetch(table: _Table, var: str, id_expr: str, indent: int = 8) -> list[str]:
        pad = " " * indent
        return [
            f"{pad}{var} = session.query({table.cls}).filter({table.cls}.id == {id_expr}).first()",
            f"{pad}if {var} is None:",
            f'{pad}    raise HTTPException(status_code=404, detail="{table.hs.capitalize()} not found")',
        ]

    def parent_checks(self, table: _Table, src: str, skip: tuple[str, ...] = (), optional: bool = False) -> list[str]:
        lines = []
        for c in table.fk_cols():
            if c.name in skip or (c.ref is self.users and table.owned):
                continue
            expr = f"{src}.{c.name}" if src == "body" else f'{src}["{c.name}"]'
            var = f"{c.ref.singular}_row"
            if optional:
                lines.append(f'        if "{c.name}" in updates and updates["{c.name}"] is not None:')
                lines += self.fetch(c.ref, var, expr, 12)
            else:
                lines += self.fetch(c.ref, var, expr)
        return lines

    @staticmethod
    def enum_const(table: _Table, col: _Col) -> str:
        return f"{table.singular.upper()}_{col.name.upper()}_VALUES"

    def enum_checks(self, table: _Table, src: str, cols: list[_Col]) -> list[str]:
        """Reject values outside an enum column's CHECK list with 400 (instead of a DB error)."""
        lines = []
        names = {c.name for c in cols}
        for c in table.of("enum"):
            if c.name not in names:
                continue
            const = self.enum_const(table, c)
            if src == "body":
                lines += [
                    f"        if body.{c.name} not in {const}:",
                    f'            raise HTTPException(status_code=400, detail=f"Invalid {c.name}: {{body.{c.name}}}")',
                ]
            else:
                lines += [
                    f'        if updates.get("{c.name}") is not None and updates["{c.name}"] not in {const}:',
                    f"            raise HTTPException(status_code=400, detail=f\"Invalid {c.name}: {{updates['{c.name}']}}\")",
                ]
        return lines

    def unique_checks(
        self, table: _Table, src: str, exclude_id: str | None, optional: bool = False, only: list[_Col] | None = None
    ) -> list[str]:
        lines = []
        for c in table.data_cols():
            if not c.unique or (only is not None and c not in only):
                continue
            expr = f"{src}.{c.name}" if src == "body" else f'updates["{c.name}"]'
            pad = "        "
            if optional:
                lines.append(f'        if updates.get("{c.name}") is not None:')
                pad = "            "
            cond = f"{table.cls}.{c.name} == {expr}"
            if exclude_id:
                cond += f", {table.cls}.id != {exclude_id}"
            lines += [
                f"{pad}clash = session.query({table.cls}).filter({cond}).first()",
                f"{pad}if clash is not None:",
                f'{pad}    raise HTTPException(status_code=409, detail="{_a(table.hs).capitalize()} with this {_human(c.name)} already exists")',
            ]
        return lines
