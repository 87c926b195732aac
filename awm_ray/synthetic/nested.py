"""Endpoints across a parent and its children, and the current user's own records (a mixin of ``_Builder``)."""

from __future__ import annotations

from .parts import _F, _P, _E
from .schema import _camel, _human, _a, _Table


class _NestedEndpoints:
    """Endpoints across a parent and its children, and the current user's own records (a mixin of ``_Builder``)."""

    def ep_breakdown(self, table: _Table, parent: _Table) -> _E:
        cls, pc, fk = table.cls, parent.cls, f"{parent.singular}_id"
        nums = table.numerics()[:1]
        enums = table.of("enum")[:1]
        params: list[_P] = []
        group_fields = [
            _F(fk, "int", "integer", True, f"ID of the {parent.hs}.", parent.rows[0]["id"]),
            _F(
                f"{parent.singular}_{parent.label.name}",
                "str",
                "string",
                True,
                f"{_human(parent.label.name).capitalize()} of the {parent.hs}.",
                str(parent.rows[0][parent.label.name]),
            ),
            _F(f"{table.singular}_count", "int", "integer", True, f"Number of {table.hp} of this {parent.hs}.", 3),
        ]
        select = [f"{pc}.id", f"{pc}.{parent.label.name}", f"func.count({cls}.id)"]
        if nums:
            group_fields.append(
                _F(
                    f"total_{nums[0].name}",
                    "float",
                    "float",
                    True,
                    f"Sum of {_human(nums[0].name)} over these {table.hp}.",
                    10.0,
                )
            )
            select.append(f"func.coalesce(func.sum({cls}.{nums[0].name}), 0)")
        gmodel = self._model(f"{cls}By{pc}Group", group_fields)
        resp = self._model(
            f"{cls}By{pc}Response",
            [
                _F(
                    "groups",
                    f"List[{gmodel}]",
                    "array",
                    True,
                    f"One entry per {parent.hs}.",
                    [],
                    ref=gmodel,
                    is_list=True,
                )
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        base_query = (",
            f"            session.query({', '.join(select)})",
            f"            .join({cls}, {cls}.{fk} == {pc}.id)",
            "        )",
        ]
        if enums:
            c = enums[0]
            params.append(
                _P(
                    c.name,
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Only count {table.hp} with this {_human(c.name)}.",
                    self.rng.choice(c.choices),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        params.append(
            _P(
                "min_count",
                "int",
                "integer",
                "query",
                False,
                f"Only include {parent.hp} with at least this many {table.hp}.",
                1,
                "1",
                ", ge=0",
            )
        )
        lines += [
            f"        base_query = base_query.group_by({pc}.id, {pc}.{parent.label.name})",
            f"        base_query = base_query.having(func.count({cls}.id) >= min_count)",
            f"        rows = base_query.order_by(func.count({cls}.id).desc(), {pc}.id.asc()).all()",
            f"        groups: List[{gmodel}] = []",
            "        for record in rows:",
            "            groups.append(",
            f"                {gmodel}(",
            f"                    {fk}=record[0],",
            f"                    {parent.singular}_{parent.label.name}=str(record[1]),",
            f"                    {table.singular}_count=int(record[2]),",
        ]
        if nums:
            lines.append(f"                    total_{nums[0].name}=float(record[3]),")
        lines += [
            "                )",
            "            )",
            f"        return {resp}(groups=groups)",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/by-{parent.singular.replace('_', '-')}",
            f"count_{table.name}_by_{parent.singular}",
            f"Count {table.hp} per {parent.hs}",
            f"Count {table.hp} per {parent.hs}, with each {parent.hs}'s {_human(parent.label.name)}, to compare groups.",
            [table.slug, parent.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["id", fk] + [c.name for c in nums + enums], parent.name: ["id", parent.label.name]},
        )

    def _parent_example(self, table: _Table, parent: _Table, fk: str) -> int:
        with_children = sorted({r[fk] for r in table.rows})
        return self.rng.choice(with_children or parent.ids())

    def ep_nested_list(self, table: _Table, parent: _Table) -> _E:
        cls, item, fk = table.cls, self.entity_model(table), f"{parent.singular}_id"
        params = [
            _P(fk, "int", "integer", "path", True, f"ID of the {parent.hs}.", self._parent_example(table, parent, fk))
        ]
        fparams, flines, names = self._filters(table, rich=False, skip=(fk,))
        params += fparams + self._limit_params()
        resp = self.list_model(
            f"{parent.cls}{cls}ListResponse",
            table.name,
            table,
            [
                _F(fk, "int", "integer", True, f"ID of the {parent.hs}.", params[0].example),
                _F("total", "int", "integer", True, f"Number of matching {table.hp} of this {parent.hs}.", 2),
            ],
        )
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(parent, "parent", fk)
        lines += [f"        base_query = session.query({cls}).filter({cls}.{fk} == {fk})"] + flines
        lines += [
            "        total = base_query.count()",
            f"        rows = base_query.order_by({cls}.id.asc()).offset(offset).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({fk}={fk}, {table.name}=items, total=total)",
            "    finally:",
            "        session.close()",
        ]
        filt = f", optionally filtered by {', '.join(names)}" if names else ""
        return _E(
            "GET",
            f"/api/{parent.slug}/{{{fk}}}/{table.slug}",
            f"list_{parent.singular}_{table.name}",
            f"List {table.hp} of {_a(parent.hs)}",
            f"List the {table.hp} that belong to one {parent.hs}{filt}.",
            [table.slug, parent.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"], parent.name: ["id"]},
        )

    def ep_nested_create(self, table: _Table, parent: _Table) -> _E:
        fk = f"{parent.singular}_id"
        body, _ = self.body_model(f"{parent.cls}{table.cls}CreateBody", table, table.writable(skip=(fk,)), "create")
        lines = self._create_lines(table, fk)
        params = [
            _P(
                fk,
                "int",
                "integer",
                "path",
                True,
                f"ID of the {parent.hs} that gets the new {table.hs}.",
                self.rng.choice(parent.ids()),
            )
        ]
        return _E(
            "POST",
            f"/api/{parent.slug}/{{{fk}}}/{table.slug}",
            f"add_{table.singular}_to_{parent.singular}",
            f"Add {_a(table.hs)} to {_a(parent.hs)}",
            f"Create a new {table.hs} under the given {parent.hs}; the {parent.hs} ID is taken from the path.",
            [table.slug, parent.slug],
            _camel(table.name),
            params,
            body,
            self.single_model(table),
            lines,
            {table.name: [c.name for c in table.writable()], parent.name: ["id"]},
            status=201,
        )

    def ep_nested_summary(self, table: _Table, parent: _Table) -> _E:
        cls, fk = table.cls, f"{parent.singular}_id"
        nums, enums = table.numerics()[:2], table.of("enum")[:1]
        fields = [
            _F(fk, "int", "integer", True, f"ID of the {parent.hs}.", 1),
            _F(f"{table.singular}_count", "int", "integer", True, f"Number of {table.hp} of the {parent.hs}.", 4),
        ]
        lines = ["    session = SessionLocal()", "    try:"]
        lines += self.fetch(parent, "parent", fk)
        lines += [
            f"        base_query = session.query({cls}).filter({cls}.{fk} == {fk})",
            f"        {table.singular}_count = base_query.count()",
        ]
        kwargs = [f"{fk}={fk}", f"{table.singular}_count={table.singular}_count"]
        for c in nums:
            fields.append(_F(f"total_{c.name}", "float", "float", True, f"Sum of {_human(c.name)}.", 12.5))
            fields.append(_F(f"average_{c.name}", "Optional[float]", "float", False, f"Average {_human(c.name)}.", 3.5))
            lines += [
                f"        total_{c.name} = base_query.with_entities(func.coalesce(func.sum({cls}.{c.name}), 0)).scalar()",
                f"        average_{c.name} = base_query.with_entities(func.avg({cls}.{c.name})).scalar()",
            ]
            kwargs += [f"total_{c.name}=float(total_{c.name} or 0)", f"average_{c.name}=average_{c.name}"]
        for c in enums:
            fields.append(
                _F(
                    f"count_by_{c.name}",
                    "Dict[str, int]",
                    "object",
                    True,
                    f"Number of {table.hp} per {_human(c.name)}.",
                    {c.choices[0]: 1},
                )
            )
            lines += [
                f"        count_by_{c.name}: Dict[str, int] = {{}}",
                f"        for key, count in base_query.with_entities({cls}.{c.name}, func.count({cls}.id)).group_by({cls}.{c.name}).all():",
                f"            count_by_{c.name}[str(key)] = int(count)",
            ]
            kwargs.append(f"count_by_{c.name}=count_by_{c.name}")
        fields.append(
            _F(
                f"latest_{table.singular}_at",
                "Optional[datetime]",
                "string",
                False,
                f"Creation time of the newest {table.hs}.",
                "2025-01-15T10:00:00",
            )
        )
        lines.append(
            f"        latest_{table.singular}_at = base_query.with_entities(func.max({cls}.created_at)).scalar()"
        )
        lines.append(f"        if isinstance(latest_{table.singular}_at, str):")
        lines.append(f"            latest_{table.singular}_at = datetime.fromisoformat(latest_{table.singular}_at)")
        kwargs.append(f"latest_{table.singular}_at=latest_{table.singular}_at")
        resp = self._model(f"{parent.cls}{cls}Summary", fields)
        lines += (
            [f"        return {resp}("]
            + [f"            {k}," for k in kwargs]
            + ["        )", "    finally:", "        session.close()"]
        )
        what = ", ".join([f"{_human(c.name)} totals" for c in nums] + [f"counts per {_human(c.name)}" for c in enums])
        return _E(
            "GET",
            f"/api/{parent.slug}/{{{fk}}}/{table.slug}/summary",
            f"summarize_{parent.singular}_{table.name}",
            f"Summarize {table.hp} of {_a(parent.hs)}",
            f"Summarize the {table.hp} of one {parent.hs}: how many there are"
            + (f", {what}" if what else "")
            + " and the newest one.",
            [table.slug, parent.slug, "stats"],
            _camel(table.name),
            [
                _P(
                    fk,
                    "int",
                    "integer",
                    "path",
                    True,
                    f"ID of the {parent.hs} to summarize.",
                    self._parent_example(table, parent, fk),
                )
            ],
            None,
            resp,
            lines,
            {table.name: [fk] + [c.name for c in nums + enums], parent.name: ["id"]},
        )

    def ep_mine(self, table: _Table) -> _E:
        cls, item = table.cls, self.entity_model(table)
        params: list[_P] = []
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        user_id = 1",
            f"        base_query = session.query({cls}).filter({cls}.user_id == user_id)",
        ]
        enums = table.of("enum")
        if enums:
            c = enums[0]
            params.append(
                _P(
                    c.name,
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Only return my {table.hp} with this {_human(c.name)}.",
                    self.rng.choice([r[c.name] for r in table.rows if r["user_id"] == 1] or list(c.choices)),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        params += self._limit_params()
        resp = self.list_model(
            f"My{cls}ListResponse",
            table.name,
            table,
            [
                _F("user_id", "int", "integer", True, "ID of the current user.", 1),
                _F("total", "int", "integer", True, f"Number of the current user's {table.hp}.", 2),
            ],
        )
        lines += [
            "        total = base_query.count()",
            f"        rows = base_query.order_by({cls}.created_at.desc(), {cls}.id.desc()).offset(offset).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}(user_id=user_id, {table.name}=items, total=total)",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/me/{table.slug}",
            f"list_my_{table.name}",
            f"List my {table.hp}",
            f"List the {table.hp} that belong to the current user, newest first"
            + (f", optionally filtered by {_human(enums[0].name)}." if enums else "."),
            [table.slug, "me"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"]},
        )
