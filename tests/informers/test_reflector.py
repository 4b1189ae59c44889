"""Ported tests: client-go tools/cache/reflector_test.go, plus checks of the retry rules.

Watch-list cases (the "UseWatchList enabled" case of TestReflectorListAndWatch,
TestReflectorRespectStoreTransformer, reflector_watchlist_test.go) live in
test_reflector_watchlist.py. Tests that upstream wraps with
toListWatcherWithUnSupportedWatchListSemantics use ``_no_watch_list`` here.

Skipped upstream cases:
- TestReflectorResyncChan and BenchmarkReflectorResyncChanMany: they exercise Go's timer
  channel; resync timing is covered by test_reflector_resync.
- TestReflectorListExtract's finalizer/GC half: Go-runtime specific (the listing half is
  kept).
- TestGetExpectedGVKFromObject, TestIsUnsupportedTableObject and the unstructured cases of
  TestGetTypeDescriptionFromObject: jobctl handles typed models only.
- Benchmarks.

Where upstream sleeps in a goroutine before cancelling, these tests cancel from a thread
that waits for a sync point instead. Backoff timing runs on a FakeClock stepped by a
helper thread, never on real time.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod, V1PodSpec, V1Service

from jobctl.client.errors import (
    REASON_INTERNAL_ERROR,
    REASON_TIMEOUT,
    REASON_TOO_MANY_REQUESTS,
    StatusError,
    new_resource_expired,
)
from jobctl.client.interface import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    MODIFIED,
    ListOptions,
    ObjectList,
    WatchEvent,
    WatchInterface,
)
from jobctl.informers import reflector as reflector_mod
from jobctl.informers.fifo import FIFO, new_fifo
from jobctl.informers.listwatch import ListWatch, ListWatcherWithWatchListSemanticsWrapper
from jobctl.informers.reflector import (
    DEFAULT_EXPECTED_TYPE_NAME,
    Backoff,
    EventNotifier,
    ListError,
    Reflector,
    ReflectorOptions,
    VeryShortWatchError,
    _ErrorChannel,
    _StopRequestedError,
    default_watch_error_handler,
    get_type_description_from_object,
    handle_watch,
    new_reflector,
    new_reflector_with_options,
)
from jobctl.informers.store import Store, meta_namespace_key_func, new_store
from jobctl.k8s_libs.clock import Clock, FakeClock, RealClock
from jobctl.testing.fake_list_watch import (
    ClockStepper,
    FakeWatcher,
    ScriptedListWatch,
    wait_until,
)


def _pod(name: str, rv: str = "", namespace: str = "") -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(name=name, namespace=namespace or None, resource_version=rv or None)
    )


def _pod_list(rv: str, *pods: V1Pod, continue_: str = "") -> ObjectList[Any]:
    return ObjectList(items=list(pods), resource_version=rv, continue_=continue_)


def _pop(fifo: FIFO) -> Any:
    """Port of the Pop(queue) test helper: pop one item without processing it."""
    return fifo.pop(lambda obj, is_in_initial_list: None)


def _status(code: int, reason: str, message: str = "") -> dict[str, Any]:
    return {
        "kind": "Status",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


class _Runner:
    """Run a function on a thread and keep its outcome."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()

        def target() -> None:
            try:
                self.result = fn()
            except BaseException as e:
                self.error = e
            finally:
                self.done.set()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 5.0) -> None:
        assert self.done.wait(timeout), "background call did not return"


def _reflector(
    lw: Any,
    store: Any,
    *,
    clock: Clock | None = None,
    delay: Callable[[], float] | None = None,
) -> Reflector:
    """Port of the tests' &Reflector{...} literals: a reflector with a chosen delay function."""
    return Reflector(
        name="test-reflector",
        type_description="V1Pod",
        expected_type=None,
        store=store,
        lw=lw,
        resync_period=0.0,
        delay_handler=delay if delay is not None else (lambda: 0.0),
        min_watch_timeout=reflector_mod.DEFAULT_MIN_WATCH_TIMEOUT,
        max_watch_timeout=reflector_mod.DEFAULT_MAX_WATCH_TIMEOUT,
        clock=clock if clock is not None else RealClock(),
    )


def _no_watch_list(lw: ListWatch) -> ListWatcherWithWatchListSemanticsWrapper:
    """Port of toListWatcherWithUnSupportedWatchListSemantics: a ListWatch the reflector
    must LIST from, as the upstream test wraps it."""
    return ListWatcherWithWatchListSemanticsWrapper(lw, True)


class _FakeDelayFunc:
    """Port of fakeDelayFunc: counts backoff requests and never waits."""

    def __init__(self) -> None:
        self.calls = 0

    def delay_func(self) -> float:
        self.calls += 1
        return 0.0


def test_close_watch_channel_on_error() -> None:
    fw = FakeWatcher()
    lw = ListWatch(list_func=lambda o: _pod_list("1"), watch_func=lambda o: fw)
    r = new_reflector(lw, V1Pod, new_store(meta_namespace_key_func), 0)
    stop = threading.Event()
    runner = _Runner(lambda: r.list_and_watch(stop))
    fw.error(_pod("bar"))
    runner.join()
    assert runner.error is None
    assert fw.is_stopped(), "watch channel left open after the error"
    stop.set()


def test_run_until() -> None:
    store = new_store(meta_namespace_key_func)
    fw = FakeWatcher()
    lw = ListWatch(list_func=lambda o: _pod_list("1"), watch_func=lambda o: fw)
    r = new_reflector(lw, V1Pod, store, 0)
    stop = threading.Event()
    runner = _Runner(lambda: r.run(stop))
    # Go's unbuffered fake watch returns from Add once the reflector took the event
    # (with the WatchListClient gate on, into its watch-list temporary store).
    fw.add(_pod("bar"))
    assert fw.wait_until_drained()
    stop.set()
    runner.join()
    assert fw.is_stopped(), "watch channel left open after stopping the watch"


def test_reflector_watch_stopped_before() -> None:
    def fail(_: ListOptions) -> Any:
        raise AssertionError("list or watch called unexpectedly")

    stop = threading.Event()
    stop.set()
    target = new_reflector(
        ListWatch(list_func=fail, watch_func=fail), V1Pod, new_store(meta_namespace_key_func), 0
    )
    target._watch(EventNotifier(stop), None, _ErrorChannel())


def test_reflector_watch_stopped_after() -> None:
    stop = threading.Event()
    watchers: list[FakeWatcher] = []

    def list_func(_: ListOptions) -> ObjectList[Any]:
        raise AssertionError("ListFunc called unexpectedly")

    def watch_func(_: ListOptions) -> WatchInterface:
        w = FakeWatcher()
        watchers.append(w)
        # Stop once watching has started, from another thread.
        threading.Thread(target=stop.set, daemon=True).start()
        return w

    target = new_reflector(
        ListWatch(list_func=list_func, watch_func=watch_func),
        V1Pod,
        new_store(meta_namespace_key_func),
        0,
    )
    target._watch(EventNotifier(stop), None, _ErrorChannel())
    assert len(watchers) == 1
    assert watchers[0].is_stopped()


class _MockWatcher:
    """Port of watch.MockWatcher: records ResultChan/Stop calls."""

    def __init__(
        self, result: Callable[[], Iterator[WatchEvent]], on_stop: Callable[[], None] = lambda: None
    ) -> None:
        self.calls: list[str] = []
        self._result = result
        self._on_stop = on_stop

    def __iter__(self) -> Iterator[WatchEvent]:
        self.calls.append("ResultChan")
        return self._result()

    def stop(self) -> None:
        self.calls.append("Stop")
        self._on_stop()


def _handle(
    g: Reflector,
    w: WatchInterface,
    store: Any,
    stop: threading.Event,
    set_rv: Callable[[str, bool], None] | None = None,
) -> None:
    handle_watch(
        g._clock.now(),
        w,
        store,
        g._expected_type,
        g._name,
        g._type_description,
        set_rv if set_rv is not None else (lambda rv, _: g._set_last_sync_resource_version(rv)),
        g._clock,
        _ErrorChannel(),
        EventNotifier(stop),
    )


def test_reflector_handle_watch_stopped_before() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    stop = threading.Event()
    stop.set()
    fw = _MockWatcher(lambda: iter(()))
    with pytest.raises(_StopRequestedError):
        _handle(g, fw, s, stop)
    assert fw.calls == ["ResultChan", "Stop"]


def test_reflector_handle_watch_stopped_after() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    stop = threading.Event()
    closed = threading.Event()

    def result() -> Iterator[WatchEvent]:
        # Stop asynchronously once watching has started; the stream ends when stopped.
        threading.Thread(target=stop.set, daemon=True).start()
        closed.wait(5)
        yield from ()

    fw = _MockWatcher(result, on_stop=closed.set)
    with pytest.raises(_StopRequestedError):
        _handle(g, fw, s, stop)
    assert fw.calls == ["ResultChan", "Stop"]


def test_reflector_handle_watch_result_chan_closed_before() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    fw = _MockWatcher(lambda: iter(()))
    with pytest.raises(VeryShortWatchError) as exc:
        _handle(g, fw, s, threading.Event())
    assert exc.value.name == g.name()
    assert fw.calls == ["ResultChan", "Stop"]


def test_reflector_handle_watch_result_chan_closed_after() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    release = threading.Event()

    def result() -> Iterator[WatchEvent]:
        # The producer closes the stream after watching has started.
        threading.Thread(target=release.set, daemon=True).start()
        release.wait(5)
        yield from ()

    fw = _MockWatcher(result)
    with pytest.raises(VeryShortWatchError):
        _handle(g, fw, s, threading.Event())
    assert fw.calls == ["ResultChan", "Stop"]


def test_reflector_watch_handler() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    stop = threading.Event()

    def set_rv(rv: str, _: bool) -> None:
        g._set_last_sync_resource_version(rv)
        if rv == "32":
            stop.set()

    fw = FakeWatcher()
    s.add(_pod("foo"))
    s.add(_pod("bar"))
    fw.add(V1Service(metadata=V1ObjectMeta(name="rejected")))
    fw.delete(_pod("foo"))
    fw.modify(_pod("bar", "55"))
    fw.add(_pod("baz", "32"))
    with pytest.raises(_StopRequestedError):
        _handle(g, fw, s, stop, set_rv)

    for pod, exists in [
        (_pod("foo"), False),
        (_pod("rejected"), False),
        (_pod("bar", "55"), True),
        (_pod("baz", "32"), True),
    ]:
        obj, found = s.get(pod)
        assert found == exists, pod.metadata.name
        if found:
            assert obj.metadata.resource_version == pod.metadata.resource_version
    assert g.last_sync_resource_version() == "32"


def test_reflector_stop_watch() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    stop = threading.Event()
    stop.set()
    with pytest.raises(_StopRequestedError):
        _handle(g, FakeWatcher(), s, stop)


def _watch_options(o: ListOptions) -> tuple[str, bool, str, int]:
    """The ListOptions fields the upstream comparisons look at (TimeoutSeconds ignored)."""
    return (o.resource_version, o.allow_watch_bookmarks, o.resource_version_match, o.limit)


def test_reflector_list_and_watch_use_watch_list_disabled() -> None:
    lw = ScriptedListWatch()
    lw.add_list_result(_pod_list("1", _pod("foo", "1")))
    s = new_fifo(meta_namespace_key_func)
    r = new_reflector(lw, V1Pod, s, 0)
    stop = threading.Event()
    runner = _Runner(lambda: r.list_and_watch(stop))
    try:
        fw = lw.wait_for_watcher(1)
        fw.modify(_pod("foo", "2"))
        for name, rv in [("bar", "3"), ("baz", "4"), ("qux", "5"), ("zoo", "6")]:
            fw.add(_pod(name, rv))
        # Go's unbuffered fake watch hands each event over before the test goes on.
        assert wait_until(lambda: r.last_sync_resource_version() == "6")
        expected = [("foo", "2"), ("bar", "3"), ("baz", "4"), ("qux", "5"), ("zoo", "6")]
        for name, rv in expected:
            obj = _pop(s)
            assert (obj.metadata.name, obj.metadata.resource_version) == (name, rv)
        assert [_watch_options(o) for o in lw.list_calls] == [("0", False, "", 500)]
        assert [_watch_options(o) for o in lw.watch_calls] == [("1", True, "", 0)]
    finally:
        stop.set()
        runner.join()
    assert runner.error is None


def test_reflector_list_and_watch_with_errors() -> None:
    list_error = RuntimeError("a list error")
    watch_error = RuntimeError("a watch error")
    table: list[dict[str, Any]] = [
        {
            "list": _pod_list("1"),
            "events": [WatchEvent(ADDED, _pod("foo", "2")), WatchEvent(ADDED, _pod("bar", "3"))],
        },
        {
            "list": _pod_list("3", _pod("foo", "2"), _pod("bar", "3")),
            "events": [WatchEvent(DELETED, _pod("foo", "4")), WatchEvent(ADDED, _pod("qux", "5"))],
        },
        {"list_err": list_error},
        {"list": _pod_list("5", _pod("bar", "3"), _pod("qux", "5")), "watch_err": watch_error},
        {
            "list": _pod_list("5", _pod("bar", "3"), _pod("qux", "5")),
            "events": [WatchEvent(ADDED, _pod("baz", "6"))],
        },
        {"list": _pod_list("6", _pod("bar", "3"), _pod("qux", "5"), _pod("baz", "6"))},
    ]
    s = new_store(meta_namespace_key_func)
    for line, item in enumerate(table):
        if "list" in item:
            current = {p.metadata.name: p.metadata.resource_version for p in s.list()}
            for pod in item["list"].items:
                assert current.get(pod.metadata.name) == pod.metadata.resource_version, line
            assert len(item["list"].items) == len(current), line
        _list_and_watch_with_errors_case(s, item, list_error, watch_error)


def _list_and_watch_with_errors_case(
    s: Store, item: dict[str, Any], list_error: BaseException, watch_error: BaseException
) -> None:
    """One row of TestReflectorListAndWatchWithErrors."""
    events: list[WatchEvent] = item.get("events", [])
    pending_watch_err: list[BaseException | None] = [item.get("watch_err")]
    stop = threading.Event()
    holder: list[Reflector] = []

    def watch_func(options: ListOptions) -> WatchInterface:
        err = pending_watch_err[0]
        if err is not None:
            raise err
        pending_watch_err[0] = RuntimeError("second watch")
        fw = FakeWatcher()
        last_rv = events[-1].object.metadata.resource_version if events else None

        def produce() -> None:
            fw.send_many(list(events))
            if last_rv is not None:
                wait_until(lambda: holder[0].last_sync_resource_version() == last_rv)
            stop.set()

        threading.Thread(target=produce, daemon=True).start()
        return fw

    def list_func(options: ListOptions, item: dict[str, Any] = item) -> ObjectList[Any]:
        if "list_err" in item:
            raise item["list_err"]
        result: ObjectList[Any] = item["list"]
        return result

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)), V1Pod, s, 0
    )
    holder.append(r)
    if "list_err" in item:
        with pytest.raises(ListError) as list_exc:
            r.list_and_watch(stop)
        assert list_exc.value.__cause__ is list_error
    elif "watch_err" in item:
        with pytest.raises(RuntimeError) as watch_exc:
            r.list_and_watch(stop)
        assert watch_exc.value is watch_error
    else:
        r.list_and_watch(stop)
    stop.set()


@pytest.mark.parametrize(
    ("num_conn_fails", "exp_lower_bound", "exp_upper_bound"),
    [(5, 0.032, 0.064), (40, 35 * 2 * 0.05, 40 * 2 * 0.05)],
    ids=["5 connection failures", "40 connection failures"],
)
def test_reflector_list_and_watch_init_conn_backoff(
    num_conn_fails: int, exp_lower_bound: float, exp_upper_bound: float
) -> None:
    max_backoff = 0.05
    stop = threading.Event()
    conn_fails = [num_conn_fails]
    fake_clock = FakeClock()
    backoff = Backoff(duration=0.001, cap=max_backoff, steps=1000, factor=2.0, jitter=1.0)
    delay_fn = backoff.delay_with_reset(fake_clock, 0.1)

    def watch_func(options: ListOptions) -> WatchInterface:
        if conn_fails[0] > 0:
            conn_fails[0] -= 1
            raise ConnectionRefusedError("connection refused")
        stop.set()
        return FakeWatcher()

    lw = ListWatch(list_func=lambda o: _pod_list("1"), watch_func=watch_func)
    r = _reflector(lw, new_fifo(meta_namespace_key_func), clock=fake_clock, delay=delay_fn)
    stepper = ClockStepper(fake_clock, lambda i: min((1 << (i + 1)) * 0.001, max_backoff * 2))
    try:
        start = fake_clock.now()
        r.list_and_watch(stop)
        elapsed = fake_clock.since(start)
    finally:
        stepper.stop()
    assert exp_lower_bound <= elapsed <= exp_upper_bound


@pytest.mark.parametrize(
    ("backoff", "num_conn_fails", "step", "exp_lower_bound", "exp_upper_bound"),
    [
        (None, 2, 0.1, 0.0, 10.0),
        (Backoff(duration=0.01, factor=2.0, jitter=0.0, steps=100, cap=0.1), 5, 0.01, 0.25, 0.3),
    ],
    ids=["default backoff", "custom backoff"],
)
def test_new_reflector_with_custom_backoff(
    backoff: Backoff | None,
    num_conn_fails: int,
    step: float,
    exp_lower_bound: float,
    exp_upper_bound: float,
) -> None:
    stop = threading.Event()
    conn_fails = [num_conn_fails]
    fake_clock = FakeClock()

    def watch_func(options: ListOptions) -> WatchInterface:
        if conn_fails[0] > 0:
            conn_fails[0] -= 1
            raise ConnectionRefusedError("connection refused")
        stop.set()
        return FakeWatcher()

    lw = ListWatch(list_func=lambda o: _pod_list("1"), watch_func=watch_func)
    r = new_reflector_with_options(
        lw,
        V1Pod,
        new_store(meta_namespace_key_func),
        ReflectorOptions(backoff=backoff, clock=fake_clock),
    )
    stepper = ClockStepper(fake_clock, lambda i: step)
    try:
        start = fake_clock.now()
        r.list_and_watch(stop)
        elapsed = fake_clock.since(start)
    finally:
        stepper.stop()
    assert exp_lower_bound <= elapsed + 1e-9
    assert elapsed <= exp_upper_bound + 1e-9


def test_backoff_on_too_many_requests() -> None:
    err = StatusError(429, REASON_TOO_MANY_REQUESTS, "too many requests", retry_after_seconds=1)
    fd = _FakeDelayFunc()

    def watch_func(options: ListOptions) -> WatchInterface:
        if fd.calls == 0:
            raise err
        w = FakeWatcher()
        if fd.calls == 1:
            w.error(_status(429, REASON_TOO_MANY_REQUESTS, "too many requests"))
            return w
        w.stop()
        return w

    lw = ListWatch(list_func=lambda o: _pod_list("1"), watch_func=watch_func)
    r = _reflector(lw, new_fifo(meta_namespace_key_func), delay=fd.delay_func)
    r.list_and_watch(threading.Event())
    assert fd.calls == 2


def test_no_relist_on_too_many_requests() -> None:
    err = StatusError(429, REASON_TOO_MANY_REQUESTS, "too many requests", retry_after_seconds=1)
    fd = _FakeDelayFunc()
    calls = {"list": 0, "watch": 0}

    def list_func(options: ListOptions) -> ObjectList[Any]:
        calls["list"] += 1
        return _pod_list("1")

    def watch_func(options: ListOptions) -> WatchInterface:
        calls["watch"] += 1
        if calls["watch"] < 5:
            raise err
        w = FakeWatcher()
        w.stop()
        return w

    r = _reflector(
        ListWatch(list_func=list_func, watch_func=watch_func),
        new_fifo(meta_namespace_key_func),
        delay=fd.delay_func,
    )
    r.list_and_watch(threading.Event())
    assert calls == {"list": 1, "watch": 5}


@pytest.mark.parametrize(
    ("max_internal_duration", "rewind_time", "want_retries"),
    [(0.0, 0, 0), (30.0, 0, 31), (30.0, 10, 40)],
    ids=["retries off", "retries on, all calls fail", "retries on, one call successful"],
)
def test_retry_internal_error(
    max_internal_duration: float, rewind_time: int, want_retries: int
) -> None:
    fake_clock = FakeClock()
    fd = _FakeDelayFunc()
    counter = [0]

    def watch_func(options: ListOptions) -> WatchInterface:
        counter[0] += 1
        if counter[0] == rewind_time:
            fake_clock.step(60.0)
        fake_clock.step(1.0)
        w = FakeWatcher()
        w.error(
            _status(500, REASON_INTERNAL_ERROR, "Internal error occurred: etcdserver: no leader")
        )
        return w

    r = _reflector(
        ListWatch(list_func=lambda o: _pod_list("1"), watch_func=watch_func),
        new_fifo(meta_namespace_key_func),
        clock=fake_clock,
        delay=fd.delay_func,
    )
    r.max_internal_error_retry_duration = max_internal_duration
    r.list_and_watch(threading.Event())
    assert counter[0] - 1 == want_retries


class _FakeCustomStore:
    """Port of FakeCustomStore (fake_custom_store.go): a store made of optional functions."""

    def __init__(self, resync_func: Callable[[], None] | None = None) -> None:
        self.resync_func = resync_func

    def add(self, obj: Any) -> None:
        pass

    def update(self, obj: Any) -> None:
        pass

    def delete(self, obj: Any) -> None:
        pass

    def replace(self, items: list[Any], resource_version: str) -> None:
        pass

    def resync(self) -> None:
        if self.resync_func is not None:
            self.resync_func()


def test_reflector_resync() -> None:
    iteration = [0]
    rerr = RuntimeError("expected resync reached")

    def resync() -> None:
        iteration[0] += 1
        if iteration[0] == 2:
            raise rerr

    fake_clock = FakeClock()
    lw = _no_watch_list(
        ListWatch(list_func=lambda o: _pod_list("0"), watch_func=lambda o: FakeWatcher())
    )
    r = new_reflector_with_options(
        lw, V1Pod, _FakeCustomStore(resync), ReflectorOptions(resync_period=0.001, clock=fake_clock)
    )
    stepper = ClockStepper(fake_clock, lambda i: 0.001)
    try:
        # The resync error is not propagated up to here.
        r.list_and_watch(threading.Event())
    finally:
        stepper.stop()
    assert iteration[0] == 2


def _pods(n: int) -> list[V1Pod]:
    return [_pod(f"pod-{i}", str(i)) for i in range(n)]


def _stop_on_watch(stop: threading.Event) -> Callable[[ListOptions], WatchInterface]:
    def watch_func(options: ListOptions) -> WatchInterface:
        # Stop once the reflector begins watching: only the list matters here.
        stop.set()
        return FakeWatcher()

    return watch_func


def test_reflector_watch_list_page_size() -> None:
    stop = threading.Event()
    s = new_store(meta_namespace_key_func)
    pods = _pods(10)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        assert options.limit == 4
        pages = {"": ("C1", pods[0:4]), "C1": ("C2", pods[4:8]), "C2": ("", pods[8:10])}
        cont, items = pages[options.continue_]
        return _pod_list("10", *items, continue_=cont)

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=_stop_on_watch(stop))), V1Pod, s, 0
    )
    # Paginate also the not consistent read at RV=10, in chunks of 4.
    r._set_last_sync_resource_version("10")
    r.watch_list_page_size = 4
    r.list_and_watch(stop)
    assert len(s.list()) == 10


def test_reflector_not_paginating_not_consistent_reads() -> None:
    stop = threading.Event()
    s = new_store(meta_namespace_key_func)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        assert options.resource_version == "10"
        assert options.limit == 0
        return _pod_list("10", *_pods(10))

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=_stop_on_watch(stop))), V1Pod, s, 0
    )
    r._set_last_sync_resource_version("10")
    r.list_and_watch(stop)
    assert len(s.list()) == 10


def test_reflector_paginating_non_consistent_reads_if_watch_cache_disabled() -> None:
    stops = [threading.Event()]
    s = new_store(meta_namespace_key_func)
    pods = _pods(10)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        assert options.limit == 500
        pages = {"": ("C1", pods[0:4]), "C1": ("C2", pods[4:8]), "C2": ("", pods[8:10])}
        cont, items = pages[options.continue_]
        return _pod_list("10", *items, continue_=cont)

    def watch_func(options: ListOptions) -> WatchInterface:
        stops[-1].set()
        return FakeWatcher()

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)), V1Pod, s, 0
    )
    # The initial list sets paginatedResult in the reflector.
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 10
    # Since the RV=0 list was paginated, later lists are paginated too.
    stops.append(threading.Event())
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 10


def test_reflector_resync_with_resource_version() -> None:
    stops = [threading.Event()]
    s = new_store(meta_namespace_key_func)
    list_call_rvs: list[str] = []
    pods = _pods(8)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        list_call_rvs.append(options.resource_version)
        if options.resource_version == "0":
            return _pod_list("10", *pods[0:4])
        if options.resource_version == "10":
            return _pod_list("11", *pods[0:8])
        raise AssertionError(f"unrecognized ResourceVersion {options.resource_version!r}")

    def watch_func(options: ListOptions) -> WatchInterface:
        stops[-1].set()
        return FakeWatcher()

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)), V1Pod, s, 0
    )
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 4
    # The relist uses the last synced version (RV=10).
    stops.append(threading.Event())
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 8
    assert list_call_rvs == ["0", "10"]


def test_reflector_expired_exact_resource_version() -> None:
    stops = [threading.Event()]
    s = new_store(meta_namespace_key_func)
    list_call_rvs: list[str] = []
    pods = _pods(8)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        list_call_rvs.append(options.resource_version)
        if options.resource_version == "0":
            return _pod_list("10", *pods[0:4])
        if options.resource_version == "10":
            raise new_resource_expired("The resourceVersion for the provided watch is too old.")
        if options.resource_version == "":
            return _pod_list("11", *pods[0:8])
        raise AssertionError(f"unrecognized ResourceVersion {options.resource_version!r}")

    def watch_func(options: ListOptions) -> WatchInterface:
        stops[-1].set()
        return FakeWatcher()

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)), V1Pod, s, 0
    )
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 4
    # RV=10 is expired: the relist retries at once with RV="".
    stops.append(threading.Event())
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 8
    assert list_call_rvs == ["0", "10", ""]


def test_reflector_full_list_if_expired() -> None:
    stops = [threading.Event()]
    s = new_store(meta_namespace_key_func)
    list_call_rvs: list[str] = []
    pods = _pods(8)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        list_call_rvs.append(options.resource_version)
        key = (options.resource_version, options.continue_, options.limit)
        if key == ("0", "", 4):
            return _pod_list("10", *pods[0:4])
        if key == ("10", "", 4):
            return _pod_list("11", *pods[0:4], continue_="C1")
        if key == ("", "C1", 4):
            raise new_resource_expired("The resourceVersion for the provided watch is too old.")
        if key == ("10", "", 0):
            return _pod_list("11", *pods[0:8])
        raise AssertionError(f"unexpected list options: {options!r}")

    def watch_func(options: ListOptions) -> WatchInterface:
        stops[-1].set()
        return FakeWatcher()

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)), V1Pod, s, 0
    )
    r.watch_list_page_size = 4
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 4
    # The second page of the RV=10 list expires: full list at RV=10.
    stops.append(threading.Event())
    r.list_and_watch(stops[-1])
    assert len(s.list()) == 8
    assert list_call_rvs == ["0", "10", "", "10"]


def test_reflector_full_list_if_too_large() -> None:
    stops = [threading.Event()]
    s = new_store(meta_namespace_key_func)
    list_call_rvs: list[str] = []
    version = [30]

    def list_func(options: ListOptions) -> ObjectList[Any]:
        list_call_rvs.append(options.resource_version)
        resource_version = str(version[0])
        rv = options.resource_version
        if rv == "0":
            return _pod_list("20")
        if rv == "20":
            raise StatusError(
                504,
                REASON_TIMEOUT,
                "too large resource version",
                causes=[{"reason": "ResourceVersionTooLarge"}],
            )
        if rv == "30":
            raise StatusError(
                504,
                REASON_TIMEOUT,
                "too large resource version",
                causes=[{"message": "Too large resource version"}],
            )
        if rv == "40":
            raise StatusError(504, REASON_TIMEOUT, "Too large resource version")
        if rv == "":
            version[0] += 10
            return _pod_list(resource_version)
        raise RuntimeError(f"unexpected List call: {rv}")

    def watch_func(options: ListOptions) -> WatchInterface:
        stops[-1].set()
        return FakeWatcher()

    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)), V1Pod, s, 0
    )
    r.list_and_watch(stops[-1])
    # Relisting from a version the server has not reached yet recovers with RV="".
    for _ in range(3):
        stops.append(threading.Event())
        r.list_and_watch(stops[-1])
    assert list_call_rvs == ["0", "20", "", "30", "", "40", ""]


@pytest.mark.parametrize(
    ("input_type", "expected"),
    [(None, DEFAULT_EXPECTED_TYPE_NAME), (V1Pod(), "V1Pod"), (V1Pod, "V1Pod")],
    ids=["Nil type", "Normal type", "Normal class"],
)
def test_get_type_description_from_object(input_type: Any, expected: str) -> None:
    assert get_type_description_from_object(input_type) == expected


@pytest.mark.parametrize(
    ("min_watch_timeout", "expected_min_timeout_seconds"),
    [(0.0, 5 * 60), (1.0, 5 * 60), (30 * 60.0, 30 * 60)],
    ids=["no timeout", "small timeout not honored", "30m timeout"],
)
def test_watch_timeout(min_watch_timeout: float, expected_min_timeout_seconds: int) -> None:
    stop = threading.Event()
    got: list[int | None] = []

    def watch_func(options: ListOptions) -> WatchInterface:
        got.append(options.timeout_seconds)
        stop.set()
        return FakeWatcher()

    lw = _no_watch_list(ListWatch(list_func=lambda o: _pod_list("10"), watch_func=watch_func))
    r = new_reflector_with_options(
        lw,
        V1Pod,
        new_store(meta_namespace_key_func),
        ReflectorOptions(min_watch_timeout=min_watch_timeout),
    )
    r.list_and_watch(stop)
    assert got and got[0] is not None
    assert expected_min_timeout_seconds <= got[0] <= 2 * expected_min_timeout_seconds


class _StoreWithRV:
    """Port of storeWithRV: a store recording UpdateResourceVersion calls."""

    def __init__(self) -> None:
        self.store: Store = new_store(meta_namespace_key_func)
        self.resource_versions: list[str] = []
        self.cond = threading.Condition()

    def add(self, obj: Any) -> None:
        self.store.add(obj)

    def update(self, obj: Any) -> None:
        self.store.update(obj)

    def delete(self, obj: Any) -> None:
        self.store.delete(obj)

    def replace(self, items: list[Any], rv: str) -> None:
        self.store.replace(items, rv)

    def resync(self) -> None:
        self.store.resync()

    def update_resource_version(self, resource_version: str) -> None:
        with self.cond:
            self.resource_versions.append(resource_version)
            self.cond.notify_all()


def test_reflector_resource_version_update() -> None:
    s = _StoreWithRV()
    stop = threading.Event()
    fw = FakeWatcher()
    lw = _no_watch_list(ListWatch(list_func=lambda o: _pod_list("10"), watch_func=lambda o: fw))
    r = new_reflector(lw, V1Pod, s, 0)
    fw.action(ADDED, _pod("", "10"))
    fw.action(MODIFIED, _pod("", "20"))
    fw.action(BOOKMARK, _pod("", "30"))
    fw.action(DELETED, _pod("", "40"))

    def stop_when_done() -> None:
        with s.cond:
            s.cond.wait_for(lambda: len(s.resource_versions) == 4, 5)
        stop.set()

    threading.Thread(target=stop_when_done, daemon=True).start()
    r.list_and_watch(stop)
    assert s.resource_versions == ["10", "20", "30", "40"]


def test_reflector_list_extract() -> None:
    def key_func(obj: Any) -> str:
        if not isinstance(obj, V1Pod):
            raise TypeError(f"expect V1Pod, but got {type(obj).__name__}")
        return str(obj.metadata.name)

    store = new_store(key_func)
    fetched = [0]
    total_pages = 5
    items_per_page = 100

    def list_func(options: ListOptions) -> ObjectList[Any]:
        start = fetched[0] * items_per_page
        items = [_pod(f"pod-{start + i}") for i in range(items_per_page)]
        fetched[0] += 1
        return _pod_list("1", *items, continue_="" if fetched[0] >= total_pages else "true")

    r = new_reflector(ListWatch(list_func=list_func), V1Pod, store, 0)
    r.watch_list_page_size = items_per_page
    r._list(EventNotifier(threading.Event()))
    assert len(store.list_keys()) == total_pages * items_per_page


def test_reflector_replaces_store_on_unsafe_delete() -> None:
    pre_existing = _pod("foo-1", "1", "ns")
    pods = [pre_existing, _pod("foo-2", "2", "ns"), _pod("foo-3", "3", "ns")]
    last_expected_rv = "5"
    lists = [_pod_list("3", *pods), _pod_list(last_expected_rv, *pods)]
    corrupt_obj = _pod("foo", "4", "ns")
    store_read_error = _status(
        500,
        "StorageReadError",
        "failed to prepare current and previous objects: corrupt object has been deleted",
    )
    s = new_store(meta_namespace_key_func)
    replace_invoked = [0]

    class _FakeStore:
        """Port of fakeStore: hooks around Replace."""

        def add(self, obj: Any) -> None:
            s.add(obj)

        def update(self, obj: Any) -> None:
            s.update(obj)

        def delete(self, obj: Any) -> None:
            s.delete(obj)

        def resync(self) -> None:
            s.resync()

        def replace(self, items: list[Any], rv: str) -> None:
            if rv == last_expected_rv:
                replace_invoked[0] += 1
                assert s.get(corrupt_obj)[1]
                assert s.get(pre_existing)[1]
            s.replace(items, rv)
            if rv == last_expected_rv:
                replace_invoked[0] += 1
                assert not s.get(corrupt_obj)[1]
                assert s.get(pre_existing)[1]

    sent = [False]

    def watch_func(options: ListOptions) -> WatchInterface:
        fw = FakeWatcher()
        if not sent[0]:
            sent[0] = True
            fw.add(corrupt_obj)
            fw.error(store_read_error)
        return fw

    def list_func(options: ListOptions) -> ObjectList[Any]:
        return lists.pop(0) if lists else _pod_list(last_expected_rv, *pods)

    fake_clock = FakeClock()
    r = new_reflector_with_options(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=watch_func)),
        V1Pod,
        _FakeStore(),
        ReflectorOptions(clock=fake_clock),
    )
    stop = threading.Event()
    runner = _Runner(lambda: r.run(stop))
    # Let the backoff before the relist pass on the fake clock.
    stepper = ClockStepper(fake_clock, lambda i: 60.0)
    try:
        assert wait_until(lambda: r.last_sync_resource_version() == last_expected_rv)
        assert wait_until(lambda: replace_invoked[0] == 2)
        assert len(s.list()) == len(pods)
    finally:
        stepper.stop()
        stop.set()
        runner.join()


# --- jobctl checks of the retry rules named in the port's contract -------------------


def _no_jitter_backoff() -> Backoff:
    return Backoff(duration=0.8, cap=30.0, steps=38, factor=2.0, jitter=0.0)


def test_default_backoff_parameters() -> None:
    fake_clock = FakeClock()
    r = new_reflector_with_options(
        ListWatch(), V1Pod, new_store(meta_namespace_key_func), ReflectorOptions(clock=fake_clock)
    )
    delays = [r._delay_handler() for _ in range(8)]
    bases = [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]
    for delay, base in zip(delays, bases, strict=True):
        assert base <= delay < 2 * base
    # Two quiet minutes reset the backoff.
    fake_clock.step(121.0)
    assert 0.8 <= r._delay_handler() < 1.6


def test_run_backs_off_on_failing_list() -> None:
    fake_clock = FakeClock()
    lw = ScriptedListWatch()
    lw.add_list_result(StatusError(500, REASON_INTERNAL_ERROR, "boom"))
    errors: list[BaseException] = []
    r = new_reflector_with_options(
        lw,
        V1Pod,
        new_store(meta_namespace_key_func),
        ReflectorOptions(clock=fake_clock, backoff=_no_jitter_backoff()),
    )
    r.watch_error_handler = lambda refl, err: errors.append(err)
    stop = threading.Event()
    runner = _Runner(lambda: r.run(stop))
    try:
        for expected_calls, delay in [(1, 0.8), (2, 1.6), (3, 3.2), (4, 6.4)]:
            assert fake_clock.wait_for_waiters(1)
            # While the reflector backs off, nothing is retried: no busy loop.
            assert len(lw.list_calls) == expected_calls
            fake_clock.step(delay - 0.01)
            assert fake_clock.wait_for_waiters(1)
            assert len(lw.list_calls) == expected_calls
            fake_clock.step(0.01)
            assert lw.wait_for_list_calls(expected_calls + 1)
        assert all(isinstance(e, ListError) for e in errors)
        assert not lw.watch_calls
    finally:
        stop.set()
        runner.join()


def test_run_relists_after_gone_and_resumes_after_clean_close() -> None:
    fake_clock = FakeClock()
    lw = ScriptedListWatch()
    lw.add_list_result(_pod_list("10", _pod("a", "10", "ns")))
    w1 = lw.add_watch_result()
    w2 = lw.add_watch_result()
    assert w1 is not None and w2 is not None
    store = new_store(meta_namespace_key_func)
    r = new_reflector_with_options(
        lw, V1Pod, store, ReflectorOptions(clock=fake_clock, backoff=_no_jitter_backoff())
    )
    stop = threading.Event()
    runner = _Runner(lambda: r.run(stop))
    try:
        assert lw.wait_for_watch_calls(1)
        assert lw.watch_calls[0].resource_version == "10"
        w1.add(_pod("b", "11", "ns"))
        w1.modify(_pod("a", "12", "ns"))
        # The server closes the watch: resume from the last version seen, no relist.
        w1.stop()
        assert lw.wait_for_watch_calls(2)
        assert lw.watch_calls[1].resource_version == "12"
        assert len(lw.list_calls) == 1
        assert store.get_by_key("ns/b")[1]
        # 410 Gone: the reflector relists from the last version after the backoff.
        lw.add_list_result(_pod_list("20", _pod("a", "20", "ns")))
        w2.error(_status(410, "Expired", "too old resource version: 12 (15)"))
        assert fake_clock.wait_for_waiters(1)
        assert len(lw.list_calls) == 1
        fake_clock.step(0.8)
        assert lw.wait_for_watch_calls(3)
        assert [o.resource_version for o in lw.list_calls] == ["0", "12"]
        assert lw.watch_calls[2].resource_version == "20"
        assert sorted(store.list_keys()) == ["ns/a"]
        assert r.last_sync_resource_version() == "20"
    finally:
        stop.set()
        runner.join()


def test_handle_watch_skips_unknown_and_bad_events() -> None:
    s = new_store(meta_namespace_key_func)
    g = new_reflector(ListWatch(), V1Pod, s, 0)
    stop = threading.Event()

    def set_rv(rv: str, _: bool) -> None:
        g._set_last_sync_resource_version(rv)
        if rv == "9":
            stop.set()

    fw = FakeWatcher()
    fw.action("WEIRD", _pod("odd", "7"))
    fw.add({"not": "an object"})
    fw.add(V1Service(metadata=V1ObjectMeta(name="svc", resource_version="8")))
    fw.add(_pod("good", "9"))
    with pytest.raises(_StopRequestedError):
        _handle(g, fw, s, stop, set_rv)
    assert s.list_keys() == ["good"]
    assert g.last_sync_resource_version() == "9"


def test_default_watch_error_handler_logs(caplog: pytest.LogCaptureFixture) -> None:
    r = new_reflector(ListWatch(), V1Pod, new_store(meta_namespace_key_func), 0)
    with caplog.at_level("DEBUG", logger="jobctl.informers.reflector"):
        default_watch_error_handler(r, new_resource_expired("gone"))
        default_watch_error_handler(r, RuntimeError("boom"))
    levels = [rec.levelname for rec in caplog.records]
    assert levels == ["DEBUG", "ERROR"]


def test_stop_during_list_returns_promptly() -> None:
    release = threading.Event()
    stop = threading.Event()

    def list_func(options: ListOptions) -> ObjectList[Any]:
        stop.set()
        release.wait(5)
        return _pod_list("1")

    store = new_store(meta_namespace_key_func)
    r = new_reflector(
        _no_watch_list(ListWatch(list_func=list_func, watch_func=lambda o: FakeWatcher())),
        V1Pod,
        store,
        0,
    )
    r.list_and_watch(stop)
    release.set()
    assert r.last_sync_resource_version() == ""


def test_resync_error_ends_watch_and_is_not_returned() -> None:
    fake_clock = FakeClock()
    resyncs = [0]

    def resync() -> None:
        resyncs[0] += 1
        raise RuntimeError("resync failed")

    lw = ScriptedListWatch()
    r = new_reflector_with_options(
        lw, V1Pod, _FakeCustomStore(resync), ReflectorOptions(resync_period=30.0, clock=fake_clock)
    )
    r.should_resync = lambda: True
    runner = _Runner(lambda: r.list_and_watch(threading.Event()))
    assert lw.wait_for_watch_calls(1)
    assert fake_clock.wait_for_waiters(1)
    fake_clock.step(30.0)
    runner.join()
    assert runner.error is None
    assert resyncs[0] == 1
    assert lw.watchers[0].is_stopped()


def test_watch_error_event_object_is_error() -> None:
    err = reflector_mod.status_error_from_object(_status(410, "Gone", "gone"))
    assert isinstance(err, StatusError)
    assert reflector_mod.is_expired_error(err)
    assert isinstance(
        reflector_mod.status_error_from_object(_pod("x")), reflector_mod.UnexpectedObjectError
    )
    assert reflector_mod.is_watch_error_retriable(ConnectionRefusedError())
    assert reflector_mod.is_watch_error_retriable(OSError(errno.ECONNREFUSED, "refused"))

    class _WrappedError(Exception):
        def __init__(self, reason: BaseException) -> None:
            super().__init__("max retries")
            self.reason = reason

    assert reflector_mod.is_watch_error_retriable(_WrappedError(ConnectionRefusedError()))
    assert not reflector_mod.is_watch_error_retriable(RuntimeError("boom"))
    wrapped = ListError("failed")
    wrapped.__cause__ = new_resource_expired("old")
    assert reflector_mod.is_expired_error(wrapped)


def test_pod_spec_untouched_by_reflector() -> None:
    pod = V1Pod(
        metadata=V1ObjectMeta(name="p", resource_version="1"), spec=V1PodSpec(containers=[])
    )
    s = new_store(meta_namespace_key_func)
    stop = threading.Event()
    fw = FakeWatcher()
    fw.add(pod)

    def set_rv(rv: str, _: bool) -> None:
        stop.set()

    g = new_reflector(ListWatch(), V1Pod, s, 0)
    with pytest.raises(_StopRequestedError):
        _handle(g, fw, s, stop, set_rv)
    # No re-decoding: the very object delivered by the watch is stored.
    assert s.get_by_key("p")[0] is pod


def test_error_event_types() -> None:
    assert ERROR == "ERROR"


def test_every_watch_asks_the_server_to_end_it_within_5_to_10_minutes() -> None:
    """Each watch, the first and every rewatch after a clean close, carries its own
    random timeoutSeconds in [minWatchTimeout, 2*minWatchTimeout] (reflector.go watch)."""
    lw = ScriptedListWatch()
    lw.add_list_result(_pod_list("10", _pod("a", "10", "ns")))
    watchers = [lw.add_watch_result() for _ in range(6)]
    r = new_reflector_with_options(
        lw, V1Pod, new_store(meta_namespace_key_func), ReflectorOptions(clock=FakeClock())
    )
    stop = threading.Event()
    runner = _Runner(lambda: r.run(stop))
    try:
        for i, w in enumerate(watchers[:5]):
            assert lw.wait_for_watch_calls(i + 1)
            assert w is not None
            w.add(_pod("a", str(11 + i), "ns"))
            w.stop()  # the server ends the watch (timeoutSeconds reached)
        assert lw.wait_for_watch_calls(6)
    finally:
        stop.set()
        runner.join()
    timeouts = [o.timeout_seconds for o in lw.watch_calls]
    assert all(t is not None and 5 * 60 <= t <= 10 * 60 for t in timeouts)
    assert len(set(timeouts)) > 1, "every watch draws its own timeout"
    assert [o.resource_version for o in lw.watch_calls] == ["10", "11", "12", "13", "14", "15"]
    assert len(lw.list_calls) == 1
