def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    item = """SELECT s.id, s.quantity, s.unit, s.is_purchased FROM shopping_list_items s
              JOIN ingredients i ON i.id = s.ingredient_id WHERE s.user_id = 1 AND i.name = 'coconut milk'"""
    before, after = rows(initial_db_path, item), rows(final_db_path, item)
    if len(before) != 1 or before[0][3]:
        return {"result": "others"}
    _, quantity, unit, _ = before[0]
    done = any(i == before[0][0] and q == quantity and u == unit and p for i, q, u, p in after)
    return {"result": "complete" if done else "others"}
