def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    travelers = """SELECT id, first_name, last_name, date_of_birth, passport_number, nationality FROM travelers
                   WHERE user_id = 1"""
    known = {r[0] for r in rows(initial_db_path, travelers)}
    new = [r[1:] for r in rows(final_db_path, travelers) if r[0] not in known]
    wanted = ("ines", "thompson", "2019-05-30", "X9988776", "US")
    found = [(f.lower(), l.lower(), str(d)[:10], p, n) for f, l, d, p, n in new]
    return {"result": "complete" if found == [wanted] else "others"}
