"""Port of client-go util/workqueue/default_rate_limiters.go: how long requeues wait.

Every limiter answers ``when(item)`` (seconds to wait before the item is added again,
counting a failure), ``forget(item)`` and ``num_requeues(item)``. The token-bucket
limiter reads time from an injected clock (upstream's rate.Limiter reads the wall clock).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable
from typing import Any, Generic, Protocol, TypeVar

from jobctl.k8s_libs.clock import Clock
from jobctl.workqueue.token_bucket import TokenBucket

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)

_MAX_INT64 = float(2**63 - 1)
_NS = 1_000_000_000


class TypedRateLimiter(Protocol[T_contra]):
    """Port of TypedRateLimiter: decides how long each failing item waits."""

    def when(self, item: T_contra) -> float:
        """Seconds ``item`` should wait before it is added again; counts one failure."""
        ...

    def forget(self, item: T_contra) -> None:
        """Stop tracking ``item`` (it succeeded or was given up on)."""
        ...

    def num_requeues(self, item: T_contra) -> int:
        """How many failures ``item`` has had."""
        ...


# Port of RateLimiter (the untyped alias of TypedRateLimiter).
RateLimiter = TypedRateLimiter[Any]


def default_controller_rate_limiter(clock: Clock | None = None) -> TypedRateLimiter[Any]:
    """Port of DefaultControllerRateLimiter (default_rate_limiters.go)."""
    return default_typed_controller_rate_limiter(clock)


def default_typed_controller_rate_limiter(clock: Clock | None = None) -> TypedRateLimiter[T]:
    """Port of DefaultTypedControllerRateLimiter: per-item exponential and overall bucket.

    5ms doubling up to 1000s per item, and 10 qps with a burst of 100 across all items
    (retry pacing only). ``clock`` drives the bucket; None means the real clock.

    Go twin: DefaultTypedControllerRateLimiter (default_rate_limiters.go).
    """
    return new_typed_max_of_rate_limiter(
        new_typed_item_exponential_failure_rate_limiter(0.005, 1000.0),
        TypedBucketRateLimiter(TokenBucket(10, 100, clock)),
    )


class TypedBucketRateLimiter(Generic[T]):
    """Port of TypedBucketRateLimiter: a token bucket as a workqueue rate limiter."""

    __slots__ = ("limiter",)

    def __init__(self, limiter: TokenBucket) -> None:
        self.limiter = limiter

    def when(self, item: T) -> float:
        """Port of TypedBucketRateLimiter.When: reserve a token, wait until it is due.

        Go twin: TypedBucketRateLimiter.When (default_rate_limiters.go).
        """
        return self.limiter.reserve_delay()

    def num_requeues(self, item: T) -> int:
        """Port of TypedBucketRateLimiter.NumRequeues: the bucket tracks no items.

        Go twin: TypedBucketRateLimiter.NumRequeues (default_rate_limiters.go).
        """
        return 0

    def forget(self, item: T) -> None:
        """Port of TypedBucketRateLimiter.Forget (default_rate_limiters.go): nothing to forget."""


# Port of BucketRateLimiter (the untyped alias of TypedBucketRateLimiter).
BucketRateLimiter = TypedBucketRateLimiter


class TypedItemExponentialFailureRateLimiter(Generic[T]):
    """Port of TypedItemExponentialFailureRateLimiter: base_delay * 2**failures, capped.

    Delays are computed in whole nanoseconds as in Go, then returned in seconds.
    """

    __slots__ = ("_base_delay_ns", "_failures", "_failures_lock", "_max_delay", "_max_delay_ns")

    def __init__(self, base_delay: float, max_delay: float) -> None:
        self._failures_lock = threading.Lock()
        self._failures: dict[T, int] = {}
        self._base_delay_ns = round(base_delay * _NS)
        self._max_delay = max_delay
        self._max_delay_ns = round(max_delay * _NS)

    def when(self, item: T) -> float:
        """Port of TypedItemExponentialFailureRateLimiter.When (default_rate_limiters.go)."""
        with self._failures_lock:
            exp = self._failures.get(item, 0)
            self._failures[item] = exp + 1
        try:
            backoff = float(self._base_delay_ns) * math.pow(2, exp)
        except OverflowError:
            return self._max_delay
        if backoff > _MAX_INT64:
            return self._max_delay
        calculated = int(backoff)
        if calculated > self._max_delay_ns:
            return self._max_delay
        return calculated / _NS

    def num_requeues(self, item: T) -> int:
        """Port of TypedItemExponentialFailureRateLimiter.NumRequeues (default_rate_limiters.go)."""
        with self._failures_lock:
            return self._failures.get(item, 0)

    def forget(self, item: T) -> None:
        """Port of TypedItemExponentialFailureRateLimiter.Forget (default_rate_limiters.go)."""
        with self._failures_lock:
            self._failures.pop(item, None)


# Port of ItemExponentialFailureRateLimiter (the untyped alias).
ItemExponentialFailureRateLimiter = TypedItemExponentialFailureRateLimiter


def new_item_exponential_failure_rate_limiter(
    base_delay: float, max_delay: float
) -> TypedItemExponentialFailureRateLimiter[Any]:
    """Port of NewItemExponentialFailureRateLimiter (default_rate_limiters.go)."""
    return new_typed_item_exponential_failure_rate_limiter(base_delay, max_delay)


def new_typed_item_exponential_failure_rate_limiter(
    base_delay: float, max_delay: float
) -> TypedItemExponentialFailureRateLimiter[T]:
    """Port of NewTypedItemExponentialFailureRateLimiter (delays in seconds).

    Go twin: NewTypedItemExponentialFailureRateLimiter (default_rate_limiters.go).
    """
    return TypedItemExponentialFailureRateLimiter(base_delay, max_delay)


def default_item_based_rate_limiter() -> TypedRateLimiter[Any]:
    """Port of DefaultItemBasedRateLimiter (default_rate_limiters.go)."""
    return default_typed_item_based_rate_limiter()


def default_typed_item_based_rate_limiter() -> TypedRateLimiter[T]:
    """Port of DefaultTypedItemBasedRateLimiter: 1ms doubling up to 1000s.

    Go twin: DefaultTypedItemBasedRateLimiter (default_rate_limiters.go).
    """
    return new_typed_item_exponential_failure_rate_limiter(0.001, 1000.0)


class TypedItemFastSlowRateLimiter(Generic[T]):
    """Port of TypedItemFastSlowRateLimiter: a few fast retries, then slow ones."""

    __slots__ = ("_failures", "_failures_lock", "_fast_delay", "_max_fast_attempts", "_slow_delay")

    def __init__(self, fast_delay: float, slow_delay: float, max_fast_attempts: int) -> None:
        self._failures_lock = threading.Lock()
        self._failures: dict[T, int] = {}
        self._max_fast_attempts = max_fast_attempts
        self._fast_delay = fast_delay
        self._slow_delay = slow_delay

    def when(self, item: T) -> float:
        """Port of TypedItemFastSlowRateLimiter.When (default_rate_limiters.go)."""
        with self._failures_lock:
            failures = self._failures.get(item, 0) + 1
            self._failures[item] = failures
        if failures <= self._max_fast_attempts:
            return self._fast_delay
        return self._slow_delay

    def num_requeues(self, item: T) -> int:
        """Port of TypedItemFastSlowRateLimiter.NumRequeues (default_rate_limiters.go)."""
        with self._failures_lock:
            return self._failures.get(item, 0)

    def forget(self, item: T) -> None:
        """Port of TypedItemFastSlowRateLimiter.Forget (default_rate_limiters.go)."""
        with self._failures_lock:
            self._failures.pop(item, None)


# Port of ItemFastSlowRateLimiter (the untyped alias).
ItemFastSlowRateLimiter = TypedItemFastSlowRateLimiter


def new_item_fast_slow_rate_limiter(
    fast_delay: float, slow_delay: float, max_fast_attempts: int
) -> TypedItemFastSlowRateLimiter[Any]:
    """Port of NewItemFastSlowRateLimiter (default_rate_limiters.go)."""
    return new_typed_item_fast_slow_rate_limiter(fast_delay, slow_delay, max_fast_attempts)


def new_typed_item_fast_slow_rate_limiter(
    fast_delay: float, slow_delay: float, max_fast_attempts: int
) -> TypedItemFastSlowRateLimiter[T]:
    """Port of NewTypedItemFastSlowRateLimiter (default_rate_limiters.go)."""
    return TypedItemFastSlowRateLimiter(fast_delay, slow_delay, max_fast_attempts)


class TypedMaxOfRateLimiter(Generic[T]):
    """Port of TypedMaxOfRateLimiter: asks every limiter and takes the longest wait.

    With a token bucket among them the burst can look exceeded, since items another
    limiter delayed longer still took bucket tokens.
    """

    __slots__ = ("_limiters",)

    def __init__(self, *limiters: TypedRateLimiter[T]) -> None:
        self._limiters = limiters

    def when(self, item: T) -> float:
        """Port of TypedMaxOfRateLimiter.When (default_rate_limiters.go)."""
        ret = 0.0
        for limiter in self._limiters:
            curr = limiter.when(item)
            if curr > ret:
                ret = curr
        return ret

    def num_requeues(self, item: T) -> int:
        """Port of TypedMaxOfRateLimiter.NumRequeues (default_rate_limiters.go)."""
        ret = 0
        for limiter in self._limiters:
            curr = limiter.num_requeues(item)
            if curr > ret:
                ret = curr
        return ret

    def forget(self, item: T) -> None:
        """Port of TypedMaxOfRateLimiter.Forget (default_rate_limiters.go)."""
        for limiter in self._limiters:
            limiter.forget(item)


# Port of MaxOfRateLimiter (the untyped alias).
MaxOfRateLimiter = TypedMaxOfRateLimiter


def new_max_of_rate_limiter(*limiters: TypedRateLimiter[Any]) -> TypedMaxOfRateLimiter[Any]:
    """Port of NewMaxOfRateLimiter (default_rate_limiters.go)."""
    return new_typed_max_of_rate_limiter(*limiters)


def new_typed_max_of_rate_limiter(*limiters: TypedRateLimiter[T]) -> TypedMaxOfRateLimiter[T]:
    """Port of NewTypedMaxOfRateLimiter (default_rate_limiters.go)."""
    return TypedMaxOfRateLimiter(*limiters)


class TypedWithMaxWaitRateLimiter(Generic[T]):
    """Port of TypedWithMaxWaitRateLimiter: caps another limiter's wait at max_delay."""

    __slots__ = ("_limiter", "_max_delay")

    def __init__(self, limiter: TypedRateLimiter[T], max_delay: float) -> None:
        self._limiter = limiter
        self._max_delay = max_delay

    def when(self, item: T) -> float:
        """Port of TypedWithMaxWaitRateLimiter.When (default_rate_limiters.go)."""
        delay = self._limiter.when(item)
        if delay > self._max_delay:
            return self._max_delay
        return delay

    def forget(self, item: T) -> None:
        """Port of TypedWithMaxWaitRateLimiter.Forget (default_rate_limiters.go)."""
        self._limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        """Port of TypedWithMaxWaitRateLimiter.NumRequeues (default_rate_limiters.go)."""
        return self._limiter.num_requeues(item)


# Port of WithMaxWaitRateLimiter (the untyped alias).
WithMaxWaitRateLimiter = TypedWithMaxWaitRateLimiter


def new_with_max_wait_rate_limiter(
    limiter: TypedRateLimiter[Any], max_delay: float
) -> TypedWithMaxWaitRateLimiter[Any]:
    """Port of NewWithMaxWaitRateLimiter (default_rate_limiters.go)."""
    return new_typed_with_max_wait_rate_limiter(limiter, max_delay)


def new_typed_with_max_wait_rate_limiter(
    limiter: TypedRateLimiter[T], max_delay: float
) -> TypedWithMaxWaitRateLimiter[T]:
    """Port of NewTypedWithMaxWaitRateLimiter (default_rate_limiters.go)."""
    return TypedWithMaxWaitRateLimiter(limiter, max_delay)
