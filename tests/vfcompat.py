"""Which verifiers major version a test needs, and skipping where another one is installed.

verifiers 0.4 removed the 0.3 API (`vf.MultiTurnEnv`, `env.evaluate`, ...), so one Python
environment serves one façade. A module that needs one major calls `require_verifiers("0.3")`
before it imports verifiers or `awm_ray.env`; a single test can carry `@pytest.mark.verifiers("0.3")`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest


def verifiers_major() -> str | None:
    """The installed verifiers' major version as "0.3" / "0.4", or None when it is not installed."""
    try:
        parts = version("verifiers").split(".")
    except PackageNotFoundError:
        return None
    return ".".join(parts[:2])


def require_verifiers(major: str) -> None:
    """Skip the calling test module unless verifiers `major` is installed."""
    installed = verifiers_major()
    if installed != major:
        pytest.skip(f"needs verifiers {major}; this environment has {installed or 'none'}", allow_module_level=True)
