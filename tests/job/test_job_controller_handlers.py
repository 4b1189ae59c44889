"""Port of the queueing and event-handler tests of pkg/controller/job/job_controller_test.go.

TestSyncJobUpdateRequeue, TestUpdateJobRequeue, TestDeleteJobClearsPodExpectations,
TestGetPodCreationInfoForIndependentIndexes, TestJobPodLookup, TestGetPodsForJob, the
TestAddPod/TestUpdatePod/TestDeletePod families, TestSyncJobExpectations,
TestJobApiBackoffReset and TestJobBackoff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes.client import (
    V1Job,
    V1JobSpec,
    V1JobStatus,
    V1LabelSelector,
    V1LabelSelectorRequirement,
    V1ObjectMeta,
    V1Pod,
)

from jobctl.client.errors import new_conflict
from jobctl.controller.controller_utils import KEY_FUNC
from jobctl.job import job_controller
from jobctl.job.tracking_utils import has_job_tracking_finalizer
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import (
    build_pod,
    new_controller_ref,
    new_job,
    new_pod,
    new_pod_list,
    rand_string,
)
from jobctl.testing.job_harness import FakeJobExpectations, JobHarness, z

FAST_SYNC_JOB_BATCH_PERIOD = 0.01
FAST_JOB_API_BACKOFF = 0.01


@pytest.fixture
def fast_batch_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """setDurationDuringTest(&SyncJobBatchPeriod, fastSyncJobBatchPeriod)."""
    monkeypatch.setattr(job_controller, "SYNC_JOB_BATCH_PERIOD", FAST_SYNC_JOB_BATCH_PERIOD)


@pytest.fixture
def fast_api_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """setDurationDuringTest(&DefaultJobApiBackOff, fastJobApiBackoff)."""
    monkeypatch.setattr(job_controller, "DEFAULT_JOB_API_BACK_OFF", FAST_JOB_API_BACKOFF)


def bump_resource_version(pod: V1Pod) -> None:
    """Port of bumpResourceVersion."""
    assert pod.metadata is not None
    ver = int(pod.metadata.resource_version or "0")
    pod.metadata.resource_version = str(ver + 1)


def _named_job(name: str) -> V1Job:
    job = new_job(1, 1, 6, "NonIndexed")
    job.metadata.name = name
    return job


SYNC_JOB_UPDATE_REQUEUE_CASES: dict[str, dict[str, Any]] = {
    "no error": dict(update_err=None, want_requeued=False),
    "generic error": dict(update_err=RuntimeError("update error"), want_requeued=True),
    "conflict error": dict(update_err=new_conflict("", "", "conflict"), want_requeued=True),
}


@pytest.mark.parametrize(
    "case", list(SYNC_JOB_UPDATE_REQUEUE_CASES.values()), ids=list(SYNC_JOB_UPDATE_REQUEUE_CASES)
)
def test_sync_job_update_requeue(fast_api_backoff: None, case: dict[str, Any]) -> None:
    with JobHarness() as h:
        h.status_error = case["update_err"]
        job = new_job(2, 2, 6, "NonIndexed")
        h.add_job(job)
        h.controller.queue.add(h.key(job))
        h.controller.process_next_work_item()
        if case["want_requeued"]:
            h.await_for_queue_len(1)
        else:
            # Nothing may be waiting in the delaying queue either.
            h.step(FAST_JOB_API_BACKOFF)
            h.verify_empty_queue()


def _spec_update(job: V1Job) -> None:
    job.spec.suspend = False
    job.metadata.generation = (job.metadata.generation or 0) + 1


def _status_update(job: V1Job) -> None:
    job.status = z(V1JobStatus, start_time=datetime.now(UTC))


UPDATE_JOB_REQUEUE_CASES: dict[str, dict[str, Any]] = {
    "spec update": dict(
        old_job=new_job(1, 1, 1, "Indexed"),
        update_fn=_spec_update,
        want_requeued_immediately=True,
    ),
    "status update": dict(
        old_job=new_job(1, 1, 1, "Indexed"),
        update_fn=_status_update,
        want_requeued_immediately=False,
    ),
}


@pytest.mark.parametrize(
    "case", list(UPDATE_JOB_REQUEUE_CASES.values()), ids=list(UPDATE_JOB_REQUEUE_CASES)
)
def test_update_job_requeue(case: dict[str, Any]) -> None:
    with JobHarness() as h:
        old_job: V1Job = case["old_job"]
        h.add_job(old_job)
        new = old_job.model_copy(deep=True)
        update_fn: Callable[[V1Job], None] | None = case["update_fn"]
        if update_fn is not None:
            update_fn(new)
        h.controller.update_job(old_job, new)
        got_requeued_immediately = h.controller.queue.len() > 0
        assert got_requeued_immediately == case["want_requeued_immediately"]


def test_delete_job_clears_pod_expectations() -> None:
    with JobHarness() as h:
        job = new_job(1, 1, 1, "NonIndexed")
        h.add_job(job)
        key = KEY_FUNC(job)
        # A creation the controller asked for but has not seen yet.
        h.controller.expectations.expect_creations(key, 1)
        assert not h.controller.expectations.satisfied_expectations(key)

        h.controller.delete_job(job)

        assert h.controller.expectations.satisfied_expectations(key)


_NOW = datetime.now(UTC)
_DEFAULT_BACKOFF = 10.0


def _delayed_pod(failure_count: str, deleted_at: datetime, index: str | None = None) -> V1Pod:
    pb = build_pod().index_failure_count(failure_count)
    if index is not None:
        pb = pb.index(index)
    return pb.custom_deletion_timestamp(deleted_at).pod


GET_POD_CREATION_INFO_CASES: dict[str, dict[str, Any]] = {
    "simple index creation": dict(indexes_to_add=[1, 3], want_indexes_to_add=[1, 3]),
    "subset of indexes can be recreated now": dict(
        indexes_to_add=[1, 3],
        pods_with_delayed_deletion_per_index={1: _delayed_pod("0", _NOW, index="1")},
        want_indexes_to_add=[3],
    ),
    "subset of indexes can be recreated now as the pods failed long time ago": dict(
        indexes_to_add=[1, 3],
        pods_with_delayed_deletion_per_index={
            1: _delayed_pod("0", _NOW),
            3: _delayed_pod("0", _NOW - timedelta(seconds=_DEFAULT_BACKOFF)),
        },
        want_indexes_to_add=[3],
    ),
    "no indexes can be recreated now, need to wait default pod failure backoff": dict(
        indexes_to_add=[1, 2, 3],
        pods_with_delayed_deletion_per_index={
            1: _delayed_pod("1", _NOW),
            2: _delayed_pod("0", _NOW),
            3: _delayed_pod("2", _NOW),
        },
        want_remaining_time=_DEFAULT_BACKOFF,
    ),
    "no indexes can be recreated now, need to wait but 1s already passed": dict(
        indexes_to_add=[1, 2, 3],
        pods_with_delayed_deletion_per_index={
            1: _delayed_pod("1", _NOW - timedelta(seconds=1)),
            2: _delayed_pod("0", _NOW - timedelta(seconds=1)),
            3: _delayed_pod("2", _NOW - timedelta(seconds=1)),
        },
        want_remaining_time=_DEFAULT_BACKOFF - 1,
    ),
}


@pytest.mark.parametrize(
    "case", list(GET_POD_CREATION_INFO_CASES.values()), ids=list(GET_POD_CREATION_INFO_CASES)
)
def test_get_pod_creation_info_for_independent_indexes(case: dict[str, Any]) -> None:
    assert job_controller.DEFAULT_JOB_POD_FAILURE_BACK_OFF == _DEFAULT_BACKOFF
    with JobHarness(clock=FakeClock(_NOW)) as h:
        got_indexes, got_remaining = h.controller.get_pod_creation_info_for_independent_indexes(
            case["indexes_to_add"], case.get("pods_with_delayed_deletion_per_index") or {}
        )
        assert got_indexes == case.get("want_indexes_to_add", [])
        assert got_remaining == pytest.approx(case.get("want_remaining_time", 0.0))


JOB_POD_LOOKUP_CASES: list[dict[str, Any]] = [
    # A pod without labels matches no Job.
    dict(
        job=z(V1Job, metadata=z(V1ObjectMeta, name="basic")),
        pod=z(V1Pod, metadata=z(V1ObjectMeta, name="foo1", namespace="")),
        expected_name="",
    ),
    # Matching labels in another namespace.
    dict(
        job=z(
            V1Job,
            metadata=z(V1ObjectMeta, name="foo"),
            spec=z(V1JobSpec, selector=z(V1LabelSelector, match_labels={"foo": "bar"})),
        ),
        pod=z(V1Pod, metadata=z(V1ObjectMeta, name="foo2", namespace="ns", labels={"foo": "bar"})),
        expected_name="",
    ),
    # Matching namespace and labels.
    dict(
        job=z(
            V1Job,
            metadata=z(V1ObjectMeta, name="bar", namespace="ns"),
            spec=z(
                V1JobSpec,
                selector=z(
                    V1LabelSelector,
                    match_expressions=[
                        z(V1LabelSelectorRequirement, key="foo", operator="In", values=["bar"])
                    ],
                ),
            ),
        ),
        pod=z(V1Pod, metadata=z(V1ObjectMeta, name="foo3", namespace="ns", labels={"foo": "bar"})),
        expected_name="bar",
    ),
]


def test_job_pod_lookup() -> None:
    with JobHarness() as h:
        for tc in JOB_POD_LOOKUP_CASES:
            h.add_job(tc["job"])
            jobs = h.controller.get_pod_jobs(tc["pod"])
            if jobs:
                assert len(jobs) == 1
                assert jobs[0].metadata.name == tc["expected_name"]
            else:
                assert tc["expected_name"] == "", f"expected a job for pod {tc['pod']}"


def _get_pods_for_job_cases() -> tuple[V1Job, V1Job, dict[str, dict[str, Any]]]:
    job = new_job(1, 1, 6, "NonIndexed")
    job.metadata.name = "test_job"
    other_job = new_job(1, 1, 6, "NonIndexed")
    other_job.metadata.name = "other_job"
    cases: dict[str, dict[str, Any]] = {
        "only matching": dict(
            pods=[
                build_pod().name("pod1").job(job).tracking_finalizer().pod,
                build_pod().name("pod2").job(other_job).pod,
                build_pod().name("pod3").ns(job.metadata.namespace).pod,
                build_pod().name("pod4").job(job).pod,
            ],
            want_pods=["pod1", "pod4"],
            want_pods_finalizer=["pod1"],
        ),
        "adopt": dict(
            pods=[
                build_pod().name("pod1").job(job).pod,
                build_pod().name("pod2").job(job).clear_owner().pod,
                build_pod().name("pod3").job(other_job).pod,
            ],
            want_pods=["pod1", "pod2"],
            want_pods_finalizer=["pod2"],
        ),
        "no adopt when deleting": dict(
            job_deleted=True,
            job_deleted_in_cache=True,
            pods=[
                build_pod().name("pod1").job(job).pod,
                build_pod().name("pod2").job(job).clear_owner().pod,
            ],
            want_pods=["pod1"],
        ),
        "no adopt when deleting race": dict(
            job_deleted=True,
            pods=[
                build_pod().name("pod1").job(job).pod,
                build_pod().name("pod2").job(job).clear_owner().pod,
            ],
            want_pods=["pod1"],
        ),
        "release": dict(
            pods=[
                build_pod().name("pod1").job(job).pod,
                build_pod().name("pod2").job(job).clear_labels().pod,
            ],
            want_pods=["pod1"],
        ),
    }
    return job, other_job, cases


_GPFJ_JOB, _GPFJ_OTHER_JOB, GET_PODS_FOR_JOB_CASES = _get_pods_for_job_cases()


@pytest.mark.parametrize(
    "case", list(GET_PODS_FOR_JOB_CASES.values()), ids=list(GET_PODS_FOR_JOB_CASES)
)
def test_get_pods_for_job(case: dict[str, Any]) -> None:
    job = _GPFJ_JOB.model_copy(deep=True)
    if case.get("job_deleted"):
        job.metadata.deletion_timestamp = datetime(1, 1, 1, tzinfo=UTC)
    with JobHarness(job, _GPFJ_OTHER_JOB) as h:
        cached_job = job.model_copy(deep=True)
        if case.get("job_deleted_in_cache"):
            cached_job.metadata.deletion_timestamp = datetime(1, 1, 1, tzinfo=UTC)
        h.add_job(cached_job)
        h.add_job(_GPFJ_OTHER_JOB)
        h.add_pods(p.model_copy(deep=True) for p in case["pods"])

        pods = h.controller.get_pods_for_job(job)

        got = sorted(p.metadata.name for p in pods)
        got_finalizer = sorted(p.metadata.name for p in pods if has_job_tracking_finalizer(p))
        assert got == case["want_pods"]
        assert got_finalizer == case.get("want_pods_finalizer", [])


def _two_jobs(h: JobHarness) -> tuple[V1Job, V1Job]:
    job1 = h.add_job(_named_job("job1"))
    job2 = h.add_job(_named_job("job2"))
    return job1, job2


def _expect_key(h: JobHarness, job: V1Job) -> None:
    key, done = h.controller.queue.get()
    assert key and not done
    assert key == KEY_FUNC(job)
    h.controller.queue.done(key)


def test_add_pod(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, job2 = _two_jobs(h)
        pod1 = new_pod("pod1", job1)
        pod2 = new_pod("pod2", job2)
        h.add_pods([pod1, pod2])

        h.controller.add_pod(pod1)
        h.await_for_queue_len(1)
        _expect_key(h, job1)

        h.controller.add_pod(pod2)
        h.await_for_queue_len(1)
        _expect_key(h, job2)


def test_add_pod_orphan(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, _ = _two_jobs(h)
        job3 = _named_job("job3")
        job3.spec.selector.match_labels = {"other": "labels"}
        h.add_job(job3)
        pod1 = new_pod("pod1", job1)
        # An orphan: every Job whose selector matches is queued.
        pod1.metadata.owner_references = None
        h.add_pods([pod1])

        h.controller.add_pod(pod1)
        h.await_for_queue_len(2)


def test_update_pod(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, job2 = _two_jobs(h)
        pod1 = new_pod("pod1", job1)
        pod2 = new_pod("pod2", job2)
        h.add_pods([pod1, pod2])

        prev = pod1.model_copy(deep=True)
        bump_resource_version(pod1)
        h.controller.update_pod(prev, pod1)
        h.await_for_queue_len(1)
        _expect_key(h, job1)

        prev = pod2.model_copy(deep=True)
        bump_resource_version(pod2)
        h.controller.update_pod(prev, pod2)
        h.await_for_queue_len(1)
        _expect_key(h, job2)


def test_update_pod_orphan_with_new_labels(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, _ = _two_jobs(h)
        pod1 = new_pod("pod1", job1)
        pod1.metadata.owner_references = None
        h.add_pods([pod1])

        # New labels on an orphan: the Jobs matching them are queued.
        prev = pod1.model_copy(deep=True)
        prev.metadata.labels = {"foo2": "bar2"}
        bump_resource_version(pod1)
        h.controller.update_pod(prev, pod1)
        h.await_for_queue_len(2)


def test_update_pod_change_controller_ref(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, job2 = _two_jobs(h)
        pod1 = new_pod("pod1", job1)
        h.add_pods([pod1])

        # Another controller: both the old and the new owner are queued.
        prev = pod1.model_copy(deep=True)
        prev.metadata.owner_references = [new_controller_ref(job2)]
        bump_resource_version(pod1)
        h.controller.update_pod(prev, pod1)
        h.await_for_queue_len(2)


def test_update_pod_release(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, _ = _two_jobs(h)
        pod1 = new_pod("pod1", job1)
        h.add_pods([pod1])

        # Controller reference removed: every matching Job may adopt.
        prev = pod1.model_copy(deep=True)
        pod1.metadata.owner_references = None
        bump_resource_version(pod1)
        h.controller.update_pod(prev, pod1)
        h.await_for_queue_len(2)


def test_delete_pod(fast_batch_period: None) -> None:
    with JobHarness() as h:
        job1, job2 = _two_jobs(h)
        pod1 = new_pod("pod1", job1)
        pod2 = new_pod("pod2", job2)
        h.add_pods([pod1, pod2])

        h.controller.delete_pod(pod1, True)
        h.await_for_queue_len(1)
        _expect_key(h, job1)

        h.controller.delete_pod(pod2, True)
        h.await_for_queue_len(1)
        _expect_key(h, job2)


def test_delete_pod_orphan(monkeypatch: pytest.MonkeyPatch) -> None:
    # No batching, so that a requeue would show at once.
    monkeypatch.setattr(job_controller, "SYNC_JOB_BATCH_PERIOD", 0.0)
    with JobHarness() as h:
        job1, _ = _two_jobs(h)
        job3 = _named_job("job3")
        job3.spec.selector.match_labels = {"other": "labels"}
        h.add_job(job3)
        pod1 = new_pod("pod1", job1)
        pod1.metadata.owner_references = None
        h.add_pods([pod1])

        h.controller.delete_pod(pod1, True)

        assert h.controller.queue.len() == 0


def test_sync_job_expectations() -> None:
    with JobHarness() as h:
        job = h.add_job(new_job(2, 2, 6, "NonIndexed"))
        pods = new_pod_list(2, "Pending", job)
        h.add_pods([pods[0]])

        # A pod landing between the expectations check and the pod listing must be seen:
        # the listing happens after the check.
        h.controller.expectations = FakeJobExpectations(True, lambda: h.add_pods([pods[1]]))

        result = h.sync_ok(job)

        assert result.created == []
        assert result.deleted == []


def test_job_api_backoff_reset(fast_api_backoff: None) -> None:
    with JobHarness() as h:
        job = h.add_job(new_job(1, 1, 2, "NonIndexed"))
        key = h.key(job)

        # An error requeues the key with backoff.
        h.pod_control.err = RuntimeError("Controller error")
        h.controller.queue.add(key)
        h.controller.process_next_work_item()
        assert h.controller.queue.num_requeues(key) == 1
        h.await_for_queue_len(1)

        # Success empties the queue.
        h.pod_control.err = None
        h.controller.process_next_work_item()
        h.verify_empty_queue()


class FakeRateLimitingQueue:
    """Port of fakeRateLimitingQueue: records the last AddAfter."""

    def __init__(self) -> None:
        self.requeues = 0
        self.item = ""
        self.duration = 0.0

    def add_rate_limited(self, item: str) -> None:
        pass

    def forget(self, item: str) -> None:
        self.requeues = 0

    def num_requeues(self, item: str) -> int:
        return self.requeues

    def add_after(self, item: str, duration: float) -> None:
        self.item = item
        self.duration = duration


JOB_BACKOFF_CASES: dict[str, dict[str, Any]] = {
    "failure with pod updates batching": dict(
        requeues=0, phase="Failed", want_backoff=job_controller.SYNC_JOB_BATCH_PERIOD
    ),
}


@pytest.mark.parametrize("case", list(JOB_BACKOFF_CASES.values()), ids=list(JOB_BACKOFF_CASES))
def test_job_backoff(case: dict[str, Any]) -> None:
    job = new_job(1, 1, 1, "NonIndexed")
    old_pod = new_pod(f"pod-{rand_string(10)}", job)
    old_pod.metadata.resource_version = "1"
    new = old_pod.model_copy(deep=True)
    new.metadata.resource_version = "2"
    with JobHarness() as h:
        queue = FakeRateLimitingQueue()
        h.controller.queue = queue  # type: ignore[assignment]
        h.add_job(job)
        queue.requeues = case["requeues"]
        new.status.phase = case["phase"]
        old_pod.status.phase = case.get("old_pod_phase") or "Running"

        h.controller.update_pod(old_pod, new)

        assert queue.duration == case["want_backoff"]
