"""Fixtures for tests against a real kube-apiserver and etcd.

The control plane is started once per session on free loopback ports. Binaries come
from JOBCTL_ASSETS or are built by hack/build-control-plane.sh; a missing or broken
build fails the session instead of skipping it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from kubernetes.client import V1Namespace, V1ObjectMeta

from jobctl.client import errors
from jobctl.client.interface import Interface
from jobctl.testing.control_plane import ControlPlane, find_assets
from jobctl.testing.integration_util import JobControllerRunner, purge_namespace, reset_metrics
from jobctl.testing.pod_simulator import PodSimulator

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    cp = ControlPlane(find_assets())
    try:
        cp.start()
        yield cp
    finally:
        cp.stop()


def new_admin_client(cp: ControlPlane, qps: float = 1000.0, burst: int = 2000) -> Interface:
    from jobctl.client.real import load_configuration, new_for_config

    configuration = load_configuration(str(cp.admin_kubeconfig), None, None)
    return new_for_config(configuration, qps=qps, burst=burst)


@pytest.fixture(scope="session")
def admin_client(control_plane: ControlPlane) -> Interface:
    return new_admin_client(control_plane)


@pytest.fixture
def namespace(control_plane: ControlPlane) -> Iterator[str]:
    """A fresh namespace per test, created through the official client."""
    from kubernetes import client, config

    api = config.new_client_from_config(str(control_plane.admin_kubeconfig))
    core = client.CoreV1Api(api)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        # No namespace controller runs here, so a deleted namespace would keep its Jobs
        # and pods forever (and every later informer would list them): purge them first.
        purger = new_admin_client(control_plane)
        try:
            purge_namespace(purger, name)
        except Exception as err:  # cleanup must not hide the test's own result
            log.warning("could not purge namespace %s: %s", name, err)
        finally:
            getattr(purger, "close", lambda: None)()
        try:
            core.delete_namespace(name)
        except client.ApiException as err:
            if err.status != 404:
                raise
        api.close()


@pytest.fixture
def job_controller(control_plane: ControlPlane, namespace: str) -> Iterator[JobControllerRunner]:
    """Starts and restarts jobctl's Job controller in this process (not started yet).

    It depends on ``namespace`` so that it stops before the namespace is purged.
    """
    runner = JobControllerRunner(control_plane.admin_kubeconfig)
    try:
        yield runner
    finally:
        runner.stop()
        # The metric objects are process-wide; leave them as a later test expects.
        reset_metrics()


@pytest.fixture
def fast_pod_failure_backoff(monkeypatch: pytest.MonkeyPatch) -> float:
    """Upstream's setDurationDuringTest(&DefaultJobPodFailureBackOff, fastPodFailureBackoff)."""
    from jobctl.job import job_controller as jc

    monkeypatch.setattr(jc, "DEFAULT_JOB_POD_FAILURE_BACK_OFF", 0.1)
    return 0.1


@pytest.fixture
def pod_simulator(admin_client: Interface, namespace: str) -> Iterator[PodSimulator]:
    """A kubelet stand-in for the test's namespace (see jobctl/testing/pod_simulator.py)."""
    simulator = PodSimulator(admin_client, namespace).start()
    try:
        yield simulator
    finally:
        simulator.stop()


__all__ = ["errors", "new_admin_client"]
