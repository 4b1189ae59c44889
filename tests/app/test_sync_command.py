"""Tests of ``jobctl sync`` (jobctl/app/sync_command.py) on the examples in examples/sync."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobctl.app.sync_command import main
from jobctl.k8s_libs import features

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "sync"
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

    created = report["podsCreated"]
    assert [(p["generateName"], p["finalizers"]) for p in created] == [
        ("workers-", ["batch.kubernetes.io/job-tracking"]),
        ("workers-", ["batch.kubernetes.io/job-tracking"]),
    ]
    names = [p["name"] for p in created]
    assert all(n.startswith("workers-") and len(n) == len("workers-") + 5 for n in names)
    assert len(set(names)) == 2
    # RealPodControl's event for each pod, named as the API server named it.
    assert sorted(e["message"] for e in report["events"]) == sorted(
        f"Created pod: {n}" for n in names
    )
    assert {(e["type"], e["reason"]) for e in report["events"]} == {("Normal", "SuccessfulCreate")}
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
    created = report["podsCreated"]
    assert [{k: v for k, v in p.items() if k != "name"} for p in created] == [
        {
            "generateName": f"sharded-{i}-",
            "completionIndex": i,
            "hostname": f"sharded-{i}",
            "finalizers": ["batch.kubernetes.io/job-tracking"],
        }
        for i in range(3)
    ]
    assert [p["name"][:-5] for p in created] == [f"sharded-{i}-" for i in range(3)]


def test_managed_by_another_controller(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """By default the Job's own managedBy is the controller; another name skips it, saying why."""
    job = yaml.safe_load((EXAMPLES / "scale-up" / "job.yaml").read_text())
    job["spec"]["managedBy"] = "example.com/other"
    job_file = tmp_path / "job.yaml"
    job_file.write_text(yaml.safe_dump(job))
    pods = str(EXAMPLES / "scale-up" / "pods.yaml")

    code, report, err = run(capsys, "--job", str(job_file), "--pods", pods, "--now", NOW)
    assert code == 0
    assert err == ""
    assert report is not None
    assert len(report["podsCreated"]) == 2

    code, report, err = run(
        capsys,
        "--job",
        str(job_file),
        "--pods",
        pods,
        "--now",
        NOW,
        "--controller-name",
        "jobctl.dev/job-controller",
    )
    assert code == 0
    assert report is not None
    assert report["podsCreated"] == []
    assert report["statusUpdated"] is False
    assert err == (
        "jobctl sync: skipped: spec.managedBy is example.com/other, and this controller is "
        "jobctl.dev/job-controller (--controller-name example.com/other syncs it)\n"
    )


def test_managed_by_example_syncs_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/managed-by-job.yaml (managedBy jobctl.dev/job-controller) gets its pods."""
    code, report, err = run(capsys, "--job", str(ROOT / "examples" / "managed-by-job.yaml"))
    assert code == 0, err
    assert err == ""
    assert report is not None
    assert [p["generateName"] for p in report["podsCreated"]] == ["managed-by-jobctl-"] * 2
    assert report["status"]["active"] == 2


def test_job_without_managed_by_is_skipped_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without spec.managedBy the Job is KCM's: jobctl's default controller skips it."""
    job = yaml.safe_load((EXAMPLES / "scale-up" / "job.yaml").read_text())
    del job["spec"]["managedBy"]
    job_file = _write(tmp_path, "job.yaml", yaml.safe_dump(job))
    code, report, err = run(capsys, "--job", job_file, "--now", NOW)
    assert code == 0
    assert report is not None and report["podsCreated"] == []
    assert err == (
        "jobctl sync: skipped: spec.managedBy is unset, so kubernetes.io/job-controller "
        "manages it, and this controller is jobctl.dev/job-controller (--controller-name "
        "kubernetes.io/job-controller syncs it)\n"
    )
    code, report, err = run(
        capsys, "--job", job_file, "--now", NOW, "--controller-name", "kubernetes.io/job-controller"
    )
    assert code == 0 and err == ""
    assert report is not None and len(report["podsCreated"]) == 3


def test_finished_job_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    job = yaml.safe_load((EXAMPLES / "scale-up" / "job.yaml").read_text())
    job["status"]["conditions"] = [
        {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:05:00Z"}
    ]
    job_file = _write(tmp_path, "job.yaml", yaml.safe_dump(job))
    code, report, err = run(capsys, "--job", job_file, "--now", NOW)
    assert code == 0
    assert report is not None and report["podsCreated"] == []
    assert err == "jobctl sync: the Job is already finished (Complete=True): nothing to sync\n"


def _pod(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **meta},
        "status": {"phase": "Running"},
    }


def test_ignored_pods_are_explained(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Pods the sync leaves out (ClaimPods' rules) each get one line saying why."""
    uid = "33333333-3333-3333-3333-333333333333"
    own = {"batch.kubernetes.io/controller-uid": uid}
    other_ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web",
        "uid": "rs-1",
        "controller": True,
    }
    pods = [
        _pod("elsewhere", namespace="other", labels=own),
        _pod("stranger", labels={"app": "x"}),
        _pod("foreign", labels=own, ownerReferences=[other_ref]),
        _pod("orphan", labels=own),  # matches, no owner: adopted, not ignored
    ]
    pods_file = _write(tmp_path, "pods.yaml", yaml.safe_dump_all(pods))
    code, report, err = run(
        capsys,
        "--job",
        str(EXAMPLES / "scale-up" / "job.yaml"),
        "--pods",
        pods_file,
        "--now",
        NOW,
    )
    assert code == 0
    assert report is not None
    assert err.splitlines() == [
        "jobctl sync: pod other/elsewhere ignored: not in the Job's namespace default",
        "jobctl sync: pod stranger ignored: its labels do not match the Job's selector "
        f"batch.kubernetes.io/controller-uid={uid}",
        "jobctl sync: pod foreign ignored: controlled by ReplicaSet web (uid rs-1), not by "
        f"this Job (uid {uid})",
    ]
    # The orphan is adopted (a patch) and counted; the three others are not, so two
    # pods are created to reach parallelism 3.
    assert report["podsPatched"] == ["orphan"]
    assert len(report["podsCreated"]) == 2


def test_pod_deletion_event(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_example(capsys, "fail-job-policy")
    assert {
        "type": "Normal",
        "reason": "SuccessfulDelete",
        "message": "Deleted pod: trainer-q9w3z",
    } in (report["events"])


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--job",
            str(EXAMPLES / "scale-up" / "job.yaml"),
            "--pods",
            str(EXAMPLES / "scale-up" / "pods.yaml"),
            "--now",
            NOW,
            "-o",
            "json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert report == yaml.safe_load(out)  # JSON is YAML: same content either way
    assert len(report["podsCreated"]) == 2
    assert report["status"]["active"] == 3


def test_unknown_fields_are_ignored_as_live(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A Job and pods from a newer server decode as the live decoder decodes them."""
    job = yaml.safe_load((EXAMPLES / "scale-up" / "job.yaml").read_text())
    job["spec"]["futureKnob"] = True
    job["spec"]["template"]["spec"]["newPodField"] = {"x": 1}
    pods = yaml.safe_load((EXAMPLES / "scale-up" / "pods.yaml").read_text())
    pods["status"]["newStatusField"] = "y"
    job_file = _write(tmp_path, "job.yaml", yaml.safe_dump(job))
    pods_file = _write(tmp_path, "pods.yaml", yaml.safe_dump(pods))
    code, report, err = run(capsys, "--job", job_file, "--pods", pods_file, "--now", NOW)
    assert code == 0, err
    assert report is not None and len(report["podsCreated"]) == 2
    assert sorted(err.splitlines()) == sorted(
        [
            f"jobctl sync: warning: {job_file}: invalid Job: unknown field "
            "'spec.futureKnob' ignored",
            f"jobctl sync: warning: {job_file}: invalid Job: unknown field "
            "'spec.template.spec.newPodField' ignored",
            f"jobctl sync: warning: {pods_file}: item 1: invalid Pod: unknown field "
            "'status.newStatusField' ignored",
        ]
    )


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
        pytest.param(
            {"job.yaml": "a: " + "[" * 2000 + "]" * 2000 + "\n"},
            [],
            "nested too deeply",
            id="2000-deep list",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {completionMode: Indexed, parallelism: 2, "
                "template: {spec: {containers: []}}}\n"
            },
            [],
            "spec.completions: Required value: when completion mode is Indexed",
            id="indexed without completions",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {parallelism: -1, template: {spec: {containers: []}}}\n"
            },
            [],
            "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
            id="negative parallelism",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {completions: 3000000000, template: {spec: {containers: []}}}\n"
            },
            [],
            "spec.completions: Invalid value: 3000000000: out of range for int32",
            id="int32 overflow",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {backoffLimitPerIndex: 1, template: {spec: {containers: []}}}\n"
            },
            [],
            "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode",
            id="per-index backoff without Indexed",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {selector: {matchLabels: {x: y}}, template: {metadata: {labels: {a: b}}, "
                "spec: {containers: []}}}\n"
            },
            [],
            "spec.template.metadata.labels: Invalid value: map[a:b]: `selector` does not "
            "match template `labels`",
            id="selector outside the template",
        ),
        pytest.param(
            {
                "job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
                "spec: {completions: '3', template: {spec: {containers: []}}}\n"
            },
            [],
            "spec.completions: Input should be a valid integer",
            id="string for an integer",
        ),
        pytest.param({}, ["--pods", "-", "--job", "-"], "cannot both read", id="stdin twice"),
        pytest.param({}, ["-o", "xml"], "invalid choice", id="bad output"),
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


def _jobctl(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONFAULTHANDLER": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "jobctl", "sync", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        **kwargs,
    )


def test_stdin_job_and_pods() -> None:
    """``--job -`` and ``--pods -`` read standard input (the whole process)."""
    job_text = (EXAMPLES / "scale-up" / "job.yaml").read_bytes()
    proc = _jobctl("--job", "-", "--now", NOW)
    out, err = proc.communicate(job_text, timeout=120)
    assert proc.returncode == 0, err
    assert err == b""
    assert len(yaml.safe_load(out)["podsCreated"]) == 3

    pods_text = (EXAMPLES / "scale-up" / "pods.yaml").read_bytes()
    job_file = str(EXAMPLES / "scale-up" / "job.yaml")
    proc = _jobctl("--job", job_file, "--pods", "-", "--now", NOW, "-o", "json")
    out, err = proc.communicate(pods_text, timeout=120)
    assert proc.returncode == 0, err
    assert len(json.loads(out)["podsCreated"]) == 2


def test_closed_stdout_exits_quietly() -> None:
    """Output to a reader that went away (``| head -1``): no traceback, SIGPIPE's status."""
    proc = _jobctl("--job", "-", "--now", NOW)
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.close()  # the reader is gone before anything is written
    proc.stdin.write((EXAMPLES / "scale-up" / "job.yaml").read_bytes())
    proc.stdin.close()
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""


def test_piped_to_head(tmp_path: Path) -> None:
    """The pipeline a person types, on an output larger than the pipe's buffer: one line
    out, nothing on stderr, SIGPIPE's status for the writer."""
    job = _write(
        tmp_path,
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: big}\n"
        "spec: {completionMode: Indexed, completions: 2000, parallelism: 2000, "
        "template: {spec: {restartPolicy: Never, containers: [{name: c, image: x}]}}}\n",
    )
    err_file = tmp_path / "err"
    cmd = (
        f"set -o pipefail; '{sys.executable}' -m jobctl sync --job '{job}' --now {NOW} "
        f"--controller-name kubernetes.io/job-controller 2>'{err_file}' | head -1"
    )
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=300, check=False)
    assert proc.stdout == b"podsCreated:\n"
    assert err_file.read_bytes() == b""
    assert proc.returncode == 141
