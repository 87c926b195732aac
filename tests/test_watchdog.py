"""The in-process watchdog's memory answers, driven check by check (no threads, no Ray)."""

from __future__ import annotations

import time

import pytest

from awm_ray.hosting import watchdog


class Ended(Exception):
    pass


class NowLoop:
    def call_soon_threadsafe(self, fn, *args):
        fn(*args)


@pytest.fixture
def dog(tmp_path, monkeypatch):
    """A watchdog whose process is always over its 1 MB limit; `culprits` says whose memory it is."""
    culprits: list[str] = []
    handed: list[list[str]] = []
    monkeypatch.setattr(watchdog, "memory_culprits", lambda limit: list(culprits))

    def end(scenarios, reason):
        raise Ended(scenarios, reason)

    dog = watchdog.Watchdog(tmp_path / "death.json", memory_mb=1, wedge_s=60, on_memory=lambda c, r: handed.append(c),
                            grace_s=0.2)  # fmt: skip
    dog._loop = NowLoop()
    monkeypatch.setattr(dog, "_end", end)
    return dog, culprits, handed


def test_a_culprit_found_after_a_wait_gets_the_gentle_answer_first(dog):
    """Over the limit while no scenario code runs: wait; once a culprit shows, its slots are closed
    (on_memory), and only if memory stays over the limit after that is the worker ended."""
    dog, culprits, handed = dog
    dog._check()  # nobody's yet: wait
    time.sleep(0.05)
    culprits.append("hog_1")
    dog._check()
    assert handed == [["hog_1"]]
    dog._check()  # within the grace after handing over: wait for the memory to come back
    time.sleep(0.25)
    with pytest.raises(Ended, match="still over") as ended:
        dog._check()
    assert ended.value.args[0] == ["hog_1"]


def test_memory_nobody_claims_ends_the_worker_after_the_grace(dog):
    dog, culprits, handed = dog
    dog._check()
    time.sleep(0.25)
    with pytest.raises(Ended) as ended:
        dog._check()
    assert ended.value.args[0] == [] and "still over" not in ended.value.args[1] and handed == []
