"""A bounded connection server: one selector thread, a fixed pool of workers.

Go's ``http.Server`` spends a goroutine per connection, which costs next to nothing; a
Python thread per connection does not (``ThreadingHTTPServer`` held one thread for each
of 200 idle clients), and doing the TLS handshake in the accept loop let one silent
client block every other. Here:

- the selector thread only accepts (non-blocking) and waits for the first bytes of each
  connection; an idle connection holds a file descriptor, not a thread;
- at most ``max_connections`` are open at once: a new connection beyond that closes
  the one idle the longest, or is itself closed when every open one is being served;
- a connection that sends nothing for ``idle_timeout`` is closed;
- once bytes arrive, a worker from a pool of ``workers`` threads does the TLS handshake
  (bounded by ``handshake_timeout``) and serves one request under an overall
  ``request_timeout`` deadline (each read gets the time left), then closes the
  connection.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONNECTIONS = 128
DEFAULT_WORKERS = 8
DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_HANDSHAKE_TIMEOUT = 10.0
DEFAULT_REQUEST_TIMEOUT = 30.0

# (connection ready to read, client address, absolute monotonic deadline) -> None
ConnectionHandler = Callable[[socket.socket, tuple[str, int], float], None]


@dataclass(frozen=True)
class Limits:
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    workers: int = DEFAULT_WORKERS
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT


@dataclass
class _Listener:
    sock: socket.socket
    tls: ssl.SSLContext | None
    handler: ConnectionHandler


@dataclass
class _Idle:
    listener: _Listener
    address: tuple[str, int]
    deadline: float


class BoundedConnectionServer:
    """Serves several listening sockets with bounded threads and connections."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._listeners: list[_Listener] = []
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._lock = threading.Lock()
        # Every connection accepted and not yet closed (idle or with a worker).
        self._open: set[socket.socket] = set()
        self._idle: dict[socket.socket, _Idle] = {}
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(
            max_workers=self.limits.workers, thread_name_prefix="jobctl-serve"
        )

    def add_listener(
        self, sock: socket.socket, handler: ConnectionHandler, tls: ssl.SSLContext | None
    ) -> None:
        sock.setblocking(False)
        listener = _Listener(sock, tls, handler)
        self._listeners.append(listener)
        self._selector.register(sock, selectors.EVENT_READ, listener)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def start(self, name: str = "jobctl-accept") -> None:
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop accepting, close every connection and listener, wait for the workers
        (each is bounded by the request deadline)."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            conns = list(self._open)
            self._open.clear()
            self._idle.clear()
        for conn in conns:
            _close(conn)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.sock.close()
        self._selector.close()
        _close(self._wake_r)
        _close(self._wake_w)

    # -- the selector thread ------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self._once()
            except Exception:  # keep serving: one bad connection must not stop the loop
                logger.exception("serving loop error")

    def _once(self) -> None:
        now = time.monotonic()
        with self._lock:
            deadlines = [idle.deadline for idle in self._idle.values()]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 1.0
        for key, _ in self._selector.select(timeout=min(timeout, 1.0)):
            data = key.data
            if data is None:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
            elif isinstance(data, _Listener):
                self._accept(data)
            else:
                self._dispatch(key.fileobj)  # type: ignore[arg-type]
        self._expire(time.monotonic())

    def _accept(self, listener: _Listener) -> None:
        while True:
            try:
                conn, address = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:
                logger.debug("accept failed: %s", err)
                return
            evicted: socket.socket | None = None
            with self._lock:
                if len(self._open) >= self.limits.max_connections and self._idle:
                    # Make room by closing the connection idle the longest, so that a
                    # flood of silent clients cannot lock out probes and scrapes.
                    evicted = min(self._idle, key=lambda c: self._idle[c].deadline)
                    del self._idle[evicted]
                    self._open.discard(evicted)
                full = len(self._open) >= self.limits.max_connections
                if not full:
                    self._open.add(conn)
                    self._idle[conn] = _Idle(
                        listener, address, time.monotonic() + self.limits.idle_timeout
                    )
            if evicted is not None:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self._selector.unregister(evicted)
                _close(evicted)
            if full:
                logger.log(5, "too many connections, closing one from %s", address)
                _close(conn)
                continue
            conn.setblocking(False)
            self._selector.register(conn, selectors.EVENT_READ, "conn")

    def _dispatch(self, conn: socket.socket) -> None:
        self._selector.unregister(conn)
        with self._lock:
            idle = self._idle.pop(conn, None)
        if idle is None:
            return
        self._pool.submit(self._serve, conn, idle)

    def _expire(self, now: float) -> None:
        with self._lock:
            expired = [conn for conn, idle in self._idle.items() if idle.deadline <= now]
            for conn in expired:
                del self._idle[conn]
                self._open.discard(conn)
        for conn in expired:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(conn)
            _close(conn)

    # -- a worker -----------------------------------------------------------------

    def _serve(self, conn: socket.socket, idle: _Idle) -> None:
        listener = idle.listener
        deadline = time.monotonic() + self.limits.request_timeout
        sock: socket.socket = conn
        try:
            conn.setblocking(True)
            if listener.tls is not None:
                conn.settimeout(min(self.limits.handshake_timeout, self.limits.request_timeout))
                sock = listener.tls.wrap_socket(conn, server_side=True)
            listener.handler(sock, idle.address, deadline)
        except (OSError, ssl.SSLError) as err:
            logger.log(5, "connection from %s ended: %s", idle.address, err)
        except Exception:
            logger.exception("error serving %s", idle.address)
        finally:
            with self._lock:
                self._open.discard(conn)
            _close(sock)
            if sock is not conn:
                _close(conn)


def _close(sock: socket.socket) -> None:
    # shutdown() first: close() alone does not wake a worker blocked reading it.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
