"""Unit tests of hack/bench_scale's pure functions (workload d's layout, the objects it
seeds, the metric it reads and its report)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hack import bench_scale
from hack.bench_e2e import HOLD_LABEL, JOBCTL, UPSTREAM
from hack.bench_scale import ScaleJob, ScaleResult


def test_scale_layout_spreads_pods_over_jobs() -> None:
    layout = bench_scale.scale_layout(50_000, 1000, 5)
    assert len(layout) == 5
    assert sum(j.completions for j in layout) == 50_000
    assert sum(j.running for j in layout) == 1000
    assert {j.running for j in layout} == {200}
    assert {j.finished for j in layout} == {9800}
    assert len({j.name for j in layout}) == 5


def test_scale_layout_uneven_split_keeps_every_pod() -> None:
    layout = bench_scale.scale_layout(2003, 7, 3)
    assert sum(j.completions for j in layout) == 2003
    assert [j.running for j in layout] == [3, 2, 2]
    assert all(j.finished > 0 for j in layout)


def test_scale_layout_clamps_running_to_half_and_keeps_one_running_per_job() -> None:
    small = bench_scale.scale_layout(100, 1000, 5)
    assert sum(j.running for j in small) == 50
    few = bench_scale.scale_layout(100, 1, 5)
    assert [j.running for j in few] == [1] * 5


@pytest.mark.parametrize(("pods", "jobs"), [(9, 5), (10, 0)])
def test_scale_layout_rejects_impossible_sizes(pods: int, jobs: int) -> None:
    with pytest.raises(ValueError):
        bench_scale.scale_layout(pods, 10, jobs)


def test_job_body_and_status_leave_no_work_for_a_first_sync() -> None:
    job = ScaleJob("scale-00", finished=9800, running=200)
    body = bench_scale.job_body(job)
    spec = body["spec"]
    assert (spec["completions"], spec["parallelism"]) == (10_000, 200)
    assert spec["completionMode"] == "NonIndexed"
    assert "managedBy" not in spec
    status = bench_scale.job_status(job, "2026-01-01T00:00:00Z")["status"]
    assert status["succeeded"] + status["active"] == spec["completions"]
    assert status["active"] == status["ready"] == spec["parallelism"]
    assert (status["failed"], status["terminating"]) == (0, 0)
    assert status["uncountedTerminatedPods"] == {}
    assert status["startTime"] == "2026-01-01T00:00:00Z"


def test_pod_body_is_owned_by_its_job_and_tracked_only_while_running() -> None:
    job = ScaleJob("scale-01", finished=5, running=2)
    running = bench_scale.pod_body(job, "uid-1", 0, running=True)
    done = bench_scale.pod_body(job, "uid-1", 3, running=False)
    meta = running["metadata"]
    assert meta["name"] == "scale-01-000000"
    assert meta["finalizers"] == [bench_scale.TRACKING_FINALIZER]
    assert "finalizers" not in done["metadata"]
    owner = meta["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Job",
        "scale-01",
        "uid-1",
        True,
    )
    assert meta["labels"]["batch.kubernetes.io/controller-uid"] == "uid-1"
    assert meta["labels"][HOLD_LABEL] == "true"


def test_metrics_args_serve_metrics_and_manage_unlabelled_jobs() -> None:
    kcm = bench_scale.metrics_args(UPSTREAM, 12345, Path("/tmp/certs"))
    assert "--secure-port=12345" in kcm
    assert "--cert-dir=/tmp/certs" in kcm
    allow = [a for a in kcm if a.startswith("--authorization-always-allow-paths=")]
    assert allow and "/metrics" in allow[0].split("=", 1)[1].split(",")
    ours = bench_scale.metrics_args(JOBCTL, 12345, Path("/tmp/certs"))
    assert ours == [*kcm, "--controller-name=kubernetes.io/job-controller"]


METRICS = """\
# HELP job_controller_job_syncs_total [STABLE] The number of job syncs
# TYPE job_controller_job_syncs_total counter
job_controller_job_syncs_total{action="reconciling",completion_mode="NonIndexed",result="success"} 4
job_controller_job_syncs_total{action="pods_created",completion_mode="Indexed",result="error"} 1
job_controller_job_syncs_created{action="reconciling",completion_mode="NonIndexed"} 1.7e+09
job_controller_job_syncs_totally_else 99
job_controller_job_sync_duration_seconds_count{action="reconciling"} 5
"""


def test_sync_count_sums_every_label_set_and_nothing_else() -> None:
    assert bench_scale.sync_count(METRICS) == 5
    assert bench_scale.sync_count("") == 0
    assert bench_scale.sync_count("job_controller_job_syncs_total 3.0\n") == 3


def test_write_requests_counts_only_new_writes() -> None:
    before = Counter({"LIST pods": 3, "PATCH pods": 2, "POST events": 1})
    after = Counter({"LIST pods": 9, "PATCH pods": 2, "POST events": 4, "PUT jobs/status": 1})
    assert bench_scale.write_requests(before, after) == {"POST events": 3, "PUT jobs/status": 1}


def test_parse_sizes() -> None:
    assert bench_scale.parse_sizes("50000, 10_000,10000") == [10_000, 50_000]
    for bad in ("", "10k", "-5", "0", "1,,2"):
        with pytest.raises(ValueError):
            bench_scale.parse_sizes(bad)


def _scale(pods: int, controller: str, ready: float, cpu1k: float, rss: int) -> ScaleResult:
    return ScaleResult(
        pods=pods,
        controller=controller,
        jobs=5,
        running=1000,
        ready=True,
        ready_seconds=ready,
        cpu_per_1000_pods=cpu1k,
        rss_kib=rss,
    )


def test_growth_compares_largest_with_smallest_size() -> None:
    results = [
        _scale(10_000, JOBCTL, 4.0, 0.5, 100_000),
        _scale(50_000, JOBCTL, 15.0, 0.6, 400_000),
        _scale(10_000, UPSTREAM, 2.0, 0.2, 80_000),
    ]
    results[0].cpu_seconds_to_ready = 5.0
    results[1].cpu_seconds_to_ready = 30.0
    g = bench_scale.growth(results)
    assert set(g) == {JOBCTL}
    assert g[JOBCTL] == {
        "from_pods": 10_000,
        "to_pods": 50_000,
        "cpu_per_pod_ratio": 1.2,
        "rss_ratio": 4.0,
        "marginal_cpu_per_1000_pods": 0.625,
        "marginal_rss_kib_per_1000_pods": 7500.0,
    }


def test_evaluate_scale_ratios_per_size() -> None:
    results = [
        _scale(10_000, UPSTREAM, 2.0, 0.2, 100_000),
        _scale(10_000, JOBCTL, 2.8, 0.6, 200_000),
    ]
    rows = {row["target"]: row for row in bench_scale.evaluate_scale(results)}
    ready = rows["d cold start jobctl/upstream, 10000 pods"]
    rss = rows["d settled RSS jobctl/upstream, 10000 pods"]
    assert (ready["value"], ready["result"]) == (1.4, "PASS")
    assert (rss["value"], rss["result"]) == (2.0, "MISS")
    assert rows["d startup CPU jobctl/upstream, 10000 pods"]["result"] == "info"


def test_evaluate_scale_misses_when_jobctl_never_got_ready() -> None:
    ours = _scale(10_000, JOBCTL, 1.0, 0.1, 1)
    ours.ready = False
    rows = bench_scale.evaluate_scale([_scale(10_000, UPSTREAM, 2.0, 0.2, 1), ours])
    assert rows[0]["result"] == "MISS"


def test_catch_up_writes_count_only_pods_jobs_and_events() -> None:
    writes = {
        "POST selfsubjectaccessreviews": 12,
        "PUT jobs/status": 2,
        "PATCH pods": 3,
        "POST events": 1,
        "POST leases": 4,
    }
    assert bench_scale.catch_up_writes(writes) == 6
    assert bench_scale.catch_up_writes({}) == 0


def test_print_scale_flags_catch_up_work(capsys: pytest.CaptureFixture[str]) -> None:
    clean = _scale(2000, UPSTREAM, 1.0, 0.1, 1024)
    clean.syncs_settled = 10
    clean.api_writes = {"POST selfsubjectaccessreviews": 12}
    busy = _scale(2000, JOBCTL, 2.0, 0.2, 2048)
    busy.syncs_settled = 10
    busy.api_writes = {"PUT jobs/status": 2}
    assert "catch-up" not in bench_scale.scale_line(clean)
    assert "other writes" in bench_scale.scale_line(clean)
    assert "catch-up: 2 writes" in bench_scale.scale_line(busy)
    bench_scale.print_scale([busy, clean])
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith("2000")]
    assert [line.split()[1] for line in lines] == [UPSTREAM, JOBCTL]
    assert [line.split()[-1] for line in lines] == ["0", "2"]
