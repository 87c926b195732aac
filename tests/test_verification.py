"""Generated verifiers in the sandbox (no Ray): AWM's real rows (e_commerce_33) and hostile code."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from awm_ray.config import VerificationConfig
from awm_ray.loading import load_scenarios
from awm_ray.scenario import build_database, content_checksum
from awm_ray.scenario.native import Verifier
from awm_ray.verification import VerifierRunner

SECRET = "AWM_VERIFIER_TEST_API_KEY"

# What e_commerce_33's tasks ask, done in SQL: the queries find the rows themselves (no ids written in).
REORDER_PAPER_TOWELS = """
INSERT INTO cart_items (cart_id, product_offer_id, quantity)
SELECT c.id, oi.product_offer_id, oi.quantity
FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN products p ON p.id = oi.product_id
JOIN product_categories pc ON pc.id = p.category_id
JOIN carts c ON c.user_id = o.user_id AND c.status = 'active'
WHERE o.user_id = (SELECT id FROM users WHERE username = 'primary_user') AND pc.name = 'Paper Towels'
ORDER BY o.placed_at DESC, oi.id DESC LIMIT 1;
"""
AIR_FRYER_WISHLIST = """
INSERT INTO wishlists (user_id, name) SELECT id, 'Kitchen Upgrades 2025' FROM users WHERE username = 'primary_user';
INSERT INTO wishlist_items (wishlist_id, product_id)
SELECT (SELECT id FROM wishlists WHERE name = 'Kitchen Upgrades 2025'), p.id
FROM products p JOIN product_categories pc ON pc.id = p.category_id
LEFT JOIN product_aggregates pa ON pa.product_id = p.id
WHERE pc.name = 'Air Fryers'
  AND EXISTS (SELECT 1 FROM product_offers o WHERE o.product_id = p.id AND o.is_active = 1 AND o.price < 150)
ORDER BY pa.sales_rank IS NULL, pa.sales_rank, p.id LIMIT 3;
"""


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def runner(loop):
    os.environ[SECRET] = "verifier-secret-1"
    config = VerificationConfig(wall_s=5, cpu_s=2, memory_mb=256)
    runner = VerifierRunner(config)
    loop.run_until_complete(runner.start())
    try:
        yield runner
    finally:
        loop.run_until_complete(runner.close())
        os.environ.pop(SECRET, None)
        assert not runner.sandbox.root.exists()


@pytest.fixture(scope="module")
def shop(samples_dir, tmp_path_factory):
    """e_commerce_33 from the AWM-1K files, its database built as a read-only template."""
    (scenario,) = load_scenarios(str(samples_dir), scenario_filter=["e_commerce_33"])
    template = tmp_path_factory.mktemp("shop") / "template.db"
    report = build_database(template, scenario.db_schema, scenario.sample_data)
    assert report.failures == [] and report.executed == report.statements > 100
    template.chmod(0o444)
    return scenario, template


def live_copy(template: Path, tmp_path: Path, sql: str | None = None) -> Path:
    live = tmp_path / "live.db"
    shutil.copyfile(template, live)
    live.chmod(0o644)
    if sql:
        with sqlite3.connect(live) as conn:
            conn.executescript(sql)
    return live


def verify(loop, runner, verifier, initial, final, answer=None):
    return loop.run_until_complete(runner.verify(verifier, initial, final, answer))


def test_e_commerce_33_tasks_and_verifiers_load_in_both_modes(shop):
    scenario, _ = shop
    assert len(scenario.tasks) == 10 and scenario.tasks[1].task.startswith("From my past orders")
    with_verifiers = [t for t in scenario.tasks if t.verifiers]
    assert [t.index for t in with_verifiers] == [0, 1, 2]
    assert all(set(t.verifiers) == {"code", "sql"} for t in with_verifiers)
    assert scenario.tasks[2].verifier("sql").function == "verify_task"


def test_every_code_verifier_says_others_on_the_untouched_database(loop, runner, shop):
    scenario, template = shop
    checksum = content_checksum(template)
    for task in scenario.tasks:
        if task.verifier("code") is None:
            continue
        v = verify(loop, runner, task.verifier("code"), template, template)
        assert v.error is None and v.result == "others", (task.index, v)
    assert content_checksum(template) == checksum


@pytest.mark.parametrize(("index", "sql"), [(1, REORDER_PAPER_TOWELS), (2, AIR_FRYER_WISHLIST)])
def test_sql_that_does_the_task_makes_its_code_verifier_say_complete(loop, runner, shop, tmp_path, index, sql):
    scenario, template = shop
    live = live_copy(template, tmp_path, sql)
    before = content_checksum(live)
    done = verify(loop, runner, scenario.task(index).verifier("code"), template, live, "Done.")
    assert done.error is None and done.result == "complete" and done.complete, done
    # the other tasks stay undone, and the verifier changed nothing (both databases read-only)
    other = 2 if index == 1 else 1
    assert verify(loop, runner, scenario.task(other).verifier("code"), template, live).result == "others"
    assert content_checksum(live) == before


def test_sql_mode_returns_evidence_for_each_task_and_the_broken_one_is_a_compile_error(loop, runner, shop, tmp_path):
    scenario, template = shop
    live = live_copy(template, tmp_path, REORDER_PAPER_TOWELS)
    untouched = verify(loop, runner, scenario.task(1).verifier("sql"), template, template)
    done = verify(loop, runner, scenario.task(1).verifier("sql"), template, live)
    assert untouched.error is None and done.error is None
    assert isinstance(done.evidence, dict) and done.evidence != untouched.evidence
    assert done.result is None and done.verdict is None  # sql mode: evidence only, the judge decides
    first = verify(loop, runner, scenario.task(0).verifier("sql"), template, live)
    assert first.error is None and isinstance(first.evidence, dict) and first.evidence
    broken = verify(loop, runner, scenario.task(2).verifier("sql"), template, live)  # task 2's upstream syntax error
    assert broken.error == "compile" and "SyntaxError" in broken.message and broken.evidence is None
    assert verify(loop, runner, scenario.task(1).verifier("code"), template, live).result == "complete"


def test_evidence_is_capped(loop, shop, tmp_path):
    _, template = shop
    small = VerifierRunner(VerificationConfig(evidence_chars=200, wall_s=5))
    try:
        code = "def verify_task(initial_db_path, final_db_path):\n    return {'rows': list(range(10000))}\n"
        v = loop.run_until_complete(small.verify(Verifier("sql", code), template, template))
    finally:
        loop.run_until_complete(small.close())
    assert isinstance(v.evidence, str) and v.evidence.endswith("more characters]") and len(v.evidence) < 300


HOSTILE = {
    "infinite_loop": ("while True:\n        pass", "timeout", "limit"),
    "five_gb": ("return {'result': str(len(b'x' * (5 * 2**30)))}", "memory", "memory"),
    "os_system": ("os.system('echo pwned > /tmp/awm-verifier-pwned')\n    return {'result': 'complete'}", "refused", "shell"),
    "socket_out": (
        "import socket\n    s = socket.socket()\n    s.connect(('203.0.113.1', 80))\n    return {'result': 'complete'}",
        "refused", "sockets",
    ),
    "proc_environ": ("return {'result': open('/proc/self/environ').read()}", "refused", "may only read its two databases"),
    "etc_passwd": ("return {'result': open('/etc/passwd').read()}", "refused", "may only read its two databases"),
    "sys_exit": ("import sys\n    sys.exit(0)", "raised", "SystemExit"),
    "fork_bomb": ("while True:\n        os.fork()", "refused", "fork"),
    "raises": ("raise KeyError('no such table')", "raised", "KeyError"),
    "writes_its_db": (
        "sqlite3.connect(final_db_path).execute('DELETE FROM users')\n    return {'result': 'complete'}",
        "raised", "readonly",
    ),
    "opens_other_db": (
        "sqlite3.connect('/tmp/awm-verifier-other.db').execute('CREATE TABLE t (x)')\n    return {'result': 'complete'}",
        "refused", "database",
    ),
    "bad_result": ("return ['complete']", "bad_result", "expected"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_each_hostile_verifier_is_a_recorded_error_and_the_runner_goes_on(loop, runner, shop, tmp_path, case):
    scenario, template = shop
    body, error, words = HOSTILE[case]
    code = f"def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    {body}\n"
    live = live_copy(template, tmp_path)
    before = content_checksum(live)
    v = verify(loop, runner, Verifier("code", code), template, live)
    assert v.error == error and v.result is None and not v.complete, (case, v)
    assert words.lower() in v.message.lower(), (case, v.message)
    assert SECRET not in v.message and "verifier-secret-1" not in v.message
    assert content_checksum(live) == before and not Path("/tmp/awm-verifier-pwned").exists()
    assert not Path("/tmp/awm-verifier-other.db").exists()
    # the same runner (same sandbox) still verifies a real task
    good = verify(loop, runner, scenario.task(1).verifier("code"), template, template)
    assert good.error is None and good.result == "others"


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        ("def verify_task_completion(initial_db_path, final_db_path:\n    return {}\n", "compile", "SyntaxError"),
        ("def check(initial_db_path, final_db_path):\n    return {'result': 'complete'}\n", "missing_function",
         "defines no function verify_task_completion"),
    ],
)  # fmt: skip
def test_code_that_does_not_compile_or_lacks_its_function(loop, runner, shop, code, error, words):
    _, template = shop
    v = verify(loop, runner, Verifier("code", code), template, template)
    assert v.error == error and words in v.message


def test_arguments_follow_the_signature(loop, runner, shop):
    _, template = shop
    by_position = "def verify_task_completion(a, b):\n    return {'result': 'complete' if a == b else 'others'}\n"
    with_answer = (
        "def verify_task_completion(final_db_path, final_answer=None, initial_db_path=None):\n"
        "    return {'result': 'complete' if final_answer == 'ok' and initial_db_path else 'others'}\n"
    )
    assert verify(loop, runner, Verifier("code", by_position), template, template).result == "complete"
    assert verify(loop, runner, Verifier("code", with_answer), template, template, "ok").result == "complete"
    assert verify(loop, runner, Verifier("code", with_answer), template, template, "no").result == "others"
    assert loop.run_until_complete(runner.verify(None, template, template, mode="sql")).error == "missing"
