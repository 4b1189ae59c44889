"""Decode benchmark: turning a pod list body into models, four ways.

Synthesises N Running pods (about 2.5 KB of JSON each: a container with resources and a
mount; four conditions; a container status; two managedFields entries), serialises them
as one PodList body and measures, per pod:

  0. ``json.loads`` only (plain dicts), the floor;
  a. ``ApiClient.deserialize(body, "V1PodList")``, what the official client's list
     calls do;
  b. ``json.loads`` + ``V1PodList.model_validate``;
  c. jobctl's decode path (``decode_list``) with the ``drop_managed_fields`` transform,
     what the informers use (it pauses the cyclic GC while it decodes); row "c, GC on"
     is the same without the pause, to show what the collector costs;
  d. ``decode_list`` with ``prune_pod_for_job_controller`` (also drops every pod field
     the Job controller never reads; see jobctl/client/decode.py);
  w. the same pods as N ``MODIFIED`` watch lines through ``decode_watch_event`` with
     ``drop_managed_fields``, what every informer event costs (rows "w, json" and
     "w, codec" are the parse alone: stdlib ``json.loads`` against
     ``jobctl.client.jsoncodec.loads``, orjson when installed; "w, stdlib" is row w with
     the codec's orjson switched off).

Time is the CPU time of this thread (``time.thread_time``: a loaded machine slows the wall
clock, not this), the best of a few runs without tracing; memory is what the decoded list keeps
alive (tracemalloc, on a smaller sample since tracing is slow). A cProfile of path (c)
shows where the time goes.

``python -m hack.bench_decode [N]`` (default N from $JOBCTL_BENCH_DECODE_PODS or 10000; best of
$JOBCTL_BENCH_DECODE_REPEATS runs, default 2).
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from jobctl.client.decode import (
    decode_list,
    decode_watch_event,
    drop_managed_fields,
    prune_pod_for_job_controller,
)

try:
    from jobctl.client import jsoncodec
    from jobctl.client.jsoncodec import loads as codec_loads
except ImportError:  # a tree from before jobctl.client.jsoncodec (side-by-side runs)
    jsoncodec = None  # type: ignore[assignment]
    codec_loads = json.loads  # type: ignore[assignment]

DEFAULT_PODS = 10_000
MEMORY_SAMPLE = 2_000
REPEATS = int(os.environ.get("JOBCTL_BENCH_DECODE_REPEATS", "2"))


def synth_pod(i: int) -> dict[str, Any]:
    """One Running pod of a Job, as the API server returns it in a list."""
    name = f"job-{i // 10}-{i % 10}-abcde"
    ts = "2026-01-01T00:00:00Z"
    containers = [
        {
            "name": "main",
            "image": "registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
            "command": ["sh", "-c", "sleep 3600"],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
            "volumeMounts": [
                {
                    "name": "kube-api-access-x7k2p",
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    "readOnly": True,
                }
            ],
            "imagePullPolicy": "IfNotPresent",
        }
    ]
    return {
        "metadata": {
            "name": name,
            "generateName": f"job-{i // 10}-{i % 10}-",
            "namespace": "default",
            "uid": f"6f1c1a0e-0000-4000-8000-{i:012d}",
            "resourceVersion": str(100_000 + i),
            "creationTimestamp": ts,
            "labels": {
                "batch.kubernetes.io/controller-uid": "5b7e2d0c-1111-4222-8333-444455556666",
                "batch.kubernetes.io/job-name": f"job-{i // 10}",
                "controller-uid": "5b7e2d0c-1111-4222-8333-444455556666",
                "job-name": f"job-{i // 10}",
            },
            "annotations": {"batch.kubernetes.io/job-completion-index": str(i % 10)},
            "finalizers": ["batch.kubernetes.io/job-tracking"],
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": f"job-{i // 10}",
                    "uid": "5b7e2d0c-1111-4222-8333-444455556666",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {
                            "f:finalizers": {".": {}, 'v:"batch.kubernetes.io/job-tracking"': {}},
                            "f:labels": {".": {}, "f:job-name": {}},
                        },
                    },
                },
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": ts,
                    "fieldsType": "FieldsV1",
                    "subresource": "status",
                    "fieldsV1": {
                        "f:status": {
                            "f:conditions": {'k:{"type":"Ready"}': {".": {}, "f:status": {}}},
                            "f:containerStatuses": {},
                            "f:phase": {},
                        }
                    },
                },
            ],
        },
        "spec": {
            "containers": containers,
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": f"node-{i % 50}",
            "schedulerName": "default-scheduler",
            "priority": 0,
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": ts}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "hostIP": "10.0.0.1",
            "podIP": f"10.244.{i // 250 % 250}.{i % 250}",
            "startTime": ts,
            "qosClass": "Burstable",
            "containerStatuses": [
                {
                    "name": c,
                    "state": {"running": {"startedAt": ts}},
                    "ready": True,
                    "restartCount": 0,
                    "image": "registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
                    "imageID": "registry.k8s.io/e2e-test-images/busybox@sha256:a9155b13",
                    "containerID": f"containerd://{i:064x}",
                    "started": True,
                }
                for c in ("main",)
            ],
        },
    }


def synth_body(n: int) -> bytes:
    items = [synth_pod(i) for i in range(n)]
    body = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "200000"},
        "items": items,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def watch_lines(body: bytes) -> list[bytes]:
    """The items of a list body as ``MODIFIED`` watch lines."""
    return [
        json.dumps({"type": "MODIFIED", "object": item}, separators=(",", ":")).encode()
        for item in json.loads(body)["items"]
    ]


_LINES: dict[int, list[bytes]] = {}


def _lines(body: bytes) -> list[bytes]:
    key = id(body)
    if key not in _LINES:
        _LINES[key] = watch_lines(body)
    return _LINES[key]


def _watch_events(body: bytes) -> Any:
    return [decode_watch_event(k8s.V1Pod, line, drop_managed_fields) for line in _lines(body)]


def _watch_events_stdlib(body: bytes) -> Any:
    if jsoncodec is None:
        return _watch_events(body)
    fast = jsoncodec._FAST
    jsoncodec._FAST = False
    try:
        return _watch_events(body)
    finally:
        jsoncodec._FAST = fast


def _watch_json(body: bytes) -> Any:
    return [json.loads(line) for line in _lines(body)]


def _watch_codec(body: bytes) -> Any:
    return [codec_loads(line) for line in _lines(body)]


def _api_client_deserialize(body: bytes) -> Any:
    return k8s.ApiClient().deserialize(body.decode(), "V1PodList", "application/json")


def _model_validate(body: bytes) -> Any:
    return k8s.V1PodList.model_validate(json.loads(body))


def _decode_drop_managed_fields(body: bytes) -> Any:
    return decode_list(k8s.V1Pod, body, drop_managed_fields)


def _decode_drop_managed_fields_gc_on(body: bytes) -> Any:
    return decode_list(k8s.V1Pod, body, drop_managed_fields, pause_gc=False)


def _decode_pruned(body: bytes) -> Any:
    return decode_list(k8s.V1Pod, body, prune_pod_for_job_controller)


PATHS: list[tuple[str, str, Callable[[bytes], Any]]] = [
    ("0", "json.loads only (dicts)", json.loads),
    ("a", "ApiClient.deserialize -> V1PodList", _api_client_deserialize),
    ("b", "json.loads + V1PodList.model_validate", _model_validate),
    ("c, GC on", "decode_list + drop_managed_fields", _decode_drop_managed_fields_gc_on),
    ("c", "decode_list + drop_managed_fields", _decode_drop_managed_fields),
    ("d", "decode_list + prune_pod_for_job_controller", _decode_pruned),
    ("w", "watch lines: decode_watch_event", _watch_events),
    ("w, stdlib", "watch lines: decode_watch_event, stdlib json", _watch_events_stdlib),
    ("w, json", "watch lines: json.loads only", _watch_json),
    ("w, codec", "watch lines: jsoncodec.loads only", _watch_codec),
]


def _count(result: Any) -> int:
    if isinstance(result, list):
        return len(result)
    if isinstance(result, dict):
        return len(result["items"])
    return len(result.items)


def time_per_pod(fn: Callable[[bytes], Any], body: bytes, n: int) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        gc.collect()
        start = time.thread_time()
        result = fn(body)
        elapsed = time.thread_time() - start
        assert _count(result) == n
        del result
        best = min(best, elapsed)
    return best / n


def retained_bytes_per_pod(fn: Callable[[bytes], Any], body: bytes, n: int) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = fn(body)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - base
        assert _count(result) == n
        del result
    finally:
        tracemalloc.stop()
    return kept / n


def gc_seconds(fn: Callable[[bytes], Any], body: bytes) -> tuple[float, float, int]:
    """Run ``fn`` once; return (total seconds, seconds inside GC collections, collections)."""
    spent = 0.0
    count = 0
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        nonlocal spent, count
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            spent += time.perf_counter() - started.pop()
            count += 1

    gc.collect()
    gc.callbacks.append(callback)
    try:
        start = time.perf_counter()
        result = fn(body)
        total = time.perf_counter() - start
    finally:
        gc.callbacks.remove(callback)
    del result
    return total, spent, count


def profile(fn: Callable[[bytes], Any], body: bytes, top: int = 12) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn(body)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return "\n".join(lines[start : start + top + 1])


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else int(os.environ.get("JOBCTL_BENCH_DECODE_PODS", DEFAULT_PODS))
    sample = min(n, MEMORY_SAMPLE)
    body = synth_body(n)
    sample_body = synth_body(sample)
    # Built before any clock or tracing starts, and kept for the whole run.
    _lines(body)
    _lines(sample_body)
    print(
        f"{n} Running pods, {len(body) / n / 1024:.2f} KiB of JSON per pod "
        f"({len(body) / 2**20:.1f} MiB body); memory measured on {sample} pods"
    )
    print(f"{'path':<56} {'time/pod':>10} {'total':>8} {'memory/pod':>11}")
    results: dict[str, tuple[float, float]] = {}
    for key, label, fn in PATHS:
        per_pod = time_per_pod(fn, body, n)
        mem = retained_bytes_per_pod(fn, sample_body, sample)
        results[key] = (per_pod, mem)
        print(
            f"{'(' + key + ')':<10} {label:<45} {per_pod * 1e6:>8.0f}us {per_pod * n:>7.2f}s "
            f"{mem / 1024:>8.1f}KiB",
            flush=True,
        )
    a, c, d = results["a"][0], results["c"][0], results["d"][0]
    print(
        f"speed-up vs (a): (b) {a / results['b'][0]:.1f}x, (c) {a / c:.1f}x, (d) {a / d:.1f}x; "
        f"memory (a) {results['a'][1] / 1024:.1f} -> (c) {results['c'][1] / 1024:.1f} -> "
        f"(d) {results['d'][1] / 1024:.1f} KiB/pod"
    )
    for key, fn in (
        ("c, GC on", _decode_drop_managed_fields_gc_on),
        ("c", _decode_drop_managed_fields),
    ):
        total, in_gc, collections = gc_seconds(fn, body)
        print(
            f"({key}): {total:.2f}s for {n} pods, of which {in_gc:.2f}s in {collections} "
            "garbage collections"
        )
    print(f"\ncProfile of (c) on {sample} pods, by own time:")
    print(profile(_decode_drop_managed_fields, sample_body))
    print(f"\ncProfile of (a) on {sample} pods, by own time:")
    print(profile(_api_client_deserialize, sample_body))


if __name__ == "__main__":
    main()
