"""The run flow of jobctl.app.controller_manager: draining on shutdown, releasing the
lease afterwards, stepping down on a lost lease, the shutdown bound.

The controller here is a stand-in whose run loop has a sync in flight when the stop
request arrives; the Lease lives in a FakeClientset and the elector runs on a
FakeClock, so nothing depends on real timing except bounded waits for threads.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import V1Job, V1Lease
from prometheus_client import CollectorRegistry

from jobctl.app.controller_manager import (
    Config,
    Controller,
    ControllerContext,
    ControllerLoop,
    RunError,
    RunHooks,
    new_job_controller,
    run,
)
from jobctl.app.options import JobctlOptions
from jobctl.app.server import HealthServer
from jobctl.client import errors
from jobctl.k8s_libs.clock import FakeClock
from jobctl.leaderelection.metrics import PrometheusMetricsProvider
from jobctl.record import new_broadcaster
from jobctl.testing.fake_clientset import Action, FakeClientset

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WAIT = 5.0
IDENTITY = "replica-a"
LEASE_NS = "jobctl-system"
LEASE_NAME = "jobctl"


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class StubFactory:
    """Stands in for the shared informer factory (start/shutdown only)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.shut_down = threading.Event()

    def start(self, stop: threading.Event) -> None:
        self.started.set()

    def shutdown(self) -> None:
        self.shut_down.set()


@dataclass
class DrainingController:
    """A controller whose run loop is in the middle of a sync when stop arrives.

    The sync keeps going after stop is set and only finishes when ``finish`` is set
    (or after waiting, bounded, for a premature lease release to show up).
    """

    client: FakeClientset
    release_seen: threading.Event
    in_flight: threading.Event = field(default_factory=threading.Event)
    draining: threading.Event = field(default_factory=threading.Event)
    finish: threading.Event = field(default_factory=threading.Event)
    completed: bool = False
    holder_at_drain: str | None = None
    never_return: bool = False

    def pod_store_synced(self) -> bool:
        return True

    def job_store_synced(self) -> bool:
        return True

    def run(self, stop: threading.Event) -> None:
        self.in_flight.set()
        stop.wait()
        self.draining.set()
        if self.never_return:
            self.finish.wait()
            return
        # A release racing with the drain would show up here.
        self.release_seen.wait(0.3)
        self.finish.wait(WAIT)
        try:
            lease = self.client.coordination_v1().leases(LEASE_NS).get(LEASE_NAME)
            self.holder_at_drain = lease.spec.holder_identity
        except Exception:
            self.holder_at_drain = None
        self.completed = True


@dataclass
class Harness:
    client: FakeClientset
    clock: FakeClock
    controller: DrainingController
    factory: StubFactory
    stop: threading.Event
    config: Config
    hooks: RunHooks
    completed_at_release: list[bool] = field(default_factory=list)
    error: list[BaseException] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    server: list[HealthServer] = field(default_factory=list)
    # Exit codes OnStoppedLeading asked for (the process is not really ended here).
    exits: list[int] = field(default_factory=list)

    def start(self) -> threading.Thread:
        def target() -> None:
            try:
                run(self.config, self.stop, self.hooks)
            except BaseException as err:
                self.error.append(err)
            finally:
                self.done.set()

        t = threading.Thread(target=target, daemon=True)
        t.start()
        return t

    def lease(self) -> V1Lease:
        return self.client.coordination_v1().leases(LEASE_NS).get(LEASE_NAME)

    def drive_until(self, done: Callable[[], bool], step: float) -> None:
        """Step the fake clock whenever something waits on it, until ``done()``."""
        deadline = time.monotonic() + WAIT
        while not done():
            assert time.monotonic() < deadline, "no progress"
            if self.clock.wait_for_waiters(1, timeout=0.01) and not done():
                self.clock.step(step)

    def leading_gauge(self) -> float | None:
        return self.config.registry.get_sample_value(
            "leader_election_master_status", {"name": LEASE_NAME}
        )


def make_harness(port: int = 0, **overrides: Any) -> Harness:
    opts = JobctlOptions(
        leader_elect_resource_namespace=LEASE_NS,
        leader_elect_resource_name=LEASE_NAME,
        bind_address="127.0.0.1",
        port=port,
        secure_port=0,
        **overrides,
    )
    client = FakeClientset()
    clock = FakeClock(NOW)
    registry = CollectorRegistry()
    release_seen = threading.Event()
    controller = DrainingController(client, release_seen)
    factory = StubFactory()
    broadcaster = new_broadcaster()
    config = Config(
        options=opts,
        client=client,
        client_builder=lambda name: client,
        event_broadcaster=broadcaster,
        event_recorder=broadcaster.new_recorder("jobctl"),
        registry=registry,
        clock=clock,
        leader_metrics=PrometheusMetricsProvider(registry),
    )

    def context_constructor(cfg: Config) -> ControllerContext:
        return ControllerContext(
            client_builder=cfg.client_builder,
            informer_factory=factory,
            options=cfg.options,
            registry=cfg.registry,
            resync_period=lambda: 1.0,
        )

    def constructor(ctx: ControllerContext) -> tuple[ControllerLoop, Any]:
        return ControllerLoop(controller.run, "job-controller"), controller

    h = Harness(
        client=client,
        clock=clock,
        controller=controller,
        factory=factory,
        stop=threading.Event(),
        config=config,
        hooks=RunHooks(
            controller_constructor=constructor,
            controller_context_constructor=context_constructor,
            identity=IDENTITY,
        ),
    )
    h.hooks.on_server_started = h.server.append
    h.hooks.exit_process = h.exits.append

    def on_update(action: Action) -> tuple[bool, Any, BaseException | None]:
        spec = action.object.spec
        if spec is not None and spec.holder_identity == "":
            h.completed_at_release.append(controller.completed)
            release_seen.set()
        return False, None, None

    client.prepend_reactor("update", "leases", on_update)
    return h


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    fns: list[Callable[[], None]] = []
    yield fns
    for fn in fns:
        fn()


def test_sigterm_drains_in_flight_sync_then_releases_lease(
    cleanup: list[Callable[[], None]],
) -> None:
    h = make_harness(port=unused_port())
    cleanup.append(h.stop.set)
    cleanup.append(h.controller.finish.set)
    runner = h.start()

    assert h.controller.in_flight.wait(WAIT)
    assert h.lease().spec.holder_identity == IDENTITY
    assert h.factory.started.is_set()
    port = h.server[0].port
    assert http_get(port, "/healthz") == 200
    assert http_get(port, "/readyz") == 200

    h.stop.set()  # what the SIGTERM handler does
    assert h.controller.draining.wait(WAIT)
    h.controller.finish.set()

    runner.join(WAIT)
    assert not runner.is_alive()
    assert h.error == []
    assert h.controller.completed
    # The lease was still ours while the sync drained, and released only afterwards.
    assert h.controller.holder_at_drain == IDENTITY
    assert h.completed_at_release == [True]
    lease = h.lease()
    assert lease.spec.holder_identity == ""
    assert lease.spec.lease_duration_seconds == 1
    assert h.factory.shut_down.is_set()
    with pytest.raises(OSError):
        http_get(port, "/healthz")


def test_standby_is_not_ready_and_exits_cleanly(cleanup: list[Callable[[], None]]) -> None:
    """Another replica holds a valid lease: this one waits, reports 503 on /readyz,
    never starts the controller, and exits 0 on SIGTERM without touching the lease."""
    h = make_harness(port=unused_port())
    cleanup.append(h.stop.set)
    other = V1Lease.model_validate(
        {
            "metadata": {"name": LEASE_NAME, "namespace": LEASE_NS},
            "spec": {
                "holderIdentity": "replica-b",
                "leaseDurationSeconds": 15,
                "acquireTime": NOW.isoformat(),
                "renewTime": NOW.isoformat(),
                "leaseTransitions": 0,
            },
        }
    )
    h.client.tracker().add(other)
    runner = h.start()
    deadline = time.monotonic() + WAIT
    while not h.server:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    port = h.server[0].port
    assert h.clock.wait_for_waiters(1)  # the elector is waiting to retry
    assert http_get(port, "/healthz") == 200
    assert http_get(port, "/readyz") == 503

    h.stop.set()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert h.error == []
    assert not h.controller.in_flight.is_set()
    assert h.lease().spec.holder_identity == "replica-b"


def test_lost_lease_stops_controller_and_fails(cleanup: list[Callable[[], None]]) -> None:
    h = make_harness()
    cleanup.append(h.stop.set)
    cleanup.append(h.controller.finish.set)
    h.controller.finish.set()
    runner = h.start()
    assert h.controller.in_flight.wait(WAIT)

    def unreachable(action: Action) -> tuple[bool, Any, BaseException | None]:
        return True, None, errors.APIConnectionError("connection refused")

    h.client.prepend_reactor("*", "leases", unreachable)
    h.controller.release_seen.set()  # nothing to wait for: the lease cannot be touched
    assert h.leading_gauge() == 1.0
    # Renewals fail until the renew deadline passes; the elector then steps down (and
    # the clock stays put, so only the stop, not a shutdown timeout, ends the work).
    h.drive_until(lambda: h.leading_gauge() == 0.0, 2.0)

    runner.join(WAIT)
    assert not h.stop.is_set()
    assert h.controller.draining.is_set()
    assert h.controller.completed
    assert len(h.error) == 1
    assert isinstance(h.error[0], RunError)
    assert str(h.error[0]) == "leader election lost"
    # KCM's OnStoppedLeading: log and exit 1 as soon as the lease is lost.
    assert h.exits == [1]


def test_shutdown_is_bounded_by_controller_shutdown_timeout(
    cleanup: list[Callable[[], None]],
) -> None:
    h = make_harness(controller_shutdown_timeout=3.0)
    h.controller.never_return = True
    cleanup.append(h.controller.finish.set)
    runner = h.start()
    assert h.controller.in_flight.wait(WAIT)

    h.stop.set()
    assert h.controller.draining.wait(WAIT)
    h.drive_until(h.done.is_set, 1.0)

    runner.join(WAIT)
    assert len(h.error) == 1
    assert isinstance(h.error[0], RunError)
    assert str(h.error[0]) == "controller shutdown timeout reached"
    # The process is about to exit: the lease is handed over rather than left to expire.
    assert h.lease().spec.holder_identity == ""


def test_without_leader_election(cleanup: list[Callable[[], None]]) -> None:
    h = make_harness(leader_elect=False)
    cleanup.append(h.stop.set)
    runner = h.start()
    assert h.controller.in_flight.wait(WAIT)

    h.stop.set()
    assert h.controller.draining.wait(WAIT)
    h.controller.finish.set()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert h.error == []
    assert h.controller.completed
    assert h.factory.shut_down.is_set()
    with pytest.raises(errors.StatusError):
        h.lease()


@pytest.mark.parametrize("leader_elect", [True, False], ids=["leader election", "no election"])
def test_controller_returning_by_itself_is_an_error(leader_elect: bool) -> None:
    h = make_harness(leader_elect=leader_elect)

    def constructor(ctx: ControllerContext) -> tuple[ControllerLoop, Any]:
        return ControllerLoop(lambda stop: None, "job-controller"), h.controller

    h.hooks.controller_constructor = constructor
    runner = h.start()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert len(h.error) == 1
    assert isinstance(h.error[0], RunError)
    assert str(h.error[0]) == "controllers exited unexpectedly"
    if leader_elect:
        assert h.lease().spec.holder_identity == ""


def test_real_job_controller_finishes_in_flight_sync_before_release() -> None:
    """The same guarantee with the real Job controller and informers over the fake
    clientset: a sync in progress when SIGTERM arrives completes, then the lease goes."""
    client = FakeClientset(
        V1Job.model_validate(
            {
                "metadata": {"name": "j", "namespace": "ns", "uid": "uid-j"},
                "spec": {
                    "managedBy": "jobctl.dev/job-controller",
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {
                        "metadata": {"labels": {"a": "b"}},
                        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                    },
                },
            }
        )
    )
    h = make_harness()
    registry = CollectorRegistry()
    broadcaster = new_broadcaster()
    h.config = Config(
        options=h.config.options,
        client=client,
        client_builder=lambda name: client,
        event_broadcaster=broadcaster,
        event_recorder=broadcaster.new_recorder("jobctl"),
        registry=registry,
        clock=FakeClock(NOW),
        leader_metrics=PrometheusMetricsProvider(registry),
    )
    h.client = client
    sync_started = threading.Event()
    let_sync_finish = threading.Event()
    synced: list[str] = []
    lease_at_sync_end: list[str | None] = []

    def constructor(ctx: ControllerContext) -> tuple[Controller, Any]:
        loop, jc = new_job_controller(ctx)

        def blocking_sync(key: str) -> None:
            sync_started.set()
            assert let_sync_finish.wait(WAIT)
            lease = client.coordination_v1().leases(LEASE_NS).get(LEASE_NAME)
            lease_at_sync_end.append(lease.spec.holder_identity)
            synced.append(key)

        jc.sync_handler = blocking_sync
        return loop, jc

    h.hooks = RunHooks(controller_constructor=constructor, identity=IDENTITY)
    runner = h.start()
    try:
        assert sync_started.wait(WAIT), "the controller never synced the job"
        h.stop.set()
        let_sync_finish.set()
        runner.join(WAIT * 2)
    finally:
        let_sync_finish.set()
        h.stop.set()
    assert not runner.is_alive()
    assert h.error == []
    assert synced == ["ns/j"]
    assert lease_at_sync_end == [IDENTITY]
    assert h.lease().spec.holder_identity == ""
