"""Tracking-finalizer helpers: port of the pod helpers of pkg/controller/job/tracking_utils.go.

The ``uidTrackingExpectations`` half of that file lives in
``jobctl.expectations.uid_tracking_expectations``.
"""

from __future__ import annotations

from kubernetes.client import V1Pod

from jobctl.job import metrics
from jobctl.k8s_libs.api import (
    JOB_TRACKING_FINALIZER,
    POD_FAILED,
    POD_SUCCEEDED,
)


def has_job_tracking_finalizer(pod: V1Pod) -> bool:
    """Port of hasJobTrackingFinalizer (pkg/controller/job/tracking_utils.go): the pod still carries
    the job-tracking finalizer."""
    finalizers = pod.metadata.finalizers if pod.metadata is not None else None
    return JOB_TRACKING_FINALIZER in (finalizers or [])


def record_finished_pod_with_tracking_finalizer(
    old_pod: V1Pod | None, new_pod: V1Pod | None
) -> None:
    """Port of recordFinishedPodWithTrackingFinalizer (pkg/controller/job/tracking_utils.go).

    Counts a pod entering (``add``) or leaving (``delete``) the state "finished and still
    holding the tracking finalizer"; either pod may be None (creation, deletion).
    """
    was = is_finished_pod_with_tracking_finalizer(old_pod)
    now = is_finished_pod_with_tracking_finalizer(new_pod)
    if was == now:
        return
    event = metrics.ADD if now else metrics.DELETE
    metrics.terminated_pods_tracking_finalizer_total.labels(event).inc()


def is_finished_pod_with_tracking_finalizer(pod: V1Pod | None) -> bool:
    """Port of isFinishedPodWithTrackingFinalizer (pkg/controller/job/tracking_utils.go): terminal
    phase and finalizer present."""
    if pod is None:
        return False
    phase = pod.status.phase if pod.status is not None else None
    return phase in (POD_FAILED, POD_SUCCEEDED) and has_job_tracking_finalizer(pod)
