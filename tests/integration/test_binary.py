"""The jobctl binary as a subprocess against the real apiserver.

Covers what a deployment relies on: deploy/rbac.yaml is enough (and its absence is one
clear error), leader election between two replicas, a clean hand-over on SIGTERM, the
health and metrics endpoints, and a SIGKILL mid-Job followed by a restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client import V1Job, V1ObjectMeta, V1PodSpec, V1PodTemplateSpec

from jobctl.client import errors
from jobctl.client.interface import Interface
from jobctl.k8s_libs.api import POD_FAILED, POD_SUCCEEDED
from jobctl.testing.control_plane import REPO_ROOT, RESTRICTED_USER, ControlPlane, free_port
from jobctl.testing.integration_util import (
    create_job_with_defaults,
    describe_job,
    get_job,
    get_job_pods,
    has_job_tracking_finalizer,
    is_pod_terminal,
    new_job,
    pod_phase,
    validate_job_condition,
    wait_for,
)
from jobctl.testing.pod_simulator import EXIT_SCRIPT, RUN_FOR, PodSimulator

CONTROLLER_NAME = "jobctl.dev/job-controller"
LEASE_NAME = "jobctl"  # deploy/rbac.yaml's leader election Role names this Lease
RBAC_YAML = REPO_ROOT / "deploy" / "rbac.yaml"
# Short leader election timings keep hand-overs fast; they satisfy
# lease > renew deadline > retry period * jitter.
FAST_ELECTION = [
    "--leader-elect-lease-duration=4s",
    "--leader-elect-renew-deadline=3s",
    "--leader-elect-retry-period=500ms",
]


# ---- the process -------------------------------------------------------------------------


@dataclass
class Jobctl:
    """One ``python -m jobctl`` process with its output in files."""

    name: str
    args: list[str]
    workdir: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}.stderr"

    def start(self) -> Jobctl:
        stdout = (self.workdir / f"{self.name}.stdout").open("ab")
        stderr = self.stderr_path.open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jobctl",
                    "--bind-address=127.0.0.1",
                    f"--port={self.port}",
                    "--secure-port=0",
                    *self.args,
                ],
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                env=env,
            )
        finally:
            stdout.close()
            stderr.close()
        return self

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        assert self.popen is not None
        self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end (only this process)."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)

    def get(self, path: str) -> tuple[int, str]:
        """GET on the process's plain HTTP port; (0, reason) when nothing answers."""
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return int(resp.status), resp.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as err:
            return 0, str(err)

    def describe(self) -> str:
        code = self.popen.poll() if self.popen is not None else None
        tail = "\n".join(self.stderr().splitlines()[-15:])
        return f"{self.name} (exit {code}), stderr tail:\n{tail}"


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[Jobctl]]:
    """Every jobctl started by a test; all are stopped at the end."""
    started: list[Jobctl] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.stop()


def _start(processes: list[Jobctl], tmp_path: Path, name: str, *args: str) -> Jobctl:
    proc = Jobctl(name, list(args), tmp_path).start()
    processes.append(proc)
    return proc


# ---- RBAC --------------------------------------------------------------------------------


def _rbac_api(cp: ControlPlane) -> k8s.RbacAuthorizationV1Api:
    return k8s.RbacAuthorizationV1Api(k8s_config.new_client_from_config(str(cp.admin_kubeconfig)))


def _deploy_rbac_documents() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(RBAC_YAML.read_text()) if d]
    return {d["kind"]: d for d in docs}


@contextlib.contextmanager
def restricted_identity_bound(cp: ControlPlane, namespace: str) -> Iterator[None]:
    """Bind deploy/rbac.yaml's ClusterRole and leader election Role to the restricted user.

    The ClusterRole gets a unique name so parallel sessions and leftovers never collide;
    its rules are taken from the file unchanged.
    """
    rbac = _rbac_api(cp)
    docs = _deploy_rbac_documents()
    suffix = uuid.uuid4().hex[:8]
    name = f"jobctl-{suffix}"
    cluster_role = dict(docs["ClusterRole"])
    cluster_role["metadata"] = {"name": name}
    role = dict(docs["Role"])
    role["metadata"] = {"name": "jobctl-leader-election", "namespace": namespace}
    subject = [{"kind": "User", "name": RESTRICTED_USER, "apiGroup": "rbac.authorization.k8s.io"}]
    cluster_binding: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": subject,
    }
    role_binding: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "jobctl-leader-election", "namespace": namespace},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "jobctl-leader-election",
        },
        "subjects": subject,
    }
    rbac.create_cluster_role(cluster_role)
    rbac.create_cluster_role_binding(cluster_binding)
    rbac.create_namespaced_role(namespace, role)
    rbac.create_namespaced_role_binding(namespace, role_binding)
    try:
        # RBAC reaches the authorizer through an informer: wait until it applies.
        wait_for(
            lambda: _restricted_can_list_pods(cp, namespace),
            timeout=30.0,
            message="the restricted user's binding to apply",
        )
        yield
    finally:
        with contextlib.suppress(k8s.ApiException):
            rbac.delete_cluster_role_binding(name)
        with contextlib.suppress(k8s.ApiException):
            rbac.delete_cluster_role(name)
        # Later tests expect the user to have no rights again.
        wait_for(
            lambda: not _restricted_can_list_pods(cp, namespace),
            timeout=30.0,
            message="the restricted user's binding to be gone",
        )


def _restricted_can_list_pods(cp: ControlPlane, namespace: str) -> bool:
    api = k8s_config.new_client_from_config(str(cp.restricted_kubeconfig))
    try:
        k8s.CoreV1Api(api).list_namespaced_pod(namespace, limit=1)
    except k8s.ApiException as err:
        if err.status == 403:
            return False
        raise
    finally:
        api.close()
    return True


# ---- jobs --------------------------------------------------------------------------------


def _managed_job(completions: int, parallelism: int, exit_script: str = "*=0") -> V1Job:
    template = V1PodTemplateSpec(
        metadata=V1ObjectMeta(annotations={RUN_FOR: "0.3", EXIT_SCRIPT: exit_script}),
        spec=V1PodSpec(containers=[], node_name="sim-node"),
    )
    return new_job(
        template=template,
        completions=completions,
        parallelism=parallelism,
        backoff_limit=10,
        managed_by=CONTROLLER_NAME,
    )


def _wait_complete(client: Interface, job: V1Job, timeout: float = 60.0) -> None:
    try:
        validate_job_condition(client, job, "Complete", timeout=timeout)
    except AssertionError as err:
        raise AssertionError(f"{err}; {describe_job(client, job)}") from None


def _assert_every_pod_counted_once(client: Interface, job: V1Job, completions: int) -> None:
    latest = get_job(client, job)
    pods = get_job_pods(client, job)
    succeeded = sum(pod_phase(p) == POD_SUCCEEDED for p in pods)
    failed = sum(pod_phase(p) == POD_FAILED for p in pods)
    status = latest.status
    assert (status.succeeded, status.failed or 0) == (completions, failed), describe_job(
        client, job
    )
    assert succeeded == completions and len(pods) == succeeded + failed, describe_job(client, job)
    assert not any(has_job_tracking_finalizer(p) for p in pods), describe_job(client, job)


def _lease_holder(client: Interface, namespace: str) -> str:
    try:
        lease = client.coordination_v1().leases(namespace).get(LEASE_NAME)
    except errors.StatusError as err:
        if errors.is_not_found(err):
            return ""
        raise
    return str(lease.spec.holder_identity or "") if lease.spec is not None else ""


def _leader_args(kubeconfig: Path, namespace: str) -> list[str]:
    return [
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=true",
        f"--controller-name={CONTROLLER_NAME}",
        f"--leader-elect-resource-namespace={namespace}",
        f"--leader-elect-resource-name={LEASE_NAME}",
        *FAST_ELECTION,
    ]


def _single_leader(replicas: list[Jobctl]) -> Jobctl:
    """Wait until exactly one replica is ready (leading with synced caches); return it."""
    states: list[tuple[str, int]] = []

    def one_ready() -> bool:
        nonlocal states
        for r in replicas:
            assert r.alive(), r.describe()
        states = [(r.name, r.get("/readyz")[0]) for r in replicas]
        return sorted(code for _, code in states) == [200] + [503] * (len(replicas) - 1)

    wait_for(one_ready, timeout=30.0, interval=0.2, message=lambda: f"readyz: {states}")
    return next(r for r in replicas if r.get("/readyz")[0] == 200)


# ---- tests -------------------------------------------------------------------------------


def test_restricted_identity_with_deploy_rbac_completes_a_job(
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
    pod_simulator: PodSimulator,
    processes: list[Jobctl],
    tmp_path: Path,
) -> None:
    """(a) deploy/rbac.yaml's roles are enough: a Job completes, nothing is forbidden."""
    with restricted_identity_bound(control_plane, namespace):
        proc = _start(
            processes,
            tmp_path,
            "restricted",
            *_leader_args(control_plane.restricted_kubeconfig, namespace),
        )
        _single_leader([proc])
        job = create_job_with_defaults(admin_client, namespace, _managed_job(3, 2, "*=1;0"))
        _wait_complete(admin_client, job)
        _assert_every_pod_counted_once(admin_client, job, 3)
        # The recorder's events got through too (events are in the ClusterRole).
        wait_for(
            lambda: any(
                e.involved_object.uid == job.metadata.uid and e.reason == "Completed"
                for e in admin_client.core_v1().events(namespace).list().items
            ),
            message="a Completed event from jobctl",
        )
        proc.signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.describe()
    log = proc.stderr()
    assert "forbidden" not in log.lower(), log
    assert "missing optional RBAC permission" not in log, log
    assert "Traceback" not in log, log


def test_restricted_identity_without_binding_fails_with_one_line(
    control_plane: ControlPlane, namespace: str, processes: list[Jobctl], tmp_path: Path
) -> None:
    """(a) Without the binding: a non-zero exit and one clear error line, no traceback."""
    assert not _restricted_can_list_pods(control_plane, namespace), "a binding is left over"
    proc = _start(
        processes,
        tmp_path,
        "unbound",
        *_leader_args(control_plane.restricted_kubeconfig, namespace),
    )
    code = proc.wait(60)
    stderr = proc.stderr()
    assert code != 0, stderr
    assert "Traceback" not in stderr, stderr
    errors_lines = [line for line in stderr.splitlines() if line.startswith("jobctl:")]
    assert len(errors_lines) == 1, stderr
    line = errors_lines[0].lower()
    assert "forbidden" in line or "not allowed" in line or "permission" in line, stderr
    assert RESTRICTED_USER in errors_lines[0] or "rbac" in line, stderr


def test_two_replicas_leader_election_and_sigterm_handover(
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
    pod_simulator: PodSimulator,
    processes: list[Jobctl],
    tmp_path: Path,
) -> None:
    """(b) one leader of two; (c) SIGTERM: exit 0, Lease released, the other takes over;
    (d) /healthz, /readyz and /metrics answer."""
    with restricted_identity_bound(control_plane, namespace):
        args = _leader_args(control_plane.restricted_kubeconfig, namespace)
        replicas = [
            _start(processes, tmp_path, "replica-a", *args),
            _start(processes, tmp_path, "replica-b", *args),
        ]
        leader = _single_leader(replicas)
        standby = next(r for r in replicas if r is not leader)
        holder = _lease_holder(admin_client, namespace)
        assert holder, "the Lease has no holder"
        # The standby keeps trying (and failing) to take the Lease; it never runs workers.
        assert standby.get("/readyz")[0] == 503

        # (d) the endpoints.
        for replica in replicas:
            assert replica.get("/healthz") == (200, "ok"), replica.describe()
        code, body = leader.get("/metrics")
        assert code == 200
        assert "job_controller_" in body and "workqueue_" in body, body[:2000]
        assert "leader_election_master_status" in body

        # (b) a Job completes under the leader.
        job = create_job_with_defaults(admin_client, namespace, _managed_job(4, 2))
        _wait_complete(admin_client, job)
        assert _lease_holder(admin_client, namespace) == holder

        # (c) SIGTERM to the leader: exit 0 within a bound, the Lease released.
        started = time.monotonic()
        leader.signal(signal.SIGTERM)
        assert leader.wait(20) == 0, leader.describe()
        shutdown_seconds = time.monotonic() - started
        assert _lease_holder(admin_client, namespace) != holder, "Lease not released"
        assert "Traceback" not in leader.stderr(), leader.describe()

        # The standby takes over well before the old Lease would have expired by itself.
        new_leader = _single_leader([standby])
        new_holder = _lease_holder(admin_client, namespace)
        assert new_holder and new_holder != holder
        second = create_job_with_defaults(admin_client, namespace, _managed_job(3, 3))
        _wait_complete(admin_client, second)
        _assert_every_pod_counted_once(admin_client, second, 3)
        assert new_leader.get("/healthz") == (200, "ok")
        assert shutdown_seconds < 20
        # Stop while still bound, so that its last writes (events, Lease) are allowed.
        new_leader.signal(signal.SIGTERM)
        assert new_leader.wait(20) == 0, new_leader.describe()
    for replica in replicas:
        log = replica.stderr()
        assert "forbidden" not in log.lower() and "Traceback" not in log, replica.describe()


def test_sigkill_mid_job_then_restart(
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
    pod_simulator: PodSimulator,
    processes: list[Jobctl],
    tmp_path: Path,
) -> None:
    """The controller is SIGKILLed mid-Job; a new one finishes it, no pod counted twice."""
    completions = 16
    args = [
        f"--kubeconfig={control_plane.admin_kubeconfig}",
        "--leader-elect=false",
        f"--controller-name={CONTROLLER_NAME}",
    ]
    first = _start(processes, tmp_path, "first", *args)
    job = create_job_with_defaults(
        admin_client, namespace, _managed_job(completions, 4, "*=0;1;0;0;1;0")
    )

    def succeeded_at_least(n: int) -> bool:
        status = get_job(admin_client, job).status
        return status is not None and (status.succeeded or 0) >= n

    wait_for(lambda: succeeded_at_least(5), timeout=60.0, message="5 pods succeeded")
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    # Pods keep finishing with nobody counting them; their finalizers stay.
    wait_for(
        lambda: all(is_pod_terminal(p) for p in get_job_pods(admin_client, job)),
        timeout=10.0,
        message="every pod created so far to finish while no controller runs",
    )
    _start(processes, tmp_path, "second", *args)
    _wait_complete(admin_client, job)
    _assert_every_pod_counted_once(admin_client, job, completions)
