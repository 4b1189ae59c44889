"""Tests for jobctl.app.component_metrics: build info, feature gates, no _created."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest

from jobctl.app.component_metrics import (
    BUILD_INFO_LABELS,
    build_info_labels,
    register_component_metrics,
)
from jobctl.app.controller_manager import new_registry
from jobctl.job import metrics as job_metrics
from jobctl.k8s_libs import features


def test_no_created_series_from_job_metrics() -> None:
    registry = CollectorRegistry()
    job_metrics.register(registry)
    job_metrics.job_sync_num.labels("Indexed", "success", "reconciling").inc()
    text = generate_latest(registry).decode()
    assert "job_controller_job_syncs_total{" in text
    assert "_created" not in text


def test_no_created_series_in_binary_registry() -> None:
    registry = new_registry()
    counter = Counter("jobctl_test_things", "test", registry=registry)
    counter.inc()
    text = generate_latest(registry).decode()
    assert "jobctl_test_things_total 1.0" in text
    assert "_created" not in text


def test_build_info_and_feature_enabled() -> None:
    registry = CollectorRegistry()
    gate = features.new_default_feature_gate()
    gate.set("WatchListClient=false")
    register_component_metrics(registry, gate)
    register_component_metrics(registry, gate)  # once per registry
    labels = build_info_labels()
    assert tuple(labels) == BUILD_INFO_LABELS
    assert (labels["major"], labels["minor"]) == ("1", "37")
    assert labels["git_version"].startswith("v")
    assert registry.get_sample_value("kubernetes_build_info", labels) == 1.0
    value = registry.get_sample_value
    assert value("kubernetes_feature_enabled", {"name": "WatchListClient", "stage": "BETA"}) == 0
    assert value("kubernetes_feature_enabled", {"name": "JobManagedBy", "stage": ""}) == 1
    assert value("kubernetes_feature_enabled", {"name": "WorkloadWithJob", "stage": "ALPHA"}) == 0
