"""The reference policy: oracle hit rates on bundled and real tasks, random/noop, the OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import queue
import re
import socket
import subprocess
import sys
import threading
from typing import Any

import httpx
import openai
import pytest

from awm_ray.loading import load_scenarios
from awm_ray.policy import MODES, PolicyServer, build_app, next_message, parse_steps
from awm_ray.scenario import Scenario, Task, ToolCallError, Toolset, sample_tasks, tools_from_spec

FAKE_RESULT = 'HTTP 200 OK\n{"id": 7, "status": "ok"}'


def openai_tools(tools: Toolset) -> list[dict[str, Any]]:
    return [{"type": "function", "function": d} for d in tools.definitions()]


def all_passed(tools: Toolset) -> dict[str, Any]:
    return {"endpoints": [{"operation_id": t.operation_id, "passed": True} for t in tools.values()]}


def play(task: Task | str, tools: Toolset, mode: str = "oracle", seed: int = 0, result: str = FAKE_RESULT,
         solutions: Any = None, turns: int = 6) -> list[dict]:  # fmt: skip
    """Run the policy on a task (or a prompt) with fake tool results until it answers (at most `turns` turns)."""
    prompt = task if isinstance(task, str) else task.prompt
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful agent."},
                                      {"role": "user", "content": prompt}]  # fmt: skip
    for _ in range(turns):
        message = next_message(messages, openai_tools(tools), mode, seed, None, solutions)
        messages.append(message)
        if not message.get("tool_calls"):
            return messages
        (call,) = message["tool_calls"]
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    raise AssertionError(f"no final answer after {turns} turns: {messages}")


def called(messages: list[dict]) -> list[tuple[str, str]]:
    return [(c["function"]["name"], c["function"]["arguments"]) for m in messages for c in m.get("tool_calls") or []]


def oracle_hits(scenario: Scenario, tools: Toolset, report: Any, chain_length: int, count: int) -> tuple[int, list[str]]:
    """Tasks whose targets the oracle called in order, with valid arguments, before answering; and the misses."""
    tasks = sample_tasks(scenario.name, tools, report, count=count, seed=0, chain_length=chain_length)
    assert tasks
    hits, misses = 0, []
    for task in tasks:
        messages = play(task, tools)
        calls = called(messages)
        names = [name for name, _ in calls]
        targets = [tools.by_operation_id(op).name for op in task.targets]
        for name, arguments in calls:
            try:
                tools.request(name, arguments)
            except ToolCallError as exc:
                pytest.fail(f"{scenario.name}: oracle sent invalid arguments: {exc}")
        assert messages[-1]["content"] and not messages[-1].get("tool_calls")
        if names == targets:
            hits += 1
        else:
            misses.append(f"{scenario.name}: {targets} -> {names} | {task.prompt[:160]}")
    return hits, misses


@pytest.fixture(scope="module")
def bundled() -> list[tuple[Scenario, Toolset]]:
    return [(s, tools_from_spec(s.spec)) for s in load_scenarios("bundled")]


@pytest.fixture(scope="module")
def content_platform(samples_dir) -> tuple[Scenario, Toolset]:
    (scenario,) = load_scenarios(str(samples_dir), scenario_filter="content_platform_1")
    return scenario, tools_from_spec(scenario.spec)


# ---------------------------------------------------------------------------------------------
# oracle
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chain_length", [1, 2])
def test_oracle_bundled(bundled, chain_length):
    total, hits, misses = 0, 0, []
    for scenario, tools in bundled:
        count = len(tools) if chain_length == 1 else 30
        h, m = oracle_hits(scenario, tools, scenario.val_report, chain_length, count)
        hits, total, misses = hits + h, total + h + len(m), misses + m
    print(f"oracle on bundled tasks (chain_length={chain_length}): {hits}/{total} = {hits / total:.3f}")
    print("\n".join(misses))
    assert total >= 30 and hits / total >= 0.95


@pytest.mark.parametrize("chain_length", [1, 2])
def test_oracle_content_platform_1(content_platform, chain_length):
    scenario, tools = content_platform
    count = len(tools) if chain_length == 1 else 40
    hits, misses = oracle_hits(scenario, tools, all_passed(tools), chain_length, count)
    total = hits + len(misses)
    print(f"oracle on content_platform_1 (chain_length={chain_length}): {hits}/{total} = {hits / total:.3f}")
    print("\n".join(misses))
    assert total == count and hits / total >= 0.9


def test_oracle_first_turn_and_arguments(content_platform):
    _, tools = content_platform
    prompt = ("Please find channels whose name matches a search query, optionally with pagination. "
              'Use query = "Kurzgesagt", limit = 10, offset = 0.')  # fmt: skip
    message = next_message([{"role": "user", "content": prompt}], openai_tools(tools), "oracle")
    (call,) = message["tool_calls"]
    assert message["role"] == "assistant" and message["content"] is None
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "search_channels"
    assert json.loads(call["function"]["arguments"]) == {"query": "Kurzgesagt", "limit": 10, "offset": 0}
    # bare definitions work as well as OpenAI-wrapped ones, and the policy is pure
    assert next_message([{"role": "user", "content": prompt}], tools.definitions(), "oracle") == message


def test_parse_steps_reads_json_values_and_chains():
    steps = parse_steps(
        'First, please show the cart. Then, please add a comment. Use content = "Blocked. Then, wait, x = 3.", '
        'tags = ["a, b", "c"], meta = {"k": [1, 2]}, price = 2.5, gift = false.'
    )
    assert [s.text for s in steps] == ["show the cart", "add a comment"]
    assert steps[0].arguments == {}
    assert steps[1].arguments == {
        "content": "Blocked. Then, wait, x = 3.", "tags": ["a, b", "c"], "meta": {"k": [1, 2]}, "price": 2.5, "gift": False,
    }  # fmt: skip
    (free,) = parse_steps("Could you look up my playlists?")
    assert free.text == "Could you look up my playlists?" and free.arguments == {}


def test_oracle_retries_once_with_examples_then_moves_on(content_platform):
    _, tools = content_platform
    prompt = 'First, please find channels whose name matches a search query. Use query = "nothing-like-this". Then, please list my playlists.'
    messages = [{"role": "user", "content": prompt}]
    error = "Error: invalid arguments for tool 'search_channels': something"
    seen = []
    for _ in range(4):
        message = next_message(messages, openai_tools(tools), "oracle")
        messages.append(message)
        if not message.get("tool_calls"):
            break
        (call,) = message["tool_calls"]
        seen.append((call["function"]["name"], json.loads(call["function"]["arguments"])))
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": error if len(seen) <= 2 else FAKE_RESULT})
    example_query = tools["search_channels"].parameters["properties"]["query"]["examples"][0]
    assert [name for name, _ in seen] == ["search_channels", "search_channels", "list_playlists"]
    assert seen[0][1]["query"] == "nothing-like-this" and seen[1][1]["query"] == example_query
    assert "list_playlists" in messages[-1]["content"]


def test_oracle_takes_missing_ids_from_earlier_results():
    tools = [
        {"name": "create_order", "description": "Create an order. Place a new order for the cart.", "parameters": {
            "type": "object", "properties": {}, "required": []}},
        {"name": "cancel_order", "description": "Cancel an order. Cancel one order by its ID.", "parameters": {
            "type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]}},
    ]  # fmt: skip
    messages: list[dict[str, Any]] = [{"role": "user", "content": "First, please place a new order. Then, please cancel one order."}]
    first = next_message(messages, tools, "oracle")
    assert first["tool_calls"][0]["function"]["name"] == "create_order"
    messages += [first, {"role": "tool", "tool_call_id": first["tool_calls"][0]["id"],
                         "content": 'HTTP 200 OK\n{"order": {"id": 42, "total": 9.5}}'}]  # fmt: skip
    second = next_message(messages, tools, "oracle")
    assert second["tool_calls"][0]["function"] == {"name": "cancel_order", "arguments": '{"order_id": 42}'}


def test_tool_choice_none_and_no_tools_answer(content_platform):
    _, tools = content_platform
    messages = [{"role": "user", "content": "Please list my playlists."}]
    assert "tool_calls" not in next_message(messages, openai_tools(tools), "oracle", tool_choice="none")
    assert "tool_calls" not in next_message(messages, [], "oracle")
    with pytest.raises(ValueError, match="unknown policy mode"):
        next_message(messages, [], "smart")
    with pytest.raises(ValueError, match="unknown policy mode"):
        build_app("smart")


# ---------------------------------------------------------------------------------------------
# random and noop
# ---------------------------------------------------------------------------------------------


def test_random_is_deterministic_per_seed(bundled):
    trajectories: dict[int, list[list[tuple[str, str]]]] = {0: [], 1: []}
    for scenario, tools in bundled:
        for task in sample_tasks(scenario.name, tools, scenario.val_report, count=5, seed=0):
            for seed in (0, 1):
                first = play(task, tools, "random", seed)
                assert first == play(task, tools, "random", seed)
                calls = called(first)
                assert 1 <= len(calls) <= 3 and first[-1]["content"]
                for name, arguments in calls:
                    tools.request(name, arguments)  # schema examples / placeholders are valid arguments
                trajectories[seed].append(calls)
    assert trajectories[0] != trajectories[1]


def test_noop_never_calls_tools(bundled):
    for scenario, tools in bundled:
        for task in sample_tasks(scenario.name, tools, scenario.val_report, count=3, seed=0):
            messages = play(task, tools, "noop")
            assert called(messages) == [] and len(messages) == 3 and messages[-1]["content"]
    assert MODES == ("oracle", "random", "noop", "spray")


def test_spray_calls_every_tool_once_with_examples_then_answers(bundled):
    for scenario, tools in bundled:
        task = sample_tasks(scenario.name, tools, scenario.val_report, count=1, seed=0)[0]
        messages = play(task.prompt, tools, "spray", turns=40)
        calls = called(messages)
        assert [name for name, _ in calls] == [t["name"] for t in tools.definitions()]
        for name, arguments in calls:
            tools.request(name, arguments)  # examples are valid arguments
        assert messages[-1]["content"].startswith("Done:")


def test_oracle_plays_the_solution_of_a_scenarios_own_task(bundled):
    from awm_ray.policy import SolutionBook

    book = SolutionBook.from_scenarios(s for s, _ in bundled)
    assert len(book) == sum(len(s.tasks) for s, _ in bundled)
    again = SolutionBook.from_json(json.loads(json.dumps(book.to_json())))
    for scenario, tools in bundled:
        for task in scenario.tasks:
            messages = play(f"  {task.task}\n", tools, "oracle", solutions=again, turns=40)
            expected = [(c.tool, json.dumps(c.arguments, ensure_ascii=False)) for c in task.solution.calls]
            assert called(messages) == expected, (scenario.name, task.index)
            if task.solution.answer:
                assert messages[-1]["content"] == task.solution.answer
    # a task the book does not know, or whose solution's tools are not offered, falls back to parsing
    scenario, tools = bundled[0]
    task = scenario.tasks[0]
    other_tools = bundled[1][1]
    assert book.lookup(task.task, [t["name"] for t in other_tools.definitions()]) is None
    assert book.lookup("Do something else entirely.", [t["name"] for t in tools.definitions()]) is None


# ---------------------------------------------------------------------------------------------
# served: the official openai client, and `awm-ray policy serve`
# ---------------------------------------------------------------------------------------------


def test_policy_server_with_openai_client(content_platform):
    _, tools = content_platform
    prompt = "Please retrieve the authenticated user's playback quality and caption preferences."

    async def talk(base_url: str) -> None:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
        try:
            models = await client.models.list()
            assert [m.id for m in models.data] == ["awm-ray-reference-oracle"]
            messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
            first = await client.chat.completions.create(
                model="anything", messages=messages, tools=openai_tools(tools), temperature=0.0, max_tokens=256
            )
            assert first.object == "chat.completion" and first.model == "awm-ray-reference-oracle"
            choice = first.choices[0]
            assert choice.finish_reason == "tool_calls" and first.usage and first.usage.total_tokens > 0
            (call,) = choice.message.tool_calls or []
            assert call.function.name == "get_user_settings" and json.loads(call.function.arguments) == {}
            messages += [choice.message.model_dump(exclude_none=True),
                         {"role": "tool", "tool_call_id": call.id, "content": 'HTTP 200 OK\n{"quality": "1080p"}'}]  # fmt: skip
            final = await client.chat.completions.create(model="anything", messages=messages, tools=openai_tools(tools))
            assert final.choices[0].finish_reason == "stop" and not final.choices[0].message.tool_calls
            assert "1080p" in (final.choices[0].message.content or "")

            streamed = await client.chat.completions.create(model="x", messages=messages[:1], tools=openai_tools(tools),
                                                            stream=True, stream_options={"include_usage": True})  # fmt: skip
            chunks = [chunk async for chunk in streamed]
            assert [c.choices[0].finish_reason for c in chunks if c.choices] == [None, "tool_calls"] and chunks[-1].usage
            (streamed_call,) = chunks[0].choices[0].delta.tool_calls or []
            assert streamed_call.function.name == call.function.name and streamed_call.function.arguments == call.function.arguments
            with pytest.raises(openai.BadRequestError, match="only n=1"):
                await client.chat.completions.create(model="x", messages=messages, n=2)
            with pytest.raises(openai.BadRequestError, match="role"):
                await client.chat.completions.create(model="x", messages=[{"role": "robot", "content": "hi"}])
        finally:
            await client.close()

    with PolicyServer("oracle") as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
        port = server.port
        thread = server._thread
        asyncio.run(talk(server.base_url))
    assert thread is not None and not thread.is_alive()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", port))


def test_cli_policy_serve_on_port_0():
    command = [sys.executable, "-c", "import sys; from awm_ray.cli import main; sys.exit(main())",
               "policy", "serve", "--mode", "random", "--port", "0", "--seed", "3"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        line = lines.get(timeout=15)
        assert "reference policy (random) — a harness check, not a model score — listening on http://127.0.0.1:" in line
        base_url = re.search(r"http://\S+/v1", line).group(0)  # type: ignore[union-attr]
        assert not base_url.endswith(":0/v1")
        models = httpx.get(f"{base_url}/models", timeout=5).json()
        assert models["data"][0]["id"] == "awm-ray-reference-random"
    finally:
        proc.terminate()
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0, proc.stderr.read() if proc.stderr else ""
    assert proc.poll() is not None
