"""Pod control, ordering and filtering: port of pkg/controller/controller_utils.go (subset).

This module holds what the Job controller takes from the shared ``controller`` package
besides expectations (those live in ``jobctl/expectations/controller_expectations.py``):
the create/delete/patch seam for pods (``PodControlInterface``, ``RealPodControl``, the
``FakePodControl`` test double, which upstream also keeps in this file), the deletion
preference order ``ActivePods``, the active/terminating filters and the pod index keyed
by controller reference.

Deliberately skipped (no caller in the Job controller or its tests): PodNodeNameKeyIndex,
UpdateTaintBackoff, UpdateLabelBackoff, RSControlInterface/RealRSControl,
ControllerRevisionControlInterface/RealControllerRevisionControl, ByLogging,
ActivePodsWithRanks, logarithmicRankDiff, FilterClaimedPods, nextPodAvailabilityCheck,
findMinNextPodAvailabilitySimpleCheck, FindMinNextPodAvailabilityCheck,
FilterActiveReplicaSets, FilterReplicaSets, AddPodNodeNameIndexer,
ControllersByCreationTimestamp, ReplicaSetsByCreationTimestamp, ReplicaSetsBySizeOlder,
ReplicaSetsBySizeNewer, AddOrUpdateTaintOnNode, RemoveTaintOffNode, PatchNodeTaints,
ComputeHash, AddOrUpdateLabelsOnNode.

Also here: ``get_controller_of``, a port of apimachinery's metav1.GetControllerOfNoCopy,
which the claim logic and the controller index need.

Go ``error`` returns are raised. ``ctx``/``logger`` parameters are dropped.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Self, SupportsIndex, overload

from kubernetes.client import (
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1PodTemplateSpec,
)

from jobctl.client.deepcopy import deep_copy
from jobctl.client.errors import NAMESPACE_TERMINATING_CAUSE, has_status_cause, is_not_found
from jobctl.client.interface import STRATEGIC_MERGE_PATCH, DeleteOptions, Interface
from jobctl.informers.controller import deletion_handling_meta_namespace_key_func
from jobctl.informers.index import Indexer, Indexers
from jobctl.k8s_libs import klog
from jobctl.k8s_libs.api import (
    CONDITION_TRUE,
    CONTAINER_RESTART_POLICY_ALWAYS,
    POD_FAILED,
    POD_PENDING,
    POD_READY,
    POD_RUNNING,
    POD_SUCCEEDED,
    POD_UNKNOWN,
)
from jobctl.k8s_libs.pod_util import (
    is_pod_ready,
    is_pod_terminal,
)
from jobctl.record.event import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder

log = klog.get_logger(__name__)

# Pod creations are sent in batches of 1, 2, 4, ...: a doomed sync (e.g. quota
# exhausted) then wastes only a few calls and events.
SLOW_START_INITIAL_BATCH_SIZE = 1

# Name of the pod index keyed by pod_controller_index_key.
POD_CONTROLLER_INDEX = "podController"

# Object keys for the work queues: "namespace/name", tombstones unwrapped.
KEY_FUNC = deletion_handling_meta_namespace_key_func

_POD_PHASE_TO_ORDINAL = {POD_PENDING: 0, POD_UNKNOWN: 1, POD_RUNNING: 2}


# Port of ResyncPeriodFunc: how long until the next informer resync, in seconds.
ResyncPeriodFunc = Callable[[], float]


def no_resync_period_func() -> float:
    """Port of NoResyncPeriodFunc (pkg/controller/controller_utils.go): a resync period of 0, i.e.
    never resync."""
    return 0.0


def static_resync_period_func(resync_period: float) -> ResyncPeriodFunc:
    """Port of StaticResyncPeriodFunc (pkg/controller/controller_utils.go): always the given resync
    period."""

    def resync() -> float:
        return resync_period

    return resync


# Reasons of the pod events recorded on the controller object.
FAILED_CREATE_POD_REASON = "FailedCreate"
SUCCESSFUL_CREATE_POD_REASON = "SuccessfulCreate"
FAILED_DELETE_POD_REASON = "FailedDelete"
SUCCESSFUL_DELETE_POD_REASON = "SuccessfulDelete"


class PodControlInterface(Protocol):
    """Port of PodControlInterface (pkg/controller/controller_utils.go): the pod writes a controller
    makes, swappable in tests."""

    def create_pods(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
    ) -> None:
        """Create one pod from ``template``, controlled by ``controller_object``."""
        ...

    def create_pods_with_generate_name(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
        generate_name: str,
    ) -> None:
        """Like ``create_pods``, with an explicit generateName when non-empty."""
        ...

    def delete_pod(self, namespace: str, pod_id: str, obj: Any) -> None:
        """Delete the named pod on behalf of ``obj``."""
        ...

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        """Send a strategic merge patch to the named pod."""
        ...


# Called with the pod the API server returned and its controller reference.
OnWriteFunc = Callable[[V1Pod, V1OwnerReference | None], None]


@dataclass
class RealPodControl:
    """Port of RealPodControl (pkg/controller/controller_utils.go): pod writes through the
    clientset, with events on the owner."""

    kube_client: Interface
    recorder: EventRecorder
    on_write: OnWriteFunc | None = None

    def create_pods(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
    ) -> None:
        """Port of RealPodControl.CreatePods (pkg/controller/controller_utils.go): create with the
        default generateName."""
        self.create_pods_with_generate_name(
            namespace, template, controller_object, controller_ref, ""
        )

    def create_pods_with_generate_name(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
        generate_name: str,
    ) -> None:
        """Port of RealPodControl.CreatePodsWithGenerateName (pkg/controller/controller_utils.go):
        check the ref, build, create."""
        validate_controller_ref(controller_ref)
        pod = get_pod_from_template(template, controller_object, controller_ref)
        if generate_name:
            assert pod.metadata is not None
            pod.metadata.generate_name = generate_name
        self._create_pods(namespace, pod, controller_object, controller_ref)

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        """Port of RealPodControl.PatchPod (pkg/controller/controller_utils.go): strategic merge
        patch, then the write callback."""
        pod = self.kube_client.core_v1().pods(namespace).patch(name, data, STRATEGIC_MERGE_PATCH)
        if self.on_write is not None:
            self.on_write(pod, get_controller_of(pod))

    def _create_pods(
        self,
        namespace: str,
        pod: V1Pod,
        obj: Any,
        controller_ref: V1OwnerReference | None,
    ) -> None:
        """Port of RealPodControl.createPods (pkg/controller/controller_utils.go): POST the pod and
        record the outcome as events."""
        if not (pod.metadata is not None and pod.metadata.labels):
            raise ValueError("unable to create pods, no labels")
        try:
            new_pod = self.kube_client.core_v1().pods(namespace).create(pod)
        except Exception as err:
            # A namespace being torn down fails every create; no event for those.
            if not has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                self.recorder.eventf(
                    obj, EVENT_TYPE_WARNING, FAILED_CREATE_POD_REASON, "Error creating: %v", err
                )
            raise
        if self.on_write is not None:
            self.on_write(new_pod, controller_ref)
        meta = _object_meta(obj)
        if meta is None:
            log.error(None, "parentObject does not have ObjectMeta")
            return
        new_name = new_pod.metadata.name if new_pod.metadata is not None else None
        log.v(4).info(
            "Controller created pod", "controller", meta.name, "pod", f"{namespace}/{new_name}"
        )
        self.recorder.eventf(
            obj, EVENT_TYPE_NORMAL, SUCCESSFUL_CREATE_POD_REASON, "Created pod: %v", new_name
        )

    def delete_pod(self, namespace: str, pod_id: str, obj: Any) -> None:
        """Port of RealPodControl.DeletePod (pkg/controller/controller_utils.go).

        A NotFound error is raised unchanged (callers treat it as done); any other failure
        records a FailedDelete event and is raised wrapped, so it no longer reads as an
        API status error, as upstream wraps it with ``%v``.
        """
        meta = _object_meta(obj)
        if meta is None:
            raise ValueError(f"object does not have ObjectMeta, {obj!r}")
        log.v(2).info("Deleting pod", "controller", meta.name, "pod", f"{namespace}/{pod_id}")
        try:
            self.kube_client.core_v1().pods(namespace).delete(pod_id, DeleteOptions())
        except Exception as err:
            if is_not_found(err):
                log.v(4).info("Pod has already been deleted.", "pod", f"{namespace}/{pod_id}")
                raise
            self.recorder.eventf(
                obj, EVENT_TYPE_WARNING, FAILED_DELETE_POD_REASON, "Error deleting: %v", err
            )
            raise RuntimeError(f"unable to delete pods: {err}") from err
        self.recorder.eventf(
            obj, EVENT_TYPE_NORMAL, SUCCESSFUL_DELETE_POD_REASON, "Deleted pod: %v", pod_id
        )


def _object_meta(obj: Any) -> V1ObjectMeta | None:
    """The ObjectMeta of an API object (meta.Accessor), None if it has none."""
    meta = getattr(obj, "metadata", None)
    return meta if isinstance(meta, V1ObjectMeta) else None


def _get_pods_label_set(template: V1PodTemplateSpec) -> dict[str, str]:
    """Port of getPodsLabelSet (pkg/controller/controller_utils.go): a copy of the template's
    labels."""
    meta = template.metadata
    return dict(meta.labels or {}) if meta is not None else {}


def _get_pods_finalizers(template: V1PodTemplateSpec) -> list[str]:
    """Port of getPodsFinalizers (pkg/controller/controller_utils.go): a copy of the template's
    finalizers."""
    meta = template.metadata
    return list(meta.finalizers or []) if meta is not None else []


def _get_pods_annotation_set(template: V1PodTemplateSpec) -> dict[str, str]:
    """Port of getPodsAnnotationSet (pkg/controller/controller_utils.go): a copy of the template's
    annotations."""
    meta = template.metadata
    return dict(meta.annotations or {}) if meta is not None else {}


_DNS1123_SUBDOMAIN_RE = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_DNS1123_SUBDOMAIN_MAX_LENGTH = 253


def _pod_name_prefix_is_valid(prefix: str) -> bool:
    """ValidatePodName(prefix, true) has no errors (apimachinery NameIsDNSSubdomain).

    As upstream's maskTrailingDash does, a trailing dash is validated by replacing the
    last two characters with ``a``.
    """
    name = prefix
    if len(name) > 1 and name.endswith("-"):
        name = name[:-2] + "a"
    return (
        len(name.encode()) <= _DNS1123_SUBDOMAIN_MAX_LENGTH
        and _DNS1123_SUBDOMAIN_RE.fullmatch(name) is not None
    )


def _get_pods_prefix(controller_name: str) -> str:
    """Port of getPodsPrefix (pkg/controller/controller_utils.go): ``<name>-`` when that is a valid
    generateName, else the name."""
    prefix = f"{controller_name}-"
    if not _pod_name_prefix_is_valid(prefix):
        prefix = controller_name
    return prefix


def validate_controller_ref(controller_ref: V1OwnerReference | None) -> None:
    """Port of validateControllerRef (pkg/controller/controller_utils.go): raise ValueError unless
    the ref can own a pod."""
    if controller_ref is None:
        raise ValueError("controllerRef is nil")
    if not controller_ref.api_version:
        raise ValueError("controllerRef has empty APIVersion")
    if not controller_ref.kind:
        raise ValueError("controllerRef has empty Kind")
    if not controller_ref.controller:
        raise ValueError("controllerRef.Controller is not set to true")
    if not controller_ref.block_owner_deletion:
        raise ValueError("controllerRef.BlockOwnerDeletion is not set")


def get_pod_from_template(
    template: V1PodTemplateSpec,
    parent_object: Any,
    controller_ref: V1OwnerReference | None,
) -> V1Pod:
    """Port of GetPodFromTemplate (pkg/controller/controller_utils.go): a new pod with the
    template's metadata and spec.

    The pod gets copies of the template's labels, annotations and finalizers, a
    generateName derived from the parent's name, ``controller_ref`` as its only owner
    reference (when given) and a deep copy of the template spec.
    """
    desired_labels = _get_pods_label_set(template)
    desired_finalizers = _get_pods_finalizers(template)
    desired_annotations = _get_pods_annotation_set(template)
    meta = _object_meta(parent_object)
    if meta is None:
        raise ValueError(f"parentObject does not have ObjectMeta, {parent_object!r}")
    prefix = _get_pods_prefix(meta.name or "")
    pod = V1Pod(
        metadata=V1ObjectMeta(
            labels=desired_labels,
            annotations=desired_annotations,
            generate_name=prefix,
            finalizers=desired_finalizers,
        )
    )
    if controller_ref is not None:
        assert pod.metadata is not None
        pod.metadata.owner_references = [controller_ref.model_copy()]
    if template.spec is not None:
        pod.spec = deep_copy(template.spec)
    return pod


@dataclass
class FakePodControl:
    """Port of FakePodControl (pkg/controller/controller_utils.go): records pod writes instead of
    sending them.

    Every list grows under ``lock``; tests may hold ``lock`` to read a consistent
    snapshot. ``err``, when set, is raised by every call after it is recorded;
    ``create_limit`` (0 = unlimited) makes creations past that count fail unrecorded.
    The recorded template is a copy carrying the requested generateName; upstream also
    writes that name into the caller's template, which is not done here because the
    Job controller shares one template between its creating threads.
    """

    templates: list[V1PodTemplateSpec] = field(default_factory=list)
    controller_refs: list[V1OwnerReference] = field(default_factory=list)
    delete_pod_name: list[str] = field(default_factory=list)
    patches: list[bytes] = field(default_factory=list)
    err: BaseException | None = None
    create_limit: int = 0
    create_call_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        """Port of FakePodControl.PatchPod (pkg/controller/controller_utils.go): record the patch
        bytes."""
        with self.lock:
            self.patches.append(data)
            if self.err is not None:
                raise self.err

    def create_pods(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
    ) -> None:
        """Port of FakePodControl.CreatePods (pkg/controller/controller_utils.go): record with an
        empty generateName."""
        self.create_pods_with_generate_name(
            namespace, template, controller_object, controller_ref, ""
        )

    def create_pods_with_generate_name(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
        generate_name: str,
    ) -> None:
        """Port of FakePodControl.CreatePodsWithGenerateName (pkg/controller/controller_utils.go):
        count, limit, record."""
        with self.lock:
            self.create_call_count += 1
            if self.create_limit != 0 and self.create_call_count > self.create_limit:
                raise RuntimeError(
                    f"not creating pod, limit {self.create_limit} already reached "
                    f"(create call {self.create_call_count})"
                )
            recorded = deep_copy(template)
            if recorded.metadata is None:
                recorded.metadata = V1ObjectMeta()
            recorded.metadata.generate_name = generate_name
            self.templates.append(recorded)
            assert controller_ref is not None, "FakePodControl needs a controller ref"
            self.controller_refs.append(controller_ref.model_copy())
            if self.err is not None:
                raise self.err

    def delete_pod(self, namespace: str, pod_id: str, obj: Any) -> None:
        """Port of FakePodControl.DeletePod (pkg/controller/controller_utils.go): record the pod
        name."""
        with self.lock:
            self.delete_pod_name.append(pod_id)
            if self.err is not None:
                raise self.err

    def clear(self) -> None:
        """Port of FakePodControl.Clear (pkg/controller/controller_utils.go): forget the recorded
        calls and the create limit."""
        with self.lock:
            self.delete_pod_name = []
            self.templates = []
            self.controller_refs = []
            self.patches = []
            self.create_limit = 0
            self.create_call_count = 0


def _node_name(pod: V1Pod) -> str:
    return (pod.spec.node_name if pod.spec is not None else None) or ""


def _phase_ordinal(pod: V1Pod) -> int:
    phase = pod.status.phase if pod.status is not None else None
    return _POD_PHASE_TO_ORDINAL.get(phase or "", 0)


def _creation_timestamp(pod: V1Pod) -> datetime | None:
    return pod.metadata.creation_timestamp if pod.metadata is not None else None


def _active_pods_less(pi: V1Pod, pj: V1Pod) -> bool:
    """ActivePods.Less on two pods: should ``pi`` be deleted before ``pj``?"""
    # 1. Unscheduled before scheduled.
    node_i, node_j = _node_name(pi), _node_name(pj)
    if node_i != node_j and (not node_i or not node_j):
        return not node_i
    # 2. Pending before Unknown before Running.
    ord_i, ord_j = _phase_ordinal(pi), _phase_ordinal(pj)
    if ord_i != ord_j:
        return ord_i < ord_j
    # 3. Not ready before ready.
    ready_i, ready_j = is_pod_ready(pi), is_pod_ready(pj)
    if ready_i != ready_j:
        return not ready_i
    # 4. Both ready: ready for less time first (no transition time counts as newest).
    if ready_i and ready_j:
        ready_time_i, ready_time_j = pod_ready_time(pi), pod_ready_time(pj)
        if ready_time_i != ready_time_j:
            return after_or_zero(ready_time_i, ready_time_j)
    # 5. More container restarts first (regular containers, then sidecars).
    res = compare_max_container_restarts(pi, pj)
    if res is not None:
        return res
    # 6. Newer first (no creation timestamp counts as newest).
    created_i, created_j = _creation_timestamp(pi), _creation_timestamp(pj)
    if created_i != created_j:
        return after_or_zero(created_i, created_j)
    return False


class ActivePods:
    """Port of ActivePods (pkg/controller/controller_utils.go): pods ordered so that the best
    candidates to delete come first."""

    def __init__(self, pods: list[V1Pod]) -> None:
        self.pods = pods

    def __len__(self) -> int:
        """Port of ActivePods.Len (pkg/controller/controller_utils.go)."""
        return len(self.pods)

    def swap(self, i: int, j: int) -> None:
        """Port of ActivePods.Swap (pkg/controller/controller_utils.go)."""
        self.pods[i], self.pods[j] = self.pods[j], self.pods[i]

    def less(self, i: int, j: int) -> bool:
        """Port of ActivePods.Less (pkg/controller/controller_utils.go): is pod ``i`` a better
        deletion candidate than pod ``j``?

        The first rule telling them apart decides: unscheduled first; then Pending,
        Unknown, Running; then not ready; then (both ready) the more recently ready;
        then the larger container restart count (sidecars break ties); then the newer.
        """
        return _active_pods_less(self.pods[i], self.pods[j])

    def sort(self) -> None:
        """Sort in place, as ``sort.Sort(ActivePods(pods))`` does."""
        sort_active_pods(self.pods)


def _active_pods_cmp(pi: V1Pod, pj: V1Pod) -> int:
    if _active_pods_less(pi, pj):
        return -1
    if _active_pods_less(pj, pi):
        return 1
    return 0


_ACTIVE_PODS_KEY = functools.cmp_to_key(_active_pods_cmp)


def sort_active_pods(pods: list[V1Pod]) -> None:
    """Sort ``pods`` in place by ActivePods.Less (``sort.Sort(controller.ActivePods(pods))``).

    Python's sort is stable where Go's is not; pods that compare equal keep their order.
    """
    pods.sort(key=_ACTIVE_PODS_KEY)


def after_or_zero(t1: datetime | None, t2: datetime | None) -> bool:
    """Port of afterOrZero (pkg/controller/controller_utils.go): is ``t1`` after ``t2``, a missing
    (zero) time being the latest?"""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def pod_ready_time(pod: V1Pod) -> datetime | None:
    """Port of podReadyTime (pkg/controller/controller_utils.go): when a ready pod's Ready condition
    turned True (None if unknown)."""
    if is_pod_ready(pod):
        assert pod.status is not None
        for c in pod.status.conditions or []:
            if c.type == POD_READY and c.status == CONDITION_TRUE:
                ready_since: datetime | None = c.last_transition_time
                return ready_since
    return None


def max_container_restarts(pod: V1Pod) -> tuple[int, int]:
    """Port of maxContainerRestarts (pkg/controller/controller_utils.go): the highest restart count
    of (regular, sidecar) containers.

    Sidecars are the init containers with restartPolicy Always.
    """
    regular_restarts = 0
    sidecar_restarts = 0
    status = pod.status
    for cs in (status.container_statuses if status is not None else None) or []:
        regular_restarts = max(regular_restarts, cs.restart_count)
    names: set[str] = set()
    for c in (pod.spec.init_containers if pod.spec is not None else None) or []:
        if c.restart_policy == CONTAINER_RESTART_POLICY_ALWAYS:
            names.add(c.name)
    for cs in (status.init_container_statuses if status is not None else None) or []:
        if cs.name in names:
            sidecar_restarts = max(sidecar_restarts, cs.restart_count)
    return regular_restarts, sidecar_restarts


def compare_max_container_restarts(pi: V1Pod, pj: V1Pod) -> bool | None:
    """Port of compareMaxContainerRestarts (pkg/controller/controller_utils.go): True if ``pi``
    restarted more, False if ``pj`` did, None on a tie; regular containers decide first, sidecars
    break ties."""
    regular_i, sidecar_i = max_container_restarts(pi)
    regular_j, sidecar_j = max_container_restarts(pj)
    if regular_i != regular_j:
        return regular_i > regular_j
    if sidecar_i != sidecar_j:
        return sidecar_i > sidecar_j
    return None


def filter_active_pods(pods: Sequence[V1Pod]) -> list[V1Pod]:
    """Port of FilterActivePods (pkg/controller/controller_utils.go): the pods that are
    neither terminal nor being deleted."""
    result: list[V1Pod] = []
    for p in pods:
        if is_pod_active(p):
            result.append(p)
    return result


class ActivePodList(list[V1Pod]):
    """The list ``filter_active_pods_fast`` returns: the active pods, plus how many of them
    were Ready (``is_pod_ready``) when they were filtered.

    A jobctl helper with no Go twin: the Job controller counts the Ready pods of exactly
    this list next (``count_ready_pods_fast``), and counting them while each pod is being
    read anyway saves a second pass over them. Any change to the list's membership drops
    the count (``ready_count`` becomes None); copies and slices are plain lists.
    """

    __slots__ = ("ready_count",)

    def __init__(self, pods: Iterable[V1Pod] = (), ready_count: int | None = None) -> None:
        super().__init__(pods)
        self.ready_count: int | None = ready_count

    def append(self, pod: V1Pod) -> None:
        self.ready_count = None
        super().append(pod)

    def extend(self, pods: Iterable[V1Pod]) -> None:
        self.ready_count = None
        super().extend(pods)

    def insert(self, index: SupportsIndex, pod: V1Pod) -> None:
        self.ready_count = None
        super().insert(index, pod)

    def remove(self, pod: V1Pod) -> None:
        self.ready_count = None
        super().remove(pod)

    def pop(self, index: SupportsIndex = -1) -> V1Pod:
        self.ready_count = None
        return super().pop(index)

    def clear(self) -> None:
        self.ready_count = None
        super().clear()

    @overload
    def __setitem__(self, index: SupportsIndex, pod: V1Pod) -> None: ...

    @overload
    def __setitem__(self, index: slice, pods: Iterable[V1Pod]) -> None: ...

    def __setitem__(self, index: Any, value: Any) -> None:
        self.ready_count = None
        super().__setitem__(index, value)

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        self.ready_count = None
        super().__delitem__(index)

    def __iadd__(self, pods: Iterable[V1Pod]) -> Self:  # type: ignore[misc]
        self.ready_count = None
        return super().__iadd__(pods)

    def __imul__(self, n: SupportsIndex) -> Self:
        self.ready_count = None
        return super().__imul__(n)


def filter_active_pods_fast(pods: Sequence[V1Pod]) -> ActivePodList:
    """The same contract as ``filter_active_pods`` (just above), with ``is_pod_active``
    inlined: the Job controller runs it over every pod of a Job on each sync. The result
    also carries its Ready count (``ActivePodList``). The upstream tables run through both
    versions."""
    result: list[V1Pod] = []
    append = result.append
    ready = 0
    for p in pods:
        status = p.status
        if status is not None:
            phase = status.phase
            if phase in (POD_SUCCEEDED, POD_FAILED):
                continue
        meta = p.metadata
        if meta is None or meta.deletion_timestamp is None:
            append(p)
            if status is not None:
                # is_pod_ready: the first Ready condition decides.
                for c in status.conditions or ():
                    if c.type == POD_READY:
                        if c.status == CONDITION_TRUE:
                            ready += 1
                        break
    return ActivePodList(result, ready)


def filter_terminating_pods(pods: Sequence[V1Pod]) -> list[V1Pod]:
    """Port of FilterTerminatingPods (pkg/controller/controller_utils.go): the non-terminal pods
    that are being deleted."""
    return [p for p in pods if is_pod_terminating(p)]


def count_terminating_pods(pods: Sequence[V1Pod]) -> int:
    """Port of CountTerminatingPods (pkg/controller/controller_utils.go): how many pods are
    being deleted without having reached a terminal phase."""
    number_of_terminating_pods = 0
    for p in pods:
        if is_pod_terminating(p):
            number_of_terminating_pods += 1
    return number_of_terminating_pods


def count_terminating_pods_fast(pods: Sequence[V1Pod]) -> int:
    """The same contract as ``count_terminating_pods`` (just above), with
    ``is_pod_terminating`` inlined and the (usually absent) deletion timestamp looked at
    first: the Job controller runs it over every pod of a Job on each sync. The upstream
    tables run through both versions."""
    count = 0
    for p in pods:
        meta = p.metadata
        if meta is None or meta.deletion_timestamp is None:
            continue
        status = p.status
        phase = status.phase if status is not None else None
        if phase not in (POD_SUCCEEDED, POD_FAILED):
            count += 1
    return count


def is_pod_active(p: V1Pod) -> bool:
    """Port of IsPodActive (pkg/controller/controller_utils.go): not Succeeded, not Failed and no
    deletion timestamp."""
    phase = p.status.phase if p.status is not None else None
    return (
        phase != POD_SUCCEEDED
        and phase != POD_FAILED
        and (p.metadata is None or p.metadata.deletion_timestamp is None)
    )


def is_pod_terminating(p: V1Pod) -> bool:
    """Port of IsPodTerminating (pkg/controller/controller_utils.go): not in a terminal phase but
    carrying a deletion timestamp."""
    return (
        not is_pod_terminal(p)
        and p.metadata is not None
        and p.metadata.deletion_timestamp is not None
    )


def pod_controller_index_key(namespace: str, owner_reference: V1OwnerReference | None) -> str:
    """Port of PodControllerIndexKey (pkg/controller/controller_utils.go): ``ns/kind/name/uid`` of a
    controller, ``ns`` for orphans."""
    if owner_reference is None:
        return namespace
    return f"{namespace}/{owner_reference.kind}/{owner_reference.name}/{owner_reference.uid}"


class _IndexInformer(Protocol):
    """The slice of cache.SharedIndexInformer used here."""

    def get_indexer(self) -> Indexer: ...

    def add_indexers(self, indexers: Indexers) -> None: ...


def _pod_controller_index_func(obj: Any) -> list[str]:
    """Index a pod under its controller's key, or under its namespace if it is an orphan."""
    if not isinstance(obj, V1Pod):
        return []
    namespace = (obj.metadata.namespace if obj.metadata is not None else None) or ""
    return [pod_controller_index_key(namespace, get_controller_of(obj))]


def add_pod_controller_indexer(pod_informer: _IndexInformer) -> None:
    """Port of AddPodControllerIndexer (pkg/controller/controller_utils.go): register the
    POD_CONTROLLER_INDEX once."""
    if POD_CONTROLLER_INDEX in pod_informer.get_indexer().get_indexers():
        return
    pod_informer.add_indexers({POD_CONTROLLER_INDEX: _pod_controller_index_func})


def filter_pods_by_owner(
    pod_indexer: Indexer,
    owner: V1ObjectMeta,
    owner_kind: str,
    include_orphaned_pods: bool,
) -> list[V1Pod]:
    """Port of FilterPodsByOwner (pkg/controller/controller_utils.go): pods controlled by ``owner``,
    plus its namespace's orphans.

    Reads POD_CONTROLLER_INDEX; raises ValueError if the owner lacks namespace, name or
    UID, or ``owner_kind`` is empty.
    """
    if not owner.namespace:
        raise ValueError("no owner namespace provided")
    if not owner.name:
        raise ValueError("no owner name provided")
    if not owner.uid:
        raise ValueError("no owner uid provided")
    if not owner_kind:
        raise ValueError("no owner kind provided")
    keys = [
        pod_controller_index_key(
            owner.namespace,
            V1OwnerReference(api_version="", kind=owner_kind, name=owner.name, uid=owner.uid),
        )
    ]
    if include_orphaned_pods:
        keys.append(pod_controller_index_key(owner.namespace, None))
    result: list[V1Pod] = []
    for key in keys:
        objs = pod_indexer.by_index(POD_CONTROLLER_INDEX, key)
        pods = [obj for obj in objs if isinstance(obj, V1Pod)]
        if len(pods) != len(objs):
            for obj in objs:
                if not isinstance(obj, V1Pod):
                    log.error(
                        TypeError(f"unexpected object type in pod indexer: {obj!r}"),
                        "Unhandled Error",
                    )
        result.extend(pods)
    return result


def pod_key(pod: V1Pod) -> str:
    """Port of PodKey (pkg/controller/controller_utils.go): ``namespace/name`` of a pod."""
    meta = pod.metadata
    if meta is None:
        return "/"
    return f"{meta.namespace or ''}/{meta.name or ''}"


def get_controller_of(obj: Any) -> V1OwnerReference | None:
    """Port of metav1.GetControllerOfNoCopy (apimachinery controller_ref.go).

    The owner reference marked ``controller: true``, itself rather than a copy; None for
    an orphan.
    """
    meta = getattr(obj, "metadata", None)
    if not isinstance(meta, V1ObjectMeta) or not meta.owner_references:
        return None
    for ref in meta.owner_references:
        if ref.controller:
            return ref
    return None
