"""Pod failure backoff: port of pkg/controller/job/backoff_utils.go.

The controller delays the creation of replacement pods after failures, exponentially in
the number of consecutive failures. For the whole Job it keeps a ``BackoffRecord`` per Job
key (failures since the last success, time of the last failure); for Jobs with a backoff
limit per index it derives the delay from the last failed pod of the index instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kubernetes.client import V1ContainerStatus, V1Pod

from jobctl.informers.store import Store, new_store
from jobctl.job import indexed_job_utils
from jobctl.k8s_libs.api import (
    CONDITION_FALSE,
    CONTAINER_RESTART_POLICY_ALWAYS,
    POD_READY,
)
from jobctl.k8s_libs.clock import PassiveClock

# Go's zero time.Time, what a pod without creation timestamp reports as finish time.
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


@dataclass
class BackoffRecord:
    """Port of backoffRecord (pkg/controller/job/backoff_utils.go): consecutive failures of a Job
    since its last success."""

    key: str
    failures_after_last_success: int = 0
    last_failure_time: datetime | None = None

    def get_remaining_time(
        self, clock: PassiveClock, default_backoff: float, max_backoff: float
    ) -> float:
        """Port of backoffRecord.getRemainingTime (pkg/controller/job/backoff_utils.go): seconds
        left before pods may be recreated."""
        return get_remaining_time_for_failures_count(
            clock,
            default_backoff,
            max_backoff,
            self.failures_after_last_success,
            self.last_failure_time,
        )


class BackoffStore:
    """Port of backoffStore (pkg/controller/job/backoff_utils.go): the ``BackoffRecord`` of each
    Job, by Job key."""

    def __init__(self) -> None:
        self.store: Store = new_store(backoff_record_key_func)

    def update_backoff_record(self, record: BackoffRecord) -> None:
        """Port of backoffStore.updateBackoffRecord (pkg/controller/job/backoff_utils.go): store the
        record's counters."""
        existing, ok = self.store.get_by_key(record.key)
        if not ok:
            # Upstream stores a copy (the record is passed by value).
            self.store.add(dataclasses.replace(record))
        else:
            existing.failures_after_last_success = record.failures_after_last_success
            existing.last_failure_time = record.last_failure_time

    def remove_backoff_record(self, job_id: str) -> None:
        """Port of backoffStore.removeBackoffRecord (pkg/controller/job/backoff_utils.go): forget a
        Job's record, if any."""
        existing, ok = self.store.get_by_key(job_id)
        if ok:
            self.store.delete(existing)

    def new_backoff_record(
        self, key: str, new_succeeded_pods: list[V1Pod], new_failed_pods: list[V1Pod]
    ) -> BackoffRecord:
        """Port of backoffStore.newBackoffRecord (pkg/controller/job/backoff_utils.go): the record
        after this sync's finished pods.

        Failures add up; a success resets the count, after which only failures that
        finished after the last success count. Sorts both lists by finish time, in place.
        """
        existing, exists = self.store.get_by_key(key)
        if exists:
            backoff = BackoffRecord(
                key=existing.key,
                failures_after_last_success=existing.failures_after_last_success,
                last_failure_time=existing.last_failure_time,
            )
        else:
            backoff = BackoffRecord(key=key)

        sort_by_finished_time(new_succeeded_pods)
        sort_by_finished_time(new_failed_pods)

        if not new_succeeded_pods:
            if not new_failed_pods:
                return backoff
            backoff.failures_after_last_success += len(new_failed_pods)
            backoff.last_failure_time = get_finished_time(new_failed_pods[-1])
            return backoff

        backoff.failures_after_last_success = 0
        backoff.last_failure_time = None
        if not new_failed_pods:
            return backoff

        last_success_time = get_finished_time(new_succeeded_pods[-1])
        for failed_pod in reversed(new_failed_pods):
            failed_time = get_finished_time(failed_pod)
            if not failed_time > last_success_time:
                break
            if backoff.last_failure_time is None:
                backoff.last_failure_time = failed_time
            backoff.failures_after_last_success += 1
        return backoff


def new_backoff_store() -> BackoffStore:
    """Port of newBackoffStore (pkg/controller/job/backoff_utils.go)."""
    return BackoffStore()


def backoff_record_key_func(obj: object) -> str:
    """Port of backoffRecordKeyFunc (pkg/controller/job/backoff_utils.go): the Job key a
    ``BackoffRecord`` is stored under."""
    if isinstance(obj, BackoffRecord):
        return obj.key
    raise ValueError(f"could not find key for obj {obj!r}")


def sort_by_finished_time(pods: list[V1Pod]) -> None:
    """Port of sortByFinishedTime (pkg/controller/job/backoff_utils.go): order pods by
    ``get_finished_time``, in place."""
    pods.sort(key=get_finished_time)


def get_finished_time(p: V1Pod) -> datetime:
    """Port of getFinishedTime (pkg/controller/job/backoff_utils.go): best estimate of when a
    finished pod finished.

    Tries, in order: the latest container termination (when every relevant container
    terminated), the time the Ready condition turned False, the deletion timestamp minus
    the grace period, and finally the creation timestamp.
    """
    finish_time = get_finish_time_from_containers(p)
    if finish_time is not None:
        return finish_time
    finish_time = get_finish_time_from_pod_ready_false_condition(p)
    if finish_time is not None:
        return finish_time
    finish_time = get_finish_time_from_deletion_timestamp(p)
    if finish_time is not None:
        return finish_time
    created = p.metadata.creation_timestamp if p.metadata is not None else None
    return created if created is not None else ZERO_TIME


def get_finish_time_from_containers(p: V1Pod) -> datetime | None:
    """Port of getFinishTimeFromContainers (pkg/controller/job/backoff_utils.go): latest finish of
    the containers and sidecars.

    None when any regular container or sidecar (restartable init container) has not
    terminated with a finish time. Sidecars stop after the main containers, hence count.
    """
    status = p.status
    finish_time = latest_finish_time(
        None, status.container_statuses if status is not None else None, None
    )
    init_containers = p.spec.init_containers if p.spec is not None else None
    names = {
        c.name
        for c in init_containers or []
        if c.restart_policy is not None and c.restart_policy == CONTAINER_RESTART_POLICY_ALWAYS
    }
    return latest_finish_time(
        finish_time,
        status.init_container_statuses if status is not None else None,
        lambda cs: cs.name in names,
    )


def latest_finish_time(
    prev_finish_time: datetime | None,
    cs: Sequence[V1ContainerStatus] | None,
    check: Callable[[V1ContainerStatus], bool] | None,
) -> datetime | None:
    """Port of latestFinishTime (pkg/controller/job/backoff_utils.go): the latest termination among
    the checked statuses.

    None as soon as one checked container is not terminated or has no finish time.
    """
    finish_time = prev_finish_time
    for container_state in cs or []:
        if check is not None and not check(container_state):
            continue
        state = container_state.state
        terminated = state.terminated if state is not None else None
        if terminated is None or terminated.finished_at is None:
            return None
        if finish_time is None or finish_time < terminated.finished_at:
            finish_time = terminated.finished_at
    return finish_time


def get_finish_time_from_pod_ready_false_condition(p: V1Pod) -> datetime | None:
    """Port of getFinishTimeFromPodReadyFalseCondition (pkg/controller/job/backoff_utils.go): when
    Ready turned False, if known."""
    conditions = p.status.conditions if p.status is not None else None
    for c in conditions or []:
        if c.type == POD_READY:
            transition: datetime | None = c.last_transition_time
            if c.status == CONDITION_FALSE and transition is not None:
                return transition
            return None
    return None


def get_finish_time_from_deletion_timestamp(p: V1Pod) -> datetime | None:
    """Port of getFinishTimeFromDeletionTimestamp (pkg/controller/job/backoff_utils.go): deletion
    time minus the grace period."""
    meta = p.metadata
    deletion: datetime | None = meta.deletion_timestamp if meta is not None else None
    if meta is not None and deletion is not None:
        grace = meta.deletion_grace_period_seconds or 0
        return deletion - timedelta(seconds=grace)
    return None


def get_remaining_time_per_index(
    clock: PassiveClock,
    default_backoff: float,
    max_backoff: float,
    last_failed_pod: V1Pod | None,
) -> float:
    """Port of getRemainingTimePerIndex (pkg/controller/job/backoff_utils.go): seconds before an
    index may get a new pod.

    The failure count comes from the failure-count annotations of the index's last failed
    pod (counted and ignored failures both delay), plus that pod's own failure.
    """
    if last_failed_pod is None:
        return 0.0
    failure_count = indexed_job_utils.get_index_absolute_failure_count(last_failed_pod) + 1
    last_failure_time = get_finished_time(last_failed_pod)
    return get_remaining_time_for_failures_count(
        clock, default_backoff, max_backoff, failure_count, last_failure_time
    )


def get_remaining_time_for_failures_count(
    clock: PassiveClock,
    default_backoff: float,
    max_backoff: float,
    failures_count: int,
    last_failure_time: datetime | None,
) -> float:
    """Port of getRemainingTimeForFailuresCount (pkg/controller/job/backoff_utils.go).

    The delay is ``default_backoff * 2**(failures_count - 1)`` capped at ``max_backoff``;
    returns what is left of it since ``last_failure_time`` (never negative).
    """
    if failures_count == 0:
        return 0.0
    backoff_duration = default_backoff
    for _ in range(1, failures_count):
        backoff_duration *= 2
        if backoff_duration >= max_backoff:
            backoff_duration = max_backoff
            break
    assert last_failure_time is not None
    elapsed = clock.since(last_failure_time)
    if backoff_duration < elapsed:
        return 0.0
    return backoff_duration - elapsed
