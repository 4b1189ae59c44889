"""Port of TestSyncJobWithJobPodFailurePolicy (pkg/controller/job/job_controller_test.go)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1ContainerState,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1Job,
    V1JobCondition,
    V1JobSpec,
    V1JobStatus,
    V1LabelSelector,
    V1ObjectMeta,
    V1Pod,
    V1PodCondition,
    V1PodFailurePolicy,
    V1PodFailurePolicyOnExitCodesRequirement,
    V1PodFailurePolicyOnPodConditionsPattern,
    V1PodFailurePolicyRule,
    V1PodSpec,
    V1PodStatus,
    V1PodTemplateSpec,
)

from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.builders import TEST_FINISHED_AT, PodBuilder
from jobctl.testing.job_harness import JobHarness, conditions_view, z

now = datetime.now(UTC)
indexed_completion_mode = "Indexed"
valid_object_meta = z(V1ObjectMeta, name="foobar", uid=str(uuid.uuid4()), namespace="default")
valid_selector = z(V1LabelSelector, match_labels={"foo": "bar"})
valid_template = z(
    V1PodTemplateSpec,
    metadata=z(V1ObjectMeta, labels={"foo": "bar"}),
    spec=z(V1PodSpec, containers=[z(V1Container, image="foo/bar")]),
)
on_exit_code_rules = [
    z(
        V1PodFailurePolicyRule,
        action="Ignore",
        on_exit_codes=z(V1PodFailurePolicyOnExitCodesRequirement, operator="In", values=[1, 2, 3]),
    ),
    z(
        V1PodFailurePolicyRule,
        action="FailJob",
        on_exit_codes=z(V1PodFailurePolicyOnExitCodesRequirement, operator="In", values=[5, 6, 7]),
    ),
]

POD_FAILURE_POLICY_CASES = {
    "default handling for pod failure if the container matching the exit codes does not match the containerName restriction": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="Ignore",
                            on_exit_codes=z(
                                V1PodFailurePolicyOnExitCodesRequirement,
                                container_name="main-container",
                                operator="In",
                                values=[1, 2, 3],
                            ),
                        ),
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_exit_codes=z(
                                V1PodFailurePolicyOnExitCodesRequirement,
                                container_name="main-container",
                                operator="In",
                                values=[5, 6, 7],
                            ),
                        ),
                    ],
                ),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="monitoring-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        ),
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(
                                    V1ContainerStateTerminated,
                                    exit_code=42,
                                    finished_at=TEST_FINISHED_AT,
                                ),
                            ),
                        ),
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_succeeded=0,
        want_status_failed=1,
    ),
    "running pod should not result in job fail based on OnExitCodes": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Running",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=0,
        want_status_succeeded=0,
    ),
    "fail job based on OnExitCodes": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
        ],
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "job marked already as failure target with failed pod": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
            status=z(
                V1JobStatus,
                conditions=[
                    z(
                        V1JobCondition,
                        type="FailureTarget",
                        status="True",
                        reason="PodFailurePolicy",
                        message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
                    )
                ],
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
        ],
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "job marked already as failure target with failed pod, message based on already deleted pod": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
            status=z(
                V1JobStatus,
                conditions=[
                    z(
                        V1JobCondition,
                        type="FailureTarget",
                        status="True",
                        reason="PodFailurePolicy",
                        message="Container main-container for pod default/already-deleted-pod failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
                    )
                ],
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/already-deleted-pod failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/already-deleted-pod failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
        ],
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "fail job with multiple pods": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=2,
                completions=2,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(V1Pod, status=z(V1PodStatus, phase="Running")),
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            ),
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-1 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            )
        ],
        want_status_active=0,
        want_status_failed=2,
        want_status_terminating=1,
        want_status_succeeded=0,
    ),
    "fail job with multiple pods; JobManagedBy enabled delays setting terminal condition": dict(
        enable_job_managed_by=True,
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=2,
                completions=2,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(V1Pod, status=z(V1PodStatus, phase="Running")),
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            ),
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-1 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            )
        ],
        want_status_active=0,
        want_status_failed=2,
        want_status_terminating=1,
        want_status_succeeded=0,
    ),
    "fail indexed job based on OnExitCodes": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                completion_mode=indexed_completion_mode,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
        ],
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "fail job based on OnExitCodes with NotIn operator": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_exit_codes=z(
                                V1PodFailurePolicyOnExitCodesRequirement,
                                operator="NotIn",
                                values=[5, 6, 7],
                            ),
                        )
                    ],
                ),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=42),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 42 matching FailJob rule at index 0",  # noqa: E501
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="PodFailurePolicy",
                message="Container main-container for pod default/mypod-0 failed with exit code 42 matching FailJob rule at index 0",  # noqa: E501
            ),
        ],
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "default handling job based on OnExitCodes with NotIn operator": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="FailJob",
                            on_exit_codes=z(
                                V1PodFailurePolicyOnExitCodesRequirement,
                                operator="NotIn",
                                values=[5, 6, 7],
                            ),
                        )
                    ],
                ),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(
                                    V1ContainerStateTerminated,
                                    exit_code=5,
                                    finished_at=TEST_FINISHED_AT,
                                ),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "fail job based on OnExitCodes for InitContainer": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    init_container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="init-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=5),
                            ),
                        )
                    ],
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="main-container",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=143),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
            z(
                V1JobCondition,
                type="FailureTarget",
                status="True",
                reason="PodFailurePolicy",
                message="Container init-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
            z(
                V1JobCondition,
                type="Failed",
                status="True",
                reason="PodFailurePolicy",
                message="Container init-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1",  # noqa: E501
            ),
        ],
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "ignore pod failure; both rules are matching, the first is executed only": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=0,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            name="container1",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=2),
                            ),
                        ),
                        z(
                            V1ContainerStatus,
                            name="container2",
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=6),
                            ),
                        ),
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=0,
        want_status_succeeded=0,
    ),
    "ignore pod failure based on OnExitCodes": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=0,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=1),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=0,
        want_status_succeeded=0,
    ),
    "default job based on OnExitCodes": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=0,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=10),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
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
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "default job based on OnExitCodes; JobManagedBy enabled triggers adding interim condition": dict(  # noqa: E501
        enable_job_managed_by=True,
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=0,
                pod_failure_policy=z(V1PodFailurePolicy, rules=on_exit_code_rules),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            state=z(
                                V1ContainerState,
                                terminated=z(V1ContainerStateTerminated, exit_code=10),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=[
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
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "count pod failure based on OnExitCodes; both rules are matching, the first is executed only": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="Count",
                            on_exit_codes=z(
                                V1PodFailurePolicyOnExitCodesRequirement,
                                operator="In",
                                values=[1, 2],
                            ),
                        ),
                        z(
                            V1PodFailurePolicyRule,
                            action="Ignore",
                            on_exit_codes=z(
                                V1PodFailurePolicyOnExitCodesRequirement,
                                operator="In",
                                values=[2, 3],
                            ),
                        ),
                    ],
                ),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            state=z(
                                V1ContainerState,
                                terminated=z(
                                    V1ContainerStateTerminated,
                                    exit_code=2,
                                    finished_at=TEST_FINISHED_AT,
                                ),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "count pod failure based on OnPodConditions; both rules are matching, the first is executed only": dict(  # noqa: E501
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="Count",
                            on_pod_conditions=[
                                z(
                                    V1PodFailurePolicyOnPodConditionsPattern,
                                    type="ResourceLimitExceeded",
                                    status="True",
                                )
                            ],
                        ),
                        z(
                            V1PodFailurePolicyRule,
                            action="Ignore",
                            on_pod_conditions=[
                                z(
                                    V1PodFailurePolicyOnPodConditionsPattern,
                                    type="DisruptionTarget",
                                    status="True",
                                )
                            ],
                        ),
                    ],
                ),
            ),
        ),
        pods=[
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[
                        z(V1PodCondition, type="ResourceLimitExceeded", status="True"),
                        z(V1PodCondition, type="DisruptionTarget", status="True"),
                    ],
                    container_statuses=[
                        z(
                            V1ContainerStatus,
                            state=z(
                                V1ContainerState,
                                terminated=z(
                                    V1ContainerStateTerminated, finished_at=TEST_FINISHED_AT
                                ),
                            ),
                        )
                    ],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "ignore pod failure based on OnPodConditions": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=0,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="Ignore",
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
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[z(V1PodCondition, type="DisruptionTarget", status="True")],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=1,
        want_status_failed=0,
        want_status_succeeded=0,
    ),
    "ignore pod failure based on OnPodConditions, ignored failures delays pod recreation": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=0,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="Ignore",
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
            z(
                V1Pod,
                metadata=z(V1ObjectMeta, deletion_timestamp=now),
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[z(V1PodCondition, type="DisruptionTarget", status="True")],
                ),
            )
        ],
        want_conditions=None,
        want_status_active=0,
        want_status_failed=0,
        want_status_succeeded=0,
    ),
    "fail job based on OnPodConditions": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                selector=valid_selector,
                template=valid_template,
                parallelism=1,
                completions=1,
                backoff_limit=6,
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
            z(
                V1Pod,
                status=z(
                    V1PodStatus,
                    phase="Failed",
                    conditions=[z(V1PodCondition, type="DisruptionTarget", status="True")],
                ),
            )
        ],
        want_conditions=[
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
        want_status_active=0,
        want_status_failed=1,
        want_status_succeeded=0,
    ),
    "terminating Pod not considered failed when JobPodFailurePolicy is used": dict(
        job=z(
            V1Job,
            metadata=valid_object_meta,
            spec=z(
                V1JobSpec,
                parallelism=1,
                selector=valid_selector,
                template=valid_template,
                backoff_limit=0,
                pod_failure_policy=z(
                    V1PodFailurePolicy,
                    rules=[
                        z(
                            V1PodFailurePolicyRule,
                            action="Count",
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
        pods=[z(V1Pod, metadata=z(V1ObjectMeta, deletion_timestamp=now))],
        want_status_terminating=1,
    ),
}


@pytest.mark.usefixtures("sync_impl")
@pytest.mark.parametrize(
    "case", list(POD_FAILURE_POLICY_CASES.values()), ids=list(POD_FAILURE_POLICY_CASES)
)
def test_sync_job_with_job_pod_failure_policy(
    request: pytest.FixtureRequest, case: dict[str, Any]
) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    enable_job_managed_by = case.get("enable_job_managed_by", False)
    if not enable_job_managed_by:
        features.set_feature_gate_emulation_version_during_test(
            gate, features.Version(1, 33), cleanup=request.addfinalizer
        )
    features.set_feature_gate_during_test(
        gate, features.JOB_MANAGED_BY, enable_job_managed_by, cleanup=request.addfinalizer
    )
    job: V1Job = case["job"].model_copy(deep=True)
    if job.spec.pod_replacement_policy is None:
        job.spec.pod_replacement_policy = "Failed"
    # The cases' timestamps are taken at import: the controller's clock starts there too.
    h = JobHarness(clock=FakeClock(now))
    h.add_job(job)
    for i, pod in enumerate(case.get("pods") or []):
        pb = PodBuilder(pod.model_copy(deep=True)).name(f"mypod-{i}").job(job)
        if job.spec.completion_mode == "Indexed":
            pb.index(str(i))
        pb = pb.tracking_finalizer()
        h.add_pods([pb.pod])

    result = h.sync_ok(job)

    actual = result.job if result.job is not None else job
    status = actual.status
    assert conditions_view(status.conditions) == conditions_view(case.get("want_conditions"))
    assert (status.active or 0) == case.get("want_status_active", 0)
    assert (status.succeeded or 0) == case.get("want_status_succeeded", 0)
    assert (status.failed or 0) == case.get("want_status_failed", 0)
    assert (status.terminating or 0) == (case.get("want_status_terminating") or 0)
