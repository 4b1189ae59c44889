"""Port of client-go util/workqueue/queue_test.go.

Upstream's producers and workers sleep a few milliseconds to interleave; here they run
flat out (the interleaving comes from thread scheduling), and every wait for another
thread is a bounded real-time wait on a sync point.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from jobctl.workqueue.queue import (
    DefaultQueue,
    Interface,
    QueueConfig,
    Type,
    TypedInterface,
    TypedQueueConfig,
    default_queue,
    new,
    new_typed,
    new_typed_with_config,
    new_with_config,
)

TIMEOUT = 10.0


class TraceQueue:
    """Port of traceQueue: FIFO storage that records which items were touched."""

    def __init__(self, queue: DefaultQueue[Any]) -> None:
        self.queue = queue
        self.touched: set[Any] = set()

    def touch(self, item: Any) -> None:
        self.queue.touch(item)
        self.touched.add(item)

    def push(self, item: Any) -> None:
        self.queue.push(item)

    def len(self) -> int:
        return self.queue.len()

    def pop(self) -> Any:
        return self.queue.pop()


def _start(target: Callable[..., None], *args: Any) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def _join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "thread did not finish"


SHUTDOWNS = [
    pytest.param(lambda q: q.shut_down(), id="ShutDown"),
    pytest.param(lambda q: q.shut_down_with_drain(), id="ShutDownWithDrain"),
]


@pytest.mark.parametrize("queue_shut_down", SHUTDOWNS)
def test_basic(queue_shut_down: Callable[[Interface], None]) -> None:
    queue: Type[Any] = new()
    errors: list[str] = []

    producers = 50

    def producer(i: int) -> None:
        for _ in range(50):
            queue.add(i)

    producer_threads = [_start(producer, i) for i in range(producers)]

    consumers = 10
    processed: list[Any] = []

    def consumer() -> None:
        while True:
            item, quit_ = queue.get()
            if item == "added after shutdown!":
                errors.append("Got an item added after shutdown.")
            if quit_:
                return
            processed.append(item)
            queue.done(item)

    consumer_threads = [_start(consumer) for _ in range(consumers)]

    _join(producer_threads)
    queue_shut_down(queue)
    queue.add("added after shutdown!")
    _join(consumer_threads)
    assert errors == []
    assert queue.len() == 0
    # Every producer's item was processed at least once.
    assert set(processed) == set(range(producers))


@pytest.mark.parametrize("queue_shut_down", SHUTDOWNS)
def test_add_while_processing(queue_shut_down: Callable[[Interface], None]) -> None:
    queue: Type[Any] = new()

    producers = 50
    producer_threads = [_start(queue.add, i) for i in range(producers)]

    consumers = 10
    seen: list[dict[Any, int]] = []

    def consumer() -> None:
        # Every worker re-adds every item once: the dirty-while-processing case.
        counters: dict[Any, int] = {}
        seen.append(counters)
        while True:
            item, quit_ = queue.get()
            if quit_:
                return
            counters[item] = counters.get(item, 0) + 1
            if counters[item] < 2:
                queue.add(item)
            queue.done(item)

    consumer_threads = [_start(consumer) for _ in range(consumers)]

    _join(producer_threads)
    queue_shut_down(queue)
    _join(consumer_threads)
    assert queue.len() == 0
    handled = set().union(*(c.keys() for c in seen))
    assert handled <= set(range(producers))


def test_len() -> None:
    q = new()
    q.add("foo")
    assert q.len() == 1
    q.add("bar")
    assert q.len() == 2
    q.add("foo")  # must not grow the queue
    assert q.len() == 2
    assert len(q) == 2


def test_reinsert() -> None:
    q = new()
    q.add("foo")

    i, _ = q.get()
    assert i == "foo"

    # Add it back while processing, then finish: it must be queued again.
    q.add(i)
    q.done(i)

    i, _ = q.get()
    assert i == "foo"
    q.done(i)

    assert q.len() == 0


def test_collapse() -> None:
    tq = TraceQueue(default_queue())
    q = new_with_config(QueueConfig(name="", queue=tq))
    q.add("bar")
    q.add("bar")

    i, _ = q.get()
    assert i == "bar"
    q.done(i)

    assert q.len() == 0
    assert "bar" in tq.touched


def test_collapse_while_processing() -> None:
    tq = TraceQueue(default_queue())
    q = new_with_config(QueueConfig(name="", queue=tq))
    q.add("foo")

    i, _ = q.get()
    assert i == "foo"

    q.add("foo")
    q.add("foo")

    started = threading.Event()
    wait_ch = threading.Event()
    got: list[Any] = []

    def other_worker() -> None:
        started.set()
        item, _ = q.get()
        got.append(item)
        q.done(item)
        wait_ch.set()

    worker = _start(other_worker)
    assert started.wait(TIMEOUT)
    # "foo" is dirty but still processing, so the other worker cannot have it yet.
    assert not wait_ch.is_set(), "worker should be blocked until we are done"
    assert q.len() == 0
    q.done("foo")

    assert wait_ch.wait(TIMEOUT)
    _join([worker])
    assert got == ["foo"]
    assert q.len() == 0
    assert "foo" not in tq.touched


def test_queue_drainage_using_shut_down_with_drain() -> None:
    q = new()
    q.add("foo")
    q.add("bar")

    first_item, _ = q.get()
    second_item, _ = q.get()

    finished = _start(q.shut_down_with_drain)

    # Get only reports shutdown once ShutDownWithDrain has begun.
    shutting_down = False
    while not shutting_down:
        _, shutting_down = q.get()

    # Draining waits for both items.
    assert finished.is_alive()
    q.done(first_item)
    q.done(second_item)

    _join([finished])


def test_no_queue_drainage_using_shut_down() -> None:
    q = new()
    q.add("foo")
    q.add("bar")

    q.get()
    q.get()

    # ShutDown returns at once even though nothing was marked done.
    finished = _start(q.shut_down)
    _join([finished])
    assert q.shutting_down()


def test_force_queue_shutdown_using_shut_down() -> None:
    q = new()
    q.add("foo")
    q.add("bar")

    q.get()
    q.get()

    finished = _start(q.shut_down_with_drain)

    shutting_down = False
    while not shutting_down:
        _, shutting_down = q.get()

    # A second, forcing ShutDown ends the drain without any Done.
    q.shut_down()

    _join([finished])


def test_queue_drainage_using_shut_down_with_drain_with_dirty_item() -> None:
    q = new()
    q.add("foo")
    gotten, _ = q.get()
    q.add("foo")

    finished = _start(q.shut_down_with_drain)

    shutting_down = False
    while not shutting_down:
        _, shutting_down = q.get()

    q.done(gotten)

    # Done put the dirty item back, so Get hands it out once more.
    again, shutting_down = q.get()
    assert not shutting_down, "should not have been done"
    q.done(again)

    _, shutting_down = q.get()
    assert shutting_down, "should have been done"

    _join([finished])


def test_garbage_collection() -> None:
    class BigObject:
        def __init__(self) -> None:
            self.data = b"hello"

    leak_queue = new()
    c = BigObject()
    ref = weakref.ref(c)
    leak_queue.add(c)
    o, _ = leak_queue.get()
    leak_queue.done(o)
    del c, o
    gc.collect()
    assert ref() is None, "object was not garbage collected"
    assert leak_queue.len() == 0


def test_typed_queue_satisfies_interface() -> None:
    """Not upstream: the typed constructors give queues of the Interface shape."""
    q: TypedInterface[str] = new_typed()
    q.add("a")
    assert q.get() == ("a", False)
    q.done("a")
    q.shut_down()
    item, shutdown = q.get()
    assert shutdown
    assert item is None
    assert q.shutting_down()
    named: TypedInterface[str] = new_typed_with_config(TypedQueueConfig(name=""))
    named.shut_down_with_drain()
    assert named.shutting_down()


def test_add_after_shutdown_is_ignored() -> None:
    """Not upstream: items added after shutdown are neither queued nor marked dirty."""
    q = new()
    q.add("a")
    q.shut_down()
    q.add("b")
    assert q.len() == 1
    assert q.get() == ("a", False)
    q.done("a")
    assert q.get() == (None, True)
