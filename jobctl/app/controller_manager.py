"""The jobctl run flow: kube-controller-manager's Run, reduced to the Job controller.

Port of cmd/kube-controller-manager/app/controllermanager.go (``Run``,
``ResyncPeriod``, ``CreateControllerContext``, ``BuildControllers``,
``RunControllers``, ``leaderElectAndRun``), the job part of ``app/batch.go``
(``newJobController``), ``KubeControllerManagerOptions.Config`` (app/options) and
``WaitForAPIServer`` (k8s.io/controller-manager/app/helper.go).

How it differs from KCM, on purpose:

- Leader election always releases the lease on exit (KCM's alpha
  ``ControllerManagerReleaseLeaderElectionLockOnExit`` behaviour), and does so only
  after the controller has drained: on SIGTERM/SIGINT the controller stops taking
  work, in-flight syncs finish (bounded by ``--controller-shutdown-timeout``), then
  the lease is released and ``run`` returns normally (exit 0).
- Losing the lease (no renewal by the renew deadline) exits the process at once with
  status 1 after logging "leaderelection lost/stopped", like KCM's default
  ``OnStoppedLeading``; from the moment leadership ends, workers take no new key (the
  job queues are gated on it).
- Start-up probes replace the /healthz poll of WaitForAPIServer: listing jobs and
  pods (retried with jittered backoff while the server is unreachable or answers
  5xx/429) and, with the real client, SelfSubjectAccessReviews for the write verbs
  the controller needs. Problems surface as ``StartupError`` with one line of text.
- The lease lock client bounds each call at max(1s, renew-deadline/2), as
  resourcelock.NewFromKubeconfig sets the client timeout (``request_deadline``); the
  elector additionally bounds every lock call by its own deadline.
- The shared informers trim objects before decoding them: jobs lose managedFields,
  pods every field the Job controller never reads (``prune_pod_for_job_controller``),
  so the pod cache holds partial pods (see ``create_controller_context``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import random
import re
import socket
import ssl
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import tenacity
from kubernetes.client import (
    AuthorizationV1Api,
    V1Job,
    V1Pod,
    V1ResourceAttributes,
    V1SelfSubjectAccessReview,
    V1SelfSubjectAccessReviewSpec,
)
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from jobctl.app import UPSTREAM_RELEASE, version
from jobctl.app.component_metrics import register_component_metrics
from jobctl.app.logging_setup import V2_LEVEL
from jobctl.app.options import DEFAULT_STARTUP_PROBE_TIMEOUT, JobctlOptions
from jobctl.app.server import HealthChecker, HealthServer
from jobctl.app.serving import ServingError, secure_serving
from jobctl.client import errors, real
from jobctl.client import metrics as client_metrics
from jobctl.client.deadline import request_deadline
from jobctl.client.decode import drop_managed_fields, prune_pod_for_job_controller
from jobctl.client.interface import (
    CoordinationV1Interface,
    Interface,
    LeaseInterface,
    ListOptions,
)
from jobctl.informers.factory import SharedInformerFactory
from jobctl.job.job_controller import new_controller
from jobctl.k8s_libs import features
from jobctl.k8s_libs.clock import Clock, RealClock
from jobctl.k8s_libs.metrics_registration import disable_created_series
from jobctl.leaderelection import resourcelock
from jobctl.leaderelection.healthzadaptor import HealthzAdaptor, new_leader_healthz_adaptor
from jobctl.leaderelection.leaderelection import (
    LeaderCallbacks,
    LeaderElectionConfig,
    new_leader_elector,
)
from jobctl.leaderelection.metrics import PrometheusMetricsProvider as LeaderMetricsProvider
from jobctl.record import EventBroadcaster, EventRecorder, EventSinkImpl, new_broadcaster
from jobctl.workqueue import metrics as workqueue_metrics
from jobctl.workqueue.gated import GatedQueue

logger = logging.getLogger(__name__)

# kube-controller-manager's user agent is "kube-controller-manager"; jobctl's is its name.
JOBCTL_USER_AGENT = "jobctl"
# The KCM leader election health check tolerates this much past lease expiry.
LEADER_ELECTION_HEALTHZ_TIMEOUT = 20.0
# Extra time allowed for releasing the lease after the controller stopped.
_RELEASE_SLACK = 5.0
# How often the main thread looks at its stop event while waiting for the elector.
_MAIN_LOOP_POLL = 0.1


class StartupError(Exception):
    """The controller cannot start; ``str(err)`` is one line naming the problem."""


class RunError(Exception):
    """The controller stopped for a reason other than a requested shutdown."""


class ClientBuilder(Protocol):
    """Port of clientbuilder.ControllerClientBuilder.Client: a clientset per user."""

    def __call__(self, name: str) -> Interface: ...


@dataclass
class Config:
    """Port of kubecontrollerconfig.Config (the parts jobctl uses).

    ``client`` is the process-level clientset (events, probes); ``client_builder``
    makes one clientset, with its own rate limiter, per named user, as KCM's
    SimpleControllerClientBuilder does.
    """

    options: JobctlOptions
    client: Interface
    client_builder: ClientBuilder
    event_broadcaster: EventBroadcaster
    event_recorder: EventRecorder
    registry: CollectorRegistry
    clock: Clock = field(default_factory=RealClock)
    host: str = ""
    leader_metrics: LeaderMetricsProvider | None = None
    # Checks permissions with SelfSubjectAccessReviews; None when the client cannot.
    access_reviewer: AccessReviewer | None = None
    startup_probe_timeout: float = DEFAULT_STARTUP_PROBE_TIMEOUT


# ---------------------------------------------------------------------------------
# options -> config (KubeControllerManagerOptions.Config)


def new_registry() -> CollectorRegistry:
    """A registry with the process, platform and GC collectors of the default one."""
    disable_created_series()
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def create_config(opts: JobctlOptions, registry: CollectorRegistry | None = None) -> Config:
    """Port of KubeControllerManagerOptions.Config: load the kubeconfig and build the
    clients, the event broadcaster and the metrics wiring.

    Raises StartupError (one line) when the configuration cannot be loaded.
    """
    try:
        configuration = real.load_configuration(
            opts.kubeconfig or None, opts.master or None, opts.context or None
        )
    except real.ConfigError as err:
        raise StartupError(f"invalid client configuration: {err}") from None

    user_agent_base = f"{JOBCTL_USER_AGENT}/{version()}"

    def client_builder(name: str) -> Interface:
        return real.new_for_config(
            configuration,
            qps=opts.kube_api_qps,
            burst=opts.kube_api_burst,
            user_agent=f"{user_agent_base}/{name}",
        )

    client = real.new_for_config(
        configuration,
        qps=opts.kube_api_qps,
        burst=opts.kube_api_burst,
        user_agent=user_agent_base,
    )
    registry = registry if registry is not None else new_registry()
    register_component_metrics(registry, features.DEFAULT_FEATURE_GATE)
    # rest_client_* series, as client-go's first rest client registers them.
    client_metrics.register(registry)
    # Upstream installs the workqueue provider process-wide at start; first call wins.
    workqueue_metrics.set_provider(workqueue_metrics.PrometheusMetricsProvider(registry))
    broadcaster = new_broadcaster()
    recorder = broadcaster.new_recorder(JOBCTL_USER_AGENT)
    return Config(
        options=opts,
        client=client,
        client_builder=client_builder,
        event_broadcaster=broadcaster,
        event_recorder=recorder,
        registry=registry,
        host=str(configuration.host or ""),
        leader_metrics=LeaderMetricsProvider(registry),
        access_reviewer=_ssar_reviewer(client),
        startup_probe_timeout=opts.startup_probe_timeout,
    )


# ---------------------------------------------------------------------------------
# start-up probes (WaitForAPIServer and permission checks)


@dataclass(frozen=True)
class Permission:
    """One verb on one resource the controller needs (a PolicyRule line)."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    # Missing optional permissions are logged, not fatal.
    optional: bool = False

    def describe(self) -> str:
        res = self.resource + (f".{self.group}" if self.group else "")
        if self.subresource:
            res += f"/{self.subresource}"
        if self.name:
            res += f' "{self.name}"'
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {res} {where}"


def required_permissions(opts: JobctlOptions) -> list[Permission]:
    """What deploy/rbac.yaml grants: the verbs the Job controller, its event recorder
    and the leader election lock actually use; in namespaced mode the same verbs in
    each managed namespace (deploy/namespaced/)."""
    perms: list[Permission] = []
    for ns in opts.namespaces or [""]:
        perms += [
            Permission("get", "batch", "jobs", namespace=ns),
            Permission("list", "batch", "jobs", namespace=ns),
            Permission("watch", "batch", "jobs", namespace=ns),
            Permission("update", "batch", "jobs", "status", namespace=ns),
            # Only needed when the OwnerReferencesPermissionEnforcement admission plugin
            # is on.
            Permission("update", "batch", "jobs", "finalizers", namespace=ns, optional=True),
            Permission("list", "", "pods", namespace=ns),
            Permission("watch", "", "pods", namespace=ns),
            Permission("create", "", "pods", namespace=ns),
            Permission("delete", "", "pods", namespace=ns),
            Permission("patch", "", "pods", namespace=ns),
            Permission("create", "", "events", namespace=ns, optional=True),
            Permission("patch", "", "events", namespace=ns, optional=True),
        ]
    if opts.leader_elect:
        ns = opts.leader_elect_resource_namespace
        name = opts.leader_elect_resource_name
        perms += [
            Permission("get", "coordination.k8s.io", "leases", namespace=ns, name=name),
            Permission("create", "coordination.k8s.io", "leases", namespace=ns),
            Permission("update", "coordination.k8s.io", "leases", namespace=ns, name=name),
        ]
    return perms


# (permission) -> True allowed, False denied, None unknown.
AccessReviewer = Callable[[Permission], "bool | None"]


def _ssar_reviewer(client: Interface) -> AccessReviewer | None:
    """SelfSubjectAccessReviews through the official client behind the real clientset."""
    api_client = getattr(client, "api_client", None)
    if api_client is None:
        return None
    api = AuthorizationV1Api(api_client)

    def review(p: Permission) -> bool | None:
        body = V1SelfSubjectAccessReview(
            spec=V1SelfSubjectAccessReviewSpec(
                resource_attributes=V1ResourceAttributes(
                    verb=p.verb,
                    group=p.group,
                    resource=p.resource,
                    subresource=p.subresource or None,
                    namespace=p.namespace or None,
                    name=p.name or None,
                )
            )
        )
        try:
            result = api.create_self_subject_access_review(body)
        except Exception as err:
            logger.log(V2_LEVEL, "SelfSubjectAccessReview failed: %s", real.map_exception(err))
            return None
        status = result.status
        return bool(status.allowed) if status is not None else None

    return review


def _is_transient(err: BaseException) -> bool:
    """Errors worth retrying at start-up: no connection, 5xx, 429 (a TLS verification
    failure is not: it will not fix itself)."""
    if isinstance(err, errors.APIConnectionError):
        return _connection_reason(err) != "TLS certificate verify failed"
    if isinstance(err, errors.StatusError):
        return err.code >= 500 or err.code == 429
    return isinstance(err, ConnectionError | TimeoutError)


_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _connection_reason(err: BaseException) -> str:
    """The useful part of a transport error ("connection refused", the resolver's
    message, the TLS failure), without urllib3's retry wrapping."""
    if isinstance(err, errors.APIConnectionRefusedError):
        return "connection refused"
    text = str(err)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "TLS certificate verify failed"
    match = _ERRNO_RE.search(text)
    if match:
        return match.group(1).strip()
    return text if len(text) <= 200 else text[:197] + "..."


def _describe_api_error(err: BaseException, what: str, host: str) -> str:
    where = f" at {host}" if host else ""
    if isinstance(err, errors.APIConnectionError):
        return f"cannot reach the API server{where}: {_connection_reason(err)}"
    if errors.is_unauthorized(err):
        return f"the API server{where} rejected the credentials (401 Unauthorized) while {what}"
    if errors.is_forbidden(err):
        return f"missing RBAC permission: forbidden to {what}: {err}"
    if isinstance(err, errors.StatusError):
        return f"the API server{where} failed {what}: {err} ({err.code})"
    return f"{what} failed{where}: {err}"


def wait_for_api_server(
    client: Interface,
    timeout: float,
    clock: Clock | None = None,
    host: str = "",
    sleep: Callable[[float], None] | None = None,
    namespaces: Sequence[str] = (),
) -> None:
    """Port of WaitForAPIServer, probing with the calls the informers will make.

    Lists one job and one pod in all namespaces (or in each of ``namespaces``),
    retrying transient failures with a jittered exponential backoff for up to
    ``timeout`` seconds (measured on ``clock``). Raises StartupError with one line on a
    permanent failure or when time runs out.
    """
    clk = clock or RealClock()
    start = clk.now()

    def out_of_time(state: tenacity.RetryCallState) -> bool:
        return clk.since(start) >= timeout

    def list_jobs(ns: str) -> Callable[[], object]:
        return lambda: client.batch_v1().jobs(ns).list(ListOptions(limit=1))

    def list_pods(ns: str) -> Callable[[], object]:
        return lambda: client.core_v1().pods(ns).list(ListOptions(limit=1))

    probes: list[tuple[str, Callable[[], object]]] = []
    for ns in namespaces or [""]:
        where = f"in namespace {ns}" if ns else "cluster-wide"
        probes += [
            (f"list jobs.batch {where}", list_jobs(ns)),
            (f"list pods {where}", list_pods(ns)),
        ]

    def log_retry(state: tenacity.RetryCallState) -> None:
        logger.debug(
            "API server probe failed (attempt %d), retrying: %s",
            state.attempt_number,
            state.outcome.exception() if state.outcome else None,
        )

    for what, call in probes:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_transient),
            stop=out_of_time,
            wait=tenacity.wait_random_exponential(multiplier=0.25, max=2.0),
            sleep=sleep or clk.sleep,
            reraise=True,
            before_sleep=log_retry,
        )
        try:
            retrying(call)
        except Exception as err:
            message = _describe_api_error(err, what, host)
            if _is_transient(err):
                message += f" (gave up after {timeout:g}s)"
            raise StartupError(message) from None


def check_permissions(
    reviewer: AccessReviewer | None,
    permissions: Sequence[Permission],
    manifests: str = "deploy/rbac.yaml",
) -> None:
    """Ask the API server whether each permission is granted; raise StartupError naming
    every missing required one (optional ones are only logged)."""
    if reviewer is None:
        return
    missing: list[str] = []
    for p in permissions:
        allowed = reviewer(p)
        if allowed is None:
            logger.log(V2_LEVEL, "could not check permission to %s", p.describe())
            continue
        if allowed:
            continue
        if p.optional:
            logger.warning("missing optional RBAC permission: %s", p.describe())
        else:
            missing.append(p.describe())
    if missing:
        raise StartupError(
            "missing RBAC permission: not allowed to " + "; ".join(missing) + f" (see {manifests})"
        )


def run_startup_probes(config: Config) -> None:
    """Reachability first, then permissions."""
    namespaces = config.options.namespaces
    wait_for_api_server(
        config.client,
        config.startup_probe_timeout,
        clock=config.clock,
        host=config.host,
        namespaces=namespaces,
    )
    check_permissions(
        config.access_reviewer,
        required_permissions(config.options),
        "deploy/namespaced/" if namespaces else "deploy/rbac.yaml",
    )


# ---------------------------------------------------------------------------------
# controllers


def resync_period(opts: JobctlOptions) -> Callable[[], float]:
    """Port of ResyncPeriod: a random period in [min, 2*min) per call."""

    def period() -> float:
        return opts.min_resync_period * (random.random() + 1)

    return period


def trim_managed_fields(obj: Any) -> Any:
    """The informer transform KCM installs: drop metadata.managedFields."""
    meta = getattr(obj, "metadata", None)
    if meta is not None and getattr(meta, "managed_fields", None) is not None:
        meta.managed_fields = None
    return obj


class Controller(Protocol):
    """Port of controller.Interface (k8s.io/controller-manager/controller)."""

    def name(self) -> str: ...

    def run(self, stop: threading.Event) -> None: ...


class ControllerLoop:
    """Port of controllerLoop (app/controller_descriptor.go): a named run function."""

    def __init__(self, run: Callable[[threading.Event], None], name: str) -> None:
        self._run = run
        self._name = name

    def name(self) -> str:
        return self._name

    def run(self, stop: threading.Event) -> None:
        self._run(stop)


@dataclass
class ControllerContext:
    """Port of ControllerContext (the fields the Job controller reads)."""

    client_builder: ClientBuilder
    informer_factory: Any
    options: JobctlOptions
    registry: CollectorRegistry
    resync_period: Callable[[], float]
    # Set when leadership ends (None without leader election): workers stop taking keys.
    leading_lost: threading.Event | None = None
    # Namespaced mode: the one namespace this context's informers watch ("" = all).
    namespace: str = ""


def create_controller_context(config: Config, namespace: str = "") -> ControllerContext:
    """Port of CreateControllerContext: the shared informer factory with the
    managedFields-trimming transform, on its own "shared-informers" client.

    With ``namespace`` (namespaced mode, not in KCM) every informer of the factory is
    limited to that namespace (client-go's WithNamespace).

    Not in KCM: the factory's ``raw_transforms`` edit the raw JSON before decoding, so
    the dropped parts are never built as models. Jobs lose managedFields. Pods go
    through ``prune_pod_for_job_controller``, which also drops every spec and status
    field the Job controller and its helpers never read: every reader of this
    factory's pod cache sees those partial pods, which is safe only while the Job
    controller is its only reader.
    """
    versioned_client = config.client_builder("shared-informers")
    period = resync_period(config.options)
    factory = SharedInformerFactory(
        versioned_client,
        period(),
        namespace=namespace,
        transform=trim_managed_fields,
        raw_transforms={V1Pod: prune_pod_for_job_controller, V1Job: drop_managed_fields},
    )
    return ControllerContext(
        client_builder=config.client_builder,
        informer_factory=factory,
        options=config.options,
        registry=config.registry,
        resync_period=period,
        namespace=namespace,
    )


def new_job_controller(controller_context: ControllerContext) -> tuple[Controller, Any]:
    """Port of newJobController (app/batch.go): the Job controller on a
    "job-controller" client, answering to ``--controller-name``.

    Returns the loop and the controller (for readiness checks).
    """
    client = controller_context.client_builder("job-controller")
    factory = controller_context.informer_factory
    jc = new_controller(
        factory.core().v1().pods(),
        factory.batch().v1().jobs(),
        client,
        controller_name=controller_context.options.controller_name,
        registry=controller_context.registry,
    )
    workers = controller_context.options.concurrent_job_syncs
    if controller_context.leading_lost is not None:
        jc.queue = GatedQueue(jc.queue, controller_context.leading_lost)
        jc.orphan_queue = GatedQueue(jc.orphan_queue, controller_context.leading_lost)

    def run(stop: threading.Event) -> None:
        jc.run(stop, workers)

    ns = controller_context.namespace
    return ControllerLoop(run, f"job-controller/{ns}" if ns else "job-controller"), jc


ControllerConstructor = Callable[[ControllerContext], "tuple[Controller, Any]"]


def run_controllers(
    controllers: Sequence[Controller],
    stop: threading.Event,
    shutdown_timeout: float,
    clock: Clock | None = None,
) -> bool:
    """Port of RunControllers: run every controller until ``stop``, then wait up to
    ``shutdown_timeout`` (0: forever, measured on ``clock``) for them to return.

    Returns False when the timeout was reached with controllers still running.
    """
    clk = clock or RealClock()
    running: set[str] = set()
    # Guards ``running`` and ``terminated``; notified when the last controller returns.
    cond = threading.Condition()
    terminated = False

    def run_one(c: Controller) -> None:
        logger.debug("Controller starting... controller=%s", c.name())
        with cond:
            running.add(c.name())
        try:
            c.run(stop)
        except Exception:
            logger.exception("controller %s failed", c.name())
        finally:
            logger.debug("Controller terminated controller=%s", c.name())
            with cond:
                running.discard(c.name())

    def run_all() -> None:
        nonlocal terminated
        threads = [
            threading.Thread(target=run_one, args=(c,), name=f"controller-{c.name()}", daemon=True)
            for c in controllers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        logger.info("All controllers terminated")
        with cond:
            terminated = True
            cond.notify_all()

    threading.Thread(target=run_all, name="controllers", daemon=True).start()

    # Wait for a signal to terminate (or for every controller to return by itself).
    while not stop.wait(_MAIN_LOOP_POLL):
        with cond:
            if terminated:
                return True

    deadline = clk.now() + timedelta(seconds=shutdown_timeout)
    with cond:
        while not terminated:
            if shutdown_timeout <= 0:
                clk.wait_on(cond, None)
                continue
            remaining = (deadline - clk.now()).total_seconds()
            if remaining <= 0:
                logger.info(
                    "Controller shutdown timeout reached timeout=%gs runningControllers=%s",
                    shutdown_timeout,
                    sorted(running),
                )
                return False
            clk.wait_on(cond, remaining)
    return True


# ---------------------------------------------------------------------------------
# readiness


class _RunState:
    """What /readyz reports: caches synced and, with leader election, leading."""

    def __init__(self, leader_elect: bool) -> None:
        self._lock = threading.Lock()
        self._leader_elect = leader_elect
        self._leading = False
        self._synced: list[Callable[[], bool]] = []

    def set_leading(self, leading: bool) -> None:
        with self._lock:
            self._leading = leading

    def set_synced_checks(self, checks: list[Callable[[], bool]]) -> None:
        with self._lock:
            self._synced = checks

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            leading, synced = self._leading, list(self._synced)
        if self._leader_elect and not leading:
            return False, "not the leader"
        if not synced:
            return False, "informers not started"
        if not all(check() for check in synced):
            return False, "informer caches not synced"
        return True, ""


# ---------------------------------------------------------------------------------
# the lease lock client with a per-call timeout (resourcelock.NewFromKubeconfig)


class _TimeoutLeases:
    """A LeaseInterface whose get/create/update run under a ``timeout`` second deadline
    (the client timeout NewFromKubeconfig sets), on the calling thread."""

    def __init__(self, inner: LeaseInterface, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        with request_deadline(self._timeout):
            return fn(*args)

    def get(self, name: str) -> Any:
        return self._call(self._inner.get, name)

    def create(self, obj: Any) -> Any:
        return self._call(self._inner.create, obj)

    def update(self, obj: Any) -> Any:
        return self._call(self._inner.update, obj)

    def __getattr__(self, item: str) -> Any:
        return getattr(self._inner, item)


class _TimeoutCoordination:
    def __init__(self, inner: CoordinationV1Interface, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout

    def leases(self, namespace: str) -> Any:
        return _TimeoutLeases(self._inner.leases(namespace), self._timeout)


def new_lease_lock(
    opts: JobctlOptions, identity: str, client: Interface, recorder: Any
) -> resourcelock.Interface:
    """Port of resourcelock.NewFromKubeconfig: the lock on its own client, with each
    call bounded by max(1s, renew-deadline/2)."""
    timeout = max(1.0, opts.leader_elect_renew_deadline / 2)
    return resourcelock.new(
        opts.leader_elect_resource_lock,
        opts.leader_elect_resource_namespace,
        opts.leader_elect_resource_name,
        _TimeoutCoordination(client.coordination_v1(), timeout),
        resourcelock.ResourceLockConfig(identity=identity, event_recorder=recorder),
    )


def lock_identity() -> str:
    """KCM's identity: the host name plus a UUID, so two processes on one host differ."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


# ---------------------------------------------------------------------------------
# Run


@dataclass
class RunHooks:
    """Seams for tests: the controller constructor, the identity, the server."""

    controller_constructor: ControllerConstructor = new_job_controller
    # Called as (config) or, in namespaced mode, (config, namespace).
    controller_context_constructor: Callable[..., ControllerContext] = create_controller_context
    identity: str | None = None
    # Called with the server once it listens (tests read the bound port).
    on_server_started: Callable[[HealthServer], None] | None = None
    extra_health_checks: list[HealthChecker] = field(default_factory=list)
    # What OnStoppedLeading calls when the lease is lost (KCM: klog.FlushAndExit(1)).
    exit_process: Callable[[int], None] = field(default_factory=lambda: flush_and_exit)


def flush_and_exit(code: int) -> None:
    """Port of klog.FlushAndExit: flush the log handlers and end the process now."""
    # Exiting regardless, as klog does, so a failing flush is ignored.
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def run(config: Config, stop: threading.Event, hooks: RunHooks | None = None) -> None:
    """Port of Run: serve health/metrics, then run the Job controller, under leader
    election unless disabled, until ``stop`` is set.

    Returns normally after a requested shutdown; raises RunError when the controller
    fails or shutting down takes longer than allowed. A lost lease ends the process
    through ``hooks.exit_process(1)`` (RunError follows only if that hook returns).
    """
    hooks = hooks or RunHooks()
    opts = config.options
    logger.log(V2_LEVEL, "Starting jobctl version=%s upstream=%s", version(), UPSTREAM_RELEASE)

    # Start events processing pipeline.
    config.event_broadcaster.start_structured_logging(0)
    config.event_broadcaster.start_recording_to_sink(EventSinkImpl(config.client.core_v1()))
    try:
        checks: list[HealthChecker] = list(hooks.extra_health_checks)
        election_checker: HealthzAdaptor | None = None
        if opts.leader_elect:
            election_checker = new_leader_healthz_adaptor(LEADER_ELECTION_HEALTHZ_TIMEOUT)
            checks.append(election_checker)
        state = _RunState(opts.leader_elect)

        server: HealthServer | None = None
        port = opts.port if opts.port else None
        secure_port = opts.secure_port if opts.secure_port else None
        serving_stack = secure_serving(opts)
        try:
            secure = serving_stack.__enter__()
        except ServingError as err:
            raise StartupError(str(err)) from None
        if port is not None or secure is not None:
            try:
                server = HealthServer(
                    opts.bind_address,
                    port,
                    config.registry,
                    checks=checks,
                    readiness=state.ready,
                    secure_port=secure_port,
                    tls_cert_file=secure.cert_file if secure else "",
                    tls_private_key_file=secure.key_file if secure else "",
                    authenticator=secure.authenticator if secure else None,
                    authorizer=secure.authorizer if secure else None,
                    profiling=opts.profiling,
                )
            except (OSError, ssl.SSLError) as err:
                serving_stack.__exit__(None, None, None)
                reason = getattr(err, "strerror", None) or err
                address = f"{opts.bind_address}:{port or secure_port}"
                raise StartupError(f"cannot serve on {address}: {reason}") from None
            server.start()
            if hooks.on_server_started is not None:
                hooks.on_server_started(server)
        try:
            if not opts.leader_elect:
                problem = _run_phase(config, stop, state, hooks)
                if problem is not None:
                    raise RunError(problem)
                return
            _leader_elect_and_run(config, stop, state, election_checker, hooks)
        finally:
            if server is not None:
                server.shutdown()
            serving_stack.__exit__(None, None, None)
    finally:
        config.event_broadcaster.shutdown()


def _run_phase(
    config: Config,
    stop: threading.Event,
    state: _RunState,
    hooks: RunHooks,
    leading_lost: threading.Event | None = None,
) -> str | None:
    """KCM's inner ``run``: build the controller context and controllers, start the
    informers, run the controllers until ``stop``.

    In namespaced mode there is one controller context (namespace-scoped informer
    factory) and one Job controller per namespace; they share the clients.

    Returns None after a clean stop, else what went wrong (shutdown timeout, or the
    controllers returning although nobody asked them to stop).
    """
    namespaces = config.options.namespaces
    if namespaces:
        config = dataclasses.replace(config, client_builder=_shared_clients(config.client_builder))
    controllers: list[Controller] = []
    factories: list[Any] = []
    synced: list[Callable[[], bool]] = []
    for ns in namespaces or [""]:
        controller_context = (
            hooks.controller_context_constructor(config, ns)
            if ns
            else hooks.controller_context_constructor(config)
        )
        controller_context.leading_lost = leading_lost
        controller, jc = hooks.controller_constructor(controller_context)
        controllers.append(controller)
        factories.append(controller_context.informer_factory)
        for attr in ("pod_store_synced", "job_store_synced"):
            check = getattr(jc, attr, None)
            if callable(check):
                synced.append(check)
    state.set_synced_checks(synced)
    for factory in factories:
        factory.start(stop)
    try:
        if not run_controllers(
            controllers, stop, config.options.controller_shutdown_timeout, config.clock
        ):
            return "controller shutdown timeout reached"
        if not stop.is_set():
            return "controllers exited unexpectedly"
        return None
    finally:
        state.set_synced_checks([])
        stop.set()
        for factory in factories:
            factory.shutdown()


def _shared_clients(builder: ClientBuilder) -> ClientBuilder:
    """``builder`` that hands out one clientset per user name, so that the per-namespace
    controllers share connections and rate limits."""
    clients: dict[str, Interface] = {}
    lock = threading.Lock()

    def build(name: str) -> Interface:
        with lock:
            if name not in clients:
                clients[name] = builder(name)
            return clients[name]

    return build


def _leader_elect_and_run(
    config: Config,
    stop: threading.Event,
    state: _RunState,
    election_checker: HealthzAdaptor | None,
    hooks: RunHooks,
) -> None:
    """KCM's leader-election branch of Run plus leaderElectAndRun.

    ``work_stop`` ends the controller; it is set on a requested shutdown or when
    leadership ends. ``elector_stop`` ends the election; it is set only once the
    controller has returned, so the lease is released after the work drained.
    """
    opts = config.options
    identity = hooks.identity or lock_identity()
    lock = new_lease_lock(
        opts, identity, config.client_builder("leader-election"), config.event_recorder
    )
    work_stop = threading.Event()
    elector_stop = threading.Event()
    work_started = threading.Event()
    work_done = threading.Event()
    # The controllers returned while still leading (so the election was ended for them).
    work_ended_first = threading.Event()
    errs: list[str] = []
    errs_lock = threading.Lock()

    def started_leading(leading: threading.Event) -> None:
        work_started.set()
        state.set_leading(True)

        def link() -> None:
            # Leadership ends (lease lost) or shutdown requested -> stop working.
            while not work_stop.is_set():
                if leading.wait(_MAIN_LOOP_POLL) or stop.is_set():
                    work_stop.set()

        threading.Thread(target=link, name="leading-link", daemon=True).start()
        try:
            problem = _run_phase(config, work_stop, state, hooks, leading)
            if problem is not None:
                with errs_lock:
                    errs.append(problem)
        except Exception as err:
            logger.exception("controllers failed")
            with errs_lock:
                errs.append(f"controllers failed: {err}")
        finally:
            if not leading.is_set():
                work_ended_first.set()
            state.set_leading(False)
            work_stop.set()
            work_done.set()
            # Like KCM's startedLeading: the end of the work ends the election.
            elector_stop.set()

    def stopped_leading() -> None:
        state.set_leading(False)
        work_stop.set()
        if stop.is_set():
            logger.info("leaderelection stopped")
        else:
            logger.error("leaderelection lost/stopped")
        if not stop.is_set() and not work_ended_first.is_set():
            # The lease was lost (not given up after the work ended): exit like KCM.
            hooks.exit_process(1)

    elector = new_leader_elector(
        LeaderElectionConfig(
            lock=lock,
            lease_duration=opts.leader_elect_lease_duration,
            renew_deadline=opts.leader_elect_renew_deadline,
            retry_period=opts.leader_elect_retry_period,
            callbacks=LeaderCallbacks(
                on_started_leading=started_leading,
                on_stopped_leading=stopped_leading,
                on_new_leader=lambda holder: logger.info("New leader elected: %s", holder),
            ),
            watch_dog=election_checker,
            release_on_cancel=True,
            name=opts.leader_elect_resource_name,
            clock=config.clock,
            metrics_provider=config.leader_metrics,
        )
    )
    if election_checker is not None:
        election_checker.set_leader_election(elector)

    elector_done = threading.Event()

    def run_elector() -> None:
        try:
            elector.run(elector_stop)
        finally:
            elector_done.set()

    threading.Thread(target=run_elector, name="leader-election", daemon=True).start()

    while not stop.wait(_MAIN_LOOP_POLL):
        if elector_done.is_set():
            break

    shutdown_timeout = opts.controller_shutdown_timeout
    requested = stop.is_set()
    work_stop.set()
    if work_started.is_set() and not work_done.wait(
        shutdown_timeout + 1.0 if shutdown_timeout > 0 else None
    ):
        with errs_lock:
            errs.append("controller shutdown timeout reached")
    elector_stop.set()
    if not elector_done.wait(opts.leader_elect_renew_deadline + _RELEASE_SLACK):
        with errs_lock:
            errs.append("leader election did not stop in time")

    with errs_lock:
        problems = list(errs)
    if problems:
        raise RunError(problems[0])
    if not requested:
        raise RunError("leader election lost")
