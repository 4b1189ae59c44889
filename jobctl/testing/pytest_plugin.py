"""pytest plugin of jobctl's testing kit (entry point ``pytest11``: ``jobctl``).

Installed with the package, it gives every test session these fixtures:

``job_harness``
    A ``JobHarness`` (a Job controller over in-memory fakes, synced one key at a time),
    with a fake clock at ``JOB_HARNESS_NOW``; closed when the test ends. Pod creations
    and deletions record SuccessfulCreate/SuccessfulDelete events as
    kube-controller-manager does.
``job_harness_factory``
    ``job_harness_factory(**kwargs)`` builds more harnesses (any ``JobHarness``
    keyword: ``now``, ``controller_name``, ``pod_control`` ...); all are closed when
    the test ends.
``feature_gates``
    Sets feature gates for this test only: ``feature_gates.set("JobManagedBy", False)``
    or ``feature_gates.set_many({...})``; every change is undone when the test ends
    (built on ``set_feature_gate_during_test``, Go's featuregatetesting).

and the marker ``@pytest.mark.feature_gates(JobManagedBy=False, ...)``, which sets
the gates for the marked test (or class, or module) the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.k8s_libs import features
from jobctl.testing.job_harness import JobHarness

__all__ = ["JOB_HARNESS_NOW", "FeatureGates"]

# The fake clock of the ``job_harness`` fixture: a fixed time keeps outputs repeatable.
JOB_HARNESS_NOW = datetime(2026, 1, 1, tzinfo=UTC)

_MARKER = "feature_gates"


class FeatureGates:
    """Feature gate changes scoped to one test (see the module docstring)."""

    def __init__(self, cleanup: Callable[[Callable[[], None]], None]) -> None:
        self._cleanup = cleanup
        self.gate = features.DEFAULT_FEATURE_GATE

    def set(self, name: str, value: bool) -> None:
        """Set one gate until the test ends."""
        features.set_feature_gate_during_test(self.gate, name, value, cleanup=self._cleanup)

    def set_many(self, gates: Mapping[str, bool]) -> None:
        """Set several gates at once (dependent gates follow, as upstream's helper)."""
        features.set_feature_gates_during_test(self.gate, gates, cleanup=self._cleanup)

    def enabled(self, name: str) -> bool:
        """Whether ``name`` is on now."""
        return self.gate.enabled(name)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``feature_gates`` marker."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**gates): set jobctl feature gates for the marked test, restored after",
    )


@pytest.fixture
def feature_gates(request: pytest.FixtureRequest) -> FeatureGates:
    """Feature gates set for this test only."""
    return FeatureGates(request.addfinalizer)


@pytest.fixture(autouse=True)
def _jobctl_feature_gates_marker(request: pytest.FixtureRequest) -> None:
    """Apply ``@pytest.mark.feature_gates(...)`` (closest marker first wins per gate)."""
    gates: dict[str, bool] = {}
    for marker in reversed(list(request.node.iter_markers(_MARKER))):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.{_MARKER} takes keyword arguments only (Name=True)"
            )
        gates.update({name: bool(value) for name, value in marker.kwargs.items()})
    if gates:
        features.set_feature_gates_during_test(
            features.DEFAULT_FEATURE_GATE, gates, cleanup=request.addfinalizer
        )


@pytest.fixture
def job_harness_factory() -> Iterator[Callable[..., JobHarness]]:
    """Builds ``JobHarness`` objects, closing them all when the test ends."""
    made: list[JobHarness] = []

    def make(*objects: Any, **kwargs: Any) -> JobHarness:
        if "clock" not in kwargs:
            kwargs.setdefault("now", JOB_HARNESS_NOW)
        kwargs.setdefault("pod_events", True)
        harness = JobHarness(*objects, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


@pytest.fixture
def job_harness(job_harness_factory: Callable[..., JobHarness]) -> JobHarness:
    """A ``JobHarness`` on a fake clock at ``JOB_HARNESS_NOW``, closed after the test."""
    return job_harness_factory()
