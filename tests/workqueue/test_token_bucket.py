"""Tests for jobctl.workqueue.token_bucket: port of golang.org/x/time/rate rate_test.go.

Upstream's fake ``testTime`` becomes ``FakeClock``; explicit instants are fixed
datetimes ``t0``..``t9`` spaced by ``d`` = 100ms, as upstream.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from jobctl.k8s_libs.clock import FakeClock
from jobctl.workqueue.token_bucket import (
    INF,
    INF_DURATION,
    Reservation,
    TokenBucket,
    every,
)

TIMEOUT = 10.0

D = 0.1
T0 = datetime(2026, 2, 1, 10, 0, 0, tzinfo=UTC)


def _t(n: int) -> datetime:
    return T0 + timedelta(seconds=n * D)


T1, T2, T3, T4, T5, T9 = _t(1), _t(2), _t(3), _t(4), _t(5), _t(9)


def new_limiter(r: float, b: int, clock: FakeClock | None = None) -> TokenBucket:
    return TokenBucket(r, b, clock if clock is not None else FakeClock(T0))


@pytest.mark.parametrize(
    ("interval", "lim"),
    [
        (0, INF),
        (-1, INF),
        (1e-9, 1e9),
        (1e-6, 1e6),
        (1e-3, 1e3),
        (10e-3, 100),
        (100e-3, 10),
        (1.0, 1),
        (2.0, 0.5),
        (2.5, 0.4),
        (4.0, 0.25),
        (10.0, 0.1),
    ],
)
def test_every(interval: float, lim: float) -> None:
    got = every(interval)
    assert got == lim or abs(got - lim) < 1e-9 * lim


@dataclass
class Allow:
    t: datetime
    toks: float
    n: int
    ok: bool


def run(lim: TokenBucket, allows: list[Allow]) -> None:
    for i, allow in enumerate(allows):
        toks = lim.tokens_at(allow.t)
        assert toks == allow.toks, f"step {i}: tokens_at = {toks} want {allow.toks}"
        ok = lim.allow_n(allow.t, allow.n)
        assert ok == allow.ok, f"step {i}: allow_n = {ok} want {allow.ok}"


def test_limiter_burst1() -> None:
    run(
        new_limiter(10, 1),
        [
            Allow(T0, 1, 1, True),
            Allow(T0, 0, 1, False),
            Allow(T0, 0, 1, False),
            Allow(T1, 1, 1, True),
            Allow(T1, 0, 1, False),
            Allow(T1, 0, 1, False),
            Allow(T2, 1, 2, False),  # burst size is 1, so n=2 always fails
            Allow(T2, 1, 1, True),
            Allow(T2, 0, 1, False),
        ],
    )


def test_limiter_burst3() -> None:
    run(
        new_limiter(10, 3),
        [
            Allow(T0, 3, 2, True),
            Allow(T0, 1, 2, False),
            Allow(T0, 1, 1, True),
            Allow(T0, 0, 1, False),
            Allow(T1, 1, 4, False),
            Allow(T2, 2, 1, True),
            Allow(T3, 2, 1, True),
            Allow(T4, 2, 1, True),
            Allow(T4, 1, 1, True),
            Allow(T4, 0, 1, False),
            Allow(T4, 0, 1, False),
            Allow(T9, 3, 3, True),
            Allow(T9, 0, 0, True),
        ],
    )


def test_limiter_jump_backwards() -> None:
    run(
        new_limiter(10, 3),
        [
            Allow(T1, 3, 1, True),  # start at t1
            Allow(T0, 2, 1, True),  # jump back to t0, two tokens remain
            Allow(T0, 1, 1, True),
            Allow(T0, 0, 1, False),
            Allow(T0, 0, 1, False),
            Allow(T1, 1, 1, True),  # got a token
            Allow(T1, 0, 1, False),
            Allow(T1, 0, 1, False),
            Allow(T2, 1, 1, True),  # got another token
            Allow(T2, 0, 1, False),
            Allow(T2, 0, 1, False),
        ],
    )


def test_limiter_no_truncation_errors() -> None:
    assert new_limiter(0.7692307692307693, 1).allow()


@dataclass
class Request:
    t: datetime
    n: int
    act: datetime | None
    ok: bool


def d_from_duration(seconds: float) -> int:
    """Port of dFromDuration: seconds to the nearest multiple of d."""
    return int((seconds + D / 2) // D)


def d_since(t: datetime | None) -> int:
    """Port of dSince: multiples of d since t0."""
    assert t is not None
    return d_from_duration((t - T0).total_seconds())


def run_reserve(lim: TokenBucket, req: Request) -> Reservation:
    return run_reserve_max(lim, req, INF_DURATION)


def run_reserve_max(lim: TokenBucket, req: Request, max_reserve: float) -> Reservation:
    r = lim._reserve_n(req.t, req.n, max_reserve)
    assert r.ok() == req.ok, f"reserve_n(t{d_since(req.t)}, {req.n}) ok={r.ok()} want {req.ok}"
    if r.ok():
        assert d_since(r.time_to_act()) == d_since(req.act), (
            f"reserve_n(t{d_since(req.t)}, {req.n}) acts at t{d_since(r.time_to_act())} "
            f"want t{d_since(req.act)}"
        )
    return r


def test_simple_reserve() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    run_reserve(lim, Request(T0, 2, T2, True))
    run_reserve(lim, Request(T3, 2, T4, True))


def test_mix() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 3, T1, False))  # n > burst
    run_reserve(lim, Request(T0, 2, T0, True))
    run(lim, [Allow(T1, 1, 2, False)])  # not enough tokens
    run_reserve(lim, Request(T1, 2, T2, True))
    run(lim, [Allow(T1, -1, 1, False)])  # negative tokens
    run(lim, [Allow(T3, 1, 1, True)])


def test_cancel_invalid() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    r = run_reserve(lim, Request(T0, 3, T3, False))
    r.cancel_at(T0)  # no effect
    run_reserve(lim, Request(T0, 2, T2, True))  # no extra tokens


def test_cancel_last() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    r = run_reserve(lim, Request(T0, 2, T2, True))
    r.cancel_at(T1)  # got 2 tokens back
    run_reserve(lim, Request(T1, 2, T2, True))


def test_cancel_too_late() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    r = run_reserve(lim, Request(T0, 2, T2, True))
    r.cancel_at(T3)  # too late: no effect
    run_reserve(lim, Request(T3, 2, T4, True))


def test_cancel0_tokens() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    r = run_reserve(lim, Request(T0, 1, T1, True))
    run_reserve(lim, Request(T0, 1, T2, True))
    r.cancel_at(T0)  # got 0 tokens back
    run_reserve(lim, Request(T0, 1, T3, True))


def test_cancel1_token() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    r = run_reserve(lim, Request(T0, 2, T2, True))
    run_reserve(lim, Request(T0, 1, T3, True))
    r.cancel_at(T2)  # got 1 token back
    run_reserve(lim, Request(T2, 2, T4, True))


def test_cancel_multi() -> None:
    lim = new_limiter(10, 4)
    run_reserve(lim, Request(T0, 4, T0, True))
    r_a = run_reserve(lim, Request(T0, 3, T3, True))
    run_reserve(lim, Request(T0, 1, T4, True))
    r_c = run_reserve(lim, Request(T0, 1, T5, True))
    r_c.cancel_at(T1)  # 1 token back
    r_a.cancel_at(T1)  # 2 tokens back, as if C was never reserved
    run_reserve(lim, Request(T1, 3, T5, True))


def test_reserve_jump_back() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T1, 2, T1, True))  # start at t1
    run_reserve(lim, Request(T0, 1, T1, True))  # should violate Limit,Burst
    run_reserve(lim, Request(T2, 2, T3, True))
    # n=3 exceeds the burst: fails and leaves the state alone.
    run_reserve(lim, Request(T0, 3, None, False))
    run_reserve(lim, Request(T2, 1, T4, True))
    # max_reserve is too short: fails and leaves the state alone.
    run_reserve_max(lim, Request(T0, 2, None, False), D)
    run_reserve(lim, Request(T2, 1, T5, True))


def test_reserve_jump_back_cancel() -> None:
    lim = new_limiter(10, 2)
    run_reserve(lim, Request(T1, 2, T1, True))  # start at t1
    r = run_reserve(lim, Request(T1, 2, T3, True))
    run_reserve(lim, Request(T1, 1, T4, True))
    r.cancel_at(T0)  # cancel at t0, get 1 token back
    run_reserve(lim, Request(T1, 2, T4, True))  # should violate Limit,Burst


def test_reserve_set_limit() -> None:
    lim = new_limiter(5, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    run_reserve(lim, Request(T0, 2, T4, True))
    lim.set_limit_at(T2, 10)
    run_reserve(lim, Request(T2, 1, T4, True))  # violates Limit and Burst


def test_reserve_set_burst() -> None:
    lim = new_limiter(5, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    run_reserve(lim, Request(T0, 2, T4, True))
    lim.set_burst_at(T3, 4)
    run_reserve(lim, Request(T0, 4, T9, True))  # violates Limit and Burst


def test_reserve_set_limit_cancel() -> None:
    lim = new_limiter(5, 2)
    run_reserve(lim, Request(T0, 2, T0, True))
    r = run_reserve(lim, Request(T0, 2, T4, True))
    lim.set_limit_at(T2, 10)
    r.cancel_at(T2)  # 2 tokens back
    run_reserve(lim, Request(T2, 2, T3, True))


def test_reserve_max() -> None:
    lim = new_limiter(10, 2)
    max_t = D
    run_reserve_max(lim, Request(T0, 2, T0, True), max_t)
    run_reserve_max(lim, Request(T0, 1, T1, True), max_t)  # close future
    run_reserve_max(lim, Request(T0, 1, T2, False), max_t)  # too far in the future


@dataclass
class Wait:
    name: str
    stop: threading.Event | None
    n: int
    delay: int  # in multiples of d
    ok: bool


def run_wait(clock: FakeClock, lim: TokenBucket, w: Wait) -> None:
    """Port of runWait: wait_n on the fake clock, stepping it until the wait returns.

    The clock is stepped one d at a time, each time only once the wait is parked on it,
    so the fake time spent is exactly the wait's delay (or the time until ``stop``).
    """
    start = clock.now()
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(lim.wait_n(w.stop, w.n)))
    waiter.start()
    while True:
        waiter.join(0)
        if not waiter.is_alive():
            break
        # Wait until the waiter is parked on the clock (or has returned), then step.
        parked = False
        for _ in range(int(TIMEOUT / 0.01)):
            if clock.has_waiters():
                parked = True
                break
            waiter.join(0.01)
            if not waiter.is_alive():
                break
        if not parked:
            continue
        clock.step(D)
    waiter.join(TIMEOUT)
    assert result == [w.ok], f"{w.name}: got {result} want {w.ok}"
    assert d_from_duration(clock.since(start)) == w.delay, f"{w.name}: wrong delay"


def test_wait_simple() -> None:
    clock = FakeClock(T0)
    lim = new_limiter(10, 3, clock)

    cancelled = threading.Event()
    cancelled.set()
    run_wait(clock, lim, Wait("already-cancelled", cancelled, 1, 0, False))

    with pytest.raises(ValueError, match="exceeds limiter's burst"):
        lim.wait_n(None, 4)

    run_wait(clock, lim, Wait("act-now", None, 2, 0, True))
    run_wait(clock, lim, Wait("act-later", None, 3, 2, True))


def test_wait_cancel() -> None:
    clock = FakeClock(T0)
    lim = new_limiter(10, 3, clock)

    stop = threading.Event()
    run_wait(clock, lim, Wait("act-now", stop, 2, 0, True))  # lim tokens = 1 now

    # Cancel after d of fake time, while a 3-token wait (2d) is parked.
    clock.after_func(D, stop.set)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(lim.wait_n(stop, 3)))
    start = clock.now()
    waiter.start()
    assert clock.wait_for_waiters(2, TIMEOUT)
    clock.step(D)
    waiter.join(TIMEOUT)
    assert not waiter.is_alive()
    assert result == [False]
    assert d_from_duration(clock.since(start)) == 1
    # The three tokens came back: two are available at once.
    assert lim.tokens() == 2
    run_wait(clock, lim, Wait("act-now-after-cancel", None, 2, 0, True))


def test_wait_inf() -> None:
    clock = FakeClock(T0)
    lim = new_limiter(INF, 0, clock)
    run_wait(clock, lim, Wait("exceed-burst-no-error", None, 3, 0, True))


def test_zero_limit() -> None:
    r = new_limiter(0, 1)
    assert r.allow(), "Limit(0, 1) want true when first used"
    assert not r.allow(), "Limit(0, 1) want false when already used"


def test_set_after_zero_limit() -> None:
    clock = FakeClock(T0)
    lim = new_limiter(0, 1, clock)
    # Starts full: the first request passes even at rate 0 ...
    assert lim.allow()
    # ... but nothing refills.
    assert not lim.allow()

    lim.set_limit(10)

    # At 10/s the next token comes in 100ms.
    run_wait(clock, lim, Wait("wait-after-set-nonzero-after-zero", None, 1, 1, True))


def test_tiny_limit() -> None:
    lim = new_limiter(1e-10, 1)
    assert lim.allow(), "Limit(1e-10, 1) want true when first used"
    assert not lim.allow(), "Limit(1e-10, 1) want false when already used"


# --- not upstream: the client-facing helpers ---


def test_reserve_delay_and_try_accept() -> None:
    clock = FakeClock(T0)
    bucket = TokenBucket(qps=5, burst=2, clock=clock)
    assert bucket.qps() == 5
    assert bucket.burst() == 2
    assert bucket.try_accept()
    assert bucket.reserve_delay() == 0
    assert not bucket.try_accept()
    assert bucket.reserve_delay() == pytest.approx(0.2)
    assert bucket.reserve_delay() == pytest.approx(0.4)
    clock.step(0.4)
    assert not bucket.try_accept()
    assert bucket.reserve_delay() == pytest.approx(0.2)
    clock.step(1.0)
    assert bucket.try_accept()


def test_wait_blocks_until_clock_reaches_token() -> None:
    clock = FakeClock(T0)
    bucket = TokenBucket(qps=10, burst=1, clock=clock)
    assert bucket.wait()
    done = threading.Event()

    def wait() -> None:
        if bucket.wait():
            done.set()

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    assert clock.wait_for_waiters(1, TIMEOUT)
    clock.step(0.05)
    assert not done.is_set()
    assert clock.waiter_count() == 1
    clock.step(0.05)
    assert done.wait(TIMEOUT)
    waiter.join(TIMEOUT)


def test_reservation_delay_uses_clock() -> None:
    clock = FakeClock(T0)
    bucket = TokenBucket(qps=1, burst=1, clock=clock)
    assert bucket.reserve().delay() == 0
    r = bucket.reserve()
    assert r.ok()
    assert r.delay() == 1.0
    clock.step(0.25)
    assert r.delay() == 0.75
    r.cancel()
    assert bucket.tokens() == pytest.approx(0.25)
