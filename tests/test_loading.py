"""Data loading: bundled, every local format (JSON Lines, JSON arrays, parquet, save_to_disk, compressed, globs), AWM-1K directories, the hub."""

from __future__ import annotations

import json
import time
import types

import pytest

from awm_ray.loading import DatasetUnavailable, load_scenarios, write_dataset
from awm_ray.scenario import ScenarioError, parse_scenario
from test_parse import arcee_row


def test_bundled_scenarios(awm_rows):
    bundled = list(load_scenarios("bundled"))
    assert len(bundled) >= 4
    for scenario in bundled:
        assert scenario.missing == (), scenario.name
        assert scenario.val_report is not None, scenario.name


def test_awm_layout_directory_joins_files_and_reports_missing_parts(samples_dir):
    scenarios = {s.name: s for s in load_scenarios(str(samples_dir))}
    assert sorted(scenarios) == ["communication_messaging_1", "content_platform_1", "e_commerce_33"]
    assert scenarios["content_platform_1"].missing == ()
    assert scenarios["e_commerce_33"].missing == ("env",)
    assert scenarios["communication_messaging_1"].missing == ("db", "spec")
    assert len(scenarios["e_commerce_33"].upstream_tasks) == 10


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_jsonl_file_with_bad_rows_reports_them_and_loads_the_rest(tmp_path, awm_rows):
    good = arcee_row(awm_rows["content_platform_1"], as_json=True)
    garbled = dict(good, scenario="garbled_1", spec="{oops")
    path = write_jsonl(tmp_path / "data.jsonl", [good, garbled, {"env": "x"}])
    with open(path, "a") as fh:
        fh.write("{this line is not json\n")
    errors: list[ScenarioError] = []
    loaded = list(load_scenarios(str(path), errors=errors))
    assert [s.name for s in loaded] == ["content_platform_1"]
    assert len(errors) == 3
    messages = "\n".join(map(str, errors))
    assert "garbled_1" in messages and "'spec'" in messages
    assert "'scenario'" in messages
    assert "not valid JSON" in messages


def test_parquet_through_datasets_with_nested_and_string_columns(tmp_path, awm_rows):
    import datasets

    rows = [arcee_row(awm_rows["content_platform_1"], as_json=True), arcee_row(awm_rows["e_commerce_33"], as_json=True)]
    for r in rows:
        r["val_report"] = json.dumps({"endpoints": []})
    shards = tmp_path / "shards"
    shards.mkdir()
    datasets.Dataset.from_list(rows[:1]).to_parquet(str(shards / "train-00000.parquet"))
    datasets.Dataset.from_list(rows[1:]).to_parquet(str(shards / "train-00001.parquet"))
    loaded = list(load_scenarios(str(shards)))
    assert [s.name for s in loaded] == ["content_platform_1", "e_commerce_33"]
    assert loaded[0].spec == awm_rows["content_platform_1"]["api_spec"]
    single = list(load_scenarios(str(shards / "train-00001.parquet")))
    assert single[0].missing == ("env",)


def test_loading_streams(tmp_path, awm_rows):
    row = arcee_row(awm_rows["content_platform_1"], as_json=True)
    path = write_jsonl(tmp_path / "many.jsonl", [dict(row, scenario=f"s{i}") for i in range(50)])
    stream = load_scenarios(str(path))
    assert isinstance(stream, types.GeneratorType)
    assert next(stream).name == "s0"


def test_filter_and_max_scenarios(tmp_path, awm_rows):
    row = arcee_row(awm_rows["content_platform_1"], as_json=True)
    names = ["shop_1", "shop_2", "mail_1", "mail_2", "bank_1"]
    path = str(write_jsonl(tmp_path / "d.jsonl", [dict(row, scenario=n) for n in names]))
    assert [s.name for s in load_scenarios(path, scenario_filter="mail_*,bank_1")] == ["mail_1", "mail_2", "bank_1"]
    assert [s.name for s in load_scenarios(path, scenario_filter=["shop_2"])] == ["shop_2"]
    assert [s.name for s in load_scenarios(path, scenario_filter=lambda n: n.endswith("_2"))] == ["shop_2", "mail_2"]
    assert [s.name for s in load_scenarios(path, max_scenarios=2)] == ["shop_1", "shop_2"]
    assert [s.name for s in load_scenarios(path, scenario_filter="mail*", max_scenarios=1)] == ["mail_1"]


def test_written_dataset_loads_back_and_with_datasets(tmp_path, samples_dir):
    scenarios = list(load_scenarios(str(samples_dir)))
    files = write_dataset(scenarios, tmp_path / "out", shard_size=2)
    assert [f.name for f in files] == ["scenarios-00000.jsonl", "scenarios-00001.jsonl"]
    again = list(load_scenarios(str(tmp_path / "out")))
    assert [(s.name, s.missing) for s in again] == [(s.name, s.missing) for s in scenarios]
    import datasets

    table = datasets.load_dataset("json", data_files=[str(f) for f in files], split="train")
    columns = ["db", "env", "sample", "scenario", "solutions", "spec", "tasks", "val_report", "verifiers"]
    assert sorted(table.column_names) == columns
    assert parse_scenario(table[0]).name == scenarios[0].name


def test_unreachable_hub_fails_fast_and_says_what_to_do(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    started = time.monotonic()
    with pytest.raises(DatasetUnavailable) as info:
        next(load_scenarios("arcee-train/awm_1k_fixed_harness"))
    assert time.monotonic() - started < 10
    text = str(info.value)
    assert "cannot reach the Hugging Face hub" in text and "local" in text and "bundled" in text


def test_missing_local_path_is_not_mistaken_for_a_hub_name(tmp_path):
    with pytest.raises(DatasetUnavailable, match="no such file"):
        next(load_scenarios(str(tmp_path / "nope" / "data.jsonl")))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetUnavailable, match="no dataset files"):
        next(load_scenarios(str(empty)))


# ---- every format people have (FRONT_DOOR.md F4-F7) ----------------------------------------------


def bundled_by_name():
    return {s.name: s for s in load_scenarios("bundled")}


def same_as_bundled(loaded) -> None:
    """Loaded from another format, each scenario has the bundled one's parts (nulls inside nested
    parts read as absent from Arrow-backed formats: see dataset_files.undo_unification)."""
    from awm_ray.dataset_files import undo_unification

    bundled = bundled_by_name()
    assert sorted(s.name for s in loaded) == sorted(bundled)
    for scenario in loaded:
        expected = bundled[scenario.name]
        assert scenario.code == expected.code and scenario.missing == ()
        for part in ("db_schema", "sample_data", "spec", "val_report"):
            assert undo_unification(getattr(scenario, part)) == undo_unification(getattr(expected, part)), part
        assert expected.tasks and repr(scenario.tasks) == repr(expected.tasks)  # tasks, verifiers, solutions


def test_nested_struct_parquet_loads_like_the_same_rows_as_json(front_door_cases):
    """F4: Arrow unified every request_params into one struct of all keys (most null); undone."""
    import pyarrow.parquet as pq

    path = front_door_cases / "data" / "nested.parquet"
    spec_type = pq.read_schema(path).field("spec").type
    assert str(spec_type).startswith("struct")  # really the nested layout, not JSON strings
    errors: list[ScenarioError] = []
    loaded = list(load_scenarios(str(path), errors=errors))
    assert errors == []
    same_as_bundled(loaded)
    params = [ep["request_params"] for s in loaded for g in s.spec["api_groups"] for ep in g["endpoints"]]
    assert all(None not in p.values() for p in params)


@pytest.mark.parametrize("case", ["saved", "array.json", "dir_with_gz"])
def test_every_format_datasets_writes_loads(front_door_cases, case):
    """F5: a save_to_disk folder, a JSON array, a directory with a .jsonl.gz."""
    errors: list[ScenarioError] = []
    loaded = list(load_scenarios(str(front_door_cases / "data" / case), errors=errors))
    assert errors == []
    same_as_bundled(loaded)


def test_globs_compression_and_json_documents(tmp_path):
    import bz2
    import lzma

    rows = [s.to_row() for s in load_scenarios("bundled")]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.jsonl.bz2").write_bytes(bz2.compress((json.dumps(rows[0]) + "\n").encode()))
    (tmp_path / "a" / "two.json.xz").write_bytes(lzma.compress(json.dumps(rows[1:2], indent=2).encode()))
    (tmp_path / "b.json").write_text(json.dumps({"data": rows[2:]}, indent=1))
    (tmp_path / "notes.txt").write_text("not a dataset")
    loaded = list(load_scenarios(str(tmp_path / "**" / "*.json*")))
    assert sorted(s.name for s in loaded) == sorted(r["scenario"] for r in rows)
    assert [s.name for s in load_scenarios(str(tmp_path / "a" / "*.jsonl.bz2"))] == [rows[0]["scenario"]]
    with pytest.raises(DatasetUnavailable, match="no file matches"):
        next(load_scenarios(str(tmp_path / "*.parquet")))
    with pytest.raises(DatasetUnavailable, match="not a dataset file"):
        next(load_scenarios(str(tmp_path / "notes.txt")))


def test_a_json_array_is_read_one_element_at_a_time(tmp_path):
    from awm_ray import dataset_files

    big = "x" * (3 * 2**20)  # elements larger than the reader's 1 MB chunks
    items = [{"scenario": f"s{i}", "blob": big if i % 2 else "small", "n": [1, 2.5, None, "\u00e9"]} for i in range(5)]
    path = tmp_path / "array.json"
    path.write_text(" \n[ " + " ,\n".join(json.dumps(i) for i in items) + " ]\n")
    assert [row for row, _ in dataset_files.rows(path)] == items
    path.write_text(json.dumps(items)[:-1])
    got = list(dataset_files.rows(path))
    assert [row for row, _ in got[:-1]] == items and got[-1][0] is None and "not closed" in got[-1][1]


def test_duplicate_names_are_refused_naming_them(front_door_cases):
    """F6: the first row of a name is used; the other is an error naming the name and both places."""
    path = front_door_cases / "data" / "dups.jsonl"
    errors: list[ScenarioError] = []
    loaded = list(load_scenarios(str(path), errors=errors))
    assert [s.name for s in loaded] == ["bookstore_1"]
    assert bundled_by_name()["bookstore_1"].code == loaded[0].code  # the first row, not the last
    (error,) = errors
    assert "'bookstore_1'" in str(error) and f"{path}:2" in str(error) and f"first at {path}:1" in str(error)
    with pytest.raises(ScenarioError, match="the name is used again"):  # nobody collecting errors: refused
        list(load_scenarios(str(path)))


def test_a_file_that_cannot_be_read_is_named_and_the_rest_load(front_door_cases, tmp_path):
    """F7: random bytes named b.jsonl beside good rows."""
    directory = front_door_cases / "data" / "dir_good_and_garbage"
    errors: list[ScenarioError] = []
    loaded = list(load_scenarios(str(directory), errors=errors))
    same_as_bundled(loaded)
    (error,) = errors
    assert str(error).startswith(str(directory / "b.jsonl")) and "not UTF-8" in str(error)
    (tmp_path / "prose.jsonl").write_text("hello\nworld\n")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "ok.jsonl").write_text(json.dumps(load_scenarios("bundled").__next__().to_row()) + "\n")
    errors = []
    assert len(list(load_scenarios(str(tmp_path), errors=errors))) == 1
    messages = sorted(map(str, errors))
    assert messages[0].startswith(str(tmp_path / "broken.parquet")) and "cannot be read" in messages[0]
    assert messages[1].startswith(str(tmp_path / "prose.jsonl")) and "not JSON Lines" in messages[1]


@pytest.mark.timeout(60)
def test_symlink_loops_are_walked_once(tmp_path):
    """A dataset directory holding links to itself: each real directory and file is read once."""
    row = next(load_scenarios("bundled")).to_row()
    one = tmp_path / "one"
    one.mkdir()
    write_jsonl(one / "good.jsonl", [row])
    (one / "self").symlink_to(".")
    two = tmp_path / "two"
    two.mkdir()
    write_jsonl(two / "good.jsonl", [row])
    (two / "a").symlink_to(".")
    (two / "b").symlink_to(".")  # two loops: 2**40 paths for a walk that follows them blindly
    (two / "link.jsonl").symlink_to(two / "good.jsonl")
    for target in (one, two, two / "**" / "*.jsonl", tmp_path / "**"):
        errors: list[ScenarioError] = []
        loaded = list(load_scenarios(str(target), errors=errors))
        expected = 2 if target == tmp_path / "**" else 1  # one/good.jsonl and two/good.jsonl: a real duplicate
        assert [s.name for s in loaded] == [row["scenario"]], target
        assert len(errors) == expected - 1, (target, [str(e) for e in errors])


def test_a_utf8_byte_order_mark_is_ignored(tmp_path):
    rows = [s.to_row() for s in load_scenarios("bundled")][:2]
    (tmp_path / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + (json.dumps(rows[0]) + "\n").encode())
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([rows[1]]).encode())
    errors: list[ScenarioError] = []
    loaded = list(load_scenarios(str(tmp_path), errors=errors))
    assert [str(e) for e in errors] == []
    assert sorted(s.name for s in loaded) == sorted(r["scenario"] for r in rows)


def test_a_line_nested_too_deep_is_one_bad_line_not_a_lost_file(tmp_path):
    rows = [s.to_row() for s in load_scenarios("bundled")][:2]
    deep = '{"scenario": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    cases = {"first.jsonl": [deep, *map(json.dumps, rows)], "middle.jsonl": [json.dumps(rows[0]), deep, json.dumps(rows[1])]}
    for name, lines in cases.items():
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        errors: list[ScenarioError] = []
        loaded = list(load_scenarios(str(path), errors=errors))
        assert [s.name for s in loaded] == [r["scenario"] for r in rows], name
        (error,) = errors
        where = f"{name}:{lines.index(deep) + 1}"
        assert where in str(error) and "nested too deeply" in str(error)


def test_a_null_row_says_why(tmp_path):
    row = next(load_scenarios("bundled")).to_row()
    (tmp_path / "null.jsonl").write_text("null\n" + json.dumps(row) + "\n")
    (tmp_path / "array.json").write_text("[null]")
    errors: list[ScenarioError] = []
    assert [s.name for s in load_scenarios(str(tmp_path), errors=errors)] == [row["scenario"]]
    messages = sorted(map(str, errors))
    assert len(messages) == 2 and all("a row must be a JSON object, got null" in m for m in messages), messages
    assert "array.json[0]" in messages[0] and "null.jsonl:1" in messages[1]
