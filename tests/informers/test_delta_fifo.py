"""Port of client-go tools/cache/delta_fifo_test.go."""

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
    DELETED,
    REPLACED,
    SYNC,
    UPDATED,
    DeletedFinalStateUnknown,
    Delta,
    DeltaFIFO,
    DeltaFIFOOptions,
    Deltas,
    copy_deltas,
    new_delta_fifo,
)
from jobctl.informers.fifo import FIFOClosedError, Queue
from jobctl.informers.store import KeyFuncError, meta_namespace_key_func, new_store

# Helpers shared with fifo_test.go and the DeltaFIFO read methods delta_fifo_test.go adds.


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


def _list(f: DeltaFIFO) -> list[Any]:
    """Port of DeltaFIFO.list (test-only): the newest object of every queued key."""
    with f._lock:
        return [d[-1].object for d in f._items.values()]


def _list_keys(f: DeltaFIFO) -> list[str]:
    """Port of DeltaFIFO.listKeys (test-only): the queued keys in order."""
    with f._lock:
        return list(f._queue)


def _get(f: DeltaFIFO, obj: Any) -> tuple[Any, bool]:
    """Port of DeltaFIFO.get (test-only)."""
    try:
        key = f.key_of(obj)
    except Exception as e:
        raise KeyFuncError(obj, e) from e
    return _get_by_key(f, key)


def _get_by_key(f: DeltaFIFO, key: str) -> tuple[Any, bool]:
    """Port of DeltaFIFO.getByKey (test-only): a copy of the key's Deltas."""
    with f._lock:
        d = f._items.get(key)
        if d is None:
            return None, False
        return copy_deltas(d), True


def _test_pop(f: DeltaFIFO) -> _TestFifoObject:
    obj: _TestFifoObject = _pop(f).newest().object
    return obj


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


def _new(
    known_objects: _LiteralListerGetter | None = None, emit_replaced: bool = False
) -> DeltaFIFO:
    return DeltaFIFO(
        DeltaFIFOOptions(
            key_function=_test_fifo_object_key_func,
            known_objects=known_objects,
            emit_delta_type_replaced=emit_replaced,
        )
    )


def test_delta_fifo_basic() -> None:
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
        obj = _test_pop(f)
        producer = obj.name[0]
        assert obj.val > last[producer], f"got {obj.val} out of order, last was {last[producer]}"
        last[producer] = obj.val
    for t in threads:
        t.join(5)


def test_delta_fifo_replace_with_delete_delta_in() -> None:
    """A relisted object still gets its Sync after a queued Delete (kubernetes#83810)."""
    old_obj = _mk_fifo_obj("foo", 1)
    new_obj = _mk_fifo_obj("foo", 2)

    f = _new(_literal(old_obj))

    f.delete(old_obj)
    f.replace([new_obj], "")

    actual_deltas = _pop(f)
    expected_deltas = Deltas([Delta(DELETED, old_obj), Delta(SYNC, new_obj)])
    assert actual_deltas == expected_deltas


_OBJ = _mk_fifo_obj("foo", 2)
_OBJ_V2 = _mk_fifo_obj("foo", 3)


def _replaced_object_should_have_only_a_single_delete(f: DeltaFIFO) -> None:
    f._emit_delta_type_replaced = True
    f.add(_OBJ)
    f.replace([_OBJ], "0")
    f.replace([], "0")


def _synced_objects_should_have_a_single_delete(f: DeltaFIFO) -> None:
    f.add(_OBJ)
    f.replace([_OBJ], "0")
    f.replace([_OBJ], "0")
    f.replace([], "0")


def _added_and_deleted_and_added(f: DeltaFIFO) -> None:
    f.add(_OBJ)
    f.delete(_OBJ)
    f.add(_OBJ_V2)
    f.replace([], "0")


@pytest.mark.parametrize(
    ("operations", "expected_deltas"),
    [
        pytest.param(
            lambda f: (f.add(_OBJ), f.replace([], "0")),
            [Delta(ADDED, _OBJ), Delta(DELETED, DeletedFinalStateUnknown("foo", _OBJ))],
            id="Added object should be deleted on Replace",
        ),
        pytest.param(
            _replaced_object_should_have_only_a_single_delete,
            [
                Delta(ADDED, _OBJ),
                Delta(REPLACED, _OBJ),
                Delta(DELETED, DeletedFinalStateUnknown("foo", _OBJ)),
            ],
            id="Replaced object should have only a single Delete",
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
                Delta(SYNC, _OBJ),
                Delta(SYNC, _OBJ),
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
    ],
)
def test_delta_fifow_replace_makes_deletions_for_objects_only_in_queue(
    operations: Callable[[DeltaFIFO], Any], expected_deltas: list[Delta]
) -> None:
    # With a backing KnownObjects.
    f_with_known_objects = _new(_literal())
    operations(f_with_known_objects)
    assert _pop(f_with_known_objects) == expected_deltas
    assert f_with_known_objects._items == {}, "expected no extra deltas"

    # Without a backing KnownObjects.
    f_without_known_objects = _new()
    operations(f_without_known_objects)
    assert _pop(f_without_known_objects) == expected_deltas
    assert f_without_known_objects._items == {}, "expected no extra deltas"


def test_delta_fifo_add_update() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("foo", 12))
    f.delete(_mk_fifo_obj("foo", 15))

    assert _list(f) == [_mk_fifo_obj("foo", 15)]
    assert _list_keys(f) == ["foo"]

    first = _test_pop(f)
    assert first.val == 15, "Didn't get updated value"
    # Upstream waits 50ms for a second value; nothing is left to pop.
    assert not f._queue
    _, exists = _get(f, _mk_fifo_obj("foo", ""))
    assert not exists, "item did not get removed"
    f.close()


@dataclass
class _RVAndXfrm:
    rv: int
    xfrm: int


def _xfrm(obj: Any) -> Any:
    if isinstance(obj, _TestFifoObject):
        obj.val.xfrm += 1
    elif isinstance(obj, DeletedFinalStateUnknown):
        if obj.obj.val.xfrm != 1:
            raise ValueError(f"object has been transformed wrong number of times: {obj!r}")
    else:
        raise ValueError(f"unexpected object: {obj!r}")
    return obj


def test_delta_fifo_transformer() -> None:
    def mk(name: str, rv: int) -> _TestFifoObject:
        return _mk_fifo_obj(name, _RVAndXfrm(rv, 0))

    f = DeltaFIFO(DeltaFIFOOptions(key_function=_test_fifo_object_key_func, transformer=_xfrm))
    f.add(mk("foo", 10))
    f.add(mk("bar", 11))
    f.update(mk("foo", 12))
    f.delete(mk("foo", 15))
    f.replace([], "")
    f.add(mk("bar", 16))
    f.replace([], "")

    assert _list_keys(f) == ["foo", "bar"]

    for i in range(2):
        try:
            popped = f.pop(lambda o, is_in_initial_list: None)
        except FIFOClosedError:
            pytest.fail(f"got nothing on try {i}?")
        obj = popped.newest().object
        if isinstance(obj, _TestFifoObject):
            assert obj.name == "foo", "expected regular deletion of foo"
            assert obj.val.rv == 15, "expected last message"
            assert obj.val.xfrm == 1, "transformed wrong number of times"
        elif isinstance(obj, DeletedFinalStateUnknown):
            tf = obj.obj
            assert tf.name == "bar", "expected tombstone deletion of bar"
            assert tf.val.rv == 16, "expected last message"
            assert tf.val.xfrm == 1, "tombstoned obj transformed wrong number of times"
        else:
            pytest.fail(f"unknown item {obj!r}")


def test_delta_fifo_enqueueing_no_lister() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("bar", 15))
    f.add(_mk_fifo_obj("qux", 17))
    f.delete(_mk_fifo_obj("qux", 18))

    # Nothing is queued: baz does not exist.
    f.delete(_mk_fifo_obj("baz", 20))

    for expect in [10, 15, 18]:
        assert _test_pop(f).val == expect
    assert len(f._items) == 0, "queue unexpectedly not empty"


def test_delta_fifo_enqueueing_with_lister() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5), _mk_fifo_obj("bar", 6), _mk_fifo_obj("baz", 7)))
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("bar", 15))

    # Queued: "baz" is in the key lister.
    f.delete(_mk_fifo_obj("baz", 20))

    for expect in [10, 15, 20]:
        assert _test_pop(f).val == expect
    assert len(f._items) == 0, "queue unexpectedly not empty"


def test_delta_fifo_add_replace() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 10))
    f.replace([_mk_fifo_obj("foo", 15)], "0")

    first = _test_pop(f)
    assert first.val == 15, "Didn't get updated value"
    assert not f._queue
    _, exists = _get(f, _mk_fifo_obj("foo", ""))
    assert not exists, "item did not get removed"
    f.close()


def test_delta_fifo_resync_non_existing() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))
    f.delete(_mk_fifo_obj("foo", 10))
    f.resync()

    deltas = f._items["foo"]
    assert len(deltas) == 1
    assert deltas[0].type == DELETED


def test_delta_fifo_resync() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))
    f.resync()

    deltas = f._items["foo"]
    assert len(deltas) == 1
    assert deltas[0].type == SYNC


def test_delta_fifo_delete_existing_non_propagated() -> None:
    f = _new(_literal())
    f.add(_mk_fifo_obj("foo", 5))
    f.delete(_mk_fifo_obj("foo", 6))

    deltas = f._items["foo"]
    assert len(deltas) == 2
    assert deltas[-1].type == DELETED


def _known_foo_bar_baz() -> _LiteralListerGetter:
    return _literal(_mk_fifo_obj("foo", 5), _mk_fifo_obj("bar", 6), _mk_fifo_obj("baz", 7))


def _assert_pops(f: DeltaFIFO, expected_list: list[list[Delta]]) -> None:
    for i, expected in enumerate(expected_list):
        cur = _pop(f)
        assert isinstance(cur, Deltas)
        assert cur == expected, f"pop {i}"


def test_delta_fifo_replace_makes_deletions() -> None:
    # One pre-existing object at a time: the order of several deletes is not promised.

    # A pre-existing Delete.
    f = _new(_known_foo_bar_baz())
    f.delete(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [Delta(DELETED, _mk_fifo_obj("baz", 10))],
            [Delta(SYNC, _mk_fifo_obj("foo", 5))],
            # bar had no delete event and is not in the list: a tombstone with its object.
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
        ],
    )

    # An Add instead of a Delete.
    f = _new(_known_foo_bar_baz())
    f.add(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [
                Delta(ADDED, _mk_fifo_obj("baz", 10)),
                Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 10))),
            ],
            [Delta(SYNC, _mk_fifo_obj("foo", 5))],
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
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
            [
                Delta(DELETED, _mk_fifo_obj("bar", 6)),
                Delta(ADDED, _mk_fifo_obj("bar", 100)),
                # The queue holds a newer bar than the known objects: the tombstone uses it.
                Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 100))),
            ],
            [Delta(SYNC, _mk_fifo_obj("foo", 5))],
            [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 7)))],
        ],
    )

    # Synced first, so the delete uses the latest version.
    f = _new(_known_foo_bar_baz())
    f.replace([_mk_fifo_obj("bar", 100), _mk_fifo_obj("foo", 5)], "0")
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [
                Delta(SYNC, _mk_fifo_obj("bar", 100)),
                Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 100))),
            ],
            [Delta(SYNC, _mk_fifo_obj("foo", 5)), Delta(SYNC, _mk_fifo_obj("foo", 5))],
            [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 7)))],
        ],
    )

    # No KeyListerGetter at all.
    f = _new()
    f.add(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(
        f,
        [
            [
                Delta(ADDED, _mk_fifo_obj("baz", 10)),
                Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 10))),
            ],
            [Delta(SYNC, _mk_fifo_obj("foo", 5))],
        ],
    )


def test_delta_fifo_replace_makes_deletions_replaced() -> None:
    f = _new(_known_foo_bar_baz(), emit_replaced=True)

    f.delete(_mk_fifo_obj("baz", 10))
    f.replace([_mk_fifo_obj("foo", 6)], "0")

    _assert_pops(
        f,
        [
            [Delta(DELETED, _mk_fifo_obj("baz", 10))],
            [Delta(REPLACED, _mk_fifo_obj("foo", 6))],
            [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
        ],
    )


def test_delta_fifo_replace_delta_type() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)), emit_replaced=True)
    f.replace([_mk_fifo_obj("foo", 5)], "0")
    _assert_pops(f, [[Delta(REPLACED, _mk_fifo_obj("foo", 5))]])


def test_delta_fifo_update_resync_race() -> None:
    f = _new(_literal(_mk_fifo_obj("foo", 5)))
    f.update(_mk_fifo_obj("foo", 6))
    f.resync()
    _assert_pops(f, [[Delta(UPDATED, _mk_fifo_obj("foo", 6))]])


def test_delta_fifo_has_synced_correct_on_deletion() -> None:
    f = _new(_known_foo_bar_baz())
    f.replace([_mk_fifo_obj("foo", 5)], "0")

    expected_list = [
        [Delta(SYNC, _mk_fifo_obj("foo", 5))],
        [Delta(DELETED, DeletedFinalStateUnknown("bar", _mk_fifo_obj("bar", 6)))],
        [Delta(DELETED, DeletedFinalStateUnknown("baz", _mk_fifo_obj("baz", 7)))],
    ]
    for expected in expected_list:
        assert not f.has_synced(), "Expected HasSynced to be false"
        cur, initial = _pop2(f)
        assert cur == expected
        assert initial, "Expected initial list item"
    assert f.has_synced(), "Expected HasSynced to be true"
    assert f.has_synced_checker().done().is_set()


def test_delta_fifo_detect_line_jumpers() -> None:
    f = _new()

    f.add(_mk_fifo_obj("foo", 10))
    f.add(_mk_fifo_obj("bar", 1))
    f.add(_mk_fifo_obj("foo", 11))
    f.add(_mk_fifo_obj("foo", 13))
    f.add(_mk_fifo_obj("zab", 30))

    assert _test_pop(f).val == 13

    f.add(_mk_fifo_obj("foo", 14))  # foo must not jump back in line

    assert _test_pop(f).val == 1
    assert _test_pop(f).val == 30
    assert _test_pop(f).val == 14


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        (_TestFifoObject(name="A", val=None), "A"),
        (DeletedFinalStateUnknown(key="B", obj=None), "B"),
        (Deltas([Delta(type="", object=_TestFifoObject(name="C", val=None))]), "C"),
        (Deltas([Delta(type="", object=DeletedFinalStateUnknown(key="D", obj=None))]), "D"),
    ],
)
def test_delta_fifo_key_of(obj: Any, key: str) -> None:
    f = _new()
    assert f.key_of(obj) == key


_DeltaFIFOAction = Callable[[DeltaFIFO], Any]


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
        # Cannot happen with a real reflector (a list has no duplicate keys).
        pytest.param(
            [lambda f: f.replace([_mk_fifo_obj("a", 1), _mk_fifo_obj("a", 2)], "0"), _pop],
            True,
            id="6",
        ),
    ],
)
def test_delta_fifo_has_synced(actions: list[_DeltaFIFOAction], expected_synced: bool) -> None:
    f = _new()
    for action in actions:
        action(f)
    assert f.has_synced() == expected_synced


def test_delta_fifo_pop_should_unblock_when_closed() -> None:
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


# Not in delta_fifo_test.go: relist tombstones against a real indexer of Kubernetes objects,
# as a shared informer wires it.


def _pod(name: str, rv: str) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(namespace="ns", name=name, resource_version=rv))


def test_delta_fifo_replace_tombstones_deletes_seen_only_at_relist() -> None:
    known = new_store(meta_namespace_key_func)
    kept, gone = _pod("kept", "1"), _pod("gone", "2")
    known.add(kept)
    known.add(gone)
    f = new_delta_fifo(None, known)

    f.replace([_pod("kept", "3")], "3")

    popped = [_pop(f), _pop(f)]
    assert popped == [
        [Delta(SYNC, _pod("kept", "3"))],
        [Delta(DELETED, DeletedFinalStateUnknown("ns/gone", gone))],
    ]
    assert popped[1][0].object.obj is gone


def test_delta_fifo_pop_process_error_still_removes_item() -> None:
    f = _new()
    f.add(_mk_fifo_obj("foo", 1))

    def process(obj: Any, is_in_initial_list: bool) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        f.pop(process)
    assert f._items == {}
    assert not f._queue


def test_delta_fifo_key_of_empty_deltas() -> None:
    with pytest.raises(KeyFuncError):
        _new().key_of(Deltas())
