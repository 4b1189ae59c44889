"""Fan-out of events to watchers: port of k8s.io/apimachinery/pkg/watch/mux.go.

A ``Broadcaster`` owns one distribution thread that reads an incoming queue and hands
each event to every watcher's own bounded queue. Go channels become ``_Chan``: a
bounded FIFO that can be closed, after which receivers drain what is left and then see
the end.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

from jobctl.client.interface import WatchEvent

# Port of incomingQueueLength: the incoming queue of a NewBroadcaster.
INCOMING_QUEUE_LENGTH = 25

# Port of internalRunFunctionMarker: an incoming item that is a function to run.
_INTERNAL_RUN_FUNCTION_MARKER = "internal-do-function"


class FullChannelBehavior(Enum):
    """Port of watch.FullChannelBehavior: what distribution does with a full watcher."""

    WAIT_IF_CHANNEL_FULL = 0
    DROP_IF_CHANNEL_FULL = 1


WAIT_IF_CHANNEL_FULL = FullChannelBehavior.WAIT_IF_CHANNEL_FULL
DROP_IF_CHANNEL_FULL = FullChannelBehavior.DROP_IF_CHANNEL_FULL


class BroadcasterStoppedError(RuntimeError):
    """The broadcaster was shut down (Go: "broadcaster already stopped")."""


class _Chan:
    """A bounded, closable FIFO standing in for a buffered Go channel.

    Receivers and senders wait on two conditions over one lock and count themselves, and
    a receiver already woken is not woken again: a burst of sends to a busy or just-woken
    receiver costs one wake-up, not one per item (the hand-off the event recorder makes
    for every event). A receiver that leaves items behind wakes the next waiting one.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = max(capacity, 0)
        self._items: deque[Any] = deque()
        self._closed = False
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # senders: room, or closed/abandoned
        self._not_empty = threading.Condition(lock)  # receivers: an item, or closed
        self._senders_waiting = 0
        self._receivers_waiting = 0
        # Receivers notified but not yet running again (guarded by the lock).
        self._receivers_woken = 0

    def _wake_receiver(self) -> None:
        if self._receivers_waiting > self._receivers_woken:
            self._receivers_woken += 1
            self._not_empty.notify()

    def send(self, item: Any, abandoned: Callable[[], bool] | None = None) -> bool:
        """Block until there is room; False if closed or ``abandoned()`` turns true."""
        with self._cond:
            while len(self._items) >= max(self._capacity, 1) and not self._closed:
                if abandoned is not None and abandoned():
                    return False
                self._senders_waiting += 1
                try:
                    self._cond.wait()
                finally:
                    self._senders_waiting -= 1
            if self._closed:
                return False
            self._items.append(item)
            self._wake_receiver()
            return True

    def try_send(self, item: Any) -> bool:
        """Queue ``item`` only if there is room right now."""
        with self._cond:
            if self._closed or len(self._items) >= self._capacity:
                return False
            self._items.append(item)
            self._wake_receiver()
            return True

    def recv(self) -> tuple[Any, bool]:
        """Block for the next item; ``(None, False)`` once closed and drained."""
        with self._cond:
            while not self._items and not self._closed:
                self._receivers_waiting += 1
                try:
                    self._not_empty.wait()
                finally:
                    self._receivers_waiting -= 1
                    if self._receivers_woken > 0:
                        self._receivers_woken -= 1
            if self._items:
                item = self._items.popleft()
                if self._items:
                    self._wake_receiver()
                if self._senders_waiting:
                    self._cond.notify()
                return item, True
            return None, False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            self._not_empty.notify_all()

    def wake(self) -> None:
        """Wake blocked senders so they re-check their abandon condition."""
        with self._cond:
            self._cond.notify_all()


class Broadcaster:
    """Port of watch.Broadcaster: distributes each event to all current watchers."""

    def __init__(
        self,
        queue_length: int,
        full_channel_behavior: FullChannelBehavior,
        incoming_queue_length: int = INCOMING_QUEUE_LENGTH,
    ) -> None:
        self._watchers: dict[int, BroadcasterWatcher] = {}
        self._next_watcher = 0
        self._incoming_block = threading.Lock()
        self._incoming = _Chan(incoming_queue_length)
        self._stopped = threading.Event()
        self._watch_queue_length = queue_length
        self._full_channel_behavior = full_channel_behavior
        self._distributing = threading.Thread(
            target=self._loop, name="watch-broadcaster", daemon=True
        )
        self._distributing.start()

    def _block_queue(self, f: Callable[[], None]) -> None:
        """Port of Broadcaster.blockQueue: run ``f`` on the distribution thread and wait."""
        with self._incoming_block:
            if self._stopped.is_set():
                return
            done = threading.Event()

            def run() -> None:
                try:
                    f()
                finally:
                    done.set()

            self._incoming.send(WatchEvent(_INTERNAL_RUN_FUNCTION_MARKER, run))
            done.wait()

    def watch(self) -> BroadcasterWatcher:
        """Port of Broadcaster.Watch: a new watcher for events sent from now on."""
        return self.watch_with_prefix([])

    def watch_with_prefix(self, queued_events: list[WatchEvent]) -> BroadcasterWatcher:
        """Port of Broadcaster.WatchWithPrefix: a watcher that first sees ``queued_events``."""
        created: list[BroadcasterWatcher] = []

        def register() -> None:
            wid = self._next_watcher
            self._next_watcher += 1
            length = max(self._watch_queue_length, len(queued_events) + 1)
            w = BroadcasterWatcher(self, wid, length)
            self._watchers[wid] = w
            for e in queued_events:
                w.result.try_send(e)
            created.append(w)

        self._block_queue(register)
        if not created:
            raise BroadcasterStoppedError("broadcaster already stopped")
        return created[0]

    def _stop_watching(self, wid: int) -> None:
        """Port of Broadcaster.stopWatching."""

        def remove() -> None:
            w = self._watchers.pop(wid, None)
            if w is not None:
                w.result.close()

        self._block_queue(remove)

    def _close_all(self) -> None:
        """Port of Broadcaster.closeAll."""
        for w in self._watchers.values():
            w.result.close()
        self._watchers = {}

    def action(self, action: str, obj: Any) -> None:
        """Port of Broadcaster.Action: queue an event, blocking while the queue is full."""
        with self._incoming_block:
            if self._stopped.is_set():
                raise BroadcasterStoppedError("broadcaster already stopped")
            self._incoming.send(WatchEvent(action, obj))

    def action_or_drop(self, action: str, obj: Any) -> bool:
        """Port of Broadcaster.ActionOrDrop: queue an event unless the queue is full."""
        with self._incoming_block:
            if self._stopped.is_set():
                raise BroadcasterStoppedError("broadcaster already stopped")
            return self._incoming.try_send(WatchEvent(action, obj))

    def shutdown(self) -> None:
        """Port of Broadcaster.Shutdown: deliver what is queued, close watchers, stop."""

        def stop() -> None:
            self._stopped.set()
            self._incoming.close()

        self._block_queue(stop)
        if threading.current_thread() is not self._distributing:
            self._distributing.join()

    def _loop(self) -> None:
        """Port of Broadcaster.loop."""
        while True:
            event, ok = self._incoming.recv()
            if not ok:
                break
            if event.type == _INTERNAL_RUN_FUNCTION_MARKER:
                event.object()
                continue
            self._distribute(event)
        self._close_all()

    def _distribute(self, event: WatchEvent) -> None:
        """Port of Broadcaster.distribute."""
        drop = self._full_channel_behavior == DROP_IF_CHANNEL_FULL
        for w in list(self._watchers.values()):
            if w.stopped.is_set():
                continue
            if drop:
                w.result.try_send(event)
            else:
                w.result.send(event, w.stopped.is_set)


class BroadcasterWatcher:
    """Port of broadcasterWatcher: iterate for the events; ``stop()`` to leave."""

    def __init__(self, m: Broadcaster, wid: int, queue_length: int) -> None:
        self.result = _Chan(queue_length)
        self.stopped = threading.Event()
        self._stop_once = threading.Lock()
        self._id = wid
        self._m = m

    def result_chan(self) -> Iterator[WatchEvent]:
        """Port of broadcasterWatcher.ResultChan."""
        return iter(self)

    def __iter__(self) -> Iterator[WatchEvent]:
        while True:
            event, ok = self.result.recv()
            if not ok:
                return
            yield event

    def stop(self) -> None:
        """Port of broadcasterWatcher.Stop: leave the broadcaster; the iteration ends."""
        with self._stop_once:
            if self.stopped.is_set():
                return
            self.stopped.set()
        self.result.wake()
        self._m._stop_watching(self._id)
        # The broadcaster may already be shut down; close in any case so readers end.
        self.result.close()
