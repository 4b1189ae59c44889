"""Port of client-go util/workqueue/rate_limiting_queue.go: requeue through a rate limiter.

``add_rate_limited`` asks the rate limiter how long the item should wait and then adds
it after that delay. Call ``forget`` when an item stops failing, or the limiter keeps
counting its failures forever.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from jobctl.k8s_libs.clock import Clock, RealClock
from jobctl.workqueue.default_rate_limiters import TypedRateLimiter
from jobctl.workqueue.delaying_queue import (
    DelayingInterface,
    TypedDelayingInterface,
    TypedDelayingQueueConfig,
    new_typed_delaying_queue_with_config,
)
from jobctl.workqueue.metrics import MetricsProvider

T = TypeVar("T", bound=Hashable)


class TypedRateLimitingInterface(TypedDelayingInterface[T], Protocol[T]):
    """Port of TypedRateLimitingInterface: a delaying queue with per-item rate limiting."""

    def add_rate_limited(self, item: T) -> None: ...

    def forget(self, item: T) -> None: ...

    def num_requeues(self, item: T) -> int: ...


# Port of RateLimitingInterface (the untyped alias of TypedRateLimitingInterface).
RateLimitingInterface = TypedRateLimitingInterface[Any]


@dataclass
class TypedRateLimitingQueueConfig(Generic[T]):
    """Port of TypedRateLimitingQueueConfig.

    An empty ``name`` means no metrics; ``clock`` None means the real clock;
    ``delaying_queue`` None means a new delaying queue with the same name, provider, clock.
    """

    name: str = ""
    metrics_provider: MetricsProvider | None = None
    clock: Clock | None = None
    delaying_queue: TypedDelayingInterface[T] | None = None


# Port of RateLimitingQueueConfig (the untyped alias of TypedRateLimitingQueueConfig).
RateLimitingQueueConfig = TypedRateLimitingQueueConfig


def new_rate_limiting_queue(rate_limiter: TypedRateLimiter[Any]) -> RateLimitingType[Any]:
    """Port of NewRateLimitingQueue: an unnamed rate-limited queue without metrics.

    Go twin: NewRateLimitingQueue (rate_limiting_queue.go).
    """
    return new_rate_limiting_queue_with_config(rate_limiter, RateLimitingQueueConfig())


def new_typed_rate_limiting_queue(rate_limiter: TypedRateLimiter[T]) -> RateLimitingType[T]:
    """Port of NewTypedRateLimitingQueue: an unnamed rate-limited queue without metrics.

    Go twin: NewTypedRateLimitingQueue (rate_limiting_queue.go).
    """
    return new_typed_rate_limiting_queue_with_config(rate_limiter, TypedRateLimitingQueueConfig())


def new_rate_limiting_queue_with_config(
    rate_limiter: TypedRateLimiter[Any], config: RateLimitingQueueConfig[Any]
) -> RateLimitingType[Any]:
    """Port of NewRateLimitingQueueWithConfig (rate_limiting_queue.go)."""
    return new_typed_rate_limiting_queue_with_config(rate_limiter, config)


def new_typed_rate_limiting_queue_with_config(
    rate_limiter: TypedRateLimiter[T], config: TypedRateLimitingQueueConfig[T]
) -> RateLimitingType[T]:
    """Port of NewTypedRateLimitingQueueWithConfig: fill defaults and wrap the delaying queue.

    Go twin: NewTypedRateLimitingQueueWithConfig (rate_limiting_queue.go).
    """
    clock: Clock = config.clock if config.clock is not None else RealClock()
    delaying_queue = config.delaying_queue
    if delaying_queue is None:
        delaying_queue = new_typed_delaying_queue_with_config(
            TypedDelayingQueueConfig(
                name=config.name,
                metrics_provider=config.metrics_provider,
                clock=clock,
            )
        )
    return RateLimitingType(delaying_queue, rate_limiter)


def new_named_rate_limiting_queue(
    rate_limiter: TypedRateLimiter[Any], name: str
) -> RateLimitingType[Any]:
    """Port of NewNamedRateLimitingQueue (rate_limiting_queue.go)."""
    return new_rate_limiting_queue_with_config(rate_limiter, RateLimitingQueueConfig(name=name))


def new_rate_limiting_queue_with_delaying_interface(
    di: DelayingInterface, rate_limiter: TypedRateLimiter[Any]
) -> RateLimitingType[Any]:
    """Port of NewRateLimitingQueueWithDelayingInterface (rate_limiting_queue.go)."""
    return new_rate_limiting_queue_with_config(
        rate_limiter, RateLimitingQueueConfig(delaying_queue=di)
    )


class RateLimitingType(Generic[T]):
    """Port of rateLimitingType: a delaying queue plus the rate limiter that paces requeues.

    The delaying queue's methods are exposed directly (Go's interface embedding).
    """

    add: Callable[[T], None]
    len: Callable[[], int]
    get: Callable[[], tuple[T, bool]]
    done: Callable[[T], None]
    shut_down: Callable[[], None]
    shut_down_with_drain: Callable[[], None]
    shutting_down: Callable[[], bool]
    add_after: Callable[[T, float], None]

    def __init__(
        self, delaying_queue: TypedDelayingInterface[T], rate_limiter: TypedRateLimiter[T]
    ) -> None:
        self._delaying_queue = delaying_queue
        self.add = delaying_queue.add
        self.len = delaying_queue.len
        self.get = delaying_queue.get
        self.done = delaying_queue.done
        self.shut_down = delaying_queue.shut_down
        self.shut_down_with_drain = delaying_queue.shut_down_with_drain
        self.shutting_down = delaying_queue.shutting_down
        self.add_after = delaying_queue.add_after
        self._rate_limiter = rate_limiter

    def __len__(self) -> int:
        """Same as ``len()``."""
        return self._delaying_queue.len()

    def add_rate_limited(self, item: T) -> None:
        """Port of rateLimitingType.AddRateLimited: add after the limiter's delay.

        Go twin: rateLimitingType.AddRateLimited (rate_limiting_queue.go).
        """
        self._delaying_queue.add_after(item, self._rate_limiter.when(item))

    def num_requeues(self, item: T) -> int:
        """Port of rateLimitingType.NumRequeues: the limiter's failure count for ``item``.

        Go twin: rateLimitingType.NumRequeues (rate_limiting_queue.go).
        """
        return self._rate_limiter.num_requeues(item)

    def forget(self, item: T) -> None:
        """Port of rateLimitingType.Forget: the limiter stops tracking ``item``.

        Go twin: rateLimitingType.Forget (rate_limiting_queue.go).
        """
        self._rate_limiter.forget(item)
