"""Fail-closed informers (issue 11, finding 2, informer side).

client-go never lets a list or watch it could not decode into the cache: a list whose
body cannot be decoded is an error for the whole list (store untouched, retried with
the reflector's backoff); an event that cannot be decoded ends the watch with an error
("unable to decode an event from the watch stream"), and the reflector relists from the
last good resource version, so nothing is skipped. These tests drive the informer
machinery through the fake clientset, whose reactors raise the client's DecodeError or
end a watch with one. Backoff runs on a FakeClock.
"""

from __future__ import annotations

import threading
from typing import Any

from kubernetes.client import V1ObjectMeta, V1Pod

from jobctl.client.decode import DecodeError
from jobctl.client.interface import ListOptions
from jobctl.informers.factory import (
    SharedInformerFactory,
    new_shared_informer_factory_with_options,
    with_clock,
)
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.fake_clientset import Action, FakeClientset, FakeWatcher
from jobctl.testing.fake_list_watch import ClockStepper, wait_until

NS = "ns"


def _pod(name: str, phase_label: str = "") -> V1Pod:
    labels = {"v": phase_label} if phase_label else None
    return V1Pod(metadata=V1ObjectMeta(name=name, namespace=NS, labels=labels))


class _Informers:
    """A pod informer over a fake clientset, started on its own threads."""

    def __init__(self, cs: FakeClientset, clock: FakeClock) -> None:
        self.factory: SharedInformerFactory = new_shared_informer_factory_with_options(
            cs, 0, with_clock(clock)
        )
        self.informer = self.factory.core().v1().pods().informer()
        self.stop = threading.Event()
        self.factory.start(self.stop)

    def keys(self) -> list[str]:
        return sorted(self.informer.get_store().list_keys())

    def label(self, name: str) -> str:
        obj, exists = self.informer.get_store().get_by_key(f"{NS}/{name}")
        assert exists
        return str((obj.metadata.labels or {}).get("v", ""))

    def close(self) -> None:
        self.stop.set()
        self.factory.shutdown()


def _list_calls(cs: FakeClientset) -> list[ListOptions]:
    return [
        a.list_options
        for a in cs.actions()
        if a.verb == "list" and a.resource == "pods" and a.list_options is not None
    ]


def _watch_calls(cs: FakeClientset) -> list[ListOptions]:
    return [
        a.list_options
        for a in cs.actions()
        if a.verb == "watch" and a.resource == "pods" and a.list_options is not None
    ]


def test_undecodable_list_is_not_synced_and_is_retried_with_backoff() -> None:
    clock = FakeClock()
    cs = FakeClientset(_pod("a"), _pod("b"))
    failures = [2]

    def bad_list(action: Action) -> tuple[bool, Any, BaseException | None]:
        if failures[0] > 0:
            failures[0] -= 1
            return True, None, DecodeError("cannot decode V1Pod: spec.containers: wrong type")
        return False, None, None

    cs.prepend_reactor("list", "pods", bad_list)
    informers = _Informers(cs, clock)
    try:
        assert wait_until(lambda: len(_list_calls(cs)) == 1)
        # The reflector backs off on the clock; nothing reached the cache.
        assert clock.wait_for_waiters(1)
        assert not informers.informer.has_synced()
        assert informers.keys() == []
        assert len(_list_calls(cs)) == 1
        clock.step(0.8 * 2)  # the first backoff step is at most 2 x 0.8 s (jitter 1.0)
        assert wait_until(lambda: len(_list_calls(cs)) == 2)
        assert clock.wait_for_waiters(1)
        assert not informers.informer.has_synced()
        assert informers.keys() == []
        clock.step(1.6 * 2)
        assert wait_until(informers.informer.has_synced)
        assert informers.keys() == ["ns/a", "ns/b"]
        assert len(_list_calls(cs)) == 3
    finally:
        informers.close()


def test_undecodable_relist_keeps_the_cache_it_had() -> None:
    clock = FakeClock()
    cs = FakeClientset(_pod("a", "1"), _pod("b", "1"))
    watchers: list[FakeWatcher] = []
    cs.prepend_watch_reactor(
        "pods",
        lambda action: (*_record_watch(cs, action, watchers), None),
    )
    informers = _Informers(cs, clock)
    try:
        assert wait_until(informers.informer.has_synced)
        assert wait_until(lambda: len(watchers) == 1)
        # From now on every list fails to decode.
        cs.prepend_reactor(
            "list",
            "pods",
            lambda action: (True, None, DecodeError("cannot decode V1Pod: bad item")),
        )
        # The watch ends with a decode error: the reflector must relist.
        watchers[0].fail(ValueError("unable to decode an event from the watch stream"))
        # Let the reflector's backoff run: it relists again and again, always failing.
        stepper = ClockStepper(clock, lambda n: 1.6)
        try:
            assert wait_until(lambda: len(_list_calls(cs)) >= 4)
        finally:
            stepper.stop()
        # The failed relists leave the cache as it was: no pod looks deleted.
        assert informers.keys() == ["ns/a", "ns/b"]
        assert informers.informer.has_synced()
        assert len(_watch_calls(cs)) == 1
    finally:
        informers.close()


def _record_watch(cs: FakeClientset, action: Action, watchers: list[FakeWatcher]) -> Any:
    """A watch reactor handing out the tracker's watcher and keeping it for the test."""
    w = cs.tracker().watch(action.resource, action.namespace, action.list_options)
    watchers.append(w)
    return True, w


def test_watch_decode_error_ends_watch_and_nothing_is_skipped() -> None:
    clock = FakeClock()
    cs = FakeClientset(_pod("a", "1"), _pod("b", "1"))
    watchers: list[FakeWatcher] = []
    cs.prepend_watch_reactor(
        "pods",
        lambda action: (*_record_watch(cs, action, watchers), None),
    )
    informers = _Informers(cs, clock)
    try:
        assert wait_until(informers.informer.has_synced)
        assert wait_until(lambda: len(watchers) == 1)
        pods = cs.core_v1().pods(NS)
        # One good event arrives; then the stream breaks on an event it cannot decode
        # (the change to "b"), which must not be dropped.
        a2 = _pod("a", "2")
        a2.metadata.resource_version = pods.get("a").metadata.resource_version
        pods.update(a2)
        assert wait_until(lambda: informers.label("a") == "2")
        last_good_rv = informers.informer.last_sync_resource_version()
        watchers[0].fail(ValueError("unable to decode an event from the watch stream"))
        b2 = _pod("b", "2")
        b2.metadata.resource_version = pods.get("b").metadata.resource_version
        # Written while the reflector is between watches: only a relist can show it.
        pods.update(b2)
        assert clock.wait_for_waiters(1)
        # The reflector waits out its backoff before relisting.
        assert len(_list_calls(cs)) == 1
        stepper = ClockStepper(clock, lambda n: 1.6)
        try:
            assert wait_until(lambda: len(_list_calls(cs)) == 2)
        finally:
            stepper.stop()
        assert wait_until(lambda: informers.label("b") == "2")
        # The relist asks for data at least as new as the last event it applied.
        assert _list_calls(cs)[1].resource_version == last_good_rv
        assert wait_until(lambda: len(_watch_calls(cs)) == 2)
        assert informers.keys() == ["ns/a", "ns/b"]
    finally:
        informers.close()


def test_watch_error_event_from_undecodable_stream_relists() -> None:
    clock = FakeClock()
    cs = FakeClientset(_pod("a", "1"))
    watchers: list[FakeWatcher] = []
    cs.prepend_watch_reactor(
        "pods",
        lambda action: (*_record_watch(cs, action, watchers), None),
    )
    informers = _Informers(cs, clock)
    try:
        assert wait_until(informers.informer.has_synced)
        assert wait_until(lambda: len(watchers) == 1)
        # What a real stream sends when it cannot decode an event (streamwatcher.go).
        watchers[0].error(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "code": 500,
                "reason": "InternalError",
                "message": "unable to decode an event from the watch stream: bad",
            }
        )
        cs.tracker().add(_pod("late", "1"))
        stepper = ClockStepper(clock, lambda n: 1.6)
        try:
            assert wait_until(lambda: len(_list_calls(cs)) == 2)
        finally:
            stepper.stop()
        assert wait_until(lambda: "ns/late" in set(informers.keys()))
    finally:
        informers.close()
