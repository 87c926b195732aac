"""The scenario builder: one internal description of a scenario (schema, rows, endpoints) from which
the code, the DB, the sample data and the spec are rendered, so they agree by construction.
"""

from __future__ import annotations

import re
from typing import Any

from .actions import _ActionEndpoints
from .crud import _CrudEndpoints
from .filters import _Filters
from .models import _Models
from .nested import _NestedEndpoints
from .parts import _M, _E
from .queries import _QueryEndpoints
from .render import _Render
from .tasks import _Tasks
from .schema import _Sql, _rng, _Col, _Table
from .users import _UserEndpoints
from .values import _Values
from .vocabulary import _DOMAINS, _EXTRAS


class _Builder(
    _Models,
    _Filters,
    _CrudEndpoints,
    _QueryEndpoints,
    _ActionEndpoints,
    _NestedEndpoints,
    _UserEndpoints,
    _Render,
    _Tasks,
):
    """Builds one scenario: schema, rows, endpoints, code, spec.

    The endpoint patterns, models and renderers live in the mixins; this class holds the scenario's
    state (tables, rows, models, endpoints) and chooses which endpoints the scenario gets.
    """

    def __init__(self, index: int, seed: int) -> None:
        rng = self.rng = _rng(seed, index)
        key, title, where, roles, entities = rng.choice(_DOMAINS)
        self.domain, self.title, self.where = key, title, where
        self.name = f"synthetic_{key}_{index:04d}"
        self.vals = _Values(rng)
        self.style = rng.choice(("example", "schema_extra"))
        self.models: dict[str, _M] = {}
        self.endpoints: list[_E] = []
        self.users = self._users_table(roles.split(","))
        self.tables = [self.users] + self._entity_tables(entities)
        for table in self.tables:
            self._indexes(table)
            self._rows(table)

    # ---- schema ------------------------------------------------------------------------------

    def _users_table(self, roles: list[str]) -> _Table:
        rng = self.rng
        cols = [
            _Col("username", "uname"),
            _Col("email", "uemail"),
            _Col("full_name", "person"),
            _Col("role", "enum", (",".join(roles),)),
            _Col("is_active", "bool"),
        ]
        for spec in (
            "phone:phone",
            "last_login_at:dt",
            "account_credit:money:0:500",
            "timezone:enum:utc,america_new_york,europe_berlin,asia_tokyo",
        ):
            if rng.random() < 0.5:
                name, kind, *args = spec.split(":")
                cols.append(_Col(name, kind, tuple(args)))
        cols += [_Col("created_at", "ts"), _Col("updated_at", "ts")]
        table = _Table("users", "user", cols, [], False)
        table.label = cols[0]
        return table

    def _entity_tables(self, entities: list[tuple]) -> list[_Table]:
        rng = self.rng
        by_name = {e[0]: e for e in entities}

        def closure(name: str) -> set[str]:
            out = {name}
            for p in by_name[name][2].split():
                if p != "user":
                    out |= closure(p)
            return out

        want = rng.randint(2, min(7, len(entities)))
        chosen: set[str] = set()
        order = [e[0] for e in entities]
        rng.shuffle(order)
        for name in order:
            group = closure(name)
            if len(chosen | group) <= want:
                chosen |= group
            if len(chosen) == want:
                break
        built: dict[str, _Table] = {}
        out = []
        for singular, plural, parents, colspec, words in entities:
            if singular not in chosen:
                continue
            cols: list[_Col] = []
            owned = False
            parent_tables = []
            for p in parents.split():
                fk = _Col(f"{p}_id", "fk")
                if p == "user":
                    owned = True
                    fk.ref = self.users
                else:
                    fk.ref = built[p]
                    parent_tables.append(built[p])
                cols.append(fk)
            groups = [g.strip() for g in words.split(";;")] if words else []
            data: list[_Col] = []
            n_title = 0
            for item in colspec.split():
                name, kind, *args = item.split(":", 2)
                if kind in ("int", "real", "money"):
                    args = args[0].split(":")
                w = ""
                if kind == "title":
                    w = groups[n_title] if n_title < len(groups) else ""
                    n_title += 1
                data.append(_Col(name, kind, tuple(args), w))
            if not any(c.kind in ("title", "person", "code") for c in data):
                prefix = "".join(part[0] for part in singular.split("_")).upper() + "R"
                data.insert(0, _Col("reference_code", "code", (prefix,)))
            data = self._vary(data)
            table = _Table(
                plural,
                singular,
                cols + data + [_Col("created_at", "ts"), _Col("updated_at", "ts")],
                parent_tables,
                owned,
            )
            built[singular] = table
            out.append(table)
        return out

    def _vary(self, data: list[_Col]) -> list[_Col]:
        """Drop a few optional columns and add a few generic ones."""
        rng = self.rng
        keep_ids = set()
        for pred in (lambda c: c.kind in ("title", "person", "code"), lambda c: c.kind == "enum", lambda c: c.numeric):
            for c in data:
                if pred(c):
                    keep_ids.add(id(c))
                    break
        out = [c for c in data if id(c) in keep_ids or rng.random() > 0.15]
        names = {c.name for c in out}
        for spec in rng.sample(_EXTRAS, rng.randint(0, 2)):
            name, kind, *args = spec.split(":", 2)
            if kind in ("int", "real", "money"):
                args = args[0].split(":")
            if name not in names:
                out.append(_Col(name, kind, tuple(args)))
                names.add(name)
        return out

    def _indexes(self, table: _Table) -> None:
        rng = self.rng
        for c in table.fk_cols():
            table.indexes.append((f"idx_{table.name}_{c.name}", [c.name], False))
        candidates = [c for c in table.data_cols() if c.kind in ("enum", "dt", "title", "person", "uemail")]
        for c in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
            table.indexes.append((f"idx_{table.name}_{c.name}", [c.name], False))
        fks = table.fk_cols()
        enums = table.of("enum")
        if fks and enums and rng.random() < 0.5:
            table.indexes.append(
                (f"idx_{table.name}_{fks[0].name}_{enums[0].name}", [fks[0].name, enums[0].name], False)
            )

    def _rows(self, table: _Table) -> None:
        rng, vals = self.rng, self.vals
        n = rng.randint(5, 10) if table is self.users else rng.randint(5, 15)
        for i in range(1, n + 1):
            person = vals.person()
            row: dict[str, Any] = {"id": i}
            if table is self.users:
                if i == 1:
                    person = "Jordan Avery"
                first, last = person.split(" ", 1)
                row["username"] = f"{first.lower()}_{re.sub(r'[^a-z]', '', last.lower())}{i}"
                row["full_name"] = person
            age = rng.randint(20, 600)
            for c in table.cols:
                if c.name in row:
                    continue
                if c.kind == "fk":
                    ids = c.ref.ids()
                    row[c.name] = 1 if (c.ref is self.users and rng.random() < 0.5) else rng.choice(ids)
                elif c.kind == "ts":
                    days = age if c.name == "created_at" else rng.randint(0, age)
                    row[c.name] = _Sql(f"datetime('now', '-{days} days')")
                elif c.kind == "uemail":
                    row[c.name] = f"{row['username']}@example.com"
                else:
                    row[c.name] = vals.sample(table, c, person)
            table.rows.append(row)

    # ---- selection ---------------------------------------------------------------------------

    def select_endpoints(self) -> None:
        rng = self.rng
        entities = self.tables[1:]
        per: dict[str, dict[str, _E]] = {}

        def put(table: _Table, key: str, ep: _E | None) -> None:
            if ep is not None:
                per.setdefault(table.name, {})[key] = ep

        # Build all candidates. Within an entity, static collection routes come before `{id}` routes.
        for t in entities:
            put(t, "list", self.ep_list(t))
            put(t, "create", self.ep_create(t))
            put(t, "stats", self.ep_stats(t))
            put(t, "search", self.ep_search(t))
            put(t, "top", self.ep_top(t))
            put(t, "recent", self.ep_recent(t))
            put(t, "bulk", self.ep_bulk(t))
            for p in t.parents:
                put(t, f"by:{p.name}", self.ep_breakdown(t, p))
            if t.owned:
                put(t, "mine", self.ep_mine(t))
            put(t, "get", self.ep_get(t))
            put(t, "replace", self.ep_replace(t))
            put(t, "patch", self.ep_patch(t))
            put(t, "delete", self.ep_delete(t))
            put(t, "set_enum", self.ep_set_enum(t))
            put(t, "flags", self.ep_flags(t))
            for p in t.parents:
                put(t, f"nlist:{p.name}", self.ep_nested_list(t, p))
                put(t, f"ncreate:{p.name}", self.ep_nested_create(t, p))
                put(t, f"nsum:{p.name}", self.ep_nested_summary(t, p))
        users = self.users_endpoints()
        mandatory = {(t.name, k) for t in entities for k in ("list", "get", "create", "patch", "delete")}
        optional = [(t.name, k) for t in entities for k in per[t.name] if (t.name, k) not in mandatory]
        n_users = len(users)
        lo = max(20, len(mandatory) + n_users)
        hi = min(60, len(mandatory) + n_users + len(optional))
        target = min(hi, max(lo, int(len(entities) * rng.uniform(5.5, 9.0)) + n_users))
        rng.shuffle(optional)
        self._per, self._users_eps, self._entities = per, users, entities
        self._mandatory = mandatory
        self._optional = optional[: max(0, target - len(mandatory) - n_users)]
        self._all_models = dict(self.models)
        self._apply_selection()

    def drop_one(self) -> bool:
        """Drop the last-drawn optional endpoint (to keep the module under the size cap)."""
        if not self._optional or len(self.endpoints) <= 20:
            return False
        self._optional.pop()
        self._apply_selection()
        return True

    def _apply_selection(self) -> None:
        chosen = self._mandatory | set(self._optional)
        self.endpoints = list(self._users_eps)
        for t in self._entities:
            for key, ep in self._per[t.name].items():
                if (t.name, key) in chosen:
                    self.endpoints.append(ep)
        self.models = dict(self._all_models)
        # Only models reachable from chosen endpoints are emitted.
        needed: set[str] = set()

        def need(name: str) -> None:
            if name in needed:
                return
            needed.add(name)
            for f in self.models[name].fields:
                if f.ref:
                    need(f.ref)

        for ep in self.endpoints:
            need(ep.resp)
            if ep.body:
                need(ep.body)
            for line in ep.lines:
                for m in re.findall(r"\b([A-Z][A-Za-z0-9]*(?:Model|Response|Summary|Item|Group))\(", line):
                    if m in self.models:
                        need(m)
        self.models = {k: v for k, v in self.models.items() if k in needed}
