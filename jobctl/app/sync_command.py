"""``jobctl sync``: run one Job controller sync on files and print what it did.

    jobctl sync --job job.yaml --pods pods.yaml [--now RFC3339]
                [--feature-gates A=true,...] [--controller-name NAME]

The Job and its pods are loaded into the caches of a controller that talks to in-memory
fakes only (``jobctl.testing.job_harness``); one ``sync_job`` runs and the result is
printed as YAML: the pods the controller would create, the pods it would delete, the pods
whose tracking finalizer it would remove (other pod patches, adoptions and releases, are
listed apart), the events it would record, and the Job status it would write.

The Job gets the defaults the API server would apply (``SetDefaults_Job``; a selector on
the ``batch.kubernetes.io/controller-uid`` label when the file has none; a UID derived
from namespace and name when the file has none). A pod without namespace lives in the
Job's namespace; a pod without UID uses its name as UID. ``pods.yaml`` may hold several
YAML documents, a list, or a ``List`` object.

Exit codes: 0 when the sync succeeded, 1 when the sync itself returned an error (the
output is still printed, with ``syncError``), 2 for unusable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

import yaml
from kubernetes.client import V1Job, V1LabelSelector, V1ObjectMeta, V1Pod
from pydantic import ValidationError

from jobctl.client.deepcopy import deep_copy
from jobctl.controller.controller_utils import FakePodControl, get_pod_from_template
from jobctl.job.indexed_job_utils import get_completion_index
from jobctl.job.job_controller import CONTROLLER_KIND, new_controller_ref
from jobctl.k8s_libs import features
from jobctl.k8s_libs.api import (
    CONTROLLER_UID_LABEL,
    FAILED,
    JOB_CONTROLLER_NAME,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
    NON_INDEXED_COMPLETION,
    TERMINATING_OR_FAILED,
)
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.job_harness import JobHarness

_MAX_INT32 = 2**31 - 1
_FINALIZER_REMOVAL = b"$deleteFromPrimitiveList/finalizers"
# Namespace for the UIDs given to Jobs that have none in their file.
_UID_NAMESPACE = uuid.UUID("6f1c3a3e-5d0b-4b8e-9a55-0c2a4c8f7d11")


class InputError(Exception):
    """Unusable input: reported as one line on stderr, exit code 2."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message)


class _RecordingPodControl(FakePodControl):
    """A FakePodControl that also remembers which pod each patch went to."""

    def __init__(self) -> None:
        super().__init__()
        self.patched: list[tuple[str, bytes]] = []

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        with self.lock:
            self.patched.append((name, data))
        super().patch_pod(namespace, name, data)


def _parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="jobctl sync", add_help=True)
    p.add_argument("--job", required=True, help="YAML file with the Job")
    p.add_argument("--pods", help="YAML file with the Job's pods (optional)")
    p.add_argument("--now", help="the controller's clock, RFC 3339 (default: now)")
    p.add_argument("--feature-gates", default="", help="A=true,B=false,...")
    p.add_argument(
        "--controller-name",
        default=JOB_CONTROLLER_NAME,
        help="the spec.managedBy value the controller answers to",
    )
    return p


def _read_documents(path: str) -> list[Any]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{path}: invalid YAML{where}: {problem}") from None


def _validation_message(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    return f"{loc}: {first.get('msg', 'invalid')}" if loc else str(first.get("msg"))


def load_job(path: str) -> V1Job:
    """The Job of ``path``, with API server defaults applied."""
    docs = _read_documents(path)
    if len(docs) != 1:
        raise InputError(f"{path}: expected one Job, found {len(docs)} documents")
    doc = docs[0]
    if not isinstance(doc, dict) or doc.get("kind") != "Job":
        kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{path}: expected kind Job, got {kind or 'no kind'}")
    api_version = doc.get("apiVersion", "batch/v1")
    if api_version != CONTROLLER_KIND.group_version():
        raise InputError(f"{path}: expected apiVersion batch/v1, got {api_version}")
    try:
        job = V1Job.model_validate(doc)
    except ValidationError as err:
        raise InputError(f"{path}: invalid Job: {_validation_message(err)}") from None
    if job.metadata is None or not job.metadata.name:
        raise InputError(f"{path}: the Job has no metadata.name")
    if job.spec is None:
        raise InputError(f"{path}: the Job has no spec")
    set_job_defaults(job)
    return job


def set_job_defaults(job: V1Job) -> None:
    """What the API server does to a new Job: SetDefaults_Job plus generateSelector."""
    meta = job.metadata
    assert meta is not None and job.spec is not None
    if not meta.namespace:
        meta.namespace = "default"
    if not meta.uid:
        meta.uid = str(uuid.uuid5(_UID_NAMESPACE, f"{meta.namespace}/{meta.name}"))
    spec = job.spec
    if spec.completions is None and spec.parallelism is None:
        spec.completions = 1
        spec.parallelism = 1
    if spec.parallelism is None:
        spec.parallelism = 1
    if spec.backoff_limit is None:
        spec.backoff_limit = _MAX_INT32 if spec.backoff_limit_per_index is not None else 6
    if spec.template.metadata is None:
        spec.template.metadata = V1ObjectMeta()
    if spec.template.metadata.labels and not meta.labels:
        meta.labels = dict(spec.template.metadata.labels)
    if spec.completion_mode is None:
        spec.completion_mode = NON_INDEXED_COMPLETION
    if spec.suspend is None:
        spec.suspend = False
    if spec.pod_replacement_policy is None:
        spec.pod_replacement_policy = (
            FAILED if spec.pod_failure_policy is not None else TERMINATING_OR_FAILED
        )
    if spec.manual_selector is None:
        # A selector written in the file is kept as is, as if it were manual.
        spec.manual_selector = spec.selector is not None
    if not spec.manual_selector:
        labels = dict(spec.template.metadata.labels or {})
        for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
            labels.setdefault(key, meta.name or "")
        for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
            labels.setdefault(key, meta.uid)
        spec.template.metadata.labels = labels
        selector = spec.selector or V1LabelSelector()
        match_labels = dict(selector.match_labels or {})
        match_labels.setdefault(CONTROLLER_UID_LABEL, meta.uid)
        selector.match_labels = match_labels
        spec.selector = selector


def _pod_documents(docs: list[Any]) -> Iterator[Any]:
    for doc in docs:
        if isinstance(doc, list):
            yield from doc
        elif isinstance(doc, dict) and doc.get("kind") in ("List", "PodList"):
            yield from doc.get("items") or []
        else:
            yield doc


def load_pods(path: str, job: V1Job) -> list[V1Pod]:
    """The pods of ``path`` (several documents, a list, or a List object)."""
    assert job.metadata is not None
    pods: list[V1Pod] = []
    for i, doc in enumerate(_pod_documents(_read_documents(path))):
        if not isinstance(doc, dict) or doc.get("kind", "Pod") != "Pod":
            kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
            raise InputError(f"{path}: item {i + 1}: expected kind Pod, got {kind}")
        try:
            pod = V1Pod.model_validate(doc)
        except ValidationError as err:
            message = _validation_message(err)
            raise InputError(f"{path}: item {i + 1}: invalid Pod: {message}") from None
        if pod.metadata is None or not pod.metadata.name:
            raise InputError(f"{path}: item {i + 1}: the Pod has no metadata.name")
        if not pod.metadata.namespace:
            pod.metadata.namespace = job.metadata.namespace
        if not pod.metadata.uid:
            pod.metadata.uid = pod.metadata.name
        pods.append(pod)
    return pods


def _parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--now: not an RFC 3339 time: {text!r}") from None
    if now.tzinfo is None:
        raise InputError(f"--now: the time needs a zone offset or Z: {text!r}")
    return now.astimezone(UTC)


def _parse_gates(text: str) -> dict[str, bool]:
    gates: dict[str, bool] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, raw = item.partition("=")
        value = raw.strip().lower()
        if not sep or value not in ("true", "false"):
            raise InputError(f"--feature-gates: expected Name=true|false, got {item!r}")
        gates[key.strip()] = value == "true"
    return gates


def _created_pod(template: Any, job: V1Job) -> dict[str, Any]:
    pod = get_pod_from_template(template, job, new_controller_ref(job, CONTROLLER_KIND))
    assert pod.metadata is not None
    if template.metadata is not None and template.metadata.generate_name:
        pod.metadata.generate_name = template.metadata.generate_name
    out: dict[str, Any] = {"generateName": pod.metadata.generate_name}
    index = get_completion_index(pod.metadata.annotations)
    if index >= 0:
        out["completionIndex"] = index
    if pod.spec is not None and pod.spec.hostname:
        out["hostname"] = pod.spec.hostname
    out["finalizers"] = list(pod.metadata.finalizers or [])
    return out


def _event(text: str) -> dict[str, str]:
    event_type, _, rest = text.partition(" ")
    reason, _, message = rest.partition(" ")
    return {"type": event_type, "reason": reason, "message": message}


# JobStatus fields that are plain values with omitempty in Go: the API omits their zero.
_OMITTED_WHEN_ZERO = ("active", "succeeded", "failed", "completedIndexes")


def _go_json_status(job: V1Job) -> dict[str, Any]:
    """The Job status as the API server would serialize it."""
    if job.status is None:
        return {}
    status: dict[str, Any] = job.status.model_dump(by_alias=True, exclude_none=True, mode="json")
    for key in _OMITTED_WHEN_ZERO:
        if key in status and not status[key]:
            del status[key]
    return status


def run_sync(
    job: V1Job, pods: Sequence[V1Pod], now: datetime, controller_name: str
) -> tuple[dict[str, Any], BaseException | None]:
    """Sync ``job`` once over ``pods``; returns the report and the sync error."""
    pod_control = _RecordingPodControl()
    with JobHarness(
        deep_copy(job),
        clock=FakeClock(now),
        controller_name=controller_name,
        pod_control=pod_control,
    ) as h:
        h.add_job(job)
        h.add_pods(pods)
        result = h.sync(job)
    created = sorted(
        (_created_pod(t, job) for t in result.created),
        key=lambda p: (p.get("completionIndex", -1), p["generateName"]),
    )
    removed = sorted({name for name, data in pod_control.patched if _FINALIZER_REMOVAL in data})
    other_patches = sorted(
        {name for name, data in pod_control.patched if _FINALIZER_REMOVAL not in data}
    )
    written = result.job
    status_source = written if written is not None else job
    status = _go_json_status(status_source)
    report: dict[str, Any] = {
        "podsCreated": created,
        "podsDeleted": sorted(result.deleted),
        "finalizersRemoved": removed,
    }
    if other_patches:
        report["podsPatched"] = other_patches
    report["events"] = [_event(e) for e in result.events]
    report["statusUpdated"] = written is not None
    report["status"] = status
    if result.error is not None:
        report["syncError"] = str(result.error)
    return report, result.error


def main(argv: list[str]) -> int:
    """Entry point of ``jobctl sync``; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except InputError as err:
        print(f"jobctl sync: {err}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    try:
        now = _parse_now(args.now)
        gates = _parse_gates(args.feature_gates)
        job = load_job(args.job)
        pods = load_pods(args.pods, job) if args.pods else []
        override = features.set_feature_gates_during_test(features.DEFAULT_FEATURE_GATE, gates)
    except InputError as err:
        print(f"jobctl sync: {err}", file=sys.stderr)
        return 2
    except ValueError as err:
        message = " ".join(str(err).split())
        print(f"jobctl sync: --feature-gates: {message}", file=sys.stderr)
        return 2
    try:
        report, sync_err = run_sync(job, pods, now, args.controller_name)
    finally:
        override.restore()
    yaml.safe_dump(report, sys.stdout, sort_keys=False, default_flow_style=False)
    return 1 if sync_err is not None else 0
