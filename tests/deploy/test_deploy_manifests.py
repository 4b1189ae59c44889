"""deploy/: every manifest parses, the default kustomization lists them, and the Service,
PodDisruptionBudget, NetworkPolicy and optional ServiceMonitor point at what the
Deployment really runs (labels, named ports). The API server's own checks of the same
files are in tests/integration/test_deploy_manifests.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def load(name: str) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d is not None]
    assert docs, name
    return docs


def one(name: str, kind: str) -> dict[str, Any]:
    [doc] = [d for d in load(name) if d["kind"] == kind]
    return doc


def kustomization_resources() -> list[str]:
    resources: list[str] = one("kustomization.yaml", "Kustomization")["resources"]
    return resources


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("name", sorted(str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*.yaml")))
def test_manifest_parses(name: str) -> None:
    for doc in load(name):
        assert doc["apiVersion"] and doc["kind"]
        if doc["kind"] != "Kustomization":
            assert doc["metadata"]["name"]
            assert "namespace" not in doc["metadata"], "kustomization.yaml picks it"


def test_kustomization_lists_every_top_level_manifest() -> None:
    top = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization_resources()) == top
    assert "optional/servicemonitor.yaml" not in kustomization_resources()


def _deployment() -> tuple[dict[str, Any], dict[str, str], set[str]]:
    deployment = one("deployment.yaml", "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    ports = {
        p["name"]
        for c in deployment["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports", [])
    }
    return deployment, pod_labels, ports


def test_service_selects_the_pods_metrics_port() -> None:
    _, pod_labels, ports = _deployment()
    service = one("service.yaml", "Service")
    assert matches(service["spec"]["selector"], pod_labels)
    [port] = service["spec"]["ports"]
    assert port["targetPort"] in ports


def test_pdb_keeps_one_of_the_replicas() -> None:
    deployment, pod_labels, _ = _deployment()
    pdb = one("pdb.yaml", "PodDisruptionBudget")
    assert matches(pdb["spec"]["selector"]["matchLabels"], pod_labels)
    assert deployment["spec"]["replicas"] == 2
    assert 0 < pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_network_policy_admits_only_the_metrics_port() -> None:
    _, pod_labels, ports = _deployment()
    policy = one("networkpolicy.yaml", "NetworkPolicy")
    assert matches(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == ["https"]
    assert "https" in ports


def test_service_monitor_scrapes_the_service() -> None:
    service = one("service.yaml", "Service")
    monitor = one("optional/servicemonitor.yaml", "ServiceMonitor")
    assert matches(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/metrics"
