"""Spec → tools, and tool calls → HTTP requests, with clear errors for every bad call."""

import json
from urllib.parse import unquote

import jsonschema
import pytest

from awm_ray.loading import load_scenarios
from awm_ray.scenario import HttpResponse, ToolCallError, parse_scenario, spec_from_openapi, tools_from_spec

SPEC = {
    "api_groups": [
        {
            "group_name": "items",
            "endpoints": [
                {
                    "path": "/api/items/{item_id}",
                    "method": "put",
                    "summary": "Replace an item",
                    "description": "Replace an item's name, price and tags.",
                    "operation_id": "replace_item",
                    "request_params": {
                        "item_id": {"type": "string", "param_type": "path", "required": True, "example": "a1"},
                        "price": {"type": "float", "param_type": "body", "required": True, "example": 9.5},
                        "count": {"type": "integer", "param_type": "body", "required": False, "example": 2},
                        "tags": {"type": "array", "param_type": "body", "required": False, "example": ["x", "y"]},
                        "on_sale": {"type": "boolean", "param_type": "body", "required": False, "example": True},
                        "meta": {"type": "object", "param_type": "body", "required": False},
                    },
                },
                {
                    "path": "/api/items",
                    "method": "GET",
                    "summary": "Search items",
                    "operation_id": "search items!",
                    "request_params": {
                        "q": {"type": "string", "param_type": "query", "required": True, "example": "lamp"},
                        "ids": {"type": "array", "param_type": "query", "required": False, "example": [1, 2]},
                        "in_stock": {"type": "boolean", "param_type": "query", "required": False},
                    },
                },
                {"path": "/api/items/{item_id}", "method": "DELETE", "operation_id": "replace_item", "request_params": {}},
            ],
        }
    ]
}


@pytest.fixture()
def tools():
    return tools_from_spec(SPEC)


def test_names_are_valid_unique_and_keep_their_operation_id(tools):
    assert list(tools) == ["replace_item", "search_items", "replace_item_2"]
    assert tools["search_items"].operation_id == "search items!"
    assert tools["replace_item_2"].method == "DELETE"
    # a path placeholder the spec did not list is still a required argument
    assert tools["replace_item_2"].parameters["required"] == ["item_id"]


def test_parameter_schema(tools):
    definition = tools["replace_item"].definition()
    assert definition["name"] == "replace_item"
    assert definition["description"] == "Replace an item. Replace an item's name, price and tags."
    props = definition["parameters"]["properties"]
    assert props["price"] == {"type": "number", "examples": [9.5]}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "examples": [["x", "y"]]}
    assert props["on_sale"]["type"] == "boolean"
    assert props["meta"] == {"type": "object"}
    assert definition["parameters"]["required"] == ["item_id", "price"]
    assert tools["search_items"].parameters["properties"]["ids"]["items"] == {"type": "integer"}
    jsonschema.Draft202012Validator.check_schema(definition["parameters"])


def test_call_becomes_request(tools):
    request = tools.request("replace_item", '{"item_id": "a1", "price": "9.5", "count": "3", "tags": ["x"], "on_sale": "true"}')
    assert (request.method, request.path) == ("PUT", "/api/items/a1")
    assert request.json == {"price": 9.5, "count": 3, "tags": ["x"], "on_sale": True}
    assert request.query == ()
    query = tools.request("search_items", {"q": "desk lamp", "ids": [1, 2], "in_stock": False}).query
    assert query == (("q", "desk lamp"), ("ids", "1"), ("ids", "2"), ("in_stock", "false"))
    assert tools.request("search_items", '{"q": "x", "in_stock": null}').query == (("q", "x"),)


@pytest.mark.parametrize("value", ["../admin", "a/b", "..", ".", "%2e%2e", "a b?c#d", "x\\y", "ü"])
def test_path_parameters_cannot_escape_their_segment(tools, value):
    try:
        request = tools.request("replace_item", {"item_id": value, "price": 1})
    except ToolCallError as exc:
        assert "URL path" in str(exc)
        return
    prefix = "/api/items/"
    assert request.path.startswith(prefix)
    segment = request.path[len(prefix):]
    assert "/" not in segment and "?" not in segment and "#" not in segment and " " not in segment
    assert unquote(segment) == value


@pytest.mark.parametrize(
    ("name", "arguments", "words"),
    [
        ("replace_item", "{", "not valid JSON"),
        ("replace_item", '{"item_id": ' + "[" * 10_000 + "]" * 10_000 + "}", "not valid JSON (arrays/objects nested too deeply"),
        ("replace_item", '{"item_id": "a", "price": ' + "7" * 5001 + "}", "not valid JSON (a number longer than 4300 digits"),
        ("replace_item", '{"item_id": "a", "price": 1, "tags": "[' + "[" * 10_000 + '"}', "'tags' must be of type array"),
        ("replace_item", "[1]", "must be a JSON object"),
        ("replace_item", "42", "must be a JSON object"),
        ("nope", "{}", "unknown tool 'nope'"),
        ("replace_item", '{"item_id": "a", "price": 1, "colour": "red"}', "unknown argument(s) 'colour'"),
        ("replace_item", '{"item_id": "a"}', "'price' is required"),
        ("replace_item", '{"item_id": "a", "price": "cheap"}', "'price' must be of type number"),
        ("replace_item", '{"item_id": "a", "price": 1, "count": 1.5}', "'count' must be of type integer"),
        ("replace_item", '{"item_id": "a", "price": 1, "count": true}', "'count' must be of type integer"),
        ("replace_item", '{"item_id": "a", "price": 1, "tags": "x"}', "'tags' must be of type array"),
        ("replace_item", '{"item_id": "a", "price": 1, "tags": [1]}', "'tags.0' must be of type string"),
        ("replace_item", '{"item_id": "a", "price": 1, "on_sale": "maybe"}', "'on_sale' must be of type boolean"),
        ("replace_item", '{"item_id": "a", "price": null}', "'price' must be of type number"),
        ("replace_item", '{"item_id": "", "price": 1}', "URL path"),
        ("replace_item", '{"item_id": "a", "price": NaN}', "not valid JSON (NaN/Infinity is not a JSON number"),
        ("replace_item", '{"item_id": "a", "price": 1e999}', "reads as Infinity: Infinity at 'price'"),
        ("replace_item", '{"item_id": "a", "price": 1, "meta": {"x": [-Infinity]}}', "-Infinity at 'meta.x[0]'"),
        ("replace_item", {"item_id": "a", "price": float("inf")}, "not valid JSON (NaN/Infinity"),
        ("replace_item", '{"item_id": "a", "price": "nan"}', "'price' must be of type number"),
        ("replace_item", '{"item_id": "a", "price": "-inf"}', "'price' must be of type number"),
        ("replace_item", '{"item_id": "a", "price": 1, "tags": "[NaN]"}', "'tags' must be of type array"),
    ],
)
def test_bad_calls_explain_themselves(tools, name, arguments, words):
    with pytest.raises(ToolCallError) as info:
        tools.request(name, arguments)
    text = str(info.value)
    assert text.startswith("Error:")
    assert words in text
    if name != "nope":
        assert "It takes:" in text or "URL path" in text or "JSON" in text


def test_no_argument_tools_accept_empty_strings():
    spec = {"api_groups": [{"endpoints": [{"path": "/api/me", "method": "GET", "operation_id": "me"}]}]}
    tools = tools_from_spec(spec)
    assert tools.request("me", "").path == "/api/me"
    assert tools.request("me", None).path == "/api/me"


def test_response_text_is_truncated():
    response = HttpResponse(200, "x" * 50)
    assert response.as_text(100) == "HTTP 200 OK\n" + "x" * 50
    text = HttpResponse(500, "y" * 1000).as_text(100)
    assert text.startswith("HTTP 500 Internal Server Error\n" + "y" * 100)
    assert "[truncated: 900 more characters]" in text


def _notes_app():
    from fastapi import Body, FastAPI, Query
    from pydantic import BaseModel, Field

    class NewNote(BaseModel):
        title: str = Field(..., examples=["Groceries"])
        pinned: bool | None = Field(False, examples=[True])
        tags: list[str] = Field(default_factory=list, examples=[["home"]])

    app = FastAPI()

    @app.post("/api/notes", operation_id="create_note", summary="Create a note")
    def create(body: NewNote = Body(...)):
        return {}

    @app.get("/api/notes/{note_id}", operation_id="get_note", description="Get one note by id.")
    def get(note_id: int, verbose: bool = Query(False), score: float | None = Query(None, examples=[0.5])):
        return {}

    return app


def test_openapi_document_becomes_a_spec():
    app = _notes_app()
    tools = tools_from_spec(spec_from_openapi(app.openapi()))
    create_params = tools["create_note"].parameters
    assert create_params["required"] == ["title"]
    tags = create_params["properties"]["tags"]
    assert (tags["type"], tags["items"], tags["examples"]) == ("array", {"type": "string"}, [["home"]])
    assert create_params["properties"]["pinned"]["type"] == "boolean"
    request = tools.request("get_note", {"note_id": "7", "verbose": True, "score": 0.5})
    assert request.path == "/api/notes/7" and ("score", "0.5") in request.query
    assert tools["get_note"].parameters["properties"]["score"]["type"] == "number"


def all_scenario_specs(awm_rows):
    specs = [(name, row["api_spec"]) for name, row in awm_rows.items() if row.get("api_spec")]
    specs += [(s.name, s.spec) for s in load_scenarios("bundled")]
    from awm_ray.synthetic import generate_scenario

    for index in range(5):
        row = generate_scenario(index, seed=0)
        specs.append((row["scenario"], parse_scenario(row).spec))
    return specs


def test_every_tool_schema_is_valid_json_schema(awm_rows):
    specs = all_scenario_specs(awm_rows)
    assert len(specs) >= 2 + 4 + 5
    for name, spec in specs:
        tools = tools_from_spec(spec)
        assert len(tools) > 0, name
        for tool in tools.values():
            jsonschema.Draft202012Validator.check_schema(tool.parameters)
            # the examples themselves are valid arguments
            tools.request(tool.name, json.dumps(tool.example_arguments()))
