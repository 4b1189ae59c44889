"""Tests for jobctl.controller.controller_ref_manager.

Ports TestClaimPods and TestGeneratePatchBytesForDelete from
pkg/controller/controller_ref_manager_test.go; the remaining tests pin behaviour the
upstream file leaves to the controllers' tests (adoption patch bytes, error aggregation,
the once-only can-adopt check, release ignoring NotFound/Invalid).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1Job,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1PodSpec,
    V1ReplicationController,
)

from jobctl.client.errors import StatusError, new_conflict, new_not_found
from jobctl.controller.controller_ref_manager import (
    ClaimPodsError,
    GroupVersionKind,
    PodControllerRefManager,
    generate_delete_owner_ref_strategic_merge_bytes,
    new_pod_controller_ref_manager,
    owner_ref_controller_patch,
    recheck_deletion_timestamp,
)
from jobctl.controller.controller_utils import FakePodControl
from jobctl.k8s_libs.labels import set_as_selector

PRODUCTION_LABEL = {"type": "production"}
TEST_LABEL = {"type": "testing"}
PRODUCTION_LABEL_SELECTOR = set_as_selector({"type": "production"})
CONTROLLER_UID = "123"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def new_controller_ref(owner: Any, api_version: str, kind: str) -> V1OwnerReference:
    """Port of metav1.NewControllerRef."""
    return V1OwnerReference(
        api_version=api_version,
        kind=kind,
        name=owner.metadata.name or "",
        uid=owner.metadata.uid or "",
        controller=True,
        block_owner_deletion=True,
    )


def new_pod(pod_name: str, label: dict[str, str], owner: Any | None) -> V1Pod:
    """Port of newPod (controller_ref_manager_test.go)."""
    pod = V1Pod(
        metadata=V1ObjectMeta(name=pod_name, labels=dict(label), namespace="default"),
        spec=V1PodSpec(containers=[V1Container(name="", image="foo/bar")]),
    )
    if owner is not None:
        assert pod.metadata is not None
        pod.metadata.owner_references = [new_controller_ref(owner, "apps/v1", "Fake")]
    return pod


def new_rc(uid: str | None = None, namespace: str = "default") -> V1ReplicationController:
    return V1ReplicationController(metadata=V1ObjectMeta(namespace=namespace, uid=uid))


def accept_all() -> None:
    return None


@dataclass
class ClaimPodsCase:
    manager: PodControllerRefManager
    pods: list[V1Pod]
    claimed: list[V1Pod]
    patches: int = 0


def _claim_cases() -> list[Any]:
    controller_kind = GroupVersionKind()
    cases: list[Any] = []

    def manager(controller: Any, *finalizers: str) -> PodControllerRefManager:
        return new_pod_controller_ref_manager(
            FakePodControl(),
            controller,
            PRODUCTION_LABEL_SELECTOR,
            controller_kind,
            accept_all,
            *finalizers,
        )

    controller = new_rc()
    cases.append(
        pytest.param(
            ClaimPodsCase(
                manager(controller),
                [new_pod("pod1", PRODUCTION_LABEL, None), new_pod("pod2", TEST_LABEL, None)],
                [new_pod("pod1", PRODUCTION_LABEL, None)],
                1,
            ),
            id="Claim pods with correct label",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    assert controller.metadata is not None
    controller.metadata.deletion_timestamp = NOW
    cases.append(
        pytest.param(
            ClaimPodsCase(
                manager(controller),
                [
                    new_pod("pod1", PRODUCTION_LABEL, None),
                    new_pod("pod2", PRODUCTION_LABEL, None),
                ],
                [],
            ),
            id="Controller marked for deletion can not claim pods",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    assert controller.metadata is not None
    controller.metadata.deletion_timestamp = NOW
    cases.append(
        pytest.param(
            ClaimPodsCase(
                manager(controller),
                [
                    new_pod("pod1", PRODUCTION_LABEL, controller),
                    new_pod("pod2", PRODUCTION_LABEL, None),
                ],
                [new_pod("pod1", PRODUCTION_LABEL, controller)],
            ),
            id="Controller marked for deletion can not claim new pods",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    controller2 = new_rc("AAAAA")
    cases.append(
        pytest.param(
            ClaimPodsCase(
                manager(controller),
                [
                    new_pod("pod1", PRODUCTION_LABEL, controller),
                    new_pod("pod2", PRODUCTION_LABEL, controller2),
                ],
                [new_pod("pod1", PRODUCTION_LABEL, controller)],
            ),
            id="Controller can not claim pods owned by another controller",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    cases.append(
        pytest.param(
            ClaimPodsCase(
                manager(controller),
                [
                    new_pod("pod1", PRODUCTION_LABEL, controller),
                    new_pod("pod2", TEST_LABEL, controller),
                ],
                [new_pod("pod1", PRODUCTION_LABEL, controller)],
                1,
            ),
            id="Controller releases claimed pods when selector doesn't match",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    pod_to_delete1 = new_pod("pod1", PRODUCTION_LABEL, controller)
    pod_to_delete2 = new_pod("pod2", PRODUCTION_LABEL, None)
    assert pod_to_delete1.metadata is not None and pod_to_delete2.metadata is not None
    pod_to_delete1.metadata.deletion_timestamp = NOW
    pod_to_delete2.metadata.deletion_timestamp = NOW
    cases.append(
        pytest.param(
            ClaimPodsCase(manager(controller), [pod_to_delete1, pod_to_delete2], [pod_to_delete1]),
            id="Controller does not claim orphaned pods marked for deletion",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    cases.append(
        pytest.param(
            ClaimPodsCase(
                manager(controller, "foo-finalizer", "bar-finalizer"),
                [
                    new_pod("pod1", PRODUCTION_LABEL, controller),
                    new_pod("pod2", TEST_LABEL, controller),
                    new_pod("pod3", PRODUCTION_LABEL, None),
                ],
                [
                    new_pod("pod1", PRODUCTION_LABEL, controller),
                    new_pod("pod3", PRODUCTION_LABEL, None),
                ],
                2,
            ),
            id="Controller claims or release pods according to selector with finalizers",
        )
    )

    controller = new_rc(CONTROLLER_UID)
    pod1 = new_pod("pod1", PRODUCTION_LABEL, None)
    pod2 = new_pod("pod2", PRODUCTION_LABEL, None)
    assert pod2.metadata is not None
    pod2.metadata.namespace = "fakens"
    cases.append(
        pytest.param(
            ClaimPodsCase(manager(controller), [pod1, pod2], [pod1], 1),
            id="Controller does not claim pods of different namespace",
        )
    )

    controller = new_rc(CONTROLLER_UID, namespace="")
    pod1 = new_pod("pod1", PRODUCTION_LABEL, None)
    pod2 = new_pod("pod2", PRODUCTION_LABEL, None)
    assert pod2.metadata is not None
    pod2.metadata.namespace = "fakens"
    cases.append(
        pytest.param(
            ClaimPodsCase(manager(controller), [pod1, pod2], [pod1, pod2], 2),
            id="Cluster scoped controller claims pods of specified namespace",
        )
    )
    return cases


@pytest.mark.parametrize("impl", ["plain", "fast"])
@pytest.mark.parametrize(
    "index", range(len(_claim_cases())), ids=[str(c.id) for c in _claim_cases()]
)
def test_claim_pods(index: int, impl: str) -> None:
    """The upstream table through the Go-shaped ``claim_pods`` and its fast twin (each
    run on a fresh case: the fake pod control records patches)."""
    test: ClaimPodsCase = _claim_cases()[index].values[0]
    claim = test.manager.claim_pods if impl == "plain" else test.manager.claim_pods_fast
    claimed = claim(test.pods)
    assert claimed == test.claimed
    fake_pod_control = test.manager.pod_control
    assert isinstance(fake_pod_control, FakePodControl)
    assert len(fake_pod_control.patches) == test.patches
    controller_uid = test.manager.controller.metadata.uid or ""
    for p in fake_pod_control.patches:
        patch = p.decode()
        assert controller_uid in patch, f"Patch doesn't contain controller UID {controller_uid}"
        for f in test.manager.finalizers:
            assert f in patch, f"Patch doesn't contain finalizer {patch}, {f!r}"


@pytest.mark.parametrize(
    ("owner_uid", "dependent_uid", "finalizers", "want"),
    [
        pytest.param(
            ["ss1"],
            "ss2",
            [],
            b'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1"}]}}',
            id="check the structure of patch bytes",
        ),
        pytest.param(
            ['ss1"hello'],
            "ss2",
            [],
            b'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1\\"hello"}]}}',
            id="check if parent uid is escaped",
        ),
        pytest.param(
            ["ss1"],
            'ss2"hello',
            [],
            b'{"metadata":{"uid":"ss2\\"hello","ownerReferences":[{"$patch":"delete","uid":"ss1"}]}}',
            id="check if revision uid uid is escaped",
        ),
        pytest.param(
            ["ss1", "ss2"],
            "ss2",
            [],
            b'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1"},'
            b'{"$patch":"delete","uid":"ss2"}]}}',
            id="check the structure of patch bytes with multiple owners",
        ),
        pytest.param(
            ["ss1", "ss2"],
            "ss2",
            ["f1"],
            b'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1"},'
            b'{"$patch":"delete","uid":"ss2"}],"$deleteFromPrimitiveList/finalizers":["f1"]}}',
            id="check the structure of patch bytes with a finalizer and multiple owners",
        ),
    ],
)
def test_generate_patch_bytes_for_delete(
    owner_uid: list[str], dependent_uid: str, finalizers: list[str], want: bytes
) -> None:
    got = generate_delete_owner_ref_strategic_merge_bytes(dependent_uid, owner_uid, *finalizers)
    assert got == want


def test_generate_patch_bytes_for_delete_without_owners() -> None:
    # A nil Go slice marshals as null.
    assert (
        generate_delete_owner_ref_strategic_merge_bytes("pod-uid", [])
        == b'{"metadata":{"uid":"pod-uid","ownerReferences":null}}'
    )


JOB_KIND = GroupVersionKind("batch", "v1", "Job")


def new_job(name: str = "myjob", uid: str = "job-uid", namespace: str = "default") -> V1Job:
    return V1Job(metadata=V1ObjectMeta(name=name, uid=uid, namespace=namespace))


@pytest.mark.parametrize(
    ("kind", "finalizers", "want"),
    [
        pytest.param(
            JOB_KIND,
            ("batch.kubernetes.io/job-tracking",),
            b'{"metadata":{"ownerReferences":[{"apiVersion":"batch/v1","kind":"Job",'
            b'"name":"myjob","uid":"job-uid","controller":true,"blockOwnerDeletion":true}],'
            b'"uid":"pod-uid","finalizers":["batch.kubernetes.io/job-tracking"]}}',
            id="job with tracking finalizer",
        ),
        pytest.param(
            GroupVersionKind("", "v1", "ReplicationController"),
            (),
            b'{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ReplicationController",'
            b'"name":"myjob","uid":"job-uid","controller":true,"blockOwnerDeletion":true}],'
            b'"uid":"pod-uid"}}',
            id="core group without finalizers",
        ),
    ],
)
def test_owner_ref_controller_patch(
    kind: GroupVersionKind, finalizers: tuple[str, ...], want: bytes
) -> None:
    assert owner_ref_controller_patch(new_job(), kind, "pod-uid", *finalizers) == want


def test_patch_bytes_escape_like_go() -> None:
    got = owner_ref_controller_patch(new_job(name="a<b>&c"), JOB_KIND, "u\u2028é")
    assert b'"name":"a\\u003cb\\u003e\\u0026c"' in got
    assert '"uid":"u\\u2028é"'.encode() in got
    assert json.loads(got)["metadata"]["ownerReferences"][0]["name"] == "a<b>&c"


@dataclass
class ScriptedPodControl(FakePodControl):
    """A FakePodControl whose patch_pod fails per pod name."""

    patch_errors: dict[str, BaseException] = field(default_factory=dict)

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        super().patch_pod(namespace, name, data)
        if name in self.patch_errors:
            raise self.patch_errors[name]


def job_manager(
    pod_control: FakePodControl,
    can_adopt: Callable[[], None] | None = accept_all,
    job: V1Job | None = None,
) -> PodControllerRefManager:
    return new_pod_controller_ref_manager(
        pod_control,
        job or new_job(),
        PRODUCTION_LABEL_SELECTOR,
        JOB_KIND,
        can_adopt,
        "batch.kubernetes.io/job-tracking",
    )


def owned_pod(name: str, labels: dict[str, str], job: V1Job) -> V1Pod:
    pod = new_pod(name, labels, None)
    assert pod.metadata is not None
    pod.metadata.uid = f"{name}-uid"
    pod.metadata.owner_references = [new_controller_ref(job, "batch/v1", "Job")]
    return pod


def test_claim_pods_aggregates_errors_after_processing_all_pods() -> None:
    job = new_job()
    conflict = new_conflict("pods", "pod1", "boom")
    pod_control = ScriptedPodControl(
        patch_errors={"pod1": conflict, "pod2": new_not_found("pods", "pod2")}
    )
    pods = [
        new_pod("pod1", PRODUCTION_LABEL, None),  # adoption conflicts
        new_pod("pod2", PRODUCTION_LABEL, None),  # vanished: not an error, not claimed
        new_pod("pod3", PRODUCTION_LABEL, None),  # adopted
        owned_pod("pod4", PRODUCTION_LABEL, job),  # already ours
    ]
    with pytest.raises(ClaimPodsError) as exc_info:
        job_manager(pod_control, job=job).claim_pods(pods)
    assert exc_info.value.errors == [conflict]
    assert str(exc_info.value) == str(conflict)
    assert [p.metadata.name for p in exc_info.value.claimed if p.metadata] == ["pod3", "pod4"]
    assert len(pod_control.patches) == 3


def test_claim_pods_error_message_joins_distinct_errors() -> None:
    err_a = StatusError(500, message="a")
    pod_control = ScriptedPodControl(
        patch_errors={
            "p1": err_a,
            "p2": StatusError(500, message="a"),
            "p3": StatusError(500, message="b"),
        }
    )
    pods = [new_pod(n, PRODUCTION_LABEL, None) for n in ("p1", "p2", "p3")]
    with pytest.raises(ClaimPodsError) as exc_info:
        job_manager(pod_control).claim_pods(pods)
    assert len(exc_info.value.errors) == 3
    assert str(exc_info.value) == "[a, b]"


def test_claim_pods_filters() -> None:
    pod_control = FakePodControl()
    pods = [new_pod("keep", PRODUCTION_LABEL, None), new_pod("skip", PRODUCTION_LABEL, None)]
    claimed = job_manager(pod_control).claim_pods(
        pods, lambda p: p.metadata is not None and p.metadata.name == "keep"
    )
    assert [p.metadata.name for p in claimed if p.metadata] == ["keep"]
    assert len(pod_control.patches) == 1


def test_can_adopt_runs_once_and_refusal_fails_every_adoption() -> None:
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise RuntimeError("no way")

    pod_control = FakePodControl()
    pods = [new_pod(n, PRODUCTION_LABEL, None) for n in ("p1", "p2")]
    with pytest.raises(ClaimPodsError) as exc_info:
        job_manager(pod_control, can_adopt=refuse).claim_pods(pods)
    assert calls == [1]
    assert len(exc_info.value.errors) == 2
    assert str(exc_info.value.errors[0]) == "can't adopt Pod default/p1 (None): no way"
    assert exc_info.value.claimed == []
    assert pod_control.patches == []


def test_can_adopt_not_called_without_adoption() -> None:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)

    job = new_job()
    claimed = job_manager(FakePodControl(), can_adopt=check, job=job).claim_pods(
        [owned_pod("p1", PRODUCTION_LABEL, job)]
    )
    assert len(claimed) == 1
    assert calls == []


@pytest.mark.parametrize(
    "err",
    [
        pytest.param(new_not_found("pods", "p1"), id="not found"),
        pytest.param(StatusError(422, message="uid mismatch"), id="invalid"),
    ],
)
def test_release_pod_ignores_not_found_and_invalid(err: StatusError) -> None:
    job = new_job()
    pod_control = ScriptedPodControl(patch_errors={"p1": err})
    claimed = job_manager(pod_control, job=job).claim_pods([owned_pod("p1", TEST_LABEL, job)])
    assert claimed == []
    assert pod_control.patches == [
        b'{"metadata":{"uid":"p1-uid","ownerReferences":[{"$patch":"delete","uid":"job-uid"}],'
        b'"$deleteFromPrimitiveList/finalizers":["batch.kubernetes.io/job-tracking"]}}'
    ]


def test_release_pod_raises_other_errors() -> None:
    job = new_job()
    conflict = new_conflict("pods", "p1", "try again")
    pod_control = ScriptedPodControl(patch_errors={"p1": conflict})
    with pytest.raises(ClaimPodsError) as exc_info:
        job_manager(pod_control, job=job).claim_pods([owned_pod("p1", TEST_LABEL, job)])
    assert exc_info.value.errors == [conflict]


def test_recheck_deletion_timestamp() -> None:
    alive = new_job()
    recheck_deletion_timestamp(lambda: alive)()

    deleted = new_job()
    assert deleted.metadata is not None
    deleted.metadata.deletion_timestamp = NOW
    with pytest.raises(RuntimeError, match="default/myjob has just been deleted at"):
        recheck_deletion_timestamp(lambda: deleted)()

    def fail() -> V1Job:
        raise new_not_found("jobs", "myjob")

    with pytest.raises(RuntimeError, match="can't recheck DeletionTimestamp: "):
        recheck_deletion_timestamp(fail)()
