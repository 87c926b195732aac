def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    comments = """SELECT c.id, c.author_id, c.content FROM comments c JOIN tasks t ON t.id = c.task_id
                  WHERE t.title LIKE '%Android 14%camera%'"""
    known = {r[0] for r in rows(initial_db_path, comments)}
    new = [r for r in rows(final_db_path, comments) if r[0] not in known]
    done = any(author == 1 and "pixel 7" in (content or "").lower() for _, author, content in new)
    return {"result": "complete" if done else "others"}
