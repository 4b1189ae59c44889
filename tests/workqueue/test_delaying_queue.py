"""Port of client-go util/workqueue/delaying_queue_test.go.

Upstream polls the queue length and the hand-off channel; here the helpers wait (in
bounded real time) for the waiting loop to be idle on the fake clock, which is the point
at which a ``step`` is sure to be seen.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jobctl.k8s_libs.clock import FakeClock
from jobctl.workqueue.delaying_queue import (
    MAX_WAIT,
    DelayingQueueConfig,
    DelayingType,
    TypedDelayingInterface,
    TypedDelayingQueueConfig,
    new_delaying_queue_with_config,
    new_typed_delaying_queue_with_config,
)

TIMEOUT = 10.0


def _fake_clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))


def _wait_idle(q: DelayingType[Any], predicate: Callable[[], bool] = lambda: True) -> None:
    """Wait until the loop has taken every hand-off and sleeps, and ``predicate`` holds."""
    with q._cond:
        ok = q._cond.wait_for(
            lambda: q._loop_waiting and not q._waiting_for_add and predicate(), TIMEOUT
        )
    assert ok, "waiting loop did not settle"


def wait_for_waiting_queue_to_fill(q: DelayingType[Any]) -> None:
    """Port of waitForWaitingQueueToFill: the loop has taken every hand-off."""
    _wait_idle(q)


def wait_for_added(q: DelayingType[Any], depth: int) -> None:
    """Port of waitForAdded: the loop settled with ``depth`` items in the queue."""
    _wait_idle(q, lambda: q.len() == depth)


def _loop_pass_after(q: DelayingType[Any], waits: int) -> None:
    """Wait until the loop has woken and gone back to sleep since it had slept ``waits`` times."""
    _wait_idle(q, lambda: q._loop_waits > waits)


def test_simple_queue() -> None:
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))

    first = "foo"

    q.add_after(first, 0.050)
    wait_for_waiting_queue_to_fill(q)

    assert q.len() == 0, "should not have added"

    fake_clock.step(0.060)

    wait_for_added(q, 1)
    item, _ = q.get()
    q.done(item)

    # Step past the next heartbeat: the loop wakes, and adds nothing.
    waits = q._loop_waits
    fake_clock.step(MAX_WAIT)
    _loop_pass_after(q, waits)

    assert q.len() == 0, "should not have added"
    q.shut_down()


def test_deduping() -> None:
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))

    first = "foo"

    q.add_after(first, 0.050)
    wait_for_waiting_queue_to_fill(q)
    q.add_after(first, 0.070)
    wait_for_waiting_queue_to_fill(q)
    assert q.len() == 0, "should not have added"

    # Step past the first block: it arrives now.
    fake_clock.step(0.060)
    wait_for_added(q, 1)
    item, _ = q.get()
    q.done(item)

    # Step past the second add: the later time was dropped.
    fake_clock.step(0.020)
    assert q.len() == 0, "should not have added"

    # Again, but this time the earlier time wins.
    q.add_after(first, 0.050)
    q.add_after(first, 0.030)
    wait_for_waiting_queue_to_fill(q)
    assert q.len() == 0, "should not have added"

    fake_clock.step(0.040)
    wait_for_added(q, 1)
    item, _ = q.get()
    q.done(item)

    # Step past the second add.
    fake_clock.step(0.020)
    assert q.len() == 0, "should not have added"

    # Not upstream: even after a full heartbeat pass the superseded time adds nothing.
    waits = q._loop_waits
    fake_clock.step(MAX_WAIT)
    _loop_pass_after(q, waits)
    assert q.len() == 0, "should not have added"
    q.shut_down()


def test_add_two_fire_early() -> None:
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))

    first = "foo"
    second = "bar"
    third = "baz"

    q.add_after(first, 1.0)
    q.add_after(second, 0.050)
    wait_for_waiting_queue_to_fill(q)

    assert q.len() == 0, "should not have added"

    fake_clock.step(0.060)

    wait_for_added(q, 1)
    item, _ = q.get()
    assert item == second

    q.add_after(third, 2.0)

    fake_clock.step(1.0)
    wait_for_added(q, 1)
    item, _ = q.get()
    assert item == first

    fake_clock.step(2.0)
    wait_for_added(q, 1)
    item, _ = q.get()
    assert item == third
    q.shut_down()


def test_copy_shifting() -> None:
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))

    first = "foo"
    second = "bar"
    third = "baz"

    q.add_after(first, 1.0)
    q.add_after(second, 0.500)
    q.add_after(third, 0.250)
    wait_for_waiting_queue_to_fill(q)

    assert q.len() == 0, "should not have added"

    fake_clock.step(2.0)

    wait_for_added(q, 3)
    actual_first, _ = q.get()
    assert actual_first == third
    actual_second, _ = q.get()
    assert actual_second == second
    actual_third, _ = q.get()
    assert actual_third == first
    q.shut_down()


def test_delaying_queue_add_after_many() -> None:
    """Port of BenchmarkDelayingQueue_AddAfter, run once at a fixed size as a test."""
    fake_clock = _fake_clock()
    q: TypedDelayingInterface[str] = new_typed_delaying_queue_with_config(
        TypedDelayingQueueConfig(clock=fake_clock)
    )
    assert isinstance(q, DelayingType)
    rng = random.Random(1)
    n = 2000
    for i in range(n):
        q.add_after(str(i), rng.uniform(0.001, 600.0))
    wait_for_waiting_queue_to_fill(q)

    fake_clock.step(11 * 60)
    wait_for_added(q, n)
    got = {q.get()[0] for _ in range(n)}
    assert got == {str(i) for i in range(n)}
    q.shut_down()


def test_add_after_without_delay_adds_now() -> None:
    """Not upstream: a non-positive delay adds at once, without the waiting loop."""
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=_fake_clock()))
    q.add_after("now", 0)
    q.add_after("past", -1.0)
    assert q.len() == 2
    q.shut_down()


def test_shut_down_stops_waiting_loop() -> None:
    """Not upstream: ShutDown ends the loop and later AddAfter calls are dropped."""
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))
    q.add_after("foo", 1.0)
    wait_for_waiting_queue_to_fill(q)
    q.shut_down()
    q.shut_down()  # idempotent
    assert q._loop is not None
    q._loop.join(TIMEOUT)
    assert not q._loop.is_alive()
    q.add_after("bar", 0.5)
    fake_clock.step(2.0)
    assert q.len() == 0
    assert q.get() == (None, True)


def test_shut_down_with_drain_stops_waiting_loop() -> None:
    """Not upstream: after draining, the loop exits instead of waiting for its heartbeat."""
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))
    q.add("a")
    item, _ = q.get()
    drained = threading.Thread(target=q.shut_down_with_drain, daemon=True)
    drained.start()
    shutting_down = False
    while not shutting_down:
        _, shutting_down = q.get()
    q.done(item)
    drained.join(TIMEOUT)
    assert not drained.is_alive()
    assert q._loop is not None
    q._loop.join(TIMEOUT)
    assert not q._loop.is_alive()


# Go's time.Duration saturates at math.MaxInt64 nanoseconds (about 292 years).
_GO_MAX_DURATION_SECONDS = (2**63 - 1) / 1e9


def test_add_after_accepts_every_go_duration() -> None:
    """activeDeadlineSeconds: 300000000000 is a valid int64; its delay saturates."""
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))
    try:
        q.add_after("huge", 300000000000)
        q.add_after("infinite", float("inf"))
        q.add_after("max", _GO_MAX_DURATION_SECONDS)
        q.add_after("soon", 1.0)
        wait_for_waiting_queue_to_fill(q)
        fake_clock.step(1.0)
        wait_for_added(q, 1)
        assert q.get() == ("soon", False)
        q.done("soon")

        # Still pending one second short of the saturated delay ...
        waits = q._loop_waits
        fake_clock.step(_GO_MAX_DURATION_SECONDS - 2.0)
        _loop_pass_after(q, waits)
        assert q.len() == 0
        # ... and due once it has passed: each clamped to Go's maximum duration.
        fake_clock.step(2.0)
        wait_for_added(q, 3)
        got = set()
        for _ in range(3):
            item, shutdown = q.get()
            assert not shutdown
            got.add(item)
            q.done(item)
        assert got == {"huge", "infinite", "max"}
    finally:
        q.shut_down()


def test_add_after_saturates_ready_time_at_the_end_of_time() -> None:
    """A clock near the last representable instant never overflows either."""
    fake_clock = FakeClock(datetime(9999, 12, 1, tzinfo=UTC))
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))
    try:
        q.add_after("late", 86400.0 * 365)
        wait_for_waiting_queue_to_fill(q)
        assert q.len() == 0
    finally:
        q.shut_down()


class _FailingOnceQueue:
    """A queue whose first ``add`` raises, as a bug in a custom queue would."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failed = False

    def add(self, item: Any) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("boom")
        self._inner.add(item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_waiting_loop_survives_an_exception() -> None:
    """The waiting loop logs and carries on; later delayed adds still arrive."""
    from jobctl.workqueue.queue import new

    fake_clock = _fake_clock()
    failing = _FailingOnceQueue(new())
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock, queue=failing))
    try:
        q.add_after("first", 1.0)
        q.add_after("second", 2.0)
        wait_for_waiting_queue_to_fill(q)
        fake_clock.step(1.0)
        _wait_idle(q, lambda: failing.failed)
        assert q._loop is not None and q._loop.is_alive()
        fake_clock.step(1.0)
        wait_for_added(q, 1)
        assert q.get() == ("second", False)
        q.done("second")
        q.add_after("third", 1.0)
        wait_for_waiting_queue_to_fill(q)
        fake_clock.step(1.0)
        wait_for_added(q, 1)
        assert q.get() == ("third", False)
    finally:
        q.shut_down()


def test_add_after_past_the_loops_wake_up_does_not_wake_it() -> None:
    """Not upstream: an entry due after the loop's own wake-up is queued without waking it
    (no thread switch), and still comes out exactly when due, in order."""
    fake_clock = _fake_clock()
    q = new_delaying_queue_with_config(DelayingQueueConfig(clock=fake_clock))
    try:
        q.add_after("first", 1.0)
        wait_for_waiting_queue_to_fill(q)
        waits = q._loop_waits
        q.add_after("later", 3.0)
        q.add_after("first", 2.0)  # a later time for a known entry: dropped, as in Go
        wait_for_waiting_queue_to_fill(q)
        assert q._loop_waits == waits, "the loop was woken for entries due after its wake-up"
        assert q.len() == 0

        fake_clock.step(1.0)
        wait_for_added(q, 1)
        assert q.get() == ("first", False)
        q.done("first")

        fake_clock.step(1.5)
        wait_for_waiting_queue_to_fill(q)
        assert q.len() == 0, "the superseded time of 'first' or 'later' fired early"

        fake_clock.step(0.5)
        wait_for_added(q, 1)
        assert q.get() == ("later", False)
        q.done("later")

        # An entry due before the loop's wake-up still wakes it at once.
        q.add_after("far", 5.0)
        wait_for_waiting_queue_to_fill(q)
        q.add_after("near", 0.5)
        fake_clock.step(0.5)
        wait_for_added(q, 1)
        assert q.get() == ("near", False)
        q.done("near")
    finally:
        q.shut_down()
