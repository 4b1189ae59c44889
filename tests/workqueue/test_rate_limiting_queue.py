"""Port of client-go util/workqueue/rate_limiting_queue_test.go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.k8s_libs.clock import FakeClock
from jobctl.workqueue.default_rate_limiters import (
    new_item_exponential_failure_rate_limiter,
    new_typed_item_exponential_failure_rate_limiter,
)
from jobctl.workqueue.delaying_queue import DelayingType
from jobctl.workqueue.metrics import _new_retry_metrics
from jobctl.workqueue.queue import new
from jobctl.workqueue.rate_limiting_queue import (
    RateLimitingQueueConfig,
    RateLimitingType,
    TypedRateLimitingInterface,
    TypedRateLimitingQueueConfig,
    new_rate_limiting_queue_with_config,
    new_typed_rate_limiting_queue_with_config,
)


def test_rate_limiting_queue() -> None:
    limiter = new_item_exponential_failure_rate_limiter(0.001, 1.0)
    fake_clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    # As upstream, a delaying queue whose waiting loop never runs, so the hand-offs
    # can be read straight off its channel (here, its deque).
    delaying_queue: DelayingType[Any] = DelayingType(
        new(), fake_clock, _new_retry_metrics("", None)
    )
    queue = RateLimitingType(delaying_queue, limiter)

    queue.add_rate_limited("one")
    wait_entry = delaying_queue._waiting_for_add.popleft()
    assert wait_entry.ready_at - fake_clock.now() == timedelta(milliseconds=1)
    queue.add_rate_limited("one")
    wait_entry = delaying_queue._waiting_for_add.popleft()
    assert wait_entry.ready_at - fake_clock.now() == timedelta(milliseconds=2)
    assert queue.num_requeues("one") == 2

    queue.add_rate_limited("two")
    wait_entry = delaying_queue._waiting_for_add.popleft()
    assert wait_entry.ready_at - fake_clock.now() == timedelta(milliseconds=1)
    queue.add_rate_limited("two")
    wait_entry = delaying_queue._waiting_for_add.popleft()
    assert wait_entry.ready_at - fake_clock.now() == timedelta(milliseconds=2)

    queue.forget("one")
    assert queue.num_requeues("one") == 0
    queue.add_rate_limited("one")
    wait_entry = delaying_queue._waiting_for_add.popleft()
    assert wait_entry.ready_at - fake_clock.now() == timedelta(milliseconds=1)
    assert not delaying_queue._waiting_for_add


def test_rate_limited_requeue_end_to_end() -> None:
    """Not upstream: a failing item comes back after the limiter's delay on the fake clock."""
    fake_clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    queue: TypedRateLimitingInterface[str] = new_typed_rate_limiting_queue_with_config(
        new_typed_item_exponential_failure_rate_limiter(0.005, 1000.0),
        TypedRateLimitingQueueConfig(name="", clock=fake_clock),
    )
    assert isinstance(queue, RateLimitingType)
    queue.add("job")
    key, shutdown = queue.get()
    assert (key, shutdown) == ("job", False)
    queue.add_rate_limited(key)
    queue.done(key)
    assert queue.len() == 0
    assert queue.num_requeues("job") == 1

    # The waiting loop is the one waiter once it holds the item; 5ms later it is back.
    delaying = queue._delaying_queue
    assert isinstance(delaying, DelayingType)
    with delaying._cond:
        assert delaying._cond.wait_for(
            lambda: delaying._loop_waiting and not delaying._waiting_for_add, 10
        )
    fake_clock.step(0.004)
    assert queue.len() == 0
    fake_clock.step(0.001)
    with delaying._cond:
        assert delaying._cond.wait_for(lambda: queue.len() == 1, 10)
    key, _ = queue.get()
    queue.forget(key)
    queue.done(key)
    assert queue.num_requeues("job") == 0
    queue.shut_down()
    assert queue.shutting_down()
    assert queue.get() == (None, True)


def test_untyped_constructor_with_config() -> None:
    """Not upstream: the untyped constructor passes its config through."""
    fake_clock = FakeClock()
    queue = new_rate_limiting_queue_with_config(
        new_item_exponential_failure_rate_limiter(0.001, 1.0),
        RateLimitingQueueConfig(name="", clock=fake_clock),
    )
    queue.add_after("x", 0)
    assert len(queue) == 1
    queue.shut_down_with_drain()
    assert queue.shutting_down()
