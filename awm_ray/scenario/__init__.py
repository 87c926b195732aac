"""The Scenario layer: pure parsing, tools, tasks and database building (no Ray, no processes)."""

from awm_ray.scenario.database import BuildReport, build_database, content_checksum, restore, schema_of
from awm_ray.scenario.model import Scenario, ScenarioError, parse_scenario
from awm_ray.scenario.native import NativeTask, Solution, ToolStep, Verifier, normalise_name
from awm_ray.scenario.openapi import spec_from_openapi, spec_mismatches
from awm_ray.scenario.tasks import Task, passed_operations, sample_tasks
from awm_ray.scenario.tools import HttpRequest, HttpResponse, Tool, ToolCallError, Toolset, tools_from_spec

__all__ = [
    "BuildReport",
    "HttpRequest",
    "HttpResponse",
    "NativeTask",
    "Scenario",
    "ScenarioError",
    "Solution",
    "Task",
    "Tool",
    "ToolCallError",
    "ToolStep",
    "Toolset",
    "Verifier",
    "build_database",
    "content_checksum",
    "parse_scenario",
    "normalise_name",
    "passed_operations",
    "restore",
    "sample_tasks",
    "schema_of",
    "spec_from_openapi",
    "spec_mismatches",
    "tools_from_spec",
]
