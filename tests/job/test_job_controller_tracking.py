"""Port of TestGetNewFinshedPods and TestTrackJobStatusAndRemoveFinalizers
(pkg/controller/job/job_controller_test.go)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes.client import (
    V1Job,
    V1JobSpec,
    V1JobStatus,
    V1ObjectMeta,
    V1UncountedTerminatedPods,
)

from jobctl.controller.controller_utils import (
    FakePodControl,
    count_terminating_pods,
    filter_active_pods,
)
from jobctl.job import job_controller, metrics
from jobctl.job.indexed_job_utils import (
    calculate_failed_indexes,
    completion_mode_str,
    get_pods_with_delayed_deletion_per_index,
    is_indexed_job,
    parse_indexes_from_string,
)
from jobctl.job.job_controller import (
    SyncJobCtx,
    get_new_finished_pods,
    new_condition,
    new_uncounted_terminated_pods,
)
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import ZERO_TIME, build_pod
from jobctl.testing.job_harness import JobHarness, errors_is, status_view, z

fake_clock = FakeClock(datetime.now(UTC))
now = fake_clock.now()
minute_ago = now - timedelta(minutes=1)
completed_cond = new_condition("Complete", "True", "", "", now)
succeeded_cond = new_condition("SuccessCriteriaMet", "True", "", "", minute_ago)
failed_cond = new_condition("Failed", "True", "", "", now)
failure_target_cond = new_condition("FailureTarget", "True", "", "", now)
indexed_completion = "Indexed"
mock_err = RuntimeError("mock error")


GET_NEW_FINISHED_PODS_CASES = {
    "some counted": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                succeeded=2,
                failed=1,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            ),
        ),
        pods=[
            build_pod().uid("a").phase("Succeeded").pod,
            build_pod().uid("b").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("d").phase("Failed").pod,
            build_pod().uid("e").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("f").phase("Running").pod,
        ],
        want_succeeded=4,
        want_failed=2,
    ),
    "some uncounted": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                succeeded=1,
                failed=1,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a", "c"], failed=["e", "f"]
                ),
            ),
        ),
        pods=[
            build_pod().uid("a").phase("Succeeded").pod,
            build_pod().uid("b").phase("Succeeded").pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("d").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("e").phase("Failed").pod,
            build_pod().uid("f").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("g").phase("Failed").tracking_finalizer().pod,
        ],
        want_succeeded=4,
        want_failed=4,
    ),
    "with expected removed finalizers": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                succeeded=2,
                failed=2,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["d"]
                ),
            ),
        ),
        expected_rm_finalizers={"b", "f"},
        pods=[
            build_pod().uid("a").phase("Succeeded").pod,
            build_pod().uid("b").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("d").phase("Failed").pod,
            build_pod().uid("e").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("f").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("g").phase("Failed").tracking_finalizer().pod,
        ],
        want_succeeded=4,
        want_failed=5,
    ),
    "deleted pods": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                succeeded=1,
                failed=1,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            ),
        ),
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().deletion_timestamp().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().deletion_timestamp().pod,
            build_pod().uid("c").phase("Running").tracking_finalizer().deletion_timestamp().pod,
            build_pod().uid("d").phase("Pending").tracking_finalizer().deletion_timestamp().pod,
            build_pod().uid("e").phase("Running").deletion_timestamp().pod,
            build_pod().uid("f").phase("Pending").deletion_timestamp().pod,
        ],
        want_succeeded=2,
        want_failed=4,
    ),
}


@pytest.mark.parametrize(
    "case", list(GET_NEW_FINISHED_PODS_CASES.values()), ids=list(GET_NEW_FINISHED_PODS_CASES)
)
@pytest.mark.parametrize("fast", [False, True], ids=["plain", "fast"])
def test_get_new_finshed_pods(case: dict[str, Any], fast: bool) -> None:
    job = case["job"]
    uncounted = new_uncounted_terminated_pods(job.status.uncounted_terminated_pods)
    job_ctx = SyncJobCtx(
        job=job,
        pods=case["pods"],
        uncounted=uncounted,
        expected_rm_finalizers=case.get("expected_rm_finalizers") or set(),
    )
    job_ctx.active_pods = filter_active_pods(job_ctx.pods)
    finished = job_controller.get_new_finished_pods_fast if fast else get_new_finished_pods
    succeeded_pods, failed_pods = finished(job_ctx)
    succeeded = len(succeeded_pods) + (job.status.succeeded or 0) + len(uncounted.succeeded)
    failed = len(failed_pods) + (job.status.failed or 0) + len(uncounted.failed)
    assert succeeded == case["want_succeeded"]
    assert failed == case["want_failed"]


TRACK_JOB_STATUS_CASES = {
    "no updates": dict(),
    "new active": dict(
        job=z(V1Job, status=z(V1JobStatus, active=1)),
        needs_flush=True,
        want_status_updates=[
            z(V1JobStatus, uncounted_terminated_pods=z(V1UncountedTerminatedPods), active=1)
        ],
    ),
    "track finished pods": dict(
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().deletion_timestamp().pod,
            build_pod().uid("d").phase("Failed").tracking_finalizer().deletion_timestamp().pod,
            build_pod().uid("e").phase("Pending").tracking_finalizer().deletion_timestamp().pod,
            build_pod().phase("Pending").tracking_finalizer().pod,
            build_pod().phase("Running").tracking_finalizer().pod,
        ],
        want_rm_finalizers=5,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a", "c"], failed=["b", "d", "e"]
                ),
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=2,
                failed=3,
            ),
        ],
        want_succeeded_pods_metric=2,
        want_failed_pods_metric=3,
    ),
    "past and new finished pods": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                active=1,
                succeeded=2,
                failed=3,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a", "e"], failed=["b", "f"]
                ),
            ),
        ),
        pods=[
            build_pod().uid("e").phase("Succeeded").pod,
            build_pod().phase("Failed").pod,
            build_pod().phase("Pending").pod,
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("d").phase("Failed").tracking_finalizer().pod,
        ],
        want_rm_finalizers=4,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a", "c"], failed=["b", "d"]
                ),
                active=1,
                succeeded=3,
                failed=4,
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                active=1,
                succeeded=5,
                failed=6,
            ),
        ],
        want_succeeded_pods_metric=3,
        want_failed_pods_metric=3,
    ),
    "expecting removed finalizers": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                succeeded=2,
                failed=3,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a", "g"], failed=["b", "h"]
                ),
            ),
        ),
        expected_rm_finalizers={"c", "d", "g", "h"},
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("d").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("e").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("f").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("g").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("h").phase("Failed").tracking_finalizer().pod,
        ],
        want_rm_finalizers=4,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a", "e"], failed=["b", "f"]
                ),
                succeeded=3,
                failed=4,
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=5,
                failed=6,
            ),
        ],
        want_succeeded_pods_metric=3,
        want_failed_pods_metric=3,
    ),
    "succeeding job by JobSuccessPolicy": dict(
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("c").phase("Pending").tracking_finalizer().pod,
        ],
        finished_cond=succeeded_cond,
        want_rm_finalizers=3,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b"]
                ),
                conditions=[succeeded_cond],
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=1,
                failed=1,
                conditions=[succeeded_cond, completed_cond],
                completion_time=completed_cond.last_transition_time,
            ),
        ],
        want_succeeded_pods_metric=1,
        want_failed_pods_metric=1,
    ),
    "completing job": dict(
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
        ],
        finished_cond=completed_cond,
        want_rm_finalizers=2,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b"]
                ),
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=1,
                failed=1,
                conditions=[completed_cond],
                completion_time=completed_cond.last_transition_time,
            ),
        ],
        want_succeeded_pods_metric=1,
        want_failed_pods_metric=1,
    ),
    "failing job": dict(
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("c").phase("Running").tracking_finalizer().pod,
        ],
        finished_cond=failed_cond,
        want_rm_finalizers=3,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b", "c"]
                ),
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=1,
                failed=2,
                conditions=[failed_cond],
            ),
        ],
        want_succeeded_pods_metric=1,
        want_failed_pods_metric=2,
    ),
    "deleted job": dict(
        job=z(
            V1Job,
            metadata=z(V1ObjectMeta, deletion_timestamp=ZERO_TIME),
            status=z(V1JobStatus, active=1),
        ),
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
            build_pod().phase("Running").tracking_finalizer().pod,
        ],
        want_rm_finalizers=3,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b"]
                ),
                active=1,
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                active=1,
                succeeded=1,
                failed=1,
            ),
        ],
        want_succeeded_pods_metric=1,
        want_failed_pods_metric=1,
    ),
    "status update error": dict(
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
        ],
        status_update_err=mock_err,
        want_err=mock_err,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b"]
                ),
            )
        ],
    ),
    "pod patch errors": dict(
        pods=[
            build_pod().uid("a").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
        ],
        pod_control_err=mock_err,
        want_err=mock_err,
        want_rm_finalizers=2,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b"]
                ),
            )
        ],
    ),
    "pod patch errors with partial success": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["a"], failed=["b"]
                ),
            ),
        ),
        pods=[
            build_pod().uid("a").phase("Succeeded").pod,
            build_pod().uid("c").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("d").phase("Failed").tracking_finalizer().pod,
        ],
        pod_control_err=mock_err,
        want_err=mock_err,
        want_rm_finalizers=2,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, succeeded=["c"], failed=["d"]
                ),
                succeeded=1,
                failed=1,
            )
        ],
    ),
    "indexed job new successful pods": dict(
        job=z(
            V1Job,
            spec=z(V1JobSpec, completion_mode=indexed_completion, completions=6),
            status=z(V1JobStatus, active=1),
        ),
        pods=[
            build_pod().phase("Succeeded").tracking_finalizer().index("1").pod,
            build_pod().phase("Succeeded").tracking_finalizer().index("3").pod,
            build_pod().phase("Succeeded").tracking_finalizer().index("3").pod,
            build_pod().phase("Running").tracking_finalizer().index("5").pod,
            build_pod().phase("Succeeded").tracking_finalizer().pod,
        ],
        want_rm_finalizers=4,
        want_status_updates=[
            z(
                V1JobStatus,
                active=1,
                succeeded=2,
                completed_indexes="1,3",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            )
        ],
        want_succeeded_pods_metric=2,
    ),
    "indexed job prev successful pods outside current completions index range with no new succeeded pods": dict(  # noqa: E501
        job=z(
            V1Job,
            spec=z(V1JobSpec, completion_mode=indexed_completion, completions=2, parallelism=2),
            status=z(V1JobStatus, active=2, succeeded=1, completed_indexes="3"),
        ),
        pods=[
            build_pod().phase("Running").tracking_finalizer().index("0").pod,
            build_pod().phase("Running").tracking_finalizer().index("1").pod,
        ],
        want_rm_finalizers=0,
        want_status_updates=[
            z(
                V1JobStatus,
                active=2,
                succeeded=0,
                completed_indexes="",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            )
        ],
    ),
    "indexed job prev successful pods outside current completions index range with new succeeded pods in range": dict(  # noqa: E501
        job=z(
            V1Job,
            spec=z(V1JobSpec, completion_mode=indexed_completion, completions=2, parallelism=2),
            status=z(V1JobStatus, active=2, succeeded=1, completed_indexes="3"),
        ),
        pods=[
            build_pod().phase("Running").tracking_finalizer().index("0").pod,
            build_pod().phase("Succeeded").tracking_finalizer().index("1").pod,
        ],
        want_rm_finalizers=1,
        want_status_updates=[
            z(
                V1JobStatus,
                active=2,
                succeeded=1,
                completed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            )
        ],
        want_succeeded_pods_metric=1,
    ),
    "indexed job new failed pods": dict(
        job=z(
            V1Job,
            spec=z(V1JobSpec, completion_mode=indexed_completion, completions=6),
            status=z(V1JobStatus, active=1),
        ),
        pods=[
            build_pod().uid("a").phase("Failed").tracking_finalizer().index("1").pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().index("3").pod,
            build_pod().uid("c").phase("Failed").tracking_finalizer().index("3").pod,
            build_pod().uid("d").phase("Running").tracking_finalizer().index("5").pod,
            build_pod().phase("Failed").tracking_finalizer().pod,
        ],
        want_rm_finalizers=4,
        want_status_updates=[
            z(
                V1JobStatus,
                active=1,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a", "b", "c"]),
            ),
            z(
                V1JobStatus,
                active=1,
                failed=3,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            ),
        ],
        want_failed_pods_metric=3,
    ),
    "indexed job past and new pods": dict(
        job=z(
            V1Job,
            spec=z(V1JobSpec, completion_mode=indexed_completion, completions=7),
            status=z(V1JobStatus, failed=2, succeeded=5, completed_indexes="0-2,4,6,7"),
        ),
        pods=[
            build_pod().phase("Succeeded").index("0").pod,
            build_pod().phase("Failed").index("1").pod,
            build_pod().phase("Succeeded").tracking_finalizer().index("1").pod,
            build_pod().phase("Succeeded").tracking_finalizer().index("3").pod,
            build_pod().uid("a").phase("Failed").tracking_finalizer().index("2").pod,
            build_pod().uid("b").phase("Failed").tracking_finalizer().index("5").pod,
        ],
        want_rm_finalizers=4,
        want_status_updates=[
            z(
                V1JobStatus,
                succeeded=6,
                failed=2,
                completed_indexes="0-4,6",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a", "b"]),
            ),
            z(
                V1JobStatus,
                succeeded=6,
                failed=4,
                completed_indexes="0-4,6",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            ),
        ],
        want_succeeded_pods_metric=1,
        want_failed_pods_metric=2,
    ),
    "too many finished": dict(
        job=z(
            V1Job,
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a", "b"]),
            ),
        ),
        pods=[
            *(
                build_pod().uid(str(i)).phase("Succeeded").tracking_finalizer().pod
                for i in range(500)
            ),
            build_pod().uid("b").phase("Failed").tracking_finalizer().pod,
        ],
        want_rm_finalizers=499,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods,
                    succeeded=[str(i) for i in range(499)],
                    failed=["b"],
                ),
                failed=1,
            ),
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["b"]),
                succeeded=499,
                failed=1,
            ),
        ],
        want_succeeded_pods_metric=499,
        want_failed_pods_metric=1,
    ),
    "too many indexed finished": dict(
        job=z(V1Job, spec=z(V1JobSpec, completion_mode=indexed_completion, completions=501)),
        pods=[
            build_pod().uid(str(i)).index(str(i)).phase("Succeeded").tracking_finalizer().pod
            for i in range(501)
        ],
        want_rm_finalizers=500,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                completed_indexes="0-499",
                succeeded=500,
            )
        ],
        want_succeeded_pods_metric=500,
    ),
    "pod flips from failed to succeeded": dict(
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=2, parallelism=2),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a", "b"]),
            ),
        ),
        pods=[
            build_pod().uid("a").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("b").phase("Succeeded").tracking_finalizer().pod,
        ],
        finished_cond=failed_cond,
        want_rm_finalizers=2,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed=2,
                conditions=[failed_cond],
            )
        ],
        want_failed_pods_metric=2,
    ),
    "pod is terminal; JobFailed condition is set": dict(
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus, uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a"])
            ),
        ),
        pods=[build_pod().uid("a").phase("Failed").tracking_finalizer().pod],
        finished_cond=failed_cond,
        want_rm_finalizers=1,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed=1,
                conditions=[failed_cond],
            )
        ],
        want_failed_pods_metric=1,
    ),
    "pod is terminating; counted as failed, but the JobFailed condition is delayed": dict(
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a"]),
                conditions=[failure_target_cond],
            ),
        ),
        pods=[build_pod().uid("a").phase("Running").deletion_timestamp().pod],
        finished_cond=failed_cond,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed=1,
                conditions=[failure_target_cond],
            )
        ],
        want_failed_pods_metric=1,
    ),
    "pod is terminating; counted as failed, but the JobFailed condition is delayed; JobManagedBy enabled": dict(  # noqa: E501
        enable_job_managed_by=True,
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a"]),
                conditions=[failure_target_cond],
            ),
        ),
        pods=[build_pod().uid("a").phase("Running").deletion_timestamp().pod],
        finished_cond=failed_cond,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed=1,
                conditions=[failure_target_cond],
            )
        ],
        want_failed_pods_metric=1,
    ),
    "pod is terminating; counted as failed, JobFailed condition is not delayed; JobManagedBy disabled": dict(  # noqa: E501
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a"]),
                conditions=[failure_target_cond],
            ),
        ),
        pods=[build_pod().uid("a").phase("Running").deletion_timestamp().pod],
        finished_cond=failed_cond,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed=1,
                conditions=[failure_target_cond],
            )
        ],
        want_failed_pods_metric=1,
    ),
    "pod is terminating; JobSuccessCriteriaMet, but JobComplete condition is delayed; JobManagedBy disabled": dict(  # noqa: E501
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, failed=["a"], succeeded=["b"]
                ),
                conditions=[succeeded_cond],
            ),
        ),
        pods=[build_pod().uid("a").phase("Running").deletion_timestamp().pod],
        finished_cond=completed_cond,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=1,
                failed=1,
                conditions=[succeeded_cond],
            )
        ],
        want_failed_pods_metric=1,
        want_succeeded_pods_metric=1,
    ),
    "pod is terminating; JobSuccessCriteriaMet, but JobComplete condition is delayed; JobManagedBy enabled": dict(  # noqa: E501
        enable_job_managed_by=True,
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, failed=["a"], succeeded=["b"]
                ),
                conditions=[succeeded_cond],
            ),
        ),
        pods=[build_pod().uid("a").phase("Running").deletion_timestamp().pod],
        finished_cond=completed_cond,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=1,
                failed=1,
                conditions=[succeeded_cond],
            )
        ],
        want_failed_pods_metric=1,
        want_succeeded_pods_metric=1,
    ),
    "pod is terminating; JobSuccessCriteriaMet, JobComplete condition is not delayed; JobManagedBy disabled": dict(  # noqa: E501
        job=z(
            V1Job,
            spec=z(V1JobSpec, completions=1, parallelism=1),
            status=z(
                V1JobStatus,
                uncounted_terminated_pods=z(
                    V1UncountedTerminatedPods, failed=["a"], succeeded=["b"]
                ),
                conditions=[succeeded_cond],
            ),
        ),
        pods=[build_pod().uid("a").phase("Running").deletion_timestamp().pod],
        finished_cond=completed_cond,
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                succeeded=1,
                failed=1,
                conditions=[succeeded_cond],
            )
        ],
        want_failed_pods_metric=1,
        want_succeeded_pods_metric=1,
    ),
    "indexed job with a failed pod with delayed finalizer removal; the pod is not counted": dict(
        job=z(
            V1Job,
            spec=z(
                V1JobSpec,
                completion_mode=indexed_completion,
                completions=6,
                backoff_limit_per_index=1,
            ),
        ),
        pods=[
            build_pod()
            .uid("a")
            .phase("Failed")
            .index_failure_count("0")
            .tracking_finalizer()
            .index("1")
            .pod
        ],
        want_status_updates=[
            z(
                V1JobStatus,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed_indexes="",
            )
        ],
    ),
    "indexed job with a failed pod which is recreated by a running pod; the pod is counted": dict(
        job=z(
            V1Job,
            spec=z(
                V1JobSpec,
                completion_mode=indexed_completion,
                completions=6,
                backoff_limit_per_index=1,
            ),
            status=z(V1JobStatus, active=1),
        ),
        pods=[
            build_pod()
            .uid("a1")
            .phase("Failed")
            .index_failure_count("0")
            .tracking_finalizer()
            .index("1")
            .pod,
            build_pod()
            .uid("a2")
            .phase("Running")
            .index_failure_count("1")
            .tracking_finalizer()
            .index("1")
            .pod,
        ],
        want_rm_finalizers=1,
        want_status_updates=[
            z(
                V1JobStatus,
                active=1,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a1"]),
                failed_indexes="",
            ),
            z(
                V1JobStatus,
                active=1,
                failed=1,
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                failed_indexes="",
            ),
        ],
        want_failed_pods_metric=1,
    ),
    "indexed job with a failed pod for a failed index; the pod is counted": dict(
        job=z(
            V1Job,
            spec=z(
                V1JobSpec,
                completion_mode=indexed_completion,
                completions=6,
                backoff_limit_per_index=1,
            ),
        ),
        pods=[
            build_pod()
            .uid("a")
            .phase("Failed")
            .index_failure_count("1")
            .tracking_finalizer()
            .index("1")
            .pod
        ],
        want_rm_finalizers=1,
        want_status_updates=[
            z(
                V1JobStatus,
                failed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods, failed=["a"]),
            ),
            z(
                V1JobStatus,
                failed=1,
                failed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            ),
        ],
        want_failed_pods_metric=1,
    ),
}


def _pods_finished_metric(completion_mode: str, result: str) -> float:
    value: float = metrics.job_pods_finished.labels(completion_mode, result)._value.get()
    return value


@pytest.mark.parametrize(
    "case", list(TRACK_JOB_STATUS_CASES.values()), ids=list(TRACK_JOB_STATUS_CASES)
)
@pytest.mark.parametrize("fast", [False, True], ids=["plain", "fast"])
def test_track_job_status_and_remove_finalizers(
    request: pytest.FixtureRequest, case: dict[str, Any], fast: bool
) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    enable_job_managed_by = case.get("enable_job_managed_by", False)
    if not enable_job_managed_by:
        features.set_feature_gate_emulation_version_during_test(
            gate, features.Version(1, 32), cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, enable_job_managed_by, cleanup=request.addfinalizer
    )
    pod_control = FakePodControl(err=case.get("pod_control_err"))
    h = JobHarness(clock=fake_clock, pod_control=pod_control)
    metrics.job_pods_finished.clear()
    manager = h.controller
    status_update_err = case.get("status_update_err")
    status_updates: list[V1JobStatus] = []

    def update_status(job: V1Job) -> V1Job:
        assert job.status is not None
        status_updates.append(job.status.model_copy(deep=True))
        if status_update_err is not None:
            raise status_update_err
        return job

    manager.update_status_handler = update_status
    job = (case.get("job") or z(V1Job)).model_copy(deep=True)
    if job.status is None:
        job.status = z(V1JobStatus)
    if job.status.uncounted_terminated_pods is None:
        job.status.uncounted_terminated_pods = z(V1UncountedTerminatedPods)
    pods = list(case.get("pods") or [])
    job_ctx = SyncJobCtx(
        job=job,
        pods=pods,
        uncounted=new_uncounted_terminated_pods(job.status.uncounted_terminated_pods),
        expected_rm_finalizers=case.get("expected_rm_finalizers") or set(),
        finished_condition=case.get("finished_cond"),
    )
    job_ctx.active_pods = filter_active_pods(pods)
    if is_indexed_job(job):
        job_ctx.succeeded_indexes = parse_indexes_from_string(
            job.status.completed_indexes or "", job.spec.completions
        )
        if job.spec.backoff_limit_per_index is not None:
            job_ctx.failed_indexes = calculate_failed_indexes(job, pods)
            job_ctx.pods_with_delayed_deletion_per_index = get_pods_with_delayed_deletion_per_index(
                job_ctx
            )
    job_ctx.terminating = count_terminating_pods(pods)

    err: BaseException | None = None
    try:
        track = (
            manager.track_job_status_and_remove_finalizers_fast
            if fast
            else manager.track_job_status_and_remove_finalizers
        )
        track(job_ctx, case.get("needs_flush", False))
    except Exception as e:
        err = e
    want_err = case.get("want_err")
    assert errors_is(err, want_err), f"got error {err!r}, want {want_err!r}"
    assert [status_view(s) for s in status_updates] == [
        status_view(s) for s in case.get("want_status_updates") or []
    ]
    assert len(pod_control.patches) == case.get("want_rm_finalizers", 0)
    if want_err is None:
        mode = completion_mode_str(job)
        assert _pods_finished_metric(mode, "succeeded") == case.get("want_succeeded_pods_metric", 0)
        assert _pods_finished_metric(mode, "failed") == case.get("want_failed_pods_metric", 0)
