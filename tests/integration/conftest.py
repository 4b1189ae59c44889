"""Fixtures for tests against a real kube-apiserver and etcd.

The control plane is started once per session on free loopback ports. Binaries come
from JOBCTL_ASSETS or are built by hack/build-control-plane.sh; a missing or broken
build fails the session instead of skipping it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kubernetes.client import V1Namespace, V1ObjectMeta

from jobctl.client import errors
from jobctl.client.interface import Interface
from jobctl.testing.control_plane import ControlPlane, find_assets


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
        try:
            core.delete_namespace(name)
        except client.ApiException as err:
            if err.status != 404:
                raise
        api.close()


__all__ = ["errors", "new_admin_client"]
