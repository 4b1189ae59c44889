"""Checks of jobctl.job.metrics against pkg/controller/job/metrics/metrics.go (no upstream test)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from jobctl.job import metrics

WANT = [
    # (python object, exposed family name, type, label names, stability)
    (
        metrics.job_sync_duration_seconds,
        "job_controller_job_sync_duration_seconds",
        "histogram",
        ("completion_mode", "result", "action"),
        "STABLE",
    ),
    (
        metrics.job_sync_num,
        "job_controller_job_syncs",
        "counter",
        ("completion_mode", "result", "action"),
        "STABLE",
    ),
    (
        metrics.job_finished_num,
        "job_controller_jobs_finished",
        "counter",
        ("completion_mode", "result", "reason"),
        "STABLE",
    ),
    (
        metrics.job_by_external_controller_total,
        "job_controller_jobs_by_external_controller",
        "counter",
        ("controller_name",),
        "ALPHA",
    ),
    (
        metrics.job_pods_finished,
        "job_controller_job_pods_finished",
        "counter",
        ("completion_mode", "result"),
        "STABLE",
    ),
    (
        metrics.pod_failures_handled_by_failure_policy,
        "job_controller_pod_failures_handled_by_failure_policy",
        "counter",
        ("action",),
        "BETA",
    ),
    (
        metrics.terminated_pods_tracking_finalizer_total,
        "job_controller_terminated_pods_tracking_finalizer",
        "counter",
        ("event",),
        "BETA",
    ),
    (
        metrics.job_finished_indexes_total,
        "job_controller_job_finished_indexes",
        "counter",
        ("status", "backoffLimit"),
        "ALPHA",
    ),
    (
        metrics.job_pods_creation_total,
        "job_controller_job_pods_creation",
        "counter",
        ("reason", "status"),
        "ALPHA",
    ),
    (
        metrics.job_requeue_skips,
        "job_controller_stale_sync_skips",
        "counter",
        ("group", "resource"),
        "ALPHA",
    ),
]


def _families(registry: CollectorRegistry) -> dict[str, tuple[str, str]]:
    return {m.name: (m.type, m.documentation) for m in registry.collect()}


@pytest.mark.parametrize(
    ("metric", "family", "type_", "labels", "stability"),
    WANT,
    ids=[w[1] for w in WANT],
)
def test_metric_definitions(
    metric: Counter | Histogram, family: str, type_: str, labels: tuple[str, ...], stability: str
) -> None:
    registry = CollectorRegistry()
    metrics.register(registry)
    families = _families(registry)
    assert family in families
    got_type, documentation = families[family]
    assert got_type == type_
    assert documentation.startswith(f"[{stability}] ")
    assert metric._labelnames == labels


def test_register_is_once_per_registry_and_starts_unregistered() -> None:
    registry = CollectorRegistry()
    assert _families(registry) == {}
    metrics.register(registry)
    metrics.register(registry)  # a second call is a no-op, not a duplicate error
    assert len(_families(registry)) == len(WANT)
    other = CollectorRegistry()
    metrics.register(other)
    assert set(_families(other)) == set(_families(registry))


def test_job_sync_duration_buckets_and_full_names() -> None:
    registry = CollectorRegistry()
    metrics.register(registry)
    child = ("Indexed", "success", "test-bucket-probe")
    try:
        metrics.job_sync_duration_seconds.labels(*child).observe(0.005)
        metrics.job_sync_num.labels(*child).inc()
        labels = dict(zip(("completion_mode", "result", "action"), child, strict=True))
        bounds = [
            s.labels["le"]
            for m in registry.collect()
            for s in m.samples
            if s.name == "job_controller_job_sync_duration_seconds_bucket"
            and s.labels["action"] == child[2]
        ]
        want = [0.004 * 2**k for k in range(15)]
        assert [float(b) for b in bounds[:-1]] == pytest.approx(want)
        assert bounds[-1] == "+Inf"
        assert (
            registry.get_sample_value("job_controller_job_sync_duration_seconds_count", labels)
            == 1.0
        )
        assert registry.get_sample_value("job_controller_job_syncs_total", labels) == 1.0
    finally:
        metrics.job_sync_duration_seconds.remove(*child)
        metrics.job_sync_num.remove(*child)


def test_label_value_constants() -> None:
    assert metrics.JOB_CONTROLLER_SUBSYSTEM == "job_controller"
    assert (
        metrics.JOB_SYNC_ACTION_RECONCILING,
        metrics.JOB_SYNC_ACTION_TRACKING,
        metrics.JOB_SYNC_ACTION_PODS_CREATED,
        metrics.JOB_SYNC_ACTION_PODS_DELETED,
    ) == ("reconciling", "tracking", "pods_created", "pods_deleted")
    assert (metrics.SUCCEEDED, metrics.FAILED) == ("succeeded", "failed")
    assert (metrics.ADD, metrics.DELETE) == ("add", "delete")
    assert (
        metrics.POD_CREATE_NEW,
        metrics.POD_RECREATE_TERMINATING_OR_FAILED,
        metrics.POD_RECREATE_FAILED,
    ) == ("new", "recreate_terminating_or_failed", "recreate_failed")
