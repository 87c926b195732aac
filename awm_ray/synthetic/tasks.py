"""A synthetic scenario's own tasks, with code-mode verifiers in AWM's format and reference solutions.

Four kinds, each on an entity table chosen by a generator of its own (seeded apart from the
scenario's, so adding tasks changes no code, data or spec):

- **update**: set an enum column of one row to another value (`update_<entity>`);
- **delete**: delete one row and nothing else (`delete_<entity>`);
- **create**: create a row with a given label, number and parent(s) (`create_<entity>`);
- **count** (a question): how many rows have an enum value; answered in words (`list_<entities>`).

Every verifier is `verify_task_completion(initial_db_path, final_db_path, final_answer=None) ->
{"result": "complete" | "others"}` and reads both databases read-only. Rows the spec's examples
point at (the ones a "call every tool with its examples" agent would touch) are never a task's
row, so such an agent completes nothing.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from .parts import _E
from .schema import _Col, _human, _py, _Table
from .vocabulary import _ADJECTIVES

# the helper every verifier starts with (as AWM's generated verifiers do, it opens both read-only)
_PRELUDE = '''def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

'''


def _task_rng(seed: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"awm-ray-synthetic-tasks:{seed}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class _Tasks:
    """The scenario's own tasks (a mixin of ``_Builder``): see the module doc."""

    def render_tasks(self, seed: int, index: int) -> list[dict[str, Any]]:
        """`[{"task", "targets", "verifier", "solution"}]`, at most one task of each kind."""
        rng = _task_rng(seed, index)
        entities = [t for t in self.tables[1:] if t.of("enum")]
        out = []
        for kind in ("update", "delete", "create", "count"):
            tables = entities[:]
            rng.shuffle(tables)
            for table in tables:
                task = getattr(self, f"_task_{kind}")(table, rng)
                if task is not None:
                    out.append(task)
                    break
        return out

    # ---- kinds ---------------------------------------------------------------------------------

    def _task_update(self, table: _Table, rng: random.Random) -> dict[str, Any] | None:
        op = self._op(table, "patch")
        candidates = [r for r in table.rows if r["id"] not in self._example_ids(table)]
        if op is None or not candidates:
            return None
        col = table.of("enum")[0]
        row = rng.choice(candidates)
        value = rng.choice([v for v in col.choices if v != row[col.name]])
        task = f"Set the {_human(col.name)} of the {table.hs} {self._named(table, row)} to '{value}'."
        code = _PRELUDE + (
            f"    sql = 'SELECT {col.name} FROM {table.name} WHERE id = ?'\n"
            f"    before, after = rows(initial_db_path, sql, ({row['id']},)), rows(final_db_path, sql, ({row['id']},))\n"
            f"    if len(before) != 1 or before[0][0] == {_py(value)}:\n"
            "        return {'result': 'others'}\n"
            f"    return {{'result': 'complete' if after == [({_py(value)},)] else 'others'}}\n"
        )
        call = {"tool": op.op, "arguments": {table.id_param: row["id"], col.name: value}}
        return {"task": task, "targets": [op.op], "verifier": code, "solution": {"calls": [call], "answer": None}}

    def _task_delete(self, table: _Table, rng: random.Random) -> dict[str, Any] | None:
        op = self._op(table, "delete")
        candidates = [r for r in table.rows if r["id"] not in self._example_ids(table)]
        if op is None or not candidates:
            return None
        row = rng.choice(candidates)
        task = f"Delete the {table.hs} {self._named(table, row)}, and nothing else."
        code = _PRELUDE + (
            f"    sql = 'SELECT id FROM {table.name} ORDER BY id'\n"
            "    before = [r[0] for r in rows(initial_db_path, sql)]\n"
            "    after = [r[0] for r in rows(final_db_path, sql)]\n"
            f"    if {row['id']} not in before:\n"
            "        return {'result': 'others'}\n"
            f"    return {{'result': 'complete' if after == [i for i in before if i != {row['id']}] else 'others'}}\n"
        )
        call = {"tool": op.op, "arguments": {table.id_param: row["id"]}}
        return {"task": task, "targets": [op.op], "verifier": code, "solution": {"calls": [call], "answer": None}}

    def _task_create(self, table: _Table, rng: random.Random) -> dict[str, Any] | None:
        op = self._op(table, "create")
        numerics = table.numerics()
        if op is None or op.body is None or not numerics:
            return None
        body = {f.name: f.example for f in self.models[op.body].fields}
        label, number = table.label, rng.choice(numerics)
        taken = {str(r.get(label.name)) for r in table.rows}
        while True:
            if label.kind == "code":
                name = f"{label.prefix}-{rng.randint(90000, 99999)}"
            else:
                name = f"{rng.choice(_ADJECTIVES)} {table.hs.title()} {rng.randint(100, 999)}"
            if name not in taken and name != body.get(label.name):
                break
        amount: Any = rng.randint(int(number.lo), int(number.hi)) if number.kind == "int" else round(
            rng.uniform(number.lo, number.hi), 2 if number.kind == "money" or number.hi <= 1 else 1
        )
        if amount == body.get(number.name):
            return None
        body[label.name], body[number.name] = name, amount
        parents = []
        for fk in table.fk_cols():
            if fk.name not in body:  # the owner (user 1): set by the app
                continue
            parent = rng.choice(fk.ref.rows)
            body[fk.name] = parent["id"]
            parents.append((fk, parent))
        shown = f"{amount:.2f}" if number.kind == "money" else str(amount)
        unit = " US dollars" if number.kind == "money" else ""
        task = f"Create a new {table.hs} with {_human(label.name)} '{name}' and {_human(number.name)} {shown}{unit}"
        task += "".join(f", for the {fk.ref.hs} {self._named(fk.ref, parent)}" for fk, parent in parents) + "."
        columns = [label.name, number.name] + [fk.name for fk, _ in parents]
        wanted = [name, amount] + [parent["id"] for _, parent in parents]
        code = _PRELUDE + (
            f"    sql = 'SELECT id, {', '.join(columns)} FROM {table.name}'\n"
            "    known = {r[0] for r in rows(initial_db_path, sql)}\n"
            f"    wanted = {_py(wanted)}\n"
            "    for row in rows(final_db_path, sql):\n"
            "        if row[0] in known or row[1] != wanted[0] or row[2] is None or abs(row[2] - wanted[1]) > 0.005:\n"
            "            continue\n"
            "        if list(row[3:]) == wanted[2:]:\n"
            "            return {'result': 'complete'}\n"
            "    return {'result': 'others'}\n"
        )
        call = {"tool": op.op, "arguments": body}
        return {"task": task, "targets": [op.op], "verifier": code, "solution": {"calls": [call], "answer": None}}

    def _task_count(self, table: _Table, rng: random.Random) -> dict[str, Any] | None:
        op = self._op(table, "list")
        col = table.of("enum")[0]
        if op is None or col.name not in {p.name for p in op.params}:
            return None
        value = rng.choice(sorted({r[col.name] for r in table.rows}))
        count = sum(1 for r in table.rows if r[col.name] == value)
        task = f"How many {table.hp} have the {_human(col.name)} '{value}'? Answer with the number."
        code = _PRELUDE + (
            f"    count = rows(initial_db_path, 'SELECT COUNT(*) FROM {table.name} WHERE {col.name} = ?', ({_py(value)},))[0][0]\n"
            "    numbers = {int(n) for n in re.findall(r'(?<![\\d.])\\d+(?![\\d.])', final_answer or '')}\n"
            "    return {'result': 'complete' if count in numbers and len(numbers) <= 2 else 'others'}\n"
        )
        call = {"tool": op.op, "arguments": {col.name: value, "limit": 100}}
        answer = f"There are {count} {table.hp} whose {_human(col.name)} is {value}."
        return {"task": task, "targets": [op.op], "verifier": code, "solution": {"calls": [call], "answer": answer}}

    # ---- helpers -------------------------------------------------------------------------------

    def _op(self, table: _Table, key: str) -> _E | None:
        ep = self._per.get(table.name, {}).get(key)
        return ep if ep is not None and ep in self.endpoints else None

    def _example_ids(self, table: _Table) -> set[int]:
        """Ids of `table` that any endpoint's spec examples name (path ids, `ids` lists)."""
        found: set[int] = set()
        for ep in self.endpoints:
            for p in ep.params:
                if p.name == table.id_param and isinstance(p.example, int):
                    found.add(p.example)
            if ep.body and table.name in ep.tables:
                for f in self.models[ep.body].fields:
                    if f.name == "ids" and isinstance(f.example, list):
                        found.update(v for v in f.example if isinstance(v, int))
        return found

    @staticmethod
    def _named(table: _Table, row: dict[str, Any]) -> str:
        label: _Col = table.label
        return f"'{row[label.name]}' (ID {row['id']})"
