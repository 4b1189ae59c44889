"""The Job controller: port of pkg/controller/job/job_controller.go (Kubernetes v1.37.2).

The controller keeps the pods of every Job in line with its spec: it creates and deletes
pods, counts finished pods through the ``batch.kubernetes.io/job-tracking`` finalizer and
``status.uncountedTerminatedPods``, and writes the terminal conditions. The policy helpers
live beside it in ``backoff_utils``, ``indexed_job_utils``, ``pod_failure_policy``,
``success_policy`` and ``tracking_utils``, as upstream.

Definitions follow the Go file's order: the Controller class first, with its methods in
Go order (Go interleaves a few plain funcs between them; here they wait below the class),
then the other types and the funcs in Go order. Three quick twins sit right beneath the
function they stand in for, with the same contract, and are what ``sync_job`` calls:
``track_job_status_and_remove_finalizers_fast``, ``get_new_finished_pods_fast`` and
``count_ready_pods_fast`` (likewise ``filter_active_pods_fast`` and
``count_terminating_pods_fast`` of ``controller_utils``); the upstream syncJob tables run
through both versions.
``indexed_job_utils``, ``backoff_utils`` and ``success_policy`` belong to the same Go
package and call back into this module: they are imported as module objects and their
functions looked up when called, which makes the import cycle harmless.

Differences worth knowing:

* The constructor takes the ``spec.managedBy`` value the controller answers to
  (``controller_name``); upstream hard-codes ``kubernetes.io/job-controller``.
* Gang/workload scheduling (alpha ``WorkloadWithJob``, job_scheduling_manager.go) is out of
  scope: there are no Workload/PodGroup informers, and ``SyncJobCtx.pod_group`` stays None.
* ``StaleControllerConsistencyJob`` (beta, on) uses pkg/controller/util/consistency, ported
  in ``jobctl.controller.consistency``.
* Go's per-pod goroutines become tasks on a bounded thread pool owned by the controller.
* Go ``error`` results become exceptions, except where upstream hands the error back next
  to a value that the caller still uses; those return ``(value..., error | None)``.
"""

from __future__ import annotations

import enum
import itertools
import json
import queue as _queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from kubernetes.client import (
    V1Job,
    V1JobCondition,
    V1JobStatus,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1UncountedTerminatedPods,
)

from jobctl.client.deepcopy import deep_copy
from jobctl.client.errors import (
    NAMESPACE_TERMINATING_CAUSE,
    has_status_cause,
    is_not_found,
)
from jobctl.client.interface import Interface
from jobctl.controller.consistency import (
    ConsistencyError,
    ConsistencyStore,
    GroupResource,
    new_consistency_store,
    new_noop_consistency_store,
)
from jobctl.controller.controller_ref_manager import (
    GroupVersionKind,
    new_pod_controller_ref_manager,
    recheck_deletion_timestamp,
)
from jobctl.controller.controller_utils import (
    KEY_FUNC,
    SLOW_START_INITIAL_BATCH_SIZE,
    ActivePodList,
    PodControlInterface,
    RealPodControl,
    add_pod_controller_indexer,
    count_terminating_pods_fast,
    filter_active_pods_fast,
    filter_pods_by_owner,
    get_controller_of,
    sort_active_pods,
)
from jobctl.expectations.controller_expectations import (
    ControllerExpectationsInterface,
    new_controller_expectations,
)
from jobctl.expectations.uid_tracking_expectations import (
    UIDTrackingExpectations,
    new_uid_tracking_expectations,
)
from jobctl.informers.controller import ResourceEventHandlerFuncs
from jobctl.informers.delta_fifo import DeletedFinalStateUnknown
from jobctl.informers.index import Indexer
from jobctl.informers.listers import JobLister, PodLister
from jobctl.informers.shared_informer import wait_for_named_cache_sync
from jobctl.informers.store import split_meta_namespace_key
from jobctl.job import backoff_utils, indexed_job_utils, metrics, success_policy
from jobctl.job import util as job_util
from jobctl.job.pod_failure_policy import match_pod_failure_policy
from jobctl.job.tracking_utils import (
    has_job_tracking_finalizer,
    record_finished_pod_with_tracking_finalizer,
)
from jobctl.k8s_libs import api, features, klog
from jobctl.k8s_libs.clock import Clock, RealClock
from jobctl.k8s_libs.labels import label_selector_as_selector
from jobctl.k8s_libs.labels import parse as parse_selector
from jobctl.k8s_libs.pod_util import is_pod_ready
from jobctl.record import (
    EventBroadcaster,
    EventRecorder,
    EventSinkImpl,
    new_broadcaster,
)
from jobctl.workqueue import (
    TypedRateLimitingInterface,
    TypedRateLimitingQueueConfig,
    new_typed_item_exponential_failure_rate_limiter,
    new_typed_rate_limiting_queue_with_config,
)

log = klog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Port of controllerKind: the batch/v1 Job kind used in owner references.
CONTROLLER_KIND = GroupVersionKind(group="batch", version="v1", kind="Job")

# Tunables (seconds), exported so tests can shorten them as upstream does.
SYNC_JOB_BATCH_PERIOD = 1.0
DEFAULT_JOB_API_BACK_OFF = 1.0
MAX_JOB_API_BACK_OFF = 60.0
DEFAULT_JOB_POD_FAILURE_BACK_OFF = 10.0
MAX_JOB_POD_FAILURE_BACK_OFF = 600.0
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500

# Upper bound on the threads that fan out pod writes (Go starts one goroutine per pod).
_FAN_OUT_WORKERS = 64


class JobControllerError(Exception):
    """An error raised by the controller, wrapping its cause like Go's ``%w``."""


def _wrap(message: str, err: BaseException) -> JobControllerError:
    wrapped = JobControllerError(f"{message}: {err}")
    wrapped.__cause__ = err
    return wrapped


def _is_not_found_wrapped(err: BaseException) -> bool:
    """apierrors.IsNotFound, which sees through ``%w`` wrapping (``__cause__`` here)."""
    seen: BaseException | None = err
    while seen is not None:
        if is_not_found(seen):
            return True
        seen = seen.__cause__
    return False


def handle_error(err: BaseException | None) -> None:
    """Port of utilruntime.HandleError (apimachinery pkg/util/runtime/runtime.go): log an
    error nobody returns to, as "Unhandled Error"; a None error is ignored."""
    if err is None:
        return
    log.error(err, "Unhandled Error")


def _kobj(obj: V1Pod | V1Job) -> str:
    """klog.KObj's text: ``namespace/name`` (just ``name`` without a namespace)."""
    meta = obj.metadata
    if meta is None:
        return ""
    if meta.namespace:
        return f"{meta.namespace}/{meta.name or ''}"
    return meta.name or ""


def _deref(value: int | None) -> int:
    """Dereference an API pointer that defaulting guarantees to be set."""
    if value is None:
        raise JobControllerError("required Job field is unset (not defaulted?)")
    return value


# What a pod or Job without metadata reads as: Go's zero ObjectMeta (never mutated).
_EMPTY_OBJECT_META = V1ObjectMeta()


def _object_meta(obj: V1Pod | V1Job) -> V1ObjectMeta:
    """The object's metadata; Go's empty ObjectMeta (no owner, labels or deletion
    timestamp) when the field is unset."""
    meta = obj.metadata
    return meta if meta is not None else _EMPTY_OBJECT_META


def _phase(pod: V1Pod) -> str:
    status = pod.status
    if status is None or status.phase is None:
        return ""
    phase: str = status.phase
    return phase


def _annotations(pod: V1Pod) -> dict[str, str] | None:
    return pod.metadata.annotations if pod.metadata is not None else None


def _uid(obj: V1Pod | V1Job) -> str:
    return (obj.metadata.uid or "") if obj.metadata is not None else ""


def new_controller_ref(owner: V1Job, gvk: GroupVersionKind) -> V1OwnerReference:
    """Port of metav1.NewControllerRef (apimachinery pkg/apis/meta/v1/controller_ref.go):
    a controlling, deletion-blocking owner reference."""
    meta = owner.metadata
    return V1OwnerReference(
        api_version=gvk.group_version(),
        kind=gvk.kind,
        name=meta.name if meta is not None else "",
        uid=_uid(owner),
        controller=True,
        block_owner_deletion=True,
    )


class Controller:
    """Port of Controller (pkg/controller/job/job_controller.go): keeps each Job's pods in line with
    its spec.

    The injectable members (``pod_control``, ``update_status_handler``,
    ``sync_handler``, ``pod_store_synced``, ``job_store_synced``) are what the unit
    tests replace, as upstream.
    """

    def __init__(
        self,
        kube_client: Interface,
        clock: Clock,
        controller_name: str = api.JOB_CONTROLLER_NAME,
    ) -> None:
        self.kube_client = kube_client
        self.controller_name = controller_name
        self.clock = clock
        self.pod_control: PodControlInterface
        self.update_status_handler: Callable[[V1Job], V1Job] = self.update_job_status
        self.sync_handler: Callable[[str], None] = self.sync_job
        self.pod_store_synced: Callable[[], bool] = lambda: False
        self.job_store_synced: Callable[[], bool] = lambda: False
        self.expectations: ControllerExpectationsInterface = new_controller_expectations(
            clock=clock
        )
        self.finalizer_expectations: UIDTrackingExpectations = new_uid_tracking_expectations()
        self.job_lister: JobLister
        self.pod_store: PodLister
        self.pod_indexer: Indexer
        self.queue: TypedRateLimitingInterface[str] = new_typed_rate_limiting_queue_with_config(
            new_typed_item_exponential_failure_rate_limiter(
                DEFAULT_JOB_API_BACK_OFF, MAX_JOB_API_BACK_OFF
            ),
            TypedRateLimitingQueueConfig(name="job", clock=clock),
        )
        self.orphan_queue: TypedRateLimitingInterface[OrphanPodKey] = (
            new_typed_rate_limiting_queue_with_config(
                new_typed_item_exponential_failure_rate_limiter(
                    DEFAULT_JOB_API_BACK_OFF, MAX_JOB_API_BACK_OFF
                ),
                TypedRateLimitingQueueConfig(name="job_orphan_pod", clock=clock),
            )
        )
        self.broadcaster: EventBroadcaster
        self.recorder: EventRecorder
        self.pod_backoff_store: backoff_utils.BackoffStore = backoff_utils.new_backoff_store()
        # Job UIDs written as finished whose finished state the informer has not shown yet.
        self.finished_job_expectations: set[str] = set()
        self._finished_lock = threading.Lock()
        self.consistency_store: ConsistencyStore = new_noop_consistency_store()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def run(self, stop: threading.Event, workers: int) -> None:
        """Port of Controller.Run (pkg/controller/job/job_controller.go): start event recording,
        wait for caches, run workers.

        Blocks until ``stop`` is set, then shuts the queues down and joins the workers.
        """
        self.broadcaster.start_structured_logging(3)
        self.broadcaster.start_recording_to_sink(EventSinkImpl(self.kube_client.core_v1()))
        threads: list[threading.Thread] = []
        try:
            log.info("Starting job controller")
            try:
                if not wait_for_named_cache_sync(
                    "job", stop, self.pod_store_synced, self.job_store_synced
                ):
                    return
                for i in range(workers):
                    for name, fn in (
                        ("job-worker", self.worker),
                        ("job-orphan-worker", self.orphan_worker),
                    ):
                        t = threading.Thread(
                            target=_until, args=(stop, fn, 1.0), name=f"{name}-{i}", daemon=True
                        )
                        t.start()
                        threads.append(t)
                stop.wait()
            finally:
                log.info("Shutting down job controller")
                self.queue.shut_down()
                self.orphan_queue.shut_down()
                for t in threads:
                    t.join()
        finally:
            self.broadcaster.shutdown()
            with self._pool_lock:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                    self._pool = None

    def get_pod_jobs(self, pod: V1Pod) -> list[V1Job]:
        """Port of Controller.getPodJobs (pkg/controller/job/job_controller.go): Jobs whose selector
        matches the pod."""
        try:
            jobs: list[V1Job] = self.job_lister.get_pod_jobs(pod)
        except Exception:
            return []
        if len(jobs) > 1:
            labels = pod.metadata.labels if pod.metadata is not None else None
            handle_error(
                JobControllerError(
                    f"user error! more than one job is selecting pods with labels: {labels}"
                )
            )
        return list(jobs)

    def resolve_controller_ref(
        self, namespace: str, controller_ref: V1OwnerReference
    ) -> V1Job | None:
        """Port of Controller.resolveControllerRef (pkg/controller/job/job_controller.go): the Job a
        controller ref points to.

        None when the kind is not Job, the Job is not cached, or its UID differs.
        """
        if controller_ref.kind != CONTROLLER_KIND.kind:
            return None
        try:
            job: V1Job = self.job_lister.jobs(namespace).get(controller_ref.name)
        except Exception:
            return None
        if _uid(job) != controller_ref.uid:
            return None
        return job

    def add_pod(self, obj: V1Pod) -> None:
        """Port of Controller.addPod (pkg/controller/job/job_controller.go): observe a creation and
        wake the owning Job."""
        pod = obj
        record_finished_pod_with_tracking_finalizer(None, pod)
        if _object_meta(pod).deletion_timestamp is not None:
            # A pod that shows up already terminating must not count as a creation.
            self.delete_pod(pod, False)
            return

        controller_ref = get_controller_of(pod)
        if controller_ref is not None:
            job = self.resolve_controller_ref(_object_meta(pod).namespace or "", controller_ref)
            if job is None:
                return
            try:
                job_key = KEY_FUNC(job)
            except Exception:
                return
            self.expectations.creation_observed(job_key)
            self.enqueue_sync_job_batched(job)
            return

        # An orphan: clean its finalizer and let matching Jobs consider adopting it.
        if has_job_tracking_finalizer(pod):
            self.enqueue_orphan_pod(pod, False)
        for job in self.get_pod_jobs(pod):
            self.enqueue_sync_job_batched(job)

    def update_pod(self, old: V1Pod, cur: V1Pod) -> None:
        """Port of Controller.updatePod (pkg/controller/job/job_controller.go): wake the old and new
        owners of a changed pod."""
        cur_pod = cur
        old_pod = old
        record_finished_pod_with_tracking_finalizer(old_pod, cur_pod)
        if _object_meta(cur_pod).resource_version == _object_meta(old_pod).resource_version:
            # A resync, not a change.
            return
        if _object_meta(cur_pod).deletion_timestamp is not None:
            # Graceful deletion started: the Job may replace the pod right away.
            self.delete_pod(cur_pod, False)
            return

        # Only the current state matters: several updates during an ownership transfer
        # may have collapsed into this one event.
        finalizer_removed = not has_job_tracking_finalizer(cur_pod)
        cur_controller_ref = get_controller_of(cur_pod)
        old_controller_ref = get_controller_of(old_pod)
        controller_ref_changed = cur_controller_ref != old_controller_ref
        if controller_ref_changed and old_controller_ref is not None:
            job = self.resolve_controller_ref(
                _object_meta(old_pod).namespace or "", old_controller_ref
            )
            if job is not None:
                if finalizer_removed:
                    try:
                        key = KEY_FUNC(job)
                    except Exception:
                        pass
                    else:
                        self.finalizer_expectations.finalizer_removal_observed(key, _uid(cur_pod))
                self.enqueue_sync_job_batched(job)

        if cur_controller_ref is not None:
            job = self.resolve_controller_ref(
                _object_meta(cur_pod).namespace or "", cur_controller_ref
            )
            if job is None:
                return
            if finalizer_removed:
                try:
                    key = KEY_FUNC(job)
                except Exception:
                    pass
                else:
                    self.finalizer_expectations.finalizer_removal_observed(key, _uid(cur_pod))
            self.enqueue_sync_job_batched(job)
            return

        # An orphan: clean its finalizer; if labels or ownership moved, offer it for adoption.
        if has_job_tracking_finalizer(cur_pod):
            self.enqueue_orphan_pod(cur_pod, False)
        label_changed = _object_meta(cur_pod).labels != _object_meta(old_pod).labels
        if label_changed or controller_ref_changed:
            for job in self.get_pod_jobs(cur_pod):
                self.enqueue_sync_job_batched(job)

    def delete_pod(self, obj: V1Pod | DeletedFinalStateUnknown, final: bool) -> None:
        """Port of Controller.deletePod (pkg/controller/job/job_controller.go): observe a deletion
        and wake the owning Job.

        ``obj`` may be a tombstone. ``final`` is False when called for a pod that only
        got its deletion timestamp.
        """
        pod: V1Pod | None = obj if isinstance(obj, V1Pod) else None
        if final:
            record_finished_pod_with_tracking_finalizer(pod, None)

        if pod is None:
            if not isinstance(obj, DeletedFinalStateUnknown):
                handle_error(JobControllerError(f"couldn't get object from tombstone {obj!r}"))
                return
            if not isinstance(obj.obj, V1Pod):
                handle_error(
                    JobControllerError(f"tombstone contained object that is not a pod {obj!r}")
                )
                return
            pod = obj.obj

        controller_ref = get_controller_of(pod)
        has_finalizer = has_job_tracking_finalizer(pod)
        if controller_ref is None:
            # Nobody waits for orphans, but the GC may have cut a Job's reference.
            if has_finalizer:
                self.enqueue_orphan_pod(pod, False)
            return
        job = self.resolve_controller_ref(_object_meta(pod).namespace or "", controller_ref)
        if job is None or job_util.is_job_finished(job):
            # sync_job will not clean this finalizer up.
            if has_finalizer:
                self.enqueue_orphan_pod(pod, False)
            return
        try:
            job_key = KEY_FUNC(job)
        except Exception:
            return
        self.expectations.deletion_observed(job_key)

        # A final delete means the finalizer is gone; otherwise look at the pod itself.
        if final or not has_finalizer:
            self.finalizer_expectations.finalizer_removal_observed(job_key, _uid(pod))

        self.enqueue_sync_job_batched(job)

    def add_job(self, obj: Any) -> None:
        """Port of Controller.addJob (pkg/controller/job/job_controller.go): sync now; count Jobs
        left to other controllers."""
        self.enqueue_sync_job_immediately(obj)
        if not isinstance(obj, V1Job):
            return
        controller_name = self.managed_by_external_controller(obj)
        if controller_name is not None:
            metrics.job_by_external_controller_total.labels(controller_name).inc()

    def update_job(self, old: V1Job, cur: V1Job) -> None:
        """Port of Controller.updateJob (pkg/controller/job/job_controller.go): batch status-only
        updates, re-arm the deadline."""
        old_job = old
        cur_job = cur
        try:
            key = KEY_FUNC(cur_job)
        except Exception:
            return
        # A finished Job should have no finalizers left; sweep them as a backup.
        if job_util.is_job_finished(cur_job):
            self.enqueue_label_selector(cur_job)
            return

        if _object_meta(cur_job).generation == _object_meta(old_job).generation:
            # Status-only changes (often caused by pod events) are batched.
            self.enqueue_sync_job_batched(cur_job)
        else:
            self.enqueue_sync_job_immediately(cur_job)

        status = cur_job.status
        if status is not None and status.start_time is not None:
            cur_ads = cur_job.spec.active_deadline_seconds if cur_job.spec is not None else None
            if cur_ads is None:
                return
            old_ads = old_job.spec.active_deadline_seconds if old_job.spec is not None else None
            if old_ads is None or old_ads != cur_ads:
                passed = self.clock.since(status.start_time)
                total = float(cur_ads)
                self.queue.add_after(key, total - passed)
                log.v(4).info(
                    "job's ActiveDeadlineSeconds updated, will rsync",
                    "key",
                    key,
                    "interval",
                    total - passed,
                )

    def delete_job(self, obj: V1Job | DeletedFinalStateUnknown) -> None:
        """Port of Controller.deleteJob (pkg/controller/job/job_controller.go): sync, sweep the
        pods' finalizers, drop state."""
        self.enqueue_sync_job_immediately(obj)
        job_obj: V1Job
        if isinstance(obj, V1Job):
            job_obj = obj
        else:
            if not isinstance(obj, DeletedFinalStateUnknown):
                handle_error(JobControllerError(f"couldn't get object from tombstone {obj!r}"))
                return
            if not isinstance(obj.obj, V1Job):
                handle_error(
                    JobControllerError(f"tombstone contained object that is not a job {obj!r}")
                )
                return
            job_obj = obj.obj
        namespace = _object_meta(job_obj).namespace or ""
        name = _object_meta(job_obj).name or ""
        self.consistency_store.clear((namespace, name), _uid(job_obj))
        with self._finished_lock:
            self.finished_job_expectations.discard(_uid(job_obj))
        # Deviation: upstream sweeps the pods of every deleted Job; the pods of a Job
        # that another controller manages are left to that controller here.
        if self.managed_by_external_controller(job_obj) is None:
            self.enqueue_label_selector(job_obj)

        key = f"{namespace}/{name}" if namespace else name
        # A replacement Job with the same name must start with clean expectations.
        self.expectations.delete_expectations(key)
        try:
            self.pod_backoff_store.remove_backoff_record(key)
        except Exception as err:
            handle_error(_wrap("error removing backoff record", err))

    def enqueue_label_selector(self, job_obj: V1Job) -> None:
        """Port of Controller.enqueueLabelSelector (pkg/controller/job/job_controller.go): queue a
        sweep of the Job's pods."""
        try:
            selector = label_selector_as_selector(job_obj.spec.selector)
        except Exception as err:
            handle_error(
                _wrap(
                    f"job {_object_meta(job_obj).namespace}/{_object_meta(job_obj).name} "
                    "has invalid label selector",
                    err,
                )
            )
            return
        self.orphan_queue.add(
            OrphanPodKey(
                ORPHAN_POD_KEY_KIND_SELECTOR,
                _object_meta(job_obj).namespace or "",
                selector.string(),
            )
        )

    def enqueue_sync_job_immediately(self, obj: Any) -> None:
        """Port of Controller.enqueueSyncJobImmediately (pkg/controller/job/job_controller.go): used
        for Job events."""
        self.enqueue_sync_job_internal(obj, 0.0)

    def enqueue_sync_job_batched(self, obj: Any) -> None:
        """Port of Controller.enqueueSyncJobBatched (pkg/controller/job/job_controller.go): pod
        events and status updates."""
        self.enqueue_sync_job_internal(obj, SYNC_JOB_BATCH_PERIOD)

    def enqueue_sync_job_with_delay(self, obj: Any, delay: float) -> None:
        """Port of Controller.enqueueSyncJobWithDelay (pkg/controller/job/job_controller.go): never
        sooner than the batch period."""
        delay = max(delay, SYNC_JOB_BATCH_PERIOD)
        self.enqueue_sync_job_internal(obj, delay)

    def enqueue_sync_job_internal(self, obj: Any, delay: float) -> None:
        """Port of Controller.enqueueSyncJobInternal (pkg/controller/job/job_controller.go): add the
        Job's key after ``delay``."""
        try:
            key = KEY_FUNC(obj)
        except Exception as err:
            handle_error(_wrap(f"Couldn't get key for object {obj!r}", err))
            return
        log.v(2).info("enqueueing job", "key", key, "delay", delay)
        self.queue.add_after(key, delay)

    def enqueue_orphan_pod(self, obj: V1Pod, backoff: bool) -> None:
        """Port of Controller.enqueueOrphanPod (pkg/controller/job/job_controller.go): queue one pod
        for finalizer cleanup."""
        key = OrphanPodKey(
            ORPHAN_POD_KEY_KIND_NAME,
            _object_meta(obj).namespace or "",
            _object_meta(obj).name or "",
        )
        if backoff:
            self.orphan_queue.add_rate_limited(key)
        else:
            self.orphan_queue.add(key)

    def worker(self) -> None:
        """Port of Controller.worker (pkg/controller/job/job_controller.go): process Job keys until
        the queue shuts down."""
        while self.process_next_work_item():
            pass

    def process_next_work_item(self) -> bool:
        """Port of Controller.processNextWorkItem (pkg/controller/job/job_controller.go): sync one
        key; rate-limit on error."""
        key, quit_ = self.queue.get()
        if quit_:
            return False
        try:
            try:
                self.sync_handler(key)
            except Exception as err:
                handle_error(_wrap("syncing job", err))
                self.queue.add_rate_limited(key)
                return True
            self.queue.forget(key)
            return True
        finally:
            self.queue.done(key)

    def orphan_worker(self) -> None:
        """Port of Controller.orphanWorker (pkg/controller/job/job_controller.go): process orphan
        keys until shutdown."""
        while self.process_next_orphan_pod():
            pass

    def process_next_orphan_pod(self) -> bool:
        """Port of Controller.processNextOrphanPod (pkg/controller/job/job_controller.go): one
        orphan key, rate-limited retry."""
        key, quit_ = self.orphan_queue.get()
        if quit_:
            return False
        try:
            try:
                self.sync_orphan_pod(key)
            except Exception as err:
                handle_error(_wrap("Error syncing orphan pod", err))
                self.orphan_queue.add_rate_limited(key)
            else:
                self.orphan_queue.forget(key)
            return True
        finally:
            self.orphan_queue.done(key)

    def sync_orphan_pod(self, key: OrphanPodKey) -> None:
        """Port of Controller.syncOrphanPod (pkg/controller/job/job_controller.go): drop the
        tracking finalizer of orphans."""
        start_time = self.clock.now()
        try:
            if key.kind == ORPHAN_POD_KEY_KIND_NAME:
                try:
                    pod = self.pod_store.pods(key.namespace).get(key.value)
                except Exception as err:
                    if is_not_found(err):
                        log.v(4).info(
                            "Orphan pod has been deleted", "pod", f"{key.namespace}/{key.value}"
                        )
                        return
                    raise
                self.handle_single_orphan_pod(pod)
            elif key.kind == ORPHAN_POD_KEY_KIND_SELECTOR:
                log.v(8).info(
                    "syncing all pods matching the label selector",
                    "namespace",
                    key.namespace,
                    "labelSelector",
                    key.value,
                )
                self.sync_orphan_pods_by_selector(key.namespace, key.value)
            else:
                raise JobControllerError(f"unknown key type: {key.kind}")
        finally:
            log.v(4).info(
                "Finished syncing orphan pod", "pod", key, "elapsed", self.clock.since(start_time)
            )

    def sync_orphan_pods_by_selector(self, namespace: str, label_selector: str) -> None:
        """Port of Controller.syncOrphanPodsBySelector (pkg/controller/job/job_controller.go): sweep
        the pods a selector matches."""
        try:
            selector = parse_selector(label_selector)
        except Exception as err:
            raise _wrap("invalid label selector", err) from err
        pods: list[V1Pod] = self.pod_store.pods(namespace).list(selector)
        for pod in pods:
            try:
                self.handle_single_orphan_pod(pod)
            except Exception as err:
                log.error(err, "syncing orphan pod failed", "pod", _kobj(pod))
                self.enqueue_orphan_pod(pod, True)

    def handle_single_orphan_pod(self, shared_pod: V1Pod) -> None:
        """Port of Controller.handleSingleOrphanPod (pkg/controller/job/job_controller.go): remove
        the finalizer if still orphaned.

        Pods owned by something other than a batch/v1 Job, by a live Job, or by a Job
        another controller manages are left alone.
        """
        ns = shared_pod.metadata.namespace or ""
        name = shared_pod.metadata.name or ""
        controller_ref = get_controller_of(shared_pod)
        if controller_ref is not None:
            if (
                controller_ref.kind != CONTROLLER_KIND.kind
                or controller_ref.api_version != CONTROLLER_KIND.group_version()
            ):
                return
            job = self.resolve_controller_ref(ns, controller_ref)
            if job is not None:
                controller_name = self.managed_by_external_controller(job)
                if controller_name is not None:
                    log.v(2).info(
                        "Skip cleanup of the job finalizer for a pod owned by a job that is "
                        "managed by an external controller",
                        "namespace",
                        ns,
                        "name",
                        name,
                        "podUID",
                        _uid(shared_pod),
                        "jobUID",
                        _uid(job),
                        "controllerName",
                        controller_name,
                    )
                    return
            if job is not None and not job_util.is_job_finished(job):
                # Adopted: keep the finalizer.
                return
        patch = remove_tracking_finalizer_patch(shared_pod)
        if patch is not None:
            try:
                self.pod_control.patch_pod(ns, name, patch)
            except Exception as err:
                if not is_not_found(err):
                    raise

    def get_pods_for_job(self, j: V1Job) -> list[V1Pod]:
        """Port of Controller.getPodsForJob (pkg/controller/job/job_controller.go): the Job's pods,
        after adoption and release.

        Adopted pods get the tracking finalizer added on the API side; the returned
        copies carry it too. Other returned pods are the cache's objects.
        """
        try:
            selector = label_selector_as_selector(j.spec.selector)
        except Exception as err:
            raise _wrap("couldn't convert Job selector", err) from err

        pods: list[V1Pod] = filter_pods_by_owner(self.pod_indexer, j.metadata, "Job", True)

        # Adoption first re-reads the Job (uncached) to see whether it is being deleted.
        def get_fresh() -> V1Job:
            fresh = (
                self.kube_client.batch_v1()
                .jobs(j.metadata.namespace or "")
                .get(j.metadata.name or "")
            )
            if _uid(fresh) != _uid(j):
                raise JobControllerError(
                    f"original Job {j.metadata.namespace}/{j.metadata.name} is gone: got uid "
                    f"{_uid(fresh)}, wanted {_uid(j)}"
                )
            return fresh

        can_adopt_func = recheck_deletion_timestamp(get_fresh)
        cm = new_pod_controller_ref_manager(
            self.pod_control,
            j,
            selector,
            CONTROLLER_KIND,
            can_adopt_func,
            api.JOB_TRACKING_FINALIZER,
        )
        # Adoption adds the owner reference and the finalizer.
        pods = cm.claim_pods_fast(pods)
        # The adopted pods get the finalizer here too, for the rest of the sync.
        job_uid = _uid(j)
        for i, p in enumerate(pods):
            adopted = True
            for r in p.metadata.owner_references or ():
                if r.uid == job_uid:
                    adopted = False
                    break
            if adopted and not has_job_tracking_finalizer(p):
                pods[i] = deep_copy(p)
                pods[i].metadata.finalizers = [
                    *(p.metadata.finalizers or []),
                    api.JOB_TRACKING_FINALIZER,
                ]
        return pods

    def sync_job(self, key: str) -> None:
        """Port of Controller.syncJob (pkg/controller/job/job_controller.go): reconcile one
        Job with its pods once its expectations are met; raises to ask for a retry.

        Go's two deferred calls (the elapsed-time log line, and the sync metrics that look
        at the returned error) are the two ``finally`` blocks.
        """
        start_time = self.clock.now()
        try:
            ns, name = split_meta_namespace_key(key)
            if len(ns) == 0 or len(name) == 0:
                raise JobControllerError(
                    f"invalid job key {key!r}: either namespace or name is missing"
                )
            job_namespaced_name = (ns, name)
            # Reads must not run ahead of what the informers have shown of our own writes.
            try:
                self.consistency_store.ensure_ready(job_namespaced_name)
            except ConsistencyError as err:
                metrics.job_requeue_skips.labels(
                    err.group_resource.group, err.group_resource.resource
                ).inc()
                raise

            try:
                shared_job: V1Job = self.job_lister.jobs(ns).get(name)
            except Exception as err:
                if is_not_found(err):
                    log.v(4).info("Job has been deleted", "key", key)
                    self.expectations.delete_expectations(key)
                    self.finalizer_expectations.delete_expectations(key)
                    self.consistency_store.clear(job_namespaced_name, "")

                    try:
                        self.pod_backoff_store.remove_backoff_record(key)
                    except Exception as rm_err:
                        raise _wrap("error removing backoff record", rm_err) from rm_err
                    return
                raise

            # Another controller owns this Job (it may have replaced a Job that was queued).
            controller_name = self.managed_by_external_controller(shared_job)
            if controller_name is not None:
                log.v(2).info(
                    "Skip syncing the job as it is managed by an external controller",
                    "key",
                    key,
                    "uid",
                    _uid(shared_job),
                    "controllerName",
                    controller_name,
                )
                return

            # Work on a copy: the cache's object is shared.
            job = deep_copy(shared_job)
            if job.status is None:
                job.status = V1JobStatus()
            status = job.status

            if job_util.is_job_finished(job):
                try:
                    self.pod_backoff_store.remove_backoff_record(key)
                except Exception as rm_err:
                    raise _wrap("error removing backoff record", rm_err) from rm_err
                self.consistency_store.clear(
                    (job.metadata.namespace or "", job.metadata.name or ""), _uid(job)
                )
                with self._finished_lock:
                    self.finished_job_expectations.discard(_uid(job))
                return
            with self._finished_lock:
                awaiting_finished = _uid(job) in self.finished_job_expectations
            if awaiting_finished:
                log.v(2).info(
                    "Skip syncing the job as its marked finished but the corresponding "
                    "update event is not yet received",
                    "uid",
                    _uid(job),
                    "key",
                    key,
                )
                return

            if job.spec.completion_mode is not None and job.spec.completion_mode not in (
                api.NON_INDEXED_COMPLETION,
                api.INDEXED_COMPLETION,
            ):
                self.recorder.event(
                    job,
                    api.EVENT_TYPE_WARNING,
                    "UnknownCompletionMode",
                    "Skipped Job sync because completion mode is unknown",
                )
                return

            completion_mode = get_completion_mode(job)
            action = metrics.JOB_SYNC_ACTION_RECONCILING

            r_err: BaseException | None = None
            try:
                if status.uncounted_terminated_pods is None:
                    status.uncounted_terminated_pods = V1UncountedTerminatedPods()

                # Expectations first: a pod that lands after the listing defers the sync.
                satisfied_expectations = self.expectations.satisfied_expectations(key)

                pods = self.get_pods_for_job(job)

                # Workload/PodGroup management (alpha WorkloadWithJob) is out of scope.
                pod_group = None

                active_pods = filter_active_pods_fast(pods)
                job_ctx = SyncJobCtx(
                    job=job,
                    pods=pods,
                    active_pods=active_pods,
                    ready=count_ready_pods_fast(active_pods),
                    uncounted=new_uncounted_terminated_pods(status.uncounted_terminated_pods),
                    expected_rm_finalizers=self.finalizer_expectations.get_expected_uids(key),
                    pod_group=pod_group,
                    terminating=count_terminating_pods_fast(pods),
                )
                active = len(job_ctx.active_pods)
                new_succeeded_pods, new_failed_pods = get_new_finished_pods_fast(job_ctx)
                assert job_ctx.uncounted is not None
                job_ctx.succeeded = (
                    (status.succeeded or 0)
                    + len(new_succeeded_pods)
                    + len(job_ctx.uncounted.succeeded)
                )
                job_ctx.failed = (
                    (status.failed or 0)
                    + non_ignored_failed_pods_count(job_ctx, new_failed_pods)
                    + len(job_ctx.uncounted.failed)
                )

                # First start: StartTime is set only when the Job is not suspended.
                if status.start_time is None and not job_suspended(job):
                    status.start_time = self.clock.now()

                job_ctx.new_backoff_record = self.pod_backoff_store.new_backoff_record(
                    key, new_succeeded_pods, new_failed_pods
                )

                manage_job_err: BaseException | None = None

                # Evaluation order: interim conditions from earlier syncs, then failure
                # rules, then success rules; trackJobStatusAndRemoveFinalizers turns the
                # interim condition into the final one.
                exceeds_backoff_limit = job_ctx.failed > _deref(job.spec.backoff_limit)
                job_ctx.finished_condition = success_policy.has_success_criteria_met_condition(job)

                # Once SuccessCriteriaMet is recorded, the pod failure policy is not consulted.
                if job_ctx.finished_condition is None:
                    failure_target_condition = find_condition_by_type(
                        status.conditions, api.JOB_FAILURE_TARGET
                    )
                    if (
                        failure_target_condition is not None
                        and failure_target_condition.status == api.CONDITION_TRUE
                    ):
                        job_ctx.finished_condition = new_failed_condition_for_failure_target(
                            failure_target_condition, self.clock.now()
                        )
                    elif (fail_job_message := get_fail_job_message(job, pods)) is not None:
                        # Record the interim condition before the finalizers are removed.
                        job_ctx.finished_condition = new_condition(
                            api.JOB_FAILURE_TARGET,
                            api.CONDITION_TRUE,
                            api.JOB_REASON_POD_FAILURE_POLICY,
                            fail_job_message,
                            self.clock.now(),
                        )
                if job_ctx.finished_condition is None:
                    if exceeds_backoff_limit or past_backoff_limit_on_failure(job, pods):
                        job_ctx.finished_condition = self.new_failure_condition(
                            api.JOB_REASON_BACKOFF_LIMIT_EXCEEDED,
                            "Job has reached the specified backoff limit",
                        )
                    elif self.past_active_deadline(job):
                        job_ctx.finished_condition = self.new_failure_condition(
                            api.JOB_REASON_DEADLINE_EXCEEDED,
                            "Job was active longer than specified deadline",
                        )
                    elif job.spec.active_deadline_seconds is not None and not job_suspended(job):
                        assert status.start_time is not None
                        sync_duration = float(job.spec.active_deadline_seconds) - self.clock.since(
                            status.start_time
                        )
                        log.v(2).info(
                            "Job has activeDeadlineSeconds configuration. Will sync this job again",
                            "key",
                            key,
                            "nextSyncIn",
                            sync_duration,
                        )
                        self.queue.add_after(key, sync_duration)

                if indexed_job_utils.is_indexed_job(job):
                    job_ctx.prev_succeeded_indexes, job_ctx.succeeded_indexes = (
                        indexed_job_utils.calculate_succeeded_indexes(job, pods)
                    )
                    job_ctx.succeeded = job_ctx.succeeded_indexes.total()
                    # Failure rules of backoffLimitPerIndex.
                    if indexed_job_utils.has_backoff_limit_per_index(job):
                        job_ctx.failed_indexes = indexed_job_utils.calculate_failed_indexes(
                            job, pods
                        )
                        if job_ctx.finished_condition is None:
                            if (
                                job.spec.max_failed_indexes is not None
                                and job_ctx.failed_indexes.total() > job.spec.max_failed_indexes
                            ):
                                job_ctx.finished_condition = self.new_failure_condition(
                                    api.JOB_REASON_MAX_FAILED_INDEXES_EXCEEDED,
                                    "Job has exceeded the specified maximal number of failed "
                                    "indexes",
                                )
                            elif job_ctx.failed_indexes.total() > 0 and (
                                job_ctx.failed_indexes.total() + job_ctx.succeeded_indexes.total()
                                >= _deref(job.spec.completions)
                            ):
                                job_ctx.finished_condition = self.new_failure_condition(
                                    api.JOB_REASON_FAILED_INDEXES, "Job has failed indexes"
                                )
                        job_ctx.pods_with_delayed_deletion_per_index = (
                            indexed_job_utils.get_pods_with_delayed_deletion_per_index(job_ctx)
                        )
                    # Success rules of successPolicy.
                    if job_ctx.finished_condition is None:
                        msg, met = success_policy.match_success_policy(
                            job.spec.success_policy,
                            _deref(job.spec.completions),
                            job_ctx.succeeded_indexes,
                        )
                        if met:
                            job_ctx.finished_condition = new_condition(
                                api.JOB_SUCCESS_CRITERIA_MET,
                                api.CONDITION_TRUE,
                                api.JOB_REASON_SUCCESS_POLICY,
                                msg,
                                self.clock.now(),
                            )
                suspend_cond_changed = False
                # The Job is finishing: terminate what still runs.
                if job_ctx.finished_condition is not None:
                    deleted_ready, deleted, delete_err = self.delete_active_pods(
                        job, job_ctx.active_pods
                    )
                    if deleted != active or not satisfied_expectations:
                        # Finalizers or not-yet-observed pods may remain: not finished yet.
                        job_ctx.finished_condition = None
                    active -= deleted
                    assert job_ctx.terminating is not None
                    job_ctx.terminating += deleted
                    job_ctx.ready -= deleted_ready
                    manage_job_err = delete_err
                else:
                    manage_job_called = False
                    if satisfied_expectations and job.metadata.deletion_timestamp is None:
                        active, action, manage_job_err = self.manage_job(job, job_ctx)
                        manage_job_called = True
                    # Success rule of completions.
                    complete = False
                    if job.spec.completions is None:
                        # Without completions, any success finishes the Job once nothing
                        # runs.
                        complete = job_ctx.succeeded > 0 and active == 0
                    else:
                        # As many successes as completions, and nothing left running.
                        complete = job_ctx.succeeded >= job.spec.completions and active == 0
                    if complete:
                        job_ctx.finished_condition = self.new_success_condition()
                    elif manage_job_called:
                        # Suspension conditions and events change only in a sync that
                        # managed pods.
                        if job_suspended(job):
                            status.conditions, is_updated = ensure_job_condition_status(
                                status.conditions,
                                api.JOB_SUSPENDED,
                                api.CONDITION_TRUE,
                                "JobSuspended",
                                "Job suspended",
                                self.clock.now(),
                            )
                            if is_updated:
                                suspend_cond_changed = True
                                self.recorder.event(
                                    job, api.EVENT_TYPE_NORMAL, "Suspended", "Job suspended"
                                )
                                if features.DEFAULT_FEATURE_GATE.enabled(
                                    features.MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS
                                ):
                                    status.start_time = None
                        else:
                            status.conditions, is_updated = ensure_job_condition_status(
                                status.conditions,
                                api.JOB_SUSPENDED,
                                api.CONDITION_FALSE,
                                "JobResumed",
                                "Job resumed",
                                self.clock.now(),
                            )
                            if is_updated:
                                suspend_cond_changed = True
                                self.recorder.event(
                                    job, api.EVENT_TYPE_NORMAL, "Resumed", "Job resumed"
                                )
                                # activeDeadlineSeconds counts continuous activity: restart
                                # the clock.
                                status.start_time = self.clock.now()

                needs_status_update = (
                    suspend_cond_changed
                    or active != (status.active or 0)
                    or job_ctx.ready != status.ready
                )
                needs_status_update = needs_status_update or status.terminating != (
                    job_ctx.terminating
                )
                status.active = active
                status.ready = job_ctx.ready
                status.terminating = job_ctx.terminating
                try:
                    self.track_job_status_and_remove_finalizers_fast(job_ctx, needs_status_update)
                except Exception as err:
                    raise _wrap("tracking status", err) from err

                if manage_job_err is not None:
                    raise manage_job_err
            except BaseException as err:
                r_err = err
                raise
            finally:
                result = "success"
                if r_err is not None:
                    result = "error"
                metrics.job_sync_duration_seconds.labels(completion_mode, result, action).observe(
                    self.clock.since(start_time)
                )
                metrics.job_sync_num.labels(completion_mode, result, action).inc()
        finally:
            log.v(4).info(
                "Finished syncing job", "key", key, "elapsed", self.clock.since(start_time)
            )

    def new_failure_condition(self, reason: str, message: str) -> V1JobCondition:
        """Port of Controller.newFailureCondition (pkg/controller/job/job_controller.go): an interim
        FailureTarget condition."""
        return new_condition(
            api.JOB_FAILURE_TARGET, api.CONDITION_TRUE, reason, message, self.clock.now()
        )

    def new_success_condition(self) -> V1JobCondition:
        """Port of Controller.newSuccessCondition (pkg/controller/job/job_controller.go):
        SuccessCriteriaMet for completions."""
        return new_condition(
            api.JOB_SUCCESS_CRITERIA_MET,
            api.CONDITION_TRUE,
            api.JOB_REASON_COMPLETIONS_REACHED,
            "Reached expected number of succeeded pods",
            self.clock.now(),
        )

    def delete_active_pods(
        self, job: V1Job, pods: Sequence[V1Pod]
    ) -> tuple[int, int, BaseException | None]:
        """Port of Controller.deleteActivePods (pkg/controller/job/job_controller.go): DELETE every
        pod, keeping finalizers.

        trackJobStatusAndRemoveFinalizers drops the finalizers later. Returns the
        deleted ready pods, the deleted pods, and the first error.
        """
        err_ch: _queue.SimpleQueue[BaseException] = _queue.SimpleQueue()
        namespace = job.metadata.namespace or ""

        def delete(pod: V1Pod) -> tuple[bool, bool]:
            ok = True
            try:
                self.pod_control.delete_pod(namespace, pod.metadata.name or "", job)
            except Exception as err:
                if not is_not_found(err):
                    ok = False
                    err_ch.put(err)
                    handle_error(err)
            return ok, is_pod_ready(pod)

        results = self._fan_out(delete, pods)
        successful_deletes = sum(1 for ok, _ in results if ok)
        deleted_ready = sum(1 for _, ready in results if ready)
        return deleted_ready, successful_deletes, error_from_channel(err_ch)

    def delete_job_pods(
        self, job: V1Job, job_key: str, pods: Sequence[V1Pod]
    ) -> tuple[int, int, BaseException | None]:
        """Port of Controller.deleteJobPods (pkg/controller/job/job_controller.go): drop the
        finalizer, then delete each pod.

        Failed deletions are observed right away so expectations do not wait on them.
        """
        err_ch: _queue.SimpleQueue[BaseException] = _queue.SimpleQueue()
        namespace = job.metadata.namespace or ""

        def fail_delete(pod: V1Pod, err: BaseException) -> bool:
            # The informer will never see this deletion.
            self.expectations.deletion_observed(job_key)
            if not _is_not_found_wrapped(err):
                log.v(2).info(
                    "Failed to delete Pod", "job", _kobj(job), "pod", _kobj(pod), "err", err
                )
                err_ch.put(err)
                return False
            return True

        def delete(pod: V1Pod) -> tuple[bool, bool]:
            patch = remove_tracking_finalizer_patch(pod)
            if patch is not None:
                try:
                    self.pod_control.patch_pod(
                        pod.metadata.namespace or "", pod.metadata.name or "", patch
                    )
                except Exception as err:
                    return fail_delete(pod, _wrap("removing completion finalizer", err)), False
            ok = True
            try:
                self.pod_control.delete_pod(namespace, pod.metadata.name or "", job)
            except Exception as err:
                ok = fail_delete(pod, err)
            return ok, is_pod_ready(pod)

        results = self._fan_out(delete, pods)
        successful_deletes = sum(1 for ok, _ in results if ok)
        deleted_ready = sum(1 for _, ready in results if ready)
        return deleted_ready, successful_deletes, error_from_channel(err_ch)

    def track_job_status_and_remove_finalizers(
        self, job_ctx: SyncJobCtx, needs_flush: bool
    ) -> None:
        """Port of Controller.trackJobStatusAndRemoveFinalizers
        (pkg/controller/job/job_controller.go): put newly finished pods into
        ``status.uncountedTerminatedPods`` (at most MAX_UNCOUNTED_PODS per sync), remove
        their finalizers, move them into the counters, and write the final condition once
        nothing is left uncounted.
        """
        is_indexed = indexed_job_utils.is_indexed_job(job_ctx.job)
        pods_to_remove_finalizer: list[V1Pod] = []
        status = job_ctx.job.status
        assert status is not None and job_ctx.uncounted is not None
        uncounted_status = status.uncounted_terminated_pods
        assert uncounted_status is not None
        new_succeeded_indexes: list[int] = []
        if is_indexed:
            # Completed indexes are then met in order.
            job_ctx.pods.sort(key=indexed_job_utils.by_completion_index)
        uids_with_finalizer: set[str] = set()
        for p in job_ctx.pods:
            if has_job_tracking_finalizer(p) and _uid(p) not in job_ctx.expected_rm_finalizers:
                uids_with_finalizer.add(_uid(p))

        # A shallow copy is enough to spot counter changes (a one-slot holder: Go passes
        # a pointer to it on).
        old_counters = [status.model_copy()]
        if clean_uncounted_pods_without_finalizers(status, uids_with_finalizer):
            needs_flush = True
        pod_failure_count_by_policy_action: dict[str, int] = {}
        reached_max_uncounted_pods = False
        for pod in job_ctx.pods:
            if not has_job_tracking_finalizer(pod) or (_uid(pod) in job_ctx.expected_rm_finalizers):
                # Handled in an earlier sync.
                continue
            consider_pod_failed = is_pod_failed(pod, job_ctx.job)
            if not can_remove_finalizer(job_ctx, pod, consider_pod_failed):
                continue
            pods_to_remove_finalizer.append(pod)
            if _phase(pod) == api.POD_SUCCEEDED and _uid(pod) not in job_ctx.uncounted.failed:
                if is_indexed:
                    # The index alone prevents counting a success twice.
                    ix = indexed_job_utils.get_completion_index(_annotations(pod))
                    if (
                        ix != indexed_job_utils.UNKNOWN_COMPLETION_INDEX
                        and ix < _deref(job_ctx.job.spec.completions)
                        and not job_ctx.prev_succeeded_indexes.has(ix)
                    ):
                        new_succeeded_indexes.append(ix)
                        needs_flush = True
                elif _uid(pod) not in job_ctx.uncounted.succeeded:
                    needs_flush = True
                    if uncounted_status.succeeded is None:
                        uncounted_status.succeeded = []
                    uncounted_status.succeeded.append(_uid(pod))
            elif consider_pod_failed or (
                job_ctx.finished_condition is not None
                and not success_policy.is_success_criteria_met_condition(job_ctx.finished_condition)
            ):
                # A finishing (not succeeding) Job counts every unfinished pod as failed.
                ix = indexed_job_utils.get_completion_index(_annotations(pod))
                if _uid(pod) not in job_ctx.uncounted.failed and (
                    not is_indexed
                    or (
                        ix != indexed_job_utils.UNKNOWN_COMPLETION_INDEX
                        and ix < _deref(job_ctx.job.spec.completions)
                    )
                ):
                    if job_ctx.job.spec.pod_failure_policy is not None:
                        _, count_failed, policy_action = match_pod_failure_policy(
                            job_ctx.job.spec.pod_failure_policy, pod
                        )
                        if policy_action is not None:
                            pod_failure_count_by_policy_action[policy_action] = (
                                pod_failure_count_by_policy_action.get(policy_action, 0) + 1
                            )
                        if count_failed:
                            needs_flush = True
                            if uncounted_status.failed is None:
                                uncounted_status.failed = []
                            uncounted_status.failed.append(_uid(pod))
                    else:
                        needs_flush = True
                        if uncounted_status.failed is None:
                            uncounted_status.failed = []
                        uncounted_status.failed.append(_uid(pod))
            if (
                len(new_succeeded_indexes)
                + len(uncounted_status.succeeded or ())
                + len(uncounted_status.failed or ())
                >= MAX_UNCOUNTED_PODS
            ):
                # Keep the UID lists small and let other Jobs sync; the status and pod
                # updates bring this Job back to the queue.
                reached_max_uncounted_pods = True
                break
        if is_indexed:
            job_ctx.succeeded_indexes = job_ctx.succeeded_indexes.with_ordered_indexes(
                new_succeeded_indexes
            )
            succeeded_indexes_str = str(job_ctx.succeeded_indexes)
            if succeeded_indexes_str != (status.completed_indexes or ""):
                needs_flush = True
            status.succeeded = job_ctx.succeeded_indexes.total()
            status.completed_indexes = succeeded_indexes_str
            failed_indexes_str: str | None = None
            if job_ctx.failed_indexes is not None:
                failed_indexes_str = str(job_ctx.failed_indexes)
            if status.failed_indexes != failed_indexes_str:
                status.failed_indexes = failed_indexes_str
                needs_flush = True
        # FailureTarget becomes Failed.
        if (
            job_ctx.finished_condition is not None
            and job_ctx.finished_condition.type == api.JOB_FAILURE_TARGET
        ):
            # Write the interim FailureTarget before the finalizers go.
            status.conditions = [*(status.conditions or []), job_ctx.finished_condition]
            needs_flush = True

            # The final Failed condition, written (and reported) by enactJobFinished.
            job_ctx.finished_condition = new_failed_condition_for_failure_target(
                job_ctx.finished_condition, self.clock.now()
            )
        # SuccessCriteriaMet becomes Complete.
        if success_policy.is_success_criteria_met_condition(job_ctx.finished_condition):
            assert job_ctx.finished_condition is not None
            # Write the interim SuccessCriteriaMet before the finalizers go.
            if success_policy.has_success_criteria_met_condition(job_ctx.job) is None:
                status.conditions = [*(status.conditions or []), job_ctx.finished_condition]
                needs_flush = True

            # The final Complete condition, written (and reported) by enactJobFinished.
            job_ctx.finished_condition = new_condition(
                api.JOB_COMPLETE,
                api.CONDITION_TRUE,
                job_ctx.finished_condition.reason or "",
                job_ctx.finished_condition.message or "",
                self.clock.now(),
            )
        job_ctx.job, needs_flush, err = self.flush_uncounted_and_remove_finalizers(
            job_ctx,
            pods_to_remove_finalizer,
            uids_with_finalizer,
            old_counters,
            pod_failure_count_by_policy_action,
            needs_flush,
        )
        if err is not None:
            raise err
        job_finished = not reached_max_uncounted_pods and self.enact_job_finished(job_ctx)
        if job_finished:
            needs_flush = True
        if needs_flush:
            try:
                self.update_status_handler(job_ctx.job)
            except Exception as update_err:
                raise _wrap("removing uncounted pods from status", update_err) from update_err
            if job_finished:
                assert job_ctx.finished_condition is not None
                self.record_job_finished(job_ctx.job, job_ctx.finished_condition)
                with self._finished_lock:
                    self.finished_job_expectations.add(_uid(job_ctx.job))
            record_job_pod_finished(job_ctx.job, old_counters[0])

    def track_job_status_and_remove_finalizers_fast(
        self, job_ctx: SyncJobCtx, needs_flush: bool
    ) -> None:
        """The same contract as ``track_job_status_and_remove_finalizers`` (just above),
        quicker on large Jobs; ``sync_job`` calls this one.

        Differences in how, not what: one pass over the pods collects the UIDs holding the
        finalizer and, in order, the only pods the counting loop can act on (those still
        holding the finalizer, not awaiting its removal, and either finished, being
        deleted, or belonging to a finishing Job: ``can_remove_finalizer`` refuses every
        other pod). A running Job with every pod active and nothing uncounted skips that
        pass: it would find no candidate, and its UIDs would clean nothing.
        ``tests/job/test_job_controller_tracking.py`` and the syncJob tables run through
        both versions.
        """
        job = job_ctx.job
        status = job.status
        assert status is not None and job_ctx.uncounted is not None
        is_indexed = indexed_job_utils.is_indexed_job(job)
        pods_to_remove_finalizer: list[V1Pod] = []
        uncounted_status = status.uncounted_terminated_pods
        assert uncounted_status is not None
        new_succeeded_indexes: list[int] = []
        if is_indexed:
            # Completed indexes are then met in order.
            job_ctx.pods.sort(key=indexed_job_utils.by_completion_index)
        expected_rm = job_ctx.expected_rm_finalizers
        job_finishing = (
            job.metadata.deletion_timestamp is not None or job_ctx.finished_condition is not None
        )
        # active_pods is the active subset of pods (SyncJobCtx): when it has them all, no
        # pod has finished or is being deleted.
        all_pods_active = len(job_ctx.active_pods) == len(job_ctx.pods)
        uids_with_finalizer: set[str] = set()
        # Pods still holding the finalizer whose removal is not pending, in pod order,
        # less the pods can_remove_finalizer would refuse for being active.
        candidates: list[tuple[V1Pod, str]] = []
        # The scan below can be skipped when it would find no candidate (every pod
        # active, the Job not finishing) and its UIDs would clean nothing (no uncounted
        # UIDs): the steady state of a running Job.
        scan_pods = (
            job_finishing
            or not all_pods_active
            or bool(uncounted_status.succeeded)
            or bool(uncounted_status.failed)
        )
        for p in job_ctx.pods if scan_pods else ():
            meta = p.metadata
            finalizers = meta.finalizers
            if not finalizers or api.JOB_TRACKING_FINALIZER not in finalizers:
                continue
            uid = meta.uid or ""
            if expected_rm and uid in expected_rm:
                continue
            uids_with_finalizer.add(uid)
            if not job_finishing:
                if all_pods_active:
                    continue
                if meta.deletion_timestamp is None:
                    pod_status = p.status
                    phase = pod_status.phase if pod_status is not None else None
                    if phase not in (api.POD_SUCCEEDED, api.POD_FAILED):
                        continue
            candidates.append((p, uid))

        # A shallow copy is enough to spot counter changes.
        old_counters = [status.model_copy()]
        if clean_uncounted_pods_without_finalizers(status, uids_with_finalizer):
            needs_flush = True
        pod_failure_count_by_policy_action: dict[str, int] = {}
        reached_max_uncounted_pods = False
        completions = job.spec.completions
        for pod, pod_uid in candidates:
            phase = _phase(pod)
            consider_pod_failed = is_pod_failed(pod, job)
            if not job_finishing and not consider_pod_failed and phase != api.POD_SUCCEEDED:
                continue
            if not can_remove_finalizer(job_ctx, pod, consider_pod_failed):
                continue
            pods_to_remove_finalizer.append(pod)
            if phase == api.POD_SUCCEEDED and pod_uid not in job_ctx.uncounted.failed:
                if is_indexed:
                    # The index alone prevents counting a success twice.
                    ix = indexed_job_utils.get_completion_index(_annotations(pod))
                    if (
                        ix != indexed_job_utils.UNKNOWN_COMPLETION_INDEX
                        and ix < _deref(completions)
                        and not job_ctx.prev_succeeded_indexes.has(ix)
                    ):
                        new_succeeded_indexes.append(ix)
                        needs_flush = True
                elif pod_uid not in job_ctx.uncounted.succeeded:
                    needs_flush = True
                    if uncounted_status.succeeded is None:
                        uncounted_status.succeeded = []
                    uncounted_status.succeeded.append(pod_uid)
            elif consider_pod_failed or (
                job_ctx.finished_condition is not None
                and not success_policy.is_success_criteria_met_condition(job_ctx.finished_condition)
            ):
                # A finishing (not succeeding) Job counts every unfinished pod as failed.
                ix = indexed_job_utils.get_completion_index(_annotations(pod))
                if pod_uid not in job_ctx.uncounted.failed and (
                    not is_indexed
                    or (
                        ix != indexed_job_utils.UNKNOWN_COMPLETION_INDEX
                        and ix < _deref(completions)
                    )
                ):
                    if job.spec.pod_failure_policy is not None:
                        _, count_failed, policy_action = match_pod_failure_policy(
                            job.spec.pod_failure_policy, pod
                        )
                        if policy_action is not None:
                            pod_failure_count_by_policy_action[policy_action] = (
                                pod_failure_count_by_policy_action.get(policy_action, 0) + 1
                            )
                        if count_failed:
                            needs_flush = True
                            if uncounted_status.failed is None:
                                uncounted_status.failed = []
                            uncounted_status.failed.append(pod_uid)
                    else:
                        needs_flush = True
                        if uncounted_status.failed is None:
                            uncounted_status.failed = []
                        uncounted_status.failed.append(pod_uid)
            if (
                len(new_succeeded_indexes)
                + len(uncounted_status.succeeded or ())
                + len(uncounted_status.failed or ())
                >= MAX_UNCOUNTED_PODS
            ):
                # Keep the UID lists small and let other Jobs sync; the status and pod
                # updates bring this Job back to the queue.
                reached_max_uncounted_pods = True
                break
        if is_indexed:
            job_ctx.succeeded_indexes = job_ctx.succeeded_indexes.with_ordered_indexes(
                new_succeeded_indexes
            )
            succeeded_indexes_str = str(job_ctx.succeeded_indexes)
            if succeeded_indexes_str != (status.completed_indexes or ""):
                needs_flush = True
            status.succeeded = job_ctx.succeeded_indexes.total()
            status.completed_indexes = succeeded_indexes_str
            failed_indexes_str: str | None = None
            if job_ctx.failed_indexes is not None:
                failed_indexes_str = str(job_ctx.failed_indexes)
            if status.failed_indexes != failed_indexes_str:
                status.failed_indexes = failed_indexes_str
                needs_flush = True
        if (
            job_ctx.finished_condition is not None
            and job_ctx.finished_condition.type == api.JOB_FAILURE_TARGET
        ):
            # Write the interim FailureTarget before the finalizers go; keep the final
            # Failed condition for enactJobFinished.
            if status.conditions is None:
                status.conditions = []
            status.conditions.append(job_ctx.finished_condition)
            needs_flush = True
            job_ctx.finished_condition = new_failed_condition_for_failure_target(
                job_ctx.finished_condition, self.clock.now()
            )
        if success_policy.is_success_criteria_met_condition(job_ctx.finished_condition):
            assert job_ctx.finished_condition is not None
            # Same for SuccessCriteriaMet and Complete.
            if success_policy.has_success_criteria_met_condition(job) is None:
                if status.conditions is None:
                    status.conditions = []
                status.conditions.append(job_ctx.finished_condition)
                needs_flush = True
            job_ctx.finished_condition = new_condition(
                api.JOB_COMPLETE,
                api.CONDITION_TRUE,
                job_ctx.finished_condition.reason or "",
                job_ctx.finished_condition.message or "",
                self.clock.now(),
            )
        job_ctx.job, needs_flush, err = self.flush_uncounted_and_remove_finalizers(
            job_ctx,
            pods_to_remove_finalizer,
            uids_with_finalizer,
            old_counters,
            pod_failure_count_by_policy_action,
            needs_flush,
        )
        if err is not None:
            raise err
        job_finished = not reached_max_uncounted_pods and self.enact_job_finished(job_ctx)
        if job_finished:
            needs_flush = True
        if needs_flush:
            try:
                self.update_status_handler(job_ctx.job)
            except Exception as update_err:
                raise _wrap("removing uncounted pods from status", update_err) from update_err
            if job_finished:
                assert job_ctx.finished_condition is not None
                self.record_job_finished(job_ctx.job, job_ctx.finished_condition)
                with self._finished_lock:
                    self.finished_job_expectations.add(_uid(job_ctx.job))
            record_job_pod_finished(job_ctx.job, old_counters[0])

    def flush_uncounted_and_remove_finalizers(
        self,
        job_ctx: SyncJobCtx,
        pods_to_remove_finalizer: Sequence[V1Pod],
        uids_with_finalizer: set[str],
        old_counters: list[V1JobStatus],
        pod_failure_count_by_policy_action: dict[str, int],
        needs_flush: bool,
    ) -> tuple[V1Job, bool, BaseException | None]:
        """Port of Controller.flushUncountedAndRemoveFinalizers
        (pkg/controller/job/job_controller.go).

        Writes the pending status (new uncounted UIDs and interim conditions), removes
        finalizers, moves the pods whose finalizer is gone into the counters, and writes
        again if some removals failed. ``old_counters`` is a one-slot holder (Go passes a
        pointer) refreshed after a write. Returns the Job, whether a write is still
        pending, and the first finalizer-removal error.
        """
        if needs_flush:
            try:
                job_ctx.job = self.update_status_handler(job_ctx.job)
            except Exception as err:
                return job_ctx.job, needs_flush, _wrap("adding uncounted pods to status", err)

            try:
                assert job_ctx.new_backoff_record is not None
                self.pod_backoff_store.update_backoff_record(job_ctx.new_backoff_record)
            except Exception as err:
                # Only undercounts the backoff; a retry would not recover it either.
                log.error(err, "Backoff update failed")

            record_job_pod_finished(job_ctx.job, old_counters[0])
            assert job_ctx.job.status is not None
            old_counters[0] = job_ctx.job.status.model_copy()
            needs_flush = False
        record_job_pod_failure_policy_actions(pod_failure_count_by_policy_action)

        try:
            job_key = KEY_FUNC(job_ctx.job)
        except Exception as err:
            return job_ctx.job, needs_flush, _wrap("getting job key", err)
        rm_err: BaseException | None = None
        if pods_to_remove_finalizer:
            rm_succeeded, rm_err = self.remove_tracking_finalizer_from_pods(
                job_key, pods_to_remove_finalizer
            )
            for i, p in enumerate(pods_to_remove_finalizer):
                if rm_succeeded[i]:
                    uids_with_finalizer.discard(_uid(p))
        # Record whatever progress the removals made, even a partial one.
        status = job_ctx.job.status
        assert status is not None
        if clean_uncounted_pods_without_finalizers(status, uids_with_finalizer):
            needs_flush = True
        if rm_err is not None and needs_flush:
            try:
                self.update_status_handler(job_ctx.job)
            except Exception as err:
                return (
                    job_ctx.job,
                    needs_flush,
                    _wrap("removing uncounted pods from status", err),
                )
        return job_ctx.job, needs_flush, rm_err

    def remove_tracking_finalizer_from_pods(
        self, job_key: str, pods: Sequence[V1Pod]
    ) -> tuple[list[bool], BaseException | None]:
        """Port of Controller.removeTrackingFinalizerFromPods
        (pkg/controller/job/job_controller.go): patch the finalizer away.

        Element i of the result says whether pod i lost its finalizer (a pod that is
        already gone counts as a success).
        """
        err_ch: _queue.SimpleQueue[BaseException] = _queue.SimpleQueue()
        succeeded = [False] * len(pods)
        uids = [_uid(p) for p in pods]
        if job_key:
            try:
                self.finalizer_expectations.expect_finalizers_removed(job_key, uids)
            except Exception as err:
                return succeeded, _wrap("setting expected removed finalizers", err)

        def remove(i: int) -> None:
            pod = pods[i]
            patch = remove_tracking_finalizer_patch(pod)
            if patch is None:
                return
            try:
                self.pod_control.patch_pod(
                    pod.metadata.namespace or "", pod.metadata.name or "", patch
                )
            except Exception as err:
                # No update will show this removal: stop expecting it.
                if job_key:
                    self.finalizer_expectations.finalizer_removal_observed(job_key, _uid(pod))
                if not is_not_found(err):
                    err_ch.put(err)
                    handle_error(_wrap("removing tracking finalizer", err))
                    return
            succeeded[i] = True

        self._fan_out(remove, range(len(pods)))
        return succeeded, error_from_channel(err_ch)

    def enact_job_finished(self, job_ctx: SyncJobCtx) -> bool:
        """Port of Controller.enactJobFinished (pkg/controller/job/job_controller.go): set the final
        condition when it is time.

        Not before every finished pod is counted and no pod is terminating.
        """
        if job_ctx.finished_condition is None:
            return False
        job = job_ctx.job
        status = job.status
        assert status is not None
        uncounted = status.uncounted_terminated_pods
        if uncounted is not None:
            count = len(uncounted.succeeded or ()) + len(uncounted.failed or ())
            if count > 0:
                log.v(4).info(
                    "Delaying marking the Job as finished, because there are still uncounted "
                    "pod(s)",
                    "job",
                    _kobj(job),
                    "condition",
                    job_ctx.finished_condition.type,
                    "count",
                    count,
                )
                return False
        if (job_ctx.terminating or 0) > 0:
            log.v(4).info(
                "Delaying marking the Job as finished, because there are still terminating pod(s)",
                "job",
                _kobj(job),
                "condition",
                job_ctx.finished_condition.type,
                "count",
                job_ctx.terminating,
            )
            return False
        finished_cond = job_ctx.finished_condition
        status.conditions, _ = ensure_job_condition_status(
            status.conditions,
            finished_cond.type,
            finished_cond.status,
            finished_cond.reason or "",
            finished_cond.message or "",
            self.clock.now(),
        )
        if finished_cond.type == api.JOB_COMPLETE:
            status.completion_time = finished_cond.last_transition_time
        return True

    def record_job_finished(self, job: V1Job, finished_cond: V1JobCondition) -> bool:
        """Port of Controller.recordJobFinished (pkg/controller/job/job_controller.go): events and
        jobs_finished_total."""
        completion_mode = get_completion_mode(job)
        status = job.status
        assert status is not None
        if finished_cond.type == api.JOB_COMPLETE:
            if job.spec.completions is not None and (status.succeeded or 0) > (
                job.spec.completions
            ):
                self.recorder.event(
                    job,
                    api.EVENT_TYPE_WARNING,
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            self.recorder.event(job, api.EVENT_TYPE_NORMAL, "Completed", "Job completed")
            metrics.job_finished_num.labels(
                completion_mode, "succeeded", finished_cond.reason or ""
            ).inc()
        else:
            self.recorder.event(
                job, api.EVENT_TYPE_WARNING, finished_cond.reason or "", finished_cond.message or ""
            )
            metrics.job_finished_num.labels(
                completion_mode, "failed", finished_cond.reason or ""
            ).inc()
        return True

    def past_active_deadline(self, job: V1Job) -> bool:
        """Port of Controller.pastActiveDeadline (pkg/controller/job/job_controller.go): active at
        least activeDeadlineSeconds.

        Never true while the Job is suspended.
        """
        status = job.status
        if (
            job.spec.active_deadline_seconds is None
            or status is None
            or status.start_time is None
            or job_suspended(job)
        ):
            return False
        duration = self.clock.since(status.start_time)
        allowed_duration = float(job.spec.active_deadline_seconds)
        return duration >= allowed_duration

    def manage_job(self, job: V1Job, job_ctx: SyncJobCtx) -> tuple[int, str, BaseException | None]:
        """Port of Controller.manageJob (pkg/controller/job/job_controller.go): create or delete
        pods towards the wanted count.

        Deletions take precedence over creations; creations honour the pod failure
        backoff and go out in slow-start batches. Does not modify ``active_pods``.
        Returns the new active count, the sync action label and the first error.
        """
        active = len(job_ctx.active_pods)
        parallelism = _deref(job.spec.parallelism)
        try:
            job_key = KEY_FUNC(job)
        except Exception as err:
            handle_error(_wrap(f"Couldn't get key for job {job!r}", err))
            return 0, metrics.JOB_SYNC_ACTION_TRACKING, None

        if job_suspended(job):
            log.v(4).info(
                "Deleting all active pods in suspended job", "job", _kobj(job), "active", active
            )
            pods_to_delete = active_pods_for_removal(job, job_ctx.active_pods, active)
            self.expectations.expect_deletions(job_key, len(pods_to_delete))
            removed_ready, removed, del_err = self.delete_job_pods(job, job_key, pods_to_delete)
            active -= removed
            job_ctx.terminating = (job_ctx.terminating or 0) + removed
            job_ctx.ready -= removed_ready
            return active, metrics.JOB_SYNC_ACTION_PODS_DELETED, del_err

        want_active = 0
        if job.spec.completions is None:
            # Without completions: parallelism pods until one succeeds, then leave the
            # running ones alone.
            want_active = active if job_ctx.succeeded > 0 else parallelism
        else:
            # Never more than the completions still needed.
            want_active = min(job.spec.completions - job_ctx.succeeded, parallelism)
            want_active = max(want_active, 0)

        rm_at_least = max(active - want_active, 0)
        pods_to_delete = active_pods_for_removal(job, job_ctx.active_pods, rm_at_least)
        if len(pods_to_delete) > MAX_POD_CREATE_DELETE_PER_SYNC:
            pods_to_delete = pods_to_delete[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if pods_to_delete:
            self.expectations.expect_deletions(job_key, len(pods_to_delete))
            log.v(4).info(
                "Too many pods running for job",
                "job",
                _kobj(job),
                "deleted",
                len(pods_to_delete),
                "target",
                want_active,
            )
            removed_ready, removed, del_err = self.delete_job_pods(job, job_key, pods_to_delete)
            active -= removed
            job_ctx.terminating = (job_ctx.terminating or 0) + removed
            job_ctx.ready -= removed_ready
            # One kind of change per sync (indexed Jobs may need both): deletions first.
            return active, metrics.JOB_SYNC_ACTION_PODS_DELETED, del_err

        terminating = 0
        if only_replace_failed_pods(job_ctx.job):
            terminating = job_ctx.terminating or 0
        diff = want_active - terminating - active
        if diff <= 0:
            return active, metrics.JOB_SYNC_ACTION_TRACKING, None

        remaining_time = 0.0
        if not indexed_job_utils.has_backoff_limit_per_index(job):
            # The global backoff applies only without backoffLimitPerIndex.
            assert job_ctx.new_backoff_record is not None
            remaining_time = job_ctx.new_backoff_record.get_remaining_time(
                self.clock, DEFAULT_JOB_POD_FAILURE_BACK_OFF, MAX_JOB_POD_FAILURE_BACK_OFF
            )
        if remaining_time > 0:
            self.enqueue_sync_job_with_delay(job, remaining_time)
            # Nothing changed: report the current active count (0 would clash with ready).
            return active, metrics.JOB_SYNC_ACTION_PODS_CREATED, None
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)

        indexes_to_add: list[int] = []
        if indexed_job_utils.is_indexed_job(job):
            indexes_to_add = indexed_job_utils.first_pending_indexes(
                job_ctx, diff, _deref(job.spec.completions)
            )
            if indexed_job_utils.has_backoff_limit_per_index(job):
                indexes_to_add, remaining_time = self.get_pod_creation_info_for_independent_indexes(
                    indexes_to_add, job_ctx.pods_with_delayed_deletion_per_index or {}
                )
                if remaining_time > 0:
                    self.enqueue_sync_job_with_delay(job, remaining_time)
                    return active, metrics.JOB_SYNC_ACTION_PODS_CREATED, None
            diff = len(indexes_to_add)

        self.expectations.expect_creations(job_key, diff)
        err_ch: _queue.SimpleQueue[BaseException] = _queue.SimpleQueue()
        log.v(4).info("Too few pods running", "key", job_key, "need", want_active, "creating", diff)

        active += diff

        pod_template = deep_copy(job.spec.template)
        if indexed_job_utils.is_indexed_job(job):
            indexed_job_utils.add_completion_index_env_variables(pod_template)
        if pod_template.metadata is None:
            pod_template.metadata = V1ObjectMeta()
        pod_template.metadata.finalizers = append_job_completion_finalizer_if_not_found(
            pod_template.metadata.finalizers
        )
        controller_ref = new_controller_ref(job, CONTROLLER_KIND)
        namespace = job.metadata.namespace or ""
        job_name = job.metadata.name or ""
        delayed = job_ctx.pods_with_delayed_deletion_per_index or {}
        backoff_per_index = indexed_job_utils.has_backoff_limit_per_index(job)

        def create(completion_index: int) -> tuple[bool, bool]:
            """Create one pod; returns (counted as attempted, failed)."""
            template = pod_template
            generate_name = ""
            if completion_index != indexed_job_utils.UNKNOWN_COMPLETION_INDEX:
                template = deep_copy(pod_template)
                indexed_job_utils.add_completion_index_annotation(template, completion_index)
                indexed_job_utils.add_completion_index_label(template, completion_index)
                assert template.spec is not None
                template.spec.hostname = f"{job_name}-{completion_index}"
                generate_name = indexed_job_utils.pod_generate_name_with_index(
                    job_name, completion_index
                )
                if backoff_per_index:
                    indexed_job_utils.add_index_failure_count_annotation(
                        template, job, delayed.get(completion_index)
                    )
            try:
                self.pod_control.create_pods_with_generate_name(
                    namespace, template, job, controller_ref, generate_name
                )
            except Exception as err:
                if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                    # The namespace is going away; every later create fails the same way.
                    return False, False
                log.v(2).info("Failed creation, decrementing expectations", "job", _kobj(job))
                # The informer will never see this pod.
                self.expectations.creation_observed(job_key)
                err_ch.put(err)
                handle_error(err)
                return True, True
            return True, False

        creations_succeeded = 0
        creations_failed = 0
        # Slow start: batches of 1, 2, 4, ... so a systematic failure (quota, say)
        # costs few requests and few events.
        batch_size = min(diff, SLOW_START_INITIAL_BATCH_SIZE)
        while diff > 0:
            error_count = err_ch.qsize()
            batch_indexes: list[int] = []
            for _ in range(batch_size):
                completion_index = indexed_job_utils.UNKNOWN_COMPLETION_INDEX
                if indexes_to_add:
                    completion_index = indexes_to_add.pop(0)
                batch_indexes.append(completion_index)
            for attempted, failed in self._fan_out(create, batch_indexes):
                if failed:
                    active -= 1
                    creations_failed += 1
                if attempted:
                    # Upstream counts failed attempts here too.
                    creations_succeeded += 1
            # Pods never attempted are not expected either.
            skipped_pods = diff - batch_size
            if error_count < err_ch.qsize() and skipped_pods > 0:
                log.v(2).info(
                    "Slow-start failure. Skipping creating pods, decrementing expectations",
                    "skippedCount",
                    skipped_pods,
                    "job",
                    _kobj(job),
                )
                active -= skipped_pods
                for _ in range(skipped_pods):
                    self.expectations.creation_observed(job_key)
                # The next sync restarts the slow start for these.
                break
            diff -= batch_size
            batch_size = min(2 * batch_size, diff)
        record_job_pods_creation_total(job, job_ctx, creations_succeeded, creations_failed)
        return active, metrics.JOB_SYNC_ACTION_PODS_CREATED, error_from_channel(err_ch)

    def get_pod_creation_info_for_independent_indexes(
        self, indexes_to_add: Iterable[int], pods_with_delayed_deletion_per_index: dict[int, V1Pod]
    ) -> tuple[list[int], float]:
        """Port of Controller.getPodCreationInfoForIndependentIndexes
        (pkg/controller/job/job_controller.go).

        Returns the indexes whose per-index backoff has passed; if there are none, the
        shortest remaining backoff among the others.
        """
        indexes_to_add_now: list[int] = []
        min_remaining_time_per_index: float | None = None
        for index_to_add in indexes_to_add:
            remaining_time_per_index = backoff_utils.get_remaining_time_per_index(
                self.clock,
                DEFAULT_JOB_POD_FAILURE_BACK_OFF,
                MAX_JOB_POD_FAILURE_BACK_OFF,
                pods_with_delayed_deletion_per_index.get(index_to_add),
            )
            if remaining_time_per_index == 0:
                indexes_to_add_now.append(index_to_add)
            elif (
                min_remaining_time_per_index is None
                or remaining_time_per_index < min_remaining_time_per_index
            ):
                min_remaining_time_per_index = remaining_time_per_index
        if indexes_to_add_now:
            return indexes_to_add_now, 0.0
        return indexes_to_add_now, (
            min_remaining_time_per_index if min_remaining_time_per_index is not None else 0.0
        )

    def update_job_status(self, job: V1Job) -> V1Job:
        """Port of Controller.updateJobStatus (pkg/controller/job/job_controller.go): UpdateStatus,
        noting the written version."""
        namespace = job.metadata.namespace or ""
        updated = self.kube_client.batch_v1().jobs(namespace).update_status(job)
        self.consistency_store.wrote_at(
            (updated.metadata.namespace or "", updated.metadata.name or ""),
            _uid(updated),
            JOB_GROUP_RESOURCE,
            updated.metadata.resource_version or "",
        )
        return updated

    def managed_by_external_controller(self, job_obj: V1Job) -> str | None:
        """``managed_by_external_controller`` against this controller's name."""
        return managed_by_external_controller(job_obj, self.controller_name)

    # -- fan-out helper (Go: one goroutine per item, then wg.Wait) --

    def _fan_out(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Run ``fn`` over ``items`` concurrently and return the results in order.

        Up to ``_FAN_OUT_WORKERS`` pool threads each take the next unclaimed item until
        none is left, so one slow write delays only the items behind it on its thread.
        """
        n = len(items)
        if n <= 1:
            return [fn(item) for item in items]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=_FAN_OUT_WORKERS, thread_name_prefix="job-controller-fan-out"
                )
            pool = self._pool
        results: list[Any] = [None] * n
        # next() on one shared itertools.count is atomic under the GIL.
        claims = itertools.count()

        def drain() -> None:
            for i in claims:
                if i >= n:
                    return
                results[i] = fn(items[i])

        futures = [pool.submit(drain) for _ in range(min(n, _FAN_OUT_WORKERS))]
        wait_futures(futures)
        for future in futures:
            future.result()
        return cast(list[R], results)


@dataclass
class SyncJobCtx:
    """Port of syncJobCtx (pkg/controller/job/job_controller.go): the per-sync state passed between
    the sync steps."""

    job: V1Job
    pods: list[V1Pod] = field(default_factory=list)
    finished_condition: V1JobCondition | None = None
    active_pods: list[V1Pod] = field(default_factory=list)
    succeeded: int = 0
    failed: int = 0
    prev_succeeded_indexes: indexed_job_utils.OrderedIntervals = field(
        default_factory=lambda: indexed_job_utils.OrderedIntervals()
    )
    succeeded_indexes: indexed_job_utils.OrderedIntervals = field(
        default_factory=lambda: indexed_job_utils.OrderedIntervals()
    )
    failed_indexes: indexed_job_utils.OrderedIntervals | None = None
    new_backoff_record: backoff_utils.BackoffRecord | None = None
    expected_rm_finalizers: set[str] = field(default_factory=set)
    uncounted: UncountedTerminatedPods | None = None
    pods_with_delayed_deletion_per_index: dict[int, V1Pod] | None = None
    terminating: int | None = None
    ready: int = 0
    # Set only for Jobs under workload scheduling (alpha, out of scope): always None.
    pod_group: Any = None


class OrphanPodKeyKind(enum.IntEnum):
    """Port of orphanPodKeyKind (pkg/controller/job/job_controller.go): what an orphan queue key
    names."""

    NAME = 0
    SELECTOR = 1


ORPHAN_POD_KEY_KIND_NAME = OrphanPodKeyKind.NAME
ORPHAN_POD_KEY_KIND_SELECTOR = OrphanPodKeyKind.SELECTOR


@dataclass(frozen=True)
class OrphanPodKey:
    """Port of orphanPodKey (pkg/controller/job/job_controller.go): one pod by name, or every pod a
    selector matches."""

    kind: OrphanPodKeyKind
    namespace: str
    value: str


JOB_GROUP_RESOURCE = GroupResource("batch", "jobs")
POD_GROUP_RESOURCE = GroupResource("", "pods")


def new_controller(
    pod_informer: Any,
    job_informer: Any,
    kube_client: Interface,
    controller_name: str = api.JOB_CONTROLLER_NAME,
    registry: Any = None,
) -> Controller:
    """Port of NewController (pkg/controller/job/job_controller.go): a Job controller on the real
    clock.

    ``controller_name`` is the ``spec.managedBy`` value this controller serves.
    """
    return new_controller_with_clock(
        pod_informer, job_informer, kube_client, RealClock(), controller_name, registry
    )


def new_controller_with_clock(
    pod_informer: Any,
    job_informer: Any,
    kube_client: Interface,
    clock: Clock,
    controller_name: str = api.JOB_CONTROLLER_NAME,
    registry: Any = None,
) -> Controller:
    """Port of newControllerWithClock (pkg/controller/job/job_controller.go): wire queues, recorder,
    handlers and metrics.

    ``registry`` is the prometheus registry the metrics are registered in (default:
    the global one).
    """
    event_broadcaster = new_broadcaster()
    jm = Controller(kube_client, clock, controller_name)

    pod_write_callback: Callable[[V1Pod, V1OwnerReference | None], None] | None = None
    if features.DEFAULT_FEATURE_GATE.enabled(features.STALE_CONTROLLER_CONSISTENCY_JOB):
        consistency_store = new_consistency_store(
            {
                POD_GROUP_RESOURCE: pod_informer.informer().get_store(),
                JOB_GROUP_RESOURCE: job_informer.informer().get_store(),
            }
        )

        def pod_write_callback(pod: V1Pod, owner: V1OwnerReference | None) -> None:
            if owner is None:
                return
            consistency_store.wrote_at(
                (pod.metadata.namespace or "", owner.name),
                owner.uid,
                POD_GROUP_RESOURCE,
                pod.metadata.resource_version or "",
            )

        jm.consistency_store = consistency_store

    jm.broadcaster = event_broadcaster
    jm.recorder = event_broadcaster.new_recorder("job-controller")
    jm.pod_control = _new_real_pod_control(
        kube_client, event_broadcaster.new_recorder("job-controller"), pod_write_callback
    )

    job_informer.informer().add_event_handler(
        ResourceEventHandlerFuncs(
            add_func=jm.add_job,
            update_func=jm.update_job,
            delete_func=jm.delete_job,
        )
    )
    jm.job_lister = job_informer.lister()
    jm.job_store_synced = job_informer.informer().has_synced

    pod_informer.informer().add_event_handler(
        ResourceEventHandlerFuncs(
            add_func=jm.add_pod,
            update_func=jm.update_pod,
            delete_func=lambda obj: jm.delete_pod(obj, True),
        )
    )
    jm.pod_store = pod_informer.lister()
    jm.pod_store_synced = pod_informer.informer().has_synced

    add_pod_controller_indexer(pod_informer.informer())
    jm.pod_indexer = pod_informer.informer().get_indexer()

    jm.update_status_handler = jm.update_job_status
    jm.sync_handler = jm.sync_job

    # Workload scheduling informers (alpha WorkloadWithJob) are out of scope.

    if registry is None:
        metrics.register()
    else:
        metrics.register(registry)
    return jm


def _new_real_pod_control(
    kube_client: Interface,
    recorder: EventRecorder,
    on_write: Callable[[V1Pod, V1OwnerReference | None], None] | None,
) -> PodControlInterface:
    return RealPodControl(kube_client, recorder, on_write=on_write)


def _until(stop: threading.Event, fn: Callable[[], None], period: float) -> None:
    """Port of wait.UntilWithContext (apimachinery pkg/util/wait/backoff.go): run ``fn`` every
    ``period`` until ``stop``."""
    while not stop.is_set():
        try:
            fn()
        except Exception as err:
            # wait.Until's crash handler logs the panic (and then crashes, which a worker
            # thread here does not).
            log.error(err, "Observed a panic")
        stop.wait(period)


def non_ignored_failed_pods_count(job_ctx: SyncJobCtx, failed_pods: Sequence[V1Pod]) -> int:
    """Port of nonIgnoredFailedPodsCount (pkg/controller/job/job_controller.go): failed pods minus
    those an Ignore rule matches."""
    result = len(failed_pods)
    policy = job_ctx.job.spec.pod_failure_policy
    if policy is not None:
        for p in failed_pods:
            _, count_failed, _ = match_pod_failure_policy(policy, p)
            if not count_failed:
                result -= 1
    return result


def can_remove_finalizer(job_ctx: SyncJobCtx, pod: V1Pod, consider_pod_failed: bool) -> bool:
    """Port of canRemoveFinalizer (pkg/controller/job/job_controller.go): may the pod's tracking
    finalizer go now?

    Yes when the Job is being deleted or finishing, or the pod succeeded; for a failed
    pod, unless it is the one kept to hand its index failure count to a replacement.
    """
    job = job_ctx.job
    if (
        job.metadata.deletion_timestamp is not None
        or job_ctx.finished_condition is not None
        or _phase(pod) == api.POD_SUCCEEDED
    ):
        return True
    if not consider_pod_failed:
        return False
    if indexed_job_utils.has_backoff_limit_per_index(job):
        index = indexed_job_utils.get_completion_index(_annotations(pod))
        if index != indexed_job_utils.UNKNOWN_COMPLETION_INDEX:
            delayed = job_ctx.pods_with_delayed_deletion_per_index or {}
            p = delayed.get(index)
            if p is not None and _uid(p) == _uid(pod):
                log.v(3).info(
                    "Delaying pod finalizer removal to await for pod recreation within the index",
                    "pod",
                    _kobj(pod),
                )
                return False
    return True


def clean_uncounted_pods_without_finalizers(
    status: V1JobStatus, uids_with_finalizer: set[str]
) -> bool:
    """Port of cleanUncountedPodsWithoutFinalizers (pkg/controller/job/job_controller.go): count
    UIDs whose finalizer is gone.

    Returns whether the status changed.
    """
    updated = False
    uncounted_status = status.uncounted_terminated_pods
    if uncounted_status is None:
        # Only a status written back without the (empty) field; nothing is uncounted.
        return False
    old_succeeded = uncounted_status.succeeded or []
    new_uncounted = filter_in_uncounted_uids(old_succeeded, uids_with_finalizer)
    if len(new_uncounted or ()) != len(old_succeeded):
        updated = True
        status.succeeded = (status.succeeded or 0) + len(old_succeeded) - len(new_uncounted or ())
        uncounted_status.succeeded = new_uncounted
    old_failed = uncounted_status.failed or []
    new_uncounted = filter_in_uncounted_uids(old_failed, uids_with_finalizer)
    if len(new_uncounted or ()) != len(old_failed):
        updated = True
        status.failed = (status.failed or 0) + len(old_failed) - len(new_uncounted or ())
        uncounted_status.failed = new_uncounted
    return updated


def filter_in_uncounted_uids(uncounted: Iterable[str], include: set[str]) -> list[str] | None:
    """Port of filterInUncountedUIDs (pkg/controller/job/job_controller.go): the UIDs in ``include``
    (None when empty, as Go's nil)."""
    new_uncounted = [uid for uid in uncounted if uid in include]
    return new_uncounted or None


def new_failed_condition_for_failure_target(
    condition: V1JobCondition, now: datetime
) -> V1JobCondition:
    """Port of newFailedConditionForFailureTarget (pkg/controller/job/job_controller.go): Failed,
    same reason and message."""
    return new_condition(
        api.JOB_FAILED, api.CONDITION_TRUE, condition.reason or "", condition.message or "", now
    )


def past_backoff_limit_on_failure(job: V1Job, pods: Sequence[V1Pod]) -> bool:
    """Port of pastBackoffLimitOnFailure (pkg/controller/job/job_controller.go): container restarts
    against backoffLimit.

    Only for restartPolicy OnFailure; sums restarts of running and pending pods.
    """
    template_spec = job.spec.template.spec
    if template_spec is None or template_spec.restart_policy != api.RESTART_POLICY_ON_FAILURE:
        return False
    result = 0
    for po in pods:
        if _phase(po) in (api.POD_RUNNING, api.POD_PENDING):
            assert po.status is not None
            for stat in po.status.init_container_statuses or ():
                result += stat.restart_count or 0
            for stat in po.status.container_statuses or ():
                result += stat.restart_count or 0
    backoff_limit = _deref(job.spec.backoff_limit)
    if backoff_limit == 0:
        return result > 0
    return result >= backoff_limit


def new_condition(
    condition_type: str, status: str, reason: str, message: str, now: datetime
) -> V1JobCondition:
    """Port of newCondition (pkg/controller/job/job_controller.go): a Job condition probed and
    transitioned at ``now``."""
    return V1JobCondition(
        type=condition_type,
        status=status,
        last_probe_time=now,
        last_transition_time=now,
        reason=reason,
        message=message,
    )


def get_fail_job_message(job: V1Job, pods: Iterable[V1Pod]) -> str | None:
    """Port of getFailJobMessage (pkg/controller/job/job_controller.go): the message of the first
    FailJob rule a failed pod hits."""
    policy = job.spec.pod_failure_policy
    if policy is None:
        return None
    for p in pods:
        if is_pod_failed(p, job):
            job_failure_message, _, _ = match_pod_failure_policy(policy, p)
            if job_failure_message is not None:
                return job_failure_message
    return None


def get_new_finished_pods(job_ctx: SyncJobCtx) -> tuple[list[V1Pod], list[V1Pod]]:
    """Port of getNewFinishedPods (pkg/controller/job/job_controller.go): the succeeded and
    the failed pods that the Job status does not count yet."""
    assert job_ctx.uncounted is not None
    succeeded_pods = get_valid_pods_with_filter(
        job_ctx, job_ctx.uncounted.succeeded_uids(), lambda p: _phase(p) == api.POD_SUCCEEDED
    )
    failed_pods = get_valid_pods_with_filter(
        job_ctx, job_ctx.uncounted.failed_uids(), lambda p: is_pod_failed(p, job_ctx.job)
    )
    return succeeded_pods, failed_pods


def get_new_finished_pods_fast(job_ctx: SyncJobCtx) -> tuple[list[V1Pod], list[V1Pod]]:
    """The same contract as ``get_new_finished_pods`` (just above), in one pass; ``sync_job``
    calls this one.

    Only a pod that succeeded, failed or is being deleted can pass either filter, and most
    pods are running, so those are passed over first; the remaining checks are those of
    ``get_valid_pods_with_filter``, inlined. The syncJob tables run through both versions.
    """
    assert job_ctx.uncounted is not None
    job = job_ctx.job
    uncounted_succeeded = job_ctx.uncounted.succeeded
    uncounted_failed = job_ctx.uncounted.failed
    expected_rm = job_ctx.expected_rm_finalizers
    indexed = indexed_job_utils.is_indexed_job(job)
    succeeded_pods: list[V1Pod] = []
    failed_pods: list[V1Pod] = []
    if len(job_ctx.active_pods) == len(job_ctx.pods):
        # active_pods is the active subset of pods (SyncJobCtx): every pod is active, so
        # none has finished or is being deleted.
        return succeeded_pods, failed_pods
    for p in job_ctx.pods:
        status = p.status
        phase = status.phase if status is not None else None
        meta = p.metadata
        if (
            phase != api.POD_SUCCEEDED
            and phase != api.POD_FAILED
            and (meta is None or meta.deletion_timestamp is None)
        ):
            continue
        finalizers = meta.finalizers if meta is not None else None
        if not finalizers or api.JOB_TRACKING_FINALIZER not in finalizers:
            continue
        uid = meta.uid or ""
        if uid in expected_rm:
            continue
        if indexed:
            idx = indexed_job_utils.get_completion_index(meta.annotations)
            if idx == indexed_job_utils.UNKNOWN_COMPLETION_INDEX or idx >= _deref(
                job.spec.completions
            ):
                continue
        if phase == api.POD_SUCCEEDED:
            if uid not in uncounted_succeeded:
                succeeded_pods.append(p)
        elif uid not in uncounted_failed and is_pod_failed(p, job):
            failed_pods.append(p)
    return succeeded_pods, failed_pods


def job_suspended(job: V1Job) -> bool:
    """Port of jobSuspended (pkg/controller/job/job_controller.go): is spec.suspend true?"""
    return bool(job.spec.suspend)


def active_pods_for_removal(job: V1Job, pods: list[V1Pod], rm_at_least: int) -> list[V1Pod]:
    """Port of activePodsForRemoval (pkg/controller/job/job_controller.go): the pods to delete
    first.

    For Indexed Jobs, pods with a repeated, invalid or missing index; then, up to
    ``rm_at_least``, the earliest-stage pods (not ready, unscheduled, pending first).
    Sorts the leftover list in place, as upstream.
    """
    rm: list[V1Pod] = []
    left: list[V1Pod]
    if indexed_job_utils.is_indexed_job(job):
        rm, left = indexed_job_utils.append_duplicated_index_pods_for_removal(
            [], [], pods, _deref(job.spec.completions)
        )
    else:
        left = pods
    if len(rm) < rm_at_least:
        sort_active_pods(left)
        rm.extend(left[: rm_at_least - len(rm)])
    return rm


def get_valid_pods_with_filter(
    job_ctx: SyncJobCtx, uncounted: set[str] | None, filter_fn: Callable[[V1Pod], bool]
) -> list[V1Pod]:
    """Port of getValidPodsWithFilter (pkg/controller/job/job_controller.go): the pods that
    still carry the tracking finalizer, are neither in ``uncounted`` nor awaiting finalizer
    removal, have (for Indexed Jobs) an index below completions, and pass ``filter_fn``."""
    result: list[V1Pod] = []
    for p in job_ctx.pods:
        # Without the finalizer a pod is counted already or sits in the uncounted lists.
        if (
            not has_job_tracking_finalizer(p)
            or (uncounted is not None and _uid(p) in uncounted)
            or _uid(p) in job_ctx.expected_rm_finalizers
        ):
            continue
        if indexed_job_utils.is_indexed_job(job_ctx.job):
            idx = indexed_job_utils.get_completion_index(_annotations(p))
            if idx == indexed_job_utils.UNKNOWN_COMPLETION_INDEX or idx >= _deref(
                job_ctx.job.spec.completions
            ):
                continue
        if filter_fn(p):
            result.append(p)
    return result


def get_completion_mode(job: V1Job) -> str:
    """Port of getCompletionMode (pkg/controller/job/job_controller.go): the completion mode label
    for metrics."""
    if indexed_job_utils.is_indexed_job(job):
        return api.INDEXED_COMPLETION
    return api.NON_INDEXED_COMPLETION


def append_job_completion_finalizer_if_not_found(finalizers: list[str] | None) -> list[str]:
    """Port of appendJobCompletionFinalizerIfNotFound (pkg/controller/job/job_controller.go): ensure
    the tracking finalizer."""
    finalizers = list(finalizers or [])
    if api.JOB_TRACKING_FINALIZER in finalizers:
        return finalizers
    finalizers.append(api.JOB_TRACKING_FINALIZER)
    return finalizers


_REMOVE_TRACKING_FINALIZER_PATCH = json.dumps(
    {"metadata": {"$deleteFromPrimitiveList/finalizers": [api.JOB_TRACKING_FINALIZER]}},
    separators=(",", ":"),
).encode()


def remove_tracking_finalizer_patch(pod: V1Pod) -> bytes | None:
    """Port of removeTrackingFinalizerPatch (pkg/controller/job/job_controller.go): strategic-merge
    patch dropping the finalizer.

    None when the pod does not carry it.
    """
    if not has_job_tracking_finalizer(pod):
        return None
    return _REMOVE_TRACKING_FINALIZER_PATCH


@dataclass
class UncountedTerminatedPods:
    """Port of uncountedTerminatedPods (pkg/controller/job/job_controller.go): the status's
    uncounted UIDs as sets."""

    succeeded: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)

    def succeeded_uids(self) -> set[str]:
        """Port of uncountedTerminatedPods.Succeeded (pkg/controller/job/job_controller.go)."""
        return self.succeeded

    def failed_uids(self) -> set[str]:
        """Port of uncountedTerminatedPods.Failed (pkg/controller/job/job_controller.go)."""
        return self.failed


def new_uncounted_terminated_pods(
    in_: V1UncountedTerminatedPods | None,
) -> UncountedTerminatedPods:
    """Port of newUncountedTerminatedPods (pkg/controller/job/job_controller.go): sets from the
    status lists."""
    if in_ is None:
        return UncountedTerminatedPods()
    return UncountedTerminatedPods(succeeded=set(in_.succeeded or ()), failed=set(in_.failed or ()))


def error_from_channel(err_ch: _queue.SimpleQueue[BaseException]) -> BaseException | None:
    """Port of errorFromChannel (pkg/controller/job/job_controller.go): the first queued error,
    without blocking."""
    try:
        return err_ch.get_nowait()
    except _queue.Empty:
        return None


def ensure_job_condition_status(
    conditions: list[V1JobCondition] | None,
    c_type: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
) -> tuple[list[V1JobCondition] | None, bool]:
    """Port of ensureJobConditionStatus (pkg/controller/job/job_controller.go): set a condition;
    report whether anything changed.

    An existing condition of the type is replaced when status, reason or message differ;
    a missing one is appended unless its status would be False.
    """
    if conditions is not None:
        for i, condition in enumerate(conditions):
            if condition.type == c_type:
                if (
                    condition.status != status
                    or (condition.reason or "") != reason
                    or (condition.message or "") != message
                ):
                    conditions[i] = new_condition(c_type, status, reason, message, now)
                    return conditions, True
                return conditions, False
    if status != api.CONDITION_FALSE:
        return [*(conditions or []), new_condition(c_type, status, reason, message, now)], True
    return conditions, False


def is_pod_failed(p: V1Pod, job: V1Job) -> bool:
    """Port of isPodFailed (pkg/controller/job/job_controller.go): the pod failed, or,
    unless only failed pods are replaced, it is being deleted without having succeeded
    (orphans that never reach Failed still count)."""
    if _phase(p) == api.POD_FAILED:
        return True
    if only_replace_failed_pods(job):
        return False
    # A deleted pod counts as failed.
    return _object_meta(p).deletion_timestamp is not None and _phase(p) != api.POD_SUCCEEDED


def find_condition_by_type(
    conditions: Sequence[V1JobCondition] | None, c_type: str
) -> V1JobCondition | None:
    """Port of findConditionByType (pkg/controller/job/job_controller.go): the first condition of a
    type."""
    for condition in conditions or ():
        if condition.type == c_type:
            return condition
    return None


def record_job_pod_finished(job: V1Job, old_counters: V1JobStatus) -> None:
    """Port of recordJobPodFinished (pkg/controller/job/job_controller.go): the
    job_pods_finished_total family of metrics.

    Indexed Jobs count succeeded indexes within completions, so scaling an elastic
    Job down does not count previously completed, now out-of-range indexes.
    """
    completion_mode = indexed_job_utils.completion_mode_str(job)
    status = job.status
    assert status is not None
    diff = 0
    if indexed_job_utils.is_indexed_job(job):
        completions = _deref(job.spec.completions)
        if status.completed_indexes != old_counters.completed_indexes:
            diff = indexes_count(status.completed_indexes or "", completions) - indexes_count(
                old_counters.completed_indexes or "", completions
            )
        backoff_limit_label = backoff_limit_metrics_label(job)
        _add(
            metrics.job_finished_indexes_total.labels(metrics.SUCCEEDED, backoff_limit_label), diff
        )
        if indexed_job_utils.has_backoff_limit_per_index(job) and status.failed_indexes != (
            old_counters.failed_indexes
        ):
            failed_diff = indexes_count(status.failed_indexes, completions) - indexes_count(
                old_counters.failed_indexes, completions
            )
            if failed_diff > 0:
                metrics.job_finished_indexes_total.labels(metrics.FAILED, backoff_limit_label).inc(
                    failed_diff
                )
    else:
        diff = (status.succeeded or 0) - (old_counters.succeeded or 0)
    _add(metrics.job_pods_finished.labels(completion_mode, metrics.SUCCEEDED), diff)

    diff = (status.failed or 0) - (old_counters.failed or 0)
    _add(metrics.job_pods_finished.labels(completion_mode, metrics.FAILED), diff)


def _add(counter: Any, value: float) -> None:
    """Counter.Add for a difference of counters.

    The difference is normally >= 0; prometheus_client raises on a negative increment
    (Go's client panics), so a negative one is dropped instead.
    """
    if value > 0:
        counter.inc(value)


def indexes_count(indexes_str: str | None, completions: int) -> int:
    """Port of indexesCount (pkg/controller/job/job_controller.go): how many indexes a status string
    lists."""
    if indexes_str is None:
        return 0
    total: int = indexed_job_utils.parse_indexes_from_string(indexes_str, completions).total()
    return total


def backoff_limit_metrics_label(job: V1Job) -> str:
    """Port of backoffLimitMetricsLabel (pkg/controller/job/job_controller.go): "perIndex" or
    "global"."""
    if indexed_job_utils.has_backoff_limit_per_index(job):
        return "perIndex"
    return "global"


def record_job_pod_failure_policy_actions(
    pod_failure_count_by_policy_action: dict[str, int],
) -> None:
    """Port of recordJobPodFailurePolicyActions (pkg/controller/job/job_controller.go):
    pod_failures_handled_by_failure_policy."""
    for action, count in pod_failure_count_by_policy_action.items():
        metrics.pod_failures_handled_by_failure_policy.labels(action).inc(count)


def count_ready_pods(pods: Iterable[V1Pod]) -> int:
    """Port of countReadyPods (pkg/controller/job/job_controller.go): pods with Ready=True."""
    cnt = 0
    for p in pods:
        if is_pod_ready(p):
            cnt += 1
    return cnt


def count_ready_pods_fast(pods: Iterable[V1Pod]) -> int:
    """The same contract as ``count_ready_pods`` (just above); ``sync_job`` calls this one,
    over the list ``filter_active_pods_fast`` returned, which already knows its count
    (``ActivePodList.ready_count``, counted while the pods were filtered). Any other list
    is counted by ``count_ready_pods``."""
    if type(pods) is ActivePodList and pods.ready_count is not None:
        return pods.ready_count
    return count_ready_pods(pods)


def only_replace_failed_pods(job: V1Job) -> bool:
    """Port of onlyReplaceFailedPods (pkg/controller/job/job_controller.go): podReplacementPolicy is
    Failed.

    Then terminating pods are replaced only once they reach a terminal phase.
    """
    return bool(job.spec.pod_replacement_policy == api.FAILED)


def record_job_pods_creation_total(
    job: V1Job, job_ctx: SyncJobCtx, succeeded: int, failed: int
) -> None:
    """Port of recordJobPodsCreationTotal (pkg/controller/job/job_controller.go):
    job_pods_creation_total by reason."""
    reason = metrics.POD_CREATE_NEW
    replacement_policy = job.spec.pod_replacement_policy or api.TERMINATING_OR_FAILED
    if replacement_policy == api.FAILED and job_ctx.failed > 0:
        reason = metrics.POD_RECREATE_FAILED
    elif job_ctx.failed > 0 or (job_ctx.terminating or 0) > 0:
        reason = metrics.POD_RECREATE_TERMINATING_OR_FAILED
    if succeeded > 0:
        metrics.job_pods_creation_total.labels(reason, metrics.SUCCEEDED).inc(succeeded)
    if failed > 0:
        metrics.job_pods_creation_total.labels(reason, metrics.FAILED).inc(failed)


def managed_by_external_controller(
    job_obj: V1Job, controller_name: str = api.JOB_CONTROLLER_NAME
) -> str | None:
    """Port of managedByExternalController (pkg/controller/job/job_controller.go): the foreign
    manager's name, or None.

    Upstream compares spec.managedBy with ``kubernetes.io/job-controller``; here the
    comparison is with ``controller_name``, and an unset managedBy stands for the
    default controller.
    """
    if features.DEFAULT_FEATURE_GATE.enabled(features.JOB_MANAGED_BY):
        managed_by = job_obj.spec.managed_by if job_obj.spec is not None else None
        effective = managed_by if managed_by is not None else api.JOB_CONTROLLER_NAME
        if effective != controller_name:
            return effective
    return None
