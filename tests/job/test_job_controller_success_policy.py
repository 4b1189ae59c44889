"""Port of TestSyncJobWithJobSuccessPolicy (pkg/controller/job/job_controller_test.go)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1Job,
    V1JobCondition,
    V1JobSpec,
    V1JobStatus,
    V1LabelSelector,
    V1ObjectMeta,
    V1PodCondition,
    V1PodFailurePolicy,
    V1PodFailurePolicyOnPodConditionsPattern,
    V1PodFailurePolicyRule,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
    V1SuccessPolicy,
    V1SuccessPolicyRule,
    V1UncountedTerminatedPods,
)

from jobctl.job.indexed_job_utils import get_completion_index, is_indexed_job
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import PodBuilder, build_pod
from jobctl.testing.job_harness import JobHarness, status_view, z

now = datetime.now(UTC)
valid_object_meta = z(V1ObjectMeta, name="foobar", uid=str(uuid.uuid4()), namespace="default")
valid_selector = z(V1LabelSelector, match_labels={"foo": "bar"})
valid_template = z(
    V1PodTemplateSpec,
    metadata=z(V1ObjectMeta, labels={"foo": "bar"}),
    spec=z(V1PodSpec, containers=[z(V1Container, image="foobar")]),
)

SUCCESS_POLICY_CASES = {
    "job with successPolicy; job has SuccessCriteriaMet condition if job meets to successPolicy and some indexes fail": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=3,
                completions=3,
                backoff_limit=2147483647,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
        ),
        pods=[
            build_pod().uid("a1").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("a2").index("0").phase("Running").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("c").index("2").phase("Running").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=2,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                )
            ],
        ),
    ),
    "job with podFailurePolicy and successPolicy; job has SuccessCriteriaMet condition if job meets to successPolicy and doesn't meet to podFailurePolicy": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_pod_conditions=[
                                z(
                                    V1PodFailurePolicyOnPodConditionsPattern,
                                    type="DisruptionTarget",
                                    status="True",
                                )
                            ],
                        )
                    ],
                ),
            ),
        ),
        pods=[
            build_pod().uid("a1").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("a2").index("0").phase("Running").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=1,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                )
            ],
        ),
    ),
    "job with backoffLimitPerIndex and successPolicy; job has SuccessCriteriaMet condition if job meets to successPolicy and doesn't meet backoffLimitPerIndex": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                backoff_limit_per_index=2,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
        ),
        pods=[
            build_pod().uid("a1").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("a2").index("0").phase("Running").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=1,
            completed_indexes="1",
            failed_indexes="",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                )
            ],
        ),
    ),
    "job with successPolicy; job has both Complete and SuccessCriteriaMet condition when job meets to successPolicy and all pods have been already removed": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                backoff_limit_per_index=2,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
            status=z(
                V1JobStatus,
                conditions=[
                    z(
                        V1JobCondition,
                        type="SuccessCriteriaMet",
                        status="True",
                        reason="SuccessPolicy",
                        message="Matched rules at index 0",
                    )
                ],
            ),
        ),
        pods=[
            build_pod().uid("a").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            failed_indexes="",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
                z(
                    V1JobCondition,
                    type="Complete",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
            ],
        ),
    ),
    "job with successPolicy; job has SuccessCriteriaMet condition when job meets to successPolicy and some pods still are running": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=3,
                completions=3,
                backoff_limit=2147483647,
                backoff_limit_per_index=3,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
            status=z(
                V1JobStatus,
                conditions=[
                    z(
                        V1JobCondition,
                        type="SuccessCriteriaMet",
                        status="True",
                        reason="SuccessPolicy",
                        message="Matched rules at index 0",
                    )
                ],
            ),
        ),
        pods=[
            build_pod().uid("a1").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("a2").index("1").phase("Running").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("c").index("2").phase("Running").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=2,
            failed_indexes="",
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                )
            ],
        ),
    ),
    "job with successPolicy; JobManagedBy feature enabled; job has SuccessCriteriaMet condition when job meets to successPolicy and some pods still are running": dict(  # noqa: E501
        enable_job_managed_by=True,
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=3,
                completions=3,
                backoff_limit=2147483647,
                backoff_limit_per_index=3,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
            status=z(
                V1JobStatus,
                conditions=[
                    z(
                        V1JobCondition,
                        type="SuccessCriteriaMet",
                        status="True",
                        reason="SuccessPolicy",
                        message="Matched rules at index 0",
                    )
                ],
            ),
        ),
        pods=[
            build_pod().uid("a1").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("a2").index("1").phase("Running").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
            build_pod().uid("c").index("2").phase("Running").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=2,
            failed_indexes="",
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                )
            ],
        ),
    ),
    "job with successPolicy and podFailurePolicy; job has a failed condition when job meets to both successPolicy and podFailurePolicy": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_pod_conditions=[
                                z(
                                    V1PodFailurePolicyOnPodConditionsPattern,
                                    type="DisruptionTarget",
                                    status="True",
                                )
                            ],
                        )
                    ],
                ),
            ),
        ),
        pods=[
            build_pod()
            .uid("a1")
            .index("0")
            .status(
                z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[z(V1PodCondition, type="DisruptionTarget", status="True")],
                )
            )
            .tracking_finalizer()
            .pod,
            build_pod().uid("a2").index("0").phase("Running").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=2,
            succeeded=1,
            terminating=1,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="FailureTarget",
                    status="True",
                    reason="PodFailurePolicy",
                    message="Pod default/mypod-0 has condition DisruptionTarget matching FailJob rule at index 0",  # noqa: E501
                )
            ],
        ),
    ),
    "job with successPolicy and backoffLimitPerIndex; job has a failed condition when job meets to both successPolicy and backoffLimitPerIndex": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                backoff_limit_per_index=1,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
        ),
        pods=[
            build_pod()
            .uid("a")
            .index("0")
            .phase("Failed")
            .index_failure_count("1")
            .tracking_finalizer()
            .pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            failed_indexes="0",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="FailureTarget",
                    status="True",
                    reason="FailedIndexes",
                    message="Job has failed indexes",
                ),
                z(
                    V1JobCondition,
                    type="Failed",
                    status="True",
                    reason="FailedIndexes",
                    message="Job has failed indexes",
                ),
            ],
        ),
    ),
    "job with successPolicy and backoffLimit; job has a failed condition when job meets to both successPolicy and backoffLimit": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=1,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
        ),
        pods=[
            build_pod().uid("a1").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("a2").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=2,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="FailureTarget",
                    status="True",
                    reason="BackoffLimitExceeded",
                    message="Job has reached the specified backoff limit",
                ),
                z(
                    V1JobCondition,
                    type="Failed",
                    status="True",
                    reason="BackoffLimitExceeded",
                    message="Job has reached the specified backoff limit",
                ),
            ],
        ),
    ),
    "job with successPolicy and podFailurePolicy; job with SuccessCriteriaMet has never been transitioned to FailureTarget and Failed even if job meets podFailurePolicy": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                success_policy=z(
                    V1SuccessPolicy, rules=[z(V1SuccessPolicyRule, succeeded_count=1)]
                ),
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_pod_conditions=[
                                z(
                                    V1PodFailurePolicyOnPodConditionsPattern,
                                    type="DisruptionTarget",
                                    status="True",
                                )
                            ],
                        )
                    ],
                ),
            ),
            status=z(
                V1JobStatus,
                failed=0,
                succeeded=1,
                terminating=0,
                completed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                conditions=[
                    z(
                        V1JobCondition,
                        type="SuccessCriteriaMet",
                        status="True",
                        reason="SuccessPolicy",
                        message="Matched rules at index 0",
                    )
                ],
            ),
        ),
        pods=[
            build_pod()
            .uid("a")
            .index("0")
            .status(
                z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[z(V1PodCondition, type="DisruptionTarget", status="True")],
                )
            )
            .tracking_finalizer()
            .pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
                z(
                    V1JobCondition,
                    type="Complete",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
            ],
        ),
    ),
    "job with successPolicy and backoffLimitPerIndex; job with SuccessCriteriaMet has never been transitioned to FailureTarget and Failed even if job meet backoffLimitPerIndex": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                backoff_limit_per_index=1,
                success_policy=z(
                    V1SuccessPolicy, rules=[z(V1SuccessPolicyRule, succeeded_indexes="1")]
                ),
            ),
            status=z(
                V1JobStatus,
                failed=0,
                succeeded=1,
                terminating=0,
                completed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                conditions=[
                    z(
                        V1JobCondition,
                        type="SuccessCriteriaMet",
                        status="True",
                        reason="SuccessPolicy",
                        message="Matched rules at index 0",
                    )
                ],
            ),
        ),
        pods=[
            build_pod()
            .uid("a")
            .index("0")
            .phase("Failed")
            .index_failure_count("1")
            .tracking_finalizer()
            .pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            failed_indexes="0",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
                z(
                    V1JobCondition,
                    type="Complete",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
            ],
        ),
    ),
    "job with successPolicy and backoffLimit; job with SuccessCriteriaMet has never been transitioned to FailureTarget and Failed even if job meets backoffLimit": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=1,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
            ),
            status=z(
                V1JobStatus,
                failed=0,
                succeeded=1,
                terminating=0,
                completed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                conditions=[
                    z(
                        V1JobCondition,
                        type="SuccessCriteriaMet",
                        status="True",
                        reason="SuccessPolicy",
                        message="Matched rules at index 0",
                    )
                ],
            ),
        ),
        pods=[
            build_pod().uid("a").index("0").phase("Failed").tracking_finalizer().pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
                z(
                    V1JobCondition,
                    type="Complete",
                    status="True",
                    reason="SuccessPolicy",
                    message="Matched rules at index 0",
                ),
            ],
        ),
    ),
    "job with successPolicy and podFailureTarget; job with FailureTarget has never been transitioned to SuccessCriteriaMet even if job meets successPolicy": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                parallelism=2,
                completions=2,
                backoff_limit=2147483647,
                success_policy=z(
                    V1SuccessPolicy,
                    rules=[z(V1SuccessPolicyRule, succeeded_indexes="0,1", succeeded_count=1)],
                ),
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_pod_conditions=[
                                z(
                                    V1PodFailurePolicyOnPodConditionsPattern,
                                    type="DisruptionTarget",
                                    status="True",
                                )
                            ],
                        )
                    ],
                ),
            ),
            status=z(
                V1JobStatus,
                failed=1,
                succeeded=0,
                terminating=0,
                completed_indexes="1",
                uncounted_terminated_pods=z(V1UncountedTerminatedPods),
                conditions=[
                    z(
                        V1JobCondition,
                        type="FailureTarget",
                        status="True",
                        reason="PodFailurePolicy",
                        message="Pod default/mypod-0 has condition DisruptionTarget matching FailJob rule at index 0",  # noqa: E501
                    )
                ],
            ),
        ),
        pods=[
            build_pod()
            .uid("a")
            .index("0")
            .status(
                z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[z(V1PodCondition, type="DisruptionTarget", status="True")],
                )
            )
            .pod,
            build_pod().uid("b").index("1").phase("Succeeded").tracking_finalizer().pod,
        ],
        want_status=z(
            V1JobStatus,
            failed=1,
            succeeded=1,
            terminating=0,
            completed_indexes="1",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="FailureTarget",
                    status="True",
                    reason="PodFailurePolicy",
                    message="Pod default/mypod-0 has condition DisruptionTarget matching FailJob rule at index 0",  # noqa: E501
                ),
                z(
                    V1JobCondition,
                    type="Failed",
                    status="True",
                    reason="PodFailurePolicy",
                    message="Pod default/mypod-0 has condition DisruptionTarget matching FailJob rule at index 0",  # noqa: E501
                ),
            ],
        ),
    ),
    "job without successPolicy; job got SuccessCriteriaMet and Completion with CompletionsReached reason conditions": dict(  # noqa: E501
        enable_job_managed_by=True,
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode="Indexed",
                completions=1,
                parallelism=1,
                backoff_limit=2147483647,
            ),
        ),
        pods=[build_pod().uid("a1").index("0").phase("Succeeded").tracking_finalizer().pod],
        want_status=z(
            V1JobStatus,
            failed=0,
            succeeded=1,
            terminating=0,
            completed_indexes="0",
            uncounted_terminated_pods=z(V1UncountedTerminatedPods),
            conditions=[
                z(
                    V1JobCondition,
                    type="SuccessCriteriaMet",
                    status="True",
                    reason="CompletionsReached",
                    message="Reached expected number of succeeded pods",
                ),
                z(
                    V1JobCondition,
                    type="Complete",
                    status="True",
                    reason="CompletionsReached",
                    message="Reached expected number of succeeded pods",
                ),
            ],
        ),
    ),
}


def _relevant(status: V1JobStatus | None) -> dict[str, Any]:
    view = status_view(status)
    for ignored in ("start_time", "completion_time", "ready"):
        view.pop(ignored, None)
    return view


@pytest.mark.usefixtures("sync_impl")
@pytest.mark.parametrize(
    "case", list(SUCCESS_POLICY_CASES.values()), ids=list(SUCCESS_POLICY_CASES)
)
def test_sync_job_with_job_success_policy(
    request: pytest.FixtureRequest, case: dict[str, Any]
) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    enable_job_managed_by = case.get("enable_job_managed_by", False)
    if not enable_job_managed_by:
        features.set_feature_gate_emulation_version_during_test(
            gate, features.Version(1, 34), cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, enable_job_managed_by, cleanup=request.addfinalizer
    )
    h = JobHarness(clock=FakeClock(now))
    job: V1Job = case["job"].model_copy(deep=True)
    h.add_job(job)
    for i, pod in enumerate(case.get("pods") or []):
        pb = PodBuilder(pod.model_copy(deep=True)).name(f"mypod-{i}").job(job)
        if is_indexed_job(job):
            pb.index(str(get_completion_index(pod.metadata.annotations)))
        h.add_pods([pb.pod])

    result = h.sync_ok(job)

    actual = result.job if result.job is not None else job
    assert _relevant(actual.status) == _relevant(case["want_status"])
