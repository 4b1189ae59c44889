"""Connections that send a request's header block and its body in one write.

urllib3 writes the header block of a request, then its body, as two ``send`` calls: two
TLS records and two system calls, and on loopback the kernel runs the receiving side
of each write in the sender's time slice. For the small JSON bodies the Job controller
sends (pod creations, finalizer patches, status updates) the second write costs about
as much client CPU as the first (hack/bench_client.py). Go's net/http writes both
through one buffered writer, so kube-apiserver sees one write per request from
client-go.

``CoalescingHTTPConnection`` and ``CoalescingHTTPSConnection`` hold the header block of
a request whose body is one non-empty ``bytes`` object and send it together with the
body. Nothing else changes: the connection, its timeouts (the write is bounded by the
same socket timeout as the two writes were), TLS, and the bytes on the wire. A request
whose body is streamed, chunked or absent is sent as urllib3 sends it.
"""

from __future__ import annotations

from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool


class _Coalescing:
    """Mixin over urllib3's connection classes (see the module docstring)."""

    _coalesce = False
    _held: bytes | None = None

    def request(  # type: ignore[no-untyped-def]
        self, method: str, url: str, body: Any = None, headers: Any = None, **kw: Any
    ):
        self._coalesce = type(body) is bytes and bool(body) and not kw.get("chunked")
        self._held = None
        try:
            return super().request(method, url, body=body, headers=headers, **kw)  # type: ignore[misc]
        finally:
            held, self._held = self._held, None
            self._coalesce = False
            if held is not None:
                # The body was never sent (urllib3 raised before it): send the header
                # block as urllib3 would have, so no request is left half-built.
                super().send(held)

    def send(self, data: Any) -> None:
        if self._coalesce:
            if self._held is None:
                # The first write of the request is its header block (endheaders).
                self._held = bytes(data)
                return
            data = self._held + data
            self._held = None
            self._coalesce = False
        super().send(data)  # type: ignore[misc]


class CoalescingHTTPConnection(_Coalescing, HTTPConnection):
    """urllib3's HTTPConnection, one write per request with a bytes body."""


class CoalescingHTTPSConnection(_Coalescing, HTTPSConnection):
    """urllib3's HTTPSConnection, one write per request with a bytes body, whose TLS
    handshake waits at most ``tls_handshake_timeout`` seconds (client-go's
    TLSHandshakeTimeout) however long the dial may take."""

    def __init__(self, *args: Any, tls_handshake_timeout: float | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._tls_handshake_timeout = tls_handshake_timeout

    def _new_conn(self) -> Any:
        # The dialled socket still carries the dial's timeout; urllib3 handshakes over it
        # and sets the read timeout only afterwards, so shortening it here bounds exactly
        # the handshake.
        sock = super()._new_conn()
        bound = self._tls_handshake_timeout
        current = sock.gettimeout()
        if bound is not None and (current is None or current > bound):
            sock.settimeout(bound)
        return sock


_REPLACEMENTS: dict[type, type] = {
    HTTPConnection: CoalescingHTTPConnection,
    HTTPSConnection: CoalescingHTTPSConnection,
}


def install(conn_pool: HTTPConnectionPool, tls_handshake: float | None = None) -> None:
    """Make ``conn_pool`` open coalescing connections from now on, when it uses urllib3's
    own connection classes (a pool given other classes is left alone); HTTPS ones bound
    their TLS handshake to ``tls_handshake`` seconds."""
    replacement = _REPLACEMENTS.get(conn_pool.ConnectionCls)
    if replacement is not None:
        conn_pool.ConnectionCls = replacement
    if conn_pool.ConnectionCls is CoalescingHTTPSConnection:
        conn_pool.conn_kw["tls_handshake_timeout"] = tls_handshake
