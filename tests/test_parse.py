"""Rows → Scenario: both layouts, JSON strings or nested parts, wrapper keys, and clear errors."""

from __future__ import annotations

import json

import pytest

from awm_ray.scenario import ScenarioError, parse_scenario


def arcee_row(upstream: dict, as_json: bool) -> dict:
    """An upstream AWM-1K row rewritten in the arcee layout."""

    def enc(value):
        return json.dumps(value) if as_json and value is not None else value

    return {
        "scenario": upstream["scenario"],
        "env": upstream.get("full_code"),
        "db": enc(upstream.get("db_schema")),
        "sample": enc(upstream.get("sample_data")),
        "spec": enc(upstream.get("api_spec")),
        "val_report": None,
    }


@pytest.mark.parametrize("as_json", [True, False], ids=["json-strings", "nested"])
def test_arcee_layout_json_strings_and_nested_parse_the_same(awm_rows, as_json):
    upstream = awm_rows["content_platform_1"]
    scenario = parse_scenario(arcee_row(upstream, as_json))
    assert scenario.name == "content_platform_1"
    assert scenario.missing == ()
    assert scenario.code == upstream["full_code"]
    assert scenario.db_schema == upstream["db_schema"]
    assert scenario.sample_data == upstream["sample_data"]
    assert scenario.spec == upstream["api_spec"]


def test_upstream_layout_and_missing_parts(awm_rows):
    full = parse_scenario(awm_rows["content_platform_1"])
    assert full.missing == ()
    assert len(full.upstream_tasks) == 10
    assert parse_scenario(awm_rows["e_commerce_33"]).missing == ("env",)
    assert parse_scenario(awm_rows["communication_messaging_1"]).missing == ("db", "spec")


def test_wrapper_keys_are_optional(awm_rows):
    upstream = awm_rows["content_platform_1"]
    wrapped = {
        "scenario": "content_platform_1",
        "env": upstream["full_code"],
        "db": json.dumps({"db_schema": upstream["db_schema"]}),
        "sample": {"sample_data": json.dumps(upstream["sample_data"])},
        "spec": {"api_spec": upstream["api_spec"]},
    }
    scenario = parse_scenario(wrapped)
    assert scenario.db_schema == upstream["db_schema"]
    assert scenario.sample_data == upstream["sample_data"]
    assert scenario.spec == upstream["api_spec"]


def test_name_column_is_accepted_and_same_content_same_hash(awm_rows):
    row = arcee_row(awm_rows["content_platform_1"], as_json=True)
    row["name"] = row.pop("scenario")
    a = parse_scenario(row)
    b = parse_scenario(arcee_row(awm_rows["content_platform_1"], as_json=False))
    assert a.name == "content_platform_1"
    assert a.data_hash == b.data_hash


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"scenario": None}, "scenario", "missing"),
        ({"scenario": 42}, "scenario", "non-empty string"),
        ({"db": "{not json"}, "db", "not valid JSON"),
        ({"db": "[1, 2]"}, "db", "expected a JSON object"),
        ({"db": {"tables": "nope"}}, "db.tables", "expected a list"),
        ({"db": {"tables": [{"name": "t"}]}}, "db.tables[0].ddl", "non-empty string"),
        ({"sample": {"tables": [{"table_name": "t", "insert_statements": [1]}]}}, "insert_statements[0]", "string"),
        ({"spec": {"api_groups": [{"endpoints": [{"path": "api/x", "method": "GET"}]}]}}, "endpoints[0].path", "start with '/'"),
        ({"spec": {"api_groups": [{"endpoints": [{"path": "/x", "method": "FETCH"}]}]}}, "endpoints[0].method", "FETCH"),
        (
            {"spec": {"api_groups": [{"endpoints": [{"path": "/x", "method": "GET", "request_params": {"a": {"param_type": "header"}}}]}]}},
            "request_params.a.param_type",
            "path, query or body",
        ),
        ({"env": 123}, "env", "must be a string"),
    ],
)
def test_garbled_fields_raise_one_clear_error(awm_rows, change, field, words):
    row = arcee_row(awm_rows["content_platform_1"], as_json=True)
    row.update(change)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(row)
    message = str(info.value)
    assert field in message and words in message
    if change.get("scenario", "x") not in (None, 42):
        assert "content_platform_1" in message


def test_empty_parts_count_as_missing(awm_rows):
    row = arcee_row(awm_rows["content_platform_1"], as_json=True)
    row.update(env="  ", spec="", db=None)
    assert parse_scenario(row).missing == ("env", "db", "spec")


def test_to_row_round_trips(awm_rows):
    scenario = parse_scenario(awm_rows["content_platform_1"])
    again = parse_scenario(scenario.to_row())
    assert (again.name, again.code, again.db_schema, again.sample_data, again.spec) == (
        scenario.name, scenario.code, scenario.db_schema, scenario.sample_data, scenario.spec,
    )  # fmt: skip


def test_rows_that_are_not_mappings():
    with pytest.raises(ScenarioError, match="expected a mapping"):
        parse_scenario(["not", "a", "row"])  # type: ignore[arg-type]
