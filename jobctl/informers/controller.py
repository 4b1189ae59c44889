"""Port of client-go tools/cache/controller.go: the low-level informer controller.

A controller runs a Reflector that fills a queue (RealFIFO or DeltaFIFO) and a loop that
pops the queue into a ``process`` function. ``process_deltas`` is the standard process
function: it applies each delta to a store and tells a ``ResourceEventHandler``.

Go's ``ctx`` becomes ``stop: threading.Event``; Go error returns become exceptions. The
typed handler and ``DeletedObject`` generics (added upstream after v0.36.0) and the
informer metrics options are not ported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from jobctl.informers.delta_fifo import (
    ADDED,
    BOOKMARK,
    DELETED,
    REPLACED,
    REPLACED_ALL,
    SYNC,
    SYNC_ALL,
    UPDATED,
    DeletedFinalStateUnknown,
    Delta,
    DeltaFIFOOptions,
    Deltas,
    TransformFunc,
    new_delta_fifo_with_options,
)
from jobctl.informers.fifo import FIFOClosedError, Queue
from jobctl.informers.index import Indexer, Indexers
from jobctl.informers.listwatch import ListerWatcher
from jobctl.informers.real_fifo import (
    BookmarkInfo,
    RealFIFOOptions,
    ReplacedAllInfo,
    SyncAllInfo,
    new_real_fifo_with_options,
    reconcile_replacement,
)
from jobctl.informers.reflector import (
    EventNotifier,
    Reflector,
    ReflectorOptions,
    WatchErrorHandler,
    get_type_description_from_object,
    new_reflector_with_options,
    wait_or_stop,
)
from jobctl.informers.store import (
    TRANSACTION_TYPE_ADD,
    TRANSACTION_TYPE_DELETE,
    TRANSACTION_TYPE_UPDATE,
    KeyFunc,
    ObjectName,
    Store,
    Transaction,
    TransactionStore,
    meta_namespace_key_func,
    new_indexer,
    new_store,
    object_to_name,
    parse_object_name,
)
from jobctl.informers.type_assertion import implements
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import Clock, RealClock

if TYPE_CHECKING:
    from jobctl.informers.shared_informer import DoneChecker

_log = logging.getLogger(__name__)

# Port of ShouldResyncFunc: asked every resync period whether to resync the queue.
ShouldResyncFunc = Callable[[], bool]

# Port of ProcessFunc: handles one popped item (Deltas); raises on failure.
ProcessFunc = Callable[[Any, bool], None]

# Port of ProcessBatchFunc: handles deltas of distinct objects at once; raises on failure.
ProcessBatchFunc = Callable[[list[Delta], bool], None]


@dataclass
class Config:
    """Port of Config: everything one low-level controller needs.

    ``process_batch`` is used only when the queue can pop batches and the
    InOrderInformersBatchProcess gate is on. The context-taking watch error handler
    variant is folded into ``watch_error_handler``.
    """

    queue: Queue
    lister_watcher: ListerWatcher
    process: ProcessFunc
    process_batch: ProcessBatchFunc | None = None
    # An example object (or the class) of what the controller handles.
    object_type: Any = None
    object_description: str = ""
    full_resync_period: float = 0.0
    # Values below five minutes are not honoured.
    min_watch_timeout: float = 0.0
    should_resync: ShouldResyncFunc | None = None
    watch_error_handler: WatchErrorHandler | None = None
    watch_list_page_size: int = 0


class Controller(Protocol):
    """Port of Controller: reflector plus pop loop, started once by ``run``."""

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; blocks (start it on a thread)."""
        ...

    def has_synced(self) -> bool:
        """Whether the initial list has been processed (delegates to the queue)."""
        ...

    def has_synced_checker(self) -> DoneChecker:
        """A DoneChecker for the same condition (delegates to the queue)."""
        ...

    def last_sync_resource_version(self) -> str:
        """The reflector's last synced version, "" before it exists."""
        ...


class _Controller:
    """Port of controller (controller.go)."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self._config = config
        self._reflector: Reflector | None = None
        self._reflector_lock = threading.Lock()
        self.clock: Clock = clock if clock is not None else RealClock()
        # Private to the thread running run(): the pause between pop loops.
        self._cond = threading.Condition()

    def run(self, stop: threading.Event) -> None:
        """Port of controller.Run / RunWithContext: reflector thread plus the pop loop.

        Setting ``stop`` closes the queue, which ends the pop loop.

        Go twin: controller.Run (controller.go).
        """
        cfg = self._config
        notifier = EventNotifier(stop)
        notifier.register(cfg.queue.close)
        r = new_reflector_with_options(
            cfg.lister_watcher,
            cfg.object_type,
            cfg.queue,
            ReflectorOptions(
                resync_period=cfg.full_resync_period,
                min_watch_timeout=cfg.min_watch_timeout,
                type_description=cfg.object_description,
                clock=self.clock,
            ),
        )
        r.should_resync = cfg.should_resync
        r.watch_list_page_size = cfg.watch_list_page_size
        if cfg.watch_error_handler is not None:
            r.watch_error_handler = cfg.watch_error_handler
        with self._reflector_lock:
            self._reflector = r

        reflector_thread = threading.Thread(
            target=r.run, args=(stop,), name=f"reflector-{r.name()}", daemon=True
        )
        reflector_thread.start()
        # wait.UntilWithContext(ctx, processLoop, time.Second)
        while not stop.is_set():
            self._process_loop(stop)
            if wait_or_stop(self.clock, self._cond, notifier, 1.0):
                break
        reflector_thread.join()

    def has_synced(self) -> bool:
        """Port of controller.HasSynced (controller.go): the queue's initial list was popped."""
        return self._config.queue.has_synced()

    def has_synced_checker(self) -> DoneChecker:
        """Port of controller.HasSyncedChecker (controller.go)."""
        return self._config.queue.has_synced_checker()

    def last_sync_resource_version(self) -> str:
        """Port of controller.LastSyncResourceVersion (controller.go)."""
        with self._reflector_lock:
            if self._reflector is None:
                return ""
            return self._reflector.last_sync_resource_version()

    def _process_loop(self, stop: threading.Event) -> None:
        """Port of controller.processLoop (controller.go): pop until the queue is closed.

        Errors from ``process`` do not stop the loop; upstream drops them, they are
        logged here.
        """
        cfg = self._config
        queue = cfg.queue
        process = cfg.process
        process_batch = cfg.process_batch
        pop_batch = getattr(queue, "pop_batch", None)
        use_batch_process = (
            pop_batch is not None
            and process_batch is not None
            and features.DEFAULT_FEATURE_GATE.enabled(features.IN_ORDER_INFORMERS_BATCH_PROCESS)
        )
        while not stop.is_set():
            try:
                if use_batch_process:
                    assert pop_batch is not None
                    pop_batch(process_batch, process)
                else:
                    queue.pop(process)
            except FIFOClosedError:
                return
            except Exception:
                _log.exception("Error processing popped item (%s)", cfg.object_description)


def new(config: Config, clock: Clock | None = None) -> Controller:
    """Port of New: a Controller from a Config (``clock`` stands in for the field the
    shared informer sets).

    Go twin: New (controller.go).
    """
    return _Controller(config, clock)


class ResourceEventHandler(Protocol):
    """Port of ResourceEventHandler: add/update/delete notifications (read-only objects).

    ``on_delete`` may receive a ``DeletedFinalStateUnknown`` when the deletion was only
    noticed at a relist.
    """

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None: ...

    def on_update(self, old_obj: Any, new_obj: Any) -> None: ...

    def on_delete(self, obj: Any) -> None: ...


@dataclass
class ResourceEventHandlerFuncs:
    """Port of ResourceEventHandlerFuncs: a handler from optional functions."""

    add_func: Callable[[Any], None] | None = None
    update_func: Callable[[Any, Any], None] | None = None
    delete_func: Callable[[Any], None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        """Port of ResourceEventHandlerFuncs.OnAdd (controller.go)."""
        if self.add_func is not None:
            self.add_func(obj)

    def on_update(self, old_obj: Any, new_obj: Any) -> None:
        """Port of ResourceEventHandlerFuncs.OnUpdate (controller.go)."""
        if self.update_func is not None:
            self.update_func(old_obj, new_obj)

    def on_delete(self, obj: Any) -> None:
        """Port of ResourceEventHandlerFuncs.OnDelete (controller.go)."""
        if self.delete_func is not None:
            self.delete_func(obj)


@dataclass
class ResourceEventHandlerDetailedFuncs:
    """Port of ResourceEventHandlerDetailedFuncs: like the above, add gets is_in_initial_list."""

    add_func: Callable[[Any, bool], None] | None = None
    update_func: Callable[[Any, Any], None] | None = None
    delete_func: Callable[[Any], None] | None = None

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        """Port of ResourceEventHandlerDetailedFuncs.OnAdd (controller.go)."""
        if self.add_func is not None:
            self.add_func(obj, is_in_initial_list)

    def on_update(self, old_obj: Any, new_obj: Any) -> None:
        """Port of ResourceEventHandlerDetailedFuncs.OnUpdate (controller.go)."""
        if self.update_func is not None:
            self.update_func(old_obj, new_obj)

    def on_delete(self, obj: Any) -> None:
        """Port of ResourceEventHandlerDetailedFuncs.OnDelete (controller.go)."""
        if self.delete_func is not None:
            self.delete_func(obj)


@dataclass
class FilteringResourceEventHandler:
    """Port of FilteringResourceEventHandler: forward only objects passing ``filter_func``.

    An update into the filter is an add, an update out of it a delete.
    """

    filter_func: Callable[[Any], bool]
    handler: ResourceEventHandler

    def on_add(self, obj: Any, is_in_initial_list: bool) -> None:
        """Port of FilteringResourceEventHandler.OnAdd (controller.go)."""
        if not self.filter_func(obj):
            return
        self.handler.on_add(obj, is_in_initial_list)

    def on_update(self, old_obj: Any, new_obj: Any) -> None:
        """Port of FilteringResourceEventHandler.OnUpdate (controller.go)."""
        newer = self.filter_func(new_obj)
        older = self.filter_func(old_obj)
        if newer and older:
            self.handler.on_update(old_obj, new_obj)
        elif newer and not older:
            self.handler.on_add(new_obj, False)
        elif not newer and older:
            self.handler.on_delete(old_obj)

    def on_delete(self, obj: Any) -> None:
        """Port of FilteringResourceEventHandler.OnDelete (controller.go)."""
        if not self.filter_func(obj):
            return
        self.handler.on_delete(obj)


def deletion_handling_meta_namespace_key_func(obj: Any) -> str:
    """Port of DeletionHandlingMetaNamespaceKeyFunc: a tombstone's key, else the usual key.

    Go twin: DeletionHandlingMetaNamespaceKeyFunc (controller.go).
    """
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return meta_namespace_key_func(obj)


def deletion_handling_object_to_name(obj: Any) -> ObjectName:
    """Port of DeletionHandlingObjectToName: a tombstone's parsed key, else the object's name.

    Go twin: DeletionHandlingObjectToName (controller.go).
    """
    if isinstance(obj, DeletedFinalStateUnknown):
        return parse_object_name(obj.key)
    return object_to_name(obj)


@dataclass
class InformerOptions:
    """Port of InformerOptions (the logger and metrics fields are dropped)."""

    lister_watcher: ListerWatcher
    object_type: Any
    handler: ResourceEventHandler
    resync_period: float = 0.0
    min_watch_timeout: float = 0.0
    indexers: Indexers | None = None
    # Runs on every object before it is stored and handed to the handler.
    transform: TransformFunc | None = None
    # Not in Go: the clock, which upstream hard-wires to the real one.
    clock: Clock | None = None


def _atomic_fifo_enabled() -> bool:
    return features.DEFAULT_FEATURE_GATE.enabled(features.ATOMIC_FIFO)


def new_informer_with_options(options: InformerOptions) -> tuple[Store, Controller]:
    """Port of NewInformerWithOptions (controller.go): a store plus the controller that fills it.

    Use the store only for reads; writing to it would make notifications wrong.
    """
    client_state: Store
    if options.indexers is None:
        client_state = new_store(
            deletion_handling_meta_namespace_key_func, atomic_fifo_enabled=_atomic_fifo_enabled()
        )
    else:
        client_state = new_indexer(
            deletion_handling_meta_namespace_key_func,
            options.indexers,
            atomic_fifo_enabled=_atomic_fifo_enabled(),
        )
    return client_state, _new_informer(
        client_state, options, deletion_handling_meta_namespace_key_func
    )


def new_informer(
    lw: ListerWatcher, obj_type: Any, resync_period: float, h: ResourceEventHandler
) -> tuple[Store, Controller]:
    """Port of NewInformer (controller.go) (deprecated upstream in favour of the options form)."""
    client_state = new_store(
        deletion_handling_meta_namespace_key_func, atomic_fifo_enabled=_atomic_fifo_enabled()
    )
    options = InformerOptions(
        lister_watcher=lw, object_type=obj_type, handler=h, resync_period=resync_period
    )
    return client_state, _new_informer(
        client_state, options, deletion_handling_meta_namespace_key_func
    )


def new_indexer_informer(
    lw: ListerWatcher,
    obj_type: Any,
    resync_period: float,
    h: ResourceEventHandler,
    indexers: Indexers,
) -> tuple[Indexer, Controller]:
    """Port of NewIndexerInformer (controller.go): like new_informer, with an indexer."""
    client_state = new_indexer(
        deletion_handling_meta_namespace_key_func,
        indexers,
        atomic_fifo_enabled=_atomic_fifo_enabled(),
    )
    options = InformerOptions(
        lister_watcher=lw,
        object_type=obj_type,
        handler=h,
        resync_period=resync_period,
        indexers=indexers,
    )
    return client_state, _new_informer(
        client_state, options, deletion_handling_meta_namespace_key_func
    )


def new_transforming_informer(
    lw: ListerWatcher,
    obj_type: Any,
    resync_period: float,
    h: ResourceEventHandler,
    transformer: TransformFunc,
) -> tuple[Store, Controller]:
    """Port of NewTransformingInformer (controller.go): new_informer with a transform function."""
    client_state = new_store(
        deletion_handling_meta_namespace_key_func, atomic_fifo_enabled=_atomic_fifo_enabled()
    )
    options = InformerOptions(
        lister_watcher=lw,
        object_type=obj_type,
        handler=h,
        resync_period=resync_period,
        transform=transformer,
    )
    return client_state, _new_informer(
        client_state, options, deletion_handling_meta_namespace_key_func
    )


def new_transforming_indexer_informer(
    lw: ListerWatcher,
    obj_type: Any,
    resync_period: float,
    h: ResourceEventHandler,
    indexers: Indexers,
    transformer: TransformFunc,
) -> tuple[Indexer, Controller]:
    """Port of NewTransformingIndexerInformer (controller.go)."""
    client_state = new_indexer(
        deletion_handling_meta_namespace_key_func,
        indexers,
        atomic_fifo_enabled=_atomic_fifo_enabled(),
    )
    options = InformerOptions(
        lister_watcher=lw,
        object_type=obj_type,
        handler=h,
        resync_period=resync_period,
        indexers=indexers,
        transform=transformer,
    )
    return client_state, _new_informer(
        client_state, options, deletion_handling_meta_namespace_key_func
    )


def process_deltas(
    handler: ResourceEventHandler,
    client_state: Store,
    deltas: Deltas,
    is_in_initial_list: bool,
    key_func: KeyFunc,
) -> None:
    """Port of processDeltas: apply deltas (oldest first) to the store, notifying ``handler``.

    Sync/Replaced/Added/Updated become an update if the object is cached, else an add.

    Go twin: processDeltas (controller.go).
    """
    for d in deltas:
        obj = d.object
        delta_type = d.type
        if delta_type in (SYNC, REPLACED, ADDED, UPDATED):
            try:
                old, exists = client_state.get(obj)
            except Exception:
                exists = False
            if exists:
                client_state.update(obj)
                handler.on_update(old, obj)
            else:
                client_state.add(obj)
                handler.on_add(obj, is_in_initial_list)
        elif delta_type == DELETED:
            client_state.delete(obj)
            handler.on_delete(obj)
        elif delta_type == REPLACED_ALL:
            if not isinstance(obj, ReplacedAllInfo):
                raise TypeError(
                    f"ReplacedAll did not contain ReplacedAllInfo: {type(obj).__name__}"
                )
            process_replaced_all_info(handler, obj, client_state, is_in_initial_list, key_func)
        elif delta_type == SYNC_ALL:
            if not isinstance(obj, SyncAllInfo):
                raise TypeError(f"SyncAll did not contain SyncAllInfo: {type(obj).__name__}")
            for item in client_state.list():
                handler.on_update(item, item)
            return
        elif delta_type == BOOKMARK:
            if not isinstance(obj, BookmarkInfo):
                raise TypeError(
                    f"bookmark delta did not contain BookmarkInfo: {type(obj).__name__}"
                )
            client_state.bookmark(obj.resource_version)


def process_deltas_in_batch(
    handler: ResourceEventHandler,
    client_state: Store,
    deltas: list[Delta],
    is_in_initial_list: bool,
    key_func: KeyFunc,
) -> None:
    """Port of processDeltasInBatch: apply deltas of distinct objects in one transaction.

    Without transaction support each delta goes through ``process_deltas``. Handlers
    are called after the transaction, and only for the writes that succeeded.

    Go twin: processDeltasInBatch (controller.go).
    """
    if not implements(client_state, TransactionStore):
        errs: list[BaseException] = []
        for delta in deltas:
            try:
                process_deltas(
                    handler, client_state, Deltas((delta,)), is_in_initial_list, key_func
                )
            except Exception as e:
                errs.append(e)
        if errs:
            raise RuntimeError(f"unexpected error when handling deltas: {[str(e) for e in errs]}")
        return

    txns: list[Transaction] = []
    callbacks: list[Callable[[], None]] = []
    for d in deltas:
        obj = d.object
        if d.type in (SYNC, REPLACED, ADDED, UPDATED):
            try:
                old, exists = client_state.get(obj)
            except Exception:
                exists = False
            if exists:
                txns.append(Transaction(obj, TRANSACTION_TYPE_UPDATE))
                callbacks.append(_bind_update(handler, old, obj))
            else:
                txns.append(Transaction(obj, TRANSACTION_TYPE_ADD))
                callbacks.append(_bind_add(handler, obj, is_in_initial_list))
        elif d.type == DELETED:
            txns.append(Transaction(obj, TRANSACTION_TYPE_DELETE))
            callbacks.append(_bind_delete(handler, obj))
        else:
            raise ValueError(f"Delta type {d.type} is not supported in batch processing")

    err = cast(TransactionStore, client_state).transaction(*txns)
    if err is not None:
        for i in err.successful_indices:
            if i < len(callbacks):
                callbacks[i]()
        raise RuntimeError(f"not all items in the batch successfully processed: {err}")
    for callback in callbacks:
        callback()


def _bind_update(handler: ResourceEventHandler, old: Any, new: Any) -> Callable[[], None]:
    return lambda: handler.on_update(old, new)


def _bind_add(handler: ResourceEventHandler, obj: Any, initial: bool) -> Callable[[], None]:
    return lambda: handler.on_add(obj, initial)


def _bind_delete(handler: ResourceEventHandler, obj: Any) -> Callable[[], None]:
    return lambda: handler.on_delete(obj)


def process_replaced_all_info(
    handler: ResourceEventHandler,
    info: ReplacedAllInfo,
    client_state: Store,
    is_in_initial_list: bool,
    key_func: KeyFunc,
) -> None:
    """Port of processReplacedAllInfo: replace the store, then report deletions, then
    adds/updates in list order (the order RealFIFO.Replace would have queued them).

    Go twin: processReplacedAllInfo (controller.go).
    """
    deletions: list[DeletedFinalStateUnknown] = []
    replacements: list[tuple[Any, Any, bool]] = []

    def on_replace(obj: Any) -> None:
        try:
            old, exists = client_state.get(obj)
        except Exception:
            exists = False
        if exists:
            replacements.append((old, obj, True))
        else:
            replacements.append((None, obj, False))

    reconcile_replacement(None, client_state, info.objects, key_func, deletions.append, on_replace)
    # The store first, so that handlers see the state they are told about.
    client_state.replace(info.objects, info.resource_version)
    for obj_to_delete in deletions:
        handler.on_delete(obj_to_delete)
    for old_obj, new_obj, existed in replacements:
        if existed:
            handler.on_update(old_obj, new_obj)
        else:
            handler.on_add(new_obj, is_in_initial_list)


def _new_informer(client_state: Store, options: InformerOptions, key_func: KeyFunc) -> Controller:
    """Port of newInformer: the controller feeding ``client_state`` and the handler.

    Go twin: newInformer (controller.go).
    """
    fifo = new_queue_fifo(options.object_type, client_state, options.transform)
    handler = options.handler

    def process(obj: Any, is_in_initial_list: bool) -> None:
        if not isinstance(obj, Deltas):
            raise TypeError("object given as Process argument is not Deltas")
        process_deltas(handler, client_state, obj, is_in_initial_list, key_func)

    def process_batch(delta_list: list[Delta], is_in_initial_list: bool) -> None:
        process_deltas_in_batch(handler, client_state, delta_list, is_in_initial_list, key_func)

    cfg = Config(
        queue=fifo,
        lister_watcher=options.lister_watcher,
        object_type=options.object_type,
        full_resync_period=options.resync_period,
        min_watch_timeout=options.min_watch_timeout,
        process=process,
        process_batch=process_batch,
    )
    return new(cfg, options.clock)


def new_queue_fifo(object_type: Any, client_state: Store, transform: TransformFunc | None) -> Queue:
    """Port of newQueueFIFO (controller.go): RealFIFO under InOrderInformers (GA), else DeltaFIFO.

    With AtomicFIFO the RealFIFO emits whole-list ReplacedAll/SyncAll/Bookmark deltas and
    does not consult the store; otherwise the store is its ``known_objects``.
    """
    gate = features.DEFAULT_FEATURE_GATE
    type_name = get_type_description_from_object(object_type)
    if gate.enabled(features.IN_ORDER_INFORMERS):
        options = RealFIFOOptions(
            name=f"RealFIFO {type_name}",
            key_function=meta_namespace_key_func,
            transformer=transform,
        )
        if gate.enabled(features.ATOMIC_FIFO):
            options.atomic_events = True
            options.unlock_while_processing = gate.enabled(features.UNLOCK_WHILE_PROCESSING_FIFO)
            options.emit_delta_type_bookmark = True
        else:
            options.known_objects = client_state
        return new_real_fifo_with_options(options)
    return new_delta_fifo_with_options(
        DeltaFIFOOptions(
            name=f"DeltaFIFO {type_name}",
            known_objects=client_state,
            emit_delta_type_replaced=True,
            transformer=transform,
        )
    )
