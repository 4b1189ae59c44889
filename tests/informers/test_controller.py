"""Ported tests: client-go tools/cache/controller_test.go.

Skipped upstream cases:
- TestPanicPropagated: a handler exception does not escape ``Controller.run`` here; it is
  logged and the loop goes on (a deliberate deviation: Python has no process-wide crash
  on a goroutine panic).
- TestDeletedObjectGetObjectName / TestDeletedObjectGetKey: the typed DeletedObject
  generics are not ported.
- The randfill-generated pods of TestHammerController become random labels here.

Resyncs and backoffs run on a FakeClock stepped by a helper thread instead of real time.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes.client import V1ConfigMap, V1ObjectMeta, V1Pod, V1PodSpec

from jobctl.client.interface import ListOptions, WatchInterface
from jobctl.informers.controller import (
    Config,
    Controller,
    InformerOptions,
    ResourceEventHandler,
    ResourceEventHandlerDetailedFuncs,
    ResourceEventHandlerFuncs,
    deletion_handling_meta_namespace_key_func,
    deletion_handling_object_to_name,
    new,
    new_informer_with_options,
    new_queue_fifo,
    new_transforming_informer,
    process_deltas,
    process_deltas_in_batch,
)
from jobctl.informers.delta_fifo import (
    ADDED,
    DELETED,
    DeletedFinalStateUnknown,
    Delta,
    DeltaFIFO,
    Deltas,
)
from jobctl.informers.listwatch import ListWatch
from jobctl.informers.real_fifo import (
    RealFIFO,
    RealFIFOOptions,
    new_real_fifo,
    new_real_fifo_with_options,
)
from jobctl.informers.store import (
    KeyFunc,
    Store,
    Transaction,
    TransactionError,
    meta_namespace_key_func,
    new_store,
    object_to_name,
)
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.fake_list_watch import ClockStepper, FakeControllerSource, wait_until


def _pod(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(name=name, namespace=namespace, labels=labels))


class _Background:
    """Run ``controller.run(stop)`` on a thread; ``close`` stops and joins it."""

    def __init__(self, controller: Controller, clock: FakeClock | None = None) -> None:
        self.stop = threading.Event()
        self._thread = threading.Thread(target=controller.run, args=(self.stop,), daemon=True)
        self._thread.start()
        self._stepper = ClockStepper(clock, lambda i: 2.0) if clock is not None else None

    def close(self) -> None:
        self.stop.set()
        self._thread.join(10)
        if self._stepper is not None:
            self._stepper.stop()
        assert not self._thread.is_alive()


class _Collector:
    """A thread-safe list with a bounded wait for its length (Go's buffered channels)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.items: list[Any] = []

    def append(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def snapshot(self) -> list[Any]:
        with self._cond:
            return list(self.items)

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Any]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.items) >= n, timeout), self.items
            return list(self.items)


def test_example() -> None:
    source = FakeControllerSource()
    downstream = new_store(deletion_handling_meta_namespace_key_func)
    fifo = new_real_fifo(meta_namespace_key_func, downstream, None)
    deletion_counter = _Collector()

    def process(obj: Any, is_in_initial_list: bool) -> None:
        newest = obj.newest()
        if newest.type != DELETED:
            downstream.add(newest.object)
            source.delete(newest.object)
        else:
            downstream.delete(newest.object)
            deletion_counter.append(fifo._key_of(newest.object))

    clock = FakeClock()
    cfg = Config(
        queue=fifo,
        lister_watcher=source,
        object_type=V1Pod,
        full_resync_period=0.1,
        process=process,
    )
    bg = _Background(new(cfg, clock), clock)
    try:
        test_ids = ["a-hello", "b-controller", "c-framework"]
        for name in test_ids:
            source.add(_pod(name))
        # Resyncs may report a deletion twice: compare the sets, as upstream does.
        assert wait_until(lambda: set(deletion_counter.snapshot()) >= set(test_ids))
        assert set(deletion_counter.snapshot()) == set(test_ids)
    finally:
        bg.close()
        source.shutdown()


def test_example_new_informer() -> None:
    source = FakeControllerSource()
    deletion_counter = _Collector()

    def delete_func(obj: Any) -> None:
        deletion_counter.append(deletion_handling_meta_namespace_key_func(obj))

    clock = FakeClock()
    _, controller = new_informer_with_options(
        InformerOptions(
            lister_watcher=source,
            object_type=V1Pod,
            resync_period=0.1,
            handler=ResourceEventHandlerDetailedFuncs(
                add_func=lambda obj, initial: source.delete(obj), delete_func=delete_func
            ),
            clock=clock,
        )
    )
    bg = _Background(controller, clock)
    try:
        test_ids = ["a-hello", "b-controller", "c-framework"]
        for name in test_ids:
            source.add(_pod(name))
        # Resyncs may report a deletion twice: compare the sets, as upstream does.
        assert wait_until(lambda: set(deletion_counter.snapshot()) >= set(test_ids))
        assert set(deletion_counter.snapshot()) == set(test_ids)
    finally:
        bg.close()
        source.shutdown()


def test_hammer_controller() -> None:
    source = FakeControllerSource()
    output_lock = threading.Lock()
    output_set: dict[str, list[str]] = {}

    def record(event_type: str, obj: Any) -> None:
        key = deletion_handling_meta_namespace_key_func(obj)
        with output_lock:
            output_set.setdefault(key, []).append(event_type)

    clock = FakeClock()
    _, controller = new_informer_with_options(
        InformerOptions(
            lister_watcher=source,
            object_type=V1Pod,
            resync_period=0.1,
            handler=ResourceEventHandlerDetailedFuncs(
                add_func=lambda obj, initial: record("add", obj),
                update_func=lambda old, new: record("update", new),
                delete_func=lambda obj: record("delete", obj),
            ),
            clock=clock,
        )
    )
    assert not controller.has_synced()
    bg = _Background(controller, clock)
    try:
        assert controller.has_synced_checker().done().wait(5)

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            current: set[str] = set()
            for i in range(100):
                if not current or rng.randrange(3) == 1:
                    name = f"pod-{seed}-{i}"
                    is_new = True
                else:
                    name = rng.choice(sorted(current))
                    is_new = False
                pod = _pod(name, "default", {"r": str(rng.randrange(5))})
                if is_new:
                    current.add(name)
                    source.add(pod)
                    continue
                if rng.randrange(2) == 0:
                    current.add(name)
                    source.modify(pod)
                else:
                    current.discard(name)
                    source.delete(pod)

        threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        last_rv = source.list(ListOptions()).resource_version
        assert wait_until(lambda: controller.last_sync_resource_version() == last_rv)
    finally:
        bg.close()
        source.shutdown()
    with output_lock:
        for key, events in output_set.items():
            assert events[0] == "add", (key, events)


def test_update() -> None:
    source = FakeControllerSource()
    from_, to = "from", "to"
    allowed_transitions = {(from_, to), (to, to), (from_, from_)}
    errors: list[str] = []

    def pod(name: str, check: str, final: bool) -> V1Pod:
        labels = {"check": check}
        if final:
            labels["final"] = "true"
        return _pod(name, labels=labels)

    threads = 3
    done = threading.Semaphore(0)
    watch_ch = threading.Event()

    def watch_func(options: ListOptions) -> WatchInterface:
        w = source.watch(options)
        watch_ch.set()
        return w

    def update_func(old_obj: Any, new_obj: Any) -> None:
        transition = (old_obj.metadata.labels["check"], new_obj.metadata.labels["check"])
        if transition not in allowed_transitions:
            errors.append(f"observed transition {transition} for {new_obj.metadata.name}")
        if new_obj.metadata.labels.get("final") == "true":
            source.delete(new_obj)

    _, controller = new_informer_with_options(
        InformerOptions(
            lister_watcher=ListWatch(list_func=source.list, watch_func=watch_func),
            object_type=V1Pod,
            handler=ResourceEventHandlerFuncs(
                update_func=update_func, delete_func=lambda obj: done.release()
            ),
        )
    )
    bg = _Background(controller)
    try:
        assert watch_ch.wait(5)

        def run_test(name: str) -> None:
            name = "a-" + name
            source.add(pod(name, from_, False))
            source.modify(pod(name, to, True))

        workers = [threading.Thread(target=run_test, args=(f"{i}-0",)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        for _ in range(threads):
            assert done.acquire(timeout=5)
    finally:
        bg.close()
        source.shutdown()
    assert not errors


def _make_transform_pod(name: str, generation: str) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(name=name, namespace="namespace", labels={"generation": generation}),
        spec=V1PodSpec(containers=[], hostname="hostname", subdomain="subdomain"),
    )


def _expected_transform_pod(name: str, generation: str) -> V1Pod:
    pod = _make_transform_pod(name, generation)
    assert pod.spec is not None
    pod.spec.hostname = "new-hostname"
    pod.spec.subdomain = None
    pod.spec.node_name = "nodename"
    return pod


def test_transforming_informer() -> None:
    source = FakeControllerSource()
    source.add(_make_transform_pod("pod1", "1"))
    source.modify(_make_transform_pod("pod1", "2"))
    events = _Collector()

    def pod_transformer(obj: Any) -> Any:
        if not isinstance(obj, V1Pod):
            raise TypeError(f"unexpected object type: {type(obj).__name__}")
        obj = obj.model_copy(deep=True)
        obj.spec.hostname = "new-hostname"
        obj.spec.subdomain = None
        obj.spec.node_name = "nodename"
        # Clear the resource version to simplify comparisons.
        obj.metadata.resource_version = None
        return obj

    store, controller = new_transforming_informer(
        source,
        V1Pod,
        0,
        ResourceEventHandlerDetailedFuncs(
            add_func=lambda obj, initial: events.append(("ADDED", None, obj)),
            update_func=lambda old, new: events.append(("MODIFIED", old, new)),
            delete_func=lambda obj: events.append(("DELETED", obj, None)),
        ),
        pod_transformer,
    )
    seen = [0]

    def verify_event(event_type: str, previous: Any, current: Any) -> None:
        got = events.wait_for(seen[0] + 1)[seen[0]]
        seen[0] += 1
        assert got == (event_type, previous, current)

    def verify_store(expected: list[V1Pod]) -> None:
        items = store.list()
        assert len(items) == len(expected)
        for item in expected:
            assert item in items

    bg = _Background(controller)
    try:
        verify_event("ADDED", None, _expected_transform_pod("pod1", "2"))
        verify_store([_expected_transform_pod("pod1", "2")])

        source.add(_make_transform_pod("pod2", "1"))
        verify_event("ADDED", None, _expected_transform_pod("pod2", "1"))
        verify_store([_expected_transform_pod("pod1", "2"), _expected_transform_pod("pod2", "1")])

        source.add(_make_transform_pod("pod3", "1"))
        verify_event("ADDED", None, _expected_transform_pod("pod3", "1"))

        source.modify(_make_transform_pod("pod2", "2"))
        verify_event(
            "MODIFIED", _expected_transform_pod("pod2", "1"), _expected_transform_pod("pod2", "2")
        )

        source.delete(_make_transform_pod("pod1", "2"))
        verify_event("DELETED", _expected_transform_pod("pod1", "2"), None)
        verify_store([_expected_transform_pod("pod2", "2"), _expected_transform_pod("pod3", "1")])
    finally:
        bg.close()
        source.shutdown()


def test_transforming_informer_race() -> None:
    source = FakeControllerSource()
    label = "to-be-transformed"
    bad_transform = threading.Event()

    def pod_transformer(obj: Any) -> Any:
        if not isinstance(obj, V1Pod):
            raise TypeError(f"unexpected object type: {type(obj).__name__}")
        if obj.metadata.labels[label] != "true":
            bad_transform.set()
            raise ValueError(f"object already transformed: {obj!r}")
        obj.metadata.labels[label] = "false"
        return obj

    num_objs = 5
    for i in range(num_objs):
        source.add(_pod(f"pod-{i}", "namespace", {label: "true"}))
    events = _Collector()
    clock = FakeClock()
    store, controller = new_informer_with_options(
        InformerOptions(
            lister_watcher=source,
            object_type=V1Pod,
            resync_period=0.005,
            handler=ResourceEventHandlerDetailedFuncs(
                add_func=lambda obj, initial: events.append(obj),
                update_func=lambda old, new: events.append(new),
                delete_func=lambda obj: events.append(obj),
            ),
            transform=pod_transformer,
            clock=clock,
        )
    )
    stop = threading.Event()
    t = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    t.start()
    # Resync every 5ms of fake time, for a while.
    stepper = ClockStepper(clock, lambda i: 0.005)
    try:
        events.wait_for(num_objs)
        # Many resyncs go through while the objects are read concurrently.
        events.wait_for(num_objs * 20)
        for i in range(num_objs):
            obj, ok = store.get_by_key(f"namespace/pod-{i}")
            assert ok
            assert obj.metadata.labels[label] == "false"
    finally:
        stop.set()
        t.join(10)
        stepper.stop()
        source.shutdown()
    assert not bad_transform.is_set()


def test_deletion_handling_object_to_name() -> None:
    cm = V1ConfigMap(metadata=V1ObjectMeta(name="testname", namespace="testnamespace"))
    string_key = meta_namespace_key_func(cm)
    deleted = DeletedFinalStateUnknown(key=string_key, obj=cm)
    assert deletion_handling_object_to_name(deleted) == object_to_name(cm)


def test_deletion_handling_meta_namespace_key_func() -> None:
    cm = V1ConfigMap(metadata=V1ObjectMeta(name="testname", namespace="testnamespace"))
    assert deletion_handling_meta_namespace_key_func(cm) == "testnamespace/testname"
    tombstone = DeletedFinalStateUnknown(key="ns/gone", obj=None)
    assert deletion_handling_meta_namespace_key_func(tombstone) == "ns/gone"


class _MockTxnStore:
    """Port of mockTxnStore: fails the transactions of ``failing_objs``."""

    def __init__(self, failing_objs: list[Any]) -> None:
        self.store: Store = new_store(meta_namespace_key_func)
        self.failing_objs = failing_objs
        self.succeed_count = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def transaction(self, *txns: Transaction) -> TransactionError | None:
        successfuls: list[int] = []
        fails: list[int] = []
        errs: list[BaseException] = []
        for i, txn in enumerate(txns):
            for fail in self.failing_objs:
                if fail == txn.object:
                    fails.append(i)
                    errs.append(RuntimeError("test error"))
                else:
                    successfuls.append(i)
        if fails:
            self.succeed_count = len(successfuls)
            return TransactionError(
                successful_indices=successfuls, total_transactions=len(txns), errors=errs
            )
        self.succeed_count = len(txns)
        return None


_CM1 = V1ConfigMap(metadata=V1ObjectMeta(name="testname1", namespace="testnamespace"))
_CM2 = V1ConfigMap(metadata=V1ObjectMeta(name="testname2", namespace="testnamespace"))
_CM3 = V1ConfigMap(metadata=V1ObjectMeta(name="testname3", namespace="testnamespace"))


@pytest.mark.parametrize(
    ("delta_list", "failing_objects", "expected_received", "expected_success_count", "err_text"),
    [
        ([Delta(ADDED, _CM1)], [], [_CM1], 1, None),
        ([Delta(ADDED, _CM1)], [_CM1], [], 0, "failed to execute (1/1) transactions"),
        (
            [Delta(ADDED, _CM1), Delta(ADDED, _CM2)],
            [_CM2],
            [_CM1],
            1,
            "failed to execute (1/2) transactions",
        ),
        (
            [Delta(ADDED, _CM1), Delta(ADDED, _CM2), Delta(ADDED, _CM3)],
            [_CM2],
            [_CM1, _CM3],
            2,
            "failed to execute (1/3) transactions",
        ),
    ],
    ids=[
        "all transaction succeeding should works",
        "all transaction failing should not trigger listener",
        "partial transaction failing should only trigger successful events to listener #1",
        "partial transaction failing should only trigger successful events to listener #2",
    ],
)
def test_process_deltas_in_batch(
    delta_list: list[Delta],
    failing_objects: list[Any],
    expected_received: list[Any],
    expected_success_count: int,
    err_text: str | None,
) -> None:
    mock_store = _MockTxnStore(failing_objects)
    received: list[Any] = []
    listener = ResourceEventHandlerFuncs(
        add_func=received.append,
        update_func=lambda old, new: received.append(new),
        delete_func=received.append,
    )
    if err_text is None:
        process_deltas_in_batch(
            listener, mock_store, delta_list, True, deletion_handling_meta_namespace_key_func
        )
    else:
        with pytest.raises(RuntimeError, match=err_text.replace("(", r"\(").replace(")", r"\)")):
            process_deltas_in_batch(
                listener, mock_store, delta_list, True, deletion_handling_meta_namespace_key_func
            )
    assert mock_store.succeed_count == expected_success_count
    assert received == expected_received


@dataclass
class _EventRecord:
    """Port of eventRecord."""

    action: str
    key: str
    event_rv: str
    store_rv: str
    is_in_initial_list: bool = False


class _EventRecorder:
    """Port of eventRecorder: a handler recording what it is told, and the store's view."""

    def __init__(self, store: Store, key_func: KeyFunc) -> None:
        self._cond = threading.Condition()
        self.history: list[_EventRecord] = []
        self._store = store
        self._key_func = key_func

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        self._record("add", obj, is_in_initial_list)

    def on_update(self, old_obj: Any, new_obj: Any) -> None:
        self._record("update", new_obj, False)

    def on_delete(self, obj: Any) -> None:
        self._record("delete", obj, False)

    def _record(self, action: str, obj: Any, is_in_initial_list: bool) -> None:
        with self._cond:
            key = self._key_func(obj)
            if isinstance(obj, DeletedFinalStateUnknown):
                obj = obj.obj
            event_rv = _rv(obj)
            store_obj, exists = self._store.get_by_key(key)
            store_rv = _rv(store_obj) if exists else ""
            self.history.append(_EventRecord(action, key, event_rv, store_rv, is_in_initial_list))
            self._cond.notify_all()

    def clear_history(self) -> None:
        with self._cond:
            self.history = []

    def get_history(self) -> list[_EventRecord]:
        with self._cond:
            return list(self.history)

    def wait_for_event_count(self, count: int, timeout: float = 5.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.history) >= count, timeout), self.history


def _rv(obj: Any) -> str:
    meta = getattr(obj, "metadata", None)
    return (meta.resource_version or "") if meta is not None else ""


def _run_recorded_controller(
    source: FakeControllerSource,
    fifo: RealFIFO,
    recorder: ResourceEventHandler,
    store: Store,
    key_func: KeyFunc,
    clock: FakeClock | None = None,
) -> _Background:
    def process(obj: Any, is_in_initial_list: bool) -> None:
        process_deltas(recorder, store, obj, is_in_initial_list, key_func)

    def process_batch(deltas: list[Delta], is_in_initial_list: bool) -> None:
        process_deltas_in_batch(recorder, store, deltas, is_in_initial_list, key_func)

    cfg = Config(
        queue=fifo,
        lister_watcher=source,
        object_type=V1Pod,
        process=process,
        process_batch=process_batch,
    )
    c = new(cfg, clock)
    bg = _Background(c, clock)
    assert c.has_synced_checker().done().wait(5), "timed out waiting for cache sync"
    return bg


def _p(name: str, rv: str, labels: dict[str, str] | None = None) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(name=name, namespace="default", resource_version=rv, labels=labels)
    )


REPLACE_EVENT_CASES = [
    (
        "Create with no initial objects",
        [],
        [_p("pod-1", "1")],
        "1",
        [_EventRecord("add", "default/pod-1", "1", "1")],
    ),
    (
        "Delete all objects",
        [_p("pod-1", "1"), _p("pod-3", "2")],
        [],
        "2",
        [
            _EventRecord("delete", "default/pod-1", "1", ""),
            _EventRecord("delete", "default/pod-3", "2", ""),
        ],
    ),
    (
        "Create, update, delete",
        [_p("pod-1", "1"), _p("pod-2", "2", {"ver": "1"}), _p("pod-3", "3")],
        [_p("pod-1", "4"), _p("pod-2", "5", {"ver": "2"}), _p("pod-4", "6")],
        "6",
        [
            _EventRecord("delete", "default/pod-3", "3", ""),
            _EventRecord("update", "default/pod-1", "4", "4"),
            _EventRecord("update", "default/pod-2", "5", "5"),
            _EventRecord("add", "default/pod-4", "6", "6"),
        ],
    ),
]


@pytest.mark.parametrize("atomic", [False, True], ids=["atomic: false", "atomic: true"])
def test_replace_events(atomic: bool) -> None:
    source = FakeControllerSource()
    store = new_store(deletion_handling_meta_namespace_key_func)
    fifo = new_real_fifo_with_options(
        RealFIFOOptions(atomic_events=atomic, known_objects=None if atomic else store)
    )
    recorder = _EventRecorder(store, deletion_handling_meta_namespace_key_func)
    bg = _run_recorded_controller(
        source, fifo, recorder, store, deletion_handling_meta_namespace_key_func
    )
    try:
        for name, initial_objs, replaced_items, replace_rv, expected_history in REPLACE_EVENT_CASES:
            recorder.clear_history()
            for obj in initial_objs:
                fifo.add(obj)
            recorder.wait_for_event_count(len(initial_objs))
            recorder.clear_history()
            fifo.replace(list(replaced_items), replace_rv)
            recorder.wait_for_event_count(len(expected_history))
            items = sorted(store.list(), key=deletion_handling_meta_namespace_key_func)
            assert items == replaced_items, name
            history = recorder.get_history()
            deletes = sorted((h for h in history if h.action == "delete"), key=lambda h: h.key)
            others = [h for h in history if h.action != "delete"]
            assert deletes + others == expected_history, name
    finally:
        bg.close()
        source.shutdown()


@pytest.mark.parametrize("atomic", [False, True], ids=["atomic false", "atomic true"])
def test_reset_watch(atomic: bool) -> None:
    source = FakeControllerSource()
    source.add(_pod("pod-1", "default"))
    store = new_store(deletion_handling_meta_namespace_key_func)
    fifo = new_real_fifo_with_options(
        RealFIFOOptions(atomic_events=atomic, known_objects=None if atomic else store)
    )
    recorder = _EventRecorder(store, deletion_handling_meta_namespace_key_func)
    clock = FakeClock()
    bg = _run_recorded_controller(
        source, fifo, recorder, store, deletion_handling_meta_namespace_key_func, clock
    )
    try:
        recorder.wait_for_event_count(1)
        history = recorder.get_history()
        assert len(history) == 1
        assert (history[0].action, history[0].key, history[0].is_in_initial_list) == (
            "add",
            "default/pod-1",
            True,
        )

        recorder.clear_history()
        source.modify_drop_watch(_pod("pod-1", "default"))
        source.add_drop_watch(_pod("pod-2", "default"))
        source.reset_watch()

        # An add for the second pod and an update for the first, on relist.
        recorder.wait_for_event_count(2)
        history = recorder.get_history()
        assert len(history) == 2
        by_action = {h.action: h for h in history}
        assert by_action["update"].key == "default/pod-1"
        assert not by_action["update"].is_in_initial_list
        assert by_action["add"].key == "default/pod-2"
        assert not by_action["add"].is_in_initial_list
    finally:
        bg.close()
        source.shutdown()


def test_store_resource_version() -> None:
    source = FakeControllerSource()
    source.add(_pod("pod-1", "default"))
    store = new_store(deletion_handling_meta_namespace_key_func)
    fifo = new_real_fifo_with_options(RealFIFOOptions(atomic_events=True))
    recorder = _EventRecorder(store, deletion_handling_meta_namespace_key_func)
    bg = _run_recorded_controller(
        source, fifo, recorder, store, deletion_handling_meta_namespace_key_func
    )
    try:
        recorder.wait_for_event_count(1)
        history = recorder.get_history()
        assert (history[0].action, history[0].key, history[0].is_in_initial_list) == (
            "add",
            "default/pod-1",
            True,
        )
        recorder.clear_history()
        source.modify(_pod("pod-1", "default", {"foo": "bar"}))
        recorder.wait_for_event_count(1)
        assert recorder.get_history()[0].event_rv == store.last_store_sync_resource_version()

        recorder.clear_history()
        source.delete(_pod("pod-1", "default"))
        recorder.wait_for_event_count(1)
        assert recorder.get_history()[0].event_rv == store.last_store_sync_resource_version()
    finally:
        bg.close()
        source.shutdown()


def test_store_resource_version_with_non_meta_transform() -> None:
    source = FakeControllerSource()
    source.add(_pod("pod-1", "default"))

    def key_func(obj: Any) -> str:
        return "pod-1"

    def transformer(obj: Any) -> Any:
        if not isinstance(obj, V1Pod):
            raise TypeError(f"expected V1Pod, got {type(obj).__name__}")
        return obj.metadata.name

    store = new_store(key_func)
    fifo = new_real_fifo_with_options(
        RealFIFOOptions(transformer=transformer, key_function=key_func, atomic_events=True)
    )
    recorder = _EventRecorder(store, key_func)
    clock = FakeClock()
    bg = _run_recorded_controller(source, fifo, recorder, store, key_func, clock)
    try:
        recorder.wait_for_event_count(1)
        history = recorder.get_history()
        assert (history[0].action, history[0].key, history[0].is_in_initial_list) == (
            "add",
            "pod-1",
            True,
        )
        # The update carries no metadata: the store keeps the version of the replace.
        replace_rv = store.last_store_sync_resource_version()
        recorder.clear_history()
        source.modify(_pod("pod-1", "default", {"foo": "bar"}))
        recorder.wait_for_event_count(1)
        assert store.last_store_sync_resource_version() == replace_rv

        recorder.clear_history()
        source.modify_drop_watch(_pod("pod-1", "default", {"foo": "bar2"}))
        # A relist (after the watch reset) replaces the store at the source's version.
        source.reset_watch()
        recorder.wait_for_event_count(1)
        assert store.last_store_sync_resource_version() == "3"
    finally:
        bg.close()
        source.shutdown()


def test_new_queue_fifo_defaults_to_atomic_real_fifo() -> None:
    store = new_store(meta_namespace_key_func)
    fifo = new_queue_fifo(V1Pod, store, None)
    assert isinstance(fifo, RealFIFO)
    assert fifo._emit_atomic_events
    assert fifo._unlock_while_processing
    assert fifo._emit_delta_type_bookmark
    assert fifo._known_objects is None


def test_new_queue_fifo_without_atomic_fifo() -> None:
    gate = features.DEFAULT_FEATURE_GATE
    with features.set_feature_gate_during_test(gate, features.ATOMIC_FIFO, False):
        store = new_store(meta_namespace_key_func)
        fifo = new_queue_fifo(V1Pod, store, None)
        assert isinstance(fifo, RealFIFO)
        assert not fifo._emit_atomic_events
        assert fifo._known_objects is store


def test_new_queue_fifo_delta_fifo_when_in_order_informers_off() -> None:
    gate = features.DEFAULT_FEATURE_GATE
    with (
        features.set_feature_gate_emulation_version_during_test(gate, features.Version(1, 35)),
        features.set_feature_gate_during_test(gate, features.IN_ORDER_INFORMERS, False),
    ):
        fifo = new_queue_fifo(V1Pod, new_store(meta_namespace_key_func), None)
        assert isinstance(fifo, DeltaFIFO)


@pytest.mark.parametrize(
    "gates",
    [
        {},
        {features.ATOMIC_FIFO: False},
        {features.IN_ORDER_INFORMERS_BATCH_PROCESS: False},
    ],
    ids=["atomic", "classic real fifo", "no batch processing"],
)
def test_informer_delivers_in_order_under_each_fifo_mode(gates: dict[str, bool]) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    with features.set_feature_gates_during_test(gate, gates):
        source = FakeControllerSource()
        source.add(_pod("a", "ns"))
        events = _Collector()
        _, controller = new_informer_with_options(
            InformerOptions(
                lister_watcher=source,
                object_type=V1Pod,
                handler=ResourceEventHandlerDetailedFuncs(
                    add_func=lambda obj, initial: events.append(
                        ("add", obj.metadata.name, initial)
                    ),
                    update_func=lambda old, new: events.append(
                        ("update", new.metadata.name, False)
                    ),
                    delete_func=lambda obj: events.append(
                        ("delete", deletion_handling_meta_namespace_key_func(obj), False)
                    ),
                ),
            )
        )
        bg = _Background(controller)
        try:
            assert controller.has_synced_checker().done().wait(5)
            source.add(_pod("b", "ns"))
            source.modify(_pod("a", "ns", {"x": "1"}))
            source.delete(_pod("b", "ns"))
            got = events.wait_for(4)
        finally:
            bg.close()
            source.shutdown()
        assert got == [
            ("add", "a", True),
            ("add", "b", False),
            ("update", "a", False),
            ("delete", "ns/b", False),
        ]


def test_process_deltas_replaced_and_sync() -> None:
    store = new_store(meta_namespace_key_func)
    calls: list[tuple[str, Any]] = []
    handler = ResourceEventHandlerDetailedFuncs(
        add_func=lambda obj, initial: calls.append(("add", obj.metadata.name)),
        update_func=lambda old, new: calls.append(("update", new.metadata.name)),
        delete_func=lambda obj: calls.append(("delete", obj)),
    )
    pod = _pod("p", "ns")
    process_deltas(handler, store, Deltas((Delta("Replaced", pod),)), True, meta_namespace_key_func)
    process_deltas(handler, store, Deltas((Delta("Sync", pod),)), False, meta_namespace_key_func)
    assert calls == [("add", "p"), ("update", "p")]
    assert store.get_by_key("ns/p")[1]
