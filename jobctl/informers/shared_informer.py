"""Port of client-go tools/cache/shared_informer.go (and event_handler_name.go).

A ``SharedIndexInformer`` keeps one indexer in step with the API through one reflector
and fans every change out to any number of event handlers. Each handler gets its own
``ProcessorListener``: an unbounded buffer drained by a thread of its own, so a slow
handler delays nobody else, and its own resync schedule. Handlers added after the
informer started first receive the current cache content as initial adds.

Python shapes of Go mechanisms:
- ``Done() <-chan struct{}`` is ``done() -> threading.Event`` (set once done).
- ``wait_for_cache_sync`` polls every 100ms on an injectable clock (real by default).
- Methods returning an error in Go raise here (``RuntimeError`` / ``TypeError``).

Not ported: the typed informer/handler generics (added after v0.36.0), the cache
mutation detector (off unless an environment variable enables it) and informer metrics.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from jobctl.informers.controller import (
    Config,
    Controller,
    ResourceEventHandler,
    ResourceEventHandlerFuncs,
    deletion_handling_meta_namespace_key_func,
    new,
    new_queue_fifo,
    process_deltas,
    process_deltas_in_batch,
)
from jobctl.informers.delta_fifo import Delta, Deltas, TransformFunc
from jobctl.informers.index import Indexer, Indexers
from jobctl.informers.listwatch import ListerWatcher
from jobctl.informers.reflector import (
    EventNotifier,
    WatchErrorHandler,
    get_type_description_from_object,
    wait_or_stop,
)
from jobctl.informers.store import Store, new_indexer
from jobctl.informers.synctrack import SingleFileTracker
from jobctl.k8s_libs import features, klog
from jobctl.k8s_libs.clock import Clock, RealClock

_log = logging.getLogger(__name__)
_klog = klog.get_logger(__name__)


class DoneChecker(Protocol):
    """Port of DoneChecker: something that becomes done once, with a name for logs."""

    def name(self) -> str: ...

    def done(self) -> threading.Event: ...


class ResourceEventHandlerRegistration(Protocol):
    """Port of ResourceEventHandlerRegistration: what add_event_handler returns."""

    def has_synced(self) -> bool:
        """Informer synced and every initial add delivered to this handler."""
        ...

    def has_synced_checker(self) -> DoneChecker: ...


@dataclass
class HandlerOptions:
    """Port of HandlerOptions (the logger field is dropped); None means the default."""

    resync_period: float | None = None


class SharedInformer(Protocol):
    """Port of SharedInformer."""

    def add_event_handler(
        self, handler: ResourceEventHandler
    ) -> ResourceEventHandlerRegistration: ...

    def add_event_handler_with_resync_period(
        self, handler: ResourceEventHandler, resync_period: float
    ) -> ResourceEventHandlerRegistration: ...

    def add_event_handler_with_options(
        self, handler: ResourceEventHandler, options: HandlerOptions
    ) -> ResourceEventHandlerRegistration: ...

    def remove_event_handler(self, handle: ResourceEventHandlerRegistration) -> None: ...

    def get_store(self) -> Store: ...

    def get_controller(self) -> Controller: ...

    def run(self, stop: threading.Event) -> None: ...

    def has_synced(self) -> bool: ...

    def has_synced_checker(self) -> DoneChecker: ...

    def last_sync_resource_version(self) -> str: ...

    def set_watch_error_handler(self, handler: WatchErrorHandler) -> None: ...

    def set_transform(self, handler: TransformFunc) -> None: ...

    def is_stopped(self) -> bool: ...


class SharedIndexInformer(SharedInformer, Protocol):
    """Port of SharedIndexInformer: a SharedInformer with an indexer."""

    def add_indexers(self, indexers: Indexers) -> None: ...

    def get_indexer(self) -> Indexer: ...


def new_shared_informer(
    lw: ListerWatcher, example_object: Any, default_event_handler_resync_period: float
) -> SharedIndexInformer:
    """Port of NewSharedInformer (shared_informer.go): a shared informer without indexes."""
    return new_shared_index_informer(lw, example_object, default_event_handler_resync_period, {})


def new_shared_index_informer(
    lw: ListerWatcher,
    example_object: Any,
    default_event_handler_resync_period: float,
    indexers: Indexers,
) -> SharedIndexInformer:
    """Port of NewSharedIndexInformer (shared_informer.go)."""
    return new_shared_index_informer_with_options(
        lw,
        example_object,
        SharedIndexInformerOptions(
            resync_period=default_event_handler_resync_period, indexers=indexers
        ),
    )


@dataclass
class SharedIndexInformerOptions:
    """Port of SharedIndexInformerOptions (metrics fields dropped, ``clock`` added: upstream
    hard-wires the real clock and tests swap the field)."""

    resync_period: float = 0.0
    indexers: Indexers | None = None
    object_description: str = ""
    clock: Clock | None = None


def new_shared_index_informer_with_options(
    lw: ListerWatcher, example_object: Any, options: SharedIndexInformerOptions
) -> SharedIndexInformer:
    """Port of NewSharedIndexInformerWithOptions (shared_informer.go).

    ``example_object`` (an instance or a class) fixes the type watch events must carry.
    """
    clock: Clock = options.clock if options.clock is not None else RealClock()
    return _SharedIndexInformer(
        indexer=new_indexer(
            deletion_handling_meta_namespace_key_func,
            options.indexers or {},
            atomic_fifo_enabled=features.DEFAULT_FEATURE_GATE.enabled(features.ATOMIC_FIFO),
        ),
        processor=SharedProcessor(clock),
        lister_watcher=lw,
        object_type=example_object,
        object_description=options.object_description,
        resync_period=options.resync_period,
        clock=clock,
    )


# Port of InformerSynced: reports whether an informer (or handler) has synced.
InformerSynced = Callable[[], bool]

# How often wait_for_cache_sync polls.
SYNCED_POLL_PERIOD = 0.1
# Initial capacity of a listener's buffer upstream; here the backlog size above which
# slow handler calls are logged.
INITIAL_BUFFER_SIZE = 1024


def wait_for_named_cache_sync(
    controller_name: str,
    stop: threading.Event,
    *cache_syncs: InformerSynced,
    clock: Clock | None = None,
) -> bool:
    """Port of WaitForNamedCacheSync: wait_for_cache_sync with start/end log lines.

    Go twin: WaitForNamedCacheSync (shared_informer.go).
    """
    _log.info("Waiting for caches to sync for %s", controller_name)
    if not wait_for_cache_sync(stop, *cache_syncs, clock=clock):
        _log.error("Unable to sync caches for %s", controller_name)
        return False
    _log.info("Caches are synced for %s", controller_name)
    return True


def wait_for_cache_sync(
    stop: threading.Event, *cache_syncs: InformerSynced, clock: Clock | None = None
) -> bool:
    """Port of WaitForCacheSync: poll every 100ms until all report synced or stop is set.

    Checks at once first (PollImmediateUntil). True if synced, False if stopped.

    Go twin: WaitForCacheSync (shared_informer.go).
    """
    the_clock: Clock = clock if clock is not None else RealClock()
    notifier = EventNotifier(stop)
    cond = threading.Condition()
    while True:
        if stop.is_set():
            return False
        if all(sync() for sync in cache_syncs):
            return True
        if wait_or_stop(the_clock, cond, notifier, SYNCED_POLL_PERIOD):
            return False


def wait_for(stop: threading.Event, what: str, *checkers: DoneChecker) -> bool:
    """Port of WaitFor (shared_informer.go): wait until every checker is done or ``stop`` is set.

    Returns True if all are done. Logs progress when ``what`` is not empty.
    """
    if what:
        _log.info("Waiting for %s", what)
    cond = threading.Condition()

    def wake() -> None:
        with cond:
            cond.notify_all()

    notifiers = [(EventNotifier(c.done()), c) for c in checkers]
    stop_notifier = EventNotifier(stop)
    tokens = [(n, n.register(wake)) for n, _ in notifiers]
    stop_token = stop_notifier.register(wake)
    try:
        with cond:
            while not stop.is_set() and not all(c.done().is_set() for c in checkers):
                cond.wait()
    finally:
        for n, token in tokens:
            n.unregister(token)
        stop_notifier.unregister(stop_token)
    instances = sorted(c.name() for c in checkers if not c.done().is_set())
    if what:
        for c in checkers:
            if c.done().is_set():
                _log.info("Done waiting for %s (instance=%s)", what, c.name())
        if instances:
            _log.info("Timed out waiting for %s (instances=%s)", what, instances)
    return not instances


def is_done(checker: DoneChecker) -> bool:
    """Port of IsDone (shared_informer.go): is the checker done already?"""
    return checker.done().is_set()


@dataclass
class SyncResult:
    """Port of SyncResult: the outcome of waiting for a factory's informers."""

    err: BaseException | None
    synced: dict[Any, bool]

    def as_error(self) -> BaseException | None:
        """Port of SyncResult.AsError: an error naming the unsynced types, or None.

        Go twin: SyncResult.AsError (shared_informer.go).
        """
        if self.err is None:
            return None
        unsynced = sorted(_type_name(t) for t, ok in self.synced.items() if not ok)
        return RuntimeError(f"failed to sync all caches: {', '.join(unsynced)}: {self.err}")


def _type_name(t: Any) -> str:
    return t.__name__ if isinstance(t, type) else str(t)


class _SharedIndexInformer:
    """Port of sharedIndexInformer.

    ``_block_deltas`` serialises processing deltas with adding and removing handlers, so
    a new handler gets a consistent replay of the cache. ``_started_lock`` guards the
    started/stopped flags and the configuration that must not change after start.
    """

    def __init__(
        self,
        *,
        indexer: Indexer,
        processor: SharedProcessor,
        lister_watcher: ListerWatcher,
        object_type: Any,
        object_description: str,
        resync_period: float,
        clock: Clock,
    ) -> None:
        self._indexer = indexer
        self._controller: Controller | None = None
        # Set once the initial list has been popped into the indexer and distributed.
        self._synced = threading.Event()
        self._synced_notifier = EventNotifier(self._synced)
        self._processor = processor
        self._lister_watcher = lister_watcher
        self._object_type = object_type
        self._object_description = object_description
        # How often the reflector asks whether some handler is due for a resync.
        self._resync_check_period = resync_period
        # Resync period of handlers added with add_event_handler.
        self._default_event_handler_resync_period = resync_period
        self._clock = clock
        self._started = False
        self._stopped = False
        self._started_lock = threading.Lock()
        self._block_deltas = threading.Lock()
        self._watch_error_handler: WatchErrorHandler | None = None
        self._transform: TransformFunc | None = None
        self._key_func = deletion_handling_meta_namespace_key_func

    def set_watch_error_handler(self, handler: WatchErrorHandler) -> None:
        """Port of SetWatchErrorHandler (shared_informer.go): only before the informer starts."""
        with self._started_lock:
            if self._started:
                raise RuntimeError("informer has already started")
            self._watch_error_handler = handler

    def set_transform(self, handler: TransformFunc) -> None:
        """Port of SetTransform: only before start; runs on every object before storing.

        Go twin: sharedIndexInformer.SetTransform (shared_informer.go).
        """
        with self._started_lock:
            if self._started:
                raise RuntimeError("informer has already started")
            self._transform = handler

    def run(self, stop: threading.Event) -> None:
        """Port of sharedIndexInformer.Run / RunWithContext: run until ``stop`` is set.

        Starts the processor (handler threads) and the controller (reflector and pop loop),
        and marks the informer synced once the queue's initial list is processed.

        Go twin: sharedIndexInformer.Run (shared_informer.go).
        """
        if self.has_started():
            _log.warning("The sharedIndexInformer has started, run more than once is not allowed")
            return
        with self._started_lock:
            fifo = new_queue_fifo(self._object_type, self._indexer, self._transform)
            cfg = Config(
                queue=fifo,
                lister_watcher=self._lister_watcher,
                object_type=self._object_type,
                object_description=self._object_description
                or get_type_description_from_object(self._object_type),
                full_resync_period=self._resync_check_period,
                should_resync=self._processor.should_resync,
                process=self._handle_deltas,
                process_batch=self._handle_batch_deltas,
                watch_error_handler=self._watch_error_handler,
            )
            controller = new(cfg, self._clock)
            self._controller = controller
            self._started = True

        processor_stop = threading.Event()
        processor_thread = threading.Thread(
            target=self._processor.run,
            args=(processor_stop,),
            name="shared-processor",
            daemon=True,
        )
        processor_thread.start()
        queue_synced = EventNotifier(controller.has_synced_checker().done())
        synced_token = queue_synced.register(self._synced.set)
        try:
            controller.run(stop)
        finally:
            queue_synced.unregister(synced_token)
            with self._started_lock:
                # No new listeners from now on.
                self._stopped = True
            processor_stop.set()
            processor_thread.join()

    def has_started(self) -> bool:
        """Port of sharedIndexInformer.HasStarted (shared_informer.go)."""
        with self._started_lock:
            return self._started

    def has_synced(self) -> bool:
        """Port of sharedIndexInformer.HasSynced: the initial list reached the indexer.

        Go twin: sharedIndexInformer.HasSynced (shared_informer.go).
        """
        return self._synced.is_set()

    def has_synced_checker(self) -> DoneChecker:
        """Port of sharedIndexInformer.HasSyncedChecker (shared_informer.go)."""
        return _SharedIndexInformerDone(self)

    def last_sync_resource_version(self) -> str:
        """Port of sharedIndexInformer.LastSyncResourceVersion (shared_informer.go)."""
        with self._started_lock:
            if self._controller is None:
                return ""
            return self._controller.last_sync_resource_version()

    def get_store(self) -> Store:
        """Port of GetStore (shared_informer.go)."""
        return self._indexer

    def get_indexer(self) -> Indexer:
        """Port of GetIndexer (shared_informer.go)."""
        return self._indexer

    def add_indexers(self, indexers: Indexers) -> None:
        """Port of AddIndexers (shared_informer.go): refused once the informer stopped."""
        with self._started_lock:
            if self._stopped:
                raise RuntimeError("indexer was not added because it has stopped already")
            self._indexer.add_indexers(indexers)

    def get_controller(self) -> Controller:
        """Port of GetController: a stand-in reporting this informer's state.

        Go twin: sharedIndexInformer.GetController (shared_informer.go).
        """
        return _DummyController(self)

    def add_event_handler(self, handler: ResourceEventHandler) -> ResourceEventHandlerRegistration:
        """Port of AddEventHandler: with the informer's default resync period.

        Go twin: sharedIndexInformer.AddEventHandler (shared_informer.go).
        """
        return self.add_event_handler_with_options(handler, HandlerOptions())

    def add_event_handler_with_resync_period(
        self, handler: ResourceEventHandler, resync_period: float
    ) -> ResourceEventHandlerRegistration:
        """Port of AddEventHandlerWithResyncPeriod (shared_informer.go)."""
        return self.add_event_handler_with_options(
            handler, HandlerOptions(resync_period=resync_period)
        )

    def add_event_handler_with_options(
        self, handler: ResourceEventHandler, options: HandlerOptions
    ) -> ResourceEventHandlerRegistration:
        """Port of AddEventHandlerWithOptions (shared_informer.go).

        Before start, a resync period shorter than the check period lowers the check
        period; after start it is raised to it. After start the handler first receives
        every cached object as an initial add. Raises RuntimeError once stopped.
        """
        with self._started_lock:
            if self._stopped:
                raise RuntimeError(
                    f"handler {handler!r} was not added to shared informer because it has "
                    "stopped already"
                )
            resync_period = options.resync_period
            if resync_period is None:
                resync_period = self._default_event_handler_resync_period
            if resync_period > 0:
                if resync_period < MINIMUM_RESYNC_PERIOD:
                    _log.warning(
                        "resync period %ss is too small. Changing it to the minimum allowed "
                        "value of %ss",
                        resync_period,
                        MINIMUM_RESYNC_PERIOD,
                    )
                    resync_period = MINIMUM_RESYNC_PERIOD
                if resync_period < self._resync_check_period:
                    if self._started:
                        _log.warning(
                            "resync period %ss is smaller than resync check period %ss and the "
                            "informer has already started. Changing it to the resync check "
                            "period",
                            resync_period,
                            self._resync_check_period,
                        )
                        resync_period = self._resync_check_period
                    else:
                        self._resync_check_period = resync_period
                        self._processor.resync_check_period_changed(resync_period)

            listener = new_process_listener(
                handler,
                resync_period,
                determine_resync_period(resync_period, self._resync_check_period),
                self._clock.now(),
                INITIAL_BUFFER_SIZE,
                self.has_synced_checker(),
                self._clock,
            )
            if not self._started:
                handle, _ = self._processor.add_listener(listener)
                return handle

            with self._block_deltas:
                handle, started = self._processor.add_listener(listener)
                for item in self._indexer.list():
                    listener.add(_AddNotification(item, True))
                if started:
                    listener.watch_synced()
            return handle

    def _handle_deltas(self, obj: Any, is_in_initial_list: bool) -> None:
        """Port of sharedIndexInformer.handleDeltas: apply and distribute, serialised.

        Go twin: sharedIndexInformer.handleDeltas (shared_informer.go).
        """
        with self._block_deltas:
            if not isinstance(obj, Deltas):
                raise TypeError("object given as Process argument is not Deltas")
            process_deltas(self, self._indexer, obj, is_in_initial_list, self._key_func)

    def _handle_batch_deltas(self, deltas: list[Delta], is_in_initial_list: bool) -> None:
        """Port of sharedIndexInformer.handleBatchDeltas (shared_informer.go)."""
        with self._block_deltas:
            process_deltas_in_batch(self, self._indexer, deltas, is_in_initial_list, self._key_func)

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        """Port of sharedIndexInformer.OnAdd (shared_informer.go): tell every listener."""
        self._processor.distribute(_AddNotification(obj, is_in_initial_list), False)

    def on_update(self, old: Any, new: Any) -> None:
        """Port of sharedIndexInformer.OnUpdate: an update with an unchanged resource
        version is a resync, sent only to listeners due for one.

        Go twin: sharedIndexInformer.OnUpdate (shared_informer.go).
        """
        new_meta = getattr(new, "metadata", None)
        old_meta = getattr(old, "metadata", None)
        is_sync = (
            new_meta is not None
            and old_meta is not None
            and new_meta.resource_version == old_meta.resource_version
        )
        self._processor.distribute(_UpdateNotification(old, new), is_sync)

    def on_delete(self, old: Any) -> None:
        """Port of sharedIndexInformer.OnDelete (shared_informer.go)."""
        self._processor.distribute(_DeleteNotification(old), False)

    def is_stopped(self) -> bool:
        """Port of IsStopped (shared_informer.go)."""
        with self._started_lock:
            return self._stopped

    def remove_event_handler(self, handle: ResourceEventHandlerRegistration) -> None:
        """Port of RemoveEventHandler: unknown or already removed handles are ignored.

        Go twin: sharedIndexInformer.RemoveEventHandler (shared_informer.go).
        """
        with self._started_lock, self._block_deltas:
            self._processor.remove_listener(handle)


class _SharedIndexInformerDone:
    """Port of sharedIndexInformerDone: the informer's DoneChecker."""

    def __init__(self, s: _SharedIndexInformer) -> None:
        self._s = s

    def name(self) -> str:
        """Port of sharedIndexInformerDone.Name (shared_informer.go)."""
        return f"SharedIndexInformer {get_type_description_from_object(self._s._object_type)}"

    def done(self) -> threading.Event:
        """Port of sharedIndexInformerDone.Done (shared_informer.go)."""
        return self._s._synced

    def notifier(self) -> EventNotifier:
        """The informer's shared notifier for ``done`` (saves a thread per listener)."""
        return self._s._synced_notifier


class _DummyController:
    """Port of dummyController: what GetController hands out."""

    def __init__(self, informer: _SharedIndexInformer) -> None:
        self._informer = informer

    def run(self, stop: threading.Event) -> None:
        """Port of dummyController.Run (shared_informer.go): nothing."""

    def has_synced(self) -> bool:
        """Port of dummyController.HasSynced (shared_informer.go)."""
        return self._informer.has_synced()

    def has_synced_checker(self) -> DoneChecker:
        """Port of dummyController.HasSyncedChecker (shared_informer.go)."""
        return self._informer.has_synced_checker()

    def last_sync_resource_version(self) -> str:
        """Port of dummyController.LastSyncResourceVersion (InformerResourceVersion gate).

        Go twin: dummyController.LastSyncResourceVersion (shared_informer.go).
        """
        if features.DEFAULT_FEATURE_GATE.enabled(features.INFORMER_RESOURCE_VERSION):
            return self._informer.last_sync_resource_version()
        return ""


class _UpdateNotification:
    """Port of updateNotification."""

    __slots__ = ("new_obj", "old_obj")

    def __init__(self, old_obj: Any, new_obj: Any) -> None:
        self.old_obj = old_obj
        self.new_obj = new_obj


class _AddNotification:
    """Port of addNotification."""

    __slots__ = ("is_in_initial_list", "new_obj")

    def __init__(self, new_obj: Any, is_in_initial_list: bool) -> None:
        self.new_obj = new_obj
        self.is_in_initial_list = is_in_initial_list


class _DeleteNotification:
    """Port of deleteNotification."""

    __slots__ = ("old_obj",)

    def __init__(self, old_obj: Any) -> None:
        self.old_obj = old_obj


def determine_resync_period(desired: float, check: float) -> float:
    """Port of determineResyncPeriod: 0 stays 0; no resync without a check period;
    never shorter than the check period.

    Go twin: determineResyncPeriod (shared_informer.go).
    """
    if desired == 0:
        return desired
    if check == 0:
        _log.warning(
            "The specified resyncPeriod %ss is invalid because this shared informer doesn't "
            "support resyncing",
            desired,
        )
        return 0.0
    if desired < check:
        _log.warning(
            "The specified resyncPeriod %ss is being increased to the minimum resyncCheckPeriod "
            "%ss",
            desired,
            check,
        )
        return check
    return desired


# The shortest handler resync period allowed.
MINIMUM_RESYNC_PERIOD = 1.0


def shut_down_event_handler(
    informer: SharedInformer, handle: ResourceEventHandlerRegistration
) -> None:
    """Port of ShutDownEventHandler: remove the handler and wait for its thread to end.

    Go twin: ShutDownEventHandler (shared_informer.go).
    """
    informer.remove_event_handler(handle)
    shutdown = getattr(handle, "shutdown_chan", None)
    if shutdown is None:
        raise TypeError("handle does not support shutdown_chan()")
    shutdown().wait()


class SharedProcessor:
    """Port of sharedProcessor: the set of listeners and the fan-out to them.

    ``_listeners`` maps each listener to whether it is due for the current resync. While
    not started, ``distribute`` waits for ``run`` to start the listeners.
    """

    def __init__(self, clock: Clock) -> None:
        self._listeners_started = False
        self._lock = threading.Lock()
        self._listeners_cond = threading.Condition(self._lock)
        self._listeners: dict[ProcessorListener, bool] = {}
        self._clock = clock
        # Every listener thread ever started, joined when the processor stops.
        self._threads: list[threading.Thread] = []

    def get_listener(self, registration: Any) -> ProcessorListener | None:
        """Port of sharedProcessor.getListener: the registered listener, if still present.

        Go twin: sharedProcessor.getListener (shared_informer.go).
        """
        with self._lock:
            if isinstance(registration, ProcessorListener) and registration in self._listeners:
                return registration
            return None

    def add_listener(self, listener: ProcessorListener) -> tuple[ProcessorListener, bool]:
        """Port of sharedProcessor.addListener: register; start it if the processor runs.

        Go twin: sharedProcessor.addListener (shared_informer.go).
        """
        with self._lock:
            self._listeners[listener] = True
            if self._listeners_started:
                self._threads.append(listener.start())
            return listener, self._listeners_started

    def remove_listener(self, handle: Any) -> None:
        """Port of sharedProcessor.removeListener: stop and forget a listener.

        Go twin: sharedProcessor.removeListener (shared_informer.go).
        """
        with self._lock:
            if not isinstance(handle, ProcessorListener):
                raise TypeError(f"invalid key type {type(handle).__name__}")
            if handle not in self._listeners:
                return
            del self._listeners[handle]
            if self._listeners_started:
                handle.close()
            else:
                handle.finish_without_running()

    def distribute(self, obj: Any, sync: bool) -> None:
        """Port of sharedProcessor.distribute: hand a notification to the listeners
        (for a resync, only to those due for one).

        Go twin: sharedProcessor.distribute (shared_informer.go).
        """
        with self._lock:
            while not self._listeners_started and self._listeners:
                self._listeners_cond.wait()
            for listener, is_syncing in self._listeners.items():
                if not sync or is_syncing:
                    listener.add(obj)

    def run(self, stop: threading.Event) -> None:
        """Port of sharedProcessor.run: start every listener, wait for stop, stop them all.

        Go twin: sharedProcessor.run (shared_informer.go).
        """
        with self._lock:
            for listener in self._listeners:
                listener.watch_synced()
                self._threads.append(listener.start())
            self._listeners_started = True
            self._listeners_cond.notify_all()
        stop.wait()
        with self._lock:
            for listener in self._listeners:
                listener.close()
            self._listeners = {}
            self._listeners_started = False
            self._listeners_cond.notify_all()
            threads = list(self._threads)
        for t in threads:
            t.join()

    def should_resync(self) -> bool:
        """Port of sharedProcessor.shouldResync: mark listeners due now; any due?

        Go twin: sharedProcessor.shouldResync (shared_informer.go).
        """
        with self._lock:
            resync_needed = False
            now = self._clock.now()
            for listener in self._listeners:
                due = listener.should_resync(now)
                self._listeners[listener] = due
                if due:
                    resync_needed = True
                    listener.determine_next_resync(now)
            return resync_needed

    def resync_check_period_changed(self, resync_check_period: float) -> None:
        """Port of sharedProcessor.resyncCheckPeriodChanged: recompute listener periods.

        Go twin: sharedProcessor.resyncCheckPeriodChanged (shared_informer.go).
        """
        with self._lock:
            for listener in self._listeners:
                listener.set_resync_period(
                    determine_resync_period(listener.requested_resync_period, resync_check_period)
                )

    def listener_count(self) -> int:
        """How many handlers are registered (the tests' eventHandlerCount)."""
        with self._lock:
            return len(self._listeners)

    def is_started(self) -> bool:
        """Whether the listeners run (the tests' isStarted)."""
        with self._lock:
            return self._listeners_started


class ProcessorListener:
    """Port of processorListener: one handler's unbounded buffer and delivery thread.

    Notifications queue in ``_pending`` (Go's pop goroutine plus ring buffer) and are
    delivered in order by the listener's own thread, so a slow handler only delays
    itself. Also the handler's registration: ``has_synced`` is true once the informer
    synced and every initial add reached the handler.
    """

    def __init__(
        self,
        handler: ResourceEventHandler,
        requested_resync_period: float,
        resync_period: float,
        has_synced: DoneChecker,
        clock: Clock,
    ) -> None:
        self._handler = handler
        self._handler_name = name_for_handler(handler)
        self._sync_tracker = SingleFileTracker(
            f"{has_synced.name()} + event handler {self._handler_name}"
        )
        self._upstream_has_synced = has_synced
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: deque[Any] = deque()
        # Set by close(): stop delivering (what is still buffered is dropped).
        self._closed = False
        self._run_finished = threading.Event()
        self._synced_watch: tuple[EventNotifier, int] | None = None
        # What the handler asked for, and what it got given the check period.
        self.requested_resync_period = requested_resync_period
        self._resync_period = resync_period
        self._next_resync = datetime.min
        self._resync_lock = threading.Lock()

    def has_synced(self) -> bool:
        """Port of processorListener.HasSynced (shared_informer.go)."""
        return self._sync_tracker.has_synced()

    def has_synced_checker(self) -> DoneChecker:
        """Port of processorListener.HasSyncedChecker (shared_informer.go)."""
        return self._sync_tracker

    def shutdown_chan(self) -> threading.Event:
        """Port of processorListener.ShutdownChan: set once the delivery thread ended.

        Go twin: processorListener.ShutdownChan (shared_informer.go).
        """
        return self._run_finished

    def add(self, notification: Any) -> None:
        """Port of processorListener.add: buffer a notification (never blocks for long).

        Go twin: processorListener.add (shared_informer.go).
        """
        if isinstance(notification, _AddNotification) and notification.is_in_initial_list:
            self._sync_tracker.start()
        with self._cond:
            self._pending.append(notification)
            self._cond.notify()

    def start(self) -> threading.Thread:
        """Start the delivery thread (Go starts run and pop goroutines)."""
        t = threading.Thread(target=self.run, name=f"listener-{self._handler_name}", daemon=True)
        t.start()
        return t

    def close(self) -> None:
        """Port of close(listener.addCh): stop delivering and stop watching upstream."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._stop_watching_synced()

    def finish_without_running(self) -> None:
        """A listener removed before it ever ran is finished at once."""
        self.close()
        self._run_finished.set()

    def run(self) -> None:
        """Port of processorListener.run (with pop): deliver buffered notifications in order.

        A handler exception (Go's panic recovered by HandleCrash) is logged with the
        handler's name and the next notification is delivered at once: unlike
        upstream, which sleeps one second after a crash, nothing else waits on one bad
        object. An initial-list add whose handler raised still counts as delivered for
        the registration's ``has_synced`` (upstream's tracker would never finish), so
        one bad object cannot block a controller's cache sync forever.

        Go twin: processorListener.run (shared_informer.go).
        """
        try:
            handler = self._handler
            tracker = self._sync_tracker
            cond = self._cond
            while True:
                with cond:
                    while not self._pending and not self._closed:
                        cond.wait()
                    if self._closed:
                        return
                    batch = self._pending
                    self._pending = deque()
                backlog = len(batch)
                for notification in batch:
                    if self._closed:
                        return
                    backlog -= 1
                    start = time.monotonic() if backlog > INITIAL_BUFFER_SIZE else 0.0
                    cls = type(notification)
                    try:
                        if cls is _UpdateNotification:
                            handler.on_update(notification.old_obj, notification.new_obj)
                        elif cls is _AddNotification:
                            try:
                                handler.on_add(
                                    notification.new_obj, notification.is_in_initial_list
                                )
                            finally:
                                if notification.is_in_initial_list:
                                    tracker.finished()
                        elif cls is _DeleteNotification:
                            handler.on_delete(notification.old_obj)
                        else:
                            _klog.error(
                                None, "unrecognized notification", "notificationType", cls.__name__
                            )
                    except Exception as err:
                        _klog.error(
                            err,
                            "Observed a panic",
                            "handler",
                            self._handler_name,
                            "notificationType",
                            cls.__name__,
                            "stacktrace",
                            "".join(traceback.format_exception(err)).rstrip(),
                        )
                        continue
                    if start and time.monotonic() - start > 0.1:
                        _log.info(
                            "processorListener handler %s took %.3fs (pendingNotifications=%d)",
                            self._handler_name,
                            time.monotonic() - start,
                            backlog,
                        )
        finally:
            self._stop_watching_synced()
            self._run_finished.set()

    def watch_synced(self) -> None:
        """Port of processorListener.watchSynced: tell the tracker once upstream synced.

        Go twin: processorListener.watchSynced (shared_informer.go).
        """
        get_notifier = getattr(self._upstream_has_synced, "notifier", None)
        notifier: EventNotifier = (
            get_notifier()
            if get_notifier is not None
            else EventNotifier(self._upstream_has_synced.done())
        )
        with self._cond:
            if self._closed:
                return
        token = notifier.register(self._sync_tracker.upstream_has_synced)
        with self._cond:
            self._synced_watch = (notifier, token)

    def _stop_watching_synced(self) -> None:
        with self._cond:
            watch, self._synced_watch = self._synced_watch, None
        if watch is not None:
            watch[0].unregister(watch[1])

    def should_resync(self, now: datetime) -> bool:
        """Port of processorListener.shouldResync: is the next resync time reached?

        Go twin: processorListener.shouldResync (shared_informer.go).
        """
        with self._resync_lock:
            if self._resync_period == 0:
                return False
            return now >= self._next_resync

    def determine_next_resync(self, now: datetime) -> None:
        """Port of processorListener.determineNextResync (shared_informer.go)."""
        with self._resync_lock:
            self._next_resync = now + timedelta(seconds=self._resync_period)

    def set_resync_period(self, resync_period: float) -> None:
        """Port of processorListener.setResyncPeriod (shared_informer.go)."""
        with self._resync_lock:
            self._resync_period = resync_period

    def resync_period(self) -> float:
        """The effective resync period (read by tests)."""
        with self._resync_lock:
            return self._resync_period


def new_process_listener(
    handler: ResourceEventHandler,
    requested_resync_period: float,
    resync_period: float,
    now: datetime,
    buffer_size: int,
    has_synced: DoneChecker,
    clock: Clock | None = None,
) -> ProcessorListener:
    """Port of newProcessListener (``buffer_size`` only matters to Go's ring buffer).

    Go twin: newProcessListener (shared_informer.go).
    """
    ret = ProcessorListener(
        handler,
        requested_resync_period,
        resync_period,
        has_synced,
        clock if clock is not None else RealClock(),
    )
    ret.determine_next_resync(now)
    return ret


def name_for_handler(handler: Any) -> str:
    """Port of nameForHandler (event_handler_name.go): a readable name for logs."""
    name = ""
    if isinstance(handler, ResourceEventHandlerFuncs):
        name = _name_for_functions(handler.add_func, handler.update_func, handler.delete_func)
    elif handler is not None:
        cls = type(handler)
        name = f"{cls.__module__}.{cls.__qualname__}"
    return name or type(handler).__name__


def _name_for_functions(*fs: Any) -> str:
    """Port of nameForFunctions: the common qualifier, else the names joined by "+".

    Go twin: nameForFunctions (event_handler_name.go).
    """
    qualifier = ""
    single_qualifier = True
    names: list[str] = []
    for f in fs:
        if f is None:
            continue
        name = f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', '')}".strip(".")
        if not name:
            continue
        names.append(name)
        index = name.rfind(".")
        new_qualifier = name[:index] if index > 0 else name
        if qualifier == "":
            qualifier = new_qualifier
        elif qualifier != new_qualifier:
            single_qualifier = False
    if single_qualifier:
        return qualifier
    return "+".join(names)
