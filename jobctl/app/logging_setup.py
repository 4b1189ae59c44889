"""Logging for the jobctl binary: klog-like text or JSON lines on stderr.

Stands in for k8s.io/component-base/logs (``-v`` and ``--logging-format``). klog's
verbosity ``-v=N`` shows messages logged at ``V(n)`` for ``n <= N``; here library code
logs through ``logging`` and verbosity maps onto logging levels with ``level_for``:

======  =====================  ==========================================
``V``   logging level          typical use upstream
======  =====================  ==========================================
0-1     INFO (20)              always shown
2-3     15                     steady-state detail
4-5     DEBUG (10)             debugging
6+      5                      tracing (requests, every event)
======  =====================  ==========================================
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

V2_LEVEL = 15
TRACE_LEVEL = 5

_HANDLER_NAME = "jobctl-stderr"


def level_for(verbosity: int) -> int:
    """The logging level a klog ``V(verbosity)`` message maps to (and the threshold
    that ``-v=verbosity`` sets)."""
    if verbosity <= 1:
        return logging.INFO
    if verbosity <= 3:
        return V2_LEVEL
    if verbosity <= 5:
        return logging.DEBUG
    return TRACE_LEVEL


_SEVERITY = {
    logging.CRITICAL: "F",
    logging.ERROR: "E",
    logging.WARNING: "W",
}


class KlogTextFormatter(logging.Formatter):
    """klog's header: ``Lmmdd hh:mm:ss.uuuuuu threadid file:line] message``."""

    def format(self, record: logging.LogRecord) -> str:
        severity = "I"
        for level, letter in _SEVERITY.items():
            if record.levelno >= level:
                severity = letter
                break
        ts = datetime.fromtimestamp(record.created, UTC)
        header = (
            f"{severity}{ts:%m%d %H:%M:%S}.{ts.microsecond:06d} "
            f"{os.getpid():7d} {record.filename}:{record.lineno}]"
        )
        text = f"{header} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the keys of component-base's JSON format
    (``ts`` in float seconds, ``caller``, ``msg``, ``v``; ``err`` for errors)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": round(record.created, 6),
            "caller": f"{record.module}.py:{record.lineno}",
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.levelno >= logging.ERROR:
            doc["level"] = "error"
        elif record.levelno >= logging.WARNING:
            doc["level"] = "warning"
        else:
            doc["v"] = _verbosity_of_level(record.levelno)
        if record.exc_info:
            doc["err"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def _verbosity_of_level(levelno: int) -> int:
    if levelno >= logging.INFO:
        return 0
    if levelno >= V2_LEVEL:
        return 2
    if levelno >= logging.DEBUG:
        return 4
    return 6


def setup_logging(verbosity: int, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Install one stderr handler on the root logger with the chosen format."""
    logging.addLevelName(V2_LEVEL, "V2")
    logging.addLevelName(TRACE_LEVEL, "TRACE")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(KlogTextFormatter())
    root = logging.getLogger()
    # Replace only a handler installed here before (other handlers are left alone).
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_for(verbosity))
    if verbosity < 6:
        handler.addFilter(_quiet_http_client)


def _quiet_http_client(record: logging.LogRecord) -> bool:
    """Drop urllib3's warnings about retried connections (the callers report the
    failures that matter). A handler filter, because the official client resets the
    urllib3 logger level whenever a Configuration is created."""
    return not (record.name.startswith("urllib3") and record.levelno < logging.ERROR)
