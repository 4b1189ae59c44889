"""Tests of the informer factory (client-go informers/factory.go has no unit test file;
these check its documented behaviour on the fake clientset): one informer per type, the
namespace index on pod and job informers, start/wait/shutdown, and the options
(namespace, list-options tweak, transform, per-type resync)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes.client import V1Job, V1JobSpec, V1ObjectMeta, V1Pod, V1PodTemplateSpec

from jobctl.client.decode import drop_managed_fields
from jobctl.client.interface import ListOptions
from jobctl.informers.controller import ResourceEventHandlerFuncs
from jobctl.informers.factory import (
    SharedInformerFactory,
    new_filtered_shared_informer_factory,
    new_shared_informer_factory,
    new_shared_informer_factory_with_options,
    with_custom_resync_config,
    with_namespace,
    with_raw_transforms,
    with_transform,
    with_tweak_list_options,
)
from jobctl.informers.index import NAMESPACE_INDEX
from jobctl.informers.shared_informer import _SharedIndexInformer
from jobctl.k8s_libs.clock import FakeClock
from jobctl.k8s_libs.labels import everything
from jobctl.testing.fake_clientset import FakeClientset
from jobctl.testing.fake_list_watch import wait_until


def _pod(name: str, namespace: str, labels: dict[str, str] | None = None) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(name=name, namespace=namespace, labels=labels))


def _job(name: str, namespace: str) -> V1Job:
    return V1Job(
        metadata=V1ObjectMeta(name=name, namespace=namespace),
        spec=V1JobSpec(template=V1PodTemplateSpec()),
    )


def test_informer_for_returns_one_informer_per_type() -> None:
    factory = new_shared_informer_factory(FakeClientset(), 0)
    pods = factory.core().v1().pods()
    assert pods.informer() is factory.core().v1().pods().informer()
    assert factory.batch().v1().jobs().informer() is not pods.informer()
    assert factory.batch().v1().jobs().informer() is factory.batch().v1().jobs().informer()


def test_pod_and_job_informers_have_the_namespace_index() -> None:
    factory = new_shared_informer_factory(FakeClientset(), 0)
    for informer in (
        factory.core().v1().pods().informer(),
        factory.batch().v1().jobs().informer(),
    ):
        assert NAMESPACE_INDEX in informer.get_indexer().get_indexers()


def test_start_sync_list_and_shutdown() -> None:
    client = FakeClientset(_pod("p1", "ns1", {"app": "x"}), _pod("p2", "ns2"), _job("j1", "ns1"))
    factory = SharedInformerFactory(client, 0)
    pod_informer = factory.core().v1().pods()
    job_informer = factory.batch().v1().jobs()
    pod_lister = pod_informer.lister()
    job_lister = job_informer.lister()
    stop = threading.Event()
    factory.start(stop)
    try:
        synced = factory.wait_for_cache_sync(stop)
        assert synced == {V1Pod: True, V1Job: True}
        assert sorted(p.metadata.name for p in pod_lister.list(everything())) == ["p1", "p2"]
        assert pod_lister.pods("ns1").get("p1").metadata.labels == {"app": "x"}
        assert job_lister.jobs("ns1").get("j1").metadata.name == "j1"
        # Changes made through the client reach the listers.
        client.core_v1().pods("ns1").create(_pod("p3", "ns1"))
        assert wait_until(lambda: len(pod_lister.pods("ns1").list(everything())) == 2)
    finally:
        stop.set()
        factory.shutdown()
    assert pod_informer.informer().is_stopped()
    assert job_informer.informer().is_stopped()


def test_start_is_idempotent_and_refused_after_shutdown() -> None:
    factory = SharedInformerFactory(FakeClientset(), 0)
    informer = factory.core().v1().pods().informer()
    stop = threading.Event()
    factory.start(stop)
    factory.start(stop)
    assert len(factory._threads) == 1
    stop.set()
    factory.shutdown()
    assert informer.is_stopped()
    # Informers requested after shutdown are never started.
    late = factory.batch().v1().jobs().informer()
    factory.start(threading.Event())
    assert not late.is_stopped()
    assert isinstance(late, _SharedIndexInformer)
    assert not late.has_started()


def test_wait_for_cache_sync_only_started_informers() -> None:
    factory = SharedInformerFactory(FakeClientset(), 0)
    factory.core().v1().pods().informer()
    stop = threading.Event()
    factory.start(stop)
    try:
        factory.batch().v1().jobs().informer()  # not started
        assert factory.wait_for_cache_sync(stop) == {V1Pod: True}
    finally:
        stop.set()
        factory.shutdown()


def test_wait_for_cache_sync_with_result_reports_unsynced() -> None:
    client = FakeClientset()
    release = threading.Event()

    def slow_list(action: Any) -> tuple[bool, Any, BaseException | None]:
        release.wait(5)
        return False, None, None

    client.prepend_reactor("list", "pods", slow_list)
    factory = SharedInformerFactory(client, 0)
    factory.core().v1().pods().informer()
    stop = threading.Event()
    factory.start(stop)
    try:
        stopper = threading.Event()
        stopper.set()
        result = factory.wait_for_cache_sync_with_result(stopper)
        assert result.synced == {V1Pod: False}
        err = result.as_error()
        assert err is not None
        assert "V1Pod" in str(err)
    finally:
        release.set()
        stop.set()
        factory.shutdown()


def test_namespace_and_tweak_list_options() -> None:
    client = FakeClientset(
        _pod("a", "ns1", {"app": "x"}), _pod("b", "ns1", {"app": "y"}), _pod("c", "ns2")
    )

    def tweak(options: ListOptions) -> None:
        options.label_selector = "app=x"

    factory = new_filtered_shared_informer_factory(client, 0, "ns1", tweak)
    lister = factory.core().v1().pods().lister()
    stop = threading.Event()
    factory.start(stop)
    try:
        factory.wait_for_cache_sync(stop)
        assert [p.metadata.name for p in lister.list(everything())] == ["a"]
    finally:
        stop.set()
        factory.shutdown()
    calls = [a for a in client.actions() if a.resource == "pods"]
    assert {(a.verb, a.namespace) for a in calls} >= {("list", "ns1"), ("watch", "ns1")}
    assert all(
        a.list_options is not None and a.list_options.label_selector == "app=x" for a in calls
    )


def test_keyword_options_match_option_functions() -> None:
    def tweak(options: ListOptions) -> None:
        options.field_selector = "x=y"

    def transform(obj: Any) -> Any:
        return obj

    by_kw = SharedInformerFactory(
        FakeClientset(),
        5.0,
        namespace="ns",
        tweak_list_options=tweak,
        transform=transform,
        custom_resync={V1Pod: 7.0},
        raw_transforms={V1Job: drop_managed_fields},
    )
    by_fn = new_shared_informer_factory_with_options(
        FakeClientset(),
        5.0,
        with_namespace("ns"),
        with_tweak_list_options(tweak),
        with_transform(transform),
        with_custom_resync_config({V1Pod: 7.0}),
        with_raw_transforms({V1Job: drop_managed_fields}),
    )
    for factory in (by_kw, by_fn):
        assert factory._namespace == "ns"
        assert factory._tweak_list_options is tweak
        assert factory._transform is transform
        assert factory._custom_resync == {V1Pod: 7.0}
        assert factory._raw_transforms == {V1Job: drop_managed_fields}


def test_custom_resync_and_default_resync() -> None:
    factory = SharedInformerFactory(FakeClientset(), 30.0, custom_resync={V1Job: 10.0})
    pods = factory.core().v1().pods().informer()
    jobs = factory.batch().v1().jobs().informer()
    assert isinstance(pods, _SharedIndexInformer)
    assert isinstance(jobs, _SharedIndexInformer)
    assert pods._default_event_handler_resync_period == 30.0
    assert jobs._default_event_handler_resync_period == 10.0


def test_transform_applied_before_store_and_handlers() -> None:
    client = FakeClientset(_pod("a", "ns"))

    def strip(obj: Any) -> Any:
        obj.metadata.labels = {"stripped": "true"}
        return obj

    factory = SharedInformerFactory(client, 0, transform=strip, clock=FakeClock())
    informer = factory.core().v1().pods().informer()
    seen: list[Any] = []
    informer.add_event_handler(
        ResourceEventHandlerFuncs(
            add_func=lambda obj: seen.append(obj.metadata.labels),
            update_func=lambda old, new: seen.append(new.metadata.labels),
        )
    )
    stop = threading.Event()
    factory.start(stop)
    try:
        factory.wait_for_cache_sync(stop)
        client.core_v1().pods("ns").create(_pod("b", "ns", {"keep": "no"}))
        assert wait_until(lambda: len(seen) == 2)
        assert seen == [{"stripped": "true"}, {"stripped": "true"}]
        for pod in informer.get_store().list():
            assert pod.metadata.labels == {"stripped": "true"}
    finally:
        stop.set()
        factory.shutdown()


def test_raw_transforms_reach_list_and_watch_of_their_type_only() -> None:
    client = FakeClientset(_pod("a", "ns", {"app": "x"}), _job("j", "ns"))
    seen: list[str] = []

    def strip(raw: dict[str, Any]) -> dict[str, Any]:
        # Runs on the JSON dict, before the model is built.
        assert isinstance(raw, dict)
        seen.append(raw["metadata"]["name"])
        raw["metadata"]["labels"] = {"stripped": "true"}
        return raw

    factory = SharedInformerFactory(client, 0, raw_transforms={V1Pod: strip}, clock=FakeClock())
    pods = factory.core().v1().pods().informer()
    jobs = factory.batch().v1().jobs().informer()
    stop = threading.Event()
    factory.start(stop)
    try:
        factory.wait_for_cache_sync(stop)
        client.core_v1().pods("ns").create(_pod("b", "ns", {"keep": "no"}))
        assert wait_until(lambda: len(pods.get_store().list()) == 2)
        assert sorted(seen) == ["a", "b"]
        assert all(p.metadata.labels == {"stripped": "true"} for p in pods.get_store().list())
        assert [j.metadata.name for j in jobs.get_store().list()] == ["j"]
    finally:
        stop.set()
        factory.shutdown()


def test_no_transform_keyword_without_raw_transform() -> None:
    calls: list[dict[str, Any]] = []

    class Pods:
        def list(self, options: ListOptions, **kwargs: Any) -> Any:
            calls.append(kwargs)
            raise RuntimeError("stop here")

    class Core:
        def pods(self, namespace: str) -> Pods:
            return Pods()

    class Client:
        def core_v1(self) -> Core:
            return Core()

    for raw_transforms in (None, {V1Pod: drop_managed_fields}):
        factory = SharedInformerFactory(Client(), 0, raw_transforms=raw_transforms)  # type: ignore[arg-type]
        informer = factory.core().v1().pods().informer()
        assert isinstance(informer, _SharedIndexInformer)
        with pytest.raises(RuntimeError):
            informer._lister_watcher.list(ListOptions())
    assert calls == [{}, {"transform": drop_managed_fields}]
