"""Coalescing connections: one write per request with a bytes body, the same bytes sent."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from urllib3.connection import HTTPConnection

from jobctl.client import connection
from jobctl.client.connection import CoalescingHTTPConnection

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


class _Capture:
    """A TCP server that answers each connection's first request and keeps its bytes."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = 0
                chunked = False
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                    chunked = chunked or line.lower() == b"transfer-encoding: chunked"
                while len(rest) < length or (chunked and not rest.endswith(b"0\r\n\r\n")):
                    rest += conn.recv(65536)
                self.received.append(data[: len(head) + 4] + rest)
                conn.sendall(ANSWER)

    def close(self) -> None:
        # shutdown() wakes the blocked accept(); close() alone would not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(10)


@pytest.fixture
def capture() -> Iterator[_Capture]:
    server = _Capture()
    try:
        yield server
    finally:
        server.close()


class _RecordingSocket:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.writes: list[bytes] = []

    def sendall(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _send(cls: type[HTTPConnection], port: int, body: Any, **kw: Any) -> list[bytes]:
    conn = cls("127.0.0.1", port, timeout=10)
    conn.connect()
    recording = _RecordingSocket(conn.sock)
    conn.sock = recording
    try:
        conn.request("POST", "/api/v1/namespaces/ns/pods", body=body, headers={"A": "b"}, **kw)
        assert conn.getresponse().data == b"{}"
    finally:
        conn.close()
    return recording.writes


@pytest.mark.parametrize(
    ("body", "kw", "plain_writes", "coalesced_writes"),
    [
        (b'{"metadata":{"name":"p"}}', {}, 2, 1),
        (None, {}, 1, 1),
        (b"", {}, 1, 1),
        (b'{"a":1}', {"chunked": True}, 3, 3),
        ([b'{"a":', b"1}"], {}, 4, 4),
    ],
    ids=["bytes", "none", "empty", "chunked", "iterable"],
)
def test_coalescing_sends_the_same_bytes_in_fewer_writes(
    capture: _Capture, body: Any, kw: dict[str, Any], plain_writes: int, coalesced_writes: int
) -> None:
    plain = _send(HTTPConnection, capture.port, body, **kw)
    coalesced = _send(CoalescingHTTPConnection, capture.port, body, **kw)
    assert len(plain) == plain_writes
    assert len(coalesced) == coalesced_writes
    assert b"".join(coalesced) == b"".join(plain)
    assert capture.received[0] == capture.received[1] == b"".join(plain)


def test_install_replaces_only_urllib3s_own_connection_classes() -> None:
    manager = urllib3.PoolManager()
    http_pool = manager.connection_from_host("127.0.0.1", 1, "http")
    https_pool = manager.connection_from_host("127.0.0.1", 2, "https")
    connection.install(http_pool)
    connection.install(https_pool)
    assert http_pool.ConnectionCls is connection.CoalescingHTTPConnection
    assert https_pool.ConnectionCls is connection.CoalescingHTTPSConnection

    class Custom(HTTPConnection):
        pass

    custom_pool = manager.connection_from_host("127.0.0.1", 3, "http")
    custom_pool.ConnectionCls = Custom
    connection.install(custom_pool)
    assert custom_pool.ConnectionCls is Custom
