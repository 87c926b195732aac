def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    task = "SELECT id, status FROM tasks WHERE title = 'Fix broken footer links on mobile'"
    before, after = rows(initial_db_path, task), rows(final_db_path, task)
    if len(before) != 1 or before[0][1] == "done":
        return {"result": "others"}
    return {"result": "complete" if after == [(before[0][0], "done")] else "others"}
