"""Tests for the jobctl command line (jobctl/__main__.py).

The error paths run the real binary (``python -m jobctl``) so that what reaches
stderr, and the exit code, are exactly what a user sees.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest

from jobctl.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_jobctl(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "jobctl", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("arg", ["version", "--version"])
def test_version(arg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([arg]) == 0
    out = capsys.readouterr().out
    assert out == "jobctl 0.1.0 (Kubernetes Job controller v1.37.2)\n"


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--concurrent-job-syncs" in out
    assert "--leader-elect-lease-duration" in out
    assert "--controller-name" in out


def test_bad_flag_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--concurrent-job-syncs=0"]) == 2
    err = capsys.readouterr().err
    assert err == "jobctl: error: concurrent-job-syncs must be greater than 0, but got 0\n"


def test_sync_subcommand_dispatches(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 3

    module = types.ModuleType("jobctl.app.sync_command")
    module.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jobctl.app.sync_command", module)
    assert main(["sync", "--namespace", "ns", "job-a"]) == 3
    assert seen == [["--namespace", "ns", "job-a"]]


def test_bad_flag_exit_code_and_single_line() -> None:
    proc = run_jobctl("--leader-elect-lease-duration=15")
    assert proc.returncode == 2
    assert (
        proc.stderr
        == 'jobctl: error: argument --leader-elect-lease-duration: time: invalid duration "15"\n'
    )
    assert proc.stdout == ""


def test_bad_feature_gate_single_line() -> None:
    proc = run_jobctl("--feature-gates=NoSuchGate=true")
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("jobctl: error: invalid --feature-gates: ")
    assert "NoSuchGate" in lines[0]


def test_unreachable_server_single_line() -> None:
    port = unused_port()
    proc = run_jobctl(
        f"--master=http://127.0.0.1:{port}",
        "--startup-probe-timeout=300ms",
        "--port=0",
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        f"jobctl: cannot reach the API server at http://127.0.0.1:{port}: "
        "connection refused (gave up after 0.3s)\n"
    )
    assert "Traceback" not in proc.stderr


def test_bad_kubeconfig_single_line(tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("clusters: [unterminated\n")
    proc = run_jobctl(f"--kubeconfig={bad}", "--port=0")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"jobctl: invalid client configuration: kubeconfig {bad}: ")


def test_unimplemented_alpha_gate_refused_in_one_line() -> None:
    result = run_jobctl("--feature-gates=GenericWorkload=true,WorkloadWithJob=true")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "WorkloadWithJob" in lines[0]
    assert "does not implement" in lines[0]
