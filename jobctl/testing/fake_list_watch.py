"""Fake watches and list-watch sources for informer tests and benchmarks.

- ``FakeWatcher``: port of apimachinery watch.FakeWatcher / RaceFreeFakeWatcher. Events
  pushed with ``add``/``modify``/``delete``/``error``/``action`` are delivered in order to
  whoever iterates the watch; ``stop`` ends the iteration once the events queued before it
  have been delivered (like a closed buffered Go channel). The buffer is unbounded.
- ``FakeControllerSource``: port of client-go tools/cache/testing FakeControllerSource, an
  in-memory object source that numbers every change with a resource version and
  broadcasts it to the open watches. Unlike the Go fake, a watch from the version just
  before the oldest recorded change replays every change instead of failing as expired.
- ``ScriptedListWatch``: a ListerWatcher whose list results (or errors) and watch streams
  (or errors) are queued by the test, recording the options of every call. It plays the
  role of the ad-hoc ``testLW`` fakes of reflector_test.go, which upstream wraps with
  ``toListWatcherWithUnSupportedWatchListSemantics`` where a test expects LIST + WATCH:
  it declares watch-list unsupported unless built with ``watch_list_supported=True``.
- ``ClockStepper``: advances a ``FakeClock`` whenever some thread waits on it (the Go
  tests' stepping goroutines), and ``wait_until``, a bounded wait for a condition.

All waiting helpers are bounded real-time synchronisation points, never sleeps.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes.client import V1ObjectMeta

from jobctl.client.errors import new_resource_expired
from jobctl.client.interface import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    MODIFIED,
    ListOptions,
    ObjectList,
    WatchEvent,
    WatchInterface,
)
from jobctl.k8s_libs.clock import FakeClock


class FakeWatcher:
    """Port of watch.FakeWatcher / RaceFreeFakeWatcher: a watch fed by the test."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._events: deque[WatchEvent | BaseException] = deque()
        self._stopped = False
        self.stop_calls = 0

    def stop(self) -> None:
        """Port of FakeWatcher.Stop: end the stream after what is already queued."""
        with self._cond:
            self.stop_calls += 1
            self._stopped = True
            self._cond.notify_all()

    def is_stopped(self) -> bool:
        """Port of FakeWatcher.IsStopped."""
        with self._cond:
            return self._stopped

    def reset(self) -> None:
        """Port of FakeWatcher.Reset: reopen the stream."""
        with self._cond:
            self._stopped = False
            self._events.clear()

    def __iter__(self) -> Iterator[WatchEvent]:
        """Port of ResultChan: yield events until stopped and drained.

        A queued exception (see ``fail``) is raised instead, ending the iteration.
        """
        while True:
            with self._cond:
                while not self._events and not self._stopped:
                    self._cond.wait()
                if self._events:
                    event = self._events.popleft()
                    if not self._events:
                        self._cond.notify_all()
                else:
                    return
            if isinstance(event, BaseException):
                raise event
            yield event

    def fail(self, err: BaseException) -> None:
        """Not in Go: after the events queued so far, the stream raises ``err`` (a read or
        decode failure of a real watch stream)."""
        with self._cond:
            if self._stopped:
                return
            self._events.append(err)
            self._cond.notify_all()

    def add(self, obj: Any) -> None:
        """Port of FakeWatcher.Add: send an ADDED event."""
        self.action(ADDED, obj)

    def modify(self, obj: Any) -> None:
        """Port of FakeWatcher.Modify: send a MODIFIED event."""
        self.action(MODIFIED, obj)

    def delete(self, last_value: Any) -> None:
        """Port of FakeWatcher.Delete: send a DELETED event."""
        self.action(DELETED, last_value)

    def error(self, err_value: Any) -> None:
        """Port of FakeWatcher.Error: send an ERROR event (a V1Status or status dict)."""
        self.action(ERROR, err_value)

    def bookmark(self, obj: Any) -> None:
        """Send a BOOKMARK event."""
        self.action(BOOKMARK, obj)

    def action(self, action: str, obj: Any) -> None:
        """Port of FakeWatcher.Action: send any event; dropped once stopped."""
        self.send(WatchEvent(action, obj))

    def send(self, event: WatchEvent) -> None:
        """Queue one event (dropped once stopped, like RaceFreeFakeWatcher)."""
        with self._cond:
            if self._stopped:
                return
            self._events.append(event)
            self._cond.notify_all()

    def send_many(self, events: list[WatchEvent]) -> None:
        """Queue several events at once (one lock round trip; used by benchmarks)."""
        with self._cond:
            if self._stopped:
                return
            self._events.extend(events)
            self._cond.notify_all()

    def pending(self) -> int:
        """How many queued events the consumer has not taken yet."""
        with self._cond:
            return len(self._events)

    def wait_until_drained(self, timeout: float = 5.0) -> bool:
        """Block (bounded, real time) until the consumer has taken every queued event."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._events:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


def _key(obj: Any) -> tuple[str, str, str]:
    meta = obj.metadata
    return (meta.namespace or "", meta.name or "", meta.uid or "")


class FakeControllerSource:
    """Port of FakeControllerSource (tools/cache/testing): an in-memory ListerWatcher.

    Every change gets the next integer resource version (written into the object) and is
    broadcast to the open watches. ``list_error``, when set, is raised by ``list``.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.items: dict[tuple[str, str, str], Any] = {}
        # One change per resource version, in order, since the last reset_watch.
        self._changes: list[WatchEvent] = []
        self._watchers: list[FakeWatcher] = []
        self._last_rv = 0
        self._shut_down = False
        self.list_error: BaseException | None = None
        self._rng = random.Random()

    def reset_watch(self) -> None:
        """Port of ResetWatch: close every open watch and forget the change history."""
        with self._lock:
            for w in self._watchers:
                w.stop()
            self._watchers = []
            self._changes = []

    def add(self, obj: Any) -> None:
        """Port of Add."""
        self.change(WatchEvent(ADDED, obj), 1.0)

    def modify(self, obj: Any) -> None:
        """Port of Modify."""
        self.change(WatchEvent(MODIFIED, obj), 1.0)

    def delete(self, last_value: Any) -> None:
        """Port of Delete."""
        self.change(WatchEvent(DELETED, last_value), 1.0)

    def add_drop_watch(self, obj: Any) -> None:
        """Port of AddDropWatch: change the state without telling the watches."""
        self.change(WatchEvent(ADDED, obj), 0.0)

    def modify_drop_watch(self, obj: Any) -> None:
        """Port of ModifyDropWatch."""
        self.change(WatchEvent(MODIFIED, obj), 0.0)

    def delete_drop_watch(self, last_value: Any) -> None:
        """Port of DeleteDropWatch."""
        self.change(WatchEvent(DELETED, last_value), 0.0)

    def change(self, e: WatchEvent, watch_probability: float) -> None:
        """Port of Change: stamp the next resource version, record, maybe broadcast."""
        with self._lock:
            if e.object.metadata is None:
                e.object.metadata = V1ObjectMeta()
            self._last_rv += 1
            e.object.metadata.resource_version = str(self._last_rv)
            self._changes.append(e)
            key = _key(e.object)
            if e.type in (ADDED, MODIFIED):
                self.items[key] = e.object
            elif e.type == DELETED:
                self.items.pop(key, None)
            if self._rng.random() < watch_probability:
                for w in self._watchers:
                    w.send(WatchEvent(e.type, e.object))

    def list(self, options: ListOptions) -> ObjectList[Any]:
        """Port of List: deep copies of every object at the latest resource version."""
        with self._lock:
            if self.list_error is not None:
                raise self.list_error
            items = [obj.model_copy(deep=True) for obj in self.items.values()]
            return ObjectList(items=items, resource_version=str(self._last_rv))

    def watch(self, options: ListOptions) -> WatchInterface:
        """Port of Watch: replay the changes after the requested version, then go live."""
        with self._lock:
            try:
                rc = int(options.resource_version)
            except ValueError as e:
                raise ValueError(f"invalid resource version {options.resource_version!r}") from e
            w = FakeWatcher()
            if rc < self._last_rv:
                if not self._changes:
                    raise new_resource_expired(f"too old resource version: {rc} ({self._last_rv})")
                oldest_rc = int(self._changes[0].object.metadata.resource_version)
                # Go refuses rc == oldest_rc - 1 too, although every change after it is
                # still known; replaying them spares tests a racy relist.
                if rc < oldest_rc - 1:
                    raise new_resource_expired(f"too old resource version: {rc} ({oldest_rc})")
                for c in self._changes[rc - oldest_rc + 1 :]:
                    w.send(WatchEvent(c.type, c.object.model_copy(deep=True)))
            elif rc > self._last_rv:
                raise ValueError("resource version in the future not supported by this fake")
            if self._shut_down:
                w.stop()
            else:
                self._watchers.append(w)
            return w

    def shutdown(self) -> None:
        """Port of Shutdown: close every watch; later watches end at once."""
        with self._lock:
            self._shut_down = True
            for w in self._watchers:
                w.stop()
            self._watchers = []


class ScriptedListWatch:
    """A ListerWatcher answering from queues the test fills.

    ``list`` pops the next queued ``ObjectList`` or raises the next queued exception; once
    the queue is empty it repeats the last answer (an empty list if none was queued).
    ``watch`` pops the next queued ``FakeWatcher`` or exception; once empty it opens a new
    idle ``FakeWatcher``. Every call's options are recorded, and every watcher handed out
    is kept in ``watchers``.
    """

    def __init__(self, *, watch_list_supported: bool = False) -> None:
        self._watch_list_supported = watch_list_supported
        self._cond = threading.Condition()
        self._lists: deque[ObjectList[Any] | BaseException] = deque()
        self._last_list: ObjectList[Any] | BaseException = ObjectList(items=[])
        self._watches: deque[FakeWatcher | BaseException] = deque()
        self.list_calls: list[ListOptions] = []
        self.watch_calls: list[ListOptions] = []
        self.watchers: list[FakeWatcher] = []

    def is_watch_list_semantics_unsupported(self) -> bool:
        """Port of IsWatchListSemanticsUnSupported: whether the reflector must LIST."""
        return not self._watch_list_supported

    def add_list_result(self, result: ObjectList[Any] | BaseException) -> None:
        """Queue the answer of a future list call."""
        with self._cond:
            self._lists.append(result)

    def add_watch_result(
        self, result: FakeWatcher | BaseException | None = None
    ) -> FakeWatcher | None:
        """Queue the answer of a future watch call; None queues a new FakeWatcher (returned)."""
        with self._cond:
            if result is None:
                result = FakeWatcher()
            self._watches.append(result)
            return result if isinstance(result, FakeWatcher) else None

    def list(self, options: ListOptions) -> ObjectList[Any]:
        """Record the call and answer from the list script."""
        with self._cond:
            self.list_calls.append(options)
            if self._lists:
                self._last_list = self._lists.popleft()
            result = self._last_list
            self._cond.notify_all()
        if isinstance(result, BaseException):
            raise result
        return result

    def watch(self, options: ListOptions) -> WatchInterface:
        """Record the call and answer from the watch script."""
        with self._cond:
            self.watch_calls.append(options)
            result = self._watches.popleft() if self._watches else FakeWatcher()
            if isinstance(result, FakeWatcher):
                self.watchers.append(result)
            self._cond.notify_all()
        if isinstance(result, BaseException):
            raise result
        return result

    def wait_for_list_calls(self, n: int, timeout: float = 5.0) -> bool:
        """Block (bounded, real time) until at least ``n`` list calls were made."""
        return self._wait(lambda: len(self.list_calls) >= n, timeout)

    def wait_for_watch_calls(self, n: int, timeout: float = 5.0) -> bool:
        """Block (bounded, real time) until at least ``n`` watch calls were made."""
        return self._wait(lambda: len(self.watch_calls) >= n, timeout)

    def wait_for_watcher(self, n: int, timeout: float = 5.0) -> FakeWatcher:
        """The ``n``-th (1-based) watcher handed out, waiting for it if needed."""
        if not self._wait(lambda: len(self.watchers) >= n, timeout):
            raise TimeoutError(f"watcher #{n} was never requested")
        with self._cond:
            return self.watchers[n - 1]

    def _wait(self, pred: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


class ClockStepper:
    """Advance a FakeClock by ``step(n)`` seconds each time some thread waits on it.

    ``n`` counts the steps taken so far. Stop it with ``stop`` before the test ends.
    """

    def __init__(self, clock: FakeClock, step: Callable[[int], float]) -> None:
        self._clock = clock
        self._step = step
        self._done = threading.Event()
        self.steps = 0
        self._thread = threading.Thread(target=self._run, name="clock-stepper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            if self._clock.wait_for_waiters(1, timeout=0.05):
                self._clock.step(self._step(self.steps))
                self.steps += 1

    def stop(self) -> None:
        """Stop stepping and wait for the helper thread."""
        self._done.set()
        self._thread.join(5)


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Wait (bounded, real time) until ``pred()`` holds: a sync point with a background
    thread, checked every millisecond. True if it held in time."""
    deadline = time.monotonic() + timeout
    idle = threading.Event()
    while not pred():
        if time.monotonic() > deadline:
            return False
        idle.wait(0.001)
    return True
