"""scripts/bench/compare.py: the before/after check of a benchmark move (key sets and target verdicts)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_compare", REPO / "scripts" / "bench" / "compare.py")
compare_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_module)

RUN = {
    "lease_ms": {"p50": 3.1, "p95": 4.0},
    "targets": {"lease_ms.p50 <= 5": True, "reset_speedup >= 100": True},
    "extra": {"runs": [{"episodes_per_s": 50.0}], "profile": {"by_package_ms": {"ray": 1.0}}},
}


def write(path: Path, data: dict) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_same_keys_and_verdicts_pass_whatever_the_numbers_and_profile_packages(tmp_path, capsys):
    after = json.loads(json.dumps(RUN))
    after["lease_ms"]["p50"] = 4.9
    after["extra"]["runs"] *= 3
    after["extra"]["profile"]["by_package_ms"] = {"awm_ray": 2.0, "stdlib/other": 1.0}
    assert compare_module.main([write(tmp_path / "a.json", RUN), write(tmp_path / "b.json", after)]) == 0
    assert "FLIPPED" not in capsys.readouterr().out


def test_a_missing_section_and_a_flipped_verdict_fail(tmp_path, capsys):
    after = json.loads(json.dumps(RUN))
    del after["extra"]["profile"]
    after["extra"]["error"] = "RuntimeError: boom"
    after["targets"]["lease_ms.p50 <= 5"] = False
    assert compare_module.main([write(tmp_path / "a.json", RUN), write(tmp_path / "b.json", after)]) == 1
    out = capsys.readouterr().out
    assert "only before: extra.profile (and 1 keys under it)" in out
    assert "only after:  extra.error" in out
    assert "FLIPPED  MET -> MISS lease_ms.p50 <= 5" in out
