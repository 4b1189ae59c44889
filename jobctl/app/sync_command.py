"""``jobctl sync``: run one Job controller sync on files and print what it did.

    jobctl sync --job job.yaml|- [--pods pods.yaml|-] [--now RFC3339] [-o yaml|json]
                [--feature-gates A=true,...] [--controller-name NAME]

The Job and its pods are loaded into the caches of a controller that talks to in-memory
fakes only (``jobctl.testing.job_harness``); one ``sync_job`` runs and the result is
printed as YAML (or JSON): the pods the controller would create (with the names the API
server would give them), the pods it would delete, the pods whose tracking finalizer it
would remove (other pod patches, adoptions and releases, are listed apart), the events
kube-controller-manager would record (pod creations and deletions included, as its
RealPodControl records them), and the Job status it would write.

Input is read as the live decoder reads API objects: fields unknown to the models are
ignored (one warning line each on stderr, as kubectl warns), and the Job must pass the
API server's validation of the fields the controller reads (``job_validation``). The Job
gets the defaults the API server would apply (``SetDefaults_Job``; a selector on the
``batch.kubernetes.io/controller-uid`` label when the file has none; a UID derived from
namespace and name when the file has none). A pod without namespace lives in the Job's
namespace; a pod without UID uses its name as UID. ``pods.yaml`` may hold several YAML
documents, a list, or a ``List`` object. ``-`` reads standard input (for one of the two).

The controller is the one named by ``--controller-name``; by default the one the Job
names in ``spec.managedBy``, else jobctl's default (``jobctl.dev/job-controller``).
When the controller would skip the Job, or the sync ignores a pod (another namespace,
labels the selector does not match, another controller's pod), one line on stderr says
why.

Exit codes: 0 when the sync succeeded, 1 when the sync itself returned an error (the
output is still printed, with ``syncError``), 2 for unusable input (one line on stderr).
When standard output is closed early (``| head -1``) the command stops quietly with
141, as a process killed by SIGPIPE would.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, TextIO

import yaml
from kubernetes.client import V1Job, V1LabelSelector, V1ObjectMeta, V1Pod
from pydantic import ValidationError

from jobctl.app.job_validation import MAX_INT32, validate_job_spec
from jobctl.client.decode import DecodeError, decode_object
from jobctl.client.deepcopy import deep_copy
from jobctl.controller.controller_utils import get_controller_of
from jobctl.job.indexed_job_utils import get_completion_index
from jobctl.job.job_controller import (
    CONTROLLER_KIND,
    managed_by_external_controller,
)
from jobctl.job.util import finished_condition
from jobctl.k8s_libs import features, labels
from jobctl.k8s_libs.api import (
    CONTROLLER_UID_LABEL,
    FAILED,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
    NON_INDEXED_COMPLETION,
    TERMINATING_OR_FAILED,
)
from jobctl.k8s_libs.clock import FakeClock
from jobctl.testing.job_harness import JobHarness
from jobctl.testing.pod_control import CreatedPod

# The binary's default --controller-name (jobctl.app.options.DEFAULT_CONTROLLER_NAME).
DEFAULT_CONTROLLER_NAME = "jobctl.dev/job-controller"
_FINALIZER_REMOVAL = b"$deleteFromPrimitiveList/finalizers"
# Namespace for the UIDs given to Jobs that have none in their file.
_UID_NAMESPACE = uuid.UUID("6f1c3a3e-5d0b-4b8e-9a55-0c2a4c8f7d11")
_STDIN = "-"
# What a shell reports for a process killed by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141


class InputError(Exception):
    """Unusable input: reported as one line on stderr, exit code 2."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message)


def _parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="jobctl sync", add_help=True)
    p.add_argument("--job", required=True, help="YAML file with the Job (- for stdin)")
    p.add_argument("--pods", help="YAML file with the Job's pods (optional; - for stdin)")
    p.add_argument("--now", help="the controller's clock, RFC 3339 (default: now)")
    p.add_argument("--feature-gates", default="", help="A=true,B=false,...")
    p.add_argument(
        "--controller-name",
        default=None,
        help="the spec.managedBy value the controller answers to (default: the Job's "
        f"spec.managedBy, else {DEFAULT_CONTROLLER_NAME})",
    )
    p.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format")
    return p


class _Notes:
    """One-line notes for stderr (unknown fields, skipped Job, ignored pods)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(" ".join(line.split()))


def _display(path: str) -> str:
    return "<stdin>" if path == _STDIN else path


def _read_text(path: str, stdin: TextIO | None = None) -> str:
    if path == _STDIN:
        try:
            return (stdin or sys.stdin).read()
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise InputError(f"cannot read standard input: {err}") from None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"cannot read {path}: not UTF-8 text ({err.reason})") from None


def _read_documents(path: str, stdin: TextIO | None = None) -> list[Any]:
    text = _read_text(path, stdin)
    name = _display(path)
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{name}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise InputError(f"{name}: the YAML is nested too deeply") from None


def _validation_message(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    msg = " ".join(str(first.get("msg", "invalid")).split())
    return f"{loc}: {msg}" if loc else msg


def _decode(model: type[Any], doc: dict[str, Any], what: str, notes: _Notes) -> Any:
    """``doc`` as ``model``, as the live decoder reads it: unknown fields are dropped
    (and noted), any other error is an InputError."""
    try:
        try:
            return model.model_validate(doc)
        except ValidationError as first:
            unknown = [
                ".".join(str(p) for p in d["loc"])
                for d in first.errors()
                if d["type"] == "extra_forbidden"
            ]
            try:
                obj = decode_object(model, doc)
            except DecodeError as err:
                cause = err.__cause__
                detail = (
                    _validation_message(cause)
                    if isinstance(cause, ValidationError)
                    else " ".join(str(err).split())
                )
                raise InputError(f"{what}: {detail}") from None
            for field_path in unknown:
                notes.add(f"warning: {what}: unknown field {field_path!r} ignored")
            return obj
    except RecursionError:
        raise InputError(f"{what}: nested too deeply") from None


def load_job(path: str, notes: _Notes | None = None, stdin: TextIO | None = None) -> V1Job:
    """The Job of ``path``, validated, with API server defaults applied."""
    notes = notes if notes is not None else _Notes()
    name = _display(path)
    docs = _read_documents(path, stdin)
    if len(docs) != 1:
        raise InputError(f"{name}: expected one Job, found {len(docs)} documents")
    doc = docs[0]
    if not isinstance(doc, dict) or doc.get("kind") != "Job":
        kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{name}: expected kind Job, got {kind or 'no kind'}")
    api_version = doc.get("apiVersion", "batch/v1")
    if api_version != CONTROLLER_KIND.group_version():
        raise InputError(f"{name}: expected apiVersion batch/v1, got {api_version}")
    job: V1Job = _decode(V1Job, doc, f"{name}: invalid Job", notes)
    if job.metadata is None or not job.metadata.name:
        raise InputError(f"{name}: the Job has no metadata.name")
    if job.spec is None:
        raise InputError(f"{name}: the Job has no spec")
    if job.spec.template is None:
        raise InputError(f"{name}: the Job has no spec.template")
    set_job_defaults(job)
    errs = validate_job_spec(job.spec)
    if errs:
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        raise InputError(f"{name}: invalid Job: {errs[0]}{more}")
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
        spec.backoff_limit = MAX_INT32 if spec.backoff_limit_per_index is not None else 6
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


def load_pods(
    path: str, job: V1Job, notes: _Notes | None = None, stdin: TextIO | None = None
) -> list[V1Pod]:
    """The pods of ``path`` (several documents, a list, or a List object)."""
    assert job.metadata is not None
    notes = notes if notes is not None else _Notes()
    name = _display(path)
    pods: list[V1Pod] = []
    for i, doc in enumerate(_pod_documents(_read_documents(path, stdin))):
        if not isinstance(doc, dict) or doc.get("kind", "Pod") != "Pod":
            kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
            raise InputError(f"{name}: item {i + 1}: expected kind Pod, got {kind}")
        pod: V1Pod = _decode(V1Pod, doc, f"{name}: item {i + 1}: invalid Pod", notes)
        if pod.metadata is None or not pod.metadata.name:
            raise InputError(f"{name}: item {i + 1}: the Pod has no metadata.name")
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


def default_controller_name(job: V1Job) -> str:
    """The Job's own spec.managedBy, else jobctl's default controller name."""
    managed_by = job.spec.managed_by if job.spec is not None else None
    return managed_by or DEFAULT_CONTROLLER_NAME


def _skip_reason(job: V1Job, controller_name: str) -> str | None:
    """Why the controller would not sync ``job`` at all, or None."""
    manager = managed_by_external_controller(job, controller_name)
    if manager is not None:
        managed_by = job.spec.managed_by if job.spec is not None else None
        how = (
            f"spec.managedBy is {managed_by}"
            if managed_by
            else f"spec.managedBy is unset, so {manager} manages it"
        )
        return (
            f"skipped: {how}, and this controller is {controller_name} "
            f"(--controller-name {manager} syncs it)"
        )
    finished, condition = finished_condition(job)
    if finished:
        return f"the Job is already finished ({condition}=True): nothing to sync"
    return None


def _ignored_pod_reasons(job: V1Job, pods: Sequence[V1Pod]) -> list[str]:
    """Why pods are left out of the sync (ClaimPods' rules: namespace, owner, selector)."""
    assert job.metadata is not None and job.spec is not None
    reasons: list[str] = []
    selector = labels.label_selector_as_selector(job.spec.selector)
    for pod in pods:
        meta = pod.metadata
        assert meta is not None
        if meta.namespace != job.metadata.namespace:
            reasons.append(
                f"pod {meta.namespace}/{meta.name} ignored: not in the Job's namespace "
                f"{job.metadata.namespace}"
            )
            continue
        ref = get_controller_of(pod)
        if ref is not None:
            if ref.uid != job.metadata.uid:
                reasons.append(
                    f"pod {meta.name} ignored: controlled by {ref.kind} {ref.name} "
                    f"(uid {ref.uid}), not by this Job (uid {job.metadata.uid})"
                )
            continue
        if not selector.matches(meta.labels or {}):
            reasons.append(
                f"pod {meta.name} ignored: its labels do not match the Job's selector "
                f"{selector.string() or '<none>'}"
            )
        elif meta.deletion_timestamp is not None:
            reasons.append(f"pod {meta.name} ignored: an orphan being deleted is not adopted")
        elif job.metadata.deletion_timestamp is not None:
            reasons.append(f"pod {meta.name} ignored: a Job being deleted adopts no orphan")
    return reasons


def _created_pod(created: CreatedPod) -> dict[str, Any]:
    template = created.template
    meta = template.metadata
    out: dict[str, Any] = {"name": created.name, "generateName": created.generate_name}
    index = get_completion_index(meta.annotations if meta is not None else None)
    if index >= 0:
        out["completionIndex"] = index
    if template.spec is not None and template.spec.hostname:
        out["hostname"] = template.spec.hostname
    out["finalizers"] = list((meta.finalizers if meta is not None else None) or [])
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


def _error_text(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__


def run_sync(
    job: V1Job, pods: Sequence[V1Pod], now: datetime, controller_name: str
) -> tuple[dict[str, Any], BaseException | None]:
    """Sync ``job`` once over ``pods``; returns the report and the sync error."""
    assert job.metadata is not None
    with JobHarness(
        deep_copy(job),
        clock=FakeClock(now),
        controller_name=controller_name,
        pod_events=True,
        name_seed=job.metadata.uid,
    ) as h:
        h.add_job(job)
        h.add_pods(pods)
        result = h.sync(job)
    created = sorted(
        (_created_pod(c) for c in result.created_pods),
        key=lambda p: (p.get("completionIndex", -1), p["name"]),
    )
    removed = sorted({p.name for p in result.patches if _FINALIZER_REMOVAL in p.data})
    other_patches = sorted({p.name for p in result.patches if _FINALIZER_REMOVAL not in p.data})
    written = result.job
    status_source = written if written is not None else job
    report: dict[str, Any] = {
        "podsCreated": created,
        "podsDeleted": sorted(result.deleted),
        "finalizersRemoved": removed,
    }
    if other_patches:
        report["podsPatched"] = other_patches
    report["events"] = [_event(e) for e in result.events]
    report["statusUpdated"] = written is not None
    report["status"] = _go_json_status(status_source)
    if result.error is not None:
        report["syncError"] = _error_text(result.error)
    return report, result.error


def _write_report(report: dict[str, Any], output: str, out: TextIO) -> None:
    if output == "json":
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        yaml.safe_dump(report, out, sort_keys=False, default_flow_style=False)
    out.flush()


def _silence_stdout() -> None:
    """After EPIPE: point fd 1 at /dev/null so the interpreter's last flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _fail(message: str) -> int:
    print(f"jobctl sync: {' '.join(message.split())}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace, notes: _Notes) -> tuple[V1Job, list[V1Pod]]:
    if args.job == _STDIN and args.pods == _STDIN:
        raise InputError("--job and --pods cannot both read standard input")
    job = load_job(args.job, notes)
    pods = load_pods(args.pods, job, notes) if args.pods else []
    return job, pods


def main(argv: list[str]) -> int:
    """Entry point of ``jobctl sync``; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except InputError as err:
        return _fail(str(err))
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    notes = _Notes()
    try:
        now = _parse_now(args.now)
        gates = _parse_gates(args.feature_gates)
        job, pods = _load(args, notes)
    except InputError as err:
        return _fail(str(err))
    except RecursionError:
        return _fail("the input is nested too deeply")
    except Exception as err:  # anything the checks above missed is still bad input
        return _fail(f"cannot use this input: {type(err).__name__}: {_error_text(err)}")
    try:
        override = features.set_feature_gates_during_test(features.DEFAULT_FEATURE_GATE, gates)
    except ValueError as err:
        return _fail(f"--feature-gates: {err}")
    try:
        controller_name = args.controller_name or default_controller_name(job)
        skip = _skip_reason(job, controller_name)
        if skip is not None:
            notes.add(skip)
        else:
            notes.lines.extend(_ignored_pod_reasons(job, pods))
        report, sync_err = run_sync(job, pods, now, controller_name)
    except RecursionError:
        return _fail("the input is nested too deeply")
    except Exception as err:
        return _fail(f"cannot sync this input: {type(err).__name__}: {_error_text(err)}")
    finally:
        override.restore()
    for line in notes.lines:
        print(f"jobctl sync: {line}", file=sys.stderr)
    try:
        _write_report(report, args.output, sys.stdout)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    return 1 if sync_err is not None else 0
