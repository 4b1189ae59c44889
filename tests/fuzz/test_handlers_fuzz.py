"""Fuzz the Job controller's informer handlers with generated and mutated objects.

Whatever an informer can deliver (any object that decodes, including one without
metadata, and ``DeletedFinalStateUnknown`` tombstones) must not make a handler raise:
in client-go a panicking handler would crash the process, and here an exception delays
that listener's next notifications.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.client import V1Job, V1Pod

from jobctl.client.decode import DecodeError, decode_object
from jobctl.informers.delta_fifo import DeletedFinalStateUnknown
from jobctl.testing.job_harness import JobHarness
from tests.fuzz.strategies import FUZZ, jobs, mutated, pods

MANY = settings(FUZZ, max_examples=200)


def _decoded(model_cls: type[Any], raw: Any) -> Any | None:
    try:
        return decode_object(model_cls, raw)
    except DecodeError:
        return None


def _models(
    model_cls: type[Any], raw: st.SearchStrategy[Any], bare: bool
) -> st.SearchStrategy[Any]:
    """Objects as an informer delivers them: whatever decodes. With ``bare``, also
    objects reduced to a few keys (no metadata, no spec, no status); without, only
    objects that kept their metadata."""
    if bare:
        raw = raw | st.sampled_from(
            [{}, {"kind": "x"}, {"metadata": {}}, {"spec": {}}, {"status": {}}]
        )
    decoded = raw.map(lambda r: _decoded(model_cls, r))
    if bare:
        return decoded.filter(lambda o: o is not None)
    return decoded.filter(lambda o: o is not None and o.metadata is not None)


_pods = _models(V1Pod, mutated(pods()), bare=True)
_jobs = _models(V1Job, mutated(jobs()), bare=True)
_pods_with_metadata = _models(V1Pod, mutated(pods()), bare=False)
_jobs_with_metadata = _models(V1Job, mutated(jobs()), bare=False)


@pytest.fixture(scope="module")
def harness() -> Iterator[JobHarness]:
    """One controller for all examples; the Job its pods point at is in its cache."""
    with JobHarness() as h:
        base = _decoded(V1Job, _BASE_JOB)
        assert base is not None
        h.add_job(base)
        yield h


_BASE_JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "fuzz-job",
        "namespace": "fuzz",
        "uid": "11111111-2222-3333-4444-555555555555",
    },
    "spec": {
        "selector": {
            "matchLabels": {
                "batch.kubernetes.io/controller-uid": "11111111-2222-3333-4444-555555555555"
            }
        },
        "template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}},
    },
}


def _tombstone(obj: Any) -> DeletedFinalStateUnknown:
    return DeletedFinalStateUnknown(key="fuzz/tombstone", obj=obj)


def _pod_handlers(h: JobHarness, old: V1Pod, cur: V1Pod, tombstone: bool, final: bool) -> None:
    c = h.controller
    c.add_pod(cur)
    c.update_pod(old, cur)
    c.delete_pod(_tombstone(cur) if tombstone else cur, final)


def _job_handlers(h: JobHarness, old: V1Job, cur: V1Job, tombstone: bool) -> None:
    c = h.controller
    c.add_job(cur)
    c.update_job(old, cur)
    c.delete_job(_tombstone(cur) if tombstone else cur)


@MANY
@given(
    old=_pods_with_metadata, cur=_pods_with_metadata, tombstone=st.booleans(), final=st.booleans()
)
def test_pod_handlers_never_raise(
    harness: JobHarness, old: V1Pod, cur: V1Pod, tombstone: bool, final: bool
) -> None:
    _pod_handlers(harness, old, cur, tombstone, final)


@MANY
@given(old=_pods, cur=_pods, tombstone=st.booleans(), final=st.booleans())
def test_pod_handlers_never_raise_on_bare_objects(
    harness: JobHarness, old: V1Pod, cur: V1Pod, tombstone: bool, final: bool
) -> None:
    _pod_handlers(harness, old, cur, tombstone, final)


@MANY
@given(old=_jobs_with_metadata, cur=_jobs_with_metadata, tombstone=st.booleans())
def test_job_handlers_never_raise(
    harness: JobHarness, old: V1Job, cur: V1Job, tombstone: bool
) -> None:
    _job_handlers(harness, old, cur, tombstone)


@MANY
@given(old=_jobs, cur=_jobs, tombstone=st.booleans())
def test_job_handlers_never_raise_on_bare_objects(
    harness: JobHarness, old: V1Job, cur: V1Job, tombstone: bool
) -> None:
    _job_handlers(harness, old, cur, tombstone)
