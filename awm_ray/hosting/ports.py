"""Port leases: a port is bound and listening before the server that uses it exists.

The allocator binds the socket itself and hands its file descriptor to the server process, so
no other process can take the port between "found free" and "bound" (the bind-0-then-close race).
"""

from __future__ import annotations

import errno
import socket
import threading


class PortLease:
    """A listening loopback socket reserved for one server; `release()` gives the port back."""

    def __init__(self, allocator: PortAllocator, sock: socket.socket):
        self._allocator = allocator
        self._sock: socket.socket | None = sock
        self.host, self.port = sock.getsockname()[:2]

    def fileno(self) -> int:
        if self._sock is None:
            raise RuntimeError(f"port lease {self.port} has no socket any more")
        return self._sock.fileno()

    def hand_over(self) -> None:
        """Close our copy once the server holds the socket (a dead server then refuses at once)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def release(self) -> None:
        self.hand_over()
        self._allocator._forget(self.port)

    def __repr__(self) -> str:
        return f"PortLease({self.host}:{self.port})"


class PortAllocator:
    """Leases listening sockets on `host`, from `port_range` (inclusive) or kernel-chosen ports."""

    def __init__(self, host: str = "127.0.0.1", port_range: tuple[int, int] | None = None, backlog: int = 128):
        self.host = host
        self.port_range = port_range
        self.backlog = backlog
        self._leased: set[int] = set()
        self._lock = threading.Lock()
        self._cursor = port_range[0] if port_range else 0

    @property
    def leased(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._leased)

    def lease(self) -> PortLease:
        with self._lock:
            if self.port_range is None:
                sock = self._bind(0)
                assert sock is not None
            else:
                sock = self._bind_in_range()
            lease = PortLease(self, sock)
            self._leased.add(lease.port)
            return lease

    def _bind_in_range(self) -> socket.socket:
        low, high = self.port_range  # type: ignore[misc]
        size = high - low + 1
        for step in range(size):
            port = low + (self._cursor - low + step) % size
            if port in self._leased:
                continue
            sock = self._bind(port)
            if sock is not None:
                self._cursor = low + (port - low + 1) % size
                return sock
        raise RuntimeError(f"no free port in {low}-{high} on {self.host} ({len(self._leased)} leased by us)")

    def _bind(self, port: int) -> socket.socket | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and port:
                return None
            raise
        sock.listen(self.backlog)
        sock.set_inheritable(True)
        return sock

    def _forget(self, port: int) -> None:
        with self._lock:
            self._leased.discard(port)
