def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    tasks = "SELECT id, title FROM tasks ORDER BY id"
    before, after = rows(initial_db_path, tasks), rows(final_db_path, tasks)
    expected = [r for r in before if r[1] != "Set up Lighthouse CI budget"]
    return {"result": "complete" if len(expected) == len(before) - 1 and after == expected else "others"}
