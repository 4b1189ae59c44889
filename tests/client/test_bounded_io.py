"""Every request of the real clientset ends within a bound (issue 11, finding 1).

Against local TCP servers on 127.0.0.1 that accept and never answer, or answer the
headers and then go silent, a list, a watch and a Job ``update_status`` each fail
within the (shortened) timeouts instead of blocking forever; a call under
``request_deadline`` fails with ``DeadlineExceededError``; the timed-out connection is
closed (the server sees EOF), and no thread is left behind.

Each call runs in a thread joined with a generous limit, so that without the bounds the
test fails instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from jobctl.client import errors
from jobctl.client.deadline import DeadlineExceededError, request_deadline
from jobctl.client.interface import BOOKMARK, ERROR, ListOptions, WatchEvent
from jobctl.client.real import Clientset, new_for_config
from jobctl.client.transport import Timeouts, response_socket
from tests.client.test_real import RecordingPool, raw_pod

SHORT = Timeouts(connect=2.0, read_idle=0.5, watch_idle=0.5, watch_deadline_margin=0.5)

# How long a bounded call may take before the test calls it hung (generous: the
# machine is shared and loaded; the bounds under test are well under a second).
HANG = 20.0


class SilentServer:
    """Accepts TCP connections on 127.0.0.1; never answers (``headers=None``), or reads
    each request's head, writes ``headers`` (and ``then``, a callable writing more) and
    then holds the connection open without writing anything more."""

    def __init__(
        self,
        headers: bytes | None = None,
        then: Callable[[socket.socket, threading.Event], None] | None = None,
    ) -> None:
        self._headers = headers
        self._then = then
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)
            if self._headers is not None:
                t = threading.Thread(target=self._answer, args=(conn,), daemon=True)
                t.start()
                self._threads.append(t)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(HANG)
        data = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            assert self._headers is not None
            conn.sendall(self._headers)
            if self._then is not None:
                self._then(conn, self._done)

    def wait_closed_by_client(self, timeout: float = HANG) -> bool:
        """True once every accepted connection has been closed by the client."""
        end = time.monotonic() + timeout
        for conn in list(self.accepted):
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                conn.settimeout(left)
                try:
                    if conn.recv(65536) == b"":
                        break
                except TimeoutError:
                    return False
                except OSError:
                    break
        return True

    def close(self) -> None:
        self._done.set()
        self._listener.close()
        self._accept_thread.join(HANG)
        for t in self._threads:
            t.join(HANG)
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


_CHUNKED_200 = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.fixture
def mute_after_headers() -> Iterator[SilentServer]:
    server = SilentServer(headers=_CHUNKED_200)
    try:
        yield server
    finally:
        server.close()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _clientset(url: str, timeouts: Timeouts | None = SHORT) -> Clientset:
    cs = new_for_config(k8s.Configuration(host=url), qps=-1)
    if timeouts is not None:
        cs.transport.timeouts = timeouts
    return cs


def _job() -> k8s.V1Job:
    return k8s.V1Job(metadata=k8s.V1ObjectMeta(name="j", namespace="ns"))


def run_bounded(call: Callable[[], Any]) -> Any:
    """Run ``call`` in a thread; fail the test if it has not returned within HANG."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(call())
        except BaseException as err:
            box.append(err)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(HANG)
    assert not t.is_alive(), f"the call was still blocked after {HANG}s"
    return box[0]


def _drain_watch(cs: Clientset, options: ListOptions | None = None) -> list[WatchEvent]:
    return list(cs.core_v1().pods("ns").watch(options or ListOptions()))


# --- a server that accepts and never answers ------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda cs: cs.core_v1().pods("ns").list(ListOptions()), id="list"),
        pytest.param(lambda cs: cs.core_v1().pods("ns").watch(ListOptions()), id="watch"),
        pytest.param(lambda cs: cs.batch_v1().jobs("ns").update_status(_job()), id="update_status"),
    ],
)
def test_request_to_a_server_that_never_answers_fails(
    silent: SilentServer, call: Callable[[Clientset], Any]
) -> None:
    cs = _clientset(silent.url)
    threads_before = threading.active_count()
    err = run_bounded(lambda: call(cs))
    assert isinstance(err, errors.APIConnectionError), err
    assert "timed out" in str(err).lower()
    # The timed-out connection is closed, not kept in the pool, and no thread remains.
    assert silent.wait_closed_by_client()
    assert threading.active_count() <= threads_before


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda cs: cs.core_v1().pods("ns").list(ListOptions()), id="list"),
        pytest.param(lambda cs: _drain_watch(cs), id="watch"),
        pytest.param(lambda cs: cs.batch_v1().jobs("ns").update_status(_job()), id="update_status"),
        pytest.param(lambda cs: cs.core_v1().pods("ns").get("p"), id="get"),
    ],
)
def test_request_to_a_server_that_goes_silent_after_the_headers_fails(
    mute_after_headers: SilentServer, call: Callable[[Clientset], Any]
) -> None:
    cs = _clientset(mute_after_headers.url)
    result = run_bounded(lambda: call(cs))
    if isinstance(result, list):
        # A watch: the stream ends with one error event, so the reflector watches again.
        assert [e.type for e in result] == [ERROR]
        status = errors.StatusError.from_status(result[0].object)
        assert errors.is_internal_error(status)
        assert "unable to decode an event from the watch stream" in status.message
    else:
        assert isinstance(result, errors.APIConnectionError), result
    assert mute_after_headers.wait_closed_by_client()


def test_watch_that_stops_mid_stream_ends_with_an_error_event() -> None:
    def one_event_then_silence(conn: socket.socket, done: threading.Event) -> None:
        line = json.dumps({"type": "ADDED", "object": raw_pod("first")}).encode() + b"\n"
        conn.sendall(_chunk(line))
        done.wait(HANG)

    server = SilentServer(headers=_CHUNKED_200, then=one_event_then_silence)
    try:
        cs = _clientset(server.url)
        events = run_bounded(lambda: _drain_watch(cs))
        assert [e.type for e in events] == ["ADDED", ERROR]
        assert server.wait_closed_by_client()
    finally:
        server.close()


def test_watch_that_the_server_does_not_end_after_timeout_seconds_ends_with_an_error() -> None:
    # Bookmarks keep the stream from ever being idle; only the deadline past
    # timeoutSeconds can end it.
    def bookmarks_forever(conn: socket.socket, done: threading.Event) -> None:
        bookmark = {"type": BOOKMARK, "object": {"metadata": {"resourceVersion": "7"}}}
        line = json.dumps(bookmark).encode() + b"\n"
        with contextlib.suppress(OSError):
            while not done.wait(0.1):
                conn.sendall(_chunk(line))

    server = SilentServer(headers=_CHUNKED_200, then=bookmarks_forever)
    try:
        cs = _clientset(server.url)
        events = run_bounded(lambda: _drain_watch(cs, ListOptions(timeout_seconds=1)))
        assert events and events[-1].type == ERROR
        assert {e.type for e in events[:-1]} <= {BOOKMARK}
        assert "did not end the watch" in errors.StatusError.from_status(events[-1].object).message
    finally:
        server.close()


# --- the caller's deadline ------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda cs: cs.core_v1().pods("ns").list(ListOptions()), id="list"),
        pytest.param(lambda cs: cs.core_v1().pods("ns").watch(ListOptions()), id="watch"),
        pytest.param(lambda cs: cs.batch_v1().jobs("ns").update_status(_job()), id="update_status"),
    ],
)
def test_request_under_a_deadline_fails_with_deadline_exceeded(
    silent: SilentServer, call: Callable[[Clientset], Any]
) -> None:
    # Default (45 s) timeouts: only the caller's deadline can end these calls in time.
    cs = _clientset(silent.url, timeouts=None)

    def under_deadline() -> Any:
        with request_deadline(0.5):
            return call(cs)

    assert isinstance(run_bounded(under_deadline), DeadlineExceededError)
    assert silent.wait_closed_by_client()


def test_body_read_under_a_deadline_fails_with_deadline_exceeded(
    mute_after_headers: SilentServer,
) -> None:
    cs = _clientset(mute_after_headers.url, timeouts=None)

    def under_deadline() -> Any:
        with request_deadline(0.5):
            return cs.core_v1().pods("ns").get("p")

    assert isinstance(run_bounded(under_deadline), DeadlineExceededError)


def test_watch_stream_ends_quietly_at_the_callers_deadline(
    mute_after_headers: SilentServer,
) -> None:
    cs = _clientset(mute_after_headers.url, timeouts=None)

    def under_deadline() -> Any:
        with request_deadline(0.5):
            return _drain_watch(cs)

    # A context deadline ends client-go's stream without an error event.
    assert run_bounded(under_deadline) == []


def test_expired_deadline_fails_before_sending() -> None:
    cs = new_for_config(k8s.Configuration(host="https://127.0.0.1:6443"), qps=-1)
    pool = RecordingPool()
    cs.api_client.rest_client.pool_manager = pool
    with request_deadline(0), pytest.raises(DeadlineExceededError):
        cs.core_v1().pods("ns").get("p")
    assert pool.requests == []


def test_rate_limiter_never_waits_past_the_deadline() -> None:
    cs = new_for_config(k8s.Configuration(host="https://127.0.0.1:6443"), qps=0.01, burst=1)
    pool = RecordingPool()
    cs.api_client.rest_client.pool_manager = pool
    pool.answer(200, {"kind": "Pod", **raw_pod()})
    cs.core_v1().pods("ns").get("pod-a")  # takes the only token; the next is 100 s away

    def under_deadline() -> Any:
        with request_deadline(30):
            return cs.core_v1().pods("ns").get("pod-a")

    # Go's limiter fails at once when the token would come after the deadline.
    assert isinstance(run_bounded(under_deadline), DeadlineExceededError)
    assert len(pool.requests) == 1


# --- TCP keepalive --------------------------------------------------------------------


def test_every_connection_has_tcp_keepalive(mute_after_headers: SilentServer) -> None:
    cs = _clientset(mute_after_headers.url)
    resp = cs.transport.request("GET", "/api/v1/namespaces/ns/pods", watch=True)
    try:
        sock = response_socket(resp)
        assert sock is not None
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    finally:
        resp.close()
        resp.release_conn()


def test_tls_handshake_with_a_server_that_never_answers_fails(silent: SilentServer) -> None:
    cfg = k8s.Configuration(host=silent.url.replace("http://", "https://"))
    cfg.verify_ssl = False
    cs = new_for_config(cfg, qps=-1)
    cs.transport.timeouts = SHORT
    err = run_bounded(lambda: cs.core_v1().pods("ns").get("p"))
    assert isinstance(err, errors.APIConnectionError), err
    assert "timed out" in str(err).lower()
    assert silent.wait_closed_by_client()


def test_tls_handshake_is_bounded_apart_from_the_dial(silent: SilentServer) -> None:
    """A dial that may take 20 s does not let a silent TLS handshake take as long: the
    handshake has its own bound (client-go: 10 s; shortened here)."""
    cfg = k8s.Configuration(host=silent.url.replace("http://", "https://"))
    cfg.verify_ssl = False
    cs = new_for_config(cfg, qps=-1)
    cs.transport.timeouts = Timeouts(
        connect=HANG, tls_handshake=0.5, read_idle=HANG, watch_idle=HANG
    )
    started = time.monotonic()
    err = run_bounded(lambda: cs.core_v1().pods("ns").get("p"))
    assert isinstance(err, errors.APIConnectionError), err
    assert "timed out" in str(err).lower()
    assert time.monotonic() - started < HANG / 2
    assert silent.wait_closed_by_client()


# --- a path that went silent takes its idle pooled connections with it ------------------


class SeveringServer:
    """Answers every request with an empty pod list, keeping connections alive, until
    ``sever()``: from then on the connections it already has stay open but silent (as
    behind a NAT that lost them), while new connections are answered."""

    _BODY = b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}'

    def __init__(self, hold_until_connections: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._cond = threading.Condition()
        self._hold_until = hold_until_connections
        self._severed: set[int] = set()
        self.accepted: list[socket.socket] = []
        self._done = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def sever(self) -> None:
        with self._cond:
            self._severed = {id(c) for c in self.accepted}

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:
                self.accepted.append(conn)
                self._cond.notify_all()
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(HANG)
        data = b""
        with contextlib.suppress(OSError):
            while not self._done.is_set():
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    _, _, data = data.partition(b"\r\n\r\n")
                    with self._cond:
                        # The first requests wait until they all have a connection, so
                        # that the client's pool ends up holding several.
                        self._cond.wait_for(
                            lambda: len(self.accepted) >= self._hold_until, timeout=HANG
                        )
                        if id(conn) in self._severed:
                            data = b""
                            continue
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(self._BODY), self._BODY)
                    )

    def close(self) -> None:
        self._done.set()
        self._listener.close()
        for conn in self.accepted:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for t in self._threads:
            t.join(HANG)


def test_a_silent_connection_takes_its_idle_siblings_with_it() -> None:
    """After one request times out on a connection that went silent, the next request
    dials afresh instead of waiting out the idle bound again on a pooled sibling (as
    client-go's single HTTP/2 connection, closed by its health check, takes every
    stream with it)."""
    server = SeveringServer(hold_until_connections=3)
    try:
        cs = _clientset(server.url)
        pods = cs.core_v1().pods("ns")
        threads = [threading.Thread(target=pods.list, args=(ListOptions(),)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG)
        assert len(server.accepted) == 3
        server.sever()

        first = run_bounded(lambda: pods.list(ListOptions()))
        assert isinstance(first, Exception)
        # Three requests at once, as the pod-write fan-out sends them: none may land on a
        # silent sibling left in the pool.
        results: list[Any] = []
        lock = threading.Lock()

        def one() -> None:
            outcome = run_bounded(lambda: pods.list(ListOptions()))
            with lock:
                results.append(outcome)

        burst = [threading.Thread(target=one) for _ in range(3)]
        for t in burst:
            t.start()
        for t in burst:
            t.join(2 * HANG)
        assert len(results) == 3
        failures = [r for r in results if isinstance(r, Exception)]
        assert failures == []
        assert all(r.items == [] for r in results)
    finally:
        server.close()
