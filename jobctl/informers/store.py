"""Port of client-go tools/cache/store.go and object-names.go.

A ``Store`` maps string keys to objects; ``Cache`` is the ordinary implementation, a key
function in front of a ``ThreadSafeMap``. Keys are ``"namespace/name"`` (or ``"name"`` for
cluster-scoped objects), computed by ``meta_namespace_key_func``.

Go's ``(value, error)`` results become raised exceptions: a failing key function surfaces
as ``KeyFuncError``. ``Get``/``GetByKey`` return ``(item, exists)`` tuples.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from kubernetes.client import V1ObjectMeta

from jobctl.informers.type_assertion import implements

if TYPE_CHECKING:
    from jobctl.informers.delta_fifo import TransformFunc
    from jobctl.informers.index import Indexer, Indexers
    from jobctl.informers.thread_safe_store import ThreadSafeStore


class Store(Protocol):
    """Port of Store (store.go): keyed object storage the reflector and informers write to."""

    def add(self, obj: Any) -> None: ...

    def update(self, obj: Any) -> None: ...

    def delete(self, obj: Any) -> None: ...

    def list(self) -> builtins.list[Any]: ...

    def list_keys(self) -> builtins.list[str]: ...

    def last_store_sync_resource_version(self) -> str: ...

    def bookmark(self, rv: str) -> None: ...

    def get(self, obj: Any) -> tuple[Any, bool]: ...

    def get_by_key(self, key: str) -> tuple[Any, bool]: ...

    def replace(self, items: builtins.list[Any], resource_version: str) -> None: ...

    def resync(self) -> None: ...


# Port of TransactionType and its constants (store.go).
TransactionType = str
TRANSACTION_TYPE_ADD: TransactionType = "Add"
TRANSACTION_TYPE_UPDATE: TransactionType = "Update"
TRANSACTION_TYPE_DELETE: TransactionType = "Delete"


@dataclass(slots=True)
class Transaction:
    """Port of Transaction (store.go): one add, update or delete applied in a batch."""

    object: Any
    type: TransactionType


@runtime_checkable
class TransactionStore(Protocol):
    """Port of TransactionStore (store.go): a store that applies many writes under one lock."""

    def transaction(self, *txns: Transaction) -> TransactionError | None: ...


class TransactionError(Exception):
    """Port of TransactionError (store.go): which transactions of a batch were applied."""

    def __init__(
        self,
        successful_indices: builtins.list[int] | None = None,
        total_transactions: int = 0,
        errors: builtins.list[BaseException] | None = None,
    ) -> None:
        self.successful_indices: builtins.list[int] = (
            successful_indices if successful_indices is not None else []
        )
        self.total_transactions = total_transactions
        self.errors: builtins.list[BaseException] = errors if errors is not None else []
        super().__init__(self.error())

    def error(self) -> str:
        """Port of TransactionError.Error (store.go): how many failed and why."""
        failed = self.total_transactions - len(self.successful_indices)
        return (
            f"failed to execute ({failed}/{self.total_transactions}) transactions failed due to: "
            f"{[str(e) for e in self.errors]}"
        )

    def __str__(self) -> str:
        return self.error()


# Port of KeyFunc (store.go): a deterministic object -> key mapping; raises when it cannot.
KeyFunc = Callable[[Any], str]


class KeyFuncError(Exception):
    """Port of KeyError (store.go): a key function failed; carries the object at fault."""

    def __init__(self, obj: Any, err: BaseException) -> None:
        self.obj = obj
        self.err = err
        super().__init__(f"couldn't create key for object {obj!r}: {err}")
        self.__cause__ = err

    def unwrap(self) -> BaseException:
        """Port of KeyError.Unwrap (store.go): the key function's own error."""
        return self.err


class ExplicitKey(str):
    """Port of ExplicitKey (store.go): a key handed to key functions instead of an object."""

    __slots__ = ()


_EMPTY_META = V1ObjectMeta()


def accessor(obj: Any) -> Any:
    """Port of meta.Accessor (apimachinery/pkg/api/meta): the object's ObjectMeta.

    Accepts the Kubernetes models (anything with a ``metadata`` attribute; ``None``
    metadata reads as an empty ObjectMeta, like Go's zero value) and a bare
    ``V1ObjectMeta``. Raises ``TypeError`` for anything else.
    """
    if isinstance(obj, V1ObjectMeta):
        return obj
    try:
        meta = obj.metadata
    except AttributeError:
        raise TypeError(
            f"object does not implement the Object interfaces: {type(obj).__name__}"
        ) from None
    return _EMPTY_META if meta is None else meta


def meta_namespace_key_func(obj: object) -> str:
    """Port of MetaNamespaceKeyFunc (store.go): ``namespace/name``, or ``name`` if unnamespaced.

    An ``ExplicitKey`` is returned as is. The encoding is ``str(object_to_name(obj))``,
    computed inline because every queued event passes through here.
    """
    if isinstance(obj, ExplicitKey):
        return str(obj)
    try:
        meta = accessor(obj)
    except TypeError as e:
        raise ValueError(f"object has no meta: {e}") from e
    namespace: str | None = meta.namespace
    name: str = meta.name or ""
    if namespace:
        return namespace + "/" + name
    return name


def object_to_name(obj: object) -> ObjectName:
    """Port of ObjectToName (store.go): the structured name of an API object."""
    try:
        meta = accessor(obj)
    except TypeError as e:
        raise ValueError(f"object has no meta: {e}") from e
    return meta_object_to_name(meta)


def meta_object_to_name(obj: Any) -> ObjectName:
    """Port of MetaObjectToName (store.go): ObjectName from an ObjectMeta."""
    namespace = obj.namespace or ""
    name = obj.name or ""
    if namespace:
        return ObjectName(namespace=namespace, name=name)
    return ObjectName(namespace="", name=name)


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """Port of SplitMetaNamespaceKey (store.go): undo ``meta_namespace_key_func``.

    Raises ``ValueError`` when the key has more than one ``/``.
    """
    parts = key.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(f"unexpected key format: {key!r}")


class Cache:
    """Port of cache (store.go): Store and Indexer over a ThreadSafeStore and a key function."""

    __slots__ = ("_cache_storage", "_key_func", "_transformer")

    def __init__(self, key_func: KeyFunc) -> None:
        # The thread-safe map is the only state; it does all the locking.
        self._cache_storage: ThreadSafeStore
        self._key_func = key_func
        # Applied to every object put in the cache.
        self._transformer: TransformFunc | None = None

    def transaction(self, *txns: Transaction) -> TransactionError | None:
        """Port of cache.Transaction (store.go): key every transaction, then apply them in one lock.

        Returns a ``TransactionError`` naming the transactions that were applied when some
        objects had no key (or the storage cannot batch), else ``None``.
        """
        txn_store = self._cache_storage
        if not implements(txn_store, thread_safe_store.ThreadSafeStoreWithTransaction):
            return TransactionError(
                total_transactions=len(txns),
                errors=[RuntimeError("transaction not supported")],
            )
        keyed_txns: builtins.list[thread_safe_store.ThreadSafeStoreTransaction] = []
        successful_indices: builtins.list[int] = []
        errs: builtins.list[BaseException] = []
        for i, txn in enumerate(txns):
            try:
                key = self._key_func(txn.object)
            except Exception as e:
                errs.append(KeyFuncError(txn.object, e))
                continue
            successful_indices.append(i)
            keyed_txns.append(
                thread_safe_store.ThreadSafeStoreTransaction(txn.object, txn.type, key)
            )
        cast(thread_safe_store.ThreadSafeStoreWithTransaction, txn_store).transaction(*keyed_txns)
        if errs:
            return TransactionError(
                successful_indices=successful_indices,
                total_transactions=len(txns),
                errors=errs,
            )
        return None

    def add(self, obj: Any) -> None:
        """Port of cache.Add (store.go): key, transform and store the object."""
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        if self._transformer is not None:
            obj = _transform(self._transformer, obj)
        self._cache_storage.add(key, obj)

    def update(self, obj: Any) -> None:
        """Port of cache.Update (store.go): key, transform and overwrite the object."""
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        if self._transformer is not None:
            obj = _transform(self._transformer, obj)
        self._cache_storage.update(key, obj)

    def delete(self, obj: Any) -> None:
        """Port of cache.Delete: remove the object's key, recording its resource version.

        Go twin: cache.Delete (store.go).
        """
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        self._cache_storage.delete_with_object(key, obj)

    def list(self) -> builtins.list[Any]:
        """Port of cache.List (store.go): every stored object (treat them as read-only)."""
        return self._cache_storage.list()

    def list_keys(self) -> builtins.list[str]:
        """Port of cache.ListKeys (store.go): every stored key."""
        return self._cache_storage.list_keys()

    def last_store_sync_resource_version(self) -> str:
        """Port of cache.LastStoreSyncResourceVersion: newest resource version written.

        Go twin: cache.LastStoreSyncResourceVersion (store.go).
        """
        return self._cache_storage.last_store_sync_resource_version()

    def bookmark(self, rv: str) -> None:
        """Port of cache.Bookmark (store.go): record a resource version seen without an object."""
        self._cache_storage.bookmark(rv)

    def get_indexers(self) -> Indexers:
        """Port of cache.GetIndexers (store.go): the index functions by name."""
        return self._cache_storage.get_indexers()

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]:
        """Port of cache.Index (store.go): objects sharing any indexed value with ``obj``."""
        return self._cache_storage.index(index_name, obj)

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]:
        """Port of cache.IndexKeys (store.go): keys whose objects carry ``indexed_value``."""
        return self._cache_storage.index_keys(index_name, indexed_value)

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        """Port of cache.ListIndexFuncValues (store.go): every value present in the named index."""
        return self._cache_storage.list_index_func_values(index_name)

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]:
        """Port of cache.ByIndex: objects whose indexed values include ``indexed_value``.

        Go twin: cache.ByIndex (store.go).
        """
        return self._cache_storage.by_index(index_name, indexed_value)

    def add_indexers(self, new_indexers: Indexers) -> None:
        """Port of cache.AddIndexers (store.go): add index functions, indexing existing objects."""
        self._cache_storage.add_indexers(new_indexers)

    def get(self, obj: Any) -> tuple[Any, bool]:
        """Port of cache.Get: the stored object with ``obj``'s key and whether it exists.

        Go twin: cache.Get (store.go).
        """
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        return self.get_by_key(key)

    def get_by_key(self, key: str) -> tuple[Any, bool]:
        """Port of cache.GetByKey: the stored object for ``key`` and whether it exists.

        Go twin: cache.GetByKey (store.go).
        """
        return self._cache_storage.get(key)

    def replace(self, items: builtins.list[Any], resource_version: str) -> None:
        """Port of cache.Replace: swap the whole content for ``items`` at ``resource_version``.

        Go twin: cache.Replace (store.go).
        """
        keyed: dict[str, Any] = {}
        key_func = self._key_func
        transformer = self._transformer
        for item in items:
            try:
                key = key_func(item)
            except Exception as e:
                raise KeyFuncError(item, e) from e
            if transformer is not None:
                item = _transform(transformer, item)
            keyed[key] = item
        self._cache_storage.replace(keyed, resource_version)

    def resync(self) -> None:
        """Port of cache.Resync (store.go): nothing to do for a plain cache."""


def _transform(transformer: TransformFunc, obj: Any) -> Any:
    try:
        return transformer(obj)
    except Exception as e:
        e.add_note("transforming")
        raise


# Port of StoreOption (store.go).
StoreOption = Callable[[Cache], None]


def with_transformer(transformer: TransformFunc) -> StoreOption:
    """Port of WithTransformer (store.go): run ``transformer`` on every object stored."""

    def apply(c: Cache) -> None:
        c._transformer = transformer

    return apply


def new_store(key_func: KeyFunc, *opts: StoreOption, atomic_fifo_enabled: bool = True) -> Store:
    """Port of NewStore (store.go): a Store without indices.

    ``atomic_fifo_enabled`` stands for client-go's AtomicFIFO feature gate (default on),
    which decides whether ``last_store_sync_resource_version`` reports anything.
    """
    c = Cache(key_func)
    for opt in opts:
        opt(c)
    c._cache_storage = thread_safe_store.new_thread_safe_store(
        {}, {}, atomic_fifo_enabled=atomic_fifo_enabled
    )
    return c


def new_indexer(
    key_func: KeyFunc,
    indexers: Indexers,
    *opts: StoreOption,
    atomic_fifo_enabled: bool = True,
) -> Indexer:
    """Port of NewIndexer (store.go): a Store that keeps the named indices up to date."""
    c = Cache(key_func)
    for opt in opts:
        opt(c)
    c._cache_storage = thread_safe_store.new_thread_safe_store(
        indexers, {}, atomic_fifo_enabled=atomic_fifo_enabled
    )
    return c


# object-names.go


@dataclass(frozen=True, slots=True)
class ObjectName:
    """Port of ObjectName (object-names.go): namespace and name of an object of some kind."""

    namespace: str = ""
    name: str = ""

    def parts(self) -> tuple[str, str]:
        """Port of ObjectName.Parts (object-names.go): ``(namespace, name)``."""
        return self.namespace, self.name

    def __str__(self) -> str:
        """Port of ObjectName.String: the same encoding as ``meta_namespace_key_func``.

        Go twin: ObjectName.String (object-names.go).
        """
        if self.namespace:
            return self.namespace + "/" + self.name
        return self.name


def new_object_name(namespace: str, name: str) -> ObjectName:
    """Port of NewObjectName (object-names.go)."""
    return ObjectName(namespace=namespace, name=name)


def parse_object_name(s: str) -> ObjectName:
    """Port of ParseObjectName (object-names.go): inverse of ``str(ObjectName)``."""
    namespace, name = split_meta_namespace_key(s)
    return ObjectName(namespace=namespace, name=name)


# At the bottom: thread_safe_store subclasses this module's Transaction, so it can only be
# imported once the names above exist; read as a module object at call time.
from jobctl.informers import thread_safe_store  # noqa: E402
