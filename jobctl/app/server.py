"""Health and metrics endpoints of the jobctl binary.

Stands in for the controller-manager's serving stack (k8s.io/controller-manager
``app/serve.go`` ``NewBaseHandler`` and ``pkg/healthz``): a small threaded
``http.server`` answering

- ``/healthz`` (and ``/livez``): ``ok`` while every health check passes (the leader
  election watchdog among them), 500 listing the failed checks otherwise;
- ``/readyz``: 200 once the informer caches have synced and, with leader election,
  this replica leads; 503 with the reason otherwise;
- ``/metrics``: the Prometheus text exposition of one registry.

The same handler can also be served over TLS (``--secure-port``).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

logger = logging.getLogger(__name__)


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


class HealthServer:
    """The HTTP(S) listener(s) for health, readiness and metrics.

    ``port`` None means no plain HTTP listener; 0 binds a free port (the bound port
    is then in ``ports``). ``secure_port`` None means no TLS listener.
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
    ) -> None:
        self._registry = registry
        self._checks: list[HealthChecker] = [PingHealthChecker(), *checks]
        self._checks_lock = threading.Lock()
        self._readiness: ReadinessFunc = readiness or _always_ready
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        handler = self._handler_class()
        if port is not None:
            self._servers.append(_Server((bind_address, port), handler))
        if secure_port is not None:
            secure = _Server((bind_address, secure_port), handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert_file, tls_private_key_file)
            secure.socket = context.wrap_socket(secure.socket, server_side=True)
            self._servers.append(secure)

    @property
    def ports(self) -> list[int]:
        """The bound ports: plain first, then the secure one if any."""
        return [int(s.server_address[1]) for s in self._servers]

    @property
    def port(self) -> int:
        return self.ports[0]

    def add_health_checker(self, *checks: HealthChecker) -> None:
        """Port of MutableHealthzHandler.AddHealthChecker."""
        with self._checks_lock:
            self._checks.extend(checks)

    def set_readiness(self, readiness: ReadinessFunc) -> None:
        self._readiness = readiness

    def start(self) -> None:
        """Serve in daemon threads until ``shutdown``."""
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"http-{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
            logger.info("Serving health and metrics on %s:%s", *server.server_address[:2])

    def shutdown(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers:
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

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

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "jobctl"
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                if url.path in ("/healthz", "/livez"):
                    code, text = owner._healthz("verbose" in query)
                    self._send(code, "text/plain; charset=utf-8", text.encode())
                elif url.path == "/readyz":
                    code, text = owner._readyz()
                    self._send(code, "text/plain; charset=utf-8", text.encode())
                elif url.path == "/metrics":
                    code, ctype, body = owner._metrics(self.headers.get("Accept"))
                    self._send(code, ctype, body)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"404 page not found\n")

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                logger.log(5, "%s - " + format, self.address_string(), *args)

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
