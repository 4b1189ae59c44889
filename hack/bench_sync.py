"""Benchmarks for one Job controller sync (jobctl.job.job_controller.Controller.sync_job).

- steady state: a Job with 1,000 running pods and an up-to-date status; the sync has
  nothing to write (target <= 2 ms);
- counting: 500 pods newly succeeded (with the tracking finalizer) next to 500 running
  ones; the sync records them as uncounted, removes 500 finalizers through a fake pod
  control, moves them into the counters and writes the status twice (target <= 50 ms).

Both run against in-memory fakes (jobctl.testing.job_harness). Figures are the median
and the best of several runs; nothing is asserted.

Run: ``.venv/bin/python -m hack.bench_sync``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kubernetes.client import V1JobStatus, V1PodCondition, V1UncountedTerminatedPods

from jobctl.expectations.uid_tracking_expectations import new_uid_tracking_expectations
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import new_job, new_pod_list
from jobctl.testing.job_harness import JobHarness

STEADY_TARGET_MS = 2.0
COUNTING_TARGET_MS = 50.0
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _steady_harness() -> tuple[JobHarness, str]:
    h = JobHarness(clock=FakeClock(NOW))
    job = new_job(1000, 1000, 6, "NonIndexed")
    job.status = V1JobStatus(
        active=1000,
        ready=1000,
        terminating=0,
        start_time=NOW - timedelta(minutes=1),
        uncounted_terminated_pods=V1UncountedTerminatedPods(),
    )
    h.add_job(job)
    pods = new_pod_list(1000, "Running", job)
    for p in pods:
        assert p.status is not None
        p.status.container_statuses = None
        p.status.conditions = [V1PodCondition(type="Ready", status="True")]
    h.add_pods(pods)
    return h, h.key(job)


def _counting_harness() -> tuple[JobHarness, str]:
    h = JobHarness(clock=FakeClock(NOW))
    job = new_job(1000, 1000, 6, "NonIndexed")
    job.status = V1JobStatus(
        active=1000,
        ready=0,
        terminating=0,
        start_time=NOW - timedelta(minutes=1),
        uncounted_terminated_pods=V1UncountedTerminatedPods(),
    )
    h.add_job(job)
    h.add_pods(new_pod_list(500, "Succeeded", job))
    running = new_pod_list(500, "Running", job)
    for p in running:
        assert p.status is not None
        p.status.container_statuses = None
    h.add_pods(running)
    return h, h.key(job)


def _time_runs(runs: int, setup: Callable[[], None], sync: Callable[[], None]) -> list[float]:
    """Milliseconds of ``sync`` over ``runs`` runs, ``setup`` untimed before each."""
    out: list[float] = []
    for _ in range(runs):
        setup()
        start = time.perf_counter()
        sync()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_steady_state(runs: int = 200) -> list[float]:
    """A sync with nothing to do over 1,000 running pods."""
    h, key = _steady_harness()
    with h:
        h.controller.sync_job(key)
        assert not h.statuses, "the steady state should not write the status"
        times = _time_runs(runs, lambda: None, lambda: h.controller.sync_job(key))
        assert not h.statuses and not h.pod_control.templates
    return times


def bench_counting(runs: int = 30) -> list[float]:
    """A sync counting 500 newly succeeded pods (finalizer removal and two writes)."""
    h, key = _counting_harness()
    with h:

        def reset() -> None:
            # Forget the removals of the previous run so that the pods count again.
            h.controller.finalizer_expectations = new_uid_tracking_expectations()
            h.statuses.clear()
            with h.pod_control.lock:
                h.pod_control.patches.clear()

        def sync() -> None:
            h.controller.sync_job(key)

        times = _time_runs(runs, reset, sync)
        assert h.statuses and h.statuses[-1].succeeded == 500
        assert len(h.pod_control.patches) == 500
    return times


def _report(name: str, times: list[float], target_ms: float) -> None:
    median = statistics.median(times)
    best = min(times)
    verdict = "ok" if median <= target_ms else "over target"
    print(
        f"{name:<44} median {median:8.3f} ms   best {best:8.3f} ms   "
        f"target <= {target_ms:g} ms ({verdict})"
    )


def main() -> None:
    _report("steady state, 1,000 running pods", bench_steady_state(), STEADY_TARGET_MS)
    _report("count 500 newly finished pods", bench_counting(), COUNTING_TARGET_MS)


if __name__ == "__main__":
    main()
