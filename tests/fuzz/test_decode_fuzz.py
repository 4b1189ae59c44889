"""Fuzz the decode path: every API object either decodes or fails with ``DecodeError``.

Fail closed, as client-go's decoder does: a list with an item that cannot be decoded
fails as a whole (never a shorter list), and a watch line that cannot be decoded is an
error (``DecodeError``, or an ``ERROR`` event), never silently skipped. Unknown fields
are ignored, as Go's decoder ignores them.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from kubernetes.client import V1Job, V1Pod

from jobctl.client.decode import DecodeError, decode_list, decode_object, decode_watch_event
from jobctl.client.interface import ERROR
from tests.fuzz.strategies import FUZZ, jobs, json_values, mutated, pods

MANY = settings(FUZZ, max_examples=500)

_objects = st.one_of(
    st.tuples(st.just(V1Job), mutated(jobs())),
    st.tuples(st.just(V1Pod), mutated(pods())),
)


@MANY
@given(_objects)
def test_decode_object_gives_a_model_or_decode_error(case: tuple[type[Any], Any]) -> None:
    model_cls, raw = case
    try:
        obj = decode_object(model_cls, raw)
    except DecodeError:
        return
    assert isinstance(obj, model_cls)


@MANY
@given(st.sampled_from([V1Job, V1Pod]), json_values)
def test_decode_object_of_any_json_value(model_cls: type[Any], raw: Any) -> None:
    try:
        obj = decode_object(model_cls, raw)
    except DecodeError:
        return
    assert isinstance(obj, model_cls)


@MANY
@given(st.lists(mutated(pods()), max_size=4), st.booleans())
def test_decode_list_fails_closed(items: list[dict[str, Any]], as_bytes: bool) -> None:
    body: Any = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"}}
    body["items"] = items
    text = json.dumps(body)
    try:
        result = decode_list(V1Pod, text.encode() if as_bytes else text)
    except DecodeError:
        return
    # Nothing skipped: a list that decodes holds every item the server sent.
    assert len(result.items) == len(items)
    assert all(isinstance(p, V1Pod) for p in result.items)
    assert result.resource_version == "7"


@MANY
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
@example(b"{")
@example(b'{"items": [1')
@example(b"[]")
@example(b'{"items": 5}')
def test_decode_list_of_garbage(body: bytes) -> None:
    try:
        result = decode_list(V1Pod, body)
    except DecodeError:
        return
    assert isinstance(result.items, list)


_event_types = st.sampled_from(["ADDED", "MODIFIED", "DELETED"])


@MANY
@given(_event_types, mutated(pods()))
def test_decode_watch_event_never_skips(event_type: str, raw: dict[str, Any]) -> None:
    line = json.dumps({"type": event_type, "object": raw})
    try:
        event = decode_watch_event(V1Pod, line)
    except DecodeError:
        return
    assert event is not None, f"watch event skipped: {line[:300]}"
    if event.type == ERROR:
        return
    assert event.type == event_type and isinstance(event.object, V1Pod)


@MANY
@given(st.binary(min_size=1, max_size=64) | st.text(min_size=1, max_size=64).map(str.encode))
@example(b'{"type": "ADDED"}')
@example(b'{"type": "NOPE", "object": {}}')
@example(b'{"type": "ADDED", "object": 5}')
@example(b'{"type": "BOOKMARK", "object": []}')
def test_decode_watch_line_of_garbage(line: bytes) -> None:
    try:
        event = decode_watch_event(V1Pod, line)
    except DecodeError:
        return
    if line.isspace():
        assert event is None
        return
    assert event is not None, f"watch line skipped: {line!r}"
