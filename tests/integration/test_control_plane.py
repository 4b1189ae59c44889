"""The local control plane is a real kube-apiserver: RBAC, persistence, restarts."""

from __future__ import annotations

import pytest
from kubernetes import client, config

from jobctl.testing.control_plane import ControlPlane, ControlPlaneError


def _core(kubeconfig: str) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(kubeconfig))


def test_admin_can_create_pods(control_plane: ControlPlane, namespace: str) -> None:
    core = _core(str(control_plane.admin_kubeconfig))
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )
    created = core.create_namespaced_pod(namespace, pod)
    assert created.metadata.uid
    assert created.status.phase == "Pending"


def test_restricted_identity_is_denied_without_binding(
    control_plane: ControlPlane, namespace: str
) -> None:
    core = _core(str(control_plane.restricted_kubeconfig))
    with pytest.raises(client.ApiException) as info:
        core.list_namespaced_pod(namespace)
    assert info.value.status == 403


def test_state_survives_apiserver_restart(control_plane: ControlPlane, namespace: str) -> None:
    core = _core(str(control_plane.admin_kubeconfig))
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"), data={"k": "v"})
    )
    control_plane.restart_apiserver()
    core = _core(str(control_plane.admin_kubeconfig))
    assert core.read_namespaced_config_map("cm", namespace).data == {"k": "v"}


def test_failed_start_leaves_no_process(control_plane: ControlPlane) -> None:
    broken = ControlPlane(control_plane.assets, extra_apiserver_flags=["--no-such-flag"])
    with pytest.raises(ControlPlaneError, match="kube-apiserver exited during start-up"):
        broken.start()
    assert broken._etcd is not None
    assert not broken._etcd.alive()
    assert not broken.workdir.exists()
