"""Query parameters shared by list-like endpoints: pagination and filters (a mixin of ``_Builder``)."""

from __future__ import annotations

import re

from .parts import _P
from .schema import _human, _Table


class _Filters:
    """Query parameters shared by list-like endpoints: pagination and filters (a mixin of ``_Builder``)."""

    def _limit_params(self, default: int = 20) -> list[_P]:
        return [
            _P(
                "limit",
                "int",
                "integer",
                "query",
                False,
                "Maximum number of results to return (1-100).",
                min(default, 10),
                str(default),
                ", ge=1, le=100",
            ),
            _P(
                "offset",
                "int",
                "integer",
                "query",
                False,
                "Number of results to skip for pagination.",
                0,
                "0",
                ", ge=0",
            ),
        ]

    def _filters(self, table: _Table, rich: bool, skip: tuple[str, ...] = ()) -> tuple[list[_P], list[str], list[str]]:
        """Filter params for a list-like endpoint: (params, code lines, human names)."""
        rng, cls = self.rng, table.cls
        params: list[_P] = []
        lines: list[str] = []
        names: list[str] = []
        sample = self._example_row(table)

        def add(p: _P, code: list[str], human: str) -> None:
            params.append(p)
            lines.extend(code)
            names.append(human)

        label = table.label
        if rich or rng.random() < 0.5:
            value = str(sample[label.name])
            word = max(re.split(r"[ \-]", value), key=len)
            add(
                _P(
                    "q",
                    "Optional[str]",
                    "string",
                    "query",
                    False,
                    f"Case-insensitive text matched against the {table.hs} {_human(label.name)}.",
                    word,
                ),
                [
                    "        if q is not None and q.strip():",
                    f'            base_query = base_query.filter({cls}.{label.name}.ilike(f"%{{q.strip()}}%"))',
                ],
                f"{_human(label.name)} text",
            )
        for c in table.fk_cols():
            if c.name in skip or (c.ref is self.users and not rich):
                continue
            if rich or rng.random() < 0.6:
                add(
                    _P(
                        c.name,
                        "Optional[int]",
                        "integer",
                        "query",
                        False,
                        f"Only return {table.hp} of this {c.ref.hs} ID.",
                        rng.choice(c.ref.ids()),
                    ),
                    [
                        f"        if {c.name} is not None:",
                        f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
                    ],
                    c.ref.hs,
                )
        enums = table.of("enum")
        for i, c in enumerate(enums):
            if i == 0 or rich and rng.random() < 0.6:
                add(
                    _P(
                        c.name,
                        "Optional[str]",
                        "string",
                        "query",
                        False,
                        f"Only return {table.hp} whose {_human(c.name)} equals this value ({', '.join(c.choices)}).",
                        sample[c.name],
                    ),
                    [
                        f"        if {c.name} is not None:",
                        f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
                    ],
                    _human(c.name),
                )
            if i == 0 and (rich or rng.random() < 0.5):
                ex = rng.sample(list(c.choices), min(2, len(c.choices)))
                add(
                    _P(
                        f"{c.name}_in",
                        "Optional[List[str]]",
                        "array",
                        "query",
                        False,
                        f"Only return {table.hp} whose {_human(c.name)} is one of these values (repeat the parameter).",
                        ex,
                    ),
                    [
                        f"        if {c.name}_in:",
                        f"            base_query = base_query.filter({cls}.{c.name}.in_({c.name}_in))",
                    ],
                    f"a set of {_human(c.name)} values",
                )
        nums = table.numerics()
        for c in nums[: 3 if rich else 1]:
            if not rich and rng.random() < 0.4:
                continue
            py = "int" if c.kind == "int" else "float"
            lo, hi = (int(c.lo), int(c.hi)) if py == "int" else (float(c.lo), float(c.hi))
            add(
                _P(
                    f"min_{c.name}",
                    f"Optional[{py}]",
                    c.stype,
                    "query",
                    False,
                    f"Only return {table.hp} with {_human(c.name)} greater than or equal to this value.",
                    lo,
                ),
                [
                    f"        if min_{c.name} is not None:",
                    f"            base_query = base_query.filter({cls}.{c.name} >= min_{c.name})",
                ],
                f"minimum {_human(c.name)}",
            )
            if rich:
                add(
                    _P(
                        f"max_{c.name}",
                        f"Optional[{py}]",
                        c.stype,
                        "query",
                        False,
                        f"Only return {table.hp} with {_human(c.name)} less than or equal to this value.",
                        hi,
                    ),
                    [
                        f"        if max_{c.name} is not None:",
                        f"            base_query = base_query.filter({cls}.{c.name} <= max_{c.name})",
                    ],
                    f"maximum {_human(c.name)}",
                )
        for c in table.of("bool")[: 2 if rich else 1]:
            if not rich and rng.random() < 0.5:
                continue
            add(
                _P(
                    c.name,
                    "Optional[bool]",
                    "boolean",
                    "query",
                    False,
                    f"Filter {table.hp} by the {_human(c.name)} flag.",
                    bool(sample[c.name]),
                ),
                [
                    f"        if {c.name} is not None:",
                    f"            base_query = base_query.filter({cls}.{c.name} == {c.name})",
                ],
                _human(c.name),
            )
        dts = table.of("dt")
        if dts and rich and rng.random() < 0.7:
            c = dts[0]
            add(
                _P(
                    f"{c.name}_from",
                    "Optional[datetime]",
                    "string",
                    "query",
                    False,
                    f"Only return {table.hp} with {_human(c.name)} on or after this ISO 8601 timestamp.",
                    "2023-01-01T00:00:00",
                ),
                [
                    f"        if {c.name}_from is not None:",
                    f"            base_query = base_query.filter({cls}.{c.name} >= {c.name}_from)",
                ],
                f"{_human(c.name)} date",
            )
        return params, lines, names
