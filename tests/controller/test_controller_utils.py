"""Tests for controller_utils: port of pkg/controller/controller_utils_test.go (subset).

Ported: TestCreatePodsWithGenerateName, TestPatchPodCallbacks, TestDeletePodsAllowsMissing,
TestCountTerminatingPods, TestActivePodFiltering, TestSortingActivePods,
TestFilterPodsByOwner. The expectations tests live in
tests/expectations/test_controller_expectations.py. Not ported, with the code they test:
TestClaimedPodFiltering, TestSortingActivePodsWithRanks, TestNextPodAvailabilityCheck,
TestFindMinNextPodAvailability*, TestActiveReplicaSetsFiltering, TestComputeHash,
TestRemoveTaintOffNode, TestAddOrUpdateTaintOnNode.

Upstream's TestCreatePodsWithGenerateName posts to an HTTP test server through a real
clientset; here the RealPodControl tests run against the fake clientset, which records the
created object just the same. Events go to record.FakeRecorder, as upstream.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1ContainerStatus,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1PodCondition,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
    V1ReplicationController,
    V1ReplicationControllerSpec,
)

from jobctl.client.errors import (
    NAMESPACE_TERMINATING_CAUSE,
    StatusError,
    is_not_found,
    new_internal_error,
)
from jobctl.controller import controller_utils
from jobctl.controller.controller_utils import (
    FAILED_CREATE_POD_REASON,
    FAILED_DELETE_POD_REASON,
    KEY_FUNC,
    POD_CONTROLLER_INDEX,
    SUCCESSFUL_CREATE_POD_REASON,
    SUCCESSFUL_DELETE_POD_REASON,
    ActivePodList,
    ActivePods,
    FakePodControl,
    RealPodControl,
    add_pod_controller_indexer,
    after_or_zero,
    compare_max_container_restarts,
    count_terminating_pods,
    count_terminating_pods_fast,
    filter_active_pods,
    filter_active_pods_fast,
    filter_pods_by_owner,
    filter_terminating_pods,
    get_controller_of,
    get_pod_from_template,
    is_pod_active,
    is_pod_terminating,
    max_container_restarts,
    no_resync_period_func,
    pod_controller_index_key,
    pod_key,
    pod_ready_time,
    sort_active_pods,
    static_resync_period_func,
    validate_controller_ref,
)
from jobctl.informers.delta_fifo import DeletedFinalStateUnknown
from jobctl.informers.index import Indexer, Indexers
from jobctl.informers.store import meta_namespace_key_func, new_indexer
from jobctl.k8s_libs.pod_util import is_pod_ready
from jobctl.record.fake import new_fake_recorder
from jobctl.testing.fake_clientset import FakeClientset

NOW = datetime(2026, 5, 17, 10, 30, 0, tzinfo=UTC)
THEN = datetime(2026, 4, 17, 10, 30, 0, tzinfo=UTC)  # now.AddDate(0, -1, 0)


def new_replication_controller(replicas: int) -> V1ReplicationController:
    """Port of newReplicationController (controller_utils_test.go)."""
    return V1ReplicationController(
        api_version="v1",
        metadata=V1ObjectMeta(
            uid="b1f3d8e6-1111-4c57-9f36-6a4a2c0b7d21",
            name="foobar",
            namespace="default",
            resource_version="18",
        ),
        spec=V1ReplicationControllerSpec(
            replicas=replicas,
            selector={"foo": "bar"},
            template=V1PodTemplateSpec(
                metadata=V1ObjectMeta(labels={"name": "foo", "type": "production"}),
                spec=V1PodSpec(
                    containers=[
                        V1Container(
                            name="",
                            image="foo/bar",
                            termination_message_path="/dev/termination-log",
                            image_pull_policy="IfNotPresent",
                        )
                    ],
                    restart_policy="Always",
                    dns_policy="Default",
                    node_selector={"baz": "blah"},
                ),
            ),
        ),
    )


def new_pod_list(count: int, phase: str, rc: V1ReplicationController) -> list[V1Pod]:
    """Port of newPodList (without the store): pods labelled with the rc's selector."""
    assert rc.spec is not None and rc.metadata is not None
    return [
        V1Pod(
            metadata=V1ObjectMeta(
                name=f"pod{i}", labels=dict(rc.spec.selector or {}), namespace=rc.metadata.namespace
            ),
            status=V1PodStatus(phase=phase),
        )
        for i in range(count)
    ]


def new_controller_ref(owner: Any, api_version: str, kind: str) -> V1OwnerReference:
    """Port of metav1.NewControllerRef."""
    return V1OwnerReference(
        api_version=api_version,
        kind=kind,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


@pytest.mark.parametrize(
    "count", [count_terminating_pods, count_terminating_pods_fast], ids=["plain", "fast"]
)
def test_count_terminating_pods(count: Callable[[list[V1Pod]], int]) -> None:
    rc = new_replication_controller(0)
    pods = new_pod_list(7, "Running", rc)
    for pod, phase in zip(pods[:4], ["Succeeded", "Failed", "Pending", "Running"], strict=True):
        assert pod.status is not None
        pod.status.phase = phase
    for pod in pods[2:4]:
        assert pod.metadata is not None
        pod.metadata.deletion_timestamp = NOW

    assert count(pods) == 2
    assert len(filter_terminating_pods(pods)) == 2


@pytest.mark.parametrize(
    ("pods", "want_pod_names"),
    [
        pytest.param(
            [
                ("pod-1", "Succeeded"),
                ("pod-2", "Failed"),
                ("pod-3", None),
                ("pod-4", None),
                ("pod-5", None),
            ],
            ["pod-3", "pod-4", "pod-5"],
            id="Filters active pods",
        )
    ],
)
@pytest.mark.parametrize(
    "filter_active", [filter_active_pods, filter_active_pods_fast], ids=["plain", "fast"]
)
def test_active_pod_filtering(
    pods: list[tuple[str, str | None]],
    want_pod_names: list[str],
    filter_active: Callable[[list[V1Pod]], list[V1Pod]],
) -> None:
    rc = new_replication_controller(0)
    pod_list = new_pod_list(5, "Running", rc)
    for pod, (name, phase) in zip(pod_list, pods, strict=True):
        assert pod.metadata is not None and pod.status is not None
        pod.metadata.name = name
        pod.status.phase = phase
    got = filter_active(pod_list)
    assert sorted(p.metadata.name for p in got if p.metadata and p.metadata.name) == want_pod_names


@pytest.mark.parametrize(
    ("phase", "deleted", "active", "terminating"),
    [
        ("Pending", False, True, False),
        ("Running", False, True, False),
        ("Unknown", False, True, False),
        (None, False, True, False),
        ("Succeeded", False, False, False),
        ("Failed", False, False, False),
        ("Running", True, False, True),
        ("Pending", True, False, True),
        ("Succeeded", True, False, False),
        ("Failed", True, False, False),
    ],
)
def test_is_pod_active_and_terminating(
    phase: str | None, deleted: bool, active: bool, terminating: bool
) -> None:
    pod = V1Pod(
        metadata=V1ObjectMeta(name="p", deletion_timestamp=NOW if deleted else None),
        status=V1PodStatus(phase=phase),
    )
    assert is_pod_active(pod) is active
    assert is_pod_terminating(pod) is terminating
    # The quick twins the Job controller calls agree with the plain ports.
    for filter_active in (filter_active_pods, filter_active_pods_fast):
        assert filter_active([pod]) == ([pod] if active else [])
    for count in (count_terminating_pods, count_terminating_pods_fast):
        assert count([pod]) == (1 if terminating else 0)


def _pod_with(phase: str | None, conditions: list[V1PodCondition] | None, deleted: bool) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(name="p", deletion_timestamp=NOW if deleted else None),
        status=V1PodStatus(phase=phase, conditions=conditions),
    )


def _ready_pods_table() -> list[V1Pod]:
    """Active and inactive pods, Ready or not, with the Ready condition first, later,
    repeated (the first decides) or absent."""
    true = V1PodCondition(type="Ready", status="True")
    false = V1PodCondition(type="Ready", status="False")
    scheduled = V1PodCondition(type="PodScheduled", status="True")
    return [
        _pod_with("Running", [true], False),
        _pod_with("Running", [scheduled, true], False),
        _pod_with("Running", [false, true], False),
        _pod_with("Running", [scheduled], False),
        _pod_with("Pending", None, False),
        _pod_with(None, [true], False),
        _pod_with("Succeeded", [true], False),
        _pod_with("Failed", [true], False),
        _pod_with("Running", [true], True),
        V1Pod(metadata=V1ObjectMeta(name="no-status")),
    ]


def test_filter_active_pods_fast_carries_the_ready_count() -> None:
    pods = _ready_pods_table()
    active = filter_active_pods_fast(pods)
    assert active == filter_active_pods(pods)
    assert isinstance(active, ActivePodList)
    assert active.ready_count == sum(1 for p in active if is_pod_ready(p)) == 3


@pytest.mark.parametrize(
    "change",
    [
        lambda pods, pod: pods.append(pod),
        lambda pods, pod: pods.extend([pod]),
        lambda pods, pod: pods.insert(0, pod),
        lambda pods, pod: pods.remove(pods[0]),
        lambda pods, pod: pods.pop(),
        lambda pods, pod: pods.clear(),
        lambda pods, pod: pods.__setitem__(0, pod),
        lambda pods, pod: pods.__setitem__(slice(0, 1), [pod, pod]),
        lambda pods, pod: pods.__delitem__(0),
        lambda pods, pod: pods.__iadd__([pod]),
        lambda pods, pod: pods.__imul__(2),
    ],
    ids=[
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "setitem",
        "setslice",
        "delitem",
        "iadd",
        "imul",
    ],
)
def test_active_pod_list_forgets_its_count_when_it_changes(
    change: Callable[[ActivePodList, V1Pod], object],
) -> None:
    active = filter_active_pods_fast(_ready_pods_table())
    assert active.ready_count is not None
    change(active, _pod_with("Running", [V1PodCondition(type="Ready", status="True")], False))
    assert active.ready_count is None


def test_active_pod_list_copies_are_plain_lists() -> None:
    active = filter_active_pods_fast(_ready_pods_table())
    assert type(active[:]) is list
    assert type(list(active)) is list
    assert active.ready_count == 3


def cs(restart_count: int, name: str = "") -> V1ContainerStatus:
    return V1ContainerStatus(
        name=name, image="", image_id="", ready=False, restart_count=restart_count
    )


def ready(last_transition_time: datetime | None = None) -> list[V1PodCondition]:
    return [V1PodCondition(type="Ready", status="True", last_transition_time=last_transition_time)]


def sorting_pods() -> list[V1Pod]:
    """The pods of TestSortingActivePods' "Sorts by active pod" case."""
    return [
        V1Pod(
            metadata=V1ObjectMeta(name="unscheduled"),
            spec=V1PodSpec(containers=[], node_name=""),
            status=V1PodStatus(phase="Pending"),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="scheduledButPending"),
            spec=V1PodSpec(containers=[], node_name="bar"),
            status=V1PodStatus(phase="Pending"),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="unknownPhase"),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(phase="Unknown"),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="runningButNotReady"),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(phase="Running"),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="runningNoLastTransitionTime"),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(
                phase="Running", conditions=ready(), container_statuses=[cs(3), cs(0)]
            ),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="runningWithLastTransitionTime"),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(
                phase="Running", conditions=ready(NOW), container_statuses=[cs(3), cs(0)]
            ),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="runningLongerTime"),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(
                phase="Running", conditions=ready(THEN), container_statuses=[cs(3), cs(0)]
            ),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="lowerSidecarContainerRestartCount", creation_timestamp=NOW),
            spec=V1PodSpec(
                containers=[],
                node_name="foo",
                init_containers=[V1Container(name="sidecar", restart_policy="Always")],
            ),
            status=V1PodStatus(
                phase="Running",
                conditions=ready(THEN),
                container_statuses=[cs(2), cs(1)],
                init_container_statuses=[cs(2, "sidecar")],
            ),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="lowerContainerRestartCount", creation_timestamp=NOW),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(
                phase="Running", conditions=ready(THEN), container_statuses=[cs(2), cs(1)]
            ),
        ),
        V1Pod(
            metadata=V1ObjectMeta(name="oldest", creation_timestamp=THEN),
            spec=V1PodSpec(containers=[], node_name="foo"),
            status=V1PodStatus(
                phase="Running", conditions=ready(THEN), container_statuses=[cs(2), cs(1)]
            ),
        ),
    ]


SORTING_WANT_ORDER = [
    "unscheduled",
    "scheduledButPending",
    "unknownPhase",
    "runningButNotReady",
    "runningNoLastTransitionTime",
    "runningWithLastTransitionTime",
    "runningLongerTime",
    "lowerSidecarContainerRestartCount",
    "lowerContainerRestartCount",
    "oldest",
]


@pytest.mark.parametrize(
    ("pods", "want_order"),
    [pytest.param(sorting_pods(), SORTING_WANT_ORDER, id="Sorts by active pod")],
)
def test_sorting_active_pods(pods: list[V1Pod], want_order: list[str]) -> None:
    rng = random.Random(1)
    for _ in range(20):
        randomized = list(pods)
        rng.shuffle(randomized)
        sort_active_pods(randomized)
        assert [p.metadata.name for p in randomized if p.metadata] == want_order


def test_active_pods_less_and_swap() -> None:
    pods = sorting_pods()
    by_name = {p.metadata.name: p for p in pods if p.metadata}
    ap = ActivePods([by_name["oldest"], by_name["unscheduled"]])
    assert len(ap) == 2
    assert ap.less(1, 0)
    assert not ap.less(0, 1)
    ap.swap(0, 1)
    assert [p.metadata.name for p in ap.pods if p.metadata] == ["unscheduled", "oldest"]
    # A pod is never less than itself.
    assert not ActivePods([by_name["oldest"], by_name["oldest"]]).less(0, 1)

    shuffled = list(reversed(pods))
    ap = ActivePods(shuffled)
    ap.sort()
    assert [p.metadata.name for p in shuffled if p.metadata] == SORTING_WANT_ORDER


def test_sorting_active_pods_phase_ordinal_defaults_to_pending() -> None:
    # An empty phase maps to ordinal 0 (Go's map zero value), like Pending.
    no_phase = V1Pod(
        metadata=V1ObjectMeta(name="no-phase"), spec=V1PodSpec(containers=[], node_name="n")
    )
    running = V1Pod(
        metadata=V1ObjectMeta(name="running"),
        spec=V1PodSpec(containers=[], node_name="n"),
        status=V1PodStatus(phase="Running"),
    )
    assert ActivePods([no_phase, running]).less(0, 1)
    assert not ActivePods([running, no_phase]).less(0, 1)


@pytest.mark.parametrize(
    ("t1", "t2", "want"),
    [
        (None, None, True),
        (None, NOW, True),
        (NOW, None, False),
        (NOW, THEN, True),
        (THEN, NOW, False),
        (NOW, NOW, False),
    ],
)
def test_after_or_zero(t1: datetime | None, t2: datetime | None, want: bool) -> None:
    assert after_or_zero(t1, t2) is want


def test_pod_ready_time() -> None:
    pods = {p.metadata.name: p for p in sorting_pods() if p.metadata}
    assert pod_ready_time(pods["runningLongerTime"]) == THEN
    assert pod_ready_time(pods["runningNoLastTransitionTime"]) is None
    assert pod_ready_time(pods["runningButNotReady"]) is None


def test_max_container_restarts() -> None:
    pods = {p.metadata.name: p for p in sorting_pods() if p.metadata}
    assert max_container_restarts(pods["lowerSidecarContainerRestartCount"]) == (2, 2)
    assert max_container_restarts(pods["lowerContainerRestartCount"]) == (2, 0)
    assert max_container_restarts(pods["runningLongerTime"]) == (3, 0)
    # Init containers that are not sidecars do not count.
    plain_init = V1Pod(
        spec=V1PodSpec(containers=[], init_containers=[V1Container(name="init")]),
        status=V1PodStatus(init_container_statuses=[cs(7, "init")]),
    )
    assert max_container_restarts(plain_init) == (0, 0)
    assert max_container_restarts(V1Pod()) == (0, 0)
    assert (
        compare_max_container_restarts(
            pods["lowerSidecarContainerRestartCount"], pods["lowerContainerRestartCount"]
        )
        is True
    )
    assert compare_max_container_restarts(pods["oldest"], pods["runningLongerTime"]) is False
    assert (
        compare_max_container_restarts(pods["oldest"], pods["lowerContainerRestartCount"]) is None
    )


@dataclass
class _IndexInformer:
    """The indexer-facing side of a pod informer (GetIndexer/AddIndexers)."""

    indexer: Indexer = field(default_factory=lambda: new_indexer(meta_namespace_key_func, {}))
    add_indexers_calls: int = 0

    def get_indexer(self) -> Indexer:
        return self.indexer

    def add_indexers(self, indexers: Indexers) -> None:
        self.add_indexers_calls += 1
        self.indexer.add_indexers(indexers)


def _owned(name: str, ns: str, owner: V1OwnerReference | None) -> V1Pod:
    pod = V1Pod(metadata=V1ObjectMeta(name=name, namespace=ns))
    if owner is not None:
        assert pod.metadata is not None
        pod.metadata.owner_references = [owner]
    return pod


OWNER_KIND = "OwnerKind"
OWNER_NAME = "ownerName"


def _ref(
    uid: str, kind: str = OWNER_KIND, name: str = OWNER_NAME, controller: bool = True
) -> V1OwnerReference:
    return V1OwnerReference(api_version="", uid=uid, kind=kind, name=name, controller=controller)


OWNER = V1ObjectMeta(namespace="ns1", name=OWNER_NAME, uid="abc")


@pytest.mark.parametrize(
    ("owner", "owned_only", "all_pods", "want_pods_keys"),
    [
        pytest.param(
            OWNER,
            False,
            [
                _owned("a", "ns1", _ref("abc")),
                _owned("b", "ns1", _ref("def")),
                _owned("c", "ns1", _ref("abc")),
            ],
            {"ns1/a", "ns1/c"},
            id="multiple Pods, some are owned by the owner",
        ),
        pytest.param(
            OWNER,
            False,
            [_owned("a", "ns1", None), _owned("b", "ns2", None)],
            {"ns1/a"},
            id="orphan Pods in multiple namespaces",
        ),
        pytest.param(
            OWNER,
            False,
            [_owned("a", "ns1", None), _owned("b", "ns2", None), _owned("c", "ns1", _ref("abc"))],
            {"ns1/a", "ns1/c"},
            id="owned Pods and orphan Pods in the owner's namespace",
        ),
        pytest.param(
            OWNER,
            True,
            [
                _owned("a", "ns1", None),
                _owned("other-ns-orphan", "ns2", None),
                _owned("other-ns-owned", "ns2", _ref("abc")),
                _owned("c", "ns1", _ref("abc")),
                _owned("other-uid", "ns1", _ref("other-uid")),
                _owned("other-kind", "ns1", _ref("abc", kind="OtherKind")),
                _owned("other-name", "ns1", _ref("abc", name="otherName")),
                _owned("non-controller", "ns1", _ref("abc", controller=False)),
            ],
            {"ns1/c"},
            id="exclude orphan pods, pods in mismatched ns,uid,kind,name,controller",
        ),
    ],
)
def test_filter_pods_by_owner(
    owner: V1ObjectMeta, owned_only: bool, all_pods: list[V1Pod], want_pods_keys: set[str]
) -> None:
    informer = _IndexInformer()
    add_pod_controller_indexer(informer)
    pod_indexer = informer.get_indexer()
    for pod in all_pods:
        pod_indexer.add(pod)
    got = filter_pods_by_owner(pod_indexer, owner, OWNER_KIND, not owned_only)
    assert {pod_key(p) for p in got} == want_pods_keys


def test_add_pod_controller_indexer_is_idempotent() -> None:
    informer = _IndexInformer()
    add_pod_controller_indexer(informer)
    add_pod_controller_indexer(informer)
    assert informer.add_indexers_calls == 1
    assert POD_CONTROLLER_INDEX in informer.get_indexer().get_indexers()


@pytest.mark.parametrize(
    ("owner", "kind", "message"),
    [
        (V1ObjectMeta(name="n", uid="u"), "K", "no owner namespace provided"),
        (V1ObjectMeta(namespace="ns", uid="u"), "K", "no owner name provided"),
        (V1ObjectMeta(namespace="ns", name="n"), "K", "no owner uid provided"),
        (V1ObjectMeta(namespace="ns", name="n", uid="u"), "", "no owner kind provided"),
    ],
)
def test_filter_pods_by_owner_requires_owner_identity(
    owner: V1ObjectMeta, kind: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        filter_pods_by_owner(new_indexer(meta_namespace_key_func, {}), owner, kind, True)


def test_pod_controller_index_key() -> None:
    assert pod_controller_index_key("ns", None) == "ns"
    assert pod_controller_index_key("ns", _ref("u1", kind="Job", name="j")) == "ns/Job/j/u1"


def test_get_controller_of() -> None:
    owner = _ref("c", controller=True)
    pod = V1Pod(metadata=V1ObjectMeta(owner_references=[_ref("x", controller=False), owner]))
    assert get_controller_of(pod) is owner
    assert (
        get_controller_of(
            V1Pod(metadata=V1ObjectMeta(owner_references=[_ref("x", controller=False)]))
        )
        is None
    )
    assert get_controller_of(V1Pod()) is None


def test_key_func() -> None:
    rc = new_replication_controller(1)
    assert KEY_FUNC(rc) == "default/foobar"
    assert KEY_FUNC(DeletedFinalStateUnknown(key="ns/gone", obj=None)) == "ns/gone"


def test_resync_period_funcs() -> None:
    assert no_resync_period_func() == 0
    assert static_resync_period_func(42.0)() == 42.0


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (None, "controllerRef is nil"),
        (V1OwnerReference(api_version="", kind="K", name="n", uid="u"), "empty APIVersion"),
        (V1OwnerReference(api_version="v1", kind="", name="n", uid="u"), "empty Kind"),
        (
            V1OwnerReference(
                api_version="v1", kind="K", name="n", uid="u", block_owner_deletion=True
            ),
            "Controller is not set to true",
        ),
        (
            V1OwnerReference(api_version="v1", kind="K", name="n", uid="u", controller=True),
            "BlockOwnerDeletion is not set",
        ),
    ],
)
def test_validate_controller_ref(ref: V1OwnerReference | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_controller_ref(ref)


def test_get_pod_from_template() -> None:
    rc = new_replication_controller(1)
    assert rc.spec is not None and rc.spec.template is not None
    template = rc.spec.template
    assert template.metadata is not None
    template.metadata.annotations = {"a": "b"}
    template.metadata.finalizers = ["f"]
    ref = new_controller_ref(rc, "v1", "ReplicationController")
    pod = get_pod_from_template(template, rc, ref)
    assert pod.metadata is not None
    assert pod.metadata.labels == {"name": "foo", "type": "production"}
    assert pod.metadata.annotations == {"a": "b"}
    assert pod.metadata.finalizers == ["f"]
    assert pod.metadata.generate_name == "foobar-"
    assert pod.metadata.owner_references == [ref]
    assert pod.spec == template.spec
    # Copies, not shared references.
    assert pod.spec is not template.spec
    pod.metadata.labels["extra"] = "x"
    assert "extra" not in (template.metadata.labels or {})


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("foobar", "foobar-"),
        ("Upper", "Upper"),  # "Upper-" is not a valid generateName
        ("x" * 253, "x" * 253 + "-"),
        ("x" * 254, "x" * 254),
    ],
)
def test_get_pods_prefix(name: str, prefix: str) -> None:
    assert controller_utils._get_pods_prefix(name) == prefix


def test_get_pod_from_template_requires_object_meta() -> None:
    with pytest.raises(ValueError, match="parentObject does not have ObjectMeta"):
        get_pod_from_template(V1PodTemplateSpec(), object(), None)


def _template() -> V1PodTemplateSpec:
    rc = new_replication_controller(1)
    assert rc.spec is not None and rc.spec.template is not None
    return rc.spec.template


def test_fake_pod_control_records_calls() -> None:
    rc = new_replication_controller(1)
    ref = new_controller_ref(rc, "v1", "ReplicationController")
    template = _template()
    fake = FakePodControl()
    fake.create_pods("default", template, rc, ref)
    fake.create_pods_with_generate_name("default", template, rc, ref, "gen-")
    fake.delete_pod("default", "pod-a", rc)
    fake.patch_pod("default", "pod-b", b"{}")

    assert [t.metadata.generate_name for t in fake.templates if t.metadata] == ["", "gen-"]
    assert fake.controller_refs == [ref, ref]
    assert fake.delete_pod_name == ["pod-a"]
    assert fake.patches == [b"{}"]
    assert fake.create_call_count == 2
    assert template.metadata is not None and template.metadata.generate_name is None

    fake.create_limit = 5
    fake.clear()
    assert (fake.templates, fake.controller_refs, fake.delete_pod_name, fake.patches) == (
        [],
        [],
        [],
        [],
    )
    assert (fake.create_limit, fake.create_call_count) == (0, 0)


def test_fake_pod_control_err_is_raised_after_recording() -> None:
    rc = new_replication_controller(1)
    ref = new_controller_ref(rc, "v1", "ReplicationController")
    boom = RuntimeError("fake pod controller error")
    fake = FakePodControl(err=boom)
    with pytest.raises(RuntimeError) as exc_info:
        fake.create_pods("default", _template(), rc, ref)
    assert exc_info.value is boom
    with pytest.raises(RuntimeError):
        fake.delete_pod("default", "p", rc)
    with pytest.raises(RuntimeError):
        fake.patch_pod("default", "p", b"{}")
    assert (len(fake.templates), len(fake.delete_pod_name), len(fake.patches)) == (1, 1, 1)


def test_fake_pod_control_create_limit() -> None:
    rc = new_replication_controller(1)
    ref = new_controller_ref(rc, "v1", "ReplicationController")
    fake = FakePodControl(create_limit=3)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create() -> None:
        try:
            fake.create_pods("default", _template(), rc, ref)
        except RuntimeError as err:
            with lock:
                errors.append(err)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert fake.create_call_count == 8
    assert len(fake.templates) == 3
    assert len(errors) == 5
    assert all("not creating pod, limit 3 already reached" in str(e) for e in errors)


@pytest.mark.parametrize(
    ("use_generate_name", "want_generate_name", "want_owner_refs"),
    [
        pytest.param(False, "foobar-", True, id="Create pod"),
        pytest.param(True, "hello-", True, id="Create pod with generate name"),
    ],
)
def test_create_pods_with_generate_name(
    use_generate_name: bool, want_generate_name: str, want_owner_refs: bool
) -> None:
    ns = "default"
    controller_spec = new_replication_controller(1)
    assert controller_spec.spec is not None and controller_spec.spec.template is not None
    template = controller_spec.spec.template
    controller_ref = new_controller_ref(controller_spec, "v1", "ReplicationController")
    clientset = FakeClientset()
    written: list[tuple[V1Pod, V1OwnerReference | None]] = []
    recorder = new_fake_recorder(100)
    pod_control = RealPodControl(
        kube_client=clientset,
        recorder=recorder,
        on_write=lambda pod, ref: written.append((pod, ref)),
    )

    if use_generate_name:
        pod_control.create_pods_with_generate_name(
            ns, template, controller_spec, controller_ref, "hello-"
        )
    else:
        pod_control.create_pods(ns, template, controller_spec, controller_ref)

    assert len(written) == 1, "OnWrite callback was not called"
    assert written[0][1] == controller_ref
    actions = clientset.actions()
    assert [(a.verb, a.resource, a.namespace) for a in actions] == [("create", "pods", ns)]
    actual_pod = actions[0].object
    assert isinstance(actual_pod, V1Pod) and actual_pod.metadata is not None
    assert template.metadata is not None
    assert actual_pod.metadata.labels == template.metadata.labels
    assert actual_pod.metadata.generate_name == want_generate_name
    assert actual_pod.metadata.owner_references == [controller_ref]
    assert actual_pod.spec == template.spec
    created = written[0][0]
    assert created.metadata is not None and created.metadata.name
    assert recorder.drain() == [
        f"Normal {SUCCESSFUL_CREATE_POD_REASON} Created pod: {created.metadata.name}"
    ]


def test_patch_pod_callbacks() -> None:
    fake_client = FakeClientset(V1Pod(metadata=V1ObjectMeta(name="test-pod")))
    wrote: list[V1Pod] = []
    pod_control = RealPodControl(
        kube_client=fake_client,
        recorder=new_fake_recorder(100),
        on_write=lambda pod, ref: wrote.append(pod),
    )

    with pytest.raises(StatusError) as exc_info:
        pod_control.patch_pod("", "non-existing-pod", b"{}")
    assert not wrote, "OnWrite callback was called when not expected"
    assert is_not_found(exc_info.value), "Expected not found error"

    pod_control.patch_pod("", "test-pod", b"{}")
    assert len(wrote) == 1, "OnWrite callback was not called"


def test_delete_pods_allows_missing() -> None:
    recorder = new_fake_recorder(100)
    pod_control = RealPodControl(kube_client=FakeClientset(), recorder=recorder)
    controller_spec = new_replication_controller(1)

    with pytest.raises(StatusError) as exc_info:
        pod_control.delete_pod("namespace-name", "podName", controller_spec)
    assert is_not_found(exc_info.value)
    assert recorder.drain() == []


def test_delete_pod_records_events() -> None:
    rc = new_replication_controller(1)
    fake_client = FakeClientset(V1Pod(metadata=V1ObjectMeta(name="p1", namespace="default")))
    recorder = new_fake_recorder(100)
    pod_control = RealPodControl(kube_client=fake_client, recorder=recorder)
    pod_control.delete_pod("default", "p1", rc)
    assert recorder.drain() == [f"Normal {SUCCESSFUL_DELETE_POD_REASON} Deleted pod: p1"]

    def fail(action: Any) -> tuple[bool, Any, BaseException | None]:
        return True, None, new_internal_error("etcd is sad")

    fake_client.prepend_reactor("delete", "pods", fail)
    with pytest.raises(RuntimeError, match="unable to delete pods: Internal error occurred") as e:
        pod_control.delete_pod("default", "p1", rc)
    # The wrapped error no longer reads as an API status error.
    assert not isinstance(e.value, StatusError)
    assert recorder.drain() == [
        f"Warning {FAILED_DELETE_POD_REASON} Error deleting: Internal error occurred: etcd is sad"
    ]


@pytest.mark.parametrize(
    ("err", "want_events"),
    [
        pytest.param(
            StatusError(403, message="exceeded quota"),
            [f"Warning {FAILED_CREATE_POD_REASON} Error creating: exceeded quota"],
            id="failure is recorded",
        ),
        pytest.param(
            StatusError(
                403,
                message="namespace default is being terminated",
                causes=[{"type": NAMESPACE_TERMINATING_CAUSE}],
            ),
            [],
            id="namespace terminating is not recorded",
        ),
    ],
)
def test_create_pods_failure_events(err: StatusError, want_events: list[str]) -> None:
    rc = new_replication_controller(1)
    fake_client = FakeClientset()
    fake_client.prepend_reactor("create", "pods", lambda action: (True, None, err))
    recorder = new_fake_recorder(100)
    wrote: list[V1Pod] = []
    pod_control = RealPodControl(
        kube_client=fake_client, recorder=recorder, on_write=lambda p, r: wrote.append(p)
    )
    with pytest.raises(StatusError) as exc_info:
        pod_control.create_pods(
            "default", _template(), rc, new_controller_ref(rc, "v1", "ReplicationController")
        )
    assert exc_info.value is err
    assert recorder.drain() == want_events
    assert wrote == []


def test_create_pods_refuses_bad_input() -> None:
    rc = new_replication_controller(1)
    fake_client = FakeClientset()
    pod_control = RealPodControl(kube_client=fake_client, recorder=new_fake_recorder(100))
    ref = new_controller_ref(rc, "v1", "ReplicationController")
    with pytest.raises(ValueError, match="unable to create pods, no labels"):
        pod_control.create_pods(
            "default", V1PodTemplateSpec(spec=V1PodSpec(containers=[])), rc, ref
        )
    with pytest.raises(ValueError, match="controllerRef is nil"):
        pod_control.create_pods("default", _template(), rc, None)
    assert fake_client.actions() == []
