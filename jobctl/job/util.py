"""Job status helpers: port of pkg/controller/job/util/utils.go."""

from __future__ import annotations

from kubernetes.client import V1Job

from jobctl.k8s_libs.api import (
    CONDITION_TRUE,
    JOB_COMPLETE,
    JOB_FAILED,
)


def finished_condition(job: V1Job) -> tuple[bool, str]:
    """Port of FinishedCondition (pkg/controller/job/util/utils.go): whether the Job ended, and the
    True Complete/Failed type.

    Returns ``(False, "")`` when neither condition is True.
    """
    conditions = job.status.conditions if job.status is not None else None
    for c in conditions or []:
        if c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == CONDITION_TRUE:
            return True, c.type
    return False, ""


def is_job_finished(job: V1Job) -> bool:
    """Port of IsJobFinished (pkg/controller/job/util/utils.go): the Job completed or failed, either
    way."""
    finished, _ = finished_condition(job)
    return finished


def is_job_succeeded(job: V1Job) -> bool:
    """Port of IsJobSucceeded (pkg/controller/job/util/utils.go): the Job has a True Complete
    condition."""
    conditions = job.status.conditions if job.status is not None else None
    return any(c.type == JOB_COMPLETE and c.status == CONDITION_TRUE for c in conditions or [])
