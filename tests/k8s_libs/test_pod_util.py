"""Tests for jobctl.k8s_libs.pod_util: port of the matching pkg/api/v1/pod/util_test.go cases.

``test_is_pod_terminal`` is the upstream table. Upstream has no direct tests of the Ready
helpers (they are exercised through the controllers); the ``test_get_pod_ready_condition``
and ``test_is_pod_ready*`` cases follow the shape of TestGetContainersReadyCondition /
TestIsContainersReadyConditionTrue for the Ready condition instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kubernetes.client import V1Pod, V1PodCondition, V1PodStatus

from jobctl.k8s_libs import pod_util

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def new_pod(now: datetime, ready: bool, before_sec: int) -> V1Pod:
    """Port of newPod (util_test.go): a pod with one Ready condition."""
    return V1Pod(
        status=V1PodStatus(
            conditions=[
                V1PodCondition(
                    type="Ready",
                    status="True" if ready else "False",
                    last_transition_time=now - timedelta(seconds=before_sec),
                )
            ]
        )
    )


@pytest.mark.parametrize(
    ("pod_phase", "expected"),
    [
        ("Failed", True),
        ("Succeeded", True),
        ("Unknown", False),
        ("Pending", False),
        ("Running", False),
        (None, False),
    ],
)
def test_is_pod_terminal(pod_phase: str | None, expected: bool) -> None:
    pod = new_pod(NOW, True, 0)
    assert pod.status is not None
    pod.status.phase = pod_phase
    assert pod_util.is_pod_terminal(pod) is expected


READY_CONDITION = V1PodCondition(
    type="Ready",
    status="True",
    reason="successfully",
    message="sync pod successfully",
    last_probe_time=NOW,
    last_transition_time=NOW + timedelta(microseconds=1),
)


@pytest.mark.parametrize(
    ("pod_status", "expected_condition"),
    [
        pytest.param(
            V1PodStatus(
                conditions=[V1PodCondition(type="ContainersReady", status="True"), READY_CONDITION]
            ),
            READY_CONDITION,
            id="ready condition exists",
        ),
        pytest.param(V1PodStatus(conditions=[]), None, id="ready condition does not exist"),
        pytest.param(V1PodStatus(), None, id="no conditions at all"),
        pytest.param(None, None, id="no status"),
    ],
)
def test_get_pod_ready_condition(
    pod_status: V1PodStatus | None, expected_condition: V1PodCondition | None
) -> None:
    assert pod_util.get_pod_ready_condition(pod_status) == expected_condition


def test_get_pod_condition_returns_index() -> None:
    status = V1PodStatus(
        conditions=[
            V1PodCondition(type="PodScheduled", status="True"),
            V1PodCondition(type="Ready", status="False"),
            V1PodCondition(type="Ready", status="True"),
        ]
    )
    index, condition = pod_util.get_pod_condition(status, "Ready")
    assert index == 1
    assert condition is not None and condition.status == "False"
    assert pod_util.get_pod_condition(status, "DisruptionTarget") == (-1, None)
    assert pod_util.get_pod_condition(None, "Ready") == (-1, None)
    assert pod_util.get_pod_condition_from_list(None, "Ready") == (-1, None)


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        pytest.param(new_pod(NOW, True, 0), True, id="ready condition true"),
        pytest.param(new_pod(NOW, False, 0), False, id="ready condition false"),
        pytest.param(
            V1Pod(status=V1PodStatus(conditions=[V1PodCondition(type="Ready", status="Unknown")])),
            False,
            id="ready condition unknown",
        ),
        pytest.param(V1Pod(status=V1PodStatus(phase="Running")), False, id="no conditions"),
        pytest.param(V1Pod(), False, id="no status"),
    ],
)
def test_is_pod_ready(pod: V1Pod, expected: bool) -> None:
    assert pod_util.is_pod_ready(pod) is expected
    assert pod_util.is_pod_ready_condition_true(pod.status) is expected
