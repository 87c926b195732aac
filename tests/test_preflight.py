"""The sandboxed trial import that runs before scenario code is imported in a worker (no Ray)."""

from __future__ import annotations

import asyncio

from apps import tiny
from awm_ray.hosting.preflight import Preflight


def test_cancelling_the_first_check_of_some_code_does_not_cancel_the_others(tmp_path):
    """Two slot starts of one scenario share one trial import; the first one's caller giving up
    (a cancelled lease) must not end the second with a CancelledError it never asked for."""

    async def main():
        preflight = Preflight(tmp_path / "preflight", memory_mb=1024, timeout_s=60)
        try:
            first = asyncio.ensure_future(preflight.check(tiny(), tmp_path / "none.db"))
            await asyncio.sleep(0.05)  # the first is trying it now
            second = asyncio.ensure_future(preflight.check(tiny(), tmp_path / "none.db"))
            await asyncio.sleep(0.05)
            first.cancel()
            await asyncio.wait_for(second, 60)  # tried again, and passed
            assert first.cancelled() and preflight.checks == 1
        finally:
            preflight.close()

    asyncio.run(main())
