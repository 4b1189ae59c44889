"""jobctl.client.jsoncodec keeps the stdlib's contract: the same values, the same errors."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from jobctl.client import jsoncodec

# Texts both parsers accept, texts only the stdlib accepts (orjson refuses them and the
# codec falls back), and texts neither accepts.
LOADS_TABLE: list[bytes | str] = [
    b'{"a":1,"a":2}',
    b"-0",
    b" {} ",
    b'{"a":1.0,"b":[true,false,null],"c":"\\u00e9\\n"}',
    b'"\\u0000"',
    b"1.5e-400",
    b"18446744073709551615",
    '{"name":"caf\u00e9"}',
    b"1e400",
    b"NaN",
    b"-Infinity",
    b'"\\ud800"',
    b"\xef\xbb\xbf{}",
    '{"a": 1}'.encode("utf-16"),
    b"[1,2",
    b"",
    b"{} trailing",
    b'{"a":}',
    b"\xff",
]


def _outcome(parse: Any, text: bytes | str) -> Any:
    try:
        value = parse(text)
    except ValueError as err:
        return ("error", type(err), str(err))
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return ("ok", type(value), value)


@pytest.mark.parametrize("text", LOADS_TABLE)
def test_loads_matches_stdlib(text: bytes | str) -> None:
    assert _outcome(jsoncodec.loads, text) == _outcome(json.loads, text)


def test_loads_without_orjson_is_stdlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsoncodec, "_FAST", False)
    for text in LOADS_TABLE:
        assert _outcome(jsoncodec.loads, text) == _outcome(json.loads, text)


def test_loads_huge_integers_come_back_as_floats() -> None:
    # The documented difference: orjson reads integers beyond 64 bits as floats, which
    # the models' strict integer fields refuse, as Go's decoder refuses them for int64.
    assert jsoncodec.loads(b"123456789012345678901234567890") == pytest.approx(1.2345678901e29)
    assert isinstance(jsoncodec.loads(b"-9223372036854775809"), float)


DUMPS_TABLE: list[Any] = [
    {"metadata": {"finalizers": None, "resourceVersion": "12"}},
    [{"op": "remove", "path": "/metadata/finalizers/0"}],
    {"a": "caf\u00e9 \u2603 \n \u0000", "b": [1, -2, 3.5, True, False, None], "c": {}},
    {1: "int key", "x": 2},
    {"big": 2**70},
    "plain",
    0,
]


@pytest.mark.parametrize("value", DUMPS_TABLE)
def test_dumps_writes_what_stdlib_writes(value: Any) -> None:
    assert json.loads(jsoncodec.dumps(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", DUMPS_TABLE)
def test_dumps_without_orjson_is_stdlib(monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    monkeypatch.setattr(jsoncodec, "_FAST", False)
    assert jsoncodec.dumps(value) == json.dumps(value, separators=(",", ":")).encode()


def test_dumps_refuses_what_stdlib_refuses() -> None:
    with pytest.raises(TypeError):
        jsoncodec.dumps({"x": object()})
