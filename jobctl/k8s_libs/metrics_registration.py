"""Registering metrics the way component-base's legacy registry does, once per Prometheus
registry here (upstream registers once per process), and without prometheus_client's
``*_created`` series, which component-base never exports."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable

import prometheus_client
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector


def disable_created_series() -> None:
    """No ``*_created`` samples for counters and histograms (component-base has none).

    prometheus_client reads the switch when it collects, so calling it before the first
    scrape is enough; it is process-wide and idempotent."""
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class OncePerRegistry:
    """Remembers which registries a group of metrics went into (weakly, so a test's
    throwaway registry is not kept alive)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: weakref.WeakSet[CollectorRegistry] = weakref.WeakSet()

    def first_time(self, registry: CollectorRegistry) -> bool:
        """True on the first call for ``registry``, False on every later one."""
        with self._lock:
            if registry in self._done:
                return False
            self._done.add(registry)
            return True

    def register(self, registry: CollectorRegistry, collectors: Iterable[Collector]) -> None:
        """Register ``collectors`` into ``registry`` unless this group already is there;
        the registry counts as done only once every collector went in."""
        with self._lock:
            if registry in self._done:
                return
            for collector in collectors:
                registry.register(collector)
            self._done.add(registry)
