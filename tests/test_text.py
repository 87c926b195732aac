"""`awm_ray.text.clean_json`: every string of a JSON value cleaned, at any depth json can read."""

from __future__ import annotations

import json

from awm_ray.text import REPLACEMENT, clean_json, dumps, lone_surrogate, non_finite


def test_every_string_is_cleaned_keys_too_and_the_rest_kept():
    value = {"a\ud800": ["x\udfff", 1, 2.5, None, True, ("t\ud83d", {"k": "v"})], "b": {}, "c": []}
    cleaned = clean_json(value)
    assert cleaned == {f"a{REPLACEMENT}": [f"x{REPLACEMENT}", 1, 2.5, None, True, [f"t{REPLACEMENT}", {"k": "v"}]],
                       "b": {}, "c": []}  # fmt: skip
    assert list(cleaned) == [f"a{REPLACEMENT}", "b", "c"]  # key order kept
    assert value["a\ud800"][0] == "x\udfff"  # a copy: the original is untouched
    assert clean_json("s\ud800") == f"s{REPLACEMENT}" and clean_json(7) == 7 and clean_json(None) is None


def test_of_two_keys_that_clean_alike_the_later_wins_as_in_a_dict_literal():
    assert clean_json({"k\ud800": 1, "k\ud801": 2, "z": 3}) == {f"k{REPLACEMENT}": 2, "z": 3}


def test_values_nested_as_deep_as_json_reads_are_cleaned():
    """A recursive walk failed at about half the depth `json.loads` accepts (a model reply 500 deep)."""
    depth = 950
    value = json.loads("[" * depth + '"deep\\ud800"' + "]" * depth)
    cleaned = clean_json(value)
    inner = cleaned
    for _ in range(depth):
        (inner,) = inner
    assert inner == f"deep{REPLACEMENT}"
    assert json.loads(dumps(value)) == cleaned


def test_lone_surrogates_and_non_finite_numbers_are_found_at_any_depth_json_reads():
    """Both walks share one that does not recurse (a recursive `lone_surrogate` failed near 1,000 deep)."""
    depth = 950
    assert lone_surrogate(json.loads("[" * depth + '"a\\ud800"' + "]" * depth)) == "'\\ud800' at position 1"
    assert non_finite(json.loads('{"k": ' + "[" * depth + "NaN" + "]" * depth + "}")) == "NaN at 'k" + "[0]" * depth + "'"
    # document order, a key before its value; a key never counts as a number
    assert lone_surrogate({"a": ["x", {"k\ud801": "v\ud800"}]}) == "'\\ud801' at position 1"
    assert non_finite({float("nan"): 1, ".x": [1, {"y": float("-inf")}]}) == "-Infinity at '.x[1].y'"
