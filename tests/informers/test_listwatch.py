"""Ported tests: client-go tools/cache/listwatch_test.go, plus the client-built
ListWatch (NewListWatchFromClient / NewFilteredListWatchFromClient have no upstream unit
test; these check that the options reach the client, edited on a copy)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod

from jobctl.client.interface import ListOptions, ObjectList, WatchInterface
from jobctl.informers.listwatch import (
    ListWatch,
    ListWatcherWithWatchListSemanticsWrapper,
    does_client_not_support_watch_list_semantics,
    new_filtered_list_watch_from_client,
    new_list_watch_from_client,
    to_list_watcher_with_watch_list_semantics,
)
from jobctl.testing.fake_clientset import FakeClientset
from jobctl.testing.fake_list_watch import FakeWatcher


class _FakeWatchListClient:
    """Port of fakeWatchListClient."""

    def __init__(self, unsupported_watch_list_semantics: bool) -> None:
        self._unsupported = unsupported_watch_list_semantics

    def is_watch_list_semantics_unsupported(self) -> bool:
        return self._unsupported


@pytest.mark.parametrize(
    ("client", "expect_unsupported"),
    [
        (None, False),
        (_FakeWatchListClient(True), True),
        (_FakeWatchListClient(False), False),
    ],
    ids=[
        "client which doesn't implement the interface supports WatchList semantics",
        "client does not support WatchList semantics",
        "client supports WatchList semantics",
    ],
)
def test_to_list_watcher_with_watch_list_semantics(client: Any, expect_unsupported: bool) -> None:
    target = to_list_watcher_with_watch_list_semantics(ListWatch(), client)
    assert isinstance(target, ListWatcherWithWatchListSemanticsWrapper)
    assert does_client_not_support_watch_list_semantics(target) == expect_unsupported


def test_list_watch_delegates_to_its_functions() -> None:
    w = FakeWatcher()
    got: list[ListOptions] = []

    def list_func(options: ListOptions) -> ObjectList[Any]:
        got.append(options)
        return ObjectList(items=[], resource_version="7")

    def watch_func(options: ListOptions) -> WatchInterface:
        got.append(options)
        return w

    lw = ListWatch(list_func=list_func, watch_func=watch_func)
    assert lw.list(ListOptions(limit=3)).resource_version == "7"
    assert lw.watch(ListOptions(resource_version="7")) is w
    assert [o.limit for o in got] == [3, 0]
    with pytest.raises(RuntimeError):
        ListWatch().list(ListOptions())
    with pytest.raises(RuntimeError):
        ListWatch().watch(ListOptions())


def _pod(name: str, namespace: str, labels: dict[str, str] | None = None) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(name=name, namespace=namespace, labels=labels))


def test_new_list_watch_from_client_sets_field_selector() -> None:
    client = FakeClientset(_pod("a", "ns1"), _pod("b", "ns2"))
    lw = new_list_watch_from_client(client.core_v1().pods("ns1"), "spec.nodeName=n1")
    options = ListOptions(resource_version="0", limit=500)
    result = lw.list(options)
    assert [p.metadata.name for p in result.items] == ["a"]
    w = lw.watch(ListOptions(resource_version=result.resource_version))
    w.stop()
    actions = client.actions()
    assert [(a.verb, a.resource, a.namespace) for a in actions] == [
        ("list", "pods", "ns1"),
        ("watch", "pods", "ns1"),
    ]
    assert all(a.list_options is not None for a in actions)
    assert [a.list_options.field_selector for a in actions if a.list_options] == [
        "spec.nodeName=n1",
        "spec.nodeName=n1",
    ]
    # The caller's options are left untouched.
    assert options.field_selector == ""
    assert [a.list_options.limit for a in actions if a.list_options] == [500, 0]


def test_new_filtered_list_watch_from_client_tweaks_a_copy() -> None:
    client = FakeClientset(_pod("a", "ns", {"app": "x"}), _pod("b", "ns", {"app": "y"}))

    def tweak(options: ListOptions) -> None:
        options.label_selector = "app=x"

    lw = new_filtered_list_watch_from_client(client.core_v1().pods("ns"), tweak)
    options = ListOptions()
    assert [p.metadata.name for p in lw.list(options).items] == ["a"]
    assert options.label_selector == ""
    lw.watch(options).stop()
    assert [a.list_options.label_selector for a in client.actions() if a.list_options] == [
        "app=x",
        "app=x",
    ]


def test_new_filtered_list_watch_from_client_without_tweak() -> None:
    client = FakeClientset(_pod("a", "ns"))
    lw = new_filtered_list_watch_from_client(client.core_v1().pods(""))
    assert [p.metadata.name for p in lw.list(ListOptions()).items] == ["a"]
