def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    plans = """SELECT m.id, r.title, m.meal_type, julianday(m.planned_date) - julianday('now', 'start of day')
               FROM meal_plans m JOIN recipes r ON r.id = m.recipe_id WHERE m.user_id = 1 ORDER BY m.id"""
    before = rows(initial_db_path, plans)
    target = [r[0] for r in before if r[1] == "Sheet-Pan Lemon Chicken" and r[2] == "dinner" and 7 <= r[3] <= 11]
    if len(target) != 1:
        return {"result": "others"}
    after_ids = [r[0] for r in rows(final_db_path, plans)]
    expected = [r[0] for r in before if r[0] != target[0]]
    return {"result": "complete" if after_ids == expected else "others"}
