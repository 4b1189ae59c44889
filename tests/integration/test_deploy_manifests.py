"""deploy/'s manifests, applied with server-side apply and dryRun=All on the real API
server: the server validates and admits each object without storing it. Namespaced
objects go to the test's namespace (kustomize sets it in a real install). The optional
ServiceMonitor is tried only where its CRD is served (not on this control plane)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from jobctl.testing.control_plane import ControlPlane

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d is not None]


def _kustomization_resources() -> list[str]:
    [kustomization] = _documents("kustomization.yaml")
    resources: list[str] = kustomization["resources"]
    return resources


def _dynamic_client(cp: ControlPlane) -> Any:
    from kubernetes import config
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(config.new_client_from_config(str(cp.admin_kubeconfig)))


def _dry_run_apply(dyn: Any, doc: dict[str, Any], namespace: str) -> Any:
    resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    return resource.server_side_apply(
        body=doc,
        namespace=namespace if resource.namespaced else None,
        field_manager="jobctl-deploy-test",
        dry_run="All",
    )


@pytest.mark.parametrize("name", _kustomization_resources())
def test_manifest_is_accepted_by_the_api_server(
    control_plane: ControlPlane, namespace: str, name: str
) -> None:
    dyn = _dynamic_client(control_plane)
    for doc in _documents(name):
        out = _dry_run_apply(dyn, doc, namespace)
        assert out.kind == doc["kind"]
        assert out.metadata.name == doc["metadata"]["name"]
        if doc["kind"] == "Service":
            assert [p.targetPort for p in out.spec.ports] == ["https"]
        # Nothing was stored (dryRun=All); checked where the namespace is the test's own.
        resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        if resource.namespaced:
            with pytest.raises(NotFoundError):
                resource.get(name=doc["metadata"]["name"], namespace=namespace)


def test_service_monitor(control_plane: ControlPlane, namespace: str) -> None:
    dyn = _dynamic_client(control_plane)
    [doc] = _documents("optional/servicemonitor.yaml")
    try:
        dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    except ResourceNotFoundError:
        pytest.skip("the ServiceMonitor CRD (Prometheus Operator) is not installed")
    out = _dry_run_apply(dyn, doc, namespace)
    assert out.metadata.name == "jobctl"
