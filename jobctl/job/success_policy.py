"""Success policy matching: port of pkg/controller/job/success_policy.go."""

from __future__ import annotations

from kubernetes.client import V1Job, V1JobCondition, V1SuccessPolicy

from jobctl.job import indexed_job_utils, job_controller
from jobctl.k8s_libs.api import (
    CONDITION_TRUE,
    JOB_SUCCESS_CRITERIA_MET,
)


def match_success_policy(
    success_policy: V1SuccessPolicy | None,
    completions: int,
    succeeded_indexes: indexed_job_utils.OrderedIntervals,
) -> tuple[str, bool]:
    """Port of matchSuccessPolicy (pkg/controller/job/success_policy.go): the first rule the
    succeeded indexes satisfy.

    Returns ``("Matched rules at index <i>", True)`` for the first satisfied rule, or
    ``("", False)``. Rules whose ``succeededIndexes`` does not parse to any index are skipped.
    """
    if success_policy is None or len(succeeded_indexes) == 0:
        return "", False
    rules_matched_msg = "Matched rules at index"
    for index, rule in enumerate(success_policy.rules or []):
        if rule.succeeded_indexes is not None:
            required_indexes = indexed_job_utils.parse_indexes_from_string(
                rule.succeeded_indexes, completions
            )
            if len(required_indexes) == 0:
                continue
            if match_succeeded_indexes_rule(
                required_indexes, succeeded_indexes, rule.succeeded_count
            ):
                return f"{rules_matched_msg} {index}", True
        elif rule.succeeded_count is not None and succeeded_indexes.total() >= rule.succeeded_count:
            return f"{rules_matched_msg} {index}", True
    return "", False


def has_success_criteria_met_condition(job: V1Job) -> V1JobCondition | None:
    """Port of hasSuccessCriteriaMetCondition (pkg/controller/job/success_policy.go): the Job's True
    SuccessCriteriaMet condition."""
    conditions = job.status.conditions if job.status is not None else None
    success_criteria_met = job_controller.find_condition_by_type(
        conditions, JOB_SUCCESS_CRITERIA_MET
    )
    if success_criteria_met is not None and success_criteria_met.status == CONDITION_TRUE:
        return success_criteria_met
    return None


def is_success_criteria_met_condition(cond: V1JobCondition | None) -> bool:
    """Port of isSuccessCriteriaMetCondition (pkg/controller/job/success_policy.go): a True
    SuccessCriteriaMet condition."""
    return (
        cond is not None and cond.type == JOB_SUCCESS_CRITERIA_MET and cond.status == CONDITION_TRUE
    )


def match_succeeded_indexes_rule(
    rule_indexes: indexed_job_utils.OrderedIntervals,
    succeeded_indexes: indexed_job_utils.OrderedIntervals,
    succeeded_count: int | None,
) -> bool:
    """Port of matchSucceededIndexesRule (pkg/controller/job/success_policy.go): every rule index
    succeeded, or at least ``succeeded_count`` of them did. Walks both interval lists once,
    summing overlaps."""
    contains = succeeded_pointer = rule_pointer = 0
    while rule_pointer < len(rule_indexes) and succeeded_pointer < len(succeeded_indexes):
        rule = rule_indexes[rule_pointer]
        succeeded = succeeded_indexes[succeeded_pointer]
        overlap = min(rule.last, succeeded.last) - max(rule.first, succeeded.first) + 1
        if overlap > 0:
            contains += overlap
        if succeeded.last < rule.last:
            succeeded_pointer += 1
        elif succeeded.last > rule.last:
            rule_pointer += 1
        else:
            succeeded_pointer += 1
            rule_pointer += 1
    return contains == rule_indexes.total() or (
        succeeded_count is not None and contains >= succeeded_count
    )
