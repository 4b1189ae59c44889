"""Port of pkg/controller/job/util/utils_test.go."""

from __future__ import annotations

import pytest
from kubernetes.client import V1Job, V1JobCondition, V1JobStatus

from jobctl.job.util import finished_condition, is_job_finished, is_job_succeeded


def _cond(type_: str, status: str) -> V1JobCondition:
    return V1JobCondition(type=type_, status=status)


@pytest.mark.parametrize(
    ("conditions", "want_job_finished", "want_condition_type"),
    [
        pytest.param(None, False, "", id="Job doesn't have any conditions"),
        pytest.param(
            [_cond("Complete", "True")],
            True,
            "Complete",
            id="Job is completed and condition is true",
        ),
        pytest.param(
            [_cond("Complete", "False")], False, "", id="Job is completed and condition is false"
        ),
        pytest.param(
            [_cond("Complete", "Unknown")],
            False,
            "",
            id="Job is completed and condition is unknown",
        ),
        pytest.param(
            [_cond("Suspended", "False"), _cond("Complete", "True"), _cond("Failed", "False")],
            True,
            "Complete",
            id="Job has multiple conditions, one of them being complete and condition true",
        ),
        pytest.param(
            [_cond("Failed", "True")], True, "Failed", id="Job is failed and condition is true"
        ),
        pytest.param(
            [_cond("Failed", "False")], False, "", id="Job is failed and condition is false"
        ),
        pytest.param(
            [_cond("Failed", "Unknown")], False, "", id="Job is failed and condition is unknown"
        ),
        pytest.param(
            [_cond("Suspended", "False"), _cond("Complete", "False"), _cond("Failed", "False")],
            False,
            "",
            id="Job has multiple conditions, none of them has condition true",
        ),
    ],
)
def test_finished_condition(
    conditions: list[V1JobCondition] | None, want_job_finished: bool, want_condition_type: str
) -> None:
    job = V1Job(status=V1JobStatus(conditions=conditions))
    finished, condition_type = finished_condition(job)
    assert finished == want_job_finished
    assert condition_type == want_condition_type
    assert is_job_finished(job) == want_job_finished


@pytest.mark.parametrize(
    ("job", "want_result"),
    [
        pytest.param(V1Job(), False, id="job doesn't have any conditions"),
        pytest.param(
            V1Job(
                status=V1JobStatus(
                    conditions=[_cond("Suspended", "False"), _cond("Complete", "True")]
                )
            ),
            True,
            id="job has Complete=True condition",
        ),
        pytest.param(
            V1Job(
                status=V1JobStatus(conditions=[_cond("Failed", "True"), _cond("Complete", "False")])
            ),
            False,
            id="job has Complete=False condition",
        ),
    ],
)
def test_is_job_succeeded(job: V1Job, want_result: bool) -> None:
    assert is_job_succeeded(job) == want_result
