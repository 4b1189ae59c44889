"""Leader election metrics.

Port of k8s.io/client-go/tools/leaderelection/metrics.go plus the Prometheus provider
of k8s.io/component-base/metrics/prometheus/clientgo/leaderelection. Upstream installs
the provider process-wide with ``SetProvider``; here the provider is passed in the
``LeaderElectionConfig`` so tests can use a fresh registry.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


class LeaderMetric(Protocol):
    """Port of LeaderMetric: leadership on/off and slow-path renewals per lease name."""

    def on(self, name: str) -> None: ...

    def off(self, name: str) -> None: ...

    def slowpath_exercised(self, name: str) -> None: ...


class MetricsProvider(Protocol):
    """Port of MetricsProvider."""

    def new_leader_metric(self) -> LeaderMetric: ...


class NoopMetric:
    """Port of noopMetric."""

    def on(self, name: str) -> None:
        """Port of noopMetric.On (metrics.go)."""
        return None

    def off(self, name: str) -> None:
        """Port of noopMetric.Off (metrics.go)."""
        return None

    def slowpath_exercised(self, name: str) -> None:
        """Port of noopMetric.SlowpathExercised (metrics.go)."""
        return None


class NoopMetricsProvider:
    """Port of noopMetricsProvider."""

    def new_leader_metric(self) -> LeaderMetric:
        """Port of noopMetricsProvider.NewLeaderMetric (metrics.go)."""
        return NoopMetric()


class _LeaderAdapter:
    """Port of leaderAdapter (component-base): writes the two Prometheus series."""

    def __init__(self, gauge: Gauge, counter: Counter) -> None:
        self._gauge = gauge
        self._counter = counter

    def on(self, name: str) -> None:
        self._gauge.labels(name=name).set(1.0)

    def off(self, name: str) -> None:
        self._gauge.labels(name=name).set(0.0)

    def slowpath_exercised(self, name: str) -> None:
        self._counter.labels(name=name).inc()


class PrometheusMetricsProvider:
    """Port of prometheusMetricsProvider (component-base), bound to one registry.

    Exposes ``leader_election_master_status{name}`` (1 while leading) and
    ``leader_election_slowpath_total{name}``.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else REGISTRY
        self._gauge = Gauge(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
            "backup, 1 indicates master. 'name' is the string used to identify the lease.",
            ["name"],
            registry=reg,
        )
        self._counter = Counter(
            "leader_election_slowpath_total",
            "Total number of slow path exercised in renewing leader leases. 'name' is the "
            "string used to identify the lease.",
            ["name"],
            registry=reg,
        )

    def new_leader_metric(self) -> LeaderMetric:
        return _LeaderAdapter(self._gauge, self._counter)


class LeaderMetricsAdapter:
    """Port of defaultLeaderMetrics / noMetrics: what the elector calls."""

    def __init__(self, leader: LeaderMetric) -> None:
        self._leader = leader

    def leader_on(self, name: str) -> None:
        """Port of defaultLeaderMetrics.leaderOn (metrics.go)."""
        self._leader.on(name)

    def leader_off(self, name: str) -> None:
        """Port of defaultLeaderMetrics.leaderOff (metrics.go)."""
        self._leader.off(name)

    def slowpath_exercised(self, name: str) -> None:
        """Port of defaultLeaderMetrics.slowpathExercised (metrics.go)."""
        self._leader.slowpath_exercised(name)


def new_leader_metrics(provider: MetricsProvider | None) -> LeaderMetricsAdapter:
    """Port of leaderMetricsFactory.newLeaderMetrics (metrics.go) for an explicit provider."""
    if provider is None:
        return LeaderMetricsAdapter(NoopMetric())
    return LeaderMetricsAdapter(provider.new_leader_metric())
