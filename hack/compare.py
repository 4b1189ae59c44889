"""`hack/compare`: jobctl side by side with the upstream Job controller.

Each scenario of ``hack/compare_scenarios.yaml`` runs twice, at the same time, on one
kube-apiserver with one pod simulator: once as a plain Job (run by the upstream
kube-controller-manager, started with only its Job controller) and once with
``spec.managedBy`` set to jobctl's controller name (run by the ``jobctl`` binary). The
observable results are compared: final status counters and indexes, the conditions
(type, status, reason) in order, event reasons with counts, the number of pods created
and the tracking finalizers left on pods. Accepted differences, each with its reason,
live in ``hack/compare_deviations.yaml``.

Usage: ``python -m hack.compare [--only NAME ...] [--json FILE]``. Exit code 1 when a
difference is not listed as an accepted deviation.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch

from jobctl.testing.control_plane import (
    ControlPlane,
    find_assets,
    jobctl_args,
    kube_controller_manager_args,
)
from jobctl.testing.pod_simulator import PodSimulator

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "compare_scenarios.yaml"
DEVIATIONS = HERE / "compare_deviations.yaml"
JOBCTL_NAME = "jobctl.dev/job-controller"
UPSTREAM = "upstream"
JOBCTL = "jobctl"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
DEFAULT_TIMEOUT = 60.0
SETTLE_SECONDS = 3.0
CONTROLLERS_READY_TIMEOUT = 60.0
SETTLE_TIMEOUT = 30.0

DEFAULT_TEMPLATE: dict[str, Any] = {
    "spec": {
        "nodeName": "sim-node",
        "restartPolicy": "Never",
        "containers": [{"name": "work", "image": "busybox"}],
    }
}


@dataclass
class Observation:
    """What one controller made of one scenario."""

    finished: bool = False
    status: dict[str, Any] = field(default_factory=dict)
    conditions: list[tuple[str, str, str]] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    pods_created: int = 0
    finalizers_left: int = 0
    seconds: float = 0.0


def load_scenarios(path: Path = SCENARIOS) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text())["scenarios"])


def load_deviations(path: Path = DEVIATIONS) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return list(yaml.safe_load(path.read_text()).get("deviations") or [])


def build_job(scenario: dict[str, Any], managed_by: str | None) -> dict[str, Any]:
    template = copy.deepcopy(DEFAULT_TEMPLATE)
    template["metadata"] = {"annotations": dict(scenario.get("annotations") or {})}
    spec: dict[str, Any] = {"template": template}
    spec.update(copy.deepcopy(scenario.get("spec") or {}))
    if managed_by:
        spec["managedBy"] = managed_by
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": scenario["name"]},
        "spec": spec,
    }


class PodCounter:
    """Counts distinct pods per namespace through one cluster-wide watch."""

    def __init__(self, api: k8s.ApiClient) -> None:
        self._core = k8s.CoreV1Api(api)
        self._uids: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watch = k8s_watch.Watch()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> PodCounter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._watch.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for event in self._watch.stream(
                    self._core.list_pod_for_all_namespaces, timeout_seconds=60
                ):
                    pod = event["object"]
                    with self._lock:
                        self._uids.setdefault(pod.metadata.namespace, set()).add(pod.metadata.uid)
            except Exception:  # reconnect after apiserver hiccups
                time.sleep(0.2)

    def count(self, namespace: str) -> int:
        with self._lock:
            return len(self._uids.get(namespace, ()))


def _finished(job: k8s.V1Job) -> bool:
    return any(
        c.type in ("Complete", "Failed") and c.status == "True"
        for c in (job.status.conditions or [] if job.status else [])
    )


def run_one(
    api: k8s.ApiClient,
    pods: PodCounter,
    scenario: dict[str, Any],
    managed_by: str | None,
) -> Observation:
    """Create the scenario's Job in a fresh namespace, drive its steps, observe it."""
    core = k8s.CoreV1Api(api)
    batch = k8s.BatchV1Api(api)
    namespace = f"cmp-{uuid.uuid4().hex[:8]}"
    name = scenario["name"]
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    started = time.monotonic()
    batch.create_namespaced_job(namespace, build_job(scenario, managed_by))
    steps = list(scenario.get("steps") or [])
    timeout = float(scenario.get("timeout", DEFAULT_TIMEOUT))
    observation = Observation()
    job = None
    while time.monotonic() - started < timeout:
        elapsed = time.monotonic() - started
        while steps and elapsed >= float(steps[0].get("after", 0)):
            _apply_step(core, batch, namespace, name, steps.pop(0))
        job = batch.read_namespaced_job(name, namespace)
        if not steps and _finished(job):
            observation.finished = True
            break
        time.sleep(0.2)
    observation.seconds = round(time.monotonic() - started, 1)
    _settle(core, batch, namespace, name, pods)
    _fill(observation, core, batch, namespace, name, pods)
    return observation


def _fill(
    observation: Observation,
    core: k8s.CoreV1Api,
    batch: k8s.BatchV1Api,
    namespace: str,
    name: str,
    pods: PodCounter,
) -> None:
    """Read the Job, its events and pods into ``observation``."""
    job = batch.read_namespaced_job(name, namespace)
    status = job.status
    observation.status = {
        "active": status.active or 0,
        "ready": status.ready or 0,
        "terminating": status.terminating or 0,
        "succeeded": status.succeeded or 0,
        "failed": status.failed or 0,
        "completedIndexes": status.completed_indexes or "",
        "failedIndexes": status.failed_indexes,
        "uncounted": bool(
            status.uncounted_terminated_pods
            and (
                status.uncounted_terminated_pods.succeeded
                or status.uncounted_terminated_pods.failed
            )
        ),
    }
    observation.conditions = [(c.type, c.status, c.reason or "") for c in (status.conditions or [])]
    reasons: Counter[str] = Counter()
    for event in core.list_namespaced_event(namespace).items:
        if event.involved_object.kind == "Job":
            reasons[event.reason] += event.count or 1
    observation.events = dict(sorted(reasons.items()))
    observation.pods_created = pods.count(namespace)
    observation.finalizers_left = sum(
        TRACKING_FINALIZER in (p.metadata.finalizers or [])
        for p in core.list_namespaced_pod(namespace).items
    )


def _final_event_reason(observation: Observation) -> str | None:
    """The event reason the controller records with the terminal condition, if any."""
    for kind, status, reason in observation.conditions:
        if status == "True" and kind == "Complete":
            return "Completed"
        if status == "True" and kind == "Failed":
            return reason
    return None


def _settle(
    core: k8s.CoreV1Api, batch: k8s.BatchV1Api, namespace: str, name: str, pods: PodCounter
) -> None:
    """Wait until what is compared stops changing for SETTLE_SECONDS.

    Events are written asynchronously and behind the controller's client rate limiter,
    so under load the event of the terminal condition can land seconds after the
    condition; it is waited for too. Bounded by SETTLE_TIMEOUT: whatever has not
    arrived by then is reported as a difference.
    """
    deadline = time.monotonic() + SETTLE_TIMEOUT
    last: Observation | None = None
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        current = Observation()
        _fill(current, core, batch, namespace, name, pods)
        now = time.monotonic()
        if last is None or asdict(current) != asdict(last):
            last, quiet_since = current, now
        else:
            wanted = _final_event_reason(current)
            if now - quiet_since >= SETTLE_SECONDS and (wanted is None or wanted in current.events):
                return
        time.sleep(0.2)


def _apply_step(
    core: k8s.CoreV1Api, batch: k8s.BatchV1Api, namespace: str, name: str, step: dict[str, Any]
) -> None:
    if "patch" in step:
        batch.patch_namespaced_job(name, namespace, step["patch"])
    if "delete_pods" in step:
        active = [
            p
            for p in core.list_namespaced_pod(namespace).items
            if p.status.phase in ("Pending", "Running") and not p.metadata.deletion_timestamp
        ]
        for pod in sorted(active, key=lambda p: p.metadata.name)[: int(step["delete_pods"])]:
            core.delete_namespaced_pod(pod.metadata.name, namespace)


def differences(
    name: str, upstream: Observation, ours: Observation, deviations: list[dict[str, str]]
) -> tuple[list[str], list[str]]:
    """Return (unexplained, accepted) differences between the two observations."""
    accepted_fields = {d["field"]: d["reason"] for d in deviations if d["scenario"] == name}
    unexplained: list[str] = []
    accepted: list[str] = []
    pairs: dict[str, tuple[Any, Any]] = {
        "finished": (upstream.finished, ours.finished),
        "conditions": (upstream.conditions, ours.conditions),
        "events": (upstream.events, ours.events),
        "pods_created": (upstream.pods_created, ours.pods_created),
        "finalizers_left": (upstream.finalizers_left, ours.finalizers_left),
    }
    for key, value in upstream.status.items():
        pairs[f"status.{key}"] = (value, ours.status.get(key))
    for key, (up, jc) in pairs.items():
        if up == jc:
            continue
        line = f"{key}: upstream={up!r} jobctl={jc!r}"
        if key in accepted_fields:
            accepted.append(f"{line} (accepted: {accepted_fields[key]})")
        else:
            unexplained.append(line)
    return unexplained, accepted


@contextmanager
def controllers(cp: ControlPlane, qps: int, burst: int) -> Iterator[None]:
    """Run upstream kube-controller-manager (job controller only) and the jobctl binary."""
    assets = find_assets(with_kcm=True)
    kcm_log = (cp.workdir / "kube-controller-manager.log").open("wb")
    jobctl_log = (cp.workdir / "jobctl.log").open("wb")
    kcm = subprocess.Popen(
        kube_controller_manager_args(assets, cp.admin_kubeconfig, "job", qps, burst),
        stdout=kcm_log,
        stderr=subprocess.STDOUT,
    )
    jobctl = subprocess.Popen(
        jobctl_args(
            cp.admin_kubeconfig,
            JOBCTL_NAME,
            f"--kube-api-qps={qps}",
            f"--kube-api-burst={burst}",
        ),
        stdout=jobctl_log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield
    finally:
        for proc in (jobctl, kcm):
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        kcm_log.close()
        jobctl_log.close()


def wait_for_controllers(api: k8s.ApiClient, timeout: float = CONTROLLERS_READY_TIMEOUT) -> None:
    """Wait until both controllers reconcile Jobs, so that no scenario starts early.

    One suspended canary Job per controller: its Suspended condition shows that the
    controller's caches synced and its workers run. Without this, a controller that
    starts slower (the Python process) would first see Jobs already past their steps.
    """
    core = k8s.CoreV1Api(api)
    batch = k8s.BatchV1Api(api)
    namespace = f"cmp-canary-{uuid.uuid4().hex[:8]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    names = []
    for label, managed_by in ((UPSTREAM, None), (JOBCTL, JOBCTL_NAME)):
        canary = build_job({"name": f"canary-{label}", "spec": {"suspend": True}}, managed_by)
        batch.create_namespaced_job(namespace, canary)
        names.append(canary["metadata"]["name"])
    deadline = time.monotonic() + timeout
    waiting = list(names)
    while waiting:
        waiting = [
            name
            for name in names
            if not any(
                c.type == "Suspended" and c.status == "True"
                for c in (batch.read_namespaced_job(name, namespace).status.conditions or [])
            )
        ]
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"controllers not reconciling after {timeout:.0f}s: {waiting}")
        time.sleep(0.2)


def run_comparison(
    cp: ControlPlane, scenarios: list[dict[str, Any]], qps: int = 20, burst: int = 30
) -> dict[str, dict[str, Observation]]:
    """Run every scenario under both controllers concurrently; return the observations."""
    from jobctl.client.real import load_configuration, new_for_config

    api = k8s_config.new_client_from_config(str(cp.admin_kubeconfig))
    sim_client = new_for_config(
        load_configuration(str(cp.admin_kubeconfig), None, None), qps=500.0, burst=1000
    )
    results: dict[str, dict[str, Observation]] = {s["name"]: {} for s in scenarios}
    errors: list[str] = []

    def worker(scenario: dict[str, Any], label: str, managed_by: str | None) -> None:
        try:
            results[scenario["name"]][label] = run_one(api, counter, scenario, managed_by)
        except Exception as err:
            errors.append(f"{scenario['name']}/{label}: {err}")

    counter = PodCounter(api).start()
    simulator = PodSimulator(sim_client).start()
    try:
        with controllers(cp, qps, burst):
            wait_for_controllers(api)
            threads = []
            for scenario in scenarios:
                for label, managed_by in ((UPSTREAM, None), (JOBCTL, JOBCTL_NAME)):
                    t = threading.Thread(target=worker, args=(scenario, label, managed_by))
                    t.start()
                    threads.append(t)
            for t in threads:
                t.join()
    finally:
        simulator.stop()
        counter.stop()
    if errors:
        raise RuntimeError("; ".join(errors))
    return results


def report(
    results: dict[str, dict[str, Observation]], deviations: list[dict[str, str]]
) -> tuple[int, list[str]]:
    """Print one line per scenario; return (unexplained count, lines)."""
    lines = []
    bad = 0
    for name, obs in results.items():
        unexplained, accepted = differences(name, obs[UPSTREAM], obs[JOBCTL], deviations)
        verdict = "same" if not unexplained else "DIFFERENT"
        bad += bool(unexplained)
        final = obs[JOBCTL].conditions[-1][0] if obs[JOBCTL].conditions else "-"
        lines.append(
            f"{name:<48} {verdict:<10} {final:<10} "
            f"upstream {obs[UPSTREAM].seconds:>5.1f}s  jobctl {obs[JOBCTL].seconds:>5.1f}s"
        )
        lines += [f"    {d}" for d in unexplained + accepted]
    return bad, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hack/compare", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="scenario names to run")
    parser.add_argument("--json", help="write the observations to this file")
    args = parser.parse_args(argv)
    scenarios = load_scenarios()
    if args.only:
        scenarios = [s for s in scenarios if s["name"] in args.only]
    with ControlPlane(find_assets(with_kcm=True)) as cp:
        results = run_comparison(cp, scenarios)
    bad, lines = report(results, load_deviations())
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {n: {k: asdict(v) for k, v in o.items()} for n, o in results.items()}, indent=2
            )
        )
    print(f"{len(results) - bad} same, {bad} different")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
