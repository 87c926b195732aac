def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    plan = """SELECT m.id, m.planned_date, m.meal_type, m.servings FROM meal_plans m JOIN recipes r ON r.id = m.recipe_id
              WHERE m.user_id = 1 AND r.title = 'Crispy Roasted Chickpeas' ORDER BY m.id"""
    before, after = rows(initial_db_path, plan), rows(final_db_path, plan)
    if len(before) != 1 or len(after) != 1 or before[0][0] != after[0][0]:
        return {"result": "others"}
    moved = after[0][1] == before[0][1] and after[0][2] == "lunch" and after[0][3] == 3
    return {"result": "complete" if moved else "others"}
