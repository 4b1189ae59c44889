"""One REST request over the official client's connection pool.

The generated API classes of the official client (``CoreV1Api.create_namespaced_pod``
and friends) wrap each call in argument validation, a generic parameter serializer and
an authentication pass that together cost more client CPU than the HTTP exchange itself
(measured on this project's machine against a real kube-apiserver: a pod POST took
0.6-0.9 ms of client CPU through the generated method and 0.36 ms through the pool
directly). The Job controller sends one such request per pod created and per finalizer
removed, so the clientset goes to the pool the way client-go's ``rest.Request`` goes to
its ``http.Client``: a path, a query, a body and the configuration's credentials.

What still comes from the official client: the ``Configuration`` (host, TLS files,
proxy, bearer token with its refresh hook for expiring credentials, consulted at most
once a second), the urllib3 pool
it builds from that configuration (``api_client.rest_client.pool_manager``), the
``User-Agent`` and default headers, and the JSON form of request bodies
(``ApiClient.sanitize_for_serialization``) for anything that is not a model.

Bounded I/O (client-go: transport/cache.go's dialer, net/http.go's HTTP/2 health check,
rest/request.go's context deadlines). Every request has:

* a connect timeout of 30 s (client-go's dial timeout), which also bounds each read of
  the TLS handshake (urllib3 handshakes under the connect timeout);
* TCP keepalive on every socket (``jobctl.client.real.new_for_config`` installs
  client-go's 30 s keepalive as the pool's socket options);
* a read timeout on every socket read. client-go speaks HTTP/2 to the API server and
  closes a connection on which nothing was read for 30 s and a PING then went
  unanswered for 15 s; urllib3 speaks HTTP/1.1, which has no PING, so silence itself is
  bounded instead: a non-watch request fails when no byte arrives for 45 s (30 + 15).
  Unlike HTTP/2's check, this also ends a request the server is still working on after
  45 s of silence; kube-apiserver answers or times out non-watch requests within its
  60 s ``--request-timeout``, so only requests the server itself was about to time out
  are affected. Watches use their own, longer bound (``Timeouts.watch_idle``: the API
  server sends a bookmark on every watch that asks for them about once a minute);
* the caller's deadline (``jobctl.client.deadline``): no wait (rate limiter, connect,
  handshake, headers, body) goes past it, and ``DeadlineExceededError`` is raised when
  it passes.

Timeouts are socket timeouts in the calling thread: a timed-out request needs no
helper thread, and its connection is closed rather than returned to the pool. urllib3's
own retries are off; a request is sent again only when its connection broke before
any answer (``ProtocolError``) and the method is idempotent, as urllib3's default retry
did, and never after a timeout.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3
from kubernetes import client as k8s
from pydantic import BaseModel
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.util.url import parse_url

from jobctl.client import connection, jsoncodec, metrics
from jobctl.client.deadline import DeadlineExceededError, current_deadline
from jobctl.client.errors import StatusError
from jobctl.k8s_libs.clock import Clock, RealClock

JSON = "application/json"


def status_error_from_response(
    code: int, body: bytes | str | None, headers: Mapping[str, Any] | None
) -> StatusError:
    """Build a StatusError from a non-2xx answer, as client-go's transformResponse does.

    The body is parsed as a metav1.Status when it is one; otherwise the error gets the
    reason that goes with the HTTP code and a message naming the code.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    status: Any = None
    if isinstance(text, str) and text.strip():
        try:
            status = json.loads(text)
        except ValueError:
            status = None
    if isinstance(status, dict) and status.get("kind") == "Status":
        return StatusError.from_status(status, code)
    message = (
        f"the server responded with the status code {code} but did not return more information"
    )
    if isinstance(text, str) and text.strip():
        message = f"{message}: {text.strip()[:200]}"
    retry_after = None
    raw_retry = headers.get("Retry-After") if headers is not None else None
    if raw_retry and str(raw_retry).isdigit():
        retry_after = int(raw_retry)
    return StatusError(code=code, message=message, retry_after_seconds=retry_after)


def resource_path(
    prefix: str, plural: str, namespace: str = "", name: str = "", subresource: str = ""
) -> str:
    """The URL path of a collection or an object (client-go's Request.URL for a resource)."""
    path = (
        f"{prefix}/namespaces/{quote(namespace, safe='')}/{plural}"
        if namespace
        else (f"{prefix}/{plural}")
    )
    if name:
        path = f"{path}/{quote(name, safe='')}"
    if subresource:
        path = f"{path}/{subresource}"
    return path


# How long the credential headers are reused before the configuration is asked again.
# The official client re-runs its kubeconfig loader on every request (its refresh hook
# re-applies the whole configuration, proxy lookup included: ~3 % of the controller's
# CPU under load); expiring tokens are still picked up within this interval.
AUTH_REFRESH_INTERVAL = 1.0


@dataclass(frozen=True)
class Timeouts:
    """The bounds of every request (seconds); tests shorten them."""

    # client-go's dialer timeout (transport/cache.go).
    connect: float = 30.0
    # client-go's TLS handshake timeout (transport/cache.go), over the same socket.
    tls_handshake: float = 10.0
    # Longest silence on a non-watch request: HTTP/2 read-idle 30 s + PING timeout 15 s.
    read_idle: float = 45.0
    # Longest silence on a watch. Reflector watches ask for bookmarks, which the API
    # server sends about every 60 s (its cacher's bookmark frequency) even when nothing
    # changes, so a healthy idle watch is never cut; a silently dropped one ends with an
    # error event after at most this long.
    watch_idle: float = 70.0
    # A watch with ``timeoutSeconds`` gets a client-side deadline this long after the
    # server should have ended it.
    watch_deadline_margin: float = 30.0


DEFAULT_TIMEOUTS = Timeouts()

# Methods sent again when their connection broke before any answer (urllib3's
# idempotent set, which its default retry used), and how many times.
_RESEND_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
_MAX_RESENDS = 3

# urllib3's own retries and redirects are off. Built once: urllib3 would otherwise
# build a Retry from ``False`` on every request (~5 µs).
_NO_RETRIES = urllib3.Retry.from_int(False, redirect=False)

# A timeout this close to the deadline is the deadline's (socket timeouts never fire
# early; this absorbs clock rounding).
_DEADLINE_SLACK = 0.05

# Body reads under a deadline go this much at a time, each read bounded by what is left.
_READ_CHUNK = 1 << 16


def earliest(a: float | None, b: float | None) -> float | None:
    """The earlier of two optional deadlines."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def response_socket(resp: urllib3.BaseHTTPResponse) -> socket.socket | None:
    """The socket a response is read from (None for responses not read from one)."""
    conn = getattr(resp, "connection", None)
    sock = getattr(conn, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def is_timeout(err: BaseException) -> bool:
    """A connect, handshake or read timeout (Go's net.IsTimeout)."""
    return isinstance(err, (urllib3.exceptions.TimeoutError, TimeoutError, socket.timeout))


def drop_idle_connections(conn_pool: Any) -> int:
    """Close every idle connection of ``conn_pool`` (an ``HTTPConnectionPool``); returns
    how many were closed.

    client-go sends every request over one HTTP/2 connection: when its health check finds
    the connection silent, closing it ends every stream at once and the next request dials
    afresh. Here each request has a connection of its own, and a path that went silent
    (a lost NAT entry, a partition) leaves every pooled connection behind it dead but not
    closed; each would cost the next request a whole idle bound. So the first connection
    found silent takes its idle siblings with it.
    """
    idle = getattr(conn_pool, "pool", None)
    if idle is None:
        return 0
    taken = 0
    closed = 0
    while True:
        try:
            conn = idle.get(block=False)
        except queue.Empty:
            break
        taken += 1
        if conn is not None:
            conn.close()
            closed += 1
    for _ in range(taken):
        try:
            idle.put(None, block=False)
        except queue.Full:
            break
    return closed


def drop_idle_connections_of(resp: urllib3.BaseHTTPResponse) -> None:
    """``drop_idle_connections`` for the pool ``resp`` was read from, if any."""
    conn_pool = getattr(resp, "_pool", None)
    if conn_pool is not None:
        drop_idle_connections(conn_pool)


def deadline_error(err: BaseException | None, deadline: float | None) -> bool:
    """Whether ``err`` (a timeout) came from ``deadline`` rather than an idle bound."""
    return (
        deadline is not None
        and (err is None or is_timeout(err))
        and time.monotonic() >= deadline - _DEADLINE_SLACK
    )


def read_body(
    resp: urllib3.BaseHTTPResponse,
    deadline: float | None = None,
    idle: float = DEFAULT_TIMEOUTS.read_idle,
) -> bytes:
    """The whole body of a response; its connection goes back to the pool.

    Each read waits at most ``idle`` seconds (the socket's timeout already) and never
    past ``deadline`` (``time.monotonic()`` clock), when one is given:
    ``DeadlineExceededError`` then. On any failure the connection is closed, not reused.
    """
    try:
        if deadline is None:
            try:
                return resp.data
            except (urllib3.exceptions.HTTPError, OSError) as err:
                if is_timeout(err):
                    drop_idle_connections_of(resp)
                raise
        return _read_until(resp, deadline, idle)
    except BaseException:
        resp.close()
        raise
    finally:
        resp.release_conn()


def _read_until(resp: urllib3.BaseHTTPResponse, deadline: float, idle: float) -> bytes:
    sock = response_socket(resp)
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceededError("deadline exceeded while reading the response body")
        if sock is not None and left < idle:
            sock.settimeout(left)
        try:
            chunk = resp.read1(_READ_CHUNK)
        except (urllib3.exceptions.HTTPError, OSError) as err:
            if deadline_error(err, deadline):
                raise DeadlineExceededError(
                    "deadline exceeded while reading the response body"
                ) from err
            if is_timeout(err):
                drop_idle_connections_of(resp)
            raise
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


class Transport:
    """Sends requests through ``api_client``'s pool with the configuration's credentials."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        clock: Clock | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.api_client = api_client
        self._clock = clock or RealClock()
        self._lock = threading.Lock()
        self._auth: dict[str, str] | None = None
        self._auth_at: datetime | None = None
        self.timeouts = timeouts or DEFAULT_TIMEOUTS
        self._host_of: tuple[str, str] = ("", "")
        self._direct: _DirectRoute | None = None

    @property
    def timeouts(self) -> Timeouts:
        """The bounds of every request; may be replaced (tests shorten them)."""
        return self._timeouts

    @timeouts.setter
    def timeouts(self, timeouts: Timeouts) -> None:
        self._timeouts = timeouts
        self._timeout = urllib3.Timeout(connect=timeouts.connect, read=timeouts.read_idle)
        self._watch_timeout = urllib3.Timeout(connect=timeouts.connect, read=timeouts.watch_idle)

    @property
    def host(self) -> str:
        """The ``host[:port]`` of the server URL (the ``host`` label of the metrics)."""
        url, host = self._host_of
        if not url:
            return self._host_for(str(self.api_client.configuration.host))
        return host

    def _host_for(self, url: str) -> str:
        cached_url, host = self._host_of
        if cached_url != url:
            host = urlsplit(url).netloc or "none"
            self._host_of = (url, host)
        return host

    def auth_headers(self) -> dict[str, str]:
        """The configuration's credential headers, asked for at most once per interval."""
        now = self._clock.now()
        with self._lock:
            if (
                self._auth is None
                or self._auth_at is None
                or (now - self._auth_at).total_seconds() >= AUTH_REFRESH_INTERVAL
            ):
                self._auth = {
                    str(setting["key"]): str(setting["value"])
                    for setting in self.api_client.configuration.auth_settings().values()
                    if setting.get("in") == "header" and setting.get("value")
                }
                self._auth_at = now
            return self._auth

    def encode(self, obj: Any) -> bytes:
        """The JSON body of a model or a plain value.

        A model is written by pydantic (wire names, unset and None fields left out):
        the same object ``ApiClient.sanitize_for_serialization`` builds, except that
        times end in ``Z`` as Go writes them rather than ``+00:00``, at a tenth of the
        cost (8 µs vs 80 µs for a Job).
        """
        if isinstance(obj, BaseModel):
            return obj.model_dump_json(by_alias=True, exclude_none=True).encode()
        return jsoncodec.dumps(self.api_client.sanitize_for_serialization(obj))

    def headers(self, content_type: str | None) -> dict[str, str]:
        """Accept/Content-Type, the client's default headers, and its credentials."""
        headers = dict(self.api_client.default_headers)
        headers["Accept"] = JSON
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(self.auth_headers())
        return headers

    def _drop_idle_connections(self, route: _DirectRoute | None, pool: Any) -> None:
        """A request to this server went silent: close the idle connections to it."""
        if route is not None:
            drop_idle_connections(route.conn_pool)
            return
        pools = getattr(pool, "pools", None)
        if pools is None:
            return
        for key in list(pools.keys()):
            conn_pool = pools.get(key)
            if conn_pool is not None:
                drop_idle_connections(conn_pool)

    def _route(self, pool: Any, base: str) -> _DirectRoute | None:
        """The connection pool of ``base`` when ``pool`` is a plain ``PoolManager``."""
        route = self._direct
        if (
            route is not None
            and route.manager is pool
            and route.base == base
            # Still the manager's pool for this server (not dropped by clear() or evicted).
            and pool.pools.get(route.key) is route.conn_pool
        ):
            return route
        route = _direct_route(pool, base, self.timeouts.tls_handshake)
        self._direct = route
        return route

    def request(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        content_type: str | None = None,
        *,
        deadline: float | None = None,
        watch: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request; return the unread response of a 2xx answer.

        ``deadline`` (``time.monotonic()`` clock) bounds the request together with the
        caller's ``request_deadline``; the earlier one wins, and ``DeadlineExceededError``
        is raised when it passes. ``watch`` selects the watch idle bound for the reads.
        A non-2xx answer raises ``StatusError``; urllib3 and socket errors propagate
        for the caller to map (``jobctl.client.real.map_exception``). Every attempt
        counts in ``rest_client_requests_total``.
        """
        base = str(self.api_client.configuration.host)
        url = f"{base}{path}"
        if query:
            url = f"{url}?{urlencode(query)}"
        deadline = earliest(deadline, current_deadline())
        idle = self.timeouts.watch_idle if watch else self.timeouts.read_idle
        headers = self.headers(content_type if body is not None else None)
        host = self._host_for(base)
        pool = self.api_client.rest_client.pool_manager
        # A plain PoolManager is skipped: its request() copies the headers into a new
        # HTTPHeaderDict and parses the URL again on every call, which costs more than
        # choosing the pool; the connection pool's urlopen gets what the manager would
        # pass it, over connections that write header block and body at once
        # (jobctl.client.connection). Proxy managers and stand-ins keep the manager's
        # own path.
        route = self._route(pool, base) if "/." not in path else None
        if route is not None:
            uri = f"{route.prefix}{url[len(base) :]}"
            send_headers: Mapping[str, str] = _case_merged(headers)
        resends = 0
        while True:
            timeout = self._watch_timeout if watch else self._timeout
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeadlineExceededError(f"{method} {path}: deadline exceeded")
                timeout = urllib3.Timeout(
                    connect=min(self.timeouts.connect, left), read=min(idle, left)
                )
            try:
                resp: urllib3.BaseHTTPResponse
                if route is not None:
                    resp = route.conn_pool.urlopen(
                        method,
                        uri,
                        body=body,
                        headers=send_headers,
                        preload_content=False,
                        timeout=timeout,
                        retries=_NO_RETRIES,
                        redirect=False,
                        assert_same_host=False,
                    )
                else:
                    resp = pool.request(
                        method,
                        url,
                        body=body,
                        headers=headers,
                        preload_content=False,
                        timeout=timeout,
                        retries=_NO_RETRIES,
                        redirect=False,
                    )
            except (urllib3.exceptions.HTTPError, OSError) as err:
                metrics.observe_request_result(metrics.ERROR_CODE, method, host)
                if deadline_error(err, deadline):
                    raise DeadlineExceededError(f"{method} {path}: deadline exceeded") from err
                if is_timeout(err):
                    self._drop_idle_connections(route, pool)
                if (
                    isinstance(err, urllib3.exceptions.ProtocolError)
                    and method in _RESEND_METHODS
                    and resends < _MAX_RESENDS
                ):
                    resends += 1
                    continue
                raise
            metrics.observe_request_result(str(resp.status), method, host)
            if 200 <= resp.status <= 299:
                return resp
            raise status_error_from_response(
                resp.status, read_body(resp, deadline, idle), resp.headers
            )


@dataclass(frozen=True)
class _DirectRoute:
    """Where requests to one server URL go without the pool manager's per-call work."""

    manager: urllib3.PoolManager
    base: str
    conn_pool: HTTPConnectionPool
    key: Any  # the manager's key of conn_pool
    # The server URL's own path (e.g. a proxy's prefix), which every request URI starts with.
    prefix: str


def _direct_route(pool: Any, base: str, tls_handshake: float) -> _DirectRoute | None:
    """The connection pool ``PoolManager.urlopen`` would choose for ``base`` (its
    connections bound TLS handshakes to ``tls_handshake``), or None where the manager
    must stay in the path (a proxy, a stand-in, a server URL with a query or fragment
    or without a scheme)."""
    if type(pool) is not urllib3.PoolManager:
        return None
    u = parse_url(base)
    if u.scheme is None or not u.host or u.query is not None or u.fragment is not None:
        return None
    conn_pool = pool.connection_from_host(u.host, port=u.port, scheme=u.scheme)
    connection.install(conn_pool, tls_handshake)
    # The container refuses iteration; keys() gives a copy.
    keys = pool.pools.keys()
    key = next((k for k in keys if pool.pools.get(k) is conn_pool), None)
    if key is None:
        return None
    return _DirectRoute(pool, base, conn_pool, key, u.path or "")


def _case_merged(headers: dict[str, str]) -> Mapping[str, str]:
    """``headers`` as the pool manager sends them: names that differ only in case are
    merged into one (``HTTPHeaderDict``); without such names, the dict itself."""
    if len({name.lower() for name in headers}) == len(headers):
        return headers
    return urllib3.HTTPHeaderDict(headers)
