"""Client contracts: the subset of client-go's typed clientset that jobctl uses.

Port of the shapes in k8s.io/client-go/kubernetes (typed clients), k8s.io/apimachinery
metav1.ListOptions and k8s.io/apimachinery/pkg/watch. Objects are the official
``kubernetes`` client's models (``V1Pod``, ``V1Job``, ``CoreV1Event``, ``V1Lease``).
A namespace of ``""`` in ``pods("")``/``jobs("")`` means all namespaces (list/watch only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from kubernetes.client import CoreV1Event, V1Job, V1Lease, V1Pod

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Patch types, as in k8s.io/apimachinery/pkg/types.
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# A function applied by list and watch to each raw JSON object (a dict as sent by the
# server) before the model is built; it may change the dict in place and must return it.
# The informer factory passes one that drops metadata.managedFields.
RawTransform = Callable[[dict[str, Any]], dict[str, Any]]

# Watch event types, as in k8s.io/apimachinery/pkg/watch.
ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"
ERROR = "ERROR"


@dataclass
class ListOptions:
    """Port of metav1.ListOptions (the fields list and watch calls use)."""

    label_selector: str = ""
    field_selector: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    limit: int = 0
    continue_: str = ""
    timeout_seconds: int | None = None
    allow_watch_bookmarks: bool = False
    send_initial_events: bool | None = None


@dataclass
class ObjectList(Generic[T]):
    """One page of a list call: items plus the list metadata."""

    items: list[T]
    resource_version: str = ""
    continue_: str = ""
    remaining_item_count: int | None = None


@dataclass
class WatchEvent:
    """Port of watch.Event. For ERROR, ``object`` is a ``V1Status`` or a status dict."""

    type: str
    object: Any


class WatchInterface(Protocol):
    """Port of watch.Interface: iterate for ResultChan, ``stop`` to end it."""

    def stop(self) -> None: ...

    def __iter__(self) -> Iterator[WatchEvent]: ...


@dataclass
class DeleteOptions:
    """Port of metav1.DeleteOptions (the fields jobctl sends)."""

    grace_period_seconds: int | None = None
    uid_precondition: str | None = None
    resource_version_precondition: str | None = None
    propagation_policy: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ResourceInterface(Protocol[T]):
    """CRUD, list and watch for one namespaced resource; client-go's typed client."""

    def create(self, obj: T) -> T: ...

    def get(self, name: str) -> T: ...

    def update(self, obj: T) -> T: ...

    def delete(self, name: str, options: DeleteOptions | None = None) -> None: ...

    def patch(
        self, name: str, patch: bytes | dict[str, Any] | list[Any], patch_type: str = ...
    ) -> T: ...

    def list(
        self, options: ListOptions | None = None, *, transform: RawTransform | None = None
    ) -> ObjectList[T]: ...

    def watch(
        self, options: ListOptions | None = None, *, transform: RawTransform | None = None
    ) -> WatchInterface: ...


class PodInterface(ResourceInterface[V1Pod], Protocol):
    """Port of typed corev1.PodInterface (subset)."""

    def update_status(self, pod: V1Pod) -> V1Pod: ...


class JobInterface(ResourceInterface[V1Job], Protocol):
    """Port of typed batchv1.JobInterface (subset)."""

    def update_status(self, job: V1Job) -> V1Job: ...


class EventInterface(ResourceInterface[CoreV1Event], Protocol):
    """Port of typed corev1.EventInterface (subset)."""


class LeaseInterface(ResourceInterface[V1Lease], Protocol):
    """Port of typed coordinationv1.LeaseInterface (subset)."""


class CoreV1Interface(Protocol):
    def pods(self, namespace: str) -> PodInterface: ...

    def events(self, namespace: str) -> EventInterface: ...


class BatchV1Interface(Protocol):
    def jobs(self, namespace: str) -> JobInterface: ...


class CoordinationV1Interface(Protocol):
    def leases(self, namespace: str) -> LeaseInterface: ...


class Interface(Protocol):
    """Port of kubernetes.Interface, the clientset (the groups jobctl uses)."""

    def core_v1(self) -> CoreV1Interface: ...

    def batch_v1(self) -> BatchV1Interface: ...

    def coordination_v1(self) -> CoordinationV1Interface: ...
