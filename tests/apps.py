"""Small scenario apps for hosting tests, written like AWM's generated servers."""

from __future__ import annotations

from awm_ray.scenario import Scenario

TINY_CODE = '''
import os
from datetime import datetime
from typing import List, Optional

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

database_url = os.getenv("DATABASE_PATH", "sqlite:///./tiny.db")
engine = create_engine(database_url, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)
Base = declarative_base()


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    title = Column(String, nullable=False)


Base.metadata.create_all(engine)
app = FastAPI(title="tiny")


class NoteIn(BaseModel):
    title: str = Field(..., example="Buy milk")


@app.get("/api/notes", operation_id="list_notes", description="List every note.")
def list_notes(contains: Optional[str] = Query(None, example="milk")):
    session = SessionLocal()
    rows = session.query(Note).order_by(Note.id).all()
    session.close()
    return {"notes": [{"id": n.id, "title": n.title} for n in rows if not contains or contains in n.title]}


@app.post("/api/notes", operation_id="create_note", description="Create a note with a title.")
def create_note(body: NoteIn):
    session = SessionLocal()
    note = Note(title=body.title)
    session.add(note)
    session.commit()
    out = {"id": note.id, "title": note.title}
    session.close()
    return out


@app.get("/api/notes/{note_id}", operation_id="get_note", description="Get one note by its id.")
def get_note(note_id: int):
    session = SessionLocal()
    note = session.query(Note).filter(Note.id == note_id).first()
    session.close()
    if note is None:
        raise HTTPException(status_code=404, detail="Note not found")
    return {"id": note.id, "title": note.title}


@app.get("/api/env", operation_id="read_env", description="Show the server's environment variables.")
def read_env():
    return dict(os.environ)


@app.get("/api/boom", operation_id="boom", description="Always fail.")
def boom():
    return {"ratio": 1 / 0}


@app.get("/api/nap", operation_id="nap", description="Sleep a while.")
async def nap(seconds: float = Query(0.0, example=0.0)):
    import asyncio

    await asyncio.sleep(seconds)
    return {"slept": seconds}
'''

TINY_DB = {"tables": [{"name": "notes", "ddl": "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);", "indexes": []}]}
TINY_SAMPLE = {"tables": [{"table_name": "notes", "insert_statements": [
    "INSERT INTO notes VALUES (1, 'Buy milk');", "INSERT INTO notes VALUES (2, 'Call Bob');"]}]}  # fmt: skip


def tiny(name: str = "tiny_1", code: str = TINY_CODE, with_spec: bool = False) -> Scenario:
    spec = None
    if with_spec:
        spec = {"api_groups": [{"group_name": "notes", "endpoints": [
            {"path": "/api/notes", "method": "GET", "operation_id": "list_notes", "description": "List every note.",
             "request_params": {"contains": {"type": "string", "param_type": "query", "example": "milk"}}},
            {"path": "/api/notes", "method": "POST", "operation_id": "create_note", "description": "Create a note.",
             "request_params": {"title": {"type": "string", "param_type": "body", "required": True, "example": "Buy milk"}}},
            {"path": "/api/notes/{note_id}", "method": "GET", "operation_id": "get_note", "description": "Get a note.",
             "request_params": {"note_id": {"type": "integer", "param_type": "path", "required": True, "example": 1}}},
        ]}]}  # fmt: skip
    return Scenario(name=name, code=code, db_schema=TINY_DB, sample_data=TINY_SAMPLE, spec=spec)


# ---- hostile and broken scenarios (tests/test_hostile.py) ----------------------------------------

HOSTILE_ENDPOINTS = """

@app.get("/api/files/{name}", operation_id="read_file", description="Echo a file name taken from the path.")
def read_file(name: str):
    return {"name": name}


@app.get("/api/admin/secret", include_in_schema=False)
def admin_secret():
    return {"secret": "admin-only"}


@app.get("/api/hang", operation_id="hang", description="Block this handler's thread for good.")
def hang():
    import time

    time.sleep(10**6)
    return {}


@app.get("/api/hang_async", operation_id="hang_async", description="Await for good.")
async def hang_async():
    import asyncio

    await asyncio.sleep(10**6)
    return {}


@app.get("/api/spin", operation_id="spin", description="Spin on the event loop for good.")
async def spin():
    while True:
        pass


@app.get("/api/spam", operation_id="spam", description="Print many megabytes.")
def spam(megabytes: int = Query(1, example=1)):
    import sys

    line = "spam " * 20 + "\\n"
    for _ in range(megabytes * 10_000):
        print(line, end="")
        sys.stderr.write(line)
    return {"printed_bytes": 2 * megabytes * 10_000 * len(line)}


@app.get("/api/huge", operation_id="huge", description="Answer with many megabytes.")
def huge(megabytes: int = Query(1, example=1)):
    return {"blob": "x" * (megabytes * 1_000_000)}


@app.get("/api/secrets", operation_id="secrets", description="Look for secrets in the environment.")
def secrets(needle: str = Query(..., example="hostile-secret")):
    import os

    found = {"environ": sorted(k for k, v in os.environ.items() if needle in v or needle in k)}
    for where in ("self", str(os.getppid())):
        try:
            with open(f"/proc/{where}/environ", "rb") as fh:
                found[f"proc_{'self' if where == 'self' else 'parent'}"] = needle.encode() in fh.read()
        except OSError as exc:
            found[f"proc_{'self' if where == 'self' else 'parent'}"] = f"{type(exc).__name__}: {exc}"
    return found


@app.get("/api/dial", operation_id="dial", description="Try to reach the outside world.")
def dial(host: str = Query("203.0.113.1", example="203.0.113.1"), port: int = Query(80, example=80)):
    import socket
    import urllib.request

    out = {}

    def attempt(name, action):
        try:
            action()
            out[name] = "ok"
        except Exception as exc:
            out[name] = f"{type(exc).__name__}: {exc}"

    def raw_connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect((host, port))
        finally:
            s.close()

    def udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b"x", (host, port))
        finally:
            s.close()

    def loopback():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(("127.0.0.1", 9))  # nobody listens: refused, not blocked
        finally:
            s.close()

    attempt("connect", raw_connect)
    attempt("create_connection", lambda: socket.create_connection((host, port), timeout=1).close())
    attempt("sendto", udp)
    attempt("resolve", lambda: socket.getaddrinfo("example.com", 80))
    attempt("urlopen", lambda: urllib.request.urlopen("http://example.com/", timeout=1).close())
    attempt("loopback", loopback)
    return out


@app.get("/api/quit", operation_id="quit", description="Call sys.exit.")
def quit_now():
    import sys

    sys.exit(3)
"""


def hostile(name: str = "hostile_1") -> Scenario:
    """tiny plus endpoints that hang, spin, spam, answer huge, look for secrets and dial out."""
    return tiny(name, code=TINY_CODE + HOSTILE_ENDPOINTS)


def fails_at_import(name: str = "fails_at_import_1") -> Scenario:
    return tiny(name, code=TINY_CODE.replace("app = FastAPI(", "import no_such_module_xyz\napp = FastAPI("))


def hangs_at_import(name: str, how: str) -> Scenario:
    """`how`: "sleep" blocks in native code (time.sleep), "spin" loops in pure Python."""
    hang = {"sleep": "import time\ntime.sleep(10**6)\n", "spin": "while True:\n    pass\n"}[how]
    return tiny(name, code=TINY_CODE.replace("app = FastAPI(", hang + "app = FastAPI("))


def broken_rows(name: str = "broken_rows_1") -> Scenario:
    """Sample rows with broken SQL: an unterminated string, a missing table, a duplicate key, bad DDL."""
    bad = {"tables": [
        {"name": "notes", "ddl": TINY_DB["tables"][0]["ddl"], "indexes": ["CREATE INDEX ON notes(title;"]},
        {"name": "broken", "ddl": "CREATE TABLE broken (id INTEGER PRIMARY KEY,, );", "indexes": []},
    ]}  # fmt: skip
    rows = {"tables": [{"table_name": "notes", "insert_statements": [
        "INSERT INTO notes VALUES (1, 'Buy milk');", "INSERT INTO notes VALUES (2, 'Call Bob');",
        "INSERT INTO notes VALUES (3, 'unterminated);", "INSERT INTO nowhere VALUES (4, 'x');",
        "INSERT INTO notes VALUES (1, 'duplicate id');"]}]}  # fmt: skip
    return Scenario(name=name, code=TINY_CODE, db_schema=bad, sample_data=rows)


def spec_disagrees(name: str = "spec_disagrees_1") -> Scenario:
    """tiny with a spec that also lists an operation the code does not serve, and one with the wrong method."""
    scenario = tiny(name, with_spec=True)
    endpoints = scenario.spec["api_groups"][0]["endpoints"]
    note_id = {"note_id": {"type": "integer", "param_type": "path", "required": True, "example": 1}}
    endpoints.append({"path": "/api/notes/{note_id}/archive", "method": "POST", "operation_id": "archive_note",
                      "description": "Archive a note.", "request_params": note_id})  # fmt: skip
    endpoints.append({"path": "/api/notes/{note_id}", "method": "DELETE", "operation_id": "delete_note",
                      "description": "Delete a note.", "request_params": note_id})  # fmt: skip
    return scenario


# ---- scenario code that attacks its host (tests/test_front_door.py) -------------------------------

AT_IMPORT = {
    "exit": "import os\nos._exit(1)\n",
    "kill": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "memory": "_hog = b'x' * (5 * 2**30)\n",
    # bounded: if a guard ever failed, three children exit at once (never a real fork bomb on a shared machine)
    "fork": "import os\nfor _ in range(3):\n    if os.fork() == 0:\n        os._exit(0)\n",
}

IN_CALL = {
    "exit": "    import os\n    os._exit(7)\n",
    "kill": "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    "fork": "    import os\n    for _ in range(3):\n        if os.fork() == 0:\n            os._exit(0)\n",
    "memory": "    _HOGS.append(b'x' * int(GB * 2**30))\n",
    "spin": None,  # an async handler that never yields
}


def attacks_at_import(how: str) -> Scenario:
    """tiny whose module code does `how` (exit, kill, memory, fork) before defining its app."""
    return tiny(f"{how}s_at_import_1", code=AT_IMPORT[how] + TINY_CODE)


def attacks_in_call(how: str, gb: float = 1.0) -> Scenario:
    """tiny plus an endpoint `attack` that does `how` (exit, kill, fork, memory, spin) when called."""
    if how == "spin":
        endpoint = '\n@app.get("/api/attack", operation_id="attack")\nasync def attack():\n    while True:\n        pass\n'
    else:
        endpoint = (f'\n_HOGS = []\nGB = {gb}\n\n@app.get("/api/attack", operation_id="attack")\ndef attack():\n'
                    f"{IN_CALL[how]}    return {{'survived': True}}\n")  # fmt: skip
    return tiny(f"{how}s_in_call_1", code=TINY_CODE + endpoint)
