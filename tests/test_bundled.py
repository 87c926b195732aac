"""The bundled scenarios: in sync with their sources, and covering what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from awm_ray.loading import load_scenarios
from awm_ray.scenario import tools_from_spec
from awm_ray.scenario.tools import iter_endpoints

REPO = Path(__file__).resolve().parents[1]


def test_bundled_jsonl_matches_its_sources():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_bundled.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bundled_scenarios_cover_every_feature():
    scenarios = list(load_scenarios("bundled"))
    assert len(scenarios) >= 4
    methods, locations, types = set(), set(), set()
    array_query = False
    for scenario in scenarios:
        for endpoint in iter_endpoints(scenario.spec):
            methods.add(endpoint["method"])
            for param in endpoint["request_params"].values():
                locations.add(param["param_type"])
                types.add(param["type"])
                array_query |= param["type"] == "array" and param["param_type"] == "query"
        assert "user_id = 1" in scenario.code and 'os.getenv("DATABASE_PATH"' in scenario.code
        tools_from_spec(scenario.spec)
    assert methods >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert locations == {"path", "query", "body"}
    assert types >= {"string", "integer", "float", "boolean", "array"}
    assert array_query
    inserts = [s for sc in scenarios for t in sc.sample_data["tables"] for s in t["insert_statements"]]
    assert sum("datetime('now'," in s for s in inserts) >= 20
    assert any("\\'" in s for s in inserts)
