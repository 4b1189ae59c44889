"""Port of test/integration/job/job_test.go: jobctl's Job controller on a real apiserver.

The controller and its informers run in this process (``job_controller`` fixture);
pod status is written by the test through update_status, as upstream's helpers do.
Upstream starts a fresh apiserver per test; here one control plane serves the session
and each test gets a namespace of its own. Waits are bounded polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import pytest
from kubernetes.client import (
    V1Container,
    V1Job,
    V1JobCondition,
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
    V1SuccessPolicy,
    V1SuccessPolicyRule,
)

from jobctl.client import errors
from jobctl.client.interface import DeleteOptions, Interface
from jobctl.job import job_controller as jc
from jobctl.job import metrics
from jobctl.k8s_libs import api, features
from jobctl.k8s_libs.api import JOB_TRACKING_FINALIZER, POD_FAILED, POD_PENDING, POD_SUCCEEDED
from jobctl.testing.control_plane import ControlPlane
from jobctl.testing.integration_util import (
    FOREVER_TEST_TIMEOUT,
    JobControllerRunner,
    PodsByStatus,
    clean_up,
    create_job_with_defaults,
    delete_pods,
    describe_job,
    fail_terminating_pods,
    get_active_pod_for_index,
    get_index_failure_count,
    get_job,
    get_job_condition_status,
    get_job_pod_for_index,
    get_job_pods,
    has_job_tracking_finalizer,
    is_pod_terminal,
    kube_controller_manager,
    new_job,
    pod_phase,
    reset_metrics,
    set_job_phase_for_index,
    set_job_pods_phase,
    set_job_pods_ready,
    terminated_container_status,
    update_job,
    update_job_pods_status,
    update_pod_statuses,
    validate_counter_metric,
    validate_finished_pods_no_finalizer,
    validate_indexed_job_pods,
    validate_job_complete,
    validate_job_condition,
    validate_job_failed,
    validate_job_pods_status,
    validate_job_status,
    validate_jobs_pods_status_only,
    validate_no_finished_pod_has_finalizer,
    validate_no_orphan_pods_with_finalizers,
    wait_for,
    wait_for_event,
)
from jobctl.testing.pod_simulator import EXIT_SCRIPT, RUN_FOR, PodSimulator

BLOCK_DELETION_FINALIZER = "fake.example.com/blockDeletion"
CUSTOM_CONTROLLER_NAME = "example.com/custom-job-controller"


def _main_container_template() -> V1PodTemplateSpec:
    return V1PodTemplateSpec(
        spec=V1PodSpec(
            containers=[
                V1Container(
                    name="main-container",
                    image="foo",
                    image_pull_policy="IfNotPresent",
                    termination_message_policy="FallbackToLogsOnError",
                )
            ]
        )
    )


def _finalizer_template() -> V1PodTemplateSpec:
    return V1PodTemplateSpec(
        metadata=V1ObjectMeta(finalizers=[BLOCK_DELETION_FINALIZER]),
        spec=V1PodSpec(containers=[]),
    )


def _failed(exit_code: int | None = None, container: str = "", **status: Any) -> V1PodStatus:
    """A Failed pod status, with a terminated container when ``exit_code`` is given."""
    statuses = None
    if exit_code is not None:
        statuses = [terminated_container_status(exit_code, container)]
    return V1PodStatus(phase=POD_FAILED, container_statuses=statuses, **status)


def _disruption_target() -> list[V1PodCondition]:
    return [V1PodCondition(type="DisruptionTarget", status="True")]


def _update_status(client: Interface, pod: V1Pod, status: V1PodStatus) -> None:
    pod.status = status.model_copy(deep=True)
    client.core_v1().pods(pod.metadata.namespace).update_status(pod)


def _validate_terminated_pods_tracking_finalizer_metric(want: int) -> None:
    """Port of validateTerminatedPodsTrackingFinalizerMetric."""
    counter = metrics.terminated_pods_tracking_finalizer_total
    validate_counter_metric(counter, [metrics.ADD], want)
    validate_counter_metric(counter, [metrics.DELETE], want)


# ---- TestJobPodFailurePolicyWithFailedPodDeletedDuringControllerRestart ------------------


def test_job_pod_failure_policy_with_failed_pod_deleted_during_controller_restart(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    count = 3
    job = new_job(
        template=_main_container_template(),
        parallelism=count,
        completions=count,
        pod_failure_policy=V1PodFailurePolicy(
            rules=[
                V1PodFailurePolicyRule(
                    action="FailJob",
                    on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
                        operator="In", values=[5]
                    ),
                )
            ]
        ),
    )
    # A slow controller makes the race (finalizer removed, Job not yet Failed) likely.
    job_controller.start(qps=1, burst=1)
    reset_metrics()
    job_obj = create_job_with_defaults(admin_client, namespace, job)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=count))
    job_pods = get_job_pods(admin_client, job_obj, lambda p: not is_pod_terminal(p))

    failed_pod = job_pods[1]
    finalizer_removed = threading.Event()

    def await_finalizer_removal() -> None:
        def gone() -> bool:
            pod = admin_client.core_v1().pods(namespace).get(failed_pod.metadata.name)
            return not pod.metadata.finalizers

        try:
            wait_for(gone, 60.0, interval=0.01)
        finally:
            finalizer_removed.set()

    waiter = threading.Thread(target=await_finalizer_removal, daemon=True)
    waiter.start()
    updated = failed_pod.model_copy(deep=True)
    updated.status = _failed(5, "main-container")
    update_pod_statuses(admin_client, [updated])
    assert finalizer_removed.wait(61.0)

    # Stop the controller as soon as it removed the finalizer: likely before it marked
    # the Job Failed. Then delete the failed pod, as PodGC would.
    job_controller.stop()
    admin_client.core_v1().pods(namespace).delete(
        failed_pod.metadata.name, DeleteOptions(grace_period_seconds=0)
    )

    job_controller.start()
    validate_job_failed(admin_client, job_obj)
    validate_no_orphan_pods_with_finalizers(admin_client, job_obj)


# ---- TestJobPodFailurePolicy -------------------------------------------------------------


def _pod_failure_policy_job() -> V1Job:
    return new_job(
        template=_main_container_template(),
        pod_failure_policy=V1PodFailurePolicy(
            rules=[
                V1PodFailurePolicyRule(
                    action="Ignore",
                    on_pod_conditions=[
                        V1PodFailurePolicyOnPodConditionsPattern(type="DisruptionTarget")
                    ],
                ),
                V1PodFailurePolicyRule(
                    action="Count",
                    on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
                        operator="In", values=[10]
                    ),
                ),
                V1PodFailurePolicyRule(
                    action="FailJob",
                    on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
                        operator="In", values=[5, 6, 7]
                    ),
                ),
            ]
        ),
    )


def _negative_exit_code_job() -> V1Job:
    return new_job(
        template=_main_container_template(),
        pod_failure_policy=V1PodFailurePolicy(
            rules=[
                V1PodFailurePolicyRule(
                    action="FailJob",
                    on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
                        operator="In", values=[-1073741510, 137]
                    ),
                )
            ]
        ),
    )


@dataclass
class PodFailurePolicyCase:
    job: Callable[[], V1Job]
    pod_status: Callable[[], V1PodStatus]
    want_active: int
    want_failed: int
    want_job_condition_type: str
    want_job_finished_metric: tuple[list[str], int]
    want_pod_failures_handled_by_policy_rule_metric: tuple[list[str], int] | None = None
    restart_controller: bool = False


POD_FAILURE_POLICY_CASES = {
    "pod status matching the configured FailJob rule on exit codes; job terminated": (
        PodFailurePolicyCase(
            job=_pod_failure_policy_job,
            pod_status=lambda: _failed(5, "main-container"),
            want_active=0,
            want_failed=1,
            want_job_condition_type="Failed",
            want_job_finished_metric=(["NonIndexed", "failed", "PodFailurePolicy"], 1),
            want_pod_failures_handled_by_policy_rule_metric=(["FailJob"], 1),
        )
    ),
    "pod status matching the configured FailJob rule on exit codes; with controller restart; "
    "job terminated": PodFailurePolicyCase(
        restart_controller=True,
        job=_pod_failure_policy_job,
        pod_status=lambda: _failed(5, "main-container"),
        want_active=0,
        want_failed=1,
        want_job_condition_type="Failed",
        want_job_finished_metric=(["NonIndexed", "failed", "PodFailurePolicy"], 1),
    ),
    "pod status matching the configured Ignore rule on pod conditions; pod failure not counted": (
        PodFailurePolicyCase(
            job=_pod_failure_policy_job,
            pod_status=lambda: _failed(conditions=_disruption_target()),
            want_active=1,
            want_failed=0,
            want_job_condition_type="Complete",
            want_pod_failures_handled_by_policy_rule_metric=(["Ignore"], 1),
            want_job_finished_metric=(["NonIndexed", "succeeded", "CompletionsReached"], 1),
        )
    ),
    "pod status matching the configured Count rule on exit codes; pod failure counted": (
        PodFailurePolicyCase(
            job=_pod_failure_policy_job,
            pod_status=lambda: _failed(10, "main-container"),
            want_active=1,
            want_failed=1,
            want_job_condition_type="Complete",
            want_job_finished_metric=(["NonIndexed", "succeeded", "CompletionsReached"], 1),
            want_pod_failures_handled_by_policy_rule_metric=(["Count"], 1),
        )
    ),
    "pod status non-matching any configured rule; pod failure counted": PodFailurePolicyCase(
        job=_pod_failure_policy_job,
        pod_status=lambda: _failed(0),
        want_active=1,
        want_failed=1,
        want_job_condition_type="Complete",
        want_job_finished_metric=(["NonIndexed", "succeeded", "CompletionsReached"], 1),
        want_pod_failures_handled_by_policy_rule_metric=(["Count"], 0),
    ),
    "pod status matching the configured FailJob rule on a negative exit code - needed for "
    "Windows support": PodFailurePolicyCase(
        job=_negative_exit_code_job,
        pod_status=lambda: _failed(-1073741510, "main-container"),
        want_active=0,
        want_failed=1,
        want_job_condition_type="Failed",
        want_job_finished_metric=(["NonIndexed", "failed", "PodFailurePolicy"], 1),
        want_pod_failures_handled_by_policy_rule_metric=(["FailJob"], 1),
    ),
}


@pytest.mark.parametrize(
    "case", POD_FAILURE_POLICY_CASES.values(), ids=list(POD_FAILURE_POLICY_CASES)
)
@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_job_pod_failure_policy(
    case: PodFailurePolicyCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    reset_metrics()
    job_controller.start()
    job_obj = create_job_with_defaults(admin_client, namespace, case.job())
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1))

    def op(pod: V1Pod) -> bool:
        pod.status = case.pod_status()
        return True

    update_job_pods_status(admin_client, job_obj, op, 1)
    if case.restart_controller:
        job_controller.restart()

    validate_job_pods_status(
        admin_client, job_obj, PodsByStatus(active=case.want_active, failed=case.want_failed)
    )
    if case.want_job_condition_type == "Complete":
        set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 1)
    validate_job_condition(admin_client, job_obj, case.want_job_condition_type)
    validate_counter_metric(metrics.job_finished_num, *case.want_job_finished_metric)
    if case.want_pod_failures_handled_by_policy_rule_metric is not None:
        validate_counter_metric(
            metrics.pod_failures_handled_by_failure_policy,
            *case.want_pod_failures_handled_by_policy_rule_metric,
        )
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)


# ---- TestSuccessPolicy / TestBackoffLimitPerIndex -------------------------------------------


@dataclass
class PodTermination:
    """Port of podTerminationWithExpectations."""

    status: Callable[[], V1PodStatus]
    index: int = 0
    want_active: int = 0
    want_failed: int = 0
    want_succeeded: int = 0
    want_active_indexes: set[int] = field(default_factory=set)
    want_completed_indexes: str = ""
    want_failed_indexes: str | None = None
    want_replacement_pod_failure_count: int | None = None
    want_terminating: int | None = 0


def _phase(phase: str) -> Callable[[], V1PodStatus]:
    return lambda: V1PodStatus(phase=phase)


def _indexed_job(**spec: Any) -> V1Job:
    return new_job(template=_main_container_template(), completion_mode="Indexed", **spec)


@dataclass
class SuccessPolicyCase:
    job: Callable[[], V1Job]
    pod_terminations: list[PodTermination]
    want_condition_types: list[str]
    want_job_finished_num_metric: list[tuple[list[str], int]] = field(default_factory=list)


SUCCESS_POLICY_CASES = {
    "all indexes succeeded": SuccessPolicyCase(
        job=lambda: _indexed_job(
            parallelism=1,
            completions=1,
            success_policy=V1SuccessPolicy(rules=[V1SuccessPolicyRule(succeeded_indexes="0")]),
        ),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_SUCCEEDED),
                want_succeeded=1,
                want_completed_indexes="0",
            )
        ],
        want_condition_types=["SuccessCriteriaMet", "Complete"],
        want_job_finished_num_metric=[(["Indexed", "succeeded", "SuccessPolicy"], 1)],
    ),
    "job without successPolicy; incremented the jobs_finished_total metric with "
    "CompletionsReached reason": SuccessPolicyCase(
        job=lambda: _indexed_job(parallelism=1, completions=1),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_SUCCEEDED),
                want_succeeded=1,
                want_completed_indexes="0",
            )
        ],
        want_condition_types=["SuccessCriteriaMet", "Complete"],
        want_job_finished_num_metric=[(["Indexed", "succeeded", "CompletionsReached"], 1)],
    ),
    "job with successPolicy with succeededIndexes; job has SuccessCriteriaMet and Complete "
    "conditions even if some indexes remain pending": SuccessPolicyCase(
        job=lambda: _indexed_job(
            parallelism=2,
            completions=2,
            success_policy=V1SuccessPolicy(rules=[V1SuccessPolicyRule(succeeded_indexes="1")]),
        ),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_PENDING),
                want_active=2,
                want_active_indexes={0, 1},
            ),
            PodTermination(
                index=1,
                status=_phase(POD_SUCCEEDED),
                want_succeeded=1,
                want_completed_indexes="1",
            ),
        ],
        want_condition_types=["SuccessCriteriaMet", "Complete"],
        want_job_finished_num_metric=[(["Indexed", "succeeded", "SuccessPolicy"], 1)],
    ),
    "job with successPolicy with succeededCount; job has SuccessCriteriaMet and Complete "
    "conditions even if some indexes remain pending": SuccessPolicyCase(
        job=lambda: _indexed_job(
            parallelism=2,
            completions=2,
            success_policy=V1SuccessPolicy(rules=[V1SuccessPolicyRule(succeeded_count=1)]),
        ),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_PENDING),
                want_active=2,
                want_active_indexes={0, 1},
            ),
            PodTermination(
                index=1,
                status=_phase(POD_SUCCEEDED),
                want_succeeded=1,
                want_completed_indexes="1",
            ),
        ],
        want_condition_types=["SuccessCriteriaMet", "Complete"],
        want_job_finished_num_metric=[(["Indexed", "succeeded", "SuccessPolicy"], 1)],
    ),
    "job with successPolicy and backoffLimitPerIndex; job has a Failed condition if job meets "
    "backoffLimitPerIndex": SuccessPolicyCase(
        job=lambda: _indexed_job(
            parallelism=2,
            completions=2,
            backoff_limit_per_index=0,
            success_policy=V1SuccessPolicy(rules=[V1SuccessPolicyRule(succeeded_count=1)]),
        ),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_FAILED),
                want_active=1,
                want_active_indexes={1},
                want_failed=1,
                want_failed_indexes="0",
            ),
            PodTermination(
                index=1,
                status=_phase(POD_SUCCEEDED),
                want_failed=1,
                want_succeeded=1,
                want_failed_indexes="0",
                want_completed_indexes="1",
            ),
        ],
        want_condition_types=["Failed"],
    ),
}


def _run_pod_terminations(
    client: Interface, job_obj: V1Job, terminations: list[PodTermination]
) -> None:
    for termination in terminations:
        pod = get_active_pod_for_index(client, job_obj, termination.index)
        _update_status(client, pod, termination.status())
        validate_job_pods_status(
            client,
            job_obj,
            PodsByStatus(
                active=termination.want_active,
                succeeded=termination.want_succeeded,
                failed=termination.want_failed,
                terminating=termination.want_terminating,
            ),
        )
        validate_indexed_job_pods(
            client,
            job_obj,
            termination.want_active_indexes,
            termination.want_completed_indexes,
            termination.want_failed_indexes,
        )
        if termination.want_replacement_pod_failure_count is not None:
            replacement = get_active_pod_for_index(client, job_obj, termination.index)
            got = get_index_failure_count(replacement)
            assert got == termination.want_replacement_pod_failure_count


@pytest.mark.parametrize("case", SUCCESS_POLICY_CASES.values(), ids=list(SUCCESS_POLICY_CASES))
def test_success_policy(
    case: SuccessPolicyCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    reset_metrics()
    job_controller.start()
    job = case.job()
    job_obj = create_job_with_defaults(admin_client, namespace, job)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=job_obj.spec.parallelism))
    _run_pod_terminations(admin_client, job_obj, case.pod_terminations)
    for condition_type in case.want_condition_types:
        validate_job_condition(admin_client, job_obj, condition_type)
    for labels, value in case.want_job_finished_num_metric:
        validate_counter_metric(metrics.job_finished_num, labels, value)
    validate_finished_pods_no_finalizer(admin_client, job_obj)


# ---- TestBackoffLimitPerIndex_DelayedPodDeletion -----------------------------------------


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_backoff_limit_per_index_delayed_pod_deletion(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job_obj = create_job_with_defaults(
        admin_client,
        namespace,
        new_job(parallelism=1, completions=1, backoff_limit_per_index=1, completion_mode="Indexed"),
    )
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1))
    validate_indexed_job_pods(admin_client, job_obj, {0}, "", "")

    set_job_phase_for_index(admin_client, job_obj, POD_FAILED, 0)
    pod = get_job_pod_for_index(admin_client, job_obj, 0, lambda _p: True)
    admin_client.core_v1().pods(namespace).delete(pod.metadata.name)

    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1, failed=1))
    validate_indexed_job_pods(admin_client, job_obj, {0}, "", "")

    replacement = get_active_pod_for_index(admin_client, job_obj, 0)
    assert get_index_failure_count(replacement) == 1
    set_job_phase_for_index(admin_client, job_obj, POD_SUCCEEDED, 0)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(succeeded=1, failed=1))
    validate_job_complete(admin_client, job_obj)


# ---- TestBackoffLimitPerIndex ----------------------------------------------------------


@dataclass
class BackoffLimitPerIndexCase:
    job: Callable[[], V1Job]
    pod_terminations: list[PodTermination]
    want_job_condition_type: str
    want_job_finished_indexes_total_metric: list[tuple[list[str], int]]


def _fail_index_policy() -> V1PodFailurePolicy:
    return V1PodFailurePolicy(
        rules=[
            V1PodFailurePolicyRule(
                action="FailIndex",
                on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(operator="In", values=[13]),
            ),
            V1PodFailurePolicyRule(
                action="FailIndex",
                on_pod_conditions=[
                    V1PodFailurePolicyOnPodConditionsPattern(type="DisruptionTarget", status="True")
                ],
            ),
        ]
    )


BACKOFF_LIMIT_PER_INDEX_CASES = {
    "job succeeded": BackoffLimitPerIndexCase(
        job=lambda: _indexed_job(parallelism=2, completions=2, backoff_limit_per_index=1),
        pod_terminations=[
            PodTermination(
                status=_phase(POD_FAILED),
                want_active=2,
                want_failed=1,
                want_active_indexes={0, 1},
                want_failed_indexes="",
                want_replacement_pod_failure_count=1,
            )
        ],
        want_job_condition_type="Complete",
        want_job_finished_indexes_total_metric=[(["succeeded", "perIndex"], 2)],
    ),
    "job index fails due to exceeding backoff limit per index": BackoffLimitPerIndexCase(
        job=lambda: _indexed_job(parallelism=2, completions=2, backoff_limit_per_index=2),
        pod_terminations=[
            PodTermination(
                status=_phase(POD_FAILED),
                want_active=2,
                want_failed=1,
                want_active_indexes={0, 1},
                want_failed_indexes="",
                want_replacement_pod_failure_count=1,
            ),
            PodTermination(
                status=_phase(POD_FAILED),
                want_active=2,
                want_failed=2,
                want_active_indexes={0, 1},
                want_failed_indexes="",
                want_replacement_pod_failure_count=2,
            ),
            PodTermination(
                status=_phase(POD_FAILED),
                want_active=1,
                want_failed=3,
                want_active_indexes={1},
                want_failed_indexes="0",
            ),
        ],
        want_job_condition_type="Failed",
        want_job_finished_indexes_total_metric=[
            (["failed", "perIndex"], 1),
            (["succeeded", "perIndex"], 1),
        ],
    ),
    "job index fails due to exceeding the global backoff limit first": BackoffLimitPerIndexCase(
        job=lambda: _indexed_job(
            parallelism=3, completions=3, backoff_limit_per_index=1, backoff_limit=2
        ),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_FAILED),
                want_active=3,
                want_failed=1,
                want_active_indexes={0, 1, 2},
                want_failed_indexes="",
            ),
            PodTermination(
                index=1,
                status=_phase(POD_FAILED),
                want_active=3,
                want_failed=2,
                want_active_indexes={0, 1, 2},
                want_failed_indexes="",
            ),
            PodTermination(
                index=2,
                status=_phase(POD_FAILED),
                want_failed=5,
                want_failed_indexes="",
            ),
        ],
        want_job_condition_type="Failed",
        want_job_finished_indexes_total_metric=[
            (["succeeded", "perIndex"], 0),
            (["failed", "perIndex"], 0),
        ],
    ),
    "job continues execution after a failed index, the job is marked Failed due to the failed "
    "index": BackoffLimitPerIndexCase(
        job=lambda: _indexed_job(parallelism=2, completions=2, backoff_limit_per_index=0),
        pod_terminations=[
            PodTermination(
                index=0,
                status=_phase(POD_FAILED),
                want_active=1,
                want_failed=1,
                want_active_indexes={1},
                want_failed_indexes="0",
            ),
            PodTermination(
                index=1,
                status=_phase(POD_SUCCEEDED),
                want_failed=1,
                want_succeeded=1,
                want_failed_indexes="0",
                want_completed_indexes="1",
            ),
        ],
        want_job_condition_type="Failed",
        want_job_finished_indexes_total_metric=[
            (["succeeded", "perIndex"], 1),
            (["failed", "perIndex"], 1),
        ],
    ),
    "job execution terminated early due to exceeding max failed indexes": (
        BackoffLimitPerIndexCase(
            job=lambda: _indexed_job(
                parallelism=3, completions=3, backoff_limit_per_index=0, max_failed_indexes=1
            ),
            pod_terminations=[
                PodTermination(
                    index=0,
                    status=_phase(POD_FAILED),
                    want_active=2,
                    want_failed=1,
                    want_active_indexes={1, 2},
                    want_failed_indexes="0",
                ),
                PodTermination(
                    index=1,
                    status=_phase(POD_FAILED),
                    want_active=0,
                    want_failed=3,
                    want_failed_indexes="0,1",
                ),
            ],
            want_job_condition_type="Failed",
            want_job_finished_indexes_total_metric=[(["failed", "perIndex"], 2)],
        )
    ),
    "pod failure matching pod failure policy rule with FailIndex action": (
        BackoffLimitPerIndexCase(
            job=lambda: _indexed_job(
                parallelism=2,
                completions=2,
                backoff_limit_per_index=1,
                pod_failure_policy=_fail_index_policy(),
            ),
            pod_terminations=[
                PodTermination(
                    index=0,
                    status=lambda: _failed(13),
                    want_active=1,
                    want_failed=1,
                    want_active_indexes={1},
                    want_failed_indexes="0",
                ),
                PodTermination(
                    index=1,
                    status=lambda: _failed(conditions=_disruption_target()),
                    want_failed=2,
                    want_failed_indexes="0,1",
                ),
            ],
            want_job_condition_type="Failed",
            want_job_finished_indexes_total_metric=[(["failed", "perIndex"], 2)],
        )
    ),
}


@pytest.mark.parametrize(
    "case", BACKOFF_LIMIT_PER_INDEX_CASES.values(), ids=list(BACKOFF_LIMIT_PER_INDEX_CASES)
)
@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_backoff_limit_per_index(
    case: BackoffLimitPerIndexCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    reset_metrics()
    job_controller.start()
    job_obj = create_job_with_defaults(admin_client, namespace, case.job())
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=job_obj.spec.parallelism))
    _run_pod_terminations(admin_client, job_obj, case.pod_terminations)
    remaining_active = case.pod_terminations[-1].want_active
    if remaining_active > 0:
        set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, remaining_active)
    validate_job_condition(admin_client, job_obj, case.want_job_condition_type)
    for labels, value in case.want_job_finished_indexes_total_metric:
        validate_counter_metric(metrics.job_finished_indexes_total, labels, value)
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)


# ---- TestManagedBy -------------------------------------------------------------------------


@dataclass
class ManagedByCase:
    enable_job_managed_by: bool
    managed_by: str | None
    want_reconciled_by_built_in_controller: bool
    want_job_by_external_controller_total_metric: tuple[list[str], int]
    suspend: bool | None = None


MANAGED_BY_CASES = {
    "the Job controller reconciles jobs without the managedBy": ManagedByCase(
        enable_job_managed_by=True,
        managed_by=None,
        want_reconciled_by_built_in_controller=True,
        want_job_by_external_controller_total_metric=([api.JOB_CONTROLLER_NAME], 0),
    ),
    "the Job controller reconciles jobs with the well known value of the managedBy field": (
        ManagedByCase(
            enable_job_managed_by=True,
            managed_by=api.JOB_CONTROLLER_NAME,
            want_reconciled_by_built_in_controller=True,
            want_job_by_external_controller_total_metric=([api.JOB_CONTROLLER_NAME], 0),
        )
    ),
    "the Job controller reconciles an unsuspended with the custom value of managedBy; feature "
    "disabled": ManagedByCase(
        enable_job_managed_by=False,
        managed_by=CUSTOM_CONTROLLER_NAME,
        want_reconciled_by_built_in_controller=True,
        want_job_by_external_controller_total_metric=([CUSTOM_CONTROLLER_NAME], 0),
    ),
    "the Job controller does not reconcile an unsuspended with the custom value of managedBy": (
        ManagedByCase(
            enable_job_managed_by=True,
            suspend=False,
            managed_by=CUSTOM_CONTROLLER_NAME,
            want_reconciled_by_built_in_controller=False,
            want_job_by_external_controller_total_metric=([CUSTOM_CONTROLLER_NAME], 1),
        )
    ),
    "the Job controller does not reconcile a suspended with the custom value of managedBy": (
        ManagedByCase(
            enable_job_managed_by=True,
            suspend=True,
            managed_by=CUSTOM_CONTROLLER_NAME,
            want_reconciled_by_built_in_controller=False,
            want_job_by_external_controller_total_metric=([CUSTOM_CONTROLLER_NAME], 1),
        )
    ),
}


@pytest.mark.parametrize("case", MANAGED_BY_CASES.values(), ids=list(MANAGED_BY_CASES))
def test_managed_by(
    case: ManagedByCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    request: pytest.FixtureRequest,
) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    features.set_feature_gate_emulation_version_during_test(
        gate, features.Version(1, 34), cleanup=request.addfinalizer
    )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, case.enable_job_managed_by, cleanup=request.addfinalizer
    )
    job_controller.start()
    reset_metrics()
    spec: dict[str, Any] = {"template": _main_container_template()}
    if case.managed_by is not None:
        spec["managed_by"] = case.managed_by
    if case.suspend is not None:
        spec["suspend"] = case.suspend
    job_obj = create_job_with_defaults(admin_client, namespace, new_job(**spec))
    try:
        if case.want_reconciled_by_built_in_controller:
            validate_job_pods_status(
                admin_client, job_obj, PodsByStatus(active=job_obj.spec.parallelism)
            )
            validate_counter_metric(
                metrics.job_by_external_controller_total,
                *case.want_job_by_external_controller_total_metric,
            )
        else:
            # The metric is the controller's own evidence that it saw and skipped the Job.
            validate_counter_metric(
                metrics.job_by_external_controller_total,
                *case.want_job_by_external_controller_total_metric,
            )
            latest = get_job(admin_client, job_obj)
            assert latest.status is None or latest.status.model_dump(exclude_none=True) == {}
            assert get_job_pods(admin_client, job_obj) == []
    finally:
        clean_up(admin_client, job_obj, [BLOCK_DELETION_FINALIZER, JOB_TRACKING_FINALIZER])


# ---- TestDelayTerminalPhaseCondition -------------------------------------------------------


def _delay_terminal_template() -> V1PodTemplateSpec:
    template = _main_container_template()
    template.metadata = V1ObjectMeta(finalizers=[BLOCK_DELETION_FINALIZER])
    return template


def _fail_one_pod(client: Interface, job_obj: V1Job) -> None:
    set_job_pods_phase(client, job_obj, POD_FAILED, 1)


def _succeed_one_pod_and_scale_down(client: Interface, job_obj: V1Job) -> None:
    set_job_phase_for_index(client, job_obj, POD_SUCCEEDED, 0)

    def scale_down(job: V1Job) -> None:
        job.spec.parallelism = 1
        job.spec.completions = 1

    update_job(client, job_obj, scale_down)


def _condition(kind: str, reason: str) -> V1JobCondition:
    return V1JobCondition(type=kind, status="True", reason=reason)


_BACKOFF_INTERIM = V1JobStatus(
    failed=2,
    terminating=1,
    ready=0,
    conditions=[_condition("FailureTarget", "BackoffLimitExceeded")],
)
_BACKOFF_TERMINAL = V1JobStatus(
    failed=2,
    terminating=0,
    ready=0,
    conditions=[
        _condition("FailureTarget", "BackoffLimitExceeded"),
        _condition("Failed", "BackoffLimitExceeded"),
    ],
)
_SCALE_DOWN_INTERIM = V1JobStatus(
    succeeded=1,
    terminating=1,
    ready=0,
    completed_indexes="0",
    conditions=[_condition("SuccessCriteriaMet", "CompletionsReached")],
)
_SCALE_DOWN_TERMINAL = V1JobStatus(
    succeeded=1,
    terminating=0,
    ready=0,
    completed_indexes="0",
    conditions=[
        _condition("SuccessCriteriaMet", "CompletionsReached"),
        _condition("Complete", "CompletionsReached"),
    ],
)


@dataclass
class DelayTerminalPhaseConditionCase:
    enable_job_managed_by: bool
    job: Callable[[], V1Job]
    action: Callable[[Interface, V1Job], None]
    want_interim_status: V1JobStatus | None
    want_terminal_status: V1JobStatus


def _backoff_limit_job() -> V1Job:
    return new_job(
        template=_delay_terminal_template(), parallelism=2, completions=2, backoff_limit=0
    )


def _indexed_scale_down_job() -> V1Job:
    return new_job(
        template=_delay_terminal_template(),
        parallelism=2,
        completions=2,
        completion_mode="Indexed",
    )


DELAY_TERMINAL_PHASE_CONDITION_CASES = {
    f"job {what}; JobManagedBy {'enabled' if enabled else 'disabled'}": (
        DelayTerminalPhaseConditionCase(
            enable_job_managed_by=enabled,
            job=job,
            action=action,
            want_interim_status=interim,
            want_terminal_status=terminal,
        )
    )
    for what, job, action, interim, terminal in (
        (
            "backoff limit exceeded",
            _backoff_limit_job,
            _fail_one_pod,
            _BACKOFF_INTERIM,
            _BACKOFF_TERMINAL,
        ),
        (
            "scale down to meet completions",
            _indexed_scale_down_job,
            _succeed_one_pod_and_scale_down,
            _SCALE_DOWN_INTERIM,
            _SCALE_DOWN_TERMINAL,
        ),
    )
    for enabled in (False, True)
}


@pytest.mark.parametrize(
    "case",
    DELAY_TERMINAL_PHASE_CONDITION_CASES.values(),
    ids=list(DELAY_TERMINAL_PHASE_CONDITION_CASES),
)
@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_delay_terminal_phase_condition(
    case: DelayTerminalPhaseConditionCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    request: pytest.FixtureRequest,
) -> None:
    reset_metrics()
    gate = features.DEFAULT_FEATURE_GATE
    if not case.enable_job_managed_by:
        features.set_feature_gate_emulation_version_during_test(
            gate, features.Version(1, 34), cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, case.enable_job_managed_by, cleanup=request.addfinalizer
    )
    job_controller.start()
    job_obj = create_job_with_defaults(admin_client, namespace, case.job())
    try:
        parallelism = job_obj.spec.parallelism
        wait_for(
            lambda: (get_job(admin_client, job_obj).status.active or 0) == parallelism,
            message="Job pods to become active",
        )
        case.action(admin_client, job_obj)
        if case.want_interim_status is not None:
            validate_job_status(admin_client, job_obj, case.want_interim_status, "Interim")
            # Set a terminal phase on the remaining pods, as kubelet or PodGC would.
            remaining = get_job_pods(admin_client, job_obj, lambda p: not is_pod_terminal(p))
            set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, len(remaining))
        validate_job_status(admin_client, job_obj, case.want_terminal_status, "Terminal")
    finally:
        clean_up(admin_client, job_obj, [BLOCK_DELETION_FINALIZER, JOB_TRACKING_FINALIZER])


# ---- TestImmediateJobRecreation / TestJobRecreationClearsPodExpectations ------------------


def test_immediate_job_recreation(
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A backoff far longer than the waits below: the replacement must not inherit it.
    monkeypatch.setattr(jc, "DEFAULT_JOB_POD_FAILURE_BACK_OFF", 60.0)
    job_controller.start()

    def job_spec(index: int) -> V1Job:
        return new_job(
            name=f"test-job-{index}",
            template=_main_container_template(),
            completions=1,
            parallelism=1,
        )

    # More Jobs than workers, so that syncs rarely clean the in-memory state in time.
    job_objs = [create_job_with_defaults(admin_client, namespace, job_spec(i)) for i in range(3)]
    for job_obj in job_objs:
        validate_jobs_pods_status_only(admin_client, job_obj, PodsByStatus(active=1))
        set_job_pods_phase(admin_client, job_obj, POD_FAILED, 1)
        validate_jobs_pods_status_only(admin_client, job_obj, PodsByStatus(failed=1))

    jobs = admin_client.batch_v1().jobs(namespace)
    for i, job_obj in enumerate(job_objs):
        jobs.delete(job_obj.metadata.name, DeleteOptions(propagation_policy="Background"))
        job_objs[i] = create_job_with_defaults(admin_client, namespace, job_spec(i))

    for job_obj in job_objs:
        # The replacement gets its pod without the old instance's backoff delay.
        validate_jobs_pods_status_only(admin_client, job_obj, PodsByStatus(active=1), timeout=5.0)


class _HoldFirstPodCreate:
    """Wraps a clientset; the first pod create waits until ``allow`` is set.

    Stands in for upstream's WrapTransport round tripper that blocks the first POST.
    """

    def __init__(self, inner: Interface) -> None:
        self._inner = inner
        self.started = threading.Event()
        self.allow = threading.Event()
        self._lock = threading.Lock()
        self._held = False

    def hold(self) -> None:
        with self._lock:
            first, self._held = not self._held, True
        if first:
            self.started.set()
            self.allow.wait(FOREVER_TEST_TIMEOUT * 2)

    def core_v1(self) -> Any:
        return _HoldingCoreV1(self._inner.core_v1(), self)

    def batch_v1(self) -> Any:
        return self._inner.batch_v1()

    def coordination_v1(self) -> Any:
        return self._inner.coordination_v1()

    def close(self) -> None:
        getattr(self._inner, "close", lambda: None)()


class _HoldingCoreV1:
    def __init__(self, inner: Any, holder: _HoldFirstPodCreate) -> None:
        self._inner = inner
        self._holder = holder

    def pods(self, namespace: str) -> Any:
        return _HoldingPods(self._inner.pods(namespace), self._holder)

    def events(self, namespace: str) -> Any:
        return self._inner.events(namespace)


class _HoldingPods:
    def __init__(self, inner: Any, holder: _HoldFirstPodCreate) -> None:
        self._inner = inner
        self._holder = holder

    def create(self, pod: V1Pod) -> V1Pod:
        self._holder.hold()
        created: V1Pod = self._inner.create(pod)
        return created

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class RecreationCase:
    replacement_suspend: bool
    want_condition_types: list[str]
    want_pods_status: PodsByStatus


JOB_RECREATION_CLEARS_POD_EXPECTATIONS_CASES = {
    "suspended replacement": RecreationCase(
        replacement_suspend=True,
        want_condition_types=["Suspended"],
        want_pods_status=PodsByStatus(),
    ),
    "unsuspended replacement": RecreationCase(
        replacement_suspend=False,
        want_condition_types=[],
        want_pods_status=PodsByStatus(active=1),
    ),
}


@pytest.mark.parametrize(
    "case",
    JOB_RECREATION_CLEARS_POD_EXPECTATIONS_CASES.values(),
    ids=list(JOB_RECREATION_CLEARS_POD_EXPECTATIONS_CASES),
)
def test_job_recreation_clears_pod_expectations(
    case: RecreationCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    holders: list[_HoldFirstPodCreate] = []

    def wrap(client: Interface) -> Interface:
        holders.append(_HoldFirstPodCreate(client))
        return cast(Interface, holders[-1])

    running = job_controller.start(wrap_client=wrap)
    holder = holders[0]
    try:
        # Phase 1: the old Job's pod POST is held after its expectation is recorded.
        old_job = create_job_with_defaults(
            admin_client, namespace, new_job(name="test-job", completions=1, parallelism=1)
        )
        assert holder.started.wait(FOREVER_TEST_TIMEOUT), "the old Job's pod create never began"

        # Phase 2: replace the Job; wait for the informer to see the new UID.
        jobs = admin_client.batch_v1().jobs(namespace)
        jobs.delete(old_job.metadata.name, DeleteOptions(propagation_policy="Background"))
        new_job_obj = create_job_with_defaults(
            admin_client,
            namespace,
            new_job(
                name="test-job",
                completions=1,
                parallelism=1,
                suspend=case.replacement_suspend,
            ),
        )
        lister = running.factory.batch().v1().jobs().lister()

        def cache_has_replacement() -> bool:
            try:
                cached = lister.jobs(namespace).get(new_job_obj.metadata.name)
            except errors.StatusError:
                return False
            return bool(cached.metadata.uid == new_job_obj.metadata.uid)

        wait_for(cache_has_replacement, interval=0.01, message="the replacement in the cache")
    finally:
        holder.allow.set()

    # Phase 3: the replacement is reconciled once the old POST completes.
    for condition_type in case.want_condition_types:
        validate_job_condition(admin_client, new_job_obj, condition_type)
    validate_jobs_pods_status_only(admin_client, new_job_obj, case.want_pods_status, timeout=5.0)


# ---- TestNonParallelJob / TestParallelJob ------------------------------------------------


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_non_parallel_job(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(admin_client, namespace, new_job())
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1))

    job_controller.restart()
    # Failed Pod is replaced.
    set_job_pods_phase(admin_client, job_obj, POD_FAILED, 1)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1, failed=1))
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "failed"], 1)

    job_controller.restart()
    # No more Pods are created after the Pod succeeds.
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 1)
    validate_job_complete(admin_client, job_obj)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=1, succeeded=1))
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)
    validate_counter_metric(
        metrics.job_finished_num, ["NonIndexed", "succeeded", "CompletionsReached"], 1
    )
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "succeeded"], 1)


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_parallel_job(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(admin_client, namespace, new_job(parallelism=5))
    want = PodsByStatus(active=5)
    validate_job_pods_status(admin_client, job_obj, want)

    # Tracks ready pods.
    set_job_pods_ready(admin_client, job_obj, 2)
    want.ready = 2
    validate_job_pods_status(admin_client, job_obj, want)

    # Failed Pods are replaced.
    set_job_pods_phase(admin_client, job_obj, POD_FAILED, 2)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=5, failed=2))
    # Once one Pod succeeds, no more Pods are created, even if some fail.
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 1)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=2, succeeded=1, active=4))
    set_job_pods_phase(admin_client, job_obj, POD_FAILED, 2)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=4, succeeded=1, active=2))
    # No more Pods are created after remaining Pods succeed.
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 2)
    validate_job_complete(admin_client, job_obj)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=4, succeeded=3))
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)
    _validate_terminated_pods_tracking_finalizer_metric(7)
    validate_counter_metric(
        metrics.job_finished_num, ["NonIndexed", "succeeded", "CompletionsReached"], 1
    )
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "succeeded"], 3)
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "failed"], 4)


def test_parallel_job_changing_parallelism(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job_obj = create_job_with_defaults(
        admin_client, namespace, new_job(backoff_limit=2, parallelism=5)
    )
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=5))
    jobs = admin_client.batch_v1().jobs(namespace)

    # Reduce parallelism by a number greater than backoffLimit.
    job_obj = jobs.patch(job_obj.metadata.name, {"spec": {"parallelism": 2}})
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=2))

    # Increase parallelism again.
    job_obj = jobs.patch(job_obj.metadata.name, {"spec": {"parallelism": 4}})
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=4))

    # Succeed Job
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 4)
    validate_job_complete(admin_client, job_obj)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(succeeded=4))
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_parallel_job_with_completions(
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Lower limits for a job sync so that partial updates happen with few pods.
    monkeypatch.setattr(jc, "MAX_UNCOUNTED_PODS", 10)
    monkeypatch.setattr(jc, "MAX_POD_CREATE_DELETE_PER_SYNC", 10)
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(
        admin_client, namespace, new_job(parallelism=54, completions=56)
    )
    want = PodsByStatus(active=54)
    validate_job_pods_status(admin_client, job_obj, want)
    # Tracks ready pods.
    set_job_pods_ready(admin_client, job_obj, 52)
    want.ready = 52
    validate_job_pods_status(admin_client, job_obj, want)

    # Failed Pods are replaced.
    set_job_pods_phase(admin_client, job_obj, POD_FAILED, 2)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=54, failed=2, ready=50))
    # Pods are created until the number of succeeded Pods equals completions.
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 53)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=2, succeeded=53, active=3))
    # No more Pods are created after the Job completes.
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 3)
    validate_job_complete(admin_client, job_obj)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=2, succeeded=56))
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)
    validate_counter_metric(
        metrics.job_finished_num, ["NonIndexed", "succeeded", "CompletionsReached"], 1
    )
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "succeeded"], 56)
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "failed"], 2)


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_indexed_job(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(
        admin_client,
        namespace,
        new_job(parallelism=3, completions=4, completion_mode="Indexed"),
    )
    finished_indexes = metrics.job_finished_indexes_total
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=3))
    validate_indexed_job_pods(admin_client, job_obj, {0, 1, 2}, "")
    validate_counter_metric(finished_indexes, ["succeeded", "global"], 0)

    # One Pod succeeds.
    set_job_phase_for_index(admin_client, job_obj, POD_SUCCEEDED, 1)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=3, succeeded=1))
    validate_indexed_job_pods(admin_client, job_obj, {0, 2, 3}, "1")
    validate_counter_metric(finished_indexes, ["succeeded", "global"], 1)

    # One Pod fails, which should be recreated.
    set_job_phase_for_index(admin_client, job_obj, POD_FAILED, 2)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=3, failed=1, succeeded=1))
    validate_indexed_job_pods(admin_client, job_obj, {0, 2, 3}, "1")
    validate_counter_metric(finished_indexes, ["succeeded", "global"], 1)

    # Remaining Pods succeed.
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, 3)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=1, succeeded=4))
    validate_indexed_job_pods(admin_client, job_obj, None, "0-3")
    validate_job_complete(admin_client, job_obj)
    validate_finished_pods_no_finalizer(admin_client, job_obj)
    validate_no_finished_pod_has_finalizer(admin_client, job_obj)
    _validate_terminated_pods_tracking_finalizer_metric(5)
    validate_counter_metric(finished_indexes, ["succeeded", "global"], 4)
    validate_counter_metric(
        metrics.job_finished_num, ["Indexed", "succeeded", "CompletionsReached"], 1
    )
    validate_counter_metric(metrics.job_pods_finished, ["Indexed", "succeeded"], 4)
    validate_counter_metric(metrics.job_pods_finished, ["Indexed", "failed"], 1)


# ---- TestJobPodReplacementPolicy -----------------------------------------------------------


@dataclass
class PodReplacementPolicyCase:
    completion_mode: str
    pod_replacement_policy: str | None
    want_status_after_deletion: PodsByStatus
    want_status_after_failure: PodsByStatus
    want_metrics: dict[str, int]


def _replacement_case(mode: str, policy: str | None) -> PodReplacementPolicyCase:
    if policy == "Failed":
        return PodReplacementPolicyCase(
            completion_mode=mode,
            pod_replacement_policy=policy,
            want_status_after_deletion=PodsByStatus(active=0, failed=0, terminating=2),
            want_status_after_failure=PodsByStatus(active=2, failed=2, terminating=0),
            want_metrics={"new": 2, "recreate_terminating_or_failed": 0, "recreate_failed": 2},
        )
    return PodReplacementPolicyCase(
        completion_mode=mode,
        pod_replacement_policy=policy,
        want_status_after_deletion=PodsByStatus(active=2, failed=2, terminating=2),
        want_status_after_failure=PodsByStatus(active=2, failed=2, terminating=0),
        want_metrics={"new": 2, "recreate_terminating_or_failed": 2, "recreate_failed": 0},
    )


POD_REPLACEMENT_POLICY_CASES = {
    "delete & fail pods, recreate terminating pods, and verify job status counters": (
        _replacement_case("Indexed", None)
    ),
    "IndexedJob, TerminatingOrFailed policy, delete & fail pods, recreate terminating pods, and "
    "verify job status counters": _replacement_case("Indexed", "TerminatingOrFailed"),
    "NonIndexedJob, TerminatingOrFailed policy, delete & fail pods, recreate terminating pods, "
    "and verify job status counters": _replacement_case("NonIndexed", "TerminatingOrFailed"),
    "Failed policy, delete & fail pods, recreate failed pods, and verify job status counters": (
        _replacement_case("Indexed", "Failed")
    ),
    "NonIndexedJob, Failed policy, delete & fail pods, recreate failed pods, and verify job "
    "status counters": _replacement_case("NonIndexed", "Failed"),
}


@pytest.mark.parametrize(
    "case", POD_REPLACEMENT_POLICY_CASES.values(), ids=list(POD_REPLACEMENT_POLICY_CASES)
)
@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_job_pod_replacement_policy(
    case: PodReplacementPolicyCase,
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    job_controller.start()
    reset_metrics()
    spec: dict[str, Any] = {
        "parallelism": 2,
        "completions": 2,
        "completion_mode": case.completion_mode,
        "template": _finalizer_template(),
    }
    if case.pod_replacement_policy is not None:
        spec["pod_replacement_policy"] = case.pod_replacement_policy
    job_obj = create_job_with_defaults(admin_client, namespace, new_job(**spec))
    try:
        wait_for(
            lambda: (get_job(admin_client, job_obj).status.active or 0) == 2,
            message="Job pods to become active",
        )
        delete_pods(admin_client, namespace)
        validate_jobs_pods_status_only(
            admin_client, job_obj, case.want_status_after_deletion, status_type="AfterDeletion"
        )
        fail_terminating_pods(admin_client, namespace)
        validate_jobs_pods_status_only(
            admin_client, job_obj, case.want_status_after_failure, status_type="AfterFailure"
        )
        for reason, value in case.want_metrics.items():
            validate_counter_metric(metrics.job_pods_creation_total, [reason, "succeeded"], value)
    finally:
        clean_up(admin_client, job_obj, [BLOCK_DELETION_FINALIZER, JOB_TRACKING_FINALIZER])


# ---- TestElasticIndexedJob -----------------------------------------------------------------


@dataclass
class JobUpdate:
    completions: int | None = None
    succeed_indexes: list[int] = field(default_factory=list)
    fail_indexes: list[int] = field(default_factory=list)
    want_succeeded_indexes: str = ""
    want_failed: int = 0
    want_remaining_indexes: set[int] = field(default_factory=set)
    want_active_pods: int = 0
    want_terminating: int | None = 0


ELASTIC_INDEXED_JOB_CASES = {
    "scale up": [
        JobUpdate(completions=4, succeed_indexes=[0, 1, 2, 3], want_succeeded_indexes="0-3")
    ],
    "scale down": [
        JobUpdate(
            succeed_indexes=[1],
            fail_indexes=[2],
            want_succeeded_indexes="1",
            want_failed=1,
            want_remaining_indexes={0, 2},
            want_active_pods=2,
        ),
        JobUpdate(completions=1, succeed_indexes=[0], want_succeeded_indexes="0", want_failed=1),
    ],
    "index finishes successfully, scale down, scale up": [
        JobUpdate(
            succeed_indexes=[2],
            want_succeeded_indexes="2",
            want_remaining_indexes={0, 1},
            want_active_pods=2,
        ),
        JobUpdate(completions=2, want_remaining_indexes={0, 1}, want_active_pods=2),
        JobUpdate(completions=3, succeed_indexes=[0, 1, 2], want_succeeded_indexes="0-2"),
    ],
    "scale down to 0, verify that the job succeeds": [JobUpdate(completions=0)],
}


def _set_phase_for_index_when_present(
    client: Interface, job_obj: V1Job, phase: str, index: int
) -> None:
    """setJobPhaseForIndex, waiting (bounded) for the index's pod to exist first."""

    def attempt() -> bool:
        try:
            set_job_phase_for_index(client, job_obj, phase, index)
        except LookupError:
            return False
        return True

    wait_for(attempt, message=f"an active pod for index {index}")


@pytest.mark.parametrize(
    "updates", ELASTIC_INDEXED_JOB_CASES.values(), ids=list(ELASTIC_INDEXED_JOB_CASES)
)
def test_elastic_indexed_job(
    updates: list[JobUpdate],
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    initial_completions = 3
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(
        admin_client,
        namespace,
        new_job(
            parallelism=initial_completions,
            completions=initial_completions,
            completion_mode="Indexed",
        ),
    )
    wait_for(
        lambda: (get_job(admin_client, job_obj).status.active or 0) == initial_completions,
        message="Job pods to become active",
    )
    for update in updates:
        if update.completions is not None:
            completions = update.completions

            def scale(job: V1Job, n: int = completions) -> None:
                job.spec.completions = n
                job.spec.parallelism = n

            job_obj = update_job(admin_client, job_obj, scale)
        for index in update.succeed_indexes:
            _set_phase_for_index_when_present(admin_client, job_obj, POD_SUCCEEDED, index)
        for index in update.fail_indexes:
            _set_phase_for_index_when_present(admin_client, job_obj, POD_FAILED, index)
        validate_job_pods_status(
            admin_client,
            job_obj,
            PodsByStatus(
                active=update.want_active_pods,
                succeeded=len(update.succeed_indexes),
                failed=update.want_failed,
                terminating=update.want_terminating,
            ),
        )
        validate_indexed_job_pods(
            admin_client, job_obj, update.want_remaining_indexes, update.want_succeeded_indexes
        )
    validate_job_complete(admin_client, job_obj)


# ---- orphan pods and finalizers ------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Orphan", "Background", "Foreground"])
def test_orphan_pods_finalizers_cleared_with_gc(
    policy: str,
    job_controller: JobControllerRunner,
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
) -> None:
    # Make the job controller significantly slower to trigger race conditions.
    job_controller.start(qps=1, burst=1)
    reset_metrics()
    with kube_controller_manager(
        control_plane.admin_kubeconfig,
        ["garbagecollector"],
        control_plane.workdir / f"kcm-gc-{namespace}.log",
    ):
        job_obj = create_job_with_defaults(admin_client, namespace, new_job(parallelism=2))
        validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=2))

        # Delete Job. The GC should delete the pods in cascade.
        admin_client.batch_v1().jobs(namespace).delete(
            job_obj.metadata.name, DeleteOptions(propagation_policy=policy)
        )
        validate_no_orphan_pods_with_finalizers(admin_client, job_obj, timeout=60.0)
        # Pods never finished, so they are not counted in the metric.
        _validate_terminated_pods_tracking_finalizer_metric(0)

        # Not in upstream: evidence that the real garbage collector did its part.
        def gc_done() -> bool:
            pods = admin_client.core_v1().pods(namespace).list().items
            if policy == "Orphan":
                return len(pods) == 2 and not any(p.metadata.owner_references for p in pods)
            return not pods

        wait_for(gc_done, timeout=60.0, message=f"the garbage collector ({policy})")


def test_finalizers_cleared_when_backoff_limit_exceeded(
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A maximum of uncounted pods below parallelism must not stop pod termination.
    monkeypatch.setattr(jc, "MAX_UNCOUNTED_PODS", 50)
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(
        admin_client,
        namespace,
        new_job(completion_mode="Indexed", completions=100, parallelism=100, backoff_limit=0),
    )

    # Fail a pod ASAP.
    def fail_one() -> bool:
        try:
            set_job_pods_phase(admin_client, job_obj, POD_FAILED, 1)
        except Exception:
            return False
        return True

    wait_for(fail_one, interval=0.001, message="a pod to fail")
    validate_job_failed(admin_client, job_obj)
    validate_counter_metric(
        metrics.job_finished_num, ["Indexed", "failed", "BackoffLimitExceeded"], 1
    )
    validate_no_orphan_pods_with_finalizers(admin_client, job_obj)


def test_job_pods_created_with_exponential_backoff(
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Upstream fails three pods (2s then 4s of backoff); this checks the first retry only."""
    backoff = 2.0
    monkeypatch.setattr(jc, "DEFAULT_JOB_POD_FAILURE_BACK_OFF", backoff)
    job_controller.start()
    job_obj = create_job_with_defaults(admin_client, namespace, new_job())
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1))

    # Fail the first pod
    set_job_pods_phase(admin_client, job_obj, POD_FAILED, 1)
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1, failed=1))

    pods = get_job_pods(admin_client, job_obj)
    assert len(pods) == 2
    creation = sorted(p.metadata.creation_timestamp for p in pods)
    finished: list[datetime] = sorted(
        p.status.container_statuses[0].state.terminated.finished_at
        for p in pods
        if p.status.container_statuses
    )
    gap = (creation[1] - finished[0]).total_seconds()
    assert backoff <= gap < 2 * backoff, f"second pod created {gap}s after the first failed"


def test_job_failed_with_interrupts(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    template = V1PodTemplateSpec(spec=V1PodSpec(containers=[], node_name="foo"))
    job_obj = create_job_with_defaults(
        admin_client,
        namespace,
        new_job(template=template, completions=10, parallelism=10, backoff_limit=0),
    )
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=10))
    set_job_pods_phase(admin_client, job_obj, POD_FAILED, 1)
    remaining = [9]

    def succeed_remaining() -> bool:
        try:
            set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, remaining[0])
        except Exception as err:
            remaining[0] -= getattr(err, "updated", 0)
            return False
        return True

    wait_for(succeed_remaining, interval=0.005, message="the remaining pods to succeed")
    job_controller.restart()
    validate_job_condition(admin_client, job_obj, "Failed")


def test_orphan_pods_finalizers_cleared_on_restart(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job_obj = create_job_with_defaults(admin_client, namespace, new_job(parallelism=1))
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=1))

    # Delete the Job while the controller is stopped.
    job_controller.stop()
    admin_client.batch_v1().jobs(namespace).delete(job_obj.metadata.name)

    # Restart controller.
    job_controller.start()
    validate_no_orphan_pods_with_finalizers(admin_client, job_obj)


# ---- suspend -------------------------------------------------------------------------------


@dataclass
class SuspendStep:
    flag: bool
    want_active: int
    want_status: str = ""
    want_reason: str = ""


SUSPEND_JOB_CASES = {
    "feature=false,create=false,update=true": (
        SuspendStep(flag=False, want_active=2),
        SuspendStep(flag=True, want_active=0, want_status="True", want_reason="Suspended"),
    ),
    "feature=false,create=true,update=false": (
        SuspendStep(flag=True, want_active=0, want_status="True", want_reason="Suspended"),
        SuspendStep(flag=False, want_active=2, want_status="False", want_reason="Resumed"),
    ),
}


@pytest.mark.parametrize("steps", SUSPEND_JOB_CASES.values(), ids=list(SUSPEND_JOB_CASES))
def test_suspend_job(
    steps: tuple[SuspendStep, SuspendStep],
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
) -> None:
    create, update = steps
    job_controller.start()
    job = create_job_with_defaults(
        admin_client, namespace, new_job(parallelism=2, completions=4, suspend=create.flag)
    )

    def validate(when: str, step: SuspendStep) -> None:
        validate_job_pods_status(admin_client, job, PodsByStatus(active=step.want_active))
        latest = get_job(admin_client, job)
        got = get_job_condition_status(latest, "Suspended")
        assert got == step.want_status, f"Suspended condition after {when}: {got!r}"
        wait_for_event(admin_client, namespace, job.metadata.uid, step.want_reason)

    validate("create", create)
    job = get_job(admin_client, job)
    job.spec.suspend = update.flag
    job = admin_client.batch_v1().jobs(namespace).update(job)
    validate("update", update)


def test_start_time_update_on_resume(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    jobs = admin_client.batch_v1().jobs(namespace)
    job = create_job_with_defaults(
        admin_client, namespace, new_job(parallelism=1, completions=2, suspend=False)
    )
    validate_jobs_pods_status_only(admin_client, job, PodsByStatus(active=1))
    job = get_job(admin_client, job)
    assert job.status.start_time is not None, "Job startTime was not set"

    job.spec.suspend = True
    job = jobs.update(job)
    validate_jobs_pods_status_only(admin_client, job, PodsByStatus(active=0))
    job = get_job(admin_client, job)
    assert get_job_condition_status(job, "Suspended") == "True"

    job.spec.suspend = False
    job = jobs.update(job)
    validate_jobs_pods_status_only(admin_client, job, PodsByStatus(active=1))
    job = get_job(admin_client, job)
    assert get_job_condition_status(job, "Suspended") == "False"
    assert job.status.start_time is not None, "Job startTime was not set after resume"


def test_suspend_job_with_zero_completions(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job_obj = create_job_with_defaults(
        admin_client, namespace, new_job(completions=0, suspend=True)
    )
    for condition in ("SuccessCriteriaMet", "Complete"):
        validate_job_condition(admin_client, job_obj, condition)


def test_suspend_job_controller_restart(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job = create_job_with_defaults(
        admin_client, namespace, new_job(parallelism=2, completions=4, suspend=True)
    )
    validate_job_pods_status(admin_client, job, PodsByStatus(active=0))


def test_node_selector_update(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job = create_job_with_defaults(admin_client, namespace, new_job(parallelism=1, suspend=True))
    wait_for(
        lambda: (get_job(admin_client, job).status.active or 0) == 0,
        message="no active pods",
    )
    validate_job_condition(admin_client, job, "Suspended")

    # (1) Set the node selector in the same update that resumes the Job.
    node_selector = {"foo": "bar"}

    def resume_with_selector(j: V1Job) -> None:
        j.spec.template.spec.node_selector = node_selector
        j.spec.suspend = False

    update_job(admin_client, job, resume_with_selector)

    # (2) The pod is created with that node selector.
    pods: list[V1Pod] = []

    def pod_created() -> bool:
        nonlocal pods
        pods = admin_client.core_v1().pods(namespace).list().items
        return bool(pods)

    wait_for(pod_created, message="a pod")
    assert pods[0].spec.node_selector == node_selector

    # (3) Changing it again fails: the Job is no longer suspended.
    def change_selector(j: V1Job) -> None:
        j.spec.template.spec.node_selector = {"foo": "baz"}

    with pytest.raises(errors.StatusError, match=r"spec\.template: Invalid value"):
        update_job(admin_client, job, change_selector)


# ---- activeDeadlineSeconds (no upstream integration test; unit-tested upstream) -------------


def test_active_deadline_exceeded(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    job_controller.start()
    job_obj = create_job_with_defaults(
        admin_client, namespace, new_job(parallelism=2, completions=2, active_deadline_seconds=2)
    )
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(active=2))
    job = validate_job_failed(admin_client, job_obj)
    failed = [c for c in job.status.conditions if c.type == "Failed"]
    assert failed[0].reason == api.JOB_REASON_DEADLINE_EXCEEDED
    # Both active pods were deleted (no node: the apiserver removes them at once).
    validate_job_pods_status(admin_client, job_obj, PodsByStatus(failed=2))
    validate_no_orphan_pods_with_finalizers(admin_client, job_obj)
    wait_for_event(admin_client, namespace, job_obj.metadata.uid, "DeadlineExceeded")


# ---- scale and disruption (beyond upstream's integration tests) ----------------------------


def _assert_every_pod_counted_once(client: Interface, job_obj: V1Job, completions: int) -> None:
    """The Job's counters equal the pods the cluster actually holds, none left tracked."""
    job = get_job(client, job_obj)
    pods = get_job_pods(client, job_obj)
    by_phase: dict[str, int] = {}
    for pod in pods:
        by_phase[pod_phase(pod)] = by_phase.get(pod_phase(pod), 0) + 1
    status = job.status
    assert status.succeeded == completions
    assert (status.succeeded or 0) == by_phase.get(POD_SUCCEEDED, 0), by_phase
    assert (status.failed or 0) == by_phase.get(POD_FAILED, 0), by_phase
    assert len(pods) == (status.succeeded or 0) + (status.failed or 0), by_phase
    uncounted = status.uncounted_terminated_pods
    assert uncounted is None or not (uncounted.succeeded or uncounted.failed)
    assert not [p.metadata.name for p in pods if has_job_tracking_finalizer(p)]


def test_large_job_finalizers_removed_in_batches(
    job_controller: JobControllerRunner, admin_client: Interface, namespace: str
) -> None:
    """More finished pods than MAX_UNCOUNTED_PODS (500): counted over several syncs."""
    total = 600
    job_controller.start()
    reset_metrics()
    job_obj = create_job_with_defaults(
        admin_client, namespace, new_job(completions=total, parallelism=total)
    )
    wait_for(
        lambda: len(get_job_pods(admin_client, job_obj)) == total,
        timeout=180.0,
        interval=0.5,
        message=f"{total} pods created",
    )
    validate_jobs_pods_status_only(admin_client, job_obj, PodsByStatus(active=total), timeout=60.0)
    set_job_pods_phase(admin_client, job_obj, POD_SUCCEEDED, total)
    validate_job_condition(admin_client, job_obj, "Complete", timeout=180.0)
    validate_jobs_pods_status_only(admin_client, job_obj, PodsByStatus(succeeded=total))
    _assert_every_pod_counted_once(admin_client, job_obj, total)
    validate_counter_metric(metrics.job_pods_finished, ["NonIndexed", "succeeded"], total)
    # Each pod lost its finalizer once; at most MAX_UNCOUNTED_PODS per status write. The
    # metric is counted when the pod informer sees the update, which may trail the API.
    validate_counter_metric(
        metrics.terminated_pods_tracking_finalizer_total, ["delete"], total, timeout=60.0
    )


def _simulated_job(completions: int, parallelism: int, exit_script: str) -> V1Job:
    template = V1PodTemplateSpec(
        metadata=V1ObjectMeta(annotations={RUN_FOR: "0.3", EXIT_SCRIPT: exit_script}),
        spec=V1PodSpec(containers=[], node_name="sim-node"),
    )
    return new_job(
        template=template, completions=completions, parallelism=parallelism, backoff_limit=10
    )


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_controller_restarted_mid_job(
    job_controller: JobControllerRunner,
    admin_client: Interface,
    namespace: str,
    pod_simulator: PodSimulator,
) -> None:
    """The controller is stopped and restarted three times while pods finish."""
    completions = 24
    job_controller.start()
    job_obj = create_job_with_defaults(
        admin_client, namespace, _simulated_job(completions, 4, "*=1;0;0;1;0;0;0;1;0")
    )
    for threshold in (4, 10, 16):

        def progressed(n: int = threshold) -> bool:
            status = get_job(admin_client, job_obj).status
            return status is not None and (status.succeeded or 0) >= n

        wait_for(progressed, timeout=60.0, message=f"{threshold} pods succeeded")
        job_controller.stop()
        # Pods keep finishing while no controller runs; their finalizers stay.
        wait_for(
            lambda: all(is_pod_terminal(p) for p in get_job_pods(admin_client, job_obj)),
            timeout=10.0,
            message="every pod created so far to finish while no controller runs",
        )
        job_controller.start()
    validate_job_condition(admin_client, job_obj, "Complete", timeout=60.0)
    _assert_every_pod_counted_once(admin_client, job_obj, completions)


@pytest.mark.usefixtures("fast_pod_failure_backoff")
def test_apiserver_restarted_mid_job(
    job_controller: JobControllerRunner,
    control_plane: ControlPlane,
    admin_client: Interface,
    namespace: str,
) -> None:
    """kube-apiserver restarts while a Job runs; the informers reconnect and finish it."""
    completions = 12
    job_controller.start()
    simulator = PodSimulator(admin_client, namespace).start()
    try:
        job_obj = create_job_with_defaults(
            admin_client, namespace, _simulated_job(completions, 3, "*=0;1;0")
        )

        def succeeded(n: int) -> Callable[[], bool]:
            def check() -> bool:
                status = get_job(admin_client, job_obj).status
                return status is not None and (status.succeeded or 0) >= n

            return check

        wait_for(succeeded(2), timeout=60.0, message="2 pods succeeded")
        # The simulator forgets steps that failed while the server was down, so it is
        # restarted with the server (as a kubelet would re-sync its pods).
        simulator.stop()
        control_plane.restart_apiserver()
        simulator = PodSimulator(admin_client, namespace).start()
        wait_for(
            succeeded(completions),
            timeout=60.0,
            message=lambda: f"{completions} pods succeeded; {describe_job(admin_client, job_obj)}",
        )
        validate_job_condition(admin_client, job_obj, "Complete", timeout=30.0)
        _assert_every_pod_counted_once(admin_client, job_obj, completions)
        # The controller that lived through the restart is still the one running...
        assert job_controller.current is not None and job_controller.current.thread.is_alive()
        # ... and it still reacts to new work through its re-established watches.
        second = create_job_with_defaults(admin_client, namespace, _simulated_job(2, 2, "*=0"))
        validate_job_condition(admin_client, second, "Complete", timeout=30.0)
    finally:
        simulator.stop()
