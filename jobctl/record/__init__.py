"""Event recording: port of k8s.io/client-go/tools/record.

``new_broadcaster()`` + ``start_recording_to_sink(EventSinkImpl(client.core_v1()))`` +
``new_recorder("job-controller")`` is what the Job controller wires up; tests use
``FakeRecorder`` from ``jobctl.record.fake``.
"""

from jobctl.record.event import (
    DEFAULT_SLEEP_DURATION,
    MAX_QUEUED_EVENTS,
    MAX_TRIES_PER_EVENT,
    CorrelatorOptions,
    EventBroadcaster,
    EventBroadcasterImpl,
    EventRecorder,
    EventSink,
    EventSinkImpl,
    go_sprintf,
    new_broadcaster,
    new_broadcaster_for_tests,
    new_broadcaster_with_correlator_options,
)
from jobctl.record.fake import FakeRecorder, new_fake_recorder
from jobctl.record.util import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING

__all__ = [
    "DEFAULT_SLEEP_DURATION",
    "EVENT_TYPE_NORMAL",
    "EVENT_TYPE_WARNING",
    "MAX_QUEUED_EVENTS",
    "MAX_TRIES_PER_EVENT",
    "CorrelatorOptions",
    "EventBroadcaster",
    "EventBroadcasterImpl",
    "EventRecorder",
    "EventSink",
    "EventSinkImpl",
    "FakeRecorder",
    "go_sprintf",
    "new_broadcaster",
    "new_broadcaster_for_tests",
    "new_broadcaster_with_correlator_options",
    "new_fake_recorder",
]
