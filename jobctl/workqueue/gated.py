"""A rate-limiting queue whose ``get`` stops handing out work once a gate closes.

Not in client-go. kube-controller-manager exits the process when it loses its lease, so
no worker there takes another key afterwards. jobctl exits too, but its workers may
still be between keys when the lease is found lost; wrapped in this queue, a worker
that asks for its next key after ``closed`` is set is told to quit instead, and a key
it was handed while waiting is marked done unprocessed (the next leader resyncs it).
Everything else is the wrapped queue's own behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from jobctl.workqueue.rate_limiting_queue import TypedRateLimitingInterface

T = TypeVar("T", bound=Hashable)


class GatedQueue(Generic[T]):
    """``queue`` whose ``get`` reports shutdown once ``closed`` is set."""

    def __init__(self, queue: TypedRateLimitingInterface[T], closed: threading.Event) -> None:
        self._queue = queue
        self._closed = closed
        self.add = queue.add
        self.len = queue.len
        self.done = queue.done
        self.shut_down = queue.shut_down
        self.shut_down_with_drain = queue.shut_down_with_drain
        self.shutting_down = queue.shutting_down
        self.add_after = queue.add_after
        self.add_rate_limited = queue.add_rate_limited
        self.forget = queue.forget
        self.num_requeues = queue.num_requeues

    @property
    def inner(self) -> TypedRateLimitingInterface[T]:
        """The wrapped queue."""
        return self._queue

    def get(self) -> tuple[T, bool]:
        """The wrapped ``get``, checked against the gate before and after waiting."""
        if self._closed.is_set():
            return self._none(), True
        item, shutdown = self._queue.get()
        if shutdown:
            return item, True
        if self._closed.is_set():
            self._queue.done(item)
            return item, True
        return item, False

    @staticmethod
    def _none() -> T:
        # Go returns the zero value with shutdown=true; callers never read it.
        return None  # type: ignore[return-value]

    def __getattr__(self, name: str) -> object:
        # Test helpers reach into the wrapped queue (e.g. its delaying loop).
        return getattr(self._queue, name)
