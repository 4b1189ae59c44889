"""A loopback TCP proxy that can silently drop all traffic for a while.

It stands between a client (jobctl) and kube-apiserver to reproduce what a lost node,
a load balancer or a NAT idle drop does to a long-lived connection: packets stop
arriving, and nothing tells either end. While the proxy is *black-holed* it keeps every
socket open and keeps reading from both sides, but discards what it reads: no byte is
forwarded, no FIN and no RST is sent. New connections are accepted (the kernel completes
the TCP handshake on loopback anyway) and get the same silence.

When the hole ends, new connections are forwarded again. What happens to the connections
that saw the hole depends on ``sever``:

- ``sever=True`` (the default): they stay dead. Their state is lost, as behind a NAT or
  load balancer that dropped it: whatever either end sends is discarded for good, and a
  close by the server is not passed on. Only the client can end such a connection (by a
  timeout or a health check of its own); the proxy then closes the server side too. A
  client without such a bound hangs on it forever, which is the failure this models.
- ``sever=False``: forwarding resumes on them. The bytes dropped in the hole are gone,
  so a TLS stream usually fails at its next record and the receiver closes it; that
  error wakes up even a client with no timeouts, so this mode is the more lenient one.

If one end closes during a hole, the close is hidden from the other end; with
``sever=False`` the pair is closed when the hole ends.

A userspace proxy cannot drop TCP keepalive probes: the proxy's own kernel answers them.
So only bounds above TCP (request and read timeouts, HTTP health pings, watch timeouts
enforced by the client) can find a dead connection through it.

Everything runs on one thread with one selector; the number of open connection pairs is
bounded (``max_connections``), and a connection past the bound is closed at once.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
# A side stops being read while this much is queued for its peer (TCP flow control
# then pushes back on the sender), so memory per connection stays bounded.
_MAX_PENDING = 1024 * 1024
_CONNECT_TIMEOUT = 10.0


@dataclass(eq=False)
class _End:
    """One socket of a connection pair and the bytes waiting to be written to it."""

    sock: socket.socket
    pending: bytearray = field(default_factory=bytearray)
    open: bool = True
    # Set when the peer sent EOF: shut our write side down once pending is flushed.
    eof_to_send: bool = False


@dataclass(eq=False)
class _Pair:
    client: _End
    upstream: _End
    connecting: bool = True
    connect_deadline: float = 0.0
    closed: bool = False
    # The pair saw a hole and (with sever=True) stays silent for good.
    severed: bool = False

    def other(self, end: _End) -> _End:
        return self.upstream if end is self.client else self.client


@dataclass
class ProxyStats:
    """Counters (monotonic over the proxy's life)."""

    accepted: int = 0
    refused: int = 0
    open_pairs: int = 0
    bytes_forwarded: int = 0
    bytes_dropped: int = 0
    holes: int = 0
    # An end closed during a hole, the close not passed on to its peer.
    eofs_hidden: int = 0


class BlackholeProxy:
    """``listen_host:port`` -> ``upstream_host:upstream_port``, with a black-hole switch.

    ``start_blackhole()``/``end_blackhole()`` switch by hand; ``blackhole(seconds)``
    switches on now and off after ``seconds`` (measured with ``monotonic``).
    ``resumed_at`` is the ``monotonic`` time the last hole ended (None before any).
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        max_connections: int = 512,
        monotonic: Callable[[], float] = time.monotonic,
        sever: bool = True,
    ) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._sever = sever
        self._max_connections = max_connections
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # Guarded by _lock: the hole's state, read by the loop on every pass.
        self._hole = False
        self._hole_until: float | None = None
        self._resumed_at: float | None = None
        self._resumed = threading.Condition(self._lock)
        self.stats = ProxyStats()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((listen_host, listen_port))
        self._listener.listen(128)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._pairs: dict[socket.socket, tuple[_Pair, _End]] = {}
        # A socketpair wakes the loop when the switch moves or the proxy stops.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ---- public ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> BlackholeProxy:
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._loop, name="blackhole-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every socket and end the loop thread."""
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_everything()

    def __enter__(self) -> BlackholeProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start_blackhole(self) -> None:
        """Drop every byte in both directions from now on, until ``end_blackhole``."""
        with self._lock:
            if not self._hole:
                self.stats.holes += 1
            self._hole = True
            self._hole_until = None
        self._wake()

    def blackhole(self, seconds: float) -> float:
        """Drop every byte for ``seconds``; returns the ``monotonic`` time it ends."""
        with self._lock:
            if not self._hole:
                self.stats.holes += 1
            self._hole = True
            until = self._monotonic() + seconds
            self._hole_until = until
        self._wake()
        return until

    def end_blackhole(self) -> None:
        """Forward again."""
        with self._lock:
            self._end_hole_locked()
        self._wake()

    @property
    def blackholed(self) -> bool:
        with self._lock:
            return self._hole

    @property
    def resumed_at(self) -> float | None:
        with self._lock:
            return self._resumed_at

    def wait_resumed(self, timeout: float) -> bool:
        """Wait until no hole is open; True if so within ``timeout``."""
        with self._resumed:
            return self._resumed.wait_for(lambda: not self._hole, timeout)

    def close_connections(self) -> None:
        """Close every open connection pair (both ends), e.g. to model a reset."""
        self._close_pairs_requested = True
        self._wake()

    # ---- the loop --------------------------------------------------------------------

    _close_pairs_requested = False

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _end_hole_locked(self) -> None:
        if self._hole:
            self._hole = False
            self._hole_until = None
            self._resumed_at = self._monotonic()
            self._resumed.notify_all()

    def _in_hole(self) -> bool:
        with self._lock:
            until = self._hole_until
            if self._hole and until is not None and self._monotonic() >= until:
                self._end_hole_locked()
            return self._hole

    def _timeout(self) -> float:
        with self._lock:
            until = self._hole_until
        wait = 1.0
        if until is not None:
            wait = min(wait, max(0.0, until - self._monotonic()))
        return wait

    def _loop(self) -> None:
        was_hole = False
        try:
            while not self._stopping:
                events = self._selector.select(self._timeout())
                hole = self._in_hole()
                if hole and not was_hole and self._sever:
                    for pair, _ in self._pairs.values():
                        pair.severed = True
                if was_hole and not hole:
                    self._after_hole()
                was_hole = hole
                if self._close_pairs_requested:
                    self._close_pairs_requested = False
                    for pair in {p for p, _ in self._pairs.values()}:
                        self._close_pair(pair)
                for key, mask in events:
                    sock = key.fileobj
                    if sock is self._wake_r:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                    elif sock is self._listener:
                        self._accept(hole)
                    else:
                        assert isinstance(sock, socket.socket)
                        entry = self._pairs.get(sock)
                        if entry is not None:
                            pair = entry[0]
                            self._service(pair, entry[1], mask, hole or pair.severed)
                self._expire_connects()
        except Exception:  # the proxy must not die silently in the middle of a run
            log.exception("blackhole proxy loop failed")
            raise

    def _accept(self, hole: bool) -> None:
        for _ in range(64):
            try:
                client, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:
                log.warning("blackhole proxy: accept failed: %s", err)
                return
            client.setblocking(False)
            if self.stats.open_pairs >= self._max_connections:
                self.stats.refused += 1
                client.close()
                continue
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            upstream.setblocking(False)
            code = upstream.connect_ex(self._upstream)
            if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                upstream.close()
                client.close()
                self.stats.refused += 1
                continue
            pair = _Pair(
                _End(client),
                _End(upstream),
                connect_deadline=self._monotonic() + _CONNECT_TIMEOUT,
                severed=self._sever and hole,
            )
            self.stats.accepted += 1
            self.stats.open_pairs += 1
            self._pairs[client] = (pair, pair.client)
            self._pairs[upstream] = (pair, pair.upstream)
            self._selector.register(client, selectors.EVENT_READ, None)
            self._selector.register(upstream, selectors.EVENT_WRITE, None)

    def _expire_connects(self) -> None:
        now = self._monotonic()
        for pair in [p for p, _ in self._pairs.values() if p.connecting]:
            if now >= pair.connect_deadline:
                self._close_pair(pair)

    def _service(self, pair: _Pair, end: _End, mask: int, hole: bool) -> None:
        if pair.connecting and end is pair.upstream:
            err = end.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                # Upstream is down (e.g. kube-apiserver restarting): like a refused dial.
                self._close_pair(pair)
                return
            pair.connecting = False
        if mask & selectors.EVENT_READ and end.open:
            self._read(pair, end, hole)
        if end.open and end.sock in self._pairs and mask & selectors.EVENT_WRITE:
            self._flush(pair, end, hole)
        if end.sock in self._pairs:
            self._update_interest(pair)

    def _read(self, pair: _Pair, end: _End, hole: bool) -> None:
        try:
            data = end.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        peer = pair.other(end)
        if not data:
            self._eof(pair, end, hole)
            return
        if hole or not peer.open:
            self.stats.bytes_dropped += len(data)
            return
        peer.pending += data

    def _eof(self, pair: _Pair, end: _End, hole: bool) -> None:
        """``end`` closed (or failed). Outside a hole the peer is told; inside, not.

        ``hole`` is true inside a hole and on a severed pair."""
        self._close_end(end)
        peer = pair.other(end)
        if not peer.open or pair.connecting:
            self._close_pair(pair)
        elif pair.severed and end is pair.client:
            # The client gave up on the dead connection: nobody is left to keep silent to.
            self._close_pair(pair)
        elif hole:
            self.stats.eofs_hidden += 1
        else:
            if peer.pending:
                peer.eof_to_send = True
            else:
                self._close_pair(pair)

    def _flush(self, pair: _Pair, end: _End, hole: bool) -> None:
        if hole:
            # Whatever was queued before the hole is lost with it.
            self.stats.bytes_dropped += len(end.pending)
            end.pending.clear()
            return
        if end.pending:
            try:
                sent = end.sock.send(end.pending)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._eof(pair, end, hole)
                return
            self.stats.bytes_forwarded += sent
            del end.pending[:sent]
        if not end.pending and end.eof_to_send:
            self._close_pair(pair)

    def _after_hole(self) -> None:
        """Traffic flows again: connections whose peer vanished during the hole end now."""
        for pair in {p for p, _ in self._pairs.values()}:
            if pair.severed:
                continue
            if not (pair.client.open and pair.upstream.open):
                self._close_pair(pair)
            else:
                self._update_interest(pair)

    def _update_interest(self, pair: _Pair) -> None:
        for end in (pair.client, pair.upstream):
            if not end.open or end.sock not in self._pairs:
                continue
            peer = pair.other(end)
            mask = 0
            if pair.connecting and end is pair.upstream:
                mask = selectors.EVENT_WRITE
            else:
                if len(peer.pending) < _MAX_PENDING:
                    mask |= selectors.EVENT_READ
                if end.pending or end.eof_to_send:
                    mask |= selectors.EVENT_WRITE
                if mask == 0:
                    mask = selectors.EVENT_READ
            with contextlib.suppress(KeyError, ValueError):
                self._selector.modify(end.sock, mask, None)

    def _close_end(self, end: _End) -> None:
        if not end.open:
            return
        end.open = False
        end.pending.clear()
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(end.sock)
        self._pairs.pop(end.sock, None)
        with contextlib.suppress(OSError):
            end.sock.close()

    def _close_pair(self, pair: _Pair) -> None:
        self._close_end(pair.client)
        self._close_end(pair.upstream)
        if not pair.closed:
            pair.closed = True
            self.stats.open_pairs -= 1

    def _close_everything(self) -> None:
        for pair in {p for p, _ in list(self._pairs.values())}:
            self._close_pair(pair)
        for sock in (self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()
        with contextlib.suppress(Exception):
            self._selector.close()
