"""Port of client-go tools/cache/store_test.go (plus key-function checks on real models)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes.client import V1Job, V1ObjectMeta, V1Pod

from jobctl.informers.fifo import FIFO
from jobctl.informers.index import Indexer, Indexers
from jobctl.informers.store import (
    TRANSACTION_TYPE_ADD,
    ExplicitKey,
    KeyFuncError,
    ObjectName,
    Store,
    Transaction,
    TransactionError,
    TransactionStore,
    meta_namespace_key_func,
    new_indexer,
    new_store,
    object_to_name,
    split_meta_namespace_key,
    with_transformer,
)


@dataclass
class _TestStoreObject:
    id: str
    val: str


class _ListableFIFO(FIFO):
    """The read methods fifo_test.go adds to FIFO so it can run the Store tests."""

    def list(self) -> builtins.list[Any]:
        with self._lock:
            return list(self._items.values())

    def last_store_sync_resource_version(self) -> str:
        return ""

    def bookmark(self, rv: str) -> None:
        pass

    def list_keys(self) -> builtins.list[str]:
        with self._lock:
            return list(self._items)

    def get(self, obj: Any) -> tuple[Any, bool]:
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        return self.get_by_key(key)

    def get_by_key(self, key: str) -> tuple[Any, bool]:
        with self._lock:
            if key in self._items:
                return self._items[key], True
            return None, False


def _mk_obj(id: str, val: str) -> _TestStoreObject:
    return _TestStoreObject(id=id, val=val)


def _do_test_store(store: Store) -> None:
    store.add(_mk_obj("foo", "bar"))
    item, ok = store.get(_mk_obj("foo", ""))
    assert ok, "didn't find inserted item"
    assert item.val == "bar"

    store.update(_mk_obj("foo", "baz"))
    item, ok = store.get(_mk_obj("foo", ""))
    assert ok, "didn't find inserted item"
    assert item.val == "baz"

    store.delete(_mk_obj("foo", ""))
    _, ok = store.get(_mk_obj("foo", ""))
    assert not ok, "found deleted item??"

    # List.
    store.add(_mk_obj("a", "b"))
    store.add(_mk_obj("c", "d"))
    store.add(_mk_obj("e", "e"))
    found = [item.val for item in store.list()]
    assert sorted(found) == ["b", "d", "e"]

    # Replace.
    store.replace([_mk_obj("foo", "foo"), _mk_obj("bar", "bar")], "0")
    found = [item.val for item in store.list()]
    assert sorted(found) == ["bar", "foo"]


def _do_test_index(indexer: Indexer) -> None:
    expected = {"b": {"a", "c"}, "f": {"e"}, "h": {"g"}}
    indexer.add(_mk_obj("a", "b"))
    indexer.add(_mk_obj("c", "b"))
    indexer.add(_mk_obj("e", "f"))
    indexer.add(_mk_obj("g", "h"))
    for k, v in expected.items():
        index_results = indexer.index("by_val", _mk_obj("", k))
        found = {item.id for item in index_results}
        assert found >= v, f"missing items, index {k}, expected {sorted(v)} but found {found}"


def _test_store_key_func(obj: Any) -> str:
    key: str = obj.id
    return key


def _test_store_index_func(obj: Any) -> list[str]:
    return [obj.val]


def _test_store_indexers() -> Indexers:
    return {"by_val": _test_store_index_func}


def test_cache() -> None:
    _do_test_store(new_store(_test_store_key_func))


def test_cache_with_transformer() -> None:
    transformer_called = False

    def transformer(i: Any) -> Any:
        nonlocal transformer_called
        transformer_called = True
        if not isinstance(i, _TestStoreObject):
            raise TypeError("wrong object type")
        return i

    _do_test_store(new_store(_test_store_key_func, with_transformer(transformer)))
    assert transformer_called, "informer was not called"


def test_fifo_cache() -> None:
    _do_test_store(_ListableFIFO(_test_store_key_func))


def test_index() -> None:
    _do_test_index(new_indexer(_test_store_key_func, _test_store_indexers()))


def test_key_error() -> None:
    obj = 100
    err = ValueError("error")
    key_err = KeyFuncError(obj, err)

    assert key_err.unwrap() is err
    assert key_err.__cause__ is err

    nested_key_err = KeyFuncError(obj, key_err)
    assert nested_key_err.unwrap() is key_err
    assert nested_key_err.unwrap().__cause__ is err


_SUCCESS_OBJ1 = 1
_SUCCESS_OBJ2 = 2
_FAIL_OBJ1 = 3
_FAIL_OBJ2 = 4


@pytest.mark.parametrize(
    ("objs", "expected_successful_indices"),
    [
        pytest.param(
            [_SUCCESS_OBJ1, _SUCCESS_OBJ2], None, id="txn all success objects should work"
        ),
        pytest.param([_FAIL_OBJ1, _FAIL_OBJ2], [], id="txn all fail objects should work"),
        pytest.param(
            [_SUCCESS_OBJ1, _FAIL_OBJ1, _SUCCESS_OBJ2, _FAIL_OBJ2],
            [0, 2],
            id="txn mix success and fail objects should work",
        ),
    ],
)
def test_cache_transaction_should_index_errors(
    objs: list[int], expected_successful_indices: list[int] | None
) -> None:
    def test_key_func(obj: Any) -> str:
        if obj in (_SUCCESS_OBJ1, _SUCCESS_OBJ2):
            return ""
        raise ValueError("test error")

    test_store = new_store(test_key_func)
    assert isinstance(test_store, TransactionStore)
    txns = [Transaction(object=o, type=TRANSACTION_TYPE_ADD) for o in objs]
    txn_err = test_store.transaction(*txns)
    if expected_successful_indices is not None:
        assert isinstance(txn_err, TransactionError)
        assert txn_err.successful_indices == expected_successful_indices
        assert txn_err.total_transactions == len(objs)
        return
    assert txn_err is None


# Not in store_test.go: the default key function on the models jobctl stores.


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        pytest.param(V1Pod(metadata=V1ObjectMeta(namespace="ns", name="p")), "ns/p", id="pod"),
        pytest.param(V1Job(metadata=V1ObjectMeta(namespace="ns", name="j")), "ns/j", id="job"),
        pytest.param(V1Pod(metadata=V1ObjectMeta(name="cluster")), "cluster", id="no namespace"),
        pytest.param(V1ObjectMeta(namespace="a", name="b"), "a/b", id="bare ObjectMeta"),
        pytest.param(ExplicitKey("x/y"), "x/y", id="explicit key"),
        pytest.param(V1Pod(), "", id="no metadata"),
    ],
)
def test_meta_namespace_key_func(obj: object, key: str) -> None:
    assert meta_namespace_key_func(obj) == key
    if not isinstance(obj, ExplicitKey):
        assert str(object_to_name(obj)) == key


def test_meta_namespace_key_func_rejects_objects_without_meta() -> None:
    with pytest.raises(ValueError, match="object has no meta"):
        meta_namespace_key_func("plain string")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("ns/name", ("ns", "name"), id="namespaced"),
        pytest.param("name", ("", "name"), id="cluster scoped"),
        pytest.param("", ("", ""), id="empty"),
    ],
)
def test_split_meta_namespace_key(key: str, expected: tuple[str, str]) -> None:
    assert split_meta_namespace_key(key) == expected


def test_split_meta_namespace_key_rejects_bad_keys() -> None:
    with pytest.raises(ValueError, match="unexpected key format"):
        split_meta_namespace_key("a/b/c")


def test_cache_keys_models_and_tracks_resource_version() -> None:
    store = new_store(meta_namespace_key_func)
    pod = V1Pod(metadata=V1ObjectMeta(namespace="ns", name="p", resource_version="7"))
    store.add(pod)
    assert store.get_by_key("ns/p") == (pod, True)
    assert store.get(ExplicitKey("ns/p")) == (pod, True)
    assert store.last_store_sync_resource_version() == "7"
    store.delete(V1Pod(metadata=V1ObjectMeta(namespace="ns", name="p", resource_version="9")))
    assert store.get_by_key("ns/p") == (None, False)
    assert store.last_store_sync_resource_version() == "9"
    store.bookmark("12")
    assert store.last_store_sync_resource_version() == "12"

    gated = new_store(meta_namespace_key_func, atomic_fifo_enabled=False)
    gated.add(pod)
    assert gated.last_store_sync_resource_version() == ""


def test_cache_add_raises_key_func_error() -> None:
    store = new_store(meta_namespace_key_func)
    with pytest.raises(KeyFuncError) as info:
        store.add(42)
    assert info.value.obj == 42


def test_object_name_parts() -> None:
    assert ObjectName("ns", "n").parts() == ("ns", "n")
