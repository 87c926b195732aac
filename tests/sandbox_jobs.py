"""Jobs the sandbox tests run (importable in the sandbox's zygote: it adopts the owner's sys.path)."""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import time


def echo(**kwargs):
    return {"kwargs": kwargs, "pid": os.getpid(), "cwd": os.getcwd(), "env": dict(os.environ),
            "tmp": os.environ.get("TMPDIR")}  # fmt: skip


async def echo_async(value):
    return value


def spin():
    while True:
        pass


def sleep():
    time.sleep(10**6)


def allocate(gb: float):
    return len(b"x" * int(gb * 2**30))


def shell():
    return os.system("echo hi")


def fork_bomb():
    while True:
        os.fork()


def spawn():
    import subprocess

    return subprocess.run(["true"]).returncode


def exit_hard(code: int):
    os._exit(code)


def exit_soft(code: int):
    sys.exit(code)


def raise_error():
    raise ValueError("the job's own error")


def read(path: str):
    with open(path, "rb") as fh:
        return fh.read().decode(errors="replace")


def parent_environ():
    return read(f"/proc/{os.getppid()}/environ")


def write(path: str, text: str = "x"):
    with open(path, "w") as fh:
        fh.write(text)
    return os.path.abspath(path)


def connect(host: str, port: int):
    with socket.create_connection((host, port), timeout=2) as sock:
        return sock.recv(16).decode()


def kill(pid: int):
    os.kill(pid, 9)


def huge_result(mb: int):
    return "x" * (mb * 2**20)


def not_json():
    return object()


def sqlite_write(path: str):
    with sqlite3.connect(path) as db:
        db.execute("create table if not exists t (x)")
    return "written"


def sqlite_read(path: str):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("select count(*) from t").fetchone()[0]
    finally:
        db.close()


def native_escape():
    import ctypes

    return ctypes.string_at(0, 1)


def noisy_then_fails():
    print("noise before the failure")
    sys.stdout.flush()
    os._exit(9)
