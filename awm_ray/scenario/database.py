"""Build a scenario's SQLite database from its schema and sample data, and checksum it.

DDL, then indexes, then inserts, with foreign keys on. Inserts that fail are retried: with `\\'`
rewritten as `''` (MySQL-style escapes SQLite rejects), and once more after the others (rows
listed before their parents). What still fails is reported, never silently dropped.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FailedStatement:
    table: str
    sql: str
    error: str


@dataclass
class BuildReport:
    """What happened while building one database."""

    statements: int = 0
    executed: int = 0
    escape_fixes: int = 0
    reordered: int = 0
    schema_from_app: bool = False
    failures: list[FailedStatement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "executed": self.executed,
            "escape_fixes": self.escape_fixes,
            "reordered": self.reordered,
            "schema_from_app": self.schema_from_app,
            "failures": [f.__dict__ for f in self.failures],
        }


def build_database(
    path: str | Path,
    db_schema: Mapping[str, Any] | None,
    sample_data: Mapping[str, Any] | None,
    report: BuildReport | None = None,
) -> BuildReport:
    """Create (or extend) the SQLite file at `path`; returns the report of what ran and failed.

    With `db_schema=None` the tables must already exist (created by the app's own ORM).
    """
    report = report or BuildReport()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        for table in (db_schema or {}).get("tables", []):
            name = table.get("name", "?")
            for sql in [table["ddl"], *table.get("indexes", [])]:
                _run(conn, name, sql, report)
        pending = [
            (table.get("table_name", "?"), sql)
            for table in (sample_data or {}).get("tables", [])
            for sql in table.get("insert_statements", [])
        ]
        report.statements += len(pending)
        failed = [(t, sql, err) for t, sql in pending if (err := _insert(conn, sql, report)) is not None]
        while failed:  # retry rows that came before the rows they reference
            still = [(t, sql, err) for t, sql, _ in failed if (err := _insert(conn, sql, report)) is not None]
            if len(still) == len(failed):
                break
            report.reordered += len(failed) - len(still)
            failed = still
        report.failures.extend(FailedStatement(t, sql, err) for t, sql, err in failed)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return report


def _run(conn: sqlite3.Connection, table: str, sql: str, report: BuildReport) -> None:
    report.statements += 1
    try:
        conn.execute(sql)
        report.executed += 1
    except sqlite3.Error as exc:
        report.failures.append(FailedStatement(table, sql, f"{type(exc).__name__}: {exc}"))


def _insert(conn: sqlite3.Connection, sql: str, report: BuildReport) -> str | None:
    """Run one insert; returns the error text if it (and its escape fix) failed."""
    try:
        conn.execute(sql)
    except sqlite3.Error as exc:
        if "\\'" not in sql:
            return f"{type(exc).__name__}: {exc}"
        try:
            conn.execute(sql.replace("\\'", "''"))
        except sqlite3.Error as exc2:
            return f"{type(exc2).__name__}: {exc2}"
        report.escape_fixes += 1
    report.executed += 1
    return None


def content_checksum(path: str | Path) -> str:
    """A checksum of the schema and every row: equal for databases with the same content.

    Rows are read in storage order, so two files that are page-for-page copies (a `backup()`
    reset) always agree; a logically equal but physically different file may not (it would be
    reported unclean, never clean by mistake).
    """
    digest = hashlib.blake2b(digest_size=20)
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        objects = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        for obj in objects:
            digest.update(repr(obj).encode())
        for kind, name, _ in objects:
            if kind != "table":
                continue
            digest.update(name.encode())
            for row in conn.execute(f'SELECT * FROM "{name.replace(chr(34), chr(34) * 2)}"'):
                digest.update(repr(row).encode())
    finally:
        conn.close()
    return digest.hexdigest()


def restore(template: str | Path, live: str | Path, timeout_s: float = 5.0) -> None:
    """Copy the template's content into the live file with SQLite's online backup.

    Safe while the app keeps its own connections open (they see the new content on next use).
    """
    src = sqlite3.connect(f"file:{Path(template).resolve()}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=timeout_s)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def schema_of(path: str | Path) -> dict[str, Any]:
    """The `db_schema` part (`{"tables": [{"name", "ddl", "indexes"}]}`) of an existing database."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY rowid"
        ).fetchall()
    finally:
        conn.close()
    tables = {name: {"name": name, "ddl": sql + ";", "indexes": []} for kind, name, _, sql in rows if kind == "table"}
    for kind, _, table, sql in rows:
        if kind == "index" and table in tables:
            tables[table]["indexes"].append(sql + ";")
    return {"tables": list(tables.values())}
