"""Port of the metric tests of pkg/controller/job/tracking_utils_test.go.

TestUIDTrackingExpectations lives in tests/expectations/test_uid_tracking_expectations.py.
"""

from __future__ import annotations

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod, V1PodStatus
from prometheus_client import CollectorRegistry

from jobctl.job import metrics
from jobctl.job.tracking_utils import (
    has_job_tracking_finalizer,
    is_finished_pod_with_tracking_finalizer,
    record_finished_pod_with_tracking_finalizer,
)
from jobctl.k8s_libs.api import JOB_TRACKING_FINALIZER


def _samples(registry: CollectorRegistry, family: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The ``<family>_total`` samples currently exposed, by sorted label pairs."""
    result: dict[tuple[tuple[str, str], ...], float] = {}
    for metric in registry.collect():
        if metric.name != family:
            continue
        for sample in metric.samples:
            if sample.name == family + "_total":
                result[tuple(sorted(sample.labels.items()))] = sample.value
    return result


def _pod(phase: str, finalizer: bool) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(finalizers=[JOB_TRACKING_FINALIZER] if finalizer else None),
        status=V1PodStatus(phase=phase),
    )


@pytest.mark.parametrize(
    ("old_pod", "new_pod", "want"),
    [
        pytest.param(None, _pod("Pending", True), {}, id="new non-finished Pod with finalizer"),
        pytest.param(
            _pod("Running", True),
            _pod("Failed", True),
            {(("event", "add"),): 1.0},
            id="pod with finalizer fails",
        ),
        pytest.param(
            _pod("Running", True),
            _pod("Succeeded", True),
            {(("event", "add"),): 1.0},
            id="pod with finalizer succeeds",
        ),
        pytest.param(
            _pod("Succeeded", True),
            _pod("Succeeded", False),
            {(("event", "delete"),): 1.0},
            id="succeeded pod loses finalizer",
        ),
        pytest.param(_pod("Succeeded", False), None, {}, id="pod without finalizer removed"),
    ],
)
def test_record_finished_pod_with_tracking_finalizer(
    old_pod: V1Pod | None, new_pod: V1Pod | None, want: dict[tuple[tuple[str, str], ...], float]
) -> None:
    registry = CollectorRegistry()
    metrics.register(registry)
    metrics.terminated_pods_tracking_finalizer_total.clear()
    record_finished_pod_with_tracking_finalizer(old_pod, new_pod)
    got = _samples(registry, "job_controller_terminated_pods_tracking_finalizer")
    assert got == want


@pytest.mark.parametrize(
    ("input_", "want"),
    [
        pytest.param(None, {}, id="no actions"),
        pytest.param({"FailJob": 2}, {(("action", "FailJob"),): 2.0}, id="single action"),
        pytest.param(
            {"FailJob": 2, "Ignore": 3, "Count": 1},
            {
                (("action", "Count"),): 1.0,
                (("action", "FailJob"),): 2.0,
                (("action", "Ignore"),): 3.0,
            },
            id="multiple actions",
        ),
    ],
)
def test_record_job_pod_failure_policy_actions(
    input_: dict[str, int] | None, want: dict[tuple[tuple[str, str], ...], float]
) -> None:
    from jobctl.job.job_controller import record_job_pod_failure_policy_actions

    registry = CollectorRegistry()
    metrics.register(registry)
    metrics.pod_failures_handled_by_failure_policy.clear()
    record_job_pod_failure_policy_actions(input_ or {})
    got = _samples(registry, "job_controller_pod_failures_handled_by_failure_policy")
    assert got == want


# Beyond upstream: the predicates on their own.


def test_tracking_finalizer_predicates() -> None:
    assert has_job_tracking_finalizer(_pod("Running", True))
    assert not has_job_tracking_finalizer(_pod("Running", False))
    assert not has_job_tracking_finalizer(V1Pod())
    assert is_finished_pod_with_tracking_finalizer(_pod("Failed", True))
    assert is_finished_pod_with_tracking_finalizer(_pod("Succeeded", True))
    assert not is_finished_pod_with_tracking_finalizer(_pod("Running", True))
    assert not is_finished_pod_with_tracking_finalizer(_pod("Failed", False))
    assert not is_finished_pod_with_tracking_finalizer(None)
