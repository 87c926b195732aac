def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    book = rows(initial_db_path, "SELECT id FROM books WHERE title = ?", ("The Left Hand of Darkness",))
    if len(book) != 1:
        return {"result": "others"}
    line = """SELECT ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id
              WHERE c.user_id = 1 AND ci.book_id = ?"""
    before = sum(q for (q,) in rows(initial_db_path, line, (book[0][0],)))
    after = sum(q for (q,) in rows(final_db_path, line, (book[0][0],)))
    return {"result": "complete" if after - before == 2 else "others"}
