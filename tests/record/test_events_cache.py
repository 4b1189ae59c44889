"""Ports of k8s.io/client-go/tools/record/events_cache_test.go."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes.client import CoreV1Event, V1EventSource, V1ObjectMeta, V1ObjectReference

from jobctl.k8s_libs.clock import FakeClock
from jobctl.record.event import CorrelatorOptions
from jobctl.record.events_cache import (
    DEFAULT_AGGREGATE_INTERVAL_IN_SECONDS,
    DEFAULT_AGGREGATE_MAX_EVENTS,
    DEFAULT_SPAM_BURST,
    EventSpamKeyFunc,
    _LRUCache,
    create_two_way_merge_patch,
    event_aggregator_by_reason_func,
    event_aggregator_by_reason_message_func,
    get_event_key,
    get_spam_key,
    new_event_correlator,
    new_event_correlator_with_options,
)
from jobctl.record.util import EVENT_TYPE_NORMAL


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


def make_object_reference(kind: str, name: str, namespace: str) -> V1ObjectReference:
    return V1ObjectReference(
        kind=kind,
        name=name,
        namespace=namespace,
        uid="C934D34AFB20242",
        api_version="version",
        field_path="spec.containers{mycontainer}",
    )


def make_event(reason: str, message: str, involved_object: V1ObjectReference) -> CoreV1Event:
    event_time = datetime.now(UTC)
    return CoreV1Event(
        metadata=V1ObjectMeta(),
        reason=reason,
        message=message,
        involved_object=involved_object.model_copy(deep=True),
        source=V1EventSource(component="kubelet", host="kublet.node1"),
        count=1,
        first_timestamp=event_time,
        last_timestamp=event_time,
        type=EVENT_TYPE_NORMAL,
    )


def make_events(num: int, template: CoreV1Event) -> list[CoreV1Event]:
    return [template.model_copy(deep=True) for _ in range(num)]


def make_unique_events(num: int) -> list[CoreV1Event]:
    return [
        make_event(
            f"reason-{i}", f"message-{i}", make_object_reference("Pod", f"pod-{i}", f"ns-{i}")
        )
        for i in range(num)
    ]


def make_similar_events(num: int, template: CoreV1Event, message_prefix: str) -> list[CoreV1Event]:
    events = make_events(num, template)
    for i, event in enumerate(events):
        event.message = f"{message_prefix}-{i}-{event.message}"
    return events


def set_count(event: CoreV1Event, count: int) -> CoreV1Event:
    out = event.model_copy(deep=True)
    out.count = count
    return out


def validate_event(message_prefix: str, actual: CoreV1Event, expected: CoreV1Event) -> None:
    """Port of validateEvent: compare all but timestamps, name suffix and reporting fields."""
    recv = actual.model_copy(deep=True)
    expect_compression = (expected.count or 0) > 1
    assert recv.first_timestamp is not None, f"{message_prefix}: timestamp wasn't set"
    assert recv.last_timestamp is not None, f"{message_prefix}: timestamp wasn't set"
    if recv.first_timestamp == recv.last_timestamp:
        assert not expect_compression, (
            f"{message_prefix}: first and last timestamps must differ to show compression"
        )
    else:
        assert expected.count != 1, (
            f"{message_prefix}: first and last timestamps must be equal for one occurrence"
        )
    recv.first_timestamp = expected.first_timestamp
    recv.last_timestamp = expected.last_timestamp
    recv.reporting_component = expected.reporting_component
    assert recv.metadata is not None and expected.metadata is not None
    name, want_prefix = recv.metadata.name or "", expected.metadata.name or ""
    assert name.startswith(want_prefix), f"{message_prefix}: name {name!r} lacks {want_prefix!r}"
    recv.metadata.name = expected.metadata.name
    assert recv.model_dump(exclude_none=True) == expected.model_dump(exclude_none=True), (
        message_prefix
    )


def test_event_aggregator_by_reason_func() -> None:
    event1 = make_event("end-of-world", "it was fun", make_object_reference("Pod", "pod1", "other"))
    event2 = make_event(
        "end-of-world", "it was awful", make_object_reference("Pod", "pod1", "other")
    )
    event3 = make_event("nevermind", "it was a bug", make_object_reference("Pod", "pod1", "other"))
    agg_key1, local_key1 = event_aggregator_by_reason_func(event1)
    agg_key2, local_key2 = event_aggregator_by_reason_func(event2)
    agg_key3, _ = event_aggregator_by_reason_func(event3)
    assert agg_key1 == agg_key2
    assert local_key1 != local_key2
    assert agg_key1 != agg_key3


def test_event_aggregator_by_reason_message_func() -> None:
    event1 = make_event("end-of-world", "it was fun", make_object_reference("Pod", "pod1", "other"))
    actual = event_aggregator_by_reason_message_func(event1)
    assert actual.startswith("(combined from similar events): ")


def _correlator_scenarios() -> dict[str, tuple[list[CoreV1Event], CoreV1Event, Any, int, bool]]:
    first_event = make_event("first", "i am first", make_object_reference("Pod", "my-pod", "my-ns"))
    duplicate_event = make_event(
        "duplicate", "me again", make_object_reference("Pod", "my-pod", "my-ns")
    )
    unique_event = make_event(
        "unique", "snowflake", make_object_reference("Pod", "my-pod", "my-ns")
    )
    similar_event = make_event(
        "similar", "similar message", make_object_reference("Pod", "my-pod", "my-ns")
    )
    similar_event.involved_object.field_path = "spec.containers{container1}"
    aggregate_event = make_event(
        similar_event.reason or "",
        event_aggregator_by_reason_message_func(similar_event),
        similar_event.involved_object,
    )
    similar_but_different_container_event = similar_event.model_copy(deep=True)
    similar_but_different_container_event.involved_object.field_path = "spec.containers{container2}"
    # name: (previous events, new event, expected event, interval seconds, expected skip)
    return {
        "create-a-single-event": ([], first_event, set_count(first_event, 1), 5, False),
        "the-same-event-should-just-count": (
            make_events(1, duplicate_event),
            duplicate_event,
            set_count(duplicate_event, 2),
            5,
            False,
        ),
        "the-same-event-should-just-count-even-if-more-than-aggregate": (
            make_events(DEFAULT_AGGREGATE_MAX_EVENTS, duplicate_event),
            duplicate_event,
            set_count(duplicate_event, DEFAULT_AGGREGATE_MAX_EVENTS + 1),
            30,
            False,
        ),
        "the-same-event-is-spam-if-happens-too-frequently": (
            make_events(DEFAULT_SPAM_BURST + 1, duplicate_event),
            duplicate_event,
            None,
            1,
            True,
        ),
        "create-many-unique-events": (
            make_unique_events(30),
            unique_event,
            set_count(unique_event, 1),
            5,
            False,
        ),
        "similar-events-should-aggregate-event": (
            make_similar_events(
                DEFAULT_AGGREGATE_MAX_EVENTS - 1, similar_event, similar_event.message or ""
            ),
            similar_event,
            set_count(aggregate_event, 1),
            5,
            False,
        ),
        "similar-events-many-times-should-count-the-aggregate": (
            make_similar_events(
                DEFAULT_AGGREGATE_MAX_EVENTS, similar_event, similar_event.message or ""
            ),
            similar_event,
            set_count(aggregate_event, 2),
            5,
            False,
        ),
        "events-from-different-containers-do-not-aggregate": (
            make_events(1, similar_but_different_container_event),
            similar_event,
            set_count(similar_event, 1),
            5,
            False,
        ),
        "similar-events-whose-interval-is-greater-than-aggregate-interval-do-not-aggregate": (
            make_similar_events(
                DEFAULT_AGGREGATE_MAX_EVENTS - 1, similar_event, similar_event.message or ""
            ),
            similar_event,
            set_count(similar_event, 1),
            DEFAULT_AGGREGATE_INTERVAL_IN_SECONDS,
            False,
        ),
    }


_SCENARIOS = _correlator_scenarios()


@pytest.mark.parametrize("scenario", list(_SCENARIOS), ids=list(_SCENARIOS))
def test_event_correlator(scenario: str) -> None:
    previous_events, new_event, expected_event, interval_seconds, expected_skip = _SCENARIOS[
        scenario
    ]
    clock = SimpleIntervalClock(datetime.now(UTC), interval_seconds)
    correlator = new_event_correlator(clock)
    for template in previous_events:
        event = template.model_copy(deep=True)
        now = clock.now()
        event.first_timestamp = now
        event.last_timestamp = now
        result = correlator.event_correlate(event)
        # A skipped event does not update the state.
        if not result.skip:
            assert result.event is not None
            correlator.update_state(result.event)

    event = new_event.model_copy(deep=True)
    now = clock.now()
    event.first_timestamp = now
    event.last_timestamp = now
    result = correlator.event_correlate(event)
    assert result.skip == expected_skip
    if expected_skip:
        return
    assert result.event is not None
    validate_event(scenario, result.event, expected_event)


def _spam_key_func_based_on_objects_and_reason(e: CoreV1Event) -> str:
    ref = e.involved_object
    source = e.source or V1EventSource()
    return "".join(
        [
            source.component or "",
            source.host or "",
            ref.kind or "",
            ref.namespace or "",
            ref.name or "",
            ref.uid or "",
            ref.api_version or "",
            e.reason or "",
        ]
    )


_ORIGINAL_EVENT = make_event(
    "original", "i am first", make_object_reference("Pod", "my-pod", "my-ns")
)
_DIFFERENT_REASON_EVENT = make_event(
    "duplicate", "me again", make_object_reference("Pod", "my-pod", "my-ns")
)
_SPAM_EVENT = make_event("original", "me again", make_object_reference("Pod", "my-pod", "my-ns"))

_SPAM_FILTER_CASES: list[
    tuple[str, CoreV1Event, CoreV1Event | None, bool, EventSpamKeyFunc | None]
] = [
    (
        "event should be reported as spam if object reference is the same for default spam filter",
        _DIFFERENT_REASON_EVENT,
        None,
        True,
        None,
    ),
    (
        "event should not be reported as spam if object reference is the same, but reason is "
        "different for custom spam filter",
        _DIFFERENT_REASON_EVENT,
        _DIFFERENT_REASON_EVENT,
        False,
        _spam_key_func_based_on_objects_and_reason,
    ),
    (
        "event should  be reported as spam if object reference and reason is the same, but "
        "message is different for custom spam filter",
        _SPAM_EVENT,
        None,
        True,
        _spam_key_func_based_on_objects_and_reason,
    ),
]


@pytest.mark.parametrize(
    ("new_event", "expected_event", "expected_skip", "spam_key_func"),
    [c[1:] for c in _SPAM_FILTER_CASES],
    ids=[c[0] for c in _SPAM_FILTER_CASES],
)
def test_event_spam_filter(
    new_event: CoreV1Event,
    expected_event: CoreV1Event | None,
    expected_skip: bool,
    spam_key_func: EventSpamKeyFunc | None,
) -> None:
    clock = SimpleIntervalClock(datetime.now(UTC), 1)
    correlator = new_event_correlator_with_options(
        CorrelatorOptions(clock=clock, spam_key_func=spam_key_func, burst_size=1)
    )
    result = correlator.event_correlate(_ORIGINAL_EVENT.model_copy(deep=True))
    if not result.skip:
        assert result.event is not None
        correlator.update_state(result.event)

    result = correlator.event_correlate(new_event.model_copy(deep=True))
    assert result.skip == expected_skip
    if expected_skip:
        return
    assert result.event is not None and expected_event is not None
    validate_event("spam filter", result.event, expected_event)


# --- beyond the upstream tables ------------------------------------------------------


def test_repeated_event_patch_carries_count_timestamp_and_message() -> None:
    clock = FakeClock()
    correlator = new_event_correlator(clock)
    event = make_event("r", "m", make_object_reference("Pod", "p", "ns"))
    assert event.metadata is not None
    event.metadata.name = "p.123"
    first = correlator.event_correlate(event.model_copy(deep=True))
    assert first.patch is None and first.event is not None
    server_copy = first.event.model_copy(deep=True)
    assert server_copy.metadata is not None
    server_copy.metadata.resource_version = "7"
    correlator.update_state(server_copy)

    clock.step(3)
    again = event.model_copy(deep=True)
    again.last_timestamp = clock.now()
    result = correlator.event_correlate(again)
    assert result.event is not None and result.event.metadata is not None
    assert result.event.count == 2
    assert result.event.metadata.name == "p.123"
    assert result.event.metadata.resource_version == "7"
    assert result.patch is not None
    patch = json.loads(result.patch)
    assert set(patch) == {"count", "lastTimestamp", "message"}
    assert patch["count"] == 2 and patch["message"] == "m"


def test_create_two_way_merge_patch() -> None:
    old = {"a": 1, "b": {"c": 1, "d": 2}, "e": [1], "gone": True}
    new = {"a": 1, "b": {"c": 2, "d": 2}, "e": [1, 2], "f": "x"}
    assert json.loads(create_two_way_merge_patch(old, new)) == {
        "b": {"c": 2},
        "e": [1, 2],
        "f": "x",
        "gone": None,
    }


def test_event_keys_match_upstream_layout() -> None:
    event = make_event("Reason", "Message", make_object_reference("Pod", "p", "ns"))
    assert get_event_key(event) == (
        "kubelet"
        "kublet.node1"
        "Pod"
        "ns"
        "p"
        "spec.containers{mycontainer}"
        "C934D34AFB20242"
        "version"
        "Normal"
        "Reason"
        "Message"
    )
    assert get_spam_key(event) == ("kubeletkublet.node1PodnspC934D34AFB20242versionNormal")


def test_lru_cache_evicts_least_recently_used() -> None:
    cache = _LRUCache(2)
    cache.add("a", 1)
    cache.add("b", 2)
    assert cache.get("a") == (1, True)
    cache.add("c", 3)
    assert cache.get("b") == (None, False)
    assert cache.get("a") == (1, True)
    assert cache.get("c") == (3, True)
    assert len(cache) == 2
