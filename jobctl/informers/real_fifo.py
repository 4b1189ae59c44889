"""Port of client-go tools/cache/the_real_fifo.go: the in-order delta queue informers use.

``RealFIFO`` queues every notification as its own ``Delta`` and pops them in arrival order,
so consumers see each add, update and delete rather than a per-key summary. Two modes:

- classic (``atomic_events=False``, ``known_objects`` required): ``replace`` queues a
  ``DeletedFinalStateUnknown`` tombstone for every key queued or known but missing from the
  new list, then one Replaced delta per item; ``resync`` queues Sync for known objects.
- atomic (``atomic_events=True``, no ``known_objects``): ``replace`` queues one ReplacedAll
  delta carrying the whole list, ``resync`` one SyncAll, and ``bookmark`` may queue a
  Bookmark; the consumer reconciles against its own store (see ``reconcile_replacement``).
  Only this mode may release the lock while the consumer processes a pop.

The informer metrics (queue depth, processing latency) are not ported.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jobctl.informers.delta_fifo import (
    ADDED,
    BOOKMARK,
    DELETED,
    REPLACED,
    REPLACED_ALL,
    SYNC,
    SYNC_ALL,
    UPDATED,
    DeletedFinalStateUnknown,
    Delta,
    Deltas,
    DeltaType,
    KeyListerGetter,
    TransformFunc,
    ZeroLengthDeltasObjectError,
)
from jobctl.informers.fifo import FIFOClosedError, PopProcessFunc
from jobctl.informers.store import KeyFunc, KeyFuncError, meta_namespace_key_func

_log = logging.getLogger(__name__)

# Pops slower than this (per delta) are logged when the queue is deep, as upstream traces.
_SLOW_POP_SECONDS = 0.1


@dataclass
class RealFIFOOptions:
    """Port of RealFIFOOptions (the_real_fifo.go).

    ``key_function`` defaults to ``meta_namespace_key_func``. ``known_objects`` is required
    unless ``atomic_events``, and forbidden with it. ``unlock_while_processing`` and
    ``emit_delta_type_bookmark`` need ``atomic_events``. Inconsistent options raise
    ``ValueError`` (upstream panics).
    """

    name: str = ""
    key_function: KeyFunc | None = None
    known_objects: KeyListerGetter | None = None
    transformer: TransformFunc | None = None
    atomic_events: bool = False
    unlock_while_processing: bool = False
    emit_delta_type_bookmark: bool = False


# Port of defaultBatchSize (the_real_fifo.go): the most deltas pop_batch hands over at once.
DEFAULT_BATCH_SIZE = 1000


@dataclass(slots=True)
class ReplacedAllInfo:
    """Port of ReplacedAllInfo (the_real_fifo.go): the object of a ReplacedAll delta."""

    resource_version: str
    # The relisted objects, already transformed.
    objects: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class BookmarkInfo:
    """Port of BookmarkInfo (the_real_fifo.go): the object of a Bookmark delta."""

    resource_version: str


@dataclass(slots=True)
class SyncAllInfo:
    """Port of SyncAllInfo (the_real_fifo.go): the (empty) object of a SyncAll delta."""


class RealFIFO:
    """Port of RealFIFO (the_real_fifo.go): every delta, in arrival order.

    ``_items`` holds the pending deltas oldest first. While the initial list is not fully
    popped, ``_initial_population_count`` counts the deltas of the first replace still
    pending. ``pop``/``pop_batch`` expect a single consumer thread.
    """

    def __init__(self, opts: RealFIFOOptions | None = None) -> None:
        """Port of NewRealFIFOWithOptions (the_real_fifo.go): validate options and build."""
        if opts is None:
            opts = RealFIFOOptions()
        if opts.atomic_events:
            # Atomic consumers reconcile against their own store, which is what lets the
            # lock be released while processing.
            if opts.known_objects is not None:
                raise ValueError(
                    "coding error: knownObjects must not be provided when AtomicEvents is true"
                )
        else:
            if opts.unlock_while_processing:
                raise ValueError(
                    "coding error: UnlockWhileProcessing must be false when AtomicEvents is false"
                )
            if opts.known_objects is None:
                raise ValueError(
                    "coding error: knownObjects must be provided when AtomicEvents is false"
                )
            if opts.emit_delta_type_bookmark:
                raise ValueError(
                    "coding error: EmitDeltaTypeBookmark must be false when AtomicEvents is false"
                )

        self._name = opts.name or "RealFIFO"
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._items: deque[Delta] = deque()
        # Set (once) when the initial sync is complete.
        self._synced = threading.Event()
        self._synced_closed = False
        # True once the first Replace ran, or Add/Update/Delete came first.
        self._populated = False
        # Deltas queued up to the end of the first Replace that are not popped yet.
        self._initial_population_count = 0
        self._key_func: KeyFunc = opts.key_function or meta_namespace_key_func
        # What the consumer already holds; None in atomic mode.
        self._known_objects = opts.known_objects
        # Lets a control loop exit once the queue is drained; writes are not refused.
        self._closed = False
        self._transformer = opts.transformer
        self._batch_size = DEFAULT_BATCH_SIZE
        # One ReplacedAll / SyncAll delta per replace / resync instead of one per object.
        self._emit_atomic_events = opts.atomic_events
        # Release the lock around process(); only with atomic events.
        self._unlock_while_processing = opts.unlock_while_processing
        # Queue Bookmark deltas; only with atomic events, so they cannot overtake a relist.
        self._emit_delta_type_bookmark = opts.emit_delta_type_bookmark

    def close(self) -> None:
        """Port of RealFIFO.Close (the_real_fifo.go): wake every blocked pop so it can return."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _key_of(self, obj: Any) -> str:
        """Port of RealFIFO.keyOf: the key function, also reading Deltas, Delta, tombstones.

        Go twin: RealFIFO.keyOf (the_real_fifo.go).
        """
        if isinstance(obj, Deltas):
            if not obj:
                raise KeyFuncError(obj, ZeroLengthDeltasObjectError())
            obj = obj[-1].object
        if isinstance(obj, Delta):
            obj = obj.object
        if isinstance(obj, DeletedFinalStateUnknown):
            return obj.key
        return self._key_func(obj)

    def has_synced(self) -> bool:
        """Port of RealFIFO.HasSynced: writes came first, or the initial list was popped.

        Go twin: RealFIFO.HasSynced (the_real_fifo.go).
        """
        with self._lock:
            return self._has_synced_locked()

    def has_synced_checker(self) -> RealFIFO:
        """Port of RealFIFO.HasSyncedChecker: the queue is its own DoneChecker.

        Go twin: RealFIFO.HasSyncedChecker (the_real_fifo.go).
        """
        return self

    def name(self) -> str:
        """Port of RealFIFO.Name (the_real_fifo.go) (DoneChecker)."""
        return self._name

    def done(self) -> threading.Event:
        """Port of RealFIFO.Done (the_real_fifo.go) (DoneChecker): set once synced."""
        return self._synced

    def _has_synced_locked(self) -> bool:
        """Port of RealFIFO.hasSynced_locked (the_real_fifo.go)."""
        return self._synced_closed

    def _check_synced_locked(self) -> None:
        """Port of RealFIFO.checkSynced_locked: mark synced once the initial list is out.

        Go twin: RealFIFO.checkSynced_locked (the_real_fifo.go).
        """
        if self._populated and self._initial_population_count == 0 and not self._synced_closed:
            self._synced_closed = True
            self._synced.set()

    def _add_to_items_locked(
        self, delta_action_type: DeltaType, skip_transform: bool, obj: Any
    ) -> None:
        """Port of RealFIFO.addToItems_locked: check the key, transform, append.

        Go twin: RealFIFO.addToItems_locked (the_real_fifo.go).
        """
        # The key is not stored, but an object without one must not enter the queue.
        try:
            self._key_of(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e

        transformer = self._transformer
        if (
            transformer is not None
            and not skip_transform
            and not isinstance(obj, DeletedFinalStateUnknown)
        ):
            obj = transformer(obj)

        self._items.append(Delta(delta_action_type, obj))
        self._cond.notify_all()

    def _add_replace_to_items_locked(self, objs: builtins.list[Any], resource_version: str) -> None:
        """Port of RealFIFO.addReplaceToItemsLocked: one ReplacedAll delta for the list.

        Go twin: RealFIFO.addReplaceToItemsLocked (the_real_fifo.go).
        """
        transformer = self._transformer
        if transformer is not None:
            objs = [transformer(obj) for obj in objs]
        info = ReplacedAllInfo(resource_version=resource_version, objects=objs)
        self._items.append(Delta(REPLACED_ALL, info))
        self._cond.notify_all()

    def _add_resync_to_items_locked(self) -> None:
        """Port of RealFIFO.addResyncToItemsLocked (the_real_fifo.go): one SyncAll delta."""
        self._items.append(Delta(SYNC_ALL, SyncAllInfo()))
        self._cond.notify_all()

    def add(self, obj: Any) -> None:
        """Port of RealFIFO.Add (the_real_fifo.go): queue an Added delta."""
        with self._lock:
            self._populated = True
            self._check_synced_locked()
            self._add_to_items_locked(ADDED, False, obj)

    def update(self, obj: Any) -> None:
        """Port of RealFIFO.Update (the_real_fifo.go): queue an Updated delta."""
        with self._lock:
            self._populated = True
            self._check_synced_locked()
            self._add_to_items_locked(UPDATED, False, obj)

    def delete(self, obj: Any) -> None:
        """Port of RealFIFO.Delete: queue a Deleted delta (always; nothing is collapsed).

        Go twin: RealFIFO.Delete (the_real_fifo.go).
        """
        with self._lock:
            self._populated = True
            self._check_synced_locked()
            self._add_to_items_locked(DELETED, False, obj)

    def is_closed(self) -> bool:
        """Port of RealFIFO.IsClosed (the_real_fifo.go)."""
        with self._lock:
            return self._closed

    def pop(self, process: PopProcessFunc) -> Any:
        """Port of RealFIFO.Pop (the_real_fifo.go): block for the oldest delta and process it alone.

        ``process`` receives (and pop returns) a one-element ``Deltas``. It runs under the
        lock unless ``unlock_while_processing``. The initial-list count drops only after
        processing, so ``has_synced`` never turns true while the last item is in flight.
        Raises ``FIFOClosedError`` when closed and empty.
        """
        with self._cond:
            items = self._items
            while not items:
                if self._closed:
                    raise FIFOClosedError()
                self._cond.wait()

            is_in_initial_list = not self._synced_closed
            item = items.popleft()
            deltas = Deltas((item,))
            try:
                depth = len(items)
                if depth > 10:
                    start = time.monotonic()
                    try:
                        self._while_processing_locked(process, deltas, is_in_initial_list)
                    finally:
                        _log_if_slow(
                            "RealFIFO Pop Process", start, _SLOW_POP_SECONDS, self, item, depth, 1
                        )
                else:
                    self._while_processing_locked(process, deltas, is_in_initial_list)
            finally:
                if self._initial_population_count > 0:
                    self._initial_population_count -= 1
                    self._check_synced_locked()
            return deltas

    def _while_processing_locked(
        self, process: Callable[[Any, bool], None], arg: Any, is_in_initial_list: bool
    ) -> None:
        """Port of RealFIFO.whileProcessing_locked: call ``process``, maybe without the lock.

        The lock is released only with ``unlock_while_processing`` and while fewer than two
        batches are queued, so a slow consumer cannot let the queue grow without bound.

        Go twin: RealFIFO.whileProcessing_locked (the_real_fifo.go).
        """
        if self._unlock_while_processing and len(self._items) < self._batch_size * 2:
            self._lock.release()
            try:
                process(arg, is_in_initial_list)
            finally:
                self._lock.acquire()
        else:
            process(arg, is_in_initial_list)

    def pop_batch(
        self,
        process_batch: Callable[[builtins.list[Delta], bool], None],
        process_single: PopProcessFunc,
    ) -> None:
        """Port of RealFIFO.PopBatch: hand over a run of deltas with distinct keys at once.

        The batch stops at ``_batch_size`` deltas, at the end of the initial list, before a
        repeated key, at a delta type that cannot be batched (taken alone if first), or
        after a delta whose key cannot be computed. A batch of one goes to
        ``process_single`` as a one-element ``Deltas``. Raises ``FIFOClosedError`` when
        closed and empty.

        Go twin: RealFIFO.PopBatch (the_real_fifo.go).
        """
        with self._cond:
            items = self._items
            while not items:
                if self._closed:
                    raise FIFOClosedError()
                self._cond.wait()

            is_in_initial_list = not self._synced_closed
            unique: set[str] = set()
            count = 0
            batch_size = self._batch_size
            initial_population_count = self._initial_population_count
            # Deltas are only ever taken as a prefix of the queue.
            for i, item in enumerate(items):
                if i >= batch_size:
                    break
                if initial_population_count > 0 and i >= initial_population_count:
                    break
                if item.type not in _BATCHABLE:
                    if count == 0:
                        count = 1
                    break
                try:
                    key = self._key_of(item)
                except Exception:
                    # Still popped, as a single pop would; it closes the batch.
                    count += 1
                    break
                if key in unique:
                    break
                unique.add(key)
                count += 1
            deltas = [items.popleft() for _ in range(count)]

            try:
                depth = len(items)
                start = time.monotonic() if depth > 10 else 0.0
                try:
                    if len(deltas) == 1:
                        self._while_processing_locked(
                            process_single, Deltas(deltas), is_in_initial_list
                        )
                    else:
                        self._while_processing_locked(process_batch, deltas, is_in_initial_list)
                finally:
                    if depth > 10:
                        _log_if_slow(
                            "RealFIFO PopBatch Process",
                            start,
                            min(_SLOW_POP_SECONDS * len(deltas), 1.0),
                            self,
                            deltas[0],
                            depth,
                            len(deltas),
                        )
            finally:
                if self._initial_population_count > 0:
                    self._initial_population_count -= len(deltas)
                    self._check_synced_locked()

    def bookmark(self, resource_version: str) -> None:
        """Port of RealFIFO.Bookmark: queue a Bookmark delta if configured to (atomic only).

        Go twin: RealFIFO.Bookmark (the_real_fifo.go).
        """
        if not self._emit_delta_type_bookmark:
            return
        with self._cond:
            self._items.append(Delta(BOOKMARK, BookmarkInfo(resource_version=resource_version)))
            self._cond.notify_all()

    def replace(self, new_items: builtins.list[Any], resource_version: str) -> None:
        """Port of RealFIFO.Replace: queue the relist, with tombstones for missing keys.

        Atomic mode queues a single ReplacedAll delta. Otherwise keys queued or known but
        absent from ``new_items`` first get a Deleted ``DeletedFinalStateUnknown`` delta,
        then every new item a Replaced delta. The first call marks every delta queued so
        far as the initial list.

        Go twin: RealFIFO.Replace (the_real_fifo.go).
        """
        with self._lock:
            if self._emit_atomic_events:
                self._add_replace_to_items_locked(new_items, resource_version)
            else:
                assert self._known_objects is not None
                reconcile_replacement(
                    self._items,
                    self._known_objects,
                    new_items,
                    self._key_of,
                    lambda obj: self._add_to_items_locked(DELETED, True, obj),
                    lambda obj: self._add_to_items_locked(REPLACED, False, obj),
                )

            if not self._populated:
                self._populated = True
                self._initial_population_count = len(self._items)
                self._check_synced_locked()

    def resync(self) -> None:
        """Port of RealFIFO.Resync: SyncAll in atomic mode, else Sync per known, unqueued key.

        Go twin: RealFIFO.Resync (the_real_fifo.go).
        """
        with self._lock:
            if self._emit_atomic_events:
                self._add_resync_to_items_locked()
                return

            if self._known_objects is None:
                return

            keys_in_queue: set[str] = set()
            for item in self._items:
                try:
                    keys_in_queue.add(self._key_of(item.object))
                except Exception as e:
                    raise KeyFuncError(item, e) from e

            for known_key in self._known_objects.list_keys():
                # A queued event carries a newer state than the known object; a Sync with
                # the older one would go back in time.
                if known_key in keys_in_queue:
                    continue
                try:
                    known_obj, exists = self._known_objects.get_by_key(known_key)
                except Exception:
                    _log.exception("Unable to queue object for sync (key=%s)", known_key)
                    continue
                if not exists:
                    _log.error(
                        "Key does not exist in known objects store, unable to queue object "
                        "for sync (key=%s)",
                        known_key,
                    )
                    continue
                try:
                    self._add_to_items_locked(SYNC, True, known_obj)
                except Exception as e:
                    e.add_note("couldn't queue object")
                    raise

    def transformer(self) -> TransformFunc | None:
        """Port of RealFIFO.Transformer (the_real_fifo.go) (TransformingStore)."""
        return self._transformer


# Port of batchable (the_real_fifo.go): delta types pop_batch may group.
_BATCHABLE = frozenset({SYNC, REPLACED, ADDED, UPDATED, DELETED})


def reconcile_replacement(
    queued_items: Iterable[Delta] | None,
    known_objects: KeyListerGetter,
    new_items: builtins.list[Any],
    key_of: Callable[[Any], str],
    on_delete: Callable[[DeletedFinalStateUnknown], None],
    on_replace: Callable[[Any], None],
) -> None:
    """Port of reconcileReplacement (the_real_fifo.go): tombstones, then replacements.

    For each key last seen in ``queued_items`` (in first-queued order) whose newest delta is
    not a deletion, and then each key of ``known_objects`` not queued at all, that is
    missing from ``new_items``: ``on_delete(DeletedFinalStateUnknown(key, last_object))``.
    Then ``on_replace(item)`` for every new item, in order. Also used by the informer to
    apply a ReplacedAll delta to its store (with ``queued_items`` None).
    """
    # Keys of the new list first: deletions must be queued before any replacement.
    new_keys: set[str] = set()
    for obj in new_items:
        try:
            new_keys.add(key_of(obj))
        except Exception as e:
            raise KeyFuncError(obj, e) from e

    # dict keeps first-seen order while the value tracks the newest delta per key.
    last_queued_item_for_key: dict[str, Delta] = {}
    for queued_item in queued_items or ():
        try:
            queued_key = key_of(queued_item.object)
        except Exception as e:
            raise KeyFuncError(queued_item.object, e) from e
        last_queued_item_for_key[queued_key] = queued_item

    # A queued delete stays meaningful either way: the object is gone, or it was deleted
    # and recreated. Only keys whose newest queued delta is not a delete need a tombstone.
    for queued_key, last_queued_item in last_queued_item_for_key.items():
        if queued_key in new_keys:
            continue
        if last_queued_item.type == DELETED:
            continue
        try:
            on_delete(DeletedFinalStateUnknown(key=queued_key, obj=last_queued_item.object))
        except Exception as e:
            e.add_note("couldn't enqueue object")
            raise

    # Deletions of objects the consumer knows but that have nothing queued.
    for known_key in known_objects.list_keys():
        if known_key in new_keys:
            continue
        if known_key in last_queued_item_for_key:
            continue
        deleted_obj: Any
        try:
            deleted_obj, exists = known_objects.get_by_key(known_key)
        except Exception:
            deleted_obj = None
            _log.exception(
                "Error during lookup, placing DeleteFinalStateUnknown marker without object "
                "(key=%s)",
                known_key,
            )
        else:
            if not exists:
                deleted_obj = None
                _log.error(
                    "Key does not exist in known objects store, placing "
                    "DeleteFinalStateUnknown marker without object (key=%s)",
                    known_key,
                )
        try:
            on_delete(DeletedFinalStateUnknown(key=known_key, obj=deleted_obj))
        except Exception as e:
            e.add_note("couldn't enqueue object")
            raise

    for obj in new_items:
        try:
            on_replace(obj)
        except Exception as e:
            e.add_note("couldn't enqueue object")
            raise


def new_real_fifo(
    key_func: KeyFunc | None,
    known_objects: KeyListerGetter | None,
    transformer: TransformFunc | None,
) -> RealFIFO:
    """Port of NewRealFIFO (the_real_fifo.go, deprecated there): classic mode."""
    return RealFIFO(
        RealFIFOOptions(key_function=key_func, known_objects=known_objects, transformer=transformer)
    )


def new_real_fifo_with_options(opts: RealFIFOOptions) -> RealFIFO:
    """Port of NewRealFIFOWithOptions (the_real_fifo.go)."""
    return RealFIFO(opts)


def _log_if_slow(
    what: str,
    start: float,
    threshold: float,
    f: RealFIFO,
    item: Delta,
    depth: int,
    batch_size: int,
) -> None:
    """Log like upstream's utiltrace LogIfLong when a deep-queue pop is slow."""
    elapsed = time.monotonic() - start
    if elapsed <= threshold:
        return
    try:
        key = f._key_of(item)
    except Exception:
        key = ""
    _log.info(
        "%s took %.3fs (ID=%s, Depth=%d, BatchSize=%d, Name=%s, "
        "Reason=slow event handlers blocking the queue)",
        what,
        elapsed,
        key,
        depth,
        batch_size,
        f.name(),
    )
