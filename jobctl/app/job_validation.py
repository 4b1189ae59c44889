"""The part of the API server's Job validation that ``jobctl sync`` applies to its input.

A Job read from a file never went through the API server, so a spec the server refuses
(an Indexed Job without completions, a negative parallelism) would reach the controller,
which relies on the server having refused it. ``validate_job_spec`` checks what
validateJobSpec (pkg/apis/batch/validation/validation.go) checks of the fields the
controller reads, with the same field paths and messages; it does not validate the pod
template. Values must also fit the Go field types (int32 or int64), as the decoder
requires.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client import V1JobSpec

from jobctl.k8s_libs import labels

_INDEXED = "Indexed"
_NON_INDEXED = "NonIndexed"
MAX_INT32 = 2**31 - 1
MIN_INT32 = -(2**31)
_MAX_INT64 = 2**63 - 1
_MIN_INT64 = -(2**63)
# validation.go's limits for Indexed Jobs.
_MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
_MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000
_COMPLETIONS_SOFT_LIMIT = 100_000
_PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000
_MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000

_INT32_FIELDS = (
    ("parallelism", "parallelism"),
    ("completions", "completions"),
    ("backoff_limit", "backoffLimit"),
    ("backoff_limit_per_index", "backoffLimitPerIndex"),
    ("max_failed_indexes", "maxFailedIndexes"),
    ("ttl_seconds_after_finished", "ttlSecondsAfterFinished"),
)


def _invalid(path: str, value: Any, detail: str) -> str:
    return f"{path}: Invalid value: {value}: {detail}"


def _required(path: str, detail: str) -> str:
    return f"{path}: Required value: {detail}"


def _go_map(m: dict[str, str] | None) -> str:
    """A string map as Go's %v prints it (sorted keys)."""
    items = sorted((m or {}).items())
    return "map[" + " ".join(f"{k}:{v}" for k, v in items) + "]"


def _nonnegative(value: int | None, path: str) -> list[str]:
    """Port of ValidateNonnegativeField."""
    if value is not None and value < 0:
        return [_invalid(path, value, "must be greater than or equal to 0")]
    return []


def _ranges(spec: V1JobSpec, path: str) -> list[str]:
    errs: list[str] = []
    for attr, name in _INT32_FIELDS:
        value = getattr(spec, attr)
        if value is not None and not MIN_INT32 <= value <= MAX_INT32:
            errs.append(_invalid(f"{path}.{name}", value, "out of range for int32"))
    deadline = spec.active_deadline_seconds
    if deadline is not None and not _MIN_INT64 <= deadline <= _MAX_INT64:
        errs.append(_invalid(f"{path}.activeDeadlineSeconds", deadline, "out of range for int64"))
    return errs


def _indexed(spec: V1JobSpec, path: str) -> list[str]:
    """The Indexed-mode checks of validateJobSpec."""
    errs: list[str] = []
    completions, parallelism = spec.completions, spec.parallelism
    max_failed = spec.max_failed_indexes
    if completions is None:
        errs.append(_required(f"{path}.completions", f"when completion mode is {_INDEXED}"))
    if parallelism is not None and parallelism > _MAX_PARALLELISM_FOR_INDEXED_JOB:
        errs.append(
            _invalid(
                f"{path}.parallelism",
                parallelism,
                f"must be less than or equal to {_MAX_PARALLELISM_FOR_INDEXED_JOB} "
                f"when completion mode is {_INDEXED}",
            )
        )
    if completions is not None and max_failed is not None and max_failed > completions:
        errs.append(
            _invalid(
                f"{path}.maxFailedIndexes", max_failed, "must be less than or equal to completions"
            )
        )
    if max_failed is not None and max_failed > _MAX_FAILED_INDEXES_FOR_INDEXED_JOB:
        errs.append(
            _invalid(
                f"{path}.maxFailedIndexes",
                max_failed,
                f"must be less than or equal to {_MAX_FAILED_INDEXES_FOR_INDEXED_JOB}",
            )
        )
    high = (
        completions is not None
        and completions > _COMPLETIONS_SOFT_LIMIT
        and spec.backoff_limit_per_index is not None
    )
    if high:
        suffix = (
            f"when completions are above {_COMPLETIONS_SOFT_LIMIT} and used with backoff "
            "limit per index"
        )
        if max_failed is None:
            errs.append(
                _required(
                    f"{path}.maxFailedIndexes",
                    f"must be specified when completions is above {_COMPLETIONS_SOFT_LIMIT}",
                )
            )
        if parallelism is not None and parallelism > _PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS:
            errs.append(
                _invalid(
                    f"{path}.parallelism",
                    parallelism,
                    f"must be less than or equal to {_PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} "
                    + suffix,
                )
            )
        if max_failed is not None and max_failed > _MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS:
            errs.append(
                _invalid(
                    f"{path}.maxFailedIndexes",
                    max_failed,
                    "must be less than or equal to "
                    f"{_MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} " + suffix,
                )
            )
    return errs


def validate_job_spec(spec: V1JobSpec, path: str = "spec") -> list[str]:
    """Port of the controller-relevant part of validateJobSpec; returns error lines."""
    errs = _ranges(spec, path)
    if errs:
        return errs
    errs += _nonnegative(spec.parallelism, f"{path}.parallelism")
    errs += _nonnegative(spec.completions, f"{path}.completions")
    errs += _nonnegative(spec.active_deadline_seconds, f"{path}.activeDeadlineSeconds")
    errs += _nonnegative(spec.backoff_limit, f"{path}.backoffLimit")
    errs += _nonnegative(spec.ttl_seconds_after_finished, f"{path}.ttlSecondsAfterFinished")
    errs += _nonnegative(spec.backoff_limit_per_index, f"{path}.backoffLimitPerIndex")
    if spec.max_failed_indexes is not None:
        errs += _nonnegative(spec.max_failed_indexes, f"{path}.maxFailedIndexes")
        if spec.backoff_limit_per_index is None:
            errs.append(
                _required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified")
            )
    mode = spec.completion_mode
    if mode is not None:
        if mode not in (_NON_INDEXED, _INDEXED):
            errs.append(
                f'{path}.completionMode: Unsupported value: "{mode}": supported values: '
                f'"{_NON_INDEXED}", "{_INDEXED}"'
            )
        if mode == _INDEXED:
            errs += _indexed(spec, path)
    if mode is None or mode == _NON_INDEXED:
        if spec.backoff_limit_per_index is not None:
            errs.append(
                _invalid(
                    f"{path}.backoffLimitPerIndex",
                    spec.backoff_limit_per_index,
                    "requires indexed completion mode",
                )
            )
        if spec.max_failed_indexes is not None:
            errs.append(
                _invalid(
                    f"{path}.maxFailedIndexes",
                    spec.max_failed_indexes,
                    "requires indexed completion mode",
                )
            )
    if spec.success_policy is not None and (mode or _NON_INDEXED) != _INDEXED:
        errs.append(_invalid(f"{path}.successPolicy", "{...}", "requires indexed completion mode"))
    if spec.selector is None:
        errs.append(_required(f"{path}.selector", ""))
        return errs
    try:
        selector = labels.label_selector_as_selector(spec.selector)
    except ValueError as err:
        errs.append(_invalid(f"{path}.selector", "{...}", " ".join(str(err).split())))
        return errs
    # The selector must match the pods the Job makes (validateJobSpecWithPodTemplate).
    template_labels = spec.template.metadata.labels if spec.template.metadata else None
    if not selector.matches(template_labels or {}):
        errs.append(
            _invalid(
                f"{path}.template.metadata.labels",
                _go_map(template_labels),
                "`selector` does not match template `labels`",
            )
        )
    return errs
