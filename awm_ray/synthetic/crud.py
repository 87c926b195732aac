"""The five endpoints every entity has: list, get, create, replace/patch, delete (a mixin of ``_Builder``)."""

from __future__ import annotations

from .parts import _F, _P, _E
from .schema import _camel, _human, _a, _py, _Table


class _CrudEndpoints:
    """The five endpoints every entity has: list, get, create, replace/patch, delete (a mixin of ``_Builder``)."""

    def ep_list(self, table: _Table) -> _E:
        rng, cls = self.rng, table.cls
        params, flines, names = self._filters(table, rich=True)
        sortable = [table.label.name] + [c.name for c in table.numerics()[:2]] + ["created_at"]
        sort_ex = rng.choice(sortable)
        params += [
            _P(
                "sort_by",
                "str",
                "string",
                "query",
                False,
                f"Field to sort {table.hp} by: {', '.join(sortable)}.",
                sort_ex,
                _py(sortable[0]),
            ),
            _P(
                "sort_order",
                "str",
                "string",
                "query",
                False,
                "Sort direction: asc or desc.",
                rng.choice(("asc", "desc")),
                '"asc"',
            ),
        ] + self._limit_params()
        resp = self.list_model(
            f"{cls}ListResponse",
            table.name,
            table,
            [
                _F("total", "int", "integer", True, f"Number of {table.hp} matching the filters.", len(table.rows)),
                _F("limit", "int", "integer", True, "Page size used.", 10),
                _F("offset", "int", "integer", True, "Offset used.", 0),
            ],
        )
        item = self.entity_model(table)
        lines = ["    session = SessionLocal()", "    try:", f"        base_query = session.query({cls})"]
        lines += flines
        lines += [
            "        total = base_query.count()",
            "        sort_columns = {",
            *[f'            "{s}": {cls}.{s},' for s in sortable],
            "        }",
            "        if sort_by not in sort_columns:",
            '            raise HTTPException(status_code=400, detail=f"Unsupported sort_by value: {sort_by}")',
            "        order_column = sort_columns[sort_by]",
            '        if sort_order == "desc":',
            f"            base_query = base_query.order_by(order_column.desc(), {cls}.id.asc())",
            "        else:",
            f"            base_query = base_query.order_by(order_column.asc(), {cls}.id.asc())",
            "        rows = base_query.offset(offset).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({table.name}=items, total=total, limit=limit, offset=offset)",
            "    finally:",
            "        session.close()",
        ]
        desc = (
            f"List {table.hp} {self.where}, optionally filtered by {', '.join(names[:5])}; "
            f"results are sorted and paginated with limit and offset."
        )
        return _E(
            "GET",
            f"/api/{table.slug}",
            f"list_{table.name}",
            f"List {table.hp}",
            desc,
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"]},
        )

    def ep_get(self, table: _Table) -> _E:
        cls, item = table.cls, self.entity_model(table)
        row = self._example_row(table)
        extra: list[_F] = []
        joins: list[tuple[_Table, str]] = []
        taken = {c.name for c in table.cols}
        for p in table.parents:
            fname = f"{p.singular}_{p.label.name}"
            if fname in taken:
                continue
            taken.add(fname)
            joins.append((p, fname))
            prow = next(r for r in p.rows if r["id"] == row[f"{p.singular}_id"])
            extra.append(
                _F(
                    fname,
                    "Optional[str]",
                    "string",
                    False,
                    f"{_human(p.label.name).capitalize()} of the {p.hs} this {table.hs} belongs to.",
                    prow[p.label.name],
                )
            )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        if joins:
            base = self.models[item].fields
            detail = self._model(f"{cls}DetailModel", base + extra)
            resp = self._model(
                f"{cls}DetailResponse",
                [_F(table.singular, detail, "object", True, f"The {table.hs} with related names.", {}, ref=detail)],
            )
            ex: list[tuple[str, str]] = []
            for p, fname in joins:
                var = f"{p.singular}_row"
                lines += [f"        {var} = session.query({p.cls}).filter({p.cls}.id == row.{p.singular}_id).first()"]
                ex.append((fname, f"{var}.{p.label.name} if {var} is not None else None"))
            lines += [f"        result = {detail}("] + self.ctor(detail, table, "row", 8, ex)[1:]
            lines += [f"        return {resp}({table.singular}=result)"]
            rel = " and the name of its " + " and ".join(p.hs for p, _ in joins)
        else:
            resp = self.single_model(table)
            lines += [f"        result = {item}("] + self.ctor(item, table, "row", 8)[1:]
            lines += [f"        return {resp}({table.singular}=result)"]
            rel = ""
        lines += ["    finally:", "        session.close()"]
        params = [_P(table.id_param, "int", "integer", "path", True, f"ID of the {table.hs} to retrieve.", row["id"])]
        return _E(
            "GET",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"get_{table.singular}",
            f"Get {_a(table.hs)} by ID",
            f"Retrieve a single {table.hs} by its ID with all stored fields{rel}.",
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"], **{p.name: ["id", p.label.name] for p, _ in joins}},
        )

    def _create_lines(self, table: _Table, skip_fk: str | None) -> list[str]:
        item, resp = self.entity_model(table), self.single_model(table)
        lines = ["    session = SessionLocal()", "    try:"]
        if table.owned:
            lines.append("        user_id = 1")
        if skip_fk:
            lines += self.fetch(
                table.fk_cols()[[c.name for c in table.fk_cols()].index(skip_fk)].ref, "parent", skip_fk
            )
        lines += self.enum_checks(table, "body", table.writable())
        lines += self.parent_checks(table, "body", skip=(skip_fk,) if skip_fk else ())
        lines += self.unique_checks(table, "body", None)
        lines += ["        now = datetime.utcnow()", f"        row = {table.cls}("]
        for c in table.cols:
            if c.kind == "ts":
                lines.append(f"            {c.name}=now,")
            elif c.name == "user_id" and table.owned:
                lines.append("            user_id=user_id,")
            elif c.name == skip_fk:
                lines.append(f"            {c.name}={c.name},")
            else:
                lines.append(f"            {c.name}=body.{c.name},")
        lines += ["        )", "        session.add(row)", "        session.commit()", "        session.refresh(row)"]
        lines += [f"        created = {item}("] + self.ctor(item, table, "row", 8)[1:]
        lines += [f"        return {resp}({table.singular}=created)", "    finally:", "        session.close()"]
        return lines

    def ep_create(self, table: _Table) -> _E:
        body, _ = self.body_model(f"{table.cls}CreateBody", table, table.writable(), "create")
        lines = self._create_lines(table, None)
        owner = " owned by the current user" if table.owned else ""
        fields = ", ".join(_human(c.name) for c in table.data_cols()[:3])
        desc = f"Create a new {table.hs}{owner} from the given {fields} and other fields, and return the stored record."
        return _E(
            "POST",
            f"/api/{table.slug}",
            f"create_{table.singular}",
            f"Create {_a(table.hs)}",
            desc,
            [table.slug],
            _camel(table.name),
            [],
            body,
            self.single_model(table),
            lines,
            {table.name: [c.name for c in table.writable()]},
            status=201,
        )

    def ep_replace(self, table: _Table) -> _E:
        body, _ = self.body_model(f"{table.cls}ReplaceBody", table, table.writable(), "replace")
        resp = self.single_model(table)
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        lines += self.enum_checks(table, "body", table.writable())
        lines += self.parent_checks(table, "body")
        lines += self.unique_checks(table, "body", table.id_param)
        lines += [f"        row.{c.name} = body.{c.name}" for c in table.writable()]
        lines += [
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        replaced = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=replaced)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to replace.",
                self.rng.choice(table.ids()),
            )
        ]
        desc = f"Replace all editable fields of an existing {table.hs} identified by its ID; omitted optional fields are cleared."
        return _E(
            "PUT",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"replace_{table.singular}",
            f"Replace {_a(table.hs)}",
            desc,
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name for c in table.writable()]},
        )

    def ep_patch(self, table: _Table) -> _E:
        cols = table.writable()
        body, _ = self.body_model(f"{table.cls}PatchBody", table, cols, "patch")
        resp = self.single_model(table)
        required = [c.name for c in cols if not c.nullable]
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        lines += [
            "        updates = body.model_dump(exclude_unset=True)",
            f"        non_nullable = {_py(required)}",
            "        for field_name in non_nullable:",
            "            if field_name in updates and updates[field_name] is None:",
            '                raise HTTPException(status_code=400, detail=f"{field_name} cannot be null")',
        ]
        lines += self.enum_checks(table, "updates", cols)
        lines += self.parent_checks(table, "updates", optional=True)
        lines += self.unique_checks(table, "updates", table.id_param, optional=True)
        lines += [
            "        for field_name, new_value in updates.items():",
            "            setattr(row, field_name, new_value)",
            "        row.updated_at = datetime.utcnow()",
            "        session.commit()",
            "        session.refresh(row)",
        ]
        lines += [f"        patched = {self.serializer(table)}(row)"]
        lines += [f"        return {resp}({table.singular}=patched)", "    finally:", "        session.close()"]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to update.",
                self.rng.choice(table.ids()),
            )
        ]
        desc = f"Update only the supplied fields of an existing {table.hs}; fields that are not sent keep their current values."
        return _E(
            "PATCH",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"update_{table.singular}",
            f"Update {_a(table.hs)}",
            desc,
            [table.slug],
            _camel(table.name),
            params,
            body,
            resp,
            lines,
            {table.name: [c.name for c in cols]},
        )

    def ep_delete(self, table: _Table) -> _E:
        resp = self._model(
            f"{table.cls}DeleteResponse",
            [
                _F("deleted", "bool", "boolean", True, "True when the record was removed.", True),
                _F(table.id_param, "int", "integer", True, f"ID of the deleted {table.hs}.", 1),
                _F(
                    "message",
                    "str",
                    "string",
                    True,
                    "Human-readable confirmation.",
                    f"{table.hs.capitalize()} 1 deleted",
                ),
            ],
        )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(table, "row", table.id_param)
        if table.owned and self.rng.random() < 0.5:
            lines += [
                "        user_id = 1",
                "        if row.user_id != user_id and row.user_id is not None:",
                '            deleted_for = f"user {row.user_id}"',
                "        else:",
                '            deleted_for = "the current user"',
            ]
        else:
            lines += ['        deleted_for = "the system"']
        lines += [
            "        session.delete(row)",
            "        session.commit()",
            f"        return {resp}(",
            "            deleted=True,",
            f"            {table.id_param}={table.id_param},",
            f'            message=f"{table.hs.capitalize()} {{{table.id_param}}} deleted for {{deleted_for}}",',
            "        )",
            "    finally:",
            "        session.close()",
        ]
        params = [
            _P(
                table.id_param,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {table.hs} to delete.",
                self.rng.choice(table.ids()),
            )
        ]
        return _E(
            "DELETE",
            f"/api/{table.slug}/{{{table.id_param}}}",
            f"delete_{table.singular}",
            f"Delete {_a(table.hs)}",
            f"Permanently delete {_a(table.hs)} by its ID and confirm which record was removed.",
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["id"]},
        )
