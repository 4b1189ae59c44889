"""Command-line flags of the jobctl binary.

Port of the kube-controller-manager flags that matter to a process running only the
Job controller: ``app/options/jobcontroller.go`` (``--concurrent-job-syncs``), the
generic controller-manager options of ``k8s.io/controller-manager/options/generic.go``
(``--min-resync-period``, ``--kube-api-qps``/``--kube-api-burst``, leader election
from ``k8s.io/component-base/config/options``), ``--kubeconfig``/``--master``,
``--controller-shutdown-timeout``, ``--feature-gates``, the logging flags and the
serving flags (apiserver ``SecureServingOptions``, ``DelegatingAuthenticationOptions``,
``DelegatingAuthorizationOptions``, component-base ``DebuggingOptions``). Defaults are
KCM's, except the lease name (``jobctl``), the secure port (10262) and the plain HTTP
``--port`` (off by default) that jobctl keeps as an opt-out for local use.

Durations use Go's syntax (``15s``, ``1m30s``, ``500ms``) and are stored as float
seconds. Any bad flag raises ``OptionsError`` with one line of text; the caller
prints it and exits 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NoReturn

from jobctl.k8s_libs import features
from jobctl.leaderelection import JITTER_FACTOR

# Defaults (KCM's, from component-base / controller-manager / KCM config defaults).
DEFAULT_CONCURRENT_JOB_SYNCS = 5
DEFAULT_KUBE_API_QPS = 20.0
DEFAULT_KUBE_API_BURST = 30
DEFAULT_LEASE_DURATION = 15.0
DEFAULT_RENEW_DEADLINE = 10.0
DEFAULT_RETRY_PERIOD = 2.0
DEFAULT_RESOURCE_LOCK = "leases"
DEFAULT_RESOURCE_NAME = "jobctl"
DEFAULT_RESOURCE_NAMESPACE = "kube-system"
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DEFAULT_MIN_RESYNC_PERIOD = 12 * 3600.0
DEFAULT_CONTROLLER_SHUTDOWN_TIMEOUT = 10.0
# KCM waits this long for the API server's /healthz before giving up (WaitForAPIServer).
DEFAULT_STARTUP_PROBE_TIMEOUT = 10.0
DEFAULT_BIND_ADDRESS = "0.0.0.0"
# The plain-HTTP opt-out is off by default (KCM has no plain port at all).
DEFAULT_PORT = 0
# KCM serves HTTPS on 10257; jobctl picks its own port so both can share a host network.
DEFAULT_SECURE_PORT = 10262
DEFAULT_ALWAYS_ALLOW_PATHS = ("/healthz", "/readyz", "/livez")
DEFAULT_CONTROLLER_NAME = "jobctl.dev/job-controller"
# The name kube-controller-manager's own Job controller answers to.
KUBE_CONTROLLER_NAME = "kubernetes.io/job-controller"

LOGGING_FORMATS = ("text", "json")


class OptionsError(Exception):
    """A bad command line; ``str(err)`` is the single line to show the user."""


# ---------------------------------------------------------------------------
# Go duration syntax


_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)"
_DURATION_RE = re.compile(rf"[-+]?(?:{_DURATION_PART})+")
_DURATION_PART_RE = re.compile(_DURATION_PART)


def parse_duration(text: str) -> float:
    """Port of Go's time.ParseDuration, returning float seconds.

    Accepts a signed sequence of decimal numbers with units (``1h30m``, ``1.5s``,
    ``500ms``); ``0`` alone needs no unit.
    """
    s = text.strip()
    if s in ("0", "+0", "-0"):
        return 0.0
    if not _DURATION_RE.fullmatch(s):
        raise ValueError(f'time: invalid duration "{text}"')
    sign = -1.0 if s.startswith("-") else 1.0
    total = 0.0
    for number, unit in _DURATION_PART_RE.findall(s):
        total += float(number) * _DURATION_UNITS[unit]
    return sign * total


def format_duration(seconds: float) -> str:
    """Go's Duration.String for float seconds (``15s``, ``12h0m0s``, ``500ms``)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    value = abs(seconds)
    if value < 1:
        for unit, scale in (("ms", 1e-3), ("\u00b5s", 1e-6), ("ns", 1e-9)):
            if value >= scale:
                return f"{sign}{_trim(value / scale)}{unit}"
        return f"{sign}{_trim(value / 1e-9)}ns"
    hours = int(value // 3600)
    minutes = int((value - hours * 3600) // 60)
    secs = value - hours * 3600 - minutes * 60
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{_trim(secs)}s"


def _trim(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _duration_arg(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _bool_arg(text: str) -> bool:
    """pflag's bool parsing (strconv.ParseBool)."""
    lowered = text.strip()
    if lowered in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if lowered in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _add_bool_flag(
    group: argparse._ArgumentGroup, flag: str, default: bool, help_text: str
) -> None:
    """A pflag bool flag: the bare flag means true, ``--flag=false`` sets it off."""
    group.add_argument(
        flag,
        type=_bool_arg,
        nargs="?",
        const=True,
        default=default,
        metavar="BOOL",
        help=help_text,
    )


def _int_arg(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'strconv.ParseInt: parsing "{text}": invalid syntax'
        ) from None


def _string_list(text: str) -> list[str]:
    """pflag's StringSlice: comma-separated, empty items dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _float_arg(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'strconv.ParseFloat: parsing "{text}": invalid syntax'
        ) from None


# ---------------------------------------------------------------------------
# The options


@dataclass
class JobctlOptions:
    """Port of KubeControllerManagerOptions, trimmed to what the Job controller uses.

    Field names follow the flags; durations are float seconds.
    """

    kubeconfig: str = ""
    master: str = ""
    context: str = ""
    concurrent_job_syncs: int = DEFAULT_CONCURRENT_JOB_SYNCS
    kube_api_qps: float = DEFAULT_KUBE_API_QPS
    kube_api_burst: int = DEFAULT_KUBE_API_BURST
    min_resync_period: float = DEFAULT_MIN_RESYNC_PERIOD
    controller_shutdown_timeout: float = DEFAULT_CONTROLLER_SHUTDOWN_TIMEOUT
    startup_probe_timeout: float = DEFAULT_STARTUP_PROBE_TIMEOUT
    leader_elect: bool = True
    leader_elect_lease_duration: float = DEFAULT_LEASE_DURATION
    leader_elect_renew_deadline: float = DEFAULT_RENEW_DEADLINE
    leader_elect_retry_period: float = DEFAULT_RETRY_PERIOD
    leader_elect_resource_lock: str = DEFAULT_RESOURCE_LOCK
    leader_elect_resource_name: str = DEFAULT_RESOURCE_NAME
    leader_elect_resource_namespace: str = DEFAULT_RESOURCE_NAMESPACE
    feature_gates: str = ""
    verbosity: int = 0
    logging_format: str = "text"
    bind_address: str = DEFAULT_BIND_ADDRESS
    port: int = DEFAULT_PORT
    secure_port: int = DEFAULT_SECURE_PORT
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    cert_dir: str = ""
    authentication_kubeconfig: str = ""
    authorization_kubeconfig: str = ""
    authorization_always_allow_paths: list[str] = field(
        default_factory=lambda: list(DEFAULT_ALWAYS_ALLOW_PATHS)
    )
    profiling: bool = True
    controller_name: str = DEFAULT_CONTROLLER_NAME
    # Namespaced mode (not in KCM): watch and write only these namespaces; empty: all.
    namespaces: list[str] = field(default_factory=list)

    def validate(self) -> list[str]:
        """Port of KubeControllerManagerOptions.Validate for the kept options.

        Also checks the leader election timing rules that client-go enforces only
        when the elector is built, so a bad combination fails at start-up.
        """
        errs: list[str] = []
        # JobControllerOptions.Validate
        if self.concurrent_job_syncs < 1:
            errs.append(
                f"concurrent-job-syncs must be greater than 0, but got {self.concurrent_job_syncs}"
            )
        if self.kube_api_burst < 0:
            errs.append(f"kube-api-burst must not be negative, but got {self.kube_api_burst}")
        if self.min_resync_period <= 0:
            errs.append("min-resync-period must be greater than 0")
        if self.controller_shutdown_timeout < 0:
            errs.append("controller-shutdown-timeout must not be negative")
        if self.startup_probe_timeout < 0:
            errs.append("startup-probe-timeout must not be negative")
        # GenericControllerManagerConfigurationOptions.Validate
        if self.leader_elect and self.leader_elect_resource_lock != DEFAULT_RESOURCE_LOCK:
            errs.append('resourceLock value must be "leases"')
        if self.leader_elect:
            errs.extend(self._validate_leader_election())
        if self.logging_format not in LOGGING_FORMATS:
            errs.append(
                f"logging-format must be one of {', '.join(LOGGING_FORMATS)}, "
                f'got "{self.logging_format}"'
            )
        try:
            ipaddress.ip_address(self.bind_address)
        except ValueError:
            errs.append(f'bind-address must be an IP address, got "{self.bind_address}"')
        for flag, value in (("port", self.port), ("secure-port", self.secure_port)):
            if not 0 <= value <= 65535:
                errs.append(f"{flag} {value} must be between 0 and 65535, inclusive")
        if bool(self.tls_cert_file) != bool(self.tls_private_key_file):
            errs.append("--tls-cert-file and --tls-private-key-file must be given together")
        if self.port and self.secure_port and self.port == self.secure_port:
            errs.append("port and secure-port must differ")
        for ns in self.namespaces:
            if not _DNS1123_LABEL.fullmatch(ns):
                errs.append(f'namespace "{ns}" must be a valid namespace name (RFC 1123 label)')
        if len(set(self.namespaces)) != len(self.namespaces):
            errs.append("namespace must not be given twice")
        if not self.controller_name:
            errs.append("controller-name must not be empty")
        elif len(self.controller_name) > 63:
            errs.append("controller-name must be no more than 63 characters")
        return errs

    def _validate_leader_election(self) -> list[str]:
        errs: list[str] = []
        lease = self.leader_elect_lease_duration
        renew = self.leader_elect_renew_deadline
        retry = self.leader_elect_retry_period
        if lease <= renew:
            errs.append(
                "leader-elect-lease-duration must be greater than leader-elect-renew-deadline"
            )
        if renew <= JITTER_FACTOR * retry:
            errs.append(
                "leader-elect-renew-deadline must be greater than "
                f"leader-elect-retry-period*{JITTER_FACTOR}"
            )
        if retry <= 0:
            errs.append("leader-elect-retry-period must be greater than zero")
        if not self.leader_elect_resource_name:
            errs.append("leader-elect-resource-name must not be empty")
        if not self.leader_elect_resource_namespace:
            errs.append("leader-elect-resource-namespace must not be empty")
        return errs


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise OptionsError(message)


def build_parser(prog: str = "jobctl") -> argparse.ArgumentParser:
    """The flag set, grouped like KCM's named flag sets."""
    d = JobctlOptions()
    parser = _Parser(
        prog=prog,
        description=(
            "Runs the Kubernetes Job controller (a port of kube-controller-manager's) "
            "against a cluster."
        ),
        epilog="Subcommands: 'jobctl version', 'jobctl sync --help'.",
        allow_abbrev=False,
    )

    misc = parser.add_argument_group("misc")
    misc.add_argument(
        "--kubeconfig",
        metavar="PATH",
        default=d.kubeconfig,
        help="Path to kubeconfig file with authorization and master location information "
        "(the master location can be overridden by the master flag).",
    )
    misc.add_argument(
        "--master",
        metavar="URL",
        default=d.master,
        help="The address of the Kubernetes API server (overrides any value in kubeconfig).",
    )
    misc.add_argument(
        "--context",
        metavar="NAME",
        default=d.context,
        help="The kubeconfig context to use (default: current).",
    )

    job = parser.add_argument_group("job controller")
    job.add_argument(
        "--concurrent-job-syncs",
        type=_int_arg,
        default=d.concurrent_job_syncs,
        metavar="INT",
        help="The number of job objects that are allowed to sync concurrently. "
        f"(default {d.concurrent_job_syncs})",
    )
    job.add_argument(
        "--controller-name",
        metavar="NAME",
        default=d.controller_name,
        help="The spec.managedBy value this controller reconciles. Use "
        f"'{KUBE_CONTROLLER_NAME}' to stand in for kube-controller-manager's Job "
        f"controller (disable that one first). (default {d.controller_name})",
    )

    generic = parser.add_argument_group("generic")
    generic.add_argument(
        "--min-resync-period",
        type=_duration_arg,
        default=d.min_resync_period,
        metavar="DURATION",
        help="The resync period in reflectors will be random between MinResyncPeriod and "
        f"2*MinResyncPeriod. (default {format_duration(d.min_resync_period)})",
    )
    generic.add_argument(
        "--kube-api-qps",
        type=_float_arg,
        default=d.kube_api_qps,
        metavar="FLOAT",
        help=f"QPS to use while talking with kubernetes apiserver. (default {d.kube_api_qps:g})",
    )
    generic.add_argument(
        "--kube-api-burst",
        type=_int_arg,
        default=d.kube_api_burst,
        metavar="INT",
        help=f"Burst to use while talking with kubernetes apiserver. (default {d.kube_api_burst})",
    )
    generic.add_argument(
        "--controller-shutdown-timeout",
        type=_duration_arg,
        default=d.controller_shutdown_timeout,
        metavar="DURATION",
        help="Time to wait for the controllers to shut down before terminating the "
        f"executable. (default {format_duration(d.controller_shutdown_timeout)})",
    )
    generic.add_argument(
        "--startup-probe-timeout",
        type=_duration_arg,
        default=d.startup_probe_timeout,
        metavar="DURATION",
        help="How long to keep retrying the start-up checks (API server reachable, "
        "permissions granted) while the API server is unreachable or failing. "
        f"(default {format_duration(d.startup_probe_timeout)})",
    )
    generic.add_argument(
        "--feature-gates",
        default=d.feature_gates,
        metavar="KEY=BOOL,...",
        help="A set of key=value pairs that describe feature gates for alpha/experimental "
        "features. jobctl implements "
        f"{', '.join(sorted(features.IMPLEMENTED_GATES))}; switching on another alpha gate "
        "is refused, setting any other gate is accepted with a warning.",
    )
    _add_bool_flag(
        generic,
        "--leader-elect",
        d.leader_elect,
        "Start a leader election client and gain leadership before executing the main "
        "loop. Enable this when running replicated components for high availability. "
        "(default true)",
    )
    generic.add_argument(
        "--leader-elect-lease-duration",
        type=_duration_arg,
        default=d.leader_elect_lease_duration,
        metavar="DURATION",
        help="The duration that non-leader candidates will wait after observing a leadership "
        "renewal until attempting to acquire leadership of a led but unrenewed leader slot. "
        f"(default {format_duration(d.leader_elect_lease_duration)})",
    )
    generic.add_argument(
        "--leader-elect-renew-deadline",
        type=_duration_arg,
        default=d.leader_elect_renew_deadline,
        metavar="DURATION",
        help="The interval between attempts by the acting master to renew a leadership slot "
        "before it stops leading. Must be less than the lease duration. "
        f"(default {format_duration(d.leader_elect_renew_deadline)})",
    )
    generic.add_argument(
        "--leader-elect-retry-period",
        type=_duration_arg,
        default=d.leader_elect_retry_period,
        metavar="DURATION",
        help="The duration the clients should wait between attempting acquisition and "
        f"renewal of a leadership. (default {format_duration(d.leader_elect_retry_period)})",
    )
    generic.add_argument(
        "--leader-elect-resource-lock",
        metavar="TYPE",
        default=d.leader_elect_resource_lock,
        help="The type of resource object that is used for locking during leader election. "
        "Supported options are 'leases'. (default \"leases\")",
    )
    generic.add_argument(
        "--leader-elect-resource-name",
        metavar="NAME",
        default=d.leader_elect_resource_name,
        help="The name of resource object that is used for locking during leader election. "
        f'(default "{d.leader_elect_resource_name}")',
    )
    generic.add_argument(
        "--leader-elect-resource-namespace",
        metavar="NAMESPACE",
        default=None,
        help="The namespace of resource object that is used for locking during leader "
        f'election. (default "{d.leader_elect_resource_namespace}", or the first '
        "--namespace in namespaced mode)",
    )
    generic.add_argument(
        "--namespace",
        dest="namespaces",
        action="append",
        default=[],
        metavar="NAMESPACE",
        help="Namespaced mode (not in kube-controller-manager): manage only the Jobs and "
        "pods of this namespace; repeat for several. Every informer, write and start-up "
        "permission check is then limited to these namespaces, so a Role per namespace "
        "is enough (deploy/namespaced/). (default: all namespaces)",
    )

    serving = parser.add_argument_group("serving")
    serving.add_argument(
        "--bind-address",
        metavar="IP",
        default=d.bind_address,
        help="The IP address on which to serve --port and --secure-port. "
        f"(default {d.bind_address})",
    )
    serving.add_argument(
        "--secure-port",
        type=_int_arg,
        default=d.secure_port,
        metavar="INT",
        help="The port on which to serve HTTPS with authentication and authorization "
        "(/healthz, /readyz and /livez are always allowed). 0 disables it. "
        f"(default {d.secure_port})",
    )
    serving.add_argument(
        "--port",
        type=_int_arg,
        default=d.port,
        metavar="INT",
        help="jobctl only, for local use: also serve /healthz, /readyz, /livez and /metrics "
        "over plain HTTP, WITHOUT authentication, on this port. 0 disables it. (default 0)",
    )
    serving.add_argument(
        "--tls-cert-file",
        metavar="PATH",
        default=d.tls_cert_file,
        help="File containing the default x509 Certificate for HTTPS (CA cert, if any, "
        "concatenated after server cert). If not given, a self-signed certificate and key "
        "are generated into --cert-dir.",
    )
    serving.add_argument(
        "--tls-private-key-file",
        metavar="PATH",
        default=d.tls_private_key_file,
        help="File containing the default x509 private key matching --tls-cert-file.",
    )
    serving.add_argument(
        "--cert-dir",
        metavar="DIR",
        default=d.cert_dir,
        help="The directory where the self-signed TLS certs (jobctl.crt, jobctl.key) are "
        "kept and reused. Ignored if --tls-cert-file and --tls-private-key-file are given. "
        "(default: a private temporary directory removed at exit)",
    )
    serving.add_argument(
        "--authentication-kubeconfig",
        metavar="PATH",
        default=d.authentication_kubeconfig,
        help="kubeconfig file pointing at the 'core' kubernetes server with enough rights "
        "to create tokenreviews.authentication.k8s.io. (default: the --kubeconfig / "
        "in-cluster configuration)",
    )
    serving.add_argument(
        "--authorization-kubeconfig",
        metavar="PATH",
        default=d.authorization_kubeconfig,
        help="kubeconfig file pointing at the 'core' kubernetes server with enough rights "
        "to create subjectaccessreviews.authorization.k8s.io. (default: the --kubeconfig / "
        "in-cluster configuration)",
    )
    serving.add_argument(
        "--authorization-always-allow-paths",
        type=_string_list,
        default=d.authorization_always_allow_paths,
        metavar="STRINGS",
        help="A list of HTTP paths to skip during authorization, i.e. these are authorized "
        "without contacting the 'core' kubernetes server. "
        f"(default [{','.join(DEFAULT_ALWAYS_ALLOW_PATHS)}])",
    )

    debugging = parser.add_argument_group("debugging")
    _add_bool_flag(
        debugging,
        "--profiling",
        d.profiling,
        "Enable profiling via web interface host:port/debug/pprof/ (jobctl: the "
        "thread dump /debug/pprof/goroutine) and /debug/flags/v. (default true)",
    )

    logs = parser.add_argument_group("logs")
    logs.add_argument(
        "-v",
        "--v",
        dest="verbosity",
        type=_int_arg,
        default=d.verbosity,
        metavar="LEVEL",
        help="Number for the log level verbosity (klog style: 2 steady state, 4 debug).",
    )
    logs.add_argument(
        "--logging-format",
        metavar="FORMAT",
        default=d.logging_format,
        help='Sets the log format. Permitted formats: "json", "text". (default "text")',
    )
    return parser


def parse_args(argv: Sequence[str]) -> JobctlOptions:
    """Parse and validate ``argv``; raise OptionsError (one line) if anything is wrong."""
    parser = build_parser()
    namespace = parser.parse_args(list(argv))
    values: dict[str, Any] = vars(namespace)
    if values["leader_elect_resource_namespace"] is None:
        namespaces = values["namespaces"]
        values["leader_elect_resource_namespace"] = (
            namespaces[0] if namespaces else DEFAULT_RESOURCE_NAMESPACE
        )
    opts = JobctlOptions(**{f.name: values[f.name] for f in fields(JobctlOptions)})
    errs = opts.validate()
    if errs:
        raise OptionsError("; ".join(errs))
    return opts
