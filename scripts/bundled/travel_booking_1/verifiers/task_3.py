def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    bookings = """SELECT b.id, f.flight_number, b.status, b.seat_preference FROM bookings b JOIN flights f ON f.id = b.flight_id
                  WHERE b.user_id = 1"""
    known = {r[0] for r in rows(initial_db_path, bookings)}
    new = [r for r in rows(final_db_path, bookings) if r[0] not in known]
    if len(new) != 1:
        return {"result": "others"}
    booking_id, flight, status, seat = new[0]
    names = sorted(f"{a} {b}" for a, b in rows(final_db_path, """SELECT t.first_name, t.last_name FROM booking_travelers bt
                                                              JOIN travelers t ON t.id = bt.traveler_id WHERE bt.booking_id = ?""",
                                             (booking_id,)))
    done = flight == "B6 916" and status == "confirmed" and (seat or "").lower() == "aisle"
    return {"result": "complete" if done and names == ["Maya Thompson", "Zoe Thompson"] else "others"}
