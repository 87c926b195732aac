"""Action endpoints: set an enum column, bulk updates, flags (a mixin of ``_Builder``)."""

from __future__ import annotations

from .parts import _F, _P, _E
from .schema import _camel, _human, _a, _Table


class _ActionEndpoints:
    """Action endpoints: set an enum column, bulk updates, flags (a mixin of ``_Builder``)."""

    def ep_set_enum(self, table: _Table) -> _E | None:
        enums = table.of("enum")
        if not enums:
            return None
        c = enums[0]
        cls, resp = table.cls, self.single_model(table)
        target = self.rng.choice(c.choices)
        body = self._model(
            f"{cls}{_camel(c.name)}Body",
            [_F(c.name, "str", "string", True, f"New {_human(c.name)}; one of: {', '.join(c.choices)}.", target)],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            f"        if body.{c.name} not in {self.enum_const(table, c)}:",
            f'            raise HTTPException(status_code=400, detail=f"Invalid {c.name}: {{body.{c.name}}}")',
        ]
        lines += self.fetch(table, "row", table.id_param)
        lines += [
            f"        previous = row.{c.name}",
            f"        row.{c.name} = body.{c.name}",
            "        if previous != body." + c.name + ":",
            "            row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        changed = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=changed)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to change.",
                self.rng.choice(table.ids()),
            )
        ]
        seg = c.name.replace("_", "-")
        return _E(
            "PATCH",
            f"/api/{table.slug}/{{{table.id_param}}}/{seg}",
            f"set_{table.singular}_{c.name}",
            f"Change the {_human(c.name)} of {_a(table.hs)}",
            f"Set the {_human(c.name)} of one {table.hs} to one of: {', '.join(c.choices)}.",
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name]},
        )

    def ep_bulk(self, table: _Table) -> _E | None:
        enums = table.of("enum")
        if not enums:
            return None
        c, cls, rng = enums[0], table.cls, self.rng
        ids = sorted(rng.sample(table.ids(), min(3, len(table.rows))))
        body = self._model(
            f"{cls}Bulk{_camel(c.name)}Body",
            [
                _F("ids", "List[int]", "array", True, f"IDs of the {table.hp} to change.", ids),
                _F(
                    c.name,
                    "str",
                    "string",
                    True,
                    f"New {_human(c.name)} for all of them; one of: {', '.join(c.choices)}.",
                    rng.choice(c.choices),
                ),
            ],
        )
        resp = self._model(
            f"{cls}Bulk{_camel(c.name)}Response",
            [
                _F("updated_count", "int", "integer", True, f"Number of {table.hp} changed.", len(ids)),
                _F("missing_ids", "List[int]", "array", True, "Requested IDs that do not exist.", []),
                _F(c.name, "str", "string", True, f"The {_human(c.name)} that was applied.", c.choices[0]),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            f"        if body.{c.name} not in {self.enum_const(table, c)}:",
            f'            raise HTTPException(status_code=400, detail=f"Invalid {c.name}: {{body.{c.name}}}")',
            "        if not body.ids:",
            '            raise HTTPException(status_code=400, detail="ids must not be empty")',
            f"        rows = session.query({cls}).filter({cls}.id.in_(body.ids)).all()",
            "        found_ids = {row.id for row in rows}",
            "        missing_ids = [value_id for value_id in body.ids if value_id not in found_ids]",
            "        now = datetime.utcnow()",
            "        for row in rows:",
            f"            row.{c.name} = body.{c.name}",
            "            row.updated_at = now",
            "        session.commit()",
            f"        return {resp}(updated_count=len(rows), missing_ids=missing_ids, {c.name}=body.{c.name})",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "POST",
            f"/api/{table.slug}/bulk-{c.name.replace('_', '-')}",
            f"bulk_set_{table.singular}_{c.name}",
            f"Change the {_human(c.name)} of several {table.hp}",
            f"Set the {_human(c.name)} of several {table.hp} at once by ID and report IDs that were not found.",
            [table.slug],
            _camel(table.name),
            [],
            body,
            resp,
            lines,
            {table.name: ["id", c.name]},
        )

    def ep_flags(self, table: _Table) -> _E | None:
        bools = table.of("bool")
        if not bools:
            return None
        cls, resp = table.cls, self.single_model(table)
        body = self._model(
            f"{cls}FlagsBody",
            [
                _F(
                    c.name,
                    "Optional[bool]",
                    "boolean",
                    False,
                    f"New value of {_human(c.name)}; omit to keep it.",
                    self.rng.random() < 0.5,
                )
                for c in bools
            ],
        )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        lines += [
            "        changes = body.model_dump(exclude_none=True)",
            "        if not changes:",
            '            raise HTTPException(status_code=400, detail="Provide at least one flag to change")',
            "        for flag_name, flag_value in changes.items():",
            "            setattr(row, flag_name, bool(flag_value))",
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        flagged = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=flagged)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} whose flags change.",
                self.rng.choice(table.ids()),
            )
        ]
        names = ", ".join(_human(c.name) for c in bools)
        return _E(
            "PATCH",
            f"/api/{table.slug}/{{{table.id_param}}}/flags",
            f"set_{table.singular}_flags",
            f"Set {table.hs} flags",
            f"Turn the yes/no flags of {_a(table.hs)} ({names}) on or off.",
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name for c in bools]},
        )
