"""`awm-ray validate` end to end: real AWM rows (both backends), bundled and synthetic scenarios."""

from __future__ import annotations

import json

import pytest

from awm_ray.cli import main
from awm_ray.loading import load_scenarios
from awm_ray.scenario import passed_operations, sample_tasks, tools_from_spec


def validate(tmp_path, *args: str) -> dict:
    out = tmp_path / "report.json"
    assert main(["validate", *args, "--out", str(out)]) == 0
    return json.loads(out.read_text())


@pytest.mark.parametrize("backend", ["subprocess", "inprocess"])
def test_validate_real_awm_rows(tmp_path, samples_dir, backend, capsys):
    report = validate(tmp_path, "--dataset", str(samples_dir), "--backend", backend, "--write-dataset", str(tmp_path / "ds"))
    printed = capsys.readouterr().out
    assert "content_platform_1" in printed and "endpoints passed" in printed
    by_name = {r["scenario"]: r for r in report["scenarios"]}

    full = by_name["content_platform_1"]
    assert (full["status"], full["missing"], full["backend"], full["tool_source"]) == ("ok", [], backend, "spec")
    assert full["database"]["failures"] == [] and full["spec_mismatches"] == []
    assert len(full["endpoints"]) == 34 and full["passed"] == 33
    (failed,) = [e for e in full["endpoints"] if not e["passed"]]
    assert (failed["operation_id"], failed["status"]) == ("get_channel_by_id", 500)
    assert not any((e["error"] or "").startswith("routing") for e in full["endpoints"])

    no_code = by_name["e_commerce_33"]
    assert (no_code["status"], no_code["missing"]) == ("incomplete", ["env"])
    assert no_code["database"]["failures"] == [] and "no server code" in no_code["error"]

    no_schema = by_name["communication_messaging_1"]
    assert no_schema["missing"] == ["db", "spec"] and no_schema["tool_source"] == "openapi"
    assert no_schema["database"]["schema_from_app"] is True
    assert len(no_schema["endpoints"]) >= 30 and no_schema["passed"] >= 30
    assert report["summary"]["missing_parts"] == {"e_commerce_33": ["env"], "communication_messaging_1": ["db", "spec"]}

    # what the app supplied is written back: its ORM schema and its OpenAPI spec
    (completed,) = load_scenarios(str(tmp_path / "ds"), scenario_filter="communication_messaging_1")
    assert completed.missing == () and len(tools_from_spec(completed.spec)) == len(no_schema["endpoints"])
    assert any(t["name"] == "emails" for t in completed.db_schema["tables"])

    # the written dataset carries the reports, and tasks come from passed endpoints only
    (scenario,) = load_scenarios(str(tmp_path / "ds"), scenario_filter="content_platform_1")
    tools = tools_from_spec(scenario.spec)
    assert len(passed_operations(scenario.val_report, tools)) == 33
    tasks = sample_tasks(scenario.name, tools, scenario.val_report, 33, seed=0)
    assert "get_channel_by_id" not in {t.targets[0] for t in tasks}


def test_validate_bundled_marks_the_broken_endpoint_and_matches_the_shipped_reports(tmp_path):
    report = validate(tmp_path)  # no --dataset: the bundled scenarios
    scenarios = report["scenarios"]
    assert len(scenarios) >= 4 and all(r["status"] == "ok" for r in scenarios)
    assert all(r["database"]["failures"] == [] and r["spec_mismatches"] == [] for r in scenarios)
    failed = [(r["scenario"], e["operation_id"], e["status"]) for r in scenarios for e in r["endpoints"] if not e["passed"]]
    assert len(failed) == 1 and failed[0][2] == 500
    assert sum(r["database"]["escape_fixes"] for r in scenarios) >= 1
    shipped = {s.name: s for s in load_scenarios("bundled")}
    for r in scenarios:
        tools = tools_from_spec(shipped[r["scenario"]].spec)
        fresh = {e["operation_id"] for e in r["endpoints"] if e["passed"]}
        assert set(passed_operations(shipped[r["scenario"]].val_report, tools)) == fresh, r["scenario"]


def test_validate_synthetic_scenarios(tmp_path):
    from awm_ray.synthetic import write_dataset

    write_dataset(12, seed=5, out_dir=tmp_path / "synthetic")
    report = validate(tmp_path, "--dataset", str(tmp_path / "synthetic"), "--backend", "inprocess")
    assert report["summary"]["scenarios_by_status"] == {"ok": 12}
    assert report["summary"]["endpoints_failed"] == 0
    assert report["summary"]["endpoints_passed"] >= 12 * 20
    tasks = report["summary"]["tasks"]["code"]  # the scenarios' own tasks: none done before the agent acts
    assert list(tasks) == ["ok"] and tasks["ok"] >= 12 * 3


def test_validate_reports_an_unusable_dataset(tmp_path, capsys):
    assert main(["validate", "--dataset", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().out
