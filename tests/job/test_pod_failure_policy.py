"""Port of pkg/controller/job/pod_failure_policy_test.go."""

from __future__ import annotations

import pytest
from kubernetes.client import (
    V1ContainerState,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1ObjectMeta,
    V1Pod,
    V1PodCondition,
    V1PodFailurePolicy,
    V1PodFailurePolicyOnExitCodesRequirement,
    V1PodFailurePolicyOnPodConditionsPattern,
    V1PodFailurePolicyRule,
    V1PodStatus,
)

from jobctl.job.pod_failure_policy import match_pod_failure_policy

IGNORE = "Ignore"
FAIL_JOB = "FailJob"
FAIL_INDEX = "FailIndex"
COUNT = "Count"


def _cs(exit_code: int | None, name: str = "") -> V1ContainerStatus:
    """A container status terminated with ``exit_code`` (no state at all when None)."""
    state = (
        None
        if exit_code is None
        else V1ContainerState(terminated=V1ContainerStateTerminated(exit_code=exit_code))
    )
    return V1ContainerStatus(
        name=name, image="", image_id="", ready=False, restart_count=0, state=state
    )


def _pod(
    container_statuses: list[V1ContainerStatus] | None = None,
    init_container_statuses: list[V1ContainerStatus] | None = None,
    conditions: list[tuple[str, str]] | None = None,
) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(namespace="default", name="mypod"),
        status=V1PodStatus(
            phase="Failed",
            container_statuses=container_statuses,
            init_container_statuses=init_container_statuses,
            conditions=[V1PodCondition(type=t, status=s) for t, s in conditions]
            if conditions is not None
            else None,
        ),
    )


def _on_exit_codes(action: str, operator: str, values: list[int]) -> V1PodFailurePolicyRule:
    return V1PodFailurePolicyRule(
        action=action,
        on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(operator=operator, values=values),
    )


def _on_conditions(action: str, type_: str, status: str) -> V1PodFailurePolicyRule:
    return V1PodFailurePolicyRule(
        action=action,
        on_pod_conditions=[V1PodFailurePolicyOnPodConditionsPattern(type=type_, status=status)],
    )


def _policy(*rules: V1PodFailurePolicyRule) -> V1PodFailurePolicy:
    return V1PodFailurePolicy(rules=list(rules))


DISRUPTION = "DisruptionTarget"

CASES = [
    pytest.param(
        _policy(
            _on_exit_codes("UnknownAction", "In", [1, 2]), _on_exit_codes(FAIL_JOB, "In", [2, 3])
        ),
        _pod([_cs(2, "main-container")]),
        "Container main-container for pod default/mypod failed with exit code 2 matching "
        "FailJob rule at index 1",
        True,
        FAIL_JOB,
        id="unknown action for rule matching by exit codes - skip rule with unknown action",
    ),
    pytest.param(
        _policy(
            _on_conditions("UnkonwnAction", DISRUPTION, "True"),
            _on_conditions(IGNORE, DISRUPTION, "True"),
        ),
        _pod(conditions=[(DISRUPTION, "True")]),
        None,
        False,
        IGNORE,
        id="unknown action for rule matching by pod conditions - skip rule with unknown action",
    ),
    pytest.param(
        _policy(
            _on_exit_codes(IGNORE, "UnknownOperator", [1, 2]),
            _on_exit_codes(FAIL_JOB, "In", [2, 3]),
        ),
        _pod([_cs(2, "main-container")]),
        "Container main-container for pod default/mypod failed with exit code 2 matching "
        "FailJob rule at index 1",
        True,
        FAIL_JOB,
        id="unknown operator - rule with unknown action is skipped for onExitCodes",
    ),
    pytest.param(None, _pod([_cs(2)]), None, True, None, id="no policy rules"),
    pytest.param(
        _policy(_on_exit_codes(IGNORE, "In", [1, 2, 3])),
        _pod([_cs(2)]),
        None,
        False,
        IGNORE,
        id="ignore rule matched for exit codes",
    ),
    pytest.param(
        _policy(_on_exit_codes(IGNORE, "In", [-1073741676, -1073741510])),
        _pod([_cs(-1073741510)]),
        None,
        False,
        IGNORE,
        id="ignore rule matched on negative exit codes - needed for Windows support",
    ),
    pytest.param(
        _policy(_on_exit_codes(FAIL_JOB, "In", [1, 2, 3])),
        _pod([_cs(2, "main-container")]),
        "Container main-container for pod default/mypod failed with exit code 2 matching "
        "FailJob rule at index 0",
        True,
        FAIL_JOB,
        id="FailJob rule matched for exit codes",
    ),
    pytest.param(
        _policy(_on_exit_codes(FAIL_JOB, "NotIn", [111])),
        _pod(
            [_cs(111, "main-container"), _cs(0, "suppport-container")],
            init_container_statuses=[_cs(0, "init-container")],
        ),
        None,
        True,
        None,
        id="successful containers are skipped by the rules",
    ),
    pytest.param(
        _policy(_on_exit_codes(FAIL_INDEX, "In", [1, 2, 3])),
        _pod([_cs(2)]),
        None,
        True,
        FAIL_INDEX,
        id="FailIndex rule matched for exit codes",
    ),
    pytest.param(
        _policy(_on_exit_codes(FAIL_JOB, "NotIn", [0])),
        _pod([_cs(1, "main-container"), _cs(0, "suppport-container")]),
        "Container main-container for pod default/mypod failed with exit code 1 matching "
        "FailJob rule at index 0",
        True,
        FAIL_JOB,
        id="pod failure policy with NotIn operator and value 0",
    ),
    pytest.param(
        _policy(_on_exit_codes(COUNT, "In", [1, 2, 3]), _on_exit_codes(FAIL_JOB, "In", [4, 5, 6])),
        _pod([_cs(6, "main-container")]),
        "Container main-container for pod default/mypod failed with exit code 6 matching "
        "FailJob rule at index 1",
        True,
        FAIL_JOB,
        id="second jobfail rule matched for exit codes",
    ),
    pytest.param(
        _policy(_on_exit_codes(COUNT, "In", [1, 2, 3])),
        _pod([_cs(None, "foo"), _cs(2, "bar")]),
        None,
        True,
        COUNT,
        id="count rule matched for exit codes",
    ),
    pytest.param(
        _policy(_on_conditions(FAIL_INDEX, DISRUPTION, "True")),
        _pod(conditions=[(DISRUPTION, "True")]),
        None,
        True,
        FAIL_INDEX,
        id="FailIndex rule matched for pod conditions",
    ),
    pytest.param(
        _policy(_on_conditions(IGNORE, DISRUPTION, "True")),
        _pod(conditions=[(DISRUPTION, "True")]),
        None,
        False,
        IGNORE,
        id="ignore rule matched for pod conditions",
    ),
    pytest.param(
        _policy(_on_conditions(IGNORE, DISRUPTION, "False")),
        _pod(conditions=[(DISRUPTION, "False")]),
        None,
        False,
        IGNORE,
        id="ignore rule matches by the status=False",
    ),
    pytest.param(
        _policy(_on_conditions(IGNORE, DISRUPTION, "Unknown")),
        _pod(conditions=[(DISRUPTION, "Unknown")]),
        None,
        False,
        IGNORE,
        id="ignore rule matches by the status=Unknown",
    ),
    pytest.param(
        _policy(_on_conditions(IGNORE, DISRUPTION, "False")),
        _pod(conditions=[(DISRUPTION, "True")]),
        None,
        True,
        None,
        id="ignore rule does not match when status for pattern is False, but actual True",
    ),
    pytest.param(
        _policy(_on_conditions(IGNORE, DISRUPTION, "True")),
        _pod(conditions=[(DISRUPTION, "False")]),
        None,
        True,
        None,
        id="ignore rule does not match when status for pattern is True, but actual False",
    ),
    pytest.param(
        _policy(_on_conditions(IGNORE, DISRUPTION, "True")),
        _pod(conditions=[(DISRUPTION, "False")]),
        None,
        True,
        None,
        id="default - do not match condition with status=False",
    ),
    pytest.param(
        _policy(_on_conditions(FAIL_JOB, DISRUPTION, "True")),
        _pod(conditions=[(DISRUPTION, "True")]),
        "Pod default/mypod has condition DisruptionTarget matching FailJob rule at index 0",
        True,
        FAIL_JOB,
        id="job fail rule matched for pod conditions",
    ),
    pytest.param(
        _policy(_on_conditions(COUNT, DISRUPTION, "True")),
        _pod(conditions=[(DISRUPTION, "True")]),
        None,
        True,
        COUNT,
        id="count rule matched for pod conditions",
    ),
    pytest.param(
        _policy(
            _on_exit_codes(COUNT, "NotIn", [8]),
            _on_exit_codes(IGNORE, "In", [1, 2, 3]),
            _on_exit_codes(FAIL_JOB, "NotIn", [5, 6, 7]),
            _on_conditions(COUNT, "ResourceLimitExceeded", "True"),
            _on_conditions(IGNORE, DISRUPTION, "True"),
        ),
        _pod([_cs(32)]),
        None,
        True,
        COUNT,
        id="no rule matched",
    ),
]


@pytest.mark.parametrize(
    (
        "pod_failure_policy",
        "failed_pod",
        "want_job_failure_message",
        "want_count_failed",
        "want_action",
    ),
    CASES,
)
def test_match_pod_failure_policy(
    pod_failure_policy: V1PodFailurePolicy | None,
    failed_pod: V1Pod,
    want_job_failure_message: str | None,
    want_count_failed: bool,
    want_action: str | None,
) -> None:
    job_fail_message, count_failed, action = match_pod_failure_policy(
        pod_failure_policy, failed_pod
    )
    assert job_fail_message == want_job_failure_message
    assert count_failed == want_count_failed
    assert action == want_action


def test_match_pod_failure_policy_container_name_and_init_containers() -> None:
    """Beyond upstream's table: containerName narrows the match; init containers count."""
    rule = V1PodFailurePolicyRule(
        action=FAIL_JOB,
        on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
            container_name="init", operator="In", values=[42]
        ),
    )
    policy = _policy(rule)
    assert match_pod_failure_policy(policy, _pod([_cs(42, "main")])) == (None, True, None)
    msg, count_failed, action = match_pod_failure_policy(
        policy, _pod([_cs(42, "main")], init_container_statuses=[_cs(42, "init")])
    )
    assert msg == (
        "Container init for pod default/mypod failed with exit code 42 matching FailJob rule "
        "at index 0"
    )
    assert (count_failed, action) == (True, FAIL_JOB)
