def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    booking = """SELECT b.id, b.status, b.seat_preference FROM bookings b JOIN flights f ON f.id = b.flight_id
                 WHERE b.user_id = 1 AND f.origin = 'SFO' AND f.destination = 'LHR'"""
    before, after = rows(initial_db_path, booking), rows(final_db_path, booking)
    if len(before) != 1 or len(after) != 1:
        return {"result": "others"}
    done = after[0][0] == before[0][0] and after[0][1] == "confirmed" and (after[0][2] or "").lower() == "window"
    return {"result": "complete" if done and (before[0][2] or "").lower() != "window" else "others"}
