"""AWM's own tasks and verifiers load with the scenarios: both layouts, name joins, round trips (pure)."""

from __future__ import annotations

import json

import pytest

from awm_ray.loading import load_scenarios, write_dataset
from awm_ray.scenario import ScenarioError, parse_scenario
from awm_ray.scenario.native import choose_tasks, normalise_name, task_statuses, verifier_mode
from test_parse import arcee_row

CODE = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    return {'result': 'others'}\n"
SQL = "def verify_task(initial_db_path, final_db_path):\n    return {'n': 1}\n"
DISPLAY = "DocuSign (E-Signature & Agreement Workflow)"


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_names_normalise_to_awm_ids():
    assert normalise_name(DISPLAY) == "docusign_e_signature_agreement_workflow"
    assert normalise_name("  e_commerce_33 ") == "e_commerce_33"
    assert verifier_mode(CODE) == "code" and verifier_mode(SQL) == "sql" and verifier_mode("x = 1") is None


def test_awm_files_join_a_display_name_with_its_normalised_id(tmp_path, awm_rows):
    db = awm_rows["e_commerce_33"]["db_schema"]
    write_jsonl(tmp_path / "gen_db.jsonl", [{"scenario": DISPLAY, "db_schema": db}])
    write_jsonl(tmp_path / "gen_tasks.jsonl", [{"scenario": normalise_name(DISPLAY), "tasks": ["Sign it.", "Send it."]}])
    rows = [{"scenario": normalise_name(DISPLAY), "task_idx": i, "task": t, "verification": {"code": CODE}}
            for i, t in enumerate(["Sign it.", "Send it."])]  # fmt: skip
    write_jsonl(tmp_path / "gen_verifier.pure_code.jsonl", rows)
    write_jsonl(tmp_path / "gen_verifier.jsonl", [{"scenario": DISPLAY, "task_idx": 1, "task": "Send it.",
                                                   "verification": {"code": SQL}}])  # fmt: skip
    (scenario,) = load_scenarios(str(tmp_path))
    assert scenario.name == DISPLAY and scenario.db_schema is not None
    assert [t.task for t in scenario.tasks] == ["Sign it.", "Send it."]
    assert set(scenario.task(0).verifiers) == {"code"} and set(scenario.task(1).verifiers) == {"code", "sql"}
    # a filter on either spelling finds it
    assert len(list(load_scenarios(str(tmp_path), scenario_filter=["docusign_*"]))) == 1
    assert len(list(load_scenarios(str(tmp_path), scenario_filter=["DocuSign*"]))) == 1


def test_the_real_awm_directory_gives_e_commerce_33_three_verified_tasks(samples_dir):
    scenarios = {s.name: s for s in load_scenarios(str(samples_dir))}
    shop = scenarios["e_commerce_33"]
    assert [sorted(t.verifiers) for t in shop.tasks[:4]] == [["code", "sql"]] * 3 + [[]]
    assert shop.task(2).verifier("sql").code.startswith("def verify_task(")
    assert all(not t.verifiers for t in scenarios["content_platform_1"].tasks)


@pytest.mark.parametrize("as_json", [True, False])
def test_arcee_rows_with_task_and_verifier_columns(awm_rows, as_json):
    row = arcee_row(awm_rows["e_commerce_33"], as_json=as_json)
    tasks = [{"task": "Reorder towels.", "targets": ["add_to_cart"]}, "Make a list."]
    verifiers = [  # one list, each row's mode recognised from its code
        {"task_idx": 0, "task": "Reorder towels.", "verification": {"code": CODE}},
        {"task_idx": 0, "task": "Reorder towels.", "verification": {"code": SQL}},
        {"task_idx": 1, "task": "Make a list.", "mode": "code", "verification": {"code": CODE}},
    ]
    solutions = [[{"tool": "add_to_cart", "arguments": {"offer": 8}}], None]  # calls alone, or {"calls", "answer"}
    row.update(tasks=tasks, verifiers=verifiers, solutions=solutions)
    if as_json:
        row.update({k: json.dumps(row[k]) for k in ("tasks", "verifiers", "solutions")})
    scenario = parse_scenario(row)
    first, second = scenario.tasks
    assert first.targets == ("add_to_cart",) and set(first.verifiers) == {"code", "sql"}
    assert first.solution.calls[0].tool == "add_to_cart" and first.solution.calls[0].arguments == {"offer": 8}
    assert first.solution.answer is None and first.solution.tools == ("add_to_cart",)
    assert second.solution is None and set(second.verifiers) == {"code"}
    again = parse_scenario(scenario.to_row())
    assert [(t.index, t.task, t.targets, sorted(t.verifiers)) for t in again.tasks] == [
        (t.index, t.task, t.targets, sorted(t.verifiers)) for t in scenario.tasks
    ]
    assert again.task(0).solution.calls[0].arguments == {"offer": 8}


def test_written_datasets_keep_tasks_and_verifiers(tmp_path, samples_dir):
    scenarios = list(load_scenarios(str(samples_dir)))
    write_dataset(scenarios, tmp_path / "out")
    again = {s.name: s for s in load_scenarios(str(tmp_path / "out"))}
    shop = again["e_commerce_33"]
    assert len(shop.tasks) == 10 and set(shop.task(1).verifiers) == {"code", "sql"}
    assert shop.task(2).verifier("sql").code == next(s for s in scenarios if s.name == "e_commerce_33").task(2).verifier("sql").code


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("tasks", "{not json", "tasks"),
        ("tasks", {"x": 1}, "tasks"),
        ("verifiers", {"python": []}, "verifiers"),
        ("verifiers", [{"task_idx": "one", "verification": {"code": CODE}}], "verifiers[0].task_idx"),
        ("verifiers", [{"task_idx": 0, "verification": {}}], "verifiers[0].verification.code"),
        ("solutions", [[{"arguments": {}}]], "solutions[0][0]"),
    ],
)
def test_bad_task_columns_name_the_field(awm_rows, column, value, field):
    row = arcee_row(awm_rows["e_commerce_33"], as_json=True)
    row.update({"tasks": ["Do it."], column: value})
    with pytest.raises(ScenarioError) as info:
        parse_scenario(row)
    assert info.value.field == field and "e_commerce_33" in str(info.value)


def test_task_statuses_read_from_a_val_report():
    report = {"tasks": [{"index": 0, "task": "a", "verifier": {"mode": "code", "status": "degenerate"}},
                        {"index": 0, "task": "a", "verifier": {"mode": "sql", "status": "ok"}},
                        {"index": 1, "task": "b", "verifier": {"mode": "code", "status": "broken"}}]}  # fmt: skip
    assert task_statuses(report, "code") == {0: "degenerate", 1: "broken"}
    assert task_statuses(report, "sql") == {0: "ok"}
    assert task_statuses({"endpoints": []}, "code") == {} and task_statuses(None, "code") == {}


def test_choose_tasks_skips_tasks_without_a_verifier_and_degenerate_or_broken_ones(samples_dir):
    (shop,) = load_scenarios(str(samples_dir), scenario_filter=["e_commerce_33"])
    report = {"tasks": [{"index": 0, "verifier": {"mode": "code", "status": "degenerate"}},
                        {"index": 2, "verifier": {"mode": "sql", "status": "broken"}}]}  # fmt: skip
    chosen, skipped = choose_tasks(shop.tasks, report, "code")
    assert [t.index for t in chosen] == [1, 2] and skipped == {"no_verifier": 7, "degenerate": 1}
    chosen, skipped = choose_tasks(shop.tasks, report, "sql", count=1)
    assert [t.index for t in chosen] == [0] and skipped == {"no_verifier": 7, "broken": 1}
    chosen, _ = choose_tasks(shop.tasks, report, "code", include_degenerate=True)
    assert [t.index for t in chosen] == [0, 1, 2]


DEEP_LINE = b'{"scenario": "deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("bad", [b'{"scenario": "s\x91"}', DEEP_LINE], ids=["not-utf8", "too-deep"])
def test_an_unreadable_awm_line_is_skipped_naming_file_and_line(tmp_path, awm_rows, bad, caplog):
    """Not UTF-8, or nested too deep for the parser: that line is skipped with a warning, the rest load
    (and the leading byte-order mark does not cost the first line)."""
    db = awm_rows["e_commerce_33"]["db_schema"]
    good = [json.dumps({"scenario": name, "db_schema": db}).encode() for name in ("first_1", "last_1")]
    (tmp_path / "gen_db.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\n".join([good[0], bad, good[1]]) + b"\n")
    with caplog.at_level("WARNING", logger="awm_ray.loading"):
        loaded = list(load_scenarios(str(tmp_path)))
    assert sorted(s.name for s in loaded) == ["first_1", "last_1"]
    assert any(f"{tmp_path / 'gen_db.jsonl'}:2 " in r.getMessage() for r in caplog.records), caplog.text
