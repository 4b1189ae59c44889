"""Event recording: port of k8s.io/client-go/tools/record/event.go.

``new_broadcaster()`` returns an ``EventBroadcaster``. Recorders made by
``new_recorder(component, host)`` turn ``event``/``eventf`` calls into core/v1 Events
and hand them to the broadcaster without ever blocking: its queue holds 1000 events and
a full queue drops the new event with a log line. Each ``start_*`` call adds a watcher
with its own thread: ``start_recording_to_sink`` correlates events (events_cache.py) and
writes them through an ``EventSink`` (create, or patch for a repeat) with up to 12 tries,
the first retry after a random fraction of the sleep duration, later ones after the full
duration, all timed by the injected clock.

Go's contextual-logger variants (``WithLogger``, ``EventRecorderLogger``) and the
adapter to the newer events API are not ported: modules log through ``logging``.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from kubernetes.client import CoreV1Event, V1EventSource, V1ObjectMeta, V1ObjectReference

from jobctl.client.errors import (
    NAMESPACE_TERMINATING_CAUSE,
    RequestConstructionError,
    StatusError,
    has_status_cause,
    is_already_exists,
)
from jobctl.client.interface import ADDED, STRATEGIC_MERGE_PATCH, CoreV1Interface
from jobctl.k8s_libs.clock import Clock, PassiveClock, RealClock
from jobctl.record.events_cache import (
    EventAggregatorKeyFunc,
    EventAggregatorMessageFunc,
    EventCorrelator,
    EventSpamKeyFunc,
    event_value_copy,
    new_event_correlator_with_options,
)
from jobctl.record.mux import (
    DROP_IF_CHANNEL_FULL,
    Broadcaster,
    BroadcasterStoppedError,
    BroadcasterWatcher,
)
from jobctl.record.reference import get_reference
from jobctl.record.util import (
    EVENT_TYPE_NORMAL,
    EVENT_TYPE_WARNING,
    generate_event_name,
    is_key_not_found_error,
    validate_event_type,
)

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
    "go_sprintf",
    "new_broadcaster",
    "new_broadcaster_for_tests",
    "new_broadcaster_with_correlator_options",
    "record_event",
]

logger = logging.getLogger(__name__)

MAX_TRIES_PER_EVENT = 12
DEFAULT_SLEEP_DURATION = 10.0
MAX_QUEUED_EVENTS = 1000

NAMESPACE_DEFAULT = "default"


class EventSink(Protocol):
    """Port of record.EventSink: where events are stored (namespace taken from the event)."""

    def create(self, event: CoreV1Event) -> CoreV1Event: ...

    def update(self, event: CoreV1Event) -> CoreV1Event: ...

    def patch(self, old_event: CoreV1Event, data: bytes) -> CoreV1Event: ...


@dataclass
class CorrelatorOptions:
    """Port of CorrelatorOptions: zero values mean the defaults of events_cache.py."""

    lru_cache_size: int = 0
    burst_size: int = 0
    qps: float = 0.0
    key_func: EventAggregatorKeyFunc | None = None
    message_func: EventAggregatorMessageFunc | None = None
    max_events: int = 0
    max_interval_in_seconds: int = 0
    clock: PassiveClock | None = None
    spam_key_func: EventSpamKeyFunc | None = None


class EventRecorder(Protocol):
    """Port of record.EventRecorder: records events about an object, never blocking."""

    def event(self, obj: Any, event_type: str, reason: str, message: str) -> None: ...

    def eventf(
        self, obj: Any, event_type: str, reason: str, message_fmt: str, *args: Any
    ) -> None: ...

    def annotated_eventf(
        self,
        obj: Any,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message_fmt: str,
        *args: Any,
    ) -> None: ...


class EventWatcher(Protocol):
    """What the ``start_*`` methods return: ``stop()`` ends that consumer."""

    def stop(self) -> None: ...


class EventBroadcaster(Protocol):
    """Port of record.EventBroadcaster."""

    def start_event_watcher(self, handler: Callable[[CoreV1Event], None]) -> EventWatcher: ...

    def start_recording_to_sink(self, sink: EventSink) -> EventWatcher: ...

    def start_logging(self, logf: Callable[[str], None]) -> EventWatcher: ...

    def start_structured_logging(self, verbosity: int = 0) -> EventWatcher: ...

    def new_recorder(
        self,
        source: V1EventSource | str,
        host: str = "",
        clock: PassiveClock | None = None,
    ) -> EventRecorder: ...

    def shutdown(self) -> None: ...


def new_broadcaster(
    *,
    sleep_duration: float = DEFAULT_SLEEP_DURATION,
    correlator_options: CorrelatorOptions | None = None,
    stop: threading.Event | None = None,
    clock: Clock | None = None,
    rand: Callable[[], float] = random.random,
) -> EventBroadcasterImpl:
    """Port of NewBroadcaster (event.go) with its options (WithSleepDuration, WithCorrelatorOptions,
    WithContext as ``stop``).

    ``clock`` times the sink retries (Go uses time.After); ``rand`` gives the fraction
    of the first retry delay. When ``stop`` is given, setting it shuts the broadcaster
    down, so ``shutdown()`` is not required; the thread waiting for it lives until
    ``stop`` is set, even after a direct ``shutdown()``.
    """
    return EventBroadcasterImpl(
        sleep_duration=sleep_duration,
        options=correlator_options or CorrelatorOptions(),
        stop=stop,
        clock=clock or RealClock(),
        rand=rand,
    )


def new_broadcaster_for_tests(sleep_duration: float) -> EventBroadcasterImpl:
    """Port of NewBroadcasterForTests (event.go)."""
    return new_broadcaster(sleep_duration=sleep_duration)


def new_broadcaster_with_correlator_options(options: CorrelatorOptions) -> EventBroadcasterImpl:
    """Port of NewBroadcasterWithCorrelatorOptions (event.go)."""
    return new_broadcaster(correlator_options=options)


class _EmptyWatch:
    """Port of watch.NewEmptyWatch: what a failed start returns."""

    def stop(self) -> None:
        pass


class EventBroadcasterImpl:
    """Port of eventBroadcasterImpl."""

    def __init__(
        self,
        sleep_duration: float,
        options: CorrelatorOptions,
        stop: threading.Event | None,
        clock: Clock,
        rand: Callable[[], float],
    ) -> None:
        self.broadcaster = Broadcaster(
            MAX_QUEUED_EVENTS, DROP_IF_CHANNEL_FULL, incoming_queue_length=MAX_QUEUED_EVENTS
        )
        self.sleep_duration = sleep_duration
        self.options = options
        self._clock = clock
        self._rand = rand
        # cancelationCtx: set by shutdown (or by ``stop``); wakes retry sleeps.
        self._cancel_cond = threading.Condition()
        self._cancelled = False
        if stop is not None:

            def wait_for_stop() -> None:
                stop.wait()
                self.shutdown()

            threading.Thread(
                target=wait_for_stop, name="event-broadcaster-stop", daemon=True
            ).start()

    def _cancel(self) -> None:
        with self._cancel_cond:
            self._cancelled = True
            self._cancel_cond.notify_all()

    def is_cancelled(self) -> bool:
        with self._cancel_cond:
            return self._cancelled

    def start_recording_to_sink(self, sink: EventSink) -> EventWatcher:
        """Port of eventBroadcasterImpl.StartRecordingToSink: a fresh correlator per sink.

        Go twin: eventBroadcasterImpl.StartRecordingToSink (event.go).
        """
        correlator = new_event_correlator_with_options(self.options)
        return self.start_event_watcher(lambda event: self.record_to_sink(sink, event, correlator))

    def shutdown(self) -> None:
        """Port of eventBroadcasterImpl.Shutdown: deliver queued events, stop all watchers.

        Go twin: eventBroadcasterImpl.Shutdown (event.go).
        """
        self.broadcaster.shutdown()
        self._cancel()

    def record_to_sink(
        self, sink: EventSink, event: CoreV1Event, correlator: EventCorrelator
    ) -> None:
        """Port of eventBroadcasterImpl.recordToSink: correlate, then write with retries.

        Go twin: eventBroadcasterImpl.recordToSink (event.go).
        """
        # Other watchers see the same event object: work on a copy (Go: eventCopy := *event).
        event = event_value_copy(event)
        try:
            result = correlator.event_correlate(event)
        except Exception:
            logger.exception("Event correlation failed")
            return
        if result.skip or result.event is None:
            return
        tries = 0
        while True:
            if record_event(
                sink, result.event, result.patch, (result.event.count or 0) > 1, correlator
            ):
                break
            tries += 1
            if tries >= MAX_TRIES_PER_EVENT:
                logger.error("Unable to write event (retry limit exceeded!): %s", _describe(event))
                break
            # A random first delay keeps clients from retrying in lockstep after an outage.
            delay = self.sleep_duration
            if tries == 1:
                delay = delay * self._rand()
            if not self._sleep_unless_cancelled(delay):
                logger.error(
                    "Unable to write event (broadcaster is shut down): %s", _describe(event)
                )
                return

    def _sleep_unless_cancelled(self, delay: float) -> bool:
        """Wait ``delay`` seconds on the clock; False as soon as the broadcaster is cancelled."""
        with self._cancel_cond:
            if self._cancelled:
                return False
            deadline = self._clock.now() + timedelta(seconds=delay)
            while not self._cancelled:
                remaining = (deadline - self._clock.now()).total_seconds()
                if remaining <= 0:
                    return True
                self._clock.wait_on(self._cancel_cond, remaining)
            return False

    def start_logging(self, logf: Callable[[str], None]) -> EventWatcher:
        """Port of eventBroadcasterImpl.StartLogging (event.go): one formatted line per event."""

        def handle(e: CoreV1Event) -> None:
            logf(
                f"Event({_go_object_reference(e.involved_object)}): type: '{e.type or ''}' "
                f"reason: '{e.reason or ''}' {e.message or ''}"
            )

        return self.start_event_watcher(handle)

    def start_structured_logging(self, verbosity: int = 0) -> EventWatcher:
        """Port of eventBroadcasterImpl.StartStructuredLogging at klog level V(verbosity).

        Go twin: eventBroadcasterImpl.StartStructuredLogging (event.go).
        """
        level = _level_for_verbosity(verbosity)

        def handle(e: CoreV1Event) -> None:
            if not logger.isEnabledFor(level):
                return  # klog's V(n) check: build no arguments for a line nobody sees
            ref = e.involved_object
            logger.log(
                level,
                "Event occurred object=%s fieldPath=%s kind=%s apiVersion=%s type=%s "
                "reason=%s message=%s",
                _quote(_kref(ref.namespace, ref.name)),
                _quote(ref.field_path),
                _quote(ref.kind),
                _quote(ref.api_version),
                _quote(e.type),
                _quote(e.reason),
                _quote(e.message),
            )

        return self.start_event_watcher(handle)

    def start_event_watcher(self, handler: Callable[[CoreV1Event], None]) -> EventWatcher:
        """Port of eventBroadcasterImpl.StartEventWatcher: a thread feeding ``handler``.

        Go twin: eventBroadcasterImpl.StartEventWatcher (event.go).
        """
        try:
            watcher = self.broadcaster.watch()
        except BroadcasterStoppedError:
            logger.error("Unable start event watcher (will not retry!): broadcaster stopped")
            return _EmptyWatch()
        threading.Thread(
            target=self._run_watcher,
            args=(watcher, handler),
            name="event-watcher",
            daemon=True,
        ).start()
        return watcher

    def _run_watcher(
        self, watcher: BroadcasterWatcher, handler: Callable[[CoreV1Event], None]
    ) -> None:
        for watch_event in watcher:
            if self.is_cancelled():
                watcher.stop()
                return
            event = watch_event.object
            if not isinstance(event, CoreV1Event):
                continue
            try:
                handler(event)
            except Exception:  # HandleCrash: log and keep the watcher alive
                logger.exception("event handler failed")

    def new_recorder(
        self,
        source: V1EventSource | str,
        host: str = "",
        clock: PassiveClock | None = None,
    ) -> RecorderImpl:
        """Port of eventBroadcasterImpl.NewRecorder: ``source`` or a component name + host.

        Go twin: eventBroadcasterImpl.NewRecorder (event.go).
        """
        if isinstance(source, str):
            source = V1EventSource(component=source or None, host=host or None)
        return RecorderImpl(source, self.broadcaster, clock or RealClock())


def record_event(
    sink: EventSink,
    event: CoreV1Event,
    patch: bytes | None,
    update_existing_event: bool,
    correlator: EventCorrelator,
) -> bool:
    """Port of recordEvent (event.go): True when the event was written or must be abandoned.

    A StatusError (the server rejected the event) and a request that cannot be built
    are final; any other failure (transport, unexpected answer) is retried.
    """
    new_event: CoreV1Event | None = None
    err: BaseException | None = None
    if update_existing_event:
        try:
            new_event = sink.patch(event, patch or b"{}")
        except Exception as e:
            err = e
    # The patch fails with 404 when the first occurrence expired; create it again.
    if not update_existing_event or is_key_not_found_error(err):
        if event.metadata is not None:
            event.metadata.resource_version = None
        err = None
        try:
            new_event = sink.create(event)
        except Exception as e:
            err = e
    if err is None:
        if new_event is not None:
            correlator.update_state(new_event)
        return True

    if isinstance(err, RequestConstructionError):
        logger.error("Unable to construct event (will not retry!): %s: %s", _describe(event), err)
        return True
    if isinstance(err, StatusError):
        if is_already_exists(err) or has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
            logger.debug("Server rejected event (will not retry!): %s: %s", _describe(event), err)
        else:
            logger.error("Server rejected event (will not retry!): %s: %s", _describe(event), err)
        return True
    logger.error("Unable to write event (may retry after sleeping): %s: %s", _describe(event), err)
    return False


class RecorderImpl:
    """Port of recorderImpl: builds events and hands them to the broadcaster."""

    def __init__(
        self, source: V1EventSource, broadcaster: Broadcaster, clock: PassiveClock
    ) -> None:
        self.source = source
        self._broadcaster = broadcaster
        self._clock = clock

    def generate_event(
        self,
        obj: Any,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message: str,
    ) -> None:
        """Port of recorderImpl.generateEvent: queue the event or drop it, never block.

        Go twin: recorderImpl.generateEvent (event.go).
        """
        try:
            ref = get_reference(obj)
        except Exception as err:
            logger.error(
                "Could not construct reference, will not report event: %s (type %s reason %s): %s",
                type(obj).__name__,
                event_type,
                reason,
                err,
            )
            return
        if not validate_event_type(event_type):
            logger.error("Unsupported event type: %r", event_type)
            return
        event = self.make_event(ref, annotations, event_type, reason, message)
        # Go: event.Source = recorder.source (a struct of strings: a shallow copy is whole).
        event.source = self.source.model_copy()
        event.reporting_instance = self.source.host or None
        event.reporting_component = self.source.component or None
        try:
            sent = self._broadcaster.action_or_drop(ADDED, event)
        except BroadcasterStoppedError as err:
            logger.error("Unable to record event (will not retry!): %s", err)
            return
        if not sent:
            logger.error(
                "Unable to record event: too many queued events, dropped event %s",
                _describe(event),
            )

    def event(self, obj: Any, event_type: str, reason: str, message: str) -> None:
        """Port of recorderImpl.Event (event.go)."""
        self.generate_event(obj, None, event_type, reason, message)

    def eventf(self, obj: Any, event_type: str, reason: str, message_fmt: str, *args: Any) -> None:
        """Port of recorderImpl.Eventf (event.go): the message is Go-formatted from ``args``."""
        self.event(obj, event_type, reason, go_sprintf(message_fmt, *args))

    def annotated_eventf(
        self,
        obj: Any,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message_fmt: str,
        *args: Any,
    ) -> None:
        """Port of recorderImpl.AnnotatedEventf (event.go)."""
        self.generate_event(obj, annotations, event_type, reason, go_sprintf(message_fmt, *args))

    def make_event(
        self,
        ref: V1ObjectReference,
        annotations: Mapping[str, str] | None,
        event_type: str,
        reason: str,
        message: str,
    ) -> CoreV1Event:
        """Port of recorderImpl.makeEvent (event.go): a new Event named "<object>.<hex nanos>"."""
        t = self._clock.now()
        namespace = ref.namespace or NAMESPACE_DEFAULT
        return CoreV1Event(
            metadata=V1ObjectMeta(
                name=generate_event_name(ref.name or "", _unix_nano(t)),
                namespace=namespace,
                annotations=dict(annotations) if annotations else None,
            ),
            involved_object=ref.model_copy(),  # Go: *ref; only strings inside
            reason=reason,
            message=message,
            first_timestamp=t,
            last_timestamp=t,
            count=1,
            type=event_type,
        )


class EventSinkImpl:
    """Port of typed corev1.EventSinkImpl (event_expansion.go) over a clientset.

    Events go to their own namespace; with a non-empty ``namespace`` the sink refuses
    events of other namespaces, as CreateWithEventNamespace does.
    """

    def __init__(self, core_v1: CoreV1Interface, namespace: str = "") -> None:
        self._core_v1 = core_v1
        self._ns = namespace

    def _namespace(self, event: CoreV1Event, verb: str) -> str:
        ns = (event.metadata.namespace if event.metadata else None) or ""
        if self._ns and ns != self._ns:
            raise ValueError(
                f"can't {verb} an event with namespace '{ns}' in namespace '{self._ns}'"
            )
        return ns

    def create(self, event: CoreV1Event) -> CoreV1Event:
        """Port of EventSinkImpl.Create (CreateWithEventNamespace)."""
        return self._core_v1.events(self._namespace(event, "create")).create(event)

    def update(self, event: CoreV1Event) -> CoreV1Event:
        """Port of EventSinkImpl.Update (UpdateWithEventNamespace)."""
        return self._core_v1.events(self._namespace(event, "update")).update(event)

    def patch(self, old_event: CoreV1Event, data: bytes) -> CoreV1Event:
        """Port of EventSinkImpl.Patch (PatchWithEventNamespace, strategic merge)."""
        ns = self._namespace(old_event, "patch")
        name = (old_event.metadata.name if old_event.metadata else None) or ""
        return self._core_v1.events(ns).patch(name, data, STRATEGIC_MERGE_PATCH)


# --- helpers -----------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _unix_nano(t: datetime) -> int:
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _level_for_verbosity(verbosity: int) -> int:
    """The logging level of a klog V(n) line; the same scale as jobctl.app.logging_setup."""
    if verbosity <= 1:
        return logging.INFO
    if verbosity <= 3:
        return 15  # jobctl.app.logging_setup.V2_LEVEL
    if verbosity <= 5:
        return logging.DEBUG
    return 5  # jobctl.app.logging_setup.TRACE_LEVEL


def _describe(event: CoreV1Event) -> str:
    ref = event.involved_object
    return (
        f"{ref.kind or ''} {_kref(ref.namespace, ref.name)}: "
        f"{event.type or ''} {event.reason or ''} {event.message or ''!r}"
    )


def _kref(namespace: str | None, name: str | None) -> str:
    return f"{namespace}/{name or ''}" if namespace else (name or "")


def _quote(value: str | None) -> str:
    return go_quote(value or "")


def _go_object_reference(ref: V1ObjectReference) -> str:
    """Format a reference like Go's %#v of a v1.ObjectReference (StartLogging's line)."""
    fields = [
        ("Kind", ref.kind),
        ("Namespace", ref.namespace),
        ("Name", ref.name),
        ("UID", ref.uid),
        ("APIVersion", ref.api_version),
        ("ResourceVersion", ref.resource_version),
        ("FieldPath", ref.field_path),
    ]
    inner = ", ".join(f"{k}:{go_quote(v or '')}" for k, v in fields)
    return f"v1.ObjectReference{{{inner}}}"


def go_quote(s: str) -> str:
    """Go's %q / strconv.Quote for the printable strings events carry."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])")


def _go_value(arg: Any) -> str:
    if arg is None:
        return "<nil>"
    if isinstance(arg, bool):
        return "true" if arg else "false"
    if isinstance(arg, BaseException):
        return str(arg)
    if isinstance(arg, (list, tuple)):
        return "[" + " ".join(_go_value(a) for a in arg) + "]"
    if isinstance(arg, Mapping):
        items = sorted((str(k), _go_value(v)) for k, v in arg.items())
        return "map[" + " ".join(f"{k}:{v}" for k, v in items) + "]"
    return str(arg)


def go_sprintf(fmt: str, *args: Any) -> str:
    """A small fmt.Sprintf: %v %s %d %q %t %x %f %g %e %% with flags, width, precision.

    Missing and extra arguments are reported the way Go does (``%!v(MISSING)``,
    ``%!(EXTRA ...)``).
    """
    arg_iter = iter(args)
    used = 0

    def convert(match: re.Match[str]) -> str:
        nonlocal used
        flags, width, precision, verb = match.groups()
        if verb == "%":
            return "%"
        try:
            arg = next(arg_iter)
        except StopIteration:
            return f"%!{verb}(MISSING)"
        used += 1
        spec = flags + (width or "") + (f".{precision}" if precision is not None else "")
        if verb in ("v", "s"):
            text = _go_value(arg)
            return f"%{spec}s" % text if spec else text
        if verb == "q":
            return go_quote(str(arg))
        if verb == "t":
            return _go_value(bool(arg))
        if verb == "d" and isinstance(arg, int):
            return f"%{spec}d" % arg
        if verb in ("x", "X") and isinstance(arg, int):
            return f"%{spec}{verb}" % arg
        if verb in ("f", "g", "e", "F", "G", "E") and isinstance(arg, (int, float)):
            return f"%{spec}{verb}" % arg
        return f"%!{verb}({type(arg).__name__}={_go_value(arg)})"

    out = _VERB.sub(convert, fmt)
    extra = list(args[used:])
    if extra:
        out += "%!(EXTRA " + ", ".join(f"{type(a).__name__}={_go_value(a)}" for a in extra) + ")"
    return out
