"""Tests of what job_controller.py adds beyond job_controller_test.go.

- the private port of pkg/controller/util/consistency (StaleControllerConsistencyJob),
  after consistency_test.go (TestOwnerRecord_WroteAt, TestOwnerRecord_IsReady, Clear);
- its use by the controller: a sync is refused while the Job cache is older than the
  controller's last status write;
- the managedBy name given to the constructor, including the deliberate deviation on
  Job deletion (pods of a Job another controller manages are not swept);
- NotFound seen through error wrapping in deleteJobPods, and the pod-write fan-out.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes.client import V1JobStatus

from jobctl import job_controller, metrics
from jobctl.client.errors import new_not_found
from jobctl.controller_utils import FakePodControl
from jobctl.job_controller import (
    JOB_GROUP_RESOURCE,
    POD_GROUP_RESOURCE,
    ConsistencyError,
    GroupResource,
    _OwnerRecord,
    _RealConsistencyStore,
    managed_by_external_controller,
)
from jobctl.testing.builders import new_job, new_pod_list
from jobctl.testing.job_harness import JobHarness

GR_POD = GroupResource("", "pods")
GR_DS = GroupResource("apps", "daemonsets")


def test_group_resource_string() -> None:
    assert str(GR_POD) == "pods"
    assert str(GR_DS) == "daemonsets.apps"


def test_owner_record_wrote_at() -> None:
    record = _OwnerRecord("owner-uid-1")
    assert record.owner_uid == "owner-uid-1"
    record.wrote_at(GR_POD, "5")
    assert record.versions[GR_POD] == "5"
    record.wrote_at(GR_POD, "10")
    assert record.versions[GR_POD] == "10"
    # An older write does not move the version back.
    record.wrote_at(GR_POD, "8")
    assert record.versions[GR_POD] == "10"
    record.wrote_at(GR_DS, "1")
    assert record.versions == {GR_POD: "10", GR_DS: "1"}


def test_owner_record_is_ready() -> None:
    reads = {GR_POD: "", GR_DS: ""}

    def reader(gr: GroupResource) -> Callable[[], str]:
        return lambda: reads[gr]

    stores = {gr: reader(gr) for gr in reads}
    record = _OwnerRecord("owner-uid-1")

    record.ensure_ready(stores)  # no writes
    record.wrote_at(GR_POD, "10")
    record.ensure_ready(stores)  # a write, nothing read yet: not blocking

    reads[GR_POD] = "5"
    with pytest.raises(ConsistencyError) as info:
        record.ensure_ready(stores)
    assert (info.value.read_rv, info.value.wrote_rv, info.value.group_resource) == (
        "5",
        "10",
        GR_POD,
    )
    reads[GR_POD] = "10"
    record.ensure_ready(stores)
    reads[GR_POD] = "15"
    record.ensure_ready(stores)

    record.wrote_at(GR_DS, "100")
    reads[GR_DS] = "50"
    with pytest.raises(ConsistencyError):
        record.ensure_ready(stores)
    reads[GR_DS] = "100"
    record.ensure_ready(stores)


def test_malformed_versions_do_not_block() -> None:
    record = _OwnerRecord("u")
    record.wrote_at(GR_POD, "010")
    record.ensure_ready({GR_POD: lambda: "1"})
    record.wrote_at(GR_DS, "7")
    record.ensure_ready({GR_DS: lambda: "abc"})


def test_consistency_store_clear() -> None:
    store = _RealConsistencyStore({GR_POD: lambda: "1"})
    owner = ("ns", "job")
    store.wrote_at(owner, "uid-1", GR_POD, "5")
    # Another UID does not clear the record; an empty UID does.
    store.clear(owner, "uid-2")
    with pytest.raises(ConsistencyError):
        store.ensure_ready(owner)
    store.clear(owner, "")
    store.ensure_ready(owner)
    # A ready record is dropped.
    store.wrote_at(owner, "uid-1", GR_POD, "1")
    store.ensure_ready(owner)
    assert owner not in store._writes


def test_sync_waits_for_the_cache_to_see_the_status_write() -> None:
    job = new_job(1, 1, 6, "NonIndexed")
    with JobHarness(job, capture_status=False) as h:
        store = h.controller.consistency_store
        assert isinstance(store, _RealConsistencyStore), "StaleControllerConsistencyJob is on"
        read_rv = {"rv": ""}
        store._stores[JOB_GROUP_RESOURCE] = lambda: read_rv["rv"]
        store._stores[POD_GROUP_RESOURCE] = lambda: ""
        h.add_job(job)
        h.sync_ok(job)
        written = h.client.batch_v1().jobs("default").get(job.metadata.name)
        assert written.status is not None and written.status.active == 1
        written_rv = written.metadata.resource_version

        # The cache reports an older version: the next sync is refused.
        read_rv["rv"] = str(int(written_rv) - 1)
        metrics.job_requeue_skips.clear()
        result = h.sync(job)
        assert isinstance(result.error, ConsistencyError)
        assert metrics.job_requeue_skips.labels("batch", "jobs")._value.get() == 1

        read_rv["rv"] = written_rv
        h.sync_ok(job)


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
