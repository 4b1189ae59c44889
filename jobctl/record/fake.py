"""Port of k8s.io/client-go/tools/record/fake.go: a recorder that queues strings.

Each event becomes ``"<type> <reason> <message>"`` on ``FakeRecorder.events`` (a
``queue.Queue``), as upstream tests read them from the ``Events`` channel. With
``include_object`` the involved object's kind and apiVersion are appended, and any
annotations after that.
"""

from __future__ import annotations

import queue
from collections.abc import Mapping
from typing import Any

from jobctl.record.event import go_sprintf


def _object_string(obj: Any, include_object: bool) -> str:
    """Port of objectString (fake.go)."""
    if not include_object:
        return ""
    kind = getattr(obj, "kind", None) or ""
    api_version = getattr(obj, "api_version", None) or ""
    return f" involvedObject{{kind={kind},apiVersion={api_version}}}"


def _annotations_string(annotations: Mapping[str, str] | None) -> str:
    """Port of annotationsString (fake.go) (Go prints a map with sorted keys)."""
    if not annotations:
        return ""
    return " map[" + " ".join(f"{k}:{annotations[k]}" for k in sorted(annotations)) + "]"


class FakeRecorder:
    """Port of FakeRecorder: thread-safe; with ``events`` None every event is dropped.

    A put blocks while the queue is full, as a send on a full Go channel does.
    """

    def __init__(
        self, events: queue.Queue[str] | None = None, include_object: bool = False
    ) -> None:
        self.events = events
        self.include_object = include_object

    def _write_event(
        self,
        obj: Any,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message_fmt: str,
        *args: Any,
    ) -> None:
        """Port of FakeRecorder.writeEvent (fake.go)."""
        if self.events is not None:
            self.events.put(
                go_sprintf(f"{event_type} {reason} {message_fmt}", *args)
                + _object_string(obj, self.include_object)
                + _annotations_string(annotations)
            )

    def event(self, obj: Any, event_type: str, reason: str, message: str) -> None:
        """Port of FakeRecorder.Event (fake.go)."""
        self._write_event(obj, None, event_type, reason, "%s", message)

    def eventf(self, obj: Any, event_type: str, reason: str, message_fmt: str, *args: Any) -> None:
        """Port of FakeRecorder.Eventf (fake.go)."""
        self._write_event(obj, None, event_type, reason, message_fmt, *args)

    def annotated_eventf(
        self,
        obj: Any,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message_fmt: str,
        *args: Any,
    ) -> None:
        """Port of FakeRecorder.AnnotatedEventf (fake.go)."""
        self._write_event(obj, annotations, event_type, reason, message_fmt, *args)

    def drain(self) -> list[str]:
        """All queued event strings, oldest first (non-blocking; a test helper)."""
        out: list[str] = []
        if self.events is None:
            return out
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out


def new_fake_recorder(buffer_size: int) -> FakeRecorder:
    """Port of NewFakeRecorder (fake.go): a recorder whose queue holds ``buffer_size`` events.

    Go's unbuffered channel (size 0) has no queue.Queue twin; 0 gives an unbounded queue.
    """
    return FakeRecorder(queue.Queue(maxsize=buffer_size))
