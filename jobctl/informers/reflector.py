"""Port of client-go tools/cache/reflector.go (plus retry_with_deadline.go, the pager and
the wait.Backoff pieces it uses): keep a store in step with an API list + watch.

A ``Reflector`` lists a resource (paginated), replaces its store with the result, then
watches from the list's resource version, applying every event to the store. A watch that
ends cleanly is restarted from the last resource version seen; an expired version ("410
Gone") forces a relist; every retry of the whole list-and-watch is spaced by the upstream
exponential backoff (800ms doubling to 30s, jitter 1.0, reset after 2 quiet minutes),
timed on the injected clock, so a failing list never busy-loops.

Python shapes of Go mechanisms:
- A Go ``select`` on ``ctx.Done()`` becomes ``EventNotifier``: callbacks run when the
  ``stop`` event is set. Waiting for "stop or timeout" waits on a condition that such a
  callback notifies, with the timeout taken from the injected clock.
- A blocking watch is ended from another thread by calling its ``stop``; that is how a
  stop request or a failed resync interrupts ``handle_any_watch``.
- Go returns errors; here ``list_and_watch`` raises. ``run`` hands what it catches to the
  watch error handler, as upstream does.

Watch-list (streaming list): with client-go's ``WatchListClient`` gate on (the default
since 1.35) and a list-watcher that does not declare itself unable to stream, the
reflector first opens a watch with ``sendInitialEvents=true`` and
``resourceVersionMatch=NotOlderThan``, collects the synthetic ADDED events in a
temporary store until the ``k8s.io/initial-events-end`` bookmark, replaces its store
with them in one ``replace`` and keeps reading the same stream. When the server refuses
(any error but a retriable one), it falls back to LIST + WATCH.

Omitted: Table/unstructured GVK checks (jobctl only handles typed models), the
reflector metrics, and the watch-list data consistency detector (upstream runs it only
when KUBE_WATCHLIST_INCONSISTENCY_DETECTOR is set in tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import math
import queue
import random
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from jobctl.client.errors import (
    REASON_TIMEOUT,
    StatusError,
    has_status_cause,
    is_gone,
    is_internal_error,
    is_resource_expired,
    is_too_many_requests,
)
from jobctl.client.interface import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    MODIFIED,
    ListOptions,
    ObjectList,
    WatchEvent,
    WatchInterface,
)
from jobctl.informers.index import NAMESPACE_INDEX, Indexer, meta_namespace_index_func
from jobctl.informers.listwatch import ListerWatcher, does_client_not_support_watch_list_semantics
from jobctl.informers.store import (
    StoreOption,
    accessor,
    meta_namespace_key_func,
    new_indexer,
    new_store,
    with_transformer,
)
from jobctl.k8s_libs import features, klog
from jobctl.k8s_libs.clock import Clock, RealClock, Timer

_log = logging.getLogger(__name__)
_klog = klog.get_logger(__name__)

DEFAULT_EXPECTED_TYPE_NAME = "<unspecified>"

# Watch requests time out at a random point in [min, max) to spread apiserver load.
DEFAULT_MIN_WATCH_TIMEOUT = 5 * 60.0
DEFAULT_MAX_WATCH_TIMEOUT = 2 * DEFAULT_MIN_WATCH_TIMEOUT
# Backoff between list-and-watch attempts; it ends up retrying every [30s, 60s).
DEFAULT_BACKOFF_INIT = 0.8
DEFAULT_BACKOFF_MAX = 30.0
# After this long without backing off, the apiserver is deemed healthy again.
DEFAULT_BACKOFF_RESET = 2 * 60.0
DEFAULT_BACKOFF_FACTOR = 2.0
DEFAULT_BACKOFF_JITTER = 1.0

# pager.defaultPageSize (client-go tools/pager).
DEFAULT_PAGE_SIZE = 500

# metav1.CauseTypeResourceVersionTooLarge and metav1.InitialEventsAnnotationKey.
CAUSE_TYPE_RESOURCE_VERSION_TOO_LARGE = "ResourceVersionTooLarge"
INITIAL_EVENTS_ANNOTATION_KEY = "k8s.io/initial-events-end"
# metav1.ResourceVersionMatchNotOlderThan.
RESOURCE_VERSION_MATCH_NOT_OLDER_THAN = "NotOlderThan"
# How often a watch-list stream still waiting for its end bookmark logs a warning.
INITIAL_EVENTS_END_BOOKMARK_TICK_INTERVAL = 10.0


# ---------------------------------------------------------------------------
# Stop plumbing (the Python stand-in for selecting on ctx.Done())
# ---------------------------------------------------------------------------


class EventNotifier:
    """Runs callbacks once a ``threading.Event`` is set; Go's goroutine blocked on a channel.

    ``register`` returns a token for ``unregister``; registering after the event fired
    runs the callback at once, on the caller's thread. One helper thread waits on the
    event while callbacks are registered and exits (within ``linger`` seconds, real time)
    once none are left, so nothing lingers after a run ends.
    """

    def __init__(self, event: threading.Event, linger: float = 1.0) -> None:
        self.event = event
        self._linger = linger
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._next_token = 0
        self._thread: threading.Thread | None = None
        self._fired = False

    def is_set(self) -> bool:
        """Whether the event is set."""
        return self.event.is_set()

    def register(self, fn: Callable[[], None]) -> int:
        """Call ``fn`` once the event is set (now, if it already is)."""
        with self._lock:
            if not self._fired and not self.event.is_set():
                token = self._next_token
                self._next_token += 1
                self._callbacks[token] = fn
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="event-notifier", daemon=True
                    )
                    self._thread.start()
                return token
        fn()
        return -1

    def unregister(self, token: int) -> None:
        """Forget a callback that has not run yet."""
        with self._lock:
            self._callbacks.pop(token, None)

    def _run(self) -> None:
        while True:
            if self.event.wait(self._linger):
                with self._lock:
                    self._fired = True
                    callbacks = list(self._callbacks.values())
                    self._callbacks.clear()
                    self._thread = None
                for fn in callbacks:
                    try:
                        fn()
                    except Exception:
                        _log.exception("stop callback failed")
                return
            with self._lock:
                if not self._callbacks:
                    self._thread = None
                    return


def wait_or_stop(
    clock: Clock, cond: threading.Condition, stop: EventNotifier, duration: float
) -> bool:
    """Wait ``duration`` seconds on ``clock``; True if ``stop`` fired first.

    The stand-in for ``select { case <-stop: case <-clock.After(d): }``. ``cond`` is a
    condition private to the caller's thread.
    """

    def wake() -> None:
        with cond:
            cond.notify_all()

    token = stop.register(wake)
    try:
        with cond:
            deadline = clock.now() + timedelta(seconds=duration)
            while not stop.is_set():
                remaining = (deadline - clock.now()).total_seconds()
                if remaining <= 0:
                    return False
                clock.wait_on(cond, remaining)
            return True
    finally:
        stop.unregister(token)


class _ErrorChannel:
    """Go's buffered ``resyncerrc``: the resync thread's error, which ends the watch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.err: BaseException | None = None
        self._end_watch: Callable[[], None] | None = None

    def send(self, err: BaseException) -> None:
        with self._lock:
            if self.err is None:
                self.err = err
            end_watch = self._end_watch
        if end_watch is not None:
            end_watch()

    def receive(self) -> BaseException | None:
        if self.err is None:
            return None
        with self._lock:
            err, self.err = self.err, None
            return err

    def attach(self, end_watch: Callable[[], None]) -> None:
        with self._lock:
            self._end_watch = end_watch
            pending = self.err is not None
        if pending:
            end_watch()

    def detach(self) -> None:
        with self._lock:
            self._end_watch = None


class _Once:
    """Call a function at most once, whichever thread asks first (Go's sync.Once)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._done = False

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._fn()


class _Cancel:
    """Go's ``context.WithCancel`` for the resync goroutine: a flag plus a condition."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.cancelled = False

    def cancel(self) -> None:
        with self.cond:
            self.cancelled = True
            self.cond.notify_all()


# ---------------------------------------------------------------------------
# wait.Backoff (k8s.io/apimachinery/pkg/util/wait/backoff.go)
# ---------------------------------------------------------------------------


def jitter(duration: float, max_factor: float) -> float:
    """Port of wait.Jitter: ``duration`` plus up to ``max_factor`` times itself."""
    if max_factor <= 0.0:
        max_factor = 1.0
    return duration + random.random() * max_factor * duration


def _delay(
    steps: int, duration: float, cap: float, factor: float, jitter_factor: float
) -> tuple[float, float, int]:
    """Port of wait's delay: (this wait, next base duration, remaining steps)."""
    if steps < 1:
        if jitter_factor > 0:
            return jitter(duration, jitter_factor), duration, 0
        return duration, duration, 0
    steps -= 1
    if factor != 0:
        nxt = duration * factor
        if cap > 0 and nxt > cap:
            nxt = cap
            steps = 0
    else:
        nxt = duration
    if jitter_factor > 0:
        duration = jitter(duration, jitter_factor)
    return duration, nxt, steps


@dataclass
class Backoff:
    """Port of wait.Backoff: exponential steps, capped, jittered (durations in seconds)."""

    duration: float = 0.0
    factor: float = 0.0
    jitter: float = 0.0
    steps: int = 0
    cap: float = 0.0

    def step(self) -> float:
        """Port of Backoff.Step: the next wait, advancing the state."""
        wait, self.duration, self.steps = _delay(
            self.steps, self.duration, self.cap, self.factor, self.jitter
        )
        return wait

    def delay_func(self) -> Callable[[], float]:
        """Port of Backoff.DelayFunc: a stateful function returning successive waits."""
        state = dataclasses.replace(self)
        return state.step

    def delay_with_reset(self, clock: Clock, reset_interval: float) -> Callable[[], float]:
        """Port of Backoff.DelayWithReset: like delay_func, restarting after quiet periods."""
        if self.factor <= 0:
            return self.delay_func()
        if reset_interval <= 0:
            return dataclasses.replace(self, steps=0, factor=0.0).delay_func()
        return _BackoffManager(self, reset_interval, clock).step


class _BackoffManager:
    """Port of wait's backoffManager (the Step part): thread-safe, resets after quiet time."""

    def __init__(self, backoff: Backoff, reset_interval: float, clock: Clock) -> None:
        self._backoff = dataclasses.replace(backoff)
        self._initial = dataclasses.replace(backoff)
        self._reset_interval = reset_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_start = clock.now()

    def step(self) -> float:
        """Port of backoffManager.Step."""
        with self._lock:
            if self._reset_interval == 0:
                self._backoff = dataclasses.replace(self._initial)
            elif self._clock.since(self._last_start) > self._reset_interval:
                self._backoff = dataclasses.replace(self._initial)
                self._last_start = self._clock.now()
            return self._backoff.step()


# ---------------------------------------------------------------------------
# retry_with_deadline.go
# ---------------------------------------------------------------------------


class RetryWithDeadline:
    """Port of retryWithDeadlineImpl: retry a class of errors for a bounded time."""

    def __init__(
        self,
        max_retry_duration: float,
        min_reset_period: float,
        is_retryable: Callable[[BaseException | None], bool],
        clock: Clock,
    ) -> None:
        self._first_error_time: datetime | None = None
        self._last_error_time: datetime | None = None
        self._max_retry_duration = max_retry_duration
        self._min_reset_period = min_reset_period
        self._is_retryable = is_retryable
        self._clock = clock

    def _reset(self) -> None:
        """Port of retryWithDeadlineImpl.reset (retry_with_deadline.go)."""
        self._first_error_time = None
        self._last_error_time = None

    def after(self, err: BaseException | None) -> None:
        """Port of After: note a retryable error, restarting the window after a quiet spell.

        Go twin: retryWithDeadlineImpl.After (retry_with_deadline.go).
        """
        if self._is_retryable(err):
            now = self._clock.now()
            if (
                self._last_error_time is None
                or (now - self._last_error_time).total_seconds() >= self._min_reset_period
            ):
                self._reset()
            if self._first_error_time is None:
                self._first_error_time = now
            self._last_error_time = now

    def should_retry(self) -> bool:
        """Port of ShouldRetry: still within the retry window since the first error?

        Go twin: retryWithDeadlineImpl.ShouldRetry (retry_with_deadline.go).
        """
        if self._max_retry_duration <= 0:
            return False
        first = self._first_error_time
        if first is not None and self._clock.since(first) <= self._max_retry_duration:
            return True
        self._reset()
        return False


# ---------------------------------------------------------------------------
# reflector.go
# ---------------------------------------------------------------------------


class ReflectorStore(Protocol):
    """Port of ReflectorStore: the subset of a Store the reflector writes to."""

    def add(self, obj: Any) -> None: ...

    def update(self, obj: Any) -> None: ...

    def delete(self, obj: Any) -> None: ...

    def replace(self, items: list[Any], resource_version: str) -> None: ...

    def resync(self) -> None: ...


class ReflectorBookmarkStore(Protocol):
    """Port of ReflectorBookmarkStore: an optional store hook for bookmark events."""

    def bookmark(self, resource_version: str) -> None: ...


class ResourceVersionUpdater(Protocol):
    """Port of ResourceVersionUpdater: an optional store hook told every new version."""

    def update_resource_version(self, resource_version: str) -> None: ...


# Port of WatchErrorHandler: told of every error that ends a list-and-watch attempt.
WatchErrorHandler = Callable[["Reflector", BaseException], None]


class ListError(Exception):
    """A failed list, wrapping the client's error (Go wraps with %w)."""


class UnexpectedObjectError(Exception):
    """Port of apierrors.UnexpectedObjectError: a watch ERROR event without a Status."""

    def __init__(self, obj: Any) -> None:
        super().__init__(f"unexpected object: {obj!r}")
        self.obj = obj


class VeryShortWatchError(Exception):
    """Port of VeryShortWatchError: the watch closed within a second with no events."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"very short watch: {name}: Unexpected watch close - watch lasted less than a "
            "second and no items received"
        )


class _StopRequestedError(Exception):
    """Port of errorStopRequested: the watch ended because stop was requested."""

    def __init__(self) -> None:
        super().__init__("stop requested")


def _error_chain(err: BaseException | None) -> Iterator[BaseException]:
    """Walk ``err`` and its explicit causes, as Go's errors.As unwraps %w chains."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__


def default_watch_error_handler(r: Reflector, err: BaseException) -> None:
    """Port of DefaultWatchErrorHandler: log the error at a level matching its kind.

    Go twin: DefaultWatchErrorHandler (reflector.go).
    """
    if is_expired_error(err):
        _log.debug("Watch closed (reflector=%s type=%s): %s", r.name(), r.type_description(), err)
    else:
        _log.error(
            "Failed to watch (reflector=%s type=%s): %s", r.name(), r.type_description(), err
        )


def new_namespace_keyed_indexer_and_reflector(
    lw: ListerWatcher, expected_type: Any, resync_period: float
) -> tuple[Indexer, Reflector]:
    """Port of NewNamespaceKeyedIndexerAndReflector: an indexer by namespace plus its feeder.

    Go twin: NewNamespaceKeyedIndexerAndReflector (reflector.go).
    """
    indexer = new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    reflector = new_reflector(lw, expected_type, indexer, resync_period)
    return indexer, reflector


def new_reflector(
    lw: ListerWatcher, expected_type: Any, store: ReflectorStore, resync_period: float
) -> Reflector:
    """Port of NewReflector (reflector.go): a reflector named after its caller's source line."""
    return new_reflector_with_options(
        lw, expected_type, store, ReflectorOptions(resync_period=resync_period)
    )


def new_named_reflector(
    name: str,
    lw: ListerWatcher,
    expected_type: Any,
    store: ReflectorStore,
    resync_period: float,
) -> Reflector:
    """Port of NewNamedReflector (reflector.go)."""
    return new_reflector_with_options(
        lw, expected_type, store, ReflectorOptions(name=name, resync_period=resync_period)
    )


@dataclass
class ReflectorOptions:
    """Port of ReflectorOptions (the logger option is dropped)."""

    name: str = ""
    type_description: str = ""
    resync_period: float = 0.0
    # Only values above the 5 minute default are honoured.
    min_watch_timeout: float = 0.0
    clock: Clock | None = None
    backoff: Backoff | None = None


def new_reflector_with_options(
    lw: ListerWatcher, expected_type: Any, store: ReflectorStore, options: ReflectorOptions
) -> Reflector:
    """Port of NewReflectorWithOptions (reflector.go).

    ``expected_type`` is an example object or a class (None disables the type check);
    watch events carrying another type are logged and skipped.
    """
    clock: Clock = options.clock if options.clock is not None else RealClock()
    min_watch_timeout = DEFAULT_MIN_WATCH_TIMEOUT
    max_watch_timeout = DEFAULT_MAX_WATCH_TIMEOUT
    if options.min_watch_timeout > DEFAULT_MIN_WATCH_TIMEOUT:
        min_watch_timeout = options.min_watch_timeout
        max_watch_timeout = 2 * min_watch_timeout
    if max_watch_timeout < min_watch_timeout:
        max_watch_timeout = min_watch_timeout
    backoff = options.backoff
    if backoff is None:
        backoff = Backoff(
            duration=DEFAULT_BACKOFF_INIT,
            cap=DEFAULT_BACKOFF_MAX,
            steps=math.ceil(DEFAULT_BACKOFF_MAX / DEFAULT_BACKOFF_INIT),
            factor=DEFAULT_BACKOFF_FACTOR,
            jitter=DEFAULT_BACKOFF_JITTER,
        )
    r = Reflector(
        name=options.name or _name_from_callsite(),
        type_description=options.type_description
        or get_type_description_from_object(expected_type),
        expected_type=_type_of(expected_type),
        store=store,
        lw=lw,
        resync_period=options.resync_period,
        delay_handler=backoff.delay_with_reset(clock, DEFAULT_BACKOFF_RESET),
        min_watch_timeout=min_watch_timeout,
        max_watch_timeout=max_watch_timeout,
        clock=clock,
    )
    r._use_watch_list = features.DEFAULT_FEATURE_GATE.enabled(features.WATCH_LIST_CLIENT)
    if r._use_watch_list and does_client_not_support_watch_list_semantics(lw):
        _klog.v(2).info(
            "The client used to build this informer/reflector doesn't support WatchList "
            "semantics. The feature will be disabled. This is expected in unit tests but "
            "not in production.",
            "feature",
            features.WATCH_LIST_CLIENT,
        )
        r._use_watch_list = False
    return r


def get_type_description_from_object(expected_type: Any) -> str:
    """Port of getTypeDescriptionFromObject (reflector.go): the type's name, or "<unspecified>"."""
    if expected_type is None:
        return DEFAULT_EXPECTED_TYPE_NAME
    cls = expected_type if isinstance(expected_type, type) else type(expected_type)
    return cls.__name__


def _type_of(expected_type: Any) -> type | None:
    if expected_type is None:
        return None
    return expected_type if isinstance(expected_type, type) else type(expected_type)


# Frames from these files are skipped when naming a reflector after its caller (the
# threading module plays the part of Go's runtime/asm_ frames).
_INTERNAL_PACKAGES = ("jobctl/informers/", "/threading.py")


def _name_from_callsite() -> str:
    """Port of naming.GetNameFromCallsite: "file.py:line" of the first outside caller,
    "????" when there is none (a reflector created on an informer's own thread)."""
    frame = sys._getframe(1)
    for _ in range(10):
        if frame is None:
            break
        filename = frame.f_code.co_filename.replace("\\", "/")
        if not any(p in filename for p in _INTERNAL_PACKAGES):
            return f"{filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "????"


class Reflector:
    """Port of Reflector: mirrors a resource into a store through list and watch.

    Construct with ``new_reflector_with_options`` (or its shorthands). ``should_resync``,
    ``watch_list_page_size`` and ``max_internal_error_retry_duration`` are public knobs,
    as in Go; ``watch_error_handler`` replaces the default handler.
    """

    def __init__(
        self,
        *,
        name: str,
        type_description: str,
        expected_type: type | None,
        store: ReflectorStore,
        lw: ListerWatcher,
        resync_period: float,
        delay_handler: Callable[[], float],
        min_watch_timeout: float,
        max_watch_timeout: float,
        clock: Clock,
    ) -> None:
        self._name = name
        self._type_description = type_description
        self._expected_type = expected_type
        self._store = store
        self._lw = lw
        self._resync_period = resync_period
        self._delay_handler = delay_handler
        self._min_watch_timeout = min_watch_timeout
        self._max_watch_timeout = max_watch_timeout
        self._clock = clock
        # Set after an RV=0 list came back paginated (the watch cache is likely off).
        self._paginated_result = False
        self._last_sync_resource_version = ""
        # The last list/watch at _last_sync_resource_version failed as expired/too large.
        self._is_last_sync_resource_version_unavailable = False
        self._last_sync_resource_version_lock = threading.Lock()
        self.watch_error_handler: WatchErrorHandler = default_watch_error_handler
        # Page size of the initial and relist lists; 0 lets the reflector decide.
        self.watch_list_page_size = 0
        # Called every resync period; a resync of the store happens when it says yes.
        self.should_resync: Callable[[], bool] | None = None
        # How long watch InternalErrors are retried without a relist (0: never).
        self.max_internal_error_retry_duration = 0.0
        # Private to the thread running list_and_watch: waits for backoff and the list.
        self._cond = threading.Condition()
        self._stop_notifier: EventNotifier | None = None
        # Start with a watch-list stream instead of a LIST (set by the constructor).
        self._use_watch_list = False

    def name(self) -> str:
        """Port of Reflector.Name (reflector.go)."""
        return self._name

    def type_description(self) -> str:
        """Port of Reflector.TypeDescription (reflector.go)."""
        return self._type_description

    def _notifier_for(self, stop: threading.Event) -> EventNotifier:
        notifier = self._stop_notifier
        if notifier is None or notifier.event is not stop:
            notifier = EventNotifier(stop)
            self._stop_notifier = notifier
        return notifier

    def run(self, stop: threading.Event) -> None:
        """Port of Reflector.Run / RunWithContext: list-and-watch until ``stop`` is set.

        Attempts are spaced by the backoff, measured after each attempt ends (sliding).

        Go twin: Reflector.Run (reflector.go).
        """
        notifier = self._notifier_for(stop)
        _log.debug(
            "Starting reflector %s (type=%s, resyncPeriod=%ss)",
            self._name,
            self._type_description,
            self._resync_period,
        )
        while True:
            try:
                self.list_and_watch(stop)
            except Exception as err:
                self.watch_error_handler(self, err)
            if stop.is_set():
                break
            if wait_or_stop(self._clock, self._cond, notifier, self._delay_handler()):
                break
        _log.debug("Stopping reflector %s (type=%s)", self._name, self._type_description)

    def list_and_watch(self, stop: threading.Event) -> None:
        """Port of ListAndWatch / ListAndWatchWithContext (reflector.go): list, then watch.

        With watch-list on, the initial state comes from a streaming watch first; if that
        fails for any non-retriable reason, a paginated LIST is used instead. Raises when
        the list fails (the watch was not even tried). Returns normally when stopped, or
        when the watch ended in a way that calls for a fresh list.

        Go twin: Reflector.ListAndWatch (reflector.go).
        """
        notifier = self._notifier_for(stop)
        _klog.v(3).info(
            "Listing and watching", "type", self._type_description, "reflector", self._name
        )
        w: WatchInterface | None = None
        fallback_to_list = not self._use_watch_list
        try:
            if self._use_watch_list:
                err: BaseException | None = None
                try:
                    w = self._watch_list(notifier)
                except Exception as e:
                    err = e
                if w is None and err is None:
                    # Stopped.
                    return
                if err is not None:
                    _klog.v(4).info(
                        "Data couldn't be fetched in watchlist mode. Falling back to regular "
                        "list. This is expected if watchlist is not supported or disabled in "
                        "kube-apiserver.",
                        "err",
                        err,
                    )
                    fallback_to_list = True
                    # Never hand a half-read stream to the watch.
                    w = None
            if fallback_to_list:
                self._list(notifier)
            _klog.v(2).info(
                "Caches populated", "type", self._type_description, "reflector", self._name
            )
            self._watch_with_resync(notifier, w)
        finally:
            if w is not None:
                w.stop()

    def _start_resync(self, cancel: _Cancel, resync_errc: _ErrorChannel) -> None:
        """Port of startResync (with resyncChan): every resync period, maybe resync.

        Go twin: Reflector.startResync (reflector.go).
        """
        while True:
            with cancel.cond:
                deadline = self._clock.now() + timedelta(seconds=self._resync_period)
                while not cancel.cancelled:
                    remaining = (deadline - self._clock.now()).total_seconds()
                    if remaining <= 0:
                        break
                    self._clock.wait_on(cancel.cond, remaining)
                if cancel.cancelled:
                    return
            if self.should_resync is None or self.should_resync():
                _log.debug("Forcing resync (reflector=%s)", self._name)
                try:
                    self._store.resync()
                except Exception as err:
                    resync_errc.send(err)
                    return

    def _watch_with_resync(self, stop: EventNotifier, w: WatchInterface | None) -> None:
        """Port of watchWithResync: watch, with the periodic resync running alongside.

        Go twin: Reflector.watchWithResync (reflector.go).
        """
        resync_errc = _ErrorChannel()
        if self._resync_period == 0:
            # Upstream's resync goroutine would only wait for cancellation.
            self._watch(stop, w, resync_errc)
            return
        cancel = _Cancel()
        token = stop.register(cancel.cancel)
        t = threading.Thread(
            target=self._start_resync,
            args=(cancel, resync_errc),
            name=f"reflector-resync-{self._name}",
            daemon=True,
        )
        t.start()
        try:
            self._watch(stop, w, resync_errc)
        finally:
            cancel.cancel()
            stop.unregister(token)
            t.join()

    def _watch(
        self, stop: EventNotifier, w: WatchInterface | None, resync_errc: _ErrorChannel
    ) -> None:
        """Port of Reflector.watch: (re)start watches from the last version until one fails.

        A watch that closes cleanly is reopened from the last resource version seen.
        Refused connections and 429s back off and rewatch; internal errors are retried for
        ``max_internal_error_retry_duration``; anything else (410 Gone included) returns,
        so the caller relists. Errors starting a watch that cannot be retried are raised.

        Go twin: Reflector.watch (reflector.go).
        """
        retry = RetryWithDeadline(
            self.max_internal_error_retry_duration, 60.0, _is_internal_error, self._clock
        )
        # The optional ResourceVersionUpdater hook of the store.
        rv_updater: Callable[[str], None] | None = getattr(
            self._store, "update_resource_version", None
        )
        try:
            while True:
                if stop.is_set():
                    return
                start = self._clock.now()
                # A watch handed in is already past its synthetic ADDED events.
                propagate_rv_from_start = True
                if w is None:
                    timeout_seconds = int(
                        self._min_watch_timeout
                        + random.random() * (self._max_watch_timeout - self._min_watch_timeout)
                    )
                    options = ListOptions(
                        resource_version=self.last_sync_resource_version(),
                        timeout_seconds=timeout_seconds,
                        allow_watch_bookmarks=True,
                    )
                    if options.resource_version in ("", "0"):
                        # Such a watch opens with synthetic ADDED events in no RV order.
                        propagate_rv_from_start = False
                    try:
                        w = self._lw.watch(options)
                    except Exception as watch_err:
                        if is_watch_error_retriable(watch_err):
                            _log.debug(
                                "Watch failed - backing off (reflector=%s type=%s): %s",
                                self._name,
                                self._type_description,
                                watch_err,
                            )
                            if wait_or_stop(self._clock, self._cond, stop, self._delay_handler()):
                                return
                            continue
                        raise

                def set_rv(
                    rv: str,
                    event_received_besides_added: bool,
                    propagate_rv_from_start: bool = propagate_rv_from_start,
                ) -> None:
                    # Only past the initial synthetic ADDED events is an RV safe to resume at.
                    if propagate_rv_from_start or event_received_besides_added:
                        self._set_last_sync_resource_version(rv)
                        if rv_updater is not None:
                            rv_updater(rv)

                err: BaseException | None = None
                current, w = w, None
                try:
                    handle_watch(
                        start,
                        current,
                        self._store,
                        self._expected_type,
                        self._name,
                        self._type_description,
                        set_rv,
                        self._clock,
                        resync_errc,
                        stop,
                    )
                except Exception as e:
                    err = e
                retry.after(err)
                if err is None:
                    continue
                if not isinstance(err, _StopRequestedError):
                    if is_expired_error(err):
                        _log.debug(
                            "Watch closed (reflector=%s type=%s): %s",
                            self._name,
                            self._type_description,
                            err,
                        )
                    elif is_too_many_requests(err):
                        _log.debug(
                            "Watch returned 429 - backing off (reflector=%s type=%s)",
                            self._name,
                            self._type_description,
                        )
                        if wait_or_stop(self._clock, self._cond, stop, self._delay_handler()):
                            return
                        continue
                    elif is_internal_error(err) and retry.should_retry():
                        _log.debug(
                            "Retrying watch after internal error (reflector=%s type=%s): %s",
                            self._name,
                            self._type_description,
                            err,
                        )
                        continue
                    else:
                        _log.warning(
                            "Watch ended with error (reflector=%s type=%s): %s",
                            self._name,
                            self._type_description,
                            err,
                        )
                return
        finally:
            if w is not None:
                w.stop()

    def _list(self, stop: EventNotifier) -> None:
        """Port of Reflector.list: list (paginated) and replace the store with the result.

        The list runs on its own thread so that a stop request returns at once, as the
        goroutine does upstream. Raises ``ListError`` (caused by the client's error).

        Go twin: Reflector.list (reflector.go).
        """
        options = ListOptions(resource_version=self._relist_resource_version())
        outcome: dict[str, Any] = {}
        done = [False]
        cond = self._cond

        def do_list() -> None:
            try:
                page_size = DEFAULT_PAGE_SIZE
                if self.watch_list_page_size != 0:
                    page_size = self.watch_list_page_size
                elif self._paginated_result:
                    # An RV=0 list was paginated before: keep paging.
                    pass
                elif options.resource_version not in ("", "0"):
                    # An unpaginated list at a given RV can be served by the watch cache.
                    page_size = 0
                try:
                    result, paginated = _pager_list(self._lw.list, options, page_size)
                except Exception as err:
                    if not (is_expired_error(err) or is_too_large_resource_version_error(err)):
                        raise
                    self._set_is_last_sync_resource_version_unavailable(True)
                    # The version is gone or not there yet: a consistent list recovers.
                    result, paginated = _pager_list(
                        self._lw.list,
                        ListOptions(resource_version=self._relist_resource_version()),
                        page_size,
                    )
                outcome["list"] = result
                outcome["paginated"] = paginated
            except BaseException as err:
                outcome["err"] = err
            finally:
                with cond:
                    done[0] = True
                    cond.notify_all()

        def wake() -> None:
            with cond:
                cond.notify_all()

        token = stop.register(wake)
        try:
            threading.Thread(
                target=do_list, name=f"reflector-list-{self._name}", daemon=True
            ).start()
            with cond:
                while not done[0] and not stop.is_set():
                    cond.wait()
        finally:
            stop.unregister(token)
        if not done[0]:
            return
        err = outcome.get("err")
        if err is not None:
            raise ListError(f"failed to list {self._type_description}: {err}") from err
        result = outcome["list"]
        if options.resource_version == "0" and outcome["paginated"]:
            self._paginated_result = True
        self._set_is_last_sync_resource_version_unavailable(False)
        try:
            items = list(result.items)
            resource_version = result.resource_version
        except AttributeError as e:
            raise ListError(f"unable to understand list result {result!r}: {e}") from e
        try:
            self._sync_with(items, resource_version)
        except Exception as e:
            raise ListError(f"unable to sync list result: {e}") from e
        self._set_last_sync_resource_version(resource_version)

    def _watch_list(self, stop: EventNotifier) -> WatchInterface | None:
        """Port of Reflector.watchList (reflector.go): fill the store from a streaming watch.

        Opens watches with ``sendInitialEvents=true`` until one delivers the
        initial-events-end bookmark, collecting its events in a temporary store; then
        replaces the store with them at the bookmark's version and returns the still open
        watch. Refused connections and 429s back off and retry; an expired or too large
        version retries from the most recent one. Returns None when stopped; raises any
        other error (the caller falls back to LIST).
        """

        def is_error_retriable_with_side_effects(err: BaseException) -> bool:
            if is_watch_error_retriable(err):
                _klog.v(2).info(
                    "watch-list failed - backing off",
                    "reflector",
                    self._name,
                    "type",
                    self._type_description,
                    "err",
                    err,
                )
                wait_or_stop(self._clock, self._cond, stop, self._delay_handler())
                return True
            if is_expired_error(err) or is_too_large_resource_version_error(err):
                # Retry from the most recent version (a consistent snapshot).
                self._set_is_last_sync_resource_version_unavailable(True)
                return True
            return False

        transformer = None
        store_opts: list[StoreOption] = []
        get_transformer = getattr(self._store, "transformer", None)
        if get_transformer is not None and get_transformer() is not None:
            transformer = get_transformer()
            store_opts.append(with_transformer(transformer))

        w: WatchInterface
        resource_version = [""]
        while True:
            if stop.is_set():
                return None
            resource_version[0] = ""
            last_known_rv = self._rewatch_resource_version()
            temporary_store = new_store(
                informer_controller.deletion_handling_meta_namespace_key_func, *store_opts
            )
            timeout_seconds = int(
                self._min_watch_timeout
                + random.random() * (self._max_watch_timeout - self._min_watch_timeout)
            )
            options = ListOptions(
                resource_version=last_known_rv,
                allow_watch_bookmarks=True,
                send_initial_events=True,
                resource_version_match=RESOURCE_VERSION_MATCH_NOT_OLDER_THAN,
                timeout_seconds=timeout_seconds,
            )
            start = self._clock.now()
            try:
                w = _SharedResultWatch(self._lw.watch(options))
            except Exception as err:
                if is_error_retriable_with_side_effects(err):
                    continue
                raise

            def set_rv(rv: str, event_received_besides_added: bool) -> None:
                if event_received_besides_added:
                    resource_version[0] = rv

            try:
                watch_list_bookmark_received = handle_list_watch(
                    start,
                    w,
                    temporary_store,
                    self._expected_type,
                    self._name,
                    self._type_description,
                    set_rv,
                    self._clock,
                    _ErrorChannel(),
                    stop,
                )
            except Exception as err:
                # Stop and retry with a clean state.
                w.stop()
                if isinstance(err, _StopRequestedError):
                    return None
                if is_error_retriable_with_side_effects(err):
                    continue
                raise
            if watch_list_bookmark_received:
                break
        # The initial state is complete: the initial-events-end bookmark confirmed it.
        self._set_is_last_sync_resource_version_unavailable(False)
        try:
            self._store.replace(temporary_store.list(), resource_version[0])
        except Exception as e:
            w.stop()
            raise ListError(f"unable to sync watch-list result: {e}") from e
        self._set_last_sync_resource_version(resource_version[0])
        return w

    def _sync_with(self, items: list[Any], resource_version: str) -> None:
        """Port of syncWith (reflector.go): replace the store's content with ``items``."""
        self._store.replace(items, resource_version)

    def last_sync_resource_version(self) -> str:
        """Port of LastSyncResourceVersion: the version of the last list or watch event.

        Go twin: Reflector.LastSyncResourceVersion (reflector.go).
        """
        with self._last_sync_resource_version_lock:
            return self._last_sync_resource_version

    def _set_last_sync_resource_version(self, v: str) -> None:
        """Port of setLastSyncResourceVersion (reflector.go)."""
        with self._last_sync_resource_version_lock:
            self._last_sync_resource_version = v

    def _relist_resource_version(self) -> str:
        """Port of relistResourceVersion: "0" first, then the last version, "" if unavailable.

        Go twin: Reflector.relistResourceVersion (reflector.go).
        """
        with self._last_sync_resource_version_lock:
            if self._is_last_sync_resource_version_unavailable:
                return ""
            if self._last_sync_resource_version == "":
                return "0"
            return self._last_sync_resource_version

    def _rewatch_resource_version(self) -> str:
        """Port of rewatchResourceVersion: the version a watch-list stream resumes from.

        Go twin: Reflector.rewatchResourceVersion (reflector.go).
        """
        with self._last_sync_resource_version_lock:
            if self._is_last_sync_resource_version_unavailable:
                return ""
            return self._last_sync_resource_version

    def _set_is_last_sync_resource_version_unavailable(self, is_unavailable: bool) -> None:
        """Port of setIsLastSyncResourceVersionUnavailable (reflector.go)."""
        with self._last_sync_resource_version_lock:
            self._is_last_sync_resource_version_unavailable = is_unavailable


def _pager_list(
    page_fn: Callable[[ListOptions], ObjectList[Any]], options: ListOptions, page_size: int
) -> tuple[ObjectList[Any], bool]:
    """Port of pager.ListPager.list (client-go tools/pager): follow continue tokens.

    Returns the merged list and whether more than one page was fetched. If a later page
    fails as expired, falls back to one unpaginated list at the requested version.
    """
    opts = dataclasses.replace(options)
    if opts.limit == 0:
        opts.limit = page_size
    requested_rv = opts.resource_version
    requested_rvm = opts.resource_version_match
    items: list[Any] | None = None
    list_rv = ""
    paginated = False
    while True:
        try:
            page = page_fn(dataclasses.replace(opts))
        except Exception as err:
            if not is_resource_expired(err) or opts.continue_ == "":
                raise
            opts.limit = 0
            opts.continue_ = ""
            opts.resource_version = requested_rv
            opts.resource_version_match = requested_rvm
            return page_fn(dataclasses.replace(opts)), paginated
        if not page.continue_ and items is None:
            return page, paginated
        if items is None:
            items = []
            list_rv = page.resource_version
        items.extend(page.items)
        if not page.continue_:
            return ObjectList(items=items, resource_version=list_rv), paginated
        opts.continue_ = page.continue_
        # Continue requests must not carry a resource version.
        opts.resource_version = ""
        opts.resource_version_match = ""
        paginated = True


def handle_list_watch(
    start: datetime,
    w: WatchInterface,
    store: ReflectorStore,
    expected_type: type | None,
    name: str,
    expected_type_name: str,
    set_last_sync_resource_version: Callable[[str, bool], None],
    clock: Clock,
    err_ch: _ErrorChannel,
    stop: EventNotifier,
) -> bool:
    """Port of handleListWatch (reflector.go): consume a watch-list stream up to its end bookmark.

    Returns whether the bookmark came; then the watch is left open for what follows.
    """
    return handle_any_watch(
        start,
        w,
        store,
        expected_type,
        name,
        expected_type_name,
        set_last_sync_resource_version,
        True,
        clock,
        err_ch,
        stop,
    )


def handle_watch(
    start: datetime,
    w: WatchInterface,
    store: ReflectorStore,
    expected_type: type | None,
    name: str,
    expected_type_name: str,
    set_last_sync_resource_version: Callable[[str, bool], None],
    clock: Clock,
    err_ch: _ErrorChannel,
    stop: EventNotifier,
) -> None:
    """Port of handleWatch: apply a watch's events to the store; always stops the watch.

    Go twin: handleWatch (reflector.go).
    """
    handle_any_watch(
        start,
        w,
        store,
        expected_type,
        name,
        expected_type_name,
        set_last_sync_resource_version,
        False,
        clock,
        err_ch,
        stop,
    )


def handle_any_watch(
    start: datetime,
    w: WatchInterface,
    store: ReflectorStore,
    expected_type: type | None,
    name: str,
    expected_type_name: str,
    set_last_sync_resource_version: Callable[[str, bool], None],
    exit_on_watch_list_bookmark_received: bool,
    clock: Clock,
    err_ch: _ErrorChannel,
    stop: EventNotifier,
) -> bool:
    """Port of handleAnyWatch: consume events into the store, recording resource versions.

    ERROR events raise the API error they carry. Events of an unexpected type, or
    without object metadata, are logged and skipped. Raises ``_StopRequestedError`` when
    stopped, the resync error if one arrives, and ``VeryShortWatchError`` when the watch
    closed within a second without events. Returns whether the watch-list end bookmark
    was seen; the watch is stopped on exit unless the caller asked to keep it then.

    Go twin: handleAnyWatch (reflector.go).
    """
    watch_list_bookmark_received = False
    event_received_besides_added = False
    event_count = 0
    initial_events_end_bookmark_warning_ticker = new_initial_events_end_bookmark_ticker(
        name, clock, start, exit_on_watch_list_bookmark_received
    )
    stop_watcher = True
    stop_watch = _Once(w.stop)
    stop_event = stop.event
    bookmark = getattr(store, "bookmark", None)
    token = -1
    try:
        events = iter(w)
        if stop_event.is_set():
            raise _StopRequestedError()
        token = stop.register(stop_watch)
        err_ch.attach(stop_watch)
        for event in events:
            if stop_event.is_set():
                raise _StopRequestedError()
            if err_ch.err is not None:
                pending = err_ch.receive()
                if pending is not None:
                    raise pending
            obj = event.object
            event_type = event.type
            if event_type == ERROR:
                raise status_error_from_object(obj)
            if expected_type is not None and type(obj) is not expected_type:
                _log.error(
                    "Unexpected watch event object type (reflector=%s expectedType=%s "
                    "actualType=%s)",
                    name,
                    expected_type.__name__,
                    type(obj).__name__,
                )
                continue
            try:
                meta = accessor(obj)
            except TypeError as err:
                _log.error(
                    "Unable to understand watch event (reflector=%s event=%r): %s",
                    name,
                    event,
                    err,
                )
                continue
            resource_version = meta.resource_version or ""
            if event_type == ADDED:
                try:
                    store.add(obj)
                except Exception:
                    _log.exception("Unable to add watch event object to store (reflector=%s)", name)
            elif event_type == MODIFIED:
                event_received_besides_added = True
                try:
                    store.update(obj)
                except Exception:
                    _log.exception(
                        "Unable to update watch event object to store (reflector=%s)", name
                    )
            elif event_type == DELETED:
                event_received_besides_added = True
                try:
                    store.delete(obj)
                except Exception:
                    _log.exception(
                        "Unable to delete watch event object from store (reflector=%s)", name
                    )
            elif event_type == BOOKMARK:
                event_received_besides_added = True
                annotations = meta.annotations or {}
                if annotations.get(INITIAL_EVENTS_ANNOTATION_KEY) == "true":
                    watch_list_bookmark_received = True
                if bookmark is not None:
                    try:
                        bookmark(resource_version)
                    except Exception:
                        _log.exception(
                            "Unable to send bookmark event to store (reflector=%s)", name
                        )
            else:
                _log.error("Unknown watch event (reflector=%s event=%r)", name, event)
            set_last_sync_resource_version(resource_version, event_received_besides_added)
            event_count += 1
            if exit_on_watch_list_bookmark_received and watch_list_bookmark_received:
                stop_watcher = False
                _klog.v(4).info(
                    "Exiting watch because received the bookmark that marks the end of "
                    "initial events stream",
                    "reflector",
                    name,
                    "totalItems",
                    event_count,
                    "duration",
                    clock.since(start),
                )
                return watch_list_bookmark_received
            initial_events_end_bookmark_warning_ticker.observe_last_event_time_stamp(clock.now())
        # The stream ended: closed by the server, or stopped by us for one of these.
        if stop_event.is_set():
            raise _StopRequestedError()
        pending = err_ch.receive()
        if pending is not None:
            raise pending
        if clock.since(start) < 1.0 and event_count == 0:
            raise VeryShortWatchError(name)
        _log.debug(
            "Watch close (reflector=%s type=%s totalItems=%d)",
            name,
            expected_type_name,
            event_count,
        )
        return watch_list_bookmark_received
    finally:
        initial_events_end_bookmark_warning_ticker.stop()
        stop.unregister(token)
        err_ch.detach()
        if stop_watcher:
            stop_watch()


def status_error_from_object(obj: Any) -> BaseException:
    """Port of apierrors.FromObject: the StatusError a watch ERROR event carries."""
    if isinstance(obj, dict):
        return StatusError.from_status(obj)
    dump = getattr(obj, "model_dump", None)
    if dump is not None and type(obj).__name__ == "V1Status":
        return StatusError.from_status(dump(by_alias=True, exclude_none=True, mode="json"))
    return UnexpectedObjectError(obj)


def is_expired_error(err: BaseException | None) -> bool:
    """Port of isExpiredError (reflector.go): 410 Expired or Gone, anywhere in the cause chain."""
    return any(is_resource_expired(e) or is_gone(e) for e in _error_chain(err))


def _is_internal_error(err: BaseException | None) -> bool:
    return any(is_internal_error(e) for e in _error_chain(err))


def _is_timeout(err: BaseException) -> bool:
    """Port of apierrors.IsTimeout."""
    if not isinstance(err, StatusError):
        return False
    if err.reason == REASON_TIMEOUT:
        return True
    return not err.reason and err.code == 504


def is_too_large_resource_version_error(err: BaseException | None) -> bool:
    """Port of isTooLargeResourceVersionError: the requested version is in the future.

    Go twin: isTooLargeResourceVersionError (reflector.go).
    """
    for e in _error_chain(err):
        if has_status_cause(e, CAUSE_TYPE_RESOURCE_VERSION_TOO_LARGE):
            return True
        if not isinstance(e, StatusError) or not _is_timeout(e):
            continue
        # Older apiservers only said so in the cause or status message.
        if any(c.get("message") == "Too large resource version" for c in e.causes):
            return True
        if "Too large resource version" in e.message:
            return True
    return False


def is_watch_error_retriable(err: BaseException | None) -> bool:
    """Port of isWatchErrorRetriable: connection refused or 429 mean "retry the watch".

    Connection refused is looked for through causes, contexts and urllib3's ``reason``
    attribute, the ways the HTTP stack wraps the socket error (Go's errors.As on Errno).

    Go twin: isWatchErrorRetriable (reflector.go).
    """
    if any(is_too_many_requests(e) for e in _error_chain(err)):
        return True
    seen: set[int] = set()
    pending: list[BaseException] = [err] if err is not None else []
    while pending:
        e = pending.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return True
        for nested in (e.__cause__, e.__context__, getattr(e, "reason", None)):
            if isinstance(nested, BaseException):
                pending.append(nested)
    return False


class InitialEventsEndBookmarkTicker:
    """Port of initialEventsEndBookmarkTicker (reflector.go): warns while a watch-list stream
    has not yet sent the bookmark that ends its initial events.

    Go selects on the ticker's channel in the watch loop; here the ticks are clock
    timers whose callback logs the warning (``on_tick``) and also queues the tick on
    ``c()`` (buffer of one, like Go's ticker channel) for tests. A noop ticker (never
    ticks) is returned when no warning was asked for.
    """

    def __init__(
        self,
        name: str,
        clock: Clock | None,
        watch_start: datetime,
        tick_interval: float,
    ) -> None:
        self._name = name
        self._clock = clock
        self._watch_start = watch_start
        self._tick_interval = tick_interval
        self._last_event_observe_time: datetime | None = None
        self._ticks: queue.Queue[datetime] = queue.Queue(maxsize=1)
        self._lock = threading.Lock()
        self._timer: Timer | None = None
        self._stopped = False
        self.on_tick: Callable[[], None] | None = None
        if clock is not None:
            self._timer = clock.after_func(tick_interval, self._tick)

    def _tick(self) -> None:
        clock = self._clock
        assert clock is not None
        with self._lock:
            if self._stopped:
                return
            with contextlib.suppress(queue.Full):
                self._ticks.put_nowait(clock.now())
            self._timer = clock.after_func(self._tick_interval, self._tick)
        on_tick = self.on_tick
        if on_tick is not None:
            on_tick()

    def c(self) -> queue.Queue[datetime]:
        """Port of Ticker.C: the ticks (never filled for a noop ticker)."""
        return self._ticks

    def stop(self) -> None:
        """Port of Ticker.Stop."""
        with self._lock:
            self._stopped = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()

    def observe_last_event_time_stamp(self, last_event_observe_time: datetime) -> None:
        """Port of observeLastEventTimeStamp (reflector.go)."""
        self._last_event_observe_time = last_event_observe_time

    def warn_if_expired(self) -> None:
        """Port of warnIfExpired (reflector.go)."""
        err = self.produce_warning_if_expired()
        if err is not None:
            _klog.info("Warning: event bookmark expired", "err", err)

    def produce_warning_if_expired(self) -> Exception | None:
        """Port of produceWarningIfExpired (reflector.go): the warning due, if any."""
        clock = self._clock
        if clock is None:
            return None
        last = self._last_event_observe_time
        if last is None:
            return Exception(
                f"{self._name}: awaiting required bookmark event for initial events stream, "
                f"no events received for {_go_duration(clock.since(self._watch_start))}"
            )
        elapsed = (clock.now() - last).total_seconds()
        if elapsed < self._tick_interval:
            return None
        return Exception(
            f"{self._name}: hasn't received required bookmark event marking the end of "
            f"initial events stream, received last event {_go_duration(elapsed)} ago"
        )


def new_initial_events_end_bookmark_ticker(
    name: str, clock: Clock, watch_start: datetime, exit_on_watch_list_bookmark_received: bool
) -> InitialEventsEndBookmarkTicker:
    """Port of newInitialEventsEndBookmarkTicker (reflector.go): 10 s warnings, or none."""
    return new_initial_events_end_bookmark_ticker_internal(
        name,
        clock,
        watch_start,
        INITIAL_EVENTS_END_BOOKMARK_TICK_INTERVAL,
        exit_on_watch_list_bookmark_received,
    )


def new_initial_events_end_bookmark_ticker_internal(
    name: str,
    clock: Clock,
    watch_start: datetime,
    tick_interval: float,
    exit_on_watch_list_bookmark_received: bool,
) -> InitialEventsEndBookmarkTicker:
    """Port of newInitialEventsEndBookmarkTickerInternal (reflector.go)."""
    if not exit_on_watch_list_bookmark_received:
        return InitialEventsEndBookmarkTicker(name, None, watch_start, tick_interval)
    ticker = InitialEventsEndBookmarkTicker(name, clock, watch_start, tick_interval)
    ticker.on_tick = ticker.warn_if_expired
    return ticker


def _go_duration(seconds: float) -> str:
    """Whole and fractional seconds the way Go prints a time.Duration ("1s", "1.5s")."""
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


class _SharedResultWatch:
    """A watch read through one iterator however often it is iterated.

    Go's ResultChan returns the same channel on every call, so the watch-list stream
    that watchList hands to watch resumes right after the initial-events bookmark.
    A Python watch's ``__iter__`` may start a new generator (or, for a streamed
    response, refuse a second reader); this wrapper keeps the first one.
    """

    def __init__(self, w: WatchInterface) -> None:
        self._w = w
        self._events: Iterator[WatchEvent] | None = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        """Stop the wrapped watch."""
        self._w.stop()

    def __iter__(self) -> Iterator[WatchEvent]:
        with self._lock:
            if self._events is None:
                self._events = iter(self._w)
            return self._events


# At the bottom: the informers' controller module imports names from this one, so it can
# only be imported once they exist; read as a module object at call time.
from jobctl.informers import controller as informer_controller  # noqa: E402
