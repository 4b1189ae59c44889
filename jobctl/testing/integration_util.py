"""Helpers for the integration tests that run against a real kube-apiserver.

Ports of the helpers at the end of upstream ``test/integration/job/job_test.go``
(``setJobPodsPhase``, ``setJobPhaseForIndex``, ``validateJobPodsStatus``, ...) plus the
in-process controller runner (``startJobControllerAndWaitForCaches``) and a runner for
upstream kube-controller-manager controllers (the garbage collector). Waits poll with a
bounded timeout; nothing here sleeps to let time pass for its own sake.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import (
    V1Container,
    V1ContainerState,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1Job,
    V1JobSpec,
    V1JobStatus,
    V1ObjectMeta,
    V1Pod,
    V1PodCondition,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
)

from jobctl.client import errors
from jobctl.client.interface import DeleteOptions, Interface, ListOptions
from jobctl.k8s_libs.api import (
    CONDITION_TRUE,
    JOB_COMPLETE,
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_FAILED,
    JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_TRACKING_FINALIZER,
    POD_FAILED,
    POD_PENDING,
    POD_READY,
    POD_RUNNING,
    POD_SUCCEEDED,
)

log = logging.getLogger(__name__)

# wait.ForeverTestTimeout: the bound upstream puts on every wait.
FOREVER_TEST_TIMEOUT = 30.0
POLL_INTERVAL = 0.1


class WaitTimeoutError(AssertionError):
    """A bounded wait ran out; the message says what was last seen."""


def wait_for(
    predicate: Callable[[], bool],
    timeout: float = FOREVER_TEST_TIMEOUT,
    interval: float = POLL_INTERVAL,
    message: str | Callable[[], str] = "condition not met",
) -> None:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (then raise).

    Like ``wait.PollUntilContextTimeout(..., immediate=true, ...)``; API errors raised by
    the predicate count as "not yet" until the deadline, then the last one is reported.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            if predicate():
                return
            last_error = None
        except (errors.StatusError, errors.APIConnectionError) as err:
            last_error = err
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            if last_error is not None:
                text = f"{text} (last error: {last_error})"
            raise WaitTimeoutError(f"timed out after {timeout:g}s: {text}")
        time.sleep(interval)


def _now() -> datetime:
    return datetime.now(UTC)


# ---- objects ---------------------------------------------------------------------------


def new_job(
    template: V1PodTemplateSpec | None = None, name: str | None = None, **spec: Any
) -> V1Job:
    """A Job with the given spec fields (snake_case, as the model's) and an empty template."""
    return V1Job(
        metadata=V1ObjectMeta(name=name),
        spec=V1JobSpec(
            template=template or V1PodTemplateSpec(spec=V1PodSpec(containers=[])), **spec
        ),
    )


def create_job_with_defaults(client: Interface, namespace: str, job: V1Job) -> V1Job:
    """Port of createJobWithDefaults: fill name, container and restart policy, create."""
    job = job.model_copy(deep=True)
    if job.metadata is None:
        job.metadata = V1ObjectMeta()
    if not job.metadata.name:
        job.metadata.generate_name = "test-job"
    pod_spec = job.spec.template.spec
    if pod_spec is None:
        pod_spec = job.spec.template.spec = V1PodSpec(containers=[])
    if not pod_spec.containers:
        pod_spec.containers = [V1Container(name="foo", image="bar")]
    if not pod_spec.restart_policy:
        pod_spec.restart_policy = "Never"
    return client.batch_v1().jobs(namespace).create(job)


def is_controlled_by(obj: Any, owner: Any) -> bool:
    """Port of metav1.IsControlledBy."""
    uid = owner.metadata.uid
    return any(ref.controller and ref.uid == uid for ref in (obj.metadata.owner_references or []))


def has_job_tracking_finalizer(obj: Any) -> bool:
    """Port of hasJobTrackingFinalizer."""
    return JOB_TRACKING_FINALIZER in (obj.metadata.finalizers or [])


def pod_phase(pod: V1Pod) -> str:
    return str(pod.status.phase) if pod.status is not None and pod.status.phase else ""


def is_pod_terminal(pod: V1Pod) -> bool:
    return pod_phase(pod) in (POD_SUCCEEDED, POD_FAILED)


def is_pod_ready(pod: V1Pod) -> bool:
    conditions = pod.status.conditions if pod.status is not None else None
    return any(c.type == POD_READY and c.status == CONDITION_TRUE for c in conditions or [])


def get_completion_index(lookup: dict[str, str] | None) -> int:
    """Port of getCompletionIndex: the completion index in labels or annotations."""
    if not lookup or JOB_COMPLETION_INDEX_ANNOTATION not in lookup:
        raise KeyError(f"key {JOB_COMPLETION_INDEX_ANNOTATION} not found")
    return int(lookup[JOB_COMPLETION_INDEX_ANNOTATION])


def get_index_failure_count(pod: V1Pod) -> int:
    """Port of getIndexFailureCount."""
    annotations = pod.metadata.annotations or {}
    if JOB_INDEX_FAILURE_COUNT_ANNOTATION not in annotations:
        raise KeyError(f"annotation {JOB_INDEX_FAILURE_COUNT_ANNOTATION} not found")
    return int(annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION])


def terminated_container_status(exit_code: int = 0, name: str = "") -> V1ContainerStatus:
    """A container status as upstream's tests write it: only a terminated state.

    The model insists on the fields Go would send as zero values, so they are spelled out.
    """
    return V1ContainerStatus(
        name=name,
        image="",
        image_id="",
        ready=False,
        restart_count=0,
        state=V1ContainerState(
            terminated=V1ContainerStateTerminated(exit_code=exit_code, finished_at=_now())
        ),
    )


# ---- pods of a Job ---------------------------------------------------------------------


def list_pods(client: Interface, namespace: str) -> list[V1Pod]:
    return list(client.core_v1().pods(namespace).list(ListOptions()).items)


def get_job_pods(
    client: Interface, job: V1Job, keep: Callable[[V1Pod], bool] = lambda _p: True
) -> list[V1Pod]:
    """Port of getJobPods (the filter sees the whole pod)."""
    return [
        p for p in list_pods(client, job.metadata.namespace) if is_controlled_by(p, job) and keep(p)
    ]


class PodUpdateError(Exception):
    """Some pod status updates failed; ``updated`` says how many went through."""

    def __init__(self, updated: int, message: str) -> None:
        super().__init__(message)
        self.updated = updated


def update_pod_statuses(client: Interface, updates: Sequence[V1Pod]) -> int:
    """Port of updatePodStatuses: update_status on every pod concurrently.

    Returns how many succeeded; raises ``PodUpdateError`` if any failed.
    """
    if not updates:
        return 0

    def one(pod: V1Pod) -> BaseException | None:
        try:
            client.core_v1().pods(pod.metadata.namespace).update_status(pod)
        except Exception as err:
            return err
        return None

    with ThreadPoolExecutor(max_workers=min(32, len(updates))) as pool:
        results = list(pool.map(one, updates))
    failures = [r for r in results if r is not None]
    updated = len(results) - len(failures)
    if failures:
        raise PodUpdateError(updated, f"updating Pod status: {failures[0]}")
    return updated


def update_job_pods_status(
    client: Interface, job: V1Job, op: Callable[[V1Pod], bool], count: int
) -> int:
    """Port of updateJobPodsStatus: apply ``op`` to ``count`` non-terminal pods of the Job."""
    updates: list[V1Pod] = []
    for pod in list_pods(client, job.metadata.namespace):
        if len(updates) == count:
            break
        if is_controlled_by(pod, job) and not is_pod_terminal(pod):
            if not op(pod):
                continue
            updates.append(pod)
    try:
        successful = update_pod_statuses(client, updates)
    except PodUpdateError as err:
        raise PodUpdateError(
            err.updated, f"{err}; couldn't set status on {count - err.updated}"
        ) from err
    if successful != count:
        raise PodUpdateError(successful, f"couldn't set phase on {count - successful} Job pods")
    return successful


def _set_phase(pod: V1Pod, phase: str) -> None:
    if pod.status is None:
        pod.status = V1PodStatus()
    pod.status.phase = phase
    if phase in (POD_FAILED, POD_SUCCEEDED):
        pod.status.container_statuses = [terminated_container_status()]


def set_job_pods_phase(client: Interface, job: V1Job, phase: str, count: int) -> int:
    """Port of setJobPodsPhase: move ``count`` active pods of the Job to ``phase``."""

    def op(pod: V1Pod) -> bool:
        _set_phase(pod, phase)
        return True

    return update_job_pods_status(client, job, op, count)


def set_job_pods_ready(client: Interface, job: V1Job, count: int) -> int:
    """Port of setJobPodsReady: add a Ready=True condition to ``count`` pods."""

    def op(pod: V1Pod) -> bool:
        if is_pod_ready(pod):
            return False
        if pod.status is None:
            pod.status = V1PodStatus()
        pod.status.conditions = [
            *(pod.status.conditions or []),
            V1PodCondition(type=POD_READY, status=CONDITION_TRUE),
        ]
        return True

    return update_job_pods_status(client, job, op, count)


def set_job_phase_for_index(client: Interface, job: V1Job, phase: str, index: int) -> None:
    """Port of setJobPhaseForIndex: set ``phase`` on the active pod with ``index``."""
    for pod in list_pods(client, job.metadata.namespace):
        if not is_controlled_by(pod, job) or is_pod_terminal(pod):
            continue
        try:
            pod_index = get_completion_index(pod.metadata.annotations)
        except (KeyError, ValueError):
            continue
        if pod_index == index:
            _set_phase(pod, phase)
            client.core_v1().pods(pod.metadata.namespace).update_status(pod)
            return
    raise LookupError(f"no pod matching index {index} found")


def get_job_pods_for_index(
    client: Interface, job: V1Job, index: int, keep: Callable[[V1Pod], bool]
) -> list[V1Pod]:
    """Port of getJobPodsForIndex."""
    result = []
    for pod in get_job_pods(client, job, keep):
        try:
            if get_completion_index(pod.metadata.annotations) == index:
                result.append(pod)
        except (KeyError, ValueError):
            continue
    return result


def get_job_pod_for_index(
    client: Interface, job: V1Job, index: int, keep: Callable[[V1Pod], bool]
) -> V1Pod:
    """Port of getJobPodForIndex."""
    pods = get_job_pods_for_index(client, job, index, keep)
    if not pods:
        raise LookupError(f"Pod not found for index: {index}")
    return pods[0]


def get_active_pod_for_index(client: Interface, job: V1Job, index: int) -> V1Pod:
    """Port of getActivePodForIndex."""
    return get_job_pod_for_index(client, job, index, lambda p: not is_pod_terminal(p))


def update_job(client: Interface, job: V1Job, mutate: Callable[[V1Job], None]) -> V1Job:
    """Port of updateJob: get, mutate and update, retrying on conflicts."""
    jobs = client.batch_v1().jobs(job.metadata.namespace)
    for _attempt in range(10):
        current = jobs.get(job.metadata.name)
        mutate(current)
        try:
            return jobs.update(current)
        except errors.StatusError as err:
            if not errors.is_conflict(err):
                raise
    raise AssertionError(f"could not update Job {job.metadata.name}: conflicts")


def update_pod(client: Interface, pods: Iterable[V1Pod], mutate: Callable[[V1Pod], None]) -> None:
    """Port of updatePod: get, mutate and update each pod, retrying on conflicts."""
    for pod in pods:
        api = client.core_v1().pods(pod.metadata.namespace)
        for _attempt in range(10):
            try:
                current = api.get(pod.metadata.name)
            except errors.StatusError as err:
                if errors.is_not_found(err):
                    break
                raise
            mutate(current)
            try:
                api.update(current)
                break
            except errors.StatusError as err:
                if errors.is_not_found(err):
                    break
                if not errors.is_conflict(err):
                    raise


def remove_pods_finalizers(client: Interface, namespace: str, finalizers: Sequence[str]) -> None:
    """Port of removePodsFinalizers."""
    drop = set(finalizers)

    def mutate(pod: V1Pod) -> None:
        pod.metadata.finalizers = [f for f in pod.metadata.finalizers or [] if f not in drop]

    update_pod(client, list_pods(client, namespace), mutate)


def delete_pods(client: Interface, namespace: str) -> None:
    """Port of deletePods (DeleteCollection becomes one delete per pod)."""
    api = client.core_v1().pods(namespace)
    for pod in list_pods(client, namespace):
        with contextlib.suppress(errors.StatusError):
            api.delete(pod.metadata.name)


def fail_terminating_pods(client: Interface, namespace: str) -> None:
    """Port of failTerminatingPods: mark every pod with a deletion timestamp Failed."""
    terminating = []
    for pod in list_pods(client, namespace):
        if pod.metadata.deletion_timestamp is not None:
            if pod.status is None:
                pod.status = V1PodStatus()
            pod.status.phase = POD_FAILED
            terminating.append(pod)
    update_pod_statuses(client, terminating)


def clean_up(client: Interface, job: V1Job, finalizers: Sequence[str]) -> None:
    """Port of cleanUp: drop the finalizers, delete every pod, then the Job (background)."""
    namespace = job.metadata.namespace
    remove_pods_finalizers(client, namespace, finalizers)
    api = client.core_v1().pods(namespace)
    for pod in list_pods(client, namespace):
        with contextlib.suppress(errors.StatusError):
            api.delete(pod.metadata.name, DeleteOptions(grace_period_seconds=0))
    with contextlib.suppress(errors.StatusError):
        client.batch_v1().jobs(namespace).delete(
            job.metadata.name, DeleteOptions(propagation_policy="Background")
        )


# ---- validations -----------------------------------------------------------------------


@dataclass
class PodsByStatus:
    """Port of podsByStatus: the status counters upstream's tests compare."""

    active: int = 0
    ready: int | None = 0
    succeeded: int = 0
    failed: int = 0
    terminating: int | None = 0


def pods_by_status_of(job: V1Job) -> PodsByStatus:
    status = job.status
    if status is None:
        return PodsByStatus(ready=None, terminating=None)
    return PodsByStatus(
        active=status.active or 0,
        ready=status.ready,
        succeeded=status.succeeded or 0,
        failed=status.failed or 0,
        terminating=status.terminating,
    )


def get_job(client: Interface, job: V1Job) -> V1Job:
    return client.batch_v1().jobs(job.metadata.namespace).get(job.metadata.name)


def describe_job(client: Interface, job: V1Job) -> str:
    """One line for failure messages: the Job's counters and conditions, its pods' phases."""
    try:
        latest = get_job(client, job)
        pods = get_job_pods(client, job)
    except Exception as err:
        return f"(cannot describe Job {job.metadata.name}: {err})"
    status = latest.status
    conditions = [(c.type, c.status, c.reason) for c in (status and status.conditions) or []]
    phases: dict[str, int] = {}
    for pod in pods:
        key = pod_phase(pod) + ("+finalizer" if has_job_tracking_finalizer(pod) else "")
        phases[key] = phases.get(key, 0) + 1
    counters = pods_by_status_of(latest)
    return f"status {counters}, conditions {conditions}, pods {phases}"


def validate_jobs_pods_status_only(
    client: Interface,
    job: V1Job,
    desired: PodsByStatus,
    timeout: float = FOREVER_TEST_TIMEOUT,
    status_type: str = "",
) -> None:
    """Port of validateJobsPodsStatusOnly(WithTimeout): wait for the status counters."""
    seen: list[PodsByStatus] = [PodsByStatus()]

    def check() -> bool:
        seen[0] = pods_by_status_of(get_job(client, job))
        return seen[0] == desired

    wait_for(
        check,
        timeout,
        message=lambda: f"Job {status_type} status: want {desired}, got {seen[0]}",
    )


def validate_job_pods_status(
    client: Interface, job: V1Job, desired: PodsByStatus, status_type: str = ""
) -> None:
    """Port of validateJobPodsStatus: counters, then the active pods and their finalizers."""
    validate_jobs_pods_status_only(client, job, desired, status_type=status_type)
    active: list[V1Pod] = []

    def check() -> bool:
        nonlocal active
        active = get_job_pods(client, job, lambda p: pod_phase(p) in (POD_PENDING, POD_RUNNING))
        return len(active) == desired.active

    wait_for(
        check,
        5.0,
        message=lambda: f"found {len(active)} active Pods, want {desired.active}",
    )
    missing = [p.metadata.name for p in active if not has_job_tracking_finalizer(p)]
    assert not missing, f"active pods without the tracking finalizer: {missing}"


def comparable_job_status(status: Any) -> dict[str, Any]:
    """The parts of a JobStatus upstream's validateJobStatus compares.

    Like its cmp options: start/completion time and uncountedTerminatedPods are ignored,
    and conditions are compared on type, status and reason only.
    """
    if status is None:
        return comparable_job_status(V1JobStatus())
    return {
        "active": status.active or 0,
        "ready": status.ready,
        "succeeded": status.succeeded or 0,
        "failed": status.failed or 0,
        "terminating": status.terminating,
        "completed_indexes": status.completed_indexes or "",
        "failed_indexes": status.failed_indexes,
        "conditions": [(c.type, c.status, c.reason or "") for c in status.conditions or []],
    }


def validate_job_status(
    client: Interface, job: V1Job, want: V1JobStatus, status_type: str = ""
) -> None:
    """Port of validateJobStatus: wait for the Job status to match ``want``."""
    wanted = comparable_job_status(want)
    got: list[dict[str, Any]] = [{}]

    def check() -> bool:
        got[0] = comparable_job_status(get_job(client, job).status)
        return got[0] == wanted

    wait_for(
        check,
        message=lambda: f"Job {status_type} status: want {wanted}, got {got[0]}",
    )


def validate_finished_pods_no_finalizer(client: Interface, job: V1Job) -> None:
    """Port of validateFinishedPodsNoFinalizer (checked as upstream does it)."""
    bad = [
        p.metadata.name
        for p in get_job_pods(client, job)
        if pod_phase(p) in (POD_PENDING, POD_RUNNING) and has_job_tracking_finalizer(p)
    ]
    assert not bad, f"finished pods still have a tracking finalizer: {bad}"


def validate_no_finished_pod_has_finalizer(client: Interface, job: V1Job) -> None:
    """Stricter than upstream's check: no terminal pod of the Job keeps the finalizer."""
    leftover: list[str] = []

    def check() -> bool:
        nonlocal leftover
        leftover = [
            p.metadata.name
            for p in get_job_pods(client, job)
            if is_pod_terminal(p) and has_job_tracking_finalizer(p)
        ]
        return not leftover

    wait_for(check, message=lambda: f"terminal pods with the tracking finalizer: {leftover}")


def validate_indexed_job_pods(
    client: Interface,
    job: V1Job,
    want_active: Iterable[int] | None,
    want_completed: str,
    want_failed: str | None = None,
) -> None:
    """Port of validateIndexedJobPods: indexes in status, and index/hostname of active pods."""
    updated = get_job(client, job)
    status = updated.status
    assert (status.completed_indexes or "") == want_completed, (
        f"got completed indexes {status.completed_indexes!r}, want {want_completed!r}"
    )
    assert status.failed_indexes == want_failed, (
        f"got failed indexes {status.failed_indexes!r}, want {want_failed!r}"
    )
    got_active: set[int] = set()
    for pod in get_job_pods(client, job, lambda p: pod_phase(p) in (POD_PENDING, POD_RUNNING)):
        annotation_ix = get_completion_index(pod.metadata.annotations)
        label_ix = get_completion_index(pod.metadata.labels)
        assert annotation_ix == label_ix, f"annotation {annotation_ix} != label {label_ix}"
        got_active.add(label_ix)
        expected_name = f"{job.metadata.name}-{label_ix}"
        assert pod.spec.hostname == expected_name, (
            f"got pod hostname {pod.spec.hostname}, want {expected_name}"
        )
    assert sorted(got_active) == sorted(want_active or []), (
        f"active indexes: want {sorted(want_active or [])}, got {sorted(got_active)}"
    )


def get_job_condition_status(job: V1Job, condition_type: str) -> str:
    """Port of getJobConditionStatus."""
    for cond in (job.status.conditions if job.status else None) or []:
        if cond.type == condition_type:
            return str(cond.status)
    return ""


def validate_job_condition(
    client: Interface, job: V1Job, condition_type: str, timeout: float = FOREVER_TEST_TIMEOUT
) -> V1Job:
    """Port of validateJobCondition: wait for the condition to be True; return the Job."""
    latest: list[V1Job] = [job]

    def check() -> bool:
        latest[0] = get_job(client, job)
        return get_job_condition_status(latest[0], condition_type) == CONDITION_TRUE

    def describe() -> str:
        status = latest[0].status
        conditions = [(c.type, c.status, c.reason) for c in (status and status.conditions) or []]
        return f"Job condition {condition_type}: conditions are {conditions}"

    wait_for(check, timeout, message=describe)
    return latest[0]


def validate_job_complete(client: Interface, job: V1Job) -> V1Job:
    """Port of validateJobComplete."""
    return validate_job_condition(client, job, JOB_COMPLETE)


def validate_job_failed(client: Interface, job: V1Job) -> V1Job:
    """Port of validateJobFailed."""
    return validate_job_condition(client, job, JOB_FAILED)


def validate_no_orphan_pods_with_finalizers(
    client: Interface, job: V1Job, timeout: float = FOREVER_TEST_TIMEOUT
) -> None:
    """Port of validateNoOrphanPodsWithFinalizers: no pod of the Job's selector keeps one."""
    selector = ",".join(f"{k}={v}" for k, v in (job.spec.selector.match_labels or {}).items())
    orphans: list[str] = []

    def check() -> bool:
        nonlocal orphans
        pods = (
            client.core_v1().pods(job.metadata.namespace).list(ListOptions(label_selector=selector))
        )
        orphans = [p.metadata.name for p in pods.items if has_job_tracking_finalizer(p)]
        return not orphans

    wait_for(check, timeout, message=lambda: f"pods still with the finalizer: {orphans}")


def wait_for_event(
    client: Interface, namespace: str, uid: str, reason: str, timeout: float = 30.0
) -> None:
    """Port of waitForEvent: an event from the job controller about ``uid`` with ``reason``.

    Lists core/v1 events instead of watching events.k8s.io (jobctl's recorder writes
    core/v1 events; both APIs show the same objects).
    """
    if not reason:
        return
    seen: list[str] = []

    def check() -> bool:
        nonlocal seen
        items = client.core_v1().events(namespace).list(ListOptions()).items
        seen = [e.reason for e in items if e.involved_object.uid == uid]
        return any(
            e.involved_object.uid == uid
            and e.reason == reason
            and (
                e.reporting_component == "job-controller"
                or (e.source is not None and e.source.component == "job-controller")
            )
            for e in items
        )

    wait_for(check, timeout, message=lambda: f"event {reason!r}; saw {seen}")


# ---- metrics ---------------------------------------------------------------------------


def counter_value(counter: Any, labels: Sequence[str]) -> float:
    """The value of one child of a prometheus_client labelled Counter (0 if absent)."""
    want = list(labels)
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and list(sample.labels.values()) == want:
                return float(sample.value)
    return 0.0


def validate_counter_metric(
    counter: Any, labels: Sequence[str], value: int, timeout: float = 10.0
) -> None:
    """Port of validateCounterMetric: wait for the counter child to reach ``value``."""
    got = [0.0]

    def check() -> bool:
        got[0] = counter_value(counter, labels)
        return int(got[0]) == value

    wait_for(
        check,
        timeout,
        interval=0.01,
        message=lambda: f"metric {labels}: want {value}, got {int(got[0])}",
    )


def reset_metrics() -> None:
    """Port of resetMetrics: clear the counters the tests look at."""
    from jobctl.job import metrics

    for counter in (
        metrics.terminated_pods_tracking_finalizer_total,
        metrics.job_finished_num,
        metrics.job_pods_finished,
        metrics.pod_failures_handled_by_failure_policy,
        metrics.job_finished_indexes_total,
        metrics.job_pods_creation_total,
        metrics.job_by_external_controller_total,
    ):
        counter.clear()


# ---- controllers -----------------------------------------------------------------------


@dataclass
class RunningJobController:
    """A Job controller and its informer factory running on threads in this process."""

    controller: Any
    factory: Any
    stop_event: threading.Event
    thread: threading.Thread
    clients: list[Any] = field(default_factory=list)

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel (Go: cancel()), wait for the workers and informers to end."""
        self.stop_event.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"the Job controller did not stop within {timeout:g}s")
        self.factory.shutdown()
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.close()


def start_job_controller_and_wait_for_caches(
    kubeconfig: str | Path,
    qps: float = 10_000.0,
    burst: int = 10_000,
    controller_name: str | None = None,
    workers: int = 1,
    sync_timeout: float = 30.0,
    wrap_client: Callable[[Interface], Interface] | None = None,
) -> RunningJobController:
    """Port of startJobControllerAndWaitForCaches: factory + controller, caches synced.

    The informers and the controller get clientsets of their own, as upstream does with
    separate user agents; ``qps``/``burst`` limit the controller's clientset only.
    ``wrap_client`` stands in for rest.Config.WrapTransport: it wraps the controller's
    clientset (e.g. to hold back a request).
    """
    from jobctl.client.real import load_configuration, new_for_config
    from jobctl.informers.factory import SharedInformerFactory
    from jobctl.job import job_controller

    configuration = load_configuration(str(kubeconfig), None, None)
    informer_client = new_for_config(
        configuration, qps=10_000.0, burst=10_000, user_agent="job-informers"
    )
    controller_client = new_for_config(
        configuration, qps=qps, burst=burst, user_agent="job-controller"
    )
    factory = SharedInformerFactory(informer_client, 0)
    kwargs: dict[str, Any] = {}
    if controller_name is not None:
        kwargs["controller_name"] = controller_name
    controller = job_controller.new_controller(
        factory.core().v1().pods(),
        factory.batch().v1().jobs(),
        wrap_client(controller_client) if wrap_client is not None else controller_client,
        **kwargs,
    )
    stop = threading.Event()
    factory.start(stop)
    thread = threading.Thread(
        target=controller.run, args=(stop, workers), name="job-controller-run", daemon=True
    )
    thread.start()
    running = RunningJobController(
        controller, factory, stop, thread, [informer_client, controller_client]
    )
    synced: list[bool] = []
    waiter = threading.Thread(
        target=lambda: synced.append(all(factory.wait_for_cache_sync(stop).values())),
        daemon=True,
    )
    waiter.start()
    waiter.join(sync_timeout)
    if not synced or not synced[0]:
        running.stop()
        raise AssertionError(f"informer caches did not sync within {sync_timeout:g}s")
    return running


@contextlib.contextmanager
def kube_controller_manager(
    kubeconfig: str | Path, controllers: Sequence[str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run upstream kube-controller-manager with only ``controllers`` (e.g. the GC)."""
    from jobctl.testing.control_plane import find_assets, kube_controller_manager_args

    assets = find_assets(with_kcm=True)
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            kube_controller_manager_args(
                assets, kubeconfig, ",".join(controllers), qps=1000, burst=1000
            ),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


def purge_namespace(client: Interface, namespace: str) -> None:
    """Delete every Job and pod of ``namespace`` for good, finalizers and all.

    No namespace controller runs in the local control plane, so a deleted namespace
    keeps its objects; purging them keeps later informers' lists small.
    """
    jobs = client.batch_v1().jobs(namespace)
    for job in jobs.list(ListOptions()).items:
        with contextlib.suppress(errors.StatusError):
            jobs.delete(job.metadata.name, DeleteOptions(propagation_policy="Background"))
    pods = client.core_v1().pods(namespace)

    def purge(pod: V1Pod) -> None:
        if pod.metadata.finalizers:
            with contextlib.suppress(errors.StatusError):
                pods.patch(
                    pod.metadata.name,
                    {"metadata": {"finalizers": None}},
                    "application/merge-patch+json",
                )
        with contextlib.suppress(errors.StatusError):
            pods.delete(pod.metadata.name, DeleteOptions(grace_period_seconds=0))

    for _attempt in range(3):
        items = pods.list(ListOptions()).items
        if not items:
            return
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(purge, items))


class JobControllerRunner:
    """One in-process Job controller at a time: start, restart (stop + start), stop."""

    def __init__(self, kubeconfig: str | Path) -> None:
        self.kubeconfig = kubeconfig
        self.current: RunningJobController | None = None

    def start(self, **kwargs: Any) -> RunningJobController:
        """Start a controller (see ``start_job_controller_and_wait_for_caches``)."""
        if self.current is not None:
            raise AssertionError("a Job controller is already running; stop it first")
        self.current = start_job_controller_and_wait_for_caches(self.kubeconfig, **kwargs)
        return self.current

    def stop(self) -> None:
        """Cancel the running controller, if any, and wait for it to end."""
        if self.current is not None:
            current, self.current = self.current, None
            current.stop()

    def restart(self, **kwargs: Any) -> RunningJobController:
        """Stop the running controller and start a fresh one (new caches, new queues)."""
        self.stop()
        return self.start(**kwargs)
