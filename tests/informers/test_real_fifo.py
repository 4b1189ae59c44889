"""Port of client-go tools/cache/the_real_fifo_test.go."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod

from jobctl.informers.delta_fifo import (
    ADDED,
    BOOKMARK,
    DELETED,
    REPLACED,
    REPLACED_ALL,
    SYNC,
    SYNC_ALL,
    UPDATED,
    DeletedFinalStateUnknown,
    Delta,
    Deltas,
    KeyListerGetter,
)
from jobctl.informers.fifo import FIFOClosedError, Queue, QueueWithBatch
from jobctl.informers.real_fifo import (
    BookmarkInfo,
    RealFIFO,
    RealFIFOOptions,
    ReplacedAllInfo,
    SyncAllInfo,
    new_real_fifo,
    reconcile_replacement,
)
from jobctl.informers.store import meta_namespace_key_func, new_store

# Helpers shared with fifo_test.go and delta_fifo_test.go.


@dataclass
class _TestFifoObject:
    name: str
    val: Any


def _mk_fifo_obj(name: str, val: Any) -> _TestFifoObject:
    return _TestFifoObject(name=name, val=val)


def _test_fifo_object_key_func(obj: Any) -> str:
    name: str = obj.name
    return name


def _pop(queue: Queue) -> Any:
    """Port of the Pop test helper: the popped object, or None once the queue is closed."""
    result: Any = None

    def process(obj: Any, is_in_initial_list: bool) -> None:
        nonlocal result
        result = obj

    try:
        queue.pop(process)
    except FIFOClosedError:
        return None
    return result


def _pop2(queue: Queue) -> tuple[Any, bool]:
    """Port of pop2: both arguments handed to the process function."""
    result: Any = None
    is_list = False

    def process(obj: Any, is_in_initial_list: bool) -> None:
        nonlocal result, is_list
        result = obj
        is_list = is_in_initial_list

    queue.pop(process)
    return result, is_list


class _LiteralListerGetter:
    """Port of literalListerGetter: known objects listed by a function."""

    def __init__(self, fn: Callable[[], list[_TestFifoObject]]) -> None:
        self._fn = fn

    def list_keys(self) -> list[str]:
        return [o.name for o in self._fn()]

    def get_by_key(self, key: str) -> tuple[Any, bool]:
        for v in self._fn():
            if v.name == key:
                return v, True
        return None, False


def _literal(*objs: _TestFifoObject) -> _LiteralListerGetter:
    return _LiteralListerGetter(lambda: list(objs))


@dataclass
class _RVAndXfrm:
    rv: int
    xfrm: int


# the_real_fifo_test.go helpers.


def _get_items(f: RealFIFO) -> list[Delta]:
    """Port of RealFIFO.getItems (test-only): a copy of the pending deltas."""
    with f._lock:
        return list(f._items)


_CLOSED_FIFO_NAME = "FIFO WAS CLOSED"
_IS_ATOMIC = "ATOMIC REPLACED OBJ"
_IS_BOOKMARK = "BOOKMARK OBJ"


def _pop_n(queue: Queue, count: int) -> list[Any]:
    result: list[Any] = []
    for _ in range(count):
        queue.pop(lambda obj, is_in_initial_list: result.append(obj))
    return result


def _test_real_fifo_pop(f: RealFIFO) -> _TestFifoObject:
    val = _pop(f)
    if val is None:
        return _TestFifoObject(name=_CLOSED_FIFO_NAME, val=None)
    newest = val.newest()
    if newest.type == REPLACED_ALL:
        return _TestFifoObject(name=_IS_ATOMIC, val=list(newest.object.objects))
    if newest.type == BOOKMARK:
        return _TestFifoObject(name=_IS_BOOKMARK, val=None)
    obj: _TestFifoObject = newest.object
    return obj


def _empty_known_objects() -> KeyListerGetter:
    return _literal()


def _collapse_deltas(ins: list[Any]) -> list[Delta]:
    ret: list[Delta] = []
    for curr in ins:
        ret.extend(curr)
    return ret


def _new(known_objects: KeyListerGetter | None = None, transformer: Any = None) -> RealFIFO:
    if known_objects is None:
        known_objects = _empty_known_objects()
    return new_real_fifo(_test_fifo_object_key_func, known_objects, transformer)


def test_real_fifo_basic() -> None:
    f = _new()
    amount = 500

    def produce(prefix: str) -> None:
        for i in range(amount):
            f.add(_mk_fifo_obj(prefix + chr(i), i + 1))

    threads = [threading.Thread(target=produce, args=(p,), daemon=True) for p in ("a", "b")]
    for t in threads:
        t.start()

    last = {"a": 0, "b": 0}
    for _ in range(amount * 2):
        obj = _test_real_fifo_pop(f)
        producer = obj.name[0]
        assert obj.val > last[producer], f"got {obj.val} out of order, last was {last[producer]}"
        last[producer] = obj.val
    for t in threads:
        t.join(5)


def test_real_fifo_replace_with_delete_delta_in() -> None:
    """A relisted object still gets its Replaced after a queued Delete (kubernetes#83810)."""
    old_obj = _mk_fifo_obj("foo", 1)
    new_obj = _mk_fifo_obj("foo", 2)

    f = _new(_literal(old_obj))

    f.delete(old_obj)
    f.replace([new_obj], "")

    assert _get_items(f) == [Delta(DELETED, old_obj), Delta(REPLACED, new_obj)]


_OBJ = _mk_fifo_obj("foo", 2)
_OBJ_V2 = _mk_fifo_obj("foo", 3)


def _synced_objects_should_have_a_single_delete(f: RealFIFO) -> None:
    f.add(_OBJ)
    f.replace([_OBJ], "0")
    f.replace([_OBJ], "0")
    f.replace([], "0")


def _added_and_deleted_and_added(f: RealFIFO) -> None:
    f.add(_OBJ)
    f.delete(_OBJ)
    f.add(_OBJ_V2)
    f.replace([], "0")


def _bookmark_not_added_without_atomic(f: RealFIFO) -> None:
    f.bookmark("123")
    f.replace([], "0")
    f.replace([], "1")


@pytest.mark.parametrize(
    ("operations", "expected_deltas"),
    [
        pytest.param(
            lambda f: (f.add(_OBJ), f.replace([], "0")),
            [Delta(ADDED, _OBJ), Delta(DELETED, DeletedFinalStateUnknown("foo", _OBJ))],
            id="Added object should be deleted on Replace",
        ),
        pytest.param(
            lambda f: (f.add(_OBJ), f.delete(_OBJ), f.replace([], "0")),
            [Delta(ADDED, _OBJ), Delta(DELETED, _OBJ)],
            id="Deleted object should have only a single Delete",
        ),
        pytest.param(
            _synced_objects_should_have_a_single_delete,
            [
                Delta(ADDED, _OBJ),
                Delta(REPLACED, _OBJ),
                Delta(REPLACED, _OBJ),
                Delta(DELETED, DeletedFinalStateUnknown("foo", _OBJ)),
            ],
            id="Synced objects should have a single delete",
        ),
        pytest.param(
            lambda f: (f.add(_OBJ), f.replace([], "0"), f.replace([], "1")),
            [Delta(ADDED, _OBJ), Delta(DELETED, DeletedFinalStateUnknown("foo", _OBJ))],
            id="Added objects should have a single delete on multiple Replaces",
        ),
        pytest.param(
            _added_and_deleted_and_added,
            [
                Delta(ADDED, _OBJ),
                Delta(DELETED, _OBJ),
                Delta(ADDED, _OBJ_V2),
                Delta(DELETED, DeletedFinalStateUnknown("foo", _OBJ_V2)),
            ],
            id="Added and deleted and added object should be deleted",
        ),
        pytest.param(
            _bookmark_not_added_without_atomic,
            [],
            id="Bookmark object should not be added without atomic",
        ),
    ],
)
def test_real_fifow_replace_makes_deletions_for_objects_only_in_queue(
    operations: Callable[[RealFIFO], Any], expected_deltas: list[Delta]
) -> None:
    f_with_known_objects = _new(_literal())
    operations(f_with_known_objects)
    actual = _pop_n(f_with_known_objects, len(_get_items(f_with_known_objects)))
    assert _collapse_deltas(actual) == expected_deltas
    assert len(f_with_known_objects._items) == 0, "expected no extra deltas"


def test_real_fifo_add_update() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("foo", 12))
    f.delete(_mk_fifo_obj("foo", 15))

    # Unlike DeltaFIFO, every delta is kept.
    assert _get_items(f) == [
        Delta(ADDED, _mk_fifo_obj("foo", 10)),
        Delta(UPDATED, _mk_fifo_obj("foo", 12)),
        Delta(DELETED, _mk_fifo_obj("foo", 15)),
    ]

    got: list[_TestFifoObject] = []
    three_received = threading.Event()
    done = threading.Event()

    def consume() -> None:
        while True:
            obj = _test_real_fifo_pop(f)
            if obj.name == _CLOSED_FIFO_NAME:
                break
            got.append(obj)
            if len(got) == 3:
                three_received.set()
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    assert three_received.wait(5)
    assert [o.val for o in got] == [10, 12, 15]
    # Upstream waits 50ms for a fourth value; nothing is left to pop.
    assert len(_get_items(f)) == 0
    f.close()
    assert done.wait(5)
    assert len(got) == 3


def test_real_fifo_transformer() -> None:
    def xfrm(obj: Any) -> Any:
        if isinstance(obj, _TestFifoObject):
            obj.val.xfrm += 1
        elif isinstance(obj, DeletedFinalStateUnknown):
            if obj.obj.val.xfrm != 1:
                raise ValueError(f"object has been transformed wrong number of times: {obj!r}")
        else:
            raise ValueError(f"unexpected object: {obj!r}")
        return obj

    def mk(name: str, rv: int) -> _TestFifoObject:
        return _mk_fifo_obj(name, _RVAndXfrm(rv, 0))

    f = _new(transformer=xfrm)
    f.add(mk("foo", 10))
    f.add(mk("bar", 11))
    f.update(mk("foo", 12))
    f.delete(mk("foo", 15))
    f.replace([], "")
    f.add(mk("bar", 16))
    f.replace([], "")

    # Nothing is collapsed: bar is deleted twice.
    expected1 = [
        Delta(ADDED, xfrm(mk("foo", 10))),
        Delta(ADDED, xfrm(mk("bar", 11))),
        Delta(UPDATED, xfrm(mk("foo", 12))),
        Delta(DELETED, xfrm(mk("foo", 15))),
        Delta(DELETED, DeletedFinalStateUnknown("bar", xfrm(mk("bar", 11)))),
        Delta(ADDED, xfrm(mk("bar", 16))),
        Delta(DELETED, DeletedFinalStateUnknown("bar", xfrm(mk("bar", 16)))),
    ]
    actual1 = _get_items(f)
    assert len(actual1) == len(expected1)
    for i, (e, a) in enumerate(zip(expected1, actual1, strict=True)):
        assert e.type == a.type, f"{i}"
        assert f._key_of(e) == f._key_of(a), f"{i}"

    for i, e in enumerate(expected1):
        popped = f.pop(lambda o, is_in_initial_list: None)
        assert popped[0] == e, f"{i}"


def test_real_fifo_enqueueing_no_lister() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("bar", 15))
    f.add(_mk_fifo_obj("qux", 17))
    f.delete(_mk_fifo_obj("qux", 18))

    # RealFIFO queues everything.
    f.delete(_mk_fifo_obj("baz", 20))

    for expect in [10, 15, 17, 18, 20]:
        assert _test_real_fifo_pop(f).val == expect
    assert len(_get_items(f)) == 0, "queue unexpectedly not empty"


def test_real_fifo_enqueueing_with_lister() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5), _mk_fifo_obj("bar", 6), _mk_fifo_obj("baz", 7)))
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("bar", 15))

    # Queued: "baz" is in the key lister.
    f.delete(_mk_fifo_obj("baz", 20))

    for expect in [10, 15, 20]:
        assert _test_real_fifo_pop(f).val == expect
    assert len(f._items) == 0, "queue unexpectedly not empty"


def test_real_fifo_add_replace() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 10))
    f.replace([_mk_fifo_obj("foo", 15)], "0")

    # Every event is delivered, not only the newest.
    assert _test_real_fifo_pop(f).val == 10
    assert _test_real_fifo_pop(f).val == 15
    assert len(_get_items(f)) == 0, "item did not get removed"
    f.close()
    assert _test_real_fifo_pop(f).name == _CLOSED_FIFO_NAME


def test_real_fifo_resync_non_existing() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))
    f.delete(_mk_fifo_obj("foo", 10))
    f.resync()

    deltas = _get_items(f)
    assert len(deltas) == 1
    assert deltas[0].type == DELETED


def test_real_fifo_resync() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))
    f.resync()

    deltas = _get_items(f)
    assert len(deltas) == 1
    assert deltas[0].type == SYNC


def test_real_fifo_delete_existing_non_propagated() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 5))
    f.delete(_mk_fifo_obj("foo", 6))

    deltas = _get_items(f)
    assert len(deltas) == 2
    assert deltas[-1].type == DELETED


def _known_foo_bar_baz() -> _LiteralListerGetter:
    return _literal(_mk_fifo_obj("foo", 5), _mk_fifo_obj("bar", 6), _mk_fifo_obj("baz", 7))


def _assert_pops(f: RealFIFO, expected_list: list[list[Delta]]) -> None:
    for i, expected in enumerate(expected_list):
        cur = _pop(f)
        assert isinstance(cur, Deltas)
        assert cur == expected, f"pop {i}"


def test_real_fifo_replace_makes_deletions() -> None:
    # A pre-existing Delete. Known objects missing from the list are tombstoned before
    # the new items are queued.
    f = _new(_known_foo_bar_baz())
    f.delete(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [Delta(DELETED, _mk_fifo_obj("baz", 10))],
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
        ],
    )

    # An Add instead of a Delete; every event is its own one-element Deltas.
    f = _new(_known_foo_bar_baz())
    f.add(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [Delta(ADDED, _mk_fifo_obj("baz", 10))],
            [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 10)))],
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
        ],
    )

    # Deleted and recreated in the queue, then deleted by a Replace.
    f = _new(_known_foo_bar_baz())
    f.delete(_mk_fifo_obj("bar", 6))
    f.add(_mk_fifo_obj("bar", 100))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [Delta(DELETED, _mk_fifo_obj("bar", 6))],
            [Delta(ADDED, _mk_fifo_obj("bar", 100))],
            # The queue holds a newer bar than the known objects: the tombstone uses it.
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 100)))],
            [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 7)))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
        ],
    )

    # Synced first, so the delete uses the latest version; order is across all keys.
    f = _new(_known_foo_bar_baz())
    f.replace([_mk_fifo_obj("bar", 100), _mk_fifo_obj("foo", 5)], "0")
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 7)))],
            [Delta(REPLACED, _mk_fifo_obj("bar", 100))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 100)))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
        ],
    )

    # Empty known objects.
    f = _new()
    f.add(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [Delta(ADDED, _mk_fifo_obj("baz", 10))],
            [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 10)))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
        ],
    )


def test_real_fifo_replace_makes_deletions_replaced() -> None:
    f = _new(_known_foo_bar_baz())

    f.delete(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 6)], "0")

    _assert_pops(
        f,
        [
            [Delta(DELETED, _mk_fifo_obj("baz", 10))],
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 6))],
        ],
    )


def test_real_fifo_update_resync_race() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))
    f.update(_mk_fifo_obj("foo", 6))
    f.resync()
    _assert_pops(f, [[Delta(UPDATED, _mk_fifo_obj("foo", 6))]])


def test_real_fifo_has_synced_correct_on_deletion() -> None:
    f = _new(_known_foo_bar_baz())
    f.replace([_mk_fifo_obj("foo", 5)], "0")

    expected_list = [
        [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
        [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 7)))],
        [Delta(REPLACED, _mk_fifo_obj("foo", 5))],
    ]
    for expected in expected_list:
        assert not f.has_synced(), "Expected HasSynced to be false"
        cur, initial = _pop2(f)
        assert cur == expected
        assert initial, "Expected initial list item"
    assert f.has_synced(), "Expected HasSynced to be true"
    assert f.has_synced_checker().done().is_set()


def test_real_fifo_detect_line_jumpers() -> None:
    f = _new()

    f.add(_mk_fifo_obj("foo", 10))
    f.add(_mk_fifo_obj("bar", 1))
    f.add(_mk_fifo_obj("foo", 11))
    f.add(_mk_fifo_obj("foo", 13))
    f.add(_mk_fifo_obj("zab", 30))

    # Every event is delivered in order.
    assert _test_real_fifo_pop(f).val == 10

    f.add(_mk_fifo_obj("foo", 14))  # foo must not jump back in line

    assert _test_real_fifo_pop(f).val == 1
    assert _test_real_fifo_pop(f).val == 11
    assert _test_real_fifo_pop(f).val == 13
    assert _test_real_fifo_pop(f).val == 30
    assert _test_real_fifo_pop(f).val == 14


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        (_TestFifoObject(name="A", val=None), "A"),
        (DeletedFinalStateUnknown(key="B", obj=None), "B"),
        (Deltas([Delta(type="", object=_TestFifoObject(name="C", val=None))]), "C"),
        (Deltas([Delta(type="", object=DeletedFinalStateUnknown(key="D", obj=None))]), "D"),
    ],
)
def test_real_fifo_key_of(obj: Any, key: str) -> None:
    assert _new()._key_of(obj) == key


_RealFIFOAction = Callable[[RealFIFO], Any]


@pytest.mark.parametrize(
    ("actions", "expected_synced"),
    [
        pytest.param([], False, id="0"),
        pytest.param([lambda f: f.add(_mk_fifo_obj("a", 1))], True, id="1"),
        pytest.param([lambda f: f.replace([], "0")], True, id="2"),
        pytest.param(
            [lambda f: f.replace([_mk_fifo_obj("a", 1), _mk_fifo_obj("b", 2)], "0")],
            False,
            id="3",
        ),
        pytest.param(
            [lambda f: f.replace([_mk_fifo_obj("a", 1), _mk_fifo_obj("b", 2)], "0"), _pop],
            False,
            id="4",
        ),
        pytest.param(
            [
                lambda f: f.replace([_mk_fifo_obj("a", 1), _mk_fifo_obj("b", 2)], "0"),
                _pop,
                _pop,
            ],
            True,
            id="5",
        ),
        # Cannot happen with a real reflector; every delta of "a" must be popped.
        pytest.param(
            [
                lambda f: f.replace([_mk_fifo_obj("a", 1), _mk_fifo_obj("a", 2)], "0"),
                _pop,
                _pop,
            ],
            True,
            id="6",
        ),
    ],
)
def test_real_fifo_has_synced(actions: list[_RealFIFOAction], expected_synced: bool) -> None:
    f = _new()
    for action in actions:
        action(f)
    assert f.has_synced() == expected_synced


def test_real_fifo_pop_should_unblock_when_closed() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))

    jobs = 10
    returned = threading.Semaphore(0)

    def consumer() -> None:
        with contextlib.suppress(FIFOClosedError):
            f.pop(lambda obj, is_in_initial_list: None)
        returned.release()

    for _ in range(jobs):
        threading.Thread(target=consumer, daemon=True).start()

    f.close()
    assert f.is_closed()

    for _ in range(jobs):
        assert returned.acquire(timeout=5), "timed out waiting for Pop to return after Close"


def _drain_batches(f: RealFIFO) -> tuple[list[list[Delta]], list[list[Delta]]]:
    """Pop batches until the queue is empty; upstream polls with 50ms timers instead."""
    received: list[list[Delta]] = []
    received_initial: list[list[Delta]] = []

    def process_batch(deltas: list[Delta], is_in_initial_list: bool) -> None:
        received.append(list(deltas))
        if is_in_initial_list:
            received_initial.append(list(deltas))

    def process_single(obj: Any, is_in_initial_list: bool) -> None:
        received.append([obj.newest()])
        if is_in_initial_list:
            received_initial.append([obj.newest()])

    queue: QueueWithBatch = f
    for _ in range(10):
        if not _get_items(f):
            break
        queue.pop_batch(process_batch, process_single)
    return received, received_initial


_UNLIMITED_BATCH_SIZE = 999999
_O1 = _mk_fifo_obj("foo1", 5)
_O2 = _mk_fifo_obj("foo2", 5)
_O3 = _mk_fifo_obj("foo3", 5)
_O4 = _mk_fifo_obj("foo4", 5)


@pytest.mark.parametrize(
    ("initial_items", "actions", "batch_size", "expected_batches"),
    [
        pytest.param(
            [_O1, _O2, _O3],
            [],
            _UNLIMITED_BATCH_SIZE,
            [[Delta(REPLACED, _O1), Delta(REPLACED, _O2), Delta(REPLACED, _O3)]],
            id="non-split: pop unique items should work",
        ),
        pytest.param(
            [_O1, _O2],
            [lambda f: f.update(_O3), lambda f: f.update(_O4)],
            2,
            [
                [Delta(REPLACED, _O1), Delta(REPLACED, _O2)],
                [Delta(UPDATED, _O3), Delta(UPDATED, _O4)],
            ],
            id="split due to initial list: initial 2 items with 2 updates should have 2 batches",
        ),
        pytest.param(
            [_O1],
            [lambda f: f.update(_O1), lambda f: f.update(_O1)],
            _UNLIMITED_BATCH_SIZE,
            [[Delta(REPLACED, _O1)], [Delta(UPDATED, _O1)], [Delta(UPDATED, _O1)]],
            id="split due to non-unique#1: update single item for multiple items "
            "should have separate batch",
        ),
        pytest.param(
            [_O1, _O2],
            [lambda f: f.update(_O2), lambda f: f.update(_O3)],
            _UNLIMITED_BATCH_SIZE,
            [
                [Delta(REPLACED, _O1), Delta(REPLACED, _O2)],
                [Delta(UPDATED, _O2), Delta(UPDATED, _O3)],
            ],
            id="split due to non-unique#2: update 3 item for with non-unique item at the end "
            "should have separate batch",
        ),
        pytest.param(
            [_O1, _O2, _O3],
            [lambda f: f.update(_O2)],
            _UNLIMITED_BATCH_SIZE,
            [
                [Delta(REPLACED, _O1), Delta(REPLACED, _O2), Delta(REPLACED, _O3)],
                [Delta(UPDATED, _O2)],
            ],
            id="split due to non-unique#3: update 3 item for with non-unique item in the mid "
            "should have separate batch",
        ),
        pytest.param(
            [_O1, _O2, _O3],
            [],
            2,
            [[Delta(REPLACED, _O1), Delta(REPLACED, _O2)], [Delta(REPLACED, _O3)]],
            id="split due to batch size#1: batching initial list should work",
        ),
        pytest.param(
            [],
            [lambda f: f.update(_O1), lambda f: f.update(_O2), lambda f: f.update(_O3)],
            2,
            [[Delta(UPDATED, _O1), Delta(UPDATED, _O2)], [Delta(UPDATED, _O3)]],
            id="split due to batch size#2: batching incoming non-initial deltas should work",
        ),
        pytest.param(
            [_O1, _O2, _O3],
            [lambda f: f.update(_O4)],
            2,
            [
                [Delta(REPLACED, _O1), Delta(REPLACED, _O2)],
                [Delta(REPLACED, _O3)],
                [Delta(UPDATED, _O4)],
            ],
            id="split due to batch size#3: pop 4 mixed initial & non-initial items with 2 "
            "batch size should have 3 batch",
        ),
    ],
)
def test_real_fifo_pop_multiple_delta_in_batch(
    initial_items: list[_TestFifoObject],
    actions: list[_RealFIFOAction],
    batch_size: int,
    expected_batches: list[list[Delta]],
) -> None:
    f = _new(_LiteralListerGetter(lambda: initial_items))
    f._batch_size = batch_size

    f.replace(list(initial_items), "123")
    for action in actions:
        action(f)

    received, received_initial = _drain_batches(f)
    f.close()

    assert received == expected_batches
    received_initial_items = [d.object for deltas in received_initial for d in deltas]
    assert received_initial_items == initial_items


_SUCCESS_OBJ1 = _mk_fifo_obj("foo1", 5)
_SUCCESS_OBJ2 = _mk_fifo_obj("foo2", 5)
_FAIL_OBJ3 = _mk_fifo_obj("foo3", 5)
_FAIL_OBJ4 = _mk_fifo_obj("foo4", 5)


@pytest.mark.parametrize(
    ("incoming_items", "expected_batches"),
    [
        pytest.param([_FAIL_OBJ3], [[_FAIL_OBJ3]], id="1st item is broken"),
        pytest.param(
            [_SUCCESS_OBJ1, _SUCCESS_OBJ2, _FAIL_OBJ3],
            [[_SUCCESS_OBJ1, _SUCCESS_OBJ2, _FAIL_OBJ3]],
            id="nth item is broken",
        ),
        pytest.param(
            [_SUCCESS_OBJ1, _SUCCESS_OBJ2, _FAIL_OBJ3, _FAIL_OBJ4],
            [[_SUCCESS_OBJ1, _SUCCESS_OBJ2, _FAIL_OBJ3], [_FAIL_OBJ4]],
            id="multiple nth items are broken",
        ),
        pytest.param(
            [_FAIL_OBJ3, _SUCCESS_OBJ1, _FAIL_OBJ4],
            [[_FAIL_OBJ3], [_SUCCESS_OBJ1, _FAIL_OBJ4]],
            id="mixed 1st and nth items are broken",
        ),
    ],
)
def test_real_fifo_pop_broken_items_in_batch(
    incoming_items: list[_TestFifoObject], expected_batches: list[list[_TestFifoObject]]
) -> None:
    def test_broken_item_key_func(obj: Any) -> str:
        if obj in (_FAIL_OBJ3, _FAIL_OBJ4):
            raise ValueError("test key func error")
        return _test_fifo_object_key_func(obj)

    f = new_real_fifo(test_broken_item_key_func, _LiteralListerGetter(lambda: []), None)
    f._batch_size = _UNLIMITED_BATCH_SIZE
    for item in incoming_items:
        f._items.append(Delta(ADDED, item))

    received, _ = _drain_batches(f)
    f.close()

    assert received == [[Delta(ADDED, o) for o in batch] for batch in expected_batches]


def _atomic_multiple_replaces(f: RealFIFO) -> None:
    f.add(_OBJ)
    f.replace([_OBJ], "10")
    f.replace([_OBJ], "20")
    f.replace([], "56")


@pytest.mark.parametrize(
    ("operations", "expected_deltas"),
    [
        pytest.param(
            lambda f: f.replace([], "123"),
            [Delta(REPLACED_ALL, ReplacedAllInfo(resource_version="123", objects=[]))],
            id="Base replace",
        ),
        pytest.param(
            lambda f: (f.add(_OBJ), f.replace([], "123")),
            [
                Delta(ADDED, _OBJ),
                Delta(REPLACED_ALL, ReplacedAllInfo(resource_version="123", objects=[])),
            ],
            id="Added object exists in deltas on Atomic Replace",
        ),
        pytest.param(
            _atomic_multiple_replaces,
            [
                Delta(ADDED, _OBJ),
                Delta(REPLACED_ALL, ReplacedAllInfo(resource_version="10", objects=[_OBJ])),
                Delta(REPLACED_ALL, ReplacedAllInfo(resource_version="20", objects=[_OBJ])),
                Delta(REPLACED_ALL, ReplacedAllInfo(resource_version="56", objects=[])),
            ],
            id="Multiple replaces run in order",
        ),
        pytest.param(
            lambda f: (f.bookmark("123"), f.replace([], "1234")),
            [
                Delta(BOOKMARK, BookmarkInfo(resource_version="123")),
                Delta(REPLACED_ALL, ReplacedAllInfo(resource_version="1234", objects=[])),
            ],
            id="Bookmark object should not be included in Replace",
        ),
    ],
)
def test_real_fifo_replace_atomic(
    operations: Callable[[RealFIFO], Any], expected_deltas: list[Delta]
) -> None:
    f = _new(_literal())
    f._emit_atomic_events = True
    f._emit_delta_type_bookmark = True
    operations(f)
    actual = _pop_n(f, len(_get_items(f)))
    assert _collapse_deltas(actual) == expected_deltas
    assert len(f._items) == 0, "expected no extra deltas"


def test_real_fifo_replace_atomic_pop() -> None:
    f = _new()
    f._emit_atomic_events = True
    f.add(_mk_fifo_obj("foo", 10))
    f.replace([_mk_fifo_obj("foo", 15)], "20")

    added = _test_real_fifo_pop(f)
    assert added.name == "foo"
    assert added.val == 10

    curr = _test_real_fifo_pop(f)
    assert curr.name == _IS_ATOMIC
    assert curr.val[0].val == 15

    assert len(_get_items(f)) == 0, "item did not get removed"
    f.close()
    assert _test_real_fifo_pop(f).name == _CLOSED_FIFO_NAME


@pytest.mark.parametrize(
    ("operations", "expected_deltas"),
    [
        pytest.param(
            lambda f: f.resync(),
            [Delta(SYNC_ALL, SyncAllInfo())],
            id="Base resync",
        ),
        pytest.param(
            lambda f: (f.add(_OBJ), f.resync()),
            [Delta(ADDED, _OBJ), Delta(SYNC_ALL, SyncAllInfo())],
            id="Added object exists in deltas on Atomic Resync",
        ),
    ],
)
def test_real_fifo_resync_atomic(
    operations: Callable[[RealFIFO], Any], expected_deltas: list[Delta]
) -> None:
    f = _new(_literal())
    f._emit_atomic_events = True
    operations(f)
    actual = _pop_n(f, len(_get_items(f)))
    # Resync appends, so the order is preserved.
    assert _collapse_deltas(actual) == expected_deltas
    assert len(f._items) == 0, "expected no extra deltas"


# Not in the_real_fifo_test.go: option checks (upstream panics), the unlocked consumer, and
# relist tombstones against a real indexer of Kubernetes objects.


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        pytest.param(
            RealFIFOOptions(atomic_events=True, known_objects=_literal()),
            "knownObjects must not be provided",
            id="atomic with known objects",
        ),
        pytest.param(
            RealFIFOOptions(unlock_while_processing=True, known_objects=_literal()),
            "UnlockWhileProcessing must be false",
            id="unlock without atomic",
        ),
        pytest.param(
            RealFIFOOptions(), "knownObjects must be provided", id="classic without known"
        ),
        pytest.param(
            RealFIFOOptions(emit_delta_type_bookmark=True, known_objects=_literal()),
            "EmitDeltaTypeBookmark must be false",
            id="bookmark without atomic",
        ),
    ],
)
def test_new_real_fifo_with_options_rejects_inconsistent_options(
    opts: RealFIFOOptions, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RealFIFO(opts)


def test_real_fifo_unlock_while_processing_lets_producers_in() -> None:
    f = RealFIFO(
        RealFIFOOptions(
            key_function=_test_fifo_object_key_func,
            atomic_events=True,
            unlock_while_processing=True,
            emit_delta_type_bookmark=True,
        )
    )
    f.add(_mk_fifo_obj("a", 1))

    def process(obj: Any, is_in_initial_list: bool) -> None:
        # Would deadlock if pop still held the lock.
        f.add(_mk_fifo_obj("b", 2))
        f.bookmark("7")

    popped = f.pop(process)
    assert popped == [Delta(ADDED, _mk_fifo_obj("a", 1))]
    assert _get_items(f) == [
        Delta(ADDED, _mk_fifo_obj("b", 2)),
        Delta(BOOKMARK, BookmarkInfo(resource_version="7")),
    ]


def _pod(name: str, rv: str) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(namespace="ns", name=name, resource_version=rv))


def test_real_fifo_replace_tombstones_deletes_seen_only_at_relist() -> None:
    known = new_store(meta_namespace_key_func)
    kept, gone = _pod("kept", "1"), _pod("gone", "2")
    known.add(kept)
    known.add(gone)
    f = new_real_fifo(None, known, None)

    f.replace([_pod("kept", "3")], "3")

    first, second = _pop(f), _pop(f)
    assert first == [Delta(DELETED, DeletedFinalStateUnknown("ns/gone", gone))]
    assert first[0].object.obj is gone
    assert second == [Delta(REPLACED, _pod("kept", "3"))]
    assert f.has_synced()


def test_reconcile_replacement_against_store() -> None:
    """How the informer applies a ReplacedAll delta: no queue, the store is the known set."""
    store = new_store(meta_namespace_key_func)
    stale = _pod("stale", "1")
    store.add(stale)
    store.add(_pod("kept", "1"))
    deletions: list[DeletedFinalStateUnknown] = []
    replacements: list[Any] = []

    reconcile_replacement(
        None,
        store,
        [_pod("kept", "2"), _pod("new", "2")],
        meta_namespace_key_func,
        deletions.append,
        replacements.append,
    )

    assert deletions == [DeletedFinalStateUnknown("ns/stale", stale)]
    assert [p.metadata.name for p in replacements] == ["kept", "new"]
