"""Tests for jobctl.app.controller_manager pieces: start-up probes, permission
checks (and their agreement with deploy/), the informer transform, resync periods,
RunControllers and the lease client timeout."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import V1ManagedFieldsEntry, V1ObjectMeta, V1Pod

from jobctl.app.controller_manager import (
    ControllerLoop,
    Permission,
    StartupError,
    _TimeoutLeases,
    check_permissions,
    required_permissions,
    resync_period,
    run_controllers,
    trim_managed_fields,
    wait_for_api_server,
)
from jobctl.app.options import JobctlOptions, parse_args
from jobctl.client import deadline, errors
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.fake_clientset import Action, FakeClientset

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


# --- wait_for_api_server ------------------------------------------------------------


class FlakyList:
    """Fails the first ``failures`` list calls on a resource with ``err``."""

    def __init__(self, err: BaseException, failures: int) -> None:
        self.err = err
        self.failures = failures
        self.calls = 0

    def __call__(self, action: Action) -> tuple[bool, Any, BaseException | None]:
        self.calls += 1
        if self.calls <= self.failures:
            return True, None, self.err
        return False, None, None


def probe(client: FakeClientset, timeout: float = 10.0) -> tuple[FakeClock, list[float]]:
    clock = FakeClock(NOW)
    sleeps: list[float] = []

    def sleep(d: float) -> None:
        sleeps.append(d)
        clock.step(d)

    wait_for_api_server(client, timeout, clock=clock, host="https://api:6443", sleep=sleep)
    return clock, sleeps


def test_probe_succeeds_at_once() -> None:
    client = FakeClientset()
    _, sleeps = probe(client)
    assert sleeps == []
    assert [(a.verb, a.resource) for a in client.actions()] == [("list", "jobs"), ("list", "pods")]


@pytest.mark.parametrize(
    "err",
    [
        errors.APIConnectionRefusedError("connection refused"),
        errors.StatusError(503, message="etcd not ready"),
        errors.StatusError(429, message="slow down"),
        errors.new_internal_error("boom"),
    ],
    ids=["refused", "503", "429", "500"],
)
def test_probe_retries_transient_errors_with_jittered_backoff(err: BaseException) -> None:
    client = FakeClientset()
    flaky = FlakyList(err, failures=3)
    client.prepend_reactor("list", "jobs", flaky)
    _, sleeps = probe(client)
    assert flaky.calls == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= 2.0 for s in sleeps)


def test_probe_gives_up_after_timeout_with_one_line() -> None:
    client = FakeClientset()
    client.prepend_reactor(
        "list", "jobs", FlakyList(errors.APIConnectionRefusedError("refused"), failures=10**6)
    )
    with pytest.raises(StartupError) as exc:
        probe(client, timeout=10.0)
    assert str(exc.value) == (
        "cannot reach the API server at https://api:6443: connection refused (gave up after 10s)"
    )


@pytest.mark.parametrize(
    ("resource", "err", "message"),
    [
        (
            "jobs",
            errors.StatusError(403, message='jobs.batch is forbidden: User "x" cannot list'),
            "missing RBAC permission: forbidden to list jobs.batch cluster-wide: "
            'jobs.batch is forbidden: User "x" cannot list',
        ),
        (
            "pods",
            errors.StatusError(403, message="pods is forbidden"),
            "missing RBAC permission: forbidden to list pods cluster-wide: pods is forbidden",
        ),
        (
            "jobs",
            errors.StatusError(401, message="Unauthorized"),
            "the API server at https://api:6443 rejected the credentials (401 Unauthorized) "
            "while list jobs.batch cluster-wide",
        ),
    ],
    ids=["jobs forbidden", "pods forbidden", "unauthorized"],
)
def test_probe_permanent_errors_fail_at_once(
    resource: str, err: BaseException, message: str
) -> None:
    client = FakeClientset()
    flaky = FlakyList(err, failures=10**6)
    client.prepend_reactor("list", resource, flaky)
    with pytest.raises(StartupError) as exc:
        probe(client)
    assert str(exc.value) == message
    assert flaky.calls == 1


# --- permissions ----------------------------------------------------------------------


def test_check_permissions_names_every_missing_required_permission(
    caplog: pytest.LogCaptureFixture,
) -> None:
    perms = required_permissions(JobctlOptions(leader_elect_resource_namespace="ops"))
    denied = {("create", "pods"), ("update", "leases"), ("patch", "events")}

    def reviewer(p: Permission) -> bool | None:
        if p.resource == "jobs" and p.verb == "watch":
            return None  # could not tell
        return (p.verb, p.resource) not in denied

    with pytest.raises(StartupError) as exc:
        check_permissions(reviewer, perms)
    assert str(exc.value) == (
        "missing RBAC permission: not allowed to create pods cluster-wide; "
        'update leases.coordination.k8s.io "jobctl" in namespace ops (see deploy/rbac.yaml)'
    )
    assert "missing optional RBAC permission: patch events cluster-wide" in caplog.text


def test_check_permissions_passes_and_skips_without_reviewer() -> None:
    perms = required_permissions(JobctlOptions())
    check_permissions(lambda p: True, perms)
    check_permissions(None, perms)


def test_no_lease_permissions_without_leader_election() -> None:
    perms = required_permissions(JobctlOptions(leader_elect=False))
    assert all(p.resource != "leases" for p in perms)


def _load_deploy() -> dict[str, list[dict[str, Any]]]:
    docs: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((REPO_ROOT / "deploy").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.setdefault(doc["kind"], []).append(doc)
    return docs


def _named(docs: dict[str, list[dict[str, Any]]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = (d for d in docs[kind] if d["metadata"]["name"] == name)
    return doc


def _grants(rules: list[dict[str, Any]], p: Permission) -> bool:
    resource = p.resource + (f"/{p.subresource}" if p.subresource else "")
    for rule in rules:
        if p.group not in rule["apiGroups"] or resource not in rule["resources"]:
            continue
        if p.verb not in rule["verbs"]:
            continue
        names = rule.get("resourceNames")
        if names and p.name not in names:
            continue
        return True
    return False


def test_deploy_rbac_grants_exactly_what_the_probe_requires() -> None:
    docs = _load_deploy()
    cluster_role = _named(docs, "ClusterRole", "jobctl")
    (role,) = docs["Role"]
    perms = required_permissions(JobctlOptions())
    for p in perms:
        rules = role["rules"] if p.namespace else cluster_role["rules"]
        assert _grants(rules, p), f"deploy/rbac.yaml does not grant {p.describe()}"
    # Least privilege: nothing granted that the controller does not use.
    wanted = {
        (p.group, p.resource + (f"/{p.subresource}" if p.subresource else ""), p.verb)
        for p in perms
    }
    for rule in cluster_role["rules"] + role["rules"]:
        for group in rule["apiGroups"]:
            for res in rule["resources"]:
                for verb in rule["verbs"]:
                    assert (group, res, verb) in wanted, f"unneeded grant {verb} {group}/{res}"


def test_deploy_bindings_and_deployment_are_consistent() -> None:
    docs = _load_deploy()
    (sa,) = docs["ServiceAccount"]
    crb = _named(docs, "ClusterRoleBinding", "jobctl")
    (rb,) = docs["RoleBinding"]
    (deployment,) = docs["Deployment"]
    for binding in (crb, rb):
        assert binding["subjects"][0]["name"] == sa["metadata"]["name"]
    assert crb["roleRef"]["name"] == "jobctl"
    delegator = _named(docs, "ClusterRoleBinding", "jobctl-auth-delegator")
    assert delegator["roleRef"]["name"] == "system:auth-delegator"
    assert delegator["subjects"][0]["name"] == sa["metadata"]["name"]
    assert rb["roleRef"]["name"] == docs["Role"][0]["metadata"]["name"]
    for doc in [sa, crb, delegator, rb, deployment, *docs["ClusterRole"], *docs["Role"]]:
        assert "namespace" not in doc["metadata"], "manifests must be namespace-agnostic"

    spec = deployment["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == sa["metadata"]["name"]
    (container,) = pod["containers"]
    args = [a.replace("$(POD_NAMESPACE)", "jobctl-system") for a in container["args"]]
    opts = parse_args(args)
    assert opts.leader_elect
    assert opts.controller_name == "jobctl.dev/job-controller"
    assert opts.leader_elect_resource_name in docs["Role"][0]["rules"][1]["resourceNames"]
    port = container["ports"][0]["containerPort"]
    assert port == opts.secure_port
    assert opts.port == 0, "no unauthenticated plain port in the deployment"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert opts.cert_dir in mounts, "the root filesystem is read-only"
    for probe_name in ("livenessProbe", "readinessProbe"):
        assert container[probe_name]["httpGet"]["path"] == "/healthz"
        assert container[probe_name]["httpGet"]["scheme"] == "HTTPS"
        assert container[probe_name]["httpGet"]["port"] == container["ports"][0]["name"]
    bound = opts.controller_shutdown_timeout + opts.leader_elect_renew_deadline
    assert pod["terminationGracePeriodSeconds"] > bound


def test_example_job_is_managed_by_jobctl() -> None:
    job = yaml.safe_load((REPO_ROOT / "examples" / "managed-by-job.yaml").read_text())
    assert job["kind"] == "Job"
    assert job["spec"]["managedBy"] == JobctlOptions().controller_name


# --- informer transform and resync ---------------------------------------------------


def test_trim_managed_fields() -> None:
    pod = V1Pod(
        metadata=V1ObjectMeta(
            name="p", managed_fields=[V1ManagedFieldsEntry(manager="kubectl", operation="Apply")]
        )
    )
    assert trim_managed_fields(pod) is pod
    assert pod.metadata is not None
    assert pod.metadata.managed_fields is None
    assert trim_managed_fields("not an object") == "not an object"


def test_resync_period_is_between_min_and_twice_min() -> None:
    period = resync_period(JobctlOptions(min_resync_period=100.0))
    values = [period() for _ in range(50)]
    assert all(100.0 <= v < 200.0 for v in values)
    assert len(set(values)) > 1


# --- RunControllers ---------------------------------------------------------------


def test_run_controllers_returns_when_all_stop_after_stop() -> None:
    stop = threading.Event()
    ran = threading.Event()

    def body(s: threading.Event) -> None:
        ran.set()
        s.wait()

    result: list[bool] = []
    t = threading.Thread(
        target=lambda: result.append(
            run_controllers([ControllerLoop(body, "a"), ControllerLoop(body, "b")], stop, 10.0)
        )
    )
    t.start()
    assert ran.wait(5)
    stop.set()
    t.join(5)
    assert result == [True]


def test_run_controllers_times_out_on_the_clock() -> None:
    clock = FakeClock(NOW)
    stop = threading.Event()
    release = threading.Event()
    ran = threading.Event()

    def stuck(s: threading.Event) -> None:
        ran.set()
        release.wait(5)

    result: list[bool] = []
    t = threading.Thread(
        target=lambda: result.append(
            run_controllers([ControllerLoop(stuck, "stuck")], stop, 3.0, clock)
        )
    )
    t.start()
    assert ran.wait(5)
    stop.set()
    assert clock.wait_for_waiters(1)
    clock.step(2.0)
    assert clock.wait_for_waiters(1)
    assert t.is_alive()
    clock.step(1.0)
    t.join(5)
    release.set()
    assert result == [False]


def test_run_controllers_returns_when_controllers_end_by_themselves() -> None:
    result = run_controllers([ControllerLoop(lambda s: None, "quick")], threading.Event(), 1.0)
    assert result is True


# --- lease client timeout ------------------------------------------------------------


def test_timeout_leases_bounds_each_call_with_a_request_deadline() -> None:
    """Each lease call runs under request_deadline (the transport ends it then), on
    the calling thread: no helper thread per call."""
    seen: list[tuple[float | None, str]] = []

    class Recording:
        def get(self, name: str) -> Any:
            seen.append((deadline.remaining(), threading.current_thread().name))
            return name

    leases = _TimeoutLeases(Recording(), 5.0)  # type: ignore[arg-type]
    assert leases.get("jobctl") == "jobctl"
    ((left, thread),) = seen
    assert left is not None and 0 < left <= 5.0
    assert thread == threading.current_thread().name
    assert deadline.remaining() is None


def test_timeout_leases_passes_results_and_errors() -> None:
    client = FakeClientset()
    leases = _TimeoutLeases(client.coordination_v1().leases("ns"), 5.0)
    with pytest.raises(errors.StatusError) as exc:
        leases.get("missing")
    assert errors.is_not_found(exc.value)
