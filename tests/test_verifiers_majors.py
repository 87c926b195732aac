"""Both verifiers majors stay green: the other major's tests run in a venv of their own.

One venv holds one verifiers major (0.4 removed the 0.3 API), and the README's test command runs
the suite with whichever major `pip install -e ".[dev]"` chose. This test builds a second venv with
the other major (cached under ~/.cache/awm-ray/venvs, keyed by the dependencies it installs and the
Python version; built with `uv`), points it at this checkout, and runs there only the tests that
need a verifiers major (`pytest -m verifiers`: modules calling `require_verifiers`, tests marked
`@pytest.mark.verifiers`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from awm_ray import verifiers_major

REPO = Path(__file__).resolve().parents[1]
OTHER = {"0.4": ("0.3", "verifiers>=0.3,<0.4"), "0.3": ("0.4", "verifiers>=0.4,<0.5")}
CACHE = Path(os.environ.get("AWM_RAY_VENV_CACHE", Path.home() / ".cache" / "awm-ray" / "venvs"))


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found, "uv is needed to build the second venv (it is in the dev extra: pip install -e '.[dev]')"
    return found


def other_venv(requirement: str, major: str) -> Path:
    """The cached venv of the other major, built on first use, with this checkout installed (editable)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    key_text = "\n".join([requirement, sys.version, *project["dependencies"], *project["optional-dependencies"]["dev"]])
    venv = CACHE / f"verifiers-{major}-{hashlib.sha256(key_text.encode()).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another checkout may be building the same venv
        if not (venv / ".complete").exists():  # built whole, or built again
            shutil.rmtree(venv, ignore_errors=True)
            run([uv(), "venv", "-q", "--python", sys.executable, str(venv)])
            run([uv(), "pip", "install", "-q", "--python", str(python), "-e", f"{REPO}[dev]", requirement])
            (venv / ".complete").write_text(key_text)
        # point the cached venv at this checkout (it may have been built from another clone)
        run([uv(), "pip", "install", "-q", "--reinstall-package", "awm-ray", "--no-deps", "--python", str(python), "-e", str(REPO)])
    return venv


def run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{(done.stdout + done.stderr)[-4000:]}"


@pytest.mark.timeout(3600)
def test_the_other_verifiers_major_in_its_own_venv():
    installed = verifiers_major()
    assert installed in OTHER, f"verifiers {installed} is installed; expected 0.3 or 0.4"
    major, requirement = OTHER[installed]
    venv = other_venv(requirement, major)
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-m", "verifiers", "-p", "no:cacheprovider", "tests"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    passed = re.search(r"(\d+) passed", output)
    assert passed and int(passed.group(1)) > 0, output[-2000:]
