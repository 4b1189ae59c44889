"""Namespaced mode (issue 13, item 5): ``--namespace`` scopes every informer, write and
start-up check; deploy/namespaced/ grants exactly what that mode checks for."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from jobctl.app.controller_manager import (
    Config,
    RunHooks,
    StartupError,
    check_permissions,
    required_permissions,
    run,
    wait_for_api_server,
)
from jobctl.app.options import DEFAULT_RESOURCE_NAMESPACE, OptionsError, parse_args
from jobctl.record import new_broadcaster
from jobctl.testing.builders import new_job_with_name
from jobctl.testing.fake_clientset import FakeClientset

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACED = REPO_ROOT / "deploy" / "namespaced"
WAIT = 10.0


def test_namespace_flag_is_repeatable_and_places_the_lease() -> None:
    opts = parse_args(["--namespace=team-a", "--namespace", "team-b"])
    assert opts.namespaces == ["team-a", "team-b"]
    assert opts.leader_elect_resource_namespace == "team-a"
    explicit = parse_args(["--namespace=team-a", "--leader-elect-resource-namespace=ops"])
    assert explicit.leader_elect_resource_namespace == "ops"
    cluster_wide = parse_args([])
    assert cluster_wide.namespaces == []
    assert cluster_wide.leader_elect_resource_namespace == DEFAULT_RESOURCE_NAMESPACE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--namespace=Team_A"], 'namespace "Team_A" must be a valid namespace name'),
        (["--namespace="], 'namespace "" must be a valid namespace name'),
        (["--namespace=a", "--namespace=a"], "namespace must not be given twice"),
    ],
)
def test_bad_namespace_is_one_line(args: list[str], message: str) -> None:
    with pytest.raises(OptionsError) as exc:
        parse_args(args)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_permissions_are_asked_per_namespace_never_cluster_wide() -> None:
    opts = parse_args(["--namespace=a", "--namespace=b"])
    perms = required_permissions(opts)
    assert {p.namespace for p in perms} == {"a", "b"}
    a = {(p.verb, p.resource, p.subresource) for p in perms if p.namespace == "a"}
    b = {
        (p.verb, p.resource, p.subresource)
        for p in perms
        if p.namespace == "b" and p.resource != "leases"
    }
    assert a - {("get", "leases", ""), ("create", "leases", ""), ("update", "leases", "")} == b
    # Cluster-wide mode asks cluster-wide.
    assert any(p.namespace == "" for p in required_permissions(parse_args([])))


def test_missing_namespaced_permission_names_the_namespace_and_manifests() -> None:
    perms = required_permissions(parse_args(["--namespace=a"]))
    with pytest.raises(StartupError) as exc:
        check_permissions(
            lambda p: not (p.verb == "create" and p.resource == "pods"),
            perms,
            "deploy/namespaced/",
        )
    assert str(exc.value) == (
        "missing RBAC permission: not allowed to create pods in namespace a "
        "(see deploy/namespaced/)"
    )


def test_probes_list_each_namespace_only() -> None:
    client = FakeClientset()
    wait_for_api_server(client, 1.0, namespaces=["a", "b"])
    lists = [(a.resource, a.namespace) for a in client.actions() if a.verb == "list"]
    assert lists == [("jobs", "a"), ("pods", "a"), ("jobs", "b"), ("pods", "b")]


def _load(path: Path) -> dict[str, list[dict[str, Any]]]:
    docs: dict[str, list[dict[str, Any]]] = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if doc:
            docs.setdefault(doc["kind"], []).append(doc)
    return docs


def _grants(rules: list[dict[str, Any]], verb: str, group: str, resource: str, name: str) -> bool:
    for rule in rules:
        if group not in rule["apiGroups"] or resource not in rule["resources"]:
            continue
        if verb not in rule["verbs"]:
            continue
        names = rule.get("resourceNames")
        if names and name not in names:
            continue
        return True
    return False


def test_deploy_namespaced_role_grants_exactly_what_the_checks_require() -> None:
    docs = _load(NAMESPACED / "role.yaml")
    (role,) = docs["Role"]
    (binding,) = docs["RoleBinding"]
    assert "ClusterRole" not in docs and "ClusterRoleBinding" not in docs
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    perms = required_permissions(parse_args(["--namespace=team-a"]))
    wanted = set()
    for p in perms:
        resource = p.resource + (f"/{p.subresource}" if p.subresource else "")
        wanted.add((p.group, resource, p.verb))
        assert _grants(role["rules"], p.verb, p.group, resource, p.name), p.describe()
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for res in rule["resources"]:
                for verb in rule["verbs"]:
                    assert (group, res, verb) in wanted, f"unneeded grant {verb} {group}/{res}"


def test_deploy_namespaced_kustomization_and_deployment_agree() -> None:
    kustomization = yaml.safe_load((NAMESPACED / "kustomization.yaml").read_text())
    ns = kustomization["namespace"]
    for resource in kustomization["resources"]:
        assert (NAMESPACED / resource).exists(), resource
    (binding,) = _load(NAMESPACED / "role.yaml")["RoleBinding"]
    (sa,) = _load(NAMESPACED / "serviceaccount.yaml")["ServiceAccount"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": ns}
    ]
    (deployment,) = _load(NAMESPACED / "deployment.yaml")["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == sa["metadata"]["name"]
    (container,) = pod["containers"]
    opts = parse_args([a.replace("$(POD_NAMESPACE)", ns) for a in container["args"]])
    assert opts.namespaces == [ns]
    assert opts.leader_elect_resource_namespace == ns
    (role,) = _load(NAMESPACED / "role.yaml")["Role"]
    lease_names = [r.get("resourceNames") for r in role["rules"] if "leases" in r["resources"]]
    assert [opts.leader_elect_resource_name] in lease_names


def test_run_namespaced_watches_and_writes_only_its_namespaces() -> None:
    """Jobs in a and b get pods; the Job in c is never read, listed or written."""
    opts = parse_args(
        ["--namespace=a", "--namespace=b", "--leader-elect=false", "--port=0", "--secure-port=0"]
    )
    jobs = []
    for ns in ("a", "b", "c"):
        job = new_job_with_name(f"job-{ns}", 1, 1, 6)
        job.metadata.namespace = ns
        job.spec.managed_by = opts.controller_name
        jobs.append(job)
    client = FakeClientset(*jobs)
    broadcaster = new_broadcaster()
    registry = CollectorRegistry()
    config = Config(
        options=opts,
        client=client,
        client_builder=lambda name: client,
        event_broadcaster=broadcaster,
        event_recorder=broadcaster.new_recorder("jobctl"),
        registry=registry,
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run(config, stop, RunHooks())
        except BaseException as err:
            errors.append(err)

    runner = threading.Thread(target=target, daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + WAIT
        while {p.metadata.namespace for p in client.core_v1().pods("").list().items} != {"a", "b"}:
            assert time.monotonic() < deadline, [
                (a.verb, a.resource, a.namespace) for a in client.actions()
            ]
            stop.wait(0.02)
    finally:
        stop.set()
        runner.join(WAIT)
    assert not runner.is_alive()
    assert errors == []
    touched = {(a.verb, a.resource, a.namespace) for a in client.actions()}
    controller_actions = {t for t in touched if t[1] in ("jobs", "pods")}
    # The test's own cluster-wide pod list above is the only unscoped call.
    controller_actions.discard(("list", "pods", ""))
    assert {ns for _, _, ns in controller_actions} == {"a", "b"}, sorted(touched)
    assert ("watch", "jobs", "a") in touched and ("watch", "pods", "b") in touched
