"""An in-memory clientset for unit tests: port of client-go's testing fake.

Mirrors k8s.io/client-go/testing (fixture.go: ``ObjectTracker``, ``ObjectReaction``;
fake.go: ``Fake`` with recorded actions and reactor chains; actions.go: the action
records) and the generated fake clientset (kubernetes/fake, gentype/fake.go), for the
resources jobctl uses: pods, core/v1 events, jobs and leases.

``FakeClientset(*objects)`` behaves like ``fake.NewSimpleClientset(objects...)``: every
call is recorded as an ``Action``, then offered to the reactor chain, whose last
reactor is the object tracker. ``prepend_reactor(verb, resource, fn)`` injects results
or errors; ``fn(action)`` returns ``(handled, ret, err)`` like a Go ReactionFunc.

Differences from the Go fake, all to look more like a real API server:

* stored objects get ``metadata.resourceVersion`` from the tracker's counter (the Go
  tracker counts but does not write the version into the object);
* create fills ``metadata.uid`` when empty and expands ``metadata.generateName``;
  a create with neither name nor generateName is rejected as Invalid;
* delete honours the uid / resourceVersion preconditions of ``DeleteOptions`` (409);
* a patch whose ``metadata.uid`` differs from the stored object's is rejected as
  Invalid (422, ``metadata.uid`` is immutable), as the API server does;
* strategic merge patch is implemented for the subset jobctl sends (see
  ``strategic_merge_patch``), not from the Go struct tags;
* watchers buffer without bound (the Go fake watcher panics when 100 events queue).
"""

from __future__ import annotations

import builtins
import copy
import json
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kubernetes.client import CoreV1Event, V1Job, V1Lease, V1ObjectMeta, V1Pod
from pydantic import BaseModel

from jobctl.client.decode import DecodeError, decode_object
from jobctl.client.errors import (
    REASON_BAD_REQUEST,
    REASON_INVALID,
    StatusError,
    new_already_exists,
    new_conflict,
    new_not_found,
)
from jobctl.client.interface import (
    ADDED,
    DELETED,
    ERROR,
    JSON_PATCH,
    MERGE_PATCH,
    MODIFIED,
    STRATEGIC_MERGE_PATCH,
    DeleteOptions,
    ListOptions,
    ObjectList,
    RawTransform,
    WatchEvent,
)
from jobctl.k8s_libs import labels
from jobctl.testing.builders import RAND_ALPHABET

__all__ = [
    "Action",
    "FakeClientset",
    "FakeWatcher",
    "ObjectTracker",
    "apply_json_patch",
    "json_merge_patch",
    "object_reaction",
    "strategic_merge_patch",
]

M = TypeVar("M", bound=BaseModel)

# verb strings, as client-go's actions use them
GET = "get"
LIST = "list"
WATCH = "watch"
CREATE = "create"
UPDATE = "update"
DELETE = "delete"
PATCH = "patch"

_RESOURCE_BY_MODEL: dict[type[BaseModel], str] = {
    V1Pod: "pods",
    CoreV1Event: "events",
    V1Job: "jobs",
    V1Lease: "leases",
}
_MODEL_BY_RESOURCE: dict[str, type[BaseModel]] = {v: k for k, v in _RESOURCE_BY_MODEL.items()}
# GroupResource strings used in error messages, as the API server prints them.
_GROUP_RESOURCE = {
    "pods": "pods",
    "events": "events",
    "jobs": "jobs.batch",
    "leases": "leases.coordination.k8s.io",
}
_KIND = {"pods": "Pod", "events": "Event", "jobs": "Job", "leases": "Lease"}


# --- actions (actions.go) --------------------------------------------------------------


@dataclass
class Action:
    """Port of the testing.Action records (GetActionImpl, CreateActionImpl, ...) as one type.

    ``object`` is set for create/update, ``patch``/``patch_type`` for patch,
    ``list_options`` for list/watch, ``delete_options`` for delete.
    """

    verb: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    object: Any = None
    patch: bytes = b""
    patch_type: str = ""
    list_options: ListOptions | None = None
    delete_options: DeleteOptions | None = None

    def get_verb(self) -> str:
        return self.verb

    def get_resource(self) -> str:
        return self.resource

    def get_namespace(self) -> str:
        return self.namespace

    def get_subresource(self) -> str:
        return self.subresource

    def get_name(self) -> str:
        return self.name

    def get_object(self) -> Any:
        return self.object

    def get_patch(self) -> bytes:
        return self.patch

    def matches(self, verb: str, resource: str) -> bool:
        """Port of ActionImpl.Matches (``resource`` may be ``"pods/status"``)."""
        if verb.lower() != self.verb.lower():
            return False
        if "/" in resource:
            res, sub = resource.split("/", 1)
            return res == self.resource and sub == self.subresource
        return resource == self.resource and not self.subresource

    def deep_copy(self) -> Action:
        """Port of Action.DeepCopy."""
        obj = self.object
        obj = obj.model_copy(deep=True) if isinstance(obj, BaseModel) else copy.deepcopy(obj)
        return Action(
            verb=self.verb,
            resource=self.resource,
            namespace=self.namespace,
            name=self.name,
            subresource=self.subresource,
            object=obj,
            patch=self.patch,
            patch_type=self.patch_type,
            list_options=copy.deepcopy(self.list_options),
            delete_options=copy.deepcopy(self.delete_options),
        )


# (handled, returned object, error)
ReactionFunc = Callable[[Action], tuple[bool, Any, BaseException | None]]
WatchReactionFunc = Callable[[Action], tuple[bool, "FakeWatcher | None", BaseException | None]]


@dataclass
class _SimpleReactor:
    """Port of SimpleReactor / SimpleWatchReactor: a reaction for a verb and resource."""

    verb: str
    resource: str
    reaction: Callable[[Action], tuple[bool, Any, BaseException | None]]

    def handles(self, action: Action) -> bool:
        """Port of SimpleReactor.Handles."""
        if self.verb != "*" and self.verb != action.verb:
            return False
        return _resource_covers(self.resource, action)


def _resource_covers(resource: str, action: Action) -> bool:
    """Port of resourceCovers."""
    if resource in ("*", action.resource):
        return True
    if "/" in resource:
        res, sub = resource.split("/", 1)
        return res == action.resource and sub == action.subresource
    return False


# --- patches -----------------------------------------------------------------------

# Lists merged by key in a strategic merge patch, by field name (from the
# patchMergeKey/patchStrategy tags of the core/v1, batch/v1 and meta/v1 types).
_MERGE_KEYS: dict[str, str] = {
    "ownerReferences": "uid",
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "conditions": "type",
}
# Lists of scalars merged as "append what is missing".
_PRIMITIVE_MERGE_LISTS = frozenset({"finalizers"})
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"
_SET_ELEMENT_ORDER = "$setElementOrder/"


class PatchError(ValueError):
    """A patch that cannot be applied to the object."""


def json_merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch (jsonpatch.MergePatch)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a strategic merge patch (strategicpatch.StrategicMergePatch), for a subset.

    Supported: plain map merges (``null`` deletes a key); ``$patch: replace|delete`` on
    maps; lists merged by key for the fields in ``_MERGE_KEYS`` (``ownerReferences`` by
    uid, ``conditions`` by type, containers by name...), including list elements with
    ``$patch: delete``; ``finalizers`` merged as a set (patch values not yet present are
    appended) and ``$deleteFromPrimitiveList/<field>``. ``$setElementOrder`` and
    ``$retainKeys`` are ignored. Every other list is replaced.
    """
    return _merge_map(copy.deepcopy(original), patch)


def _merge_map(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch directive {directive!r}")
    for key, value in patch.items():
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            name = key[len(_DELETE_FROM_PRIMITIVE_LIST) :]
            current = original.get(name)
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            if isinstance(current, list):
                remaining = [x for x in current if x not in value]
                # The API server omits an emptied list, as Go's omitempty does.
                if remaining:
                    original[name] = remaining
                else:
                    original.pop(name, None)
    for key, value in patch.items():
        if key.startswith("$"):
            if key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)) or key in (
                "$patch",
                "$retainKeys",
            ):
                continue
            raise PatchError(f"unknown patch directive {key!r}")
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(value, dict):
            original[key] = _merge_map(current if isinstance(current, dict) else {}, value)
        elif isinstance(value, list) and key in _PRIMITIVE_MERGE_LISTS:
            merged = list(current) if isinstance(current, list) else []
            for item in value:
                if item not in merged:
                    merged.append(item)
            original[key] = merged
        elif isinstance(value, list) and key in _MERGE_KEYS:
            merged = _merge_keyed_list(
                current if isinstance(current, list) else [], value, _MERGE_KEYS[key]
            )
            if merged or not isinstance(current, list):
                original[key] = merged
            else:
                original.pop(key, None)
        else:
            original[key] = copy.deepcopy(value)
    return original


def _merge_keyed_list(original: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [copy.deepcopy(e) for e in patch if not (isinstance(e, dict) and "$patch" in e)]
    result = list(original)
    for elem in patch:
        if not isinstance(elem, dict) or merge_key not in elem:
            raise PatchError(f"list element without merge key {merge_key!r}: {elem!r}")
        key_value = elem[merge_key]
        if elem.get("$patch") == "delete":
            result = [
                o for o in result if not (isinstance(o, dict) and o.get(merge_key) == key_value)
            ]
            continue
        for i, current in enumerate(result):
            if isinstance(current, dict) and current.get(merge_key) == key_value:
                result[i] = _merge_map(current, elem)
                break
        else:
            result.append(_merge_map({}, elem))
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"path /{'/'.join(parts)} does not exist")
    return node


def _json_patch_add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"index {last} out of range")
    else:
        raise PatchError("cannot add to a scalar")
    return doc


def _json_patch_remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchError(f"path {'/'.join(parts)} does not exist")


def apply_json_patch(document: Any, operations: list[Any]) -> Any:
    """Apply an RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    doc = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"malformed JSON patch operation {op!r}")
        kind = op["op"]
        parts = _pointer(op["path"])
        if kind == "add":
            doc = _json_patch_add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _json_patch_remove(doc, parts)
        elif kind == "replace":
            _json_patch_remove(doc, parts)
            doc = _json_patch_add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = (
                _json_patch_remove(doc, src) if kind == "move" else copy.deepcopy(_walk(doc, src))
            )
            doc = _json_patch_add(doc, parts, value)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise PatchError(f"test operation failed at {op['path']}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


# --- watch (watch.RaceFreeFakeWatcher) ------------------------------------------------


class FakeWatcher:
    """Port of watch.RaceFreeFakeWatcher: events pushed by the tracker or a test.

    Iterate for the events; ``stop()`` ends the iteration (events still queued are
    dropped, as a stopped Go watcher's channel is closed).
    """

    def __init__(self, transform: Callable[[Any], Any] | None = None) -> None:
        self._cond = threading.Condition()
        self._queue: deque[WatchEvent | BaseException] = deque()
        self._stopped = False
        self._transform = transform

    def stop(self) -> None:
        """Port of RaceFreeFakeWatcher.Stop."""
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()

    def is_stopped(self) -> bool:
        with self._cond:
            return self._stopped

    def action(self, event_type: str, obj: Any) -> None:
        """Port of RaceFreeFakeWatcher.Action: queue an event (ignored once stopped)."""
        with self._cond:
            if self._stopped:
                return
            self._queue.append(WatchEvent(event_type, obj))
            self._cond.notify_all()

    def add(self, obj: Any) -> None:
        self.action(ADDED, obj)

    def modify(self, obj: Any) -> None:
        self.action(MODIFIED, obj)

    def delete(self, obj: Any) -> None:
        self.action(DELETED, obj)

    def error(self, obj: Any) -> None:
        self.action(ERROR, obj)

    def fail(self, err: BaseException) -> None:
        """Not in Go: after the events queued so far, the stream raises ``err`` (a read or
        decode failure of a real watch stream)."""
        with self._cond:
            if self._stopped:
                return
            self._queue.append(err)
            self._cond.notify_all()

    def __iter__(self) -> Iterator[WatchEvent]:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                event = self._queue.popleft()
            if isinstance(event, BaseException):
                raise event
            if self._transform is not None and event.type in (ADDED, MODIFIED, DELETED):
                event = WatchEvent(event.type, self._transform(event.object))
            yield event


# --- the object tracker (fixture.go) ------------------------------------------------


@dataclass
class _Versioned:
    resource_version: int
    obj: BaseModel


class ObjectTracker:
    """Port of testing.tracker: objects by resource and namespace/name, plus watchers."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], _Versioned]] = {}
        self._watchers: dict[str, dict[str, list[FakeWatcher]]] = {}
        self._resource_versions: dict[str, int] = {}
        self._rng = rng or random.Random()

    def list(self, resource: str, ns: str) -> ObjectList[BaseModel]:
        """Port of tracker.List: the namespace's objects sorted by namespace and name."""
        with self._lock:
            rv = self._resource_versions.get(resource, 1)
            objs = self._filter_by_namespace(resource, ns)
            return ObjectList(
                items=[v.obj.model_copy(deep=True) for v in objs], resource_version=str(rv)
            )

    def watch(self, resource: str, ns: str, options: ListOptions | None = None) -> FakeWatcher:
        """Port of tracker.Watch: existing objects newer than the requested version first."""
        add_from_rv = 0
        if options is not None and options.resource_version:
            try:
                add_from_rv = int(options.resource_version)
            except ValueError as err:
                raise StatusError(
                    400,
                    REASON_BAD_REQUEST,
                    f"invalid ResourceVersion {options.resource_version!r} in ListOptions, "
                    "must be int64",
                ) from err
        with self._lock:
            watcher = FakeWatcher()
            self._watchers.setdefault(resource, {}).setdefault(ns, []).append(watcher)
            if options is not None:
                for versioned in self._filter_by_namespace(resource, ns):
                    if add_from_rv < versioned.resource_version:
                        watcher.add(versioned.obj.model_copy(deep=True))
            return watcher

    def is_watch_list_semantics_unsupported(self) -> bool:
        """Port of tracker.IsWatchListSemanticsUnSupported: always True.

        Like client-go's tracker, watches ignore ``send_initial_events`` and never send
        the initial-events-end bookmark, so reflectors over this fake LIST then WATCH.
        """
        return True

    def get(self, resource: str, ns: str, name: str) -> BaseModel:
        """Port of tracker.Get: a deep copy, or NotFound."""
        with self._lock:
            versioned = self._objects.get(resource, {}).get((ns, name))
            if versioned is None:
                raise new_not_found(_GROUP_RESOURCE.get(resource, resource), name)
            return versioned.obj.model_copy(deep=True)

    def add(self, obj: BaseModel) -> None:
        """Port of tracker.Add: store an object as is (resource from its type)."""
        resource = _resource_for(obj)
        self._add(resource, obj, _meta(obj).namespace or "", replace_existing=False)

    def create(self, resource: str, obj: BaseModel, ns: str) -> str:
        """Port of tracker.Create, plus the API server's uid and generateName handling.

        Returns the name the object was stored under.
        """
        obj = obj.model_copy(deep=True)
        meta = _meta(obj)
        if not meta.name:
            if not meta.generate_name:
                raise _invalid(
                    resource,
                    "",
                    "metadata.name",
                    "Required value: name or generateName is required",
                )
            with self._lock:
                suffix = "".join(self._rng.choice(RAND_ALPHABET) for _ in range(5))
            meta.name = meta.generate_name + suffix
        if not meta.uid:
            meta.uid = str(uuid.uuid4())
        self._add(resource, obj, ns, replace_existing=False)
        return str(meta.name)

    def update(self, resource: str, obj: BaseModel, ns: str) -> None:
        """Port of tracker.Update: replace an existing object."""
        self._add(resource, obj, ns, replace_existing=True)

    def patch(self, resource: str, obj: BaseModel, ns: str) -> None:
        """Port of tracker.Patch: store an already patched object."""
        self._add(resource, obj, ns, replace_existing=True)

    def delete(
        self, resource: str, ns: str, name: str, options: DeleteOptions | None = None
    ) -> None:
        """Port of tracker.Delete, honouring uid and resourceVersion preconditions."""
        group_resource = _GROUP_RESOURCE.get(resource, resource)
        with self._lock:
            objs = self._objects.get(resource, {})
            versioned = objs.get((ns, name))
            if versioned is None:
                raise new_not_found(group_resource, name)
            meta = _meta(versioned.obj)
            if options is not None:
                if options.uid_precondition is not None and options.uid_precondition != (
                    meta.uid or ""
                ):
                    raise new_conflict(
                        group_resource,
                        name,
                        f"Precondition failed: UID in precondition: {options.uid_precondition}, "
                        f"UID in object meta: {meta.uid or ''}",
                    )
                rv_precondition = options.resource_version_precondition
                if rv_precondition is not None and rv_precondition != (meta.resource_version or ""):
                    raise new_conflict(
                        group_resource,
                        name,
                        "Precondition failed: ResourceVersion in precondition: "
                        f"{rv_precondition}, ResourceVersion in object meta: "
                        f"{meta.resource_version or ''}",
                    )
            del objs[(ns, name)]
            for watcher in self._get_watches(resource, ns):
                watcher.delete(versioned.obj.model_copy(deep=True))

    def _get_watches(self, resource: str, ns: str) -> builtins.list[FakeWatcher]:
        """Port of tracker.getWatches: watchers of the namespace and of all namespaces."""
        by_ns = self._watchers.get(resource)
        if not by_ns:
            return []
        for key in list(by_ns):
            by_ns[key] = [w for w in by_ns[key] if not w.is_stopped()]
        watches = list(by_ns.get(ns, []))
        if ns != "":
            watches.extend(by_ns.get("", []))
        return watches

    def _add(self, resource: str, obj: BaseModel, ns: str, replace_existing: bool) -> None:
        """Port of tracker.add: namespace check, version bump, store, notify watchers."""
        group_resource = _GROUP_RESOURCE.get(resource, resource)
        with self._lock:
            obj = obj.model_copy(deep=True)
            meta = _meta(obj)
            if not meta.namespace:
                meta.namespace = ns
            if ns != meta.namespace:
                raise StatusError(
                    400,
                    REASON_BAD_REQUEST,
                    "request namespace does not match object namespace, "
                    f'request: "{ns}" object: "{meta.namespace}"',
                )
            objs = self._objects.setdefault(resource, {})
            rv = self._resource_versions.get(resource, 1) + 1
            key = (meta.namespace, meta.name or "")
            exists = key in objs
            if exists and not replace_existing:
                raise new_already_exists(group_resource, meta.name or "")
            if not exists and replace_existing:
                raise new_not_found(group_resource, meta.name or "")
            meta.resource_version = str(rv)
            self._resource_versions[resource] = rv
            objs[key] = _Versioned(rv, obj)
            for watcher in self._get_watches(resource, ns):
                if exists:
                    watcher.modify(obj.model_copy(deep=True))
                else:
                    watcher.add(obj.model_copy(deep=True))

    def _filter_by_namespace(self, resource: str, ns: str) -> builtins.list[_Versioned]:
        """Port of filterByNamespace."""
        res = [
            v
            for (obj_ns, _), v in self._objects.get(resource, {}).items()
            if ns == "" or obj_ns == ns
        ]
        res.sort(key=lambda v: (_meta(v.obj).namespace or "", _meta(v.obj).name or ""))
        return res


def _resource_for(obj: BaseModel) -> str:
    resource = _RESOURCE_BY_MODEL.get(type(obj))
    if resource is None:
        raise TypeError(f"no fake resource for {type(obj).__name__}")
    return resource


def _meta(obj: BaseModel) -> V1ObjectMeta:
    meta = getattr(obj, "metadata", None)
    if meta is None:
        meta = V1ObjectMeta()
        obj.metadata = meta  # type: ignore[attr-defined]
    assert isinstance(meta, V1ObjectMeta)
    return meta


def _invalid(resource: str, name: str, field_path: str, detail: str) -> StatusError:
    kind = _KIND.get(resource, resource)
    return StatusError(
        422,
        REASON_INVALID,
        f'{kind} "{name}" is invalid: {field_path}: {detail}',
        causes=[{"type": "FieldValueInvalid", "message": detail, "field": field_path}],
    )


def _to_dict(obj: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data


def object_reaction(tracker: ObjectTracker) -> ReactionFunc:
    """Port of ObjectReaction: serve each action from the tracker."""

    def react(action: Action) -> tuple[bool, Any, BaseException | None]:
        try:
            return True, _react(tracker, action), None
        except StatusError as err:
            return True, None, err

    return react


def _react(tracker: ObjectTracker, action: Action) -> Any:
    resource, ns = action.resource, action.namespace
    if action.verb == LIST:
        return tracker.list(resource, ns)
    if action.verb == GET:
        return tracker.get(resource, ns, action.name)
    if action.verb == CREATE:
        name = tracker.create(resource, action.object, ns)
        return tracker.get(resource, ns, name)
    if action.verb == UPDATE:
        name = _meta(action.object).name or ""
        tracker.update(resource, action.object, ns)
        return tracker.get(resource, ns, name)
    if action.verb == DELETE:
        tracker.delete(resource, ns, action.name, action.delete_options)
        return None
    if action.verb == PATCH:
        return _react_patch(tracker, action)
    raise StatusError(405, "MethodNotAllowed", f"no reaction implemented for {action.verb}")


def _react_patch(tracker: ObjectTracker, action: Action) -> BaseModel:
    """Port of objectTrackerReact.Patch for JSON, merge and strategic merge patches."""
    resource, ns, name = action.resource, action.namespace, action.name
    current = tracker.get(resource, ns, name)
    old = _to_dict(current)
    try:
        patch = json.loads(action.patch)
    except ValueError as err:
        raise StatusError(400, REASON_BAD_REQUEST, f"invalid patch: {err}") from err
    try:
        if action.patch_type == JSON_PATCH:
            if not isinstance(patch, list):
                raise PatchError("a JSON patch must be a list of operations")
            modified = apply_json_patch(old, patch)
        elif action.patch_type == MERGE_PATCH:
            modified = json_merge_patch(old, patch)
        elif action.patch_type == STRATEGIC_MERGE_PATCH:
            if not isinstance(patch, dict):
                raise PatchError("a strategic merge patch must be a JSON object")
            modified = strategic_merge_patch(old, patch)
        else:
            raise StatusError(
                415, "UnsupportedMediaType", f"PatchType {action.patch_type} is not supported"
            )
    except PatchError as err:
        raise StatusError(422, REASON_INVALID, f"the patch cannot be applied: {err}") from err
    if not isinstance(modified, dict):
        raise StatusError(422, REASON_INVALID, "the patch does not produce an object")
    old_uid = (old.get("metadata") or {}).get("uid", "")
    new_uid = (modified.get("metadata") or {}).get("uid", "")
    if new_uid != old_uid:
        raise _invalid(
            resource, name, "metadata.uid", f'Invalid value: "{new_uid}": field is immutable'
        )
    try:
        patched = decode_object(type(current), modified)
    except DecodeError as err:
        raise StatusError(422, REASON_INVALID, str(err)) from err
    tracker.patch(resource, patched, ns)
    return tracker.get(resource, ns, name)


# --- Fake (fake.go) -------------------------------------------------------------------


class Fake:
    """Port of testing.Fake: records actions and runs them through the reactor chains."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._actions: list[Action] = []
        self.reaction_chain: list[_SimpleReactor] = []
        self.watch_reaction_chain: list[_SimpleReactor] = []

    def add_reactor(self, verb: str, resource: str, reaction: ReactionFunc) -> None:
        """Port of Fake.AddReactor."""
        with self._lock:
            self.reaction_chain.append(_SimpleReactor(verb, resource, reaction))

    def prepend_reactor(self, verb: str, resource: str, reaction: ReactionFunc) -> None:
        """Port of Fake.PrependReactor."""
        with self._lock:
            self.reaction_chain.insert(0, _SimpleReactor(verb, resource, reaction))

    def add_watch_reactor(self, resource: str, reaction: WatchReactionFunc) -> None:
        """Port of Fake.AddWatchReactor."""
        with self._lock:
            self.watch_reaction_chain.append(_SimpleReactor("*", resource, reaction))

    def prepend_watch_reactor(self, resource: str, reaction: WatchReactionFunc) -> None:
        """Port of Fake.PrependWatchReactor."""
        with self._lock:
            self.watch_reaction_chain.insert(0, _SimpleReactor("*", resource, reaction))

    def invokes(self, action: Action, default_return: Any) -> Any:
        """Port of Fake.Invokes: record, then the first reactor that handles it answers.

        The reaction's error is raised; its object is returned.
        """
        with self._lock:
            action_copy = action.deep_copy()
            self._actions.append(action.deep_copy())
            for reactor in self.reaction_chain:
                if not reactor.handles(action_copy):
                    continue
                handled, ret, err = reactor.reaction(action_copy)
                if not handled:
                    continue
                if err is not None:
                    raise err
                return ret
            return default_return

    def invokes_watch(self, action: Action) -> FakeWatcher:
        """Port of Fake.InvokesWatch."""
        with self._lock:
            action_copy = action.deep_copy()
            self._actions.append(action.deep_copy())
            for reactor in self.watch_reaction_chain:
                if not reactor.handles(action_copy):
                    continue
                handled, ret, err = reactor.reaction(action_copy)
                if not handled:
                    continue
                if err is not None:
                    raise err
                if not isinstance(ret, FakeWatcher):
                    raise TypeError(f"watch reactor returned {type(ret).__name__}")
                return ret
            raise RuntimeError(f"unhandled watch: {action!r}")

    def clear_actions(self) -> None:
        """Port of Fake.ClearActions."""
        with self._lock:
            self._actions = []

    def actions(self) -> list[Action]:
        """Port of Fake.Actions: a copy of the recorded actions, oldest first."""
        with self._lock:
            return list(self._actions)


# --- typed fake clients (gentype/fake.go) -------------------------------------------------


class FakeResourceClient(Generic[M]):
    """Port of gentype.FakeClientWithList for one resource in one namespace."""

    def __init__(self, fake: Fake, resource: str, model: type[M], namespace: str) -> None:
        self._fake = fake
        self._resource = resource
        self._model = model
        self._ns = namespace

    def _result(self, obj: Any) -> M:
        if obj is None:
            return self._model.model_construct()
        if not isinstance(obj, self._model):
            raise TypeError(f"reactor returned {type(obj).__name__}, want {self._model.__name__}")
        return obj

    def get(self, name: str) -> M:
        """Port of FakeClient.Get."""
        return self._result(
            self._fake.invokes(Action(GET, self._resource, self._ns, name=name), None)
        )

    def create(self, obj: M) -> M:
        """Port of FakeClient.Create."""
        action = Action(CREATE, self._resource, self._ns, name=_meta_name(obj), object=obj)
        return self._result(self._fake.invokes(action, None))

    def update(self, obj: M) -> M:
        """Port of FakeClient.Update."""
        action = Action(UPDATE, self._resource, self._ns, name=_meta_name(obj), object=obj)
        return self._result(self._fake.invokes(action, None))

    def _update_status(self, obj: M) -> M:
        action = Action(
            UPDATE,
            self._resource,
            self._ns,
            name=_meta_name(obj),
            subresource="status",
            object=obj,
        )
        return self._result(self._fake.invokes(action, None))

    def delete(self, name: str, options: DeleteOptions | None = None) -> None:
        """Port of FakeClient.Delete."""
        action = Action(DELETE, self._resource, self._ns, name=name, delete_options=options)
        self._fake.invokes(action, None)

    def patch(
        self,
        name: str,
        patch: bytes | dict[str, Any] | builtins.list[Any],
        patch_type: str = STRATEGIC_MERGE_PATCH,
    ) -> M:
        """Port of FakeClient.Patch."""
        data = patch if isinstance(patch, bytes) else json.dumps(patch).encode()
        action = Action(
            PATCH, self._resource, self._ns, name=name, patch=data, patch_type=patch_type
        )
        return self._result(self._fake.invokes(action, None))

    def list(
        self, options: ListOptions | None = None, *, transform: RawTransform | None = None
    ) -> ObjectList[M]:
        """Port of alsoFakeLister.List: the reaction's list, filtered by label selector."""
        options = options or ListOptions()
        action = Action(LIST, self._resource, self._ns, list_options=options)
        result = self._fake.invokes(action, None)
        if result is None:
            return ObjectList(items=[])
        if not isinstance(result, ObjectList):
            raise TypeError(f"list reactor returned {type(result).__name__}")
        try:
            selector = labels.parse(options.label_selector)
        except ValueError as err:
            raise StatusError(400, REASON_BAD_REQUEST, str(err)) from err
        items: builtins.list[M] = []
        for item in result.items:
            meta = getattr(item, "metadata", None)
            if not selector.matches(getattr(meta, "labels", None) or {}):
                continue
            items.append(self._transformed(item, transform) if transform else item)
        return ObjectList(
            items=items,
            resource_version=result.resource_version,
            continue_=result.continue_,
            remaining_item_count=result.remaining_item_count,
        )

    def watch(
        self, options: ListOptions | None = None, *, transform: RawTransform | None = None
    ) -> FakeWatcher:
        """Port of FakeClient.Watch."""
        action = Action(WATCH, self._resource, self._ns, list_options=options or ListOptions())
        watcher = self._fake.invokes_watch(action)
        if transform is not None:
            watcher._transform = lambda obj: (
                self._transformed(obj, transform) if isinstance(obj, self._model) else obj
            )
        return watcher

    def _transformed(self, obj: M, transform: RawTransform) -> M:
        return decode_object(self._model, transform(_to_dict(obj)))


def _meta_name(obj: BaseModel) -> str:
    meta = getattr(obj, "metadata", None)
    return str(getattr(meta, "name", None) or "")


class FakePods(FakeResourceClient[V1Pod]):
    """Port of typed fake FakePods."""

    def update_status(self, pod: V1Pod) -> V1Pod:
        """Port of FakeClient.UpdateStatus for pods."""
        return self._update_status(pod)


class FakeJobs(FakeResourceClient[V1Job]):
    """Port of typed fake FakeJobs."""

    def update_status(self, job: V1Job) -> V1Job:
        """Port of FakeClient.UpdateStatus for jobs."""
        return self._update_status(job)


class FakeCoreV1:
    """Port of typed fake FakeCoreV1."""

    def __init__(self, fake: Fake) -> None:
        self._fake = fake

    def pods(self, namespace: str) -> FakePods:
        return FakePods(self._fake, "pods", V1Pod, namespace)

    def events(self, namespace: str) -> FakeResourceClient[CoreV1Event]:
        return FakeResourceClient(self._fake, "events", CoreV1Event, namespace)


class FakeBatchV1:
    """Port of typed fake FakeBatchV1."""

    def __init__(self, fake: Fake) -> None:
        self._fake = fake

    def jobs(self, namespace: str) -> FakeJobs:
        return FakeJobs(self._fake, "jobs", V1Job, namespace)


class FakeCoordinationV1:
    """Port of typed fake FakeCoordinationV1."""

    def __init__(self, fake: Fake) -> None:
        self._fake = fake

    def leases(self, namespace: str) -> FakeResourceClient[V1Lease]:
        return FakeResourceClient(self._fake, "leases", V1Lease, namespace)


class FakeClientset(Fake):
    """Port of fake.Clientset / NewSimpleClientset: a Fake whose last reactor is a tracker."""

    def __init__(self, *objects: BaseModel, rng: random.Random | None = None) -> None:
        super().__init__()
        self._tracker = ObjectTracker(rng)
        for obj in objects:
            self._tracker.add(obj)
        self.add_reactor("*", "*", object_reaction(self._tracker))
        self.add_watch_reactor("*", self._watch_reaction)
        self._core = FakeCoreV1(self)
        self._batch = FakeBatchV1(self)
        self._coordination = FakeCoordinationV1(self)

    def _watch_reaction(self, action: Action) -> tuple[bool, FakeWatcher | None, None]:
        watcher = self._tracker.watch(action.resource, action.namespace, action.list_options)
        return True, watcher, None

    def tracker(self) -> ObjectTracker:
        """Port of Clientset.Tracker."""
        return self._tracker

    def is_watch_list_semantics_unsupported(self) -> bool:
        """Port of Clientset.IsWatchListSemanticsUnSupported: always True, as upstream's
        generated fake says, so informers built on it LIST then WATCH."""
        return True

    def core_v1(self) -> FakeCoreV1:
        return self._core

    def batch_v1(self) -> FakeBatchV1:
        return self._batch

    def coordination_v1(self) -> FakeCoordinationV1:
        return self._coordination
