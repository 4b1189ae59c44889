"""Tests for jobctl.app.server over a real loopback socket (port 0)."""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from jobctl.app.controller_manager import new_registry
from jobctl.app.server import HealthServer
from jobctl.job import metrics as job_metrics
from jobctl.k8s_libs.clock import FakeClock
from jobctl.leaderelection import resourcelock as rl
from jobctl.leaderelection.healthzadaptor import new_leader_healthz_adaptor
from jobctl.leaderelection.leaderelection import LeaderElectionConfig, LeaderElector
from jobctl.workqueue.metrics import PrometheusMetricsProvider as QueueMetricsProvider


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read().decode()
    finally:
        conn.close()


class Readiness:
    def __init__(self) -> None:
        self.ready = False
        self.reason = "informer caches not synced"

    def __call__(self) -> tuple[bool, str]:
        return self.ready, self.reason


class FailingCheck:
    def __init__(self) -> None:
        self.failing = False

    def name(self) -> str:
        return "custom"

    def check(self) -> None:
        if self.failing:
            raise RuntimeError("broken")


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def served(registry: CollectorRegistry) -> Iterator[tuple[HealthServer, Readiness, FailingCheck]]:
    readiness = Readiness()
    check = FailingCheck()
    server = HealthServer("127.0.0.1", 0, registry, checks=[check], readiness=readiness)
    server.start()
    try:
        yield server, readiness, check
    finally:
        server.shutdown()


def test_healthz_ok(served: tuple[HealthServer, Readiness, FailingCheck]) -> None:
    server, _, _ = served
    assert server.port != 0
    assert get(server.port, "/healthz")[0::2] == (200, "ok")
    assert get(server.port, "/livez")[0::2] == (200, "ok")


def test_healthz_verbose_lists_checks(served: tuple[HealthServer, Readiness, FailingCheck]) -> None:
    server, _, _ = served
    status, _, body = get(server.port, "/healthz?verbose")
    assert status == 200
    assert body.splitlines() == ["[+]ping ok", "[+]custom ok", "healthz check passed"]


def test_healthz_failing_check(served: tuple[HealthServer, Readiness, FailingCheck]) -> None:
    server, _, check = served
    check.failing = True
    status, _, body = get(server.port, "/healthz")
    assert status == 500
    assert "[-]custom failed: broken" in body
    assert body.rstrip().endswith("healthz check failed")


def test_readyz_follows_readiness(served: tuple[HealthServer, Readiness, FailingCheck]) -> None:
    server, readiness, _ = served
    status, _, body = get(server.port, "/readyz")
    assert (status, body.strip()) == (503, "not ready: informer caches not synced")
    readiness.ready = True
    assert get(server.port, "/readyz")[0::2] == (200, "ok")


def test_unknown_path_is_404(served: tuple[HealthServer, Readiness, FailingCheck]) -> None:
    server, _, _ = served
    assert get(server.port, "/nope")[0] == 404


def test_healthz_leader_election_watchdog() -> None:
    """KCM wires the leader election adaptor into /healthz: a leader that has not
    renewed for lease duration + 20s is unhealthy."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FakeClock(now)

    class Lock:
        def identity(self) -> str:
            return "me"

    adaptor = new_leader_healthz_adaptor(20.0)
    elector = LeaderElector(
        LeaderElectionConfig(lock=Lock(), lease_duration=15.0, name="jobctl"),  # type: ignore[arg-type]
        clock=clock,
    )
    elector.set_observed_record(rl.LeaderElectionRecord(holder_identity="me"))
    adaptor.set_leader_election(elector)
    server = HealthServer("127.0.0.1", 0, CollectorRegistry(), checks=[adaptor])
    server.start()
    try:
        assert get(server.port, "/healthz")[0] == 200
        clock.set_time(now + timedelta(seconds=36))
        status, _, body = get(server.port, "/healthz")
        assert status == 500
        assert (
            "[-]leaderElection failed: failed election to renew leadership on lease jobctl" in body
        )
    finally:
        server.shutdown()


def test_metrics_exposes_registry() -> None:
    registry = new_registry()
    job_metrics.register(registry)
    provider = QueueMetricsProvider(registry)
    provider.new_adds_metric("job").inc()
    server = HealthServer("127.0.0.1", 0, registry)
    server.start()
    try:
        status, ctype, body = get(server.port, "/metrics")
    finally:
        server.shutdown()
    assert status == 200
    assert ctype.startswith("text/plain")
    names = {
        line.split("{")[0].split(" ")[0] for line in body.splitlines() if line and line[0] != "#"
    }
    assert 'workqueue_adds_total{name="job"} 1.0' in body
    families = {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE")}
    # The families of pkg/controller/job/metrics/metrics.go.
    assert {
        "job_controller_job_sync_duration_seconds",
        "job_controller_job_syncs_total",
        "job_controller_jobs_finished_total",
        "job_controller_job_pods_finished_total",
        "job_controller_pod_failures_handled_by_failure_policy_total",
        "job_controller_terminated_pods_tracking_finalizer_total",
        "job_controller_job_finished_indexes_total",
        "job_controller_job_pods_creation_total",
        "job_controller_jobs_by_external_controller_total",
    } <= families
    assert "process_cpu_seconds_total" in names
    assert "python_info" in names


def test_metrics_openmetrics_negotiation(registry: CollectorRegistry) -> None:
    server = HealthServer("127.0.0.1", 0, registry)
    server.start()
    try:
        status, ctype, body = get(
            server.port, "/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"}
        )
    finally:
        server.shutdown()
    assert status == 200
    assert ctype.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")


def test_no_plain_listener_when_port_is_none(registry: CollectorRegistry) -> None:
    server = HealthServer("127.0.0.1", None, registry)
    assert server.ports == []
    server.start()
    server.shutdown()


def test_shutdown_closes_the_socket(registry: CollectorRegistry) -> None:
    server = HealthServer("127.0.0.1", 0, registry)
    server.start()
    port = server.port
    assert get(port, "/healthz")[0] == 200
    server.shutdown()
    with pytest.raises(OSError):
        get(port, "/healthz")


def test_secure_port_serves_tls(tmp_path: Any, registry: CollectorRegistry) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        secure_port = int(s.getsockname()[1])
    server = HealthServer(
        "127.0.0.1",
        None,
        registry,
        secure_port=secure_port,
        tls_cert_file=str(cert),
        tls_private_key_file=str(key),
    )
    server.start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", secure_port, timeout=5, context=context)
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"ok")
        conn.close()
    finally:
        server.shutdown()
