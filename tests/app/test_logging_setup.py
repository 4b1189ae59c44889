"""Tests for jobctl.app.logging_setup: klog verbosity mapping and both formats."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from jobctl.app.logging_setup import TRACE_LEVEL, V2_LEVEL, level_for, setup_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
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
    assert first["logger"] == "jobctl.test"
    assert first["caller"].startswith("test_logging_setup.py:")
    assert isinstance(first["ts"], float)
    assert second["level"] == "error"
    assert "ValueError: bad" in second["err"]


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
