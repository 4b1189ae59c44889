"""Pod status helpers: port of pkg/api/v1/pod/util.go (podutil), the subset jobctl uses.

The Job controller asks podutil only whether a pod is Ready; ``controller_utils`` also
needs the terminal-phase checks. Both reach the Ready condition through the generic
condition lookups, which are ported in the same order as upstream.

Deliberately skipped (no caller in the Job controller or the pkg/controller helpers it
uses): ContainerType/AllFeatureEnabledContainers, VisitContainers, ContainerIter,
VisitPodSecretNames, VisitPodConfigmapNames, GetContainerStatus,
GetExistingContainerStatus, GetIndexOfContainerStatus, IsPodAvailable,
IsContainersReadyConditionTrue, GetContainersReadyCondition, UpdatePodCondition,
IsRestartableInitContainer, IsContainerRestartable, ContainerShouldRestart,
FindMatchingContainerRestartRule, AllContainersCouldRestart,
CalculatePodStatusObservedGeneration, CalculatePodConditionObservedGeneration.
Nothing from pkg/apis/core/v1/helper is used by the Job controller, so none is ported.

Go passes ``PodStatus`` by value and a missing status reads as its zero value; the
Python models leave an unset ``status`` or ``conditions`` as ``None``, which these
helpers treat the same way as an empty value.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubernetes.client import V1Pod, V1PodCondition, V1PodStatus

from jobctl.k8s_libs.api import (
    CONDITION_TRUE,
    POD_FAILED,
    POD_READY,
    POD_SUCCEEDED,
)


def _pod_phase(pod: V1Pod) -> str:
    status = pod.status
    if status is None:
        return ""
    phase: str | None = status.phase
    return phase or ""


def is_pod_ready(pod: V1Pod) -> bool:
    """Port of IsPodReady: does the pod carry a Ready condition with status True?"""
    return is_pod_ready_condition_true(pod.status)


def is_pod_terminal(pod: V1Pod) -> bool:
    """Port of IsPodTerminal: has the pod reached the Succeeded or Failed phase?"""
    return is_pod_phase_terminal(_pod_phase(pod))


def is_pod_phase_terminal(phase: str | None) -> bool:
    """Port of IsPodPhaseTerminal: Failed and Succeeded are the only terminal phases."""
    return phase in (POD_FAILED, POD_SUCCEEDED)


def is_pod_ready_condition_true(status: V1PodStatus | None) -> bool:
    """Port of IsPodReadyConditionTrue: Ready condition present and True."""
    condition = get_pod_ready_condition(status)
    return condition is not None and condition.status == CONDITION_TRUE


def get_pod_ready_condition(status: V1PodStatus | None) -> V1PodCondition | None:
    """Port of GetPodReadyCondition: the Ready condition, or None when absent."""
    _, condition = get_pod_condition(status, POD_READY)
    return condition


def get_pod_condition(
    status: V1PodStatus | None, condition_type: str
) -> tuple[int, V1PodCondition | None]:
    """Port of GetPodCondition: (index, condition) of a condition type, (-1, None) if missing."""
    if status is None:
        return -1, None
    return get_pod_condition_from_list(status.conditions, condition_type)


def get_pod_condition_from_list(
    conditions: Sequence[V1PodCondition] | None, condition_type: str
) -> tuple[int, V1PodCondition | None]:
    """Port of GetPodConditionFromList: first condition of the type with its index."""
    if conditions is None:
        return -1, None
    for i, condition in enumerate(conditions):
        if condition.type == condition_type:
            return i, condition
    return -1, None
