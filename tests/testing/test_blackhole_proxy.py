"""The black-hole proxy forwards, drops silently (no close, no reset), and forwards again."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from jobctl.testing.blackhole_proxy import BlackholeProxy
from jobctl.testing.control_plane import free_port
from jobctl.testing.integration_util import wait_for


class Upstream:
    """A loopback server that records what each accepted connection sends."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.conns: list[socket.socket] = []
        self.received: list[bytearray] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            buf = bytearray()
            with self._lock:
                self.conns.append(conn)
                self.received.append(buf)
            reader = threading.Thread(target=self._read, args=(conn, buf), daemon=True)
            reader.start()
            self._threads.append(reader)

    def _read(self, conn: socket.socket, buf: bytearray) -> None:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                buf += data

    def got(self, index: int) -> bytes:
        with self._lock:
            return bytes(self.received[index]) if index < len(self.received) else b""

    def close(self) -> None:
        self.listener.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[BlackholeProxy]:
    with BlackholeProxy("127.0.0.1", upstream.port) as p:
        yield p


@pytest.fixture
def resuming_proxy(upstream: Upstream) -> Iterator[BlackholeProxy]:
    with BlackholeProxy("127.0.0.1", upstream.port, sever=False) as p:
        yield p


def _connect(proxy: BlackholeProxy) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    return sock


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    sock.settimeout(10)
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        assert chunk, f"connection closed after {out!r}"
        out += chunk
    return out


def _assert_silent_and_open(sock: socket.socket) -> None:
    """Nothing to read and no EOF (a closed socket would read b"" at once)."""
    sock.setblocking(False)
    try:
        with pytest.raises(BlockingIOError):
            sock.recv(1)
    finally:
        sock.setblocking(True)


def test_forwards_both_ways(proxy: BlackholeProxy, upstream: Upstream) -> None:
    client = _connect(proxy)
    client.sendall(b"hello")
    wait_for(lambda: upstream.got(0) == b"hello", timeout=10, message="upstream got hello")
    upstream.conns[0].sendall(b"world")
    assert _recv_exactly(client, 5) == b"world"
    assert proxy.stats.open_pairs == 1 and proxy.stats.bytes_dropped == 0
    client.close()


def _drop_both_ways(proxy: BlackholeProxy, upstream: Upstream, client: socket.socket) -> None:
    client.sendall(b"a")
    wait_for(lambda: upstream.got(0) == b"a", timeout=10, message="first byte")
    proxy.start_blackhole()
    assert proxy.blackholed
    client.sendall(b"lost-up")
    upstream.conns[0].sendall(b"lost-down")
    wait_for(
        lambda: proxy.stats.bytes_dropped == len(b"lost-up") + len(b"lost-down"),
        timeout=10,
        message=lambda: f"dropped {proxy.stats.bytes_dropped}",
    )
    # The proxy read the bytes and threw them away: they can never arrive now.
    assert upstream.got(0) == b"a"
    _assert_silent_and_open(client)
    assert proxy.stats.open_pairs == 1


def test_hole_drops_both_directions_without_closing(
    proxy: BlackholeProxy, upstream: Upstream
) -> None:
    client = _connect(proxy)
    _drop_both_ways(proxy, upstream, client)
    proxy.end_blackhole()
    assert proxy.resumed_at is not None
    # The connection that saw the hole stays dead: nothing goes through, nothing closes.
    client.sendall(b"b")
    wait_for(lambda: proxy.stats.bytes_dropped == 17, timeout=10, message="b dropped")
    assert upstream.got(0) == b"a"
    _assert_silent_and_open(client)
    # A new connection goes through.
    fresh = _connect(proxy)
    fresh.sendall(b"new")
    wait_for(lambda: upstream.got(1) == b"new", timeout=10, message="new connection forwards")
    upstream.conns[1].sendall(b"ok")
    assert _recv_exactly(fresh, 2) == b"ok"
    # The client giving up on the dead connection releases both sides.
    client.close()
    wait_for(lambda: proxy.stats.open_pairs == 1, timeout=10, message="dead pair released")
    fresh.close()


def test_resuming_proxy_forwards_again_on_old_connections(
    resuming_proxy: BlackholeProxy, upstream: Upstream
) -> None:
    proxy = resuming_proxy
    client = _connect(proxy)
    _drop_both_ways(proxy, upstream, client)
    proxy.end_blackhole()
    client.sendall(b"b")
    wait_for(lambda: upstream.got(0) == b"ab", timeout=10, message="forwarding resumed up")
    upstream.conns[0].sendall(b"c")
    assert _recv_exactly(client, 1) == b"c"
    client.close()


def test_new_connection_during_hole_is_silent_for_good(
    proxy: BlackholeProxy, upstream: Upstream
) -> None:
    proxy.start_blackhole()
    client = _connect(proxy)
    client.sendall(b"hello")
    wait_for(lambda: proxy.stats.bytes_dropped == 5, timeout=10, message="hello dropped")
    _assert_silent_and_open(client)
    proxy.end_blackhole()
    client.sendall(b"again")
    wait_for(lambda: proxy.stats.bytes_dropped == 10, timeout=10, message="again dropped")
    assert upstream.got(0) == b""
    client.close()


def test_new_connection_during_hole_forwards_after_it_when_resuming(
    resuming_proxy: BlackholeProxy, upstream: Upstream
) -> None:
    proxy = resuming_proxy
    proxy.start_blackhole()
    client = _connect(proxy)
    client.sendall(b"hello")
    wait_for(lambda: proxy.stats.bytes_dropped == 5, timeout=10, message="hello dropped")
    _assert_silent_and_open(client)
    proxy.end_blackhole()
    client.sendall(b"again")
    wait_for(lambda: upstream.got(0) == b"again", timeout=10, message="forwarded after hole")
    client.close()


def test_server_close_on_a_dead_connection_stays_hidden(
    proxy: BlackholeProxy, upstream: Upstream
) -> None:
    client = _connect(proxy)
    client.sendall(b"x")
    wait_for(lambda: upstream.got(0) == b"x", timeout=10, message="connected")
    proxy.start_blackhole()
    upstream.conns[0].shutdown(socket.SHUT_RDWR)
    upstream.conns[0].close()
    wait_for(lambda: proxy.stats.eofs_hidden == 1, timeout=10, message="close seen by proxy")
    proxy.end_blackhole()
    wait_for(lambda: proxy.resumed_at is not None, timeout=10, message="hole over")
    _assert_silent_and_open(client)
    client.close()
    wait_for(lambda: proxy.stats.open_pairs == 0, timeout=10, message="pair released")


def test_timed_hole_ends_by_itself(proxy: BlackholeProxy, upstream: Upstream) -> None:
    proxy.blackhole(0.2)
    assert proxy.wait_resumed(timeout=30)
    assert not proxy.blackholed and proxy.resumed_at is not None
    client = _connect(proxy)
    client.sendall(b"z")
    wait_for(lambda: upstream.got(0) == b"z", timeout=10, message="forwarding after timed hole")
    assert proxy.stats.holes == 1
    client.close()


def test_connections_beyond_the_bound_are_closed(upstream: Upstream) -> None:
    with BlackholeProxy("127.0.0.1", upstream.port, max_connections=2) as proxy:
        kept = [_connect(proxy), _connect(proxy)]
        wait_for(lambda: proxy.stats.open_pairs == 2, timeout=10, message="two pairs")
        extra = _connect(proxy)
        extra.settimeout(10)
        assert extra.recv(1) == b""
        assert proxy.stats.refused == 1 and proxy.stats.open_pairs == 2
        for sock in [*kept, extra]:
            sock.close()


def test_upstream_down_closes_the_client() -> None:
    with BlackholeProxy("127.0.0.1", free_port()) as proxy:
        client = _connect(proxy)
        client.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            assert client.recv(1) == b""
        wait_for(lambda: proxy.stats.open_pairs == 0, timeout=10, message="pair released")
        client.close()


def test_stop_closes_everything(upstream: Upstream) -> None:
    proxy = BlackholeProxy("127.0.0.1", upstream.port).start()
    client = _connect(proxy)
    wait_for(lambda: proxy.stats.open_pairs == 1, timeout=10, message="one pair")
    proxy.stop()
    client.settimeout(10)
    with contextlib.suppress(ConnectionResetError):
        assert client.recv(1) == b""
    client.close()
