"""Tests for awm_ray.synthetic: determinism, shape, and that every generated endpoint works.

The live tests build each scenario's SQLite DB from ``db`` + ``sample`` (foreign keys on), import
its server code under a unique module name with DATABASE_PATH pointing at a copy, and call every
spec endpoint with its examples, each on a fresh copy of the DB.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
try:
    from awm_ray import synthetic
except ImportError:  # not installed: run from the checkout
    sys.path.insert(0, str(ROOT))
    from awm_ray import synthetic

SEED = 2024
NAME_RE = re.compile(r"^synthetic_[a-z_]+_\d{4,}$")
PARAM_TYPES = {"string", "integer", "float", "boolean", "array", "object"}


def endpoints(row: dict) -> list[dict]:
    spec = json.loads(row["spec"])
    return [ep for group in spec["api_groups"] for ep in group["endpoints"]]


def build_db(row: dict, path: Path) -> None:
    db, sample = json.loads(row["db"]), json.loads(row["sample"])
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        for table in db["tables"]:
            con.execute(table["ddl"])
            for index in table["indexes"]:
                con.execute(index)
        for table in sample["tables"]:
            for statement in table["insert_statements"]:
                con.execute(statement)
        con.commit()
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def import_app(row: dict, workdir: Path, db_url: str):
    code = workdir / f"{row['scenario']}.py"
    code.write_text(row["env"], encoding="utf-8")
    module_name = f"_synthetic_test_{row['scenario']}_{SEED}"
    old = os.environ.get("DATABASE_PATH")
    os.environ["DATABASE_PATH"] = db_url
    try:
        spec = importlib.util.spec_from_file_location(module_name, code)
        module = importlib.util.module_from_spec(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    finally:
        if old is None:
            os.environ.pop("DATABASE_PATH", None)
        else:
            os.environ["DATABASE_PATH"] = old
    return module


def request_args(ep: dict) -> tuple[str, dict, dict]:
    path, query, body = ep["path"], {}, {}
    for name, param in ep["request_params"].items():
        if param["param_type"] == "path":
            path = path.replace("{" + name + "}", str(param["example"]))
        elif param["param_type"] == "query":
            query[name] = param["example"]
        else:
            body[name] = param["example"]
    return path, query, body


# ---- determinism and shape --------------------------------------------------------------------


def test_generate_is_deterministic_and_seed_dependent():
    for index in range(3):
        assert synthetic.generate_scenario(index, SEED) == synthetic.generate_scenario(index, SEED)
    a = [synthetic.generate_scenario(i, 1) for i in range(3)]
    b = [synthetic.generate_scenario(i, 2) for i in range(3)]
    for x, y in zip(a, b, strict=True):
        assert x["sample"] != y["sample"] or x["spec"] != y["spec"]


def test_write_dataset_byte_identical_and_sharded(tmp_path):
    first = synthetic.write_dataset(12, SEED, tmp_path / "a", shard_size=5)
    second = synthetic.write_dataset(12, SEED, tmp_path / "b", shard_size=5)
    other = synthetic.write_dataset(12, SEED + 1, tmp_path / "c", shard_size=5)
    assert [p.name for p in first] == ["scenarios-00000.jsonl", "scenarios-00001.jsonl", "scenarios-00002.jsonl"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
    lines = [line for p in first for line in p.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 12 and [len(p.read_text().splitlines()) for p in first] == [5, 5, 2]
    for line in lines:
        row = json.loads(line)
        assert set(row) == {"scenario", "env", "db", "sample", "spec", "val_report", "tasks", "verifiers", "solutions"}
        assert row["val_report"] is None
        assert all(isinstance(row[k], str) for k in ("env", "db", "sample", "spec"))
    # Rewriting a smaller set removes the stale shards of the earlier run.
    again = synthetic.write_dataset(3, SEED, tmp_path / "a", shard_size=5)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [p.name for p in again] == ["scenarios-00000.jsonl"]


def test_many_scenarios_distinct_and_within_bounds():
    rows = list(synthetic.iter_scenarios(60, SEED))
    names = [r["scenario"] for r in rows]
    assert len(set(names)) == len(names) and all(NAME_RE.match(n) for n in names)
    assert len({r["env"] for r in rows}) == len(rows)
    assert len({r["db"] for r in rows}) == len(rows)
    assert len({tuple((e["method"], e["path"]) for e in endpoints(r)) for r in rows}) == len(rows)
    assert len({n.rsplit("_", 1)[0] for n in names}) >= 10
    assert len(synthetic.DOMAINS) >= 20
    for r in rows:
        n_eps = len(endpoints(r))
        assert 20 <= n_eps <= 60, (r["scenario"], n_eps)
        tables = json.loads(r["db"])["tables"]
        assert 3 <= len(tables) <= 8, r["scenario"]
        assert tables[0]["name"] == "users"
        assert 1000 <= r["env"].count("\n") <= 3000, r["scenario"]


def test_spec_is_well_formed():
    for index in range(25):
        row = synthetic.generate_scenario(index, SEED)
        eps = endpoints(row)
        ops = [e["operation_id"] for e in eps]
        assert len(set(ops)) == len(ops)
        assert all(op.isidentifier() and not keyword.iskeyword(op) for op in ops)
        descriptions = [e["description"] for e in eps]
        assert len(set(descriptions)) == len(descriptions)
        assert len({(e["method"], e["path"]) for e in eps}) == len(eps)
        assert {"GET", "POST", "PATCH", "DELETE"} <= {e["method"] for e in eps}
        assert any(
            p["type"] == "array" and p["param_type"] == "query" for e in eps for p in e["request_params"].values()
        )
        tables = {t["name"] for t in json.loads(row["db"])["tables"]}
        for e in eps:
            assert e["description"][0].isupper() and e["description"].endswith(".")
            placeholders = set(re.findall(r"{(\w+)}", e["path"]))
            assert placeholders == {k for k, p in e["request_params"].items() if p["param_type"] == "path"}
            for name, p in e["request_params"].items():
                assert set(p) == {"type", "param_type", "required", "description", "example"}, name
                assert p["type"] in PARAM_TYPES and p["param_type"] in {"path", "query", "body"}
                assert p["example"] is not None and p["description"]
            assert set(e["required_tables"]) <= tables
        code = row["env"]
        assert set(re.findall(r"os\.getenv\(\"(\w+)\"", code)) == {"DATABASE_PATH", "HOST", "PORT"}
        assert "Base.metadata.create_all(engine)" in code and "\napp = FastAPI(" in code
        assert code.rstrip().endswith("uvicorn.run(app, host=host, port=port)")
        assert "user_id = 1" in code and 'connect_args={"check_same_thread": False}' in code
        compile(code, row["scenario"], "exec")


def test_sample_data_shape():
    row = synthetic.generate_scenario(5, SEED)
    sample = json.loads(row["sample"])["tables"]
    assert sample[0]["table_name"] == "users"
    assert sample[0]["insert_statements"][0].startswith("INSERT INTO users (id, ")
    assert "VALUES (1, " in sample[0]["insert_statements"][0]
    for table in sample:
        assert 5 <= len(table["insert_statements"]) <= 15
    assert "datetime('now', '-" in row["sample"]


# ---- live: every endpoint answers 2xx, code agrees with spec ------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_endpoint_answers_2xx_and_matches_openapi(index, tmp_path):
    from fastapi.testclient import TestClient
    from starlette.routing import Match

    row = synthetic.generate_scenario(index, SEED)
    template, live = tmp_path / "template.db", tmp_path / "live.db"
    build_db(row, template)
    shutil.copyfile(template, live)
    module = import_app(row, tmp_path, f"sqlite:///{live}")
    app = module.app
    eps = endpoints(row)

    # The code agrees with the spec: same operations, methods, paths and parameter locations.
    openapi = app.openapi()
    spec_ops = {(e["method"].lower(), e["path"]): e for e in eps}
    code_ops = {(m, p): op for p, item in openapi["paths"].items() for m, op in item.items()}
    assert set(code_ops) == set(spec_ops)
    for key, e in spec_ops.items():
        op = code_ops[key]
        assert op["operationId"] == e["operation_id"]
        assert {p["name"]: p["in"] for p in op.get("parameters", [])} == {
            k: p["param_type"] for k, p in e["request_params"].items() if p["param_type"] != "body"
        }
        for p in op.get("parameters", []):
            assert p["required"] == e["request_params"][p["name"]]["required"], (e["operation_id"], p["name"])
        body = {k: p for k, p in e["request_params"].items() if p["param_type"] == "body"}
        if body:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            schema = openapi["components"]["schemas"][ref]
            assert set(schema["properties"]) == set(body)
            assert set(schema.get("required", [])) == {k for k, p in body.items() if p["required"]}
        else:
            assert "requestBody" not in op

    client = TestClient(app, raise_server_exceptions=False)
    failures = []
    try:
        for e in eps:
            module.engine.dispose()
            shutil.copyfile(template, live)  # fresh DB for every call
            path, query, body = request_args(e)
            scope = {"type": "http", "path": path, "method": e["method"]}
            first = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
            assert first.operation_id == e["operation_id"], f"{e['operation_id']} shadowed by {first.operation_id}"
            response = client.request(e["method"], path, params=query, json=body or None)
            if not 200 <= response.status_code < 300:
                failures.append((e["method"], e["path"], response.status_code, response.text[:200]))
    finally:
        module.engine.dispose()
        sys.modules.pop(module.__name__, None)
    assert failures == []


def test_missing_rows_answer_404(tmp_path):
    from fastapi.testclient import TestClient

    row = synthetic.generate_scenario(3, SEED)
    db = tmp_path / "x.db"
    build_db(row, db)
    module = import_app(row, tmp_path, f"sqlite:///{db}")
    client = TestClient(module.app, raise_server_exceptions=False)
    try:
        gets = [e for e in endpoints(row) if e["method"] == "GET" and re.fullmatch(r"/api/[a-z-]+/{\w+}", e["path"])]
        assert gets
        for e in gets:
            response = client.get(re.sub(r"{\w+}", "999999", e["path"]))
            assert response.status_code == 404 and response.json()["detail"].endswith("not found")
    finally:
        module.engine.dispose()
        sys.modules.pop(module.__name__, None)


def test_cli_writes_shards(tmp_path):
    out = tmp_path / "ds"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_synthetic_dataset.py"),
            "--n",
            "3",
            "--seed",
            "9",
            "--out",
            str(out),
            "--shard-size",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["scenarios-00000.jsonl", "scenarios-00001.jsonl"]
    assert "scenarios-00000.jsonl" in proc.stdout and "wrote 3 scenarios" in proc.stdout
    expected = [json.dumps(synthetic.generate_scenario(i, 9), ensure_ascii=False) for i in range(3)]
    got = [line for p in sorted(out.iterdir()) for line in p.read_text(encoding="utf-8").splitlines()]
    assert got == expected
