"""Port of client-go tools/cache/fifo.go: the Queue contracts and the plain FIFO.

A ``Queue`` is what a reflector feeds and an informer's controller drains with ``pop``.
``DeltaFIFO`` (delta_fifo.py) and ``RealFIFO`` (real_fifo.py) are the implementations
informers use; ``FIFO`` here keeps only the newest object per key and survives upstream
mostly for tests.

Go's ``Done() <-chan struct{}`` becomes ``done() -> threading.Event``, set once the first
batch of items (the initial list) has been popped.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from jobctl.informers.store import KeyFunc, KeyFuncError

if TYPE_CHECKING:
    from jobctl.informers.delta_fifo import Delta
    from jobctl.informers.shared_informer import DoneChecker

# Port of PopProcessFunc (fifo.go): handles one popped accumulator; the bool says whether it
# belongs to the initial list. Raising reports a processing error to the caller of pop.
PopProcessFunc = Callable[[Any, bool], None]

# Port of ProcessBatchFunc (controller.go), which QueueWithBatch.pop_batch takes.
_ProcessBatchFunc = Callable[[list["Delta"], bool], None]


class FIFOClosedError(Exception):
    """Port of ErrFIFOClosed (fifo.go): raised by pop once the queue is closed and empty."""

    def __init__(self, message: str = "DeltaFIFO: manipulating with closed queue") -> None:
        super().__init__(message)


class Queue(Protocol):
    """Port of Queue (fifo.go): a ReflectorStore whose accumulated keys are drained by pop.

    The first five methods are reflector.go's ReflectorStore, spelled out here so this
    module needs nothing from reflector.py.
    """

    def add(self, obj: Any) -> None: ...

    def update(self, obj: Any) -> None: ...

    def delete(self, obj: Any) -> None: ...

    def replace(self, items: list[Any], resource_version: str) -> None: ...

    def resync(self) -> None: ...

    def pop(self, process: PopProcessFunc) -> Any:
        """Block until an item is ready, remove it, run ``process`` on it and return it.

        Raises ``FIFOClosedError`` once the queue is closed and empty; an exception from
        ``process`` propagates after the item has been removed.
        """
        ...

    def has_synced(self) -> bool: ...

    def has_synced_checker(self) -> DoneChecker: ...

    def close(self) -> None: ...

    def is_closed(self) -> bool: ...


class QueueWithBatch(Queue, Protocol):
    """Port of QueueWithBatch (fifo.go): a Queue that can hand several deltas over at once."""

    def pop_batch(
        self, process_batch: _ProcessBatchFunc, process_single: PopProcessFunc
    ) -> None: ...


class FIFO:
    """Port of FIFO (fifo.go): a Queue keeping only the newest object per key.

    Invariants: every key of ``_items`` is in ``_queue`` (a key whose item was deleted may
    linger in ``_queue`` and is skipped by pop); ``_queue`` has no duplicates.
    """

    def __init__(self, key_func: KeyFunc) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._items: dict[str, Any] = {}
        self._queue: deque[str] = deque()
        # Set (once) when the initial sync is complete.
        self._synced = threading.Event()
        self._synced_closed = False
        # True once the first Replace ran, or Add/Update/Delete came first.
        self._populated = False
        # Items of the first Replace not yet popped.
        self._initial_population_count = 0
        self._key_func = key_func
        # Lets a control loop exit once the queue is drained; writes are not refused.
        self._closed = False

    def close(self) -> None:
        """Port of FIFO.Close (fifo.go): wake every blocked pop so it can return."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def has_synced(self) -> bool:
        """Port of FIFO.HasSynced (fifo.go): writes came first, or the initial list was popped."""
        with self._lock:
            return self._has_synced_locked()

    def has_synced_checker(self) -> FIFO:
        """Port of FIFO.HasSyncedChecker (fifo.go): the FIFO is its own DoneChecker."""
        return self

    def name(self) -> str:
        """Port of FIFO.Name (fifo.go) (DoneChecker)."""
        return "FIFO"

    def done(self) -> threading.Event:
        """Port of FIFO.Done (fifo.go) (DoneChecker): set once synced."""
        return self._synced

    def _has_synced_locked(self) -> bool:
        """Port of FIFO.hasSynced_locked (fifo.go)."""
        return self._synced_closed

    def _check_synced(self) -> None:
        """Port of FIFO.checkSynced: mark synced once populated and the initial list is out.

        Go twin: FIFO.checkSynced (fifo.go).
        """
        if self._populated and self._initial_population_count == 0 and not self._synced_closed:
            self._synced_closed = True
            self._synced.set()

    def add(self, obj: Any) -> None:
        """Port of FIFO.Add (fifo.go): store ``obj``, queueing its key unless already queued."""
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        with self._cond:
            self._populated = True
            self._check_synced()
            if key not in self._items:
                self._queue.append(key)
            self._items[key] = obj
            self._cond.notify_all()

    def update(self, obj: Any) -> None:
        """Port of FIFO.Update (fifo.go): same as add."""
        self.add(obj)

    def delete(self, obj: Any) -> None:
        """Port of FIFO.Delete (fifo.go): drop the item; its queued key is skipped later."""
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        with self._lock:
            self._populated = True
            self._check_synced()
            self._items.pop(key, None)

    def is_closed(self) -> bool:
        """Port of FIFO.IsClosed (fifo.go)."""
        with self._lock:
            return self._closed

    def pop(self, process: PopProcessFunc) -> Any:
        """Port of FIFO.Pop (fifo.go): block for the oldest key, remove its item and process it.

        ``process`` runs under the queue lock. Raises ``FIFOClosedError`` when closed
        and empty.
        """
        with self._cond:
            check_synced = False
            try:
                while True:
                    while not self._queue:
                        if self._closed:
                            raise FIFOClosedError()
                        self._cond.wait()
                    is_in_initial_list = not self._has_synced_locked()
                    key = self._queue.popleft()
                    if self._initial_population_count > 0:
                        self._initial_population_count -= 1
                        # Re-checked only after processing, as upstream defers it.
                        check_synced = True
                    if key not in self._items:
                        # Deleted after it was queued.
                        continue
                    item = self._items.pop(key)
                    process(item, is_in_initial_list)
                    return item
            finally:
                if check_synced:
                    self._check_synced()

    def replace(self, items: list[Any], resource_version: str) -> None:
        """Port of FIFO.Replace (fifo.go): the content and the queue become exactly ``items``."""
        keyed: dict[str, Any] = {}
        for item in items:
            try:
                key = self._key_func(item)
            except Exception as e:
                raise KeyFuncError(item, e) from e
            keyed[key] = item

        with self._cond:
            if not self._populated:
                self._populated = True
                self._initial_population_count = len(keyed)
                self._check_synced()
            self._items = keyed
            self._queue = deque(keyed)
            if self._queue:
                self._cond.notify_all()

    def resync(self) -> None:
        """Port of FIFO.Resync: queue any stored key missing from the queue (normally none).

        Go twin: FIFO.Resync (fifo.go).
        """
        with self._cond:
            in_queue = set(self._queue)
            for key in self._items:
                if key not in in_queue:
                    self._queue.append(key)
            if self._queue:
                self._cond.notify_all()


def new_fifo(key_func: KeyFunc) -> FIFO:
    """Port of NewFIFO (fifo.go)."""
    return FIFO(key_func)
