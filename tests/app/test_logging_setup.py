"""Tests for jobctl.app.logging_setup: klog verbosity mapping and both formats."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator

import pytest

from jobctl.app.logging_setup import (
    TRACE_LEVEL,
    V2_LEVEL,
    JSONFormatter,
    KlogTextFormatter,
    current_verbosity,
    go_quote,
    level_for,
    set_verbosity,
    setup_logging,
)
from jobctl.k8s_libs import klog


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    set_verbosity(0)
    root.setLevel(level)


@pytest.mark.parametrize(
    ("v", "level"),
    [
        (0, logging.INFO),
        (1, logging.INFO),
        (2, V2_LEVEL),
        (3, V2_LEVEL),
        (4, logging.DEBUG),
        (5, logging.DEBUG),
        (6, TRACE_LEVEL),
        (10, TRACE_LEVEL),
    ],
)
def test_level_for(v: int, level: int) -> None:
    assert level_for(v) == level


def test_text_format_is_klog_like(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(0, "text", stream=out)
    log = logging.getLogger("jobctl.test")
    log.info("hello %s", "world")
    log.debug("hidden at -v=0")
    log.warning("careful")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("I")
    assert re.fullmatch(
        r"I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ test_logging_setup\.py:\d+\] hello world", lines[0]
    )
    assert lines[1][0] == "W"


def test_verbosity_shows_debug(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(4, "text", stream=out)
    logging.getLogger("jobctl.test").debug("now visible")
    assert "now visible" in out.getvalue()


def test_json_format(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(2, "json", stream=out)
    log = logging.getLogger("jobctl.test")
    log.log(V2_LEVEL, "steady %d", 2)
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["msg"] == "steady 2"
    assert first["v"] == 2
    assert first["caller"].startswith("test_logging_setup.py:")
    assert isinstance(first["ts"], float)
    assert "v" not in second
    assert "ValueError: bad" in second["err"]


def _record(
    level: int, msg: str, kv: tuple[object, ...], err: object = None, v: int = 0
) -> logging.LogRecord:
    record = logging.LogRecord(
        "jobctl.job", level, "/src/jobctl/job/job_controller.py", 123, msg, (), None
    )
    record.created = 1733097901.5
    setattr(record, klog.KV_ATTR, kv)
    setattr(record, klog.ERR_ATTR, err)
    setattr(record, klog.VERBOSITY_ATTR, v)
    return record


PID = f"{os.getpid():7d}"


@pytest.mark.parametrize(
    ("record", "text", "json_line"),
    [
        pytest.param(
            _record(logging.DEBUG, "Enqueueing job", ("key", "ns/name", "delay", 0), v=4),
            f'I1202 00:05:01.500000 {PID} job_controller.py:123] "Enqueueing job" '
            'key="ns/name" delay=0',
            '{"ts":1733097901500,"caller":"job_controller.py:123","msg":"Enqueueing job",'
            '"v":4,"key":"ns/name","delay":0}',
            id="info with key/values",
        ),
        pytest.param(
            _record(
                logging.ERROR,
                "Syncing job",
                ("job", "ns/a", "ok", True),
                err=RuntimeError('conflict "x"'),
            ),
            f'E1202 00:05:01.500000 {PID} job_controller.py:123] "Syncing job" '
            'err="conflict \\"x\\"" job="ns/a" ok=true',
            '{"ts":1733097901500,"caller":"job_controller.py:123","msg":"Syncing job",'
            '"job":"ns/a","ok":true,"err":"conflict \\"x\\""}',
            id="error first in text, last in JSON, no v",
        ),
        pytest.param(
            _record(logging.INFO, "Multi", ("text", "a\nb", "dangling")),
            f'I1202 00:05:01.500000 {PID} job_controller.py:123] "Multi" text=<\n'
            '\ta\n\tb\n > dangling="(MISSING)"',
            '{"ts":1733097901500,"caller":"job_controller.py:123","msg":"Multi","v":0,'
            '"text":"a\\nb","dangling":"(MISSING)"}',
            id="multi-line value and missing value",
        ),
        pytest.param(
            _record(logging.INFO, "Dup", ("k", 1, "k", 2, "list", [1, "x"])),
            f'I1202 00:05:01.500000 {PID} job_controller.py:123] "Dup" k=2 list=[1,"x"]',
            '{"ts":1733097901500,"caller":"job_controller.py:123","msg":"Dup","v":0,'
            '"k":1,"k":2,"list":[1,"x"]}',
            id="duplicates: klog keeps the last, zap keeps both",
        ),
    ],
)
def test_structured_output_matches_upstream(
    record: logging.LogRecord, text: str, json_line: str
) -> None:
    assert KlogTextFormatter().format(record) == text
    assert JSONFormatter().format(record) == json_line


def test_klog_logger_output_through_handler(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(4, "json", stream=out)
    klog.get_logger("jobctl.test").v(4).info("Enqueueing job", "key", "ns/j")
    klog.get_logger("jobctl.test").v(5).info("Too verbose? no", "n", 1)
    klog.get_logger("jobctl.test").v(6).info("Too verbose", "n", 2)
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(d["msg"], d["v"]) for d in docs] == [("Enqueueing job", 4), ("Too verbose? no", 5)]
    assert docs[0]["key"] == "ns/j"
    assert list(docs[0]) == ["ts", "caller", "msg", "v", "key"]
    assert docs[0]["ts"] > 1.0e12  # milliseconds, not seconds


def test_set_verbosity_at_run_time(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(0, "text", stream=out)
    log = klog.get_logger("jobctl.test")
    log.v(4).info("hidden")
    set_verbosity(4)
    assert current_verbosity() == 4
    log.v(4).info("shown")
    set_verbosity(0)
    assert "hidden" not in out.getvalue()
    assert '"shown"' in out.getvalue()


def test_go_quote() -> None:
    assert go_quote('a"b\\c\t\x01\u00e9\u2028') == '"a\\"b\\\\c\\t\\x01\u00e9\\u2028"'


def test_http_client_chatter_hidden_below_v6(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(0, "text", stream=out)
    logging.getLogger("urllib3.connectionpool").warning("Retrying ...")
    logging.getLogger("urllib3.connectionpool").error("real trouble")
    text = out.getvalue()
    assert "Retrying" not in text
    assert "real trouble" in text


def test_setup_twice_keeps_one_handler(restore_root: None) -> None:
    out = io.StringIO()
    setup_logging(0, "text", stream=io.StringIO())
    setup_logging(0, "text", stream=out)
    logging.getLogger("jobctl.test").info("once")
    assert out.getvalue().count("once") == 1
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "jobctl-stderr"]
    assert len(ours) == 1
