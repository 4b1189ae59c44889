"""Port of the job_controller_test.go tests that run the controller with informers.

TestPastDeadlineJobFinished, TestWatchJobs, TestWatchPods, TestWatchOrphanPods,
TestSyncOrphanPod, TestFinalizersRemovedExpectations, TestFinalizerCleanup and
TestSyncOrphanPodsBySelectorRetryOnFailure. Informers run over a FakeClientset; the
controller's queues run on a FakeClock that the tests step. The waits below are bounded
real-time waits for background threads, never sleeps that carry meaning.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1Job,
    V1JobCondition,
    V1JobStatus,
    V1LabelSelector,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
)

from jobctl.controller.controller_utils import FakePodControl
from jobctl.informers.store import split_meta_namespace_key
from jobctl.job.job_controller import (
    ORPHAN_POD_KEY_KIND_NAME,
    ORPHAN_POD_KEY_KIND_SELECTOR,
    OrphanPodKey,
)
from jobctl.job.tracking_utils import has_job_tracking_finalizer
from jobctl.k8s_libs.clock import FakeClock
from jobctl.k8s_libs.labels import label_selector_as_selector
from jobctl.testing.builders import build_pod, new_job, new_job_with_name, new_pod_list
from jobctl.testing.fake_clientset import FakeWatcher
from jobctl.testing.job_harness import FakeJobExpectations, JobHarness, z

WAIT = 5.0


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT, step: Any = None) -> bool:
    """Poll ``predicate`` for up to ``timeout`` real seconds; ``step()`` runs between polls."""
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.daemon = True
    timer.start()
    try:
        pause = threading.Event()
        while not deadline.is_set():
            if predicate():
                return True
            if step is not None:
                step()
            pause.wait(0.005)
        return predicate()
    finally:
        timer.cancel()


class Live:
    """Runs informers and the controller in threads until ``stop``."""

    def __init__(self, h: JobHarness) -> None:
        self.h = h
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def go(self, fn: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def start_factory(self) -> None:
        self.h.factory.start(self.stop)
        self.h.factory.wait_for_cache_sync(self.stop)

    def run_pod_informer(self) -> None:
        informer = self.h.factory.core().v1().pods().informer()
        self.go(informer.run, self.stop)
        assert wait_until(informer.has_synced)

    def run_controller(self, workers: int = 1) -> None:
        self.go(self.h.controller.run, self.stop, workers)

    def close(self) -> None:
        self.stop.set()
        self.h.factory.shutdown()
        for t in self.threads:
            t.join(WAIT)
        self.h.close()


@pytest.fixture
def live_factory() -> Iterator[Callable[[JobHarness], Live]]:
    lives: list[Live] = []

    def make(h: JobHarness) -> Live:
        live = Live(h)
        lives.append(live)
        return live

    yield make
    for live in lives:
        live.close()


def _get_condition(job: V1Job, cond_type: str, status: str, reason: str) -> bool:
    """Port of getCondition."""
    return any(
        c.type == cond_type and c.status == status and c.reason == reason
        for c in job.status.conditions or []
    )


PAST_DEADLINE_JOB_FINISHED_CASES: list[dict[str, Any]] = [
    dict(
        name="New job created without start time being set", set_start_time=False, job_name="job1"
    ),
    dict(name="New job created with start time being set", set_start_time=True, job_name="job2"),
]


def test_past_deadline_job_finished(live_factory: Callable[[JobHarness], Live]) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    h = JobHarness(clock=clock, fake_pod_control=False, capture_status=False)
    h.controller.expectations = FakeJobExpectations(True, lambda: None)
    live = live_factory(h)
    live.start_factory()
    live.run_controller(1)
    jobs = h.client.batch_v1().jobs("default")

    for tc in PAST_DEADLINE_JOB_FINISHED_CASES:
        job = new_job_with_name(tc["job_name"], 1, 1, 6, "NonIndexed")
        job.spec.active_deadline_seconds = 1
        if tc["set_start_time"]:
            job.status = z(V1JobStatus, start_time=clock.now())
        jobs.create(job)

        job_name: str = tc["job_name"]

        def started(name: str = job_name) -> bool:
            return (jobs.get(name).status or V1JobStatus()).start_time is not None

        assert wait_until(started), tc["name"]

        def failed(name: str = job_name) -> bool:
            j = jobs.get(name)
            if _get_condition(j, "Failed", "True", "DeadlineExceeded"):
                elapsed = h.clock.since(j.status.start_time)
                assert elapsed >= j.spec.active_deadline_seconds, (
                    "DeadlineExceeded earlier than expected"
                )
                return True
            return False

        assert wait_until(failed, step=lambda: h.step(0.1)), tc["name"]


def test_watch_jobs(live_factory: Callable[[JobHarness], Live]) -> None:
    h = JobHarness()
    fake_watch = FakeWatcher()
    h.client.prepend_watch_reactor("jobs", lambda action: (True, fake_watch, None))
    test_job = z(V1Job, metadata=z(V1ObjectMeta, namespace="bar", name="foo"))
    received = threading.Event()
    problems: list[str] = []

    def sync_handler(key: str) -> None:
        try:
            ns, name = split_meta_namespace_key(key)
            job = h.controller.job_lister.jobs(ns).get(name)
            if (job.metadata.namespace, job.metadata.name) != ("bar", "foo"):
                problems.append(f"got {job.metadata}")
        except Exception as err:
            problems.append(f"expected to find job under key {key}: {err}")
        finally:
            received.set()

    h.controller.sync_handler = sync_handler
    live = live_factory(h)
    live.start_factory()
    live.run_controller(1)

    fake_watch.add(test_job)

    assert received.wait(WAIT), "job did not reach the sync handler"
    assert problems == []


def test_watch_pods(live_factory: Callable[[JobHarness], Live]) -> None:
    test_job = new_job(2, 2, 6, "NonIndexed")
    h = JobHarness(test_job)
    fake_watch = FakeWatcher()
    h.client.prepend_watch_reactor("pods", lambda action: (True, fake_watch, None))
    h.add_job(test_job)
    received = threading.Event()
    got_keys: list[str] = []

    def sync_handler(key: str) -> None:
        got_keys.append(key)
        received.set()

    h.controller.sync_handler = sync_handler
    live = live_factory(h)
    live.run_pod_informer()
    live.run_controller(1)

    test_pod = new_pod_list(1, "Running", test_job)[0]
    test_pod.status.phase = "Failed"
    fake_watch.add(test_pod)

    # Pod events are batched: step the controller's clock past the batch period.
    assert wait_until(received.is_set, step=lambda: h.step(0.1)), "pod did not reach syncHandler"
    assert got_keys[0] == f"{test_job.metadata.namespace}/{test_job.metadata.name}"


def _finished_job() -> V1Job:
    j = new_job(2, 2, 6, "NonIndexed")
    j.status = z(V1JobStatus, conditions=[z(V1JobCondition, type="Complete", status="True")])
    return j


WATCH_ORPHAN_PODS_CASES: dict[str, dict[str, Any]] = {
    "job_does_not_exist": dict(job=new_job(2, 2, 6, "NonIndexed")),
    "orphan": dict(),
    "job_finished": dict(job=_finished_job(), in_cache=True),
}


def test_watch_orphan_pods(live_factory: Callable[[JobHarness], Live]) -> None:
    h = JobHarness(fake_pod_control=False)
    live = live_factory(h)
    live.run_pod_informer()
    live.run_controller(1)
    pods = h.client.core_v1().pods("default")

    for name, tc in WATCH_ORPHAN_PODS_CASES.items():
        job = tc.get("job")
        if tc.get("in_cache"):
            h.job_indexer.add(job)
        pb = build_pod().name(name).deletion_timestamp().tracking_finalizer()
        if job is not None:
            pb = pb.job(job)
        orphan_pod = pods.create(pb.pod)

        pod_name: str = orphan_pod.metadata.name

        def finalizer_removed(n: str = pod_name) -> bool:
            return not has_job_tracking_finalizer(pods.get(n))

        assert wait_until(finalizer_removed), f"{name}: waiting for the finalizer removal"
        if tc.get("in_cache"):
            h.job_indexer.delete(job)


def _owner(kind: str, api_version: str, name: str, controller: bool) -> V1OwnerReference:
    return V1OwnerReference(
        api_version=api_version,
        kind=kind,
        name=name,
        uid="111",
        controller=True if controller else None,
        block_owner_deletion=True if controller else None,
    )


def _job_j(finished: bool = False) -> V1Job:
    j = _finished_job() if finished else new_job(2, 2, 6, "NonIndexed")
    j.metadata.uid = "111"
    j.metadata.name = "j"
    return j


SYNC_ORPHAN_POD_CASES: dict[str, dict[str, Any]] = {
    "controlled_by_existing_running_job": dict(
        owner=_owner("Job", "batch/v1", "j", True),
        job=_job_j(),
        in_cache=True,
        want_finalizer_removed=False,
    ),
    "controlled_by_existing_finished_job": dict(
        owner=_owner("Job", "batch/v1", "j", True),
        job=_job_j(finished=True),
        in_cache=True,
        want_finalizer_removed=True,
    ),
    "controlled_by_non_existing_job": dict(
        owner=_owner("Job", "batch/v1", "j", True), want_finalizer_removed=True
    ),
    "controlled_by_cronjob": dict(
        owner=_owner("CronJob", "batch/v1", "cj", True), want_finalizer_removed=False
    ),
    "not_controlled": dict(want_finalizer_removed=True),
    "controlled_by_custom_crd": dict(
        owner=_owner("Job", "example/v1", "job", True), want_finalizer_removed=False
    ),
    "owned_by_existing_running_job": dict(
        owner=_owner("Job", "batch/v1", "j", False),
        job=_job_j(),
        in_cache=True,
        want_finalizer_removed=True,
    ),
    "owned_by_custom_crd": dict(
        owner=_owner("Job", "example/v1", "job", False), want_finalizer_removed=True
    ),
    "orphan_pods_by_label_selector": dict(
        pod_selector={"app": "test"}, want_finalizer_removed=True
    ),
}


@pytest.mark.parametrize(
    "case", list(SYNC_ORPHAN_POD_CASES.values()), ids=list(SYNC_ORPHAN_POD_CASES)
)
def test_sync_orphan_pod(
    request: pytest.FixtureRequest,
    live_factory: Callable[[JobHarness], Live],
    case: dict[str, Any],
) -> None:
    name = request.node.callspec.id
    h = JobHarness(fake_pod_control=False)
    live = live_factory(h)
    live.run_pod_informer()
    live.run_controller(1)
    if case.get("in_cache"):
        h.job_indexer.add(case["job"].model_copy(deep=True))
    pb = build_pod().name(name).deletion_timestamp().tracking_finalizer()
    if case.get("owner") is not None:
        pb = pb.owner(case["owner"])
    orphan_key = OrphanPodKey(
        ORPHAN_POD_KEY_KIND_NAME, pb.pod.metadata.namespace or "", pb.pod.metadata.name
    )
    if case.get("pod_selector") is not None:
        pb = pb.labels(case["pod_selector"])
        selector = label_selector_as_selector(V1LabelSelector(match_labels=case["pod_selector"]))
        orphan_key = OrphanPodKey(
            ORPHAN_POD_KEY_KIND_SELECTOR, pb.pod.metadata.namespace or "", selector.string()
        )
    pods = h.client.core_v1().pods("default")
    orphan_pod = pods.create(pb.pod)
    # Sync from a cache that already holds the pod.
    assert wait_until(lambda: _cached(h, orphan_pod) is not None)

    h.controller.sync_orphan_pod(orphan_key)

    if case["want_finalizer_removed"]:
        assert wait_until(lambda: not has_job_tracking_finalizer(pods.get(name)))
    else:
        assert has_job_tracking_finalizer(pods.get(name)), "unexpected removal of the finalizer"


def _cached(h: JobHarness, pod: V1Pod) -> V1Pod | None:
    obj, ok = h.pod_indexer.get_by_key(f"{pod.metadata.namespace}/{pod.metadata.name}")
    return obj if ok else None


def test_finalizers_removed_expectations(live_factory: Callable[[JobHarness], Live]) -> None:
    h = JobHarness(pod_control=FakePodControl(err=RuntimeError("fake pod controller error")))
    manager = h.controller
    job = h.add_job(new_job(2, 2, 6, "NonIndexed"))
    pods = new_pod_list(2, "Succeeded", job) + new_pod_list(2, "Failed", job)
    uids = set()
    for p in pods:
        h.client.tracker().add(p)
        h.pod_indexer.add(p)
        uids.add(p.metadata.uid)
    job_key = h.key(job)

    result = h.sync(job)
    assert result.error is not None, "missing error as the pod control fails"
    assert manager.finalizer_expectations.get_expected_uids(job_key) == set()

    # Without failures the removals are expected.
    h.pod_control.err = None
    h.sync_ok(job)
    assert manager.finalizer_expectations.get_expected_uids(job_key) == uids

    live = live_factory(h)
    live.run_pod_informer()
    # The sync after the cache filled keeps the expectations.
    assert manager.finalizer_expectations.get_expected_uids(job_key) == uids

    tracker = h.client.tracker()
    update = pods[0].model_copy(deep=True)
    update.metadata.finalizers = None
    update.metadata.resource_version = "1"
    tracker.update("pods", update, update.metadata.namespace)

    update = pods[1].model_copy(deep=True)
    update.metadata.finalizers = None
    update.metadata.deletion_timestamp = datetime.now(UTC)
    update.metadata.resource_version = "1"
    tracker.update("pods", update, update.metadata.namespace)

    # Keep the finalizer.
    update = pods[2].model_copy(deep=True)
    update.metadata.deletion_timestamp = datetime.now(UTC)
    update.metadata.resource_version = "1"
    tracker.update("pods", update, update.metadata.namespace)

    tracker.delete("pods", pods[3].metadata.namespace, pods[3].metadata.name)

    want = {pods[2].metadata.uid}
    assert wait_until(lambda: manager.finalizer_expectations.get_expected_uids(job_key) == want)


def test_finalizer_cleanup(live_factory: Callable[[JobHarness], Live]) -> None:
    h = JobHarness(fake_pod_control=False, capture_status=False)
    manager = h.controller
    live = live_factory(h)
    live.start_factory()
    live.run_controller(1)

    jobs = h.client.batch_v1().jobs("default")
    job = jobs.create(new_job(1, 1, 1, "NonIndexed"))
    assert wait_until(lambda: _cached_job(h, job) is not None)

    selector = label_selector_as_selector(job.spec.selector)
    found: list[V1Pod] = []

    def pod_created() -> bool:
        found[:] = manager.pod_store.pods(job.metadata.namespace).list(selector)
        return len(found) > 0

    assert wait_until(pod_created), "waiting for the Job's pod"

    job.status = job.status or z(V1JobStatus)
    job.status.conditions = [
        *(job.status.conditions or []),
        z(V1JobCondition, type="Complete", status="True"),
    ]
    jobs.update_status(job)

    pods = h.client.core_v1().pods(found[0].metadata.namespace)
    assert wait_until(lambda: not has_job_tracking_finalizer(pods.get(found[0].metadata.name)))


def _cached_job(h: JobHarness, job: V1Job) -> V1Job | None:
    obj, ok = h.job_indexer.get_by_key(f"{job.metadata.namespace}/{job.metadata.name}")
    return obj if ok else None


def test_sync_orphan_pods_by_selector_retry_on_failure(
    live_factory: Callable[[JobHarness], Live],
) -> None:
    pods_count = 3
    h = JobHarness()
    manager = h.controller
    fake_pod_control = h.pod_control
    live = live_factory(h)
    live.run_pod_informer()

    match_labels = {"app": "test"}
    selector = label_selector_as_selector(V1LabelSelector(match_labels=match_labels))
    pods = [
        build_pod()
        .name(f"pod{i + 1}")
        .ns("default")
        .labels(match_labels)
        .deletion_timestamp()
        .tracking_finalizer()
        .pod
        for i in range(pods_count)
    ]
    for pod in pods:
        h.pod_indexer.add(pod)
    for pod in pods:
        h.client.core_v1().pods("default").create(pod)
    orphan_key = OrphanPodKey(ORPHAN_POD_KEY_KIND_SELECTOR, "default", selector.string())

    fake_pod_control.err = RuntimeError("server temporarily unavailable")
    # A failure on some pods is not an error of the sync itself.
    manager.sync_orphan_pod(orphan_key)
    assert len(fake_pod_control.patches) == pods_count

    fake_pod_control.patches = []
    fake_pod_control.err = None
    # Let the per-pod retry backoff expire.
    h.step(2.0)

    for _ in range(pods_count):
        key, quit_ = manager.orphan_queue.get()
        assert not quit_
        assert key.kind == ORPHAN_POD_KEY_KIND_NAME
        manager.orphan_queue.done(key)
        manager.sync_orphan_pod(key)

    assert len(fake_pod_control.patches) == pods_count
    for patch in fake_pod_control.patches:
        text = patch.decode()
        assert "$deleteFromPrimitiveList/finalizers" in text
        assert "batch.kubernetes.io/job-tracking" in text
