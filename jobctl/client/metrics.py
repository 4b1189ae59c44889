"""REST client metrics: port of k8s.io/component-base/metrics/prometheus/restclient.

client-go's rest client reports through the hooks of k8s.io/client-go/tools/metrics;
component-base backs three of them with these series, which kube-controller-manager
exposes on ``/metrics``:

* ``rest_client_requests_total{code,host,method}``: every attempt, ``code`` the HTTP
  status or ``<error>`` when no answer came (``sanitize`` in rest/request.go);
* ``rest_client_request_duration_seconds{host,verb}``: a whole non-watch request, from
  before the client-side rate limiter to the end of the body (``Request.request``);
* ``rest_client_rate_limiter_duration_seconds{host,verb}``: the wait for a token of the
  client-side rate limiter (``Request.tryThrottleWithInfo``).

The series are package-level, as upstream's, and ``register`` adds them to a registry
(the global one by default) once per registry. They are plain collectors rather than
``prometheus_client`` metric objects: they never export ``*_created`` series (Go's
client has none), and recording costs a lock and a dict look-up (every API request
records two or three samples). Labels are exported in name order, as Go's client
writes them.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from jobctl.k8s_libs.metrics_registration import OncePerRegistry

# Latency buckets of both histograms (seconds), as component-base declares them.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.025,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    4.0,
    8.0,
    15.0,
    30.0,
    60.0,
)

# The ``code`` of an attempt that got no HTTP answer (client-go's sanitize).
ERROR_CODE = "<error>"


class CounterVec(Collector):
    """A counter partitioned by labels, exported without a ``_created`` series."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._lock = threading.Lock()
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, labels: tuple[str, ...], amount: float = 1.0) -> None:
        """Add ``amount`` to the series with these label values (in ``labelnames`` order)."""
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, labels: tuple[str, ...]) -> float:
        with self._lock:
            return self._values.get(labels, 0.0)

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        with self._lock:
            values = sorted(self._values.items())
        for labels, value in values:
            family.add_metric(list(labels), value)
        yield family


class HistogramVec(Collector):
    """A histogram partitioned by labels, exported without a ``_created`` series."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        buckets: tuple[float, ...],
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.buckets = buckets
        self._lock = threading.Lock()
        # Per label values: one count per bucket plus +Inf, and the sum.
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: dict[tuple[str, ...], float] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        """Record ``value`` for the series with these label values."""
        index = bisect_left(self.buckets, value)
        with self._lock:
            counts = self._counts.get(labels)
            if counts is None:
                counts = self._counts[labels] = [0] * (len(self.buckets) + 1)
                self._sums[labels] = 0.0
            counts[index] += 1
            self._sums[labels] += value

    def count(self, labels: tuple[str, ...]) -> int:
        with self._lock:
            return sum(self._counts.get(labels, ()))

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        with self._lock:
            snapshot = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        # repr() writes the bounds as prometheus_client does (0.005, 1.0, 60.0).
        bounds = [*(repr(float(b)) for b in self.buckets), "+Inf"]
        for labels, counts, total in snapshot:
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound, n in zip(bounds, counts, strict=True):
                cumulative += n
                buckets.append((bound, float(cumulative)))
            family.add_metric(list(labels), buckets, total)
        yield family


request_result = CounterVec(
    "rest_client_requests_total",
    "[ALPHA] HTTP requests sent, by status code (or <error>), method and host.",
    ("code", "host", "method"),
)

request_latency = HistogramVec(
    "rest_client_request_duration_seconds",
    "[ALPHA] Request latency in seconds, by verb and host.",
    ("host", "verb"),
    LATENCY_BUCKETS,
)

rate_limiter_latency = HistogramVec(
    "rest_client_rate_limiter_duration_seconds",
    "[ALPHA] Time spent waiting for the client-side rate limiter in seconds, by verb and host.",
    ("host", "verb"),
    LATENCY_BUCKETS,
)

ALL_METRICS = (request_result, request_latency, rate_limiter_latency)


def observe_request_result(code: str, method: str, host: str) -> None:
    """Port of resultAdapter.Increment (RequestResult hook)."""
    request_result.inc((code, host, method))


def observe_request_latency(verb: str, host: str, seconds: float) -> None:
    """Port of latencyAdapter.Observe for RequestLatency."""
    request_latency.observe((host, verb), seconds)


def observe_rate_limiter_latency(verb: str, host: str, seconds: float) -> None:
    """Port of latencyAdapter.Observe for RateLimiterLatency."""
    rate_limiter_latency.observe((host, verb), seconds)


_registration = OncePerRegistry()


def register(registry: CollectorRegistry = REGISTRY) -> None:
    """Add the REST client metrics to ``registry``, once per registry.

    Port of the RegisterFn that metrics.EnsureRegistered runs (upstream: into the legacy
    registry, once per process).
    """
    _registration.register(registry, ALL_METRICS)
