"""Client-side rate limiting: port of k8s.io/client-go/util/flowcontrol/throttle.go.

The bucket is ``jobctl.workqueue.token_bucket.TokenBucket`` (the port of
golang.org/x/time/rate's ``Limiter``): it holds up to ``burst`` tokens, starts full and
refills at ``qps`` tokens per second. Every "now" is read from the clock given here, so
tests drive it with ``FakeClock`` (or any ``PassiveClock`` for the passive limiter).

jobctl uses it for the real clientset (every request takes a token, as client-go's rest
client does through ``Request.tryThrottle``) and for the event spam filter
(``EventSourceObjectSpamFilter``, a passive limiter that only calls ``try_accept``).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from jobctl.client.deadline import DeadlineExceededError
from jobctl.k8s_libs.clock import Clock, PassiveClock, RealClock
from jobctl.workqueue.token_bucket import INF_DURATION, TokenBucket


class PassiveRateLimiter(Protocol):
    """Port of flowcontrol.PassiveRateLimiter."""

    def try_accept(self) -> bool: ...

    def stop(self) -> None: ...

    def qps(self) -> float: ...


class RateLimiter(PassiveRateLimiter, Protocol):
    """Port of flowcontrol.RateLimiter: also blocks until a token is free."""

    def accept(self) -> None: ...

    def wait(self, deadline: float | None = None) -> None:
        """Port of RateLimiter.Wait(ctx): ``deadline`` is on the ``time.monotonic()`` clock.

        Raises ``DeadlineExceededError`` at once, taking no token, when the token would
        only be granted after the deadline.
        """
        ...


class TokenBucketPassiveRateLimiter:
    """Port of tokenBucketPassiveRateLimiter: ``try_accept`` against a token bucket."""

    def __init__(self, qps: float, burst: int, clock: PassiveClock) -> None:
        # Only the explicit-time methods of the bucket are used, so its own clock is unused.
        self._limiter = TokenBucket(qps, burst)
        self._qps = qps
        self._clock = clock

    def stop(self) -> None:
        """Port of tokenBucketPassiveRateLimiter.Stop (nothing to release)."""

    def qps(self) -> float:
        """Port of tokenBucketPassiveRateLimiter.QPS."""
        return self._qps

    def try_accept(self) -> bool:
        """Port of tokenBucketPassiveRateLimiter.TryAccept."""
        return self._limiter.allow_n(self._clock.now(), 1)


class TokenBucketRateLimiter(TokenBucketPassiveRateLimiter):
    """Port of tokenBucketRateLimiter: adds a blocking ``accept``."""

    def __init__(self, qps: float, burst: int, clock: Clock) -> None:
        super().__init__(qps, burst, clock)
        self._sleeper = clock

    def accept(self) -> None:
        """Port of tokenBucketRateLimiter.Accept: reserve a token, sleep until it is due."""
        now = self._sleeper.now()
        delay = self._limiter.reserve_n(now, 1).delay_from(now)
        if delay == INF_DURATION:
            # Go sleeps for InfDuration here (burst < 1 or qps 0): block for good.
            threading.Event().wait()
            return
        self._sleeper.sleep(delay)

    def wait(self, deadline: float | None = None) -> None:
        """Port of tokenBucketRateLimiter.Wait: rate.Limiter.Wait under a context deadline.

        As Go's limiter, the token is reserved only if it is due by the deadline;
        otherwise nothing is taken and the error is raised at once.
        """
        if deadline is None:
            self.accept()
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceededError("client rate limiter: the deadline has passed")
        now = self._sleeper.now()
        # The bucket's reserveN with a maximum wait, as Limiter.Wait calls it.
        reservation = self._limiter._reserve_n(now, 1, left)
        if not reservation.ok():
            raise DeadlineExceededError("rate: Wait(n=1) would exceed context deadline")
        delay = reservation.delay_from(now)
        if delay > 0:
            self._sleeper.sleep(delay)


def new_token_bucket_rate_limiter(qps: float, burst: int) -> TokenBucketRateLimiter:
    """Port of NewTokenBucketRateLimiter (real clock)."""
    return TokenBucketRateLimiter(qps, burst, RealClock())


def new_token_bucket_passive_rate_limiter(qps: float, burst: int) -> TokenBucketPassiveRateLimiter:
    """Port of NewTokenBucketPassiveRateLimiter (real clock)."""
    return TokenBucketPassiveRateLimiter(qps, burst, RealClock())


def new_token_bucket_rate_limiter_with_clock(
    qps: float, burst: int, clock: Clock
) -> TokenBucketRateLimiter:
    """Port of NewTokenBucketRateLimiterWithClock."""
    return TokenBucketRateLimiter(qps, burst, clock)


def new_token_bucket_passive_rate_limiter_with_clock(
    qps: float, burst: int, clock: PassiveClock
) -> TokenBucketPassiveRateLimiter:
    """Port of NewTokenBucketPassiveRateLimiterWithClock."""
    return TokenBucketPassiveRateLimiter(qps, burst, clock)


class FakeAlwaysRateLimiter:
    """Port of fakeAlwaysRateLimiter: every request passes."""

    def try_accept(self) -> bool:
        return True

    def stop(self) -> None:
        pass

    def accept(self) -> None:
        pass

    def wait(self, deadline: float | None = None) -> None:
        pass

    def qps(self) -> float:
        return 1.0


class FakeNeverRateLimiter:
    """Port of fakeNeverRateLimiter: nothing passes; ``accept`` blocks until ``stop``."""

    def __init__(self) -> None:
        self._stopped = threading.Event()

    def try_accept(self) -> bool:
        return False

    def stop(self) -> None:
        self._stopped.set()

    def accept(self) -> None:
        self._stopped.wait()

    def wait(self, deadline: float | None = None) -> None:
        """Never grants a token: fails at the deadline (or once stopped)."""
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        self._stopped.wait(timeout)
        raise DeadlineExceededError("fake never rate limiter: no token")

    def qps(self) -> float:
        return 1.0
