"""Client CPU per API request against a real kube-apiserver.

Creates pods through three paths and reports the CPU this process spends per request
(``time.process_time``) and the wall time, one caller and 32 concurrent callers:

- ``generated``: the official client's generated method (``CoreV1Api.create_namespaced_pod``
  with ``_preload_content=False``), what jobctl's clientset used before;
- ``clientset``: jobctl's clientset (``jobctl.client.transport``: by path through the same
  pool, model body by pydantic, answer decoded into a ``V1Pod``);
- ``pool``: the same pool with a pre-encoded body and the answer left undecoded (the floor
  for anything built on the official client's urllib3 pool);
- ``clientset, manager`` and ``pool, manager``: the same two paths through a second
  clientset whose pool manager is wrapped, so that its transport goes through the
  manager's ``request()`` instead of straight to the connection pool (what the transport
  did before the direct route; side by side with it in one run).

Run: ``python -m hack.bench_client [--requests N]`` (part of ``make bench``). It starts its
own control plane (``jobctl.testing.control_plane``), so the kube-apiserver binaries are
built or taken from the cache first.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from jobctl.client.real import Clientset, load_configuration, new_for_config
from jobctl.client.transport import read_body
from jobctl.testing.control_plane import ControlPlane, find_assets

NAMESPACE = "bench-client"
JSON = "application/json"
THREADS = 32


def _pod() -> k8s.V1Pod:
    return k8s.V1Pod.model_validate(
        {
            "metadata": {
                "generateName": "p-",
                "namespace": NAMESPACE,
                "labels": {"app": "bench"},
                "finalizers": ["batch.kubernetes.io/job-tracking"],
            },
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
            },
        }
    )


class _WrappedManager:
    """Delegates ``request()`` to a pool manager, hiding its type from the transport."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager

    def request(self, *args: Any, **kwargs: Any) -> Any:
        return self._manager.request(*args, **kwargs)


def _pool_send(cs: Clientset, body: bytes, path: str) -> Callable[[], object]:
    def send() -> object:
        return read_body(cs.transport.request("POST", path, body=body, content_type=JSON))

    return send


def _measure(send: Callable[[], object], requests: int, threads: int) -> tuple[float, float]:
    """(client CPU ms, wall ms) per request, ``requests`` spread over ``threads``."""
    per_thread = requests // threads

    def run() -> None:
        for _ in range(per_thread):
            send()

    for _ in range(10):
        send()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done = per_thread * threads
    return (
        (time.process_time() - cpu0) / done * 1e3,
        (time.perf_counter() - wall0) / done * 1e3,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hack.bench_client")
    parser.add_argument("--requests", type=int, default=640, help="pods per measurement")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the table (rows interleaved per round)"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with ControlPlane(find_assets()) as cp:
        cfg = load_configuration(str(cp.admin_kubeconfig))
        clientset = new_for_config(cfg, qps=-1)
        api = k8s.CoreV1Api(clientset.api_client)
        api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=NAMESPACE)))
        pods = clientset.core_v1().pods(NAMESPACE)
        body = clientset.transport.encode(_pod())
        path = f"/api/v1/namespaces/{NAMESPACE}/pods"

        def generated() -> object:
            resp = api.create_namespaced_pod(NAMESPACE, _pod(), _preload_content=False)
            return resp.data

        wrapped = new_for_config(load_configuration(str(cp.admin_kubeconfig)), qps=-1)
        manager = wrapped.api_client.rest_client.pool_manager
        wrapped.api_client.rest_client.pool_manager = _WrappedManager(manager)
        wrapped_pods = wrapped.core_v1().pods(NAMESPACE)

        paths: list[tuple[str, Callable[[], object]]] = [
            ("generated", generated),
            ("clientset", lambda: pods.create(_pod())),
            ("clientset, manager", lambda: wrapped_pods.create(_pod())),
            ("pool", _pool_send(clientset, body, path)),
            ("pool, manager", _pool_send(wrapped, body, path)),
        ]
        print(f"{'path':<20} {'callers':>7} {'cpu ms/req':>11} {'wall ms/req':>12}")
        for threads in [t for _ in range(args.rounds) for t in (1, THREADS)]:
            for name, send in paths:
                cpu, wall = _measure(send, args.requests, threads)
                print(f"{name:<20} {threads:>7} {cpu:>11.3f} {wall:>12.3f}", flush=True)


if __name__ == "__main__":
    main()
