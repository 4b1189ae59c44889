"""rest_client_* metrics (issue 13, item 2): names, labels, buckets, what is recorded."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from kubernetes import client as k8s
from prometheus_client import CollectorRegistry, generate_latest

from jobctl.client import errors
from jobctl.client import metrics as client_metrics
from jobctl.client.interface import ListOptions
from jobctl.client.real import Clientset, new_for_config
from tests.client.test_real import RecordingPool, raw_pod

GO_BUCKETS = ["0.005", "0.025", "0.1", "0.25", "0.5", "1.0", "2.0", "4.0", "8.0", "15.0"]
GO_BUCKETS += ["30.0", "60.0", "+Inf"]


def _clientset(host: str, registry: CollectorRegistry, qps: float = -1) -> tuple[Clientset, Any]:
    cs = new_for_config(k8s.Configuration(host=f"https://{host}"), qps=qps, registry=registry)
    pool = RecordingPool()
    cs.api_client.rest_client.pool_manager = pool
    return cs, pool


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_requests_total_counts_every_answer_by_code_method_and_host() -> None:
    registry = CollectorRegistry()
    host = "10.0.0.1:6443"
    cs, pool = _clientset(host, registry)
    pool.answer(200, {"kind": "Pod", **raw_pod()})
    pool.answer(404, {"kind": "Status", "code": 404, "reason": "NotFound", "message": "nope"})
    pool.answer(201, {"kind": "Pod", **raw_pod()})
    pods = cs.core_v1().pods("ns")
    pods.get("pod-a")
    with pytest.raises(errors.StatusError):
        pods.get("gone")
    pods.create(k8s.V1Pod.model_validate(raw_pod()))
    total = "rest_client_requests_total"
    assert _value(registry, total, code="200", host=host, method="GET") == 1
    assert _value(registry, total, code="404", host=host, method="GET") == 1
    assert _value(registry, total, code="201", host=host, method="POST") == 1
    duration = "rest_client_request_duration_seconds_count"
    assert _value(registry, duration, host=host, verb="GET") == 2
    assert _value(registry, duration, host=host, verb="POST") == 1


def test_connection_errors_count_as_error_code() -> None:
    registry = CollectorRegistry()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    host = f"127.0.0.1:{port}"
    cs = new_for_config(k8s.Configuration(host=f"http://{host}"), qps=-1, registry=registry)
    with pytest.raises(errors.APIConnectionRefusedError):
        cs.core_v1().pods("ns").get("a")
    total = "rest_client_requests_total"
    assert _value(registry, total, code="<error>", host=host, method="GET") == 1
    assert (
        _value(registry, "rest_client_request_duration_seconds_count", host=host, verb="GET") == 1
    )


def test_rate_limiter_wait_is_observed_for_requests_but_not_watches() -> None:
    registry = CollectorRegistry()
    host = "10.0.0.2:6443"
    cs, pool = _clientset(host, registry, qps=1000)
    pool.answer(200, {"kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": []})
    pool.answer(200, b"")
    pods = cs.core_v1().pods("ns")
    pods.list(ListOptions())
    assert list(pods.watch(ListOptions())) == []
    limiter = "rest_client_rate_limiter_duration_seconds_count"
    assert _value(registry, limiter, host=host, verb="GET") == 1
    # Both attempts are counted; the watch has no request latency (client-go's Watch
    # does not go through Request.request).
    assert _value(registry, "rest_client_requests_total", code="200", host=host, method="GET") == 2
    assert (
        _value(registry, "rest_client_request_duration_seconds_count", host=host, verb="GET") == 1
    )


def test_exposition_has_kcm_names_labels_buckets_and_no_created_series() -> None:
    registry = CollectorRegistry()
    host = "10.0.0.3:6443"
    cs, pool = _clientset(host, registry, qps=1000)
    pool.answer(200, {"kind": "Pod", **raw_pod()})
    cs.core_v1().pods("ns").get("pod-a")
    text = generate_latest(registry).decode()
    assert "_created" not in text
    assert "# TYPE rest_client_requests_total counter" in text
    assert "# TYPE rest_client_request_duration_seconds histogram" in text
    assert "# TYPE rest_client_rate_limiter_duration_seconds histogram" in text
    assert f'rest_client_requests_total{{code="200",host="{host}",method="GET"}} 1.0' in text
    for name in (
        "rest_client_request_duration_seconds",
        "rest_client_rate_limiter_duration_seconds",
    ):
        bounds = [
            line.split('le="')[1].split('"')[0]
            for line in text.splitlines()
            if line.startswith(f"{name}_bucket{{")
            and f'host="{host}"' in line
            and 'verb="GET"' in line
        ]
        assert bounds == GO_BUCKETS


def test_histogram_buckets_are_cumulative() -> None:
    hist = client_metrics.HistogramVec("h", "help", ("host", "verb"), (0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 2.0):
        hist.observe(("h", "GET"), value)
    (family,) = hist.collect()
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name == "h_bucket"}
    assert buckets == {"0.1": 2.0, "1.0": 3.0, "+Inf": 4.0}
    (count,) = [s.value for s in family.samples if s.name == "h_count"]
    (total,) = [s.value for s in family.samples if s.name == "h_sum"]
    assert count == 4.0
    assert total == pytest.approx(2.65)


def test_register_is_idempotent_per_registry() -> None:
    registry = CollectorRegistry()
    client_metrics.register(registry)
    client_metrics.register(registry)
    new_for_config(k8s.Configuration(host="https://10.0.0.4:6443"), registry=registry)
    assert registry.get_sample_value("rest_client_requests_total", {}) is None
