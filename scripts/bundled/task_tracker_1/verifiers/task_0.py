def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def rows(path, sql, params=()):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    tasks = """SELECT t.id, t.title, t.priority, t.assignee_id FROM tasks t JOIN projects p ON p.id = t.project_id
               WHERE p.name = 'Website Redesign'"""
    known = {r[0] for r in rows(initial_db_path, tasks)}
    for task_id, title, priority, assignee in rows(final_db_path, tasks):
        if task_id in known or (title or "").strip().lower() != "audit cookie consent banner":
            continue
        labels = {name for (name,) in rows(final_db_path, """SELECT l.name FROM task_labels tl JOIN labels l ON l.id = tl.label_id
                                                             WHERE tl.task_id = ?""", (task_id,))}
        if priority == "high" and assignee == 2 and "frontend" in labels:
            return {"result": "complete"}
    return {"result": "others"}
