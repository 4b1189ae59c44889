"""Port of pkg/controller/job/backoff_utils_test.go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes.client import (
    V1Container,
    V1ContainerState,
    V1ContainerStateRunning,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1ObjectMeta,
    V1Pod,
    V1PodCondition,
    V1PodSpec,
    V1PodStatus,
)

from jobctl.job.backoff_utils import (
    BackoffRecord,
    BackoffStore,
    get_finished_time,
    get_remaining_time_for_failures_count,
    get_remaining_time_per_index,
    new_backoff_store,
    sort_by_finished_time,
)
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import build_pod

DEFAULT_TEST_TIME = datetime(2009, 11, 10, 23, 0, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def _status(
    name: str = "",
    finished_at: datetime | None = None,
    running: bool = False,
) -> V1ContainerStatus:
    if running:
        state = V1ContainerState(running=V1ContainerStateRunning())
    else:
        state = V1ContainerState(
            terminated=V1ContainerStateTerminated(exit_code=0, finished_at=finished_at)
        )
    return V1ContainerStatus(
        name=name, image="", image_id="", ready=False, restart_count=0, state=state
    )


def _finished_pod(phase: str, finish_time: datetime) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(),
        status=V1PodStatus(phase=phase, container_statuses=[_status(finished_at=finish_time)]),
    )


def _empty_store_initializer(store: BackoffStore) -> None:
    pass


def _store_with_two_failures(store: BackoffStore) -> None:
    store.update_backoff_record(
        BackoffRecord(key="key", failures_after_last_success=2, last_failure_time=None)
    )


@pytest.mark.parametrize(
    ("store_initializer", "new_succeeded_pods", "new_failed_pods", "want_backoff_record"),
    [
        pytest.param(
            _empty_store_initializer,
            [],
            [DEFAULT_TEST_TIME],
            BackoffRecord(
                key="key", last_failure_time=DEFAULT_TEST_TIME, failures_after_last_success=1
            ),
            id="Empty backoff store and one new failure",
        ),
        pytest.param(
            _empty_store_initializer,
            [],
            [DEFAULT_TEST_TIME, DEFAULT_TEST_TIME - MS],
            BackoffRecord(
                key="key", last_failure_time=DEFAULT_TEST_TIME, failures_after_last_success=2
            ),
            id="Empty backoff store and two new failures",
        ),
        pytest.param(
            _empty_store_initializer,
            [DEFAULT_TEST_TIME],
            [DEFAULT_TEST_TIME - 2 * MS, DEFAULT_TEST_TIME - MS],
            BackoffRecord(key="key", failures_after_last_success=0),
            id="Empty backoff store, two failures followed by success",
        ),
        pytest.param(
            _empty_store_initializer,
            [DEFAULT_TEST_TIME - 2 * MS],
            [
                DEFAULT_TEST_TIME,
                DEFAULT_TEST_TIME - 4 * MS,
                DEFAULT_TEST_TIME - 3 * MS,
                DEFAULT_TEST_TIME - MS,
            ],
            BackoffRecord(
                key="key", last_failure_time=DEFAULT_TEST_TIME, failures_after_last_success=2
            ),
            id="Empty backoff store, two failures, one success and two more failures",
        ),
        pytest.param(
            _store_with_two_failures,
            [],
            [DEFAULT_TEST_TIME],
            BackoffRecord(
                key="key", last_failure_time=DEFAULT_TEST_TIME, failures_after_last_success=3
            ),
            id="Backoff store having failure count 2 and one new failure",
        ),
        pytest.param(
            _empty_store_initializer,
            [DEFAULT_TEST_TIME],
            [DEFAULT_TEST_TIME],
            BackoffRecord(key="key", failures_after_last_success=0),
            id="Empty backoff store with success and failure at same timestamp",
        ),
        pytest.param(
            _empty_store_initializer,
            [],
            [],
            BackoffRecord(key="key", failures_after_last_success=0),
            id="Empty backoff store with no success/failure",
        ),
        pytest.param(
            _empty_store_initializer,
            [DEFAULT_TEST_TIME],
            [],
            BackoffRecord(key="key", failures_after_last_success=0),
            id="Empty backoff store with one success",
        ),
    ],
)
def test_new_backoff_record(
    store_initializer: Callable[[BackoffStore], None],
    new_succeeded_pods: list[datetime],
    new_failed_pods: list[datetime],
    want_backoff_record: BackoffRecord,
) -> None:
    backoff_record_store = new_backoff_store()
    store_initializer(backoff_record_store)
    succeeded = [_finished_pod("Succeeded", t) for t in new_succeeded_pods]
    failed = [_finished_pod("Failed", t) for t in new_failed_pods]

    backoff_record = backoff_record_store.new_backoff_record("key", succeeded, failed)

    assert backoff_record == want_backoff_record


DEFAULT_TEST_TIME_MINUS_30S = DEFAULT_TEST_TIME - timedelta(seconds=30)


@pytest.mark.parametrize(
    ("pod", "want_finish_time"),
    [
        pytest.param(
            V1Pod(
                status=V1PodStatus(
                    container_statuses=[
                        _status(finished_at=DEFAULT_TEST_TIME - timedelta(seconds=1)),
                        _status(finished_at=DEFAULT_TEST_TIME),
                        _status(finished_at=DEFAULT_TEST_TIME - timedelta(seconds=2)),
                    ]
                )
            ),
            DEFAULT_TEST_TIME,
            id="Pod with multiple containers and all containers terminated",
        ),
        pytest.param(
            V1Pod(
                metadata=V1ObjectMeta(deletion_timestamp=DEFAULT_TEST_TIME),
                status=V1PodStatus(
                    container_statuses=[
                        _status(finished_at=DEFAULT_TEST_TIME - timedelta(seconds=1)),
                        _status(running=True),
                        _status(finished_at=DEFAULT_TEST_TIME - timedelta(seconds=2)),
                    ]
                ),
            ),
            DEFAULT_TEST_TIME,
            id="Pod with multiple containers; two containers in terminated state and one in "
            "running state; fallback to deletionTimestamp",
        ),
        pytest.param(
            V1Pod(
                metadata=V1ObjectMeta(deletion_timestamp=DEFAULT_TEST_TIME),
                status=V1PodStatus(container_statuses=[_status(running=True)]),
            ),
            DEFAULT_TEST_TIME,
            id="fallback to deletionTimestamp",
        ),
        pytest.param(
            V1Pod(
                metadata=V1ObjectMeta(
                    deletion_timestamp=DEFAULT_TEST_TIME, deletion_grace_period_seconds=30
                ),
                status=V1PodStatus(container_statuses=[_status(running=True)]),
            ),
            DEFAULT_TEST_TIME_MINUS_30S,
            id="fallback to deletionTimestamp, decremented by grace period",
        ),
        pytest.param(
            V1Pod(
                status=V1PodStatus(
                    container_statuses=[_status()],
                    conditions=[
                        V1PodCondition(
                            type="Ready",
                            status="False",
                            reason="PodFailed",
                            last_transition_time=DEFAULT_TEST_TIME,
                        )
                    ],
                )
            ),
            DEFAULT_TEST_TIME,
            id="fallback to PodReady.LastTransitionTime when status of the condition is False",
        ),
        pytest.param(
            V1Pod(
                metadata=V1ObjectMeta(deletion_timestamp=DEFAULT_TEST_TIME),
                status=V1PodStatus(
                    container_statuses=[_status()],
                    conditions=[
                        V1PodCondition(
                            type="Ready",
                            status="True",
                            last_transition_time=DEFAULT_TEST_TIME_MINUS_30S,
                        )
                    ],
                ),
            ),
            DEFAULT_TEST_TIME,
            id="skip fallback to PodReady.LastTransitionTime when status of the condition is True",
        ),
        pytest.param(
            V1Pod(
                metadata=V1ObjectMeta(creation_timestamp=DEFAULT_TEST_TIME),
                status=V1PodStatus(container_statuses=[_status()]),
            ),
            DEFAULT_TEST_TIME,
            id="fallback to creationTimestamp",
        ),
        pytest.param(
            V1Pod(
                spec=V1PodSpec(
                    containers=[],
                    init_containers=[V1Container(name="sidecar", restart_policy="Always")],
                ),
                status=V1PodStatus(
                    container_statuses=[
                        _status(finished_at=DEFAULT_TEST_TIME - timedelta(seconds=1))
                    ],
                    init_container_statuses=[
                        _status(name="sidecar", finished_at=DEFAULT_TEST_TIME)
                    ],
                ),
            ),
            DEFAULT_TEST_TIME,
            id="Pod with sidecar container and all containers terminated",
        ),
    ],
)
def test_get_finished_time(pod: V1Pod, want_finish_time: datetime) -> None:
    assert get_finished_time(pod) == want_finish_time


def _record(failures: int, last_failure: datetime | None) -> BackoffRecord:
    return BackoffRecord(
        key="", failures_after_last_success=failures, last_failure_time=last_failure
    )


@pytest.mark.parametrize(
    ("backoff_record", "current_time", "default_backoff", "max_backoff", "want_duration"),
    [
        pytest.param(_record(0, None), None, 5.0, 700.0, 0.0, id="no failures"),
        pytest.param(
            _record(1, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME,
            5.0,
            700.0,
            5.0,
            id="one failure; current time and failure time are same",
        ),
        pytest.param(
            _record(1, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME + timedelta(seconds=1),
            5.0,
            700.0,
            4.0,
            id="one failure; current time == 1 second + failure time",
        ),
        pytest.param(
            _record(1, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME + timedelta(seconds=5),
            5.0,
            700.0,
            0.0,
            id="one failure; current time == expected backoff time",
        ),
        pytest.param(
            _record(1, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME + timedelta(seconds=6),
            5.0,
            700.0,
            0.0,
            id="one failure; current time == expected backoff time + 1 Second",
        ),
        pytest.param(
            _record(3, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME,
            5.0,
            700.0,
            20.0,
            id="three failures; current time and failure time are same",
        ),
        pytest.param(
            _record(8, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME,
            5.0,
            700.0,
            640.0,
            id="eight failures; current time and failure time are same; backoff not exceeding "
            "maxBackoff",
        ),
        pytest.param(
            _record(9, DEFAULT_TEST_TIME),
            DEFAULT_TEST_TIME,
            5.0,
            700.0,
            700.0,
            id="nine failures; current time and failure time are same; backoff exceeding "
            "maxBackoff",
        ),
    ],
)
def test_get_remaining_backoff_time(
    backoff_record: BackoffRecord,
    current_time: datetime | None,
    default_backoff: float,
    max_backoff: float,
    want_duration: float,
) -> None:
    fake_clock = FakeClock(current_time) if current_time is not None else FakeClock()
    d = backoff_record.get_remaining_time(fake_clock, default_backoff, max_backoff)
    assert d == want_duration


@pytest.mark.parametrize(
    ("last_failed_pod", "current_time", "want_duration"),
    [
        pytest.param(None, None, 0.0, id="no failures"),
        pytest.param(
            build_pod()
            .phase("Failed")
            .index_failure_count("2")
            .custom_deletion_timestamp(DEFAULT_TEST_TIME)
            .pod,
            DEFAULT_TEST_TIME,
            20.0,
            id="two prev failures; current time and failure time are same",
        ),
        pytest.param(
            build_pod()
            .phase("Failed")
            .index_failure_count("1")
            .index_ignored_failure_count("1")
            .custom_deletion_timestamp(DEFAULT_TEST_TIME)
            .pod,
            DEFAULT_TEST_TIME,
            20.0,
            id="one prev failure counted and one ignored; current time and failure time are same",
        ),
    ],
)
def test_get_remaining_backoff_time_per_index(
    last_failed_pod: V1Pod | None, current_time: datetime | None, want_duration: float
) -> None:
    fake_clock = FakeClock(current_time) if current_time is not None else FakeClock()
    d = get_remaining_time_per_index(fake_clock, 5.0, 700.0, last_failed_pod)
    assert d == want_duration


# Beyond the upstream tables: the store keeps its own copy, and removal forgets it.


def test_backoff_store_update_and_remove() -> None:
    store = new_backoff_store()
    record = BackoffRecord(key="ns/job", failures_after_last_success=1)
    store.update_backoff_record(record)
    record.failures_after_last_success = 5
    assert store.new_backoff_record("ns/job", [], []).failures_after_last_success == 1

    store.update_backoff_record(
        BackoffRecord(
            key="ns/job", failures_after_last_success=4, last_failure_time=DEFAULT_TEST_TIME
        )
    )
    assert store.new_backoff_record("ns/job", [], []) == BackoffRecord(
        key="ns/job", failures_after_last_success=4, last_failure_time=DEFAULT_TEST_TIME
    )

    store.remove_backoff_record("ns/job")
    store.remove_backoff_record("ns/job")
    assert store.new_backoff_record("ns/job", [], []) == BackoffRecord(key="ns/job")


def test_sort_by_finished_time() -> None:
    pods = [
        _finished_pod("Failed", DEFAULT_TEST_TIME),
        _finished_pod("Failed", DEFAULT_TEST_TIME - 2 * MS),
        _finished_pod("Failed", DEFAULT_TEST_TIME - MS),
    ]
    sort_by_finished_time(pods)
    assert [get_finished_time(p) for p in pods] == [
        DEFAULT_TEST_TIME - 2 * MS,
        DEFAULT_TEST_TIME - MS,
        DEFAULT_TEST_TIME,
    ]


def test_get_remaining_time_for_failures_count_with_fake_clock_steps() -> None:
    clock = FakeClock(DEFAULT_TEST_TIME)
    assert get_remaining_time_for_failures_count(clock, 10.0, 600.0, 2, DEFAULT_TEST_TIME) == 20.0
    clock.step(15)
    assert get_remaining_time_for_failures_count(clock, 10.0, 600.0, 2, DEFAULT_TEST_TIME) == 5.0
    clock.step(10)
    assert get_remaining_time_for_failures_count(clock, 10.0, 600.0, 2, DEFAULT_TEST_TIME) == 0.0
