"""Benchmark for jobctl.informers: watch events through a real SharedIndexInformer.

Lists 2,000 pods, then pushes 20,000 pod MODIFIED events (10 per pod) through the whole
pipeline: scripted fake list-watch -> reflector -> RealFIFO -> indexer -> one event
handler on its own listener thread. Objects are built before the clock starts, as the
real clientset hands the informer decoded models. Prints events/s applied to the store
and delivered to the handler.

Run: ``.venv/bin/python -m hack.bench_informer`` (target: >= 5,000 events/s each).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from kubernetes.client import V1Container, V1ObjectMeta, V1Pod, V1PodSpec, V1PodStatus

from jobctl.client.interface import MODIFIED, ObjectList, WatchEvent
from jobctl.informers.controller import ResourceEventHandlerFuncs
from jobctl.informers.index import NAMESPACE_INDEX, meta_namespace_index_func
from jobctl.informers.shared_informer import new_shared_index_informer
from jobctl.testing.fake_list_watch import ScriptedListWatch

TARGET_EVENTS_PER_SECOND = 5_000
NUM_PODS = 2_000
NUM_EVENTS = 20_000


def _pod(i: int, rv: int) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(
            name=f"pod-{i}",
            namespace="default",
            uid=f"uid-{i}",
            resource_version=str(rv),
            labels={"batch.kubernetes.io/job-name": f"job-{i // 10}", "app": "bench"},
        ),
        spec=V1PodSpec(containers=[V1Container(name="main", image="busybox")]),
        status=V1PodStatus(phase="Running"),
    )


def run_once(num_pods: int = NUM_PODS, num_events: int = NUM_EVENTS) -> dict[str, float]:
    """Push ``num_events`` MODIFIED events; return the store and handler rates (events/s)."""
    initial = [_pod(i, 1) for i in range(num_pods)]
    events = [WatchEvent(MODIFIED, _pod(n % num_pods, n + 2)) for n in range(num_events)]
    last_rv = str(num_events + 1)

    lw = ScriptedListWatch()
    lw.add_list_result(ObjectList(items=initial, resource_version="1"))
    watcher = lw.add_watch_result()
    assert watcher is not None
    informer = new_shared_index_informer(
        lw, V1Pod, 0.0, {NAMESPACE_INDEX: meta_namespace_index_func}
    )

    delivered = [0]
    all_delivered = threading.Event()

    def on_update(old: Any, new: Any) -> None:
        delivered[0] += 1
        if delivered[0] == num_events:
            all_delivered.set()

    registration = informer.add_event_handler(ResourceEventHandlerFuncs(update_func=on_update))
    stop = threading.Event()
    runner = threading.Thread(target=informer.run, args=(stop,), daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    while not registration.has_synced() and time.monotonic() < deadline:
        time.sleep(0.005)
    if not lw.wait_for_watch_calls(1):
        raise RuntimeError("informer never started watching")

    store = informer.get_store()
    start = time.perf_counter()
    watcher.send_many(events)
    # The store reports the resource version of its newest write.
    while store.last_store_sync_resource_version() != last_rv:
        if time.perf_counter() - start > 120:
            raise RuntimeError("store never caught up")
        time.sleep(0.001)
    store_elapsed = time.perf_counter() - start
    if not all_delivered.wait(120):
        raise RuntimeError("handler never caught up")
    handler_elapsed = time.perf_counter() - start
    stop.set()
    runner.join(10)
    return {
        "store_events_per_s": num_events / store_elapsed,
        "handler_events_per_s": num_events / handler_elapsed,
        "store_seconds": store_elapsed,
        "handler_seconds": handler_elapsed,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    result = run_once()
    print(
        f"informer: {NUM_EVENTS} MODIFIED events for {NUM_PODS} pods: "
        f"store {result['store_events_per_s']:,.0f} events/s ({result['store_seconds']:.2f}s), "
        f"handler {result['handler_events_per_s']:,.0f} events/s "
        f"({result['handler_seconds']:.2f}s); target >= {TARGET_EVENTS_PER_SECOND:,}/s"
    )


if __name__ == "__main__":
    main()
