"""Side-by-side micro-benchmarks of the hand-offs beneath the Job controller: this tree
against a git revision, alternating, in fresh processes.

``python -m hack.profile_micro [--base main] [--runs 3] [--case delaying|events|deepcopy]``

Each run is a fresh interpreter with ``PYTHONPATH`` at either the working tree or the
``--base`` revision (``git archive`` into a temporary directory), so both import the
same dependencies and differ only in jobctl. The figure is the **process CPU time**
(every thread, ``time.process_time``) per 1,000 operations, which includes the thread
wake-ups a hand-off causes; the ranges are min-max over ``--runs`` runs. Cases:

- ``delaying``: the job controller's pod-event pattern: 20,000 ``add_after(key, 50 ms)``
  over 20 Job keys, in bursts of 20 every millisecond, a worker draining the queue, on the
  real clock;
- ``events``: after a warm-up, 5,000 ``eventf`` calls ("Created pod: ...") on 20 Jobs through a real
  broadcaster with the structured-logging watcher (level off) and a sink that answers at
  once, paced like the above, until the watchers have drained;
- ``deepcopy``: ``deep_copy`` of a 500-pod Job's pod template, 2,000 times.

The machine may be loaded; only the side-by-side ratio means anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _case_delaying() -> tuple[float, int]:
    import threading

    from jobctl.workqueue.delaying_queue import (
        TypedDelayingQueueConfig,
        new_typed_delaying_queue_with_config,
    )

    q = new_typed_delaying_queue_with_config(TypedDelayingQueueConfig[str]())
    keys = [f"ns/job-{i}" for i in range(20)]
    got = [0]

    def worker() -> None:
        while True:
            key, shutdown = q.get()
            if shutdown:
                return
            got[0] += 1
            q.done(key)

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    n = 20_000
    start = time.process_time()
    for i in range(n):
        q.add_after(keys[i % 20], 0.05)
        if i % 20 == 19:
            time.sleep(0.001)
    deadline = time.monotonic() + 30
    time.sleep(0.2)
    while q.len() and time.monotonic() < deadline:
        time.sleep(0.01)
    cpu = time.process_time() - start
    q.shut_down()
    t.join(5)
    return cpu, n


def _case_events() -> tuple[float, int]:
    import threading

    from kubernetes.client import CoreV1Event, V1Job, V1ObjectMeta

    from jobctl.record import new_broadcaster
    from jobctl.record.event import EventSink

    class Sink(EventSink):
        def __init__(self) -> None:
            self.n = 0

        def create(self, event: CoreV1Event) -> CoreV1Event:
            self.n += 1
            event.metadata.resource_version = str(self.n)
            return event

        def update(self, event: CoreV1Event) -> CoreV1Event:
            return event

        def patch(self, old_event: CoreV1Event, data: bytes) -> CoreV1Event:
            self.n += 1
            return old_event

    before = set(threading.enumerate())
    broadcaster = new_broadcaster()
    broadcaster.start_structured_logging(3)
    broadcaster.start_recording_to_sink(Sink())
    recorder = broadcaster.new_recorder("job-controller")
    jobs = [
        V1Job(
            api_version="batch/v1",
            kind="Job",
            metadata=V1ObjectMeta(name=f"job-{i}", namespace="ns", uid=f"uid-{i}"),
        )
        for i in range(20)
    ]
    # Warm up (lazy imports, pydantic schemas) outside the timed part.
    for i in range(50):
        recorder.eventf(jobs[i % 20], "Normal", "SuccessfulCreate", "Created pod: %v", f"w-{i}")
    time.sleep(0.5)
    n = 5_000
    start = time.process_time()
    for i in range(n):
        recorder.eventf(jobs[i % 20], "Normal", "SuccessfulCreate", "Created pod: %v", f"p-{i}")
        if i % 10 == 9:
            time.sleep(0.001)
    broadcaster.shutdown()
    for t in set(threading.enumerate()) - before:
        if t.name == "event-watcher":
            t.join(30)
    return time.process_time() - start, n


def _case_deepcopy() -> tuple[float, int]:
    from jobctl.client.deepcopy import deep_copy
    from jobctl.testing.builders import new_job

    template = new_job(500, 500, 6, "NonIndexed").spec.template
    n = 2_000
    start = time.process_time()
    for _ in range(n):
        deep_copy(template)
    return time.process_time() - start, n


CASES = {"delaying": _case_delaying, "events": _case_events, "deepcopy": _case_deepcopy}


def _run_child(root: Path, case: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-m", "hack.profile_micro", "--child", case],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    cpu, n = json.loads(out.stdout.strip().splitlines()[-1])
    return 1000.0 * float(cpu) / int(n) * 1000.0  # CPU ms per 1,000 operations


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CASES[args.child]()))
        return
    if args.runs < 1:
        sys.exit("profile_micro: --runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="profile-micro-") as tmp:
        base = Path(tmp)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.base, "jobctl", "hack"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            sys.exit(f"profile_micro: git archive {args.base}: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        # The base tree runs this file's cases, whatever its own hack/ holds.
        (base / "hack" / "profile_micro.py").write_bytes(Path(__file__).read_bytes())
        print(f"CPU ms per 1,000 operations (process time, all threads); {args.runs} runs each")
        print(f"{'case':10} {args.base + ' (base)':>22} {'this tree':>22}  ratio (medians)")
        for case in args.case or sorted(CASES):
            figures: dict[str, list[float]] = {"base": [], "tree": []}
            for _ in range(args.runs):
                figures["base"].append(_run_child(base, case))
                figures["tree"].append(_run_child(REPO, case))
            b, t = sorted(figures["base"]), sorted(figures["tree"])
            mb, mt = b[len(b) // 2], t[len(t) // 2]
            print(
                f"{case:10} {f'{b[0]:.1f}-{b[-1]:.1f} (med {mb:.1f})':>22} "
                f"{f'{t[0]:.1f}-{t[-1]:.1f} (med {mt:.1f})':>22}  {mt / mb:.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
