"""The sandbox's zygote: a pre-started Python that forks one limited child per job.

Run by path (`python -I _zygote.py --fd N --parent PID --root DIR --sys-path JSON --preload a,b`)
by `awm_ray.hosting.sandbox.Sandbox`, which talks to it over the inherited Unix socket `--fd`
with length-prefixed JSON frames (4-byte big-endian length, then UTF-8 JSON):

  owner -> zygote  {"id": n, "target": "pkg.mod:fn", "kwargs": "<JSON object>", "workdir": str | null,
                    "limits": {"wall_s", "cpu_s", "memory_mb", "network", "file_mb"}}
  zygote -> owner  {"ready": true, "pid": int, "preloaded": [...], "preload_errors": {...}}   (once)
                   {"id": n, "ok": bool, "value": JSON, "error": str | null, "message": str, "wall_ms": float}

The zygote is single-threaded (it forks) and does no job work itself. Each child: its own process
group and temp dir (its cwd unless `workdir` is given, and its TMPDIR/HOME), a minimal environment,
every inherited descriptor closed, stdout/stderr into a capped file whose tail goes into error
messages, rlimits (address space = what the zygote maps + `memory_mb`, CPU seconds, file size, no
core files), and an audit hook (`_install_hook`) that refuses fork/exec/system/spawn, signals to
other processes, ctypes, other processes' /proc entries, writes outside its own directories and
sockets beyond its `network` setting. The child dies with the zygote (PR_SET_PDEATHSIG) and the
zygote with its owner (the socket closes, or PR_SET_PDEATHSIG with SIGTERM); with `--remove-root`
the zygote then removes its root, so an owner killed outright leaves no temp dir behind. A child
past its wall-clock limit
is killed with its process group. Stdlib only at import; the owner's `sys.path` is adopted before
the preloads, so jobs import what the owner can.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import importlib.util
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import struct
import sys
import time
import traceback

PR_SET_PDEATHSIG = 1
MAX_RESULT_BYTES = 16 * 2**20
OUTPUT_TAIL_CHARS = 1_500
RESULT_FD = 3
_MIB = 2**20
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# audit events a job may never raise (the fork-bomb guard: as root, RLIMIT_NPROC does not bind)
_REFUSED_EVENTS = {
    "os.fork": "start processes (fork)", "os.forkpty": "start processes (forkpty)",
    "os.system": "run shell commands (os.system)", "os.exec": "exec programs", "os.posix_spawn": "spawn processes",
    "os.spawn": "spawn processes", "subprocess.Popen": "start processes (subprocess)", "pty.spawn": "spawn processes",
    "ctypes.dlopen": "load native libraries (ctypes)", "ctypes.dlsym": "use native symbols (ctypes)",
    "ctypes.call_function": "call native functions (ctypes)", "ctypes.cdata": "read raw memory (ctypes)",
    "ctypes.string_at": "read raw memory (ctypes)", "ctypes.wstring_at": "read raw memory (ctypes)",
    "sys.remote_exec": "attach to processes", "os.setns": "switch namespaces", "os.unshare": "unshare namespaces",
    "resource.setrlimit": "change its limits", "resource.prlimit": "change its limits",
    "gc.get_objects": "walk the interpreter's objects", "gc.get_referrers": "walk the interpreter's objects",
    "gc.get_referents": "walk the interpreter's objects",
}  # fmt: skip
# native modules that start processes or touch memory without raising the events above
_REFUSED_MODULES = ("_posixsubprocess", "_ctypes", "ctypes", "_testcapi", "_testinternalcapi")
# file-mutating events: (positional indexes of the paths they change)
_PATH_EVENTS = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
    "os.chflags": (0,), "os.lchflags": (0,), "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.move": (0, 1),
    "os.mkfifo": (0,), "os.mknod": (0,),
}  # fmt: skip


class Refused(PermissionError):
    """Raised by the child's audit hook: the job tried something the sandbox does not allow."""


# ---- frames --------------------------------------------------------------------------------


def _send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


class _Reader:
    """Splits the control socket's bytes into frames."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[dict]:
        self.buffer += data
        out = []
        while len(self.buffer) >= 4:
            (size,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) < 4 + size:
                break
            out.append(json.loads(bytes(self.buffer[4 : 4 + size])))
            del self.buffer[: 4 + size]
        return out


# ---- the child -------------------------------------------------------------------------------


def _libc_prctl(option: int, arg: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0)


def _address_space_now() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _real(path: object, cwd: str) -> str | None:
    if isinstance(path, int):
        return None  # a descriptor: it was opened (and checked) before
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        path = os.fspath(path)  # type: ignore[arg-type]
    return os.path.realpath(os.path.join(cwd, path))


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _install_hook(writable: tuple[str, ...], network: str, guard_path: str) -> None:
    """The child's audit hook (see the module doc). What it uses is bound now, as defaults."""
    own = str(os.getpid())
    if network == "loopback":
        spec = importlib.util.spec_from_file_location("awm_ray_sandbox_guard", guard_path)
        guard = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(guard)  # type: ignore[union-attr]
        network_check = guard._audit
    else:
        network_check = None

    def refuse(what: str) -> None:
        raise Refused(f"awm-ray sandbox: this job may not {what}")

    def hook(event: str, args: tuple, refused=_REFUSED_EVENTS, paths=_PATH_EVENTS, real=_real, inside=_inside,
             getcwd=os.getcwd, write_flags=_WRITE_FLAGS, unix=socket.AF_UNIX, modules=_REFUSED_MODULES) -> None:  # fmt: skip
        if event in refused:
            refuse(refused[event])
        elif event == "import":
            if args[0] in modules:
                refuse(f"import {args[0]}")
        elif event == "open":
            path, mode, flags = args
            target = real(path, getcwd())
            if target is None:
                return
            if target.startswith("/proc/"):
                pid = target.split("/")[2]
                if pid.isdigit() and pid != own:
                    refuse(f"read another process's /proc entry ({target})")
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & write_flags)
            if writing and not inside(target, writable) and target != "/dev/null":
                refuse(f"write outside its own directory ({target})")
        elif event in paths:
            for index in paths[event]:
                target = real(args[index], getcwd()) if index < len(args) else None
                if target is not None and not inside(target, writable):
                    refuse(f"change files outside its own directory ({event} {target})")
        elif event in ("os.kill", "os.killpg"):
            if str(args[0]) != own:
                refuse(f"send signals to other processes ({event} {args[0]})")
        elif event == "sqlite3.connect":
            database = args[0]
            if isinstance(database, bytes):
                database = os.fsdecode(database)
            if not isinstance(database, str):
                database = os.fspath(database)
            if database in ("", ":memory:") or database.startswith("file::memory:"):
                return
            if database.startswith("file:"):
                location, _, query = database[5:].partition("?")
                if "mode=ro" in query.split("&") or "immutable=1" in query.split("&"):
                    return
                database = location.removeprefix("//")
            target = real(database, getcwd())
            if target is not None and not inside(target, writable):
                refuse(
                    f"open a database outside its own directory for writing ({target}); open it read-only "
                    "(sqlite3.connect('file:PATH?mode=ro', uri=True)) or pass a copy in the job's workdir"
                )
        elif event.startswith("socket."):
            if network_check is not None:
                network_check(event, args)
            elif event == "socket.__new__":
                if args[1] != unix:
                    refuse(f"open network sockets (family {args[1]}; this job's network is 'none')")
            elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
                refuse(f"use sockets ({event}; this job's network is 'none')")
            elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
                refuse(f"look up network names ({event}; this job's network is 'none')")

    for name in _REFUSED_MODULES:  # already imported (by the zygote or a preload): out of reach
        sys.modules.pop(name, None)
    subprocess = sys.modules.get("subprocess")
    if subprocess is not None:
        subprocess._posixsubprocess = None  # type: ignore[attr-defined]
    sys.modules["__main__"].__dict__.pop("ctypes", None)
    sys.addaudithook(hook)


def _child(job: dict, jobdir: str, result_fd: int, guard_path: str) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        _libc_prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.dup2(result_fd, RESULT_FD)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        out = os.open(os.path.join(jobdir, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(RESULT_FD + 1, 1 << 16)  # the control socket, other jobs' pipes, the zygote's files
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGPIPE else signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the file limit: an OSError, not a silent death
        limits = job["limits"]
        workdir = job.get("workdir")
        tmp = os.path.join(jobdir, "tmp")
        os.makedirs(tmp, exist_ok=True)
        os.chdir(workdir or jobdir)
        os.environ.clear()
        os.environ.update({"PATH": os.defpath, "LANG": "C.UTF-8", "HOME": tmp, "TMPDIR": tmp})
        import tempfile

        tempfile.tempdir = None
        cpu = max(1, int(-(-float(limits["cpu_s"]) // 1)))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_mb"] * _MIB),) * 2)
        memory = _address_space_now() + int(limits["memory_mb"] * _MIB)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        writable = tuple(os.path.realpath(p) for p in ([jobdir] + ([workdir] if workdir else [])))
        _install_hook(writable, limits["network"], guard_path)
        outcome = _run_job(job)
    except BaseException as exc:  # noqa: BLE001 - setting up failed: say so
        outcome = {"ok": False, "value": None, "error": "crashed", "message": f"the sandbox could not start the job: {exc!r}"}
        code = 70
    try:
        data = json.dumps(outcome, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps({"ok": False, "value": None, "error": "raised",
                           "message": f"the job's result is not JSON: {exc}"}).encode()  # fmt: skip
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001, S110 - its streams are its own business
        pass
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(RESULT_FD, view) :]
    except OSError:
        code = 71
    os._exit(code)


def _run_job(job: dict) -> dict:
    module_name, _, attr = job["target"].partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attr)
        kwargs = json.loads(job["kwargs"]) if job.get("kwargs") else {}
        if not isinstance(kwargs, dict):
            raise TypeError(f"kwargs must be a JSON object, got {type(kwargs).__name__}")
        value = function(**kwargs)
        if hasattr(value, "__await__"):
            import asyncio

            value = asyncio.run(value)
        json.dumps(value, allow_nan=False)  # not JSON: reported as such, below
        return {"ok": True, "value": value, "error": None, "message": ""}
    except MemoryError:
        return {"ok": False, "value": None, "error": "memory",
                "message": f"MemoryError: the job passed its memory limit of {job['limits']['memory_mb']:g} MB"}  # fmt: skip
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: a job's exit is its error
        refused = _refusal(exc)
        kind = "refused" if refused is not None else "raised"
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next, limit=-4)).strip()
        head = str(refused) if refused is not None else f"{type(exc).__name__}: {exc}"
        return {"ok": False, "value": None, "error": kind, "message": f"{head}\n{text[-3000:]}"}


def _refusal(exc: BaseException) -> Refused | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, Refused) or (isinstance(exc, PermissionError) and "awm-ray" in str(exc)):
            return exc  # type: ignore[return-value]
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


# ---- the zygote ------------------------------------------------------------------------------


class _Job:
    __slots__ = ("id", "pid", "pidfd", "pipe", "data", "deadline", "started", "limits", "jobdir", "timed_out",
                 "overflow")  # fmt: skip

    def __init__(self, job_id: int, limits: dict, jobdir: str) -> None:
        self.id, self.limits, self.jobdir = job_id, limits, jobdir
        self.started = time.monotonic()
        self.deadline = self.started + float(limits["wall_s"])
        self.data = bytearray()
        self.timed_out = self.overflow = False
        self.pid = self.pidfd = self.pipe = -1


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - OUTPUT_TAIL_CHARS))
            return fh.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _verdict(job: _Job, status: int, rusage: resource.struct_rusage) -> dict:
    """What became of a finished child (see the sandbox's error kinds)."""
    tail = _tail(os.path.join(job.jobdir, "output.log"))
    with_tail = f"\n--- its output ends ---\n{tail}" if tail else ""
    cpu = rusage.ru_utime + rusage.ru_stime
    limits = job.limits
    if job.timed_out:
        return {"ok": False, "value": None, "error": "timeout",
                "message": f"the job passed its wall-clock limit of {limits['wall_s']:g} s and was killed{with_tail}"}  # fmt: skip
    if job.overflow:
        return {"ok": False, "value": None, "error": "refused",
                "message": f"the job's result is larger than {MAX_RESULT_BYTES} bytes"}  # fmt: skip
    if job.data:
        try:
            outcome = json.loads(bytes(job.data))
        except ValueError:
            outcome = None
        if isinstance(outcome, dict) and "ok" in outcome:
            if not outcome["ok"] and outcome.get("error") in ("raised", "crashed") and tail:
                outcome["message"] += with_tail
            return outcome
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= float(limits["cpu_s"]) - 0.05):
            return {"ok": False, "value": None, "error": "cpu",
                    "message": f"the job used its CPU limit of {limits['cpu_s']:g} s and was killed{with_tail}"}  # fmt: skip
        how = f"was killed by {signal.Signals(sig).name}"
    else:
        how = f"exited with code {os.WEXITSTATUS(status)} before returning a result"
    if any(m in tail for m in ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")):
        return {"ok": False, "value": None, "error": "memory",
                "message": f"the job {how} after running out of memory (limit {limits['memory_mb']:g} MB){with_tail}"}  # fmt: skip
    return {"ok": False, "value": None, "error": "crashed", "message": f"the job {how}{with_tail}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--sys-path", required=True)
    parser.add_argument("--preload", default="")
    parser.add_argument("--warmup", default="")
    parser.add_argument("--remove-root", action="store_true", help="remove --root when the owner dies")
    args = parser.parse_args()
    global _ROOT_TO_REMOVE
    _ROOT_TO_REMOVE = args.root if args.remove_root else None
    signal.signal(signal.SIGTERM, lambda *_: _owner_gone())
    _libc_prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != args.parent:  # the owner died before prctl took effect
        _owner_gone()
    sys.path[:] = json.loads(args.sys_path)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the owner's to handle
    import warnings

    warnings.simplefilter("ignore")
    preloaded, errors = [], {}
    for name in filter(None, args.preload.split(",")):
        try:
            importlib.import_module(name)
            preloaded.append(name)
        except Exception as exc:  # noqa: BLE001 - reported to the owner; jobs import it again themselves
            errors[name] = f"{type(exc).__name__}: {exc}"
    if args.warmup:  # trusted code the owner names, run once here so every child starts with warm caches
        try:
            module_name, _, attr = args.warmup.partition(":")
            getattr(importlib.import_module(module_name), attr)(args.root)
        except Exception as exc:  # noqa: BLE001 - a cold zygote still works
            errors[args.warmup] = f"{type(exc).__name__}: {exc}"
    gc.collect()
    gc.freeze()  # keep the preloaded objects' pages shared with the children (copy-on-write)
    guard_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard.py")
    ctl = socket.socket(fileno=args.fd)
    _send(ctl, {"ready": True, "pid": os.getpid(), "preloaded": preloaded, "preload_errors": errors})
    _serve(ctl, args.root, guard_path)


_JOBS: dict[int, _Job] = {}  # running jobs by pid
_ROOT_TO_REMOVE: str | None = None


def _owner_gone() -> None:
    """The owner died or closed the socket: kill every job's process group, remove our root if asked, exit."""
    for pid in list(_JOBS):
        _kill_group(pid)
    if _ROOT_TO_REMOVE:
        shutil.rmtree(_ROOT_TO_REMOVE, ignore_errors=True)
    os._exit(0)


def _serve(ctl: socket.socket, root: str, guard_path: str) -> None:
    selector = selectors.DefaultSelector()
    selector.register(ctl, selectors.EVENT_READ, "ctl")
    reader = _Reader()
    jobs = _JOBS
    counter = 0
    while True:
        now = time.monotonic()
        for job in jobs.values():
            if not job.timed_out and now >= job.deadline:
                job.timed_out = True
                _kill_group(job.pid)
        deadlines = [j.deadline for j in jobs.values() if not j.timed_out]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        for key, _ in selector.select(timeout):
            if key.data == "ctl":
                try:
                    data = ctl.recv(1 << 20)
                except OSError:
                    data = b""
                if not data:  # the owner is gone: so are we, and our children
                    _owner_gone()
                for request in reader.feed(data):
                    counter += 1
                    job = _start(request, root, counter, guard_path, selector)
                    if isinstance(job, dict):
                        _send(ctl, job)
                    else:
                        jobs[job.pid] = job
            elif key.data[0] == "pipe":
                job = key.data[1]
                try:
                    chunk = os.read(job.pipe, 1 << 16)
                except OSError:
                    chunk = b""
                if chunk and len(job.data) + len(chunk) <= MAX_RESULT_BYTES:
                    job.data += chunk
                else:
                    job.overflow = job.overflow or bool(chunk)
                    selector.unregister(job.pipe)
                    os.close(job.pipe)
                    job.pipe = -1
            else:  # ("exit", job): its pidfd is readable
                job = key.data[1]
                _kill_group(job.pid)  # anything it left in its group (it is a zombie: the group still exists)
                pid, status, rusage = os.wait4(job.pid, os.WNOHANG)
                if pid == 0:
                    continue
                if job.pipe >= 0:  # what it wrote before exiting
                    while True:
                        try:
                            chunk = os.read(job.pipe, 1 << 16)
                        except OSError:
                            break
                        if not chunk:
                            break
                        if len(job.data) + len(chunk) > MAX_RESULT_BYTES:
                            job.overflow = True
                            break
                        job.data += chunk
                    selector.unregister(job.pipe)
                    os.close(job.pipe)
                selector.unregister(job.pidfd)
                os.close(job.pidfd)
                del jobs[job.pid]
                outcome = _verdict(job, status, rusage)
                outcome.update(id=job.id, wall_ms=round((time.monotonic() - job.started) * 1000, 3))
                shutil.rmtree(job.jobdir, ignore_errors=True)
                _send(ctl, outcome)


def _start(request: dict, root: str, counter: int, guard_path: str, selector) -> _Job | dict:
    jobdir = os.path.join(root, f"job-{counter:06d}")
    try:
        os.makedirs(jobdir, mode=0o700)
        job = _Job(request["id"], request["limits"], jobdir)
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError as exc:
        shutil.rmtree(jobdir, ignore_errors=True)
        return {"id": request["id"], "ok": False, "value": None, "error": "crashed", "wall_ms": 0.0,
                "message": f"the sandbox could not start a child: {exc}"}  # fmt: skip
    if pid == 0:
        os.close(read_end)
        _child(request, jobdir, write_end, guard_path)
    os.close(write_end)
    try:
        os.setpgid(pid, pid)  # as the child does: whoever comes first, the group exists before any kill
    except OSError:
        pass
    job.pid, job.pipe = pid, read_end
    job.pidfd = os.pidfd_open(pid)
    selector.register(job.pipe, selectors.EVENT_READ, ("pipe", job))
    selector.register(job.pidfd, selectors.EVENT_READ, ("exit", job))
    return job


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    main()
