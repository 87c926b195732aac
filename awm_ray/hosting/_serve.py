"""Run one scenario app under uvicorn on an inherited listening socket.

Executed by path (`python _serve.py --app app.py --fd N`), so it needs only uvicorn, not awm_ray.
It dies with its parent (PR_SET_PDEATHSIG) and never runs the app's `__main__` block.
With `--create-schema` it only imports the app (whose import runs `create_all`) and exits.
Before the app is imported, `guard.py` (loaded by path: no awm_ray here) caps what the process
writes to its log (`--max-output-bytes`), refuses fork/exec/system, signals to other processes,
ctypes and other processes' /proc secrets, and with `--loopback-only` non-loopback sockets; rlimits
bound its address space (`--memory-mb`: past it, allocations raise MemoryError) and CPU seconds
(`--cpu-s`: past it, the kernel kills it).
"""

import argparse
import atexit
import ctypes
import importlib.util
import os
import resource
import signal
import socket
import sys
import traceback
import warnings


def _die_with_parent(expected_parent: int) -> None:
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
        os._exit(1)


def _limit(memory_mb: int, cpu_s: float) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    if cpu_s > 0:
        seconds = max(1, int(-(-cpu_s // 1)))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _contain(max_output_bytes: int, loopback_only: bool) -> None:
    spec = importlib.util.spec_from_file_location("awm_ray_guard", os.path.join(os.path.dirname(__file__), "guard.py"))
    guard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(guard)
    guard.install_process_guard(whole_process=True)
    if max_output_bytes > 0:
        # the tail of what was dropped goes to the log at exit: a crash after a flood still ends the log
        budget = guard.cap_output(max_output_bytes, tail_chars=1_500)
        atexit.register(lambda: (sys.__stderr__.write(budget.summary()), sys.__stderr__.flush()))
    if loopback_only:
        guard.install_network_guard()


def _load_app(path: str):
    spec = importlib.util.spec_from_file_location("awm_scenario_app", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    app = getattr(module, "app", None)
    if app is None:
        raise SystemExit(f"awm-ray: {path} defines no module-level `app`")
    return app


def _errors_keep_connection(app):
    """Log an app exception and keep the connection open, as the in-process backend does.

    Starlette has already sent the 500; uvicorn would otherwise close the keep-alive connection
    without a `Connection: close`, and the client's next request on it would fail.
    """

    async def wrapped(scope, receive, send):
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except (Exception, SystemExit):  # sys.exit() in a handler is an app error, not a server exit
            if scope["type"] != "http":
                raise
            traceback.print_exc()
            if not started:
                headers = [(b"content-type", b"text/plain; charset=utf-8")]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": b"Internal Server Error"})

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--fd", type=int)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--create-schema", action="store_true")
    parser.add_argument("--max-output-bytes", type=int, default=0)
    parser.add_argument("--loopback-only", action="store_true")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--cpu-s", type=float, default=0)
    args = parser.parse_args()
    _die_with_parent(args.parent)
    _limit(args.memory_mb, args.cpu_s)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    _contain(args.max_output_bytes, args.loopback_only)
    app = _load_app(args.app)
    if args.create_schema:
        return
    import uvicorn

    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(_errors_keep_connection(app), log_level="warning", access_log=False, timeout_keep_alive=600, lifespan="auto")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
