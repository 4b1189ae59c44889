"""Serving hardening: TLS off the accept loop, bounded connections, delegated auth,
debugging endpoints (jobctl.app.server over real loopback sockets)."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter

from jobctl.app.certs import maybe_default_with_self_signed_certs
from jobctl.app.conn_server import Limits
from jobctl.app.delegated_auth import DelegatingAuthenticator, DelegatingAuthorizer, UserInfo
from jobctl.app.server import HealthServer

GOOD_TOKEN = "good-token"
ADMIN_TOKEN = "admin-token"


def wait_for(cond: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    paths = maybe_default_with_self_signed_certs("", "", str(tmp_path_factory.mktemp("tls")))
    return paths.cert_file, paths.key_file


class Reviews:
    """Stand-ins for the API server's TokenReview and SubjectAccessReview."""

    def __init__(self) -> None:
        self.token_reviews: list[str] = []
        self.access_reviews: list[tuple[str, str, str]] = []

    def token(self, token: str) -> UserInfo | None:
        self.token_reviews.append(token)
        if token == GOOD_TOKEN:
            return UserInfo("system:serviceaccount:ns:scraper", groups=("system:authenticated",))
        if token == ADMIN_TOKEN:
            return UserInfo("admin", groups=("system:masters",))
        return None

    def access(self, user: UserInfo, verb: str, path: str) -> tuple[bool, str]:
        self.access_reviews.append((user.name, verb, path))
        return user.name == "system:serviceaccount:ns:scraper" and verb == "get", ""


def https(
    port: int,
    path: str,
    token: str | None = None,
    method: str = "GET",
    body: bytes | None = None,
    timeout: float = 10.0,
) -> tuple[int, str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def reviews() -> Reviews:
    return Reviews()


@pytest.fixture
def verbosity() -> list[int]:
    return [0]


@pytest.fixture
def secure(
    tls_pair: tuple[str, str], reviews: Reviews, verbosity: list[int]
) -> Iterator[HealthServer]:
    registry = CollectorRegistry()
    Counter("jobctl_test_total", "test", registry=registry).inc()
    server = HealthServer(
        "127.0.0.1",
        0,
        registry,
        secure_port=0,
        tls_cert_file=tls_pair[0],
        tls_private_key_file=tls_pair[1],
        authenticator=DelegatingAuthenticator(reviews.token),
        authorizer=DelegatingAuthorizer(reviews.access),
        profiling=True,
        limits=Limits(max_connections=32, workers=4, idle_timeout=30, request_timeout=10),
        get_verbosity=lambda: verbosity[0],
        set_verbosity=lambda v: verbosity.__setitem__(0, v),
    )
    server.start()
    yield server
    server.shutdown()


def test_idle_tcp_clients_do_not_block_https_healthz(secure: HealthServer) -> None:
    plain_port, secure_port = secure.ports
    idle = [socket.create_connection(("127.0.0.1", secure_port), timeout=5) for _ in range(8)]
    try:
        assert https(secure_port, "/healthz", timeout=5) == (200, "ok")
        assert http_get(plain_port, "/healthz", timeout=5) == (200, "ok")
    finally:
        for s in idle:
            s.close()


def test_200_idle_connections_are_bounded(tls_pair: tuple[str, str]) -> None:
    server = HealthServer(
        "127.0.0.1",
        0,
        CollectorRegistry(),
        secure_port=0,
        tls_cert_file=tls_pair[0],
        tls_private_key_file=tls_pair[1],
        limits=Limits(max_connections=50, workers=4, idle_timeout=60),
    )
    threads_before = threading.active_count()
    server.start()
    plain_port, secure_port = server.ports
    clients: list[socket.socket] = []
    try:
        for i in range(200):
            port = secure_port if i % 2 else plain_port
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        assert wait_for(lambda: server.open_connections == 50)
        # The serving loop plus at most the worker pool: never a thread per client.
        assert threading.active_count() <= threads_before + 1 + 4
        # Excess connections were closed (the server side hung up on them).
        closed = 0
        for s in clients:
            s.settimeout(0.05)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except (TimeoutError, ConnectionResetError):
                pass
        assert closed >= 150
        # A new client still gets in (the longest-idle connection makes room).
        assert https(secure_port, "/healthz", timeout=5) == (200, "ok")
        assert http_get(plain_port, "/healthz", timeout=5) == (200, "ok")
        assert server.open_connections <= 50
    finally:
        for s in clients:
            s.close()
        server.shutdown()


def test_idle_connections_time_out(tls_pair: tuple[str, str]) -> None:
    server = HealthServer(
        "127.0.0.1",
        0,
        CollectorRegistry(),
        limits=Limits(max_connections=10, workers=2, idle_timeout=0.3),
    )
    server.start()
    try:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        assert wait_for(lambda: server.open_connections == 1)
        assert client.recv(1) == b""  # closed by the server after the idle timeout
        assert wait_for(lambda: server.open_connections == 0)
        client.close()
    finally:
        server.shutdown()


def test_trickling_client_is_cut_at_the_request_deadline() -> None:
    server = HealthServer(
        "127.0.0.1",
        0,
        CollectorRegistry(),
        limits=Limits(max_connections=10, workers=1, idle_timeout=30, request_timeout=0.5),
    )
    server.start()
    try:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        client.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the end of the headers
        assert wait_for(lambda: server.open_connections == 0)
        # The only worker is free again.
        assert http_get(server.port, "/healthz", timeout=5) == (200, "ok")
        client.close()
    finally:
        server.shutdown()


def test_metrics_needs_authn_and_authz_health_does_not(
    secure: HealthServer, reviews: Reviews
) -> None:
    port = secure.ports[1]
    assert https(port, "/healthz") == (200, "ok")
    assert https(port, "/readyz") == (200, "ok")
    assert https(port, "/livez", token="bad") == (200, "ok")
    assert reviews.token_reviews == [] and reviews.access_reviews == []

    status, body = https(port, "/metrics")
    assert status == 403
    assert 'User \\"system:anonymous\\" cannot get path \\"/metrics\\"' in body
    assert https(port, "/metrics", token="bad")[0] == 401
    status, body = https(port, "/metrics", token=GOOD_TOKEN)
    assert status == 200
    assert "jobctl_test_total 1.0" in body
    assert https(port, "/metrics", token=ADMIN_TOKEN)[0] == 200  # system:masters
    # Decisions are cached: a second scrape reviews nothing new.
    reviewed = (len(reviews.token_reviews), len(reviews.access_reviews))
    assert https(port, "/metrics", token=GOOD_TOKEN)[0] == 200
    assert (len(reviews.token_reviews), len(reviews.access_reviews)) == reviewed


def test_plain_port_serves_metrics_but_no_debug(secure: HealthServer) -> None:
    plain = secure.ports[0]
    assert http_get(plain, "/metrics")[0] == 200
    assert http_get(plain, "/debug/pprof/goroutine")[0] == 404
    assert http_get(plain, "/debug/flags/v")[0] == 404


def test_goroutine_dump_lists_every_thread(secure: HealthServer) -> None:
    port = secure.ports[1]
    assert https(port, "/debug/pprof/goroutine?debug=2")[0] == 403
    release = threading.Event()
    marker = threading.Thread(target=release.wait, name="marker-thread", daemon=True)
    marker.start()
    try:
        status, body = https(port, "/debug/pprof/goroutine?debug=2", token=GOOD_TOKEN)
    finally:
        release.set()
    assert status == 200
    assert '"marker-thread" daemon:' in body
    assert '"MainThread":' in body
    assert "in wait" in body
    assert https(port, "/debug/pprof/", token=GOOD_TOKEN)[0] == 200
    assert https(port, "/debug/pprof/heap", token=GOOD_TOKEN)[0] == 404


def test_flags_v_changes_verbosity(secure: HealthServer, verbosity: list[int]) -> None:
    port = secure.ports[1]
    # PUT is its own verb: the reviewer above grants "get" only.
    assert https(port, "/debug/flags/v", token=GOOD_TOKEN, method="PUT", body=b"5")[0] == 403
    assert https(port, "/debug/flags/v", token=ADMIN_TOKEN, method="PUT", body=b"5") == (
        200,
        "successfully set klog.logging.verbosity to 5\n",
    )
    assert verbosity == [5]
    assert https(port, "/debug/flags/v", token=GOOD_TOKEN) == (200, "5\n")
    status, body = https(port, "/debug/flags/v", token=ADMIN_TOKEN, method="PUT", body=b"x")
    assert (status, body) == (400, 'strconv.ParseUint: parsing "x": invalid syntax\n')
    assert verbosity == [5]
    assert https(port, "/debug/flags/v", token=ADMIN_TOKEN, method="POST", body=b"1")[0] == 406


def test_cert_dir_pair_is_reused(tmp_path: Path) -> None:
    first = maybe_default_with_self_signed_certs("", "", str(tmp_path))
    second = maybe_default_with_self_signed_certs("", "", str(tmp_path))
    assert first.generated and not second.generated
    assert first.cert_file == second.cert_file


def test_shutdown_does_not_wait_for_a_stalled_request() -> None:
    server = HealthServer(
        "127.0.0.1",
        0,
        CollectorRegistry(),
        limits=Limits(max_connections=10, workers=1, idle_timeout=3600, request_timeout=3600),
    )
    server.start()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        client.sendall(b"GET /healthz HTTP/1.1\r\n")  # a worker now waits for the rest
        assert wait_for(lambda: server.open_connections == 1)
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        stopper.join(60)  # the request deadline is an hour away
        assert not stopper.is_alive()
        assert server.open_connections == 0
    finally:
        client.close()
