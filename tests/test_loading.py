"""Data loading: bundled, local JSON Lines / parquet (through `datasets`), AWM-1K directories, the hub."""

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
    with pytest.raises(DatasetUnavailable, match="no .jsonl"):
        next(load_scenarios(str(empty)))
