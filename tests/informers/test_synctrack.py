"""Ported tests: client-go tools/cache/synctrack/synctrack_test.go (lazy_test.go is not
ported with lazy.go)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from jobctl.informers.synctrack import AsyncTracker, SingleFileTracker

_Funcs = tuple[
    Callable[[], None], Callable[[], None], Callable[[], None], Callable[[], bool], threading.Event
]


def _single_file_funcs() -> _Funcs:
    tracker = SingleFileTracker("")
    return (
        tracker.upstream_has_synced,
        tracker.start,
        tracker.finished,
        tracker.has_synced,
        tracker.done(),
    )


def _async_funcs() -> _Funcs:
    tracker: AsyncTracker[str] = AsyncTracker("")
    return (
        tracker.upstream_has_synced,
        lambda: tracker.start("key"),
        lambda: tracker.finished("key"),
        tracker.has_synced,
        tracker.done(),
    )


BASIC_LOGIC_TABLE = [
    # synced, synced_before_finish, start, finish, expect_synced
    (False, False, True, True, False),
    (True, False, True, False, False),
    (True, True, True, False, False),
    (False, False, True, False, False),
    (True, False, True, True, True),
    (True, True, True, True, True),
]


@pytest.mark.parametrize(
    "construct", [_single_file_funcs, _async_funcs], ids=["SingleFile", "Async"]
)
@pytest.mark.parametrize(
    ("synced", "synced_before_finish", "start", "finish", "expect_synced"), BASIC_LOGIC_TABLE
)
def test_basic_logic(
    construct: Callable[[], _Funcs],
    synced: bool,
    synced_before_finish: bool,
    start: bool,
    finish: bool,
    expect_synced: bool,
) -> None:
    upstream_has_synced, start_fn, finished, has_synced, done = construct()
    assert not has_synced()
    assert not done.is_set()
    if start:
        start_fn()
    assert not has_synced()
    assert not done.is_set()
    # "upstream has synced" may come before or after finished, but not before start.
    if synced and synced_before_finish:
        upstream_has_synced()
        assert not has_synced()
        assert not done.is_set()
    if finish:
        finished()
    if synced and not synced_before_finish:
        assert not has_synced()
        assert not done.is_set()
        upstream_has_synced()
    assert has_synced() == expect_synced
    assert done.is_set() == expect_synced


def test_async_locking() -> None:
    aft: AsyncTracker[int] = AsyncTracker("")
    threads = []
    for i in range(11):

        def run(i: int = i) -> None:
            aft.start(i)
            t = threading.Thread(target=aft.finished, args=(i,))
            t.start()
            t.join()

        threads.append(threading.Thread(target=run))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    aft.upstream_has_synced()
    assert aft.has_synced(), "async tracker must have made a threading error?"


def test_single_file_counting() -> None:
    sft = SingleFileTracker("")
    for _ in range(100):
        sft.start()
    assert not sft.has_synced()
    for _ in range(99):
        sft.finished()
    assert not sft.has_synced()
    sft.finished()
    sft.upstream_has_synced()
    assert sft.has_synced()
    # One more call is a logic error.
    with pytest.raises(RuntimeError, match="negative counter"):
        sft.finished()
    # A negative counter still means synced.
    assert sft.has_synced()


@pytest.mark.parametrize(
    ("synced", "synced_before_stops", "starts", "stops", "expect_synced"),
    [
        (False, False, 1, 1, False),
        (True, False, 1, 0, False),
        (True, True, 1, 0, False),
        (False, False, 1, 0, False),
        (True, False, 1, 1, True),
        (True, True, 1, 1, True),
    ],
)
def test_single_file(
    synced: bool, synced_before_stops: bool, starts: int, stops: int, expect_synced: bool
) -> None:
    sft = SingleFileTracker("")
    for _ in range(starts):
        sft.start()
    if synced and synced_before_stops:
        sft.upstream_has_synced()
    for _ in range(stops):
        sft.finished()
    if synced and not synced_before_stops:
        sft.upstream_has_synced()
    assert sft.has_synced() == expect_synced


def test_names() -> None:
    assert SingleFileTracker("a").name() == "a"
    assert AsyncTracker[str]("b").name() == "b"
