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
