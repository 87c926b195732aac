def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    balance = rows(initial_db_path, "SELECT points_balance FROM loyalty_accounts WHERE user_id = 1")
    accounts = "SELECT id, points_balance FROM loyalty_accounts ORDER BY id"
    if len(balance) != 1 or not final_answer or rows(initial_db_path, accounts) != rows(final_db_path, accounts):
        return {"result": "others"}
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", final_answer)}
    return {"result": "complete" if balance[0][0] in numbers else "others"}
