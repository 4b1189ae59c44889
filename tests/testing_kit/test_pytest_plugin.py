"""The testing kit: the pytest plugin's fixtures, RecordingPodControl and SyncResult."""

from __future__ import annotations

import random
from collections.abc import Callable
from importlib.metadata import entry_points

import pytest
from kubernetes.client import V1JobStatus

from jobctl.client.errors import StatusError, new_not_found
from jobctl.controller.controller_utils import FakePodControl
from jobctl.k8s_libs import features
from jobctl.record.fake import new_fake_recorder
from jobctl.testing.builders import new_controller_ref, new_job, new_pod_list
from jobctl.testing.job_harness import JobHarness, StatusCounts
from jobctl.testing.pod_control import RecordingPodControl, generate_name
from jobctl.testing.pytest_plugin import JOB_HARNESS_NOW, FeatureGates

GATE = features.MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS


def test_plugin_is_registered_as_pytest11() -> None:
    eps = entry_points(group="pytest11")
    assert [ep.value for ep in eps if ep.name == "jobctl"] == ["jobctl.testing.pytest_plugin"]


def test_job_harness_fixture(job_harness: JobHarness) -> None:
    assert job_harness.clock.now() == JOB_HARNESS_NOW
    job = new_job(2, 2, 6)
    job_harness.add_job(job)
    result = job_harness.sync_ok(job)
    names = sorted(p.name for p in result.created_pods)
    assert len(names) == 2
    assert sorted(result.events) == [f"Normal SuccessfulCreate Created pod: {n}" for n in names]


def test_job_harness_factory_closes_every_harness(
    job_harness_factory: Callable[..., JobHarness],
) -> None:
    h = job_harness_factory(controller_name="example.com/x")
    assert h.controller.controller_name == "example.com/x"
    assert not h.controller.queue.shutting_down()


def test_feature_gates_set_and_restored() -> None:
    cleanups: list[Callable[[], None]] = []
    gates = FeatureGates(cleanups.append)
    before = gates.enabled(GATE)
    gates.set(GATE, not before)
    assert gates.enabled(GATE) is (not before)
    gates.set_many({GATE: before})
    for fn in reversed(cleanups):
        fn()
    assert gates.enabled(GATE) is before
    assert not features.DEFAULT_FEATURE_GATE.explicitly_set(GATE)


def test_feature_gates_refuses_a_locked_gate(feature_gates: FeatureGates) -> None:
    with pytest.raises(ValueError, match="locked"):
        feature_gates.set(features.JOB_MANAGED_BY, False)
    assert feature_gates.enabled(features.JOB_MANAGED_BY)


@pytest.mark.feature_gates(MutableSchedulingDirectivesForSuspendedJobs=False)
class TestMarker:
    def test_class_marker_applies(self) -> None:
        assert not features.DEFAULT_FEATURE_GATE.enabled(GATE)

    @pytest.mark.feature_gates(MutableSchedulingDirectivesForSuspendedJobs=True)
    def test_closest_marker_wins(self) -> None:
        assert features.DEFAULT_FEATURE_GATE.enabled(GATE)


def test_marker_restored_after_class() -> None:
    assert features.DEFAULT_FEATURE_GATE.enabled(GATE)
    assert not features.DEFAULT_FEATURE_GATE.explicitly_set(GATE)


def test_generate_name_truncates_like_simple_name_generator() -> None:
    name = generate_name("x" * 70, random.Random(1))
    assert len(name) == 63 and name.startswith("x" * 58)
    assert generate_name("a-", random.Random("s")) == generate_name("a-", random.Random("s"))


def test_recording_pod_control_events_and_names() -> None:
    job = new_job(1, 1, 6)
    assert job.spec is not None
    recorder = new_fake_recorder(10)
    inner = FakePodControl()
    pc = RecordingPodControl(inner, recorder, seed="s")
    ref = new_controller_ref(job)
    pc.create_pods_with_generate_name("default", job.spec.template, job, ref, "")
    pc.create_pods_with_generate_name("default", job.spec.template, job, ref, "foobar-3-")
    pc.delete_pod("default", "p1", job)
    pc.patch_pod("default", "p2", b"{}")
    assert [c.generate_name for c in pc.created] == ["foobar-", "foobar-3-"]
    assert recorder.drain() == [
        f"Normal SuccessfulCreate Created pod: {pc.created[0].name}",
        f"Normal SuccessfulCreate Created pod: {pc.created[1].name}",
        "Normal SuccessfulDelete Deleted pod: p1",
    ]
    assert [(p.name, p.data) for p in pc.patched] == [("p2", b"{}")]
    assert inner.patches == [b"{}"] and inner.delete_pod_name == ["p1"]


def test_recording_pod_control_failure_events() -> None:
    job = new_job(1, 1, 6)
    assert job.spec is not None
    recorder = new_fake_recorder(10)
    pc = RecordingPodControl(FakePodControl(err=RuntimeError("boom")), recorder)
    with pytest.raises(RuntimeError):
        pc.create_pods("default", job.spec.template, job, new_controller_ref(job))
    with pytest.raises(RuntimeError):
        pc.delete_pod("default", "p1", job)
    assert recorder.drain() == [
        "Warning FailedCreate Error creating: boom",
        "Warning FailedDelete Error deleting: boom",
    ]
    assert pc.created == [] and pc.deleted == []


def test_recording_pod_control_no_event_for_a_pod_already_gone() -> None:
    class _GonePodControl(FakePodControl):
        def delete_pod(self, namespace: str, pod_id: str, obj: object) -> None:
            raise new_not_found("pods", pod_id)

    job = new_job(1, 1, 6)
    recorder = new_fake_recorder(10)
    pc = RecordingPodControl(_GonePodControl(), recorder)
    with pytest.raises(StatusError):
        pc.delete_pod("default", "p1", job)
    assert recorder.drain() == []


def test_sync_result_names_patches_and_reads_counts_as_go() -> None:
    with JobHarness() as h:
        job = new_job(1, 1, 6)
        failed = new_pod_list(1, "Failed", job)[0]
        h.add_job(job)
        h.add_pods([failed])
        result = h.sync_ok(job)
    assert failed.metadata is not None
    assert result.patched_pods == [failed.metadata.name]
    assert result.raw_patches == [p.data for p in result.patches]
    assert result.raw_patches == h.pod_control.patches
    assert result.counts.failed == 1 and result.counts.succeeded == 0
    assert StatusCounts.of(V1JobStatus()) == StatusCounts(0, 0, 0, 0, 0, "", "")
    assert StatusCounts.of(None).active == 0
