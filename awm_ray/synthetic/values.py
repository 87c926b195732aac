"""Value generation: sample rows for the INSERTs and fresh, valid request values for the spec examples."""

from __future__ import annotations

import random
import re
from typing import Any

from .schema import _Sql, _Col, _Table
from .vocabulary import _ADJECTIVES, _FIRST, _LAST, _SENTENCES


class _Values:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_titles: dict[tuple[str, str], set[str]] = {}
        self.used_codes: set[str] = set()
        self.fresh_counter = 0

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def title(self, table: _Table, col: _Col) -> str:
        rng = self.rng
        used = self.used_titles.setdefault((table.name, col.name), set())
        spec = col.words.strip()
        for _ in range(30):
            if spec.startswith("|"):
                phrases = [p.strip() for p in spec.split("|") if p.strip()]
                value = rng.choice(phrases)
            elif spec.startswith("="):
                value = f"{rng.choice(spec[1:].split())} {rng.randint(1, 60) * 10 + rng.randint(0, 9)}"
            elif spec:
                value = f"{rng.choice(_ADJECTIVES)} {rng.choice(spec.split()).replace('_', ' ')}"
            else:
                value = f"{rng.choice(_ADJECTIVES)} {table.hs.title()}"
            if value not in used:
                break
        used.add(value)
        return value

    def code(self, col: _Col) -> str:
        while True:
            value = f"{col.prefix}-{self.rng.randint(10000, 89999)}"
            if value not in self.used_codes:
                self.used_codes.add(value)
                return value

    def fresh_code(self, col: _Col) -> str:
        self.fresh_counter += 1
        return f"{col.prefix}-{90000 + self.fresh_counter * 7 + self.rng.randint(0, 6)}"

    def number(self, col: _Col) -> Any:
        rng = self.rng
        if col.kind == "int":
            return rng.randint(int(col.lo), int(col.hi))
        digits = 2 if col.kind == "money" or col.hi <= 1 else 1
        return round(rng.uniform(col.lo, col.hi), digits)

    def literal_dt(self) -> str:
        rng = self.rng
        return (
            f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(7, 20):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"
        )

    def iso_dt(self) -> str:
        return self.literal_dt().replace(" ", "T")

    def sample(self, table: _Table, col: _Col, person: str) -> Any:
        rng = self.rng
        kind = col.kind
        if kind == "title":
            return self.title(table, col)
        if kind == "person":
            return person if col is table.label else self.person()
        if kind == "text":
            return None if rng.random() < 0.15 else rng.choice(_SENTENCES)
        if kind == "enum":
            return rng.choice(col.choices)
        if col.numeric:
            return self.number(col)
        if kind == "bool":
            return 1 if rng.random() < 0.6 else 0
        if kind == "dt":
            roll = rng.random()
            if roll < 0.45:
                return _Sql(f"datetime('now', '-{rng.randint(1, 400)} days')")
            if roll < 0.65:
                return _Sql(f"datetime('now', '+{rng.randint(1, 90)} days')")
            return self.literal_dt()
        if kind == "code":
            return self.code(col)
        if kind in ("email", "uemail"):
            first, last = person.split(" ", 1)
            slug = re.sub(r"[^a-z]", "", last.lower())
            return f"{first.lower()}.{slug}{rng.randint(1, 99)}@example.com"
        if kind == "phone":
            return f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        raise ValueError(kind)

    def fresh(self, table: _Table, col: _Col) -> Any:
        """A value for a request body: valid, and unique where the column is UNIQUE."""
        rng = self.rng
        kind = col.kind
        if kind == "fk":
            return rng.choice(col.ref.ids())
        if kind == "code":
            return self.fresh_code(col)
        if kind == "uemail":
            self.fresh_counter += 1
            return f"{rng.choice(_FIRST).lower()}.updated{self.fresh_counter}@example.com"
        if kind == "title":
            return self.title(table, col)
        if kind == "person":
            return self.person()
        if kind == "text":
            return rng.choice(_SENTENCES)
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "dt":
            return self.iso_dt()
        if kind == "email":
            return f"{rng.choice(_FIRST).lower()}.{rng.randint(100, 999)}@example.com"
        value = self.sample(table, col, self.person())
        return float(value) if col.stype == "float" else value
