"""Port of client-go tools/cache/index.go: the Indexer contract and the namespace index.

Three kinds of strings meet here: storage keys (``"ns/name"``), index names (such as
``NAMESPACE_INDEX``) and indexed values (what an ``IndexFunc`` computes from an object).
The typed-indexer generics added upstream after v0.36 are not ported.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, Protocol

from jobctl.informers.store import KeyFunc, Store, accessor


class Indexer(Store, Protocol):
    """Port of Indexer (index.go): a Store with named secondary indices."""

    def index(self, index_name: str, obj: Any) -> builtins.list[Any]: ...

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]: ...

    def list_index_func_values(self, index_name: str) -> builtins.list[str]: ...

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[Any]: ...

    def get_indexers(self) -> Indexers: ...

    def add_indexers(self, new_indexers: Indexers) -> None: ...


# Port of IndexFunc (index.go): the indexed values of an object; raises when it cannot.
IndexFunc = Callable[[Any], list[str]]


def index_func_to_key_func_adapter(index_func: IndexFunc) -> KeyFunc:
    """Port of IndexFuncToKeyFuncAdapter (index.go): use a one-value index function as a key."""

    def key_func(obj: Any) -> str:
        index_keys = index_func(obj)
        if len(index_keys) > 1:
            raise ValueError(f"too many keys: {index_keys}")
        if len(index_keys) == 0:
            raise ValueError("unexpected empty indexKeys")
        return index_keys[0]

    return key_func


# Port of NamespaceIndex (index.go): the name of the by-namespace index.
NAMESPACE_INDEX = "namespace"


def meta_namespace_index_func(obj: Any) -> list[str]:
    """Port of MetaNamespaceIndexFunc (index.go): index an object by its namespace."""
    try:
        meta = accessor(obj)
    except TypeError as e:
        raise ValueError(f"object has no meta: {e}") from e
    return [meta.namespace or ""]


# Port of index (index.go): indexed value -> set of storage keys.
Index = dict[str, set[str]]

# Port of Indexers (index.go): index name -> IndexFunc.
Indexers = dict[str, IndexFunc]

# Port of Indices (index.go): index name -> Index.
Indices = dict[str, Index]
