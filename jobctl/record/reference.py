"""Port of k8s.io/client-go/tools/reference/ref.go: object references for events."""

from __future__ import annotations

from typing import Any

from kubernetes.client import CoreV1Event, V1Job, V1Lease, V1ObjectReference, V1Pod
from pydantic import BaseModel

from jobctl.client.deepcopy import deep_copy

# Stands in for the runtime.Scheme lookup: apiVersion and kind of the models jobctl
# records events about (objects read from lists carry no TypeMeta).
_GVK_BY_MODEL: dict[type[BaseModel], tuple[str, str]] = {
    V1Pod: ("v1", "Pod"),
    V1Job: ("batch/v1", "Job"),
    CoreV1Event: ("v1", "Event"),
    V1Lease: ("coordination.k8s.io/v1", "Lease"),
}


class ObjectReferenceError(ValueError):
    """The object cannot be referenced (nil object, unknown kind)."""


def register_kind(model: type[BaseModel], api_version: str, kind: str) -> None:
    """Teach ``get_reference`` the apiVersion and kind of another model class."""
    _GVK_BY_MODEL[model] = (api_version, kind)


def get_reference(obj: Any) -> V1ObjectReference:
    """Port of GetReference: a reference to ``obj`` (a reference is returned as is)."""
    if obj is None:
        raise ObjectReferenceError("can't reference a nil object")
    if isinstance(obj, V1ObjectReference):
        return obj
    api_version = getattr(obj, "api_version", None) or ""
    kind = getattr(obj, "kind", None) or ""
    if not api_version and not kind:
        gvk = _GVK_BY_MODEL.get(type(obj))
        if gvk is None:
            raise ObjectReferenceError(
                f"unexpected gvks registered for object {type(obj).__name__}"
            )
        api_version, kind = gvk
    meta = getattr(obj, "metadata", None)
    if meta is None:
        raise ObjectReferenceError(f"object {type(obj).__name__} has no metadata")
    return V1ObjectReference(
        kind=kind,
        api_version=api_version,
        name=getattr(meta, "name", None),
        namespace=getattr(meta, "namespace", None),
        uid=getattr(meta, "uid", None),
        resource_version=getattr(meta, "resource_version", None),
    )


def get_partial_reference(obj: Any, field_path: str) -> V1ObjectReference:
    """Port of GetPartialReference: a reference with ``field_path`` set."""
    ref = deep_copy(get_reference(obj))
    ref.field_path = field_path
    return ref
