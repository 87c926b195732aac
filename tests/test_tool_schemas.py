"""Every tool schema of every bundled, real and synthetic scenario, built from its spec and from its
app's own OpenAPI document, against OpenAI's published function-calling rules (case 8 of
`../shared/cases/README.md`), in strict mode too wherever the schema has a strict form.

The rules, from OpenAI's documentation ("Function calling" and "Structured Outputs: supported
schemas", platform.openai.com/docs/guides/function-calling, /structured-outputs#supported-schemas)
and the 400 errors its API answers ("Invalid schema for function 'f': In context=('properties',
'x'), array schema missing items"; "'examples' is not permitted" in strict mode):

- a function name is 1-64 characters of a-z, A-Z, 0-9, `_` and `-`, unique among the tools;
- `parameters` is a JSON Schema whose root is `type: object`;
- every schema whose type is (or includes) `array` has `items`, a schema, at every depth; types
  are JSON Schema's; `required` names declared properties; an `enum` is a non-empty list;
strict mode (`"strict": true`) further:
- the root is an object, not `anyOf`; every object has `properties`, `additionalProperties: false`
  and lists every property in `required` (optional values are nullable: `["string", "null"]`);
- every schema has a `type` (or is an `anyOf` / `enum` / `const`), and only the supported keywords
  appear (type, properties, required, additionalProperties, items, enum, const, anyOf, description,
  title, $ref, $defs, pattern, format, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
  multipleOf, minItems, maxItems): never `examples`, `default`, `allOf`, `not`, `if`/`then`/`else`,
  `dependentRequired`, `dependentSchemas`, `patternProperties`, `propertyNames`, ...;
- at most 10 levels of nesting, 5,000 properties, 1,000 enum values, 120,000 characters of
  property names and enum values.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from awm_ray.loading import load_scenarios
from awm_ray.scenario import Scenario, spec_from_openapi, tools_from_spec
from awm_ray.scenario.schemas import normalize, strict_form
from modelkit import QA_DATASET

REPO = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
STRICT_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "description",
    "title", "$ref", "$defs", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minItems", "maxItems",
}  # fmt: skip
STRICT_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
META_SCHEMA = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA)  # 2020-12's is ~6x slower
OPENAPI_SYNTHETIC = 6  # synthetic scenarios whose app's own OpenAPI document is checked too


def function_problems(definition: dict[str, Any], strict: bool = False) -> list[str]:
    """What OpenAI would refuse in one function definition (`{"name", "description", "parameters"}`)."""
    problems = []
    if not NAME.match(definition.get("name") or ""):
        problems.append(f"name {definition.get('name')!r} is not 1-64 of [a-zA-Z0-9_-]")
    parameters = definition.get("parameters")
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        return [*problems, "parameters is not an object schema"]
    error = jsonschema.exceptions.best_match(META_SCHEMA.iter_errors(parameters))
    if error is not None:
        problems.append(f"not a JSON Schema: {error.message}")
    if strict and "anyOf" in parameters:
        problems.append("strict: the root is anyOf")
    counts = {"properties": 0, "enum": 0, "chars": 0}
    for path, schema, depth in _walk(parameters):
        problems += [f"{path}: {p}" for p in _schema_problems(schema, strict, depth, counts)]
    if strict and counts["properties"] > 5000:
        problems.append(f"strict: {counts['properties']} properties (at most 5000)")
    if strict and counts["enum"] > 1000:
        problems.append(f"strict: {counts['enum']} enum values (at most 1000)")
    if strict and counts["chars"] > 120_000:
        problems.append(f"strict: {counts['chars']} characters of names and enum values (at most 120000)")
    return problems


def _walk(schema: Any, path: str = "parameters", depth: int = 0) -> Iterator[tuple[str, dict, int]]:
    if not isinstance(schema, dict):
        return
    yield path, schema, depth
    for name, sub in (schema.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.properties.{name}", depth + 1)
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], f"{path}.items", depth + 1)
    for key in SUBSCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key) or []):
            yield from _walk(sub, f"{path}.{key}[{index}]", depth)
    for name, sub in (schema.get("$defs") or {}).items():
        yield from _walk(sub, f"{path}.$defs.{name}", 0)


def _schema_problems(schema: dict, strict: bool, depth: int, counts: dict[str, int]) -> list[str]:
    problems = []
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [] if kinds is None else [kinds]
    if not set(kinds) <= JSON_TYPES:
        problems.append(f"type {kinds} is not a JSON Schema type")
    if "array" in kinds and not isinstance(schema.get("items"), dict):
        problems.append("array schema missing items")
    if "prefixItems" in schema:
        problems.append("prefixItems is not supported")
    properties = schema.get("properties") or {}
    if not set(schema.get("required") or []) <= set(properties):
        problems.append(f"required {schema.get('required')} names undeclared properties")
    if "enum" in schema and (not isinstance(schema["enum"], list) or not schema["enum"]):
        problems.append("enum is not a non-empty list")
    if not strict:
        return problems
    counts["properties"] += len(properties)
    counts["enum"] += len(schema.get("enum") or [])
    counts["chars"] += sum(len(k) for k in properties) + sum(len(str(v)) for v in schema.get("enum") or [])
    if depth > 10:
        problems.append("strict: more than 10 levels of nesting")
    unknown = set(schema) - STRICT_KEYWORDS
    if unknown:
        problems.append(f"strict: {sorted(unknown)} not permitted")
    if not kinds and not {"anyOf", "enum", "const", "$ref"} & set(schema):
        problems.append("strict: a schema without a type")
    if "object" in kinds:
        if schema.get("additionalProperties") is not False:
            problems.append("strict: additionalProperties must be false")
        if "properties" not in schema:
            problems.append("strict: an object without properties")
        if list(schema.get("required") or []) != list(properties):
            problems.append("strict: every property must be required")
    if schema.get("format") is not None and schema["format"] not in STRICT_FORMATS:
        problems.append(f"strict: format {schema['format']!r} is not supported")
    return problems


# ---- the rules themselves: each one catches what it is for ---------------------------------------


def test_the_rules_catch_what_openai_refuses():
    def parameters(**properties: Any) -> dict[str, Any]:
        return {"name": "f", "parameters": {"type": "object", "properties": properties, "required": list(properties),
                                            "additionalProperties": False}}  # fmt: skip

    assert function_problems(parameters(matrix={"type": "array", "items": {"type": "array"}})) == [
        "parameters.properties.matrix.items: array schema missing items"
    ]  # case 8 as it was
    assert function_problems(parameters(x={"type": ["string", "array"]}))
    assert function_problems({"name": "bad name!", "parameters": {"type": "object", "properties": {}}})
    assert function_problems({"name": "f", "parameters": {"type": "array", "items": {"type": "string"}}})
    assert function_problems(parameters(x={"type": "float"}))
    strict_only = parameters(x={"type": "string", "examples": ["a"]})
    assert function_problems(strict_only) == [] and function_problems(strict_only, strict=True)
    open_object = {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}
    assert function_problems(open_object) == [] and len(function_problems(open_object, strict=True)) == 2
    assert function_problems(parameters(x={"type": "object"}), strict=True)  # a free-form object
    assert function_problems(parameters(x={"description": "anything"}), strict=True)  # untyped


# ---- every tool of every scenario we ship or test on --------------------------------------------


def scenario_sets() -> dict[str, list[Scenario]]:
    from awm_ray import synthetic

    with tempfile.TemporaryDirectory() as tmp:
        synthetic.write_dataset(40, 7, Path(tmp))
        synthetic_scenarios = list(load_scenarios(tmp))
    return {
        "bundled": list(load_scenarios("bundled")),
        "awm_samples": list(load_scenarios(str(REPO.parent / "shared" / "awm_samples"))),
        "qa_dataset": list(load_scenarios(str(QA_DATASET))),
        "synthetic": synthetic_scenarios,
    }


@pytest.fixture(scope="module")
def scenarios() -> dict[str, list[Scenario]]:
    return scenario_sets()


def openapi_of(scenario: Scenario, workdir: Path) -> dict[str, Any] | None:
    """The app's own OpenAPI document (its module imported here over an empty DB), or None if it has no app."""
    from awm_ray.hosting.backend import ServerStartError
    from awm_ray.hosting.inprocess_backend import dispose_module, import_app_module

    if scenario.code is None:
        return None
    try:
        module = import_app_module(scenario, workdir / f"{scenario.name}.db")
    except ServerStartError:
        return None  # qa_broken_1: fails at import on purpose
    try:
        return module.app.openapi()
    finally:
        dispose_module(module)


def test_every_tool_schema_is_accepted(scenarios, tmp_path):
    checked = {"spec": 0, "openapi": 0, "strict": 0, "no_strict_form": 0}
    failures = []
    for source, found in scenarios.items():
        assert found, f"no {source} scenario loaded"
        for scenario in found:
            toolsets = {"spec": tools_from_spec(scenario.spec)} if scenario.spec else {}
            # the apps' own documents: every one, but a sample of the synthetic ones (each import costs ~1 s here)
            document = openapi_of(scenario, tmp_path) if source != "synthetic" or len(toolsets) < 1 or \
                found.index(scenario) < OPENAPI_SYNTHETIC else None
            if document is not None:
                toolsets["openapi"] = tools_from_spec(spec_from_openapi(document))
            for origin, tools in toolsets.items():
                names = [t.name for t in tools.values()]
                assert len(names) == len(set(names)), f"{scenario.name}: tool names repeat"
                for tool in tools.values():
                    checked[origin] += 1
                    where = f"{source}/{scenario.name} ({origin}) {tool.name}"
                    failures += [f"{where}: {p}" for p in function_problems(tool.definition())]
                    strict = tool.definition(strict=True)
                    if strict.get("strict"):
                        checked["strict"] += 1
                        failures += [f"{where} strict: {p}" for p in function_problems(strict, strict=True)]
                    else:
                        checked["no_strict_form"] += 1
    assert not failures, "\n".join(failures[:30])
    assert checked["spec"] > 500 and checked["openapi"] > 100 and checked["strict"] > 300, checked


def test_case_8_nested_arrays_and_arrays_of_objects(scenarios):
    (notes,) = [s for s in scenarios["qa_dataset"] if s.name == "qa_notes_1"]
    create = tools_from_spec(notes.spec)["create_note"]
    assert create.parameters["properties"]["matrix"]["items"] == {"type": "array", "items": {"type": "integer"}}
    assert "items" in create.parameters["properties"]["tags"]  # no example: any scalar
    spec = {"api_groups": [{"endpoints": [{"path": "/o", "method": "POST", "operation_id": "order", "request_params": {
        "lines": {"type": "array", "param_type": "body", "example": [{"sku": "a1", "qty": 2}, {"sku": "b2", "qty": 1.5}]},
        "size": {"type": "string", "param_type": "body", "enum": ["S", "M", 3], "required": True},
    }}]}]}  # fmt: skip
    order = tools_from_spec(spec)["order"]
    lines = order.parameters["properties"]["lines"]["items"]
    assert lines == {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}} or lines[
        "properties"]["qty"]["type"] in ("integer", "number")  # fmt: skip
    assert order.parameters["properties"]["size"]["enum"] == ["S", "M"]
    strict = order.strict_parameters
    assert strict["properties"]["lines"]["type"] == ["array", "null"]  # optional: nullable in strict form
    assert strict["properties"]["lines"]["items"]["additionalProperties"] is False
    assert order.request('{"lines": [{"sku": "a1", "qty": 2}], "size": "S"}').json["lines"] == [{"sku": "a1", "qty": 2}]


def test_openapi_shapes_keep_their_depth():
    document = {
        "paths": {"/x": {"post": {"operationId": "make", "requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/In"}}}}}}},
        "components": {"schemas": {
            "In": {"type": "object", "required": ["rows"], "properties": {
                "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                "grid": {"anyOf": [{"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                                   {"type": "null"}]},
                "kind": {"anyOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "null"}]},
                "anything": {"type": "array", "items": {}}}},
            "Row": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer"}, "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}}},
            "Kind": {"type": "string", "enum": ["a", "b"]}}},
    }  # fmt: skip
    tool = tools_from_spec(spec_from_openapi(document))["make"]
    properties = tool.parameters["properties"]
    assert properties["rows"]["items"]["properties"]["note"]["type"] == ["string", "null"]
    assert properties["rows"]["items"]["required"] == ["id"]
    assert properties["grid"]["items"] == {"type": "array", "items": {"type": "number"}}
    assert properties["kind"]["enum"] == ["a", "b"] and properties["anything"]["items"]["anyOf"]
    assert function_problems(tool.definition()) == []
    assert function_problems(tool.definition(strict=True), strict=True) == []
    assert normalize(normalize(properties["rows"])) == normalize(properties["rows"])  # stable
    assert strict_form({"type": "object"}) is None
