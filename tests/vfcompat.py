"""Which verifiers major version a test needs, and skipping where another one is installed.

verifiers 0.4 removed the 0.3 API (`vf.MultiTurnEnv`, `env.evaluate`, ...), so one Python
environment serves one façade. A module that needs one major calls `require_verifiers("0.3")`
before it imports verifiers or `awm_ray.env`; a single test can carry `@pytest.mark.verifiers("0.3")`.
Both mark the tests `verifiers`, which is how `tests/test_verifiers_majors.py` runs exactly the
version-specific tests in a venv of the other major (`pytest -m verifiers`).
"""

from __future__ import annotations

import sys

import pytest

from awm_ray import verifiers_major  # noqa: F401  (one definition, shared with the package's façade choice)


def require_verifiers(major: str) -> None:
    """Skip the calling test module unless verifiers `major` is installed; mark its tests `verifiers(major)`."""
    installed = verifiers_major()
    if installed != major:
        pytest.skip(f"needs verifiers {major}; this environment has {installed or 'none'}", allow_module_level=True)
    module = sys._getframe(1).f_globals
    marks = module.get("pytestmark", [])
    module["pytestmark"] = [*(marks if isinstance(marks, list) else [marks]), pytest.mark.verifiers(major)]
