"""Rendering: the server module, the ``db`` schema, the ``sample`` inserts and the ``spec`` (a mixin of ``_Builder``)."""

from __future__ import annotations

from typing import Any

from .parts import _F, _P
from .schema import _ORM_TYPE, _py, _sql_literal


class _Render:
    """Rendering: the server module, the ``db`` schema, the ``sample`` inserts and the ``spec`` (a mixin of ``_Builder``)."""

    # ---- rendering ---------------------------------------------------------------------------

    def _field_line(self, f: _F) -> str:
        default = "..." if f.required else f.default
        if self.style == "example":
            extra = f"example={_py(f.example)}"
        else:
            extra = f'json_schema_extra={{"example": {_py(f.example)}}}'
        return f"    {f.name}: {f.ann} = Field({default}, description={_py(f.desc)}, {extra})"

    def _param_line(self, p: _P) -> str:
        ex = f"example={_py(p.example)}" if self.style == "example" else f"examples=[{_py(p.example)}]"
        if p.loc == "path":
            return f"    {p.name}: {p.ann} = Path(..., description={_py(p.desc)}, {ex}),"
        default = "..." if p.required else p.default
        return f"    {p.name}: {p.ann} = Query({default}, description={_py(p.desc)}, {ex}{p.extra}),"

    def render_code(self) -> str:
        out: list[str] = []
        w = out.append
        w("from fastapi import FastAPI, HTTPException, Query, Path, Body")
        w("from pydantic import BaseModel, Field, ConfigDict")
        w("from typing import Optional, List, Dict")
        w("from sqlalchemy import (")
        for name in (
            "create_engine",
            "Column",
            "Integer",
            "String",
            "Text",
            "Float",
            "Boolean",
            "DateTime",
            "ForeignKey",
            "Index",
            "func",
            "or_",
        ):
            w(f"    {name},")
        w(")")
        w("from sqlalchemy.orm import declarative_base, sessionmaker")
        w("from datetime import datetime, timedelta")
        w("import os")
        w("")
        w(f'database_url = os.getenv("DATABASE_PATH", "sqlite:///./{self.name}.db")')
        w("")
        w("engine = create_engine(")
        w("    database_url,")
        w('    connect_args={"check_same_thread": False} if database_url.startswith("sqlite") else {},')
        w(")")
        w("SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)")
        w("")
        w("Base = declarative_base()")
        w("")
        for t in self.tables:
            w("")
            w(f"class {t.cls}(Base):")
            w(f'    __tablename__ = "{t.name}"')
            w("    id = Column(Integer, primary_key=True)")
            for c in t.cols:
                typ = "Text" if c.kind == "text" else _ORM_TYPE[c.sql]
                args = [typ]
                if c.kind == "fk":
                    args.append(f'ForeignKey("{c.ref.name}.id", ondelete="CASCADE")')
                kw = []
                if not c.nullable:
                    kw.append("nullable=False")
                if c.unique:
                    kw.append("unique=True")
                if c.kind == "bool":
                    kw.append("default=False")
                if c.kind == "ts":
                    kw.append("default=datetime.utcnow")
                    if c.name == "updated_at":
                        kw.append("onupdate=datetime.utcnow")
                w(f"    {c.name} = Column({', '.join(args + kw)})")
            w("")
        w("")
        for t in self.tables:
            for name, cols, unique in t.indexes:
                cols_py = ", ".join(f"{t.cls}.{c}" for c in cols)
                w(f'Index("{name}", {cols_py}{", unique=True" if unique else ""})')
        w("")
        w("Base.metadata.create_all(engine)")
        w("")
        consts = [(self.enum_const(t, c), c.choices) for t in self.tables for c in t.of("enum")]
        if consts:
            w("")
            for name, choices in consts:
                w(f"{name} = ({', '.join(_py(v) for v in choices)},)")
            w("")
        w(f'app = FastAPI(title={_py(self.title + " API")}, version="1.0.0", description={_py(self._app_desc())})')
        w("")
        for m in self.models.values():
            w("")
            w(f"class {m.name}(BaseModel):")
            if m.orm:
                w("    model_config = ConfigDict(from_attributes=True)")
            for f in m.fields:
                w(self._field_line(f))
            w("")
        used = "\n".join(line for ep in self.endpoints for line in ep.lines)
        for t in self.tables:
            fn = f"serialize_{t.singular}"
            if f"{fn}(" not in used:
                continue
            item = f"{t.cls}Model"
            w("")
            w(f"def {fn}(row: {t.cls}) -> {item}:")
            out.extend(["    return " + self.ctor(item, t, "row", 4)[0].strip()] + self.ctor(item, t, "row", 4)[1:])
            w("")
        for ep in self.endpoints:
            w("")
            w(f"@app.{ep.method.lower()}(")
            w(f'    "{ep.path}",')
            w(f"    response_model={ep.resp},")
            if ep.status != 200:
                w(f"    status_code={ep.status},")
            w(f"    summary={_py(ep.summary)},")
            w(f"    description={_py(ep.desc)},")
            w(f"    tags={_py(ep.tags)},")
            w(f'    operation_id="{ep.op}",')
            w(")")
            sig = [self._param_line(p) for p in ep.params]
            if ep.body:
                sig.append(f'    body: {ep.body} = Body(..., description="JSON object with the request fields."),')
            if sig:
                w(f"async def {ep.op}(")
                out.extend(sig)
                w(f") -> {ep.resp}:")
            else:
                w(f"async def {ep.op}() -> {ep.resp}:")
            out.extend(ep.lines)
            w("")
        w("")
        w('if __name__ == "__main__":')
        w("    import uvicorn")
        w("")
        w('    host = os.getenv("HOST", "127.0.0.1")')
        w('    port = int(os.getenv("PORT", "8000"))')
        w("    uvicorn.run(app, host=host, port=port)")
        return "\n".join(out) + "\n"

    def _app_desc(self) -> str:
        return (
            f"Synthetic {self.domain.replace('_', ' ')} environment: manage "
            + ", ".join(t.hp for t in self.tables[1:])
            + f" {self.where}. The acting user is user 1."
        )

    def render_db(self) -> dict[str, Any]:
        tables = []
        for t in self.tables:
            lines = ["    id INTEGER PRIMARY KEY"]
            fks = []
            for c in t.cols:
                parts = [c.name, c.sql]
                if not c.nullable:
                    parts.append("NOT NULL")
                if c.unique:
                    parts.append("UNIQUE")
                if c.kind == "enum":
                    parts.append("CHECK (" + c.name + " IN (" + ",".join(_sql_literal(v) for v in c.choices) + "))")
                if c.kind == "bool":
                    parts.append(f"DEFAULT 0 CHECK ({c.name} IN (0,1))")
                if c.kind == "ts":
                    parts.append("DEFAULT CURRENT_TIMESTAMP")
                lines.append("    " + " ".join(parts))
                if c.kind == "fk":
                    fks.append(f"    FOREIGN KEY ({c.name}) REFERENCES {c.ref.name}(id) ON DELETE CASCADE")
            ddl = f"CREATE TABLE {t.name} (\n" + ",\n".join(lines + fks) + "\n);"
            idx = [f"CREATE {'UNIQUE ' if u else ''}INDEX {n} ON {t.name}({', '.join(cs)});" for n, cs, u in t.indexes]
            tables.append({"name": t.name, "ddl": ddl, "indexes": idx})
        return {"tables": tables}

    def render_sample(self) -> dict[str, Any]:
        tables = []
        for t in self.tables:
            cols = ["id"] + [c.name for c in t.cols]
            stmts = []
            for r in t.rows:
                values = ", ".join(_sql_literal(r[c]) for c in cols)
                stmts.append(f"INSERT INTO {t.name} ({', '.join(cols)}) VALUES ({values});")
            tables.append({"table_name": t.name, "insert_statements": stmts})
        return {"tables": tables}

    def _response_spec(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.models[name].fields:
            if f.ref and f.is_list:
                out[f.name] = {"type": "array", "description": f.desc, "items": self._response_spec(f.ref)}
            elif f.ref:
                out[f.name] = {"type": "object", "description": f.desc, **self._response_spec(f.ref)}
            else:
                out[f.name] = {"type": f.stype, "description": f.desc, "example": f.example}
        return out

    def render_spec(self) -> dict[str, Any]:
        groups: dict[str, list[dict[str, Any]]] = {}
        for ep in self.endpoints:
            params: dict[str, Any] = {}
            for p in ep.params:
                params[p.name] = {
                    "type": p.stype,
                    "param_type": p.loc,
                    "required": p.required,
                    "description": p.desc,
                    "example": p.example,
                }
            if ep.body:
                for f in self.models[ep.body].fields:
                    params[f.name] = {
                        "type": f.stype,
                        "param_type": "body",
                        "required": f.required,
                        "description": f.desc,
                        "example": f.example,
                    }
            fields: dict[str, list[str]] = {}
            for tname, cols in ep.tables.items():
                if cols == ["*"]:
                    t = next(t for t in self.tables if t.name == tname)
                    cols = ["id"] + [c.name for c in t.cols]
                fields[tname] = cols
            groups.setdefault(ep.group, []).append(
                {
                    "path": ep.path,
                    "method": ep.method,
                    "summary": ep.summary,
                    "description": ep.desc,
                    "operation_id": ep.op,
                    "tags": ep.tags,
                    "request_params": params,
                    "response": self._response_spec(ep.resp),
                    "required_tables": list(ep.tables),
                    "required_fields": fields,
                }
            )
        return {"api_groups": [{"group_name": g, "endpoints": eps} for g, eps in groups.items()]}
