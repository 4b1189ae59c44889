"""Port of client-go util/workqueue/metrics.go, plus the prometheus provider.

The queue reports through a ``MetricsProvider``: one metric object per queue name and
kind. A queue without a name, or built with the no-op provider, keeps no metrics at all
(its metrics slot is ``None``, which the hot path checks before doing any work).

``PrometheusMetricsProvider`` ports component-base/metrics/prometheus/workqueue/metrics.go:
the same seven ``workqueue_*`` families labelled by ``name``, registered on the
``CollectorRegistry`` it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from jobctl.k8s_libs.clock import PassiveClock

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)


class QueueMetrics(Protocol[T_contra]):
    """Port of queueMetrics: the hooks a queue calls, always under its own lock."""

    def add(self, item: T_contra) -> None: ...

    def get(self, item: T_contra) -> None: ...

    def done(self, item: T_contra) -> None: ...

    def update_unfinished_work(self) -> None: ...


class GaugeMetric(Protocol):
    """Port of GaugeMetric: a value that moves up and down by one."""

    def inc(self) -> None: ...

    def dec(self) -> None: ...


class SettableGaugeMetric(Protocol):
    """Port of SettableGaugeMetric: a value set outright."""

    def set(self, value: float) -> None: ...


class CounterMetric(Protocol):
    """Port of CounterMetric: a value that only grows."""

    def inc(self) -> None: ...


class SummaryMetric(Protocol):
    """Port of SummaryMetric: records observations."""

    def observe(self, value: float) -> None: ...


class HistogramMetric(Protocol):
    """Port of HistogramMetric: counts observations into buckets."""

    def observe(self, value: float) -> None: ...


class NoopMetric:
    """Port of noopMetric: every metric operation does nothing."""

    def inc(self) -> None:
        """Port of noopMetric.Inc (metrics.go)."""

    def dec(self) -> None:
        """Port of noopMetric.Dec (metrics.go)."""

    def set(self, value: float) -> None:
        """Port of noopMetric.Set (metrics.go)."""

    def observe(self, value: float) -> None:
        """Port of noopMetric.Observe (metrics.go)."""


class DefaultQueueMetrics(Generic[T]):
    """Port of defaultQueueMetrics: depth, adds, latencies and in-flight work of one queue.

    The owning queue holds its lock around every call, so no locking happens here.
    """

    __slots__ = (
        "_add_times",
        "_adds",
        "_clock",
        "_depth",
        "_latency",
        "_longest_running_processor",
        "_processing_start_times",
        "_unfinished_work_seconds",
        "_work_duration",
    )

    def __init__(
        self,
        clock: PassiveClock,
        depth: GaugeMetric,
        adds: CounterMetric,
        latency: HistogramMetric,
        work_duration: HistogramMetric,
        unfinished_work_seconds: SettableGaugeMetric,
        longest_running_processor: SettableGaugeMetric,
    ) -> None:
        self._clock = clock
        self._depth = depth
        self._adds = adds
        self._latency = latency
        self._work_duration = work_duration
        self._add_times: dict[T, datetime] = {}
        self._processing_start_times: dict[T, datetime] = {}
        self._unfinished_work_seconds = unfinished_work_seconds
        self._longest_running_processor = longest_running_processor

    def add(self, item: T) -> None:
        """Port of defaultQueueMetrics.add: count the add and remember when it happened.

        Go twin: defaultQueueMetrics.add (metrics.go).
        """
        self._adds.inc()
        self._depth.inc()
        if item not in self._add_times:
            self._add_times[item] = self._clock.now()

    def get(self, item: T) -> None:
        """Port of defaultQueueMetrics.get (metrics.go): record the time the item spent queued."""
        self._depth.dec()
        now = self._clock.now()
        self._processing_start_times[item] = now
        start = self._add_times.pop(item, None)
        if start is not None:
            self._latency.observe(self._since_in_seconds(start))

    def done(self, item: T) -> None:
        """Port of defaultQueueMetrics.done (metrics.go): record how long the item was processed."""
        start = self._processing_start_times.pop(item, None)
        if start is not None:
            self._work_duration.observe(self._since_in_seconds(start))

    def update_unfinished_work(self) -> None:
        """Port of defaultQueueMetrics.updateUnfinishedWork: sum and max of in-flight ages.

        Go twin: defaultQueueMetrics.updateUnfinishedWork (metrics.go).
        """
        total = 0.0
        oldest = 0.0
        for start in self._processing_start_times.values():
            age = self._since_in_seconds(start)
            total += age
            if age > oldest:
                oldest = age
        self._unfinished_work_seconds.set(total)
        self._longest_running_processor.set(oldest)

    def _since_in_seconds(self, start: datetime) -> float:
        """Port of defaultQueueMetrics.sinceInSeconds: clock time elapsed since ``start``.

        Go twin: defaultQueueMetrics.sinceInSeconds (metrics.go).
        """
        return self._clock.since(start)


class RetryMetrics(Protocol):
    """Port of retryMetrics: counts delayed re-adds."""

    def retry(self) -> None: ...


class DefaultRetryMetrics:
    """Port of defaultRetryMetrics: a retries counter for one queue name."""

    __slots__ = ("_retries",)

    def __init__(self, retries: CounterMetric) -> None:
        self._retries = retries

    def retry(self) -> None:
        """Port of defaultRetryMetrics.retry (metrics.go)."""
        self._retries.inc()


class MetricsProvider(Protocol):
    """Port of MetricsProvider: makes the per-queue-name metrics a queue reports to."""

    def new_depth_metric(self, name: str) -> GaugeMetric: ...

    def new_adds_metric(self, name: str) -> CounterMetric: ...

    def new_latency_metric(self, name: str) -> HistogramMetric: ...

    def new_work_duration_metric(self, name: str) -> HistogramMetric: ...

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric: ...

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric: ...

    def new_retries_metric(self, name: str) -> CounterMetric: ...


class NoopMetricsProvider:
    """Port of noopMetricsProvider: hands out metrics that record nothing."""

    def new_depth_metric(self, name: str) -> GaugeMetric:
        """Port of noopMetricsProvider.NewDepthMetric (metrics.go)."""
        return NoopMetric()

    def new_adds_metric(self, name: str) -> CounterMetric:
        """Port of noopMetricsProvider.NewAddsMetric (metrics.go)."""
        return NoopMetric()

    def new_latency_metric(self, name: str) -> HistogramMetric:
        """Port of noopMetricsProvider.NewLatencyMetric (metrics.go)."""
        return NoopMetric()

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        """Port of noopMetricsProvider.NewWorkDurationMetric (metrics.go)."""
        return NoopMetric()

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        """Port of noopMetricsProvider.NewUnfinishedWorkSecondsMetric (metrics.go)."""
        return NoopMetric()

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        """Port of noopMetricsProvider.NewLongestRunningProcessorSecondsMetric (metrics.go)."""
        return NoopMetric()

    def new_retries_metric(self, name: str) -> CounterMetric:
        """Port of noopMetricsProvider.NewRetriesMetric (metrics.go)."""
        return NoopMetric()


class _GlobalProvider:
    """Holder for the process-wide default provider (globalMetricsProvider + its Once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.provider: MetricsProvider = NoopMetricsProvider()
        self.set_once = False


_GLOBAL = _GlobalProvider()


def global_metrics_provider() -> MetricsProvider:
    """The provider queues use when their config names none (globalMetricsProvider)."""
    return _GLOBAL.provider


def _new_queue_metrics(
    mp: MetricsProvider, name: str, clock: PassiveClock
) -> DefaultQueueMetrics[T] | None:
    """Port of newQueueMetrics (metrics.go); ``None`` plays the part of noMetrics."""
    if not name or isinstance(mp, NoopMetricsProvider):
        return None
    return DefaultQueueMetrics(
        clock=clock,
        depth=mp.new_depth_metric(name),
        adds=mp.new_adds_metric(name),
        latency=mp.new_latency_metric(name),
        work_duration=mp.new_work_duration_metric(name),
        unfinished_work_seconds=mp.new_unfinished_work_seconds_metric(name),
        longest_running_processor=mp.new_longest_running_processor_seconds_metric(name),
    )


def _new_retry_metrics(name: str, provider: MetricsProvider | None) -> RetryMetrics | None:
    """Port of newRetryMetrics (metrics.go); ``None`` plays the part of the nil metrics pointer."""
    if not name:
        return None
    if provider is None:
        provider = _GLOBAL.provider
    if isinstance(provider, NoopMetricsProvider):
        # Upstream builds a counter that records nothing; skipping it is the same.
        return None
    return DefaultRetryMetrics(provider.new_retries_metric(name))


def set_provider(metrics_provider: MetricsProvider) -> None:
    """Port of SetProvider: install the default provider for queues made later; first call wins.

    Go twin: SetProvider (metrics.go).
    """
    with _GLOBAL.lock:
        if _GLOBAL.set_once:
            return
        _GLOBAL.set_once = True
        _GLOBAL.provider = metrics_provider


# --- component-base/metrics/prometheus/workqueue/metrics.go ---

WORK_QUEUE_SUBSYSTEM = "workqueue"
DEPTH_KEY = "depth"
ADDS_KEY = "adds_total"
QUEUE_LATENCY_KEY = "queue_duration_seconds"
WORK_DURATION_KEY = "work_duration_seconds"
UNFINISHED_WORK_KEY = "unfinished_work_seconds"
LONGEST_RUNNING_PROCESSOR_KEY = "longest_running_processor_seconds"
RETRIES_KEY = "retries_total"

# component-base prefixes the help of every BETA metric with its stability level.
_BETA = "[BETA] "


def exponential_buckets(start: float, factor: float, count: int) -> list[float]:
    """Port of prometheus.ExponentialBuckets: ``count`` bounds, each ``factor`` times the last."""
    if count < 1:
        raise ValueError("exponential_buckets needs a positive count")
    if start <= 0:
        raise ValueError("exponential_buckets needs a positive start")
    if factor <= 1:
        raise ValueError("exponential_buckets needs a factor greater than 1")
    buckets = []
    for _ in range(count):
        buckets.append(start)
        start *= factor
    return buckets


class PrometheusMetricsProvider:
    """Port of prometheusMetricsProvider (component-base prometheus/workqueue).

    The seven metric families are created and registered on ``registry`` once, the
    first time any factory method runs (upstream's registerOnce); each queue name then
    gets its own labelled child, so one provider serves any number of queues.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._registry = registry if registry is not None else REGISTRY
        self._lock = threading.Lock()
        self._registered = False
        self._depth: Gauge | None = None
        self._adds: Counter | None = None
        self._latency: Histogram | None = None
        self._work_duration: Histogram | None = None
        self._unfinished: Gauge | None = None
        self._longest_running_processor: Gauge | None = None
        self._retries: Counter | None = None

    def _register(self) -> None:
        """Port of register: build and register the families on first use."""
        with self._lock:
            if self._registered:
                return
            reg = self._registry
            sub = WORK_QUEUE_SUBSYSTEM
            self._depth = Gauge(
                DEPTH_KEY,
                _BETA + "Current depth of workqueue",
                ["name"],
                subsystem=sub,
                registry=reg,
            )
            self._adds = Counter(
                ADDS_KEY,
                _BETA + "Total number of adds handled by workqueue",
                ["name"],
                subsystem=sub,
                registry=reg,
            )
            self._latency = Histogram(
                QUEUE_LATENCY_KEY,
                _BETA + "How long in seconds an item stays in workqueue before being requested.",
                ["name"],
                subsystem=sub,
                registry=reg,
                buckets=exponential_buckets(10e-9, 10, 10),
            )
            self._work_duration = Histogram(
                WORK_DURATION_KEY,
                _BETA + "How long in seconds processing an item from workqueue takes.",
                ["name"],
                subsystem=sub,
                registry=reg,
                buckets=exponential_buckets(10e-9, 10, 10),
            )
            self._unfinished = Gauge(
                UNFINISHED_WORK_KEY,
                _BETA + "How many seconds of work has done that is in progress and hasn't been "
                "observed by work_duration. Large values indicate stuck threads. One can "
                "deduce the number of stuck threads by observing the rate at which this "
                "increases.",
                ["name"],
                subsystem=sub,
                registry=reg,
            )
            self._longest_running_processor = Gauge(
                LONGEST_RUNNING_PROCESSOR_KEY,
                _BETA + "How many seconds has the longest running processor for workqueue been "
                "running.",
                ["name"],
                subsystem=sub,
                registry=reg,
            )
            self._retries = Counter(
                RETRIES_KEY,
                _BETA + "Total number of retries handled by workqueue",
                ["name"],
                subsystem=sub,
                registry=reg,
            )
            self._registered = True

    def _families(
        self,
    ) -> tuple[Gauge, Counter, Histogram, Histogram, Gauge, Gauge, Counter]:
        self._register()
        assert self._depth is not None
        assert self._adds is not None
        assert self._latency is not None
        assert self._work_duration is not None
        assert self._unfinished is not None
        assert self._longest_running_processor is not None
        assert self._retries is not None
        return (
            self._depth,
            self._adds,
            self._latency,
            self._work_duration,
            self._unfinished,
            self._longest_running_processor,
            self._retries,
        )

    def new_depth_metric(self, name: str) -> GaugeMetric:
        """Port of prometheusMetricsProvider.NewDepthMetric."""
        return self._families()[0].labels(name)

    def new_adds_metric(self, name: str) -> CounterMetric:
        """Port of prometheusMetricsProvider.NewAddsMetric."""
        return self._families()[1].labels(name)

    def new_latency_metric(self, name: str) -> HistogramMetric:
        """Port of prometheusMetricsProvider.NewLatencyMetric."""
        return self._families()[2].labels(name)

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        """Port of prometheusMetricsProvider.NewWorkDurationMetric."""
        return self._families()[3].labels(name)

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        """Port of prometheusMetricsProvider.NewUnfinishedWorkSecondsMetric."""
        return self._families()[4].labels(name)

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        """Port of prometheusMetricsProvider.NewLongestRunningProcessorSecondsMetric."""
        return self._families()[5].labels(name)

    def new_retries_metric(self, name: str) -> CounterMetric:
        """Port of prometheusMetricsProvider.NewRetriesMetric."""
        return self._families()[6].labels(name)
