"""Port of client-go util/workqueue/metrics_test.go, plus the prometheus provider.

The prometheus tests check the exported samples on a fresh ``CollectorRegistry`` with
times taken from the fake clock.
"""

from __future__ import annotations

import itertools
import queue as pyqueue
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from jobctl.k8s_libs.clock import FakeClock
from jobctl.workqueue.default_rate_limiters import new_item_exponential_failure_rate_limiter
from jobctl.workqueue.delaying_queue import DelayingQueueConfig, new_delaying_queue_with_config
from jobctl.workqueue.metrics import (
    CounterMetric,
    GaugeMetric,
    HistogramMetric,
    NoopMetricsProvider,
    PrometheusMetricsProvider,
    SettableGaugeMetric,
    exponential_buckets,
)
from jobctl.workqueue.queue import (
    QueueConfig,
    _new_queue,
    _new_queue_with_config,
    default_queue,
    new_with_config,
)
from jobctl.workqueue.rate_limiting_queue import (
    RateLimitingQueueConfig,
    new_rate_limiting_queue_with_config,
)

TIMEOUT = 5.0


class TestMetricsHooks:
    """Port of testMetrics: counts the queue's metric hooks."""

    __test__ = False

    def __init__(self, update_called: pyqueue.Queue[None]) -> None:
        self.added = 0
        self.gotten = 0
        self.finished = 0
        self.update_called = update_called

    def add(self, item: Any) -> None:
        self.added += 1

    def get(self, item: Any) -> None:
        self.gotten += 1

    def done(self, item: Any) -> None:
        self.finished += 1

    def update_unfinished_work(self) -> None:
        self.update_called.put(None)


def test_metric_shutdown() -> None:
    ch: pyqueue.Queue[None] = pyqueue.Queue()
    m = TestMetricsHooks(ch)
    c = FakeClock(datetime.now(UTC))
    q = _new_queue(c, default_queue(), m, 0.001)
    # Wait for the updater thread to start ticking.
    assert c.wait_for_waiters(1)

    c.step(0.001)
    ch.get(timeout=TIMEOUT)
    q.shut_down()

    c.step(3600.0)
    assert ch.empty(), "Unexpected update after shutdown was called."
    assert not c.has_waiters()


class TestMetric:
    """Port of testMetric: one recording metric, optionally announcing every change."""

    __test__ = False

    def __init__(self) -> None:
        self.inc_count = 0
        self.dec_count = 0
        self.set_value = 0.0
        self.observed_value = 0.0
        self.observed_count = 0
        self.notify_ch: pyqueue.Queue[None] | None = None
        self.lock = threading.Lock()

    def inc(self) -> None:
        with self.lock:
            self.inc_count += 1
            self.notify()

    def dec(self) -> None:
        with self.lock:
            self.dec_count += 1
            self.notify()

    def set(self, value: float) -> None:
        with self.lock:
            self.set_value = value
            self.notify()

    def observe(self, value: float) -> None:
        with self.lock:
            self.observed_value = value
            self.observed_count += 1
            self.notify()

    def gauge_value(self) -> float:
        with self.lock:
            if self.set_value != 0:
                return self.set_value
            return float(self.inc_count - self.dec_count)

    def observation_value(self) -> float:
        with self.lock:
            return self.observed_value

    def observation_count(self) -> int:
        with self.lock:
            return self.observed_count

    def notify(self) -> None:
        if self.notify_ch is not None:
            self.notify_ch.put(None)


class TestMetricsProvider:
    """Port of testMetricsProvider: hands out the same recording metric for any name."""

    __test__ = False

    def __init__(self) -> None:
        self.depth = TestMetric()
        self.adds = TestMetric()
        self.latency = TestMetric()
        self.duration = TestMetric()
        self.unfinished = TestMetric()
        self.longest = TestMetric()
        self.retries = TestMetric()

    def new_depth_metric(self, name: str) -> GaugeMetric:
        return self.depth

    def new_adds_metric(self, name: str) -> CounterMetric:
        return self.adds

    def new_latency_metric(self, name: str) -> HistogramMetric:
        return self.latency

    def new_work_duration_metric(self, name: str) -> HistogramMetric:
        return self.duration

    def new_unfinished_work_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self.unfinished

    def new_longest_running_processor_seconds_metric(self, name: str) -> SettableGaugeMetric:
        return self.longest

    def new_retries_metric(self, name: str) -> CounterMetric:
        return self.retries


def test_metrics() -> None:
    mp = TestMetricsProvider()
    t0 = datetime(1970, 1, 1, tzinfo=UTC)
    c = FakeClock(t0)
    config: QueueConfig[Any] = QueueConfig(name="test", clock=c, metrics_provider=mp)
    q = _new_queue_with_config(config, 0.001)
    try:
        assert c.wait_for_waiters(1)

        q.add("foo")
        assert mp.adds.gauge_value() == 1.0
        assert mp.depth.gauge_value() == 1.0

        c.step(50e-6)

        # Start processing.
        i, _ = q.get()
        assert i == "foo"

        assert mp.latency.observation_value() == 5e-05
        assert mp.latency.observation_count() == 1

        # Adds of the item while it is processed collapse into one.
        q.add(i)
        q.add(i)
        q.add(i)
        q.add(i)
        q.add(i)
        assert mp.adds.gauge_value() == 2.0
        # One thing remains in the queue.
        assert mp.depth.gauge_value() == 1.0

        c.step(25e-6)

        # Finish it up.
        q.done(i)

        assert mp.duration.observation_value() == 2.5e-05
        assert mp.duration.observation_count() == 1

        # One thing remains in the queue.
        assert mp.depth.gauge_value() == 1.0

        # It should be back on the queue.
        i, _ = q.get()
        assert i == "foo"

        assert mp.latency.observation_value() == 2.5e-05
        assert mp.latency.observation_count() == 2

        # Announcements make sure the gauges are read only after they were set.
        ch: pyqueue.Queue[None] = pyqueue.Queue()
        longest_ch: pyqueue.Queue[None] = pyqueue.Queue()
        mp.unfinished.notify_ch = ch
        mp.longest.notify_ch = longest_ch
        c.step(0.001)
        ch.get(timeout=TIMEOUT)
        mp.unfinished.notify_ch = None
        assert mp.unfinished.gauge_value() == 0.001
        longest_ch.get(timeout=TIMEOUT)
        mp.longest.notify_ch = None
        assert mp.longest.gauge_value() == 0.001

        # Finish that one up.
        q.done(i)
        assert mp.duration.observation_value() == 0.001
        assert mp.duration.observation_count() == 2
    finally:
        q.shut_down()


def test_exponential_buckets() -> None:
    """Not upstream: the histogram bounds match prometheus.ExponentialBuckets(10e-9, 10, 10)."""
    buckets = exponential_buckets(10e-9, 10, 10)
    assert len(buckets) == 10
    assert buckets[0] == 10e-9
    for lo, hi in itertools.pairwise(buckets):
        assert hi == lo * 10
    assert buckets[-1] == pytest.approx(10.0)
    with pytest.raises(ValueError):
        exponential_buckets(0, 10, 10)


def _value(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> float | None:
    return registry.get_sample_value(name, labels)


def test_prometheus_metrics_provider() -> None:
    """Not upstream: the prometheus families report exact values on the fake clock."""
    registry = CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    c = FakeClock(t0)
    config: QueueConfig[str] = QueueConfig(name="jobs", clock=c, metrics_provider=provider)
    q = _new_queue_with_config(config, 0.5)
    try:
        assert c.wait_for_waiters(1)
        lbl = {"name": "jobs"}

        q.add("a")
        q.add("b")
        q.add("a")
        assert _value(registry, "workqueue_adds_total", lbl) == 2.0
        assert _value(registry, "workqueue_depth", lbl) == 2.0

        c.step(0.25)
        item, _ = q.get()
        assert item == "a"
        assert _value(registry, "workqueue_depth", lbl) == 1.0
        assert _value(registry, "workqueue_queue_duration_seconds_count", lbl) == 1.0
        assert _value(registry, "workqueue_queue_duration_seconds_sum", lbl) == 0.25
        # 0.25s falls in the (0.1, 1] bucket.
        le = {"name": "jobs", "le": "0.1"}
        assert _value(registry, "workqueue_queue_duration_seconds_bucket", le) == 0.0
        le = {"name": "jobs", "le": "1.0"}
        assert _value(registry, "workqueue_queue_duration_seconds_bucket", le) == 1.0

        # The updater ticks every 0.5s on the fake clock: "a" has run 0.5s.
        c.step(0.5)
        # The tick fired the updater's only waiter; it waits again once both gauges are set.
        assert c.wait_for_waiters(1)
        assert _value(registry, "workqueue_unfinished_work_seconds", lbl) == 0.5
        assert _value(registry, "workqueue_longest_running_processor_seconds", lbl) == 0.5

        c.step(0.25)
        q.done(item)
        assert _value(registry, "workqueue_work_duration_seconds_count", lbl) == 1.0
        assert _value(registry, "workqueue_work_duration_seconds_sum", lbl) == 0.75
        le = {"name": "jobs", "le": "10.0"}
        assert _value(registry, "workqueue_work_duration_seconds_bucket", le) == 1.0
        le = {"name": "jobs", "le": "+Inf"}
        assert _value(registry, "workqueue_work_duration_seconds_bucket", le) == 1.0
    finally:
        q.shut_down()


def test_prometheus_metrics_help_and_buckets() -> None:
    """Not upstream: names, help texts and bucket bounds as component-base exports them."""
    registry = CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    q = new_with_config(QueueConfig(name="q", clock=FakeClock(), metrics_provider=provider))
    q.shut_down()
    helps = {m.name: m.documentation for m in registry.collect()}
    assert helps == {
        "workqueue_depth": "[BETA] Current depth of workqueue",
        "workqueue_adds": "[BETA] Total number of adds handled by workqueue",
        "workqueue_queue_duration_seconds": (
            "[BETA] How long in seconds an item stays in workqueue before being requested."
        ),
        "workqueue_work_duration_seconds": (
            "[BETA] How long in seconds processing an item from workqueue takes."
        ),
        "workqueue_unfinished_work_seconds": (
            "[BETA] How many seconds of work has done that is in progress and hasn't been "
            "observed by work_duration. Large values indicate stuck threads. One can deduce "
            "the number of stuck threads by observing the rate at which this increases."
        ),
        "workqueue_longest_running_processor_seconds": (
            "[BETA] How many seconds has the longest running processor for workqueue been running."
        ),
        "workqueue_retries": "[BETA] Total number of retries handled by workqueue",
    }
    for family in registry.collect():
        if family.name == "workqueue_queue_duration_seconds":
            bounds = [s.labels["le"] for s in family.samples if s.name.endswith("_bucket")]
            assert bounds == [
                "1e-08",
                "1e-07",
                "1e-06",
                # Repeated multiplication, as in Go, lands just under these two powers.
                "9.999999999999999e-06",
                "9.999999999999999e-05",
                "0.001",
                "0.01",
                "0.1",
                "1.0",
                "10.0",
                "+Inf",
            ]


def test_prometheus_provider_serves_many_queues() -> None:
    """Not upstream: one provider, several queue names, one registration."""
    registry = CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    clock = FakeClock()
    q1 = new_with_config(QueueConfig(name="one", clock=clock, metrics_provider=provider))
    q2 = new_with_config(QueueConfig(name="two", clock=clock, metrics_provider=provider))
    rl = new_rate_limiting_queue_with_config(
        new_item_exponential_failure_rate_limiter(0.001, 1.0),
        RateLimitingQueueConfig(name="three", clock=clock, metrics_provider=provider),
    )
    try:
        q1.add("x")
        q2.add("x")
        q2.add("y")
        rl.add_rate_limited("z")
        rl.add_after("w", 0)
        assert _value(registry, "workqueue_adds_total", {"name": "one"}) == 1.0
        assert _value(registry, "workqueue_adds_total", {"name": "two"}) == 2.0
        assert _value(registry, "workqueue_depth", {"name": "two"}) == 2.0
        assert _value(registry, "workqueue_retries_total", {"name": "three"}) == 2.0
        assert _value(registry, "workqueue_adds_total", {"name": "three"}) == 1.0
    finally:
        q1.shut_down()
        q2.shut_down()
        rl.shut_down()


def test_unnamed_queue_has_no_metrics() -> None:
    """Not upstream: an unnamed queue registers and updates nothing, and runs no updater."""
    registry = CollectorRegistry()
    provider = PrometheusMetricsProvider(registry)
    clock = FakeClock()
    q = new_with_config(QueueConfig(name="", clock=clock, metrics_provider=provider))
    dq = new_delaying_queue_with_config(
        DelayingQueueConfig(name="", clock=clock, metrics_provider=provider)
    )
    q.add("a")
    dq.add_after("b", 0)
    assert q._metrics is None
    assert q._updater is None
    assert dq._metrics is None
    assert list(registry.collect()) == []
    q.shut_down()
    dq.shut_down()


def test_noop_provider_has_no_metrics() -> None:
    """Not upstream: the no-op provider is treated like no metrics at all."""
    q = new_with_config(
        QueueConfig(name="named", clock=FakeClock(), metrics_provider=NoopMetricsProvider())
    )
    assert q._metrics is None
    assert q._updater is None
    q.shut_down()
