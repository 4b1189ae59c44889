"""Leader election client.

Port of k8s.io/client-go/tools/leaderelection/leaderelection.go. A candidate keeps
trying to take the lock every ``retry_period`` (jittered); once it holds it, it runs
``on_started_leading`` in a thread and renews the lock, retrying for up to
``renew_deadline``. If it cannot renew in time it steps down: the leading scope is
cancelled, the lease is released when ``release_on_cancel`` is set, and
``on_stopped_leading`` runs.

Decisions use only local observation times (when this process last saw the record
change), never the timestamps written in the record, so clock skew between
candidates does not matter; only the rate of their clocks does.

Go's ``context.Context`` becomes a small cancellable scope (``_Context``) that waits
through the injected ``Clock``; with ``FakeClock`` the elector never sleeps for real.
Callers pass a ``threading.Event`` (set = cancelled) to ``run``.

Lock calls take a scope as Go's do (``tryAcquireOrRenew(ctx)``): each runs under the
scope's deadline, and never longer than ``renew_deadline``. The request itself is
bounded with ``request_deadline``; because a request that ignores its deadline must not
hold the elector past it either, the call runs on a helper thread that is abandoned
when the scope ends. Only ``MAX_LEASE_CALLS_IN_FLIGHT`` such threads exist per
elector: while an abandoned call has not returned, the next call waits for its slot
(within its own deadline), so a partitioned candidate never piles up threads.

One deliberate difference: when a renewal misses its deadline the leader steps down at
once and does not try to release the lease (``release_on_cancel`` applies to a
requested stop). Go would first spend up to another ``renew_deadline`` on a release
that, with the API unreachable, cannot succeed; here ``on_stopped_leading`` runs at the
renew deadline.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from jobctl.client import errors
from jobctl.client.deadline import DeadlineExceededError, request_deadline
from jobctl.k8s_libs.clock import Clock, RealClock, Timer
from jobctl.leaderelection import resourcelock as rl
from jobctl.leaderelection.healthzadaptor import HealthzAdaptor
from jobctl.leaderelection.metrics import (
    LeaderMetricsAdapter,
    MetricsProvider,
    new_leader_metrics,
)

logger = logging.getLogger(__name__)

_R = TypeVar("_R")

JITTER_FACTOR = 1.2

# Go's zero time.Time: "never observed".
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

_CANCELED = "context canceled"
_DEADLINE_EXCEEDED = "context deadline exceeded"

# How often the thread that ties run()'s stop event to the elector's scope looks at
# the event. It only bounds how soon a stop request is noticed while waiting.
_STOP_POLL_SECONDS = 0.05

# Lock calls (helper threads) one elector may have running, abandoned ones included.
MAX_LEASE_CALLS_IN_FLIGHT = 1


class _Context:
    """A cancellable scope standing in for Go's context.Context.

    Cancelling a scope cancels its children. ``event`` is set once the scope is
    cancelled, for handing to callbacks that expect a stop event. Waits go through
    the clock, so a ``FakeClock`` drives them.
    """

    def __init__(
        self,
        clock: Clock,
        parent: _Context | None = None,
        source: threading.Event | None = None,
    ) -> None:
        self._clock = clock
        self._parent = parent
        self._source = source
        self._cond = threading.Condition()
        self._children: list[_Context] = []
        self._timer: Timer | None = None
        self._deadline: datetime | None = None
        self._err: str | None = None
        self._callbacks: list[Callable[[], None]] = []
        self.event = threading.Event()
        if parent is not None:
            parent._add_child(self)

    def _add_child(self, child: _Context) -> None:
        with self._cond:
            if not self.event.is_set():
                self._children.append(child)
                return
        child._cancel_with(self._err or _CANCELED)

    def _remove_child(self, child: _Context) -> None:
        with self._cond:
            if child in self._children:
                self._children.remove(child)

    def child(self) -> _Context:
        """context.WithCancel."""
        return _Context(self._clock, parent=self)

    def with_timeout(self, timeout: float) -> _Context:
        """context.WithTimeout, the deadline measured on the clock."""
        ctx = _Context(self._clock, parent=self)
        ctx._deadline = self._clock.now() + timedelta(seconds=timeout)
        ctx._timer = self._clock.after_func(timeout, lambda: ctx._cancel_with(_DEADLINE_EXCEEDED))
        return ctx

    def deadline(self) -> datetime | None:
        """ctx.Deadline(): the earliest deadline of this scope and its parents."""
        parent = self._parent.deadline() if self._parent is not None else None
        if parent is None or (self._deadline is not None and self._deadline < parent):
            return self._deadline
        return parent

    def add_done_callback(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (once) when the scope ends; at once if it already has."""
        with self._cond:
            if not self.event.is_set():
                self._callbacks.append(fn)
                return
        fn()

    def remove_done_callback(self, fn: Callable[[], None]) -> None:
        with self._cond:
            if fn in self._callbacks:
                self._callbacks.remove(fn)

    def err(self) -> str | None:
        """ctx.Err(): why the scope ended, or None while it is live."""
        if self.event.is_set():
            return self._err
        if self._source is not None and self._source.is_set():
            return _CANCELED
        if self._parent is not None:
            return self._parent.err()
        return None

    def done(self) -> bool:
        return self.err() is not None

    def cancel(self) -> None:
        self._cancel_with(_CANCELED)

    def _cancel_with(self, reason: str) -> None:
        with self._cond:
            if self.event.is_set():
                return
            self._err = reason
            self.event.set()
            children = list(self._children)
            self._children.clear()
            callbacks = list(self._callbacks)
            self._callbacks.clear()
            timer = self._timer
            self._cond.notify_all()
        if timer is not None:
            timer.stop()
        for fn in callbacks:
            fn()
        for c in children:
            c._cancel_with(reason)
        if self._parent is not None:
            self._parent._remove_child(self)

    def wait(self, duration: float) -> bool:
        """Wait ``duration`` seconds on the clock; True if the scope ended first."""
        deadline = self._clock.now() + timedelta(seconds=duration)
        with self._cond:
            while not self.done():
                remaining = (deadline - self._clock.now()).total_seconds()
                if remaining <= 0:
                    return False
                self._clock.wait_on(self._cond, remaining)
            return True


def _jitter(duration: float, max_factor: float) -> float:
    """Port of wait.Jitter."""
    if max_factor <= 0.0:
        max_factor = 1.0
    return duration + random.random() * max_factor * duration


def _jitter_until(
    ctx: _Context, f: Callable[[], None], period: float, jitter_factor: float
) -> None:
    """Port of wait.JitterUntilWithContext with sliding=True.

    Runs ``f`` until the scope ends, waiting a (jittered) ``period`` after each run.
    """
    while not ctx.done():
        f()
        wait = _jitter(period, jitter_factor) if jitter_factor > 0.0 else period
        if ctx.wait(wait):
            return


def _until(ctx: _Context, f: Callable[[], None], period: float) -> None:
    """Port of wait.UntilWithContext."""
    _jitter_until(ctx, f, period, 0.0)


def _poll_until_context_timeout(
    ctx: _Context,
    clock: Clock,
    interval: float,
    timeout: float,
    condition: Callable[[_Context], bool],
) -> str | None:
    """Port of wait.PollUntilContextTimeout(immediate=true): None once ``condition``
    holds, else the reason the deadline scope ended."""
    deadline_ctx = ctx.with_timeout(timeout)
    try:
        # A non-sliding ticker: the next tick is fixed before the condition runs.
        next_tick = clock.now() + timedelta(seconds=interval)
        if condition(deadline_ctx):
            return None
        while True:
            if deadline_ctx.wait((next_tick - clock.now()).total_seconds()):
                return deadline_ctx.err()
            next_tick = clock.now() + timedelta(seconds=interval)
            if condition(deadline_ctx):
                return None
    finally:
        deadline_ctx.cancel()


class _LeaseCalls:
    """Runs lock calls on helper threads, each bounded (jobctl addition).

    Stands in for what a Go request does with its context: return when the context
    ends. A call ends at the earlier of its scope's end (a deadline on the injected
    clock, or a cancellation) and ``timeout`` seconds of real time (Go's context
    deadlines are real time). The request is given that time (``request_deadline``) so
    that the transport ends it then; a call that still does not return is abandoned,
    and its thread keeps its slot until it does. At most ``limit`` slots exist, and a
    caller waits for one within its own bounds.
    """

    def __init__(self, clock: Clock, limit: int = MAX_LEASE_CALLS_IN_FLIGHT) -> None:
        self._clock = clock
        self._limit = limit
        self._cond = threading.Condition()
        self._in_flight = 0

    def in_flight(self) -> int:
        """Calls whose thread is still running (abandoned ones included)."""
        with self._cond:
            return self._in_flight

    def call(self, ctx: _Context, timeout: float | None, fn: Callable[..., _R], *args: Any) -> _R:
        """``fn(*args)`` on a helper thread, given up (DeadlineExceededError) when the
        scope or the time runs out first, also while waiting for a free slot."""
        cond = self._cond
        give_up_at = time.monotonic() + timeout if timeout is not None else None

        def wake() -> None:
            with cond:
                cond.notify_all()

        def wait_step(what: str) -> None:
            # Called with cond held: raise if out of bounds, else wait a little.
            err = ctx.err()
            left = give_up_at - time.monotonic() if give_up_at is not None else None
            if err is None and left is not None and left <= 0:
                err = _DEADLINE_EXCEEDED
            if err == _DEADLINE_EXCEEDED:
                raise DeadlineExceededError(f"{what}: {err}" if what else err)
            if err is not None:
                raise _CanceledError(f"{what}: {err}" if what else err)
            if what:
                cond.wait(_STOP_POLL_SECONDS if left is None else min(left, _STOP_POLL_SECONDS))

        ctx.add_done_callback(wake)
        try:
            with cond:
                while self._in_flight >= self._limit:
                    wait_step("an earlier lease request has not returned")
                wait_step("")
                self._in_flight += 1
            budget = self._budget(ctx, give_up_at)
            outcome: list[tuple[bool, Any]] = []

            def run() -> None:
                try:
                    if budget is None:
                        outcome.append((True, fn(*args)))
                    else:
                        with request_deadline(budget):
                            outcome.append((True, fn(*args)))
                except Exception as err:
                    outcome.append((False, err))
                finally:
                    with cond:
                        self._in_flight -= 1
                        cond.notify_all()

            threading.Thread(target=run, name="leader-election-call", daemon=True).start()
            with cond:
                while not outcome:
                    wait_step("lease request abandoned")
            ok, value = outcome[0]
            if not ok:
                raise value
            result: _R = value
            return result
        finally:
            ctx.remove_done_callback(wake)

    def _budget(self, ctx: _Context, give_up_at: float | None) -> float | None:
        """Seconds the request may take: the nearer of the scope's deadline (on the
        clock) and ``give_up_at`` (real time)."""
        budgets: list[float] = []
        deadline = ctx.deadline()
        if deadline is not None:
            budgets.append((deadline - self._clock.now()).total_seconds())
        if give_up_at is not None:
            budgets.append(give_up_at - time.monotonic())
        return max(0.0, min(budgets)) if budgets else None


class _CanceledError(Exception):
    """A lock call gave up because its scope was cancelled (Go's context.Canceled)."""


def new_leader_elector(lec: LeaderElectionConfig) -> LeaderElector:
    """Port of NewLeaderElector: validate ``lec`` (raising ValueError) and build.

    Go twin: NewLeaderElector (leaderelection.go).
    """
    if lec.lease_duration <= lec.renew_deadline:
        raise ValueError("leaseDuration must be greater than renewDeadline")
    if lec.renew_deadline <= JITTER_FACTOR * lec.retry_period:
        raise ValueError("renewDeadline must be greater than retryPeriod*JitterFactor")
    if lec.lease_duration <= 0:
        raise ValueError("leaseDuration must be greater than zero")
    if lec.renew_deadline <= 0:
        raise ValueError("renewDeadline must be greater than zero")
    if lec.retry_period <= 0:
        raise ValueError("retryPeriod must be greater than zero")
    if lec.callbacks.on_started_leading is None:
        raise ValueError("OnStartedLeading callback must not be nil")
    if lec.callbacks.on_stopped_leading is None:
        raise ValueError("OnStoppedLeading callback must not be nil")
    if lec.lock is None:
        raise ValueError("Lock must not be nil.")
    if lec.lock.identity() == "":
        raise ValueError("Lock identity is empty")

    le = LeaderElector(lec)
    le._metrics.leader_off(lec.name)
    return le


@dataclass
class LeaderCallbacks:
    """Port of LeaderCallbacks. Each runs in its own thread.

    ``on_started_leading`` gets an event that is set when leadership ends.
    ``on_stopped_leading`` runs whenever ``run`` returns, even if this candidate
    never led. ``on_new_leader`` gets every newly observed holder identity.
    """

    on_started_leading: Callable[[threading.Event], None] | None = None
    on_stopped_leading: Callable[[], None] | None = None
    on_new_leader: Callable[[str], None] | None = None


@dataclass
class LeaderElectionConfig:
    """Port of LeaderElectionConfig. Durations are float seconds.

    ``lease_duration``: how long a non-leader waits, from its last observed change
    of the record, before taking over. ``renew_deadline``: how long the leader keeps
    retrying a renewal before it steps down. ``retry_period``: the pause between
    tries. ``release_on_cancel``: on cancellation, clear the holder so another
    candidate can take over at once (the caller must have stopped all guarded work
    first). ``clock`` and ``metrics_provider`` are jobctl additions (upstream sets
    the clock inside the package and the provider globally).
    """

    lock: rl.Interface | None = None
    lease_duration: float = 0.0
    renew_deadline: float = 0.0
    retry_period: float = 0.0
    callbacks: LeaderCallbacks = field(default_factory=LeaderCallbacks)
    watch_dog: HealthzAdaptor | None = None
    release_on_cancel: bool = False
    name: str = ""
    coordinated: bool = False
    clock: Clock | None = None
    metrics_provider: MetricsProvider | None = None


class LeaderElector:
    """Port of LeaderElector: one candidate's view of the election.

    ``_observed_record``/``_observed_time`` hold the last record seen and when this
    process saw it change; ``_observed_raw_record`` is its serialised form, used to
    spot changes. ``_reported_leader`` trails the observed holder until
    ``on_new_leader`` has been told.
    """

    def __init__(
        self,
        config: LeaderElectionConfig,
        clock: Clock | None = None,
        metrics: LeaderMetricsAdapter | None = None,
    ) -> None:
        self._config = config
        self._observed_record = rl.LeaderElectionRecord()
        self._observed_raw_record = b""
        self._observed_time = _ZERO_TIME
        self._reported_leader = ""
        self._clock: Clock = clock or config.clock or RealClock()
        self._observed_record_lock = threading.RLock()
        self._metrics = metrics or new_leader_metrics(config.metrics_provider)
        self._calls = _LeaseCalls(self._clock)
        # Callers inside _lease_call (waiting for or on a lock call); tests read it.
        self._callers = 0
        self._callers_lock = threading.Lock()

    def lease_calls_in_flight(self) -> int:
        """Lock calls still running on helper threads (at most MAX_LEASE_CALLS_IN_FLIGHT)."""
        return self._calls.in_flight()

    def lease_callers(self) -> int:
        """Threads of this elector currently making (or waiting to make) a lock call."""
        with self._callers_lock:
            return self._callers

    def _lease_call(
        self,
        ctx: _Context | None,
        fn: Callable[..., _R],
        *args: Any,
        timeout: float | None = None,
    ) -> _R:
        """A lock call bounded by ``ctx`` and by ``timeout`` seconds (default: the
        renew deadline; unset in a config that skipped validation: unbounded)."""
        with self._callers_lock:
            self._callers += 1
        try:
            if timeout is None and self._config.renew_deadline > 0:
                timeout = self._config.renew_deadline
            scope = ctx if ctx is not None else _Context(self._clock)
            return self._calls.call(scope, timeout, fn, *args)
        finally:
            with self._callers_lock:
                self._callers -= 1

    @property
    def config(self) -> LeaderElectionConfig:
        return self._config

    def _lock(self) -> rl.Interface:
        lock = self._config.lock
        if lock is None:
            raise ValueError("Lock must not be nil.")
        return lock

    def run(self, stop: threading.Event) -> None:
        """Port of LeaderElector.Run: block until ``stop`` is set or leadership is lost.

        ``on_stopped_leading`` always runs before this returns.

        Go twin: LeaderElector.Run (leaderelection.go).
        """
        root = _Context(self._clock, source=stop)
        watcher = threading.Thread(
            target=_watch_stop, args=(stop, root), name="leader-election-stop", daemon=True
        )
        watcher.start()
        try:
            self._run(root)
        finally:
            root.cancel()

    def _run(self, root: _Context) -> None:
        try:
            if not self._acquire(root):
                return
            leading = root.child()
            try:
                threading.Thread(
                    target=self._run_started_leading,
                    args=(leading,),
                    name="leader-election-leading",
                    daemon=True,
                ).start()
                self._renew(leading)
            finally:
                leading.cancel()
        finally:
            on_stopped = self._config.callbacks.on_stopped_leading
            if on_stopped is not None:
                on_stopped()

    def _run_started_leading(self, leading: _Context) -> None:
        callback = self._config.callbacks.on_started_leading
        if callback is None:
            return
        try:
            callback(leading.event)
        except Exception:
            # A Go panic here kills the process; stepping down is the closest
            # behaviour that keeps the lease from guarding work that has died.
            logger.exception("OnStartedLeading failed; giving up leadership")
            leading.cancel()

    def get_leader(self) -> str:
        """Port of GetLeader (leaderelection.go): the last observed holder ("" if none seen yet)."""
        return self.get_observed_record().holder_identity

    def is_leader(self) -> bool:
        """Port of IsLeader (leaderelection.go): is the last observed holder this candidate?"""
        return self.get_observed_record().holder_identity == self._lock().identity()

    def _acquire(self, ctx: _Context) -> bool:
        """Port of acquire: try every jittered retry period until holding the lock.

        Returns False if the scope ended first.

        Go twin: LeaderElector.acquire (leaderelection.go).
        """
        ctx = ctx.child()
        succeeded = False
        lock = self._lock()
        desc = lock.describe()
        logger.info("Attempting to acquire leader lease %s...", desc)

        def attempt() -> None:
            nonlocal succeeded
            if not self._config.coordinated:
                succeeded = self.try_acquire_or_renew(ctx)
            else:
                succeeded = self.try_coordinated_renew(ctx)
            self.maybe_report_transition()
            if not succeeded:
                logger.debug("Failed to acquire lease %s", desc)
                return
            lock.record_event("became leader")
            self._metrics.leader_on(self._config.name)
            logger.info("Successfully acquired lease %s", desc)
            ctx.cancel()

        try:
            _jitter_until(ctx, attempt, self._config.retry_period, JITTER_FACTOR)
        finally:
            ctx.cancel()
        return succeeded

    def acquire(self, stop: threading.Event) -> bool:
        """Public entry to ``acquire`` for callers holding a stop event."""
        root = _Context(self._clock, source=stop)
        watcher = threading.Thread(target=_watch_stop, args=(stop, root), daemon=True)
        watcher.start()
        try:
            return self._acquire(root)
        finally:
            root.cancel()

    def _renew(self, ctx: _Context) -> None:
        """Port of renew: keep renewing until a renewal misses its deadline or the
        scope ends, then release the lock if configured to.

        Go twin: LeaderElector.renew (leaderelection.go).
        """
        ctx = ctx.child()
        lock = self._lock()
        try:
            lost = False

            def condition(poll_ctx: _Context) -> bool:
                if poll_ctx.done():
                    return False
                if not self._config.coordinated:
                    return self.try_acquire_or_renew(poll_ctx)
                return self.try_coordinated_renew(poll_ctx)

            def attempt() -> None:
                nonlocal lost
                err = _poll_until_context_timeout(
                    ctx,
                    self._clock,
                    self._config.retry_period,
                    self._config.renew_deadline,
                    condition,
                )
                self.maybe_report_transition()
                desc = lock.describe()
                if err is None:
                    logger.debug("Successfully renewed lease %s", desc)
                    return
                self._metrics.leader_off(self._config.name)
                logger.info("Failed to renew lease %s: %s", desc, err)
                lost = err == _DEADLINE_EXCEEDED
                ctx.cancel()

            _until(ctx, attempt, self._config.retry_period)

            # Not after a missed renewal: see the module docstring.
            if self._config.release_on_cancel and not lost:
                self.release()
        finally:
            ctx.cancel()
            lock.record_event("stopped leading")

    def renew(self, stop: threading.Event) -> None:
        """Public entry to ``renew`` for callers holding a stop event."""
        root = _Context(self._clock, source=stop)
        watcher = threading.Thread(target=_watch_stop, args=(stop, root), daemon=True)
        watcher.start()
        try:
            self._renew(root)
        finally:
            root.cancel()

    def release(self) -> bool:
        """Port of release: give up the lock if held, within ``renew_deadline`` (real
        time, as Go's context.WithTimeout).

        Go twin: LeaderElector.release (leaderelection.go).
        """
        renew_deadline = self._config.renew_deadline
        # A config that never went through validation may leave it unset: no bound.
        give_up_at = time.monotonic() + renew_deadline if renew_deadline > 0 else None
        return self._try_release(give_up_at)

    def _try_release(self, give_up_at: float | None) -> bool:
        """Port of tryRelease: clear the holder, retrying on conflicts (for example
        with a renewal still in flight) until the deadline.

        Go twin: LeaderElector.tryRelease (leaderelection.go).
        """
        lock = self._lock()

        def left() -> float | None:
            return None if give_up_at is None else max(0.0, give_up_at - time.monotonic())

        while True:
            try:
                old_record, _ = self._lease_call(None, lock.get, timeout=left())
            except Exception as err:
                if not errors.is_not_found(err):
                    logger.error("error retrieving resource lock %s: %s", lock.describe(), err)
                    return False
                logger.info("lease lock not found: %s", lock.describe())
                return False

            if not self.is_leader():
                return True
            now = self._clock.now()
            record = rl.LeaderElectionRecord(
                leader_transitions=old_record.leader_transitions,
                lease_duration_seconds=1,
                renew_time=now,
                acquire_time=now,
            )
            try:
                self._lease_call(None, lock.update, record, timeout=left())
            except Exception as err:
                remaining = left()
                if errors.is_conflict(err) and (remaining is None or remaining > 0):
                    logger.debug("Conflict when releasing lease %s, retrying", lock.describe())
                    continue
                logger.error("Failed to release lease %s: %s", lock.describe(), err)
                return False

            self.set_observed_record(record)
            return True

    def try_coordinated_renew(self, ctx: _Context | None = None) -> bool:
        """Port of tryCoordinatedRenew (leaderelection.go): renew a lease granted by the coordinated
        election; never creates or takes one."""
        lock = self._lock()
        now = self._clock.now()
        record = rl.LeaderElectionRecord(
            holder_identity=lock.identity(),
            lease_duration_seconds=int(self._config.lease_duration),
            renew_time=now,
            acquire_time=now,
        )

        try:
            old_record, old_raw_record = self._lease_call(ctx, lock.get)
        except Exception as err:
            if not errors.is_not_found(err):
                logger.error("Error retrieving lease lock %s: %s", lock.describe(), err)
                return False
            logger.info("Lease lock not found %s: %s", lock.describe(), err)
            return False

        if self._observed_raw_record != old_raw_record:
            self.set_observed_record(old_record)
            self._observed_raw_record = old_raw_record

        with self._observed_record_lock:
            obs_time = self._observed_time

        has_expired = obs_time + timedelta(seconds=old_record.lease_duration_seconds) < now
        if has_expired:
            logger.info("Lease has expired %s", lock.describe())
            return False

        if not self.is_leader():
            logger.debug(
                "Lease %s is held by %s and has not yet expired",
                lock.describe(),
                old_record.holder_identity,
            )
            return False

        if self.is_leader() and old_record.preferred_holder != "":
            logger.debug("Lease %s is marked as 'end of term'", lock.describe())
            return False

        if self.is_leader():
            record.acquire_time = old_record.acquire_time
            record.leader_transitions = old_record.leader_transitions
            record.strategy = old_record.strategy
            self._metrics.slowpath_exercised(self._config.name)
        else:
            record.leader_transitions = old_record.leader_transitions + 1

        try:
            self._lease_call(ctx, lock.update, record)
        except Exception as err:
            logger.error("Failed to update lock %s: %s", lock.describe(), err)
            return False

        self.set_observed_record(record)
        return True

    def try_acquire_or_renew(self, ctx: _Context | None = None) -> bool:
        """Port of tryAcquireOrRenew: take the lock if free or expired, or renew it
        if held; True on success.

        A leader first tries a blind update of the record it last saw (fast path);
        otherwise the record is read, created when absent, left alone while another
        holder's lease is still valid, and written with the transition count bumped
        when the holder changes.

        Go twin: LeaderElector.tryAcquireOrRenew (leaderelection.go).
        """
        lock = self._lock()
        now = self._clock.now()
        record = rl.LeaderElectionRecord(
            holder_identity=lock.identity(),
            lease_duration_seconds=int(self._config.lease_duration),
            renew_time=now,
            acquire_time=now,
        )

        # 1. fast path
        if self.is_leader() and self.is_lease_valid(now):
            old_observed = self.get_observed_record()
            record.acquire_time = old_observed.acquire_time
            record.leader_transitions = old_observed.leader_transitions
            try:
                self._lease_call(ctx, lock.update, record)
            except Exception as err:
                logger.info(
                    "Failed to update lease %s optimistically, falling back to slow path: %s",
                    lock.describe(),
                    err,
                )
            else:
                self.set_observed_record(record)
                return True

        # 2. obtain or create the record
        try:
            old_record, old_raw_record = self._lease_call(ctx, lock.get)
        except Exception as err:
            if not errors.is_not_found(err):
                logger.error("Error retrieving lease lock %s: %s", lock.describe(), err)
                return False
            try:
                self._lease_call(ctx, lock.create, record)
            except Exception as create_err:
                logger.error(
                    "Error initially creating lease lock %s: %s", lock.describe(), create_err
                )
                return False
            self.set_observed_record(record)
            return True

        # 3. record obtained: check identity and time
        if self._observed_raw_record != old_raw_record:
            self.set_observed_record(old_record)
            self._observed_raw_record = old_raw_record
        if old_record.holder_identity and self.is_lease_valid(now) and not self.is_leader():
            logger.debug(
                "Lease %s is held by %s and has not yet expired",
                lock.describe(),
                old_record.holder_identity,
            )
            return False

        # 4. write our record, keeping acquire time and transitions when renewing
        if self.is_leader():
            record.acquire_time = old_record.acquire_time
            record.leader_transitions = old_record.leader_transitions
            self._metrics.slowpath_exercised(self._config.name)
        else:
            record.leader_transitions = old_record.leader_transitions + 1

        try:
            self._lease_call(ctx, lock.update, record)
        except Exception as err:
            logger.error("Failed to update lease %s: %s", lock.describe(), err)
            return False

        self.set_observed_record(record)
        return True

    def maybe_report_transition(self) -> None:
        """Port of maybeReportTransition: tell ``on_new_leader`` about a new holder.

        Go twin: LeaderElector.maybeReportTransition (leaderelection.go).
        """
        holder = self.get_observed_record().holder_identity
        if holder == self._reported_leader:
            return
        self._reported_leader = holder
        callback = self._config.callbacks.on_new_leader
        if callback is not None:
            threading.Thread(
                target=callback, args=(holder,), name="leader-election-new-leader", daemon=True
            ).start()

    def check(self, max_tolerable_expired_lease: float) -> None:
        """Port of Check: raise if this process leads but has not renewed for longer
        than the lease duration plus ``max_tolerable_expired_lease``.

        Go twin: LeaderElector.Check (leaderelection.go).
        """
        if not self.is_leader():
            return
        with self._observed_record_lock:
            last_observation = self._observed_time
            lease_duration = self._config.lease_duration
        if self._clock.since(last_observation) > lease_duration + max_tolerable_expired_lease:
            raise LeaseRenewalError(
                f"failed election to renew leadership on lease {self._config.name}"
            )

    def is_lease_valid(self, now: datetime) -> bool:
        """Port of isLeaseValid: has the observed lease not yet run out at ``now``?

        Go twin: LeaderElector.isLeaseValid (leaderelection.go).
        """
        with self._observed_record_lock:
            expires = self._observed_time + timedelta(
                seconds=self._observed_record.lease_duration_seconds
            )
            return expires > now

    def set_observed_record(self, observed_record: rl.LeaderElectionRecord) -> None:
        """Port of setObservedRecord: store a copy and stamp the observation time.

        Go twin: LeaderElector.setObservedRecord (leaderelection.go).
        """
        with self._observed_record_lock:
            self._observed_record = dataclasses.replace(observed_record)
            self._observed_time = self._clock.now()

    def get_observed_record(self) -> rl.LeaderElectionRecord:
        """Port of getObservedRecord (leaderelection.go): a copy of the last observed record."""
        with self._observed_record_lock:
            return dataclasses.replace(self._observed_record)


class LeaseRenewalError(Exception):
    """Raised by ``LeaderElector.check`` when the held lease went unrenewed too long."""


def run_or_die(stop: threading.Event, lec: LeaderElectionConfig) -> None:
    """Port of RunOrDie: validate (raising ValueError), hook the watchdog, run.

    Go twin: RunOrDie (leaderelection.go).
    """
    le = new_leader_elector(lec)
    if lec.watch_dog is not None:
        lec.watch_dog.set_leader_election(le)
    le.run(stop)


def _watch_stop(stop: threading.Event, root: _Context) -> None:
    """Cancel ``root`` once ``stop`` is set; exit when ``root`` ends another way."""
    while not root.event.is_set():
        if stop.wait(_STOP_POLL_SECONDS):
            root.cancel()
            return
