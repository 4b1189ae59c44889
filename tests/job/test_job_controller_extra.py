"""Tests of what job_controller.py adds beyond job_controller_test.go.

- the controller's use of the consistency store (StaleControllerConsistencyJob; the store
  itself is tested in test_consistency.py): a sync is refused while the Job cache is older
  than the controller's last status write;
- the managedBy name given to the constructor, including the deliberate deviation on
  Job deletion (pods of a Job another controller manages are not swept);
- NotFound seen through error wrapping in deleteJobPods, and the pod-write fan-out;
- the steady-state shortcut of the sync (every pod active): same status as without it;
- pods without metadata (Go's empty ObjectMeta) in the pod event handlers;
- the structured log call shape (message, verbosity and keys of the Go source).
"""

from __future__ import annotations

import pytest
from kubernetes.client import (
    V1Job,
    V1JobStatus,
    V1Pod,
    V1PodCondition,
    V1PodStatus,
    V1UncountedTerminatedPods,
)

from jobctl.client.errors import new_not_found
from jobctl.controller.consistency import ConsistencyError, RealConsistencyStore
from jobctl.controller.controller_utils import (
    ActivePodList,
    FakePodControl,
    filter_active_pods_fast,
)
from jobctl.informers.delta_fifo import DeletedFinalStateUnknown
from jobctl.job import job_controller, metrics
from jobctl.job.job_controller import managed_by_external_controller
from jobctl.k8s_libs import klog
from jobctl.testing.builders import new_job, new_pod_list
from jobctl.testing.job_harness import JobHarness, status_view


def test_sync_waits_for_the_cache_to_see_the_status_write() -> None:
    job = new_job(1, 1, 6, "NonIndexed")
    with JobHarness(job, capture_status=False) as h:
        store = h.controller.consistency_store
        assert isinstance(store, RealConsistencyStore), "StaleControllerConsistencyJob is on"
        h.add_job(job)
        h.sync_ok(job)
        written = h.client.batch_v1().jobs("default").get(job.metadata.name)
        assert written.status is not None and written.status.active == 1
        written_rv = written.metadata.resource_version

        # The Job cache (what the store reads) reports an older version: the next sync
        # is refused.
        h.job_indexer.bookmark(str(int(written_rv) - 1))
        metrics.job_requeue_skips.clear()
        result = h.sync(job)
        assert isinstance(result.error, ConsistencyError)
        assert metrics.job_requeue_skips.labels("batch", "jobs")._value.get() == 1

        h.job_indexer.bookmark(written_rv)
        h.sync_ok(job)


def _all_active_job_and_pods() -> tuple[V1Job, list[V1Pod]]:
    """Three running pods (with the tracking finalizer) of a Job of five completions whose
    status lists as uncounted a pod whose finalizer is gone and one of the running pods
    (whose UID stays there while it holds the finalizer)."""
    job = new_job(3, 5, 6, "NonIndexed")
    pods = new_pod_list(3, "Running", job)
    job.status = V1JobStatus(
        active=3,
        ready=0,
        terminating=0,
        uncounted_terminated_pods=V1UncountedTerminatedPods(
            succeeded=["gone", pods[0].metadata.uid]
        ),
    )
    return job, pods


@pytest.mark.usefixtures("sync_impl")
def test_sync_with_every_pod_active_counts_uncounted_pods() -> None:
    """The steady-state shortcut (every pod active) still moves uncounted UIDs whose pod
    lost its finalizer into the counters."""
    job, pods = _all_active_job_and_pods()
    with JobHarness() as h:
        h.add_job(job)
        h.add_pods(pods)
        result = h.sync_ok(job)
        assert result.status is not None
        # The sync also sets the start time, which is beside the point here.
        assert status_view(result.status) | {"start_time": None} == status_view(
            V1JobStatus(
                active=3,
                succeeded=1,
                ready=0,
                terminating=0,
                uncounted_terminated_pods=V1UncountedTerminatedPods(
                    succeeded=[pods[0].metadata.uid]
                ),
            )
        )
        assert result.created == [] and result.deleted == [] and result.patches == []


def test_managed_by_external_controller_name() -> None:
    job = new_job(1, 1, 6, "NonIndexed")
    assert managed_by_external_controller(job) is None
    assert managed_by_external_controller(job, "example.com/mine") == (
        "kubernetes.io/job-controller"
    )
    job.spec.managed_by = "example.com/mine"
    assert managed_by_external_controller(job, "example.com/mine") is None
    assert managed_by_external_controller(job) == "example.com/mine"


@pytest.mark.parametrize(
    ("managed_by", "want_sweep"),
    [(None, True), ("example.com/other", False)],
    ids=["own job", "job of another controller"],
)
def test_delete_job_sweeps_only_own_pods(managed_by: str | None, want_sweep: bool) -> None:
    job = new_job(1, 1, 6, "NonIndexed")
    job.spec.managed_by = managed_by
    job.status = V1JobStatus()
    with JobHarness() as h:
        h.controller.delete_job(job)
        assert h.controller.orphan_queue.len() == (1 if want_sweep else 0)
        if want_sweep:
            key, _ = h.controller.orphan_queue.get()
            assert key.kind == job_controller.ORPHAN_POD_KEY_KIND_SELECTOR
            assert key.namespace == "default"
            assert key.value == "foo=bar"


class _NotFoundPatchPodControl(FakePodControl):
    """Patches fail with NotFound (the pod is gone); deletions are recorded."""

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        super().patch_pod(namespace, name, data)
        raise new_not_found("pods", name)


def test_delete_job_pods_counts_a_gone_pod_as_deleted() -> None:
    """deleteJobPods checks NotFound through the wrapping of the patch error."""
    job = new_job(2, 2, 6, "NonIndexed")
    pods = new_pod_list(3, "Running", job)
    with JobHarness(pod_control=_NotFoundPatchPodControl()) as h:
        key = h.key(job)
        h.controller.expectations.expect_deletions(key, 3)
        ready, deleted, err = h.controller.delete_job_pods(job, key, pods)
        assert (ready, deleted, err) == (0, 3, None)
        # A failed patch ends the attempt: no DELETE, and the expectation is lowered.
        assert h.pod_control.delete_pod_name == []
        assert h.controller.expectations.satisfied_expectations(key)


def test_fan_out_keeps_the_order_of_results() -> None:
    with JobHarness() as h:
        items = list(range(257))
        assert h.controller._fan_out(lambda i: i * 2, items) == [i * 2 for i in items]
        assert h.controller._fan_out(lambda i: i, []) == []


def test_fan_out_returns_results_in_order_and_raises_after_every_item_ran() -> None:
    controller = JobHarness().controller
    assert controller._fan_out(lambda i: i * i, list(range(200))) == [i * i for i in range(200)]

    ran: list[int] = []

    def write(i: int) -> int:
        ran.append(i)
        if i == 3:
            raise RuntimeError("write failed")
        return i

    with pytest.raises(RuntimeError, match="write failed"):
        controller._fan_out(write, list(range(100)))
    assert sorted(ran) == list(range(100))


def _pod_without_metadata() -> V1Pod:
    return V1Pod(metadata=None, status=V1PodStatus(phase="Running"))


def test_pod_handlers_take_a_pod_without_metadata() -> None:
    """A pod whose metadata is unset reads like Go's empty ObjectMeta: no owner, no labels,
    no deletion timestamp, no resource version. The handlers neither raise nor wake a Job."""
    job = new_job(1, 1, 6, "NonIndexed")
    with JobHarness(job) as h:
        h.add_job(job)
        pod = _pod_without_metadata()
        h.controller.add_pod(pod)
        h.controller.update_pod(_pod_without_metadata(), pod)
        with_meta = new_pod_list(1, "Running", job)[0]
        h.controller.update_pod(with_meta, pod)
        h.controller.update_pod(pod, with_meta)
        h.controller.delete_pod(pod, True)
        h.controller.delete_pod(pod, False)
        h.controller.delete_pod(DeletedFinalStateUnknown("default/gone", pod), True)
        assert h.controller.orphan_queue.len() == 0


def test_enqueue_logs_key_and_delay(caplog: pytest.LogCaptureFixture) -> None:
    """enqueueSyncJobInternal logs the message, verbosity and keys of the Go source."""
    job = new_job(1, 1, 6, "NonIndexed")
    with JobHarness(job) as h, caplog.at_level(klog.level_for(2), logger=job_controller.__name__):
        h.controller.enqueue_sync_job_internal(job, 0.0)
        records = [r for r in caplog.records if r.getMessage() == "enqueueing job"]
        assert len(records) == 1
        assert getattr(records[0], klog.VERBOSITY_ATTR) == 2
        assert getattr(records[0], klog.KV_ATTR) == ("key", h.key(job), "delay", 0.0)


def test_count_ready_pods_fast_agrees_with_count_ready_pods() -> None:
    """Over a plain list, over the list filter_active_pods_fast returns (whose Ready count
    is carried along), and over that list once changed (the count is recomputed)."""
    job = new_job(6, 6, 6, "NonIndexed")
    pods = new_pod_list(6, "Running", job)
    for i, p in enumerate(pods):
        assert p.status is not None
        p.status.conditions = [
            V1PodCondition(type="PodScheduled", status="True"),
            V1PodCondition(type="Ready", status="True" if i % 2 else "False"),
        ]
    assert pods[5].status is not None
    pods[5].status.phase = "Succeeded"
    active = filter_active_pods_fast(pods)
    assert isinstance(active, ActivePodList) and active.ready_count == 2
    for candidate in (list(pods), active):
        assert job_controller.count_ready_pods_fast(candidate) == (
            job_controller.count_ready_pods(candidate)
        )
    active.append(pods[3])
    assert active.ready_count is None
    assert (
        job_controller.count_ready_pods_fast(active) == 3 == job_controller.count_ready_pods(active)
    )
