"""End-to-end benchmark: the jobctl binary against upstream kube-controller-manager's Job
controller, on a real kube-apiserver + etcd, with a fast pod simulator.

Workloads (``--quick`` scales them down so the whole run takes a few minutes):

- ``a``: 500 Jobs x 1 pod (quick: 50);
- ``b``: 20 Jobs x 500 completions, parallelism 100 (quick: 2 x 100, parallelism 20);
- ``c``: one Indexed Job with 2,000 completions, parallelism 200 (quick: 200, 20);

each at kube-controller-manager's default client limits (``--kube-api-qps=20
--kube-api-burst=30``) and with the limits lifted (1000/2000), both controllers started
with the same flags;

- ``d`` (scale): 10,000 and 50,000 pods already in the cluster (quick: 2,000), finished
  pods of a few large Jobs plus 1,000 running ones, with the Jobs' statuses up to date;
  each controller is started cold, alone, and timed from process start to every Job's
  first sync (read from each controller's ``job_controller_job_syncs_total``), with its
  CPU until then and its settled RSS, at each size (see ``hack/bench_scale.py``).

The controllers run **alternately** by default (``--mode alternate``): for every workload
a fresh controller process is started alone, warmed up with a one-pod Job, measured, and
stopped, then the other controller does the same workload; the order flips from one
workload to the next so drift in the machine's background load does not favour either.
On a 2-core machine, running both at once (``--mode concurrent``, one namespace per
controller) makes each controller's CPU use slow the other one and the shared
kube-apiserver down, so the ratio would measure contention rather than the controller; a
fresh process per run also makes the CPU seconds and peak RSS belong to that run alone.

Pods are finished by a fast simulator in this process (not ``jobctl.testing.pod_simulator``,
which re-reads each pod and writes two statuses through pydantic models): one
cluster-wide raw-JSON watch on non-terminal pods feeds several writer threads that
send one merge-patch of ``pods/status`` per pod, straight to Succeeded (``--run-seconds``
> 0 adds a Running step). Its lag (pod seen -> terminal status written) and CPU time
are reported, so one can tell whether it held the controllers back.

Metrics per run and controller:

- throughput: pods counted in Job status (succeeded + failed) per minute, over the time
  from the first Job creation to the last Job's Complete condition;
- latency: a pod's terminal status write (simulator, monotonic clock) -> the Job watch
  event whose ``succeeded + failed`` first covers it; per Job, the k-th counted pod is
  matched with the k-th finished pod; p50 / p99;
- CPU seconds of the controller process over the workload (``/proc/<pid>/stat``), also
  per 1,000 pods counted, and its peak RSS (``VmHWM`` in ``/proc/<pid>/status``);
  kube-apiserver's, etcd's and this process's CPU over the same time, to show when the
  machine itself is the limit;
- API requests during the run, per verb and resource, from kube-apiserver's
  ``apiserver_request_total`` (every client counts: the simulator's one status write per
  pod and the Job creation are the same for both controllers, so a difference is the
  controller's own);
- RSS with N pods cached (default 10,000; quick 2,000): the pods are created directly and
  finished by the simulator, then each controller is started alone and its settled
  ``VmRSS`` read.

Targets (issues): jobctl >= 0.95x upstream throughput at equal QPS; >= 10,000 pods/min
with limits lifted; p50 latency <= 1.2 s; RSS <= 1.5x upstream with 10,000 pods cached;
controller CPU-seconds per 1,000 pods <= 1.5x upstream's per workload and limit setting;
workload d's cold start and settled RSS <= 1.5x upstream's at each size. They are
informational: a benchmark never fails on timings.

Writes ``results/bench_e2e.json`` and ``results/bench_e2e.png`` (matplotlib, from the
``bench`` extra; without it the PNG is skipped); the chart has panels only for the
workloads, limit settings and measurements that ran.

Run: ``python -m hack.bench_e2e [--quick] [--workload a|b|c|d] [--limits default|lifted]
[--mode alternate|concurrent] [--only upstream|jobctl] [--rss-pods N]
[--scale-sizes 10000,50000] [--scale-jobs 5] [--scale-running 1000]``. ``make bench`` calls
``main()`` without arguments, which reads them from ``BENCH_E2E_ARGS`` (default ``--quick``).

No process is left behind: controllers and the control plane are stopped in ``finally``
blocks, SIGTERM/SIGINT/SIGHUP unwind through them, and a small reaper process (started
first, in its own session) kills the process groups of this process's children if this
process dies without cleaning up (even by SIGKILL).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import http.client
import importlib
import json
import os
import platform
import queue
import random
import re
import shlex
import signal
import socket
import ssl
import string
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from jobctl.testing.control_plane import (
    ControlPlane,
    find_assets,
    jobctl_args,
    kube_controller_manager_args,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "results"
JOBCTL_NAME = "jobctl.dev/job-controller"
UPSTREAM = "upstream"
JOBCTL = "jobctl"
CONTROLLERS = (UPSTREAM, JOBCTL)
LIMITS: dict[str, tuple[int, int]] = {"default": (20, 30), "lifted": (1000, 2000)}
WARMUP_JOB = "warmup"
TERMINAL = ("Succeeded", "Failed")
MERGE_PATCH = "application/merge-patch+json"
ENV_ARGS = "BENCH_E2E_ARGS"
# Pods carrying this label are left alone by the simulator (workload d sets their states).
HOLD_LABEL = "bench-e2e.jobctl.dev/hold"
SCALE = "d"

# Targets from the issue.
TARGET_THROUGHPUT_RATIO = 0.95
TARGET_LIFTED_PODS_PER_MIN = 10_000.0
TARGET_P50_SECONDS = 1.2
TARGET_RSS_RATIO = 1.5
TARGET_CPU_RATIO = 1.5  # controller CPU-seconds per 1,000 pods, jobctl/upstream


@dataclass(frozen=True)
class Workload:
    """A set of identical Jobs."""

    key: str
    jobs: int
    completions: int
    parallelism: int
    indexed: bool = False

    @property
    def pods(self) -> int:
        return self.jobs * self.completions

    def describe(self) -> str:
        mode = " Indexed" if self.indexed else ""
        return f"{self.jobs}{mode} Job(s) x {self.completions} (parallelism {self.parallelism})"


FULL_WORKLOADS = {
    "a": Workload("a", 500, 1, 1),
    "b": Workload("b", 20, 500, 100),
    "c": Workload("c", 1, 2000, 200, indexed=True),
}
QUICK_WORKLOADS = {
    "a": Workload("a", 50, 1, 1),
    "b": Workload("b", 2, 100, 20),
    "c": Workload("c", 1, 200, 20, indexed=True),
}


class BenchError(RuntimeError):
    """The benchmark could not run (a controller did not start, the API failed)."""


# ---- a small raw-JSON API client ------------------------------------------------------


class ApiError(Exception):
    """A non-2xx answer from kube-apiserver."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status


class RawApi:
    """HTTPS + bearer token straight to kube-apiserver, one keep-alive connection per thread.

    The benchmark's own traffic (simulator, watchers, Job creation) must stay cheap so the
    controllers are what is measured: no models, no client-side rate limit.
    """

    def __init__(self, host: str, token: str, ca_file: Path) -> None:
        parsed = urllib.parse.urlsplit(host)
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 443
        self._context = ssl.create_default_context(cafile=str(ca_file))
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._local = threading.local()

    def connect(self, timeout: float = 60.0) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self._host, self._port, context=self._context, timeout=timeout
        )

    def headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = dict(self._headers)
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        decode: bool = True,
    ) -> Any:
        """Send one request; return the decoded JSON answer (None when ``decode`` is off)."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = self.headers(content_type if data is not None else None)
        for attempt in range(6):
            conn: http.client.HTTPSConnection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self.connect()
                self._local.conn = conn
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 5:
                    raise
                time.sleep(0.1 * (attempt + 1))
                continue
            if resp.status == 429 or resp.status >= 500:
                if attempt == 5:
                    raise ApiError(resp.status, raw)
                time.sleep(0.1 * (attempt + 1))
                continue
            if resp.status >= 300:
                raise ApiError(resp.status, raw)
            return json.loads(raw) if decode and raw else None
        raise AssertionError("unreachable")

    def request_counts(self) -> Counter[str]:
        """kube-apiserver's ``apiserver_request_total`` summed per ``VERB resource[/sub]``
        (watches and the ``/metrics`` reads themselves left out)."""
        conn = self.connect()
        try:
            conn.request("GET", "/metrics", headers=self.headers())
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        counts: Counter[str] = Counter()
        for line in text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels_text, _, value = line.rpartition(" ")
            labels = dict(_METRIC_LABEL.findall(labels_text))
            verb, resource = labels.get("verb", ""), labels.get("resource", "")
            if verb in ("WATCH", "CONNECT") or not resource:
                continue
            sub = labels.get("subresource", "")
            counts[f"{verb} {resource}{'/' + sub if sub else ''}"] += int(float(value))
        return counts


_METRIC_LABEL = re.compile(r'(\w+)="([^"]*)"')


class RawWatch:
    """One streaming watch request on its own connection; ``stop()`` wakes the reader."""

    def __init__(self, api: RawApi, path: str) -> None:
        self._conn = api.connect(timeout=120.0)
        self._conn.request("GET", path, headers=api.headers())
        self._resp = self._conn.getresponse()
        if self._resp.status != 200:
            body = self._resp.read()
            self._conn.close()
            raise ApiError(self._resp.status, body)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            while True:
                line = self._resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            self._conn.close()

    def stop(self) -> None:
        """Shut the socket down (the reading thread then sees the stream end and closes
        the connection itself; closing it from here would race with that reader)."""
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ListWatch:
    """List then watch a collection, relisting on 410 Gone; calls ``handler(type, obj)``.

    Handlers must be idempotent: a relist replays every object as ADDED.
    """

    def __init__(
        self,
        api: RawApi,
        path: str,
        query: dict[str, str],
        handler: Callable[[str, dict[str, Any]], None],
        name: str,
    ) -> None:
        self._api = api
        self._path = path
        self._query = query
        self._handler = handler
        self._stop = threading.Event()
        self._watch: RawWatch | None = None
        self.synced = threading.Event()
        self.native_id = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> ListWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        watch = self._watch
        if watch is not None:
            watch.stop()
        self._thread.join(10)

    def _url(self, extra: dict[str, str]) -> str:
        return f"{self._path}?{urllib.parse.urlencode({**self._query, **extra})}"

    def _list(self) -> str:
        token = ""
        while True:
            extra = {"limit": "500"}
            if token:
                extra["continue"] = token
            page = self._api.request("GET", self._url(extra))
            for item in page.get("items") or []:
                self._handler("ADDED", item)
            token = page["metadata"].get("continue") or ""
            if not token:
                return str(page["metadata"]["resourceVersion"])

    def _run(self) -> None:
        self.native_id = threading.get_native_id()
        version = ""
        while not self._stop.is_set():
            try:
                if not version:
                    version = self._list()
                    self.synced.set()
                watch = RawWatch(
                    self._api,
                    self._url(
                        {
                            "watch": "1",
                            "resourceVersion": version,
                            "allowWatchBookmarks": "true",
                            "timeoutSeconds": "60",
                        }
                    ),
                )
                self._watch = watch
                if self._stop.is_set():
                    watch.stop()
                    return
                for event in watch:
                    kind = event.get("type")
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        version = ""  # 410 Gone (or worse): start over from a list
                        break
                    version = obj.get("metadata", {}).get("resourceVersion") or version
                    if kind in ("ADDED", "MODIFIED", "DELETED"):
                        self._handler(str(kind), obj)
            except Exception:  # a broken stream (or our own stop): reconnect or leave
                if self._stop.is_set():
                    return
                self._stop.wait(0.3)


# ---- process accounting -------------------------------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path: str) -> float:
    """utime + stime of a process or thread, from its ``stat`` file."""
    try:
        fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process in KiB."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


def child_pids(name: str) -> list[int]:
    """Pids of this process's children whose command name is ``name``."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            head, _, rest = Path(f"/proc/{entry}/stat").read_text().rpartition(")")
        except OSError:
            continue
        if rest.split()[1] == me and head.partition("(")[2] == name:
            found.append(int(entry))
    return found


def children_cpu_seconds(name: str) -> float:
    """CPU seconds used so far by this process's children named ``name``."""
    return sum(cpu_seconds(f"/proc/{pid}/stat") for pid in child_pids(name))


def machine_state() -> dict[str, Any]:
    """What the machine looked like: cores, load, memory, the busiest other processes."""
    meminfo: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                meminfo[key] = int(value.split()[0]) // 1024
    busiest = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
        busiest = [" ".join(line.split()) for line in out.splitlines()[:5]]
    return {
        "cores": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "mem_total_mib": meminfo.get("MemTotal"),
        "mem_available_mib": meminfo.get("MemAvailable"),
        "busiest_processes_pcpu": busiest,
        "python": platform.python_version(),
    }


# ---- the reaper: no orphans even if this process is killed -----------------------------

_REAPER_CODE = r"""
import os, signal, sys, threading, time
parent = int(sys.argv[1])
me = os.getpid()
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
groups = set()
lock = threading.Lock()
def scan():
    while True:
        seen = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me:
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                seen.add(int(fields[2]))
        seen.discard(os.getpgid(0))
        with lock:
            groups.clear()
            groups.update(seen)
        time.sleep(0.3)
threading.Thread(target=scan, daemon=True).start()
sys.stdin.read()
with lock:
    targets = set(groups)
for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
    for g in list(targets):
        try:
            os.killpg(g, sig)
        except OSError:
            targets.discard(g)
    deadline = time.monotonic() + wait
    while targets and time.monotonic() < deadline:
        for g in list(targets):
            try:
                os.killpg(g, 0)
            except OSError:
                targets.discard(g)
        time.sleep(0.1)
"""


class Reaper:
    """A watchdog child: when our end of its stdin closes (we exited, however), it kills
    the process groups of our children (the controllers, kube-apiserver and etcd each run
    in their own session). After a clean shutdown there is nothing left for it to kill."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _REAPER_CODE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def close(self) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(20)


# ---- controllers --------------------------------------------------------------------


class ControllerProcess:
    """One controller binary started with the benchmark's flags."""

    def __init__(
        self,
        label: str,
        cp: ControlPlane,
        assets: Path,
        qps: int,
        burst: int,
        log_path: Path,
        extra_args: list[str] | None = None,
    ) -> None:
        self.label = label
        self.log_path = log_path
        if label == UPSTREAM:
            args = kube_controller_manager_args(assets, cp.admin_kubeconfig, "job", qps, burst)
        else:
            args = jobctl_args(
                cp.admin_kubeconfig,
                JOBCTL_NAME,
                f"--kube-api-qps={qps}",
                f"--kube-api-burst={burst}",
            )
        # Later flags override earlier ones in both binaries' flag parsers.
        args = [*args, *(extra_args or [])]
        self.args = args
        with log_path.open("ab") as log_file:
            self.popen = subprocess.Popen(
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def cpu_seconds(self) -> float:
        return cpu_seconds(f"/proc/{self.pid}/stat")

    def memory_kib(self) -> dict[str, int]:
        return memory_kib(self.pid)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        # Anything else the binary forked into its group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


# ---- the fast pod simulator -------------------------------------------------------------


def _rfc3339(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_uid(meta: dict[str, Any]) -> str:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid", ""))
    return ""


@dataclass
class _PodWork:
    due: float
    kind: str  # "run", "finish" or "terminate"
    namespace: str
    name: str
    job_uid: str
    seen: float
    containers: list[tuple[str, str]]
    started: str = ""

    def __lt__(self, other: _PodWork) -> bool:
        return self.due < other.due


class FastPodSimulator:
    """Plays kubelet for every pod at the lowest cost per pod: one status merge-patch.

    One cluster-wide watch selects non-terminal pods only (terminal ones drop out of the
    selection, so the controllers' later finalizer patches cost nothing here) and shards
    the work over writer threads, each with its own keep-alive connection.
    """

    def __init__(self, api: RawApi, writers: int = 8, run_seconds: float = 0.0) -> None:
        self._api = api
        self._run_seconds = run_seconds
        self._queues: list[queue.SimpleQueue[_PodWork | None]] = [
            queue.SimpleQueue() for _ in range(writers)
        ]
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._terminating: set[str] = set()
        self.finishes: dict[str, list[float]] = defaultdict(list)  # job uid -> write times
        self.lags: list[tuple[float, float]] = []  # (write time, write time - first seen)
        self.created: dict[str, int] = defaultdict(int)  # job uid -> pods seen
        self.errors = 0
        self._native_ids: list[int] = []
        self._threads = [
            threading.Thread(target=self._writer, args=(q,), name=f"sim-writer-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        self._watch = ListWatch(
            api,
            "/api/v1/pods",
            {
                "fieldSelector": "status.phase!=Succeeded,status.phase!=Failed",
                "labelSelector": f"!{HOLD_LABEL}",
            },
            self._on_event,
            "sim-watch",
        )

    def start(self) -> FastPodSimulator:
        for thread in self._threads:
            thread.start()
        self._watch.start()
        if not self._watch.synced.wait(60):
            raise BenchError("the pod simulator's watch did not sync in 60s")
        return self

    def stop(self) -> None:
        self._watch.stop()
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(10)

    def cpu_seconds(self) -> float:
        """CPU time of the simulator's threads (watch + writers) so far."""
        me = os.getpid()
        ids = [*self._native_ids, self._watch.native_id]
        return sum(cpu_seconds(f"/proc/{me}/task/{tid}/stat") for tid in ids if tid)

    def lag_since(self, start: float) -> list[float]:
        """Simulator lags (pod seen -> terminal status written) of writes after ``start``."""
        with self._lock:
            return [lag for t, lag in self.lags if t >= start]

    def finish_times(self, job_uid: str) -> list[float]:
        """When each pod of the Job got its terminal status, in order."""
        with self._lock:
            return sorted(self.finishes.get(job_uid, []))

    def pods_seen(self, job_uids: list[str]) -> int:
        """How many distinct pods of these Jobs the simulator has seen."""
        with self._lock:
            return sum(self.created.get(uid, 0) for uid in job_uids)

    def _on_event(self, kind: str, pod: dict[str, Any]) -> None:
        if kind == "DELETED":
            return
        meta = pod.get("metadata") or {}
        status = pod.get("status") or {}
        if status.get("phase") in TERMINAL:
            return
        uid = str(meta.get("uid"))
        now = time.monotonic()
        containers = [
            (str(c.get("name")), str(c.get("image", "")))
            for c in (pod.get("spec") or {}).get("containers") or []
        ]
        work = _PodWork(
            due=now,
            kind="finish",
            namespace=str(meta.get("namespace")),
            name=str(meta.get("name")),
            job_uid=_owner_uid(meta),
            seen=now,
            containers=containers,
            started=str(status.get("startTime") or ""),
        )
        if meta.get("deletionTimestamp"):
            if uid in self._terminating:
                return
            self._terminating.add(uid)
            work.kind = "terminate"
        else:
            if uid in self._seen:
                return
            self._seen.add(uid)
            with self._lock:
                self.created[work.job_uid] += 1
            if self._run_seconds > 0:
                work.kind = "run"
        self._queues[hash(uid) % len(self._queues)].put(work)

    def _writer(self, q: queue.SimpleQueue[_PodWork | None]) -> None:
        with self._lock:
            self._native_ids.append(threading.get_native_id())
        pending: list[_PodWork] = []
        while True:
            timeout = max(0.0, pending[0].due - time.monotonic()) if pending else None
            try:
                item = q.get(timeout=timeout) if timeout is None or timeout > 0 else q.get_nowait()
            except queue.Empty:
                item = _NOTHING
            if item is None:
                return
            if item is not _NOTHING:
                heapq.heappush(pending, item)
            while pending and pending[0].due <= time.monotonic():
                work = heapq.heappop(pending)
                try:
                    follow_up = self._act(work)
                except (OSError, http.client.HTTPException, ApiError):
                    with self._lock:
                        self.errors += 1
                    continue
                if follow_up is not None:
                    heapq.heappush(pending, follow_up)

    def _status_path(self, work: _PodWork) -> str:
        return f"/api/v1/namespaces/{work.namespace}/pods/{work.name}/status"

    def _act(self, work: _PodWork) -> _PodWork | None:
        now = _rfc3339()
        started = work.started or now
        try:
            if work.kind == "run":
                self._api.request(
                    "PATCH",
                    self._status_path(work),
                    _running_patch(work.containers, now),
                    MERGE_PATCH,
                    decode=False,
                )
                work.kind = "finish"
                work.started = now
                work.due = time.monotonic() + self._run_seconds
                return work
            exit_code = 0 if work.kind == "finish" else 143
            self._api.request(
                "PATCH",
                self._status_path(work),
                _terminal_patch(work.containers, exit_code, started, now),
                MERGE_PATCH,
                decode=False,
            )
        except ApiError as err:
            if err.status in (404, 409, 422):
                return None  # gone, or already terminal
            raise
        done = time.monotonic()
        with self._lock:
            self.finishes[work.job_uid].append(done)
            self.lags.append((done, done - work.seen))
        if work.kind == "terminate":
            with contextlib.suppress(ApiError):
                self._api.request(
                    "DELETE",
                    f"/api/v1/namespaces/{work.namespace}/pods/{work.name}",
                    {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0},
                    decode=False,
                )
        return None


_NOTHING = _PodWork(0.0, "", "", "", "", 0.0, [])


def _running_patch(containers: list[tuple[str, str]], now: str) -> dict[str, Any]:
    return {
        "status": {
            "phase": "Running",
            "startTime": now,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": [
                {
                    "name": name,
                    "image": image,
                    "imageID": "",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": now}},
                }
                for name, image in containers
            ],
        }
    }


def _terminal_patch(
    containers: list[tuple[str, str]], exit_code: int, started: str, now: str
) -> dict[str, Any]:
    reason = "Completed" if exit_code == 0 else "Error"
    return {
        "status": {
            "phase": "Succeeded" if exit_code == 0 else "Failed",
            "startTime": started,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "PodCompleted",
                    "lastTransitionTime": now,
                },
                {
                    "type": "ContainersReady",
                    "status": "False",
                    "reason": "PodCompleted",
                    "lastTransitionTime": now,
                },
            ],
            "containerStatuses": [
                {
                    "name": name,
                    "image": image,
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {
                        "terminated": {
                            "exitCode": exit_code,
                            "reason": reason,
                            "startedAt": started,
                            "finishedAt": now,
                        }
                    },
                }
                for name, image in containers
            ],
        }
    }


# ---- Job tracking -----------------------------------------------------------------------


class JobTracker:
    """Watches the Jobs of one namespace: when each one's counted pods grow, when it ends."""

    def __init__(self, api: RawApi, namespace: str) -> None:
        self.namespace = namespace
        self.cond = threading.Condition()
        self.uids: dict[str, str] = {}  # name -> uid
        self.counted: dict[str, int] = {}  # uid -> succeeded + failed
        self.increments: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
        self.finished: dict[str, float] = {}  # uid -> time its Complete/Failed was seen
        self.failed_jobs: set[str] = set()
        self._watch = ListWatch(
            api, f"/apis/batch/v1/namespaces/{namespace}/jobs", {}, self._on_event, "job-watch"
        )

    def start(self) -> JobTracker:
        self._watch.start()
        if not self._watch.synced.wait(60):
            raise BenchError(f"the Job watch on {self.namespace} did not sync in 60s")
        return self

    def stop(self) -> None:
        self._watch.stop()

    def _on_event(self, kind: str, job: dict[str, Any]) -> None:
        now = time.monotonic()
        if kind == "DELETED":
            return
        meta = job.get("metadata") or {}
        uid = str(meta.get("uid"))
        status = job.get("status") or {}
        total = int(status.get("succeeded") or 0) + int(status.get("failed") or 0)
        with self.cond:
            self.uids[str(meta.get("name"))] = uid
            old = self.counted.get(uid, 0)
            if total > old:
                self.increments[uid].append((now, old, total))
                self.counted[uid] = total
            if uid not in self.finished:
                for cond in status.get("conditions") or []:
                    if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
                        self.finished[uid] = now
                        if cond["type"] == "Failed":
                            self.failed_jobs.add(uid)
                        self.cond.notify_all()

    def done(self, name: str) -> bool:
        with self.cond:
            uid = self.uids.get(name)
            return uid is not None and uid in self.finished

    def finished_count(self, exclude: str = WARMUP_JOB) -> int:
        with self.cond:
            skip = self.uids.get(exclude)
            return sum(1 for uid in self.finished if uid != skip)

    def wait_for(self, name: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.uids.get(name) not in self.finished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 1.0))
        return True


# ---- results ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100.0 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def cdf_points(values: list[float], points: int = 200) -> list[list[float]]:
    """A downsampled CDF: [[latency, fraction], ...]."""
    if not values:
        return []
    ordered = sorted(values)
    n = len(ordered)
    step = max(1, n // points)
    out = [[round(ordered[i], 4), round((i + 1) / n, 4)] for i in range(0, n, step)]
    if out[-1][1] != 1.0:
        out.append([round(ordered[-1], 4), 1.0])
    return out


@dataclass
class RunResult:
    """One controller on one workload at one limit setting."""

    workload: str
    limits: str
    controller: str
    qps: int
    burst: int
    describe: str
    jobs: int
    pods_expected: int
    complete: bool = False
    jobs_finished: int = 0
    jobs_failed: int = 0
    pods_created: int = 0
    pods_counted: int = 0
    wall_seconds: float = 0.0
    throughput_per_min: float = 0.0
    latency_n: int = 0
    latency_p50: float | None = None
    latency_p99: float | None = None
    latency_cdf: list[list[float]] = field(default_factory=list)
    cpu_seconds: float = 0.0
    cpu_per_1000_pods: float | None = None
    startup_seconds: float = 0.0
    peak_rss_kib: int = 0
    rss_kib: int = 0
    sim_lag_p50: float | None = None
    sim_lag_p99: float | None = None
    sim_cpu_seconds: float = 0.0
    sim_errors: int = 0
    apiserver_cpu_seconds: float = 0.0
    etcd_cpu_seconds: float = 0.0
    bench_cpu_seconds: float = 0.0
    loadavg_before: list[float] = field(default_factory=list)
    loadavg_after: list[float] = field(default_factory=list)
    # kube-apiserver requests during the run (every client: the controller, the simulator's
    # one status write per pod and the Job creation, the same for both controllers)
    api_requests: dict[str, int] = field(default_factory=dict)
    api_requests_total: int = 0
    order: int = 0


def _latencies(tracker: JobTracker, sim: FastPodSimulator, skip_uid: str | None) -> list[float]:
    """Match, per Job, the k-th counted pod with the k-th terminal status write."""
    out: list[float] = []
    with tracker.cond:
        increments = {uid: list(v) for uid, v in tracker.increments.items() if uid != skip_uid}
    for uid, steps in increments.items():
        finished = sim.finish_times(uid)
        for when, old, new in steps:
            for k in range(old, new):
                if k < len(finished):
                    out.append(when - finished[k])
    return out


# ---- the benchmark ------------------------------------------------------------------------


def _suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


def job_body(name: str, workload: Workload | None, managed_by: str | None) -> dict[str, Any]:
    completions = workload.completions if workload else 1
    parallelism = workload.parallelism if workload else 1
    spec: dict[str, Any] = {
        "completions": completions,
        "parallelism": parallelism,
        "backoffLimit": 6,
        "completionMode": "Indexed" if workload and workload.indexed else "NonIndexed",
        "template": {
            "metadata": {"labels": {"app": "bench-e2e"}},
            "spec": {
                "nodeName": "sim-node",
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "work", "image": "busybox"}],
            },
        },
    }
    if managed_by:
        spec["managedBy"] = managed_by
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


class Bench:
    """Runs the workloads and the RSS measurement on one control plane."""

    def __init__(self, cp: ControlPlane, assets: Path, args: argparse.Namespace) -> None:
        self.cp = cp
        self.assets = assets
        self.args = args
        self.api = RawApi(cp.host, cp.admin_token, cp.workdir / "certs" / "apiserver.crt")
        self.sim = FastPodSimulator(self.api, writers=args.sim_writers, run_seconds=args.run_s)
        self.logs = RESULTS / "bench_e2e-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.runs: list[RunResult] = []
        self.rss: dict[str, dict[str, Any]] = {}
        self._live: list[ControllerProcess] = []

    # ---- helpers

    def create_namespace(self, name: str) -> None:
        self.api.request(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )

    def start_controller(
        self, label: str, qps: int, burst: int, tag: str, extra_args: list[str] | None = None
    ) -> ControllerProcess:
        proc = ControllerProcess(
            label, self.cp, self.assets, qps, burst, self.logs / f"{tag}-{label}.log", extra_args
        )
        self._live.append(proc)
        return proc

    def stop_controllers(self) -> None:
        while self._live:
            self._live.pop().stop()

    def warm_up(self, proc: ControllerProcess, namespace: str, tracker: JobTracker) -> float:
        """Create a one-pod Job and wait until the controller completes it (it is then up,
        its caches are synced and its client is warm). Returns the seconds it took."""
        managed_by = JOBCTL_NAME if proc.label == JOBCTL else None
        self.api.request(
            "POST",
            f"/apis/batch/v1/namespaces/{namespace}/jobs",
            job_body(WARMUP_JOB, None, managed_by),
        )
        deadline = time.monotonic() + self.args.startup_timeout
        while time.monotonic() < deadline:
            if tracker.wait_for(WARMUP_JOB, 1.0):
                return time.monotonic() - proc.started
            if not proc.alive():
                break
        raise BenchError(
            f"{proc.label} did not complete a warm-up Job within "
            f"{self.args.startup_timeout:.0f}s (exit code {proc.popen.poll()}); "
            f"log {proc.log_path}:\n{proc.tail()}"
        )

    def create_jobs(self, namespace: str, workload: Workload, managed_by: str | None) -> None:
        bodies = [
            job_body(f"{workload.key}-{i:04d}", workload, managed_by) for i in range(workload.jobs)
        ]
        path = f"/apis/batch/v1/namespaces/{namespace}/jobs"
        with ThreadPoolExecutor(max_workers=min(8, len(bodies))) as pool:
            for _ in pool.map(
                lambda body: self.api.request("POST", path, body, decode=False), bodies
            ):
                pass

    def cleanup_namespace(self, namespace: str) -> None:
        """Remove the namespace's Jobs and pods (no garbage collector or namespace
        controller runs here); finalizers left by a stopped controller are stripped."""
        base = f"/api/v1/namespaces/{namespace}/pods"
        self.api.request("DELETE", f"{base}?gracePeriodSeconds=0", decode=False)
        for _ in range(120):
            page = self.api.request("GET", f"{base}?limit=500")
            items = page.get("items") or []
            if not items:
                break
            for pod in items:
                meta = pod["metadata"]
                if meta.get("finalizers"):
                    with contextlib.suppress(ApiError):
                        self.api.request(
                            "PATCH",
                            f"{base}/{meta['name']}",
                            {"metadata": {"finalizers": None}},
                            MERGE_PATCH,
                            decode=False,
                        )
            self.api.request("DELETE", f"{base}?gracePeriodSeconds=0", decode=False)
            time.sleep(0.5)
        self.api.request(
            "DELETE",
            f"/apis/batch/v1/namespaces/{namespace}/jobs?propagationPolicy=Background",
            decode=False,
        )

    # ---- one run: some controllers, one workload, one limit setting

    def run(self, workload: Workload, limits: str, labels: list[str], order: int) -> None:
        qps, burst = LIMITS[limits]
        tag = f"{workload.key}-{limits}-{_suffix()}"
        namespaces = {
            label: f"bench-{workload.key}-{limits}-{label}-{tag[-5:]}" for label in labels
        }
        trackers: dict[str, JobTracker] = {}
        results: dict[str, RunResult] = {}
        print(
            f"  run: workload {workload.key} ({workload.describe()}), limits {limits} "
            f"({qps}/{burst}), {' + '.join(labels)}",
            flush=True,
        )
        try:
            procs: dict[str, ControllerProcess] = {}
            for label in labels:
                self.create_namespace(namespaces[label])
                trackers[label] = JobTracker(self.api, namespaces[label]).start()
                procs[label] = self.start_controller(label, qps, burst, tag)
            for label in labels:
                results[label] = RunResult(
                    workload=workload.key,
                    limits=limits,
                    controller=label,
                    qps=qps,
                    burst=burst,
                    describe=workload.describe(),
                    jobs=workload.jobs,
                    pods_expected=workload.pods,
                    order=order,
                )
                results[label].startup_seconds = round(
                    self.warm_up(procs[label], namespaces[label], trackers[label]), 2
                )
            cpu0 = {label: procs[label].cpu_seconds() for label in labels}
            sim_cpu0 = self.sim.cpu_seconds()
            others0 = self._others_cpu()
            load0 = [round(x, 2) for x in os.getloadavg()]
            requests0 = self.api.request_counts()
            t0 = time.monotonic()
            with ThreadPoolExecutor(max_workers=len(labels)) as pool:
                futures = [
                    pool.submit(
                        self.create_jobs,
                        namespaces[label],
                        workload,
                        JOBCTL_NAME if label == JOBCTL else None,
                    )
                    for label in labels
                ]
                for future in futures:
                    future.result()
            timeout = 120.0 + workload.pods * max(3.0 / qps, 0.1)
            deadline = t0 + timeout
            pending = set(labels)
            ends: dict[str, float] = {}
            while pending and time.monotonic() < deadline:
                for label in list(pending):
                    if trackers[label].finished_count() >= workload.jobs:
                        pending.discard(label)
                        with trackers[label].cond:
                            ends[label] = max(trackers[label].finished.values())
                        results[label].cpu_seconds = round(
                            procs[label].cpu_seconds() - cpu0[label], 2
                        )
                        mem = procs[label].memory_kib()
                        results[label].peak_rss_kib = mem.get("VmHWM", 0)
                        results[label].rss_kib = mem.get("VmRSS", 0)
                    elif not procs[label].alive():
                        raise BenchError(
                            f"{label} exited during the run; log {procs[label].log_path}:\n"
                            f"{procs[label].tail()}"
                        )
                if pending:
                    time.sleep(0.2)
            now = time.monotonic()
            for label in pending:  # timed out: report what was counted so far
                ends[label] = now
                results[label].cpu_seconds = round(procs[label].cpu_seconds() - cpu0[label], 2)
                mem = procs[label].memory_kib()
                results[label].peak_rss_kib = mem.get("VmHWM", 0)
                results[label].rss_kib = mem.get("VmRSS", 0)
            sim_cpu = self.sim.cpu_seconds() - sim_cpu0
            others = [b - a for a, b in zip(others0, self._others_cpu(), strict=True)]
            lags = self.sim.lag_since(t0)
            load1 = [round(x, 2) for x in os.getloadavg()]
            requests = self.api.request_counts()
            requests.subtract(requests0)
            for label in labels:
                self._fill(results[label], trackers[label], t0, ends[label], label not in pending)
                results[label].sim_lag_p50 = _round(percentile(lags, 50))
                results[label].sim_lag_p99 = _round(percentile(lags, 99))
                results[label].sim_cpu_seconds = round(sim_cpu, 2)
                results[label].apiserver_cpu_seconds = round(others[0], 2)
                results[label].etcd_cpu_seconds = round(others[1], 2)
                results[label].bench_cpu_seconds = round(others[2], 2)
                results[label].sim_errors = self.sim.errors
                results[label].loadavg_before = load0
                results[label].loadavg_after = load1
                results[label].api_requests = {k: v for k, v in sorted(requests.items()) if v > 0}
                results[label].api_requests_total = sum(results[label].api_requests.values())
                self.runs.append(results[label])
                print("    " + _run_line(results[label]), flush=True)
        finally:
            self.stop_controllers()
            for tracker in trackers.values():
                tracker.stop()
            for namespace in namespaces.values():
                with contextlib.suppress(ApiError, OSError, http.client.HTTPException):
                    self.cleanup_namespace(namespace)

    def _others_cpu(self) -> tuple[float, float, float]:
        """CPU seconds so far of kube-apiserver, etcd and this process (simulator,
        watchers, Job creation): what else the machine spent during a run."""
        return (
            children_cpu_seconds("kube-apiserver"),
            children_cpu_seconds("etcd"),
            cpu_seconds("/proc/self/stat"),
        )

    def _fill(
        self, result: RunResult, tracker: JobTracker, t0: float, end: float, complete: bool
    ) -> None:
        skip = tracker.uids.get(WARMUP_JOB)
        with tracker.cond:
            counted = sum(v for uid, v in tracker.counted.items() if uid != skip)
            result.jobs_finished = sum(1 for uid in tracker.finished if uid != skip)
            result.jobs_failed = len(tracker.failed_jobs - {skip})
            uids = [uid for uid in tracker.counted if uid != skip]
        result.pods_created = self.sim.pods_seen(uids)
        result.complete = complete
        result.pods_counted = counted
        result.wall_seconds = round(end - t0, 2)
        result.throughput_per_min = round(counted / max(end - t0, 1e-9) * 60.0, 1)
        result.cpu_per_1000_pods = per_1000(result.cpu_seconds, counted)
        latencies = _latencies(tracker, self.sim, skip)
        result.latency_n = len(latencies)
        result.latency_p50 = _round(percentile(latencies, 50))
        result.latency_p99 = _round(percentile(latencies, 99))
        result.latency_cdf = cdf_points(latencies)

    # ---- RSS with N pods cached

    def measure_rss(self, labels: list[str], pods: int) -> None:
        """Fill the cluster with ``pods`` finished Job-like pods, then start each controller
        alone and read its settled RSS."""
        namespace = f"bench-rss-{_suffix()}"
        self.create_namespace(namespace)
        print(f"  rss: creating {pods} pods in {namespace}", flush=True)
        owner_uid = "00000000-0000-4000-8000-" + "".join(random.choices("0123456789abcdef", k=12))
        path = f"/api/v1/namespaces/{namespace}/pods"
        start = time.monotonic()

        def create(i: int) -> None:
            self.api.request("POST", path, _cached_pod(i, owner_uid), decode=False)

        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                for _ in pool.map(create, range(pods)):
                    pass
            created_s = time.monotonic() - start
            deadline = time.monotonic() + 120.0 + pods * 0.05
            while time.monotonic() < deadline:
                if len(self.sim.finish_times(owner_uid)) >= pods:
                    break
                time.sleep(0.5)
            finished_s = time.monotonic() - start
            print(
                f"    created in {created_s:.1f}s, all Succeeded after {finished_s:.1f}s",
                flush=True,
            )
            qps, burst = LIMITS["lifted"]
            for label in labels:
                tag = f"rss-{_suffix()}"
                warm_ns = f"bench-rss-warm-{label}-{tag[-5:]}"
                self.create_namespace(warm_ns)
                tracker = JobTracker(self.api, warm_ns).start()
                try:
                    proc = self.start_controller(label, qps, burst, tag)
                    startup = self.warm_up(proc, warm_ns, tracker)
                    samples = _settle(proc)
                    mem = proc.memory_kib()
                    self.rss[label] = {
                        "pods_cached": pods + 1,
                        "rss_kib": mem.get("VmRSS", 0),
                        "peak_rss_kib": mem.get("VmHWM", 0),
                        "startup_seconds": round(startup, 2),
                        "cpu_seconds": round(proc.cpu_seconds(), 2),
                        "rss_samples_kib": samples,
                    }
                    print(
                        f"    {label:<9} RSS {mem.get('VmRSS', 0) / 1024:7.1f} MiB  peak "
                        f"{mem.get('VmHWM', 0) / 1024:7.1f} MiB  (started + synced in "
                        f"{startup:.1f}s)",
                        flush=True,
                    )
                finally:
                    self.stop_controllers()
                    tracker.stop()
                    with contextlib.suppress(ApiError, OSError, http.client.HTTPException):
                        self.cleanup_namespace(warm_ns)
        finally:
            with contextlib.suppress(ApiError, OSError, http.client.HTTPException):
                self.cleanup_namespace(namespace)


def _settle(proc: ControllerProcess, limit: float = 30.0) -> list[int]:
    """Sample VmRSS each second until three samples agree within 1% (or ``limit``)."""
    samples: list[int] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        samples.append(proc.memory_kib().get("VmRSS", 0))
        last = samples[-3:]
        if len(last) == 3 and max(last) - min(last) <= 0.01 * max(last):
            break
        time.sleep(1.0)
    return samples


def _cached_pod(i: int, owner_uid: str) -> dict[str, Any]:
    """A pod shaped like one of a Job's (labels, owner, template) for the RSS test."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"rss-{i:05d}",
            "labels": {
                "app": "bench-e2e",
                "batch.kubernetes.io/controller-uid": owner_uid,
                "batch.kubernetes.io/job-name": "rss",
                "controller-uid": owner_uid,
                "job-name": "rss",
            },
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": "rss",
                    "uid": owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": "sim-node",
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "work", "image": "busybox"}],
        },
    }


def per_1000(cpu_seconds: float, pods: int) -> float | None:
    """CPU seconds per 1,000 pods (None for no pods)."""
    return None if pods <= 0 else round(cpu_seconds / pods * 1000.0, 4)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, spec: str = "6.2f") -> str:
    """``value`` formatted with ``spec``; a missing one is "-" padded to the same width."""
    if value is None:
        width = re.match(r"\d*", spec)
        return "-".rjust(int(width.group() or 0) if width else 0)
    return format(value, spec)


def _run_line(r: RunResult) -> str:
    state = "" if r.complete else f"  INCOMPLETE ({r.jobs_finished}/{r.jobs} Jobs)"
    return (
        f"{r.controller:<9} {r.pods_counted:>6} pods in {r.wall_seconds:7.1f}s = "
        f"{r.throughput_per_min:9.1f} pods/min; latency p50 {_fmt(r.latency_p50)}s "
        f"p99 {_fmt(r.latency_p99)}s; cpu {r.cpu_seconds:6.1f}s "
        f"({_fmt(r.cpu_per_1000_pods, '.2f')} s/1k pods); peak RSS "
        f"{r.peak_rss_kib / 1024:6.1f} MiB; sim lag p50/p99 {_fmt(r.sim_lag_p50, '.3f')}/"
        f"{_fmt(r.sim_lag_p99, '.3f')}s (sim cpu {r.sim_cpu_seconds:.1f}s); apiserver cpu "
        f"{r.apiserver_cpu_seconds:.1f}s; api requests {r.api_requests_total} "
        f"({_requests_summary(r.api_requests)}){state}"
    )


def _requests_summary(requests: dict[str, int]) -> str:
    top = sorted(requests.items(), key=lambda kv: -kv[1])[:6]
    return ", ".join(f"{k} {v}" for k, v in top)


# ---- report -----------------------------------------------------------------------------


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def evaluate(runs: list[RunResult], rss: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (target, run): the figure, the threshold and PASS/MISS."""
    rows: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], dict[str, RunResult]] = defaultdict(dict)
    for r in runs:
        by_key[(r.workload, r.limits)][r.controller] = r
    for (workload, limits), pair in sorted(by_key.items()):
        ours, theirs = pair.get(JOBCTL), pair.get(UPSTREAM)
        where = f"{workload}/{limits}"
        if ours and theirs:
            ratio = _ratio(ours.throughput_per_min, theirs.throughput_per_min)
            rows.append(
                _row(
                    f"throughput jobctl/upstream {where}",
                    ratio,
                    f">= {TARGET_THROUGHPUT_RATIO}x",
                    ratio is not None and ratio >= TARGET_THROUGHPUT_RATIO,
                    "x",
                )
            )
            cpu = _ratio(ours.cpu_per_1000_pods, theirs.cpu_per_1000_pods)
            rows.append(
                ratio_at_most_row(f"CPU-s/1k pods jobctl/upstream {where}", cpu, TARGET_CPU_RATIO)
            )
            lat = _ratio(ours.latency_p50, theirs.latency_p50)
            rows.append(_row(f"p50 latency jobctl/upstream {where}", lat, "(info)", None, "x"))
        if ours:
            if limits == "lifted":
                rows.append(
                    _row(
                        f"jobctl throughput {where}",
                        ours.throughput_per_min,
                        f">= {TARGET_LIFTED_PODS_PER_MIN:,.0f} pods/min",
                        ours.throughput_per_min >= TARGET_LIFTED_PODS_PER_MIN,
                        " pods/min",
                    )
                )
            rows.append(
                _row(
                    f"jobctl p50 latency {where}",
                    ours.latency_p50,
                    f"<= {TARGET_P50_SECONDS} s",
                    ours.latency_p50 is not None and ours.latency_p50 <= TARGET_P50_SECONDS,
                    " s",
                )
            )
    if JOBCTL in rss and UPSTREAM in rss:
        ratio = _ratio(rss[JOBCTL]["rss_kib"], rss[UPSTREAM]["rss_kib"])
        pods = rss[JOBCTL]["pods_cached"]
        rows.append(
            _row(
                f"RSS jobctl/upstream, {pods} pods cached",
                ratio,
                f"<= {TARGET_RSS_RATIO}x (at 10,000 pods)",
                ratio is not None and ratio <= TARGET_RSS_RATIO,
                "x",
            )
        )
    return rows


def ratio_at_most_row(name: str, ratio: float | None, limit: float) -> dict[str, Any]:
    """A row for a jobctl/upstream ratio whose target is at most ``limit``."""
    return _row(name, ratio, f"<= {limit}x", ratio is not None and ratio <= limit, "x")


def _row(name: str, value: float | None, target: str, ok: bool | None, unit: str) -> dict[str, Any]:
    verdict = "info" if ok is None else ("PASS" if ok else "MISS")
    return {
        "target": name,
        "value": _round(value),
        "threshold": target,
        "result": verdict,
        "unit": unit,
    }


def print_report(
    runs: list[RunResult],
    rss: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]],
    scale: list[Any] | None = None,
) -> None:
    print()
    if runs:
        header = (
            f"{'wl':<3}{'limits':<8}{'controller':<11}{'pods':>7}{'wall s':>9}{'pods/min':>11}"
            f"{'p50 s':>8}{'p99 s':>8}{'cpu s':>8}{'cpu/1k':>8}{'peakMiB':>9}{'simlag99':>9}"
            f"{'api%':>6}"
        )
        print(header)
        print("-" * len(header))
        for r in runs:
            flag = "" if r.complete else " (incomplete)"
            print(
                f"{r.workload:<3}{r.limits:<8}{r.controller:<11}{r.pods_counted:>7}"
                f"{r.wall_seconds:>9.1f}{r.throughput_per_min:>11.1f}{_fmt(r.latency_p50, '8.2f')}"
                f"{_fmt(r.latency_p99, '8.2f')}{r.cpu_seconds:>8.1f}"
                f"{_fmt(r.cpu_per_1000_pods, '8.2f')}{r.peak_rss_kib / 1024:>9.1f}"
                f"{_fmt(r.sim_lag_p99, '9.3f')}"
                f"{100 * r.apiserver_cpu_seconds / max(r.wall_seconds, 1e-9):>6.0f}{flag}"
            )
        print("(cpu s: the controller's CPU over the workload; cpu/1k: the same per 1,000 pods")
        print(" counted; api%: kube-apiserver CPU in % of one core over the same time;")
        print(" simlag99: p99 of pod seen -> terminal status written)")
    for label, figures in rss.items():
        print(
            f"RSS with {figures['pods_cached']} pods cached: {label:<9} "
            f"{figures['rss_kib'] / 1024:.1f} MiB (peak {figures['peak_rss_kib'] / 1024:.1f} MiB)"
        )
    if scale:
        from hack.bench_scale import print_scale

        print_scale(scale)
    print()
    for row in rows:
        value = "-" if row["value"] is None else f"{row['value']:,.3f}{row['unit']}"
        print(f"{row['target']:<44} {value:>22}  {row['threshold']:<30} {row['result']}")


def chart_panels(
    runs: list[RunResult], rss: dict[str, dict[str, Any]], scale: list[Any]
) -> list[tuple[str, str]]:
    """The chart's panels, only for what ran: ``(kind, limits)`` with kind one of
    throughput, cpu, rss, scale-ready, scale-rss, latency (one per limit setting run)."""
    panels: list[tuple[str, str]] = []
    if runs:
        panels += [("throughput", ""), ("cpu", "")]
    ran = {r.limits for r in runs if r.latency_cdf}
    panels += [("latency", limits) for limits in LIMITS if limits in ran]
    if rss:
        panels.append(("rss", ""))
    if scale:
        panels += [("scale-ready", ""), ("scale-rss", "")]
    return panels


def grid_shape(panels: int) -> tuple[int, int]:
    """(rows, columns) for ``panels`` panels: two columns unless there is only one."""
    if panels <= 1:
        return (1, 1)
    return ((panels + 1) // 2, 2)


_COLORS = {UPSTREAM: "#4c72b0", JOBCTL: "#dd8452"}


def _paired_bars(
    ax: Any, groups: list[str], value: Callable[[str, str], float | None], ylabel: str
) -> None:
    """Upstream and jobctl bars side by side for each group (a missing figure: no bar)."""
    width = 0.38
    for offset, label in ((-width / 2, UPSTREAM), (width / 2, JOBCTL)):
        xs, ys = [], []
        for i, group in enumerate(groups):
            v = value(group, label)
            if v is not None:
                xs.append(i + offset)
                ys.append(v)
        if xs:
            ax.bar(xs, ys, width, label=label, color=_COLORS[label])
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylabel(ylabel)
    ax.legend()


def write_chart(
    path: Path,
    runs: list[RunResult],
    rss: dict[str, dict[str, Any]],
    scale: list[Any] | None = None,
) -> str:
    """Bars (throughput, CPU per 1,000 pods, RSS, workload d) and latency CDFs per limit
    setting; only panels for what ran."""
    try:
        matplotlib = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'); no PNG written"
    scale = scale or []
    panels = chart_panels(runs, rss, scale)
    if not panels:
        return "nothing ran; no PNG written"
    rows, cols = grid_shape(len(panels))
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for extra in flat[len(panels) :]:
        extra.set_visible(False)
    styles = {"a": "-", "b": "--", "c": ":"}
    groups = sorted({(r.workload, r.limits) for r in runs}, key=lambda g: (g[1], g[0]))
    names = [f"{w}\n{lim}" for w, lim in groups]

    def run_value(name: str, label: str, attr: str) -> float | None:
        workload, limits = name.split("\n")
        match = [
            r
            for r in runs
            if (r.workload, r.limits) == (workload, limits) and r.controller == label
        ]
        return getattr(match[0], attr) if match else None

    sizes = sorted({r.pods for r in scale})

    def scale_value(name: str, label: str, attr: str) -> float | None:
        match = [r for r in scale if str(r.pods) == name and r.controller == label]
        return getattr(match[0], attr) if match else None

    for ax, (kind, limits) in zip(flat, panels, strict=False):
        if kind == "throughput":
            _paired_bars(
                ax, names, lambda g, lab: run_value(g, lab, "throughput_per_min"), "pods / min"
            )
            if any(r.limits == "lifted" for r in runs):
                ax.axhline(TARGET_LIFTED_PODS_PER_MIN, color="grey", linestyle="--", linewidth=1)
            ax.set_title("Throughput (dashed: 10,000 pods/min target, limits lifted)")
        elif kind == "cpu":
            _paired_bars(
                ax,
                names,
                lambda g, lab: run_value(g, lab, "cpu_per_1000_pods"),
                "controller CPU-s / 1,000 pods",
            )
            ax.set_title("Controller CPU seconds per 1,000 pods (lower is better)")
        elif kind == "rss":
            pods = next(iter(rss.values()))["pods_cached"]
            _paired_bars(
                ax,
                ["RSS"],
                lambda g, lab: rss[lab]["rss_kib"] / 1024 if lab in rss else None,
                "RSS MiB",
            )
            ax.set_title(f"RSS with {pods} pods cached")
        elif kind == "scale-ready":
            _paired_bars(
                ax,
                [str(s) for s in sizes],
                lambda g, lab: scale_value(g, lab, "ready_seconds"),
                "seconds",
            )
            ax.set_xlabel("pods in the cluster")
            ax.set_title("d: cold start -> every Job synced once")
        elif kind == "scale-rss":
            _paired_bars(
                ax,
                [str(s) for s in sizes],
                lambda g, lab: None if (v := scale_value(g, lab, "rss_kib")) is None else v / 1024,
                "settled RSS MiB",
            )
            ax.set_xlabel("pods in the cluster")
            ax.set_title("d: settled RSS after the cold start")
        else:
            for r in runs:
                if r.limits != limits or not r.latency_cdf:
                    continue
                xs = [max(p[0], 1e-3) for p in r.latency_cdf]
                ys = [p[1] for p in r.latency_cdf]
                ax.plot(
                    xs,
                    ys,
                    styles.get(r.workload, "-"),
                    color=_COLORS[r.controller],
                    label=f"{r.controller} {r.workload}",
                )
            ax.axvline(TARGET_P50_SECONDS, color="grey", linestyle="--", linewidth=1)
            ax.set_xscale("log")
            ax.set_xlabel("pod finished -> counted in Job status (s)")
            ax.set_ylabel("fraction of pods")
            qps, burst = LIMITS[limits]
            ax.set_title(f"Latency CDF, limits {limits} ({qps}/{burst})")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"wrote {path}"


# ---- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m hack.bench_e2e", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="scaled-down workloads")
    parser.add_argument(
        "--workload",
        choices=[*sorted(FULL_WORKLOADS), SCALE],
        action="append",
        help="a, b, c (Jobs run to completion) or d (scale: cold start on a full cluster); "
        "repeatable; default all",
    )
    parser.add_argument("--limits", choices=list(LIMITS), action="append")
    parser.add_argument("--mode", choices=["alternate", "concurrent"], default="alternate")
    parser.add_argument("--only", choices=list(CONTROLLERS), help="run one controller only")
    parser.add_argument(
        "--rss-pods",
        type=int,
        default=None,
        help="pods cached for the RSS figure (default 10000, quick 2000; 0 skips it)",
    )
    parser.add_argument(
        "--scale-sizes",
        type=_sizes_arg,
        default=None,
        help="workload d: pods in the cluster, comma-separated (default 10000,50000; quick 2000)",
    )
    parser.add_argument(
        "--scale-jobs", type=_positive_int, default=5, help="workload d: Jobs owning the pods"
    )
    parser.add_argument(
        "--scale-running",
        type=_positive_int,
        default=1000,
        help="workload d: pods Running (the rest Succeeded; at most half the pods)",
    )
    parser.add_argument("--sim-writers", type=int, default=8, help="simulator writer threads")
    parser.add_argument(
        "--run-seconds",
        dest="run_s",
        type=float,
        default=0.0,
        help="pods go Running for this long first (default 0: straight to Succeeded)",
    )
    parser.add_argument(
        "--startup-timeout", type=float, default=180.0, help="seconds to warm up a controller"
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "bench_e2e.json")
    parser.add_argument("--png", type=Path, default=RESULTS / "bench_e2e.png")
    args = parser.parse_args(argv)
    if args.rss_pods is None:
        args.rss_pods = 2000 if args.quick else 10_000
    if args.scale_sizes is None:
        args.scale_sizes = [2000] if args.quick else [10_000, 50_000]
    if args.scale_jobs > args.scale_running:
        parser.error("--scale-jobs must not exceed --scale-running (each Job keeps a pod running)")
    too_small = [n for n in args.scale_sizes if n < 2 * args.scale_jobs]
    if too_small:
        parser.error(f"--scale-sizes {too_small[0]} is too small for {args.scale_jobs} Jobs")
    return args


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return int(text)


def _sizes_arg(text: str) -> list[int]:
    from hack.bench_scale import parse_sizes

    try:
        return parse_sizes(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the control plane and everything on it, run, and return the results."""
    from hack import bench_scale

    workloads = QUICK_WORKLOADS if args.quick else FULL_WORKLOADS
    wanted = args.workload or [*sorted(workloads), SCALE]
    selected = [workloads[k] for k in sorted(set(wanted)) if k in workloads]
    scale_results: list[bench_scale.ScaleResult] = []
    limits = args.limits or list(LIMITS)
    labels = [args.only] if args.only else list(CONTROLLERS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    state_before = machine_state()
    print(f"machine: {state_before}", flush=True)
    started = time.monotonic()
    assets = find_assets(with_kcm=True)
    with ControlPlane(assets) as cp:
        print(f"control plane up at {cp.host} in {time.monotonic() - started:.1f}s", flush=True)
        bench = Bench(cp, assets, args)
        bench.sim.start()
        try:
            order = 0
            for limit in limits:
                for i, workload in enumerate(selected):
                    if args.mode == "concurrent" or len(labels) == 1:
                        bench.run(workload, limit, labels, order)
                        order += 1
                        continue
                    pair = labels if (i + order) % 2 == 0 else list(reversed(labels))
                    for label in pair:
                        bench.run(workload, limit, [label], order)
                        order += 1
            if args.rss_pods > 0:
                bench.measure_rss(labels, args.rss_pods)
            if SCALE in wanted:
                scale_results = bench_scale.measure_scale(
                    bench, labels, args.scale_sizes, args.scale_jobs, args.scale_running
                )
        finally:
            bench.stop_controllers()
            bench.sim.stop()
    rows = evaluate(bench.runs, bench.rss) + bench_scale.evaluate_scale(scale_results)
    return {
        "command": " ".join(
            shlex.quote(a) for a in [sys.executable, "-m", "hack.bench_e2e", *args.argv]
        ),
        "mode": args.mode,
        "quick": args.quick,
        "sim_writers": args.sim_writers,
        "run_seconds": args.run_s,
        "limits": {name: {"qps": q, "burst": b} for name, (q, b) in LIMITS.items()},
        "workloads": {w.key: asdict(w) for w in selected},
        "machine_before": state_before,
        "machine_after": machine_state(),
        "total_seconds": round(time.monotonic() - started, 1),
        "runs": [asdict(r) for r in bench.runs],
        "rss": bench.rss,
        "scale": bench_scale.to_json(scale_results, args.scale_jobs, args.scale_running)
        if SCALE in wanted
        else None,
        "targets": rows,
        "_runs": bench.runs,
        "_scale": scale_results,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures; ``argv=None`` (``make bench``) takes the
    arguments from ``BENCH_E2E_ARGS`` (default ``--quick``)."""
    if argv is None:
        argv = shlex.split(os.environ.get(ENV_ARGS, "--quick"))
    args = parse_args(argv)
    args.argv = argv
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[sig] = signal.signal(sig, _raise_exit)
    reaper = Reaper()
    try:
        results = run_bench(args)
    finally:
        reaper.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    runs: list[RunResult] = results.pop("_runs")
    scale = results.pop("_scale")
    print_report(runs, results["rss"], results["targets"], scale)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.json}; {write_chart(args.png, runs, results['rss'], scale)}")
    print(f"total {results['total_seconds']:.0f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
