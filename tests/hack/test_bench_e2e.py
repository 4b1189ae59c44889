"""Unit tests of hack/bench_e2e's pure functions: CPU per 1,000 pods, the targets, the
chart's panel grid and the command line."""

from __future__ import annotations

import pytest

from hack import bench_e2e
from hack.bench_e2e import JOBCTL, UPSTREAM, RunResult
from hack.bench_scale import ScaleResult


def _run(controller: str, workload: str = "a", limits: str = "lifted", **kw: object) -> RunResult:
    r = RunResult(
        workload=workload,
        limits=limits,
        controller=controller,
        qps=1000,
        burst=2000,
        describe="x",
        jobs=1,
        pods_expected=1000,
    )
    for key, value in kw.items():
        setattr(r, key, value)
    return r


def test_per_1000_scales_cpu_to_a_thousand_pods() -> None:
    assert bench_e2e.per_1000(3.0, 500) == 6.0
    assert bench_e2e.per_1000(8.5, 10_000) == 0.85
    assert bench_e2e.per_1000(1.0, 0) is None


def test_evaluate_compares_cpu_per_1000_pods_against_1_5x() -> None:
    runs = [
        _run(UPSTREAM, "a", throughput_per_min=100.0, cpu_per_1000_pods=1.0),
        _run(JOBCTL, "a", throughput_per_min=100.0, cpu_per_1000_pods=1.4),
        _run(UPSTREAM, "b", throughput_per_min=100.0, cpu_per_1000_pods=1.0),
        _run(JOBCTL, "b", throughput_per_min=100.0, cpu_per_1000_pods=3.0),
    ]
    rows = {row["target"]: row for row in bench_e2e.evaluate(runs, {})}
    a = rows["CPU-s/1k pods jobctl/upstream a/lifted"]
    b = rows["CPU-s/1k pods jobctl/upstream b/lifted"]
    assert (a["value"], a["result"]) == (1.4, "PASS")
    assert (b["value"], b["result"]) == (3.0, "MISS")
    assert a["threshold"] == "<= 1.5x"


def test_evaluate_has_no_cpu_ratio_without_both_controllers() -> None:
    rows = bench_e2e.evaluate([_run(JOBCTL, cpu_per_1000_pods=1.0)], {})
    assert not [row for row in rows if row["target"].startswith("CPU-s/1k")]


def test_evaluate_cpu_ratio_is_a_miss_when_a_figure_is_missing() -> None:
    runs = [_run(UPSTREAM, cpu_per_1000_pods=None), _run(JOBCTL, cpu_per_1000_pods=1.0)]
    rows = {row["target"]: row for row in bench_e2e.evaluate(runs, {})}
    assert rows["CPU-s/1k pods jobctl/upstream a/lifted"]["value"] is None
    assert rows["CPU-s/1k pods jobctl/upstream a/lifted"]["result"] == "MISS"


def test_chart_panels_leave_out_limits_that_did_not_run() -> None:
    runs = [_run(UPSTREAM, latency_cdf=[[0.1, 1.0]]), _run(JOBCTL, latency_cdf=[[0.2, 1.0]])]
    panels = bench_e2e.chart_panels(runs, {}, [])
    assert panels == [("throughput", ""), ("cpu", ""), ("latency", "lifted")]


def test_chart_panels_cover_every_measurement_that_ran() -> None:
    runs = [
        _run(UPSTREAM, limits="default", latency_cdf=[[0.1, 1.0]]),
        _run(JOBCTL, limits="lifted", latency_cdf=[[0.1, 1.0]]),
    ]
    rss = {UPSTREAM: {"pods_cached": 10, "rss_kib": 1024}}
    scale = [ScaleResult(pods=10, controller=UPSTREAM, jobs=1, running=1)]
    panels = bench_e2e.chart_panels(runs, rss, scale)
    assert panels == [
        ("throughput", ""),
        ("cpu", ""),
        ("latency", "default"),
        ("latency", "lifted"),
        ("rss", ""),
        ("scale-ready", ""),
        ("scale-rss", ""),
    ]


def test_chart_panels_for_workload_d_alone() -> None:
    scale = [ScaleResult(pods=10, controller=JOBCTL, jobs=1, running=1)]
    assert bench_e2e.chart_panels([], {}, scale) == [("scale-ready", ""), ("scale-rss", "")]
    assert bench_e2e.chart_panels([], {}, []) == []


@pytest.mark.parametrize(
    ("panels", "shape"), [(0, (1, 1)), (1, (1, 1)), (2, (1, 2)), (3, (2, 2)), (7, (4, 2))]
)
def test_grid_shape_fits_the_panels(panels: int, shape: tuple[int, int]) -> None:
    assert bench_e2e.grid_shape(panels) == shape


def test_parse_args_scale_defaults_follow_quick() -> None:
    assert bench_e2e.parse_args([]).scale_sizes == [10_000, 50_000]
    assert bench_e2e.parse_args(["--quick"]).scale_sizes == [2000]
    args = bench_e2e.parse_args(["--workload", "d", "--scale-sizes", "50000,10000"])
    assert args.workload == ["d"]
    assert args.scale_sizes == [10_000, 50_000]


@pytest.mark.parametrize(
    "argv",
    [
        ["--scale-sizes", "10k"],
        ["--scale-sizes", "0"],
        ["--scale-jobs", "-1"],
        ["--scale-jobs", "20", "--scale-running", "10"],
        ["--scale-sizes", "6", "--scale-jobs", "5"],
        ["--workload", "e"],
    ],
)
def test_parse_args_rejects_bad_input_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_e2e.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert "Traceback" not in err


def test_print_report_shows_cpu_per_1000_pods(capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(JOBCTL, "b", pods_counted=200, cpu_seconds=1.1, cpu_per_1000_pods=5.5)
    bench_e2e.print_report([run], {}, [])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("wl"))
    row = next(line for line in out.splitlines() if line.startswith("b "))
    end = header.index("cpu/1k") + len("cpu/1k")  # right-aligned, 8 wide
    assert row[end - 8 : end].strip() == "5.50"


def test_print_report_leaves_out_the_runs_table_when_only_d_ran(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scale = [ScaleResult(pods=2000, controller=JOBCTL, jobs=5, running=1000, ready=True)]
    bench_e2e.print_report([], {}, [], scale)
    out = capsys.readouterr().out
    assert "wl limits" not in out
    assert "workload d (scale)" in out


def test_fmt_pads_a_missing_figure_to_the_column_width() -> None:
    assert bench_e2e._fmt(None, "8.2f") == "       -"
    assert bench_e2e._fmt(None, ".3f") == "-"
    assert bench_e2e._fmt(1.5, "8.2f") == "    1.50"


def test_make_bench_does_not_run_helper_modules_on_their_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hack import bench

    assert bench.main(["scale"]) == 0
    assert "bench_scale" not in capsys.readouterr().out
