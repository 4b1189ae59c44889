"""Clocks: port of k8s.io/utils/clock and its testing fake.

Every component that waits or measures time takes a ``Clock``. Durations are float
seconds; instants are timezone-aware UTC datetimes (the same type the Kubernetes
models use for timestamps).

Go selects over channels; Python code here waits on a ``threading.Condition`` it owns
and asks the clock to wake it at a deadline with ``wait_on`` (or to run a callback with
``after_func``). With ``FakeClock`` no thread ever sleeps for real: waiters wake when a
test calls ``step`` or ``set_time``.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Timer(Protocol):
    """A pending callback; port of clock.Timer (Stop/Reset)."""

    def stop(self) -> bool:
        """Cancel; True if the timer had not fired yet."""
        ...

    def reset(self, duration: float) -> bool:
        """Re-arm to fire ``duration`` seconds from now; True if it was still pending."""
        ...


class PassiveClock(Protocol):
    """Port of clock.PassiveClock: reads time, never waits."""

    def now(self) -> datetime: ...

    def since(self, t: datetime) -> float: ...


class Clock(PassiveClock, Protocol):
    """Port of clock.WithDelayedExecution plus Sleep, shaped for threads."""

    def sleep(self, duration: float) -> None: ...

    def after_func(self, duration: float, fn: Callable[[], None]) -> Timer: ...

    def wait_on(self, cond: threading.Condition, timeout: float | None) -> None:
        """Wait on ``cond`` (held by the caller) until notified or ``timeout`` passes.

        ``timeout`` None waits for a notification only. Spurious wake-ups are
        allowed, as with ``threading.Condition.wait``: callers re-check their predicate.
        """
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RealClock:
    """Port of clock.RealClock, backed by the system clock and threading timers."""

    def now(self) -> datetime:
        return _utcnow()

    def since(self, t: datetime) -> float:
        return (_utcnow() - t).total_seconds()

    def sleep(self, duration: float) -> None:
        if duration > 0:
            time.sleep(duration)

    def after_func(self, duration: float, fn: Callable[[], None]) -> Timer:
        return _RealTimer(duration, fn)

    def wait_on(self, cond: threading.Condition, timeout: float | None) -> None:
        if timeout is None:
            cond.wait()
        elif timeout > 0:
            cond.wait(timeout)


class _RealTimer:
    """A restartable wrapper over threading.Timer."""

    def __init__(self, duration: float, fn: Callable[[], None]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._pending = False
        self._arm(duration)

    def _arm(self, duration: float) -> None:
        timer = threading.Timer(max(duration, 0.0), self._fire)
        timer.daemon = True
        self._timer = timer
        self._pending = True
        timer.start()

    def _fire(self) -> None:
        with self._lock:
            if not self._pending:
                return
            self._pending = False
        self._fn()

    def stop(self) -> bool:
        with self._lock:
            was_pending = self._pending
            self._pending = False
            if self._timer is not None:
                self._timer.cancel()
            return was_pending

    def reset(self, duration: float) -> bool:
        with self._lock:
            was_pending = self._pending
            if self._timer is not None:
                self._timer.cancel()
            self._arm(duration)
            return was_pending


class FakePassiveClock:
    """Port of testing.FakePassiveClock: time moves only when set."""

    def __init__(self, t: datetime | None = None) -> None:
        self._lock = threading.RLock()
        self._time = t if t is not None else datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        with self._lock:
            return self._time

    def since(self, t: datetime) -> float:
        with self._lock:
            return (self._time - t).total_seconds()

    def set_time(self, t: datetime) -> None:
        with self._lock:
            self._time = t


class _FakeWaiter:
    __slots__ = ("clock", "fire_at", "fn", "pending", "seq")

    def __init__(self, clock: FakeClock, fire_at: datetime, fn: Callable[[], None]) -> None:
        self.clock = clock
        self.fire_at = fire_at
        self.fn = fn
        self.seq = 0
        self.pending = True

    def __lt__(self, other: _FakeWaiter) -> bool:
        return (self.fire_at, self.seq) < (other.fire_at, other.seq)

    def stop(self) -> bool:
        return self.clock._stop_waiter(self)

    def reset(self, duration: float) -> bool:
        return self.clock._reset_waiter(self, duration)


class FakeClock(FakePassiveClock):
    """Port of testing.FakeClock: timers and waits fire only on ``step``/``set_time``.

    Callbacks run on the thread that moves the time, outside the clock's lock, in
    deadline order.
    """

    def __init__(self, t: datetime | None = None) -> None:
        super().__init__(t)
        self._waiters: list[_FakeWaiter] = []
        self._seq = itertools.count()
        self._waiters_changed = threading.Condition(self._lock)

    def step(self, duration: float) -> None:
        """Advance the time by ``duration`` seconds and fire what became due."""
        with self._lock:
            target = self._time + timedelta(seconds=duration)
        self.set_time(target)

    def set_time(self, t: datetime) -> None:
        with self._lock:
            self._time = t
            due: list[_FakeWaiter] = []
            while self._waiters and self._waiters[0].fire_at <= t:
                waiter = heapq.heappop(self._waiters)
                if waiter.pending:
                    waiter.pending = False
                    due.append(waiter)
            self._waiters_changed.notify_all()
        for waiter in due:
            waiter.fn()

    def has_waiters(self) -> bool:
        """Port of FakeClock.HasWaiters: is any timer or wait pending?"""
        with self._lock:
            return any(w.pending for w in self._waiters)

    def waiter_count(self) -> int:
        with self._lock:
            return sum(1 for w in self._waiters if w.pending)

    def wait_for_waiters(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block (in real time, bounded) until ``count`` waiters are pending.

        Tests call this before ``step`` so that a background thread has reached its
        wait; it is a synchronisation point, not a sleep.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(1 for w in self._waiters if w.pending) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._waiters_changed.wait(remaining)
            return True

    def after_func(self, duration: float, fn: Callable[[], None]) -> Timer:
        with self._lock:
            waiter = _FakeWaiter(self, self._time + timedelta(seconds=duration), fn)
            fire_now = duration <= 0
            if fire_now:
                waiter.pending = False
            else:
                self._push(waiter)
        if fire_now:
            fn()
        return waiter

    def _push(self, waiter: _FakeWaiter) -> None:
        waiter.seq = next(self._seq)
        waiter.pending = True
        heapq.heappush(self._waiters, waiter)
        self._waiters_changed.notify_all()

    def _stop_waiter(self, waiter: _FakeWaiter) -> bool:
        with self._lock:
            was_pending = waiter.pending
            waiter.pending = False
            self._waiters = [w for w in self._waiters if w is not waiter]
            heapq.heapify(self._waiters)
            return was_pending

    def _reset_waiter(self, waiter: _FakeWaiter, duration: float) -> bool:
        was_pending = self._stop_waiter(waiter)
        with self._lock:
            waiter.fire_at = self._time + timedelta(seconds=duration)
            fire_now = duration <= 0
            if not fire_now:
                self._push(waiter)
        if fire_now:
            waiter.fn()
        return was_pending

    def sleep(self, duration: float) -> None:
        if duration <= 0:
            return
        done = threading.Event()
        self.after_func(duration, done.set)
        done.wait()

    def wait_on(self, cond: threading.Condition, timeout: float | None) -> None:
        if timeout is None:
            cond.wait()
            return
        if timeout <= 0:
            return

        def wake() -> None:
            with cond:
                cond.notify_all()

        timer = self.after_func(timeout, wake)
        try:
            cond.wait()
        finally:
            timer.stop()
