def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    stay = rows(initial_db_path, """SELECT b.confirmation_code FROM bookings b JOIN hotels h ON h.id = b.hotel_id
                                    WHERE b.user_id = 1 AND b.status = 'confirmed' AND h.city = 'New York'
                                    AND b.check_in >= date('now')""")
    bookings = "SELECT id, status, seat_preference, special_requests FROM bookings ORDER BY id"
    if len(stay) != 1 or not final_answer or rows(initial_db_path, bookings) != rows(final_db_path, bookings):
        return {"result": "others"}
    return {"result": "complete" if stay[0][0].lower() in final_answer.lower() else "others"}
