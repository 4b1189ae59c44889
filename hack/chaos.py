"""Fault injection on the real control plane: does jobctl lose or double-count a pod?

A mixed workload (NonIndexed, Indexed, pod failure policy, backoffLimitPerIndex Jobs, at
least ``--pods`` pods in all) runs through ``jobctl.testing.pod_simulator`` against a
real kube-apiserver + etcd (``jobctl.testing.control_plane``). jobctl runs as its own
process (``python -m jobctl``) whose kubeconfig points through a loopback TCP proxy
(``jobctl.testing.blackhole_proxy``). While the Jobs run, at moments drawn from a seeded
RNG, the run:

- SIGKILLs jobctl and starts it again (``--kills``, default 100);
- restarts kube-apiserver on the same port and etcd (``--apiserver-restarts``, default 3);
- black-holes jobctl's connections for ``--drop-seconds`` (default 40) ``--drops`` times
  (default 2): the proxy keeps every socket open and discards every byte, then forwards
  again. No other fault happens during a drop or while its recovery is measured.

Recovery after a drop: the time from traffic flowing again until jobctl counts a pod that
finished during or after the drop (the pod's tracking finalizer is removed only after the
pod is recorded in the Job's status). Target: at most 60 s (``RECOVERY_TARGET``).

At the end, for every Job: it finished; ``succeeded + failed`` equals the pods the
simulator finished for it (for an Indexed Job, succeeded counts indexes, so a second
succeeded pod of an index is not expected to count); no ``uncountedTerminatedPods`` are
left; no pod keeps the ``batch.kubernetes.io/job-tracking`` finalizer; no pod is left
without its Job or still running; and the Job's terminal condition (type and reason) is
the one the Job's plan gives without faults (see ``KINDS``: each kind's exit codes make
the outcome deterministic). Figures are printed (and written as JSON with ``--json``);
the exit code is 1 on any miscount, leaked finalizer, orphan, unfinished Job, wrong
condition or slow recovery, 2 on bad flags, 3 when the run itself could not be carried
out (control plane, deadline).

Everything is bounded: ``--deadline`` (default: derived from the plan) ends the run.

Run: ``hack/chaos [--seed N] [--pods N] [--kills N] [--apiserver-restarts N] [--drops N]
[--drop-seconds S] [--json OUT]``. ``--controller kcm`` puts upstream
kube-controller-manager's Job controller through the same run instead of jobctl (its
Jobs carry no ``managedBy``): a check of the harness and the measure to compare with.
Needs the control plane binaries (``JOBCTL_ASSETS`` or ``hack/build-control-plane.sh``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kubernetes.client import (
    V1Container,
    V1Job,
    V1JobSpec,
    V1ObjectMeta,
    V1Pod,
    V1PodFailurePolicy,
    V1PodFailurePolicyOnExitCodesRequirement,
    V1PodFailurePolicyRule,
    V1PodSpec,
    V1PodTemplateSpec,
)

from jobctl.client import errors
from jobctl.client.interface import DELETED, Interface, ListOptions
from jobctl.testing.blackhole_proxy import BlackholeProxy
from jobctl.testing.control_plane import (
    ControlPlane,
    find_assets,
    jobctl_args,
    kube_controller_manager_args,
)
from jobctl.testing.pod_simulator import EXIT_SCRIPT, RUN_FOR, START_AFTER, PodSimulator

log = logging.getLogger("chaos")

CONTROLLER_NAME = "jobctl.dev/job-controller"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
RECOVERY_TARGET = 60.0
# A drop whose recovery is not seen within this long counts as "not recovered".
RECOVERY_WAIT = 120.0
# Faults need jobctl to have run a little in between, or nothing is exercised.
MIN_GAP = 2.0
MEAN_KILL_GAP = 5.0
APISERVER_RESTART_SECONDS = 20.0


# ---- the workload ----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of Job: its spec knobs, the simulator's exit codes, the outcome they give."""

    name: str
    indexed: bool
    # EXIT_SCRIPT value; "{half}" is replaced by ";".join(["0"] * (completions // 2)).
    script: str
    condition: tuple[str, str]
    backoff_limit: int | None = 6
    backoff_limit_per_index: int | None = None
    # (action, exit codes) rules of a pod failure policy.
    policy: tuple[tuple[str, tuple[int, ...]], ...] = ()


COMPLETE = ("Complete", "CompletionsReached")
KINDS: tuple[Kind, ...] = (
    # The first pod of the Job fails, every later one succeeds.
    Kind("nonindexed", False, "*=1;0", COMPLETE),
    # Index 1 fails once, then succeeds.
    Kind("indexed", True, "1=1;0", COMPLETE),
    # Half the pods succeed, the next exits 42: the policy fails the Job.
    Kind(
        "pfp-failjob",
        False,
        "*={half};42",
        ("Failed", "PodFailurePolicy"),
        policy=(("FailJob", (42,)), ("Count", (1,))),
    ),
    # Two failures counted by the policy, then success.
    Kind(
        "pfp-count",
        False,
        "*=1;1;0",
        COMPLETE,
        policy=(("FailJob", (42,)), ("Count", (1,))),
    ),
    # Index 3 always fails: with a limit of 1 per index it is a failed index.
    Kind(
        "per-index",
        True,
        "2=1;0,3=1",
        ("Failed", "FailedIndexes"),
        backoff_limit=None,
        backoff_limit_per_index=1,
    ),
    # Index 4 exits 3, which the policy turns into a failed index at once.
    Kind(
        "per-index-failindex",
        True,
        "1=1;0,4=3",
        ("Failed", "FailedIndexes"),
        backoff_limit=None,
        backoff_limit_per_index=2,
        policy=(("FailIndex", (3,)), ("Count", (1,))),
    ),
    # Index 0 fails twice within its limit of 2.
    Kind(
        "per-index-ok",
        True,
        "0=1;1;0",
        COMPLETE,
        backoff_limit=None,
        backoff_limit_per_index=2,
    ),
)


@dataclass
class JobPlan:
    name: str
    kind: Kind
    completions: int
    parallelism: int
    run_for: float
    create_at: float  # seconds after the start of the run
    # spec.managedBy; None for Jobs left to kube-controller-manager (``--controller kcm``).
    managed_by: str | None = CONTROLLER_NAME

    def script(self) -> str:
        return self.kind.script.replace("{half}", ";".join(["0"] * (self.completions // 2)))

    def build(self) -> V1Job:
        kind = self.kind
        annotations = {
            RUN_FOR: f"{self.run_for:.2f}",
            START_AFTER: "0.1",
            EXIT_SCRIPT: self.script(),
        }
        template = V1PodTemplateSpec(
            metadata=V1ObjectMeta(annotations=annotations),
            spec=V1PodSpec(
                containers=[V1Container(name="main", image="busybox")],
                restart_policy="Never",
                node_name="sim-node",
            ),
        )
        policy = None
        if kind.policy:
            policy = V1PodFailurePolicy(
                rules=[
                    V1PodFailurePolicyRule(
                        action=action,
                        on_exit_codes=V1PodFailurePolicyOnExitCodesRequirement(
                            operator="In", values=list(codes)
                        ),
                    )
                    for action, codes in kind.policy
                ]
            )
        return V1Job(
            metadata=V1ObjectMeta(name=self.name, labels={"chaos.jobctl.dev/kind": kind.name}),
            spec=V1JobSpec(
                completions=self.completions,
                parallelism=self.parallelism,
                completion_mode="Indexed" if kind.indexed else "NonIndexed",
                backoff_limit=kind.backoff_limit,
                backoff_limit_per_index=kind.backoff_limit_per_index,
                pod_failure_policy=policy,
                managed_by=self.managed_by,
                template=template,
            ),
        )


def min_pods(kind: Kind, completions: int) -> int:
    """The fewest pods a Job of ``kind`` finishes (the FailJob kind stops half-way)."""
    return completions // 2 + 1 if "{half}" in kind.script else completions


def plan_workload(
    rng: random.Random, pods: int, create_window: float, completions: int = 50
) -> list[JobPlan]:
    """Jobs of every kind in turn, ``completions`` pods each, until at least ``pods`` pods
    are sure to finish; creation times spread evenly over ``create_window`` seconds."""
    kinds: list[Kind] = []
    planned = 0
    while planned < pods or len(kinds) < len(KINDS):
        kind = KINDS[len(kinds) % len(KINDS)]
        kinds.append(kind)
        planned += min_pods(kind, completions)
    return [
        JobPlan(
            name=f"{kind.name}-{i:03d}",
            kind=kind,
            completions=completions,
            parallelism=rng.choice((5, 10, 20)),
            run_for=round(rng.uniform(0.3, 2.0), 2),
            create_at=create_window * i / len(kinds),
        )
        for i, kind in enumerate(kinds)
    ]


# ---- the fault plan --------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the start of the run
    kind: str  # "kill", "restart" or "drop"


def plan_faults(
    rng: random.Random, kills: int, restarts: int, drops: int, drop_seconds: float
) -> tuple[list[Fault], float]:
    """Seeded fault times; returns them sorted and the length of the fault window.

    Kills come at random gaps; drops and restarts are placed among them. Drops come in the
    middle part of the window, while Jobs are still being created, so that pods finish
    during and after each drop.
    """
    exclusive = restarts * APISERVER_RESTART_SECONDS + drops * (drop_seconds + RECOVERY_TARGET)
    window = max(60.0, kills * MEAN_KILL_GAP + exclusive)
    faults = [Fault(round(rng.uniform(5.0, window), 2), "kill") for _ in range(kills)]
    for i in range(drops):
        # Spread drops over [0.2, 0.7] of the window, one slot each.
        lo = 0.2 + 0.5 * i / max(drops, 1)
        hi = 0.2 + 0.5 * (i + 1) / max(drops, 1)
        faults.append(Fault(round(window * rng.uniform(lo, hi), 2), "drop"))
    for _ in range(restarts):
        faults.append(Fault(round(rng.uniform(5.0, window), 2), "restart"))
    faults.sort(key=lambda f: (f.at, f.kind))
    return faults, window


# ---- what the simulator saw ------------------------------------------------------------


@dataclass
class PodRecord:
    owner: str
    index: str | None
    phase: str = ""
    finished_at: float | None = None  # monotonic time first seen terminal
    finalizer: bool = True
    gone: bool = False
    counted_at: float | None = None  # monotonic time its finalizer was first seen gone


class Ledger:
    """Every pod the simulator lists or watches (``PodSimulator(observer=...)``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pods: dict[str, PodRecord] = {}

    def observe(self, event_type: str, pod: V1Pod) -> None:
        meta = pod.metadata
        if meta is None or not meta.uid:
            return
        now = time.monotonic()
        owner = next((r.uid for r in meta.owner_references or [] if r.controller), "")
        with self._lock:
            rec = self.pods.get(meta.uid)
            if rec is None:
                rec = PodRecord(
                    owner=str(owner), index=(meta.annotations or {}).get(INDEX_ANNOTATION)
                )
                self.pods[meta.uid] = rec
            phase = pod.status.phase if pod.status is not None else None
            if phase in ("Succeeded", "Failed"):
                rec.phase = str(phase)
                if rec.finished_at is None:
                    rec.finished_at = now
            has_finalizer = TRACKING_FINALIZER in (meta.finalizers or [])
            if event_type == DELETED:
                rec.gone = True
            if (event_type == DELETED or not has_finalizer) and rec.counted_at is None:
                rec.counted_at = now
            rec.finalizer = has_finalizer and event_type != DELETED

    def counted_since(self, since: float) -> float | None:
        """The earliest time a pod that finished at or after ``since`` was seen counted."""
        with self._lock:
            times = [
                r.counted_at
                for r in self.pods.values()
                if r.finished_at is not None and r.finished_at >= since and r.counted_at
            ]
        return min(times) if times else None

    def finished_by_owner(self) -> dict[str, list[tuple[str, PodRecord]]]:
        out: dict[str, list[tuple[str, PodRecord]]] = defaultdict(list)
        with self._lock:
            for uid, rec in self.pods.items():
                if rec.phase:
                    out[rec.owner].append((uid, rec))
        return out


# ---- jobctl as a process ---------------------------------------------------------------


class Jobctl:
    """``python -m jobctl`` with its log appended to one file across restarts."""

    def __init__(
        self,
        kubeconfig: Path,
        log_path: Path,
        qps: float,
        burst: int,
        args: list[str] | None = None,
    ) -> None:
        """``args`` replaces jobctl's command line (e.g. kube-controller-manager's)."""
        self.args = args or jobctl_args(
            kubeconfig,
            CONTROLLER_NAME,
            f"--kube-api-qps={qps:g}",
            f"--kube-api-burst={burst}",
        )
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.started_at = 0.0
        self.unexpected_exits: list[int] = []

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            out.write(f"\n==== start {self.starts + 1} ====\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1
        self.started_at = time.monotonic()

    def ensure_running(self) -> None:
        """Start it again if it exited by itself (recorded: jobctl should not exit)."""
        if self.popen is not None and self.popen.poll() is not None:
            self.unexpected_exits.append(int(self.popen.returncode))
            self.start()

    def kill(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)

    def tracebacks(self) -> int:
        try:
            return self.log_path.read_text(errors="replace").count("Traceback (most recent")
        except OSError:
            return 0


def write_proxy_kubeconfig(cp: ControlPlane, proxy_port: int, path: Path) -> None:
    """The admin kubeconfig with the server swapped for the proxy (same CA and token)."""
    text = cp.admin_kubeconfig.read_text()
    path.write_text(text.replace(cp.host, f"https://127.0.0.1:{proxy_port}"))


# ---- the report ------------------------------------------------------------------------


@dataclass
class Report:
    seed: int
    planned_pods: int
    jobs: int = 0
    kills: int = 0
    apiserver_restarts: int = 0
    drops: int = 0
    drop_seconds: float = 0.0
    pods_finished: int = 0
    jobs_finished: int = 0
    miscounts: int = 0
    leaked_finalizers: int = 0
    orphan_pods: int = 0
    running_pods_left: int = 0
    wrong_conditions: int = 0
    uncounted_left: int = 0
    recovery_seconds: list[float | None] = field(default_factory=list)
    jobctl_unexpected_exits: int = 0
    jobctl_tracebacks: int = 0
    elapsed_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    aborted: str = ""

    def recovered(self) -> bool:
        return all(r is not None and r <= RECOVERY_TARGET for r in self.recovery_seconds)

    def ok(self) -> bool:
        return (
            not self.aborted
            and self.miscounts == 0
            and self.leaked_finalizers == 0
            and self.orphan_pods == 0
            and self.running_pods_left == 0
            and self.wrong_conditions == 0
            and self.uncounted_left == 0
            and self.jobs_finished == self.jobs
            and self.recovered()
        )

    def summary(self) -> str:
        rec = ", ".join("none" if r is None else f"{r:.1f}s" for r in self.recovery_seconds)
        lines = [
            f"chaos seed={self.seed} elapsed={self.elapsed_seconds:.0f}s",
            f"  faults: kills={self.kills} apiserver_restarts={self.apiserver_restarts} "
            f"drops={self.drops} x {self.drop_seconds:g}s",
            f"  workload: jobs={self.jobs} finished={self.jobs_finished} "
            f"pods planned={self.planned_pods} finished={self.pods_finished}",
            f"  miscounts={self.miscounts} leaked_finalizers={self.leaked_finalizers} "
            f"orphans={self.orphan_pods} running_left={self.running_pods_left} "
            f"wrong_conditions={self.wrong_conditions} uncounted_left={self.uncounted_left}",
            f"  recovery after drops: [{rec}] (target <= {RECOVERY_TARGET:g}s)",
            f"  jobctl: unexpected exits={self.jobctl_unexpected_exits} "
            f"tracebacks in log={self.jobctl_tracebacks}",
        ]
        if self.aborted:
            lines.append(f"  ABORTED: {self.aborted}")
        lines += [f"  - {p}" for p in self.problems[:40]]
        if len(self.problems) > 40:
            lines.append(f"  ... {len(self.problems) - 40} more")
        lines.append("RESULT: " + ("PASS" if self.ok() else "FAIL"))
        return "\n".join(lines)


# ---- the run ---------------------------------------------------------------------------


class RunAbortedError(Exception):
    """The run could not go on (deadline, control plane)."""


@dataclass
class Options:
    seed: int = 1
    pods: int = 2000
    kills: int = 100
    apiserver_restarts: int = 3
    drops: int = 2
    drop_seconds: float = 40.0
    completions: int = 50
    qps: float = 200.0
    burst: int = 400
    deadline: float = 0.0  # 0: derived from the plan
    json_out: str = ""
    workdir: str = ""
    # "jobctl", or "kcm": upstream kube-controller-manager's Job controller takes the
    # same faults (a check of the harness itself; its Jobs carry no managedBy).
    controller: str = "jobctl"


def _admin_client(cp: ControlPlane) -> Interface:
    from jobctl.client.real import load_configuration, new_for_config

    configuration = load_configuration(str(cp.admin_kubeconfig), None, None)
    return new_for_config(configuration, qps=1000.0, burst=2000)


def _create_namespace(cp: ControlPlane, name: str) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(str(cp.admin_kubeconfig))
    try:
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
        )
    finally:
        api.close()


class ChaosRun:
    def __init__(self, opts: Options, cp: ControlPlane, workdir: Path) -> None:
        self.opts = opts
        self.cp = cp
        self.workdir = workdir
        self.rng = random.Random(opts.seed)
        self.faults, self.window = plan_faults(
            self.rng, opts.kills, opts.apiserver_restarts, opts.drops, opts.drop_seconds
        )
        self.plans = plan_workload(self.rng, opts.pods, self.window * 0.8, opts.completions)
        if opts.controller == "kcm":
            for plan in self.plans:
                plan.managed_by = None
        self.report = Report(
            seed=opts.seed,
            planned_pods=sum(min_pods(p.kind, p.completions) for p in self.plans),
            jobs=len(self.plans),
            drop_seconds=opts.drop_seconds,
        )
        # Time for the workload to drain after the last fault, then checks.
        self.deadline_seconds = opts.deadline or (self.window * 1.5 + 600.0)
        self.namespace = f"chaos-{opts.seed}-{uuid.uuid4().hex[:6]}"
        self.ledger = Ledger()
        self.client = _admin_client(cp)
        self.created: dict[str, V1Job] = {}
        self._created_lock = threading.Lock()
        self._stop = threading.Event()
        self.proxy = BlackholeProxy("127.0.0.1", cp.apiserver_port)
        self.jobctl_kubeconfig = workdir / "jobctl-via-proxy.kubeconfig"
        kcm_args = None
        if opts.controller == "kcm":
            kcm_args = kube_controller_manager_args(
                cp.assets, self.jobctl_kubeconfig, qps=opts.qps, burst=opts.burst
            )
        self.jobctl = Jobctl(
            self.jobctl_kubeconfig,
            workdir / f"{opts.controller}.log",
            opts.qps,
            opts.burst,
            kcm_args,
        )
        self.simulator: PodSimulator | None = None
        self.t0 = 0.0

    # ---- helpers ------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def remaining(self) -> float:
        return self.deadline_seconds - self.elapsed()

    def _sleep_until(self, at: float) -> None:
        while not self._stop.is_set():
            wait = min(at - self.elapsed(), 1.0)
            if wait <= 0:
                return
            if self.remaining() <= 0:
                raise RunAbortedError("deadline passed while faults were still planned")
            self.jobctl.ensure_running()
            self._stop.wait(wait)

    def _retry(self, what: str, fn: Callable[[], Any], timeout: float = 120.0) -> Any:
        """Call ``fn`` until it returns, through apiserver restarts (bounded)."""
        end = time.monotonic() + timeout
        while True:
            try:
                return fn()
            except (errors.StatusError, errors.APIConnectionError, OSError) as err:
                if time.monotonic() >= end:
                    raise RunAbortedError(f"{what}: {err}") from err
                time.sleep(0.5)

    # ---- workload ------------------------------------------------------------------

    def _create_jobs(self) -> None:
        jobs = self.client.batch_v1().jobs(self.namespace)
        for plan in self.plans:
            while not self._stop.is_set() and self.elapsed() < plan.create_at:
                self._stop.wait(min(1.0, plan.create_at - self.elapsed()))
            if self._stop.is_set():
                return

            def create(plan: JobPlan = plan) -> V1Job:
                try:
                    return jobs.create(plan.build())
                except errors.StatusError as err:
                    if errors.is_already_exists(err):
                        return jobs.get(plan.name)
                    raise

            try:
                job = self._retry(f"create Job {plan.name}", create)
            except RunAbortedError as err:
                self.report.problems.append(str(err))
                return
            with self._created_lock:
                self.created[plan.name] = job

    # ---- faults --------------------------------------------------------------------

    def _kill(self) -> None:
        self.jobctl.kill()
        self.report.kills += 1
        self._stop.wait(self.rng.uniform(0.0, 1.0))
        self.jobctl.start()

    def _restart_apiserver(self) -> None:
        try:
            self.cp.restart_apiserver(timeout=180.0)
        except Exception as err:
            raise RunAbortedError(f"kube-apiserver did not come back: {err}") from err
        self.report.apiserver_restarts += 1

    def _drop(self) -> None:
        start = time.monotonic()
        self.proxy.blackhole(self.opts.drop_seconds)
        if not self.proxy.wait_resumed(self.opts.drop_seconds + 30.0):
            raise RunAbortedError("the proxy did not end its black hole")
        self.report.drops += 1
        resumed = self.proxy.resumed_at or time.monotonic()
        recovery: float | None = None
        end = resumed + RECOVERY_WAIT
        while time.monotonic() < end and self.remaining() > 0:
            counted = self.ledger.counted_since(start)
            if counted is not None:
                recovery = max(0.0, counted - resumed)
                break
            self.jobctl.ensure_running()
            self._stop.wait(0.2)
        self.report.recovery_seconds.append(None if recovery is None else round(recovery, 2))
        log.info(
            "drop %d: recovery %s",
            self.report.drops,
            "not seen" if recovery is None else f"{recovery:.1f}s",
        )

    def _run_faults(self) -> None:
        last = 0.0
        for fault in self.faults:
            self._sleep_until(max(fault.at, last + MIN_GAP))
            # jobctl must have been up a little before the next fault.
            self._sleep_until(self.elapsed() + max(0.0, MIN_GAP - self._since_start()))
            log.info("t=%.0fs %s", self.elapsed(), fault.kind)
            if fault.kind == "kill":
                self._kill()
            elif fault.kind == "restart":
                self._restart_apiserver()
            else:
                self._drop()
            last = self.elapsed()

    def _since_start(self) -> float:
        return time.monotonic() - self.jobctl.started_at

    # ---- checks --------------------------------------------------------------------

    def _list_jobs(self) -> list[V1Job]:
        page = self._retry(
            "list Jobs", lambda: self.client.batch_v1().jobs(self.namespace).list(ListOptions())
        )
        return list(page.items)

    def _list_pods(self) -> list[V1Pod]:
        page = self._retry(
            "list pods", lambda: self.client.core_v1().pods(self.namespace).list(ListOptions())
        )
        return list(page.items)

    @staticmethod
    def _condition(job: V1Job) -> tuple[str, str] | None:
        for c in (job.status.conditions if job.status else None) or []:
            if c.type in ("Complete", "Failed") and c.status == "True":
                return (str(c.type), str(c.reason or ""))
        return None

    def _wait_finished(self) -> None:
        while self.remaining() > 0:
            self.jobctl.ensure_running()
            with self._created_lock:
                created = len(self.created)
            if created == len(self.plans):
                jobs = self._list_jobs()
                if all(self._condition(j) is not None for j in jobs):
                    return
            time.sleep(2.0)

    def _wait_pods_settled(self, timeout: float) -> None:
        end = time.monotonic() + min(timeout, max(self.remaining(), 30.0))
        while time.monotonic() < end:
            pods = self._list_pods()
            if not any(
                TRACKING_FINALIZER in (p.metadata.finalizers or []) or not _terminal(p)
                for p in pods
            ):
                return
            time.sleep(2.0)

    def _verify(self) -> None:
        report = self.report
        jobs = {j.metadata.name: j for j in self._list_jobs()}
        pods = self._list_pods()
        by_uid = {str(j.metadata.uid): j for j in jobs.values()}
        finished = self.ledger.finished_by_owner()
        # Pods terminal in the final list count even if the simulator missed the event.
        final_terminal: dict[str, dict[str, V1Pod]] = defaultdict(dict)
        for pod in pods:
            owner = _controller_uid(pod)
            if TRACKING_FINALIZER in (pod.metadata.finalizers or []):
                report.leaked_finalizers += 1
                report.problems.append(f"pod {pod.metadata.name} keeps the tracking finalizer")
            if owner not in by_uid:
                report.orphan_pods += 1
                report.problems.append(f"pod {pod.metadata.name} has no Job")
            if not _terminal(pod):
                report.running_pods_left += 1
                report.problems.append(f"pod {pod.metadata.name} is still {_phase(pod)}")
            else:
                final_terminal[owner][str(pod.metadata.uid)] = pod
        for plan in self.plans:
            job = jobs.get(plan.name)
            if job is None:
                report.problems.append(f"Job {plan.name} was never created")
                continue
            uid = str(job.metadata.uid)
            succeeded_pods: set[str] = set()
            succeeded_indexes: set[str] = set()
            failed_pods: set[str] = set()
            outcomes: dict[str, tuple[str, str | None]] = {
                pod_uid: (rec.phase, rec.index) for pod_uid, rec in finished.get(uid, [])
            }
            for pod_uid, pod in final_terminal.get(uid, {}).items():
                index = (pod.metadata.annotations or {}).get(INDEX_ANNOTATION)
                outcomes[pod_uid] = (_phase(pod), index)
            for pod_uid, (phase, index) in outcomes.items():
                if phase == "Succeeded":
                    succeeded_pods.add(pod_uid)
                    if index is not None:
                        succeeded_indexes.add(index)
                else:
                    failed_pods.add(pod_uid)
            report.pods_finished += len(outcomes)
            want_succeeded = len(succeeded_indexes) if plan.kind.indexed else len(succeeded_pods)
            status = job.status
            got_succeeded = (status.succeeded or 0) if status else 0
            got_failed = (status.failed or 0) if status else 0
            if (got_succeeded, got_failed) != (want_succeeded, len(failed_pods)):
                report.miscounts += 1
                report.problems.append(
                    f"Job {plan.name}: status succeeded={got_succeeded} failed={got_failed}, "
                    f"simulator finished succeeded={want_succeeded} failed={len(failed_pods)}"
                )
            uncounted = status.uncounted_terminated_pods if status else None
            if uncounted is not None and (uncounted.succeeded or uncounted.failed):
                report.uncounted_left += 1
                report.problems.append(f"Job {plan.name}: uncountedTerminatedPods left")
            condition = self._condition(job)
            if condition is None:
                report.problems.append(f"Job {plan.name} did not finish")
                continue
            report.jobs_finished += 1
            if condition != plan.kind.condition:
                report.wrong_conditions += 1
                report.problems.append(
                    f"Job {plan.name}: condition {condition}, want {plan.kind.condition}"
                )

    # ---- the whole run -------------------------------------------------------------

    def run(self) -> Report:
        report = self.report
        self.t0 = time.monotonic()
        creator: threading.Thread | None = None
        try:
            _create_namespace(self.cp, self.namespace)
            self.proxy.start()
            write_proxy_kubeconfig(self.cp, self.proxy.port, self.jobctl_kubeconfig)
            self.simulator = PodSimulator(
                self.client, self.namespace, observer=self.ledger.observe
            ).start()
            self.jobctl.start()
            creator = threading.Thread(target=self._create_jobs, name="chaos-jobs", daemon=True)
            creator.start()
            self._run_faults()
            self._wait_finished()
            self._wait_pods_settled(120.0)
            self._verify()
            if self.remaining() <= 0:
                report.aborted = report.aborted or "deadline passed before every Job finished"
        except RunAbortedError as err:
            report.aborted = str(err)
            with contextlib.suppress(Exception):
                self._verify()
        finally:
            self._stop.set()
            if creator is not None:
                creator.join(10)
            report.jobctl_unexpected_exits = len(self.jobctl.unexpected_exits)
            self.jobctl.stop()
            report.jobctl_tracebacks = self.jobctl.tracebacks()
            if self.simulator is not None:
                self.simulator.stop()
            self.proxy.stop()
            getattr(self.client, "close", lambda: None)()
            report.elapsed_seconds = round(self.elapsed(), 1)
        return report


def _controller_uid(pod: V1Pod) -> str:
    return next((str(r.uid) for r in pod.metadata.owner_references or [] if r.controller), "")


def _phase(pod: V1Pod) -> str:
    return str(pod.status.phase) if pod.status is not None and pod.status.phase else "Pending"


def _terminal(pod: V1Pod) -> bool:
    return _phase(pod) in ("Succeeded", "Failed")


def run_chaos(opts: Options, assets: Path | None = None) -> Report:
    """Start a control plane, run the chaos plan on it, stop it; return the report."""
    workdir = Path(opts.workdir or tempfile.mkdtemp(prefix="jobctl-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    assets = assets or find_assets(with_kcm=opts.controller == "kcm")
    cp = ControlPlane(assets, workdir=workdir / "cp", keep_workdir=True)
    cp.start()
    try:
        return ChaosRun(opts, cp, workdir).run()
    finally:
        cp.stop()


def _parser() -> argparse.ArgumentParser:
    d = Options()
    p = argparse.ArgumentParser(prog="hack/chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--pods", type=int, default=d.pods, help="pods in the workload (at least)")
    p.add_argument("--kills", type=int, default=d.kills)
    p.add_argument("--apiserver-restarts", type=int, default=d.apiserver_restarts)
    p.add_argument("--drops", type=int, default=d.drops)
    p.add_argument("--drop-seconds", type=float, default=d.drop_seconds)
    p.add_argument("--completions", type=int, default=d.completions, help="pods per Job")
    p.add_argument("--qps", type=float, default=d.qps, help="jobctl's --kube-api-qps")
    p.add_argument("--burst", type=int, default=d.burst, help="jobctl's --kube-api-burst")
    p.add_argument("--deadline", type=float, default=0.0, help="seconds; 0 = from the plan")
    p.add_argument("--json", dest="json_out", default="", metavar="OUT")
    p.add_argument("--workdir", default="", help="keep logs here (default: a temp folder)")
    p.add_argument(
        "--controller",
        choices=("jobctl", "kcm"),
        default=d.controller,
        help="kcm: run upstream kube-controller-manager instead (checks the harness)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    opts = Options(**vars(args))
    bad = [
        name
        for name in ("pods", "kills", "apiserver_restarts", "drops", "completions")
        if getattr(opts, name) < 0
    ]
    if bad or opts.drop_seconds < 0 or opts.completions < 1 or opts.deadline < 0:
        print(
            "hack/chaos: counts and durations must not be negative, --completions at least 1",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("jobctl").setLevel(logging.WARNING)
    # Connection errors during kube-apiserver restarts are expected; keep the log readable.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.getLogger("jobctl.testing.pod_simulator").setLevel(logging.ERROR)
    try:
        report = run_chaos(opts)
    except Exception as err:  # the control plane could not start
        print(f"hack/chaos: {err}", file=sys.stderr)
        return 3
    print(report.summary())
    if opts.json_out:
        Path(opts.json_out).write_text(json.dumps(asdict(report), indent=2) + "\n")
    if report.aborted:
        return 3
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
