def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    shipped = rows(initial_db_path, "SELECT total_amount FROM orders WHERE user_id = 1 AND status = 'shipped'")
    if len(shipped) != 1 or not final_answer:
        return {"result": "others"}
    amounts = [float(a.replace(",", "")) for a in re.findall(r"\d[\d,]*\.\d{2}", final_answer)]
    orders = "SELECT id, status, total_amount FROM orders ORDER BY id"
    unchanged = rows(initial_db_path, orders) == rows(final_db_path, orders)
    correct = any(abs(a - shipped[0][0]) < 0.005 for a in amounts)
    return {"result": "complete" if correct and unchanged else "others"}
