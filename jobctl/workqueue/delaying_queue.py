"""Port of client-go util/workqueue/delaying_queue.go: a queue that can add items later.

``add_after`` hands the item and its ready time to a waiting-loop thread (Go feeds a
buffered channel; here it is a deque guarded by a condition). The loop keeps a heap of
pending items keyed by ready time, adds those that are due to the underlying queue, and
sleeps on the injected clock until the earliest ready time, a new hand-off, or the
10 second heartbeat. An item handed off again with an earlier time moves earlier; a later
time is ignored.

Durations are float seconds. Go's ``time.Duration`` is an int64 count of nanoseconds, so
no delay is longer than about 292 years; ``add_after`` saturates longer (or infinite)
delays to that maximum instead of failing, and a ready time past the last instant a
``datetime`` can hold saturates to that instant. The waiting loop logs and carries on
after an unexpected exception: a dead loop would silently stop every delayed add.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from jobctl.k8s_libs.clock import Clock, RealClock
from jobctl.workqueue.metrics import MetricsProvider, RetryMetrics, _new_retry_metrics
from jobctl.workqueue.queue import (
    Interface,
    TypedInterface,
    TypedQueueConfig,
    new_typed_with_config,
)

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)


class TypedDelayingInterface(TypedInterface[T], Protocol[T]):
    """Port of TypedDelayingInterface: a work queue that can also add after a delay."""

    def add_after(self, item: T, duration: float) -> None: ...


# Port of DelayingInterface (the untyped alias of TypedDelayingInterface).
DelayingInterface = TypedDelayingInterface[Any]


@dataclass
class TypedDelayingQueueConfig(Generic[T]):
    """Port of TypedDelayingQueueConfig (the logger field is dropped: we log via logging).

    An empty ``name`` means no metrics; ``clock`` None means the real clock; ``queue``
    None means a new queue with the same name, provider and clock.
    """

    name: str = ""
    metrics_provider: MetricsProvider | None = None
    clock: Clock | None = None
    queue: TypedInterface[T] | None = None


# Port of DelayingQueueConfig (the untyped alias of TypedDelayingQueueConfig).
DelayingQueueConfig = TypedDelayingQueueConfig


def new_delaying_queue() -> DelayingType[Any]:
    """Port of NewDelayingQueue (delaying_queue.go): an unnamed delaying queue without metrics."""
    return new_delaying_queue_with_config(DelayingQueueConfig())


def new_typed_delaying_queue() -> DelayingType[T]:
    """Port of NewTypedDelayingQueue: an unnamed delaying queue without metrics.

    Go twin: NewTypedDelayingQueue (delaying_queue.go).
    """
    return new_typed_delaying_queue_with_config(TypedDelayingQueueConfig())


def new_delaying_queue_with_config(config: DelayingQueueConfig[Any]) -> DelayingType[Any]:
    """Port of NewDelayingQueueWithConfig (delaying_queue.go)."""
    return new_typed_delaying_queue_with_config(config)


def typed_new_delaying_queue() -> DelayingType[T]:
    """Port of TypedNewDelayingQueue (kept for parity; same as new_typed_delaying_queue).

    Go twin: TypedNewDelayingQueue (delaying_queue.go).
    """
    return new_typed_delaying_queue()


def new_typed_delaying_queue_with_config(config: TypedDelayingQueueConfig[T]) -> DelayingType[T]:
    """Port of NewTypedDelayingQueueWithConfig: fill defaults, start the waiting loop.

    Go twin: NewTypedDelayingQueueWithConfig (delaying_queue.go).
    """
    clock: Clock = config.clock if config.clock is not None else RealClock()
    queue = config.queue
    if queue is None:
        queue = new_typed_with_config(
            TypedQueueConfig(
                name=config.name,
                metrics_provider=config.metrics_provider,
                clock=clock,
            )
        )
    return _new_delaying_queue(clock, queue, config.name, config.metrics_provider)


def new_delaying_queue_with_custom_queue(q: Interface, name: str) -> DelayingType[Any]:
    """Port of NewDelayingQueueWithCustomQueue (delaying_queue.go)."""
    return new_delaying_queue_with_config(DelayingQueueConfig(name=name, queue=q))


def new_named_delaying_queue(name: str) -> DelayingType[Any]:
    """Port of NewNamedDelayingQueue (delaying_queue.go)."""
    return new_delaying_queue_with_config(DelayingQueueConfig(name=name))


def new_delaying_queue_with_custom_clock(clock: Clock, name: str) -> DelayingType[Any]:
    """Port of NewDelayingQueueWithCustomClock (delaying_queue.go)."""
    return new_delaying_queue_with_config(DelayingQueueConfig(name=name, clock=clock))


def _new_delaying_queue(
    clock: Clock,
    q: TypedInterface[T],
    name: str,
    provider: MetricsProvider | None,
) -> DelayingType[T]:
    """Port of newDelayingQueue (delaying_queue.go): wrap ``q`` and start its waiting loop."""
    ret = DelayingType(q, clock, _new_retry_metrics(name, provider))
    ret._start()
    return ret


class DelayingType(Generic[T]):
    """Port of delayingType: wraps a work queue and re-adds items after a delay.

    The wrapped queue's methods are exposed directly (Go's interface embedding), so
    ``add``/``get``/``done``/``len``/``shutting_down`` cost no extra call.
    """

    add: Callable[[T], None]
    len: Callable[[], int]
    get: Callable[[], tuple[T, bool]]
    done: Callable[[T], None]
    shutting_down: Callable[[], bool]

    def __init__(
        self,
        queue: TypedInterface[T],
        clock: Clock,
        metrics: RetryMetrics | None,
    ) -> None:
        self._queue = queue
        self.add = queue.add
        self.len = queue.len
        self.get = queue.get
        self.done = queue.done
        self.shutting_down = queue.shutting_down
        self._clock = clock
        # Guards the hand-off deque and the loop's stop/idle state.
        self._cond = threading.Condition(threading.Lock())
        # Go's waitingForAddCh: entries handed off to the waiting loop, oldest first.
        self._waiting_for_add: deque[WaitFor[T]] = deque()
        self._stopped = False
        self._stop_once = False
        # True while the loop is blocked in clock.wait_on with nothing handed off.
        self._loop_waiting = False
        # How many times the loop has gone to wait; tests use it as a sync point.
        self._loop_waits = 0
        # While the loop waits: the time it will wake by itself (head due or heartbeat).
        self._loop_deadline: datetime | None = None
        # The loop's pending entries (Go: waitingLoop's locals). Only the loop thread touches
        # them, except that ``add_after`` may insert under ``_cond`` while the loop waits.
        self._waiting_for_queue: WaitForPriorityQueue[T] = WaitForPriorityQueue()
        self._waiting_entry_by_data: dict[T, WaitFor[T]] = {}
        self._metrics = metrics
        self._loop: threading.Thread | None = None

    def _start(self) -> None:
        """Start the waiting loop thread (Go's ``go ret.waitingLoop()``)."""
        self._loop = threading.Thread(
            target=self._waiting_loop, name="workqueue-delaying", daemon=True
        )
        self._loop.start()

    def __len__(self) -> int:
        """Same as ``len()``."""
        return self._queue.len()

    def _stop_loop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def shut_down(self) -> None:
        """Port of delayingType.ShutDown: shut the queue down and stop the waiting loop.

        Go twin: delayingType.ShutDown (delaying_queue.go).
        """
        with self._cond:
            if self._stop_once:
                return
            self._stop_once = True
        self._queue.shut_down()
        self._stop_loop()

    def shut_down_with_drain(self) -> None:
        """The wrapped queue's ShutDownWithDrain (Go promotes it unchanged).

        Afterwards the waiting loop is woken so that it sees the shutdown and exits now
        rather than at its next heartbeat; nothing it could add would be accepted.
        """
        self._queue.shut_down_with_drain()
        with self._cond:
            self._cond.notify_all()

    def add_after(self, item: T, duration: float) -> None:
        """Port of delayingType.AddAfter: add ``item`` once ``duration`` seconds have passed.

        Go twin: delayingType.AddAfter (delaying_queue.go).
        """
        if self._queue.shutting_down():
            return
        metrics = self._metrics
        if metrics is not None:
            metrics.retry()
        if duration <= 0:
            self._queue.add(item)
            return
        entry = WaitFor(item, ready_time(self._clock.now(), duration))
        with self._cond:
            if self._stopped:
                return
            deadline = self._loop_deadline
            if self._loop_waiting and deadline is not None and entry.ready_at >= deadline:
                # Not due before the loop wakes anyway: do the loop's insert here instead
                # of waking it (the same outcome as Go's hand-off, without a thread switch).
                _insert(self._waiting_for_queue, self._waiting_entry_by_data, entry)
                return
            self._waiting_for_add.append(entry)
            if self._loop_waiting:
                self._loop_waiting = False
                self._cond.notify_all()

    def _waiting_loop(self) -> None:
        """Port of delayingType.waitingLoop: move due items into the queue until shutdown.

        Go twin: delayingType.waitingLoop (delaying_queue.go).

        The pending entries live outside ``_run_waiting_loop`` so that, after an
        unexpected exception (logged), the loop resumes with nothing lost but the entry
        being handled when it was raised.
        """
        waiting_for_queue = self._waiting_for_queue
        waiting_entry_by_data = self._waiting_entry_by_data
        while True:
            try:
                self._run_waiting_loop(waiting_for_queue, waiting_entry_by_data)
                return
            except Exception:
                logger.exception("workqueue waiting loop failed; continuing")

    def _run_waiting_loop(
        self,
        waiting_for_queue: WaitForPriorityQueue[T],
        waiting_entry_by_data: dict[T, WaitFor[T]],
    ) -> None:
        clock = self._clock
        cond = self._cond
        handed_off = self._waiting_for_add
        queue = self._queue
        heartbeat = timedelta(seconds=MAX_WAIT)
        next_heartbeat = clock.now() + heartbeat

        while True:
            if queue.shutting_down():
                return

            now = clock.now()

            # Add the entries that are due.
            while waiting_for_queue.len() > 0:
                entry = waiting_for_queue.peek()
                if entry.ready_at > now:
                    break
                waiting_for_queue.pop()
                del waiting_entry_by_data[entry.data]
                queue.add(entry.data)

            with cond:
                if self._stopped:
                    return
                if not handed_off:
                    # Sleep until the head is due, the heartbeat, or a hand-off.
                    timeout = (next_heartbeat - now).total_seconds()
                    if waiting_for_queue.len() > 0:
                        head_wait = (waiting_for_queue.peek().ready_at - now).total_seconds()
                        timeout = min(timeout, head_wait)
                    self._loop_waiting = True
                    self._loop_deadline = now + timedelta(seconds=max(timeout, 0.0))
                    self._loop_waits += 1
                    cond.notify_all()
                    clock.wait_on(cond, timeout)
                    self._loop_waiting = False
                    self._loop_deadline = None
                    if self._stopped:
                        return
                entries = list(handed_off)
                handed_off.clear()

            now = clock.now()
            if next_heartbeat <= now:
                # A ticker drops the ticks it missed; skip them without looping over them.
                missed = (now - next_heartbeat) // heartbeat + 1
                next_heartbeat += heartbeat * missed

            for entry in entries:
                try:
                    if entry.ready_at > now:
                        _insert(waiting_for_queue, waiting_entry_by_data, entry)
                    else:
                        queue.add(entry.data)
                except Exception:
                    logger.exception("workqueue waiting loop dropped an item; continuing")


class WaitFor(Generic[T]):
    """Port of waitFor: an item and the time it should be added."""

    __slots__ = ("data", "index", "ready_at")

    def __init__(self, data: T, ready_at: datetime) -> None:
        self.data = data
        self.ready_at = ready_at
        # -1 once popped from the priority queue (as in Go).
        self.index = 0


class WaitForPriorityQueue(Generic[T]):
    """Port of waitForPriorityQueue: entries ordered by ready time, earliest first.

    Built on ``heapq``. Go re-sorts an entry in place (heap.Fix) when its time moves
    earlier; here ``fix`` pushes a fresh heap record. Times only ever move earlier, so the
    outdated, later record reaches the top only after the entry itself was popped, and
    is dropped then.
    """

    __slots__ = ("_count", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, WaitFor[T]]] = []
        self._seq = itertools.count()
        self._count = 0

    def len(self) -> int:
        """Port of waitForPriorityQueue.Len (delaying_queue.go): live entries."""
        return self._count

    def push(self, entry: WaitFor[T]) -> None:
        """Port of waitForPriorityQueue.Push (delaying_queue.go) (via heap.Push)."""
        entry.index = 0
        heapq.heappush(self._heap, (entry.ready_at, next(self._seq), entry))
        self._count += 1

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap and heap[0][2].index == -1:
            heapq.heappop(heap)

    def pop(self) -> WaitFor[T]:
        """Port of waitForPriorityQueue.Pop (via heap.Pop): remove the earliest entry.

        Go twin: waitForPriorityQueue.Pop (delaying_queue.go).
        """
        self._drop_stale()
        _, _, entry = heapq.heappop(self._heap)
        entry.index = -1
        self._count -= 1
        return entry

    def peek(self) -> WaitFor[T]:
        """Port of waitForPriorityQueue.Peek: the earliest entry, left in place.

        Go twin: waitForPriorityQueue.Peek (delaying_queue.go).
        """
        self._drop_stale()
        return self._heap[0][2]

    def fix(self, entry: WaitFor[T]) -> None:
        """Port of heap.Fix for an entry whose ready time moved earlier."""
        heapq.heappush(self._heap, (entry.ready_at, next(self._seq), entry))


# Upper bound on how long the waiting loop sleeps, as insurance against missed wake-ups.
MAX_WAIT = 10.0

# The longest delay Go's time.Duration can express (math.MaxInt64 nanoseconds), in seconds.
MAX_DURATION = (2**63 - 1) / 1e9
_MAX_TIME = datetime.max.replace(tzinfo=UTC)


def saturated_duration(duration: float) -> float:
    """``duration`` clamped to Go's time.Duration range (longer or infinite: the maximum)."""
    if duration >= MAX_DURATION or duration != duration:
        # NaN cannot come from Go; treat it as "never" rather than "now".
        return MAX_DURATION
    return duration


def ready_time(now: datetime, duration: float) -> datetime:
    """``now`` plus ``duration`` seconds, saturated like Go's time arithmetic."""
    delay = saturated_duration(duration)
    try:
        return now + timedelta(seconds=delay)
    except OverflowError:
        # Past year 9999: no clock reaches it, as no Go clock reaches year 292277026596.
        return _MAX_TIME if now.tzinfo is not None else datetime.max


def _insert(
    q: WaitForPriorityQueue[T],
    known_entries: dict[T, WaitFor[T]],
    entry: WaitFor[T],
) -> None:
    """Port of insert: queue ``entry``, or move a known entry for the same data earlier.

    Go twin: insert (delaying_queue.go).
    """
    existing = known_entries.get(entry.data)
    if existing is not None:
        if existing.ready_at > entry.ready_at:
            existing.ready_at = entry.ready_at
            q.fix(existing)
        return
    q.push(entry)
    known_entries[entry.data] = entry
