"""Workload d of ``hack/bench_e2e`` ("scale"): a controller started cold on a full cluster.

The cluster is filled with ``N`` pods (``--scale-sizes``, default 10,000 and 50,000; quick
2,000) belonging to a few large Jobs (``--scale-jobs``, default 5): ``--scale-running``
pods (default 1,000, at most half of ``N``) are Running and Ready and carry the
``batch.kubernetes.io/job-tracking`` finalizer, the rest are Succeeded without it. Each
Job's status already says what a controller would write (``startTime``, ``active`` =
``ready`` = its running pods, ``succeeded`` = its finished pods, ``failed`` = 0,
``terminating`` = 0, no uncounted pods) and ``completions`` = succeeded + active, so a
controller's first sync finds nothing to do: no pod to create or delete, no status to
write. The pods and Job statuses are written straight through the API (the pods are
labelled so the pod simulator leaves them alone); no controller runs meanwhile.

The Jobs carry no ``spec.managedBy``, so the same Jobs serve both controllers: upstream
kube-controller-manager manages them natively and jobctl is started with
``--controller-name=kubernetes.io/job-controller``. Each controller is then started alone,
cold (a new process, lifted client limits, default feature gates), and measured:

- **ready**: seconds from process start to every Job's first sync done. Both controllers
  are read the same way: their ``/metrics`` endpoint is polled every 0.2 s for
  ``job_controller_job_syncs_total`` (summed over its labels), which upstream's
  ``syncJob`` (pkg/controller/job) increments when a sync of an unfinished Job it
  manages returns, and jobctl's port the same way. The first sync only runs after the
  informers have synced, so the count reaching the number of Jobs means informers
  synced and every Job synced once. Both serve ``/metrics`` with the same flags:
  ``--secure-port`` on 127.0.0.1 with a self-signed certificate generated into
  ``--cert-dir`` at start-up (part of the measured start, as in a default deployment),
  and ``--authorization-always-allow-paths`` including ``/metrics`` (anonymous read);
- **CPU** of the process up to that moment, also per 1,000 cached pods;
- **settled RSS**: ``VmRSS`` once three 1-second samples agree within 1 % (and the peak
  ``VmHWM``);
- a consistency check: kube-apiserver's write requests (POST, PUT, PATCH, DELETE) during
  the run; writes to pods, Jobs or events mean the controller found catch-up work (other
  writes, such as jobctl's SelfSubjectAccessReviews at start-up, are listed but not
  catch-up). The sync count after settling is reported too: both controllers sync each
  Job a second time about a second later, because the pods' informer adds queue their
  Job after the 1 s batch period (``syncJobBatchPeriod``), while the Job's own add queues
  it at once; that is also why the first ``Jobs`` syncs counted are the Jobs' first syncs.

Between sizes every pod is deleted (finalizers stripped first), since the controllers'
informers are cluster-wide. The growth table reports CPU per 1,000 pods and RSS at each
size and their ratio from the smallest to the largest.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hack.bench_e2e import (
    HOLD_LABEL,
    JOBCTL,
    LIMITS,
    MERGE_PATCH,
    SCALE,
    UPSTREAM,
    ApiError,
    BenchError,
    _fmt,
    _ratio,
    _rfc3339,
    _row,
    _running_patch,
    _settle,
    _suffix,
    _terminal_patch,
    per_1000,
    ratio_at_most_row,
)

if TYPE_CHECKING:
    from hack.bench_e2e import Bench

KEY = SCALE
KUBE_CONTROLLER_NAME = "kubernetes.io/job-controller"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
SYNC_METRIC = "job_controller_job_syncs_total"
FULL_SIZES = (10_000, 50_000)
QUICK_SIZES = (2_000,)
DEFAULT_JOBS = 5
DEFAULT_RUNNING = 1_000
POLL_SECONDS = 0.2
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
CATCH_UP_RESOURCES = ("pods", "jobs", "events")
TARGET_READY_RATIO = 1.5
TARGET_RSS_RATIO = 1.5


@dataclass(frozen=True)
class ScaleJob:
    """One Job of the scale layout: its finished and running pods."""

    name: str
    finished: int
    running: int

    @property
    def completions(self) -> int:
        return self.finished + self.running


def scale_layout(pods: int, running: int, jobs: int) -> list[ScaleJob]:
    """Spread ``pods`` over ``jobs`` Jobs, ``running`` of them Running (clamped to half of
    ``pods``), as evenly as possible; every Job gets at least one running and one finished
    pod so none is complete."""
    if jobs < 1:
        raise ValueError("the scale workload needs at least one Job")
    if pods < 2 * jobs:
        raise ValueError(f"{pods} pods cannot fill {jobs} Jobs (need at least {2 * jobs})")
    running = max(jobs, min(running, pods // 2))
    finished = pods - running
    layout = []
    for j in range(jobs):
        run_j = running // jobs + (1 if j < running % jobs else 0)
        fin_j = finished // jobs + (1 if j < finished % jobs else 0)
        layout.append(ScaleJob(f"scale-{j:02d}", fin_j, run_j))
    return layout


def job_body(job: ScaleJob) -> dict[str, Any]:
    """A NonIndexed Job, no managedBy, whose remaining completions are all running."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job.name},
        "spec": {
            "completions": job.completions,
            "parallelism": job.running,
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "template": {
                "metadata": {"labels": {"app": "bench-e2e"}},
                "spec": {
                    "nodeName": "sim-node",
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "work", "image": "busybox"}],
                },
            },
        },
    }


def job_status(job: ScaleJob, start_time: str) -> dict[str, Any]:
    """The status a controller would have written for ``job``'s pods."""
    return {
        "status": {
            "startTime": start_time,
            "active": job.running,
            "ready": job.running,
            "succeeded": job.finished,
            "failed": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
    }


def pod_body(job: ScaleJob, uid: str, index: int, running: bool) -> dict[str, Any]:
    """A pod of ``job`` as its controller would have created it; running pods keep the
    tracking finalizer (their outcome is not counted yet), finished ones lost it."""
    meta: dict[str, Any] = {
        "name": f"{job.name}-{index:06d}",
        "labels": {
            "app": "bench-e2e",
            HOLD_LABEL: "true",
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": job.name,
            "controller-uid": uid,
            "job-name": job.name,
        },
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": job.name,
                "uid": uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if running:
        meta["finalizers"] = [TRACKING_FINALIZER]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": "sim-node",
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "work", "image": "busybox"}],
        },
    }


def sync_count(metrics_text: str) -> int:
    """``job_controller_job_syncs_total`` summed over its label sets (0 when absent)."""
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(SYNC_METRIC + "{") or line.startswith(SYNC_METRIC + " "):
            with contextlib.suppress(ValueError, IndexError):
                total += float(line.rsplit(" ", 1)[1])
    return int(total)


def write_requests(before: Counter[str], after: Counter[str]) -> dict[str, int]:
    """Write requests (``VERB resource``) counted between two ``request_counts`` reads."""
    out: dict[str, int] = {}
    for key in sorted(after):
        if key.split(" ", 1)[0] in WRITE_VERBS:
            delta = after[key] - before.get(key, 0)
            if delta > 0:
                out[key] = delta
    return out


def catch_up_writes(writes: dict[str, int]) -> int:
    """How many of ``writes`` touched pods, Jobs or events (a controller's catch-up)."""
    total = 0
    for key, count in writes.items():
        resource = key.split(" ", 1)[-1].split("/", 1)[0]
        if resource in CATCH_UP_RESOURCES:
            total += count
    return total


def parse_sizes(text: str) -> list[int]:
    """``10000,50000`` -> [10000, 50000]; ValueError with a clear message otherwise."""
    sizes = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part.isdigit() or int(part) <= 0:
            raise ValueError(f"not a positive pod count: {part!r}")
        sizes.append(int(part))
    if not sizes:
        raise ValueError("no sizes given")
    return sorted(set(sizes))


@dataclass
class ScaleResult:
    """One controller started cold with ``pods`` pods in the cluster."""

    pods: int
    controller: str
    jobs: int
    running: int
    ready: bool = False
    ready_seconds: float | None = None
    cpu_seconds_to_ready: float = 0.0
    cpu_per_1000_pods: float | None = None
    cpu_seconds_settled: float = 0.0
    rss_kib: int = 0
    peak_rss_kib: int = 0
    syncs_at_ready: int = 0
    syncs_settled: int = 0
    api_writes: dict[str, int] = field(default_factory=dict)
    rss_samples_kib: list[int] = field(default_factory=list)
    seed_seconds: float = 0.0
    order: int = 0


def metrics_args(label: str, port: int, cert_dir: Path) -> list[str]:
    """Extra flags that make ``label``'s binary serve ``/metrics`` over HTTPS on
    127.0.0.1:``port`` (a self-signed certificate in ``cert_dir``, anonymous reads of
    ``/metrics`` allowed), the same flags for both; jobctl also manages Jobs without
    ``spec.managedBy``."""
    serving = [
        f"--secure-port={port}",
        "--bind-address=127.0.0.1",
        f"--cert-dir={cert_dir}",
        "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
    ]
    if label == UPSTREAM:
        return serving
    return [*serving, f"--controller-name={KUBE_CONTROLLER_NAME}"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MetricsReader:
    """Reads one controller's ``/metrics`` over HTTPS (its self-signed serving
    certificate is not verified), bounded in time."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._context = ssl.create_default_context()
        self._context.check_hostname = False
        self._context.verify_mode = ssl.CERT_NONE

    def read(self, timeout: float = 2.0) -> str | None:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self._port, context=self._context, timeout=timeout
        )
        try:
            conn.request("GET", "/metrics", headers={"Accept": "text/plain"})
            resp = conn.getresponse()
            body = resp.read()
            return body.decode(errors="replace") if resp.status == 200 else None
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()


def seed(bench: Bench, namespace: str, layout: list[ScaleJob], workers: int = 16) -> float:
    """Create the Jobs with consistent statuses and their pods in their states; seconds."""
    api = bench.api
    start = time.monotonic()
    bench.create_namespace(namespace)
    jobs_path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
    pods_path = f"/api/v1/namespaces/{namespace}/pods"
    now = _rfc3339()
    work: list[tuple[ScaleJob, str, int, bool]] = []
    for job in layout:
        created = api.request("POST", jobs_path, job_body(job))
        uid = str(created["metadata"]["uid"])
        api.request("PATCH", f"{jobs_path}/{job.name}/status", job_status(job, now), MERGE_PATCH)
        work.extend((job, uid, i, i < job.running) for i in range(job.completions))
    containers = [("work", "busybox")]

    def create(item: tuple[ScaleJob, str, int, bool]) -> None:
        job, uid, index, running = item
        body = pod_body(job, uid, index, running)
        try:
            api.request("POST", pods_path, body, decode=False)
        except ApiError as err:
            if err.status != 409:  # 409: a retried POST whose first try went through
                raise
        patch = (
            _running_patch(containers, now) if running else _terminal_patch(containers, 0, now, now)
        )
        api.request(
            "PATCH",
            f"{pods_path}/{body['metadata']['name']}/status",
            patch,
            MERGE_PATCH,
            decode=False,
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(create, work):
            pass
    return time.monotonic() - start


def clear(bench: Bench, namespace: str, layout: list[ScaleJob], deadline_s: float) -> None:
    """Delete every pod and Job of the namespace (tracking finalizers stripped first)."""
    api = bench.api
    pods_path = f"/api/v1/namespaces/{namespace}/pods"
    names = [f"{job.name}-{i:06d}" for job in layout for i in range(job.running)]

    def strip(name: str) -> None:
        with contextlib.suppress(ApiError):
            api.request(
                "PATCH",
                f"{pods_path}/{name}",
                {"metadata": {"finalizers": None}},
                MERGE_PATCH,
                decode=False,
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in pool.map(strip, names):
            pass
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ApiError, OSError, http.client.HTTPException):
            api.request("DELETE", f"{pods_path}?gracePeriodSeconds=0", decode=False)
        with contextlib.suppress(ApiError, OSError, http.client.HTTPException):
            page = api.request("GET", f"{pods_path}?limit=1")
            if not page.get("items"):
                break
        time.sleep(1.0)
    with contextlib.suppress(ApiError, OSError, http.client.HTTPException):
        bench.cleanup_namespace(namespace)


def cold_start(
    bench: Bench, label: str, pods: int, layout: list[ScaleJob], order: int, timeout: float
) -> ScaleResult:
    """Start ``label`` alone and cold; measure until every Job synced once and RSS settled."""
    result = ScaleResult(
        pods=pods,
        controller=label,
        jobs=len(layout),
        running=sum(job.running for job in layout),
        order=order,
    )
    port = _free_port()
    reader = MetricsReader(port)
    qps, burst = LIMITS["lifted"]
    with tempfile.TemporaryDirectory(prefix="bench-scale-certs-") as cert_dir:
        writes0 = bench.api.request_counts()
        proc = bench.start_controller(
            label,
            qps,
            burst,
            f"{KEY}-{pods}-{_suffix()}",
            extra_args=metrics_args(label, port, Path(cert_dir)),
        )
        try:
            deadline = proc.started + timeout
            while time.monotonic() < deadline:
                text = reader.read()
                if text is not None:
                    count = sync_count(text)
                    if count >= len(layout):
                        result.ready_seconds = round(time.monotonic() - proc.started, 2)
                        result.cpu_seconds_to_ready = round(proc.cpu_seconds(), 2)
                        result.syncs_at_ready = count
                        result.ready = True
                        break
                if not proc.alive():
                    raise BenchError(
                        f"{label} exited during workload d; log {proc.log_path}:\n{proc.tail()}"
                    )
                time.sleep(POLL_SECONDS)
            if not result.ready:
                print(f"    {label}: not every Job synced within {timeout:.0f}s", flush=True)
            result.cpu_per_1000_pods = per_1000(result.cpu_seconds_to_ready, pods)
            result.rss_samples_kib = _settle(proc)
            mem = proc.memory_kib()
            result.rss_kib = mem.get("VmRSS", 0)
            result.peak_rss_kib = mem.get("VmHWM", 0)
            result.cpu_seconds_settled = round(proc.cpu_seconds(), 2)
            text = reader.read()
            result.syncs_settled = sync_count(text) if text is not None else 0
            result.api_writes = write_requests(writes0, bench.api.request_counts())
        finally:
            bench.stop_controllers()
    return result


def measure_scale(
    bench: Bench, labels: list[str], sizes: list[int], jobs: int, running: int
) -> list[ScaleResult]:
    """Workload d at every size, controllers alternating; returns one result per pair."""
    results: list[ScaleResult] = []
    order = 0
    for i, pods in enumerate(sizes):
        layout = scale_layout(pods, running, jobs)
        namespace = f"bench-scale-{pods}-{_suffix()}"
        print(
            f"  run: workload d (scale), {pods} pods in {len(layout)} Jobs, "
            f"{sum(j.running for j in layout)} running; seeding {namespace}",
            flush=True,
        )
        try:
            seeded = seed(bench, namespace, layout)
            print(f"    seeded in {seeded:.1f}s", flush=True)
            pair = labels if i % 2 == 0 else list(reversed(labels))
            for label in pair:
                timeout = bench.args.startup_timeout + pods * 0.005
                result = cold_start(bench, label, pods, layout, order, timeout)
                result.seed_seconds = round(seeded, 1)
                order += 1
                results.append(result)
                print("    " + scale_line(result), flush=True)
        finally:
            clear(bench, namespace, layout, deadline_s=300.0 + pods * 0.01)
    return results


def scale_line(r: ScaleResult) -> str:
    state = "" if r.ready else "  NOT READY"
    catch_up = catch_up_writes(r.api_writes)
    check = f"  (catch-up: {catch_up} writes to pods/Jobs/events)" if catch_up else ""
    others = {k: v for k, v in r.api_writes.items() if catch_up_writes({k: v}) == 0}
    if others:
        check += f"  (other writes: {others})"
    return (
        f"{r.controller:<9} {r.pods} pods: every Job synced {_fmt(r.ready_seconds, '.1f')}s "
        f"after start; cpu {r.cpu_seconds_to_ready:.1f}s "
        f"({_fmt(r.cpu_per_1000_pods, '.3f')} s/1k pods); settled RSS "
        f"{r.rss_kib / 1024:.1f} MiB (peak {r.peak_rss_kib / 1024:.1f}); {r.syncs_settled} "
        f"syncs after settling{state}{check}"
    )


def growth(results: list[ScaleResult]) -> dict[str, dict[str, float | None]]:
    """Per controller, CPU per 1,000 pods and RSS at the largest size over the smallest."""
    out: dict[str, dict[str, float | None]] = {}
    for label in (UPSTREAM, JOBCTL):
        mine = sorted((r for r in results if r.controller == label), key=lambda r: r.pods)
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        cpu = (
            None
            if not small.cpu_per_1000_pods or large.cpu_per_1000_pods is None
            else round(large.cpu_per_1000_pods / small.cpu_per_1000_pods, 3)
        )
        rss = None if not small.rss_kib else round(large.rss_kib / small.rss_kib, 3)
        # The CPU and memory the extra pods cost, without the fixed start-up share.
        extra = large.pods - small.pods
        out[label] = {
            "from_pods": small.pods,
            "to_pods": large.pods,
            "cpu_per_pod_ratio": cpu,
            "rss_ratio": rss,
            "marginal_cpu_per_1000_pods": round(
                (large.cpu_seconds_to_ready - small.cpu_seconds_to_ready) / extra * 1000.0, 4
            ),
            "marginal_rss_kib_per_1000_pods": round(
                (large.rss_kib - small.rss_kib) / extra * 1000.0, 1
            ),
        }
    return out


def print_scale(results: list[ScaleResult]) -> None:
    """The growth table: per size and controller, ready time, CPU/1k pods and RSS."""
    if not results:
        return
    print()
    print("workload d (scale): controller started cold with N pods in the cluster")
    header = (
        f"{'pods':>7}  {'controller':<11}{'ready s':>8}{'cpu s':>8}{'cpu s/1k':>10}"
        f"{'RSS MiB':>9}{'peakMiB':>9}{'syncs':>7}{'catchup':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in sorted(results, key=lambda r: (r.pods, r.controller != UPSTREAM)):
        print(
            f"{r.pods:>7}  {r.controller:<11}{_fmt(r.ready_seconds, '8.1f')}"
            f"{r.cpu_seconds_to_ready:>8.1f}{_fmt(r.cpu_per_1000_pods, '10.3f')}"
            f"{r.rss_kib / 1024:>9.1f}{r.peak_rss_kib / 1024:>9.1f}{r.syncs_settled:>7}"
            f"{catch_up_writes(r.api_writes):>8}"
        )
    for label, g in growth(results).items():
        print(
            f"growth {label:<9} {g['from_pods']} -> {g['to_pods']} pods: cpu per pod "
            f"x{_fmt(g['cpu_per_pod_ratio'], '.2f')}, RSS x{_fmt(g['rss_ratio'], '.2f')}; each "
            f"extra 1,000 pods cost {_fmt(g['marginal_cpu_per_1000_pods'], '.3f')} CPU-s and "
            f"{_fmt(g['marginal_rss_kib_per_1000_pods'], '.0f')} KiB"
        )
    print("(ready s: process start -> every Job's first sync done, read from each")
    print(" controller's job_controller_job_syncs_total; cpu s: the process's CPU until then;")
    print(" syncs: Job syncs after settling; catchup: writes to pods/Jobs/events, 0 when the")
    print(" controller found nothing to do)")


def evaluate_scale(results: list[ScaleResult]) -> list[dict[str, Any]]:
    """Target rows: jobctl/upstream ready time and settled RSS per size (<= 1.5x)."""
    rows = []
    by_size: dict[int, dict[str, ScaleResult]] = {}
    for r in results:
        by_size.setdefault(r.pods, {})[r.controller] = r
    for pods, pair in sorted(by_size.items()):
        ours, theirs = pair.get(JOBCTL), pair.get(UPSTREAM)
        if not (ours and theirs):
            continue
        ready = _ratio(ours.ready_seconds, theirs.ready_seconds) if ours.ready else None
        rows.append(
            ratio_at_most_row(
                f"d cold start jobctl/upstream, {pods} pods", ready, TARGET_READY_RATIO
            )
        )
        rss = _ratio(ours.rss_kib, theirs.rss_kib)
        rows.append(
            ratio_at_most_row(f"d settled RSS jobctl/upstream, {pods} pods", rss, TARGET_RSS_RATIO)
        )
        cpu = _ratio(ours.cpu_per_1000_pods, theirs.cpu_per_1000_pods)
        rows.append(_row(f"d startup CPU jobctl/upstream, {pods} pods", cpu, "(info)", None, "x"))
    return rows


def to_json(results: list[ScaleResult], jobs: int, running: int) -> dict[str, Any]:
    return {
        "jobs": jobs,
        "running": running,
        "method": "process start -> job_controller_job_syncs_total >= Jobs (polled /metrics)",
        "results": [asdict(r) for r in results],
        "growth": growth(results),
    }
