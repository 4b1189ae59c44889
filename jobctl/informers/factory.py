"""Port of client-go informers/factory.go plus the typed pod and job informers
(informers/core/v1/pod.go, informers/batch/v1/job.go) and their group accessors.

A ``SharedInformerFactory`` hands out one shared informer per object type, all built on
one clientset, namespace, list-options tweak and transform. ``factory.core().v1().pods()``
and ``factory.batch().v1().jobs()`` give typed informers with ``informer()`` and
``lister()``; both informers carry the namespace index.

Functional options work as in Go (``new_shared_informer_factory_with_options(client, 30,
with_namespace("ns"))``) and as arguments of ``SharedInformerFactory(client, 30,
namespace="ns", tweak_list_options=..., transform=..., clock=..., custom_resync=...,
raw_transforms=...)``.

Not in Go: ``raw_transforms`` (``with_raw_transforms``) maps a model class to a
``RawTransform`` that the informer of that type hands to its client's ``list`` and
``watch``, so it edits each object's JSON dict before the model is built (dropping
fields there saves building and then discarding their models). Like ``transform``, it
shapes the cache: every reader of that informer's store and lister sees the edited
objects.
Not ported: ``with_informer_name`` (metrics identity), ``for_resource`` (generic
informers) and the typed-informer adapters.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubernetes.client import V1Job, V1Pod

from jobctl.client.interface import (
    Interface,
    ListOptions,
    ObjectList,
    RawTransform,
    WatchInterface,
)
from jobctl.informers.delta_fifo import TransformFunc
from jobctl.informers.index import NAMESPACE_INDEX, Indexers, meta_namespace_index_func
from jobctl.informers.listers import JobLister, PodLister, new_job_lister, new_pod_lister
from jobctl.informers.listwatch import ListWatch, to_list_watcher_with_watch_list_semantics
from jobctl.informers.shared_informer import (
    DoneChecker,
    SharedIndexInformer,
    SharedIndexInformerOptions,
    SyncResult,
    new_shared_index_informer_with_options,
    wait_for,
)
from jobctl.k8s_libs.clock import Clock

# Port of internalinterfaces.TweakListOptionsFunc: edits the options of every list/watch.
TweakListOptionsFunc = Callable[[ListOptions], None]

# Port of internalinterfaces.NewInformerFunc.
NewInformerFunc = Callable[[Interface, float], SharedIndexInformer]

# Port of SharedInformerOption.
SharedInformerOption = Callable[["SharedInformerFactory"], "SharedInformerFactory"]


def _type_key(obj: Any) -> type:
    return obj if isinstance(obj, type) else type(obj)


def with_custom_resync_config(resync_config: Mapping[Any, float]) -> SharedInformerOption:
    """Port of WithCustomResyncConfig: per-type resync periods, keyed by model class."""

    def apply(factory: SharedInformerFactory) -> SharedInformerFactory:
        for k, v in resync_config.items():
            factory._custom_resync[_type_key(k)] = v
        return factory

    return apply


def with_tweak_list_options(
    tweak_list_options: TweakListOptionsFunc | None,
) -> SharedInformerOption:
    """Port of WithTweakListOptions."""

    def apply(factory: SharedInformerFactory) -> SharedInformerFactory:
        factory._tweak_list_options = tweak_list_options
        return factory

    return apply


def with_namespace(namespace: str) -> SharedInformerOption:
    """Port of WithNamespace: limit every informer to one namespace."""

    def apply(factory: SharedInformerFactory) -> SharedInformerFactory:
        factory._namespace = namespace
        return factory

    return apply


def with_transform(transform: TransformFunc | None) -> SharedInformerOption:
    """Port of WithTransform: run ``transform`` on every object before it is stored."""

    def apply(factory: SharedInformerFactory) -> SharedInformerFactory:
        factory._transform = transform
        return factory

    return apply


def with_raw_transforms(raw_transforms: Mapping[Any, RawTransform]) -> SharedInformerOption:
    """Not in Go: per-type transforms of the raw JSON objects, keyed by model class,
    applied by the client before decoding (see the module docstring)."""

    def apply(factory: SharedInformerFactory) -> SharedInformerFactory:
        for k, v in raw_transforms.items():
            factory._raw_transforms[_type_key(k)] = v
        return factory

    return apply


def with_clock(clock: Clock | None) -> SharedInformerOption:
    """Not in Go: the clock informers use (tests pass a FakeClock)."""

    def apply(factory: SharedInformerFactory) -> SharedInformerFactory:
        factory._clock = clock
        return factory

    return apply


class SharedInformerFactory:
    """Port of sharedInformerFactory (and the SharedInformerFactory interface).

    ``_informers`` holds one informer per object type; ``_started_informers`` those
    already running; ``_threads`` their run threads, joined by ``shutdown``.
    """

    def __init__(
        self,
        client: Interface,
        default_resync: float,
        namespace: str = "",
        tweak_list_options: TweakListOptionsFunc | None = None,
        transform: TransformFunc | None = None,
        clock: Clock | None = None,
        *,
        custom_resync: Mapping[Any, float] | None = None,
        raw_transforms: Mapping[Any, RawTransform] | None = None,
        options: Iterable[SharedInformerOption] = (),
    ) -> None:
        """Port of NewSharedInformerFactoryWithOptions: the keyword arguments are the
        functional options spelled out; ``options`` (option functions) apply after them."""
        self._client = client
        self._namespace = ""
        self._tweak_list_options: TweakListOptionsFunc | None = None
        self._lock = threading.Lock()
        self._default_resync = default_resync
        self._custom_resync: dict[type, float] = {}
        self._transform: TransformFunc | None = None
        self._raw_transforms: dict[type, RawTransform] = {}
        self._clock: Clock | None = None
        self._informers: dict[type, SharedIndexInformer] = {}
        self._started_informers: dict[type, bool] = {}
        self._threads: list[threading.Thread] = []
        # Start does nothing once shutdown began.
        self._shutting_down = False

        keyword_options: list[SharedInformerOption] = [
            with_namespace(namespace),
            with_tweak_list_options(tweak_list_options),
            with_transform(transform),
            with_clock(clock),
        ]
        if custom_resync is not None:
            keyword_options.append(with_custom_resync_config(custom_resync))
        if raw_transforms is not None:
            keyword_options.append(with_raw_transforms(raw_transforms))
        factory = self
        for opt in (*keyword_options, *options):
            factory = opt(factory)

    def start(self, stop: threading.Event) -> None:
        """Port of Start: run every informer created so far and not running yet."""
        with self._lock:
            if self._shutting_down:
                return
            for informer_type, informer in self._informers.items():
                if not self._started_informers.get(informer_type):
                    t = threading.Thread(
                        target=informer.run,
                        args=(stop,),
                        name=f"informer-{informer_type.__name__}",
                        daemon=True,
                    )
                    t.start()
                    self._threads.append(t)
                    self._started_informers[informer_type] = True

    def shutdown(self) -> None:
        """Port of Shutdown: refuse further starts and wait for running informers to end
        (set their ``stop`` first, or this blocks)."""
        with self._lock:
            self._shutting_down = True
            threads = list(self._threads)
        for t in threads:
            t.join()

    def wait_for_cache_sync(self, stop: threading.Event) -> dict[type, bool]:
        """Port of WaitForCacheSync: wait for the started informers; synced state per type."""
        return self.wait_for_cache_sync_with_result(stop).synced

    def wait_for_cache_sync_with_result(self, stop: threading.Event) -> SyncResult:
        """Port of WaitForCacheSyncWithContext: like wait_for_cache_sync, with an error
        when some informer did not sync before ``stop``."""
        with self._lock:
            informers = {
                t: inf for t, inf in self._informers.items() if self._started_informers.get(t)
            }
        checkers: list[DoneChecker] = [inf.has_synced_checker() for inf in informers.values()]
        wait_for(stop, "", *checkers)
        synced = {t: inf.has_synced() for t, inf in informers.items()}
        err: BaseException | None = None
        if not all(synced.values()):
            err = RuntimeError("context canceled")
        return SyncResult(err=err, synced=synced)

    def informer_for(self, obj: Any, new_func: NewInformerFunc) -> SharedIndexInformer:
        """Port of InformerFor: the informer for ``obj``'s type, created once."""
        with self._lock:
            informer_type = _type_key(obj)
            informer = self._informers.get(informer_type)
            if informer is not None:
                return informer
            resync_period = self._custom_resync.get(informer_type, self._default_resync)
            informer = new_func(self._client, resync_period)
            if self._transform is not None:
                informer.set_transform(self._transform)
            self._informers[informer_type] = informer
            return informer

    def core(self) -> CoreGroup:
        """Port of Core."""
        return CoreGroup(self, self._namespace, self._tweak_list_options)

    def batch(self) -> BatchGroup:
        """Port of Batch."""
        return BatchGroup(self, self._namespace, self._tweak_list_options)


def new_shared_informer_factory(client: Interface, default_resync: float) -> SharedInformerFactory:
    """Port of NewSharedInformerFactory: all namespaces, no tweaks."""
    return SharedInformerFactory(client, default_resync)


def new_filtered_shared_informer_factory(
    client: Interface,
    default_resync: float,
    namespace: str,
    tweak_list_options: TweakListOptionsFunc | None,
) -> SharedInformerFactory:
    """Port of NewFilteredSharedInformerFactory."""
    return SharedInformerFactory(
        client,
        default_resync,
        options=(with_namespace(namespace), with_tweak_list_options(tweak_list_options)),
    )


def new_shared_informer_factory_with_options(
    client: Interface, default_resync: float, *options: SharedInformerOption
) -> SharedInformerFactory:
    """Port of NewSharedInformerFactoryWithOptions."""
    return SharedInformerFactory(client, default_resync, options=options)


class CoreGroup:
    """Port of informers/core.Interface (the v1 version only)."""

    def __init__(
        self, factory: SharedInformerFactory, namespace: str, tweak: TweakListOptionsFunc | None
    ) -> None:
        self._factory = factory
        self._namespace = namespace
        self._tweak = tweak

    def v1(self) -> CoreV1Informers:
        """Port of core.Interface.V1."""
        return CoreV1Informers(self._factory, self._namespace, self._tweak)


class CoreV1Informers:
    """Port of informers/core/v1.Interface (pods only)."""

    def __init__(
        self, factory: SharedInformerFactory, namespace: str, tweak: TweakListOptionsFunc | None
    ) -> None:
        self._factory = factory
        self._namespace = namespace
        self._tweak = tweak

    def pods(self) -> PodInformer:
        """Port of v1.Interface.Pods."""
        return PodInformer(self._factory, self._namespace, self._tweak)


class BatchGroup:
    """Port of informers/batch.Interface (the v1 version only)."""

    def __init__(
        self, factory: SharedInformerFactory, namespace: str, tweak: TweakListOptionsFunc | None
    ) -> None:
        self._factory = factory
        self._namespace = namespace
        self._tweak = tweak

    def v1(self) -> BatchV1Informers:
        """Port of batch.Interface.V1."""
        return BatchV1Informers(self._factory, self._namespace, self._tweak)


class BatchV1Informers:
    """Port of informers/batch/v1.Interface (jobs only)."""

    def __init__(
        self, factory: SharedInformerFactory, namespace: str, tweak: TweakListOptionsFunc | None
    ) -> None:
        self._factory = factory
        self._namespace = namespace
        self._tweak = tweak

    def jobs(self) -> JobInformer:
        """Port of v1.Interface.Jobs."""
        return JobInformer(self._factory, self._namespace, self._tweak)


def _tweaked(options: ListOptions, tweak: TweakListOptionsFunc | None) -> ListOptions:
    opts = dataclasses.replace(options)
    if tweak is not None:
        tweak(opts)
    return opts


def _transform_kwargs(raw_transform: RawTransform | None) -> dict[str, RawTransform]:
    # The keyword is passed only when set, so clients without it keep working.
    return {} if raw_transform is None else {"transform": raw_transform}


def new_filtered_pod_informer(
    client: Interface,
    namespace: str,
    resync_period: float,
    indexers: Indexers,
    tweak_list_options: TweakListOptionsFunc | None,
    clock: Clock | None = None,
    raw_transform: RawTransform | None = None,
) -> SharedIndexInformer:
    """Port of NewFilteredPodInformer: a pod informer over ``client``;
    ``raw_transform`` (not in Go) goes to the client's list and watch."""
    kwargs = _transform_kwargs(raw_transform)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        opts = _tweaked(options, tweak_list_options)
        return client.core_v1().pods(namespace).list(opts, **kwargs)

    def watch_func(options: ListOptions) -> WatchInterface:
        opts = _tweaked(options, tweak_list_options)
        return client.core_v1().pods(namespace).watch(opts, **kwargs)

    return new_shared_index_informer_with_options(
        to_list_watcher_with_watch_list_semantics(
            ListWatch(list_func=list_func, watch_func=watch_func), client
        ),
        V1Pod,
        SharedIndexInformerOptions(resync_period=resync_period, indexers=indexers, clock=clock),
    )


def new_pod_informer(
    client: Interface, namespace: str, resync_period: float, indexers: Indexers
) -> SharedIndexInformer:
    """Port of NewPodInformer."""
    return new_filtered_pod_informer(client, namespace, resync_period, indexers, None)


class PodInformer:
    """Port of podInformer: the factory's pod informer and its lister."""

    def __init__(
        self, factory: SharedInformerFactory, namespace: str, tweak: TweakListOptionsFunc | None
    ) -> None:
        self._factory = factory
        self._namespace = namespace
        self._tweak = tweak

    def _default_informer(self, client: Interface, resync_period: float) -> SharedIndexInformer:
        """Port of podInformer.defaultInformer: with the namespace index."""
        return new_filtered_pod_informer(
            client,
            self._namespace,
            resync_period,
            {NAMESPACE_INDEX: meta_namespace_index_func},
            self._tweak,
            self._factory._clock,
            self._factory._raw_transforms.get(V1Pod),
        )

    def informer(self) -> SharedIndexInformer:
        """Port of podInformer.Informer."""
        return self._factory.informer_for(V1Pod, self._default_informer)

    def lister(self) -> PodLister:
        """Port of podInformer.Lister."""
        return new_pod_lister(self.informer().get_indexer())


def new_filtered_job_informer(
    client: Interface,
    namespace: str,
    resync_period: float,
    indexers: Indexers,
    tweak_list_options: TweakListOptionsFunc | None,
    clock: Clock | None = None,
    raw_transform: RawTransform | None = None,
) -> SharedIndexInformer:
    """Port of NewFilteredJobInformer: a job informer over ``client``;
    ``raw_transform`` (not in Go) goes to the client's list and watch."""
    kwargs = _transform_kwargs(raw_transform)

    def list_func(options: ListOptions) -> ObjectList[Any]:
        opts = _tweaked(options, tweak_list_options)
        return client.batch_v1().jobs(namespace).list(opts, **kwargs)

    def watch_func(options: ListOptions) -> WatchInterface:
        opts = _tweaked(options, tweak_list_options)
        return client.batch_v1().jobs(namespace).watch(opts, **kwargs)

    return new_shared_index_informer_with_options(
        to_list_watcher_with_watch_list_semantics(
            ListWatch(list_func=list_func, watch_func=watch_func), client
        ),
        V1Job,
        SharedIndexInformerOptions(resync_period=resync_period, indexers=indexers, clock=clock),
    )


def new_job_informer(
    client: Interface, namespace: str, resync_period: float, indexers: Indexers
) -> SharedIndexInformer:
    """Port of NewJobInformer."""
    return new_filtered_job_informer(client, namespace, resync_period, indexers, None)


class JobInformer:
    """Port of jobInformer: the factory's job informer and its lister."""

    def __init__(
        self, factory: SharedInformerFactory, namespace: str, tweak: TweakListOptionsFunc | None
    ) -> None:
        self._factory = factory
        self._namespace = namespace
        self._tweak = tweak

    def _default_informer(self, client: Interface, resync_period: float) -> SharedIndexInformer:
        """Port of jobInformer.defaultInformer: with the namespace index."""
        return new_filtered_job_informer(
            client,
            self._namespace,
            resync_period,
            {NAMESPACE_INDEX: meta_namespace_index_func},
            self._tweak,
            self._factory._clock,
            self._factory._raw_transforms.get(V1Job),
        )

    def informer(self) -> SharedIndexInformer:
        """Port of jobInformer.Informer."""
        return self._factory.informer_for(V1Job, self._default_informer)

    def lister(self) -> JobLister:
        """Port of jobInformer.Lister."""
        return new_job_lister(self.informer().get_indexer())
