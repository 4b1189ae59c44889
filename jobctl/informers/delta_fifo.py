"""Port of client-go tools/cache/delta_fifo.go: the per-key delta queue.

``DeltaFIFO`` keeps, for every key, the list of changes (``Deltas``) seen since the key was
last popped, and pops keys in first-queued order. Besides Added/Updated/Deleted it records
Replaced (or Sync, for old consumers) for relisted objects and Sync for periodic resyncs.
``Replace`` also queues a ``DeletedFinalStateUnknown`` tombstone for every key the queue or
``known_objects`` holds that the new list lacks: a delete missed while disconnected.

This module also holds the delta vocabulary ``RealFIFO`` shares: ``DeltaType`` constants,
``Delta``, ``Deltas``, ``DeletedFinalStateUnknown``, ``TransformFunc`` and the
``KeyListerGetter`` contract.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jobctl.informers.fifo import FIFOClosedError, PopProcessFunc
from jobctl.informers.store import KeyFunc, KeyFuncError, meta_namespace_key_func

_log = logging.getLogger(__name__)

# Pops slower than this are logged when the queue is deep (upstream's trace threshold).
_SLOW_POP_SECONDS = 0.1


@dataclass
class DeltaFIFOOptions:
    """Port of DeltaFIFOOptions (delta_fifo.go); every field is optional.

    ``key_function`` defaults to ``meta_namespace_key_func``. ``known_objects`` (usually the
    informer's indexer) lets delete, replace and resync see what the consumer already
    holds. ``emit_delta_type_replaced`` makes replace record Replaced instead of Sync.
    """

    name: str = ""
    key_function: KeyFunc | None = None
    known_objects: KeyListerGetter | None = None
    emit_delta_type_replaced: bool = False
    transformer: TransformFunc | None = None


# Port of TransformFunc (delta_fifo.go): runs on each object as it is queued, before any
# other reader sees it; it may change the object in place and should be idempotent.
TransformFunc = Callable[[Any], Any]

# Port of DeltaType (delta_fifo.go) and its constants.
DeltaType = str
ADDED: DeltaType = "Added"
UPDATED: DeltaType = "Updated"
DELETED: DeltaType = "Deleted"
# A relist (or the initial list) delivered this object; it may or may not have changed.
REPLACED: DeltaType = "Replaced"
# Atomic replace: one delta carrying the whole relisted content (ReplacedAllInfo).
REPLACED_ALL: DeltaType = "ReplacedAll"
# Periodic resync of an object already known.
SYNC: DeltaType = "Sync"
# Atomic resync: one delta asking the consumer to resync everything (SyncAllInfo).
SYNC_ALL: DeltaType = "SyncAll"
# Carries a resource version only (BookmarkInfo).
BOOKMARK: DeltaType = "Bookmark"


@dataclass(slots=True)
class Delta:
    """Port of Delta (delta_fifo.go): what changed and the object after the change.

    For a deletion, ``object`` is the last state known, or a ``DeletedFinalStateUnknown``.
    """

    type: DeltaType
    object: Any


class Deltas(builtins.list[Delta]):
    """Port of Deltas (delta_fifo.go): one key's changes, oldest first."""

    __slots__ = ()

    def oldest(self) -> Delta | None:
        """Port of Deltas.Oldest (delta_fifo.go): the first delta, or None."""
        return self[0] if self else None

    def newest(self) -> Delta | None:
        """Port of Deltas.Newest (delta_fifo.go): the last delta, or None."""
        return self[-1] if self else None


class ZeroLengthDeltasObjectError(ValueError):
    """Port of ErrZeroLengthDeltasObject (delta_fifo.go): an empty Deltas has no key."""

    def __init__(self) -> None:
        super().__init__("0 length Deltas object; can't get key")


class DeltaFIFO:
    """Port of DeltaFIFO (delta_fifo.go): a producer/consumer queue of per-key Deltas.

    Invariants: a key is in ``_queue`` iff it is in ``_items``; ``_queue`` has no
    duplicates; every Deltas in ``_items`` is non-empty. ``pop`` runs ``process`` under the
    lock, so the consumer may update ``known_objects`` there without racing replace/resync.
    """

    def __init__(self, opts: DeltaFIFOOptions | None = None) -> None:
        """Port of NewDeltaFIFOWithOptions (delta_fifo.go)."""
        if opts is None:
            opts = DeltaFIFOOptions()
        self._name = opts.name or "DeltaFIFO"
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._items: dict[str, Deltas] = {}
        self._queue: deque[str] = deque()
        # Set (once) when the initial sync is complete.
        self._synced = threading.Event()
        self._synced_closed = False
        # True once the first Replace ran, or Add/Update/Delete came first.
        self._populated = False
        # Keys queued by the first Replace that are not popped yet.
        self._initial_population_count = 0
        self._key_func: KeyFunc = opts.key_function or meta_namespace_key_func
        # The keys the consumer knows about; they shape delete, replace and resync.
        self._known_objects = opts.known_objects
        # Lets a control loop exit once the queue is drained; writes are not refused.
        self._closed = False
        self._emit_delta_type_replaced = opts.emit_delta_type_replaced
        self._transformer = opts.transformer

    def close(self) -> None:
        """Port of DeltaFIFO.Close (delta_fifo.go): wake every blocked pop so it can return."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def key_of(self, obj: Any) -> str:
        """Port of DeltaFIFO.KeyOf: the key function, also reading Deltas and tombstones.

        Go twin: DeltaFIFO.KeyOf (delta_fifo.go).
        """
        if isinstance(obj, Deltas):
            if not obj:
                raise KeyFuncError(obj, ZeroLengthDeltasObjectError())
            obj = obj[-1].object
        if isinstance(obj, DeletedFinalStateUnknown):
            return obj.key
        return self._key_func(obj)

    def transformer(self) -> TransformFunc | None:
        """Port of DeltaFIFO.Transformer (delta_fifo.go) (TransformingStore)."""
        return self._transformer

    def has_synced(self) -> bool:
        """Port of DeltaFIFO.HasSynced: writes came first, or the initial list was popped.

        Go twin: DeltaFIFO.HasSynced (delta_fifo.go).
        """
        with self._lock:
            return self._has_synced_locked()

    def has_synced_checker(self) -> DeltaFIFO:
        """Port of DeltaFIFO.HasSyncedChecker (delta_fifo.go): the queue is its own DoneChecker."""
        return self

    def name(self) -> str:
        """Port of DeltaFIFO.Name (delta_fifo.go) (DoneChecker)."""
        return self._name

    def done(self) -> threading.Event:
        """Port of DeltaFIFO.Done (delta_fifo.go) (DoneChecker): set once synced."""
        return self._synced

    def _has_synced_locked(self) -> bool:
        """Port of DeltaFIFO.hasSynced_locked (delta_fifo.go)."""
        return self._synced_closed

    def _check_synced_locked(self) -> None:
        """Port of DeltaFIFO.checkSynced_locked: mark synced once the initial list is out.

        Go twin: DeltaFIFO.checkSynced_locked (delta_fifo.go).
        """
        if self._populated and self._initial_population_count == 0 and not self._synced_closed:
            self._synced_closed = True
            self._synced.set()

    def add(self, obj: Any) -> None:
        """Port of DeltaFIFO.Add (delta_fifo.go): queue an Added delta."""
        with self._lock:
            self._populated = True
            self._check_synced_locked()
            self._queue_action_locked(ADDED, obj)

    def update(self, obj: Any) -> None:
        """Port of DeltaFIFO.Update (delta_fifo.go): queue an Updated delta."""
        with self._lock:
            self._populated = True
            self._check_synced_locked()
            self._queue_action_locked(UPDATED, obj)

    def delete(self, obj: Any) -> None:
        """Port of DeltaFIFO.Delete: queue a Deleted delta unless the key is unknown.

        A key neither queued nor (if set) in ``known_objects`` was presumably already
        reported deleted by a relist, so it is not reported twice.

        Go twin: DeltaFIFO.Delete (delta_fifo.go).
        """
        try:
            key = self.key_of(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        with self._lock:
            self._populated = True
            self._check_synced_locked()
            if self._known_objects is None:
                if key not in self._items:
                    return
            else:
                try:
                    _, exists = self._known_objects.get_by_key(key)
                except Exception:
                    # Unknown state: let the delete through.
                    pass
                else:
                    if not exists and key not in self._items:
                        return
            self._queue_action_locked(DELETED, obj)

    def _queue_action_locked(self, action_type: DeltaType, obj: Any) -> None:
        """Port of DeltaFIFO.queueActionLocked (delta_fifo.go)."""
        self._queue_action_internal_locked(action_type, action_type, obj)

    def _queue_action_internal_locked(
        self, action_type: DeltaType, internal_action_type: DeltaType, obj: Any
    ) -> None:
        """Port of DeltaFIFO.queueActionInternalLocked: transform, append, dedup, enqueue.

        ``action_type`` is what gets recorded (Sync or Replaced for a replace, as
        configured); ``internal_action_type`` is what really happened and decides whether
        the transformer runs (not for Sync, whose object is already transformed).

        Go twin: DeltaFIFO.queueActionInternalLocked (delta_fifo.go).
        """
        try:
            key = self.key_of(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e

        transformer = self._transformer
        if (
            transformer is not None
            and internal_action_type != SYNC
            and not isinstance(obj, DeletedFinalStateUnknown)
        ):
            obj = transformer(obj)

        deltas = self._items.get(key)
        if deltas is None:
            self._items[key] = Deltas((Delta(action_type, obj),))
            self._queue.append(key)
        else:
            deltas.append(Delta(action_type, obj))
            dedup_deltas(deltas)
        self._cond.notify_all()

    def is_closed(self) -> bool:
        """Port of DeltaFIFO.IsClosed (delta_fifo.go)."""
        with self._lock:
            return self._closed

    def pop(self, process: PopProcessFunc) -> Any:
        """Port of DeltaFIFO.Pop: block for the oldest key and process all its Deltas.

        The key leaves the queue before ``process`` runs (under the lock); the popped
        ``Deltas`` is returned. Raises ``FIFOClosedError`` when closed and empty.

        Go twin: DeltaFIFO.Pop (delta_fifo.go).
        """
        with self._cond:
            while True:
                while not self._queue:
                    if self._closed:
                        raise FIFOClosedError()
                    self._cond.wait()
                is_in_initial_list = not self._synced_closed
                key = self._queue.popleft()
                depth = len(self._queue)
                if self._initial_population_count > 0:
                    self._initial_population_count -= 1
                    self._check_synced_locked()
                item = self._items.pop(key, None)
                if item is None:
                    _log.error(
                        "Inconceivable! Item was in f.queue but not f.items; ignoring (id=%s)",
                        key,
                    )
                    continue
                if depth > 10:
                    start = time.monotonic()
                    try:
                        process(item, is_in_initial_list)
                    finally:
                        _log_if_slow("DeltaFIFO Pop Process", start, key, depth)
                else:
                    process(item, is_in_initial_list)
                return item

    def replace(self, items: builtins.list[Any], resource_version: str) -> None:
        """Port of DeltaFIFO.Replace: queue Replaced (or Sync) for each item, then tombstones.

        Every key queued or known but absent from ``items`` gets a Deleted delta holding
        ``DeletedFinalStateUnknown(key, last_known_object)``. The first call sets how many
        keys make up the initial list.

        Go twin: DeltaFIFO.Replace (delta_fifo.go).
        """
        with self._lock:
            keys: set[str] = set()
            action = REPLACED if self._emit_delta_type_replaced else SYNC

            for item in items:
                try:
                    key = self.key_of(item)
                except Exception as e:
                    raise KeyFuncError(item, e) from e
                keys.add(key)
                try:
                    self._queue_action_internal_locked(action, REPLACED, item)
                except Exception as e:
                    e.add_note("couldn't enqueue object")
                    raise

            # Deletion detection against what is queued.
            queued_deletions = 0
            for k, old_item in builtins.list(self._items.items()):
                if k in keys:
                    continue
                deleted_obj: Any = None
                newest = old_item.newest()
                if newest is not None:
                    deleted_obj = newest.object
                    if isinstance(deleted_obj, DeletedFinalStateUnknown):
                        deleted_obj = deleted_obj.obj
                queued_deletions += 1
                self._queue_action_locked(DELETED, DeletedFinalStateUnknown(k, deleted_obj))

            if self._known_objects is not None:
                # Deletion detection against what the consumer knows but is not queued.
                for k in self._known_objects.list_keys():
                    if k in keys:
                        continue
                    if self._items.get(k):
                        continue
                    try:
                        deleted_obj, exists = self._known_objects.get_by_key(k)
                    except Exception:
                        deleted_obj = None
                        _log.exception(
                            "Unexpected error during lookup, placing DeleteFinalStateUnknown "
                            "marker without object (key=%s)",
                            k,
                        )
                    else:
                        if not exists:
                            deleted_obj = None
                            _log.info(
                                "Key does not exist in known objects store, placing "
                                "DeleteFinalStateUnknown marker without object (key=%s)",
                                k,
                            )
                    queued_deletions += 1
                    self._queue_action_locked(DELETED, DeletedFinalStateUnknown(k, deleted_obj))

            if not self._populated:
                self._populated = True
                self._initial_population_count = len(keys) + queued_deletions
                self._check_synced_locked()

    def resync(self) -> None:
        """Port of DeltaFIFO.Resync: queue Sync for every known object not already queued.

        Go twin: DeltaFIFO.Resync (delta_fifo.go).
        """
        with self._lock:
            if self._known_objects is None:
                return
            for k in self._known_objects.list_keys():
                self._sync_key_locked(k)

    def _sync_key_locked(self, key: str) -> None:
        """Port of DeltaFIFO.syncKeyLocked (delta_fifo.go)."""
        assert self._known_objects is not None
        try:
            obj, exists = self._known_objects.get_by_key(key)
        except Exception:
            _log.exception(
                "Unexpected error during lookup, unable to queue object for sync (key=%s)", key
            )
            return
        if not exists:
            _log.info(
                "Key does not exist in known objects store, unable to queue object for sync "
                "(key=%s)",
                key,
            )
            return

        # A queued event already carries a newer state than the known object; a Sync
        # with the older one would go back in time.
        try:
            obj_key = self.key_of(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        if self._items.get(obj_key):
            return

        try:
            self._queue_action_locked(SYNC, obj)
        except Exception as e:
            e.add_note("couldn't queue object")
            raise


def new_delta_fifo(key_func: KeyFunc | None, known_objects: KeyListerGetter | None) -> DeltaFIFO:
    """Port of NewDeltaFIFO (delta_fifo.go, deprecated there): Sync, not Replaced, on relist."""
    return DeltaFIFO(DeltaFIFOOptions(key_function=key_func, known_objects=known_objects))


def new_delta_fifo_with_options(opts: DeltaFIFOOptions) -> DeltaFIFO:
    """Port of NewDeltaFIFOWithOptions (delta_fifo.go)."""
    return DeltaFIFO(opts)


def dedup_deltas(deltas: Deltas) -> Deltas:
    """Port of dedupDeltas (delta_fifo.go): merge the last two deltas if they are one event.

    Works in place and returns ``deltas``.
    """
    n = len(deltas)
    if n < 2:
        return deltas
    out = is_dup(deltas[n - 1], deltas[n - 2])
    if out is not None:
        deltas[n - 2] = out
        del deltas[n - 1]
    return deltas


def is_dup(a: Delta, b: Delta) -> Delta | None:
    """Port of isDup (delta_fifo.go): the delta to keep if ``a`` and ``b`` are one event."""
    return is_deletion_dup(a, b)


def is_deletion_dup(a: Delta, b: Delta) -> Delta | None:
    """Port of isDeletionDup (delta_fifo.go): of two deletions keep the more informative."""
    if b.type != DELETED or a.type != DELETED:
        return None
    if isinstance(b.object, DeletedFinalStateUnknown):
        return a
    return b


class KeyLister(Protocol):
    """Port of KeyLister (delta_fifo.go)."""

    def list_keys(self) -> builtins.list[str]: ...


class KeyGetter(Protocol):
    """Port of KeyGetter (delta_fifo.go): ``(value, exists)``; raises on lookup errors."""

    def get_by_key(self, key: str) -> tuple[Any, bool]: ...


class KeyListerGetter(KeyLister, KeyGetter, Protocol):
    """Port of KeyListerGetter (delta_fifo.go): what a FIFO's ``known_objects`` must do."""


def copy_deltas(d: Deltas) -> Deltas:
    """Port of copyDeltas (delta_fifo.go): a new list holding the same Delta values."""
    return Deltas(d)


@dataclass(slots=True)
class DeletedFinalStateUnknown:
    """Port of DeletedFinalStateUnknown (delta_fifo.go): a delete seen only at relist.

    ``obj`` is the last state known before the watch missed the deletion; it may be stale,
    or None when nothing was known.
    """

    key: str
    obj: Any


def _log_if_slow(what: str, start: float, key: str, depth: int) -> None:
    """Log like upstream's utiltrace LogIfLong when a deep-queue pop is slow."""
    elapsed = time.monotonic() - start
    if elapsed > _SLOW_POP_SECONDS:
        _log.info(
            "%s took %.3fs (ID=%s, Depth=%d, Reason=slow event handlers blocking the queue)",
            what,
            elapsed,
            key,
            depth,
        )
