"""Per-call deadlines: the part of Go's ``context.WithTimeout`` that client calls honour.

client-go requests run under a context; a caller bounds them with
``context.WithTimeout``. The clientset here has no context parameter, so a caller
bounds the requests it makes inside ``with request_deadline(seconds):``; the transport
reads ``remaining()`` before each request and never waits on the server longer than
what is left (and fails at once when nothing is left). Deadlines nest: the inner one
can only shorten the outer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DEADLINE: ContextVar[float | None] = ContextVar("jobctl_request_deadline", default=None)


class DeadlineExceededError(TimeoutError):
    """The request's deadline passed (Go's ``context.DeadlineExceeded``)."""


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Bound every request made in this block (in this thread) to ``seconds`` from now."""
    new = time.monotonic() + max(0.0, seconds)
    outer = _DEADLINE.get()
    token = _DEADLINE.set(new if outer is None else min(outer, new))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (never negative), or ``None`` without one."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def current_deadline() -> float | None:
    """The current block's deadline on the ``time.monotonic()`` clock, or ``None``."""
    return _DEADLINE.get()
