"""Port of client-go util/workqueue/parallelizer_test.go."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from jobctl.workqueue.parallelizer import parallelize_until


@dataclass(frozen=True)
class Case:
    """Port of testCase."""

    pieces: int
    workers: int
    chunk_size: int

    def __str__(self) -> str:
        return f"pieces:{self.pieces},workers:{self.workers},chunkSize:{self.chunk_size}"


CASES = [
    Case(pieces=1000, workers=10, chunk_size=1),
    Case(pieces=1000, workers=10, chunk_size=10),
    Case(pieces=1000, workers=10, chunk_size=100),
    Case(pieces=999, workers=10, chunk_size=13),
]


@pytest.mark.parametrize("tc", CASES, ids=str)
def test_parallelize_until(tc: Case) -> None:
    seen = [0] * tc.pieces
    lock = threading.Lock()

    def work(p: int) -> None:
        with lock:
            seen[p] += 1

    parallelize_until(None, tc.workers, tc.pieces, work, chunk_size=tc.chunk_size)

    assert seen == [1] * tc.pieces, "bad number of visits"


def cal_prime(p: int) -> bool:
    """Port of calPrime."""
    if p <= 1:
        return False
    i = 2
    while i * i <= p:
        if p % i == 0:
            return False
        i += 1
    return True


@pytest.mark.parametrize("tc", CASES, ids=str)
def test_parallelize_until_primes(tc: Case) -> None:
    """Port of BenchmarkParallelizeUntil's correctness check, run once."""
    is_prime = [False] * tc.pieces

    def work(p: int) -> None:
        is_prime[p] = cal_prime(p)

    parallelize_until(threading.Event(), tc.workers, tc.pieces, work, chunk_size=tc.chunk_size)
    want = [False, False, True, True, False, True, False, True, False, False, False, True]
    assert is_prime[: len(want)] == want


def test_parallelize_until_uses_at_most_chunks_workers() -> None:
    """Not upstream: min(workers, chunks) threads run the pieces."""
    threads: set[int] = set()
    lock = threading.Lock()

    def work(p: int) -> None:
        with lock:
            threads.add(threading.get_ident())

    parallelize_until(None, 16, 30, work, chunk_size=10)
    assert 1 <= len(threads) <= 3


def test_parallelize_until_stopped() -> None:
    """Not upstream: once stop is set no further piece starts."""
    stop = threading.Event()
    done: list[int] = []

    def work(p: int) -> None:
        done.append(p)
        stop.set()

    parallelize_until(stop, 1, 100, work)
    assert done == [0]

    stop2 = threading.Event()
    stop2.set()
    calls: list[int] = []
    parallelize_until(stop2, 4, 100, calls.append, chunk_size=7)
    assert calls == []


def test_parallelize_until_zero_pieces() -> None:
    """Not upstream: nothing to do returns at once."""
    calls: list[int] = []
    parallelize_until(None, 4, 0, calls.append)
    assert calls == []


def test_parallelize_until_reraises() -> None:
    """Not upstream: a piece that raises surfaces in the caller (Go would crash)."""

    def work(p: int) -> None:
        if p == 5:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        parallelize_until(None, 4, 20, work)
