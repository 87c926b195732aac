def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    orders = "SELECT id, gift_wrap, shipping_address FROM orders WHERE user_id = 1"
    known = {r[0] for r in rows(initial_db_path, orders)}
    new = [r for r in rows(final_db_path, orders) if r[0] not in known]
    if len(new) != 1:
        return {"result": "others"}
    order_id, gift_wrap, address = new[0]
    items = rows(final_db_path, """SELECT b.title, oi.quantity FROM order_items oi JOIN books b ON b.id = oi.book_id
                                   WHERE oi.order_id = ?""", (order_id,))
    if items != [("Kindred", 1)] or not gift_wrap or "221b baker street" not in (address or "").lower():
        return {"result": "others"}
    cart = """SELECT ci.book_id, ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id
              WHERE c.user_id = 1 ORDER BY ci.book_id"""
    if rows(initial_db_path, cart) != rows(final_db_path, cart):
        return {"result": "others"}
    return {"result": "complete"}
