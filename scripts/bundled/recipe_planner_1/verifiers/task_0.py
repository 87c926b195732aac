def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    plans = """SELECT m.id, r.title, m.planned_date, m.meal_type, m.servings FROM meal_plans m
               JOIN recipes r ON r.id = m.recipe_id WHERE m.user_id = 1"""
    known = {r[0] for r in rows(initial_db_path, plans)}
    new = [r[1:] for r in rows(final_db_path, plans) if r[0] not in known]
    wanted = ("Butter Chicken", "2030-03-14", "lunch", 2)
    return {"result": "complete" if new == [wanted] else "others"}
