"""Port of client-go util/workqueue/default_rate_limiters_test.go."""

from __future__ import annotations

from typing import Any

from jobctl.k8s_libs.clock import FakeClock
from jobctl.workqueue.default_rate_limiters import (
    RateLimiter,
    TypedBucketRateLimiter,
    TypedRateLimiter,
    default_controller_rate_limiter,
    default_item_based_rate_limiter,
    new_item_exponential_failure_rate_limiter,
    new_item_fast_slow_rate_limiter,
    new_max_of_rate_limiter,
    new_with_max_wait_rate_limiter,
)
from jobctl.workqueue.token_bucket import TokenBucket

MS = 0.001


def test_item_exponential_failure_rate_limiter() -> None:
    limiter = new_item_exponential_failure_rate_limiter(1 * MS, 1.0)

    assert limiter.when("one") == 1 * MS
    assert limiter.when("one") == 2 * MS
    assert limiter.when("one") == 4 * MS
    assert limiter.when("one") == 8 * MS
    assert limiter.when("one") == 16 * MS
    assert limiter.num_requeues("one") == 5

    assert limiter.when("two") == 1 * MS
    assert limiter.when("two") == 2 * MS
    assert limiter.num_requeues("two") == 2

    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 1 * MS


def test_item_exponential_failure_rate_limiter_over_flow() -> None:
    limiter = new_item_exponential_failure_rate_limiter(1 * MS, 1000.0)
    for _ in range(5):
        limiter.when("one")
    assert limiter.when("one") == 32 * MS

    for _ in range(1000):
        limiter.when("overflow1")
    assert limiter.when("overflow1") == 1000.0

    limiter = new_item_exponential_failure_rate_limiter(60.0, 1000 * 3600.0)
    for _ in range(2):
        limiter.when("two")
    assert limiter.when("two") == 4 * 60.0

    for _ in range(1000):
        limiter.when("overflow2")
    assert limiter.when("overflow2") == 1000 * 3600.0

    # Not upstream: past 2**1023 the power itself overflows; still capped.
    for _ in range(100):
        limiter.when("overflow2")
    assert limiter.when("overflow2") == 1000 * 3600.0


def test_item_fast_slow_rate_limiter() -> None:
    limiter = new_item_fast_slow_rate_limiter(5 * MS, 10.0, 3)

    assert limiter.when("one") == 5 * MS
    assert limiter.when("one") == 5 * MS
    assert limiter.when("one") == 5 * MS
    assert limiter.when("one") == 10.0
    assert limiter.when("one") == 10.0
    assert limiter.num_requeues("one") == 5

    assert limiter.when("two") == 5 * MS
    assert limiter.when("two") == 5 * MS
    assert limiter.num_requeues("two") == 2

    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 5 * MS


def test_max_of_rate_limiter() -> None:
    limiter = new_max_of_rate_limiter(
        new_item_fast_slow_rate_limiter(5 * MS, 3.0, 3),
        new_item_exponential_failure_rate_limiter(1 * MS, 1.0),
    )

    assert limiter.when("one") == 5 * MS
    assert limiter.when("one") == 5 * MS
    assert limiter.when("one") == 5 * MS
    assert limiter.when("one") == 3.0
    assert limiter.when("one") == 3.0
    assert limiter.num_requeues("one") == 5

    assert limiter.when("two") == 5 * MS
    assert limiter.when("two") == 5 * MS
    assert limiter.num_requeues("two") == 2

    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == 5 * MS


def test_with_max_wait_rate_limiter() -> None:
    limiter = new_with_max_wait_rate_limiter(new_step_rate_limiter(5 * MS, 1000.0, 100), 500.0)
    for i in range(100):
        assert limiter.when(i) == 5 * MS
    for i in range(100, 200):
        assert limiter.when(i) == 500.0


def new_step_rate_limiter(base_delay: float, max_delay: float, threshold: int) -> RateLimiter:
    """Port of NewStepRateLimiter."""
    return StepRateLimiter(base_delay=base_delay, max_delay=max_delay, threshold=threshold)


class StepRateLimiter:
    """Port of StepRateLimiter: base delay for the first calls, then the max delay."""

    def __init__(self, base_delay: float, max_delay: float, threshold: int) -> None:
        self.count = 0
        self.threshold = threshold
        self.base_delay = base_delay
        self.max_delay = max_delay

    def when(self, item: Any) -> float:
        self.count += 1
        if self.count <= self.threshold:
            return self.base_delay
        return self.max_delay

    def num_requeues(self, item: Any) -> int:
        return 0

    def forget(self, item: Any) -> None:
        pass


def test_bucket_rate_limiter_uses_injected_clock() -> None:
    """Not upstream: the bucket paces requeues on the injected clock."""
    clock = FakeClock()
    limiter: TypedRateLimiter[str] = TypedBucketRateLimiter(TokenBucket(10, 2, clock))
    assert limiter.when("a") == 0
    assert limiter.when("b") == 0
    assert limiter.when("c") == 0.1
    assert limiter.when("d") == 0.2
    clock.step(0.2)
    assert limiter.when("e") == 0.1
    assert limiter.num_requeues("a") == 0
    limiter.forget("a")


def test_default_controller_rate_limiter() -> None:
    """Not upstream: 5ms exponential per item, 10 qps / burst 100 overall."""
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    assert limiter.when("x") == 5 * MS
    assert limiter.when("x") == 10 * MS
    assert limiter.num_requeues("x") == 2
    # 98 more distinct items use up the burst; the next one waits on the bucket.
    for i in range(98):
        assert limiter.when(i) == 5 * MS
    assert abs(limiter.when("y") - 0.1) < 1e-9
    limiter.forget("x")
    assert limiter.num_requeues("x") == 0


def test_default_item_based_rate_limiter() -> None:
    """Not upstream: 1ms doubling, capped at 1000s."""
    limiter = default_item_based_rate_limiter()
    assert [limiter.when("a") for _ in range(4)] == [1 * MS, 2 * MS, 4 * MS, 8 * MS]
    for _ in range(40):
        limiter.when("a")
    assert limiter.when("a") == 1000.0
