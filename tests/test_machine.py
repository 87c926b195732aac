"""awm_ray.machine (what runs here: servers, ports, farm dirs, memory) and awm_ray.percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from awm_ray.machine import farm_dirs, listening_ports, machine_details, machine_facts, serve_processes, tree_memory
from awm_ray.percentiles import percentiles


def test_percentiles_interpolate_and_count():
    assert percentiles([]) == {"p50": None, "p95": None, "n": 0}
    assert percentiles([None, 2.0]) == {"p50": 2.0, "p95": 2.0, "n": 1}
    assert percentiles(range(1, 101)) == {"p50": 50.5, "p95": 95.05, "n": 100}
    assert percentiles([1, 2, 3, 4], (50, 99), digits=1) == {"p50": 2.5, "p99": 4.0, "n": 4}
    with pytest.raises(ValueError, match="1..99"):
        percentiles([1.0], (100,))


def test_a_listening_socket_and_a_server_child_are_seen(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port in listening_ports([os.getpid()])
    assert port not in listening_ports([os.getpid()])
    assert listening_ports([2**22 + 12345]) == set()  # no such process

    fake = tmp_path / "_serve.py"  # a process whose command line looks like a scenario server's
    fake.write_text("import time; time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, str(fake), str(tmp_path)])
    try:
        assert [p.pid for p in serve_processes(descendants_of=os.getpid())] == [child.pid]
        assert [p.pid for p in serve_processes(root=tmp_path)] == [child.pid]
        assert serve_processes(root=tmp_path / "other") == []
        memory = tree_memory([os.getpid()])
        assert memory["processes"] >= 2 and memory["rss_mb"] > 0
    finally:
        child.kill()
        child.wait()
    assert serve_processes(descendants_of=os.getpid()) == []


def test_farm_dirs_and_machine_facts():
    made = Path(tempfile.mkdtemp(prefix="awm-ray-"))
    try:
        assert made in farm_dirs()
    finally:
        made.rmdir()
    assert made not in farm_dirs()
    assert set(machine_facts()) == {"cpus", "memory_gb", "python", "ray"}
    assert machine_details()["memory_available_gb_at_start"] > 0
