"""Ported tests: client-go tools/cache/reflector_watchlist_test.go, plus the "UseWatchList
enabled" case of TestReflectorListAndWatch and TestReflectorRespectStoreTransformer
(reflector_test.go), and checks of the watch-list path against a streamed watch.

Go's ``watch.NewFake`` is unbuffered: ``Action`` returns once the reflector took the
event. The Python fake buffers, so the event-producing thread waits until each event
was taken (``wait_until_drained``) before it goes on, which gives the same ordering.
Backoff waits run on a FakeClock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod, V1PodSpec

from jobctl.client.errors import new_invalid, new_resource_expired, new_too_many_requests
from jobctl.client.interface import (
    ADDED,
    BOOKMARK,
    DELETED,
    MODIFIED,
    ListOptions,
    ObjectList,
    WatchEvent,
    WatchInterface,
)
from jobctl.informers.delta_fifo import DeltaFIFOOptions, new_delta_fifo_with_options
from jobctl.informers.listwatch import ListWatch
from jobctl.informers.reflector import (
    INITIAL_EVENTS_ANNOTATION_KEY,
    EventNotifier,
    Reflector,
    ReflectorOptions,
    _ErrorChannel,
    _StopRequestedError,
    handle_list_watch,
    new_initial_events_end_bookmark_ticker_internal,
    new_reflector,
    new_reflector_with_options,
)
from jobctl.informers.store import Store, meta_namespace_key_func, new_store
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.fake_list_watch import ClockStepper, FakeWatcher, wait_until

NOT_OLDER_THAN = "NotOlderThan"


@pytest.fixture
def watch_list_gate(request: pytest.FixtureRequest) -> Callable[[bool], None]:
    """Port of clientfeaturestesting.SetFeatureDuringTest for WatchListClient."""

    def set_gate(enabled: bool) -> None:
        features.set_feature_gate_during_test(
            features.DEFAULT_FEATURE_GATE,
            features.WATCH_LIST_CLIENT,
            enabled,
            cleanup=request.addfinalizer,
        )

    return set_gate


def make_pod(name: str, rv: str) -> V1Pod:
    """Port of makePod."""
    return V1Pod(metadata=V1ObjectMeta(name=name, resource_version=rv, uid=name))


def _bookmark(rv: str, initial_events_end: str | None = "true", name: str = "") -> V1Pod:
    annotations = (
        {INITIAL_EVENTS_ANNOTATION_KEY: initial_events_end}
        if initial_events_end is not None
        else None
    )
    return V1Pod(
        metadata=V1ObjectMeta(name=name or None, resource_version=rv, annotations=annotations)
    )


# --- TestNewReflectorWithDisablementWatchList ------------------------------------------


class _LwSupportsWatchListSemantics(ListWatch):
    def is_watch_list_semantics_unsupported(self) -> bool:
        return False


class _LwDoesNotSupportWatchListSemantics(ListWatch):
    def is_watch_list_semantics_unsupported(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("enable_watch_list_client_fg", "lw", "expect_use_watch_list_value"),
    [
        (False, _LwSupportsWatchListSemantics(), False),
        (True, _LwSupportsWatchListSemantics(), True),
        (True, _LwDoesNotSupportWatchListSemantics(), False),
        (True, ListWatch(), True),
    ],
    ids=[
        "WatchListClient feature gate off, client supports WatchList semantics",
        "WatchListClient feature gate on, client supports WatchList semantics",
        "WatchListClient feature gate on, client doesn't support the WatchList semantics",
        "WatchListClient feature gate on, client doesn't expose the "
        "IsWatchListSemanticsUnSupported method",
    ],
)
def test_new_reflector_with_disablement_watch_list(
    watch_list_gate: Callable[[bool], None],
    enable_watch_list_client_fg: bool,
    lw: ListWatch,
    expect_use_watch_list_value: bool,
) -> None:
    watch_list_gate(enable_watch_list_client_fg)
    r = new_reflector_with_options(lw, None, new_store(meta_namespace_key_func), ReflectorOptions())
    assert r._use_watch_list is expect_use_watch_list_value


def test_watch_list_client_gate_is_on_by_default() -> None:
    """client-go features/known_features.go: WatchListClient is Beta, on since 1.35."""
    gate = features.new_default_feature_gate()
    assert gate.enabled(features.WATCH_LIST_CLIENT)


# --- TestInitialEventsEndBookmarkTicker ------------------------------------------------


def test_initial_events_end_bookmark_ticker_noop() -> None:
    """testing NoopInitialEventsEndBookmarkTicker"""
    clock = FakeClock()
    target = new_initial_events_end_bookmark_ticker_internal(
        "testName", clock, clock.now(), 1.0, False
    )
    clock.step(30.0)
    assert target.c().empty()
    assert target.produce_warning_if_expired() is None
    # The other methods must not fail.
    target.warn_if_expired()
    target.observe_last_event_time_stamp(clock.now())
    assert target.produce_warning_if_expired() is None
    assert target.c().empty()
    target.stop()


def test_initial_events_end_bookmark_ticker_backed_by_a_fake_clock() -> None:
    """testing InitialEventsEndBookmarkTicker backed by a fake clock"""
    clock = FakeClock()
    target = new_initial_events_end_bookmark_ticker_internal(
        "testName", clock, clock.now(), 1.0, True
    )
    clock.step(0.5)
    assert target.c().empty()

    clock.step(0.5)
    target.c().get(timeout=5)
    assert str(target.produce_warning_if_expired()) == (
        "testName: awaiting required bookmark event for initial events stream, "
        "no events received for 1s"
    )

    clock.step(1.0)
    target.c().get(timeout=5)
    assert str(target.produce_warning_if_expired()) == (
        "testName: awaiting required bookmark event for initial events stream, "
        "no events received for 2s"
    )

    target.observe_last_event_time_stamp(clock.now())
    clock.step(0.5)
    assert target.c().empty()

    clock.step(0.5)
    target.c().get(timeout=5)
    assert str(target.produce_warning_if_expired()) == (
        "testName: hasn't received required bookmark event marking the end of initial "
        "events stream, received last event 1s ago"
    )

    clock.step(1.0)
    target.c().get(timeout=5)
    assert str(target.produce_warning_if_expired()) == (
        "testName: hasn't received required bookmark event marking the end of initial "
        "events stream, received last event 2s ago"
    )

    target.stop()
    clock.step(5.0)
    assert target.c().empty()


# --- TestWatchListResourceVersion ------------------------------------------------------


def _send_synchronously(get_watcher: Callable[[], FakeWatcher], event: WatchEvent) -> None:
    """Go's unbuffered FakeWatcher.Action: return once the consumer took the event."""
    w = get_watcher()
    w.send(event)
    assert w.wait_until_drained(10), f"the reflector never took {event.type} event"


@pytest.mark.parametrize(
    ("watch_events", "expected_resource_version"),
    [
        ([], ""),
        ([WatchEvent(ADDED, make_pod("p1", "1"))], ""),
        (
            [WatchEvent(ADDED, make_pod("p1", "1")), WatchEvent(BOOKMARK, _bookmark("2"))],
            "2",
        ),
    ],
    ids=[
        "empty resource version",
        "empty resource version without bookmark event",
        "non empty resource version with bookmark event and initial events annotation",
    ],
)
def test_watch_list_resource_version(
    watch_list_gate: Callable[[bool], None],
    watch_events: list[WatchEvent],
    expected_resource_version: str,
) -> None:
    watch_list_gate(True)
    fw = FakeWatcher()
    s = new_store(meta_namespace_key_func)
    stop = threading.Event()

    def produce() -> None:
        for e in watch_events:
            _send_synchronously(lambda: fw, e)
        stop.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    cur_rv = [""]

    def track_rv(rv: str, event_received_besides_added: bool) -> None:
        if event_received_besides_added:
            cur_rv[0] = rv

    clock = FakeClock()
    with contextlib.suppress(_StopRequestedError):
        handle_list_watch(
            clock.now(),
            fw,
            s,
            V1Pod,
            "test",
            "V1Pod",
            track_rv,
            clock,
            _ErrorChannel(),
            EventNotifier(stop),
        )
    producer.join(10)
    assert cur_rv[0] == expected_resource_version


# --- TestWatchList ---------------------------------------------------------------------


class _FakeListWatcher:
    """Port of fakeListWatcher (reflector_watchlist_test.go)."""

    def __init__(self, stop_func: Callable[[], None]) -> None:
        self.lock = threading.Lock()
        self.fake_watcher = FakeWatcher()
        self.list_counter = 0
        self.watch_counter = 0
        self.close_after_watch_requests = 0
        self.close_after_list_requests = 0
        self.stop_func = stop_func
        self.request_options: list[ListOptions] = []
        self.custom_list_response: ObjectList[Any] | None = None
        self.watch_options_predicate: Callable[[ListOptions], BaseException | None] | None = None

    def list(self, options: ListOptions) -> ObjectList[Any]:
        self.list_counter += 1
        self.request_options.append(dataclasses.replace(options))
        if self.list_counter == self.close_after_list_requests:
            self.stop_func()
        if self.custom_list_response is not None:
            return self.custom_list_response
        raise NotImplementedError("not implemented")

    def watch(self, options: ListOptions) -> WatchInterface:
        self.watch_counter += 1
        self.request_options.append(dataclasses.replace(options))
        if self.watch_counter == self.close_after_watch_requests:
            self.stop_func()
        if self.watch_options_predicate is not None:
            err = self.watch_options_predicate(options)
            if err is not None:
                raise err
        with self.lock:
            return self.fake_watcher

    def current_watcher(self) -> FakeWatcher:
        with self.lock:
            return self.fake_watcher

    def stop_and_recreate_watch(self) -> None:
        with self.lock:
            self.fake_watcher.stop()
            self.fake_watcher = FakeWatcher()


def _options(o: ListOptions) -> tuple[str, str, int, bool, bool | None, bool]:
    """The fields verifyRequestOptions compares (TimeoutSeconds only for presence)."""
    return (
        o.resource_version,
        o.resource_version_match,
        o.limit,
        o.allow_watch_bookmarks,
        o.send_initial_events,
        o.timeout_seconds is not None,
    )


WATCH_LIST_OPTIONS = _options(
    ListOptions(
        send_initial_events=True,
        allow_watch_bookmarks=True,
        resource_version_match=NOT_OLDER_THAN,
        timeout_seconds=1,
    )
)
LIST_OPTIONS = _options(ListOptions(resource_version="0", limit=500))


def _watch_options(rv: str) -> tuple[str, str, int, bool, bool | None, bool]:
    return _options(ListOptions(allow_watch_bookmarks=True, resource_version=rv, timeout_seconds=1))


def _pod_with_deadline(name: str, rv: str, deadline: int) -> V1Pod:
    p = make_pod(name, rv)
    p.spec = V1PodSpec(containers=[], active_deadline_seconds=deadline)
    return p


def _retry_429_predicate() -> Callable[[ListOptions], BaseException | None]:
    counter = [1]

    def predicate(options: ListOptions) -> BaseException | None:
        if counter[0] < 3:
            counter[0] += 1
            return new_too_many_requests("busy, check again later", 1)
        return None

    return predicate


def _expire_second_predicate() -> Callable[[ListOptions], BaseException | None]:
    counter = [0]

    def predicate(options: ListOptions) -> BaseException | None:
        counter[0] += 1
        if counter[0] == 2:
            return new_resource_expired("rv already expired")
        return None

    return predicate


def _fail_streaming(err: BaseException) -> Callable[[ListOptions], BaseException | None]:
    def predicate(options: ListOptions) -> BaseException | None:
        return err if options.send_initial_events else None

    return predicate


WATCH_LIST_SCENARIOS: list[dict[str, Any]] = [
    {
        "name": "the reflector won't be synced if the bookmark event has been received",
        "watch_events": [WatchEvent(ADDED, make_pod("p1", "1"))],
        "close_after_watch_events": 1,
        "expected_watch_requests": 1,
        "expected_request_options": [WATCH_LIST_OPTIONS],
    },
    {
        "name": "the reflector uses the old LIST/WATCH semantics if the UseWatchList is turned off",
        "disable_use_watch_list": True,
        "close_after_watch_requests": 1,
        "pod_list": ObjectList(items=[make_pod("p1", "1")], resource_version="1"),
        "expected_watch_requests": 1,
        "expected_list_requests": 1,
        "expected_request_options": [LIST_OPTIONS, _watch_options("1")],
        "expected_store_content": [make_pod("p1", "1")],
    },
    {
        "name": "returning any other error than apierrors.NewInvalid forces fallback",
        "watch_options_predicate": lambda: _fail_streaming(RuntimeError("dummy error")),
        "pod_list": ObjectList(items=[make_pod("p1", "1")], resource_version="1"),
        "close_after_watch_events": 1,
        "watch_events": [WatchEvent(ADDED, make_pod("p2", "2"))],
        "expected_watch_requests": 2,
        "expected_list_requests": 1,
        "expected_store_content": [make_pod("p1", "1"), make_pod("p2", "2")],
        "expected_request_options": [WATCH_LIST_OPTIONS, LIST_OPTIONS, _watch_options("1")],
    },
    {
        "name": "the reflector can fall back to old LIST/WATCH semantics when a server "
        "doesn't support streaming",
        "watch_options_predicate": lambda: _fail_streaming(
            new_invalid("", "streaming is not allowed", [])
        ),
        "pod_list": ObjectList(items=[make_pod("p1", "1")], resource_version="1"),
        "close_after_watch_events": 1,
        "watch_events": [WatchEvent(ADDED, make_pod("p2", "2"))],
        "expected_watch_requests": 2,
        "expected_list_requests": 1,
        "expected_store_content": [make_pod("p1", "1"), make_pod("p2", "2")],
        "expected_request_options": [WATCH_LIST_OPTIONS, LIST_OPTIONS, _watch_options("1")],
    },
    {
        "name": "prove that the reflector is synced after receiving a bookmark event",
        "close_after_watch_events": 3,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(ADDED, make_pod("p2", "2")),
            WatchEvent(BOOKMARK, _bookmark("2")),
        ],
        "expected_watch_requests": 1,
        "expected_request_options": [WATCH_LIST_OPTIONS],
        "expected_store_content": [make_pod("p1", "1"), make_pod("p2", "2")],
    },
    {
        "name": "check if Updates and Deletes events are propagated during streaming (until "
        "the bookmark is received)",
        "close_after_watch_events": 6,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(ADDED, make_pod("p2", "2")),
            WatchEvent(MODIFIED, _pod_with_deadline("p1", "3", 12)),
            WatchEvent(ADDED, make_pod("p3", "4")),
            WatchEvent(DELETED, make_pod("p3", "5")),
            WatchEvent(BOOKMARK, _bookmark("5")),
        ],
        "expected_watch_requests": 1,
        "expected_request_options": [WATCH_LIST_OPTIONS],
        "expected_store_content": [make_pod("p2", "2"), _pod_with_deadline("p1", "3", 12)],
    },
    {
        "name": "checks if the reflector retries 429",
        "watch_options_predicate": _retry_429_predicate,
        "close_after_watch_events": 2,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(BOOKMARK, _bookmark("2")),
        ],
        "expected_watch_requests": 3,
        "expected_request_options": [WATCH_LIST_OPTIONS] * 3,
        "expected_store_content": [make_pod("p1", "1")],
    },
    {
        "name": "check if stopping a watcher before sync results in creating a new "
        "watch-list request",
        "stop_after_watch_events": 1,
        "close_after_watch_events": 3,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            # second request
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(BOOKMARK, _bookmark("1")),
        ],
        "expected_watch_requests": 2,
        "expected_request_options": [WATCH_LIST_OPTIONS] * 2,
        "expected_store_content": [make_pod("p1", "1")],
    },
    {
        "name": "stopping a watcher after synchronization results in creating a new watch request",
        "stop_after_watch_events": 4,
        "close_after_watch_events": 5,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(ADDED, make_pod("p2", "2")),
            WatchEvent(BOOKMARK, _bookmark("2")),
            WatchEvent(ADDED, make_pod("p3", "3")),
            # second request
            WatchEvent(ADDED, make_pod("p4", "4")),
        ],
        "expected_watch_requests": 2,
        "expected_request_options": [WATCH_LIST_OPTIONS, _watch_options("3")],
        "expected_store_content": [
            make_pod("p1", "1"),
            make_pod("p2", "2"),
            make_pod("p3", "3"),
            make_pod("p4", "4"),
        ],
    },
    {
        "name": "expiring an established watcher results in returning an error from the reflector",
        "watch_options_predicate": _expire_second_predicate,
        "stop_after_watch_events": 3,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(BOOKMARK, _bookmark("2")),
            WatchEvent(ADDED, make_pod("p3", "3")),
        ],
        "expected_watch_requests": 2,
        "expected_request_options": [WATCH_LIST_OPTIONS, _watch_options("3")],
        "expected_store_content": [make_pod("p1", "1"), make_pod("p3", "3")],
        "expected_error": new_resource_expired("rv already expired"),
    },
    {
        "name": "prove that the reflector is checking the value of the initialEventsEnd annotation",
        "close_after_watch_events": 3,
        "watch_events": [
            WatchEvent(ADDED, make_pod("p1", "1")),
            WatchEvent(ADDED, make_pod("p2", "2")),
            WatchEvent(BOOKMARK, _bookmark("2", "false")),
        ],
        "expected_watch_requests": 1,
        "expected_request_options": [WATCH_LIST_OPTIONS],
    },
]


def _pod_view(p: V1Pod) -> tuple[str, str, int | None]:
    deadline = p.spec.active_deadline_seconds if p.spec is not None else None
    return (p.metadata.name, p.metadata.resource_version, deadline)


def verify_store(s: Store, expected_pods: list[V1Pod]) -> None:
    """Port of verifyStore: the store holds exactly these pods (by name)."""
    assert sorted(_pod_view(p) for p in s.list()) == sorted(_pod_view(p) for p in expected_pods)


@pytest.mark.parametrize("scenario", WATCH_LIST_SCENARIOS, ids=lambda s: s["name"])
def test_watch_list(watch_list_gate: Callable[[bool], None], scenario: dict[str, Any]) -> None:
    watch_list_gate(not scenario.get("disable_use_watch_list", False))
    stop = threading.Event()
    lw = _FakeListWatcher(stop.set)
    store = new_store(meta_namespace_key_func)
    clock = FakeClock()
    reflector: Reflector = new_reflector_with_options(
        lw, V1Pod, store, ReflectorOptions(clock=clock)
    )
    stop_after = scenario.get("stop_after_watch_events", 0)
    close_after = scenario.get("close_after_watch_events", 0)

    def produce() -> None:
        for i, e in enumerate(scenario.get("watch_events", [])):
            _send_synchronously(lw.current_watcher, e)
            if i + 1 == stop_after:
                lw.stop_and_recreate_watch()
                continue
            if i + 1 == close_after:
                stop.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    predicate = scenario.get("watch_options_predicate")
    lw.watch_options_predicate = predicate() if predicate is not None else None
    lw.close_after_watch_requests = scenario.get("close_after_watch_requests", 0)
    lw.custom_list_response = scenario.get("pod_list")
    lw.close_after_list_requests = scenario.get("close_after_list_requests", 0)
    # The 429 backoff waits on the reflector's clock.
    stepper = ClockStepper(clock, lambda n: 30.0)
    try:
        expected_error = scenario.get("expected_error")
        if expected_error is not None:
            with pytest.raises(Exception) as exc:
                reflector.list_and_watch(stop)
            assert str(exc.value) == str(expected_error)
        else:
            reflector.list_and_watch(stop)
    finally:
        stepper.stop()
        stop.set()
        lw.current_watcher().stop()
        producer.join(10)
    assert lw.watch_counter == scenario.get("expected_watch_requests", 0)
    assert lw.list_counter == scenario.get("expected_list_requests", 0)
    assert [_options(o) for o in lw.request_options] == scenario["expected_request_options"]
    verify_store(store, scenario.get("expected_store_content", []))


# --- reflector_test.go cases that run in watch-list mode ---------------------------------


def test_reflector_list_and_watch_use_watch_list_enabled(
    watch_list_gate: Callable[[bool], None],
) -> None:
    """The "UseWatchList enabled" case of TestReflectorListAndWatch."""
    watch_list_gate(True)
    from jobctl.informers.fifo import new_fifo

    list_calls: list[ListOptions] = []
    watch_calls: list[ListOptions] = []
    watchers: list[FakeWatcher] = []

    def watch_func(options: ListOptions) -> WatchInterface:
        watch_calls.append(options)
        w = FakeWatcher()
        watchers.append(w)
        return w

    def list_func(options: ListOptions) -> ObjectList[Any]:
        list_calls.append(options)
        raise AssertionError("ListerWatcher.List must not be called")

    s = new_fifo(meta_namespace_key_func)
    r = new_reflector(ListWatch(list_func=list_func, watch_func=watch_func), V1Pod, s, 0)
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            r.list_and_watch(stop)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        assert wait_until(lambda: len(watchers) == 1)
        fw = watchers[0]
        for e in [
            WatchEvent(ADDED, V1Pod(metadata=V1ObjectMeta(name="foo", resource_version="1"))),
            WatchEvent(BOOKMARK, _bookmark("1", name="foo")),
            WatchEvent(MODIFIED, V1Pod(metadata=V1ObjectMeta(name="foo", resource_version="2"))),
            WatchEvent(ADDED, V1Pod(metadata=V1ObjectMeta(name="bar", resource_version="3"))),
            WatchEvent(ADDED, V1Pod(metadata=V1ObjectMeta(name="baz", resource_version="4"))),
            WatchEvent(ADDED, V1Pod(metadata=V1ObjectMeta(name="qux", resource_version="5"))),
            WatchEvent(ADDED, V1Pod(metadata=V1ObjectMeta(name="zoo", resource_version="6"))),
        ]:
            _send_synchronously(lambda: fw, e)
        expected = [("foo", "2"), ("bar", "3"), ("baz", "4"), ("qux", "5"), ("zoo", "6")]
        for name, rv in expected:
            obj = s.pop(lambda obj, is_in_initial_list: None)
            assert (obj.metadata.name, obj.metadata.resource_version) == (name, rv)
    finally:
        stop.set()
        t.join(10)
    assert not errors
    assert not list_calls
    # One watch only: the stream that delivered the initial events goes on after them.
    assert [_options(o) for o in watch_calls] == [WATCH_LIST_OPTIONS]


def test_reflector_respect_store_transformer(watch_list_gate: Callable[[bool], None]) -> None:
    """Port of TestReflectorRespectStoreTransformer (the WatchList half)."""
    watch_list_gate(True)
    invoked = [0]
    lock = threading.Lock()

    def transformer(obj: Any) -> Any:
        with lock:
            invoked[0] += 1
        if isinstance(obj, V1Pod):
            obj.spec = V1PodSpec(containers=[], hostname="transformed")
        return obj

    s = new_delta_fifo_with_options(
        DeltaFIFOOptions(key_function=meta_namespace_key_func, transformer=transformer)
    )
    events = [
        WatchEvent(ADDED, make_pod("pod-1", "1")),
        WatchEvent(ADDED, make_pod("pod-2", "2")),
        WatchEvent(BOOKMARK, _bookmark("2")),
        WatchEvent(ADDED, make_pod("pod-3", "3")),
    ]
    once = threading.Lock()
    sent = [False]

    def watch_func(options: ListOptions) -> WatchInterface:
        fw = FakeWatcher()
        with once:
            if not sent[0]:
                sent[0] = True
                fw.send_many(list(events))
        return fw

    def list_func(options: ListOptions) -> ObjectList[Any]:
        raise AssertionError("list call not expected in WatchList mode")

    r = new_reflector(ListWatch(list_func=list_func, watch_func=watch_func), V1Pod, s, 0)
    stop = threading.Event()
    t = threading.Thread(target=r.run, args=(stop,), daemon=True)
    t.start()
    try:
        assert wait_until(lambda: r.last_sync_resource_version() == "3")
        # Go's DeltaFIFO.list: the newest object of every queued key.
        items = [d.newest().object for d in s._items.values()]  # type: ignore[union-attr]
        assert len(items) == 3
        for item in items:
            assert item.spec.hostname == "transformed"
        # Twice into the temporary store, twice on replace, once for the later add.
        assert invoked[0] == 5
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()


# --- the stream is read on after the bookmark, once ---------------------------------------


class _OneShotWatch:
    """A watch that, like the streamed one, can only be iterated once."""

    def __init__(self, events: list[WatchEvent]) -> None:
        self._inner = FakeWatcher()
        self._inner.send_many(events)
        self._iterated = False
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        self._inner.stop()

    def __iter__(self) -> Iterator[WatchEvent]:
        if self._iterated:
            return iter(())
        self._iterated = True
        return iter(self._inner)

    def send(self, e: WatchEvent) -> None:
        self._inner.send(e)


def test_watch_list_stream_continues_after_bookmark_on_single_reader_watch(
    watch_list_gate: Callable[[bool], None],
) -> None:
    """A streamed watch refuses a second reader; the reflector must keep reading the
    first one after the initial-events bookmark rather than open a new iteration."""
    watch_list_gate(True)
    w = _OneShotWatch(
        [WatchEvent(ADDED, make_pod("p1", "1")), WatchEvent(BOOKMARK, _bookmark("1"))]
    )
    calls: list[ListOptions] = []

    def watch_func(options: ListOptions) -> WatchInterface:
        calls.append(options)
        if len(calls) == 1:
            return w
        return FakeWatcher()

    store = new_store(meta_namespace_key_func)
    r = new_reflector(ListWatch(watch_func=watch_func), V1Pod, store, 0)
    stop = threading.Event()
    t = threading.Thread(target=r.list_and_watch, args=(stop,), daemon=True)
    t.start()
    try:
        assert wait_until(lambda: r.last_sync_resource_version() == "1")
        w.send(WatchEvent(ADDED, make_pod("p2", "2")))
        assert wait_until(lambda: r.last_sync_resource_version() == "2")
        assert sorted(store.list_keys()) == ["p1", "p2"]
        assert len(calls) == 1
    finally:
        stop.set()
        t.join(10)
    assert w.stopped.is_set()


def test_watch_list_decode_error_before_bookmark_leaves_store_untouched(
    watch_list_gate: Callable[[bool], None],
) -> None:
    """A stream that fails (e.g. an undecodable event) before the initial-events
    bookmark never reaches the store: the reflector falls back to a LIST."""
    watch_list_gate(True)

    class _Failing(FakeWatcher):
        def __iter__(self) -> Iterator[WatchEvent]:
            yield WatchEvent(ADDED, make_pod("partial", "1"))
            raise ValueError("unable to decode an event from the watch stream")

    replaced: list[list[str]] = []
    inner = new_store(meta_namespace_key_func)

    class _RecordingStore:
        def add(self, obj: Any) -> None:
            inner.add(obj)

        def update(self, obj: Any) -> None:
            inner.update(obj)

        def delete(self, obj: Any) -> None:
            inner.delete(obj)

        def replace(self, items: list[Any], rv: str) -> None:
            replaced.append(sorted(p.metadata.name for p in items))
            inner.replace(items, rv)

        def resync(self) -> None:
            inner.resync()

    store = _RecordingStore()
    stop = threading.Event()
    watches: list[ListOptions] = []

    def watch_func(options: ListOptions) -> WatchInterface:
        watches.append(options)
        if options.send_initial_events:
            return _Failing()
        stop.set()
        return FakeWatcher()

    lw = ListWatch(
        list_func=lambda o: ObjectList(
            items=[make_pod("a", "5"), make_pod("b", "6")], resource_version="6"
        ),
        watch_func=watch_func,
    )
    r = new_reflector(lw, V1Pod, store, 0)
    r.list_and_watch(stop)
    assert replaced == [["a", "b"]]
    assert [o.send_initial_events for o in watches] == [True, None]
    assert watches[1].resource_version == "6"
