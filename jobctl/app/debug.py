"""Debugging endpoints installed with ``--profiling`` (default true, as KCM).

KCM's ``NewBaseHandler`` installs apiserver ``routes.Profiling`` (Go's ``net/http/pprof``
under ``/debug/pprof/``) and ``routes.DebugFlags`` with ``/debug/flags/v`` (component-base
``logs.GlogSetter``). The Python analogues:

- ``/debug/pprof/goroutine`` (any ``debug=`` value): the stack of every thread, the
  answer to "what is it doing now?" that ``goroutine?debug=2`` gives for Go;
- ``/debug/pprof/``: an index naming the profiles served (only ``goroutine``: CPU, heap
  and trace profiles have no dependency-free Python analogue);
- ``/debug/flags/v``: ``PUT`` a non-negative integer to change the ``-v`` verbosity at
  run time (same answer and errors as ``StringFlagPutHandler``); jobctl also answers
  ``GET`` with the current value, which upstream refuses with 406.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable

# (status, content type, body)
Response = tuple[int, str, bytes]

_TEXT = "text/plain; charset=utf-8"
PPROF_PREFIX = "/debug/pprof"
FLAGS_V_PATH = "/debug/flags/v"

_INDEX = (
    "/debug/pprof/\n\n"
    "Types of profiles available:\n"
    "goroutine: Stack traces of all current threads (jobctl: Python threads)\n"
)


def thread_stacks() -> str:
    """Every live thread's stack, innermost call last, like a goroutine dump."""
    frames = sys._current_frames()
    threads = {t.ident: t for t in threading.enumerate()}
    parts: list[str] = []
    for ident, frame in sorted(frames.items(), key=lambda item: item[0]):
        thread = threads.get(ident)
        name = thread.name if thread is not None else "unknown"
        daemon = " daemon" if thread is not None and thread.daemon else ""
        stack = "".join(traceback.format_stack(frame))
        parts.append(f'thread {ident} "{name}"{daemon}:\n{stack}')
    return f"{len(parts)} threads\n\n" + "\n".join(parts)


def pprof(path: str) -> Response:
    """The ``/debug/pprof`` routes."""
    if path in (PPROF_PREFIX, PPROF_PREFIX + "/"):
        return 200, _TEXT, _INDEX.encode()
    if path == PPROF_PREFIX + "/goroutine":
        return 200, _TEXT, thread_stacks().encode()
    return 404, _TEXT, b"Unknown profile\n"


def flags_v(
    method: str,
    body: bytes,
    get: Callable[[], int],
    set_: Callable[[int], None],
) -> Response:
    """Port of routes.StringFlagPutHandler(logs.GlogSetter), plus GET."""
    if method == "PUT":
        text = body.decode("utf-8", "replace")
        if not text.isascii() or not text.isdigit() or int(text) >= 1 << 32:
            return (
                400,
                "text/plain",
                f'strconv.ParseUint: parsing "{text}": invalid syntax\n'.encode(),
            )
        set_(int(text))
        return 200, "text/plain", f"successfully set klog.logging.verbosity to {text}\n".encode()
    if method == "GET":
        return 200, "text/plain", f"{get()}\n".encode()
    return 406, "text/plain", b"unsupported http method\n"
