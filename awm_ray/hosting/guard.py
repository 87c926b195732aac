"""Containment for scenario code: a loopback-only socket guard, capped output, a scrubbed environment,
and a process guard (no exit, kill, fork/exec, ctypes or /proc secrets from scenario code).

Stdlib only: `_serve.py` loads this file by path in each subprocess server (which has no awm_ray),
and `make_backend` applies it to a farm worker that hosts apps in-process. Each piece is installed
once per process and cannot be undone (an audit hook stays for the life of the process), so it is
only ever applied to processes that exist to host scenarios, never to a driver or a test process.

What it stops is ordinary Python: `socket`, and everything built on it (urllib, httpx, requests),
`print` and `sys.stdout`/`sys.stderr`, `os.environ`. It does not stop native code, `ctypes`,
`os.write(1, ...)` or a child process the scenario starts; the subprocess backend (its own process,
minimal environment, killed as a group) is the choice for code that is actually hostile.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import os
import re
import socket
import sys
import threading

IN_SCENARIO: contextvars.ContextVar[bool] = contextvars.ContextVar("awm_ray_in_scenario", default=False)
"""True while scenario code runs in this context (an in-process request or import): its output is capped."""

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_SOCKET_FAMILIES = {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, -1}  # -1: socket(fileno=...) detects it
_SENSITIVE_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
_KEEP_NAME = re.compile(
    r"PATH|LD_LIBRARY_PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_\w+|TZ|TMPDIR|TMP|TEMP|PYTHON\w*|VIRTUAL_ENV"
    r"|OMP_NUM_THREADS|\w+_VISIBLE_DEVICES|RAY_\w+"
)
_installed: set[str] = set()
_budget: OutputBudget | None = None
_install_lock = threading.Lock()


# ---- network: loopback and Unix sockets only --------------------------------------------------


def _is_loopback(host: object) -> bool:
    if host is None or host == "":  # getaddrinfo(None, port): the local wildcard, resolved without DNS
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    address = _ip(host)
    return address is not None and (getattr(address, "ipv4_mapped", None) or address).is_loopback


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _check(host: object, port: object, verb: str = "connect") -> None:
    if verb == "bind" and not host:  # "" binds every interface
        raise PermissionError(f"awm-ray: scenario code may not bind outside loopback (all interfaces, port {port})")
    if _is_loopback(host):
        return
    if isinstance(host, str) and _ip(host) is None:  # a name: looking it up is already a query beyond this machine
        raise PermissionError(f"awm-ray: scenario code may not resolve {host!r} (only loopback is allowed)")
    raise PermissionError(f"awm-ray: scenario code may not {verb} outside loopback ({host}:{port})")


def _audit(event: str, args: tuple, _check=_check, _inet=(socket.AF_INET, socket.AF_INET6)) -> None:
    """The audit hook: refuse socket use that could leave the machine (called for every audit event).

    What it uses is bound at definition (default arguments): rebinding this module's names does not
    switch it off. Code that sets out to defeat it still can (ctypes): a guard, not a sandbox.
    """
    if not event.startswith("socket."):
        return
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.bind"):
        sock, address = args[0], args[1]
        if address is None or getattr(sock, "family", None) not in _inet:
            return  # Unix sockets (str/bytes paths): the worker's own call socket, asyncio's self-pipe
        _check(address[0], address[1], "bind" if event == "socket.bind" else "connect")
    elif event == "socket.getaddrinfo":
        _check(args[0], args[1])
    elif event in ("socket.gethostbyname", "socket.gethostbyaddr"):
        _check(args[0], "-")
    elif event == "socket.__new__":
        family, kind = args[1], args[2]
        if family not in _SOCKET_FAMILIES or kind == socket.SOCK_RAW:
            raise PermissionError(f"awm-ray: scenario code may not open a socket of family {family}, type {kind}")


def install_network_guard() -> bool:
    """Refuse non-loopback connects, sends, binds and name lookups in this process (for good).

    An audit hook sees every Python-level socket operation, whoever makes it, so the process's own
    traffic must be loopback or Unix-socket too: a farm worker's is (httpx to 127.0.0.1, the call
    socket, Ray's C++ core which the hook never sees). Returns False if it was installed already.
    """
    with _install_lock:
        if "network" in _installed:
            return False
        sys.addaudithook(_audit)
        _installed.add("network")
        return True


# ---- process: scenario code may not end, signal or fork the process it runs in ---------------


class ScenarioExit(SystemExit):
    """Raised instead of ending the process when scenario code calls `os._exit` or `os.abort` (a
    SystemExit, so an in-process request answers HTTP 500 and an import fails, as for `sys.exit`)."""


_PROCESS_EVENTS = {
    "os.fork": "start processes (fork)", "os.forkpty": "start processes (forkpty)", "os.system": "run shell commands",
    "os.exec": "exec programs", "os.posix_spawn": "spawn processes", "os.spawn": "spawn processes",
    "subprocess.Popen": "start processes", "os.kill": "send signals", "os.killpg": "send signals",
    "signal.pthread_kill": "send signals", "ctypes.dlopen": "load native libraries (ctypes)",
    "ctypes.dlsym": "use native symbols (ctypes)", "ctypes.call_function": "call native functions (ctypes)",
    "ctypes.cdata": "read raw memory (ctypes)", "ctypes.string_at": "read raw memory (ctypes)",
    "resource.setrlimit": "change limits", "resource.prlimit": "change limits",
}  # fmt: skip
_PROC_SECRET = re.compile(r"/proc/(self|thread-self|\d+)(/task/\d+)?/(environ|mem|cmdline)$")


def _process_audit(event: str, args: tuple, events=_PROCESS_EVENTS, in_scenario=IN_SCENARIO.get,
                   secret=_PROC_SECRET.match) -> None:  # fmt: skip
    """Refuse, while scenario code runs (`IN_SCENARIO`), what would end, signal or fork this process,
    native calls, and reading a process's environment block or memory from /proc."""
    if event in events:
        if in_scenario():
            raise PermissionError(f"awm-ray: scenario code may not {events[event]} in the process that hosts it")
    elif event == "open" and in_scenario():
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if isinstance(path, str) and path.startswith("/proc/") and secret(os.path.normpath(path)):
            raise PermissionError(f"awm-ray: scenario code may not read {path}")


def _server_audit(event: str, args: tuple, events=_PROCESS_EVENTS, own=str(os.getpid()),
                  secret=_PROC_SECRET.match) -> None:  # fmt: skip
    """A scenario server's hook (the whole process is the scenario's): it may not fork, exec, send
    signals (but signal 0, an existence check), use ctypes or read another process's /proc secrets."""
    if event in events:
        if event in ("os.kill", "os.killpg") and args[1] == 0:
            return
        raise PermissionError(f"awm-ray: scenario code may not {events[event]}")
    if event == "open":
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if isinstance(path, str) and path.startswith("/proc/"):
            match = secret(os.path.normpath(path))
            if match and match.group(1) not in ("self", "thread-self", own):
                raise PermissionError(f"awm-ray: scenario code may not read {path}")


def install_process_guard(whole_process: bool = False) -> bool:
    """In this process, for good, refuse fork/exec/system/spawn, signals, ctypes and reading
    /proc/*/environ|mem|cmdline to scenario code. Returns False if installed already.

    In a process that also runs our own code (a farm worker hosting in-process), only code running
    as scenario code (`IN_SCENARIO`) is refused, and its `os._exit`/`os.abort` raise `ScenarioExit`
    instead of ending the process. `whole_process` (a scenario server, where everything is the
    scenario's): always refused, except ending or signalling itself, and its own /proc entries.
    A guard, not a sandbox: a native extension (`_posixsubprocess`) or an already loaded native
    library can still get around it.
    """
    import posix
    import signal as signal_module

    with _install_lock:
        if "process" in _installed:
            return False
        _installed.add("process")
        if whole_process:
            sys.addaudithook(_server_audit)
            return True
        real_exit, real_abort, real_raise = os._exit, os.abort, signal_module.raise_signal

        def _exit(code: int, _real=real_exit, _in=IN_SCENARIO.get) -> None:
            if _in():
                raise ScenarioExit(f"awm-ray: scenario code may not end the process that hosts it (os._exit({code}))")
            _real(code)

        def abort(_real=real_abort, _in=IN_SCENARIO.get) -> None:
            if _in():
                raise ScenarioExit("awm-ray: scenario code may not end the process that hosts it (os.abort())")
            _real()

        def raise_signal(sig: int, _real=real_raise, _in=IN_SCENARIO.get) -> None:
            if _in():
                raise PermissionError(f"awm-ray: scenario code may not send signals ({sig}) in the process that hosts it")
            _real(sig)

        os._exit = posix._exit = _exit  # type: ignore[assignment]
        os.abort = posix.abort = abort  # type: ignore[assignment]
        signal_module.raise_signal = raise_signal  # type: ignore[assignment]
        sys.addaudithook(_process_audit)
        return True


# ---- output: at most N bytes of scenario output ---------------------------------------------


class OutputBudget:
    """Bytes of scenario output a process lets through; past it, output is dropped and counted.

    The last `tail_chars` characters of what was dropped are kept, so a server that spammed and then
    crashed still ends its log with the crash (`summary()`, written at exit by `_serve.py`).
    """

    def __init__(self, limit: int, tail_chars: int = 0):
        self.limit = limit
        self.tail_chars = tail_chars
        self.written = 0
        self.dropped = 0
        self.tail = ""
        self.noted = False
        self.lock = threading.Lock()

    def admit(self, text: str) -> str:
        """The part of `text` that may still be written ("" once the budget is spent)."""
        size = len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
        with self.lock:
            if self.written + size <= self.limit:
                self.written += size
                return text
            room = self.limit - self.written
            kept = text[:room] if text.isascii() else text.encode("utf-8", "replace")[:room].decode("utf-8", "ignore")
            self.written = self.limit
            self.dropped += size - len(kept.encode("utf-8", "replace"))
            if self.tail_chars:
                self.tail = (self.tail[-self.tail_chars :] + text[len(kept) :][-self.tail_chars :])[-self.tail_chars :]
            first, self.noted = not self.noted, True
        if first:
            kept += f"\n[awm-ray: scenario output reached its {self.limit}-byte cap; the rest is dropped]\n"
        return kept

    def summary(self) -> str:
        if not self.dropped:
            return ""
        return f"\n[awm-ray: {self.dropped} bytes of output were dropped; the last of them follow]\n{self.tail}\n"


class CappedStream:
    """A text stream that writes through `budget` (only while `applies()`), else straight through."""

    def __init__(self, stream, budget: OutputBudget, applies=None):
        self._stream = stream
        self._budget = budget
        self._applies = applies

    def write(self, text: str) -> int:
        if self._applies is not None and not self._applies():
            return self._stream.write(text)
        kept = self._budget.admit(text)
        if kept:
            self._stream.write(kept)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def cap_output(limit: int, tail_chars: int = 0, scenario_only: bool = False) -> OutputBudget | None:
    """Wrap this process's `sys.stdout` and `sys.stderr` in one shared budget of `limit` bytes.

    `scenario_only`: count only what is written while `IN_SCENARIO` is set (an in-process worker,
    whose own logs must keep flowing); root-logger stream handlers are rewired too, since scenario
    code that logs through the root logger writes with them. Returns None if already installed.
    """
    global _budget
    with _install_lock:
        if "output" in _installed:
            return None
        _installed.add("output")
        budget = _budget = OutputBudget(limit, tail_chars)
    applies = IN_SCENARIO.get if scenario_only else None
    raw = {}
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None:
            raw[id(stream)] = wrapped = CappedStream(stream, budget, applies)
            setattr(sys, name, wrapped)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and id(handler.stream) in raw:
            handler.stream = raw[id(handler.stream)]
    return budget


def output_dropped() -> int:
    """Bytes of scenario output this process dropped (0 if no cap is installed)."""
    return _budget.dropped if _budget is not None else 0


# ---- environment -----------------------------------------------------------------------------


def scrub_environment() -> list[str]:
    """Remove from `os.environ` every variable not on a short allowlist, and any that names a secret.

    Kept: PATH-like, HOME, USER, LANG, LC_*, TZ, TMPDIR, PYTHON*, VIRTUAL_ENV and the RAY_* variables
    Ray reads, unless the name has TOKEN, SECRET, PASSWORD, KEY, CREDENTIAL or AUTH in it. This hides
    secrets from `os.environ`/`os.getenv` only: the process's initial environment block, as
    /proc/self/environ shows it, and its memory still hold them. Returns the names removed.
    """
    removed = [n for n in os.environ if _SENSITIVE_NAME.search(n) or not _KEEP_NAME.fullmatch(n)]
    for name in removed:
        del os.environ[name]
    with _install_lock:
        _installed.add("environment")
    return removed


def installed() -> frozenset[str]:
    """Which containments this process has ("network", "output", "environment", "process")."""
    return frozenset(_installed)
