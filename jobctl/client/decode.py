"""Fast, tolerant decoding of API JSON into the official client's models.

The official client's generic deserializer (``ApiClient.deserialize``) walks every
field through ``from_dict`` and costs about five times what validating the same dict
with ``Model.model_validate`` costs (see hack/bench_decode.py). jobctl's clientsets
therefore read raw bodies and build models here:

* ``decode_object`` validates one JSON dict into a model, at least as leniently as
  Go's JSON decoder fills a Go struct, and failing where it fails:

  - unknown keys are ignored (the models forbid them, ``extra="forbid"``, so the keys
    a validation error names are removed and validation is retried);
  - a required field that is absent, or ``null``, gets its zero value (``""``, ``0``,
    ``false``, ``[]``, ``{}``, an empty object), as a Go field keeps its zero value;
  - a value of the wrong type (the models' primitives are strict: ``"5"`` is not an
    integer, ``"true"`` not a boolean, as in Go) and JSON that does not parse raise
    ``DecodeError``.
* Fail closed, as client-go does: ``decode_list`` raises for the whole list when any
  item cannot be decoded (no partial list, no resourceVersion to resume from), and
  ``decode_watch_event`` raises for an event that cannot be decoded (the watch then
  ends with an error event: ``jobctl.client.real.StreamWatcher``). Nothing is skipped.
  An optional raw transform runs on each object first.
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

import functools
import gc
import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

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

# How many rounds of repair one object may need: each round removes every unknown key
# and fills every absent or null required field that pydantic reported; a filled nested
# object can only report its own required fields in the next round.
_MAX_REPAIR_ROUNDS = 8


class DecodeError(ValueError):
    """An object that cannot be decoded into its model (where Go's decoder fails too)."""


def decode_object(model_cls: type[M], raw: dict[str, Any]) -> M:
    """Validate ``raw`` into ``model_cls`` as leniently as Go's JSON decoder would.

    Unknown keys are dropped; required fields that are absent or null get their zero
    value; anything else that does not validate raises ``DecodeError``. ``raw`` may be
    modified in place.
    """
    try:
        return model_cls.model_validate(raw)
    except ValidationError as err:
        last = err
    except (TypeError, ValueError) as err:
        raise DecodeError(f"cannot decode {model_cls.__name__}: {err}") from err
    for _ in range(_MAX_REPAIR_ROUNDS):
        repairs: list[tuple[tuple[int | str, ...], Any]] = []
        for detail in last.errors():
            loc = tuple(detail["loc"])
            if detail["type"] == "extra_forbidden":
                repairs.append((loc, _DELETE))
                continue
            if detail["type"] == "missing" or (loc and detail.get("input", _DELETE) is None):
                zero = _zero_value(model_cls, loc)
                if zero is not _DELETE:
                    repairs.append((loc, zero))
                    continue
            raise DecodeError(f"cannot decode {model_cls.__name__}: {last}") from last
        for loc, value in repairs:
            _set_path(raw, loc, value)
        logger.debug(
            "repaired %s: %s",
            model_cls.__name__,
            ", ".join(".".join(str(p) for p in loc) for loc, _ in repairs),
        )
        try:
            return model_cls.model_validate(raw)
        except ValidationError as err:
            last = err
    raise DecodeError(f"cannot decode {model_cls.__name__}: {last}") from last


# Marks a key to delete (in repairs) and a type without a zero value (in _zero_value).
_DELETE: Any = object()


def _set_path(raw: Any, loc: tuple[int | str, ...], value: Any) -> None:
    """Delete (``_DELETE``) or set the key at ``loc`` (a pydantic error location)."""
    node = raw
    for part in loc[:-1]:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            return
        node = node[part]
    if isinstance(node, dict):
        if value is _DELETE:
            node.pop(loc[-1], None)
        else:
            node[loc[-1]] = value


def _unwrap(annotation: Any) -> Any:
    """The type inside ``Optional[...]`` / ``Annotated[...]``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


@functools.cache
def _field_annotations(model_cls: type[BaseModel]) -> dict[str, Any]:
    """Every name a field of ``model_cls`` is validated by (wire name, alias, Python
    name) mapped to its annotation."""
    names: dict[str, Any] = {}
    for name, info in model_cls.model_fields.items():
        names[name] = info.annotation
        for alias in (info.alias, info.serialization_alias):
            if alias:
                names[alias] = info.annotation
        choices = getattr(info.validation_alias, "choices", None)
        if choices is None and isinstance(info.validation_alias, str):
            choices = [info.validation_alias]
        for choice in choices or ():
            if isinstance(choice, str):
                names[choice] = info.annotation
    return names


def _field_annotation(model_cls: type[BaseModel], key: str) -> Any:
    return _field_annotations(model_cls).get(key, _DELETE)


def _zero_value(model_cls: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    """Go's zero value (as JSON) of the field at ``loc``, or ``_DELETE`` if it has none."""
    annotation: Any = model_cls
    for part in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(part, str):
                return _DELETE
            annotation = _field_annotation(annotation, part)
        elif origin is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif origin is dict and isinstance(part, str):
            annotation = get_args(annotation)[1]
        else:
            return _DELETE
        if annotation is _DELETE:
            return _DELETE
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is list:
        return []
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return {}
        for kind, zero in ((bool, False), (int, 0), (float, 0.0), (str, "")):
            if issubclass(annotation, kind):
                return zero
    return _DELETE


def decode_items(
    model_cls: type[M],
    items: list[dict[str, Any]],
    transform: RawTransform | None = None,
) -> list[M]:
    """Decode list items; the first that cannot be decoded raises ``DecodeError``."""
    out: list[M] = []
    add = _item_decoder(model_cls, transform, out)
    for raw in items:
        add(raw)
    return out


def _item_decoder(
    model_cls: type[M], transform: RawTransform | None, out: list[M]
) -> Callable[[Any], None]:
    """A function that decodes one list item into ``out``, raising ``DecodeError``."""
    validate = model_cls.model_validate

    def add(raw: Any) -> None:
        try:
            if transform is not None:
                raw = transform(raw)
            try:
                out.append(validate(raw))
                return
            except ValidationError:
                pass
            out.append(decode_object(model_cls, raw))
        except DecodeError as err:
            raise DecodeError(f"item {_describe(raw)}: {err}") from err
        except Exception as err:  # a transform that cannot handle the object
            raise DecodeError(
                f"item {_describe(raw)}: cannot decode {model_cls.__name__}: {err}"
            ) from err

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
            _list_items(data)  # "items" that is not an array was not scanned: refuse it
        except DecodeError:
            raise
        except (ValueError, IndexError):
            # Not a well-formed object: json.loads gives the error (or the value).
            items.clear()
            try:
                data = json.loads(body)
            except ValueError as err:
                raise DecodeError(f"cannot decode the list: {err}") from err
            if isinstance(data, dict):
                items = decode_items(model_cls, _list_items(data), transform)
    else:
        data = body
        items = decode_items(model_cls, _list_items(data), transform)
    if not isinstance(data, dict):
        raise DecodeError(f"list response is not a JSON object: {type(data).__name__}")
    meta = data.get("metadata") or {}
    if not isinstance(meta, dict):
        raise DecodeError(f"list metadata is not a JSON object: {type(meta).__name__}")
    return ObjectList(
        items=items,
        resource_version=str(meta.get("resourceVersion") or ""),
        continue_=str(meta.get("continue") or ""),
        remaining_item_count=meta.get("remainingItemCount"),
    )


def _list_items(data: dict[str, Any]) -> list[Any]:
    items = data.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise DecodeError(f"list items are not a JSON array: {type(items).__name__}")
    return items


def decode_watch_event(
    model_cls: type[M], line: bytes | str, transform: RawTransform | None = None
) -> WatchEvent | None:
    """Decode one line of a watch stream; None for a blank line.

    A line that is not a watch event, an event of an unknown type and an object that
    cannot be decoded raise ``DecodeError`` (client-go's watch decoder fails on each,
    which ends the watch). ERROR events carry the metav1.Status dict as sent. BOOKMARK
    events carry a model holding only metadata.resourceVersion and metadata.annotations.
    """
    if not line or line.isspace():
        return None
    try:
        data = json.loads(line)
    except ValueError as err:
        raise DecodeError(f"not a watch event: {err}") from err
    if not isinstance(data, dict):
        raise DecodeError(f"not a watch event: {type(data).__name__}")
    event_type = data.get("type")
    raw = data.get("object")
    if event_type not in (ADDED, MODIFIED, DELETED, ERROR, BOOKMARK):
        raise DecodeError(f"got invalid watch event type: {event_type}")
    if not isinstance(raw, dict):
        raise DecodeError(f"unable to decode watch event: object is {type(raw).__name__}")
    if event_type == ERROR:
        return WatchEvent(ERROR, raw)
    if event_type == BOOKMARK:
        meta = raw.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        bookmark: dict[str, Any] = {"resourceVersion": str(meta.get("resourceVersion") or "")}
        if meta.get("annotations"):
            bookmark["annotations"] = meta["annotations"]
        return WatchEvent(BOOKMARK, decode_object(model_cls, {"metadata": bookmark}))
    try:
        if transform is not None:
            raw = transform(raw)
        try:
            obj = model_cls.model_validate(raw)
        except ValidationError:
            obj = decode_object(model_cls, raw)
    except Exception as err:
        raise DecodeError(f"unable to decode watch event: {_describe(raw)}: {err}") from err
    return WatchEvent(event_type, obj)


def _describe(raw: Any) -> str:
    """The namespace/name of a raw object, for error messages."""
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    if isinstance(meta, dict):
        return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    return "(no metadata)"


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
