"""A token bucket on the injected clock.

Ports golang.org/x/time/rate.Limiter (v0.15.0) with its Reserve/Delay/Wait semantics:
the bucket holds up to ``burst`` tokens and refills at ``qps`` tokens per second; a
reservation takes tokens now, may drive the count negative, and says how long the
caller must wait before acting; cancelling a reservation that has not come due gives
back the tokens no later reservation depends on. Every "now" comes from the injected
``Clock``, so tests move time with ``FakeClock`` instead of sleeping.

Used by the workqueue's ``BucketRateLimiter`` and by the client's QPS limiter
(``reserve_delay``, ``try_accept``, ``wait``).
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

from jobctl.k8s_libs.clock import Clock, RealClock

# Port of rate.Inf: a rate that allows every event.
INF = math.inf
# Port of rate.InfDuration: the delay of a reservation that can never be met.
INF_DURATION = math.inf

# Stand-in for a time infinitely far in the future.
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

# How often a blocked ``wait`` looks at its stop event (real time; only affects how fast
# a cancelled wait returns, never when a granted one does).
_STOP_POLL_INTERVAL = 0.05


def every(interval: float) -> float:
    """Port of rate.Every: the rate of one event per ``interval`` seconds."""
    if interval <= 0:
        return INF
    return 1 / interval


def _duration_from_tokens(limit: float, tokens: float) -> float:
    """Port of Limit.durationFromTokens: seconds needed to accumulate ``tokens``."""
    if limit <= 0:
        return INF_DURATION
    return tokens / limit


def _tokens_from_duration(limit: float, seconds: float) -> float:
    """Port of Limit.tokensFromDuration: tokens accumulated over ``seconds``."""
    if limit <= 0:
        return 0.0
    return seconds * limit


def _add(t: datetime, seconds: float) -> datetime:
    if seconds == INF_DURATION or t == _FAR_FUTURE:
        return _FAR_FUTURE
    try:
        return t + timedelta(seconds=seconds)
    except OverflowError:
        return _FAR_FUTURE if seconds > 0 else datetime.min.replace(tzinfo=UTC)


class Reservation:
    """Port of rate.Reservation: tokens taken from a bucket and when they may be used."""

    __slots__ = ("_lim", "_limit", "_ok", "_time_to_act", "_tokens")

    def __init__(
        self,
        ok: bool,
        lim: TokenBucket,
        tokens: int = 0,
        time_to_act: datetime | None = None,
        limit: float = 0.0,
    ) -> None:
        self._ok = ok
        self._lim = lim
        self._tokens = tokens
        self._time_to_act = time_to_act
        self._limit = limit

    def ok(self) -> bool:
        """Port of Reservation.OK: could the bucket grant the tokens at all?"""
        return self._ok

    def time_to_act(self) -> datetime | None:
        """When the reserved tokens may be used (None if the reservation failed)."""
        return self._time_to_act if self._ok else None

    def delay(self) -> float:
        """Port of Reservation.Delay: seconds to wait from the clock's now."""
        return self.delay_from(self._lim._clock.now())

    def delay_from(self, t: datetime) -> float:
        """Port of Reservation.DelayFrom: seconds from ``t`` until the tokens may be used."""
        if not self._ok or self._time_to_act is None:
            return INF_DURATION
        if self._time_to_act == _FAR_FUTURE:
            return INF_DURATION
        delay = (self._time_to_act - t).total_seconds()
        if delay < 0:
            return 0.0
        return delay

    def cancel(self) -> None:
        """Port of Reservation.Cancel: cancel_at the clock's now."""
        self.cancel_at(self._lim._clock.now())

    def cancel_at(self, t: datetime) -> None:
        """Port of Reservation.CancelAt: give back what later reservations do not rely on."""
        if not self._ok:
            return
        lim = self._lim
        with lim._lock:
            time_to_act = self._time_to_act
            if lim._limit == INF or self._tokens == 0 or time_to_act is None or time_to_act < t:
                return
            last_event = lim._last_event if lim._last_event is not None else time_to_act
            # Tokens reserved after this one keep theirs; only the rest come back.
            restore_tokens = self._tokens - _tokens_from_duration(
                self._limit, (last_event - time_to_act).total_seconds()
            )
            if restore_tokens <= 0:
                return
            tokens = lim._advance(t) + restore_tokens
            burst = float(lim._burst)
            if tokens > burst:
                tokens = burst
            lim._last = t
            lim._tokens = tokens
            if time_to_act == lim._last_event:
                prev_event = _add(
                    time_to_act, _duration_from_tokens(self._limit, float(-self._tokens))
                )
                if not prev_event < t:
                    lim._last_event = prev_event


class TokenBucket:
    """Port of rate.Limiter, reading time from an injected clock.

    ``qps`` is the refill rate in tokens per second (``INF`` allows everything), ``burst``
    the bucket size. The bucket starts full.
    """

    __slots__ = ("_burst", "_clock", "_last", "_last_event", "_limit", "_lock", "_tokens")

    def __init__(self, qps: float, burst: int, clock: Clock | None = None) -> None:
        self._lock = threading.Lock()
        self._clock: Clock = clock if clock is not None else RealClock()
        self._limit = float(qps)
        self._burst = burst
        self._tokens = float(burst)
        # None stands for Go's zero time: long enough ago that the bucket is full.
        self._last: datetime | None = None
        self._last_event: datetime | None = None

    def limit(self) -> float:
        """Port of Limiter.Limit: tokens per second."""
        with self._lock:
            return self._limit

    def qps(self) -> float:
        """The refill rate (client-go's RateLimiter.QPS)."""
        return self.limit()

    def burst(self) -> int:
        """Port of Limiter.Burst: the bucket size."""
        with self._lock:
            return self._burst

    def tokens_at(self, t: datetime) -> float:
        """Port of Limiter.TokensAt: tokens available at ``t`` (no state change)."""
        with self._lock:
            return self._advance(t)

    def tokens(self) -> float:
        """Port of Limiter.Tokens: tokens available now."""
        return self.tokens_at(self._clock.now())

    def allow(self) -> bool:
        """Port of Limiter.Allow: take one token now if there is one."""
        return self.allow_n(self._clock.now(), 1)

    def allow_n(self, t: datetime, n: int) -> bool:
        """Port of Limiter.AllowN: take ``n`` tokens at ``t`` only if no wait is needed."""
        return self._reserve_n(t, n, 0.0).ok()

    def reserve(self) -> Reservation:
        """Port of Limiter.Reserve: reserve one token now."""
        return self.reserve_n(self._clock.now(), 1)

    def reserve_n(self, t: datetime, n: int) -> Reservation:
        """Port of Limiter.ReserveN: reserve ``n`` tokens at ``t``, however long the wait."""
        return self._reserve_n(t, n, INF_DURATION)

    def reserve_delay(self) -> float:
        """Reserve one token now and return the seconds to wait before using it.

        The workqueue's BucketRateLimiter.When and client-go's Accept are built on this.
        """
        now = self._clock.now()
        return self._reserve_n(now, 1, INF_DURATION).delay_from(now)

    def try_accept(self) -> bool:
        """Take a token if one is available right now (client-go's TryAccept)."""
        return self._reserve_n(self._clock.now(), 1, 0.0).ok()

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Port of Limiter.Wait: block until a token is granted; False if ``stop`` is set."""
        return self.wait_n(stop, 1)

    def wait_n(self, stop: threading.Event | None, n: int) -> bool:
        """Port of Limiter.WaitN: block on the clock until ``n`` tokens are granted.

        Returns False, giving the reservation back, if ``stop`` is or becomes set first.
        Raises ``ValueError`` if ``n`` exceeds the burst of a finite-rate bucket.
        """
        with self._lock:
            burst = self._burst
            limit = self._limit
        if n > burst and limit != INF:
            raise ValueError(f"rate: Wait(n={n}) exceeds limiter's burst {burst}")
        if stop is not None and stop.is_set():
            return False
        t = self._clock.now()
        r = self._reserve_n(t, n, INF_DURATION)
        if not r.ok():
            raise ValueError(f"rate: Wait(n={n}) can never be satisfied")
        delay = r.delay_from(t)
        if delay == 0:
            return True
        fired = threading.Event()
        timer = self._clock.after_func(delay, fired.set) if delay != INF_DURATION else None
        try:
            if stop is None:
                fired.wait()
                return True
            while not fired.wait(_STOP_POLL_INTERVAL):
                if stop.is_set():
                    r.cancel()
                    return False
            return True
        finally:
            if timer is not None:
                timer.stop()

    def set_limit(self, new_limit: float) -> None:
        """Port of Limiter.SetLimit: change the rate from now on."""
        self.set_limit_at(self._clock.now(), new_limit)

    def set_limit_at(self, t: datetime, new_limit: float) -> None:
        """Port of Limiter.SetLimitAt: change the rate as of ``t``."""
        with self._lock:
            tokens = self._advance(t)
            self._last = t
            self._tokens = tokens
            self._limit = float(new_limit)

    def set_burst(self, new_burst: int) -> None:
        """Port of Limiter.SetBurst: change the bucket size from now on."""
        self.set_burst_at(self._clock.now(), new_burst)

    def set_burst_at(self, t: datetime, new_burst: int) -> None:
        """Port of Limiter.SetBurstAt: change the bucket size as of ``t``."""
        with self._lock:
            tokens = self._advance(t)
            self._last = t
            self._tokens = tokens
            self._burst = new_burst

    def _reserve_n(self, t: datetime, n: int, max_future_reserve: float) -> Reservation:
        """Port of Limiter.reserveN: take ``n`` tokens at ``t`` unless the wait is too long."""
        with self._lock:
            limit = self._limit
            if limit == INF:
                return Reservation(True, self, n, t)
            tokens = self._advance(t) - n
            wait_duration = 0.0
            if tokens < 0:
                wait_duration = _duration_from_tokens(limit, -tokens)
            ok = n <= self._burst and wait_duration <= max_future_reserve
            if not ok:
                return Reservation(False, self, limit=limit)
            time_to_act = _add(t, wait_duration)
            self._last = t
            self._tokens = tokens
            self._last_event = time_to_act
            return Reservation(True, self, n, time_to_act, limit)

    def _advance(self, t: datetime) -> float:
        """Port of Limiter.advance: tokens at ``t`` after refilling (no state change)."""
        last = self._last
        burst = float(self._burst)
        if last is None:
            # Go's zero time: ages ago, so any positive rate has refilled the bucket.
            if self._limit > 0:
                return burst
            return min(self._tokens, burst)
        if t < last:
            last = t
        tokens = self._tokens + _tokens_from_duration(self._limit, (t - last).total_seconds())
        if tokens > burst:
            tokens = burst
        return tokens
