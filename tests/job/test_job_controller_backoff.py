"""Port of TestJobBackoffForOnFailure, TestJobBackoffOnRestartPolicyNever and
TestEnsureJobConditions (pkg/controller/job/job_controller_test.go)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1ContainerState,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1JobCondition,
)

from jobctl.job.job_controller import ensure_job_condition_status, new_condition
from jobctl.k8s_libs import features
from jobctl.testing.builders import TEST_FINISHED_AT, new_job, new_pod_list
from jobctl.testing.job_harness import JobHarness, conditions_view, z


def _set_job_managed_by(request: pytest.FixtureRequest, enabled: bool) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    if not enabled:
        features.set_feature_gate_emulation_version_during_test(
            gate, features.Version(1, 34), cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, enabled, cleanup=request.addfinalizer
    )


JOB_BACKOFF_FOR_ON_FAILURE_CASES = {
    "backoffLimit 0 should have 1 pod active": dict(
        parallelism=1,
        completions=1,
        backoff_limit=0,
        suspend=False,
        restart_counts=[0],
        pod_phase="Running",
        expected_active=1,
        expected_succeeded=0,
        expected_failed=0,
        expected_conditions=None,
    ),
    "backoffLimit 1 with restartCount 0 should have 1 pod active": dict(
        parallelism=1,
        completions=1,
        backoff_limit=1,
        suspend=False,
        restart_counts=[0],
        pod_phase="Running",
        expected_active=1,
        expected_succeeded=0,
        expected_failed=0,
        expected_conditions=None,
    ),
    "backoffLimit 1 with restartCount 1 and podRunning should have 0 pod active": dict(
        parallelism=1,
        completions=1,
        backoff_limit=1,
        suspend=False,
        restart_counts=[1],
        pod_phase="Running",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
    "backoffLimit 1 with restartCount 1 and podPending should have 0 pod active": dict(
        parallelism=1,
        completions=1,
        backoff_limit=1,
        suspend=False,
        restart_counts=[1],
        pod_phase="Pending",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
    "too many job failures with podRunning - single pod": dict(
        parallelism=1,
        completions=5,
        backoff_limit=2,
        suspend=False,
        restart_counts=[2],
        pod_phase="Running",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
    "too many job failures with podPending - single pod": dict(
        parallelism=1,
        completions=5,
        backoff_limit=2,
        suspend=False,
        restart_counts=[2],
        pod_phase="Pending",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
    "too many job failures with podPending - multiple pods": dict(
        parallelism=2,
        completions=5,
        backoff_limit=2,
        suspend=False,
        restart_counts=[1, 1],
        pod_phase="Pending",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=2,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
    "not enough failures": dict(
        parallelism=2,
        completions=5,
        backoff_limit=3,
        suspend=False,
        restart_counts=[1, 1],
        pod_phase="Running",
        expected_active=2,
        expected_succeeded=0,
        expected_failed=0,
        expected_conditions=None,
    ),
    "suspending a job": dict(
        parallelism=2,
        completions=4,
        backoff_limit=6,
        suspend=True,
        restart_counts=[1, 1],
        pod_phase="Running",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="Suspended",
                status="True",
                reason="JobSuspended",
                message="Job suspended",
            )
        ],
    ),
    "finished job": dict(
        parallelism=2,
        completions=4,
        backoff_limit=6,
        suspend=True,
        restart_counts=[1, 1, 2, 0],
        pod_phase="Succeeded",
        expected_active=0,
        expected_succeeded=4,
        expected_failed=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="SuccessCriteriaMet",
                status="True",
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
            ),
            z(
                V1JobCondition,
                type="Complete",
                status="True",
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
            ),
        ],
    ),
    "finished job; JobManagedBy enabled": dict(
        enable_job_managed_by=True,
        parallelism=2,
        completions=4,
        backoff_limit=6,
        suspend=True,
        restart_counts=[1, 1, 2, 0],
        pod_phase="Succeeded",
        expected_active=0,
        expected_succeeded=4,
        expected_failed=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="SuccessCriteriaMet",
                status="True",
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
            ),
            z(
                V1JobCondition,
                type="Complete",
                status="True",
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
            ),
        ],
    ),
    "too many job failures with podRunning - multiple pods": dict(
        parallelism=2,
        completions=5,
        backoff_limit=2,
        suspend=False,
        restart_counts=[1, 1],
        pod_phase="Running",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=2,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
    "too many job failures with podRunning - multiple pods; JobManagedBy enabled": dict(
        enable_job_managed_by=True,
        parallelism=2,
        completions=5,
        backoff_limit=2,
        suspend=False,
        restart_counts=[1, 1],
        pod_phase="Running",
        expected_active=0,
        expected_succeeded=0,
        expected_failed=2,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
    ),
}


@pytest.mark.parametrize(
    "case",
    list(JOB_BACKOFF_FOR_ON_FAILURE_CASES.values()),
    ids=list(JOB_BACKOFF_FOR_ON_FAILURE_CASES),
)
def test_job_backoff_for_on_failure(request: pytest.FixtureRequest, case: dict[str, Any]) -> None:
    _set_job_managed_by(request, case.get("enable_job_managed_by", False))
    with JobHarness() as h:
        job = new_job(case["parallelism"], case["completions"], case["backoff_limit"], "NonIndexed")
        job.spec.template.spec.restart_policy = "OnFailure"
        job.spec.suspend = case["suspend"]
        h.add_job(job)
        restart_counts = case["restart_counts"]
        for i, pod in enumerate(new_pod_list(len(restart_counts), case["pod_phase"], job)):
            pod.status.container_statuses = [z(V1ContainerStatus, restart_count=restart_counts[i])]
            h.add_pods([pod])

        result = h.sync_ok(job)

        assert result.job is not None
        status = result.job.status
        assert (status.active or 0) == case["expected_active"]
        assert (status.succeeded or 0) == case["expected_succeeded"]
        assert (status.failed or 0) == case["expected_failed"]
        assert conditions_view(status.conditions) == conditions_view(case["expected_conditions"])


JOB_BACKOFF_ON_RESTART_POLICY_NEVER_CASES = {
    "not enough failures with backoffLimit 0 - single pod": dict(
        parallelism=1,
        completions=1,
        backoff_limit=0,
        active_pods_phase="Running",
        active_pods=1,
        failed_pods=0,
        expected_active=1,
        expected_succeeded=0,
        expected_failed=0,
        expected_conditions=None,
    ),
    "not enough failures with backoffLimit 1 - single pod": dict(
        parallelism=1,
        completions=1,
        backoff_limit=1,
        active_pods_phase="",
        active_pods=0,
        failed_pods=1,
        expected_active=1,
        expected_succeeded=0,
        expected_failed=1,
        expected_conditions=None,
    ),
    "too many failures with backoffLimit 1 - single pod": dict(
        parallelism=1,
        completions=1,
        backoff_limit=1,
        active_pods_phase="",
        active_pods=0,
        failed_pods=2,
        expected_active=0,
        expected_succeeded=0,
        expected_failed=2,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            ),
        ],
    ),
    "not enough failures with backoffLimit 6 - multiple pods": dict(
        parallelism=2,
        completions=2,
        backoff_limit=6,
        active_pods_phase="Running",
        active_pods=1,
        failed_pods=6,
        expected_active=2,
        expected_succeeded=0,
        expected_failed=6,
        expected_conditions=None,
    ),
    "too many failures with backoffLimit 6 - multiple pods": dict(
        parallelism=2,
        completions=2,
        backoff_limit=6,
        active_pods_phase="",
        active_pods=0,
        failed_pods=7,
        expected_active=0,
        expected_succeeded=0,
        expected_failed=7,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            ),
        ],
    ),
}


@pytest.mark.parametrize(
    "case",
    list(JOB_BACKOFF_ON_RESTART_POLICY_NEVER_CASES.values()),
    ids=list(JOB_BACKOFF_ON_RESTART_POLICY_NEVER_CASES),
)
def test_job_backoff_on_restart_policy_never(case: dict[str, Any]) -> None:
    with JobHarness() as h:
        job = new_job(case["parallelism"], case["completions"], case["backoff_limit"], "NonIndexed")
        job.spec.template.spec.restart_policy = "Never"
        h.add_job(job)
        for pod in new_pod_list(case.get("failed_pods", 0), "Failed", job):
            pod.status.container_statuses = [
                z(
                    V1ContainerStatus,
                    state=V1ContainerState(
                        terminated=z(V1ContainerStateTerminated, finished_at=TEST_FINISHED_AT)
                    ),
                )
            ]
            h.add_pods([pod])
        h.add_pods(
            new_pod_list(case.get("active_pods", 0), case.get("active_pods_phase") or "", job)
        )

        result = h.sync_ok(job)

        assert result.job is not None
        status = result.job.status
        assert (status.active or 0) == case.get("expected_active", 0)
        assert (status.succeeded or 0) == case.get("expected_succeeded", 0)
        assert (status.failed or 0) == case.get("expected_failed", 0)
        assert conditions_view(status.conditions) == conditions_view(
            case.get("expected_conditions")
        )


def _cond(status: str, reason: str) -> V1JobCondition:
    return new_condition("Suspended", status, reason, "", datetime.now(UTC))


ENSURE_JOB_CONDITIONS_CASES: list[dict[str, Any]] = [
    dict(
        name="append true condition",
        have_list=[],
        want_type="Suspended",
        want_status="True",
        want_reason="foo",
        expect_list=[_cond("True", "foo")],
        expect_update=True,
    ),
    dict(
        name="append false condition",
        have_list=[],
        want_type="Suspended",
        want_status="False",
        want_reason="foo",
        expect_list=[],
        expect_update=False,
    ),
    dict(
        name="update true condition reason",
        have_list=[_cond("True", "foo")],
        want_type="Suspended",
        want_status="True",
        want_reason="bar",
        expect_list=[_cond("True", "bar")],
        expect_update=True,
    ),
    dict(
        name="update true condition status",
        have_list=[_cond("True", "foo")],
        want_type="Suspended",
        want_status="False",
        want_reason="foo",
        expect_list=[_cond("False", "foo")],
        expect_update=True,
    ),
    dict(
        name="update false condition status",
        have_list=[_cond("False", "foo")],
        want_type="Suspended",
        want_status="True",
        want_reason="foo",
        expect_list=[_cond("True", "foo")],
        expect_update=True,
    ),
    dict(
        name="condition already exists",
        have_list=[_cond("True", "foo")],
        want_type="Suspended",
        want_status="True",
        want_reason="foo",
        expect_list=[_cond("True", "foo")],
        expect_update=False,
    ),
]


@pytest.mark.parametrize(
    "case", ENSURE_JOB_CONDITIONS_CASES, ids=[c["name"] for c in ENSURE_JOB_CONDITIONS_CASES]
)
def test_ensure_job_conditions(case: dict[str, Any]) -> None:
    have = [c.model_copy() for c in case["have_list"]]
    got_list, is_updated = ensure_job_condition_status(
        have, case["want_type"], case["want_status"], case["want_reason"], "", datetime.now(UTC)
    )
    assert is_updated == case["expect_update"]
    assert len(got_list or []) == len(case["expect_list"])
    assert conditions_view(got_list) == conditions_view(case["expect_list"])
