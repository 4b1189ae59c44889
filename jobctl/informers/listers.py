"""Listers: port of client-go tools/cache/listers.go, listers/generic_helpers.go, the typed
pod and job listers (listers/core/v1/pod.go, listers/batch/v1/job.go) and the job lister
expansion (listers/batch/v1/job_expansion.go).

Listers read an informer's indexer; the objects they return are the cache's own and must
be treated as read-only. ``get`` raises a NotFound ``StatusError`` like client-go's listers.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kubernetes.client import V1Job, V1ObjectMeta, V1Pod

from jobctl.client.errors import new_not_found
from jobctl.informers.index import NAMESPACE_INDEX, Indexer
from jobctl.informers.store import Store, accessor
from jobctl.k8s_libs.labels import Selector, everything, label_selector_as_selector, matches_nothing

_log = logging.getLogger(__name__)

T = TypeVar("T")

# metav1.NamespaceAll.
NAMESPACE_ALL = ""

# Port of AppendFunc: receives each object a list selects.
AppendFunc = Callable[[Any], None]


def list_all(store: Store, selector: Selector, append_fn: AppendFunc) -> None:
    """Port of ListAll (listers.go): every stored object whose labels match ``selector``."""
    if matches_nothing(selector):
        return
    select_all = selector.empty()
    for m in store.list():
        if select_all:
            append_fn(m)
            continue
        metadata = accessor(m)
        if selector.matches(metadata.labels):
            append_fn(m)


def list_all_by_namespace(
    indexer: Indexer, namespace: str, selector: Selector, append_fn: AppendFunc
) -> None:
    """Port of ListAllByNamespace (listers.go): like list_all within one namespace, through the
    namespace index when there is one (a full scan otherwise)."""
    if matches_nothing(selector):
        return
    if namespace == NAMESPACE_ALL:
        list_all(indexer, selector, append_fn)
        return
    try:
        items = indexer.index(NAMESPACE_INDEX, V1ObjectMeta(namespace=namespace))
    except Exception as err:
        _log.warning("can not retrieve list of objects using index: %s", err)
        for m in indexer.list():
            metadata = accessor(m)
            if (metadata.namespace or "") == namespace and selector.matches(metadata.labels):
                append_fn(m)
        return
    select_all = selector.empty()
    for m in items:
        if select_all:
            append_fn(m)
            continue
        metadata = accessor(m)
        if selector.matches(metadata.labels):
            append_fn(m)


class GenericLister:
    """Port of genericLister: untyped listing of one resource (GenericLister)."""

    def __init__(self, indexer: Indexer, resource: str) -> None:
        self._indexer = indexer
        self._resource = resource

    def list(self, selector: Selector) -> list[Any]:
        """Port of genericLister.List (listers.go)."""
        ret: list[Any] = []
        list_all(self._indexer, selector, ret.append)
        return ret

    def by_namespace(self, namespace: str) -> GenericNamespaceLister:
        """Port of genericLister.ByNamespace (listers.go)."""
        return GenericNamespaceLister(self._indexer, namespace, self._resource)

    def get(self, name: str) -> Any:
        """Port of genericLister.Get (listers.go): by bare key; NotFound when absent."""
        obj, exists = self._indexer.get_by_key(name)
        if not exists:
            raise new_not_found(self._resource, name)
        return obj


class GenericNamespaceLister:
    """Port of genericNamespaceLister: untyped listing within one namespace."""

    def __init__(self, indexer: Indexer, namespace: str, resource: str) -> None:
        self._indexer = indexer
        self._namespace = namespace
        self._resource = resource

    def list(self, selector: Selector) -> list[Any]:
        """Port of genericNamespaceLister.List (listers.go)."""
        ret: list[Any] = []
        list_all_by_namespace(self._indexer, self._namespace, selector, ret.append)
        return ret

    def get(self, name: str) -> Any:
        """Port of genericNamespaceLister.Get (listers.go); NotFound when absent."""
        obj, exists = self._indexer.get_by_key(self._namespace + "/" + name)
        if not exists:
            raise new_not_found(self._resource, name)
        return obj


def new_generic_lister(indexer: Indexer, resource: str) -> GenericLister:
    """Port of NewGenericLister (``resource`` is the GroupResource string, e.g. "job.batch").

    Go twin: NewGenericLister (listers.go).
    """
    return GenericLister(indexer, resource)


class ResourceIndexer(Generic[T]):
    """Port of listers.ResourceIndexer: typed list/get, namespaced when ``namespace`` set."""

    def __init__(self, indexer: Indexer, resource: str, namespace: str = "") -> None:
        self._indexer = indexer
        self._resource = resource
        self._namespace = namespace

    def list(self, selector: Selector) -> list[T]:
        """Port of ResourceIndexer.List."""
        ret: list[T] = []
        list_all_by_namespace(self._indexer, self._namespace, selector, ret.append)
        return ret

    def get(self, name: str) -> T:
        """Port of ResourceIndexer.Get: NotFound ``StatusError`` when absent."""
        key = name if self._namespace == "" else self._namespace + "/" + name
        obj, exists = self._indexer.get_by_key(key)
        if not exists:
            raise new_not_found(self._resource, name)
        result: T = obj
        return result


def new_resource_indexer(indexer: Indexer, resource: str) -> ResourceIndexer[Any]:
    """Port of listers.New."""
    return ResourceIndexer(indexer, resource)


def new_namespaced(parent: ResourceIndexer[T], namespace: str) -> ResourceIndexer[T]:
    """Port of listers.NewNamespaced."""
    return ResourceIndexer(parent._indexer, parent._resource, namespace)


# GroupResource strings of the typed listers (corev1.Resource("pod"), batchv1.Resource("job")).
POD_RESOURCE = "pod"
JOB_RESOURCE = "job.batch"


class PodLister:
    """Port of podLister (listers/core/v1/pod.go): pods from an informer's indexer."""

    def __init__(self, indexer: Indexer) -> None:
        self._resource_indexer: ResourceIndexer[V1Pod] = ResourceIndexer(indexer, POD_RESOURCE)

    def list(self, selector: Selector) -> list[V1Pod]:
        """Port of PodLister.List: pods of every namespace matching ``selector``."""
        return self._resource_indexer.list(selector)

    def pods(self, namespace: str) -> PodNamespaceLister:
        """Port of PodLister.Pods: a lister for one namespace."""
        return PodNamespaceLister(new_namespaced(self._resource_indexer, namespace))


class PodNamespaceLister:
    """Port of podNamespaceLister."""

    def __init__(self, resource_indexer: ResourceIndexer[V1Pod]) -> None:
        self._resource_indexer = resource_indexer

    def list(self, selector: Selector) -> list[V1Pod]:
        """Port of PodNamespaceLister.List."""
        return self._resource_indexer.list(selector)

    def get(self, name: str) -> V1Pod:
        """Port of PodNamespaceLister.Get: NotFound ``StatusError`` when absent."""
        return self._resource_indexer.get(name)


def new_pod_lister(indexer: Indexer) -> PodLister:
    """Port of NewPodLister."""
    return PodLister(indexer)


class NoJobsForPodError(LookupError):
    """The error GetPodJobs returns: no Job selects the pod (or it has no labels)."""


class JobLister:
    """Port of jobLister (listers/batch/v1/job.go) with JobListerExpansion."""

    def __init__(self, indexer: Indexer) -> None:
        self._resource_indexer: ResourceIndexer[V1Job] = ResourceIndexer(indexer, JOB_RESOURCE)

    def list(self, selector: Selector) -> list[V1Job]:
        """Port of JobLister.List: jobs of every namespace matching ``selector``."""
        return self._resource_indexer.list(selector)

    def jobs(self, namespace: str) -> JobNamespaceLister:
        """Port of JobLister.Jobs: a lister for one namespace."""
        return JobNamespaceLister(new_namespaced(self._resource_indexer, namespace))

    def get_pod_jobs(self, pod: V1Pod) -> builtins.list[V1Job]:
        """Port of jobLister.GetPodJobs (job_expansion.go): Jobs that may own ``pod``.

        The Jobs of the pod's namespace whose selector matches its labels (Jobs with an
        invalid selector are skipped). Go returns struct copies; these are shallow copies.
        Raises ``NoJobsForPodError`` when the pod has no labels or nothing matches.
        """
        meta = pod.metadata
        pod_labels = meta.labels if meta is not None else None
        name = meta.name if meta is not None else None
        namespace = (meta.namespace if meta is not None else None) or ""
        if not pod_labels:
            raise NoJobsForPodError(f"no jobs found for pod {name} because it has no labels")
        jobs: builtins.list[V1Job] = []
        for job in self.jobs(namespace).list(everything()):
            try:
                selector = label_selector_as_selector(job.spec.selector if job.spec else None)
            except ValueError:
                # An invalid selector matches no pod.
                continue
            if not selector.matches(pod_labels):
                continue
            jobs.append(job.model_copy())
        if not jobs:
            raise NoJobsForPodError(
                f"could not find jobs for pod {name} in namespace {namespace} with labels: "
                f"{_go_map_string(pod_labels)}"
            )
        return jobs


def _go_map_string(m: dict[str, str]) -> str:
    """Format a map as Go's %v does: map[k1:v1 k2:v2] with sorted keys."""
    return "map[" + " ".join(f"{k}:{m[k]}" for k in sorted(m)) + "]"


class JobNamespaceLister:
    """Port of jobNamespaceLister (JobNamespaceListerExpansion is empty)."""

    def __init__(self, resource_indexer: ResourceIndexer[V1Job]) -> None:
        self._resource_indexer = resource_indexer

    def list(self, selector: Selector) -> list[V1Job]:
        """Port of JobNamespaceLister.List."""
        return self._resource_indexer.list(selector)

    def get(self, name: str) -> V1Job:
        """Port of JobNamespaceLister.Get: NotFound ``StatusError`` when absent."""
        return self._resource_indexer.get(name)


def new_job_lister(indexer: Indexer) -> JobLister:
    """Port of NewJobLister."""
    return JobLister(indexer)
