"""Health, metrics and debugging endpoints of the jobctl binary.

Stands in for the controller-manager's serving stack (k8s.io/controller-manager
``app/serve.go`` ``NewBaseHandler``/``BuildHandlerChain`` and ``pkg/healthz``):

- ``/healthz`` (and ``/livez``): ``ok`` while every health check passes (the leader
  election watchdog among them), 500 listing the failed checks otherwise;
- ``/readyz``: 200 once the informer caches have synced and, with leader election,
  this replica leads; 503 with the reason otherwise;
- ``/metrics``: the Prometheus text exposition of one registry;
- with ``profiling``: ``/debug/pprof/goroutine`` and ``/debug/flags/v`` (``debug.py``).

The secure listener (HTTPS, ``--secure-port``) authenticates and authorizes every path
except the health paths (``delegated_auth.py``), as KCM's handler chain does. The
optional plain listener (``--port``, off by default) serves the health paths and
``/metrics`` without authentication and never the debugging endpoints: it is jobctl's
opt-out for local use, KCM has none. Connections are handled by
``conn_server.BoundedConnectionServer`` (TLS handshakes off the accept loop, idle
connections timed out, connection count bounded).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from jobctl.app import debug
from jobctl.app.conn_server import BoundedConnectionServer, Limits
from jobctl.app.delegated_auth import AuthenticationError, Authenticator, Authorizer

logger = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
_MAX_BODY = 1024


class HealthChecker(Protocol):
    """Port of healthz.HealthChecker: a named check that raises when unhealthy."""

    def name(self) -> str: ...

    def check(self) -> None: ...


class PingHealthChecker:
    """Port of healthz.PingHealthz / controllerhealthz.NamedPingChecker: always ok."""

    def __init__(self, name: str = "ping") -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    def check(self) -> None:
        return None


# Readiness: (ready, reason when not ready).
ReadinessFunc = Callable[[], tuple[bool, str]]


def _always_ready() -> tuple[bool, str]:
    return True, ""


def _status_body(code: int, reason: str, message: str) -> bytes:
    """A metav1.Status, as the apiserver filters write for 401 and 403."""
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": {},
            "code": code,
        }
    ).encode()


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return socket.create_server((address, port), family=family, backlog=128)


class HealthServer:
    """The HTTP(S) listener(s) for health, readiness, metrics and debugging.

    ``port`` None means no plain HTTP listener; 0 binds a free port (the bound port
    is then in ``ports``). ``secure_port`` None means no TLS listener. Without an
    ``authenticator``/``authorizer`` the secure listener checks nothing (tests only;
    the binary always passes both).
    """

    def __init__(
        self,
        bind_address: str,
        port: int | None,
        registry: CollectorRegistry,
        checks: Sequence[HealthChecker] = (),
        readiness: ReadinessFunc | None = None,
        secure_port: int | None = None,
        tls_cert_file: str = "",
        tls_private_key_file: str = "",
        authenticator: Authenticator | None = None,
        authorizer: Authorizer | None = None,
        profiling: bool = False,
        limits: Limits | None = None,
        get_verbosity: Callable[[], int] | None = None,
        set_verbosity: Callable[[int], None] | None = None,
    ) -> None:
        self._registry = registry
        self._checks: list[HealthChecker] = [PingHealthChecker(), *checks]
        self._checks_lock = threading.Lock()
        self._readiness: ReadinessFunc = readiness or _always_ready
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._profiling = profiling
        if get_verbosity is None or set_verbosity is None:
            from jobctl.app import logging_setup

            get_verbosity, set_verbosity = (
                logging_setup.current_verbosity,
                logging_setup.set_verbosity,
            )
        self._get_verbosity = get_verbosity
        self._set_verbosity = set_verbosity
        self._conns = BoundedConnectionServer(limits)
        self._ports: list[int] = []
        self._started = False
        handler = self._handler_class()
        try:
            if port is not None:
                sock = _listen(bind_address, port)
                self._ports.append(int(sock.getsockname()[1]))
                self._conns.add_listener(sock, self._connection_handler(handler, False), None)
            if secure_port is not None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(tls_cert_file, tls_private_key_file)
                sock = _listen(bind_address, secure_port)
                self._ports.append(int(sock.getsockname()[1]))
                self._conns.add_listener(sock, self._connection_handler(handler, True), context)
        except BaseException:
            self._conns.shutdown()
            raise

    @property
    def ports(self) -> list[int]:
        """The bound ports: plain first, then the secure one if any."""
        return list(self._ports)

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def open_connections(self) -> int:
        return self._conns.open_connections

    def add_health_checker(self, *checks: HealthChecker) -> None:
        """Port of MutableHealthzHandler.AddHealthChecker."""
        with self._checks_lock:
            self._checks.extend(checks)

    def set_readiness(self, readiness: ReadinessFunc) -> None:
        self._readiness = readiness

    def start(self) -> None:
        """Serve from a background thread until ``shutdown``."""
        self._conns.start()
        self._started = True
        for p in self._ports:
            logger.info("Serving health and metrics on port %s", p)

    def shutdown(self) -> None:
        """Stop serving and close the sockets."""
        self._conns.shutdown()

    def _connection_handler(
        self, handler: type[BaseHTTPRequestHandler], secure: bool
    ) -> Callable[[socket.socket, tuple[str, int], float], None]:
        def serve(sock: socket.socket, address: tuple[str, int], deadline: float) -> None:
            handler(sock, address, _Connection(self, deadline, secure))  # type: ignore[arg-type]

        return serve

    # -- request handling ---------------------------------------------------------

    def _healthz(self, verbose: bool) -> tuple[int, str]:
        with self._checks_lock:
            checks = list(self._checks)
        lines: list[str] = []
        failed = False
        for check in checks:
            try:
                check.check()
            except Exception as err:
                failed = True
                lines.append(f"[-]{check.name()} failed: {err}")
            else:
                lines.append(f"[+]{check.name()} ok")
        if failed:
            logger.info("healthz check failed: %s", "; ".join(x for x in lines if x[1] == "-"))
            return 500, "\n".join([*lines, "healthz check failed"]) + "\n"
        if verbose:
            return 200, "\n".join([*lines, "healthz check passed"]) + "\n"
        return 200, "ok"

    def _readyz(self) -> tuple[int, str]:
        try:
            ready, reason = self._readiness()
        except Exception as err:
            ready, reason = False, str(err)
        if ready:
            return 200, "ok"
        return 503, f"not ready: {reason}\n"

    def _metrics(self, accept: str | None) -> tuple[int, str, bytes]:
        encoder, content_type = choose_encoder(accept or "")
        return 200, content_type, encoder(self._registry)

    def _check_access(
        self, secure: bool, method: str, path: str, header: str | None
    ) -> tuple[int, bytes] | None:
        """WithAuthentication + WithAuthorization: None when the request may proceed,
        else the status and body to answer with."""
        if not secure or self._authenticator is None or self._authorizer is None:
            return None
        if self._authorizer.always_allowed(path):
            return None
        try:
            user = self._authenticator.authenticate(header)
        except AuthenticationError:
            return 401, _status_body(401, "Unauthorized", "Unauthorized")
        verb = method.lower()
        allowed, reason = self._authorizer.authorize(user, verb, path)
        if allowed:
            return None
        message = f'forbidden: User "{user.name}" cannot {verb} path "{path}"'
        if reason:
            message += f": {reason}"
        return 403, _status_body(403, "Forbidden", message)

    def _route(
        self,
        secure: bool,
        method: str,
        path: str,
        query: dict[str, list[str]],
        accept: str | None,
        body: bytes,
    ) -> tuple[int, str, bytes]:
        text = "text/plain; charset=utf-8"
        if path in ("/healthz", "/livez", "/readyz") and method == "GET":
            if path == "/readyz":
                code, out = self._readyz()
            else:
                code, out = self._healthz("verbose" in query)
            return code, text, out.encode()
        if path == "/metrics" and method == "GET":
            return self._metrics(accept)
        if secure and self._profiling:
            if path == debug.FLAGS_V_PATH:
                return debug.flags_v(method, body, self._get_verbosity, self._set_verbosity)
            if (
                path == debug.PPROF_PREFIX or path.startswith(debug.PPROF_PREFIX + "/")
            ) and method == "GET":
                return debug.pprof(path)
        if method != "GET":
            return 405, text, b"405: Method Not Allowed\n"
        return 404, text, b"404 page not found\n"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            server_version = "jobctl"
            protocol_version = "HTTP/1.1"
            server: _Connection  # type: ignore[assignment]

            def setup(self) -> None:
                raw = _DeadlineIO(self.request, self.server.deadline)
                self.connection = self.request
                self.rfile = io.BufferedReader(raw)
                self.wfile = io.BufferedWriter(raw)

            def finish(self) -> None:
                with contextlib.suppress(OSError):
                    self.wfile.flush()

            def do_GET(self) -> None:
                self._handle("GET")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def _handle(self, method: str) -> None:
                ctx = self.server
                url = urlsplit(self.path)
                # Read the (small, bounded) body first: closing with unread data would
                # reset the connection before the client reads the answer.
                body = b""
                if method in ("PUT", "POST"):
                    length = int(self.headers.get("Content-Length") or 0)
                    if length > _MAX_BODY or length < 0:
                        self._send(413, "text/plain; charset=utf-8", b"request body too large\n")
                        return
                    body = self.rfile.read(length)
                denied = ctx.owner._check_access(
                    ctx.secure, method, url.path, self.headers.get("Authorization")
                )
                if denied is not None:
                    self._send(denied[0], "application/json", denied[1])
                    return
                query = parse_qs(url.query, keep_blank_values=True)
                code, ctype, out = ctx.owner._route(
                    ctx.secure, method, url.path, query, self.headers.get("Accept"), body
                )
                self._send(code, ctype, out)

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Cache-Control", "no-cache, private")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                logger.log(5, "%s - " + format, self.address_string(), *args)

        return Handler


class _Connection:
    """What a request handler needs of its connection (passed as its ``server``)."""

    def __init__(self, owner: HealthServer, deadline: float, secure: bool) -> None:
        self.owner = owner
        self.deadline = deadline
        self.secure = secure


class _DeadlineIO(io.RawIOBase):
    """Socket reads and writes that all end by one absolute deadline, so a client that
    trickles bytes cannot hold a worker longer than the request timeout."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request deadline exceeded")
        self._sock.settimeout(left)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._arm()
        return self._sock.recv_into(buffer)

    def write(self, data: Any) -> int:
        self._arm()
        self._sock.sendall(data)
        return len(data)
