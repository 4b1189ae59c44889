"""Logging for the jobctl binary: klog text or component-base JSON lines on stderr.

Stands in for k8s.io/component-base/logs (``-v``, ``--logging-format``) and klog's text
output. Structured records written through ``jobctl.k8s_libs.klog`` carry their
key/value pairs, error and verbosity on the record (``klog_kv``, ``klog_err``,
``klog_v``); the formatters here write them as upstream does:

- text (klog ``printS``): ``I1201 23:45:01.123456   12345 file.py:42] "Msg" key="value"``
  with ``err="..."`` first for errors;
- JSON (component-base ``logs/json``, a zap encoder): ``{"ts":<epoch ms as float>,
  "caller":"file.py:42","msg":"Msg","v":4,"key":"value"}``; errors carry no ``v`` and end
  with ``"err":"..."``.

Plain ``logging`` records (printf style) keep their formatted message: unquoted in text,
as klog's ``Infof`` lines are. The verbosity threshold can be changed at run time
(``set_verbosity``, behind ``PUT /debug/flags/v``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

from jobctl.k8s_libs.klog import (
    ERR_ATTR,
    KV_ATTR,
    TRACE_LEVEL,
    V2_LEVEL,
    VERBOSITY_ATTR,
    level_for,
)

__all__ = [
    "TRACE_LEVEL",
    "V2_LEVEL",
    "JSONFormatter",
    "KlogTextFormatter",
    "current_verbosity",
    "go_quote",
    "level_for",
    "set_verbosity",
    "setup_logging",
]

_HANDLER_NAME = "jobctl-stderr"
_MISSING_VALUE = "(MISSING)"

_SEVERITY = {
    logging.CRITICAL: "F",
    logging.ERROR: "E",
    logging.WARNING: "W",
}

# The -v threshold in force (klog's verbosity), changed by set_verbosity.
_verbosity_lock = threading.Lock()
_verbosity = 0


# ---------------------------------------------------------------------------------
# value rendering

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """Go's strconv.Quote: double quotes, Go escapes, printable Unicode kept."""
    out = ['"']
    for ch in text:
        escaped = _GO_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _text_string_value(value: str) -> str:
    """klog's writeStringValue: quoted, or the multi-line ``=<`` block."""
    if "\n" not in value:
        return "=" + go_quote(value)
    lines = value.split("\n")
    body = "".join(f"\t{line}\n" for line in lines[:-1])
    if lines[-1] == "":
        return "=<\n" + body + " >"
    return "=<\n" + body + f"\t{lines[-1]}\n >"


def _plain(value: object) -> object:
    """The JSON-able form of a value (json.Marshal's view of the Go value)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, BaseException):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def _text_value(value: object) -> str:
    """klog's KVFormat for one value (after the key)."""
    if isinstance(value, str):
        return _text_string_value(value)
    if isinstance(value, BaseException):
        return _text_string_value(str(value))
    if isinstance(value, bytes):
        return "=" + go_quote(value.decode("utf-8", "backslashreplace"))
    plain = _plain(value)
    if isinstance(plain, str):  # a Stringer (ObjectRef, NamespacedName, ...)
        return _text_string_value(plain)
    return "=" + json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


def _pairs(kv: tuple[object, ...]) -> list[tuple[str, object]]:
    """Alternating keys and values as pairs; a dangling key gets ``(MISSING)``."""
    out: list[tuple[str, object]] = []
    for i in range(0, len(kv), 2):
        value = kv[i + 1] if i + 1 < len(kv) else _MISSING_VALUE
        out.append((str(kv[i]), value))
    return out


def _dedupe(pairs: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """klog's FormatKVs: a later pair replaces an earlier one with the same key (and
    takes its place at the end); an identical repeat is dropped."""
    out: list[tuple[str, object]] = []
    for key, value in pairs:
        for i, (k, v) in enumerate(out):
            if k == key:
                if v is not value and v != value:
                    del out[i]
                    out.append((key, value))
                break
        else:
            out.append((key, value))
    return out


def _severity(record: logging.LogRecord) -> str:
    for level, letter in _SEVERITY.items():
        if record.levelno >= level:
            return letter
    return "I"


def _verbosity_of_level(levelno: int) -> int:
    if levelno >= logging.INFO:
        return 0
    if levelno >= V2_LEVEL:
        return 2
    if levelno >= logging.DEBUG:
        return 4
    return 6


# ---------------------------------------------------------------------------------
# formatters


class KlogTextFormatter(logging.Formatter):
    """klog's text line: ``Lmmdd hh:mm:ss.uuuuuu threadid file:line] message``, the
    message quoted and followed by ``key="value"`` pairs for structured records."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC)
        header = (
            f"{_severity(record)}{ts:%m%d %H:%M:%S}.{ts.microsecond:06d} "
            f"{os.getpid():7d} {record.filename}:{record.lineno}]"
        )
        kv: tuple[object, ...] | None = getattr(record, KV_ATTR, None)
        if kv is None:
            text = f"{header} {record.getMessage()}"
        else:
            err = getattr(record, ERR_ATTR, None)
            pairs = _pairs(kv)
            if err is not None:
                pairs.insert(0, ("err", err))
            rendered = "".join(f" {k}{_text_value(v)}" for k, v in _dedupe(pairs))
            text = f"{header} {go_quote(record.getMessage())}{rendered}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JSONFormatter(logging.Formatter):
    """component-base's JSON line: ``ts`` (epoch milliseconds, float), ``caller``,
    ``msg``, ``v`` (info only), the key/value pairs as top-level keys, ``err`` last."""

    def format(self, record: logging.LogRecord) -> str:
        doc: list[tuple[str, object]] = [
            ("ts", _GoFloat(record.created * 1000.0)),
            ("caller", f"{record.filename}:{record.lineno}"),
            ("msg", record.getMessage()),
        ]
        is_error = record.levelno >= logging.ERROR
        if not is_error:
            verbosity = getattr(record, VERBOSITY_ATTR, None)
            doc.append(
                (
                    "v",
                    verbosity
                    if isinstance(verbosity, int)
                    else _verbosity_of_level(record.levelno),
                )
            )
        kv: tuple[object, ...] | None = getattr(record, KV_ATTR, None)
        if kv is not None:
            doc.extend((k, _plain(v)) for k, v in _pairs(kv))
        err = getattr(record, ERR_ATTR, None)
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            err = f"{err}\n{trace}" if err is not None else trace
        if err is not None:
            doc.append(("err", str(err)))
        # zap writes fields in order and keeps duplicates; so does this.
        body = ",".join(json.dumps(k, ensure_ascii=False) + ":" + _json_value(v) for k, v in doc)
        return "{" + body + "}"


class _GoFloat(float):
    """A float written as Go's strconv.FormatFloat(f, 'f', -1, 64) writes it."""


def _json_value(value: object) -> str:
    if isinstance(value, _GoFloat):
        return str(int(value)) if value.is_integer() else repr(float(value))
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# ---------------------------------------------------------------------------------
# set-up


def current_verbosity() -> int:
    """The ``-v`` threshold in force."""
    with _verbosity_lock:
        return _verbosity


def set_verbosity(verbosity: int) -> None:
    """Change the ``-v`` threshold at run time (component-base's GlogSetter)."""
    global _verbosity
    if verbosity < 0:
        raise ValueError(f"verbosity must not be negative, got {verbosity}")
    with _verbosity_lock:
        _verbosity = verbosity
        logging.getLogger().setLevel(level_for(verbosity))


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
    handler.addFilter(_quiet_http_client)
    set_verbosity(verbosity)


def _quiet_http_client(record: logging.LogRecord) -> bool:
    """Below -v=6, drop urllib3's warnings about retried connections (the callers report
    the failures that matter). A handler filter, because the official client resets the
    urllib3 logger level whenever a Configuration is created."""
    if not record.name.startswith("urllib3") or record.levelno >= logging.ERROR:
        return True
    return current_verbosity() >= 6
