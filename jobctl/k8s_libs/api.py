"""Constants of the Kubernetes API types the controller reads and writes (k8s.io/api v0.37.2).

Port of the constant blocks of ``core/v1/types.go`` and ``core/v1/well_known_labels``
(pod phases, condition types and statuses, restart policies, event types) and of
``batch/v1/types.go`` (Job condition types and reasons, completion modes, pod
replacement and pod failure policy values, the well-known Job labels, annotations and
finalizer). Only the values jobctl uses are here; every module imports them from this
one place instead of declaring its own copy.
"""

from __future__ import annotations

# core/v1 PodPhase.
POD_PENDING = "Pending"
POD_RUNNING = "Running"
POD_SUCCEEDED = "Succeeded"
POD_FAILED = "Failed"
POD_UNKNOWN = "Unknown"

# core/v1 PodConditionType.
POD_READY = "Ready"
CONTAINERS_READY = "ContainersReady"
POD_SCHEDULED = "PodScheduled"
POD_INITIALIZED = "Initialized"
DISRUPTION_TARGET = "DisruptionTarget"

# core/v1 ConditionStatus.
CONDITION_TRUE = "True"
CONDITION_FALSE = "False"
CONDITION_UNKNOWN = "Unknown"

# core/v1 RestartPolicy and ContainerRestartPolicy.
RESTART_POLICY_ALWAYS = "Always"
RESTART_POLICY_ON_FAILURE = "OnFailure"
RESTART_POLICY_NEVER = "Never"
CONTAINER_RESTART_POLICY_ALWAYS = "Always"

# core/v1 event types.
EVENT_TYPE_NORMAL = "Normal"
EVENT_TYPE_WARNING = "Warning"

# core/v1 NamespaceDefault.
NAMESPACE_DEFAULT = "default"

# batch/v1 JobConditionType.
JOB_SUSPENDED = "Suspended"
JOB_COMPLETE = "Complete"
JOB_FAILED = "Failed"
JOB_FAILURE_TARGET = "FailureTarget"
JOB_SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"

# batch/v1 Job condition reasons.
JOB_REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
JOB_REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
JOB_REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
JOB_REASON_MAX_FAILED_INDEXES_EXCEEDED = "MaxFailedIndexesExceeded"
JOB_REASON_FAILED_INDEXES = "FailedIndexes"
JOB_REASON_SUCCESS_POLICY = "SuccessPolicy"
JOB_REASON_COMPLETIONS_REACHED = "CompletionsReached"

# batch/v1 CompletionMode.
NON_INDEXED_COMPLETION = "NonIndexed"
INDEXED_COMPLETION = "Indexed"

# batch/v1 PodReplacementPolicy.
TERMINATING_OR_FAILED = "TerminatingOrFailed"
FAILED = "Failed"

# batch/v1 PodFailurePolicyAction.
POD_FAILURE_POLICY_ACTION_FAIL_JOB = "FailJob"
POD_FAILURE_POLICY_ACTION_FAIL_INDEX = "FailIndex"
POD_FAILURE_POLICY_ACTION_IGNORE = "Ignore"
POD_FAILURE_POLICY_ACTION_COUNT = "Count"

# batch/v1 PodFailurePolicyOnExitCodesOperator.
POD_FAILURE_POLICY_ON_EXIT_CODES_OP_IN = "In"
POD_FAILURE_POLICY_ON_EXIT_CODES_OP_NOT_IN = "NotIn"

# batch/v1 well-known names.
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"
JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
JOB_INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
