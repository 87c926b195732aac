def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    lunches = rows(initial_db_path, """SELECT r.title FROM meal_plans m JOIN recipes r ON r.id = m.recipe_id
                                       WHERE m.user_id = 1 AND m.meal_type = 'lunch'
                                       AND m.planned_date BETWEEN date('now') AND date('now', '+7 days')""")
    plans = "SELECT id, recipe_id, planned_date, meal_type, servings FROM meal_plans ORDER BY id"
    if len(lunches) != 1 or not final_answer or rows(initial_db_path, plans) != rows(final_db_path, plans):
        return {"result": "others"}
    return {"result": "complete" if lunches[0][0].lower() in final_answer.lower() else "others"}
