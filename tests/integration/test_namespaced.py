"""Namespaced mode on the real control plane (issue 13, item 5).

jobctl runs as the restricted user bound to exactly deploy/namespaced/role.yaml's Role
in namespace A, with ``--namespace=A``: a Job in A completes, a Job in namespace B (no
Role there) is never touched, and the same identity started cluster-wide fails its
start-up permission check with one clear line.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client import V1Namespace, V1ObjectMeta

from jobctl.client.interface import Interface
from jobctl.testing.control_plane import REPO_ROOT, RESTRICTED_USER, ControlPlane
from jobctl.testing.integration_util import (
    create_job_with_defaults,
    get_job,
    get_job_pods,
    purge_namespace,
    wait_for,
)
from jobctl.testing.pod_simulator import PodSimulator
from tests.integration.conftest import new_admin_client
from tests.integration.test_binary import (
    CONTROLLER_NAME,
    FAST_ELECTION,
    LEASE_NAME,
    Jobctl,
    _assert_every_pod_counted_once,
    _lease_holder,
    _managed_job,
    _single_leader,
    _start,
    _wait_complete,
    processes,  # noqa: F401 - the fixture
)

ROLE_YAML = REPO_ROOT / "deploy" / "namespaced" / "role.yaml"


@pytest.fixture
def other_namespace(control_plane: ControlPlane) -> Iterator[str]:
    """Namespace B: jobctl has no Role there."""
    api = k8s_config.new_client_from_config(str(control_plane.admin_kubeconfig))
    core = k8s.CoreV1Api(api)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        purger = new_admin_client(control_plane)
        with contextlib.suppress(Exception):
            purge_namespace(purger, name)
        getattr(purger, "close", lambda: None)()
        with contextlib.suppress(k8s.ApiException):
            core.delete_namespace(name)
        api.close()


def _role_documents(namespace: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """deploy/namespaced/role.yaml's Role and RoleBinding, placed in ``namespace`` and
    bound to the restricted user instead of the ServiceAccount; rules unchanged."""
    docs = {d["kind"]: d for d in yaml.safe_load_all(ROLE_YAML.read_text()) if d}
    role = dict(docs["Role"])
    role["metadata"] = {"name": role["metadata"]["name"], "namespace": namespace}
    binding = dict(docs["RoleBinding"])
    binding["metadata"] = {"name": binding["metadata"]["name"], "namespace": namespace}
    binding["subjects"] = [
        {"kind": "User", "name": RESTRICTED_USER, "apiGroup": "rbac.authorization.k8s.io"}
    ]
    return role, binding


def _can(cp: ControlPlane, namespace: str) -> bool:
    api = k8s_config.new_client_from_config(str(cp.restricted_kubeconfig))
    try:
        k8s.BatchV1Api(api).list_namespaced_job(namespace, limit=1)
    except k8s.ApiException as err:
        if err.status == 403:
            return False
        raise
    finally:
        api.close()
    return True


@contextlib.contextmanager
def namespaced_role_bound(cp: ControlPlane, namespace: str) -> Iterator[None]:
    rbac = k8s.RbacAuthorizationV1Api(k8s_config.new_client_from_config(str(cp.admin_kubeconfig)))
    role, binding = _role_documents(namespace)
    rbac.create_namespaced_role(namespace, role)
    rbac.create_namespaced_role_binding(namespace, binding)
    try:
        wait_for(lambda: _can(cp, namespace), timeout=30.0, message="the Role binding to apply")
        yield
    finally:
        with contextlib.suppress(k8s.ApiException):
            rbac.delete_namespaced_role_binding(binding["metadata"]["name"], namespace)
        with contextlib.suppress(k8s.ApiException):
            rbac.delete_namespaced_role(role["metadata"]["name"], namespace)
        # Later tests expect the user to have no rights again.
        wait_for(
            lambda: not _can(cp, namespace),
            timeout=30.0,
            message="the Role binding to be gone",
        )


def _args(kubeconfig: Path, *extra: str) -> list[str]:
    return [
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=true",
        f"--controller-name={CONTROLLER_NAME}",
        f"--leader-elect-resource-name={LEASE_NAME}",
        *FAST_ELECTION,
        *extra,
    ]


def test_namespaced_mode_under_a_role_manages_only_its_namespace(
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
    other_namespace: str,
    pod_simulator: PodSimulator,
    processes: list[Jobctl],  # noqa: F811
    tmp_path: Path,
) -> None:
    with namespaced_role_bound(control_plane, namespace):
        # Outside its namespaces jobctl has no rights at all.
        assert not _can(control_plane, other_namespace)
        # B's Job exists first, so a controller watching B would act on it before A's
        # Job completes.
        job_b = create_job_with_defaults(admin_client, other_namespace, _managed_job(2, 2))
        proc = _start(
            processes,
            tmp_path,
            "namespaced",
            *_args(control_plane.restricted_kubeconfig, f"--namespace={namespace}"),
        )
        _single_leader([proc])
        # The Lease went to the managed namespace (the default in namespaced mode).
        assert _lease_holder(admin_client, namespace)

        job_a = create_job_with_defaults(admin_client, namespace, _managed_job(3, 2))
        _wait_complete(admin_client, job_a)
        _assert_every_pod_counted_once(admin_client, job_a, 3)

        # B's Job: no pods, no status, no finalizer work, no events from jobctl.
        untouched = get_job(admin_client, job_b)
        assert get_job_pods(admin_client, job_b) == []
        status = untouched.status
        assert status is None or (
            status.start_time is None and not status.active and not status.conditions
        ), untouched.status
        assert not admin_client.core_v1().events(other_namespace).list().items

        proc.stop()
        assert proc.wait(30) == 0, proc.describe()
    log = proc.stderr()
    assert "forbidden" not in log.lower(), log
    assert "Traceback" not in log, log


def test_cluster_wide_mode_with_only_the_namespaced_role_fails_its_permission_check(
    control_plane: ControlPlane,
    namespace: str,
    processes: list[Jobctl],  # noqa: F811
    tmp_path: Path,
) -> None:
    with namespaced_role_bound(control_plane, namespace):
        proc = _start(
            processes,
            tmp_path,
            "cluster-wide",
            *_args(
                control_plane.restricted_kubeconfig,
                f"--leader-elect-resource-namespace={namespace}",
            ),
        )
        started = time.monotonic()
        code = proc.wait(60)
    stderr = proc.stderr()
    assert code != 0, stderr
    assert time.monotonic() - started < 60
    assert "Traceback" not in stderr, stderr
    error_lines = [line for line in stderr.splitlines() if line.startswith("jobctl:")]
    assert len(error_lines) == 1, stderr
    line = error_lines[0]
    assert "cluster-wide" in line, stderr
    assert "forbidden" in line.lower() or "not allowed" in line, stderr


def test_leader_that_cannot_renew_exits_1_like_kcm(
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
    processes: list[Jobctl],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Issue 11, finding 3, on the real binary: once its renewals are refused (the
    binding is removed), the leader logs "leaderelection lost/stopped" and exits 1
    within the renew deadline (3s) plus a retry period and RBAC propagation."""
    with namespaced_role_bound(control_plane, namespace):
        proc = _start(
            processes,
            tmp_path,
            "loses-lease",
            *_args(control_plane.restricted_kubeconfig, f"--namespace={namespace}"),
        )
        _single_leader([proc])
        rbac = k8s.RbacAuthorizationV1Api(
            k8s_config.new_client_from_config(str(control_plane.admin_kubeconfig))
        )
        rbac.delete_namespaced_role_binding("jobctl", namespace)
        code = proc.wait(60)
    stderr = proc.stderr()
    assert code == 1, stderr
    assert "leaderelection lost/stopped" in stderr, stderr
    assert "Traceback" not in stderr, stderr
