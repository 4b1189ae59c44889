"""Port of client-go tools/cache/thread_safe_store.go: the locked map behind every cache.

``ThreadSafeMap`` holds key -> object plus the secondary indices, kept up to date on every
write. Objects returned by reads are the stored objects themselves: treat them as
read-only, since changing one neither re-indexes it nor is safe across threads.

Go guards the map with a RWMutex; Python has no reader-writer lock, so one ``RLock``
serialises readers and writers alike. The store-resource-version metric is not ported.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from jobctl.informers.store import (
    TRANSACTION_TYPE_ADD,
    TRANSACTION_TYPE_DELETE,
    TRANSACTION_TYPE_UPDATE,
    Transaction,
    accessor,
)

if TYPE_CHECKING:
    from jobctl.informers.index import Index, Indexers, Indices

_log = logging.getLogger(__name__)

_NO_KEYS: frozenset[str] = frozenset()


class ThreadSafeStore(Protocol):
    """Port of ThreadSafeStore (thread_safe_store.go): indexed storage keyed by string."""

    def add(self, key: str, obj: Any) -> None: ...

    def update(self, key: str, obj: Any) -> None: ...

    def delete(self, key: str) -> None: ...

    def delete_with_object(self, key: str, obj: Any) -> None: ...

    def get(self, key: str) -> tuple[Any, bool]: ...

    def list(self) -> builtins.list[Any]: ...

    def list_keys(self) -> builtins.list[str]: ...

    def replace(self, items: dict[str, Any], resource_version: str) -> None: ...

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]: ...

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]: ...

    def bookmark(self, rv: str) -> None: ...

    def last_store_sync_resource_version(self) -> str: ...

    def list_index_func_values(self, name: str) -> builtins.list[str]: ...

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]: ...

    def get_indexers(self) -> Indexers: ...

    def add_indexers(self, new_indexers: Indexers) -> None: ...

    def resync(self) -> None: ...


@runtime_checkable
class ThreadSafeStoreWithTransaction(ThreadSafeStore, Protocol):
    """Port of ThreadSafeStoreWithTransaction (thread_safe_store.go): batched writes."""

    def transaction(self, *txns: ThreadSafeStoreTransaction) -> None: ...


@dataclass(slots=True)
class ThreadSafeStoreTransaction(Transaction):
    """Port of ThreadSafeStoreTransaction (thread_safe_store.go): a Transaction with its key."""

    key: str


class StoreIndex:
    """Port of storeIndex (thread_safe_store.go): the indices kept beside the items.

    Invariant: for every index name, ``indices[name][value]`` holds exactly the keys whose
    object yields ``value`` from ``indexers[name]``; empty sets are dropped.
    """

    __slots__ = ("indexers", "indices")

    def __init__(self, indexers: Indexers, indices: Indices) -> None:
        self.indexers = indexers
        self.indices = indices

    def reset(self) -> None:
        """Port of storeIndex.reset (thread_safe_store.go): forget every index entry."""
        self.indices = {}

    def get_keys_from_index(self, index_name: str, obj: Any) -> set[str] | frozenset[str]:
        """Port of storeIndex.getKeysFromIndex: keys sharing any indexed value with ``obj``.

        Go twin: storeIndex.getKeysFromIndex (thread_safe_store.go).
        """
        index_func = self.indexers.get(index_name)
        if index_func is None:
            raise ValueError(f"Index with name {index_name} does not exist")
        indexed_values = index_func(obj)
        index = self.indices.get(index_name, {})
        if len(indexed_values) == 1:
            # The common case needs no de-duplication.
            return index.get(indexed_values[0], _NO_KEYS)
        store_key_set: set[str] = set()
        for indexed_value in indexed_values:
            store_key_set.update(index.get(indexed_value, _NO_KEYS))
        return store_key_set

    def get_keys_by_index(self, index_name: str, indexed_value: str) -> set[str] | frozenset[str]:
        """Port of storeIndex.getKeysByIndex: keys whose indexed values include the value.

        Go twin: storeIndex.getKeysByIndex (thread_safe_store.go).
        """
        if self.indexers.get(index_name) is None:
            raise ValueError(f"Index with name {index_name} does not exist")
        return self.indices.get(index_name, {}).get(indexed_value, _NO_KEYS)

    def get_index_values(self, index_name: str) -> builtins.list[str]:
        """Port of storeIndex.getIndexValues: every value present in the named index.

        Go twin: storeIndex.getIndexValues (thread_safe_store.go).
        """
        return builtins.list(self.indices.get(index_name, {}))

    def add_indexers(self, new_indexers: Indexers) -> None:
        """Port of storeIndex.addIndexers: add index functions; names must be new.

        Go twin: storeIndex.addIndexers (thread_safe_store.go).
        """
        conflict = self.indexers.keys() & new_indexers.keys()
        if conflict:
            raise ValueError(f"indexer conflict: {sorted(conflict)}")
        self.indexers.update(new_indexers)

    def update_single_index(self, name: str, old_obj: Any, new_obj: Any, key: str) -> None:
        """Port of storeIndex.updateSingleIndex: move ``key`` within one index.

        Pass only ``new_obj`` for a create, both for an update, only ``old_obj`` for a
        delete. The caller holds the store lock. A failing index function raises, as
        upstream panics.

        Go twin: storeIndex.updateSingleIndex (thread_safe_store.go).
        """
        index_func = self.indexers.get(name)
        if index_func is None:
            raise RuntimeError(f"indexer {name!r} does not exist")
        old_index_values: builtins.list[str] = []
        if old_obj is not None:
            try:
                old_index_values = index_func(old_obj)
            except Exception as e:
                raise RuntimeError(
                    f"unable to calculate an index entry for key {key!r} on index {name!r}: {e}"
                ) from e
        index_values: builtins.list[str] = []
        if new_obj is not None:
            try:
                index_values = index_func(new_obj)
            except Exception as e:
                raise RuntimeError(
                    f"unable to calculate an index entry for key {key!r} on index {name!r}: {e}"
                ) from e

        idx = self.indices.get(name)
        if idx is None:
            idx = {}
            self.indices[name] = idx

        if (
            len(index_values) == 1
            and len(old_index_values) == 1
            and index_values[0] == old_index_values[0]
        ):
            # The usual update: one value, unchanged.
            return

        for value in old_index_values:
            self.delete_key_from_index(key, value, idx)
        for value in index_values:
            self.add_key_to_index(key, value, idx)

    def update_indices(self, old_obj: Any, new_obj: Any, key: str) -> None:
        """Port of storeIndex.updateIndices: ``update_single_index`` for every index.

        Go twin: storeIndex.updateIndices (thread_safe_store.go).
        """
        for name in self.indexers:
            self.update_single_index(name, old_obj, new_obj, key)

    def add_key_to_index(self, key: str, index_value: str, index: Index) -> None:
        """Port of storeIndex.addKeyToIndex (thread_safe_store.go)."""
        keys = index.get(index_value)
        if keys is None:
            keys = set()
            index[index_value] = keys
        keys.add(key)

    def delete_key_from_index(self, key: str, index_value: str, index: Index) -> None:
        """Port of storeIndex.deleteKeyFromIndex; drops emptied sets so indices do not leak.

        Go twin: storeIndex.deleteKeyFromIndex (thread_safe_store.go).
        """
        keys = index.get(index_value)
        if keys is None:
            return
        keys.discard(key)
        if not keys:
            del index[index_value]


def _rv_from_object(obj: Any) -> str | None:
    """Port of rvFromObject: the object's resource version, or None if it has no meta.

    Go twin: rvFromObject (thread_safe_store.go).
    """
    try:
        return accessor(obj).resource_version or ""
    except TypeError:
        return None


class ThreadSafeMap:
    """Port of threadSafeMap (thread_safe_store.go): a dict, its indices and one lock."""

    __slots__ = ("_atomic_fifo_enabled", "_index", "_items", "_lock", "_rv")

    def __init__(self, index: StoreIndex, atomic_fifo_enabled: bool = True) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, Any] = {}
        self._index = index
        # Resource version of the newest write (or bookmark) seen.
        self._rv = ""
        self._atomic_fifo_enabled = atomic_fifo_enabled

    def transaction(self, *txns: ThreadSafeStoreTransaction) -> None:
        """Port of threadSafeMap.Transaction: apply many writes under one lock acquisition.

        Go twin: threadSafeMap.Transaction (thread_safe_store.go).
        """
        if not txns:
            return
        rv = _rv_from_object(txns[-1].object)
        with self._lock:
            start = time.monotonic()
            for txn in txns:
                if txn.type == TRANSACTION_TYPE_ADD:
                    self._add_locked(txn.key, txn.object)
                elif txn.type == TRANSACTION_TYPE_UPDATE:
                    self._update_locked(txn.key, txn.object)
                elif txn.type == TRANSACTION_TYPE_DELETE:
                    self._delete_locked(txn.key)
            if rv is not None:
                self._rv = rv
            elapsed = time.monotonic() - start
            if elapsed > min(0.5 * len(txns), 5.0):
                _log.info(
                    "ThreadSafeMap Transaction Process took %.3fs (Size=%d, Reason=%s)",
                    elapsed,
                    len(txns),
                    "Slow batch process due to too many items",
                )

    def add(self, key: str, obj: Any) -> None:
        """Port of threadSafeMap.Add (thread_safe_store.go): same as update."""
        self.update(key, obj)

    def _add_locked(self, key: str, obj: Any) -> None:
        """Port of threadSafeMap.addLocked (thread_safe_store.go)."""
        self._update_locked(key, obj)

    def update(self, key: str, obj: Any) -> None:
        """Port of threadSafeMap.Update: store ``obj`` under ``key`` and re-index it.

        Go twin: threadSafeMap.Update (thread_safe_store.go).
        """
        rv = _rv_from_object(obj)
        with self._lock:
            self._update_locked(key, obj)
            if rv is not None:
                self._rv = rv

    def _update_locked(self, key: str, obj: Any) -> None:
        """Port of threadSafeMap.updateLocked (thread_safe_store.go)."""
        items = self._items
        old_object = items.get(key)
        items[key] = obj
        self._index.update_indices(old_object, obj, key)

    def delete(self, key: str) -> None:
        """Port of threadSafeMap.Delete: remove ``key`` without touching the resource version.

        Go twin: threadSafeMap.Delete (thread_safe_store.go).
        """
        self.delete_with_object(key, None)

    def delete_with_object(self, key: str, obj: Any) -> None:
        """Port of threadSafeMap.DeleteWithObject: remove ``key``; ``obj``'s RV becomes current.

        Go twin: threadSafeMap.DeleteWithObject (thread_safe_store.go).
        """
        rv = _rv_from_object(obj) if obj is not None else None
        with self._lock:
            self._delete_locked(key)
            if rv is not None:
                self._rv = rv

    def _delete_locked(self, key: str) -> None:
        """Port of threadSafeMap.deleteLocked (thread_safe_store.go)."""
        items = self._items
        if key in items:
            self._index.update_indices(items[key], None, key)
            del items[key]

    def get(self, key: str) -> tuple[Any, bool]:
        """Port of threadSafeMap.Get (thread_safe_store.go): ``(item, exists)``."""
        with self._lock:
            try:
                return self._items[key], True
            except KeyError:
                return None, False

    def list(self) -> builtins.list[Any]:
        """Port of threadSafeMap.List (thread_safe_store.go): every stored object."""
        with self._lock:
            return builtins.list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        """Port of threadSafeMap.ListKeys (thread_safe_store.go): every stored key."""
        with self._lock:
            return builtins.list(self._items)

    def replace(self, items: dict[str, Any], resource_version: str) -> None:
        """Port of threadSafeMap.Replace: take ownership of ``items`` and rebuild every index.

        Go twin: threadSafeMap.Replace (thread_safe_store.go).
        """
        with self._lock:
            self._items = items
            self._rv = resource_version
            self._index.reset()
            update_indices = self._index.update_indices
            for key, item in items.items():
                update_indices(None, item, key)

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]:
        """Port of threadSafeMap.Index: objects sharing any indexed value with ``obj``.

        Go twin: threadSafeMap.Index (thread_safe_store.go).
        """
        with self._lock:
            store_key_set = self._index.get_keys_from_index(index_name, obj)
            items = self._items
            return [items[k] for k in store_key_set]

    def last_store_sync_resource_version(self) -> str:
        """Port of threadSafeMap.LastStoreSyncResourceVersion; empty unless AtomicFIFO is on.

        Go twin: threadSafeMap.LastStoreSyncResourceVersion (thread_safe_store.go).
        """
        if not self._atomic_fifo_enabled:
            return ""
        with self._lock:
            return self._rv

    def bookmark(self, rv: str) -> None:
        """Port of threadSafeMap.Bookmark: record the newest resource version seen.

        Go twin: threadSafeMap.Bookmark (thread_safe_store.go).
        """
        with self._lock:
            self._rv = rv

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]:
        """Port of threadSafeMap.ByIndex: objects whose indexed values include the value.

        Go twin: threadSafeMap.ByIndex (thread_safe_store.go).
        """
        with self._lock:
            keys = self._index.get_keys_by_index(index_name, indexed_value)
            items = self._items
            return [items[k] for k in keys]

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]:
        """Port of threadSafeMap.IndexKeys: sorted keys whose indexed values include the value.

        Go twin: threadSafeMap.IndexKeys (thread_safe_store.go).
        """
        with self._lock:
            keys = self._index.get_keys_by_index(index_name, indexed_value)
            return sorted(keys)

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """Port of threadSafeMap.ListIndexFuncValues: every value in the named index.

        Go twin: threadSafeMap.ListIndexFuncValues (thread_safe_store.go).
        """
        with self._lock:
            return self._index.get_index_values(index_name)

    def get_indexers(self) -> Indexers:
        """Port of threadSafeMap.GetIndexers: the index functions (not locked, as upstream).

        Go twin: threadSafeMap.GetIndexers (thread_safe_store.go).
        """
        return self._index.indexers

    def add_indexers(self, new_indexers: Indexers) -> None:
        """Port of threadSafeMap.AddIndexers: add index functions and index existing items.

        Go twin: threadSafeMap.AddIndexers (thread_safe_store.go).
        """
        with self._lock:
            self._index.add_indexers(new_indexers)
            for key, item in self._items.items():
                for name in new_indexers:
                    self._index.update_single_index(name, None, item, key)

    def resync(self) -> None:
        """Port of threadSafeMap.Resync (thread_safe_store.go): nothing to do."""


def new_thread_safe_store(
    indexers: Indexers, indices: Indices, *, atomic_fifo_enabled: bool = True
) -> ThreadSafeMap:
    """Port of NewThreadSafeStore (thread_safe_store.go).

    ``atomic_fifo_enabled`` stands for client-go's AtomicFIFO gate (on by default).
    """
    return ThreadSafeMap(StoreIndex(indexers, indices), atomic_fifo_enabled)
