import gc
from collections.abc import Iterator

import pytest

from jobctl.app.gc_policy import CONTROLLER_GC_THRESHOLDS, tune_for_controller


@pytest.fixture
def restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restore_thresholds")
def test_tune_for_controller_raises_thresholds_and_keeps_collecting_cycles() -> None:
    gc.set_threshold(700, 10, 10)
    tune_for_controller()
    assert gc.get_threshold() == CONTROLLER_GC_THRESHOLDS
    assert gc.isenabled()

    class Node:
        other: "Node | None" = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2
