"""Port of client-go util/workqueue/queue.go: the basic work queue.

The queue hands each item to one worker at a time: an item added again while it is
being processed is only marked dirty, and goes back on the queue when the worker calls
``done``. Adding an item that is already waiting is a no-op. Items must be hashable.

Python notes: the queue is a plain class guarded by one ``threading.Lock`` shared with a
``threading.Condition``; the hot path takes the lock directly and only signals the
condition when a thread is actually waiting on it. The unfinished-work gauge is updated
by a daemon thread that ticks on the injected clock, and only for queues with metrics.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from jobctl.k8s_libs.clock import Clock, RealClock
from jobctl.workqueue.metrics import (
    MetricsProvider,
    QueueMetrics,
    _new_queue_metrics,
    global_metrics_provider,
)

T = TypeVar("T", bound=Hashable)


class TypedInterface(Protocol[T]):
    """Port of TypedInterface: what every work queue offers its producers and workers."""

    def add(self, item: T) -> None: ...

    def len(self) -> int: ...

    def get(self) -> tuple[T, bool]: ...

    def done(self, item: T) -> None: ...

    def shut_down(self) -> None: ...

    def shut_down_with_drain(self) -> None: ...

    def shutting_down(self) -> bool: ...


# Port of Interface (the untyped alias of TypedInterface).
Interface = TypedInterface[Any]


class QueueStorage(Protocol[T]):
    """Port of the Queue[T] storage interface: the order in which waiting items leave.

    Named ``QueueStorage`` here because ``Queue`` is the work queue itself in jobctl.
    The queue calls these methods with its lock held.
    """

    def touch(self, item: T) -> None: ...

    def push(self, item: T) -> None: ...

    def len(self) -> int: ...

    def pop(self) -> T: ...


class DefaultQueue(Generic[T]):
    """Port of the slice-backed ``queue`` type: a FIFO over ``collections.deque``."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: deque[T] = deque()

    def touch(self, item: T) -> None:
        """Port of queue.Touch (queue.go): FIFO order ignores re-adds."""

    def push(self, item: T) -> None:
        """Port of queue.Push (queue.go): append at the tail."""
        self.items.append(item)

    def len(self) -> int:
        """Port of queue.Len (queue.go)."""
        return len(self.items)

    def pop(self) -> T:
        """Port of queue.Pop (queue.go): take from the head."""
        return self.items.popleft()


def default_queue() -> DefaultQueue[T]:
    """Port of DefaultQueue (queue.go): a new FIFO storage."""
    return DefaultQueue()


@dataclass
class TypedQueueConfig(Generic[T]):
    """Port of TypedQueueConfig: optional knobs for a new queue.

    An empty ``name`` means no metrics. ``metrics_provider`` None means the global one;
    ``clock`` None means the real clock; ``queue`` None means a FIFO.
    """

    name: str = ""
    metrics_provider: MetricsProvider | None = None
    clock: Clock | None = None
    queue: QueueStorage[T] | None = None


# Port of QueueConfig (the untyped alias of TypedQueueConfig).
QueueConfig = TypedQueueConfig


def new() -> Typed[Any]:
    """Port of New (queue.go): an unnamed queue without metrics."""
    return new_with_config(QueueConfig(name=""))


def new_typed() -> Typed[T]:
    """Port of NewTyped (queue.go): an unnamed queue without metrics."""
    return new_typed_with_config(TypedQueueConfig(name=""))


def new_with_config(config: QueueConfig[Any]) -> Typed[Any]:
    """Port of NewWithConfig (queue.go)."""
    return new_typed_with_config(config)


def new_typed_with_config(config: TypedQueueConfig[T]) -> Typed[T]:
    """Port of NewTypedWithConfig (queue.go): a queue built from ``config``."""
    return _new_queue_with_config(config, DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD)


def new_named(name: str) -> Typed[Any]:
    """Port of NewNamed (queue.go): a queue reporting metrics under ``name``."""
    return new_with_config(QueueConfig(name=name))


def _new_queue_with_config(config: TypedQueueConfig[T], update_period: float) -> Typed[T]:
    """Port of newQueueWithConfig (queue.go): fill in the config defaults, then build the queue."""
    metrics_provider = global_metrics_provider()
    if config.metrics_provider is not None:
        metrics_provider = config.metrics_provider
    clock: Clock = config.clock if config.clock is not None else RealClock()
    queue: QueueStorage[T] = config.queue if config.queue is not None else DefaultQueue()
    return _new_queue(
        clock,
        queue,
        _new_queue_metrics(metrics_provider, config.name, clock),
        update_period,
    )


def _new_queue(
    clock: Clock,
    queue: QueueStorage[T],
    metrics: QueueMetrics[T] | None,
    update_period: float,
) -> Typed[T]:
    """Port of newQueue (queue.go); ``metrics`` None is noMetrics and starts no updater thread."""
    return Typed(clock, queue, metrics, update_period)


DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD = 0.5


class Typed(Generic[T]):
    """Port of Typed: the work queue (see the module docstring).

    Invariants, all under ``_lock``: every item in the storage is in ``_dirty`` and not
    in ``_processing``; ``_dirty`` holds every item that needs processing; an item in
    ``_processing`` is with a worker and may also be in ``_dirty``, in which case ``done``
    puts it back in the storage.
    """

    __slots__ = (
        "__weakref__",
        "_clock",
        "_cond",
        "_dirty",
        "_drain",
        "_fifo",
        "_lock",
        "_metrics",
        "_processing",
        "_queue",
        "_shutting_down",
        "_stop_cond",
        "_stopped",
        "_unfinished_work_update_period",
        "_updater",
        "_waiters",
    )

    def __init__(
        self,
        clock: Clock,
        queue: QueueStorage[T],
        metrics: QueueMetrics[T] | None,
        update_period: float,
    ) -> None:
        self._queue = queue
        # With the default storage the hot path works on its deque directly.
        self._fifo: deque[T] | None = None
        if isinstance(queue, DefaultQueue) and queue.__class__ is DefaultQueue:
            self._fifo = queue.items
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        # Threads blocked in _cond.wait(); signalling is skipped when there are none.
        self._waiters = 0
        self._shutting_down = False
        self._drain = False
        self._metrics = metrics
        self._unfinished_work_update_period = update_period
        self._clock = clock
        # Stop signal for the updater thread (Go's stopCh), with its own condition so
        # that it never competes with workers for a signal on _cond.
        self._stop_cond = threading.Condition(threading.Lock())
        self._stopped = False
        self._updater: threading.Thread | None = None
        if metrics is not None:
            self._updater = threading.Thread(
                target=self._update_unfinished_work_loop,
                name="workqueue-unfinished-work",
                daemon=True,
            )
            self._updater.start()

    def add(self, item: T) -> None:
        """Port of Typed.Add: mark ``item`` as needing processing; ignored after shutdown.

        Go twin: Typed.Add (queue.go).
        """
        with self._lock:
            if self._shutting_down:
                return
            dirty = self._dirty
            if item in dirty:
                # Already waiting: let storage that orders items react to the re-add.
                if item not in self._processing:
                    self._queue.touch(item)
                return
            metrics = self._metrics
            if metrics is not None:
                metrics.add(item)
            dirty.add(item)
            if item in self._processing:
                return
            fifo = self._fifo
            if fifo is not None:
                fifo.append(item)
            else:
                self._queue.push(item)
            if self._waiters:
                self._cond.notify()

    def len(self) -> int:
        """Port of Typed.Len (queue.go): how many items wait (informational only)."""
        with self._lock:
            fifo = self._fifo
            return len(fifo) if fifo is not None else self._queue.len()

    def __len__(self) -> int:
        """Same as ``len()``."""
        return self.len()

    def get(self) -> tuple[T, bool]:
        """Port of Typed.Get (queue.go): block until an item is ready or the queue shuts down.

        Returns ``(item, False)``; the caller must call ``done(item)`` when finished.
        Returns ``(None, True)`` once the queue is shut down and empty: the worker
        should exit.
        """
        with self._lock:
            fifo = self._fifo
            if fifo is not None:
                while not fifo and not self._shutting_down:
                    self._waiters += 1
                    try:
                        self._cond.wait()
                    finally:
                        self._waiters -= 1
                if not fifo:
                    return cast(T, None), True
                item = fifo.popleft()
            else:
                queue = self._queue
                while queue.len() == 0 and not self._shutting_down:
                    self._waiters += 1
                    try:
                        self._cond.wait()
                    finally:
                        self._waiters -= 1
                if queue.len() == 0:
                    return cast(T, None), True
                item = queue.pop()
            metrics = self._metrics
            if metrics is not None:
                metrics.get(item)
            self._processing.add(item)
            self._dirty.discard(item)
            return item, False

    def done(self, item: T) -> None:
        """Port of Typed.Done: finish ``item``; requeue it if it was re-added meanwhile.

        Go twin: Typed.Done (queue.go).
        """
        with self._lock:
            metrics = self._metrics
            if metrics is not None:
                metrics.done(item)
            processing = self._processing
            processing.discard(item)
            if item in self._dirty:
                fifo = self._fifo
                if fifo is not None:
                    fifo.append(item)
                else:
                    self._queue.push(item)
                if self._waiters:
                    self._cond.notify()
            elif not processing and self._waiters:
                self._cond.notify()

    def _stop_updater(self) -> None:
        """Close the updater's stop signal once (Go's stopOnce + close(stopCh))."""
        with self._stop_cond:
            self._stopped = True
            self._stop_cond.notify_all()

    def _wait_updater(self) -> None:
        """Wait for the updater thread to exit (Go's wg.Wait)."""
        updater = self._updater
        if updater is not None and updater is not threading.current_thread():
            updater.join()

    def shut_down(self) -> None:
        """Port of Typed.ShutDown: refuse new items; workers drain the queue, then exit.

        Go twin: Typed.ShutDown (queue.go).
        """
        self._stop_updater()
        with self._lock:
            self._drain = False
            self._shutting_down = True
            self._cond.notify_all()
        self._wait_updater()

    def shut_down_with_drain(self) -> None:
        """Port of Typed.ShutDownWithDrain: like shut_down, then wait for in-flight items.

        Blocks until every item handed out has been marked done, or until ``shut_down``
        is called from elsewhere.

        Go twin: Typed.ShutDownWithDrain (queue.go).
        """
        self._stop_updater()
        with self._lock:
            self._drain = True
            self._shutting_down = True
            self._cond.notify_all()
            while self._processing and self._drain:
                self._waiters += 1
                try:
                    self._cond.wait()
                finally:
                    self._waiters -= 1
        self._wait_updater()

    def shutting_down(self) -> bool:
        """Port of Typed.ShuttingDown (queue.go)."""
        with self._lock:
            return self._shutting_down

    def _update_unfinished_work(self) -> None:
        """Port of Typed.updateUnfinishedWork (queue.go): refresh the in-flight gauges."""
        with self._lock:
            if not self._shutting_down and self._metrics is not None:
                self._metrics.update_unfinished_work()

    def _update_unfinished_work_loop(self) -> None:
        """Port of Typed.updateUnfinishedWorkLoop (queue.go): tick on the clock until stopped.

        Ticks follow the clock like a Go ticker: one update per wake-up at or past the
        next tick, and ticks missed while busy are dropped.
        """
        clock = self._clock
        period = timedelta(seconds=self._unfinished_work_update_period)
        next_tick = clock.now() + period
        cond = self._stop_cond
        while True:
            with cond:
                if self._stopped:
                    return
                remaining = (next_tick - clock.now()).total_seconds()
                if remaining > 0:
                    clock.wait_on(cond, remaining)
                    continue
            self._update_unfinished_work()
            now = clock.now()
            while next_tick <= now:
                next_tick += period


# Port of Type (the untyped alias of Typed); ``Queue`` is the name jobctl code uses.
Type = Typed
Queue = Typed
