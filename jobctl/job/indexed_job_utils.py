"""Indexed Job helpers: port of pkg/controller/job/indexed_job_utils.go.

Completion indexes are kept in compressed form, as sorted disjoint inclusive intervals
(``OrderedIntervals``), the form ``status.completedIndexes`` / ``status.failedIndexes`` use
("1,3-5,7"). A pod's index is its ``batch.kubernetes.io/job-completion-index`` annotation.

This module and ``job_controller``, ``backoff_utils`` and ``success_policy`` form one Go
package and call one another; they import each other as module objects and look the
functions up when called, so the import cycle is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from kubernetes.client import (
    V1Container,
    V1EnvVar,
    V1EnvVarSource,
    V1Job,
    V1ObjectFieldSelector,
    V1ObjectMeta,
    V1Pod,
    V1PodTemplateSpec,
)

from jobctl.controller.controller_utils import filter_terminating_pods, sort_active_pods
from jobctl.job import backoff_utils, job_controller
from jobctl.job.pod_failure_policy import match_pod_failure_policy
from jobctl.job.tracking_utils import has_job_tracking_finalizer
from jobctl.k8s_libs import klog
from jobctl.k8s_libs.api import (
    INDEXED_COMPLETION,
    JOB_COMPLETION_INDEX_ANNOTATION,
    JOB_INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    NON_INDEXED_COMPLETION,
    POD_FAILURE_POLICY_ACTION_FAIL_INDEX,
    POD_SUCCEEDED,
)

log = klog.get_logger(__name__)

COMPLETION_INDEX_ENV_NAME = "JOB_COMPLETION_INDEX"
UNKNOWN_COMPLETION_INDEX = -1

# apiserver names.MaxGeneratedNameLength: 63 minus the 5 random characters.
MAX_GENERATED_NAME_LENGTH = 58

_MAX_INT32 = 2**31 - 1
_MIN_INT64 = -(2**63)
_MAX_INT64 = 2**63 - 1
_ATOI_RE = re.compile(r"[+-]?[0-9]+")


def _atoi(text: str) -> int:
    """Go's strconv.Atoi: optional sign and ASCII digits only, within int64."""
    if not _ATOI_RE.fullmatch(text):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not _MIN_INT64 <= value <= _MAX_INT64:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value


def _annotations(pod: V1Pod) -> dict[str, str] | None:
    return pod.metadata.annotations if pod.metadata is not None else None


def _template_annotations(template: V1PodTemplateSpec) -> dict[str, str]:
    """The template's annotation map, created if missing, to be updated in place."""
    if template.metadata is None:
        template.metadata = V1ObjectMeta()
    if template.metadata.annotations is None:
        template.metadata.annotations = {}
    annotations: dict[str, str] = template.metadata.annotations
    return annotations


def is_indexed_job(job: V1Job) -> bool:
    """Port of isIndexedJob (pkg/controller/job/indexed_job_utils.go): the Job's completion mode is
    Indexed."""
    return job.spec is not None and job.spec.completion_mode == INDEXED_COMPLETION


def has_backoff_limit_per_index(job: V1Job) -> bool:
    """Port of hasBackoffLimitPerIndex (pkg/controller/job/indexed_job_utils.go):
    ``spec.backoffLimitPerIndex`` is set."""
    return job.spec is not None and job.spec.backoff_limit_per_index is not None


class Interval(NamedTuple):
    """Port of interval (pkg/controller/job/indexed_job_utils.go): the indexes ``first`` to
    ``last``, both included."""

    first: int
    last: int


class OrderedIntervals(list[Interval]):
    """Port of orderedIntervals (pkg/controller/job/indexed_job_utils.go): sorted, non-overlapping,
    non-adjacent intervals."""

    def with_ordered_indexes(self, new_indexes: Iterable[int]) -> OrderedIntervals:
        """Port of orderedIntervals.withOrderedIndexes (pkg/controller/job/indexed_job_utils.go): a
        copy that also holds the given indexes (which must come in increasing order)."""
        return self.merge(OrderedIntervals(Interval(ix, ix) for ix in new_indexes))

    def merge(self, new_oi: Sequence[Interval]) -> OrderedIntervals:
        """Port of orderedIntervals.merge (pkg/controller/job/indexed_job_utils.go): the union of
        two ordered lists, coalescing overlapping or adjacent intervals."""
        result = OrderedIntervals()

        def append_or_merge_with_last_interval(this: Interval) -> None:
            if not result or this.first > result[-1].last + 1:
                result.append(this)
            elif result[-1].last < this.last:
                result[-1] = Interval(result[-1].first, this.last)

        i = j = 0
        while i < len(self) and j < len(new_oi):
            if self[i].first < new_oi[j].first:
                append_or_merge_with_last_interval(self[i])
                i += 1
            else:
                append_or_merge_with_last_interval(new_oi[j])
                j += 1
        for interval in self[i:]:
            append_or_merge_with_last_interval(interval)
        for interval in new_oi[j:]:
            append_or_merge_with_last_interval(interval)
        return result

    def total(self) -> int:
        """Port of orderedIntervals.total (pkg/controller/job/indexed_job_utils.go): how many
        indexes the intervals hold."""
        return sum(iv.last - iv.first + 1 for iv in self)

    def string(self) -> str:
        """Port of orderedIntervals.String (pkg/controller/job/indexed_job_utils.go): e.g.
        ``"1,3-5,7,8"`` (pairs use a comma)."""
        parts: list[str] = []
        for v in self:
            if v.last == v.first:
                parts.append(str(v.first))
            elif v.last == v.first + 1:
                parts.append(f"{v.first},{v.last}")
            else:
                parts.append(f"{v.first}-{v.last}")
        return ",".join(parts)

    def __str__(self) -> str:
        return self.string()

    def has(self, ix: int) -> bool:
        """Port of orderedIntervals.has (pkg/controller/job/indexed_job_utils.go): binary search for
        an index."""
        lo, hi = 0, len(self)
        while hi > lo:
            mid = lo + (hi - lo) // 2
            if self[mid].last >= ix:
                hi = mid
            else:
                lo = mid + 1
        if hi == len(self):
            return False
        return self[hi].first <= ix


def calculate_succeeded_indexes(
    job: V1Job, pods: Sequence[V1Pod]
) -> tuple[OrderedIntervals, OrderedIntervals]:
    """Port of calculateSucceededIndexes (pkg/controller/job/indexed_job_utils.go): (indexes in
    ``status.completedIndexes``, those plus the valid indexes of succeeded pods still holding the
    tracking finalizer)."""
    assert job.spec is not None and job.spec.completions is not None
    completions = job.spec.completions
    completed = job.status.completed_indexes if job.status is not None else None
    prev_intervals = parse_indexes_from_string(completed or "", completions)
    new_succeeded: set[int] = set()
    for p in pods:
        ix = get_completion_index(_annotations(p))
        phase = p.status.phase if p.status is not None else None
        if (
            phase == POD_SUCCEEDED
            and ix != UNKNOWN_COMPLETION_INDEX
            and ix < completions
            and has_job_tracking_finalizer(p)
        ):
            new_succeeded.add(ix)
    return prev_intervals, prev_intervals.with_ordered_indexes(sorted(new_succeeded))


def calculate_failed_indexes(job: V1Job, pods: Sequence[V1Pod]) -> OrderedIntervals:
    """Port of calculateFailedIndexes (pkg/controller/job/indexed_job_utils.go):
    ``status.failedIndexes`` plus the valid indexes of pods (still holding the tracking
    finalizer) whose failure fails their index."""
    assert job.spec is not None and job.spec.completions is not None
    completions = job.spec.completions
    prev_intervals = OrderedIntervals()
    failed = job.status.failed_indexes if job.status is not None else None
    if failed is not None:
        prev_intervals = parse_indexes_from_string(failed, completions)
    new_failed: set[int] = set()
    for p in pods:
        ix = get_completion_index(_annotations(p))
        if (
            ix != UNKNOWN_COMPLETION_INDEX
            and ix < completions
            and has_job_tracking_finalizer(p)
            and is_index_failed(job, p)
        ):
            new_failed.add(ix)
    return prev_intervals.with_ordered_indexes(sorted(new_failed))


def is_index_failed(job: V1Job, pod: V1Pod) -> bool:
    """Port of isIndexFailed (pkg/controller/job/indexed_job_utils.go): the pod matched a FailIndex
    rule, or its counted failure reached ``backoffLimitPerIndex``."""
    assert job.spec is not None
    is_pod_failed_counted = False
    if job_controller.is_pod_failed(pod, job):
        if job.spec.pod_failure_policy is not None:
            _, count_failed, action = match_pod_failure_policy(job.spec.pod_failure_policy, pod)
            if action == POD_FAILURE_POLICY_ACTION_FAIL_INDEX:
                return True
            is_pod_failed_counted = count_failed
        else:
            is_pod_failed_counted = True
    if not is_pod_failed_counted:
        return False
    backoff_limit_per_index: int | None = job.spec.backoff_limit_per_index
    assert backoff_limit_per_index is not None
    return get_index_failure_count(pod) >= backoff_limit_per_index


def parse_indexes_from_string(indexes_str: str, completions: int) -> OrderedIntervals:
    """Port of parseIndexesFromString (pkg/controller/job/indexed_job_utils.go): parse ``"1,3-5"``,
    skipping malformed parts and dropping (or clipping) what reaches ``completions``; adjacent
    parts coalesce."""
    result = OrderedIntervals()
    if indexes_str == "":
        return result
    for interval_str in indexes_str.split(","):
        limits_str = interval_str.split("-")
        try:
            first = _atoi(limits_str[0])
        except ValueError as err:
            log.info("Corrupted indexes interval, ignoring", "interval", interval_str, "err", err)
            continue
        if first >= completions:
            break
        if len(limits_str) > 1:
            try:
                last = _atoi(limits_str[1])
            except ValueError as err:
                log.info(
                    "Corrupted indexes interval, ignoring", "interval", interval_str, "err", err
                )
                continue
            last = min(last, completions - 1)
        else:
            last = first
        if result and result[-1].last == first - 1:
            result[-1] = Interval(result[-1].first, last)
        else:
            result.append(Interval(first, last))
    return result


def first_pending_indexes(
    job_ctx: job_controller.SyncJobCtx, count: int, completions: int
) -> list[int]:
    """Port of firstPendingIndexes (pkg/controller/job/indexed_job_utils.go): the ``count`` lowest
    indexes below ``completions`` that no active pod holds and that did not succeed or fail; with
    podReplacementPolicy Failed, indexes of terminating pods are not pending either."""
    if count == 0:
        return []
    active = get_indexes(job_ctx.active_pods)
    result: list[int] = []
    non_pending = job_ctx.succeeded_indexes.with_ordered_indexes(sorted(active))
    if job_controller.only_replace_failed_pods(job_ctx.job):
        terminating = get_indexes(filter_terminating_pods(job_ctx.pods))
        non_pending = non_pending.with_ordered_indexes(sorted(terminating))
    if job_ctx.failed_indexes is not None:
        non_pending = non_pending.merge(job_ctx.failed_indexes)
    candidate = 0
    for s_interval in non_pending:
        while candidate < completions and len(result) < count and candidate < s_interval.first:
            result.append(candidate)
            candidate += 1
        candidate = max(candidate, s_interval.last + 1)
    while candidate < completions and len(result) < count:
        result.append(candidate)
        candidate += 1
    return result


def get_indexes(pods: Iterable[V1Pod]) -> set[int]:
    """Port of getIndexes (pkg/controller/job/indexed_job_utils.go): the valid completion indexes of
    the pods."""
    result: set[int] = set()
    for p in pods:
        ix = get_completion_index(_annotations(p))
        if ix != UNKNOWN_COMPLETION_INDEX:
            result.add(ix)
    return result


def append_duplicated_index_pods_for_removal(
    rm: list[V1Pod], left: list[V1Pod], pods: list[V1Pod], completions: int
) -> tuple[list[V1Pod], list[V1Pod]]:
    """Port of appendDuplicatedIndexPodsForRemoval (pkg/controller/job/indexed_job_utils.go): split
    active pods into to-remove and to-keep.

    Pods without a valid index, or with an index at or above ``completions``, are removed;
    of the pods sharing an index one is kept (the last in ActivePods order). Returns the
    extended ``(rm, left)``; sorts ``pods`` by index in place.
    """
    sort_by_completion_index(pods)
    last_index = UNKNOWN_COMPLETION_INDEX
    first_repeat_pos = 0
    count_looped = 0
    for i, p in enumerate(pods):
        ix = get_completion_index(_annotations(p))
        if ix >= completions:
            rm = rm + pods[i:]
            break
        if ix != last_index:
            rm, left = append_pods_with_same_index_for_removal_and_remaining(
                rm, left, pods[first_repeat_pos:i], last_index
            )
            first_repeat_pos = i
            last_index = ix
        count_looped += 1
    return append_pods_with_same_index_for_removal_and_remaining(
        rm, left, pods[first_repeat_pos:count_looped], last_index
    )


def get_pods_with_delayed_deletion_per_index(
    job_ctx: job_controller.SyncJobCtx,
) -> dict[int, V1Pod]:
    """Port of getPodsWithDelayedDeletionPerIndex (pkg/controller/job/indexed_job_utils.go): per
    pending index, its last failed pod.

    With a backoff limit per index, the finalizer of that pod stays until a replacement
    exists, so the replacement can inherit the index's failure counts. Indexes that
    succeeded, failed or have an active pod need no such pod.
    """
    assert job_ctx.job.spec is not None and job_ctx.job.spec.completions is not None
    completions = job_ctx.job.spec.completions
    active_indexes = get_indexes(job_ctx.active_pods)
    pods_with_delayed_deletion_per_index: dict[int, V1Pod] = {}

    def consider(p: V1Pod) -> bool:
        if not job_controller.is_pod_failed(p, job_ctx.job):
            return False
        ix = get_completion_index(_annotations(p))
        if ix == UNKNOWN_COMPLETION_INDEX or ix >= completions:
            return False
        failed_indexes = job_ctx.failed_indexes
        if (
            job_ctx.succeeded_indexes.has(ix)
            or (failed_indexes is not None and failed_indexes.has(ix))
            or ix in active_indexes
        ):
            return False
        last = pods_with_delayed_deletion_per_index.get(ix)
        if last is None or (
            get_index_absolute_failure_count(last) <= get_index_absolute_failure_count(p)
            and not backoff_utils.get_finished_time(p) < backoff_utils.get_finished_time(last)
        ):
            pods_with_delayed_deletion_per_index[ix] = p
        return False

    job_controller.get_valid_pods_with_filter(job_ctx, set(), consider)
    return pods_with_delayed_deletion_per_index


def add_index_failure_count_annotation(
    template: V1PodTemplateSpec, job: V1Job, pod_being_replaced: V1Pod | None
) -> None:
    """Port of addIndexFailureCountAnnotation (pkg/controller/job/indexed_job_utils.go): stamp the
    new pod's failure counts."""
    index_failure_count, index_ignored_failure_count = get_new_index_failure_counts(
        job, pod_being_replaced
    )
    annotations = _template_annotations(template)
    annotations[JOB_INDEX_FAILURE_COUNT_ANNOTATION] = str(index_failure_count)
    if index_ignored_failure_count > 0:
        annotations[JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(index_ignored_failure_count)


def get_new_index_failure_counts(job: V1Job, pod_being_replaced: V1Pod | None) -> tuple[int, int]:
    """Port of getNewIndexFailureCounts (pkg/controller/job/indexed_job_utils.go): (counted,
    ignored) failure counts for the pod that replaces ``pod_being_replaced``: its counts plus its
    own failure. (0, 0) for a first pod."""
    if pod_being_replaced is None:
        return 0, 0
    index_failure_count = parse_index_failure_count_annotation(pod_being_replaced)
    index_ignored_failure_count = parse_index_failure_ignore_count_annotation(pod_being_replaced)
    policy = job.spec.pod_failure_policy if job.spec is not None else None
    if policy is not None:
        _, count_failed, _ = match_pod_failure_policy(policy, pod_being_replaced)
        if count_failed:
            index_failure_count += 1
        else:
            index_ignored_failure_count += 1
    else:
        index_failure_count += 1
    return index_failure_count, index_ignored_failure_count


def append_pods_with_same_index_for_removal_and_remaining(
    rm: list[V1Pod], left: list[V1Pod], pods: list[V1Pod], ix: int
) -> tuple[list[V1Pod], list[V1Pod]]:
    """Port of appendPodsWithSameIndexForRemovalAndRemaining
    (pkg/controller/job/indexed_job_utils.go): keep the best pod of one index (last in ActivePods
    order) and remove the others; remove all without index."""
    if ix == UNKNOWN_COMPLETION_INDEX:
        return rm + pods, left
    if len(pods) == 1:
        return rm, [*left, pods[0]]
    sort_active_pods(pods)
    return rm + pods[:-1], left + pods[-1:]


def get_completion_index(annotations: Mapping[str, str] | None) -> int:
    """Port of getCompletionIndex (pkg/controller/job/indexed_job_utils.go): the index annotation as
    an int, -1 if absent or invalid."""
    if annotations is None:
        return UNKNOWN_COMPLETION_INDEX
    v = annotations.get(JOB_COMPLETION_INDEX_ANNOTATION)
    if v is None:
        return UNKNOWN_COMPLETION_INDEX
    try:
        i = _atoi(v)
    except ValueError:
        return UNKNOWN_COMPLETION_INDEX
    if i < 0:
        return UNKNOWN_COMPLETION_INDEX
    return i


def get_index_failure_count(pod: V1Pod) -> int:
    """Port of getIndexFailureCount (pkg/controller/job/indexed_job_utils.go): the counted failures
    of the pod's index so far.

    0 when the annotation is missing, not a number, negative or beyond int32.
    """
    return parse_index_failure_count_annotation(pod)


def get_index_absolute_failure_count(pod: V1Pod) -> int:
    """Port of getIndexAbsoluteFailureCount (pkg/controller/job/indexed_job_utils.go): counted plus
    ignored failures of the index."""
    return parse_index_failure_count_annotation(pod) + parse_index_failure_ignore_count_annotation(
        pod
    )


def parse_index_failure_count_annotation(pod: V1Pod) -> int:
    """Port of parseIndexFailureCountAnnotation (pkg/controller/job/indexed_job_utils.go)."""
    annotations = _annotations(pod) or {}
    value = annotations.get(JOB_INDEX_FAILURE_COUNT_ANNOTATION)
    if value is not None:
        return parse_int32(value)
    log.v(3).info(
        "There is no expected annotation",
        "annotationKey",
        JOB_INDEX_FAILURE_COUNT_ANNOTATION,
        "pod",
        f"{pod.metadata.namespace}/{pod.metadata.name}" if pod.metadata is not None else "",
        "podUID",
        pod.metadata.uid if pod.metadata is not None else "",
    )
    return 0


def parse_index_failure_ignore_count_annotation(pod: V1Pod) -> int:
    """Port of parseIndexFailureIgnoreCountAnnotation (pkg/controller/job/indexed_job_utils.go)."""
    annotations = _annotations(pod) or {}
    value = annotations.get(JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)
    if value is not None:
        return parse_int32(value)
    return 0


def parse_int32(v_str: str) -> int:
    """Port of parseInt32 (pkg/controller/job/indexed_job_utils.go): a non-negative int32, or 0 for
    anything else."""
    try:
        v_int = _atoi(v_str)
    except ValueError as err:
        log.error(err, "Failed to parse the value", "value", v_str)
        return 0
    if v_int < 0 or v_int > _MAX_INT32:
        log.info("The value is invalid", "value", v_int)
        return 0
    return v_int


def add_completion_index_env_variables(template: V1PodTemplateSpec) -> None:
    """Port of addCompletionIndexEnvVariables (pkg/controller/job/indexed_job_utils.go): expose the
    index to every container."""
    if template.spec is None:
        return
    for container in template.spec.init_containers or []:
        add_completion_index_env_variable(container)
    for container in template.spec.containers:
        add_completion_index_env_variable(container)


def add_completion_index_env_variable(container: V1Container) -> None:
    """Port of addCompletionIndexEnvVariable (pkg/controller/job/indexed_job_utils.go):
    JOB_COMPLETION_INDEX from the index label, unless the container already defines that
    variable."""
    for v in container.env or []:
        if v.name == COMPLETION_INDEX_ENV_NAME:
            return
    field_path = f"metadata.labels['{JOB_COMPLETION_INDEX_ANNOTATION}']"
    container.env = [
        *(container.env or []),
        V1EnvVar(
            name=COMPLETION_INDEX_ENV_NAME,
            value_from=V1EnvVarSource(field_ref=V1ObjectFieldSelector(field_path=field_path)),
        ),
    ]


def add_completion_index_annotation(template: V1PodTemplateSpec, index: int) -> None:
    """Port of addCompletionIndexAnnotation (pkg/controller/job/indexed_job_utils.go)."""
    _template_annotations(template)[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)


def add_completion_index_label(template: V1PodTemplateSpec, index: int) -> None:
    """Port of addCompletionIndexLabel (pkg/controller/job/indexed_job_utils.go): the label reuses
    the annotation key."""
    if template.metadata is None:
        template.metadata = V1ObjectMeta()
    if template.metadata.labels is None:
        template.metadata.labels = {}
    template.metadata.labels[JOB_COMPLETION_INDEX_ANNOTATION] = str(index)


def pod_generate_name_with_index(job_name: str, index: int) -> str:
    """Port of podGenerateNameWithIndex (pkg/controller/job/indexed_job_utils.go):
    ``"<job>-<index>-"``, the job name cut so the prefix fits the generated-name limit."""
    append_index = f"-{index}-"
    generate_name_prefix = job_name + append_index
    if len(generate_name_prefix) > MAX_GENERATED_NAME_LENGTH:
        generate_name_prefix = (
            generate_name_prefix[: MAX_GENERATED_NAME_LENGTH - len(append_index)] + append_index
        )
    return generate_name_prefix


def by_completion_index(pod: V1Pod) -> int:
    """Port of byCompletionIndex.Less (pkg/controller/job/indexed_job_utils.go) as a sort
    key: ``pods.sort(key=by_completion_index)`` orders pods as Less does."""
    return get_completion_index(_annotations(pod))


def sort_by_completion_index(pods: list[V1Pod]) -> None:
    """``sort.Sort(byCompletionIndex(pods))``: order pods by completion index, in place.

    Pods without a valid index (-1) come first; Python's sort keeps ties in order.
    """
    pods.sort(key=by_completion_index)


def completion_mode_str(job: V1Job) -> str:
    """Port of completionModeStr (pkg/controller/job/indexed_job_utils.go): the completion mode,
    NonIndexed when unset."""
    mode = job.spec.completion_mode if job.spec is not None else None
    return mode if mode is not None else NON_INDEXED_COMPLETION
