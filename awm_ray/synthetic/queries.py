"""Read-only query endpoints: stats, search, top-N, recent (a mixin of ``_Builder``)."""

from __future__ import annotations

import re

from .parts import _F, _P, _E
from .schema import _camel, _human, _py, _Table


class _QueryEndpoints:
    """Read-only query endpoints: stats, search, top-N, recent (a mixin of ``_Builder``)."""

    def ep_stats(self, table: _Table) -> _E | None:
        cls, nums, enums, bools = table.cls, table.numerics()[:2], table.of("enum")[:2], table.of("bool")[:1]
        if not nums:
            return None
        params: list[_P] = []
        lines = ["    session = SessionLocal()", "    try:", f"        base_query = session.query({cls})"]
        fks = [c for c in table.fk_cols() if c.ref is not self.users]
        if fks:
            c = fks[0]
            params.append(
                _P(
                    c.name,
                    "Optional[int]",
                    "integer",
                    "query",
                    False,
                    f"Restrict the statistics to {table.hp} of this {c.ref.hs} ID.",
                    self.rng.choice(c.ref.ids()),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        if len(enums) > 1 or (enums and self.rng.random() < 0.5):
            c = enums[-1]
            params.append(
                _P(
                    c.name,
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Restrict the statistics to {table.hp} with this {_human(c.name)}.",
                    self.rng.choice(c.choices),
                )
            )
            lines += [
                f"        if {c.name} is not None:",
                f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
            ]
        fields = [_F("total_count", "int", "integer", True, f"Number of {table.hp} included.", len(table.rows))]
        lines += ["        total_count = base_query.count()"]
        kwargs = ["total_count=total_count"]
        for c in nums:
            for fn, label, ex in (("avg", "average", (c.lo + c.hi) / 2), ("min", "min", c.lo), ("max", "max", c.hi)):
                fields.append(
                    _F(
                        f"{label}_{c.name}",
                        "Optional[float]",
                        "float",
                        False,
                        f"{label.capitalize()} {_human(c.name)} over the included {table.hp}.",
                        round(float(ex), 2),
                    )
                )
                lines.append(f"        {label}_{c.name} = base_query.with_entities(func.{fn}({cls}.{c.name})).scalar()")
                kwargs.append(f"{label}_{c.name}={label}_{c.name}")
        for c in enums[:1]:
            fields.append(
                _F(
                    f"count_by_{c.name}",
                    "Dict[str, int]",
                    "object",
                    True,
                    f"Number of {table.hp} per {_human(c.name)} value.",
                    {c.choices[0]: 2},
                )
            )
            lines += [
                f"        count_by_{c.name}: Dict[str, int] = {{}}",
                f"        grouped = base_query.with_entities({cls}.{c.name}, func.count({cls}.id)).group_by({cls}.{c.name}).all()",
                "        for key, count in grouped:",
                f"            count_by_{c.name}[str(key)] = int(count)",
            ]
            kwargs.append(f"count_by_{c.name}=count_by_{c.name}")
        for c in bools:
            fields.append(
                _F(
                    f"{c.name}_count",
                    "int",
                    "integer",
                    True,
                    f"Number of included {table.hp} where {_human(c.name)} is true.",
                    1,
                )
            )
            lines.append(f"        {c.name}_count = base_query.filter({cls}.{c.name} == True).count()  # noqa: E712")
            kwargs.append(f"{c.name}_count={c.name}_count")
        resp = self._model(f"{cls}StatsResponse", fields)
        lines += (
            [f"        return {resp}("]
            + [f"            {k}," for k in kwargs]
            + ["        )", "    finally:", "        session.close()"]
        )
        metric = " and ".join(_human(c.name) for c in nums)
        per = f" and counts per {_human(enums[0].name)}" if enums else ""
        return _E(
            "GET",
            f"/api/{table.slug}/stats",
            f"get_{table.singular}_stats",
            f"Get {table.hs} statistics",
            f"Compute aggregate statistics over {table.hp}: total count, average/min/max {metric}{per}.",
            [table.slug, "stats"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: [c.name for c in nums + enums + bools]},
        )

    def ep_search(self, table: _Table) -> _E | None:
        cols = [c for c in table.data_cols() if c.searchable]
        if len(cols) < 2:
            return None
        cls, item = table.cls, self.entity_model(table)
        names = [c.name for c in cols]
        row = self._example_row(table)
        term = max(re.split(r"[ \-]", str(row[table.label.name])), key=len)
        ex_fields = [table.label.name] + self.rng.sample(names[1:], 1)
        params = [
            _P(
                "term",
                "str",
                "string",
                "query",
                True,
                f"Text to look for in {table.hp} (case-insensitive substring).",
                term,
                "...",
            ),
            _P(
                "search_fields",
                "Optional[List[str]]",
                "array",
                "query",
                False,
                f"Fields to search; any of: {', '.join(names)}. Defaults to all of them.",
                ex_fields,
            ),
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "Maximum number of matches to return (1-100).",
                10,
                "25",
                ", ge=1, le=100",
            ),
        ]
        resp = self.list_model(
            f"{cls}SearchResponse",
            table.name,
            table,
            [
                _F("term", "str", "string", True, "The search text that was used.", term),
                _F("match_count", "int", "integer", True, "Number of matches returned.", 1),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        searchable = {",
            *[f'            "{n}": {cls}.{n},' for n in names],
            "        }",
            "        chosen = search_fields or list(searchable.keys())",
            "        unknown = [name for name in chosen if name not in searchable]",
            "        if unknown:",
            "            raise HTTPException(status_code=400, detail=f\"Unknown search fields: {', '.join(unknown)}\")",
            '        pattern = f"%{term.strip()}%"',
            "        conditions = [searchable[name].ilike(pattern) for name in chosen]",
            f"        rows = session.query({cls}).filter(or_(*conditions)).order_by({cls}.id.asc()).limit(limit).all()",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({table.name}=items, term=term, match_count=len(items))",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/search",
            f"search_{table.name}",
            f"Search {table.hp}",
            f"Search {table.hp} for a text across {', '.join(_human(n) for n in names)}; choose which fields to match.",
            [table.slug, "search"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: names},
        )

    def ep_top(self, table: _Table) -> _E | None:
        nums = table.numerics()
        if not nums:
            return None
        cls, rng = table.cls, self.rng
        names = [c.name for c in nums]
        params = [
            _P(
                "metric",
                "str",
                "string",
                "query",
                False,
                f"Numeric field to rank {table.hp} by: {', '.join(names)}.",
                rng.choice(names),
                _py(names[0]),
            ),
            _P(
                "ascending",
                "bool",
                "boolean",
                "query",
                False,
                "Rank from the lowest value instead of the highest.",
                rng.random() < 0.3,
                "False",
            ),
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "How many ranked entries to return (1-50).",
                5,
                "5",
                ", ge=1, le=50",
            ),
        ]
        item = self._model(
            f"{cls}RankItem",
            [
                _F("id", "int", "integer", True, f"ID of the {table.hs}.", 1),
                _F(
                    table.label.name,
                    "str",
                    "string",
                    True,
                    f"{_human(table.label.name).capitalize()} of the {table.hs}.",
                    str(table.rows[0][table.label.name]),
                ),
                _F("rank", "int", "integer", True, "1-based position in the ranking.", 1),
                _F("value", "float", "float", True, "Value of the ranking metric.", float(nums[0].hi)),
            ],
        )
        resp = self._model(
            f"{cls}TopResponse",
            [
                _F("metric", "str", "string", True, "Metric used for ranking.", names[0]),
                _F("items", f"List[{item}]", "array", True, f"Ranked {table.hp}.", [], ref=item, is_list=True),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        metric_columns = {",
            *[f'            "{n}": {cls}.{n},' for n in names],
            "        }",
            "        if metric not in metric_columns:",
            '            raise HTTPException(status_code=400, detail=f"Unsupported metric: {metric}")',
            "        column = metric_columns[metric]",
            "        ordering = column.asc() if ascending else column.desc()",
            f"        rows = session.query({cls}).order_by(ordering, {cls}.id.asc()).limit(limit).all()",
            f"        items: List[{item}] = []",
            "        for position, row in enumerate(rows, start=1):",
            "            items.append(",
            f"                {item}(",
            "                    id=row.id,",
            f"                    {table.label.name}=row.{table.label.name},",
            "                    rank=position,",
            "                    value=float(getattr(row, metric)),",
            "                )",
            "            )",
            f"        return {resp}(metric=metric, items=items)",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/top",
            f"get_top_{table.name}",
            f"Rank {table.hp}",
            f"Rank {table.hp} by a numeric field such as {' or '.join(_human(n) for n in names[:2])} and return the top entries.",
            [table.slug, "stats"],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["id", table.label.name] + names},
        )

    def ep_recent(self, table: _Table) -> _E:
        cls, item = table.cls, self.entity_model(table)
        params = [
            _P(
                "days",
                "int",
                "integer",
                "query",
                False,
                f"Look-back window in days for newly created {table.hp}.",
                self.rng.choice((90, 180, 365, 730)),
                "30",
                ", ge=1, le=3650",
            ),
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "Maximum number of results to return (1-100).",
                10,
                "20",
                ", ge=1, le=100",
            ),
        ]
        resp = self.list_model(
            f"{cls}RecentResponse",
            table.name,
            table,
            [
                _F("days", "int", "integer", True, "Look-back window used.", 30),
                _F("count", "int", "integer", True, "Number of records returned.", 3),
            ],
        )
        lines = [
            "    session = SessionLocal()",
            "    try:",
            "        cutoff = datetime.utcnow() - timedelta(days=days)",
            "        rows = (",
            f"            session.query({cls})",
            f"            .filter({cls}.created_at >= cutoff)",
            f"            .order_by({cls}.created_at.desc(), {cls}.id.desc())",
            "            .limit(limit)",
            "            .all()",
            "        )",
            f"        items: List[{item}] = [{self.serializer(table)}(row) for row in rows]",
            f"        return {resp}({table.name}=items, days=days, count=len(items))",
            "    finally:",
            "        session.close()",
        ]
        return _E(
            "GET",
            f"/api/{table.slug}/recent",
            f"list_recent_{table.name}",
            f"List recently added {table.hp}",
            f"List {table.hp} created within the last N days, newest first.",
            [table.slug],
            _camel(table.name),
            params,
            None,
            resp,
            lines,
            {table.name: ["*"]},
        )
