"""jobctl.k8s_libs.metrics_registration: a group of metrics goes into each registry once."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from jobctl.k8s_libs.metrics_registration import OncePerRegistry


def test_register_puts_the_group_in_each_registry_once() -> None:
    counter = Counter("jobctl_test_once_total", "help", registry=None)
    once = OncePerRegistry()
    first, second = CollectorRegistry(), CollectorRegistry()
    once.register(first, [counter])
    # A second registration into the same registry would raise "Duplicated timeseries".
    once.register(first, [counter])
    once.register(second, [counter])
    counter.inc()
    assert first.get_sample_value("jobctl_test_once_total") == 1.0
    assert second.get_sample_value("jobctl_test_once_total") == 1.0


def test_first_time_answers_true_once_per_registry() -> None:
    once = OncePerRegistry()
    first, second = CollectorRegistry(), CollectorRegistry()
    assert once.first_time(first) is True
    assert once.first_time(first) is False
    assert once.first_time(second) is True
