"""Pod failure policy matching: port of pkg/controller/job/pod_failure_policy.go."""

from __future__ import annotations

from collections.abc import Sequence

from kubernetes.client import (
    V1ContainerStatus,
    V1Pod,
    V1PodCondition,
    V1PodFailurePolicy,
    V1PodFailurePolicyOnExitCodesRequirement,
    V1PodFailurePolicyOnPodConditionsPattern,
    V1PodStatus,
)

from jobctl.k8s_libs.api import (
    POD_FAILURE_POLICY_ACTION_COUNT,
    POD_FAILURE_POLICY_ACTION_FAIL_INDEX,
    POD_FAILURE_POLICY_ACTION_FAIL_JOB,
    POD_FAILURE_POLICY_ACTION_IGNORE,
    POD_FAILURE_POLICY_ON_EXIT_CODES_OP_IN,
    POD_FAILURE_POLICY_ON_EXIT_CODES_OP_NOT_IN,
)

_EMPTY_STATUS = V1PodStatus()


def match_pod_failure_policy(
    pod_failure_policy: V1PodFailurePolicy | None, failed_pod: V1Pod
) -> tuple[str | None, bool, str | None]:
    """Port of matchPodFailurePolicy (pkg/controller/job/pod_failure_policy.go): apply the first
    rule matching a failed pod.

    Returns ``(fail_job_message, count_failed, action)``: the Job failure message when a
    FailJob rule matched, whether the failure counts towards the backoff limits (not for
    an Ignore rule), and the matched action (None when no rule matched). Rules with an
    action this controller does not know are skipped.
    """
    if pod_failure_policy is None:
        return None, True, None
    status = failed_pod.status if failed_pod.status is not None else _EMPTY_STATUS
    meta = failed_pod.metadata
    namespace = (meta.namespace if meta is not None else None) or ""
    name = (meta.name if meta is not None else None) or ""
    for index, rule in enumerate(pod_failure_policy.rules or []):
        if rule.on_exit_codes is not None:
            container_status = match_on_exit_codes(status, rule.on_exit_codes)
            if container_status is None:
                continue
            if rule.action == POD_FAILURE_POLICY_ACTION_IGNORE:
                return None, False, POD_FAILURE_POLICY_ACTION_IGNORE
            if rule.action == POD_FAILURE_POLICY_ACTION_FAIL_INDEX:
                return None, True, POD_FAILURE_POLICY_ACTION_FAIL_INDEX
            if rule.action == POD_FAILURE_POLICY_ACTION_COUNT:
                return None, True, POD_FAILURE_POLICY_ACTION_COUNT
            if rule.action == POD_FAILURE_POLICY_ACTION_FAIL_JOB:
                assert container_status.state is not None
                terminated = container_status.state.terminated
                assert terminated is not None
                msg = (
                    f"Container {container_status.name} for pod {namespace}/{name} failed with "
                    f"exit code {terminated.exit_code} matching {rule.action} rule at index "
                    f"{index}"
                )
                return msg, True, POD_FAILURE_POLICY_ACTION_FAIL_JOB
        elif rule.on_pod_conditions is not None:
            pod_condition = match_on_pod_conditions(status, rule.on_pod_conditions)
            if pod_condition is None:
                continue
            if rule.action == POD_FAILURE_POLICY_ACTION_IGNORE:
                return None, False, POD_FAILURE_POLICY_ACTION_IGNORE
            if rule.action == POD_FAILURE_POLICY_ACTION_FAIL_INDEX:
                return None, True, POD_FAILURE_POLICY_ACTION_FAIL_INDEX
            if rule.action == POD_FAILURE_POLICY_ACTION_COUNT:
                return None, True, POD_FAILURE_POLICY_ACTION_COUNT
            if rule.action == POD_FAILURE_POLICY_ACTION_FAIL_JOB:
                msg = (
                    f"Pod {namespace}/{name} has condition {pod_condition.type} matching "
                    f"{rule.action} rule at index {index}"
                )
                return msg, True, POD_FAILURE_POLICY_ACTION_FAIL_JOB
    return None, True, None


def match_on_exit_codes(
    pod_status: V1PodStatus, requirement: V1PodFailurePolicyOnExitCodesRequirement
) -> V1ContainerStatus | None:
    """Port of matchOnExitCodes (pkg/controller/job/pod_failure_policy.go): a terminated container
    (regular first, then init) that satisfies the exit-code requirement, or None."""
    container_status = get_matching_container_from_list(pod_status.container_statuses, requirement)
    if container_status is not None:
        return container_status
    return get_matching_container_from_list(pod_status.init_container_statuses, requirement)


def match_on_pod_conditions(
    pod_status: V1PodStatus, requirement: Sequence[V1PodFailurePolicyOnPodConditionsPattern]
) -> V1PodCondition | None:
    """Port of matchOnPodConditions (pkg/controller/job/pod_failure_policy.go): the first pod
    condition equal in type and status to one of the patterns, or None."""
    for pod_condition in pod_status.conditions or []:
        for pattern in requirement:
            if pod_condition.type == pattern.type and pod_condition.status == pattern.status:
                return pod_condition
    return None


def get_matching_container_from_list(
    container_statuses: Sequence[V1ContainerStatus] | None,
    requirement: V1PodFailurePolicyOnExitCodesRequirement,
) -> V1ContainerStatus | None:
    """Port of getMatchingContainerFromList (pkg/controller/job/pod_failure_policy.go): first
    terminated status, named as required (if a name is given), with a non-zero exit code that the
    operator accepts."""
    for container_status in container_statuses or []:
        state = container_status.state
        terminated = state.terminated if state is not None else None
        if terminated is None:
            # Still running or terminating: no exit code to match yet.
            continue
        name_matches = (
            requirement.container_name is None
            or requirement.container_name == container_status.name
        )
        if (
            name_matches
            and terminated.exit_code != 0
            and is_on_exit_codes_operator_matching(terminated.exit_code, requirement)
        ):
            return container_status
    return None


def is_on_exit_codes_operator_matching(
    exit_code: int, requirement: V1PodFailurePolicyOnExitCodesRequirement
) -> bool:
    """Port of isOnExitCodesOperatorMatching (pkg/controller/job/pod_failure_policy.go): In / NotIn
    over the values; other operators never match."""
    if requirement.operator == POD_FAILURE_POLICY_ON_EXIT_CODES_OP_IN:
        return exit_code in requirement.values
    if requirement.operator == POD_FAILURE_POLICY_ON_EXIT_CODES_OP_NOT_IN:
        return exit_code not in requirement.values
    return False
