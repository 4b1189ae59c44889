"""Tests for jobctl.app.options: flags, defaults, Go durations, validation.

Mirrors the checks of cmd/kube-controller-manager/app/options (JobControllerOptions
Validate, the generic leader-election validation) and pflag's parsing rules.
"""

from __future__ import annotations

import pytest

from jobctl.app.options import (
    JobctlOptions,
    OptionsError,
    format_duration,
    parse_args,
    parse_duration,
)


def test_defaults() -> None:
    opts = parse_args([])
    assert opts == JobctlOptions()
    assert opts.concurrent_job_syncs == 5
    assert opts.kube_api_qps == 20.0
    assert opts.kube_api_burst == 30
    assert opts.leader_elect is True
    assert opts.leader_elect_lease_duration == 15.0
    assert opts.leader_elect_renew_deadline == 10.0
    assert opts.leader_elect_retry_period == 2.0
    assert opts.leader_elect_resource_lock == "leases"
    assert opts.leader_elect_resource_name == "jobctl"
    assert opts.leader_elect_resource_namespace == "kube-system"
    assert opts.min_resync_period == 12 * 3600.0
    assert opts.controller_shutdown_timeout == 10.0
    assert opts.bind_address == "0.0.0.0"
    assert opts.port == 0
    assert opts.secure_port == 10262
    assert opts.cert_dir == ""
    assert opts.authentication_kubeconfig == ""
    assert opts.authorization_kubeconfig == ""
    assert opts.authorization_always_allow_paths == ["/healthz", "/readyz", "/livez"]
    assert opts.profiling is True
    assert opts.controller_name == "jobctl.dev/job-controller"
    assert opts.logging_format == "text"
    assert opts.verbosity == 0


def test_every_flag() -> None:
    opts = parse_args(
        [
            "--kubeconfig=/tmp/kc",
            "--master",
            "https://10.0.0.1:6443",
            "--context=ctx",
            "--concurrent-job-syncs=12",
            "--kube-api-qps=55.5",
            "--kube-api-burst=77",
            "--min-resync-period=1h30m",
            "--controller-shutdown-timeout=3s",
            "--startup-probe-timeout=500ms",
            "--feature-gates=JobManagedBy=true",
            "--leader-elect-lease-duration=1m",
            "--leader-elect-renew-deadline=40s",
            "--leader-elect-retry-period=5s",
            "--leader-elect-resource-name=my-lease",
            "--leader-elect-resource-namespace=ops",
            "--bind-address=127.0.0.1",
            "--port=0",
            "--controller-name=kubernetes.io/job-controller",
            "--v=4",
            "--logging-format=json",
        ]
    )
    assert opts.kubeconfig == "/tmp/kc"
    assert opts.master == "https://10.0.0.1:6443"
    assert opts.context == "ctx"
    assert opts.concurrent_job_syncs == 12
    assert opts.kube_api_qps == 55.5
    assert opts.kube_api_burst == 77
    assert opts.min_resync_period == 5400.0
    assert opts.controller_shutdown_timeout == 3.0
    assert opts.startup_probe_timeout == 0.5
    assert opts.feature_gates == "JobManagedBy=true"
    assert opts.leader_elect_lease_duration == 60.0
    assert opts.leader_elect_renew_deadline == 40.0
    assert opts.leader_elect_retry_period == 5.0
    assert opts.leader_elect_resource_name == "my-lease"
    assert opts.leader_elect_resource_namespace == "ops"
    assert opts.bind_address == "127.0.0.1"
    assert opts.port == 0
    assert opts.controller_name == "kubernetes.io/job-controller"
    assert opts.verbosity == 4
    assert opts.logging_format == "json"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], True),
        (["--leader-elect"], True),
        (["--leader-elect=true"], True),
        (["--leader-elect=false"], False),
        (["--leader-elect=0"], False),
        (["--leader-elect=F"], False),
        (["--leader-elect", "false"], False),
    ],
)
def test_leader_elect_bool(args: list[str], expected: bool) -> None:
    assert parse_args(args).leader_elect is expected


@pytest.mark.parametrize("args", [["-v", "3"], ["-v3"], ["-v=3"], ["--v=3"], ["--v", "3"]])
def test_verbosity_spellings(args: list[str]) -> None:
    assert parse_args(args).verbosity == 3


def test_leader_election_timing_not_checked_when_disabled() -> None:
    opts = parse_args(["--leader-elect=false", "--leader-elect-lease-duration=1s"])
    assert opts.leader_elect is False


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("15s", 15.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
        ("300us", 0.0003),
        ("1\u00b5s", 1e-6),
        ("10ns", 1e-8),
        ("-2s", -2.0),
        ("+3s", 3.0),
        (".5s", 0.5),
        ("1.s", 1.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "15", "s", "1x", "1m 30s", "1.5.3s", "--1s", "."])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_duration(text)
    assert str(exc.value) == f'time: invalid duration "{text}"'


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (15.0, "15s"),
        (90.0, "1m30s"),
        (12 * 3600.0, "12h0m0s"),
        (0.5, "500ms"),
        (1.5, "1.5s"),
        (-2.0, "-2s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["extra"], "unrecognized arguments: extra"),
        (
            ["--concurrent-job-syncs=0"],
            "concurrent-job-syncs must be greater than 0, but got 0",
        ),
        (["--concurrent-job-syncs=two"], 'strconv.ParseInt: parsing "two": invalid syntax'),
        (["--kube-api-qps=fast"], 'strconv.ParseFloat: parsing "fast": invalid syntax'),
        (["--kube-api-burst=-1"], "kube-api-burst must not be negative, but got -1"),
        (["--leader-elect-lease-duration=15"], 'time: invalid duration "15"'),
        (["--leader-elect=maybe"], 'strconv.ParseBool: parsing "maybe": invalid syntax'),
        (
            ["--leader-elect-lease-duration=10s"],
            "leader-elect-lease-duration must be greater than leader-elect-renew-deadline",
        ),
        (
            ["--leader-elect-retry-period=9s"],
            "leader-elect-renew-deadline must be greater than leader-elect-retry-period*1.2",
        ),
        (["--leader-elect-resource-lock=endpoints"], 'resourceLock value must be "leases"'),
        (["--logging-format=xml"], 'logging-format must be one of text, json, got "xml"'),
        (["--bind-address=localhost"], 'bind-address must be an IP address, got "localhost"'),
        (["--port=70000"], "port 70000 must be between 0 and 65535, inclusive"),
        (
            ["--tls-cert-file=a.crt"],
            "--tls-cert-file and --tls-private-key-file must be given together",
        ),
        (["--controller-name="], "controller-name must not be empty"),
        (["--min-resync-period=0s"], "min-resync-period must be greater than 0"),
    ],
)
def test_bad_flags_give_one_line(args: list[str], message: str) -> None:
    with pytest.raises(OptionsError) as exc:
        parse_args(args)
    text = str(exc.value)
    assert "\n" not in text
    assert message in text


def test_several_validation_errors_join_on_one_line() -> None:
    with pytest.raises(OptionsError) as exc:
        parse_args(["--concurrent-job-syncs=0", "--logging-format=xml"])
    text = str(exc.value)
    assert "\n" not in text
    assert "concurrent-job-syncs must be greater than 0" in text
    assert "logging-format must be one of" in text


def test_validate_lists_nothing_for_defaults() -> None:
    assert JobctlOptions().validate() == []


def test_serving_flags() -> None:
    opts = parse_args(
        [
            "--secure-port=0",
            "--port=10258",
            "--cert-dir=/var/run/jobctl",
            "--tls-cert-file=a.crt",
            "--tls-private-key-file=a.key",
            "--authentication-kubeconfig=authn.conf",
            "--authorization-kubeconfig=authz.conf",
            "--authorization-always-allow-paths=/healthz,/metrics",
            "--profiling=false",
        ]
    )
    assert (opts.secure_port, opts.port, opts.cert_dir) == (0, 10258, "/var/run/jobctl")
    assert (opts.tls_cert_file, opts.tls_private_key_file) == ("a.crt", "a.key")
    assert opts.authentication_kubeconfig == "authn.conf"
    assert opts.authorization_kubeconfig == "authz.conf"
    assert opts.authorization_always_allow_paths == ["/healthz", "/metrics"]
    assert opts.profiling is False
