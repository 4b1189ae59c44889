"""Profile the jobctl binary under ``hack/bench_e2e`` with py-spy and break the samples down
by area.

``python -m hack.profile_e2e [--out DIR] [--rate HZ] [--all-threads] -- <bench_e2e arguments>``

starts ``python -m hack.bench_e2e <arguments>`` (default ``--quick --workload b --limits
lifted --only jobctl --rss-pods 0``), waits for every jobctl controller process it starts
(``python -m jobctl ...`` in the benchmark's process tree), attaches ``py-spy record
--format raw`` to each one, and when the benchmark ends prints two tables over all the
samples (shares, not absolute times: the machine is shared):

- **by area**: each sample goes to the innermost frame that matches an area (urllib3 /
  http.client / ssl -> transport; json and jobctl/client/decode -> decode; the reflector
  and watch -> watch path; the shared informer, DeltaFIFO and listeners -> informer
  hand-offs; jobctl/workqueue; sync_job and the rest of jobctl/job; jobctl/record; deep
  copies; the GC policy; ``threading`` waits and notifies -> thread wake-ups);
- **by thread role**: the outermost recognisable frame of the sample's thread (job
  worker, pod-write fan-out, reflector, informer processor, event broadcaster, ...).

py-spy comes from PyPI (``pip install py-spy``); it needs ptrace rights over the benchmark's
children (root, or ``kernel.yama.ptrace_scope=0``). ``--analyze FILE...`` re-reads saved raw
profiles without running anything. By default py-spy samples only the thread holding the
GIL (``--gil``): on Python 3.11 its idle detection counts threads parked in
``Condition.wait`` as running, so sampling every thread (``--all-threads``) shows mostly
parked workers. GIL samples leave out time spent in C with the GIL released (TLS reads and
writes, ``select``), which ``/proc`` CPU figures include.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

DEFAULT_BENCH_ARGS = "--quick --workload b --limits lifted --only jobctl --rss-pods 0"

# (area, substrings of a frame "function (file:line)"): the innermost matching frame wins,
# so the order here only breaks ties between rules that match the same frame.
AREA_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("deep copies", ("deepcopy", "copy.py", "jobctl/client/deepcopy")),
    ("decode (json, jobctl/client/decode)", ("json/", "jobctl/client/decode", "orjson", "msgspec")),
    (
        "transport (urllib3, http.client, ssl, socket)",
        ("urllib3/", "http/client.py", "ssl.py", "socket.py", "selectors.py", "email/"),
    ),
    ("client (jobctl/client transport, real)", ("jobctl/client/",)),
    ("watch path (reflector, watch)", ("reflector", "informers/watch", "watch_list", "/watch.py")),
    ("informer hand-offs (DeltaFIFO, processor, listeners)", ("jobctl/informers/",)),
    ("event recorder (jobctl/record)", ("jobctl/record/",)),
    ("workqueue (jobctl/workqueue)", ("jobctl/workqueue/",)),
    ("GC policy", ("gc_policy", "gc.py")),
    ("sync_job (jobctl/job, controller_utils)", ("jobctl/job/", "jobctl/controller/")),
    ("expectations", ("jobctl/expectations/",)),
    ("logging (klog, logging)", ("klog", "logging/")),
    ("metrics", ("prometheus", "metrics")),
    ("thread wake-ups (threading waits/notifies)", ("threading.py", "queue.py (", "concurrent/")),
    ("other jobctl", ("jobctl/",)),
]

# (role, substrings): the first rule with a match among a thread's outermost frames wins.
ROLE_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("pod-write fan-out (pool threads)", ("_fan_out",)),
    ("informer listeners (event handlers)", ("ProcessorListener.run",)),
    ("informer controller (DeltaFIFO pop, indexer)", ("_Controller._process_loop",)),
    ("reflector (list + watch, decode)", ("Reflector.",)),
    ("job workers (sync_job)", ("Controller.worker",)),
    ("orphan pod worker", ("orphan_worker",)),
    ("delaying queue waiting loop", ("DelayingType._waiting_loop",)),
    ("event broadcaster + watchers", ("Broadcaster._loop", "_run_watcher")),
    ("workqueue metrics loop", ("_update_unfinished_work_loop",)),
    ("HTTP server (/metrics, /healthz)", ("serve_forever", "process_request_thread")),
    ("leader election", ("leaderelection",)),
    ("startup / main thread (imports, run)", ("main (", "_find_and_load")),
]


def _classify(frames: list[str], rules: list[tuple[str, tuple[str, ...]]], innermost: bool) -> str:
    if not innermost:
        head = frames[:8]
        for role, needles in rules:
            if any(needle in frame for frame in head for needle in needles):
                return role
        return "other"
    for frame in reversed(frames):
        for area, needles in rules:
            if any(needle in frame for needle in needles):
                return area
    return "other (interpreter, stdlib)"


def parse_raw(path: Path) -> list[tuple[list[str], int]]:
    """Reads py-spy's ``--format raw`` (collapsed stacks: ``f1;f2;...;leaf count``)."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def breakdown(paths: list[Path]) -> tuple[Counter[str], Counter[str], int]:
    areas: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    total = 0
    for path in paths:
        for frames, count in parse_raw(path):
            # py-spy puts the thread ("process N:...;thread (0x...)") first when asked; drop it.
            frames = [f for f in frames if not f.startswith(("thread (", "process "))]
            areas[_classify(frames, AREA_RULES, innermost=True)] += count
            roles[_classify(frames, ROLE_RULES, innermost=False)] += count
            total += count
    return areas, roles, total


def print_tables(paths: list[Path]) -> None:
    areas, roles, total = breakdown(paths)
    if not total:
        print("no samples")
        return
    for title, counter in (("area (innermost frame)", areas), ("thread role", roles)):
        print(f"\n| {title} | share |\n| --- | ---: |")
        for name, count in counter.most_common():
            print(f"| {name} | {100.0 * count / total:.1f} % |")
    print(f"\n{total} samples over {len(paths)} process(es)")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                found.append(int(kid))
                todo.append(int(kid))
    return found


def _is_jobctl(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"-m" in argv and b"jobctl" in argv


def run(bench_args: list[str], out: Path, rate: int, gil: bool) -> list[Path]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.mkdir(parents=True, exist_ok=True)
    bench = subprocess.Popen([sys.executable, "-m", "hack.bench_e2e", *bench_args])
    spies: dict[int, subprocess.Popen[bytes]] = {}
    outputs: list[Path] = []
    try:
        while bench.poll() is None:
            for pid in _children(bench.pid):
                if pid in spies or not _is_jobctl(pid):
                    continue
                path = out / f"jobctl-{pid}.raw"
                cmd = [py_spy, "record", "--format", "raw", "-r", str(rate), "-o", str(path)]
                cmd += ["--gil"] if gil else []
                spies[pid] = subprocess.Popen([*cmd, "-p", str(pid)], stdout=subprocess.DEVNULL)
                outputs.append(path)
                print(f"profile_e2e: py-spy on jobctl pid {pid} -> {path}", flush=True)
            time.sleep(0.2)
    finally:
        if bench.poll() is None:
            bench.send_signal(signal.SIGTERM)
            bench.wait(120)
        for spy in spies.values():
            try:
                spy.wait(60)  # py-spy writes its file when the target exits
            except subprocess.TimeoutExpired:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
    return [p for p in outputs if p.exists()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/profile"))
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument(
        "--all-threads",
        action="store_true",
        help="sample every thread py-spy thinks is running, not only the one holding the GIL",
    )
    parser.add_argument("--analyze", nargs="+", type=Path, help="raw profiles to read")
    parser.add_argument("bench_args", nargs="*", help="bench_e2e arguments (after --)")
    args = parser.parse_args(argv)
    if args.analyze:
        missing = [p for p in args.analyze if not p.exists()]
        if missing:
            sys.exit(f"profile_e2e: no such file: {missing[0]}")
        print_tables(args.analyze)
        return
    scope = Path("/proc/sys/kernel/yama/ptrace_scope")
    if os.geteuid() != 0 and scope.exists() and scope.read_text().strip() != "0":
        sys.exit("profile_e2e: py-spy needs root or kernel.yama.ptrace_scope=0")
    bench_args = args.bench_args or shlex.split(DEFAULT_BENCH_ARGS)
    paths = run(bench_args, args.out, args.rate, not args.all_threads)
    print_tables(paths)


if __name__ == "__main__":
    main()
