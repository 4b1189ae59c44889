"""Job controller metrics: port of pkg/controller/job/metrics/metrics.go.

The metric objects are module-level, as upstream's package variables are, and are created
unregistered. ``register`` adds them to a ``prometheus_client`` registry once per registry
(upstream registers them once into the legacy registry). Help texts carry the upstream
stability level as a ``[LEVEL]`` prefix, as component-base adds it.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.registry import Collector

from jobctl.k8s_libs.metrics_registration import OncePerRegistry, disable_created_series

JOB_CONTROLLER_SUBSYSTEM = "job_controller"


def _exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    """Port of prometheus.ExponentialBuckets (client_golang prometheus/histogram.go)."""
    return tuple(start * factor**i for i in range(count))


job_sync_duration_seconds = Histogram(
    "job_sync_duration_seconds",
    "[STABLE] How long one sync of a Job took",
    labelnames=("completion_mode", "result", "action"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    buckets=_exponential_buckets(0.004, 2, 15),
    registry=None,
)

job_sync_num = Counter(
    "job_syncs_total",
    "[STABLE] How many Job syncs ran",
    labelnames=("completion_mode", "result", "action"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

job_finished_num = Counter(
    "jobs_finished_total",
    "[STABLE] How many Jobs reached a finished state",
    labelnames=("completion_mode", "result", "reason"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

job_by_external_controller_total = Counter(
    "jobs_by_external_controller_total",
    "[ALPHA] How many Jobs were created with another controller named in spec.managedBy",
    labelnames=("controller_name",),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

job_pods_finished = Counter(
    "job_pods_finished_total",
    "[STABLE] How many finished Pods the controller has fully accounted for",
    labelnames=("completion_mode", "result"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

pod_failures_handled_by_failure_policy = Counter(
    "pod_failures_handled_by_failure_policy_total",
    "[BETA] How many failed Pods the pod failure policy handled, by the action of the "
    'matching rule ("FailJob", "Ignore" or "Count")',
    labelnames=("action",),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

terminated_pods_tracking_finalizer_total = Counter(
    "terminated_pods_tracking_finalizer_total",
    "[BETA] How many terminated Pods (phase Failed or Succeeded) gained (event=add) or lost "
    "(event=delete) the batch.kubernetes.io/job-tracking finalizer",
    labelnames=("event",),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

job_finished_indexes_total = Counter(
    "job_finished_indexes_total",
    '[ALPHA] How many indexes finished; status is "succeeded" or "failed", backoffLimit is '
    '"perIndex" or "global"',
    labelnames=("status", "backoffLimit"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

job_pods_creation_total = Counter(
    "job_pods_creation_total",
    "[ALPHA] How many Pods the Job controller created, by reason (new, "
    "recreate_terminating_or_failed, recreate_failed; these reflect the "
    "podReplacementPolicy) and by status (succeeded, failed)",
    labelnames=("reason", "status"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

job_requeue_skips = Counter(
    "stale_sync_skips_total",
    "[ALPHA] How many Job syncs were skipped because the watch cache was stale",
    labelnames=("group", "resource"),
    subsystem=JOB_CONTROLLER_SUBSYSTEM,
    registry=None,
)

# Values of the "action" label of job_sync_duration_seconds and job_syncs_total.
JOB_SYNC_ACTION_RECONCILING = "reconciling"
JOB_SYNC_ACTION_TRACKING = "tracking"
JOB_SYNC_ACTION_PODS_CREATED = "pods_created"
JOB_SYNC_ACTION_PODS_DELETED = "pods_deleted"

# Values of the "result" labels and of the "status" label of job_pods_creation_total.
SUCCEEDED = "succeeded"
FAILED = "failed"

# Values of the "event" label of terminated_pods_tracking_finalizer_total.
ADD = "add"
DELETE = "delete"

# Values of the "reason" label of job_pods_creation_total.
POD_CREATE_NEW = "new"
POD_RECREATE_TERMINATING_OR_FAILED = "recreate_terminating_or_failed"
POD_RECREATE_FAILED = "recreate_failed"

ALL_METRICS: tuple[Collector, ...] = (
    job_sync_duration_seconds,
    job_sync_num,
    job_finished_num,
    job_pods_finished,
    pod_failures_handled_by_failure_policy,
    terminated_pods_tracking_finalizer_total,
    job_finished_indexes_total,
    job_pods_creation_total,
    job_by_external_controller_total,
    job_requeue_skips,
)

_registration = OncePerRegistry()


def register(registry: CollectorRegistry = REGISTRY) -> None:
    """Port of Register (pkg/controller/job/metrics/metrics.go): add every Job controller metric to
    ``registry``, once per registry.

    Also turns off prometheus_client's ``*_created`` series (process-wide; component-base
    exports none)."""
    disable_created_series()
    _registration.register(registry, ALL_METRICS)
