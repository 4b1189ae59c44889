"""Port of client-go util/workqueue/parallelizer.go: fan independent pieces out to workers."""

from __future__ import annotations

import threading
from collections.abc import Callable

# Port of DoWorkPieceFunc: processes the piece with the given index.
DoWorkPieceFunc = Callable[[int], None]


def parallelize_until(
    stop: threading.Event | None,
    workers: int,
    pieces: int,
    do_work_piece: DoWorkPieceFunc,
    chunk_size: int = 1,
) -> None:
    """Port of ParallelizeUntil: run ``do_work_piece`` for every piece, in parallel.

    Pieces are handed out in chunks of ``chunk_size`` (Go's WithChunkSize option) to
    ``min(workers, chunks)`` threads. Once ``stop`` is set, no further piece starts.
    Returns when every worker has finished. If a piece raises, that worker stops and
    the first exception is re-raised here after the others finish (Go crashes the
    process instead).

    Go twin: ParallelizeUntil (parallelizer.go).
    """
    if pieces == 0:
        return
    if chunk_size < 1:
        chunk_size = 1

    chunks = _ceil_div(pieces, chunk_size)
    # Chunk indices are taken from a shared iterator; next() on it is atomic in CPython.
    to_process = iter(range(chunks))
    if chunks < workers:
        workers = chunks

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for chunk in to_process:
                start = chunk * chunk_size
                end = min(start + chunk_size, pieces)
                for p in range(start, end):
                    if stop is not None and stop.is_set():
                        return
                    do_work_piece(p)
        except BaseException as e:
            errors.append(e)

    if workers == 1:
        # One worker: run it on the calling thread, which would only wait anyway.
        worker()
    elif workers > 1:
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


def _ceil_div(a: int, b: int) -> int:
    """Port of ceilDiv (parallelizer.go)."""
    return (a + b - 1) // b
