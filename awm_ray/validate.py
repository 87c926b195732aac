"""Validate scenarios: build the DB, host the app, call every endpoint on a fresh reset, and find
apps that keep state in memory across resets (`awm_ray.app_state`, the report's `app_state`).

The result per scenario is its `val_report` (schema in the README, "val_report"), the format the
task sampler reads. A scenario missing parts is validated as far as its parts allow. A scenario's
own tasks are checked too: each verifier runs once on the untouched database, in a sandbox
(`awm_ray.verification.validation`), and its status goes into the report's `tasks`.

With the in-process backend (and `hosting.preflight`), each scenario's endpoints are validated
inside a child of a `Sandbox` (`validate_job`): code that exits, kills its process, exhausts memory
or loops gets a "failed" report saying so, and the validator (the `awm-ray validate` process) goes on.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from awm_ray.app_state import check_app_state, keeps_state
from awm_ray.config import HostingConfig, VerificationConfig
from awm_ray.hosting import Backend, BackendError, InProcessBackend, Slot, SlotUnusable, TemplateStore, make_backend
from awm_ray.hosting.sandbox import DEFAULT_PRELOAD, Limits, Sandbox
from awm_ray.scenario import Scenario, ScenarioError, parse_scenario, schema_of, spec_from_openapi, spec_mismatches
from awm_ray.verification.runner import VerifierRunner
from awm_ray.verification.validation import check_tasks, summarize_tasks

log = logging.getLogger(__name__)

REPORT_FORMAT = "awm-ray/val_report/v1"
_ROUTING_MISSES = {(404, '{"detail":"Not Found"}'), (405, '{"detail":"Method Not Allowed"}')}


class Validator:
    """Validates scenarios one backend, one work directory; close() removes what it made.

    In-process validation runs in a sandbox (see the module doc) unless a `backend` is given or
    `hosting.preflight` is off.
    """

    def __init__(
        self,
        hosting: HostingConfig | None = None,
        backend: Backend | None = None,
        verification: VerificationConfig | None = None,
    ):
        self.hosting = hosting or HostingConfig()
        self.verification = verification or VerificationConfig()
        self._verifiers: VerifierRunner | None = None  # started by the first scenario with tasks
        self._own_root = self.hosting.workdir is None
        self.root = Path(tempfile.mkdtemp(prefix="awm-ray-validate-")) if self._own_root else Path(self.hosting.workdir)
        self.sandbox: Sandbox | None = None
        if backend is None and self.hosting.backend == "inprocess" and self.hosting.preflight:
            self.sandbox = Sandbox(preload=(*DEFAULT_PRELOAD, "awm_ray.validate"), root=self.root / "sandbox")
        # in-process, this backend only builds schemas from app code (after a sandboxed trial import)
        self.backend = backend or make_backend(self.hosting, root=self.root / "preflight")
        self.templates = TemplateStore(self.root / "templates", self.backend, self.hosting.start_timeout_s)
        self._count = 0
        self._completed: dict[str, Scenario] = {}

    def _new_report(self, scenario: Scenario) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "scenario": scenario.name,
            "status": "ok",
            "missing": list(scenario.missing),
            "notes": [],
            "backend": self.backend.name,
            "tool_source": None,
            "database": None,
            "spec_mismatches": [],
            "endpoints": [],
            "passed": 0,
            "failed": 0,
            "error": None,
            "tasks": [],
            "app_state": None,
        }

    async def validate(self, scenario: Scenario) -> dict[str, Any]:
        """The val_report of one scenario; never raises for the scenario's own faults."""
        started = time.perf_counter()
        if self.sandbox is not None:
            report = await self._validate_in_sandbox(scenario)
        else:
            report = await self._validate_here(scenario)
        if scenario.tasks:
            await self._validate_tasks(scenario, report)
        report["passed"] = sum(1 for e in report["endpoints"] if e["passed"])
        report["failed"] = len(report["endpoints"]) - report["passed"]
        report["seconds"] = round(time.perf_counter() - started, 3)
        report["validated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return report

    async def _validate_here(self, scenario: Scenario) -> dict[str, Any]:
        report = self._new_report(scenario)
        try:
            await self._validate_into(scenario, report)
        except (BackendError, ScenarioError, SlotUnusable) as exc:
            report["status"], report["error"] = "failed", str(exc)
        except Exception as exc:  # a bug of ours must not stop the other scenarios
            log.exception("validating %s crashed", scenario.name)
            report["status"], report["error"] = "failed", f"internal error: {type(exc).__name__}: {exc}"
        return report

    async def _validate_in_sandbox(self, scenario: Scenario) -> dict[str, Any]:
        """`_validate_here` in a sandbox child (`validate_job`); a child that dies is a failed report."""
        assert self.sandbox is not None
        hosting = self.hosting
        endpoints = sum(len(g.get("endpoints") or []) for g in (scenario.spec or {}).get("api_groups") or [])
        # every endpoint is called three times (first, after resets, on a second fresh app: see app_state)
        wall = hosting.start_timeout_s * 3 + hosting.call_timeout_s * (3 * max(endpoints, 40) + 2)
        limits = Limits(wall_s=wall, cpu_s=wall, memory_mb=hosting.import_memory_mb, network="loopback")
        row = {"scenario": scenario.name, "env": scenario.code, "db": scenario.db_schema,
               "sample": scenario.sample_data, "spec": scenario.spec}  # fmt: skip
        result = await self.sandbox.run(
            "awm_ray.validate:validate_job", {"row": row, "hosting": hosting.model_dump(mode="json")}, limits
        )
        if result.ok:
            for part, value in (result.value.get("completed") or {}).items():
                self._complete(scenario, **{part: value})
            return result.value["report"]
        report = self._new_report(scenario)
        name = scenario.name
        reasons = {
            "crashed": f"validating scenario {name!r} ended the process that hosted it (its code would take down "
            f"a farm worker): {result.message.removeprefix('the job ')}",
            "memory": f"scenario {name!r} ran out of memory (limit hosting.import_memory_mb = "
            f"{hosting.import_memory_mb} MB): {result.message}",
            "timeout": f"validating scenario {name!r} did not finish within {wall:g} s (it hangs)",
            "cpu": f"validating scenario {name!r} used its {wall:g} s of CPU time (it spins)",
        }
        report["status"] = "failed"
        report["error"] = reasons.get(result.error or "", f"validating scenario {name!r} failed: {result.message}")
        return report

    async def _validate_into(self, scenario: Scenario, report: dict[str, Any]) -> None:
        if scenario.db_schema is None and scenario.code is None:
            report["status"], report["error"] = "incomplete", "no db schema and no server code: nothing to build or host"
            return
        template = await self.templates.get(scenario)
        report["database"] = template.report.to_dict()
        if template.report.schema_from_app:
            report["notes"].append("no db schema: tables created by the app's own ORM")
            self._complete(scenario, db_schema=schema_of(template.path))
        if scenario.code is None:
            report["status"], report["error"] = "incomplete", "no server code (env): database built, endpoints not checked"
            return
        slot = await self._start_slot(scenario, template)
        first: dict[str, str] = {}  # what each tool answered on this fresh app
        try:
            assert slot.app is not None and slot.tools is not None
            report["tool_source"] = slot.tool_source
            if scenario.spec is None:
                report["notes"].append("no spec: tools taken from the app's OpenAPI document")
                self._complete(scenario, spec=slot.spec)
            else:
                app_spec = spec_from_openapi(await slot.app.openapi())
                report["spec_mismatches"] = spec_mismatches(scenario.spec, app_spec)
            for tool in slot.tools.values():
                await slot.reset()
                result = await slot.call(tool.name, tool.example_arguments())
                body = result.text.split("\n", 1)[1] if "\n" in result.text else ""
                routing_miss = (result.status, body.strip()) in _ROUTING_MISSES
                error = result.error or (None if result.ok else f"HTTP {result.status}")
                if routing_miss:
                    error = f"routing {result.status}: the app has no route for {tool.method} {tool.path}"
                report["endpoints"].append(
                    {
                        "operation_id": tool.operation_id,
                        "tool": tool.name,
                        "method": tool.method,
                        "path": tool.path,
                        "status": result.status,
                        "passed": result.ok,
                        "error": error,
                        "detail": None if result.ok else result.text[:300],
                        "latency_ms": round(result.elapsed_ms, 2),
                    }
                )
                first[tool.name] = result.text
                if result.error == "server_gone":
                    report["status"], report["error"] = "failed", "the server died during validation"
                    break
            await slot.reset()
            if report["status"] == "ok":
                report["app_state"] = await check_app_state(
                    first, lambda: _call_all(slot), lambda: self._on_fresh_slot(scenario, template)
                )
                await slot.reset()
        finally:
            await slot.close()

    async def _start_slot(self, scenario: Scenario, template: Any) -> Slot:
        self._count += 1
        slot = Slot(
            scenario, self.backend, template, self.root / "slots" / f"{self._count:06d}",
            self.hosting.call_timeout_s, self.hosting.max_response_chars, self.hosting.max_argument_bytes,
        )  # fmt: skip
        return await slot.start()

    async def _on_fresh_slot(self, scenario: Scenario, template: Any) -> dict[str, str]:
        """Every endpoint's answer on a second fresh app (see `awm_ray.app_state`)."""
        slot = await self._start_slot(scenario, template)
        try:
            return await _call_all(slot)
        finally:
            await slot.close()

    async def _validate_tasks(self, scenario: Scenario, report: dict[str, Any]) -> None:
        """Each task's verifiers on the untouched template (`awm_ray.verification.validation`)."""
        try:
            template = await self.templates.get(scenario)
        except (BackendError, ScenarioError) as exc:
            report["notes"].append(f"tasks not checked: no database to check them on ({exc})")
            return
        if self._verifiers is None:
            self._verifiers = VerifierRunner(self.verification)
        report["tasks"] = await check_tasks(self._verifiers, scenario, template.path)

    def _complete(self, scenario: Scenario, **parts: Any) -> None:
        """Remember a part derived from the app (its ORM schema, its OpenAPI spec) for `completed()`."""
        base = self._completed.get(scenario.name, scenario)
        self._completed[scenario.name] = replace(base, **parts)

    def completed(self, scenario: Scenario) -> Scenario:
        """The scenario with the parts its app supplied: what `--write-dataset` writes back."""
        return self._completed.pop(scenario.name, scenario)

    async def validate_many(self, scenarios: Iterable[Scenario], concurrency: int = 2) -> AsyncIterator[tuple[Scenario, dict]]:
        """Validate a stream of scenarios, `concurrency` at a time, yielding in input order.

        The scenario yielded carries the parts its app supplied (see `completed`)."""
        window: collections.deque[tuple[Scenario, asyncio.Task]] = collections.deque()
        try:
            for scenario in scenarios:
                window.append((scenario, asyncio.ensure_future(self.validate(scenario))))
                if len(window) >= max(1, concurrency):
                    done, task = window.popleft()
                    report = await task
                    yield self.completed(done), report
            while window:
                done, task = window.popleft()
                report = await task
                yield self.completed(done), report
        finally:
            for _, task in window:
                task.cancel()
            if window:
                await asyncio.gather(*(t for _, t in window), return_exceptions=True)

    def close(self) -> None:
        if self._verifiers is not None:
            self._verifiers.close_now()
        if self.sandbox is not None:
            self.sandbox.close_now()
        self.backend.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


async def _call_all(slot: Slot) -> dict[str, str]:
    """Each tool called once with its example arguments, each call after a reset: the texts by tool."""
    assert slot.tools is not None
    answers = {}
    for tool in slot.tools.values():
        await slot.reset()
        answers[tool.name] = (await slot.call(tool.name, tool.example_arguments())).text
    return answers


def validate_job(row: dict[str, Any], hosting: dict[str, Any]) -> dict[str, Any]:
    """Sandbox job: the val_report of one scenario's endpoints (an arcee row), validated in-process here.

    Returns {"report": val_report, "completed": {part: value}} (parts the app supplied).
    """
    scenario = parse_scenario(row)
    config = HostingConfig.model_validate({**hosting, "preflight": False, "workdir": None})

    async def main() -> dict[str, Any]:
        validator = Validator(config, InProcessBackend(config.start_timeout_s))
        try:
            report = await validator._validate_here(scenario)
            done = validator.completed(scenario)
            parts = {p: getattr(done, p) for p in ("db_schema", "spec") if getattr(done, p) is not getattr(scenario, p)}
            return {"report": report, "completed": parts}
        finally:
            validator.close()

    return asyncio.run(main())


def summarize(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Totals over many val_reports: scenarios by status, endpoints passed/failed, failure reasons,
    and the scenarios' own tasks by verifier mode and status (`tasks`)."""
    reports = list(reports)
    scenarios: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    passed = failed = db_failures = mismatches = 0
    missing: dict[str, list[str]] = {}
    stateful: list[str] = []
    for r in reports:
        scenarios[r["status"]] += 1
        passed += r["passed"]
        failed += r["failed"]
        db_failures += len((r.get("database") or {}).get("failures") or [])
        mismatches += len(r.get("spec_mismatches") or [])
        if r.get("missing"):
            missing[r["scenario"]] = r["missing"]
        if r.get("error"):
            reasons[f"scenario: {r['error'].splitlines()[0][:100]}"] += 1
        for e in r["endpoints"]:
            if not e["passed"]:
                reasons[(e["error"] or "failed").split(":")[0]] += 1
        if keeps_state(r):
            stateful.append(r["scenario"])
    return {
        "scenarios": sum(scenarios.values()),
        "scenarios_by_status": dict(scenarios),
        "endpoints_passed": passed,
        "endpoints_failed": failed,
        "db_statement_failures": db_failures,
        "spec_mismatches": mismatches,
        "missing_parts": missing,
        "failure_reasons": dict(reasons.most_common()),
        "apps_keeping_state": stateful,  # given a fresh app for every episode (hosting.fresh_app: auto)
        "tasks": summarize_tasks(reports),
    }
