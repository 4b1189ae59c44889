"""Serving on the real API server: /metrics authorized by TokenReview and
SubjectAccessReview the way kube-controller-manager's secure port is.

A service account bound to a ClusterRole granting ``get`` on the non-resource URL
``/metrics`` scrapes (200); another service account is refused (403); no token is
``system:anonymous`` (403); a made-up token is 401; ``/healthz`` needs nothing.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from prometheus_client import CollectorRegistry, Counter

from jobctl.app.options import JobctlOptions
from jobctl.app.server import HealthServer
from jobctl.app.serving import secure_serving
from jobctl.testing.control_plane import ControlPlane, jobctl_args

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, token: str | None, ca_file: str) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=ca_file)
    conn = http.client.HTTPSConnection("localhost", port, timeout=30, context=context)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def tokens(control_plane: ControlPlane, namespace: str) -> Iterator[tuple[str, str]]:
    """Tokens of two service accounts; only the first may get /metrics."""
    api = config.new_client_from_config(str(control_plane.admin_kubeconfig))
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    role = f"metrics-reader-{uuid.uuid4().hex[:8]}"
    for name in ("scraper", "other"):
        core.create_namespaced_service_account(
            namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
        )
    rbac.create_cluster_role(
        client.V1ClusterRole(
            metadata=client.V1ObjectMeta(name=role),
            rules=[client.V1PolicyRule(non_resource_urls=["/metrics"], verbs=["get"])],
        )
    )
    rbac.create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=role),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role
            ),
            subjects=[
                client.RbacV1Subject(kind="ServiceAccount", name="scraper", namespace=namespace)
            ],
        )
    )
    try:
        issued = [
            core.create_namespaced_service_account_token(
                name,
                namespace,
                client.AuthenticationV1TokenRequest(
                    spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
                ),
            ).status.token
            for name in ("scraper", "other")
        ]
        yield issued[0], issued[1]
    finally:
        rbac.delete_cluster_role_binding(role)
        rbac.delete_cluster_role(role)
        api.close()


def test_metrics_authorized_through_the_api_server(
    control_plane: ControlPlane, tokens: tuple[str, str], tmp_path: Path
) -> None:
    scraper, other = tokens
    opts = JobctlOptions(
        kubeconfig=str(control_plane.admin_kubeconfig),
        bind_address="127.0.0.1",
        port=0,
        secure_port=_free_port(),
        cert_dir=str(tmp_path),
    )
    registry = CollectorRegistry()
    Counter("jobctl_serving_probe", "test", registry=registry).inc()
    with secure_serving(opts) as secure:
        assert secure is not None
        server = HealthServer(
            opts.bind_address,
            None,
            registry,
            secure_port=opts.secure_port,
            tls_cert_file=secure.cert_file,
            tls_private_key_file=secure.key_file,
            authenticator=secure.authenticator,
            authorizer=secure.authorizer,
            profiling=True,
        )
        server.start()
        try:
            port = server.port
            # The generated certificate verifies for localhost against its own CA.
            ca = secure.cert_file
            assert _get(port, "/healthz", None, ca) == (200, "ok")
            status, body = _get(port, "/metrics", scraper, ca)
            assert status == 200, body
            assert "jobctl_serving_probe_total 1.0" in body
            status, body = _get(port, "/metrics", other, ca)
            assert status == 403, body
            assert ":other" in body and 'cannot get path \\"/metrics\\"' in body
            status, body = _get(port, "/metrics", None, ca)
            assert status == 403, body
            assert "system:anonymous" in body
            assert _get(port, "/metrics", "not-a-token", ca)[0] == 401
            # The debugging endpoints are behind the same checks.
            assert _get(port, "/debug/pprof/goroutine", scraper, ca)[0] == 403
        finally:
            server.shutdown()


def test_binary_serves_https_by_default(
    control_plane: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    """The real binary: HTTPS on --secure-port with a self-signed pair in --cert-dir,
    /healthz open, /metrics refused to anonymous and served to system:masters."""
    port = _free_port()
    cert_dir = tmp_path / "certs"
    command = jobctl_args(
        control_plane.admin_kubeconfig,
        f"serving.test/{namespace}",
        f"--secure-port={port}",
        f"--cert-dir={cert_dir}",
        "--bind-address=127.0.0.1",
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
    try:
        ca = cert_dir / "jobctl.crt"
        deadline = time.monotonic() + 120
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if ca.exists():
                try:
                    status, _ = _get(port, "/healthz", None, str(ca))
                except OSError:
                    status = 0
                if status == 200:
                    break
            time.sleep(0.2)
        assert status == 200, f"no /healthz (exit {proc.poll()}): {stderr_path.read_text()}"
        assert _get(port, "/metrics", None, str(ca))[0] == 403
        status, body = _get(port, "/metrics", control_plane.admin_token, str(ca))
        assert status == 200
        assert "kubernetes_build_info{" in body
        assert 'kubernetes_feature_enabled{name="JobManagedBy",stage=""} 1.0' in body
        assert "_created" not in body
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
