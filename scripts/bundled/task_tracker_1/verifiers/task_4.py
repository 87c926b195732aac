def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    labels = """SELECT l.name FROM task_labels tl JOIN labels l ON l.id = tl.label_id JOIN tasks t ON t.id = tl.task_id
                WHERE t.title = 'Design new landing page hero'"""
    after = sorted(name for (name,) in rows(final_db_path, labels))
    return {"result": "complete" if after == ["bug", "frontend"] else "others"}
