"""JSON for request and response bodies: orjson when installed, the stdlib otherwise.

Every response body and watch line is parsed here, and every body that is not a model
(patches, delete options) is written here. orjson parses a 2.5 KB pod watch event in
about half the time ``json.loads`` takes and writes a patch in a tenth of the time of
``json.dumps`` (hack/bench_decode.py, ``codec`` rows).

The contract is the stdlib's, exactly:

* ``loads(data)`` returns what ``json.loads(data)`` returns and raises what it raises.
  orjson is stricter than the stdlib (no NaN/Infinity, no lone surrogate escapes, no
  integers beyond 64 bits, UTF-8 only); whatever it refuses is parsed again by
  ``json.loads``, so anything the stdlib accepted is still accepted, and an error is
  the stdlib's error with the stdlib's message;
* ``dumps(obj)`` returns the UTF-8 bytes of a JSON text that parses back to the value
  ``json.dumps(obj)`` writes (compact: no spaces after separators). Values orjson does
  not write (non-string keys, integers beyond 64 bits, unknown types) go through
  ``json.dumps``, which writes them or raises its own ``TypeError``/``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is an install requirement
    orjson = None  # type: ignore[assignment]

_FAST = orjson is not None


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse one JSON text (``json.loads``'s result and errors)."""
    if _FAST:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(bytes(data) if isinstance(data, memoryview) else data)


def dumps(obj: Any) -> bytes:
    """The JSON text of ``obj`` as UTF-8 bytes (the value ``json.dumps`` writes)."""
    if _FAST:
        try:
            return orjson.dumps(obj)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(obj, separators=(",", ":")).encode()
