"""Port of pkg/controller/job/success_policy_test.go."""

from __future__ import annotations

import pytest
from kubernetes.client import (
    V1Job,
    V1JobCondition,
    V1JobStatus,
    V1SuccessPolicy,
    V1SuccessPolicyRule,
)

from jobctl.job.indexed_job_utils import Interval, OrderedIntervals
from jobctl.job.success_policy import (
    has_success_criteria_met_condition,
    is_success_criteria_met_condition,
    match_success_policy,
)


def _oi(*pairs: tuple[int, int]) -> OrderedIntervals:
    return OrderedIntervals(Interval(first, last) for first, last in pairs)


def _rule(
    succeeded_indexes: str | None = None, succeeded_count: int | None = None
) -> V1SuccessPolicyRule:
    return V1SuccessPolicyRule(succeeded_indexes=succeeded_indexes, succeeded_count=succeeded_count)


def _policy(*rules: V1SuccessPolicyRule) -> V1SuccessPolicy:
    return V1SuccessPolicy(rules=list(rules))


CASES = [
    pytest.param(
        None,
        10,
        _oi((0, 0)),
        "",
        False,
        id="successPolicy is null",
    ),
    pytest.param(
        _policy(),
        10,
        _oi((0, 0)),
        "",
        False,
        id="any rules are nothing",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="invalid-form")),
        10,
        _oi((0, 0)),
        "",
        False,
        id="rules.succeededIndexes is invalid format",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-2")),
        10,
        _oi((0, 2), (4, 7)),
        "Matched rules at index 0",
        True,
        id="rules.succeededIndexes is specified; succeededIndexes matched rules",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="3")),
        10,
        _oi((0, 2)),
        "",
        False,
        id="rules.succeededIndexes is specified; succeededIndexes didn't match rules",
    ),
    pytest.param(
        _policy(_rule(succeeded_count=2)),
        10,
        _oi((0, 2)),
        "Matched rules at index 0",
        True,
        id="rules.succeededCount is specified; succeededIndexes matched rules",
    ),
    pytest.param(
        _policy(_rule(succeeded_count=4)),
        10,
        _oi((0, 2)),
        "",
        False,
        id="rules.succeededCount is specified; succeededIndexes didn't match rules",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="9"), _rule(succeeded_indexes="4,6")),
        10,
        _oi((0, 2), (4, 7)),
        "Matched rules at index 1",
        True,
        id="multiple rules; rules.succeededIndexes is specified; succeededIndexes met one of rules",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0,1"), _rule(succeeded_indexes="5")),
        10,
        _oi((0, 2), (4, 7)),
        "Matched rules at index 0",
        True,
        id="multiple rules; rules.succeededIndexes is specified; succeededIndexes met all rules",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="3-6", succeeded_count=2)),
        10,
        _oi((0, 2), (4, 7)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "met all rules"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="3-6", succeeded_count=2)),
        10,
        _oi((0, 2), (6, 7)),
        "",
        False,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "didn't match rules"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_count=4)),
        10,
        _oi(),
        "",
        False,
        id="rules.succeededIndexes is specified; succeededIndexes are nothing",
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="2-4,6-8")),
        10,
        _oi((1, 5), (6, 9)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes matched rules; rules is "
            "proper subset of succeededIndexes"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="2-4,6-9")),
        10,
        _oi((2, 4), (6, 9)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes matched rules; rules "
            "equals succeededIndexes"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="2-4,8-12")),
        10,
        _oi((2, 5), (7, 15)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes matched rules; rules is "
            "subset of succeededIndexes"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="")),
        10,
        _oi((1, 3)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "is an empty set"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="")),
        10,
        _oi(),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; "
            "succeededIndexes is an empty set"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="")),
        10,
        _oi(),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "and succeededIndexes are empty set"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="10-12,14-16")),
        10,
        _oi((1, 3), (5, 7)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; all "
            "elements of rules.succeededIndexes aren't included in succeededIndexes"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="1-3,5-7")),
        10,
        _oi((2, 4), (6, 8)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "overlaps succeededIndexes at first"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="1-3,5-7", succeeded_count=4)),
        10,
        _oi((2, 4), (6, 8)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "matched rules; rules overlaps succeededIndexes at first"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="2-4,6-9")),
        10,
        _oi((1, 3), (5, 7)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "overlaps succeededIndexes at last"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="2-4,6-9", succeeded_count=4)),
        10,
        _oi((1, 3), (5, 7)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "matched rules; rules overlaps succeededIndexes at last"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-4,6-9")),
        10,
        _oi((1, 3), (7, 8)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "completely overlaps succeededIndexes"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-4,6-9", succeeded_count=5)),
        10,
        _oi((1, 3), (7, 8)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "matched rules; rules completely overlaps succeededIndexes"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-6,8-9")),
        10,
        _oi((1, 3), (5, 9)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "overlaps multiple succeededIndexes at last"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-6,8-9", succeeded_count=7)),
        10,
        _oi((1, 3), (5, 9)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "matched rules; rules overlaps multiple succeededIndexes at last"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-5,7-9")),
        10,
        _oi((1, 5), (7, 10)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; rules "
            "overlaps succeededIndexes at first, and rules equals succeededIndexes at last"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-5,7-9", succeeded_count=8)),
        10,
        _oi((1, 5), (7, 10)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "matched rules; rules overlaps succeededIndexes at first, and rules equals "
            "succeededIndexes at last"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-3,6-9")),
        10,
        _oi((1, 10)),
        "",
        False,
        id=(
            "rules.succeededIndexes is specified; succeededIndexes didn't match rules; the "
            "first rules overlaps succeededIndexes at first"
        ),
    ),
    pytest.param(
        _policy(_rule(succeeded_indexes="0-3,6-9", succeeded_count=7)),
        10,
        _oi((1, 10)),
        "Matched rules at index 0",
        True,
        id=(
            "rules.succeededIndexes and rules.succeededCount are specified; succeededIndexes "
            "matched rules; the first rules overlaps succeededIndexes at first"
        ),
    ),
]


@pytest.mark.parametrize(
    ("success_policy", "completions", "succeeded_indexes", "want_message", "want_met"), CASES
)
def test_match_success_policy(
    success_policy: V1SuccessPolicy | None,
    completions: int,
    succeeded_indexes: OrderedIntervals,
    want_message: str,
    want_met: bool,
) -> None:
    got_message, got_met = match_success_policy(success_policy, completions, succeeded_indexes)
    assert got_met == want_met
    assert got_message == want_message


# Beyond upstream's table: the condition helpers.


@pytest.mark.parametrize(
    ("conditions", "want_found"),
    [
        pytest.param(None, False, id="no conditions"),
        pytest.param(
            [V1JobCondition(type="SuccessCriteriaMet", status="False")], False, id="false"
        ),
        pytest.param(
            [
                V1JobCondition(type="Suspended", status="True"),
                V1JobCondition(type="SuccessCriteriaMet", status="True"),
            ],
            True,
            id="true",
        ),
    ],
)
def test_success_criteria_met_condition_helpers(
    conditions: list[V1JobCondition] | None, want_found: bool
) -> None:
    job = V1Job(status=V1JobStatus(conditions=conditions))
    cond = has_success_criteria_met_condition(job)
    assert (cond is not None) == want_found
    assert is_success_criteria_met_condition(cond) == want_found
    if cond is not None:
        assert cond.type == "SuccessCriteriaMet"
    assert not is_success_criteria_met_condition(V1JobCondition(type="Complete", status="True"))
