def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    bookings = "SELECT b.id, b.booking_type, h.name, b.status FROM bookings b LEFT JOIN hotels h ON h.id = b.hotel_id WHERE b.user_id = 1 ORDER BY b.id"
    before, after = rows(initial_db_path, bookings), rows(final_db_path, bookings)
    target = [r[0] for r in before if r[2] == "The Greenwich Loft Hotel" and r[3] == "confirmed"]
    if len(target) != 1 or [r[0] for r in after] != [r[0] for r in before]:
        return {"result": "others"}
    expected = [r[:3] + ("cancelled",) if r[0] == target[0] else r for r in before]
    return {"result": "complete" if after == expected else "others"}
