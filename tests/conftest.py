"""Shared fixtures: real AWM sample rows, the bundled data, and a leak check over the whole suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from awm_ray.machine import SERVE_MARK, ZYGOTE_MARK, listening_ports, serve_processes

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "awm_samples"
CASES_SCRIPT = REPO.parent / "shared" / "cases" / "make_front_door_cases.py"


def sample_rows() -> dict[str, dict]:
    """The AWM-1K sample files joined on `scenario` (upstream column names)."""
    rows: dict[str, dict] = {}
    for name in ("gen_envs", "gen_db", "gen_sample", "gen_spec", "gen_tasks"):
        for line in (SAMPLES / f"{name}.jsonl").read_text().splitlines():
            record = json.loads(line)
            rows.setdefault(record["scenario"], {}).update(record)
    return rows


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "verifiers(major): needs this verifiers major version (\"0.3\" or \"0.4\")")


def pytest_runtest_setup(item: pytest.Item) -> None:
    from vfcompat import verifiers_major

    for mark in item.iter_markers("verifiers"):
        if verifiers_major() != mark.args[0]:
            pytest.skip(f"needs verifiers {mark.args[0]}; this environment has {verifiers_major() or 'none'}")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"the AWM sample rows are expected at {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def awm_rows(samples_dir: Path) -> dict[str, dict]:
    return sample_rows()


@pytest.fixture(scope="session")
def front_door_cases(tmp_path_factory) -> Path:
    """FRONT_DOOR.md's case files (hostile/, data/), built by its own script from the bundled scenarios."""
    out = tmp_path_factory.mktemp("front-door-cases")
    subprocess.run([sys.executable, str(CASES_SCRIPT), str(out)], cwd=REPO, check=True, capture_output=True)
    return out


@pytest.fixture(scope="session", autouse=True)
def no_leaks_after_suite():
    """After every test: no scenario server or sandbox zygote of ours alive, no listening socket left in this process."""
    before = listening_ports([os.getpid()])
    yield
    leftovers = serve_processes(descendants_of=os.getpid(), marks=(SERVE_MARK, ZYGOTE_MARK))
    ports = listening_ports([os.getpid()]) - before
    assert not leftovers, f"scenario servers left running: {[p.pid for p in leftovers]}"
    assert not ports, f"listening ports left open by the suite: {sorted(ports)}"


@pytest.fixture(autouse=True)
def ctrl_c_still_interrupts(request):
    """A test that leaves a SIGINT handler of ours (or SIGINT ignored) makes Ctrl-C do nothing, or
    something else, for every later test: restore it, and fail the test that left it. Handlers that
    libraries install on purpose are restored without failing (verifiers 0.3's `Environment` installs
    one that tears down, then raises KeyboardInterrupt); SIGTERM is not watched (`ray.init` installs
    its own and leaves it)."""
    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, before)
    module = str(getattr(after, "__module__", None) or "")
    ours = after is signal.SIG_IGN or module.split(".")[0] in ("awm_ray", "tests", "conftest") or module.startswith("test_")
    assert after is before or not ours, f"{request.node.nodeid} left its own SIGINT handler installed: {after!r}"


@pytest.fixture
def ctrl_c():
    """For tests that press Ctrl-C (SIGINT to this process): Python's own handler, which raises
    KeyboardInterrupt. A suite started in the background by a shell without job control (`cmd &`
    in a script, some CI runners) inherits SIGINT ignored, and the press would do nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
