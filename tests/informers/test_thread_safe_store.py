"""Port of client-go tools/cache/thread_safe_store_test.go."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta

from jobctl.informers.index import Indexers
from jobctl.informers.store import TRANSACTION_TYPE_UPDATE
from jobctl.informers.thread_safe_store import (
    ThreadSafeMap,
    ThreadSafeStoreTransaction,
    new_thread_safe_store,
)


def test_thread_safe_store_delete_removes_empty_sets_from_index() -> None:
    test_indexer = "testIndexer"
    indexers: Indexers = {test_indexer: lambda obj: [obj]}
    store = new_thread_safe_store(indexers, {})

    test_key = "testKey"
    store.add(test_key, test_key)

    # There should be a set for testKey with one element in the index.
    keys = store._index.indices[test_indexer][test_key]
    assert len(keys) == 1

    store.delete(test_key)
    assert test_key not in store._index.indices[test_indexer], (
        "Index backing string set not deleted from index"
    )


def test_thread_safe_store_add_keeps_non_empty_set_post_delete_from_index() -> None:
    test_indexer = "testIndexer"
    test_index = "testIndex"
    indexers: Indexers = {test_indexer: lambda obj: [test_index]}
    store = new_thread_safe_store(indexers, {})

    store.add("retain", "retain")
    store.add("delete", "delete")

    keys = store._index.indices[test_indexer][test_index]
    assert len(keys) == 2

    store.delete("delete")
    assert test_index in store._index.indices[test_indexer], (
        "Index backing string set erroneously deleted from index"
    )
    assert len(store._index.indices[test_indexer][test_index]) == 1


def test_thread_safe_store_indexing_functions_with_multiple_values() -> None:
    test_indexer = "testIndexer"
    indexers: Indexers = {test_indexer: lambda obj: obj.split(",")}
    store = new_thread_safe_store(indexers, {})

    store.add("key1", "foo")
    store.add("key2", "bar")

    def compare(key: str, expected: list[str]) -> None:
        values = sorted(store._index.indices[test_indexer].get(key, set()))
        assert values == expected, f"unexpected index for key {key}"

    compare("foo", ["key1"])
    compare("bar", ["key2"])

    store.update("key2", "foo,bar")

    compare("foo", ["key1", "key2"])
    compare("bar", ["key2"])

    store.update("key1", "foo,bar")

    compare("foo", ["key1", "key2"])
    compare("bar", ["key1", "key2"])

    store.add("key3", "foo,bar,baz")

    compare("foo", ["key1", "key2", "key3"])
    compare("bar", ["key1", "key2", "key3"])
    compare("baz", ["key3"])

    store.update("key1", "foo")

    compare("foo", ["key1", "key2", "key3"])
    compare("bar", ["key2", "key3"])
    compare("baz", ["key3"])

    store.update("key2", "bar")

    compare("foo", ["key1", "key3"])
    compare("bar", ["key2", "key3"])
    compare("baz", ["key3"])

    store.delete("key1")

    compare("foo", ["key3"])
    compare("bar", ["key2", "key3"])
    compare("baz", ["key3"])

    store.delete("key3")

    compare("foo", [])
    compare("bar", ["key2"])
    compare("baz", [])


def _meta(rv: str) -> V1ObjectMeta:
    return V1ObjectMeta(resource_version=rv)


def _rv_initial_state(store: ThreadSafeMap) -> None:
    assert store.last_store_sync_resource_version() == ""


def _rv_add_update_and_delete(store: ThreadSafeMap) -> None:
    store.add("key1", _meta("10"))
    assert store.last_store_sync_resource_version() == "10"

    # Same RV again.
    store.add("key3", _meta("10"))
    assert store.last_store_sync_resource_version() == "10"

    store.add("key4", _meta("20"))
    assert store.last_store_sync_resource_version() == "20"

    # Deleting an earlier object with a newer RV.
    store.delete_with_object("key4", _meta("30"))
    assert store.last_store_sync_resource_version() == "30"

    # Objects without meta leave the RV alone.
    store.add("key5", "just a string")
    assert store.last_store_sync_resource_version() == "30"

    store.add("key6", _meta("40"))
    assert store.last_store_sync_resource_version() == "40"

    # A delete without an object leaves the RV alone.
    store.delete("key6")
    assert store.last_store_sync_resource_version() == "40"

    txns = [
        ThreadSafeStoreTransaction(_meta("40"), TRANSACTION_TYPE_UPDATE, "key9"),
        ThreadSafeStoreTransaction(_meta("30"), TRANSACTION_TYPE_UPDATE, "key10"),
        ThreadSafeStoreTransaction(_meta("50"), TRANSACTION_TYPE_UPDATE, "key11"),
    ]
    store.transaction(*txns)
    assert store.last_store_sync_resource_version() == "50"


def _rv_replace(store: ThreadSafeMap) -> None:
    store.add("key1", _meta("10"))
    assert store.last_store_sync_resource_version() == "10"

    items: dict[str, Any] = {"key3": _meta("40"), "key2": _meta("30")}
    store.replace(items, "50")
    assert store.last_store_sync_resource_version() == "50"


def _rv_delete(store: ThreadSafeMap) -> None:
    store.add("key1", _meta("10"))
    assert store.last_store_sync_resource_version() == "10"

    store.delete_with_object("key1", _meta("20"))
    assert store.last_store_sync_resource_version() == "20"


@pytest.mark.parametrize(
    "run",
    [
        pytest.param(_rv_initial_state, id="Initial state"),
        pytest.param(_rv_add_update_and_delete, id="Add Update and Delete"),
        pytest.param(_rv_replace, id="Replace"),
        pytest.param(_rv_delete, id="Delete"),
    ],
)
def test_thread_safe_store_rv(run: Callable[[ThreadSafeMap], None]) -> None:
    run(new_thread_safe_store({}, {}))


# Not in thread_safe_store_test.go: the read paths and index bookkeeping on replace.


def test_thread_safe_store_reads_and_replace_rebuild_indices() -> None:
    indexers: Indexers = {"first": lambda obj: [obj[0]]}
    store = new_thread_safe_store(indexers, {})
    store.add("k1", "apple")
    store.add("k2", "avocado")
    store.add("k3", "banana")

    assert store.get("k1") == ("apple", True)
    assert store.get("missing") == (None, False)
    assert sorted(store.list_keys()) == ["k1", "k2", "k3"]
    assert sorted(store.list()) == ["apple", "avocado", "banana"]
    assert store.index_keys("first", "a") == ["k1", "k2"]
    assert sorted(store.by_index("first", "a")) == ["apple", "avocado"]
    assert sorted(store.index("first", "axe")) == ["apple", "avocado"]
    assert sorted(store.list_index_func_values("first")) == ["a", "b"]

    store.replace({"k4": "cherry"}, "")
    assert store.index_keys("first", "a") == []
    assert store.index_keys("first", "c") == ["k4"]

    with pytest.raises(ValueError, match="does not exist"):
        store.by_index("nope", "a")


def test_thread_safe_store_add_indexers_indexes_existing_items() -> None:
    store = new_thread_safe_store({"first": lambda obj: [obj[0]]}, {})
    store.add("k1", "apple")
    store.add_indexers({"last": lambda obj: [obj[-1]]})
    assert store.index_keys("last", "e") == ["k1"]
    assert set(store.get_indexers()) == {"first", "last"}
    with pytest.raises(ValueError, match="indexer conflict"):
        store.add_indexers({"first": lambda obj: [obj]})
