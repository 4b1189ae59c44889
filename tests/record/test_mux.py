"""Port of k8s.io/apimachinery/pkg/watch/mux_test.go (the broadcaster behind the event
recorder), plus a burst test of the channel hand-offs beneath it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from jobctl.client.interface import WatchEvent
from jobctl.record.mux import (
    DROP_IF_CHANNEL_FULL,
    WAIT_IF_CHANNEL_FULL,
    Broadcaster,
    BroadcasterStoppedError,
    BroadcasterWatcher,
)

TIMEOUT = 30.0


@dataclass
class MyType:
    id: str
    value: str


def _collect(w: BroadcasterWatcher, out: list[WatchEvent]) -> threading.Thread:
    t = threading.Thread(target=lambda: out.extend(w), daemon=True)
    t.start()
    return t


def test_broadcaster() -> None:
    table = [
        WatchEvent("ADDED", MyType("foo", "hello world 1")),
        WatchEvent("ADDED", MyType("bar", "hello world 2")),
        WatchEvent("MODIFIED", MyType("foo", "goodbye world 3")),
        WatchEvent("DELETED", MyType("bar", "hello world 4")),
    ]
    m = Broadcaster(0, WAIT_IF_CHANNEL_FULL)
    got: list[list[WatchEvent]] = [[], []]
    threads = [_collect(m.watch(), got[i]) for i in range(2)]
    for item in table:
        m.action(item.type, item.object)
    m.shutdown()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert got == [table, table]


def test_broadcaster_watcher_close() -> None:
    m = Broadcaster(0, WAIT_IF_CHANNEL_FULL)
    w = m.watch()
    w2 = m.watch()
    w.stop()
    m.shutdown()
    assert w.result.recv() == (None, False), "Stop didn't work?"
    assert w2.result.recv() == (None, False), "Shutdown didn't work?"
    # Extra stops don't hurt things.
    w.stop()
    w2.stop()


def test_broadcaster_watcher_stop_deadlock() -> None:
    m = Broadcaster(0, WAIT_IF_CHANNEL_FULL)
    w = m.watch()
    w2 = m.watch()
    done = threading.Event()

    def first_receiver(me: BroadcasterWatcher, other: BroadcasterWatcher) -> None:
        _, ok = me.result.recv()
        if ok and not done.is_set():
            done.set()
            other.stop()

    # Go selects on both channels; one thread per channel, whichever receives first
    # stops the other watcher while distribute is trying to send to it.
    for a, b in ((w, w2), (w2, w)):
        threading.Thread(target=first_receiver, args=(a, b), daemon=True).start()
    m.action("ADDED", MyType("", ""))
    assert done.wait(TIMEOUT), "timeout: deadlocked"
    m.shutdown()


def test_broadcaster_drop_if_channel_full() -> None:
    m = Broadcaster(1, DROP_IF_CHANNEL_FULL)
    event1 = WatchEvent("ADDED", MyType("foo", "hello world 1"))
    event2 = WatchEvent("ADDED", MyType("bar", "hello world 2"))
    watches = [m.watch(), m.watch()]
    m.action(event1.type, event1.object)
    m.action(event2.type, event2.object)
    m.shutdown()
    for w in watches:
        assert w.result.recv() == (event1, True)
        assert w.result.recv() == (None, False)


def test_broadcaster_watch_after_shutdown() -> None:
    event1 = WatchEvent("ADDED", MyType("foo", "hello world 1"))
    event2 = WatchEvent("ADDED", MyType("bar", "hello world 2"))
    m = Broadcaster(0, WAIT_IF_CHANNEL_FULL)
    m.shutdown()
    with pytest.raises(BroadcasterStoppedError, match="broadcaster already stopped"):
        m.watch()
    with pytest.raises(BroadcasterStoppedError, match="broadcaster already stopped"):
        m.watch_with_prefix([event1, event2])


def test_broadcaster_send_event_after_shutdown() -> None:
    m = Broadcaster(1, DROP_IF_CHANNEL_FULL)
    for _ in range(2):
        m.watch()
    m.shutdown()
    with pytest.raises(BroadcasterStoppedError, match="broadcaster already stopped"):
        m.action("ADDED", MyType("foo", "hello world"))
    with pytest.raises(BroadcasterStoppedError, match="broadcaster already stopped"):
        m.action_or_drop("ADDED", MyType("foo", "hello world"))


@pytest.mark.parametrize("behavior", [WAIT_IF_CHANNEL_FULL, DROP_IF_CHANNEL_FULL])
def test_broadcaster_bursts_reach_every_watcher_in_order(behavior: object) -> None:
    """Not upstream: several senders' bursts against slow and fast watchers; nothing is
    lost (queues large enough) or reordered per sender, and nobody is left waiting."""
    n, senders = 2000, 3
    m = Broadcaster(n * senders, behavior, incoming_queue_length=7)  # type: ignore[arg-type]
    got: list[list[WatchEvent]] = [[], []]
    threads = [_collect(m.watch(), got[i]) for i in range(2)]

    def send(s: int) -> None:
        for i in range(n):
            m.action("ADDED", (s, i))

    producers = [threading.Thread(target=send, args=(s,)) for s in range(senders)]
    for p in producers:
        p.start()
    for p in producers:
        p.join(TIMEOUT)
    m.shutdown()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    for events in got:
        assert len(events) == n * senders
        for s in range(senders):
            assert [e.object[1] for e in events if e.object[0] == s] == list(range(n))
