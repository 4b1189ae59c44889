"""Test builders for Jobs and pods: port of the helpers of job_controller_test.go.

``new_job`` / ``new_job_with_name`` build the Job the upstream tests start from,
``build_pod()`` returns a fluent ``PodBuilder`` (upstream's podBuilder), and
``new_pod`` / ``new_pod_list`` / ``hollow_pods_with_index_phase`` build pods owned by, or
merely indexed like, a Job.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kubernetes.client import (
    V1Container,
    V1ContainerState,
    V1ContainerStateRunning,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1Job,
    V1JobCondition,
    V1JobSpec,
    V1LabelSelector,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1PodCondition,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
)

from jobctl.job.backoff_utils import ZERO_TIME
from jobctl.k8s_libs.api import (
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    JOB_TRACKING_FINALIZER,
)

__all__ = [
    "JOB_COMPLETION_INDEX_ANNOTATION",
    "JOB_INDEX_FAILURE_COUNT_ANNOTATION",
    "JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION",
    "JOB_TRACKING_FINALIZER",
    "NAMESPACE_DEFAULT",
    "NO_INDEX",
    "TEST_FINISHED_AT",
    "ZERO_TIME",
    "IndexPhase",
    "PodBuilder",
    "build_pod",
    "get_conditions_by_type",
    "hollow_pods_with_index_phase",
    "new_controller_ref",
    "new_job",
    "new_job_with_name",
    "new_pod",
    "new_pod_list",
    "rand_string",
    "to_index_phases",
]

NAMESPACE_DEFAULT = "default"

# Upstream's testFinishedAt, one second after Go's zero time: a finish time far enough in
# the past that no backoff applies.
TEST_FINISHED_AT = ZERO_TIME + timedelta(seconds=1)

# Marks a pod without completion index in ``IndexPhase`` tables (upstream noIndex).
NO_INDEX = "-"

# apimachinery util/rand alphabet (no vowels, no ambiguous digits).
RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_rng = random.Random()


def rand_string(n: int) -> str:
    """Port of util/rand.String: ``n`` random characters of the apimachinery alphabet."""
    return "".join(_rng.choice(RAND_ALPHABET) for _ in range(n))


def new_controller_ref(job: V1Job) -> V1OwnerReference:
    """Port of ``metav1.NewControllerRef(job, controllerKind)`` for a batch/v1 Job."""
    assert job.metadata is not None
    return V1OwnerReference(
        api_version="batch/v1",
        kind="Job",
        name=job.metadata.name or "",
        uid=job.metadata.uid or "",
        controller=True,
        block_owner_deletion=True,
    )


def new_job_with_name(
    name: str,
    parallelism: int,
    completions: int,
    backoff_limit: int,
    completion_mode: str = "",
) -> V1Job:
    """Port of newJobWithName: a Job selecting ``foo=bar`` in namespace default.

    A negative ``parallelism`` or ``completions`` leaves that field unset; an empty
    ``completion_mode`` leaves the mode unset.
    """
    spec = V1JobSpec(
        selector=V1LabelSelector(match_labels={"foo": "bar"}),
        template=V1PodTemplateSpec(
            metadata=V1ObjectMeta(labels={"foo": "bar"}),
            spec=V1PodSpec(containers=[V1Container(name="", image="foo/bar")]),
        ),
        backoff_limit=backoff_limit,
    )
    if completion_mode:
        spec.completion_mode = completion_mode
    if completions >= 0:
        spec.completions = completions
    if parallelism >= 0:
        spec.parallelism = parallelism
    return V1Job(
        kind="Job",
        metadata=V1ObjectMeta(name=name, uid=str(uuid.uuid4()), namespace=NAMESPACE_DEFAULT),
        spec=spec,
    )


def new_job(
    parallelism: int, completions: int, backoff_limit: int, completion_mode: str = ""
) -> V1Job:
    """Port of newJob: ``new_job_with_name("foobar", ...)``."""
    return new_job_with_name("foobar", parallelism, completions, backoff_limit, completion_mode)


def _match_labels(job: V1Job) -> dict[str, str] | None:
    assert job.spec is not None
    selector = job.spec.selector
    labels = selector.match_labels if selector is not None else None
    return dict(labels) if labels is not None else None


def new_pod(name: str, job: V1Job) -> V1Pod:
    """Port of newPod: a pod named and UID'd ``name``, labelled and owned like ``job``'s."""
    assert job.metadata is not None
    return V1Pod(
        metadata=V1ObjectMeta(
            name=name,
            uid=name,
            labels=_match_labels(job),
            namespace=job.metadata.namespace,
            owner_references=[new_controller_ref(job)],
        ),
        status=V1PodStatus(),
    )


def _terminated_status(finished_at: datetime | None, exit_code: int = 0) -> V1ContainerStatus:
    return V1ContainerStatus(
        name="",
        image="",
        image_id="",
        ready=False,
        restart_count=0,
        state=V1ContainerState(
            terminated=V1ContainerStateTerminated(exit_code=exit_code, finished_at=finished_at)
        ),
    )


def new_pod_list(count: int, phase: str, job: V1Job) -> list[V1Pod]:
    """Port of newPodList: ``count`` owned pods in ``phase`` with a tracking finalizer and a
    container that terminated at ``TEST_FINISHED_AT``."""
    pods: list[V1Pod] = []
    for _ in range(count):
        pod = new_pod(f"pod-{rand_string(10)}", job)
        pod.status = V1PodStatus(
            phase=phase, container_statuses=[_terminated_status(TEST_FINISHED_AT)]
        )
        assert pod.metadata is not None
        pod.metadata.finalizers = [*(pod.metadata.finalizers or []), JOB_TRACKING_FINALIZER]
        pods.append(pod)
    return pods


class PodBuilder:
    """Port of podBuilder: chainable setters over one pod; ``.pod`` is the result.

    Every setter mutates the same pod and returns the builder.
    """

    def __init__(self, pod: V1Pod) -> None:
        self.pod = pod

    @property
    def _meta(self) -> V1ObjectMeta:
        if self.pod.metadata is None:
            self.pod.metadata = V1ObjectMeta()
        return self.pod.metadata

    @property
    def _status(self) -> V1PodStatus:
        if self.pod.status is None:
            self.pod.status = V1PodStatus()
        return self.pod.status

    def name(self, n: str) -> PodBuilder:
        """Port of podBuilder.name."""
        self._meta.name = n
        return self

    def ns(self, n: str) -> PodBuilder:
        """Port of podBuilder.ns."""
        self._meta.namespace = n
        return self

    def uid(self, u: str) -> PodBuilder:
        """Port of podBuilder.uid."""
        self._meta.uid = u
        return self

    def labels(self, labels: Mapping[str, str] | None) -> PodBuilder:
        """Port of podBuilder.labels."""
        self._meta.labels = dict(labels) if labels is not None else None
        return self

    def job(self, j: V1Job) -> PodBuilder:
        """Port of podBuilder.job: labels, namespace and controller reference of ``j``."""
        assert j.metadata is not None
        self._meta.labels = _match_labels(j)
        self._meta.namespace = j.metadata.namespace
        self._meta.owner_references = [new_controller_ref(j)]
        return self

    def owner(self, owner_ref: V1OwnerReference) -> PodBuilder:
        """Port of podBuilder.owner: add an owner reference."""
        self._meta.owner_references = [*(self._meta.owner_references or []), owner_ref]
        return self

    def clear_owner(self) -> PodBuilder:
        """Port of podBuilder.clearOwner."""
        self._meta.owner_references = None
        return self

    def clear_labels(self) -> PodBuilder:
        """Port of podBuilder.clearLabels."""
        self._meta.labels = None
        return self

    def index(self, ix: str) -> PodBuilder:
        """Port of podBuilder.index: the completion index annotation."""
        return self.annotation(JOB_COMPLETION_INDEX_ANNOTATION, ix)

    def index_failure_count(self, count: str) -> PodBuilder:
        """Port of podBuilder.indexFailureCount."""
        return self.annotation(JOB_INDEX_FAILURE_COUNT_ANNOTATION, count)

    def index_ignored_failure_count(self, count: str) -> PodBuilder:
        """Port of podBuilder.indexIgnoredFailureCount."""
        return self.annotation(JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, count)

    def annotation(self, key: str, value: str) -> PodBuilder:
        """Port of podBuilder.annotation."""
        self._meta.annotations = {**(self._meta.annotations or {}), key: value}
        return self

    def status(self, s: V1PodStatus) -> PodBuilder:
        """Port of podBuilder.status: replace the whole status."""
        self.pod.status = s
        return self

    def phase(self, p: str) -> PodBuilder:
        """Port of podBuilder.phase."""
        self._status.phase = p
        return self

    def tracking_finalizer(self) -> PodBuilder:
        """Port of podBuilder.trackingFinalizer: add the job-tracking finalizer once."""
        finalizers = self._meta.finalizers or []
        if JOB_TRACKING_FINALIZER not in finalizers:
            self._meta.finalizers = [*finalizers, JOB_TRACKING_FINALIZER]
        return self

    def deletion_timestamp(self) -> PodBuilder:
        """Port of podBuilder.deletionTimestamp: mark deleted, at Go's zero time."""
        self._meta.deletion_timestamp = ZERO_TIME
        return self

    def custom_deletion_timestamp(self, t: datetime) -> PodBuilder:
        """Port of podBuilder.customDeletionTimestamp."""
        self._meta.deletion_timestamp = t
        return self

    # Setters beyond upstream's, for the common shapes of pod status in tests.

    def deletion_grace_period_seconds(self, seconds: int) -> PodBuilder:
        """Set ``metadata.deletionGracePeriodSeconds``."""
        self._meta.deletion_grace_period_seconds = seconds
        return self

    def creation_timestamp(self, t: datetime) -> PodBuilder:
        """Set ``metadata.creationTimestamp``."""
        self._meta.creation_timestamp = t
        return self

    def node_name(self, node: str) -> PodBuilder:
        """Set ``spec.nodeName`` (a pod without one is unscheduled)."""
        if self.pod.spec is None:
            self.pod.spec = V1PodSpec(containers=[])
        self.pod.spec.node_name = node
        return self

    def condition(
        self,
        type_: str,
        status: str = "True",
        *,
        reason: str | None = None,
        last_transition_time: datetime | None = None,
    ) -> PodBuilder:
        """Append a pod condition."""
        cond = V1PodCondition(
            type=type_, status=status, reason=reason, last_transition_time=last_transition_time
        )
        self._status.conditions = [*(self._status.conditions or []), cond]
        return self

    def ready(self, last_transition_time: datetime | None = None) -> PodBuilder:
        """Append a Ready=True condition."""
        return self.condition("Ready", "True", last_transition_time=last_transition_time)

    def exit_code(
        self, code: int, *, container: str = "", finished_at: datetime | None = None
    ) -> PodBuilder:
        """Append a container status terminated with ``code`` (at ``finished_at``)."""
        cs = _terminated_status(finished_at, code)
        cs.name = container
        self._status.container_statuses = [*(self._status.container_statuses or []), cs]
        return self

    def finished_at(self, t: datetime) -> PodBuilder:
        """Append a container status terminated with exit code 0 at ``t``."""
        return self.exit_code(0, finished_at=t)

    def running_container(self, container: str = "") -> PodBuilder:
        """Append a container status that is still running."""
        cs = V1ContainerStatus(
            name=container,
            image="",
            image_id="",
            ready=False,
            restart_count=0,
            state=V1ContainerState(running=V1ContainerStateRunning()),
        )
        self._status.container_statuses = [*(self._status.container_statuses or []), cs]
        return self


def build_pod() -> PodBuilder:
    """Port of buildPod: a builder over an empty pod with a random 5-character UID."""
    return PodBuilder(V1Pod(metadata=V1ObjectMeta(uid=rand_string(5)), status=V1PodStatus()))


def get_conditions_by_type(
    conditions: Sequence[V1JobCondition] | None, c_type: str
) -> list[V1JobCondition]:
    """Port of getConditionsByType: every Job condition of a type."""
    return [c for c in conditions or [] if c.type == c_type]


@dataclass(frozen=True)
class IndexPhase:
    """Port of indexPhase: a pod's completion index (or ``NO_INDEX``) and phase."""

    index: str
    phase: str


def hollow_pods_with_index_phase(descs: Iterable[IndexPhase | tuple[str, str]]) -> list[V1Pod]:
    """Port of hollowPodsWithIndexPhase: bare pods with just a phase and index annotation."""
    pods: list[V1Pod] = []
    for desc in descs:
        index, phase = (desc.index, desc.phase) if isinstance(desc, IndexPhase) else desc
        pod = V1Pod(metadata=V1ObjectMeta(), status=V1PodStatus(phase=phase))
        if index != NO_INDEX:
            assert pod.metadata is not None
            pod.metadata.annotations = {JOB_COMPLETION_INDEX_ANNOTATION: index}
        pods.append(pod)
    return pods


def to_index_phases(pods: Iterable[V1Pod]) -> list[IndexPhase]:
    """Port of toIndexPhases: the (index, phase) of each pod, ``NO_INDEX`` when absent.

    As upstream, a pod with annotations but no index annotation reads as index "".
    """
    result: list[IndexPhase] = []
    for p in pods:
        index = NO_INDEX
        annotations = p.metadata.annotations if p.metadata is not None else None
        if annotations is not None:
            index = annotations.get(JOB_COMPLETION_INDEX_ANNOTATION, "")
        phase = p.status.phase if p.status is not None else None
        result.append(IndexPhase(index, phase or ""))
    return result
