"""A stand-in for kubelet: moves pods through their phases on a real API server.

There is no kubelet (and no scheduler) in the local control plane. The simulator
watches pods and, after delays, writes the status a kubelet would write:
Pending -> Running (Ready) -> Succeeded or Failed with a container exit code. It also
plays the kubelet's part in graceful deletion: a pod bound to a node (``spec.nodeName``
set, e.g. in the Job's pod template) that gets a deletion timestamp is marked Failed
after its grace period (capped) and then removed with a zero grace period.

Behaviour is asked for with annotations on the pod template (all optional):

``sim.jobctl.dev/start-after``      seconds Pending before Running (default 0.1)
``sim.jobctl.dev/run-for``          seconds Running before finishing (default 0.5)
``sim.jobctl.dev/run-for-by-index`` ``"0=1,2=30"``: run-for for completion indexes
``sim.jobctl.dev/exit-code``        container exit code; 0 = Succeeded (default 0)
``sim.jobctl.dev/exit-codes-by-index``  ``"2=42,5=1"``: exit code for completion indexes
``sim.jobctl.dev/exit-script``      per-attempt exit codes: ``"*=1;0"`` (every index, or a
                                    non-indexed Job: the first pod exits 1, later ones 0),
                                    ``"2=42;0,3=1"`` (index 2: 42 then 0; index 3: always 1).
                                    Attempts are counted per Job and index; past the end of
                                    a list its last code repeats. Overrides ``exit-code``.
``sim.jobctl.dev/condition``        a pod condition type (e.g. ``DisruptionTarget``) set
                                    True on failed pods
``sim.jobctl.dev/stay-pending``     ``"true"``: never start
``sim.jobctl.dev/termination-seconds``  cap on the grace period honoured (default 0.2)

Tests that need exact control set pod status themselves instead.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kubernetes.client import (
    V1ContainerState,
    V1ContainerStateRunning,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1Pod,
    V1PodCondition,
    V1PodStatus,
)

from jobctl.client import errors
from jobctl.client.interface import (
    ADDED,
    DELETED,
    ERROR,
    MODIFIED,
    DeleteOptions,
    Interface,
    ListOptions,
)
from jobctl.k8s_libs.api import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    CONTAINERS_READY,
    JOB_COMPLETION_INDEX_ANNOTATION,
    POD_FAILED,
    POD_PENDING,
    POD_READY,
    POD_RUNNING,
    POD_SCHEDULED,
    POD_SUCCEEDED,
)
from jobctl.k8s_libs.clock import Clock, RealClock

log = logging.getLogger(__name__)

ANNOTATION_PREFIX = "sim.jobctl.dev/"
START_AFTER = ANNOTATION_PREFIX + "start-after"
RUN_FOR = ANNOTATION_PREFIX + "run-for"
RUN_FOR_BY_INDEX = ANNOTATION_PREFIX + "run-for-by-index"
EXIT_CODE = ANNOTATION_PREFIX + "exit-code"
EXIT_CODES_BY_INDEX = ANNOTATION_PREFIX + "exit-codes-by-index"
EXIT_SCRIPT = ANNOTATION_PREFIX + "exit-script"
CONDITION = ANNOTATION_PREFIX + "condition"
STAY_PENDING = ANNOTATION_PREFIX + "stay-pending"
TERMINATION_SECONDS = ANNOTATION_PREFIX + "termination-seconds"

_STEP_RUN = "run"
_STEP_FINISH = "finish"
_STEP_TERMINATE = "terminate"


def _float(annotations: dict[str, str], key: str, default: float) -> float:
    try:
        return float(annotations.get(key, default))
    except ValueError:
        log.warning("pod simulator: bad %s=%r, using %s", key, annotations.get(key), default)
        return default


def _int(annotations: dict[str, str], key: str, default: int) -> int:
    try:
        return int(annotations.get(key, default))
    except ValueError:
        log.warning("pod simulator: bad %s=%r, using %s", key, annotations.get(key), default)
        return default


def _by_index(annotations: dict[str, str], key: str, index: str | None) -> str | None:
    """Value for ``index`` in a ``"i=v,j=w"`` annotation, if any."""
    for part in filter(None, (p.strip() for p in annotations.get(key, "").split(","))):
        name, _, value = part.partition("=")
        if index is not None and name.strip() == index:
            return value.strip()
    return None


def _run_for(pod: V1Pod) -> float:
    annotations = pod.metadata.annotations or {}
    value = _by_index(annotations, RUN_FOR_BY_INDEX, _completion_index(pod))
    if value is not None:
        try:
            return float(value)
        except ValueError:
            log.warning("pod simulator: bad %s value %r", RUN_FOR_BY_INDEX, value)
    return _float(annotations, RUN_FOR, 0.5)


def _completion_index(pod: V1Pod) -> str | None:
    annotations = pod.metadata.annotations or {}
    return annotations.get(JOB_COMPLETION_INDEX_ANNOTATION)


def _owner_uid(pod: V1Pod) -> str:
    for ref in pod.metadata.owner_references or []:
        if ref.controller:
            return str(ref.uid)
    return ""


@dataclass(order=True)
class _Step:
    due: datetime
    seq: int
    kind: str = field(compare=False)
    namespace: str = field(compare=False)
    name: str = field(compare=False)
    uid: str = field(compare=False)


class PodSimulator:
    """Watches pods through a clientset and plays kubelet for them."""

    def __init__(
        self,
        client: Interface,
        namespace: str = "",
        clock: Clock | None = None,
        on_error: Callable[[Exception], None] | None = None,
        observer: Callable[[str, V1Pod], None] | None = None,
    ) -> None:
        """``observer(event_type, pod)``, if given, sees every pod the simulator lists or
        watches (``ADDED`` for listed pods), before the simulator acts on it."""
        self._client = client
        self._observer = observer
        self._namespace = namespace
        self._clock: Clock = clock or RealClock()
        self._on_error = on_error
        self._cond = threading.Condition()
        self._steps: list[_Step] = []
        self._seq = itertools.count()
        self._scheduled: set[tuple[str, str]] = set()
        self._attempts: dict[tuple[str, str], int] = defaultdict(int)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watch: object | None = None

    # ---- lifecycle -----------------------------------------------------------------

    def start(self) -> PodSimulator:
        for target in (self._watch_loop, self._step_loop):
            thread = threading.Thread(target=target, name=f"pod-sim-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        watch = self._watch
        if watch is not None:
            watch.stop()  # type: ignore[attr-defined]
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> PodSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- watching ------------------------------------------------------------------

    def _watch_loop(self) -> None:
        pods = self._client.core_v1().pods(self._namespace)
        resource_version = ""
        while not self._stop.is_set():
            try:
                if not resource_version:
                    page = pods.list(ListOptions())
                    for pod in page.items:
                        self._notify(ADDED, pod)
                        self._observe(pod)
                    resource_version = page.resource_version
                watch = pods.watch(
                    ListOptions(resource_version=resource_version, timeout_seconds=300)
                )
                self._watch = watch
                for event in watch:
                    if self._stop.is_set():
                        break
                    if event.type == ERROR:
                        resource_version = ""
                        break
                    if event.type in (ADDED, MODIFIED, DELETED):
                        self._notify(event.type, event.object)
                    if event.type in (ADDED, MODIFIED):
                        self._observe(event.object)
                    elif event.type == DELETED:
                        self._forget(str(event.object.metadata.uid))
                    if event.type != DELETED and event.object.metadata is not None:
                        resource_version = event.object.metadata.resource_version or ""
            except Exception as err:  # the simulator must outlive apiserver restarts
                if self._stop.is_set():
                    return
                log.info("pod simulator: watch failed (%s); retrying", err)
                resource_version = ""
                self._stop.wait(0.5)

    def _notify(self, event_type: str, pod: V1Pod) -> None:
        if self._observer is not None:
            try:
                self._observer(event_type, pod)
            except Exception:  # an observer's bug must not stop the kubelet stand-in
                log.exception("pod simulator: observer failed")

    def _observe(self, pod: V1Pod) -> None:
        meta = pod.metadata
        status = pod.status or V1PodStatus()
        annotations = meta.annotations or {}
        if status.phase in (POD_SUCCEEDED, POD_FAILED):
            if meta.deletion_timestamp is not None:
                self._schedule(_STEP_TERMINATE, pod, 0.0)
            return
        if meta.deletion_timestamp is not None:
            grace = float(meta.deletion_grace_period_seconds or 0)
            cap = _float(annotations, TERMINATION_SECONDS, 0.2)
            self._schedule(_STEP_TERMINATE, pod, min(grace, cap))
            return
        if annotations.get(STAY_PENDING) == "true":
            return
        if status.phase in (None, POD_PENDING):
            self._schedule(_STEP_RUN, pod, _float(annotations, START_AFTER, 0.1))
        elif status.phase == POD_RUNNING:
            self._schedule(_STEP_FINISH, pod, _run_for(pod))

    def _forget(self, uid: str) -> None:
        for kind in (_STEP_RUN, _STEP_FINISH, _STEP_TERMINATE):
            self._scheduled.discard((uid, kind))

    def _schedule(self, kind: str, pod: V1Pod, delay: float) -> None:
        uid = str(pod.metadata.uid)
        if (uid, kind) in self._scheduled:
            return
        self._scheduled.add((uid, kind))
        step = _Step(
            due=self._clock.now() + timedelta(seconds=delay),
            seq=next(self._seq),
            kind=kind,
            namespace=pod.metadata.namespace,
            name=pod.metadata.name,
            uid=uid,
        )
        with self._cond:
            heapq.heappush(self._steps, step)
            self._cond.notify_all()

    # ---- acting --------------------------------------------------------------------

    def _step_loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                if not self._steps:
                    self._clock.wait_on(self._cond, 1.0)
                    continue
                wait = (self._steps[0].due - self._clock.now()).total_seconds()
                if wait > 0:
                    self._clock.wait_on(self._cond, wait)
                    continue
                step = heapq.heappop(self._steps)
            try:
                self._act(step)
            except Exception as err:
                # Forget the step so the next list or watch event schedules it again.
                self._scheduled.discard((step.uid, step.kind))
                log.warning(
                    "pod simulator: %s %s/%s failed: %s", step.kind, step.namespace, step.name, err
                )
                if self._on_error is not None:
                    self._on_error(err)

    def _act(self, step: _Step) -> None:
        pods = self._client.core_v1().pods(step.namespace)
        for _attempt in range(5):
            try:
                pod = pods.get(step.name)
            except errors.StatusError as err:
                if errors.is_not_found(err):
                    return
                raise
            if str(pod.metadata.uid) != step.uid:
                return
            try:
                if step.kind == _STEP_TERMINATE:
                    self._terminate(pod)
                elif step.kind == _STEP_RUN:
                    self._run(pod)
                else:
                    self._finish(pod)
                return
            except errors.StatusError as err:
                if errors.is_conflict(err):
                    continue
                if errors.is_not_found(err):
                    return
                raise

    def _now(self) -> datetime:
        return self._clock.now().replace(microsecond=0)

    def _run(self, pod: V1Pod) -> None:
        if pod.metadata.deletion_timestamp is not None or (
            pod.status and pod.status.phase not in (None, POD_PENDING)
        ):
            return
        now = self._now()
        containers = pod.spec.containers or []
        pod.status = V1PodStatus(
            phase=POD_RUNNING,
            start_time=now,
            conditions=[
                V1PodCondition(type=POD_READY, status=CONDITION_TRUE, last_transition_time=now),
                V1PodCondition(
                    type=CONTAINERS_READY, status=CONDITION_TRUE, last_transition_time=now
                ),
                V1PodCondition(type=POD_SCHEDULED, status=CONDITION_TRUE, last_transition_time=now),
            ],
            container_statuses=[
                V1ContainerStatus(
                    name=c.name,
                    image=c.image or "",
                    image_id="",
                    ready=True,
                    restart_count=0,
                    started=True,
                    state=V1ContainerState(running=V1ContainerStateRunning(started_at=now)),
                )
                for c in containers
            ],
        )
        self._client.core_v1().pods(pod.metadata.namespace).update_status(pod)
        self._scheduled.discard((str(pod.metadata.uid), _STEP_FINISH))
        self._schedule(_STEP_FINISH, pod, _run_for(pod))

    def _exit_code(self, pod: V1Pod) -> int:
        annotations = pod.metadata.annotations or {}
        code = _int(annotations, EXIT_CODE, 0)
        index = _completion_index(pod)
        value = _by_index(annotations, EXIT_CODES_BY_INDEX, index)
        if value is not None:
            try:
                code = int(value)
            except ValueError:
                log.warning("pod simulator: bad %s value %r", EXIT_CODES_BY_INDEX, value)
        script = _by_index(annotations, EXIT_SCRIPT, index or "*")
        if script is None:
            script = _by_index(annotations, EXIT_SCRIPT, "*")
        if script is None:
            return code
        counter = (_owner_uid(pod), index or "")
        attempt = self._attempts[counter]
        self._attempts[counter] += 1
        codes = [c.strip() for c in script.split(";") if c.strip()]
        try:
            return int(codes[min(attempt, len(codes) - 1)]) if codes else code
        except ValueError:
            log.warning("pod simulator: bad %s value %r", EXIT_SCRIPT, script)
            return code

    def _terminal_status(self, pod: V1Pod, exit_code: int, reason: str) -> None:
        now = self._now()
        annotations = pod.metadata.annotations or {}
        status = pod.status or V1PodStatus()
        conditions = [
            c for c in status.conditions or [] if c.type not in (POD_READY, CONTAINERS_READY)
        ]
        conditions += [
            V1PodCondition(
                type=POD_READY,
                status=CONDITION_FALSE,
                reason="PodCompleted",
                last_transition_time=now,
            ),
            V1PodCondition(
                type="ContainersReady",
                status=CONDITION_FALSE,
                reason="PodCompleted",
                last_transition_time=now,
            ),
        ]
        extra_condition = annotations.get(CONDITION)
        if exit_code != 0 and extra_condition:
            conditions.append(
                V1PodCondition(
                    type=extra_condition, status=CONDITION_TRUE, last_transition_time=now
                )
            )
        started = status.start_time or now
        pod.status = V1PodStatus(
            phase=POD_SUCCEEDED if exit_code == 0 else POD_FAILED,
            start_time=started,
            conditions=conditions,
            container_statuses=[
                V1ContainerStatus(
                    name=c.name,
                    image=c.image or "",
                    image_id="",
                    ready=False,
                    restart_count=0,
                    started=False,
                    state=V1ContainerState(
                        terminated=V1ContainerStateTerminated(
                            exit_code=exit_code,
                            reason=reason,
                            started_at=started,
                            finished_at=now,
                        )
                    ),
                )
                for c in pod.spec.containers or []
            ],
        )
        self._client.core_v1().pods(pod.metadata.namespace).update_status(pod)

    def _finish(self, pod: V1Pod) -> None:
        if pod.metadata.deletion_timestamp is not None or (
            pod.status and pod.status.phase != POD_RUNNING
        ):
            return
        code = self._exit_code(pod)
        self._terminal_status(pod, code, "Completed" if code == 0 else "Error")

    def _terminate(self, pod: V1Pod) -> None:
        if pod.status is None or pod.status.phase not in (POD_SUCCEEDED, POD_FAILED):
            self._terminal_status(pod, 143, "Error")
        self._client.core_v1().pods(pod.metadata.namespace).delete(
            pod.metadata.name,
            DeleteOptions(grace_period_seconds=0, uid_precondition=str(pod.metadata.uid)),
        )
