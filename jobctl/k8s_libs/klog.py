"""Structured logging in the shape of klog/logr (k8s.io/klog/v2), on top of ``logging``.

Go code logs ``logger.V(4).Info("Enqueueing job", "key", key)`` and
``logger.Error(err, "Syncing job")``: a constant message plus key/value pairs. The Python
twin is ``log.v(4).info("Enqueueing job", "key", key)`` and ``log.error(err, "Syncing
job")``. The pairs travel on the ``logging.LogRecord`` (``klog_kv``, ``klog_err``) so that
the binary's formatters (``jobctl.app.logging_setup``) can write them as klog text
(``"msg" key="value"``) or as component-base JSON; ``record.getMessage()`` is the bare
message.

Verbosity ``V(n)`` maps onto ``logging`` levels with ``level_for``.
"""

from __future__ import annotations

import logging

V2_LEVEL = 15
TRACE_LEVEL = 5

KV_ATTR = "klog_kv"
ERR_ATTR = "klog_err"
VERBOSITY_ATTR = "klog_v"


def level_for(verbosity: int) -> int:
    """The ``logging`` level a ``V(verbosity)`` message is logged at (and the threshold
    that ``-v=verbosity`` sets)."""
    if verbosity <= 1:
        return logging.INFO
    if verbosity <= 3:
        return V2_LEVEL
    if verbosity <= 5:
        return logging.DEBUG
    return TRACE_LEVEL


class Logger:
    """A logr-like logger: ``v(n)`` picks the verbosity, ``info``/``error`` take a message
    and alternating keys and values."""

    __slots__ = ("_logger", "_verbosity")

    def __init__(self, logger: logging.Logger, verbosity: int = 0) -> None:
        self._logger = logger
        self._verbosity = verbosity

    def v(self, level: int) -> Logger:
        """The same logger at verbosity ``level`` (logr's ``V``)."""
        return Logger(self._logger, level)

    def enabled(self) -> bool:
        """Whether a message at this verbosity would be written."""
        return self._logger.isEnabledFor(level_for(self._verbosity))

    def info(self, msg: str, *kv: object) -> None:
        """Log ``msg`` with key/value pairs at this logger's verbosity."""
        level = level_for(self._verbosity)
        if self._logger.isEnabledFor(level):
            self._logger.log(
                level,
                msg,
                extra={KV_ATTR: kv, ERR_ATTR: None, VERBOSITY_ATTR: self._verbosity},
                stacklevel=2,
            )

    def error(self, err: object, msg: str, *kv: object) -> None:
        """Log ``msg`` with the error ``err`` (may be ``None``) and key/value pairs; errors
        are written whatever the verbosity, as in logr."""
        self._logger.error(
            msg,
            extra={KV_ATTR: kv, ERR_ATTR: err, VERBOSITY_ATTR: 0},
            stacklevel=2,
        )


def get_logger(name: str) -> Logger:
    """The structured logger for module ``name`` (use ``__name__``)."""
    return Logger(logging.getLogger(name))
