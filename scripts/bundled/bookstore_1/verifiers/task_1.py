def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    line = """SELECT ci.id, ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id
              JOIN books b ON b.id = ci.book_id WHERE c.user_id = 1 AND b.title = 'Dune'"""
    before, after = rows(initial_db_path, line), rows(final_db_path, line)
    if len(before) != 1 or len(after) != 1:
        return {"result": "others"}
    # the same line, now holding one copy
    return {"result": "complete" if after[0][0] == before[0][0] and after[0][1] == 1 else "others"}
