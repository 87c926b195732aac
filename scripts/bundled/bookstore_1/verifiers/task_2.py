def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    review = """SELECT r.id, r.rating, r.title, r.content FROM reviews r JOIN books b ON b.id = r.book_id
                WHERE r.user_id = 1 AND b.title = 'Dune'"""
    known = {r[0] for r in rows(initial_db_path, review)}
    new = [r for r in rows(final_db_path, review) if r[0] not in known]
    for _, rating, title, content in new:
        if rating == 4 and (title or "").strip().lower() == "spice and politics" and "worldbuilding" in (content or "").lower():
            return {"result": "complete"}
    return {"result": "others"}
