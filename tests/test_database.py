"""Template databases: DDL, indexes, inserts, the `\\'` fix, reordering, reports, checksums."""

from __future__ import annotations

import sqlite3

from awm_ray.scenario import build_database, content_checksum, parse_scenario, restore

SCHEMA = {
    "tables": [
        {"name": "authors", "ddl": "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);", "indexes": []},
        {
            "name": "books",
            "ddl": "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id), "
            "title TEXT, added_at DATETIME);",
            "indexes": ["CREATE INDEX idx_books_author ON books(author_id);"],
        },
    ]
}


def sample(*statements_by_table):
    return {"tables": [{"table_name": t, "insert_statements": list(s)} for t, s in statements_by_table]}


def rows(path, sql):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_builds_schema_indexes_and_rows(tmp_path):
    db = tmp_path / "t.db"
    report = build_database(
        db, SCHEMA,
        sample(("authors", ["INSERT INTO authors VALUES (1, 'Le Guin');"]),
               ("books", ["INSERT INTO books VALUES (1, 1, 'Earthsea', datetime('now', '-3 days'));"])),
    )  # fmt: skip
    assert report.ok and report.statements == 5 and report.executed == 5
    assert rows(db, "SELECT name FROM sqlite_master WHERE type='index'") == [("idx_books_author",)]
    assert rows(db, "SELECT julianday('now') - julianday(added_at) > 2.9 FROM books") == [(1,)]


def test_escaped_quotes_are_fixed(tmp_path):
    db = tmp_path / "t.db"
    report = build_database(db, SCHEMA, sample(("authors", ["INSERT INTO authors VALUES (1, 'O\\'Reilly');"])))
    assert report.ok and report.escape_fixes == 1
    assert rows(db, "SELECT name FROM authors") == [("O'Reilly",)]


def test_children_before_parents_are_retried_and_bad_rows_reported(tmp_path):
    db = tmp_path / "t.db"
    report = build_database(
        db, SCHEMA,
        sample(
            ("books", ["INSERT INTO books VALUES (1, 2, 'Dune', NULL);", "INSERT INTO books VALUES (2, 99, 'Orphan', NULL);"]),
            ("authors", ["INSERT INTO authors VALUES (2, 'Herbert');", "INSERT INTO nowhere VALUES (1);"]),
        ),
    )  # fmt: skip
    assert report.reordered == 1
    failures = {f.sql: f.error for f in report.failures}
    assert len(failures) == 2
    assert "FOREIGN KEY" in failures["INSERT INTO books VALUES (2, 99, 'Orphan', NULL);"]
    assert "no such table" in failures["INSERT INTO nowhere VALUES (1);"]
    assert rows(db, "SELECT id FROM books") == [(1,)]
    assert report.to_dict()["failures"][0]["table"] in ("books", "authors")


def test_real_scenario_builds_without_failures(tmp_path, awm_rows):
    for name in ("content_platform_1", "e_commerce_33"):
        scenario = parse_scenario(awm_rows[name])
        report = build_database(tmp_path / f"{name}.db", scenario.db_schema, scenario.sample_data)
        assert report.ok, (name, report.failures[:3])
        assert report.executed == report.statements


def test_checksum_and_restore(tmp_path):
    template, live = tmp_path / "template.db", tmp_path / "live.db"
    build_database(template, SCHEMA, sample(("authors", ["INSERT INTO authors VALUES (1, 'A');"])))
    restore(template, live)
    assert content_checksum(live) == content_checksum(template)
    conn = sqlite3.connect(live)  # an app connection that stays open across the reset
    conn.execute("INSERT INTO authors VALUES (2, 'B')")
    conn.commit()
    assert content_checksum(live) != content_checksum(template)
    restore(template, live)
    assert content_checksum(live) == content_checksum(template)
    assert conn.execute("SELECT count(*) FROM authors").fetchone() == (1,)
    conn.close()
