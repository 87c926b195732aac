"""Template databases: built once per scenario content per process, then copied for every slot.

Built per run, not cached across runs: AWM inserts use `datetime('now', ...)`, so every episode of
a run sees the same data, and a new run sees dates relative to its own start.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from awm_ray.hosting.backend import Backend
from awm_ray.scenario import BuildReport, Scenario, ScenarioError, build_database, content_checksum

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Template:
    """A pristine, read-only database file, its content checksum, and how it was built."""

    path: Path
    checksum: str
    report: BuildReport


class TemplateStore:
    """Builds and caches templates under `root`, keyed by the scenario's data hash."""

    def __init__(self, root: Path, backend: Backend, schema_timeout_s: float = 30.0):
        self.root = Path(root)
        self.backend = backend
        self.schema_timeout_s = schema_timeout_s
        self._templates: dict[str, Template] = {}
        self._building: dict[str, asyncio.Lock] = {}
        self.statements_failed = 0  # over every template built: what failed is in each one's report

    async def get(self, scenario: Scenario) -> Template:
        key = scenario.data_hash if scenario.db_schema is not None else f"{scenario.data_hash}-{scenario.code_hash}"
        if key in self._templates:
            return self._templates[key]
        lock = self._building.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._templates:
                self._templates[key] = await self._build(scenario, key)
        return self._templates[key]

    async def _build(self, scenario: Scenario, key: str) -> Template:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{key}.db"
        path.unlink(missing_ok=True)
        report = BuildReport()
        if scenario.db_schema is None:
            if scenario.code is None:
                raise ScenarioError(scenario.name, "db", "no schema, and no server code whose ORM could create one")
            await self.backend.create_schema(scenario, path, self.root / f"{key}-schema", self.schema_timeout_s)
            report.schema_from_app = True
        await asyncio.to_thread(build_database, path, scenario.db_schema, scenario.sample_data, report)
        self.statements_failed += len(report.failures)
        if report.failures:
            log.warning(
                "scenario %s: %d of %d statements failed while building its database",
                scenario.name, len(report.failures), report.statements,
            )  # fmt: skip
        path.chmod(0o444)
        return Template(path, await asyncio.to_thread(content_checksum, path), report)
