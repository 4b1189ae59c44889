"""Port of pkg/controller/job/indexed_job_utils_test.go (plus small checks of the helpers
the upstream tests exercise only through the controller)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1ContainerState,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1EnvVar,
    V1Job,
    V1JobSpec,
    V1JobStatus,
    V1ObjectMeta,
    V1Pod,
    V1PodCondition,
    V1PodFailurePolicy,
    V1PodFailurePolicyOnExitCodesRequirement,
    V1PodFailurePolicyOnPodConditionsPattern,
    V1PodFailurePolicyRule,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
)

from jobctl.controller.controller_utils import filter_active_pods
from jobctl.job.indexed_job_utils import (
    COMPLETION_INDEX_ENV_NAME,
    Interval,
    OrderedIntervals,
    add_completion_index_annotation,
    add_completion_index_env_variables,
    add_completion_index_label,
    add_index_failure_count_annotation,
    append_duplicated_index_pods_for_removal,
    calculate_failed_indexes,
    calculate_succeeded_indexes,
    completion_mode_str,
    first_pending_indexes,
    get_completion_index,
    get_index_failure_count,
    get_new_index_failure_counts,
    get_pods_with_delayed_deletion_per_index,
    is_index_failed,
    is_indexed_job,
    parse_indexes_from_string,
    pod_generate_name_with_index,
)
from jobctl.k8s_libs.api import (
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    JOB_TRACKING_FINALIZER,
)
from jobctl.testing.builders import (
    NO_INDEX,
    IndexPhase,
    build_pod,
    hollow_pods_with_index_phase,
    new_job,
    to_index_phases,
)

MAX_INT32 = 2**31 - 1


def _oi(*pairs: tuple[int, int]) -> OrderedIntervals:
    return OrderedIntervals(Interval(first, last) for first, last in pairs)


def _job(
    completions: int | None = None,
    backoff_limit_per_index: int | None = None,
    pod_failure_policy: V1PodFailurePolicy | None = None,
    completed_indexes: str | None = None,
    failed_indexes: str | None = None,
) -> V1Job:
    return V1Job(
        spec=V1JobSpec(
            template=V1PodTemplateSpec(),
            completions=completions,
            backoff_limit_per_index=backoff_limit_per_index,
            pod_failure_policy=pod_failure_policy,
        ),
        status=V1JobStatus(completed_indexes=completed_indexes, failed_indexes=failed_indexes),
    )


def _ip(index: str, phase: str) -> IndexPhase:
    return IndexPhase(index, phase)


@pytest.mark.parametrize(
    ("prev_succeeded", "pods", "completions", "want_status_intervals", "want_intervals"),
    [
        pytest.param("", [_ip("1", "Succeeded")], 2, _oi(), _oi((1, 1)), id="one index"),
        pytest.param(
            "",
            [
                _ip("2", "Failed"),
                _ip("5", "Succeeded"),
                _ip("5", "Succeeded"),
                _ip("10", "Failed"),
                _ip("10", "Succeeded"),
            ],
            11,
            _oi(),
            _oi((5, 5), (10, 10)),
            id="two separate",
        ),
        pytest.param(
            "",
            [
                _ip("0", "Running"),
                _ip("1", "Pending"),
                _ip("2", "Succeeded"),
                _ip("3", "Succeeded"),
                _ip("5", "Succeeded"),
                _ip("6", "Succeeded"),
                _ip("7", "Succeeded"),
            ],
            8,
            _oi(),
            _oi((2, 3), (5, 7)),
            id="two intervals",
        ),
        pytest.param(
            "",
            [
                _ip("0", "Succeeded"),
                _ip("1", "Failed"),
                _ip("2", "Succeeded"),
                _ip("3", "Succeeded"),
                _ip("4", "Succeeded"),
                _ip("5", "Succeeded"),
                _ip(NO_INDEX, "Succeeded"),
                _ip("-2", "Succeeded"),
            ],
            6,
            _oi(),
            _oi((0, 0), (2, 5)),
            id="one index and one interval",
        ),
        pytest.param(
            "",
            [
                _ip("0", "Succeeded"),
                _ip("1", "Succeeded"),
                _ip("2", "Succeeded"),
                _ip("3", "Failed"),
                _ip("4", "Succeeded"),
                _ip("5", "Succeeded"),
                _ip(NO_INDEX, "Succeeded"),
                _ip("-2", "Succeeded"),
            ],
            5,
            _oi(),
            _oi((0, 2), (4, 4)),
            id="out of range",
        ),
        pytest.param("0-5,8-10", [], 8, _oi((0, 5)), _oi((0, 5)), id="prev interval out of range"),
        pytest.param(
            "0-5,8-10",
            [],
            10,
            _oi((0, 5), (8, 9)),
            _oi((0, 5), (8, 9)),
            id="prev interval partially out of range",
        ),
        pytest.param(
            "0,4,5,10-12",
            [_ip("2", "Succeeded"), _ip("7", "Succeeded"), _ip("8", "Succeeded")],
            13,
            _oi((0, 0), (4, 5), (10, 12)),
            _oi((0, 0), (2, 2), (4, 5), (7, 8), (10, 12)),
            id="prev and new separate",
        ),
        pytest.param(
            "3,4,6",
            [_ip("2", "Succeeded"), _ip("7", "Succeeded"), _ip("8", "Succeeded")],
            9,
            _oi((3, 4), (6, 6)),
            _oi((2, 4), (6, 8)),
            id="prev between new",
        ),
        pytest.param(
            "2,7,8",
            [_ip("3", "Succeeded"), _ip("4", "Succeeded"), _ip("6", "Succeeded")],
            9,
            _oi((2, 2), (7, 8)),
            _oi((2, 4), (6, 8)),
            id="new between prev",
        ),
        pytest.param(
            "2-7",
            [
                _ip("0", "Succeeded"),
                _ip("3", "Succeeded"),
                _ip("5", "Succeeded"),
                _ip("9", "Succeeded"),
            ],
            10,
            _oi((2, 7)),
            _oi((0, 0), (2, 7), (9, 9)),
            id="new within prev",
        ),
        pytest.param(
            "0,1-foo,bar",
            [_ip("3", "Succeeded")],
            4,
            _oi((0, 0)),
            _oi((0, 0), (3, 3)),
            id="corrupted interval",
        ),
    ],
)
def test_calculate_succeeded_indexes(
    prev_succeeded: str,
    pods: list[IndexPhase],
    completions: int,
    want_status_intervals: OrderedIntervals,
    want_intervals: OrderedIntervals,
) -> None:
    job = _job(completions=completions, completed_indexes=prev_succeeded)
    hollow = hollow_pods_with_index_phase(pods)
    for p in hollow:
        assert p.metadata is not None
        p.metadata.finalizers = [*(p.metadata.finalizers or []), JOB_TRACKING_FINALIZER]
    got_status_intervals, got_intervals = calculate_succeeded_indexes(job, hollow)
    assert got_status_intervals == want_status_intervals
    assert got_intervals == want_intervals


def _exit_code_status(phase: str, exit_code: int) -> V1PodStatus:
    return V1PodStatus(
        phase=phase,
        container_statuses=[
            V1ContainerStatus(
                name="",
                image="",
                image_id="",
                ready=False,
                restart_count=0,
                state=V1ContainerState(terminated=V1ContainerStateTerminated(exit_code=exit_code)),
            )
        ],
    )


@pytest.mark.parametrize(
    ("job", "pod", "want_result"),
    [
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0),
            build_pod()
            .index_failure_count("0")
            .phase("Failed")
            .index("0")
            .tracking_finalizer()
            .pod,
            True,
            id="failed pod exceeding backoffLimitPerIndex, when backoffLimitPerIndex=0",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=1),
            build_pod()
            .index_failure_count("1")
            .phase("Failed")
            .index("1")
            .tracking_finalizer()
            .pod,
            True,
            id="failed pod exceeding backoffLimitPerIndex, when backoffLimitPerIndex=1",
        ),
        pytest.param(
            _job(
                completions=2,
                backoff_limit_per_index=1,
                pod_failure_policy=V1PodFailurePolicy(
                    rules=[
                        V1PodFailurePolicyRule(
                            action="FailIndex",
                            on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
                                operator="In", values=[3]
                            ),
                        )
                    ]
                ),
            ),
            build_pod()
            .index_failure_count("0")
            .status(_exit_code_status("Failed", 3))
            .index("0")
            .tracking_finalizer()
            .pod,
            True,
            id="matching FailIndex pod failure policy",
        ),
    ],
)
def test_is_index_failed(job: V1Job, pod: V1Pod, want_result: bool) -> None:
    assert is_index_failed(job, pod) == want_result


@pytest.mark.parametrize(
    ("job", "pods", "want_failed_indexes"),
    [
        pytest.param(
            _job(completions=2, backoff_limit_per_index=1),
            [
                build_pod()
                .index_failure_count("0")
                .phase("Failed")
                .index("0")
                .tracking_finalizer()
                .pod,
                build_pod()
                .index_failure_count("1")
                .phase("Failed")
                .index("1")
                .tracking_finalizer()
                .pod,
            ],
            _oi((1, 1)),
            id="one new index failed",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0),
            [build_pod().index_failure_count("0").phase("Failed").index("0").pod],
            _oi(),
            id="pod without finalizer is ignored",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0),
            [build_pod().index_failure_count("0").phase("Failed").index("3").pod],
            _oi(),
            id="pod outside completions is ignored",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0, failed_indexes="0"),
            [
                build_pod()
                .index_failure_count("0")
                .phase("Failed")
                .index("1")
                .tracking_finalizer()
                .pod
            ],
            _oi((0, 1)),
            id="extend the failed indexes",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0, failed_indexes=""),
            [
                build_pod()
                .index_failure_count("0")
                .phase("Failed")
                .index("1")
                .tracking_finalizer()
                .pod
            ],
            _oi((1, 1)),
            id="prev failed indexes empty",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0, failed_indexes="9"),
            [
                build_pod()
                .index_failure_count("0")
                .phase("Failed")
                .index("1")
                .tracking_finalizer()
                .pod
            ],
            _oi((1, 1)),
            id="prev failed indexes outside the completions",
        ),
    ],
)
def test_calculate_failed_indexes(
    job: V1Job, pods: list[V1Pod], want_failed_indexes: OrderedIntervals
) -> None:
    assert calculate_failed_indexes(job, pods) == want_failed_indexes


_NOW = datetime.now(UTC)


def _failed(uid: str, failure_count: str, index: str) -> Any:
    return build_pod().uid(uid).index_failure_count(failure_count).phase("Failed").index(index)


@pytest.mark.parametrize(
    ("job", "pods", "expected_rm_finalizers", "want_pods_with_delayed_deletion_per_index"),
    [
        pytest.param(
            _job(completions=3, backoff_limit_per_index=1),
            [
                _failed("a", "0", "0").tracking_finalizer().pod,
                _failed("b", "1", "1").tracking_finalizer().pod,
                _failed("c", "0", "2").tracking_finalizer().pod,
            ],
            set(),
            ["a", "c"],
            id="failed pods are kept corresponding to non-failed indexes are kept",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0),
            [_failed("a", "0", "0").pod],
            set(),
            [],
            id="failed pod without finalizer; the pod's deletion is not delayed as it already "
            "started",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0),
            [_failed("a", "0", "0").tracking_finalizer().pod],
            {"a"},
            [],
            id="failed pod with expected finalizer removal; the pod's deletion is not delayed "
            "as it already started",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=0),
            [_failed("a", "0", "4").tracking_finalizer().pod],
            set(),
            [],
            id="failed pod with index outside of completions; the pod's deletion is not delayed",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=1),
            [
                _failed("a1", "0", "0").tracking_finalizer().pod,
                build_pod()
                .uid("a2")
                .index_failure_count("1")
                .phase("Running")
                .index("0")
                .tracking_finalizer()
                .pod,
            ],
            set(),
            [],
            id="failed pod for active index; the pod's deletion is not delayed as it is already "
            "replaced",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=1),
            [
                _failed("a1", "0", "0").tracking_finalizer().pod,
                build_pod()
                .uid("a2")
                .index_failure_count("1")
                .phase("Succeeded")
                .index("0")
                .tracking_finalizer()
                .pod,
            ],
            set(),
            [],
            id="failed pod for succeeded index; the pod's deletion is not delayed as it is "
            "already replaced",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=4),
            [
                _failed("a1", "0", "0").tracking_finalizer().pod,
                _failed("a3", "2", "0").tracking_finalizer().pod,
                _failed("a2", "1", "0").tracking_finalizer().pod,
            ],
            set(),
            ["a3"],
            id="multiple failed pods for index with different failure count; only the pod with "
            "highest failure count is kept",
        ),
        pytest.param(
            _job(completions=2, backoff_limit_per_index=4),
            [
                _failed("a1", "1", "0")
                .custom_deletion_timestamp(_NOW - timedelta(seconds=1))
                .tracking_finalizer()
                .pod,
                _failed("a3", "1", "0").custom_deletion_timestamp(_NOW).tracking_finalizer().pod,
                _failed("a2", "1", "0")
                .custom_deletion_timestamp(_NOW - timedelta(seconds=2))
                .tracking_finalizer()
                .pod,
            ],
            set(),
            ["a3"],
            id="multiple failed pods for index with different finish times; only the last "
            "failed pod is kept",
        ),
    ],
)
def test_get_pods_with_delayed_deletion_per_index(
    job: V1Job,
    pods: list[V1Pod],
    expected_rm_finalizers: set[str],
    want_pods_with_delayed_deletion_per_index: list[str],
) -> None:
    from jobctl.job.job_controller import SyncJobCtx

    active_pods = filter_active_pods(pods)
    failed_indexes = calculate_failed_indexes(job, pods)
    _, succeeded_indexes = calculate_succeeded_indexes(job, pods)
    job_ctx = SyncJobCtx(
        job=job,
        pods=pods,
        active_pods=active_pods,
        succeeded_indexes=succeeded_indexes,
        failed_indexes=failed_indexes,
        expected_rm_finalizers=expected_rm_finalizers,
    )
    got = get_pods_with_delayed_deletion_per_index(job_ctx)
    got_uids = sorted({p.metadata.uid for p in got.values() if p.metadata is not None})
    assert got_uids == want_pods_with_delayed_deletion_per_index


_IGNORE_DISRUPTION_POLICY = V1PodFailurePolicy(
    rules=[
        V1PodFailurePolicyRule(
            action="Ignore",
            on_pod_conditions=[
                V1PodFailurePolicyOnPodConditionsPattern(type="DisruptionTarget", status="True")
            ],
        )
    ]
)


@pytest.mark.parametrize(
    ("job", "pod", "want_new_index_failure_count", "want_new_index_ignored_failure_count"),
    [
        pytest.param(V1Job(), None, 0, 0, id="first pod created"),
        pytest.param(
            V1Job(),
            _failed("a", "0", "0").tracking_finalizer().pod,
            1,
            0,
            id="failed pod being replaced with 0 index failure count",
        ),
        pytest.param(
            V1Job(),
            _failed("a", "3", "0").tracking_finalizer().pod,
            4,
            0,
            id="failed pod being replaced with >0 index failure count",
        ),
        pytest.param(
            _job(pod_failure_policy=_IGNORE_DISRUPTION_POLICY),
            build_pod()
            .uid("a")
            .index_failure_count("3")
            .status(
                V1PodStatus(
                    phase="Failed",
                    conditions=[V1PodCondition(type="DisruptionTarget", status="True")],
                )
            )
            .index("3")
            .tracking_finalizer()
            .pod,
            3,
            1,
            id="failed pod being replaced, matching the ignore rule",
        ),
    ],
)
def test_get_new_index_failure_count_value(
    job: V1Job,
    pod: V1Pod | None,
    want_new_index_failure_count: int,
    want_new_index_ignored_failure_count: int,
) -> None:
    got_count, got_ignored = get_new_index_failure_counts(job, pod)
    assert got_count == want_new_index_failure_count
    assert got_ignored == want_new_index_ignored_failure_count


@pytest.mark.parametrize(
    ("intervals", "index", "want_has"),
    [
        pytest.param(_oi(), 4, False, id="empty"),
        pytest.param(_oi((2, 4), (5, 7)), 1, False, id="before all"),
        pytest.param(_oi((2, 4), (6, 8)), 9, False, id="after all"),
        pytest.param(_oi((2, 4), (6, 8)), 5, False, id="in between"),
        pytest.param(_oi((2, 4), (6, 8)), 2, True, id="in first"),
        pytest.param(_oi((2, 4), (6, 8)), 8, True, id="in second"),
    ],
)
def test_intervals_have_index(intervals: OrderedIntervals, index: int, want_has: bool) -> None:
    assert intervals.has(index) == want_has


@pytest.mark.parametrize(
    ("cnt", "completions", "active_pods", "succeeded_indexes", "failed_indexes", "want"),
    [
        pytest.param(5, 3, [], _oi(), None, [0, 1, 2], id="cnt greater than completions"),
        pytest.param(2, 5, [], _oi(), None, [0, 1], id="cnt less than completions"),
        pytest.param(
            3,
            10,
            [_ip("0", "Running"), _ip("1", "Pending")],
            _oi(),
            None,
            [2, 3, 4],
            id="first pods active",
        ),
        pytest.param(
            6,
            6,
            [_ip("6", "Pending")],
            _oi((4, 5)),
            None,
            [0, 1, 2, 3],
            id="last pods active or succeeded",
        ),
        pytest.param(
            5,
            20,
            [
                _ip("3", "Pending"),
                _ip("5", "Running"),
                _ip("8", "Pending"),
                _ip(NO_INDEX, "Running"),
                _ip("-3", "Running"),
            ],
            _oi((2, 4), (9, 9)),
            None,
            [0, 1, 6, 7, 10],
            id="mixed",
        ),
        pytest.param(
            5,
            20,
            [_ip("3", "Pending"), _ip("9", "Pending")],
            _oi((1, 1), (5, 5), (9, 9)),
            _oi((2, 2), (6, 7)),
            [0, 4, 8, 10, 11],
            id="with failed indexes",
        ),
    ],
)
def test_first_pending_indexes(
    cnt: int,
    completions: int,
    active_pods: list[IndexPhase],
    succeeded_indexes: OrderedIntervals,
    failed_indexes: OrderedIntervals | None,
    want: list[int],
) -> None:
    from jobctl.job.job_controller import SyncJobCtx

    job_ctx = SyncJobCtx(
        job=new_job(1, 1, 1, "Indexed"),
        active_pods=hollow_pods_with_index_phase(active_pods),
        succeeded_indexes=succeeded_indexes,
        failed_indexes=failed_indexes,
    )
    assert first_pending_indexes(job_ctx, cnt, completions) == want


def test_first_pending_indexes_skips_terminating_pods_when_only_replacing_failed() -> None:
    """With podReplacementPolicy Failed, indexes of terminating pods are not pending."""
    from jobctl.job.job_controller import SyncJobCtx

    job = new_job(1, 1, 1, "Indexed")
    assert job.spec is not None
    job.spec.pod_replacement_policy = "Failed"
    terminating = (
        build_pod()
        .phase("Running")
        .index("1")
        .custom_deletion_timestamp(datetime(2026, 1, 1, tzinfo=UTC))
        .pod
    )
    job_ctx = SyncJobCtx(job=job, pods=[terminating])
    assert first_pending_indexes(job_ctx, 3, 5) == [0, 2, 3]
    job.spec.pod_replacement_policy = "TerminatingOrFailed"
    assert first_pending_indexes(job_ctx, 3, 5) == [0, 1, 2]


@pytest.mark.parametrize(
    ("pods", "want_rm", "want_left", "completions"),
    [
        pytest.param(
            [
                _ip(NO_INDEX, "Pending"),
                _ip("2", "Pending"),
                _ip("5", "Running"),
                _ip("6", "Running"),
            ],
            [_ip(NO_INDEX, "Pending"), _ip("6", "Running")],
            [_ip("2", "Pending"), _ip("5", "Running")],
            6,
            id="all unique",
        ),
        pytest.param(
            [
                _ip("5", "Pending"),
                _ip("0", "Running"),
                _ip("3", "Pending"),
                _ip("0", "Running"),
                _ip("3", "Running"),
                _ip("0", "Pending"),
                _ip("6", "Running"),
                _ip("6", "Pending"),
            ],
            [
                _ip("0", "Pending"),
                _ip("0", "Running"),
                _ip("3", "Pending"),
                _ip("6", "Running"),
                _ip("6", "Pending"),
            ],
            [_ip("0", "Running"), _ip("3", "Running"), _ip("5", "Pending")],
            6,
            id="all with index",
        ),
        pytest.param(
            [
                _ip(NO_INDEX, "Pending"),
                _ip("invalid", "Running"),
                _ip("-2", "Running"),
                _ip("0", "Pending"),
                _ip("1", "Pending"),
                _ip("1", "Pending"),
                _ip("1", "Running"),
            ],
            [
                _ip(NO_INDEX, "Pending"),
                _ip("invalid", "Running"),
                _ip("-2", "Running"),
                _ip("1", "Pending"),
                _ip("1", "Pending"),
            ],
            [_ip("0", "Pending"), _ip("1", "Running")],
            6,
            id="mixed",
        ),
    ],
)
def test_append_duplicated_index_pods_for_removal(
    pods: list[IndexPhase], want_rm: list[IndexPhase], want_left: list[IndexPhase], completions: int
) -> None:
    rm, left = append_duplicated_index_pods_for_removal(
        [], [], hollow_pods_with_index_phase(pods), completions
    )
    assert to_index_phases(rm) == want_rm
    assert to_index_phases(left) == want_left


@pytest.mark.parametrize(
    ("jobname", "index", "want_pod_generate_name"),
    [
        pytest.param("indexed-job", 1, "indexed-job-1-", id="short job name"),
        pytest.param(
            "hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooo",
            1,
            "hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhh-1-",
            id="job name exceeds MaxGeneneratedNameLength",
        ),
        pytest.param(
            "hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhoo",
            1,
            "hhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhhooooohhhhh-1-",
            id="job name with index suffix exceeds MaxGeneratedNameLength",
        ),
    ],
)
def test_pod_generate_name_with_index(
    jobname: str, index: int, want_pod_generate_name: str
) -> None:
    assert pod_generate_name_with_index(jobname, index) == want_pod_generate_name


@pytest.mark.parametrize(
    ("pod", "want_result"),
    [
        pytest.param(V1Pod(), 0, id="no annotation"),
        pytest.param(build_pod().index_failure_count("2").pod, 2, id="valid value"),
        pytest.param(
            build_pod().index_failure_count(str(MAX_INT32)).pod,
            MAX_INT32,
            id="valid maxint32 value",
        ),
        pytest.param(
            build_pod().index_failure_count(str(MAX_INT32 + 1)).pod, 0, id="too large value"
        ),
        pytest.param(build_pod().index_failure_count("-1").pod, 0, id="negative value"),
        pytest.param(build_pod().index_failure_count("xyz").pod, 0, id="invalid int value"),
    ],
)
def test_get_index_failure_count(pod: V1Pod, want_result: int) -> None:
    assert get_index_failure_count(pod) == want_result


# Beyond the upstream tables.


@pytest.mark.parametrize(
    ("intervals", "want"),
    [
        pytest.param(_oi(), "", id="empty"),
        pytest.param(_oi((1, 1), (3, 5), (7, 8)), "1,3-5,7,8", id="single, range, pair"),
        pytest.param(_oi((0, 9)), "0-9", id="one range"),
    ],
)
def test_ordered_intervals_string(intervals: OrderedIntervals, want: str) -> None:
    assert str(intervals) == want
    assert intervals.string() == want
    assert parse_indexes_from_string(want, 100) == intervals


def test_ordered_intervals_merge_and_total() -> None:
    a = _oi((0, 2), (8, 9))
    b = _oi((3, 4), (6, 6), (9, 12))
    merged = a.merge(b)
    assert merged == _oi((0, 4), (6, 6), (8, 12))
    assert merged.total() == 11
    # The inputs are untouched.
    assert a == _oi((0, 2), (8, 9))
    assert b == _oi((3, 4), (6, 6), (9, 12))
    assert a.with_ordered_indexes([3, 5, 7]) == _oi((0, 3), (5, 5), (7, 9))


@pytest.mark.parametrize(
    ("annotations", "want"),
    [
        pytest.param(None, -1, id="nil annotations"),
        pytest.param({}, -1, id="no annotation"),
        pytest.param({JOB_COMPLETION_INDEX_ANNOTATION: "3"}, 3, id="valid"),
        pytest.param({JOB_COMPLETION_INDEX_ANNOTATION: "+3"}, 3, id="explicit plus sign"),
        pytest.param({JOB_COMPLETION_INDEX_ANNOTATION: "-3"}, -1, id="negative"),
        pytest.param({JOB_COMPLETION_INDEX_ANNOTATION: " 3"}, -1, id="space is not a digit"),
        pytest.param({JOB_COMPLETION_INDEX_ANNOTATION: "1_0"}, -1, id="underscore"),
    ],
)
def test_get_completion_index(annotations: dict[str, str] | None, want: int) -> None:
    assert get_completion_index(annotations) == want


def test_pod_template_index_helpers() -> None:
    template = V1PodTemplateSpec(
        spec=V1PodSpec(
            init_containers=[V1Container(name="init")],
            containers=[
                V1Container(name="main"),
                V1Container(
                    name="preset", env=[V1EnvVar(name=COMPLETION_INDEX_ENV_NAME, value="7")]
                ),
            ],
        )
    )
    add_completion_index_env_variables(template)
    add_completion_index_annotation(template, 4)
    add_completion_index_label(template, 4)
    job = _job(completions=5)
    failed = _failed("x", "2", "4").index_ignored_failure_count("1").pod
    add_index_failure_count_annotation(template, job, failed)

    assert template.metadata is not None and template.spec is not None
    assert template.metadata.annotations == {
        JOB_COMPLETION_INDEX_ANNOTATION: "4",
        JOB_INDEX_FAILURE_COUNT_ANNOTATION: "3",
        JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION: "1",
    }
    assert template.metadata.labels == {JOB_COMPLETION_INDEX_ANNOTATION: "4"}
    field_path = f"metadata.labels['{JOB_COMPLETION_INDEX_ANNOTATION}']"
    for container in [*(template.spec.init_containers or []), template.spec.containers[0]]:
        assert container.env is not None and len(container.env) == 1
        env = container.env[0]
        assert env.name == COMPLETION_INDEX_ENV_NAME
        assert env.value_from is not None and env.value_from.field_ref is not None
        assert env.value_from.field_ref.field_path == field_path
    assert template.spec.containers[1].env == [V1EnvVar(name=COMPLETION_INDEX_ENV_NAME, value="7")]


def test_completion_mode_helpers() -> None:
    assert completion_mode_str(new_job(1, 1, 1)) == "NonIndexed"
    assert completion_mode_str(new_job(1, 1, 1, "Indexed")) == "Indexed"
    assert is_indexed_job(new_job(1, 1, 1, "Indexed"))
    assert not is_indexed_job(new_job(1, 1, 1, "NonIndexed"))
    pod = V1Pod(metadata=V1ObjectMeta())
    assert get_index_failure_count(pod) == 0
