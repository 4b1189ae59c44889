"""Port of client-go tools/cache/fifo_test.go."""

from __future__ import annotations

import builtins
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from jobctl.informers.fifo import FIFO, FIFOClosedError, Queue, new_fifo
from jobctl.informers.store import KeyFuncError


class _ListableFIFO(FIFO):
    """The read methods fifo_test.go adds to FIFO for its own checks."""

    def list(self) -> builtins.list[Any]:
        with self._lock:
            return builtins.list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._items)

    def get(self, obj: Any) -> tuple[Any, bool]:
        try:
            key = self._key_func(obj)
        except Exception as e:
            raise KeyFuncError(obj, e) from e
        return self.get_by_key(key)

    def get_by_key(self, key: str) -> tuple[Any, bool]:
        with self._lock:
            if key in self._items:
                return self._items[key], True
            return None, False


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


def _test_fifo_object_key_func(obj: Any) -> str:
    name: str = obj.name
    return name


@dataclass
class _TestFifoObject:
    name: str
    val: Any


def _mk_fifo_obj(name: str, val: Any) -> _TestFifoObject:
    return _TestFifoObject(name=name, val=val)


def _run_producers(f: FIFO, amount: int) -> list[threading.Thread]:
    def produce(prefix: str) -> None:
        for i in range(amount):
            f.add(_mk_fifo_obj(prefix + chr(i), i + 1))

    threads = [threading.Thread(target=produce, args=(p,), daemon=True) for p in ("a", "b")]
    for t in threads:
        t.start()
    return threads


def test_fifo_basic() -> None:
    f = new_fifo(_test_fifo_object_key_func)
    amount = 500
    threads = _run_producers(f, amount)

    last = {"a": 0, "b": 0}
    for _ in range(amount * 2):
        obj = _pop(f)
        producer = obj.name[0]
        assert obj.val > last[producer], f"got {obj.val} out of order, last was {last[producer]}"
        last[producer] = obj.val
    for t in threads:
        t.join(5)


def test_fifo_add_update() -> None:
    f = _ListableFIFO(_test_fifo_object_key_func)
    f.add(_mk_fifo_obj("foo", 10))
    f.update(_mk_fifo_obj("foo", 15))

    assert f.list() == [_mk_fifo_obj("foo", 15)]
    assert f.list_keys() == ["foo"]

    first = _pop(f)
    assert first.val == 15
    # Upstream waits 50ms for a second value; nothing is left to pop.
    assert not f._queue
    _, exists = f.get(_mk_fifo_obj("foo", ""))
    assert not exists, "item did not get removed"
    f.close()


def test_fifo_add_replace() -> None:
    f = _ListableFIFO(_test_fifo_object_key_func)
    f.add(_mk_fifo_obj("foo", 10))
    f.replace([_mk_fifo_obj("foo", 15)], "15")

    first = _pop(f)
    assert first.val == 15
    assert not f._queue
    _, exists = f.get(_mk_fifo_obj("foo", ""))
    assert not exists, "item did not get removed"
    f.close()


def test_fifo_detect_line_jumpers() -> None:
    f = new_fifo(_test_fifo_object_key_func)

    f.add(_mk_fifo_obj("foo", 10))
    f.add(_mk_fifo_obj("bar", 1))
    f.add(_mk_fifo_obj("foo", 11))
    f.add(_mk_fifo_obj("foo", 13))
    f.add(_mk_fifo_obj("zab", 30))

    assert _pop(f).val == 13

    f.add(_mk_fifo_obj("foo", 14))  # foo must not jump back in line

    assert _pop(f).val == 1
    assert _pop(f).val == 30
    assert _pop(f).val == 14


_FIFOAction = Callable[[FIFO], Any]


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
            [
                lambda f: f.replace([_mk_fifo_obj("a", 1), _mk_fifo_obj("b", 2)], "0"),
                _pop,
            ],
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
    ],
)
def test_fifo_has_synced(actions: list[_FIFOAction], expected_synced: bool) -> None:
    f = new_fifo(_test_fifo_object_key_func)
    for action in actions:
        action(f)
    assert f.has_synced() == expected_synced
    assert f.done().is_set() == expected_synced


def test_fifo_pop_should_unblock_when_closed() -> None:
    f = new_fifo(_test_fifo_object_key_func)

    jobs = 10
    returned = threading.Semaphore(0)

    def consumer() -> None:
        with contextlib.suppress(FIFOClosedError):
            f.pop(lambda obj, is_in_initial_list: None)
        returned.release()

    for _ in range(jobs):
        threading.Thread(target=consumer, daemon=True).start()

    f.close()

    for _ in range(jobs):
        assert returned.acquire(timeout=5), "timed out waiting for Pop to return after Close"
