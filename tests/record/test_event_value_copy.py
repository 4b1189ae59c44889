"""event_value_copy: the twin of Go's ``eventCopy := *event`` used by the correlator and
recordToSink (not upstream tests; the upstream tables in test_events_cache.py and
test_event.py run through it)."""

from __future__ import annotations

from datetime import UTC, datetime

from kubernetes.client import CoreV1Event, V1EventSource, V1ObjectMeta, V1ObjectReference

from jobctl.client.deepcopy import deep_copy
from jobctl.record.events_cache import event_value_copy


def _event() -> CoreV1Event:
    return CoreV1Event(
        metadata=V1ObjectMeta(name="pod.1", namespace="ns", labels={"a": "b"}),
        involved_object=V1ObjectReference(kind="Pod", name="pod", namespace="ns", uid="u"),
        source=V1EventSource(component="job-controller", host="h"),
        reason="Created",
        message="Created pod: pod",
        type="Normal",
        count=1,
        first_timestamp=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_event_value_copy_equals_a_deep_copy() -> None:
    event = _event()
    copied = event_value_copy(event)
    assert copied == deep_copy(event) == event
    assert copied.model_dump(exclude_unset=True) == event.model_dump(exclude_unset=True)


def test_event_value_copy_leaves_the_original_alone_when_fields_are_set() -> None:
    event = _event()
    before = deep_copy(event)
    copied = event_value_copy(event)
    copied.count = 7
    copied.message = ""
    copied.metadata.name = "other"
    copied.metadata.resource_version = "42"
    copied.involved_object.name = "changed"
    copied.source.host = "elsewhere"
    assert event == before
    assert copied.metadata.model_fields_set >= {"name", "resource_version"}


def test_recorded_events_share_no_source_or_reference_with_the_recorder() -> None:
    """make_event and generate_event copy the reference and the source (Go copies the
    structs by value): changing one event's copies changes neither the recorder nor the
    next event."""
    import queue

    from kubernetes.client import V1Job

    from jobctl.record import new_broadcaster

    broadcaster = new_broadcaster()
    seen: queue.Queue[CoreV1Event] = queue.Queue()
    broadcaster.start_event_watcher(seen.put)
    recorder = broadcaster.new_recorder("job-controller", host="h")
    job = V1Job(api_version="batch/v1", kind="Job", metadata=V1ObjectMeta(name="j", namespace="ns"))
    try:
        recorder.event(job, "Normal", "A", "first")
        first = seen.get(timeout=10)
        first.source.component = "changed"
        first.involved_object.name = "changed"
        recorder.event(job, "Normal", "B", "second")
        second = seen.get(timeout=10)
    finally:
        broadcaster.shutdown()
    assert recorder.source.component == "job-controller"
    assert second.source.component == "job-controller"
    assert second.involved_object.name == "j"
    assert job.metadata.name == "j"
