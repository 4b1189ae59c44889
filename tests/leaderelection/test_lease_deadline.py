"""Lease safety when the API stops answering (issue 11, finding 3).

The lock calls here block until the test ends (a reactor that never answers, as a
silently dropped connection would). client-go's leader gives up at the renew deadline
because every lock call runs under a context ending then; these tests check that the
port does too, that it calls OnStoppedLeading by then, that timed-out calls do not
pile up threads, and that a Job controller worker takes no new key once leadership
has ended.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.client import deadline
from jobctl.k8s_libs.clock import FakeClock
from jobctl.leaderelection import resourcelock as rl
from jobctl.leaderelection.leaderelection import (
    MAX_LEASE_CALLS_IN_FLIGHT,
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
    new_leader_elector,
)
from jobctl.testing.fake_clientset import Action, FakeClientset
from jobctl.testing.job_harness import JobHarness
from jobctl.workqueue.gated import GatedQueue

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WAIT = 10.0


class Blocker:
    """A reactor for lease calls that, once armed, blocks each call until released.

    Records the fake time each blocked call started and the request deadline it ran
    under.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.armed = threading.Event()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.started_at: list[datetime] = []
        self.budgets: list[float | None] = []
        self.returned = 0

    def __call__(self, action: Action) -> tuple[bool, Any, BaseException | None]:
        if not self.armed.is_set():
            return False, None, None
        with self.lock:
            self.started_at.append(self.clock.now())
            self.budgets.append(deadline.remaining())
        self.entered.set()
        self.release.wait(60)
        with self.lock:
            self.returned += 1
        return True, None, ConnectionError("connection reset")


@pytest.fixture
def blocker_cleanup() -> Iterator[list[Blocker]]:
    made: list[Blocker] = []
    yield made
    for b in made:
        b.release.set()


def _elector(
    client: FakeClientset,
    clock: FakeClock,
    identity: str,
    on_started: Callable[[threading.Event], None],
    on_stopped: Callable[[], None],
    lease_duration: float = 15.0,
    renew_deadline: float = 10.0,
    retry_period: float = 2.0,
) -> LeaderElector:
    return new_leader_elector(
        LeaderElectionConfig(
            lock=rl.new(
                "leases",
                "kube-system",
                "jobctl",
                client.coordination_v1(),
                rl.ResourceLockConfig(identity),
            ),
            lease_duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
            callbacks=LeaderCallbacks(on_started_leading=on_started, on_stopped_leading=on_stopped),
            release_on_cancel=True,
            name="jobctl",
            clock=clock,
        )
    )


def _step_while(
    clock: FakeClock, until: threading.Event, step: float, idle: LeaderElector | None = None
) -> None:
    """Step the clock whenever the elector waits on it, until ``until`` is set.

    With ``idle``, not while that elector is inside a lock call (so a call's start is
    seen at the time it was made); without, blocked calls or not.
    """
    give_up = time.monotonic() + WAIT
    while not until.is_set():
        assert time.monotonic() < give_up, "the elector made no progress"
        if not clock.wait_for_waiters(1, timeout=0.01) or until.is_set():
            continue
        if idle is not None and idle.lease_callers() > 0:
            until.wait(0.005)  # yield to the call; not a timing assumption
            continue
        clock.step(step)


def test_renewal_gives_up_at_the_renew_deadline(blocker_cleanup: list[Blocker]) -> None:
    clock = FakeClock(NOW)
    client = FakeClientset()
    blocker = Blocker(clock)
    blocker_cleanup.append(blocker)
    client.prepend_reactor("*", "leases", blocker)
    started = threading.Event()
    leading: list[threading.Event] = []
    stopped_at: list[datetime] = []
    leading_set_at_stop: list[bool] = []
    stopped = threading.Event()

    def on_started(ev: threading.Event) -> None:
        leading.append(ev)
        started.set()

    def on_stopped() -> None:
        stopped_at.append(clock.now())
        leading_set_at_stop.append(bool(leading) and leading[0].is_set())
        stopped.set()

    elector = _elector(client, clock, "me", on_started, on_stopped)
    finished = threading.Event()

    def run() -> None:
        elector.run(threading.Event())
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    assert started.wait(WAIT)
    blocker.armed.set()  # the API goes silent
    # Let the clock run until a lock call hangs (its start time is then exact) ...
    _step_while(clock, blocker.entered, 0.5, idle=elector)
    # ... and on until the elector gives up.
    _step_while(clock, finished, 0.5)

    # One call hangs; the elector did not wait for it.
    assert len(blocker.started_at) == 1
    assert blocker.returned == 0
    first_unanswered = blocker.started_at[0]
    # Stopped leading no later than the renew deadline after the unanswered call.
    assert stopped.is_set()
    elapsed = (stopped_at[0] - first_unanswered).total_seconds()
    assert 0 < elapsed <= 10.0
    # The guarded work was told to stop by then, and the lease was not "released"
    # through the dead connection afterwards (no further call was attempted).
    assert leading_set_at_stop == [True]
    # The request ran under a deadline no longer than the renew deadline.
    budget = blocker.budgets[0]
    assert budget is not None and 0 < budget <= 10.0
    # The abandoned call holds the only helper slot.
    assert elector.lease_calls_in_flight() == MAX_LEASE_CALLS_IN_FLIGHT == 1


def test_timed_out_lease_calls_do_not_pile_up_threads(
    blocker_cleanup: list[Blocker], caplog: pytest.LogCaptureFixture
) -> None:
    """A partitioned standby retries many times; every attempt times out, yet at most
    one helper thread is ever blocked."""
    caplog.set_level(logging.ERROR, logger="jobctl.leaderelection.leaderelection")
    clock = FakeClock(NOW)
    client = FakeClientset()
    blocker = Blocker(clock)
    blocker_cleanup.append(blocker)
    blocker.armed.set()
    client.prepend_reactor("*", "leases", blocker)
    # Short real-time bounds so that many attempts fit in a test (renew 0.05 s).
    elector = _elector(
        client,
        clock,
        "standby",
        lambda ev: None,
        lambda: None,
        lease_duration=1.0,
        renew_deadline=0.05,
        retry_period=0.02,
    )
    baseline = threading.active_count()
    stop = threading.Event()
    runner = threading.Thread(target=elector.run, args=(stop,), daemon=True)
    runner.start()
    peak = threading.active_count()

    def timed_out() -> int:
        return sum("context deadline exceeded" in r.getMessage() for r in caplog.records)

    give_up = time.monotonic() + 4 * WAIT
    while timed_out() < 40:
        assert time.monotonic() < give_up, f"only {timed_out()} attempts"
        peak = max(peak, threading.active_count())
        assert elector.lease_calls_in_flight() <= 1
        if clock.wait_for_waiters(1, timeout=0.01):
            clock.step(0.05)
    stop.set()
    runner.join(WAIT)
    assert not runner.is_alive()
    # The runner, its stop watcher and one abandoned call, whatever the attempt count.
    assert peak - baseline <= 4
    assert len(blocker.started_at) == 1


def test_worker_takes_no_new_key_after_leadership_is_lost(
    blocker_cleanup: list[Blocker],
) -> None:
    """A Job controller worker syncs while leading; after the renew deadline passes
    without a renewal it takes no new key, although keys are queued."""
    clock = FakeClock(NOW)
    client = FakeClientset()
    blocker = Blocker(clock)
    blocker_cleanup.append(blocker)
    client.prepend_reactor("*", "leases", blocker)
    started = threading.Event()
    leading: list[threading.Event] = []

    def on_started(ev: threading.Event) -> None:
        leading.append(ev)
        started.set()

    stopped = threading.Event()
    elector = _elector(client, clock, "me", on_started, stopped.set)
    threading.Thread(target=elector.run, args=(threading.Event(),), daemon=True).start()
    assert started.wait(WAIT)

    with JobHarness(now=NOW) as h:
        jc = h.controller
        synced: list[str] = []
        jc.sync_handler = synced.append
        jc.queue = GatedQueue(jc.queue, leading[0])
        jc.queue.add("ns/before")
        assert jc.process_next_work_item()
        assert synced == ["ns/before"]

        blocker.armed.set()
        _step_while(clock, blocker.entered, 0.5, idle=elector)
        _step_while(clock, stopped, 0.5)
        assert leading[0].is_set()

        jc.queue.add("ns/after")
        assert jc.queue.len() == 1
        assert not jc.process_next_work_item()
        assert synced == ["ns/before"]


def test_gated_queue_hands_back_a_key_taken_while_leadership_ended() -> None:
    """A worker blocked in get() when leadership ends gets the key marked done
    unprocessed and is told to quit."""
    with JobHarness(now=NOW) as h:
        closed = threading.Event()
        q: GatedQueue[str] = GatedQueue(h.controller.queue, closed)
        got: list[tuple[str, bool]] = []
        worker = threading.Thread(target=lambda: got.append(q.get()), daemon=True)
        worker.start()
        closed.set()
        q.add("ns/job")
        worker.join(WAIT)
        assert got == [("ns/job", True)]
        # Not left in processing: a later add is queued again.
        q.inner.add("ns/job")
        assert q.inner.len() == 1


def test_controller_manager_gates_the_job_queues_on_leadership() -> None:
    """jobctl's run wiring: with leader election the Job controller's queues stop
    handing out keys once leadership ends."""
    from prometheus_client import CollectorRegistry

    from jobctl.app.controller_manager import ControllerContext, new_job_controller
    from jobctl.app.options import JobctlOptions
    from jobctl.informers.factory import SharedInformerFactory

    client = FakeClientset()
    lost = threading.Event()
    ctx = ControllerContext(
        client_builder=lambda name: client,
        informer_factory=SharedInformerFactory(client, 0),
        options=JobctlOptions(),
        registry=CollectorRegistry(),
        resync_period=lambda: 1.0,
        leading_lost=lost,
    )
    _, jc = new_job_controller(ctx)
    try:
        synced: list[str] = []
        jc.sync_handler = synced.append
        jc.queue.add("ns/a")
        assert jc.process_next_work_item()
        lost.set()
        jc.queue.add("ns/b")
        assert not jc.process_next_work_item()
        assert synced == ["ns/a"]
    finally:
        jc.queue.shut_down()
        jc.orphan_queue.shut_down()
