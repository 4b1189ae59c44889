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
* ``decode_list`` parses a list body one item at a time: each element of ``items`` is
  decoded (and its dict dropped) as soon as it is parsed, instead of first building
  the dicts of the whole list. With 10,000 pods the full tree takes about 140 MiB, and
  the strings the models keep from it pin its memory after it is freed.
* ``decode_list`` pauses Python's cyclic garbage collector while it builds a list: a
  10,000-pod list allocates about a million acyclic objects, and the collections they
  trigger cost three times the decoding itself (hack/bench_decode.py). The pause is
  process-wide (the collector is), reference-counted across threads, and restores the
  collector only if it was enabled when the first pause began.
* ``drop_managed_fields`` is the transform kube-controller-manager installs on its
  informers. ``prune_pod_for_job_controller`` also removes every pod field the Job
  controller never reads: a pod cache built with it holds partial pods, so only install
  it on informers whose readers are known to need nothing else. It also interns the
  strings that repeat from pod to pod (``intern_pod_strings``).
"""

from __future__ import annotations

import gc
import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
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
    add = _item_decoder(model_cls, transform, out)
    for raw in items:
        add(raw)
    return out


def _item_decoder(
    model_cls: type[M], transform: RawTransform | None, out: list[M]
) -> Callable[[Any], None]:
    """A function that decodes one list item into ``out`` (logging and skipping failures)."""
    validate = model_cls.model_validate

    def add(raw: Any) -> None:
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

    return add


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_ws(text: str, idx: int) -> int:
    """The index of the first non-whitespace character at or after ``idx``."""
    match = _WHITESPACE.match(text, idx)
    return match.end() if match is not None else idx


def _scan_list_object(text: str, on_item: Callable[[Any], None]) -> dict[str, Any]:
    """Parse the JSON object ``text`` like json.loads, except that the elements of its
    top-level "items" array go to ``on_item`` as they are parsed and are not kept.

    Raises ValueError (or IndexError on truncated input) when ``text`` is not such an
    object; the caller then falls back to json.loads for its error.
    """
    raw_decode = _DECODER.raw_decode
    idx = _skip_ws(text, 0)
    if text[idx] != "{":
        raise ValueError("not a JSON object")
    out: dict[str, Any] = {}
    idx = _skip_ws(text, idx + 1)
    if text[idx] == "}":
        idx += 1
    else:
        while True:
            if text[idx] != '"':
                raise ValueError("expected a key")
            key, idx = raw_decode(text, idx)
            idx = _skip_ws(text, idx)
            if text[idx] != ":":
                raise ValueError("expected ':'")
            idx = _skip_ws(text, idx + 1)
            if key == "items" and text[idx] == "[":
                idx = _scan_array(text, _skip_ws(text, idx + 1), on_item)
                out[key] = []
            else:
                out[key], idx = raw_decode(text, idx)
            idx = _skip_ws(text, idx)
            if text[idx] == "}":
                idx += 1
                break
            if text[idx] != ",":
                raise ValueError("expected ',' or '}'")
            idx = _skip_ws(text, idx + 1)
    if _skip_ws(text, idx) != len(text):
        raise ValueError("extra data")
    return out


def _scan_array(text: str, idx: int, on_item: Callable[[Any], None]) -> int:
    """Hand each element of the array whose first element starts at ``idx`` (just after
    its '[' and any whitespace) to ``on_item``; return the index after its ']'."""
    raw_decode = _DECODER.raw_decode
    if text[idx] == "]":
        return idx + 1
    while True:
        item, idx = raw_decode(text, idx)
        on_item(item)
        del item
        idx = _skip_ws(text, idx)
        if text[idx] == "]":
            return idx + 1
        if text[idx] != ",":
            raise ValueError("expected ',' or ']'")
        idx = _skip_ws(text, idx + 1)


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
    items: list[M] = []
    data: Any = None
    if not isinstance(body, dict):
        try:
            text = body if isinstance(body, str) else body.decode("utf-8")
            data = _scan_list_object(text, _item_decoder(model_cls, transform, items))
        except (ValueError, IndexError):
            # Not a well-formed object: json.loads gives the error (or the value).
            items.clear()
            data = json.loads(body)
            if isinstance(data, dict):
                items = decode_items(model_cls, data.get("items") or [], transform)
    else:
        data = body
        items = decode_items(model_cls, data.get("items") or [], transform)
    if not isinstance(data, dict):
        raise DecodeError(f"list response is not a JSON object: {type(data).__name__}")
    meta = data.get("metadata") or {}
    return ObjectList(
        items=items,
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
# name, restartCount and state are read; image, imageID and ready are required by the
# model. lastState, containerID and started are never read.
_POD_CONTAINER_STATUS_KEEP = ("name", "image", "imageID", "ready", "restartCount", "state")


def _intern_values(obj: Any, keys: tuple[str, ...]) -> None:
    if isinstance(obj, dict):
        for key in keys:
            value = obj.get(key)
            if type(value) is str:
                obj[key] = sys.intern(value)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


_OWNER_REFERENCE_STRINGS = ("apiVersion", "kind", "name", "uid")
_POD_SPEC_STRINGS = ("nodeName", "subdomain", "restartPolicy", "schedulingGroup")
_CONTAINER_STRINGS = ("name", "image", "imageID", "restartPolicy")
_CONDITION_STRINGS = ("type", "status", "reason")


def intern_pod_strings(raw: dict[str, Any]) -> dict[str, Any]:
    """Intern the pod strings that repeat across the pods of a Job (label keys and
    values, annotation keys, owner references, namespace, node, container names and
    images, phases, condition types, statuses and reasons), so that a cache of many
    pods holds one copy of each instead of one per pod (json gives every value its own
    string). Unique strings (names, uids, messages) are left alone."""
    meta = raw.get("metadata")
    if isinstance(meta, dict):
        labels = meta.get("labels")
        if isinstance(labels, dict):
            meta["labels"] = {
                sys.intern(k): sys.intern(v) if type(v) is str else v for k, v in labels.items()
            }
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            meta["annotations"] = {sys.intern(k): v for k, v in annotations.items()}
        _intern_values(meta, ("namespace", "generateName"))
        for ref in _dicts(meta.get("ownerReferences")):
            _intern_values(ref, _OWNER_REFERENCE_STRINGS)
    spec = raw.get("spec")
    if isinstance(spec, dict):
        _intern_values(spec, _POD_SPEC_STRINGS)
        for key in ("containers", "initContainers"):
            for container in _dicts(spec.get(key)):
                _intern_values(container, _CONTAINER_STRINGS)
    status = raw.get("status")
    if isinstance(status, dict):
        _intern_values(status, ("phase", "reason"))
        for condition in _dicts(status.get("conditions")):
            _intern_values(condition, _CONDITION_STRINGS)
        for key in ("containerStatuses", "initContainerStatuses"):
            for container_status in _dicts(status.get(key)):
                _intern_values(container_status, _CONTAINER_STRINGS)
                state = container_status.get("state")
                if isinstance(state, dict):
                    for detail in state.values():
                        _intern_values(detail, ("reason",))
    return raw


def prune_pod_for_job_controller(raw: dict[str, Any]) -> dict[str, Any]:
    """Drop managedFields and every pod field the Job controller never reads.

    Kept: all of metadata except managedFields; spec.nodeName, hostname, subdomain,
    restartPolicy, scheduling group and policy, the names and restartPolicy of
    initContainers (``containers`` is left empty);
    status.phase, conditions, startTime, reason, message, and the name, image, imageID,
    ready, restartCount and state of container and init container statuses.
    Then the strings pods share are interned (``intern_pod_strings``).
    """
    drop_managed_fields(raw)
    spec = raw.get("spec")
    if isinstance(spec, dict):
        pruned_spec: dict[str, Any] = {k: spec[k] for k in _POD_SPEC_KEEP if k in spec}
        # Regular containers are never read (only init containers' restartPolicy, for
        # sidecars), but the model requires the list: keep it empty.
        pruned_spec["containers"] = []
        containers = spec.get("initContainers")
        if isinstance(containers, list):
            pruned_spec["initContainers"] = [
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
    return intern_pod_strings(raw)
