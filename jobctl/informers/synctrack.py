"""Port of client-go tools/cache/synctrack/synctrack.go: "has synced" for event consumers.

A consumer is synced once its upstream (the informer) has synced and every item of the
initial list handed to it has been processed. ``SingleFileTracker`` counts in-flight
initial items (events processed in order); ``AsyncTracker`` tracks them by key (workers
finishing in any order). Go's ``Done() <-chan struct{}`` is ``done() -> threading.Event``,
set once synced. lazy.go (a generic memoising helper) is not needed and not ported.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class AsyncTracker(Generic[T]):
    """Port of AsyncTracker: synced when upstream is and no started key is unfinished."""

    def __init__(self, name: str = "") -> None:
        """Port of NewAsyncTracker."""
        self._name = name
        self._upstream_has_synced = False
        self._lock = threading.Lock()
        self._waiting: set[T] = set()
        self._synced = threading.Event()

    def start(self, key: T) -> None:
        """Port of AsyncTracker.Start: ``key`` of the initial list is being processed.

        Go twin: AsyncTracker.Start (synctrack.go).
        """
        with self._lock:
            self._waiting.add(key)

    def finished(self, key: T) -> None:
        """Port of AsyncTracker.Finished (synctrack.go): ``key`` is done (unknown keys are fine)."""
        with self._lock:
            self._waiting.discard(key)
            if self._upstream_has_synced and not self._waiting:
                self._synced.set()

    def upstream_has_synced(self) -> None:
        """Port of AsyncTracker.UpstreamHasSynced: call once upstream reports synced.

        Go twin: AsyncTracker.UpstreamHasSynced (synctrack.go).
        """
        with self._lock:
            self._upstream_has_synced = True
            if not self._waiting:
                self._synced.set()

    def has_synced(self) -> bool:
        """Port of AsyncTracker.HasSynced (synctrack.go)."""
        return self._synced.is_set()

    def done(self) -> threading.Event:
        """Port of AsyncTracker.Done (synctrack.go): set once synced."""
        return self._synced

    def name(self) -> str:
        """Port of AsyncTracker.Name (synctrack.go)."""
        return self._name


class SingleFileTracker:
    """Port of SingleFileTracker: synced when upstream is and the in-flight count is zero."""

    def __init__(self, name: str = "") -> None:
        """Port of NewSingleFileTracker."""
        self._name = name
        self._lock = threading.Lock()
        self._count = 0
        self._upstream_has_synced = False
        self._synced = threading.Event()

    def start(self) -> None:
        """Port of SingleFileTracker.Start (synctrack.go): one more initial item is in flight."""
        with self._lock:
            self._count += 1

    def finished(self) -> None:
        """Port of SingleFileTracker.Finished (synctrack.go): one initial item is done.

        Raises RuntimeError (Go panics) if called more often than ``start``.
        """
        with self._lock:
            self._count -= 1
            result = self._count
            upstream = self._upstream_has_synced
        if result < 0:
            raise RuntimeError(
                "synctrack: negative counter; this logic error means HasSynced may return "
                "incorrect value"
            )
        if result == 0 and upstream:
            self._synced.set()

    def upstream_has_synced(self) -> None:
        """Port of SingleFileTracker.UpstreamHasSynced: call once upstream reports synced.

        Go twin: SingleFileTracker.UpstreamHasSynced (synctrack.go).
        """
        with self._lock:
            self._upstream_has_synced = True
            count = self._count
        if count == 0:
            self._synced.set()

    def has_synced(self) -> bool:
        """Port of SingleFileTracker.HasSynced (synctrack.go)."""
        return self._synced.is_set()

    def done(self) -> threading.Event:
        """Port of SingleFileTracker.Done (synctrack.go): set once synced."""
        return self._synced

    def name(self) -> str:
        """Port of SingleFileTracker.Name (synctrack.go)."""
        return self._name
