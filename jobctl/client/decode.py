"""Fast, tolerant decoding of API JSON into the official client's models.

The official client's generic deserializer (``ApiClient.deserialize``) walks every
field through ``from_dict`` and costs about five times what validating the same dict
with ``Model.model_validate`` costs (see hack/bench_decode.py). jobctl's clientsets
therefore read raw bodies and build models here:

* ``decode_object`` validates one JSON dict into a model. The models forbid unknown
  keys (``extra="forbid"``), so an object from a newer server would fail; on such a
  failure the unknown keys named by the validation error are removed and validation is
  retried. Any other validation error raises ``DecodeError``.
* ``decode_list`` / ``decode_watch_event`` decode a list body or one watch line, apply
  an optional raw transform first, and log and skip objects that cannot be decoded.
* ``decode_list`` pauses Python's cyclic garbage collector while it builds a list: a
  10,000-pod list allocates about a million acyclic objects, and the collections they
  trigger cost three times the decoding itself (hack/bench_decode.py). The pause is
  process-wide (the collector is), reference-counted across threads, and restores the
  collector only if it was enabled when the first pause began.
* ``drop_managed_fields`` is the transform kube-controller-manager installs on its
  informers. ``prune_pod_for_job_controller`` also removes every pod field the Job
  controller never reads: a pod cache built with it holds partial pods, so only install
  it on informers whose readers are known to need nothing else.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from jobctl.client.interface import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    MODIFIED,
    ObjectList,
    RawTransform,
    WatchEvent,
)

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# How many rounds of unknown-key removal one object may need (each round removes every
# unknown key pydantic reported; nested unknown keys show up in the same round).
_MAX_STRIP_ROUNDS = 4


class DecodeError(ValueError):
    """A JSON object that cannot be turned into its model (not just unknown fields)."""


def decode_object(model_cls: type[M], raw: dict[str, Any]) -> M:
    """Validate ``raw`` into ``model_cls``, dropping keys the model does not know.

    ``raw`` may be modified (unknown keys are deleted from it).
    """
    try:
        return model_cls.model_validate(raw)
    except ValidationError as err:
        last = err
    for _ in range(_MAX_STRIP_ROUNDS):
        unknown = []
        for detail in last.errors():
            if detail["type"] != "extra_forbidden":
                raise DecodeError(f"cannot decode {model_cls.__name__}: {last}") from last
            unknown.append(detail["loc"])
        for loc in unknown:
            _delete_path(raw, loc)
        logger.debug(
            "dropped fields unknown to %s: %s",
            model_cls.__name__,
            ", ".join(".".join(str(p) for p in loc) for loc in unknown),
        )
        try:
            return model_cls.model_validate(raw)
        except ValidationError as err:
            last = err
    raise DecodeError(f"cannot decode {model_cls.__name__}: {last}") from last


def _delete_path(raw: Any, loc: tuple[int | str, ...]) -> None:
    """Delete the key at ``loc`` (a pydantic error location) from nested dicts/lists."""
    node = raw
    for part in loc[:-1]:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            return
        node = node[part]
    if isinstance(node, dict):
        node.pop(loc[-1], None)


def decode_items(
    model_cls: type[M],
    items: list[dict[str, Any]],
    transform: RawTransform | None = None,
) -> list[M]:
    """Decode list items one by one; an item that fails is logged and skipped."""
    out: list[M] = []
    validate = model_cls.model_validate
    for raw in items:
        try:
            if transform is not None:
                raw = transform(raw)
            try:
                out.append(validate(raw))
            except ValidationError:
                out.append(decode_object(model_cls, raw))
        except Exception as err:  # a malformed object must never break the list
            logger.error(
                "skipping %s that cannot be decoded: %s", model_cls.__name__, _describe(raw, err)
            )
    return out


class _GCPause:
    """Reference-counted pause of the cyclic garbage collector (interpreter-wide state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                if self._was_enabled:
                    gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    gc.enable()


# Guards interpreter-global state (the collector), hence module level.
_GC_PAUSE = _GCPause()


def decode_list(
    model_cls: type[M],
    body: bytes | str | dict[str, Any],
    transform: RawTransform | None = None,
    *,
    pause_gc: bool = True,
) -> ObjectList[M]:
    """Decode a ``*List`` response body into an ``ObjectList`` of ``model_cls``.

    With ``pause_gc`` (the default) the cyclic collector is paused meanwhile.
    """
    if not pause_gc:
        return _decode_list(model_cls, body, transform)
    with _GC_PAUSE.paused():
        return _decode_list(model_cls, body, transform)


def _decode_list(
    model_cls: type[M], body: bytes | str | dict[str, Any], transform: RawTransform | None
) -> ObjectList[M]:
    data = body if isinstance(body, dict) else json.loads(body)
    if not isinstance(data, dict):
        raise DecodeError(f"list response is not a JSON object: {type(data).__name__}")
    meta = data.get("metadata") or {}
    return ObjectList(
        items=decode_items(model_cls, data.get("items") or [], transform),
        resource_version=str(meta.get("resourceVersion") or ""),
        continue_=str(meta.get("continue") or ""),
        remaining_item_count=meta.get("remainingItemCount"),
    )


def decode_watch_event(
    model_cls: type[M], line: bytes | str, transform: RawTransform | None = None
) -> WatchEvent | None:
    """Decode one line of a watch stream; None for blank or undecodable lines.

    ERROR events carry the metav1.Status dict as sent. BOOKMARK events carry a model
    holding only metadata.resourceVersion and metadata.annotations.
    """
    if not line or line.isspace():
        return None
    try:
        data = json.loads(line)
        event_type = data["type"]
        raw = data["object"]
    except (ValueError, KeyError, TypeError) as err:
        logger.error("skipping watch line that is not a watch event: %s", err)
        return None
    if event_type == ERROR:
        return WatchEvent(ERROR, raw)
    if event_type == BOOKMARK:
        meta = raw.get("metadata") if isinstance(raw, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        bookmark: dict[str, Any] = {"resourceVersion": str(meta.get("resourceVersion") or "")}
        if meta.get("annotations"):
            bookmark["annotations"] = meta["annotations"]
        return WatchEvent(BOOKMARK, model_cls.model_validate({"metadata": bookmark}))
    if event_type not in (ADDED, MODIFIED, DELETED):
        logger.error("skipping watch event of unknown type %r", event_type)
        return None
    try:
        if transform is not None:
            raw = transform(raw)
        try:
            obj = model_cls.model_validate(raw)
        except ValidationError:
            obj = decode_object(model_cls, raw)
    except Exception as err:  # a malformed object must never end the watch
        logger.error(
            "skipping %s watch event for a %s that cannot be decoded: %s",
            event_type,
            model_cls.__name__,
            _describe(raw, err),
        )
        return None
    return WatchEvent(event_type, obj)


def _describe(raw: Any, err: BaseException) -> str:
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    if isinstance(meta, dict):
        return f"{meta.get('namespace', '')}/{meta.get('name', '')}: {err}"
    return str(err)


def drop_managed_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Remove metadata.managedFields, as kube-controller-manager's informer transform does."""
    meta = raw.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return raw


# Pod fields the Job controller (and the controller helpers it calls: ActivePods
# ordering, pod failure policy, backoff, finalizer and index tracking) reads.
_POD_SPEC_KEEP = (
    "nodeName",
    "hostname",
    "subdomain",
    "restartPolicy",
    "schedulingGroup",
    "schedulingPolicy",
)
_POD_CONTAINER_KEEP = ("name", "restartPolicy")
_POD_STATUS_KEEP = ("phase", "conditions", "startTime", "reason", "message")
_POD_CONTAINER_STATUS_KEEP = (
    "name",
    "image",
    "imageID",
    "ready",
    "restartCount",
    "started",
    "state",
    "lastState",
    "containerID",
)


def prune_pod_for_job_controller(raw: dict[str, Any]) -> dict[str, Any]:
    """Drop managedFields and every pod field the Job controller never reads.

    Kept: all of metadata except managedFields; spec.nodeName, hostname, subdomain,
    restartPolicy, the names and restartPolicy of containers and initContainers;
    status.phase, conditions, startTime, reason, message, and container and init
    container statuses (without resources, volume mounts, user and allocation fields).
    """
    drop_managed_fields(raw)
    spec = raw.get("spec")
    if isinstance(spec, dict):
        pruned_spec = {k: spec[k] for k in _POD_SPEC_KEEP if k in spec}
        for key in ("containers", "initContainers"):
            containers = spec.get(key)
            if isinstance(containers, list):
                pruned_spec[key] = [
                    {k: c[k] for k in _POD_CONTAINER_KEEP if k in c}
                    for c in containers
                    if isinstance(c, dict)
                ]
        raw["spec"] = pruned_spec
    status = raw.get("status")
    if isinstance(status, dict):
        pruned_status = {k: status[k] for k in _POD_STATUS_KEEP if k in status}
        for key in ("containerStatuses", "initContainerStatuses"):
            statuses = status.get(key)
            if isinstance(statuses, list):
                pruned_status[key] = [
                    {k: s[k] for k in _POD_CONTAINER_STATUS_KEEP if k in s}
                    for s in statuses
                    if isinstance(s, dict)
                ]
        raw["status"] = pruned_status
    return raw
