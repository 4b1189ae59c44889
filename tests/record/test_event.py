"""Ports of k8s.io/client-go/tools/record/event_test.go (and util/util_test.go, fake.go).

Go's unbuffered channels between the sink and the test become ``queue.Queue``s read
with a bounded real-time timeout; the recorder's clock is a ``FakeClock``.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes.client import (
    CoreV1Event,
    V1EventSource,
    V1Job,
    V1ObjectMeta,
    V1ObjectReference,
    V1Pod,
)

from jobctl.client import errors
from jobctl.client.errors import StatusError
from jobctl.client.interface import WatchEvent
from jobctl.k8s_libs.clock import FakeClock
from jobctl.record import (
    EVENT_TYPE_NORMAL,
    EVENT_TYPE_WARNING,
    MAX_QUEUED_EVENTS,
    MAX_TRIES_PER_EVENT,
    EventSinkImpl,
    FakeRecorder,
    go_sprintf,
    new_broadcaster,
    new_fake_recorder,
)
from jobctl.record.event import EventBroadcasterImpl, EventRecorder
from jobctl.record.events_cache import get_event_key, new_event_correlator
from jobctl.record.reference import get_partial_reference
from jobctl.record.util import generate_event_name
from jobctl.testing.fake_clientset import FakeClientset, strategic_merge_patch

TIMEOUT = 5.0


class SimpleIntervalClock:
    """Port of k8s.io/utils/clock/testing.SimpleIntervalClock: each now() moves time on."""

    def __init__(self, time: datetime, duration: float) -> None:
        self.time = time
        self.duration = duration

    def now(self) -> datetime:
        self.time = self.time + timedelta(seconds=self.duration)
        return self.time

    def since(self, t: datetime) -> float:
        return (self.now() - t).total_seconds()


class TestEventSink:
    """Port of testEventSink: callbacks per operation, echo by default."""

    __test__ = False

    def __init__(
        self,
        on_create: Callable[[CoreV1Event], CoreV1Event] | None = None,
        on_update: Callable[[CoreV1Event], CoreV1Event] | None = None,
        on_patch: Callable[[CoreV1Event, bytes], CoreV1Event] | None = None,
    ) -> None:
        self.on_create = on_create
        self.on_update = on_update
        self.on_patch = on_patch

    def create(self, event: CoreV1Event) -> CoreV1Event:
        return self.on_create(event) if self.on_create else event

    def update(self, event: CoreV1Event) -> CoreV1Event:
        return self.on_update(event) if self.on_update else event

    def patch(self, old_event: CoreV1Event, data: bytes) -> CoreV1Event:
        return self.on_patch(old_event, data) if self.on_patch else old_event


def on_create_factory(
    test_cache: dict[str, CoreV1Event], create_event: queue.Queue[CoreV1Event]
) -> Callable[[CoreV1Event], CoreV1Event]:
    """Port of OnCreateFactory."""

    def on_create(event: CoreV1Event) -> CoreV1Event:
        test_cache[get_event_key(event)] = event
        create_event.put(event)
        return event

    return on_create


def on_patch_factory(
    test_cache: dict[str, CoreV1Event], patch_event: queue.Queue[CoreV1Event]
) -> Callable[[CoreV1Event, bytes], CoreV1Event]:
    """Port of OnPatchFactory: apply the strategic patch to the cached event."""

    def on_patch(event: CoreV1Event, patch: bytes) -> CoreV1Event:
        cached = test_cache.get(get_event_key(event))
        if cached is None:
            raise RuntimeError("unexpected error: couldn't find Event in testCache.")
        original = cached.model_dump(by_alias=True, exclude_none=True, mode="json")
        patched = CoreV1Event.model_validate(strategic_merge_patch(original, json.loads(patch)))
        patch_event.put(patched)
        return patched

    return on_patch


@pytest.fixture
def broadcaster() -> Iterator[EventBroadcasterImpl]:
    """Port of newBroadcasterForTests: no retry sleep, shut down after the test."""
    caster = new_broadcaster(sleep_duration=0)
    yield caster
    caster.shutdown()


def recorder_with_fake_clock(
    source: str, caster: EventBroadcasterImpl, clock: FakeClock
) -> EventRecorder:
    return caster.new_recorder(V1EventSource(component=source), clock=clock)


def validate_event(index: str, actual: CoreV1Event, expected: CoreV1Event) -> None:
    """Port of validateEvent (events_cache_test.go)."""
    recv = actual.model_copy(deep=True)
    assert recv.first_timestamp is not None and recv.last_timestamp is not None, index
    if recv.first_timestamp == recv.last_timestamp:
        assert (expected.count or 0) <= 1, f"{index}: expected compression"
    else:
        assert expected.count != 1, f"{index}: expected a single occurrence"
    recv.first_timestamp = expected.first_timestamp
    recv.last_timestamp = expected.last_timestamp
    recv.reporting_component = expected.reporting_component
    assert recv.metadata is not None and expected.metadata is not None
    assert (recv.metadata.name or "").startswith(expected.metadata.name or ""), index
    recv.metadata.name = expected.metadata.name
    assert recv.model_dump(exclude_none=True) == expected.model_dump(exclude_none=True), index


def pod_ref(name: str, ns: str | None, uid: str, field_path: str) -> V1ObjectReference:
    return get_partial_reference(
        V1Pod(metadata=V1ObjectMeta(name=name, namespace=ns, uid=uid)), field_path
    )


def expected_event(
    ns: str,
    ref_ns: str | None,
    uid: str,
    field_path: str | None,
    reason: str,
    message: str,
    count: int,
    reporting: bool = True,
) -> CoreV1Event:
    return CoreV1Event(
        metadata=V1ObjectMeta(name="foo", namespace=ns),
        involved_object=V1ObjectReference(
            kind="Pod",
            name="foo",
            namespace=ref_ns,
            uid=uid,
            api_version="v1",
            field_path=field_path,
        ),
        reason=reason,
        message=message,
        source=V1EventSource(component="eventTest"),
        reporting_component="eventTest" if reporting else None,
        count=count,
        type=EVENT_TYPE_NORMAL,
    )


def _log_line(uid: str, field_path: str, reason: str, message: str) -> str:
    return (
        'Event(v1.ObjectReference{Kind:"Pod", Namespace:"baz", Name:"foo", '
        f'UID:"{uid}", APIVersion:"v1", ResourceVersion:"", FieldPath:"{field_path}"}}): '
        f"type: 'Normal' reason: '{reason}' {message}"
    )


def _structured_log(field_path: str, reason: str, message: str) -> str:
    return (
        f'Event occurred object="baz/foo" fieldPath="{field_path}" kind="Pod" apiVersion="v1" '
        f'type="Normal" reason="{reason}" message="{message}"'
    )


def _eventf_table() -> list[tuple[Any, str, CoreV1Event, str, str, bool]]:
    test_pod = V1Pod(metadata=V1ObjectMeta(name="foo", namespace="baz", uid="bar"))
    test_ref = pod_ref("foo", "baz", "bar", "spec.containers[2]")
    test_ref2 = pod_ref("foo", "baz", "differentUid", "spec.containers[3]")
    msg = "some verbose message: 1"
    other = "some other verbose message: 1"
    c2, c3 = "spec.containers[2]", "spec.containers[3]"
    # (object, reason, expected event, expected log, expected structured log, expect update)
    return [
        (
            test_ref,
            "Started",
            expected_event("baz", "baz", "bar", c2, "Started", msg, 1),
            _log_line("bar", c2, "Started", msg),
            _structured_log(c2, "Started", msg),
            False,
        ),
        (
            test_pod,
            "Killed",
            expected_event("baz", "baz", "bar", None, "Killed", other, 1),
            _log_line("bar", "", "Killed", other),
            _structured_log("", "Killed", other),
            False,
        ),
        (
            test_ref,
            "Started",
            expected_event("baz", "baz", "bar", c2, "Started", msg, 2),
            _log_line("bar", c2, "Started", msg),
            _structured_log(c2, "Started", msg),
            True,
        ),
        (
            test_ref2,
            "Started",
            expected_event("baz", "baz", "differentUid", c3, "Started", msg, 1),
            _log_line("differentUid", c3, "Started", msg),
            _structured_log(c3, "Started", msg),
            False,
        ),
        (
            test_ref,
            "Started",
            expected_event("baz", "baz", "bar", c2, "Started", msg, 3),
            _log_line("bar", c2, "Started", msg),
            _structured_log(c2, "Started", msg),
            True,
        ),
        (
            test_ref2,
            "Stopped",
            expected_event("baz", "baz", "differentUid", c3, "Stopped", msg, 1),
            _log_line("differentUid", c3, "Stopped", msg),
            _structured_log(c3, "Stopped", msg),
            False,
        ),
        (
            test_ref2,
            "Stopped",
            expected_event("baz", "baz", "differentUid", c3, "Stopped", msg, 2),
            _log_line("differentUid", c3, "Stopped", msg),
            _structured_log(c3, "Stopped", msg),
            True,
        ),
    ]


class _QueueHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: queue.Queue[str] = queue.Queue()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.put(record.getMessage())


def test_non_racy_shutdown(broadcaster: EventBroadcasterImpl) -> None:
    clock = FakeClock()
    recorder = recorder_with_fake_clock("eventTest", broadcaster, clock)
    threads = [
        threading.Thread(
            target=recorder.eventf,
            args=(V1ObjectReference(), EVENT_TYPE_NORMAL, "Started", "blah"),
        )
        for _ in range(100)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    broadcaster.shutdown()


def test_eventf(broadcaster: EventBroadcasterImpl) -> None:
    test_cache: dict[str, CoreV1Event] = {}
    log_called: queue.Queue[str] = queue.Queue()
    create_event: queue.Queue[CoreV1Event] = queue.Queue()
    patch_event: queue.Queue[CoreV1Event] = queue.Queue()
    sink = TestEventSink(
        on_create=on_create_factory(test_cache, create_event),
        on_patch=on_patch_factory(test_cache, patch_event),
    )
    handler = _QueueHandler()
    event_logger = logging.getLogger("jobctl.record.event")
    event_logger.addHandler(handler)
    old_level = event_logger.level
    event_logger.setLevel(logging.INFO)
    try:
        sink_watcher = broadcaster.start_recording_to_sink(sink)
        clock = FakeClock()
        recorder = recorder_with_fake_clock("eventTest", broadcaster, clock)
        for index, (obj, reason, expect, expect_log, expect_structured, update) in enumerate(
            _eventf_table()
        ):
            clock.step(1)
            log_watcher = broadcaster.start_logging(log_called.put)
            structured_watcher = broadcaster.start_structured_logging(0)
            message_fmt = (
                "some other verbose message: %v"
                if reason == "Killed"
                else "some verbose message: %v"
            )
            recorder.eventf(obj, EVENT_TYPE_NORMAL, reason, message_fmt, 1)

            assert log_called.get(timeout=TIMEOUT) == expect_log
            structured = handler.records.get(timeout=TIMEOUT)
            while not structured.startswith("Event occurred"):
                structured = handler.records.get(timeout=TIMEOUT)
            assert structured == expect_structured

            actual = (patch_event if update else create_event).get(timeout=TIMEOUT)
            validate_event(str(index), actual, expect)
            log_watcher.stop()
            structured_watcher.stop()
        sink_watcher.stop()
    finally:
        event_logger.removeHandler(handler)
        event_logger.setLevel(old_level)


_WRITE_EVENT_ERROR_CASES: list[tuple[str, int, int, BaseException]] = [
    ("giveUp1", 1000, 1, errors.RequestConstructionError()),
    ("giveUp2", 1000, 1, StatusError(0)),
    ("retry1", 1000, 12, errors.UnexpectedObjectError()),
    ("retry2", 1000, 12, RuntimeError("A weird error")),
    ("succeedEventually", 2, 2, RuntimeError("A weird error")),
]


@pytest.mark.parametrize(
    ("times_to_send_error", "attempts_wanted", "err"),
    [c[1:] for c in _WRITE_EVENT_ERROR_CASES],
    ids=[c[0] for c in _WRITE_EVENT_ERROR_CASES],
)
def test_write_event_error(
    broadcaster: EventBroadcasterImpl,
    times_to_send_error: int,
    attempts_wanted: int,
    err: BaseException,
) -> None:
    clock = SimpleIntervalClock(datetime.now(UTC), 1)
    correlator = new_event_correlator(clock)
    attempts = 0

    def on_create(event: CoreV1Event) -> CoreV1Event:
        nonlocal attempts
        attempts += 1
        if attempts < times_to_send_error:
            raise err
        return event

    ev = CoreV1Event(metadata=V1ObjectMeta(), involved_object=V1ObjectReference())
    broadcaster.record_to_sink(TestEventSink(on_create=on_create), ev, correlator)
    assert attempts == attempts_wanted
    assert MAX_TRIES_PER_EVENT == 12


def test_update_expired_event(broadcaster: EventBroadcasterImpl) -> None:
    clock = SimpleIntervalClock(datetime.now(UTC), 1)
    correlator = new_event_correlator(clock)
    created: list[CoreV1Event] = []

    def on_patch(event: CoreV1Event, patch: bytes) -> CoreV1Event:
        raise StatusError(404, errors.REASON_NOT_FOUND)

    def on_create(event: CoreV1Event) -> CoreV1Event:
        created.append(event)
        return event

    ev = CoreV1Event(
        metadata=V1ObjectMeta(resource_version="updated-resource-version"),
        involved_object=V1ObjectReference(),
        count=2,
    )
    broadcaster.record_to_sink(
        TestEventSink(on_create=on_create, on_patch=on_patch), ev, correlator
    )
    assert created, "Event did not get created after patch failed"
    assert created[0].metadata is not None
    assert not created[0].metadata.resource_version


def test_cancel_event() -> None:
    clock = SimpleIntervalClock(datetime.now(UTC), 1)
    correlator = new_event_correlator(clock)
    attempts = 0

    def on_create(event: CoreV1Event) -> CoreV1Event:
        nonlocal attempts
        attempts += 1
        raise errors.UnexpectedObjectError()

    caster = new_broadcaster(sleep_duration=1)
    # Cancel before even calling record_to_sink.
    caster.shutdown()
    ev = CoreV1Event(metadata=V1ObjectMeta(), involved_object=V1ObjectReference())
    caster.record_to_sink(TestEventSink(on_create=on_create), ev, correlator)
    assert attempts == 1


def test_lots_of_events(broadcaster: EventBroadcasterImpl) -> None:
    recorder_called: queue.Queue[int] = queue.Queue()
    logger_called: queue.Queue[str] = queue.Queue()
    counts = [0] * MAX_QUEUED_EVENTS

    def on_create(event: CoreV1Event) -> CoreV1Event:
        num = int(event.message or "")
        counts[num] += 1
        if counts[num] < 5:
            raise RuntimeError("fake error")
        recorder_called.put(num)
        return event

    sink_watcher = broadcaster.start_recording_to_sink(TestEventSink(on_create=on_create))
    log_watcher = broadcaster.start_logging(logger_called.put)
    recorder = broadcaster.new_recorder(V1EventSource(component="eventTest"))
    event_log = logging.getLogger("jobctl.record.event")
    old_disabled = event_log.disabled
    event_log.disabled = True  # 4000 "may retry" lines would only slow the test down
    try:

        def send(start: int) -> None:
            for i in range(start, MAX_QUEUED_EVENTS, 4):
                # A unique object avoids spam filtering; a unique reason avoids aggregation.
                ref = V1ObjectReference(
                    kind="Pod", name=f"foo-{i}", namespace="baz", uid="bar", api_version="version"
                )
                recorder.eventf(ref, EVENT_TYPE_NORMAL, f"Reason-{i}", "%s", str(i))

        senders = [threading.Thread(target=send, args=(s,)) for s in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(TIMEOUT)
        for _ in range(MAX_QUEUED_EVENTS):
            recorder_called.get(timeout=TIMEOUT)
            logger_called.get(timeout=TIMEOUT)
    finally:
        event_log.disabled = old_disabled
    assert all(c >= 5 for c in counts)
    sink_watcher.stop()
    log_watcher.stop()


def test_eventf_no_namespace(broadcaster: EventBroadcasterImpl) -> None:
    test_ref = pod_ref("foo", None, "bar", "spec.containers[2]")
    expect = expected_event(
        "default", None, "bar", "spec.containers[2]", "Started", "some verbose message: 1", 1
    )
    expect_log = (
        'Event(v1.ObjectReference{Kind:"Pod", Namespace:"", Name:"foo", UID:"bar", '
        'APIVersion:"v1", ResourceVersion:"", FieldPath:"spec.containers[2]"}): '
        "type: 'Normal' reason: 'Started' some verbose message: 1"
    )
    test_cache: dict[str, CoreV1Event] = {}
    create_event: queue.Queue[CoreV1Event] = queue.Queue()
    patch_event: queue.Queue[CoreV1Event] = queue.Queue()
    sink = TestEventSink(
        on_create=on_create_factory(test_cache, create_event),
        on_patch=on_patch_factory(test_cache, patch_event),
    )
    sink_watcher = broadcaster.start_recording_to_sink(sink)
    clock = FakeClock()
    recorder = recorder_with_fake_clock("eventTest", broadcaster, clock)
    clock.step(1)
    log_called: queue.Queue[str] = queue.Queue()
    log_watcher = broadcaster.start_logging(log_called.put)
    recorder.eventf(test_ref, EVENT_TYPE_NORMAL, "Started", "some verbose message: %v", 1)
    assert log_called.get(timeout=TIMEOUT) == expect_log
    validate_event("0", create_event.get(timeout=TIMEOUT), expect)
    log_watcher.stop()
    sink_watcher.stop()


def test_multi_sink_cache(broadcaster: EventBroadcasterImpl) -> None:
    table = _eventf_table()
    clock = FakeClock()
    recorder = recorder_with_fake_clock("eventTest", broadcaster, clock)

    def run(sink_index: int) -> None:
        test_cache: dict[str, CoreV1Event] = {}
        create_event: queue.Queue[CoreV1Event] = queue.Queue()
        patch_event: queue.Queue[CoreV1Event] = queue.Queue()
        sink = TestEventSink(
            on_create=on_create_factory(test_cache, create_event),
            on_patch=on_patch_factory(test_cache, patch_event),
        )
        sink_watcher = broadcaster.start_recording_to_sink(sink)
        for index, (obj, reason, expect, _, _, update) in enumerate(table):
            clock.step(1)
            message_fmt = (
                "some other verbose message: %v"
                if reason == "Killed"
                else "some verbose message: %v"
            )
            recorder.eventf(obj, EVENT_TYPE_NORMAL, reason, message_fmt, 1)
            actual = (patch_event if update else create_event).get(timeout=TIMEOUT)
            validate_event(f"{sink_index}/{index}", actual, expect)
        sink_watcher.stop()

    run(1)
    # Another start_recording_to_sink starts with a clean cache.
    run(2)


def _threads_started_by(fn: Callable[[], None]) -> set[threading.Thread]:
    before = set(threading.enumerate())
    fn()
    return set(threading.enumerate()) - before


def _all_ended(threads: set[threading.Thread]) -> bool:
    for t in threads:
        t.join(TIMEOUT)
    return not any(t.is_alive() for t in threads)


def test_broadcaster_shutdown() -> None:
    stop = threading.Event()
    holder: list[EventBroadcasterImpl] = []

    def start() -> None:
        caster = new_broadcaster(stop=stop)
        caster.start_structured_logging(0)
        holder.append(caster)

    started = _threads_started_by(start)
    assert started
    # Cancelling the context is enough: no shutdown() call.
    stop.set()
    assert _all_ended(started)
    assert holder[0].is_cancelled()


def test_start_event_watcher_exits_on_direct_shutdown() -> None:
    holder: list[EventBroadcasterImpl] = []

    def start() -> None:
        caster = new_broadcaster(sleep_duration=0)
        caster.start_structured_logging(0)
        holder.append(caster)

    started = _threads_started_by(start)
    holder[0].shutdown()
    assert _all_ended(started)


# --- beyond the upstream tests -------------------------------------------------------


def test_full_queue_drops_events_without_blocking(caplog: pytest.LogCaptureFixture) -> None:
    caster = new_broadcaster(sleep_duration=0)
    recorder = caster.new_recorder("eventTest")
    received: queue.Queue[CoreV1Event] = queue.Queue()
    watcher = caster.start_event_watcher(received.put)
    gate = threading.Event()
    # Park the distribution thread on a function item so nothing leaves the incoming queue.
    parked = threading.Event()

    def park() -> None:
        parked.set()
        gate.wait(TIMEOUT)

    assert caster.broadcaster._incoming.try_send(WatchEvent("internal-do-function", park))
    assert parked.wait(TIMEOUT)
    try:
        ref = V1ObjectReference(kind="Pod", name="p", namespace="ns")
        with caplog.at_level(logging.ERROR, logger="jobctl.record.event"):
            for i in range(MAX_QUEUED_EVENTS + 5):
                recorder.eventf(ref, EVENT_TYPE_WARNING, "Reason", "message %d", i)
        dropped = [r for r in caplog.records if "too many queued events" in r.getMessage()]
        assert len(dropped) == 5
    finally:
        gate.set()
    for _ in range(MAX_QUEUED_EVENTS):
        received.get(timeout=TIMEOUT)
    watcher.stop()
    caster.shutdown()


def test_first_retry_sleeps_a_random_fraction_on_the_clock() -> None:
    clock = FakeClock()
    caster = new_broadcaster(sleep_duration=10, clock=clock, rand=lambda: 0.5)
    attempts: list[datetime] = []

    def on_create(event: CoreV1Event) -> CoreV1Event:
        attempts.append(clock.now())
        if len(attempts) < 3:
            raise RuntimeError("transport down")
        return event

    ev = CoreV1Event(
        metadata=V1ObjectMeta(name="e", namespace="ns"), involved_object=V1ObjectReference()
    )
    done = threading.Event()

    def record() -> None:
        caster.record_to_sink(TestEventSink(on_create=on_create), ev, new_event_correlator(clock))
        done.set()

    threading.Thread(target=record, daemon=True).start()
    start = clock.now()
    assert clock.wait_for_waiters(1)
    assert len(attempts) == 1
    clock.step(4.9)
    assert len(attempts) == 1
    clock.step(0.1)
    assert clock.wait_for_waiters(1)
    assert len(attempts) == 2
    assert attempts[1] - start == timedelta(seconds=5)
    clock.step(9.9)
    assert len(attempts) == 2
    clock.step(0.1)
    assert done.wait(TIMEOUT)
    assert [(a - start).total_seconds() for a in attempts] == [0, 5, 15]
    caster.shutdown()


def test_shutdown_interrupts_retry_sleep() -> None:
    clock = FakeClock()
    caster = new_broadcaster(sleep_duration=10, clock=clock, rand=lambda: 1.0)
    attempts = 0

    def on_create(event: CoreV1Event) -> CoreV1Event:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("transport down")

    ev = CoreV1Event(metadata=V1ObjectMeta(), involved_object=V1ObjectReference())
    done = threading.Event()

    def record() -> None:
        caster.record_to_sink(TestEventSink(on_create=on_create), ev, new_event_correlator(clock))
        done.set()

    threading.Thread(target=record, daemon=True).start()
    assert clock.wait_for_waiters(1)
    caster.shutdown()
    assert done.wait(TIMEOUT)
    assert attempts == 1


def test_event_sink_impl_over_fake_clientset() -> None:
    client = FakeClientset()
    caster = new_broadcaster(sleep_duration=0)
    created: queue.Queue[str] = queue.Queue()

    def watch_create(action: Any) -> tuple[bool, Any, BaseException | None]:
        created.put(action.verb)
        return False, None, None

    client.prepend_reactor("*", "events", watch_create)
    caster.start_recording_to_sink(EventSinkImpl(client.core_v1()))
    clock = FakeClock()
    recorder = caster.new_recorder("job-controller", clock=clock)
    job = V1Job(metadata=V1ObjectMeta(name="j", namespace="ns", uid="ju"))
    recorder.eventf(job, EVENT_TYPE_NORMAL, "SuccessfulCreate", "Created pod: %v", "p-1")
    assert created.get(timeout=TIMEOUT) == "create"
    clock.step(1)
    recorder.eventf(job, EVENT_TYPE_NORMAL, "SuccessfulCreate", "Created pod: %v", "p-1")
    assert created.get(timeout=TIMEOUT) == "patch"
    caster.shutdown()
    events = client.core_v1().events("ns").list().items
    assert len(events) == 1
    event = events[0]
    assert event.metadata is not None and event.metadata.name is not None
    assert re.fullmatch(r"j\.[0-9a-f]+", event.metadata.name)
    assert event.count == 2
    assert event.message == "Created pod: p-1"
    assert event.reporting_component == "job-controller"
    assert event.involved_object.kind == "Job"
    assert event.involved_object.api_version == "batch/v1"
    assert event.source is not None and event.source.component == "job-controller"

    other_ns = EventSinkImpl(client.core_v1(), "elsewhere")
    with pytest.raises(ValueError, match="can't create an event with namespace 'ns'"):
        other_ns.create(event)


def test_unsupported_event_type_is_not_recorded(caplog: pytest.LogCaptureFixture) -> None:
    caster = new_broadcaster(sleep_duration=0)
    received: queue.Queue[CoreV1Event] = queue.Queue()
    caster.start_event_watcher(received.put)
    recorder = caster.new_recorder("c")
    ref = V1ObjectReference(kind="Pod", name="p", namespace="ns")
    with caplog.at_level(logging.ERROR, logger="jobctl.record.event"):
        recorder.event(ref, "Bogus", "Reason", "m")
        recorder.event(object(), EVENT_TYPE_NORMAL, "Reason", "m")
    recorder.annotated_eventf(ref, {"k": "v"}, EVENT_TYPE_WARNING, "Reason", "%d pods", 3)
    event = received.get(timeout=TIMEOUT)
    assert (event.type, event.message) == (EVENT_TYPE_WARNING, "3 pods")
    assert event.metadata is not None and event.metadata.annotations == {"k": "v"}
    assert "Unsupported event type" in caplog.text
    assert "Could not construct reference" in caplog.text
    caster.shutdown()


_GENERATE_EVENT_NAME_CASES = [
    ("valid name", "test-pod", "test-pod.178959f726d80ec"),
    ("invalid name - too long", "x" * 300, ""),
    ("invalid name - upper case", "test.POD", ""),
    ("invalid name - special chars", "test.pod/invalid!chars?", ""),
    (
        "invalid name - special chars and non alphanumeric starting character",
        "--test.pod/invalid!chars?",
        "",
    ),
]


@pytest.mark.parametrize(
    ("ref_name", "expected"),
    [c[1:] for c in _GENERATE_EVENT_NAME_CASES],
    ids=[c[0] for c in _GENERATE_EVENT_NAME_CASES],
)
def test_generate_event_name(ref_name: str, expected: str) -> None:
    actual = generate_event_name(ref_name, 105999103295324396)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", actual)
    assert len(actual) <= 253
    if expected:
        assert actual == expected


def test_fake_recorder() -> None:
    recorder = new_fake_recorder(10)
    job = V1Job(api_version="batch/v1", kind="Job", metadata=V1ObjectMeta(name="j"))
    recorder.event(job, EVENT_TYPE_NORMAL, "Completed", "Job completed")
    recorder.eventf(job, EVENT_TYPE_WARNING, "BackoffLimitExceeded", "%s has %d failures", "j", 7)
    recorder.include_object = True
    recorder.annotated_eventf(job, {"b": "2", "a": "1"}, EVENT_TYPE_NORMAL, "R", "m %v", True)
    assert recorder.drain() == [
        "Normal Completed Job completed",
        "Warning BackoffLimitExceeded j has 7 failures",
        "Normal R m true involvedObject{kind=Job,apiVersion=batch/v1} map[a:1 b:2]",
    ]
    silent = FakeRecorder()
    silent.event(job, EVENT_TYPE_NORMAL, "x", "y")
    assert silent.drain() == []


@pytest.mark.parametrize(
    ("fmt", "args", "want"),
    [
        ("Created pod: %v", ("p-1",), "Created pod: p-1"),
        ("%d/%d done", (3, 4), "3/4 done"),
        ("quoted %q", ('a"b',), 'quoted "a\\"b"'),
        ("100%% %s", ("sure",), "100% sure"),
        ("missing %v", (), "missing %!v(MISSING)"),
        ("extra", (1,), "extra%!(EXTRA int=1)"),
        ("bad %d", ("x",), "bad %!d(str=x)"),
        ("list %v", ([1, 2],), "list [1 2]"),
        ("none %v", (None,), "none <nil>"),
    ],
)
def test_go_sprintf(fmt: str, args: tuple[Any, ...], want: str) -> None:
    assert go_sprintf(fmt, *args) == want


@pytest.mark.parametrize(("verbosity", "level"), [(0, logging.INFO), (3, 15), (5, logging.DEBUG)])
def test_structured_logging_level(verbosity: int, level: int) -> None:
    caster = new_broadcaster(sleep_duration=0)
    handler = _QueueHandler()
    levels: queue.Queue[int] = queue.Queue()
    handler.emit = lambda record: levels.put(record.levelno)  # type: ignore[method-assign]
    event_logger = logging.getLogger("jobctl.record.event")
    event_logger.addHandler(handler)
    old_level = event_logger.level
    event_logger.setLevel(1)
    try:
        caster.start_structured_logging(verbosity)
        caster.new_recorder("c").event(
            V1ObjectReference(kind="Pod", name="p", namespace="ns"), EVENT_TYPE_NORMAL, "R", "m"
        )
        assert levels.get(timeout=TIMEOUT) == level
    finally:
        event_logger.removeHandler(handler)
        event_logger.setLevel(old_level)
        caster.shutdown()
