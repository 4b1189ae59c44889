"""`make run`: jobctl on a real control plane, with the example Jobs.

Without ``KUBECONFIG``: build or reuse kube-apiserver and etcd, start them on loopback,
start the pod simulator (there is no kubelet) and the ``jobctl`` binary, apply the Jobs
in ``examples/jobs/``, print their progress like ``kubectl get jobs -w`` until every one
has finished, and tear everything down.

With ``KUBECONFIG=...``: run the ``jobctl`` binary against that cluster (extra flags may
be passed in ``JOBCTL_ARGS``).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import V1Job

from jobctl.client.interface import Interface
from jobctl.testing.control_plane import ControlPlane, find_assets, jobctl_args
from jobctl.testing.pod_simulator import PodSimulator

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "jobs"
NAMESPACE = "default"
TIMEOUT = 240.0


def _load_jobs() -> list[V1Job]:
    jobs = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Job":
                jobs.append(V1Job.model_validate(doc))
    return jobs


def _finished(job: V1Job) -> str:
    for cond in (job.status and job.status.conditions) or []:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return str(cond.type)
    return ""


def _row(job: V1Job, started: float) -> tuple[Any, ...]:
    status = job.status
    spec = job.spec
    state = _finished(job) or ("Suspended" if spec.suspend else "Running")
    completions = f"{status.succeeded or 0}/{spec.completions if spec.completions else '-'}"
    return (
        job.metadata.name,
        state,
        completions,
        status.active or 0,
        status.ready or 0,
        status.failed or 0,
        status.terminating or 0,
        status.completed_indexes or "",
        status.failed_indexes or "",
        f"{time.monotonic() - started:.0f}s",
    )


HEADER = (
    "NAME",
    "STATUS",
    "COMPLETIONS",
    "ACTIVE",
    "READY",
    "FAILED",
    "TERMINATING",
    "COMPLETED-IDX",
    "FAILED-IDX",
    "AGE",
)
FORMAT = "{:<20} {:<10} {:<12} {:<7} {:<6} {:<7} {:<12} {:<14} {:<11} {:<5}"


def _watch_table(client: Interface, names: list[str]) -> bool:
    """Print a row whenever a Job changes; return True once all of them finished."""
    print(FORMAT.format(*HEADER), flush=True)
    last: dict[str, tuple[Any, ...]] = {}
    started = time.monotonic()
    jobs_client = client.batch_v1().jobs(NAMESPACE)
    while time.monotonic() - started < TIMEOUT:
        done = 0
        for job in jobs_client.list().items:
            name = job.metadata.name
            if name not in names:
                continue
            row = _row(job, started)
            if last.get(name, ())[:-1] != row[:-1]:
                print(FORMAT.format(*(str(v) for v in row)), flush=True)
                last[name] = row
            done += bool(_finished(job))
        if done == len(names):
            return True
        time.sleep(0.5)
    return False


def _run_against(kubeconfig: str) -> int:
    args = [sys.executable, "-m", "jobctl", "--kubeconfig", kubeconfig]
    args += shlex.split(os.environ.get("JOBCTL_ARGS", ""))
    print("running:", " ".join(args), flush=True)
    return subprocess.call(args)


def main() -> int:
    kubeconfig = os.environ.get("KUBECONFIG")
    if kubeconfig:
        return _run_against(kubeconfig)

    from jobctl.client.real import load_configuration, new_for_config

    print("starting a local control plane (kube-apiserver + etcd)...", flush=True)
    control_plane = ControlPlane(find_assets()).start()
    jobctl: subprocess.Popen[bytes] | None = None
    simulator: PodSimulator | None = None
    try:
        configuration = load_configuration(str(control_plane.admin_kubeconfig), None, None)
        client = new_for_config(configuration, qps=100.0, burst=200)
        simulator = PodSimulator(client, namespace=NAMESPACE).start()
        log_path = control_plane.workdir / "jobctl.log"
        print(f"starting jobctl (log: {log_path})", flush=True)
        with log_path.open("wb") as log_file:
            jobctl = subprocess.Popen(
                # No kube-controller-manager runs here, so jobctl takes the built-in name.
                jobctl_args(control_plane.admin_kubeconfig, "kubernetes.io/job-controller"),
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        jobs = _load_jobs()
        for job in jobs:
            client.batch_v1().jobs(NAMESPACE).create(job)
        print(f"applied {len(jobs)} Jobs from {EXAMPLES.relative_to(REPO)}/", flush=True)
        ok = _watch_table(client, [j.metadata.name for j in jobs])
        print("all Jobs finished" if ok else f"timed out after {TIMEOUT:.0f}s", flush=True)
        return 0 if ok else 1
    finally:
        if jobctl is not None:
            jobctl.send_signal(signal.SIGTERM)
            try:
                jobctl.wait(30)
            except subprocess.TimeoutExpired:
                jobctl.kill()
        if simulator is not None:
            simulator.stop()
        control_plane.stop()


if __name__ == "__main__":
    sys.exit(main())
