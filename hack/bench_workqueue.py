"""Benchmarks for jobctl.workqueue (the controller's hot path).

Mirrors client-go's BenchmarkQueue and BenchmarkDelayingQueue_AddAfter:

- add -> get -> done cycles per second on one thread over 100 rotating keys, for the
  plain queue (no metrics), the same with prometheus metrics on, and the rate-limiting
  queue the job controller builds;
- the same cycle with one producer thread and two worker threads;
- delaying-queue ``add_after`` calls per second with random delays up to 10 minutes on a
  fake clock, and the end-to-end rate including handing every item to the queue.

Run: ``.venv/bin/python -m hack.bench_workqueue`` (target: >= 100,000 cycles/s plain).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from jobctl.k8s_libs.clock import FakeClock
from jobctl.workqueue import (
    PrometheusMetricsProvider,
    TypedDelayingQueueConfig,
    TypedInterface,
    TypedQueueConfig,
    TypedRateLimitingQueueConfig,
    default_typed_controller_rate_limiter,
    new_typed_delaying_queue_with_config,
    new_typed_rate_limiting_queue_with_config,
    new_typed_with_config,
)

TARGET_CYCLES_PER_SECOND = 100_000
KEYS = [f"default/job-{i}" for i in range(100)]


def _cycles(q: TypedInterface[str], n: int) -> float:
    """add -> get -> done ``n`` times on this thread; returns cycles per second."""
    keys = KEYS
    nkeys = len(keys)
    add, get, done = q.add, q.get, q.done
    start = time.perf_counter()
    for i in range(n):
        add(keys[i % nkeys])
        key, _ = get()
        done(key)
    return n / (time.perf_counter() - start)


def _best_of(runs: int, fn: Callable[[], float]) -> float:
    return max(fn() for _ in range(runs))


def bench_plain(n: int) -> float:
    q: TypedInterface[str] = new_typed_with_config(TypedQueueConfig(name=""))
    try:
        return _best_of(3, lambda: _cycles(q, n))
    finally:
        q.shut_down()


def bench_prometheus(n: int) -> float:
    provider = PrometheusMetricsProvider(CollectorRegistry())
    q: TypedInterface[str] = new_typed_with_config(
        TypedQueueConfig(name="bench", metrics_provider=provider)
    )
    try:
        return _best_of(3, lambda: _cycles(q, n))
    finally:
        q.shut_down()


def bench_rate_limiting(n: int) -> float:
    q = new_typed_rate_limiting_queue_with_config(
        default_typed_controller_rate_limiter(),
        TypedRateLimitingQueueConfig[str](name=""),
    )
    try:
        return _best_of(3, lambda: _cycles(q, n))
    finally:
        q.shut_down()


def bench_threads(n: int, workers: int) -> float:
    """One producer adding ``n`` distinct keys, ``workers`` threads get/done-ing them."""
    q: TypedInterface[int] = new_typed_with_config(TypedQueueConfig(name=""))
    processed = [0] * workers

    def worker(idx: int) -> None:
        count = 0
        while True:
            key, shutdown = q.get()
            if shutdown:
                processed[idx] = count
                return
            count += 1
            q.done(key)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for i in range(n):
        q.add(i)
    q.shut_down_with_drain()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return sum(processed) / elapsed


def bench_add_after(n: int) -> tuple[float, float]:
    """add_after calls per second, and items per second through to ``get``."""
    clock = FakeClock()
    q = new_typed_delaying_queue_with_config(TypedDelayingQueueConfig[str](clock=clock))
    rng = random.Random(0)
    data = [str(i) for i in range(n)]
    delays = [rng.uniform(0.001, 600.0) for _ in range(n)]
    start = time.perf_counter()
    for item, delay in zip(data, delays, strict=True):
        q.add_after(item, delay)
    add_rate = n / (time.perf_counter() - start)
    # Let the waiting loop take every hand-off, then release them all at once.
    with q._cond:
        q._cond.wait_for(lambda: q._loop_waiting and not q._waiting_for_add, 60)
    clock.step(11 * 60)
    for _ in range(n):
        q.get()
    total_rate = n / (time.perf_counter() - start)
    q.shut_down()
    return add_rate, total_rate


def _row(name: str, value: float, unit: str, note: str = "") -> str:
    return f"| {name:<44} | {value:>12,.0f} | {unit:<10} | {note:<10} |"


def main() -> None:
    n = 200_000
    rows: list[tuple[str, float, str, str]] = []
    plain = bench_plain(n)
    verdict = "ok" if plain >= TARGET_CYCLES_PER_SECOND else "BELOW"
    rows.append(("queue add/get/done, no metrics", plain, "cycles/s", verdict))
    rows.append(("queue add/get/done, prometheus metrics", bench_prometheus(n), "cycles/s", ""))
    rows.append(("rate-limiting queue add/get/done", bench_rate_limiting(n), "cycles/s", ""))
    rows.append(("1 producer + 2 workers, distinct keys", bench_threads(n, 2), "items/s", ""))
    add_rate, total_rate = bench_add_after(50_000)
    rows.append(("delaying add_after (random delay <= 10m)", add_rate, "calls/s", ""))
    rows.append(("delaying add_after -> loop -> get", total_rate, "items/s", ""))

    header = f"| {'benchmark':<44} | {'rate':>12} | {'unit':<10} | {'target':<10} |"
    print(header)
    print("|" + "-" * 46 + "|" + "-" * 14 + "|" + "-" * 12 + "|" + "-" * 12 + "|")
    for name, value, unit, note in rows:
        print(_row(name, value, unit, note))
    print(f"target: >= {TARGET_CYCLES_PER_SECOND:,} plain cycles/s on one thread")


if __name__ == "__main__":
    main()
