"""Event correlation: port of k8s.io/client-go/tools/record/events_cache.go.

Before an event goes to the API server, the ``EventCorrelator`` runs it through:

1. the ``EventAggregator``: when 10 events that differ only in their message arrive
   within 10 minutes, it replaces them by one "(combined from similar events)" event;
2. the event logger (``_EventLogger``): an event seen before becomes a patch of the
   first occurrence (count + 1, new lastTimestamp and message);
3. the ``EventSourceObjectSpamFilter``: a token bucket per source and object (burst 25,
   one more every 5 minutes) drops the rest.

Every cache is an LRU of 4096 keys. The keys are built exactly as upstream builds them.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubernetes.client import CoreV1Event, V1ObjectMeta

from jobctl.client.flowcontrol import (
    PassiveRateLimiter,
    new_token_bucket_passive_rate_limiter_with_clock,
)
from jobctl.k8s_libs.clock import PassiveClock, RealClock

if TYPE_CHECKING:
    from jobctl.record.event import CorrelatorOptions

MAX_LRU_CACHE_ENTRIES = 4096

# Aggregate once the same event, differing only by message, is seen more than 10 times
# in 10 minutes.
DEFAULT_AGGREGATE_MAX_EVENTS = 10
DEFAULT_AGGREGATE_INTERVAL_IN_SECONDS = 600

# A source may send 25 events about an object, then one more every 5 minutes.
DEFAULT_SPAM_BURST = 25
DEFAULT_SPAM_QPS = 1.0 / 300.0

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EventSpamKeyFunc = Callable[[CoreV1Event], str]
EventFilterFunc = Callable[[CoreV1Event], bool]
EventAggregatorKeyFunc = Callable[[CoreV1Event], tuple[str, str]]
EventAggregatorMessageFunc = Callable[[CoreV1Event], str]


def event_value_copy(event: CoreV1Event) -> CoreV1Event:
    """The Python twin of Go's ``eventCopy := *event`` (a copy of the Event struct).

    Go copies the struct's value fields (ObjectMeta, InvolvedObject, Source and the
    scalars) and shares what they point to (maps, slices, Series, Related). The same here:
    the event, its metadata, its involved object and its source are new objects, the rest
    is shared, so setting any field of the copy or of those three leaves ``event`` as it
    was. Much cheaper than a deep copy, which the correlator does not need: it only sets
    fields, as in Go.
    """
    copied = event.model_copy()
    if event.metadata is not None:
        copied.metadata = event.metadata.model_copy()
    if event.involved_object is not None:
        copied.involved_object = event.involved_object.model_copy()
    if event.source is not None:
        copied.source = event.source.model_copy()
    return copied


class _LRUCache:
    """Port of k8s.io/utils/lru.Cache (Get and Add), thread-safe."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Any, bool]:
        with self._lock:
            if key not in self._entries:
                return None, False
            self._entries.move_to_end(key)
            return self._entries[key], True

    def add(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if self._max_entries > 0 and len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _s(value: str | None) -> str:
    return value or ""


def get_event_key(event: CoreV1Event) -> str:
    """Port of getEventKey (events_cache.go): source, involved object, type, reason and message."""
    source = event.source
    ref = event.involved_object
    return "".join(
        [
            _s(source.component if source else None),
            _s(source.host if source else None),
            _s(ref.kind),
            _s(ref.namespace),
            _s(ref.name),
            _s(ref.field_path),
            _s(ref.uid),
            _s(ref.api_version),
            _s(event.type),
            _s(event.reason),
            _s(event.message),
        ]
    )


def get_spam_key(event: CoreV1Event) -> str:
    """Port of getSpamKey (events_cache.go): source and involved object (no field path) and type."""
    source = event.source
    ref = event.involved_object
    return "".join(
        [
            _s(source.component if source else None),
            _s(source.host if source else None),
            _s(ref.kind),
            _s(ref.namespace),
            _s(ref.name),
            _s(ref.uid),
            _s(ref.api_version),
            _s(event.type),
        ]
    )


class EventSourceObjectSpamFilter:
    """Port of EventSourceObjectSpamFilter: rate-limits events per source and object."""

    def __init__(
        self,
        lru_cache_size: int,
        burst: int,
        qps: float,
        clock: PassiveClock,
        spam_key_func: EventSpamKeyFunc,
    ) -> None:
        self._cache = _LRUCache(lru_cache_size)
        self._burst = burst
        self._qps = qps
        self._clock = clock
        self._spam_key_func = spam_key_func

    def filter(self, event: CoreV1Event) -> bool:
        """Port of EventSourceObjectSpamFilter.Filter: True if the event must be dropped.

        Go twin: EventSourceObjectSpamFilter.Filter (events_cache.go).
        """
        event_key = self._spam_key_func(event)
        value, found = self._cache.get(event_key)
        record: _SpamRecord = value if found else _SpamRecord()
        if record.rate_limiter is None:
            record.rate_limiter = new_token_bucket_passive_rate_limiter_with_clock(
                self._qps, self._burst, self._clock
            )
        skip = not record.rate_limiter.try_accept()
        self._cache.add(event_key, record)
        return skip


def new_event_source_object_spam_filter(
    lru_cache_size: int,
    burst: int,
    qps: float,
    clock: PassiveClock,
    spam_key_func: EventSpamKeyFunc,
) -> EventSourceObjectSpamFilter:
    """Port of NewEventSourceObjectSpamFilter (events_cache.go)."""
    return EventSourceObjectSpamFilter(lru_cache_size, burst, qps, clock, spam_key_func)


@dataclass
class _SpamRecord:
    """Port of spamRecord."""

    rate_limiter: PassiveRateLimiter | None = None


def event_aggregator_by_reason_func(event: CoreV1Event) -> tuple[str, str]:
    """Port of EventAggregatorByReasonFunc: group by everything but the message.

    Go twin: EventAggregatorByReasonFunc (events_cache.go).
    """
    source = event.source
    ref = event.involved_object
    aggregate_key = "".join(
        [
            _s(source.component if source else None),
            _s(source.host if source else None),
            _s(ref.kind),
            _s(ref.namespace),
            _s(ref.name),
            _s(ref.uid),
            _s(ref.api_version),
            _s(event.type),
            _s(event.reason),
            _s(event.reporting_component),
            _s(event.reporting_instance),
        ]
    )
    return aggregate_key, _s(event.message)


def event_aggregator_by_reason_message_func(event: CoreV1Event) -> str:
    """Port of EventAggregatorByReasonMessageFunc (events_cache.go)."""
    return "(combined from similar events): " + _s(event.message)


@dataclass
class _AggregateRecord:
    """Port of aggregateRecord: distinct messages seen and when the group was last seen."""

    local_keys: set[str]
    last_timestamp: datetime | None = None


def _unix_nano(t: datetime) -> int:
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class EventAggregator:
    """Port of EventAggregator: folds similar events into one aggregate event."""

    def __init__(
        self,
        lru_cache_size: int,
        key_func: EventAggregatorKeyFunc,
        message_func: EventAggregatorMessageFunc,
        max_events: int,
        max_interval_in_seconds: int,
        clock: PassiveClock,
    ) -> None:
        self._lock = threading.Lock()
        self._cache = _LRUCache(lru_cache_size)
        self._key_func = key_func
        self._message_func = message_func
        self._max_events = max_events
        self._max_interval_in_seconds = max_interval_in_seconds
        self._clock = clock

    def event_aggregate(self, new_event: CoreV1Event) -> tuple[CoreV1Event, str]:
        """Port of EventAggregator.EventAggregate: the event to record and its cache key.

        Go twin: EventAggregator.EventAggregate (events_cache.go).
        """
        now = self._clock.now()
        event_key = get_event_key(new_event)
        aggregate_key, local_key = self._key_func(new_event)
        with self._lock:
            value, found = self._cache.get(aggregate_key)
            record: _AggregateRecord = (
                value if found else _AggregateRecord(local_keys=set(), last_timestamp=None)
            )
            if (
                record.last_timestamp is None
                or (now - record.last_timestamp).total_seconds() > self._max_interval_in_seconds
            ):
                record = _AggregateRecord(local_keys=set())
            record.local_keys.add(local_key)
            record.last_timestamp = now
            self._cache.add(aggregate_key, record)

            if len(record.local_keys) < self._max_events:
                return new_event, event_key

            # Keep the set from growing past the threshold.
            record.local_keys.pop()

            namespace = new_event.metadata.namespace if new_event.metadata else None
            event_copy = CoreV1Event(
                metadata=V1ObjectMeta(
                    name=f"{_s(new_event.involved_object.name)}.{_unix_nano(now):x}",
                    namespace=namespace,
                ),
                count=1,
                first_timestamp=now,
                involved_object=new_event.involved_object.model_copy(),
                last_timestamp=now,
                message=self._message_func(new_event),
                type=new_event.type,
                reason=new_event.reason,
                source=new_event.source.model_copy() if new_event.source else None,
            )
            return event_copy, aggregate_key


def new_event_aggregator(
    lru_cache_size: int,
    key_func: EventAggregatorKeyFunc,
    message_func: EventAggregatorMessageFunc,
    max_events: int,
    max_interval_in_seconds: int,
    clock: PassiveClock,
) -> EventAggregator:
    """Port of NewEventAggregator (events_cache.go)."""
    return EventAggregator(
        lru_cache_size, key_func, message_func, max_events, max_interval_in_seconds, clock
    )


@dataclass
class _EventLog:
    """Port of eventLog: what is known about the first occurrence of an event."""

    count: int = 0
    first_timestamp: datetime | None = None
    name: str = ""
    resource_version: str = ""


def _event_json(event: CoreV1Event) -> dict[str, Any]:
    data: dict[str, Any] = event.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data


def create_two_way_merge_patch(original: dict[str, Any], modified: dict[str, Any]) -> bytes:
    """The patch turning ``original`` into ``modified`` (strategicpatch.CreateTwoWayMergePatch).

    Maps are diffed recursively; a changed list or scalar is sent whole, a removed key
    as null. That equals the strategic patch for an Event, whose fields that change
    between occurrences (count, lastTimestamp, message) are scalars.
    """
    return json.dumps(
        _diff_maps(original, modified), separators=(",", ":"), sort_keys=True
    ).encode()


def _diff_maps(original: dict[str, Any], modified: dict[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, value in modified.items():
        if key not in original:
            patch[key] = value
        elif isinstance(value, dict) and isinstance(original[key], dict):
            sub = _diff_maps(original[key], value)
            if sub:
                patch[key] = sub
        elif value != original[key]:
            patch[key] = value
    for key in original:
        if key not in modified:
            patch[key] = None
    return patch


class _EventLogger:
    """Port of eventLogger: counts occurrences of each event key."""

    def __init__(self, lru_cache_entries: int, clock: PassiveClock) -> None:
        self._lock = threading.Lock()
        self._cache = _LRUCache(lru_cache_entries)
        self._clock = clock

    def event_observe(self, new_event: CoreV1Event, key: str) -> tuple[CoreV1Event, bytes | None]:
        """Port of eventLogger.eventObserve: the event to send and, for a repeat, its patch.

        Go twin: eventLogger.eventObserve (events_cache.go).
        """
        event = event_value_copy(new_event)
        patch: bytes | None = None
        with self._lock:
            last = self._last_event_observation_from_cache(key)
            if last.count > 0:
                if event.metadata is None:
                    event.metadata = V1ObjectMeta()
                event.metadata.name = last.name
                event.metadata.resource_version = last.resource_version or None
                event.first_timestamp = last.first_timestamp
                event.count = last.count + 1

                event_copy2 = event_value_copy(event)
                event_copy2.count = 0
                event_copy2.last_timestamp = _EPOCH
                event_copy2.message = ""
                patch = create_two_way_merge_patch(_event_json(event_copy2), _event_json(event))

            self._cache.add(
                key,
                _EventLog(
                    count=event.count or 0,
                    first_timestamp=event.first_timestamp,
                    name=_s(event.metadata.name if event.metadata else None),
                    resource_version=_s(
                        event.metadata.resource_version if event.metadata else None
                    ),
                ),
            )
        return event, patch

    def update_state(self, event: CoreV1Event) -> None:
        """Port of eventLogger.updateState: remember the server's name and version.

        Go twin: eventLogger.updateState (events_cache.go).
        """
        key = get_event_key(event)
        with self._lock:
            self._cache.add(
                key,
                _EventLog(
                    count=event.count or 0,
                    first_timestamp=event.first_timestamp,
                    name=_s(event.metadata.name if event.metadata else None),
                    resource_version=_s(
                        event.metadata.resource_version if event.metadata else None
                    ),
                ),
            )

    def _last_event_observation_from_cache(self, key: str) -> _EventLog:
        """Port of eventLogger.lastEventObservationFromCache (caller holds the lock).

        Go twin: eventLogger.lastEventObservationFromCache (events_cache.go).
        """
        value, ok = self._cache.get(key)
        if ok and isinstance(value, _EventLog):
            return value
        return _EventLog()


def new_event_logger(lru_cache_entries: int, clock: PassiveClock) -> _EventLogger:
    """Port of newEventLogger (events_cache.go)."""
    return _EventLogger(lru_cache_entries, clock)


@dataclass
class EventCorrelateResult:
    """Port of EventCorrelateResult."""

    event: CoreV1Event | None = None
    # A strategic merge patch to send instead of a create, when set.
    patch: bytes | None = None
    skip: bool = False


class EventCorrelator:
    """Port of EventCorrelator: filter, aggregate and count events before they are sent."""

    def __init__(
        self, filter_func: EventFilterFunc, aggregator: EventAggregator, logger: _EventLogger
    ) -> None:
        self._filter_func = filter_func
        self._aggregator = aggregator
        self._logger = logger

    def event_correlate(self, new_event: CoreV1Event | None) -> EventCorrelateResult:
        """Port of EventCorrelator.EventCorrelate (events_cache.go)."""
        if new_event is None:
            raise ValueError("event is nil")
        aggregate_event, ckey = self._aggregator.event_aggregate(new_event)
        observed_event, patch = self._logger.event_observe(aggregate_event, ckey)
        if self._filter_func(observed_event):
            return EventCorrelateResult(skip=True)
        return EventCorrelateResult(event=observed_event, patch=patch)

    def update_state(self, event: CoreV1Event) -> None:
        """Port of EventCorrelator.UpdateState (events_cache.go)."""
        self._logger.update_state(event)


def new_event_correlator(clock: PassiveClock) -> EventCorrelator:
    """Port of NewEventCorrelator (events_cache.go): the default limits."""
    cache_size = MAX_LRU_CACHE_ENTRIES
    spam_filter = new_event_source_object_spam_filter(
        cache_size, DEFAULT_SPAM_BURST, DEFAULT_SPAM_QPS, clock, get_spam_key
    )
    return EventCorrelator(
        spam_filter.filter,
        new_event_aggregator(
            cache_size,
            event_aggregator_by_reason_func,
            event_aggregator_by_reason_message_func,
            DEFAULT_AGGREGATE_MAX_EVENTS,
            DEFAULT_AGGREGATE_INTERVAL_IN_SECONDS,
            clock,
        ),
        new_event_logger(cache_size, clock),
    )


def new_event_correlator_with_options(options: CorrelatorOptions) -> EventCorrelator:
    """Port of NewEventCorrelatorWithOptions (events_cache.go)."""
    opts = populate_defaults(options)
    assert opts.clock is not None
    assert opts.spam_key_func is not None
    assert opts.key_func is not None
    assert opts.message_func is not None
    spam_filter = new_event_source_object_spam_filter(
        opts.lru_cache_size, opts.burst_size, opts.qps, opts.clock, opts.spam_key_func
    )
    return EventCorrelator(
        spam_filter.filter,
        new_event_aggregator(
            opts.lru_cache_size,
            opts.key_func,
            opts.message_func,
            opts.max_events,
            opts.max_interval_in_seconds,
            opts.clock,
        ),
        new_event_logger(opts.lru_cache_size, opts.clock),
    )


def populate_defaults(options: CorrelatorOptions) -> CorrelatorOptions:
    """Port of populateDefaults (events_cache.go): zero values become the defaults above."""
    return dataclasses.replace(
        options,
        lru_cache_size=options.lru_cache_size or MAX_LRU_CACHE_ENTRIES,
        burst_size=options.burst_size or DEFAULT_SPAM_BURST,
        qps=options.qps or DEFAULT_SPAM_QPS,
        key_func=options.key_func or event_aggregator_by_reason_func,
        message_func=options.message_func or event_aggregator_by_reason_message_func,
        max_events=options.max_events or DEFAULT_AGGREGATE_MAX_EVENTS,
        max_interval_in_seconds=(
            options.max_interval_in_seconds or DEFAULT_AGGREGATE_INTERVAL_IN_SECONDS
        ),
        clock=options.clock or RealClock(),
        spam_key_func=options.spam_key_func or get_spam_key,
    )
