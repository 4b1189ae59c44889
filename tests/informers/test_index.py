"""Port of client-go tools/cache/index_test.go."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod

from jobctl.informers.index import (
    NAMESPACE_INDEX,
    index_func_to_key_func_adapter,
    meta_namespace_index_func,
)
from jobctl.informers.store import meta_namespace_key_func, new_indexer


def _test_index_func(obj: Any) -> list[str]:
    return [obj.metadata.labels["foo"]]


def test_get_index_func_values() -> None:
    index = new_indexer(meta_namespace_key_func, {"testmodes": _test_index_func})

    pod1 = V1Pod(metadata=V1ObjectMeta(name="one", labels={"foo": "bar"}))
    pod2 = V1Pod(metadata=V1ObjectMeta(name="two", labels={"foo": "bar"}))
    pod3 = V1Pod(metadata=V1ObjectMeta(name="tre", labels={"foo": "biz"}))

    index.add(pod1)
    index.add(pod2)
    index.add(pod3)

    keys = index.list_index_func_values("testmodes")
    assert len(keys) == 2
    assert set(keys) == {"bar", "biz"}


def _test_users_index_func(obj: Any) -> list[str]:
    users_string: str = obj.metadata.annotations["users"]
    return users_string.split(",")


def test_multi_index_keys() -> None:
    index = new_indexer(meta_namespace_key_func, {"byUser": _test_users_index_func})

    pod1 = V1Pod(metadata=V1ObjectMeta(name="one", annotations={"users": "ernie,bert"}))
    pod2 = V1Pod(metadata=V1ObjectMeta(name="two", annotations={"users": "bert,oscar"}))
    pod3 = V1Pod(metadata=V1ObjectMeta(name="tre", annotations={"users": "ernie,elmo"}))

    index.add(pod1)
    index.add(pod2)
    index.add(pod3)

    expected = {
        "ernie": {"one", "tre"},
        "bert": {"one", "two"},
        "elmo": {"tre"},
        "oscar": {"two"},
        "elmo1": set(),
    }
    for k, v in expected.items():
        index_results = index.by_index("byUser", k)
        found = {item.metadata.name for item in index_results}
        assert found == v, f"missing items, index {k}"

    index.delete(pod3)
    ernie_pods = index.by_index("byUser", "ernie")
    assert [p.metadata.name for p in ernie_pods] == ["one"]

    elmo_pods = index.by_index("byUser", "elmo")
    assert elmo_pods == []

    copy_of_pod2 = pod2.model_copy(deep=True)
    copy_of_pod2.metadata.annotations["users"] = "oscar"
    index.update(copy_of_pod2)
    bert_pods = index.by_index("byUser", "bert")
    assert [p.metadata.name for p in bert_pods] == ["one"]


# Not in index_test.go: the namespace index and the key-function adapter.


def test_meta_namespace_index_func() -> None:
    index = new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    index.add(V1Pod(metadata=V1ObjectMeta(namespace="a", name="p1")))
    index.add(V1Pod(metadata=V1ObjectMeta(namespace="a", name="p2")))
    index.add(V1Pod(metadata=V1ObjectMeta(namespace="b", name="p1")))
    assert index.index_keys(NAMESPACE_INDEX, "a") == ["a/p1", "a/p2"]
    assert index.index_keys(NAMESPACE_INDEX, "b") == ["b/p1"]
    with pytest.raises(ValueError, match="object has no meta"):
        meta_namespace_index_func(3)


def test_index_func_to_key_func_adapter() -> None:
    key_func = index_func_to_key_func_adapter(lambda obj: obj)
    assert key_func(["only"]) == "only"
    with pytest.raises(ValueError, match="too many keys"):
        key_func(["a", "b"])
    with pytest.raises(ValueError, match="unexpected empty indexKeys"):
        key_func([])
