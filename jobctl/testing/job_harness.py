"""A harness for single-sync Job controller tests.

It wires what upstream's job_controller_test.go wires by hand: a ``FakeClientset``, a
shared informer factory whose caches the test fills directly (the informers are never
started), a controller on a ``FakeClock`` with a ``FakePodControl``, a ``FakeRecorder``
and an ``update_status_handler`` that records every status written. A test then reads::

    h = JobHarness()
    job = new_job(2, 5, 6)
    h.add_job(job)
    h.add_pods(new_pod_list(1, "Running", job))
    result = h.sync(job)
    assert len(result.created) == 1
    assert result.counts.active == 2

``SyncResult.patches`` name the pod each patch went to (``raw_patches`` keeps the bytes
alone) and ``SyncResult.counts`` reads the written status as Go does (0 when unset);
``JobHarness(pod_events=True)`` records RealPodControl's SuccessfulCreate and
SuccessfulDelete events. The pytest plugin (``jobctl.testing.pytest_plugin``) wraps the
harness in fixtures; docs/TESTING.md walks through it.

It also holds the helpers the ported tables share: ``z`` (a model with Go zero values
for required fields), ``set_pods_statuses``/``set_pods_statuses_with_indexes``
(upstream's setPodsStatuses/setPodsStatusesWithIndexes), ``JobInitialStatus``,
``FakeJobExpectations``, ``status_view``/``conditions_view`` (Go-style equality of
statuses and conditions) and ``errors_is``.

Queue-timing tests step the fake clock with ``step``/``await_for_queue_len``; these wait
(bounded, in real time) for the workqueue's delaying loops to settle, never sleep.
"""

from __future__ import annotations

import types
import typing
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from kubernetes.client import (
    V1ContainerState,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1Job,
    V1JobCondition,
    V1JobStatus,
    V1Pod,
    V1PodCondition,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
)
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from jobctl.controller.controller_utils import KEY_FUNC, FakePodControl
from jobctl.expectations.controller_expectations import (
    ControllerExpectations,
    new_controller_expectations,
)
from jobctl.informers.factory import SharedInformerFactory
from jobctl.job.job_controller import Controller, new_controller_with_clock
from jobctl.k8s_libs.clock import FakeClock
from jobctl.record.fake import FakeRecorder, new_fake_recorder
from jobctl.testing.builders import (
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_TRACKING_FINALIZER,
    NO_INDEX,
    TEST_FINISHED_AT,
    IndexPhase,
    new_pod,
    new_pod_list,
    rand_string,
)
from jobctl.testing.fake_clientset import FakeClientset
from jobctl.testing.pod_control import CreatedPod, PodPatch, RecordingPodControl

M = TypeVar("M", bound=BaseModel)

_ZERO_BY_TYPE: dict[Any, Any] = {str: "", int: 0, bool: False, float: 0.0}


def _zero_for(annotation: Any) -> Any:
    """Go's zero value for a required field of a model."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _zero_for(args[0])
    if origin is list:
        return []
    if origin is dict:
        return {}
    if annotation in _ZERO_BY_TYPE:
        return _ZERO_BY_TYPE[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return z(annotation)
    return None


# Fields that are embedded structs (not pointers) in Go: a Go zero value has them.
_GO_STRUCT_FIELDS: dict[str, tuple[str, ...]] = {
    "V1Job": ("metadata", "spec", "status"),
    "V1JobSpec": ("template",),
    "V1PodTemplateSpec": ("metadata", "spec"),
    "V1Pod": ("metadata", "spec", "status"),
}


def z(model: type[M], **kwargs: Any) -> M:
    """Build ``model`` from ``kwargs`` with Go's zero values for what is left out.

    Upstream tables omit fields such as ``ContainerStatus.Name`` that the Python models
    require, and rely on embedded structs (``Job.Spec``) existing.
    """
    value_fields = _GO_STRUCT_FIELDS.get(model.__name__, ())
    for name, info in model.model_fields.items():
        if name in kwargs:
            continue
        if info.is_required() or name in value_fields:
            kwargs[name] = _zero_for(info.annotation)
    return model(**kwargs)


@dataclass
class JobInitialStatus:
    """Port of jobInitialStatus: the status a TestControllerSyncJob case starts from."""

    active: int = 0
    succeed: int = 0
    failed: int = 0
    start_time: datetime | None = None
    conditions: list[V1JobCondition] = field(default_factory=list)


def _finished_container_status() -> list[Any]:
    return [
        z(
            V1ContainerStatus,
            state=V1ContainerState(
                terminated=z(V1ContainerStateTerminated, finished_at=TEST_FINISHED_AT)
            ),
        )
    ]


def set_pods_statuses(
    pod_indexer: Any,
    job: V1Job,
    pending_pods: int,
    active_pods: int,
    succeeded_pods: int,
    failed_pods: int,
    terminating_pods: int,
    ready_pods: int,
    now: datetime | None = None,
) -> None:
    """Port of setPodsStatuses: add pods in each phase (and ready/terminating ones)."""
    for pod in new_pod_list(pending_pods, "Pending", job):
        pod_indexer.add(pod)
    running = new_pod_list(active_pods, "Running", job)
    for i, p in enumerate(running):
        if i >= ready_pods:
            break
        assert p.status is not None
        p.status.conditions = [
            *(p.status.conditions or []),
            V1PodCondition(type="Ready", status="True"),
        ]
    for pod in running:
        pod_indexer.add(pod)
    for pod in new_pod_list(succeeded_pods, "Succeeded", job):
        pod_indexer.add(pod)
    for pod in new_pod_list(failed_pods, "Failed", job):
        pod_indexer.add(pod)
    terminating = new_pod_list(terminating_pods, "Running", job)
    for p in terminating:
        assert p.metadata is not None
        p.metadata.deletion_timestamp = now if now is not None else datetime.now(UTC)
    for pod in terminating:
        pod_indexer.add(pod)


def set_pods_statuses_with_indexes(
    pod_indexer: Any, job: V1Job, status: Iterable[IndexPhase]
) -> None:
    """Port of setPodsStatusesWithIndexes: one tracked pod per (index, phase)."""
    assert job.metadata is not None
    for s in status:
        p = new_pod(f"pod-{rand_string(10)}", job)
        p.status = V1PodStatus(phase=s.phase)
        if s.phase in ("Failed", "Succeeded"):
            p.status.container_statuses = _finished_container_status()
        assert p.metadata is not None
        if s.index != NO_INDEX:
            p.metadata.annotations = {JOB_COMPLETION_INDEX_ANNOTATION: s.index}
            if p.spec is None:
                p.spec = V1PodSpec(containers=[])
            p.spec.hostname = f"{job.metadata.name}-{s.index}"
        p.metadata.finalizers = [*(p.metadata.finalizers or []), JOB_TRACKING_FINALIZER]
        pod_indexer.add(p)


def conditions_view(
    conditions: Sequence[V1JobCondition] | None,
) -> list[tuple[str, str, str, str]]:
    """Conditions as (type, status, reason, message): compare ignoring the timestamps."""
    return [(c.type, c.status, c.reason or "", c.message or "") for c in conditions or ()]


def status_view(status: V1JobStatus | None) -> dict[str, Any]:
    """A Job status with Go's equalities: unset counters are 0, unset lists are empty.

    Pointer fields (ready, terminating, failedIndexes, uncountedTerminatedPods) keep None
    apart from zero values; condition timestamps are dropped (see ``conditions_view``).
    """
    if status is None:
        return {}
    uncounted = status.uncounted_terminated_pods
    return {
        "active": status.active or 0,
        "succeeded": status.succeeded or 0,
        "failed": status.failed or 0,
        "ready": status.ready,
        "terminating": status.terminating,
        "completed_indexes": status.completed_indexes or "",
        "failed_indexes": status.failed_indexes,
        "start_time": status.start_time,
        "completion_time": status.completion_time,
        "conditions": conditions_view(status.conditions),
        "uncounted_terminated_pods": None
        if uncounted is None
        else {"succeeded": list(uncounted.succeeded or ()), "failed": list(uncounted.failed or ())},
    }


@dataclass(frozen=True)
class StatusCounts:
    """A Job status's counters read as Go reads them: an unset counter is 0.

    ``ready`` and ``terminating`` are pointers in Go; they read 0 here too, as
    ``ptr.Deref(x, 0)`` does. The index sets read "" when unset.
    """

    active: int = 0
    succeeded: int = 0
    failed: int = 0
    ready: int = 0
    terminating: int = 0
    completed_indexes: str = ""
    failed_indexes: str = ""

    @classmethod
    def of(cls, status: V1JobStatus | None) -> StatusCounts:
        """The counters of ``status`` (all zero for None)."""
        if status is None:
            return cls()
        return cls(
            active=status.active or 0,
            succeeded=status.succeeded or 0,
            failed=status.failed or 0,
            ready=status.ready or 0,
            terminating=status.terminating or 0,
            completed_indexes=status.completed_indexes or "",
            failed_indexes=status.failed_indexes or "",
        )


@dataclass
class SyncResult:
    """What one ``JobHarness.sync`` did.

    ``created`` holds the pod templates the controller asked for (``created_pods`` the
    same with the names the API server would give); ``deleted`` the names of the pods it
    deleted; ``patches`` every pod patch with its pod's name (``raw_patches`` the bytes
    only, as upstream's FakePodControl records them); ``events`` the events recorded
    ("Type Reason Message"); ``statuses`` every status written, ``job`` the last Job
    written; ``error`` what ``sync_job`` raised. ``counts`` reads the last status
    written as Go does (0 when unset).
    """

    created: list[V1PodTemplateSpec]
    deleted: list[str]
    patches: list[PodPatch]
    events: list[str]
    statuses: list[V1JobStatus]
    job: V1Job | None
    error: BaseException | None
    created_pods: list[CreatedPod] = field(default_factory=list)

    @property
    def status(self) -> V1JobStatus | None:
        """The last status written, if any."""
        return self.statuses[-1] if self.statuses else None

    @property
    def raw_patches(self) -> list[bytes]:
        """The patch bytes alone, in the order they were sent."""
        return [p.data for p in self.patches]

    @property
    def patched_pods(self) -> list[str]:
        """The names of the pods patched, in the order they were patched."""
        return [p.name for p in self.patches]

    @property
    def counts(self) -> StatusCounts:
        """The counters of the last status written, read as Go's (0 when unset)."""
        return StatusCounts.of(self.status)


class JobHarness:
    """A Job controller over fakes, synced one key at a time (see the module docstring)."""

    def __init__(
        self,
        *objects: BaseModel,
        clock: FakeClock | None = None,
        now: datetime | None = None,
        controller_name: str | None = None,
        pod_control: FakePodControl | None = None,
        fake_pod_control: bool = True,
        capture_status: bool = True,
        pod_events: bool = False,
        name_seed: str | int | None = None,
    ) -> None:
        """``fake_pod_control=False`` keeps the controller's RealPodControl (writes go to
        the fake clientset); ``capture_status=False`` keeps the real status writer;
        ``pod_events=True`` makes the fake pod control record SuccessfulCreate and
        SuccessfulDelete events as RealPodControl does (upstream's fake records none);
        ``name_seed`` makes the generated pod names repeatable."""
        self.client = FakeClientset(*objects)
        self.clock = clock if clock is not None else FakeClock(now or datetime.now(UTC))
        self.factory = SharedInformerFactory(self.client, 0)
        self.registry = CollectorRegistry()
        kwargs: dict[str, Any] = {}
        if controller_name is not None:
            kwargs["controller_name"] = controller_name
        self.controller: Controller = new_controller_with_clock(
            self.factory.core().v1().pods(),
            self.factory.batch().v1().jobs(),
            self.client,
            self.clock,
            registry=self.registry,
            **kwargs,
        )
        self.pod_control = pod_control if pod_control is not None else FakePodControl()
        self.recorder: FakeRecorder = new_fake_recorder(0)
        self.controller.recorder = self.recorder
        # Wraps the fake: names the pods patched and created, and records pod events.
        self.recording = RecordingPodControl(
            self.pod_control, self.recorder if pod_events else None, seed=name_seed
        )
        if fake_pod_control:
            self.controller.pod_control = self.recording
        self.controller.pod_store_synced = lambda: True
        self.controller.job_store_synced = lambda: True
        self.statuses: list[V1JobStatus] = []
        self.written: V1Job | None = None
        self.status_error: BaseException | None = None
        if capture_status:
            self.controller.update_status_handler = self._update_status
        # The queues run a thread each; stop them when the harness goes away.
        self._finalizer = weakref.finalize(
            self, _shut_down_queues, self.controller.queue, self.controller.orphan_queue
        )

    def close(self) -> None:
        """Shut the controller's queues down (also done when the harness is collected)."""
        self._finalizer()

    def __enter__(self) -> JobHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _delaying_queues(self) -> list[Any]:
        queues = (self.controller.queue, self.controller.orphan_queue)
        return [q._delaying_queue for q in queues if hasattr(q, "_delaying_queue")]

    def settle(self) -> None:
        """Wait (bounded, real time) until the queues' delaying loops took every hand-off
        and sleep on the fake clock again.

        Reads the delaying queue's loop state, as the workqueue's own tests do.
        """
        for dq in self._delaying_queues():
            with dq._cond:
                idle = dq._cond.wait_for(
                    lambda dq=dq: dq._loop_waiting and not dq._waiting_for_add, 5.0
                )
            if not idle:
                raise AssertionError("a workqueue delaying loop did not settle")

    def step(self, seconds: float) -> None:
        """Advance the fake clock and let the queues move what became due."""
        self.settle()
        waiting = self.clock.waiter_count()
        self.clock.step(seconds)
        # Loops whose timer fired come back to wait once they moved the due items.
        if not self.clock.wait_for_waiters(waiting, timeout=5.0):
            raise AssertionError("the workqueue loops did not come back to wait")
        self.settle()

    def await_for_queue_len(self, want: int, step: float = 0.01, max_steps: int = 100) -> None:
        """Port of awaitForQueueLen: step the clock until the job queue holds ``want``."""
        self.verify_empty_queue()
        for _ in range(max_steps):
            if self.controller.queue.len() == want:
                return
            self.step(step)
        raise AssertionError(
            f"queue.len() = {self.controller.queue.len()}, want {want} "
            f"after {max_steps} steps of {step}s"
        )

    def verify_empty_queue(self) -> None:
        """Port of verifyEmptyQueue."""
        self.settle()
        assert self.controller.queue.len() == 0, (
            f"unexpected queue.len(): want 0, got {self.controller.queue.len()}"
        )

    def _update_status(self, job: V1Job) -> V1Job:
        assert job.status is not None
        self.statuses.append(job.status.model_copy(deep=True))
        self.written = job
        if self.status_error is not None:
            raise self.status_error
        return job

    @property
    def job_indexer(self) -> Any:
        """The Job informer's cache."""
        return self.factory.batch().v1().jobs().informer().get_indexer()

    @property
    def pod_indexer(self) -> Any:
        """The pod informer's cache."""
        return self.factory.core().v1().pods().informer().get_indexer()

    def add_job(self, job: V1Job) -> V1Job:
        """Put a Job straight into the informer cache."""
        self.job_indexer.add(job)
        return job

    def add_pods(self, pods: Iterable[V1Pod]) -> None:
        """Put pods straight into the informer cache."""
        for pod in pods:
            self.pod_indexer.add(pod)

    def key(self, job: V1Job) -> str:
        """The queue key of a Job."""
        key: str = KEY_FUNC(job)
        return key

    def events(self) -> list[str]:
        """Drain the events recorded so far ("Type Reason Message")."""
        return self.recorder.drain()

    def sync(self, job: V1Job | str) -> SyncResult:
        """Run ``sync_job`` once and report what it did (since the previous sync)."""
        key = job if isinstance(job, str) else self.key(job)
        first_status = len(self.statuses)
        pc = self.pod_control
        rec = self.recording
        with pc.lock:
            n_created, n_deleted = len(pc.templates), len(pc.delete_pod_name)
        with rec.lock:
            n_patches, n_named = len(rec.patched), len(rec.created)
        error: BaseException | None = None
        try:
            self.controller.sync_job(key)
        except Exception as err:
            error = err
        with pc.lock:
            created = list(pc.templates[n_created:])
            deleted = list(pc.delete_pod_name[n_deleted:])
        with rec.lock:
            patches = list(rec.patched[n_patches:])
            created_pods = list(rec.created[n_named:])
        return SyncResult(
            created=created,
            deleted=deleted,
            patches=patches,
            events=self.events(),
            statuses=self.statuses[first_status:],
            job=self.written,
            error=error,
            created_pods=created_pods,
        )

    def sync_ok(self, job: V1Job | str) -> SyncResult:
        """``sync`` that fails the test on error."""
        result = self.sync(job)
        if result.error is not None:
            raise AssertionError(f"unexpected sync error: {result.error!r}") from result.error
        return result


def _shut_down_queues(*queues: Any) -> None:
    for q in queues:
        q.shut_down()


class FakeJobExpectations(ControllerExpectations):
    """Port of FakeJobExpectations: a fixed answer, with a hook run whenever asked."""

    def __init__(self, satisfied: bool, exp_satisfied: Callable[[], None]) -> None:
        super().__init__(new_controller_expectations().store)
        self.satisfied = satisfied
        self.exp_satisfied = exp_satisfied

    def satisfied_expectations(self, controller_key: str) -> bool:
        self.exp_satisfied()
        return self.satisfied


def error_chain(err: BaseException | None) -> list[BaseException]:
    """The error and its causes (Go's errors.Is walks the same chain)."""
    chain: list[BaseException] = []
    while err is not None and err not in chain:
        chain.append(err)
        err = err.__cause__
    return chain


def errors_is(err: BaseException | None, target: BaseException | None) -> bool:
    """Port of errors.Is for wrapped exceptions: ``target`` somewhere in the chain."""
    if target is None:
        return err is None
    return any(e is target for e in error_chain(err))
