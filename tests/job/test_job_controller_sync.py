"""Port of the single-sync tests of pkg/controller/job/job_controller_test.go.

TestControllerSyncJob, TestSyncJobPastDeadline, TestSingleJobFailedCondition,
TestSyncJobComplete, TestSyncJobDeleted and TestSyncJobWhenManagedBy.

Every case of the upstream table runs one ``sync_job`` against an informer cache filled
by hand, a ``FakePodControl`` and a status-capturing handler, as upstream does.

Not ported from job_controller_test.go: TestSyncJobPodSchedulingGroup, which covers the
alpha WorkloadWithJob gang scheduling (job_scheduling_manager.go), out of scope here.
The other test functions live in the sibling test_job_controller_*.py modules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1Job,
    V1JobCondition,
    V1JobSpec,
    V1JobStatus,
    V1ObjectMeta,
    V1PodFailurePolicy,
    V1PodSpec,
    V1PodTemplateSpec,
    V1UncountedTerminatedPods,
)

from jobctl.controller.controller_utils import SLOW_START_INITIAL_BATCH_SIZE, FakePodControl
from jobctl.job.backoff_utils import BackoffRecord
from jobctl.job.indexed_job_utils import get_completion_index
from jobctl.job.job_controller import new_condition
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import IndexPhase, get_conditions_by_type, new_job
from jobctl.testing.job_harness import (
    JobHarness,
    JobInitialStatus,
    conditions_view,
    set_pods_statuses,
    set_pods_statuses_with_indexes,
    status_view,
    z,
)

JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"

reference_time = datetime.now(UTC)


def now_() -> datetime:
    return datetime.now(UTC)


CONTROLLER_SYNC_JOB_CASES = {
    "job start": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        expected_creations=2,
        expected_active=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "WQ job start": dict(
        parallelism=2,
        completions=-1,
        backoff_limit=6,
        expected_creations=2,
        expected_active=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "pending pods": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        pending_pods=2,
        expected_active=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "correct # of pods": dict(
        parallelism=3,
        completions=5,
        backoff_limit=6,
        active_pods=3,
        ready_pods=2,
        expected_active=3,
        expected_ready=2,
        expected_terminating=0,
    ),
    "WQ job: correct # of pods": dict(
        parallelism=2,
        completions=-1,
        backoff_limit=6,
        active_pods=2,
        expected_active=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "too few active pods": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=1,
        succeeded_pods=1,
        expected_creations=1,
        expected_active=2,
        expected_succeeded=1,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "WQ job: recreate pods when failed": dict(
        parallelism=1,
        completions=-1,
        backoff_limit=6,
        active_pods=1,
        failed_pods=1,
        pod_replacement_policy="Failed",
        terminating_pods=1,
        expected_terminating=1,
        expected_ready=0,
        expected_pod_patches=1,
        expected_failed=1,
        expected_active=1,
    ),
    "WQ job: turn on PodReplacementPolicy but not set PodReplacementPolicy": dict(
        parallelism=1,
        completions=1,
        backoff_limit=6,
        active_pods=1,
        failed_pods=1,
        expected_terminating=1,
        expected_ready=0,
        terminating_pods=1,
        expected_active=1,
        expected_pod_patches=2,
        expected_failed=2,
    ),
    "WQ job: recreate pods when terminating or failed": dict(
        parallelism=1,
        completions=-1,
        backoff_limit=6,
        active_pods=1,
        failed_pods=1,
        pod_replacement_policy="TerminatingOrFailed",
        terminating_pods=1,
        expected_terminating=1,
        expected_ready=0,
        expected_active=1,
        expected_pod_patches=2,
        expected_failed=2,
    ),
    "more terminating pods than parallelism": dict(
        parallelism=1,
        completions=1,
        backoff_limit=6,
        active_pods=2,
        failed_pods=0,
        terminating_pods=4,
        pod_replacement_policy="Failed",
        expected_terminating=5,
        expected_ready=0,
        expected_active=1,
        expected_deletions=1,
        expected_pod_patches=1,
    ),
    "more terminating pods than parallelism; PodFailurePolicy used": dict(
        parallelism=1,
        completions=1,
        backoff_limit=6,
        active_pods=2,
        failed_pods=0,
        terminating_pods=4,
        pod_failure_policy=z(V1PodFailurePolicy),
        pod_replacement_policy="Failed",
        expected_terminating=5,
        expected_ready=0,
        expected_active=1,
        expected_deletions=1,
        expected_pod_patches=1,
    ),
    "too few active pods and active back-off": dict(
        parallelism=1,
        completions=1,
        backoff_limit=6,
        backoff_record=BackoffRecord(
            key="", failures_after_last_success=1, last_failure_time=reference_time
        ),
        initial_status=JobInitialStatus(start_time=now_()),
        active_pods=0,
        succeeded_pods=0,
        expected_creations=0,
        expected_active=0,
        expected_succeeded=0,
        expected_pod_patches=0,
        expected_ready=0,
        expected_terminating=0,
        controller_time=reference_time,
    ),
    "too few active pods and active back-off with running pods": dict(
        parallelism=2,
        completions=2,
        backoff_limit=6,
        backoff_record=BackoffRecord(
            key="", failures_after_last_success=1, last_failure_time=reference_time
        ),
        initial_status=JobInitialStatus(start_time=now_()),
        active_pods=1,
        ready_pods=1,
        succeeded_pods=0,
        expected_creations=0,
        expected_active=1,
        expected_succeeded=0,
        expected_pod_patches=0,
        expected_ready=1,
        expected_terminating=0,
        controller_time=reference_time,
    ),
    "too few active pods and no back-offs": dict(
        parallelism=1,
        completions=1,
        backoff_limit=6,
        backoff_record=BackoffRecord(
            key="", failures_after_last_success=0, last_failure_time=reference_time
        ),
        active_pods=0,
        succeeded_pods=0,
        expected_creations=1,
        expected_active=1,
        expected_succeeded=0,
        expected_pod_patches=0,
        expected_ready=0,
        expected_terminating=0,
        controller_time=reference_time,
    ),
    "too few active pods with a dynamic job": dict(
        parallelism=2,
        completions=-1,
        backoff_limit=6,
        active_pods=1,
        expected_creations=1,
        expected_active=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "too few active pods, with controller error": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        pod_controller_error=RuntimeError("fake error"),
        active_pods=1,
        succeeded_pods=1,
        expected_creations=1,
        expected_active=1,
        expected_succeeded=0,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "too many active pods": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=3,
        expected_deletions=1,
        expected_active=2,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=1,
    ),
    "too many active pods, with controller error": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        pod_controller_error=RuntimeError("fake error"),
        active_pods=3,
        expected_deletions=0,
        expected_pod_patches=1,
        expected_active=3,
        expected_ready=0,
        expected_terminating=0,
    ),
    "count ready pods when too many active pods": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=3,
        ready_pods=3,
        expected_deletions=1,
        expected_active=2,
        expected_pod_patches=1,
        expected_ready=2,
        expected_terminating=1,
    ),
    "failed + succeed pods: reset backoff delay": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=1,
        succeeded_pods=1,
        failed_pods=1,
        expected_creations=1,
        expected_active=2,
        expected_succeeded=1,
        expected_failed=1,
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "new failed pod": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=1,
        failed_pods=1,
        expected_creations=1,
        expected_active=2,
        expected_failed=1,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "no new pod; possible finalizer update of failed pod": dict(
        parallelism=1,
        completions=1,
        backoff_limit=6,
        initial_status=JobInitialStatus(active=1, succeed=0, failed=1),
        active_pods=1,
        failed_pods=0,
        expected_creations=0,
        expected_active=1,
        expected_failed=1,
        expected_pod_patches=0,
        expected_ready=0,
        expected_terminating=0,
    ),
    "only new failed pod with controller error": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        pod_controller_error=RuntimeError("fake error"),
        active_pods=1,
        failed_pods=1,
        expected_creations=1,
        expected_active=1,
        expected_failed=0,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "job finish": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        succeeded_pods=5,
        expected_succeeded=5,
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
        expected_pod_patches=5,
        expected_ready=0,
        expected_terminating=0,
    ),
    "WQ job finishing": dict(
        parallelism=2,
        completions=-1,
        backoff_limit=6,
        active_pods=1,
        succeeded_pods=1,
        expected_active=1,
        expected_succeeded=1,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "WQ job all finished": dict(
        parallelism=2,
        completions=-1,
        backoff_limit=6,
        succeeded_pods=2,
        expected_succeeded=2,
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
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "WQ job all finished despite one failure": dict(
        parallelism=2,
        completions=-1,
        backoff_limit=6,
        succeeded_pods=1,
        failed_pods=1,
        expected_succeeded=1,
        expected_failed=1,
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
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "more active pods than parallelism": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=10,
        expected_deletions=8,
        expected_active=2,
        expected_pod_patches=8,
        expected_ready=0,
        expected_terminating=8,
    ),
    "more active pods than remaining completions": dict(
        parallelism=3,
        completions=4,
        backoff_limit=6,
        active_pods=3,
        succeeded_pods=2,
        expected_deletions=1,
        expected_active=2,
        expected_succeeded=2,
        expected_pod_patches=3,
        expected_ready=0,
        expected_terminating=1,
    ),
    "status change": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        active_pods=2,
        succeeded_pods=2,
        expected_active=2,
        expected_succeeded=2,
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "deleting job": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        deleting=True,
        pending_pods=1,
        active_pods=1,
        succeeded_pods=1,
        expected_active=2,
        expected_succeeded=1,
        expected_pod_patches=3,
        expected_ready=0,
        expected_terminating=0,
    ),
    "limited pods": dict(
        parallelism=100,
        completions=200,
        backoff_limit=6,
        pod_limit=10,
        expected_creations=10,
        expected_active=10,
        expected_ready=0,
        expected_terminating=0,
    ),
    "too many job failures": dict(
        parallelism=2,
        completions=5,
        deleting=True,
        failed_pods=1,
        expected_failed=1,
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
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "job failures, unsatisfied expectations": dict(
        parallelism=2,
        completions=5,
        deleting=True,
        failed_pods=1,
        fake_expectation_at_creation=1,
        expected_failed=1,
        expected_pod_patches=1,
        expected_ready=0,
        expected_terminating=0,
    ),
    "indexed job start": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        completion_mode="Indexed",
        expected_creations=2,
        expected_active=2,
        expected_created_indexes={0, 1},
        expected_ready=0,
        expected_terminating=0,
    ),
    "indexed job with some pods deleted, podReplacementPolicy Failed": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        completion_mode="Indexed",
        expected_creations=1,
        expected_active=1,
        expected_created_indexes={0},
        pod_replacement_policy="Failed",
        terminating_pods=1,
        expected_terminating=1,
        expected_ready=0,
    ),
    "indexed job with some pods deleted, podReplacementPolicy TerminatingOrFailed": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        completion_mode="Indexed",
        expected_creations=2,
        expected_active=2,
        expected_created_indexes={0, 1},
        pod_replacement_policy="TerminatingOrFailed",
        terminating_pods=1,
        expected_terminating=1,
        expected_ready=0,
        expected_pod_patches=1,
    ),
    "indexed job completed": dict(
        parallelism=2,
        completions=3,
        backoff_limit=6,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Failed"),
            IndexPhase(index="1", phase="Succeeded"),
            IndexPhase(index="2", phase="Succeeded"),
        ],
        expected_succeeded=3,
        expected_failed=1,
        expected_completed_idxs="0-2",
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
        expected_pod_patches=4,
        expected_ready=0,
        expected_terminating=0,
    ),
    "indexed job failed": dict(
        parallelism=2,
        completions=3,
        backoff_limit=0,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Failed"),
            IndexPhase(index="2", phase="Running"),
        ],
        expected_succeeded=1,
        expected_failed=2,
        expected_completed_idxs="0",
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
        expected_pod_patches=3,
        expected_ready=0,
        expected_terminating=1,
        expected_deletions=1,
    ),
    "count terminating pods when indexed job fails": dict(
        parallelism=2,
        completions=3,
        backoff_limit=0,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Failed"),
            IndexPhase(index="2", phase="Running"),
        ],
        expected_succeeded=1,
        expected_failed=2,
        expected_completed_idxs="0",
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
        expected_pod_patches=3,
        expected_ready=0,
        expected_deletions=1,
        expected_terminating=1,
    ),
    "count ready pods when job fails": dict(
        parallelism=2,
        completions=3,
        backoff_limit=0,
        active_pods=2,
        ready_pods=2,
        failed_pods=1,
        expected_failed=3,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
        expected_pod_patches=3,
        expected_ready=0,
        expected_deletions=2,
        expected_terminating=2,
    ),
    "indexed job repeated completed index": dict(
        parallelism=2,
        completions=3,
        backoff_limit=6,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Succeeded"),
            IndexPhase(index="1", phase="Succeeded"),
        ],
        expected_creations=1,
        expected_active=1,
        expected_succeeded=2,
        expected_completed_idxs="0,1",
        expected_created_indexes={2},
        expected_pod_patches=3,
        expected_ready=0,
        expected_terminating=0,
    ),
    "indexed job some running and completed pods": dict(
        parallelism=8,
        completions=20,
        backoff_limit=6,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Running"),
            IndexPhase(index="2", phase="Succeeded"),
            IndexPhase(index="3", phase="Pending"),
            IndexPhase(index="4", phase="Succeeded"),
            IndexPhase(index="5", phase="Succeeded"),
            IndexPhase(index="7", phase="Succeeded"),
            IndexPhase(index="8", phase="Succeeded"),
            IndexPhase(index="9", phase="Succeeded"),
        ],
        expected_creations=6,
        expected_active=8,
        expected_succeeded=6,
        expected_completed_idxs="2,4,5,7-9",
        expected_created_indexes={1, 6, 10, 11, 12, 13},
        expected_pod_patches=6,
        expected_ready=0,
        expected_terminating=0,
    ),
    "indexed job some failed pods": dict(
        parallelism=3,
        completions=4,
        backoff_limit=6,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Failed"),
            IndexPhase(index="1", phase="Pending"),
            IndexPhase(index="2", phase="Failed"),
        ],
        expected_creations=2,
        expected_active=3,
        expected_failed=2,
        expected_created_indexes={0, 2},
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "indexed job some pods without index": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        completion_mode="Indexed",
        active_pods=1,
        succeeded_pods=1,
        failed_pods=1,
        pods_with_indexes=[
            IndexPhase(index="invalid", phase="Running"),
            IndexPhase(index="invalid", phase="Succeeded"),
            IndexPhase(index="invalid", phase="Failed"),
            IndexPhase(index="invalid", phase="Pending"),
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Running"),
            IndexPhase(index="2", phase="Running"),
        ],
        expected_deletions=3,
        expected_active=2,
        expected_succeeded=1,
        expected_failed=0,
        expected_completed_idxs="0",
        expected_pod_patches=8,
        expected_ready=0,
        expected_terminating=3,
    ),
    "indexed job repeated indexes": dict(
        parallelism=5,
        completions=5,
        backoff_limit=6,
        completion_mode="Indexed",
        succeeded_pods=1,
        failed_pods=1,
        pods_with_indexes=[
            IndexPhase(index="invalid", phase="Running"),
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Running"),
            IndexPhase(index="2", phase="Running"),
            IndexPhase(index="2", phase="Pending"),
        ],
        expected_creations=0,
        expected_deletions=2,
        expected_active=2,
        expected_succeeded=1,
        expected_completed_idxs="0",
        expected_pod_patches=5,
        expected_ready=0,
        expected_terminating=2,
    ),
    "indexed job with indexes outside of range": dict(
        parallelism=2,
        completions=5,
        backoff_limit=6,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="5", phase="Running"),
            IndexPhase(index="6", phase="Succeeded"),
            IndexPhase(index="7", phase="Pending"),
            IndexPhase(index="8", phase="Failed"),
        ],
        expected_creations=0,
        expected_succeeded=1,
        expected_deletions=2,
        expected_completed_idxs="0",
        expected_active=0,
        expected_failed=0,
        expected_pod_patches=5,
        expected_ready=0,
        expected_terminating=2,
    ),
    "suspending a job with satisfied expectations": dict(
        suspend=True,
        parallelism=2,
        active_pods=2,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=2,
        expected_active=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="Suspended",
                status="True",
                reason="JobSuspended",
                message="Job suspended",
            )
        ],
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=2,
    ),
    "suspending a job with satisfied expectations; PodReplacementPolicy enabled": dict(
        suspend=True,
        parallelism=2,
        active_pods=2,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=2,
        expected_active=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="Suspended",
                status="True",
                reason="JobSuspended",
                message="Job suspended",
            )
        ],
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=2,
    ),
    "count ready pods when suspending a job with satisfied expectations": dict(
        suspend=True,
        parallelism=2,
        active_pods=2,
        ready_pods=2,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=2,
        expected_active=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="Suspended",
                status="True",
                reason="JobSuspended",
                message="Job suspended",
            )
        ],
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=2,
    ),
    "suspending a job with unsatisfied expectations": dict(
        suspend=True,
        parallelism=2,
        active_pods=3,
        fake_expectation_at_creation=-1,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=0,
        expected_active=3,
        expected_ready=0,
        expected_terminating=0,
    ),
    "count ready pods when suspending a job with unsatisfied expectations": dict(
        suspend=True,
        parallelism=2,
        active_pods=3,
        ready_pods=3,
        fake_expectation_at_creation=-1,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=0,
        expected_active=3,
        expected_ready=3,
        expected_terminating=0,
    ),
    "suspending a job with unsatisfied expectations; PodReplacementPolicy enabled": dict(
        suspend=True,
        parallelism=2,
        active_pods=3,
        fake_expectation_at_creation=-1,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=0,
        expected_active=3,
        expected_ready=0,
        expected_terminating=0,
    ),
    "resuming a suspended job": dict(
        was_suspended=True,
        suspend=False,
        parallelism=2,
        completions=4,
        backoff_limit=6,
        expected_creations=2,
        expected_deletions=0,
        expected_active=2,
        expected_conditions=[
            z(
                V1JobCondition,
                type="Suspended",
                status="False",
                reason="JobResumed",
                message="Job resumed",
            )
        ],
        expected_ready=0,
        expected_terminating=0,
    ),
    "suspending a deleted job": dict(
        suspend=True,
        deleting=True,
        parallelism=2,
        active_pods=2,
        completions=4,
        backoff_limit=6,
        expected_creations=0,
        expected_deletions=0,
        expected_active=2,
        expected_pod_patches=2,
        expected_ready=0,
        expected_terminating=0,
    ),
    "FailureTarget=False condition added manually is ignored": dict(
        parallelism=1,
        completions=1,
        active_pods=1,
        ready_pods=1,
        initial_status=JobInitialStatus(
            active=1,
            start_time=now_(),
            conditions=[
                z(
                    V1JobCondition,
                    type="FailureTarget",
                    status="False",
                    reason="ConditionAddedManually",
                    message="Testing",
                )
            ],
        ),
        expected_active=1,
        expected_ready=1,
        expected_terminating=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="False",
                reason="ConditionAddedManually",
                message="Testing",
            )
        ],
    ),
    "SuccessCriteriaMet=False condition added manually is ignored": dict(
        parallelism=1,
        completions=1,
        active_pods=1,
        ready_pods=1,
        initial_status=JobInitialStatus(
            active=1,
            start_time=now_(),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="False",
                    reason="ConditionAddedManually",
                    message="Testing",
                )
            ],
        ),
        expected_active=1,
        expected_ready=1,
        expected_terminating=0,
        expected_conditions=[
            z(
                V1JobCondition,
                type="SuccessCriteriaMet",
                status="False",
                reason="ConditionAddedManually",
                message="Testing",
            )
        ],
    ),
    "backoff limit exceeded; JobManagedBy enabled": dict(
        job_managed_by=True,
        parallelism=2,
        completions=3,
        backoff_limit=0,
        completion_mode="Indexed",
        pods_with_indexes=[
            IndexPhase(index="0", phase="Succeeded"),
            IndexPhase(index="1", phase="Failed"),
            IndexPhase(index="2", phase="Running"),
        ],
        expected_succeeded=1,
        expected_failed=2,
        expected_completed_idxs="0",
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
        ],
        expected_pod_patches=3,
        expected_ready=0,
        expected_terminating=1,
        expected_deletions=1,
    ),
}


_CONTROLLER_SYNC_JOB_DEFAULTS: dict[str, Any] = dict(
    parallelism=0,
    completions=0,
    backoff_limit=0,
    deleting=False,
    pod_limit=0,
    completion_mode="",
    was_suspended=False,
    suspend=False,
    pod_replacement_policy=None,
    pod_failure_policy=None,
    initial_status=None,
    backoff_record=None,
    controller_time=None,
    pod_controller_error=None,
    pending_pods=0,
    active_pods=0,
    ready_pods=0,
    succeeded_pods=0,
    failed_pods=0,
    terminating_pods=0,
    pods_with_indexes=[],
    fake_expectation_at_creation=0,
    expected_creations=0,
    expected_deletions=0,
    expected_active=0,
    expected_ready=None,
    expected_succeeded=0,
    expected_completed_idxs="",
    expected_failed=0,
    expected_terminating=None,
    expected_conditions=None,
    expected_created_indexes=set(),
    expected_pod_patches=0,
    job_managed_by=False,
)


def set_job_managed_by(request: pytest.FixtureRequest, enabled: bool) -> None:
    """Upstream's gate setup: JobManagedBy is locked on, so switching it off emulates 1.33."""
    gate = features.DEFAULT_FEATURE_GATE
    if not enabled:
        features.set_feature_gate_emulation_version_during_test(
            gate, features.Version(1, 33), cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, enabled, cleanup=request.addfinalizer
    )


def check_job_completion_label(p: V1PodTemplateSpec) -> None:
    """Port of checkJobCompletionLabel."""
    labels = p.metadata.labels if p.metadata is not None else None
    assert labels and labels.get(JOB_COMPLETION_INDEX_ANNOTATION), "missing completion label"


def check_job_completion_env_variable(p: V1PodTemplateSpec) -> None:
    """Port of checkJobCompletionEnvVariable."""
    field_path = f"metadata.labels['{JOB_COMPLETION_INDEX_ANNOTATION}']"
    assert p.spec is not None
    for c in [*(p.spec.init_containers or []), *p.spec.containers]:
        got = [(e.name, e.value_from.field_ref.field_path) for e in c.env or []]
        assert got == [("JOB_COMPLETION_INDEX", field_path)]


def check_indexed_job_pods(
    templates: list[V1PodTemplateSpec], want_indexes: set[int], job_name: str
) -> None:
    """Port of checkIndexedJobPods."""
    got_indexes: set[int] = set()
    for p in templates:
        check_job_completion_env_variable(p)
        check_job_completion_label(p)
        assert p.metadata is not None and p.spec is not None
        ix = get_completion_index(p.metadata.annotations)
        assert ix != -1, "created pod without completion index"
        got_indexes.add(ix)
        expected_name = f"{job_name}-{ix}"
        assert p.spec.hostname == expected_name
        assert p.metadata.generate_name == expected_name + "-"
    assert sorted(got_indexes) == sorted(want_indexes)


@pytest.mark.usefixtures("sync_impl")
@pytest.mark.parametrize(
    "case", list(CONTROLLER_SYNC_JOB_CASES.values()), ids=list(CONTROLLER_SYNC_JOB_CASES)
)
def test_controller_sync_job(request: pytest.FixtureRequest, case: dict[str, Any]) -> None:
    tc = {**_CONTROLLER_SYNC_JOB_DEFAULTS, **case}
    set_job_managed_by(request, tc["job_managed_by"])
    clock = FakeClock(tc["controller_time"] or now_())
    fake_pod_control = FakePodControl(err=tc["pod_controller_error"], create_limit=tc["pod_limit"])
    h = JobHarness(clock=clock, pod_control=fake_pod_control)
    manager = h.controller

    job = new_job(tc["parallelism"], tc["completions"], tc["backoff_limit"], tc["completion_mode"])
    job.spec.suspend = tc["suspend"]
    job.spec.pod_replacement_policy = tc["pod_replacement_policy"]
    job.spec.pod_failure_policy = tc["pod_failure_policy"]
    job.status = z(V1JobStatus)
    init: JobInitialStatus | None = tc["initial_status"]
    if init is not None:
        job.status.start_time = init.start_time or now_()
        job.status.active = init.active
        job.status.succeeded = init.succeed
        job.status.failed = init.failed
        job.status.conditions = [*(job.status.conditions or []), *init.conditions]
    key = h.key(job)
    if tc["backoff_record"] is not None:
        tc["backoff_record"].key = key
        manager.pod_backoff_store.update_backoff_record(tc["backoff_record"])
    if tc["fake_expectation_at_creation"] < 0:
        manager.expectations.expect_deletions(key, -tc["fake_expectation_at_creation"])
    elif tc["fake_expectation_at_creation"] > 0:
        manager.expectations.expect_creations(key, tc["fake_expectation_at_creation"])
    if tc["was_suspended"]:
        job.status.conditions = [
            *(job.status.conditions or []),
            new_condition("Suspended", "True", "JobSuspended", "Job suspended", now_()),
        ]
    if tc["deleting"]:
        job.metadata.deletion_timestamp = now_()
    h.add_job(job)
    set_pods_statuses(
        h.pod_indexer,
        job,
        tc["pending_pods"],
        tc["active_pods"],
        tc["succeeded_pods"],
        tc["failed_pods"],
        tc["terminating_pods"],
        tc["ready_pods"],
    )
    set_pods_statuses_with_indexes(h.pod_indexer, job, tc["pods_with_indexes"])

    result = h.sync(job)

    if tc["pod_controller_error"] is not None:
        assert result.error is not None, "expected an error on pod control failure"
    elif tc["pod_limit"] != 0 and fake_pod_control.create_call_count > tc["pod_limit"]:
        assert result.error is not None, "expected an error when the pod limit was reached"
    else:
        assert result.error is None
    assert len(fake_pod_control.templates) == tc["expected_creations"]
    if tc["completion_mode"] == "Indexed":
        check_indexed_job_pods(
            fake_pod_control.templates, tc["expected_created_indexes"], job.metadata.name
        )
    else:
        for p in fake_pod_control.templates:
            assert not p.metadata.generate_name
            assert not p.spec.hostname
    assert len(fake_pod_control.delete_pod_name) == tc["expected_deletions"]
    assert len(fake_pod_control.controller_refs) == tc["expected_creations"]
    for controller_ref in fake_pod_control.controller_refs:
        assert controller_ref.api_version == "batch/v1"
        assert controller_ref.kind == "Job"
        assert controller_ref.name == job.metadata.name
        assert controller_ref.uid == job.metadata.uid
        assert controller_ref.controller is True
    actual = result.job if result.job is not None else job
    status = actual.status
    assert (status.active or 0) == tc["expected_active"]
    assert status.ready == tc["expected_ready"]
    assert (status.succeeded or 0) == tc["expected_succeeded"]
    assert (status.completed_indexes or "") == tc["expected_completed_idxs"]
    assert (status.failed or 0) == tc["expected_failed"]
    assert status.terminating == tc["expected_terminating"]
    if tc["suspend"]:
        assert status.start_time is None, "unexpected .status.startTime when suspended"
    else:
        assert status.start_time is not None, "missing .status.startTime"
    assert conditions_view(status.conditions) == conditions_view(tc["expected_conditions"])
    expected_limit = 0
    pass_ = 0
    while expected_limit <= tc["pod_limit"]:
        expected_limit += SLOW_START_INITIAL_BATCH_SIZE << pass_
        pass_ += 1
    if tc["pod_limit"] > 0:
        assert fake_pod_control.create_call_count <= expected_limit
    assert len(fake_pod_control.patches) == tc["expected_pod_patches"]


SYNC_JOB_PAST_DEADLINE_CASES = {
    "activeDeadlineSeconds less than single pod execution": dict(
        parallelism=1,
        completions=1,
        active_deadline_seconds=10,
        start_time=15,
        backoff_limit=6,
        active_pods=1,
        expected_deletions=1,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="DeadlineExceeded",
                message="Job was active longer than specified deadline",
            )
        ],
    ),
    "activeDeadlineSeconds bigger than single pod execution": dict(
        parallelism=1,
        completions=2,
        active_deadline_seconds=10,
        start_time=15,
        backoff_limit=6,
        active_pods=1,
        succeeded_pods=1,
        expected_deletions=1,
        expected_succeeded=1,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="DeadlineExceeded",
                message="Job was active longer than specified deadline",
            )
        ],
    ),
    "activeDeadlineSeconds times-out before any pod starts": dict(
        parallelism=1,
        completions=1,
        active_deadline_seconds=10,
        start_time=10,
        backoff_limit=6,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="DeadlineExceeded",
                message="Job was active longer than specified deadline",
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="DeadlineExceeded",
                message="Job was active longer than specified deadline",
            ),
        ],
    ),
    "activeDeadlineSeconds with backofflimit reach": dict(
        parallelism=1,
        completions=1,
        active_deadline_seconds=1,
        start_time=10,
        failed_pods=1,
        expected_failed=1,
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
    "activeDeadlineSeconds is not triggered when Job is suspended": dict(
        suspend=True,
        parallelism=1,
        completions=2,
        active_deadline_seconds=10,
        start_time=15,
        backoff_limit=6,
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
    "activeDeadlineSeconds exceeded": dict(
        parallelism=1,
        completions=2,
        active_deadline_seconds=10,
        start_time=15,
        backoff_limit=6,
        active_pods=1,
        succeeded_pods=1,
        expected_deletions=1,
        expected_succeeded=1,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="DeadlineExceeded",
                message="Job was active longer than specified deadline",
            )
        ],
    ),
    "activeDeadlineSeconds exceeded; JobManagedBy enabled": dict(
        enable_job_managed_by=True,
        parallelism=1,
        completions=2,
        active_deadline_seconds=10,
        start_time=15,
        backoff_limit=6,
        active_pods=1,
        succeeded_pods=1,
        expected_deletions=1,
        expected_succeeded=1,
        expected_failed=1,
        expected_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="DeadlineExceeded",
                message="Job was active longer than specified deadline",
            )
        ],
    ),
    "activeDeadlineSeconds exceeded and backofflimit reached; JobManagedBy enabled": dict(
        enable_job_managed_by=True,
        parallelism=1,
        completions=1,
        active_deadline_seconds=1,
        start_time=10,
        failed_pods=1,
        expected_failed=1,
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


_PAST_DEADLINE_DEFAULTS: dict[str, Any] = dict(
    parallelism=0,
    completions=0,
    active_deadline_seconds=0,
    start_time=0,
    backoff_limit=0,
    suspend=False,
    active_pods=0,
    succeeded_pods=0,
    failed_pods=0,
    expected_deletions=0,
    expected_active=0,
    expected_succeeded=0,
    expected_failed=0,
    expected_conditions=None,
    enable_job_managed_by=False,
)


def _set_job_managed_by_at(
    request: pytest.FixtureRequest, enabled: bool, emulated: features.Version
) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    if not enabled:
        features.set_feature_gate_emulation_version_during_test(
            gate, emulated, cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, enabled, cleanup=request.addfinalizer
    )


@pytest.mark.parametrize(
    "case", list(SYNC_JOB_PAST_DEADLINE_CASES.values()), ids=list(SYNC_JOB_PAST_DEADLINE_CASES)
)
def test_sync_job_past_deadline(request: pytest.FixtureRequest, case: dict[str, Any]) -> None:
    tc = {**_PAST_DEADLINE_DEFAULTS, **case}
    _set_job_managed_by_at(request, tc["enable_job_managed_by"], features.Version(1, 34))
    h = JobHarness()
    job = new_job(tc["parallelism"], tc["completions"], tc["backoff_limit"], "NonIndexed")
    job.spec.active_deadline_seconds = tc["active_deadline_seconds"]
    job.spec.suspend = tc["suspend"]
    now_s = int(h.clock.now().timestamp())
    job.status = z(V1JobStatus, start_time=datetime.fromtimestamp(now_s - tc["start_time"], UTC))
    h.add_job(job)
    set_pods_statuses(
        h.pod_indexer, job, 0, tc["active_pods"], tc["succeeded_pods"], tc["failed_pods"], 0, 0
    )

    result = h.sync_ok(job)

    assert result.created == []
    assert len(result.deleted) == tc["expected_deletions"]
    assert result.job is not None
    status = result.job.status
    assert (status.active or 0) == tc["expected_active"]
    assert (status.succeeded or 0) == tc["expected_succeeded"]
    assert (status.failed or 0) == tc["expected_failed"]
    assert status.start_time is not None
    assert conditions_view(status.conditions) == conditions_view(tc["expected_conditions"])


def test_single_job_failed_condition() -> None:
    h = JobHarness()
    job = new_job(1, 1, 6, "NonIndexed")
    job.spec.active_deadline_seconds = 10
    start = datetime.fromtimestamp(int(h.clock.now().timestamp()) - 15, UTC)
    job.status = z(
        V1JobStatus,
        start_time=start,
        conditions=[
            new_condition(
                "Failed",
                "False",
                "DeadlineExceeded",
                "Job was active longer than specified deadline",
                now_(),
            )
        ],
    )
    h.add_job(job)

    result = h.sync_ok(job)

    assert result.deleted == []
    assert result.job is not None, "expected job modification"
    failed_conditions = get_conditions_by_type(result.job.status.conditions, "Failed")
    assert len(failed_conditions) == 1
    assert failed_conditions[0].status == "True"


def test_sync_job_complete() -> None:
    h = JobHarness()
    job = new_job(1, 1, 6, "NonIndexed")
    job.status = z(V1JobStatus, conditions=[new_condition("Complete", "True", "", "", now_())])
    h.add_job(job)

    h.sync_ok(job)

    actual = h.controller.job_lister.jobs(job.metadata.namespace).get(job.metadata.name)
    # Syncing a complete Job leaves its conditions alone.
    assert len(actual.status.conditions) == 1


def test_sync_job_deleted() -> None:
    h = JobHarness()
    job = new_job(2, 2, 6, "NonIndexed")

    result = h.sync_ok(job)

    assert result.created == []
    assert result.deleted == []


_BASE_JOB_NOW = datetime.now(UTC)


def _base_job(managed_by: str | None = None) -> V1Job:
    job = z(
        V1Job,
        kind="Job",
        metadata=z(V1ObjectMeta, name="foobar", uid="foobaruid", namespace="default"),
        spec=z(
            V1JobSpec,
            template=z(
                V1PodTemplateSpec,
                metadata=z(V1ObjectMeta, labels={"foo": "bar"}),
                spec=z(V1PodSpec, containers=[z(V1Container, image="foo/bar")]),
            ),
            parallelism=2,
            completions=2,
            backoff_limit=6,
        ),
        status=z(V1JobStatus, active=1, ready=1, start_time=_BASE_JOB_NOW),
    )
    job.spec.managed_by = managed_by
    return job


_UPDATED_STATUS = z(
    V1JobStatus,
    active=2,
    ready=0,
    start_time=_BASE_JOB_NOW,
    terminating=0,
    uncounted_terminated_pods=z(V1UncountedTerminatedPods),
)

SYNC_JOB_WHEN_MANAGED_BY_CASES: dict[str, dict[str, Any]] = {
    "job with custom value of managedBy; feature enabled; the status is unchanged": dict(
        enable_job_managed_by=True,
        job=_base_job("custom-managed-by"),
        want_status=_base_job().status,
    ),
    "job with well known value of the managedBy; feature enabled; the status is updated": dict(
        enable_job_managed_by=True,
        job=_base_job("kubernetes.io/job-controller"),
        want_status=_UPDATED_STATUS,
    ),
    "job with custom value of managedBy; feature disabled; the status is updated": dict(
        enable_job_managed_by=False,
        job=_base_job("custom-managed-by"),
        want_status=_UPDATED_STATUS,
    ),
    "job without the managedBy; feature enabled; the status is updated": dict(
        enable_job_managed_by=True,
        job=_base_job(),
        want_status=_UPDATED_STATUS,
    ),
}


@pytest.mark.parametrize(
    "case", list(SYNC_JOB_WHEN_MANAGED_BY_CASES.values()), ids=list(SYNC_JOB_WHEN_MANAGED_BY_CASES)
)
def test_sync_job_when_managed_by(request: pytest.FixtureRequest, case: dict[str, Any]) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    features.set_feature_gate_emulation_version_during_test(
        gate, features.Version(1, 34), cleanup=request.addfinalizer
    )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, case["enable_job_managed_by"], cleanup=request.addfinalizer
    )
    h = JobHarness()
    job = case["job"].model_copy(deep=True)
    h.add_job(job)

    result = h.sync_ok(job)

    actual = result.job if result.job is not None else job
    assert status_view(actual.status) == status_view(case["want_status"])


def test_sync_job_with_custom_controller_name() -> None:
    """The controller's name replaces kubernetes.io/job-controller in the managedBy check."""
    h = JobHarness(controller_name="example.com/my-controller")
    mine = _base_job("example.com/my-controller")
    h.add_job(mine)
    result = h.sync_ok(mine)
    assert result.job is not None
    assert status_view(result.job.status) == status_view(_UPDATED_STATUS)

    h2 = JobHarness(controller_name="example.com/my-controller")
    default_job = _base_job()
    h2.add_job(default_job)
    result = h2.sync_ok(default_job)
    assert result.job is None
    assert result.created == [] and result.deleted == []
