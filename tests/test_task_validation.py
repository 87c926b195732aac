"""`awm-ray validate` checks each scenario's own tasks: ok, degenerate, broken, timeout, missing."""

from __future__ import annotations

import json

from awm_ray.cli import main
from awm_ray.loading import load_scenarios, write_dataset
from awm_ray.scenario import parse_scenario
from awm_ray.scenario.native import task_statuses

CODE = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    {body}\n"
BODIES = {
    "ok": "return {'result': 'others'}",
    "degenerate": "return {'result': 'complete'}",
    "broken": "return {'result': undefined_name}",
    "timeout": "import time\n    time.sleep(60)",
}


def test_validate_records_each_tasks_verifier_status(tmp_path, samples_dir, capsys):
    # e_commerce_33 as it is upstream, plus a copy whose four tasks' verifiers are ok, degenerate,
    # broken and hang, and a fifth task with none
    (shop,) = load_scenarios(str(samples_dir), scenario_filter=["e_commerce_33"])
    row = shop.to_row()
    row["scenario"] = "e_commerce_33_faults"
    row["tasks"] = json.dumps([f"Task {name}." for name in BODIES] + ["Task without a verifier."])
    row["verifiers"] = json.dumps({"code": [{"task_idx": i, "task": f"Task {name}.", "verification": {"code": CODE.format(body=body)}}
                                           for i, (name, body) in enumerate(BODIES.items())]})  # fmt: skip
    write_dataset([shop, parse_scenario(row)], tmp_path / "data")
    config = tmp_path / "config.yaml"
    config.write_text("verification:\n  wall_s: 3\n  cpu_s: 2\n")
    out = tmp_path / "report.json"
    assert main(["validate", "--config", str(config), "--dataset", str(tmp_path / "data"), "--out", str(out),
                 "--write-dataset", str(tmp_path / "validated")]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    by_name = {r["scenario"]: r for r in report["scenarios"]}

    upstream = by_name["e_commerce_33"]["tasks"]
    assert {(e["index"], e["verifier"]["mode"]): e["verifier"]["status"] for e in upstream if e["index"] < 3} == {
        (0, "code"): "ok", (1, "code"): "ok", (2, "code"): "ok", (0, "sql"): "ok", (1, "sql"): "ok", (2, "sql"): "broken",
    }  # fmt: skip
    broken = next(e for e in upstream if (e["index"], e["verifier"]["mode"]) == (2, "sql"))
    assert broken["verifier"]["error"] == "compile" and "SyntaxError" in broken["verifier"]["message"]
    assert all(e["verifier"]["status"] == "missing" for e in upstream if e["index"] >= 3)
    assert set(upstream[0]) == {"index", "task", "verifier"} and upstream[0]["task"].startswith("Search for")

    faults = {e["index"]: e["verifier"] for e in by_name["e_commerce_33_faults"]["tasks"]}
    assert [faults[i]["status"] for i in range(5)] == ["ok", "degenerate", "broken", "timeout", "missing"]
    assert faults[2]["error"] == "raised" and "NameError" in faults[2]["message"]
    assert report["summary"]["tasks"]["code"] == {"ok": 4, "degenerate": 1, "broken": 1, "timeout": 1, "missing": 8}
    assert report["summary"]["tasks"]["sql"] == {"ok": 2, "broken": 1, "missing": 7}
    assert "tasks (code verifiers): 15" in printed and "1 degenerate (code #1)" in printed

    # --write-dataset keeps the tasks and their verifiers, and the statuses in the val_report
    written = {s.name: s for s in load_scenarios(str(tmp_path / "validated"))}
    again = written["e_commerce_33_faults"]
    assert len(again.tasks) == 5 and again.task(1).verifier("code").code == CODE.format(body=BODIES["degenerate"])
    assert task_statuses(again.val_report, "code") == {0: "ok", 1: "degenerate", 2: "broken", 3: "timeout", 4: "missing"}
    assert set(written["e_commerce_33"].task(2).verifiers) == {"code", "sql"}


def test_the_bundled_reports_record_every_task_ok():
    for scenario in load_scenarios("bundled"):
        statuses = task_statuses(scenario.val_report, "code")
        assert statuses == {t.index: "ok" for t in scenario.tasks}, scenario.name
