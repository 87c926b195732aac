"""Flags, configs and paths checked before any work starts (FRONT_DOOR.md F8, F9, F10, F15).

Each bad input is refused with one `error: ...` line (or click's usage error) and exit code 2, in
well under the time any work would take: no farm, no Ray, no validation is started.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import ray

from awm_ray.cli import main
from awm_ray.loading import load_scenarios


def refused(capsys, *argv: str) -> str:
    """Run `awm-ray argv`; assert exit code 2, quickly and without starting Ray; the printed text."""
    started = time.monotonic()
    assert main(list(argv)) == 2
    assert time.monotonic() - started < 20 and not ray.is_initialized()
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "--concurrency", "0"], ["eval", "--max-turns", "0"], ["eval", "--num-examples", "-1"],
        ["eval", "--tasks-per-scenario", "0"], ["eval", "--rollouts-per-example", "0"], ["eval", "--chain-length", "0"],
        ["eval", "--max-scenarios", "0"], ["validate", "--concurrency", "0"], ["validate", "--max-scenarios", "-3"],
        ["farm", "up", "--prewarm", "-1"],
    ],
)  # fmt: skip
def test_every_numeric_flag_is_checked_before_work(capsys, argv):
    """F8: `--concurrency 0` spun a core forever; `--max-turns 0` / `--num-examples -1` ran and exited 0."""
    text = refused(capsys, *argv)
    assert argv[-2] in text and ("range" in text or ">=" in text), text


def test_a_filter_that_matches_nothing_and_nothing_to_do_are_errors(capsys, tmp_path):
    text = refused(capsys, "eval", "--filter", "no_such_scenario*", "--out", str(tmp_path / "run"))
    assert "error: dataset 'bundled': no scenario matches the filter 'no_such_scenario*'" in text
    text = refused(capsys, "validate", "--filter", "nope")
    assert "no scenario matches the filter 'nope'" in text
    text = refused(capsys, "farm", "up", "--filter", "nope", "--port", "0")  # F15: a farm of nothing
    assert "no scenario matches the filter 'nope'" in text
    rows = []
    for scenario in load_scenarios("bundled"):  # scenarios, but no task to play: no val_report, no own tasks
        row = scenario.to_row()
        row.update(val_report=None, tasks=None, verifiers=None, solutions=None)
        rows.append(row)
    data = tmp_path / "untasked.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = refused(capsys, "eval", "--dataset", str(data), "--out", str(tmp_path / "run2"))
    assert "nothing to evaluate: none of the 4 scenario(s) gave a task" in text and "has no val_report" in text
    assert "awm-ray validate" in text  # and it says what to run


def test_config_errors_are_one_line(capsys, tmp_path):
    """F9 (first half): invalid YAML, unknown fields and values out of range: one line each, exit 2."""
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("hosting:\n  backend: inprocess\n    start_timeout_s: [1, 2\n")
    text = refused(capsys, "validate", "--config", str(bad_yaml))
    assert text.startswith(f"error: {bad_yaml}: not valid YAML:") and "line 3" in text and text.count("\n") == 1
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("hosting:\n  start_timeout_s: -1\n  colour: blue\n")
    text = refused(capsys, "validate", "--config", str(wrong))
    assert "hosting.start_timeout_s: Input should be greater than 0 (got -1)" in text
    assert "hosting.colour: Extra inputs are not permitted" in text and text.count("\n") == 1


def test_messages_are_printed_literally(capsys, tmp_path):
    """F15: the port-range message's `[low, high]` was eaten as rich markup."""
    config = tmp_path / "ports.yaml"
    config.write_text("hosting:\n  port_range: [70000, 1]\n")
    text = refused(capsys, "validate", "--config", str(config))
    assert "port_range must be [low, high] with 1024 <= low <= high <= 65535" in text


def test_output_paths_are_checked_before_work(capsys, tmp_path):
    """F10: `--out` that cannot be written ran the whole validation, then lost the report."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    text = refused(capsys, "validate", "--out", str(a_file / "report.json"))
    assert "--out" in text and "is not a directory" in text
    text = refused(capsys, "validate", "--out", "/proc/awm-ray/report.json")
    assert "--out" in text and "cannot create /proc/awm-ray/report.json: /proc is not writable" in " ".join(text.split())
    text = refused(capsys, "validate", "--write-dataset", str(a_file))
    assert "--write-dataset" in text and "not a directory" in text
    text = refused(capsys, "eval", "--out", str(a_file / "run"))
    assert "--out" in text and "is not a directory" in text
    assert not (tmp_path / "a_file.d").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_farm_status_without_a_farm_is_one_line(capsys):
    """F9 (second half): `farm status` on a Ray cluster that holds no farm (someone else's)."""
    info = ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False, namespace="other")
    try:
        assert main(["farm", "status", "--address", info.address_info["gcs_address"]]) == 2
    finally:
        ray.shutdown()
    text = capsys.readouterr().out
    assert text.startswith("error: no farm named 'awm-ray-farm'") and "pass --address, or --gateway" in text
    assert "Traceback" not in text


def test_a_good_output_path_is_created_only_by_the_work(tmp_path):
    from awm_ray.cli.options import check_writable

    target = tmp_path / "new" / "deeper" / "report.json"
    assert check_writable(target, directory=False) == target
    assert not (tmp_path / "new").exists()  # checked without side effects
    assert check_writable(Path("~").expanduser(), directory=True).is_dir()


@pytest.mark.parametrize("command", [("farm", "status"), ("mcp", "bookstore_1")])
def test_a_gateway_nobody_serves_or_a_bad_url_is_one_error_line(capsys, command):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = refused(capsys, *command, "--gateway", f"http://127.0.0.1:{port}")
    assert f"cannot reach the farm's gateway at http://127.0.0.1:{port}" in text and "Traceback" not in text
    text = refused(capsys, *command, "--gateway", "not-a-url")
    assert "the gateway URL must look like http://HOST:PORT" in text and "Traceback" not in text


@pytest.mark.parametrize("key", ["model", "messages", "tools", "stream", "n"])
def test_sampling_args_may_not_set_what_the_episode_owns(capsys, tmp_path, key):
    """--sampling-args '{"messages": ...}' replaced every conversation; '{"stream": true}' broke every row."""
    text = refused(capsys, "eval", "--sampling-args", json.dumps({key: True, "temperature": 0.2}), "--out", str(tmp_path / "run"))
    assert f"--sampling-args may not set {key!r}" in text


@pytest.mark.parametrize("value", ["[" * 100_000, '{"seed": ' + "9" * 5000 + "}", "{'temperature': 0.7}"])
def test_sampling_args_json_cannot_read_is_one_short_error(capsys, tmp_path, value):
    """Nested 100k deep or a 5,000-digit number was a RecursionError / ValueError traceback."""
    text = refused(capsys, "eval", "--sampling-args", value, "--out", str(tmp_path / "run"))
    assert "--sampling-args" in text and "not JSON" in text and "Traceback" not in text and len(text) < 1000, text[:2000]
