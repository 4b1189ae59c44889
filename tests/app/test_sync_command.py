"""Tests of ``jobctl sync`` (jobctl/app/sync_command.py) on the examples in examples/sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from jobctl.app.sync_command import main
from jobctl.k8s_libs import features

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sync"
NOW = "2026-01-01T00:10:00Z"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    report = yaml.safe_load(captured.out) if captured.out else None
    return code, report, captured.err


def run_example(capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> dict[str, Any]:
    code, report, err = run(
        capsys,
        "--job",
        str(EXAMPLES / name / "job.yaml"),
        "--pods",
        str(EXAMPLES / name / "pods.yaml"),
        "--now",
        NOW,
        *extra,
    )
    assert code == 0, err
    assert err == ""
    assert report is not None
    return report


def test_indexed_job_with_failed_index(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_example(capsys, "indexed-failed-index")

    # backoffLimitPerIndex 0: index 1 fails at its first failure and is not recreated.
    assert report["podsCreated"] == []
    assert report["podsDeleted"] == []
    assert report["finalizersRemoved"] == ["sharded-1-fghij"]
    assert report["events"] == []
    assert report["statusUpdated"] is True
    assert report["status"] == {
        "active": 2,
        "failed": 1,
        "failedIndexes": "1",
        "ready": 0,
        "startTime": "2026-01-01T00:00:00Z",
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }


def test_pod_failure_policy_fail_job(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_example(capsys, "fail-job-policy")

    # The FailJob rule matches: the running pod is deleted, both are counted as failed,
    # and the interim FailureTarget condition is written before Failed.
    assert report["podsCreated"] == []
    assert report["podsDeleted"] == ["trainer-q9w3z"]
    assert report["finalizersRemoved"] == ["trainer-q9w3z", "trainer-x7k2p"]
    status = report["status"]
    assert status["failed"] == 2
    assert status["terminating"] == 1
    assert "active" not in status
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("FailureTarget", "True", "PodFailurePolicy")
    ]
    assert status["conditions"][0]["message"] == (
        "Container main for pod default/trainer-x7k2p failed with exit code 42 matching "
        "FailJob rule at index 0"
    )
    assert status["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:10:00Z"


def test_scale_up(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_example(capsys, "scale-up")

    assert report["podsCreated"] == [
        {"generateName": "workers-", "finalizers": ["batch.kubernetes.io/job-tracking"]},
        {"generateName": "workers-", "finalizers": ["batch.kubernetes.io/job-tracking"]},
    ]
    assert report["podsDeleted"] == []
    assert report["finalizersRemoved"] == []
    assert report["status"]["active"] == 3
    assert report["status"]["ready"] == 1


def test_indexed_scale_up_without_pods(capsys: pytest.CaptureFixture[str]) -> None:
    """Indexed creations carry index, hostname and generateName; defaults are applied."""
    code, report, err = run(
        capsys, "--job", str(EXAMPLES / "indexed-failed-index" / "job.yaml"), "--now", NOW
    )
    assert code == 0, err
    assert report is not None
    assert report["podsCreated"] == [
        {
            "generateName": f"sharded-{i}-",
            "completionIndex": i,
            "hostname": f"sharded-{i}",
            "finalizers": ["batch.kubernetes.io/job-tracking"],
        }
        for i in range(3)
    ]


def test_managed_by_another_controller(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    job = yaml.safe_load((EXAMPLES / "scale-up" / "job.yaml").read_text())
    job["spec"]["managedBy"] = "example.com/other"
    job_file = tmp_path / "job.yaml"
    job_file.write_text(yaml.safe_dump(job))

    code, report, _ = run(
        capsys,
        "--job",
        str(job_file),
        "--pods",
        str(EXAMPLES / "scale-up" / "pods.yaml"),
        "--now",
        NOW,
    )
    assert code == 0
    assert report is not None
    assert report["podsCreated"] == []
    assert report["statusUpdated"] is False

    code, report, _ = run(
        capsys,
        "--job",
        str(job_file),
        "--pods",
        str(EXAMPLES / "scale-up" / "pods.yaml"),
        "--now",
        NOW,
        "--controller-name",
        "example.com/other",
    )
    assert code == 0
    assert report is not None
    assert len(report["podsCreated"]) == 2


def test_feature_gates_applied_and_restored(capsys: pytest.CaptureFixture[str]) -> None:
    gate = features.DEFAULT_FEATURE_GATE
    before = gate.enabled(features.MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS)
    run_example(
        capsys, "scale-up", "--feature-gates", "MutableSchedulingDirectivesForSuspendedJobs=false"
    )
    assert gate.enabled(features.MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS) == before


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("files", "extra", "want"),
    [
        pytest.param({}, [], "cannot read", id="missing file"),
        pytest.param({"job.yaml": "kind: [Job"}, [], "invalid YAML", id="bad yaml"),
        pytest.param(
            {"job.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"},
            [],
            "expected kind Job, got Pod",
            id="not a job",
        ),
        pytest.param(
            {"job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: 3\n"},
            [],
            "invalid Job",
            id="invalid job",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {template: {spec: {containers: []}}}\n",
                "pods.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\n",
            },
            [],
            "expected kind Pod, got Job",
            id="pods file with a job",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {template: {spec: {containers: []}}}\n"
            },
            ["--now", "yesterday"],
            "--now",
            id="bad now",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {template: {spec: {containers: []}}}\n"
            },
            ["--feature-gates", "NoSuchGate=true"],
            "--feature-gates",
            id="unknown gate",
        ),
        pytest.param({}, ["--bogus"], "unrecognized arguments", id="bad flag"),
    ],
)
def test_bad_input(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    files: dict[str, str],
    extra: list[str],
    want: str,
) -> None:
    args = ["--job", str(tmp_path / "job.yaml")]
    for name, text in files.items():
        path = _write(tmp_path, name, text)
        if name == "pods.yaml":
            args += ["--pods", path]
    code, report, err = run(capsys, *args, *extra)
    assert code == 2
    assert report is None
    assert err.count("\n") == 1, err
    assert err.startswith("jobctl sync: ")
    assert want in err
    assert "Traceback" not in err
