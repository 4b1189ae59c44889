"""Tests for jobctl.leaderelection.leaderelection.

Port of client-go tools/leaderelection/leaderelection_test.go and healthzadaptor_test.go
(the lease cases; the endpoints/configmaps locks no longer exist). The Go tests use the
real clock and sleep; here a FakeClock is stepped instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes.client import V1Lease, V1LeaseSpec, V1ObjectMeta
from prometheus_client import CollectorRegistry

from jobctl.client import errors
from jobctl.k8s_libs.clock import FakeClock
from jobctl.leaderelection import resourcelock as rl
from jobctl.leaderelection.healthzadaptor import new_leader_healthz_adaptor
from jobctl.leaderelection.leaderelection import (
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
    LeaseRenewalError,
    new_leader_elector,
    run_or_die,
)
from jobctl.leaderelection.metrics import PrometheusMetricsProvider
from jobctl.testing.fake_clientset import Action, FakeClientset

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WAIT = 5.0  # bound for real-time waits on background threads

Reaction = Callable[[Action], tuple[bool, Any, BaseException | None]]


@dataclass
class Reactor:
    verb: str
    reaction: Reaction


class FakeRecorder:
    """Like record.FakeRecorder: keeps "<type> <reason> <message>" strings."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def eventf(self, obj: Any, event_type: str, reason: str, message_fmt: str, *args: Any) -> None:
        self.events.append(f"{event_type} {reason} {message_fmt % args}")


class CanceledError(Exception):
    """Stands in for context.Canceled returned by an interrupted request."""


def create_lock_object(
    namespace: str, name: str, record: rl.LeaderElectionRecord | None
) -> V1Lease:
    """Port of createLockObject for leases."""
    spec = rl.leader_election_record_to_lease_spec(record) if record is not None else V1LeaseSpec()
    return V1Lease(metadata=V1ObjectMeta(namespace=namespace, name=name), spec=spec)


def get_raw_record_or_die(record: rl.LeaderElectionRecord) -> bytes:
    """Port of GetRawRecordOrDie."""
    return rl.marshal_leader_election_record(record)


def new_fake_client(reactors: list[Reactor], strict: bool = True) -> FakeClientset:
    """A fake clientset answering only through ``reactors`` (like &fake.Clientset{} with
    AddReactor), plus a last reactor that fails anything unexpected."""
    c = FakeClientset()
    c.reaction_chain.clear()
    for r in reactors:
        c.add_reactor(r.verb, "leases", r.reaction)
    if strict:

        def unreachable(action: Action) -> tuple[bool, Any, BaseException | None]:
            raise AssertionError(f"unreachable action. testclient called too many times: {action}")

        c.add_reactor("*", "*", unreachable)
    return c


def lease_lock(
    c: FakeClientset, recorder: FakeRecorder | None, identity: str = "baz"
) -> rl.LeaseLock:
    return rl.LeaseLock(
        lease_meta=V1ObjectMeta(namespace="foo", name="bar"),
        client=c.coordination_v1(),
        lock_config=rl.ResourceLockConfig(identity=identity, event_recorder=recorder),
    )


def get_returns(record: rl.LeaderElectionRecord | None) -> Reaction:
    def react(action: Action) -> tuple[bool, Any, BaseException | None]:
        return True, create_lock_object(action.namespace, action.name, record), None

    return react


def not_found(action: Action) -> tuple[bool, Any, BaseException | None]:
    return True, None, errors.new_not_found("leases.coordination.k8s.io", action.name)


def echo(action: Action) -> tuple[bool, Any, BaseException | None]:
    return True, action.object, None


class NewLeaderWatcher:
    """Collects OnNewLeader calls (they run in their own threads)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.leaders: list[str] = []

    def __call__(self, identity: str) -> None:
        with self._cond:
            self.leaders.append(identity)
            self._cond.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.leaders) >= count, WAIT)
            return list(self.leaders)


class TickingClock(FakeClock):
    """A FakeClock whose time also creeps forward by 1us per read, like a real clock.

    Some upstream cases depend on an observation made later in a call being later than
    the ``now`` read at its start.
    """

    def now(self) -> datetime:
        t = super().now()
        super().set_time(t + timedelta(microseconds=1))
        return t


def drive(
    clock: FakeClock, until: threading.Event, step: float, elector: LeaderElector | None = None
) -> None:
    """Step ``clock`` by ``step`` whenever a background thread waits on it, until
    ``until`` is set (real time bounded by WAIT).

    With ``elector``, only while it makes no lock call: a lock call runs on a helper
    thread under a deadline timer, and stepping then would race the call.
    """
    deadline = time.monotonic() + WAIT
    while not until.is_set():
        assert time.monotonic() < deadline, "background thread made no progress"
        if not clock.wait_for_waiters(1, timeout=0.01) or until.is_set():
            continue
        if elector is not None and elector.lease_callers() > 0:
            until.wait(0.005)  # yield to the call; not a timing assumption
            continue
        clock.step(step)


# --- TestTryAcquireOrRenewLeases ----------------------------------------------------


@dataclass
class AcquireCase:
    name: str
    reactors: list[Reactor]
    observed_record: rl.LeaderElectionRecord = field(default_factory=rl.LeaderElectionRecord)
    observed_time: datetime | None = None
    retry_after: float = 0.0
    expected_events: list[str] = field(default_factory=list)
    expect_success: bool = False
    transition_leader: bool = False
    out_holder: str = ""


FUTURE = NOW + timedelta(hours=1000)
PAST = NOW - timedelta(hours=1000)

TRY_ACQUIRE_OR_RENEW_CASES = [
    AcquireCase(
        name="acquire from no object",
        reactors=[Reactor("get", not_found), Reactor("create", echo)],
        expect_success=True,
        out_holder="baz",
    ),
    AcquireCase(
        name="acquire from object without annotations",
        reactors=[Reactor("get", get_returns(None)), Reactor("update", echo)],
        expect_success=True,
        transition_leader=True,
        out_holder="baz",
    ),
    AcquireCase(
        name="acquire from led object with the lease duration seconds",
        reactors=[
            Reactor(
                "get",
                get_returns(
                    rl.LeaderElectionRecord(holder_identity="bing", lease_duration_seconds=3)
                ),
            ),
            Reactor(
                "get",
                get_returns(
                    rl.LeaderElectionRecord(holder_identity="bing", lease_duration_seconds=3)
                ),
            ),
            Reactor("update", echo),
        ],
        retry_after=3.0,
        expect_success=True,
        transition_leader=True,
        out_holder="baz",
    ),
    AcquireCase(
        name="acquire from unled object",
        reactors=[Reactor("get", get_returns(rl.LeaderElectionRecord())), Reactor("update", echo)],
        expect_success=True,
        transition_leader=True,
        out_holder="baz",
    ),
    AcquireCase(
        name="acquire from led, unacked object",
        reactors=[
            Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity="bing"))),
            Reactor("update", echo),
        ],
        observed_record=rl.LeaderElectionRecord(holder_identity="bing"),
        observed_time=PAST,
        expect_success=True,
        transition_leader=True,
        out_holder="baz",
    ),
    AcquireCase(
        name="acquire from empty led, acked object",
        reactors=[
            Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity=""))),
            Reactor("update", echo),
        ],
        observed_time=FUTURE,
        expect_success=True,
        transition_leader=True,
        out_holder="baz",
    ),
    AcquireCase(
        name="don't acquire from led, acked object",
        reactors=[Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity="bing")))],
        observed_time=FUTURE,
        expect_success=False,
        out_holder="bing",
    ),
    AcquireCase(
        name="renew already acquired object",
        reactors=[
            Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity="baz"))),
            Reactor("update", echo),
        ],
        observed_time=FUTURE,
        observed_record=rl.LeaderElectionRecord(holder_identity="baz"),
        expect_success=True,
        out_holder="baz",
    ),
]


def _new_elector(
    c: FakeClientset,
    recorder: FakeRecorder,
    clock: FakeClock,
    case_record: rl.LeaderElectionRecord,
    observed_time: datetime | None,
    on_new_leader: Callable[[str], None] | None,
    **config: Any,
) -> LeaderElector:
    lec = LeaderElectionConfig(
        lock=lease_lock(c, recorder),
        lease_duration=config.pop("lease_duration", 10.0),
        callbacks=LeaderCallbacks(on_new_leader=on_new_leader),
        **config,
    )
    le = LeaderElector(lec, clock=clock)
    le._observed_record = case_record
    le._observed_raw_record = get_raw_record_or_die(case_record)
    if observed_time is not None:
        le._observed_time = observed_time
    return le


def _check_outcome(le: LeaderElector, c: FakeClientset, case: AcquireCase) -> None:
    observed = le.get_observed_record()
    assert observed.holder_identity == case.out_holder
    assert len(c.actions()) == len(case.reactors), "wrong number of api interactions"
    assert observed.leader_transitions == (1 if case.transition_leader else 0)


@pytest.mark.parametrize("case", TRY_ACQUIRE_OR_RENEW_CASES, ids=lambda c: c.name)
def test_try_acquire_or_renew_leases(case: AcquireCase) -> None:
    clock = TickingClock(NOW)
    recorder = FakeRecorder()
    watcher = NewLeaderWatcher()
    c = new_fake_client(case.reactors)
    le = _new_elector(c, recorder, clock, case.observed_record, case.observed_time, watcher)

    if case.expect_success != le.try_acquire_or_renew():
        assert case.retry_after, "unexpected result of try_acquire_or_renew"
        clock.step(case.retry_after)
        assert case.expect_success == le.try_acquire_or_renew()

    _check_outcome(le, c, case)
    le.maybe_report_transition()
    assert watcher.wait_for(1) == [case.out_holder]
    assert recorder.events == case.expected_events


# --- TestTryCoordinatedRenew -------------------------------------------------------

TRY_COORDINATED_RENEW_CASES = [
    AcquireCase(
        name="don't acquire from led, acked object",
        reactors=[Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity="bing")))],
        observed_time=FUTURE,
        expect_success=False,
        out_holder="bing",
    ),
    AcquireCase(
        name="renew already acquired object",
        reactors=[
            Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity="baz"))),
            Reactor("update", echo),
        ],
        observed_time=FUTURE,
        observed_record=rl.LeaderElectionRecord(holder_identity="baz"),
        expect_success=True,
        out_holder="baz",
    ),
]


@pytest.mark.parametrize("case", TRY_COORDINATED_RENEW_CASES, ids=lambda c: c.name)
def test_try_coordinated_renew(case: AcquireCase) -> None:
    clock = TickingClock(NOW)
    recorder = FakeRecorder()
    watcher = NewLeaderWatcher()
    c = new_fake_client(case.reactors)
    le = _new_elector(
        c, recorder, clock, case.observed_record, case.observed_time, watcher, coordinated=True
    )

    assert case.expect_success == le.try_coordinated_renew()

    _check_outcome(le, c, case)
    le.maybe_report_transition()
    assert watcher.wait_for(1) == [case.out_holder]
    assert recorder.events == case.expected_events


def test_try_coordinated_renew_does_not_renew_end_of_term() -> None:
    clock = FakeClock(NOW)
    record = rl.LeaderElectionRecord(holder_identity="baz", preferred_holder="other")
    c = new_fake_client([Reactor("get", get_returns(record))])
    le = _new_elector(
        c,
        FakeRecorder(),
        clock,
        rl.LeaderElectionRecord(holder_identity="baz"),
        FUTURE,
        None,
        coordinated=True,
    )
    assert not le.try_coordinated_renew()


def test_lease_spec_to_leader_election_record_round_trip() -> None:
    old_spec = V1LeaseSpec(
        holder_identity="foo",
        lease_duration_seconds=10,
        acquire_time=NOW,
        renew_time=NOW + timedelta(microseconds=5),
        lease_transitions=1,
    )

    old_record = rl.lease_spec_to_leader_election_record(old_spec)
    new_spec = rl.leader_election_record_to_lease_spec(old_record)

    assert new_spec == old_spec
    assert rl.lease_spec_to_leader_election_record(new_spec) == old_record


# --- TestReleaseLeaseLeases -----------------------------------------------------------


def test_release_lease_leases() -> None:
    case = AcquireCase(
        name="release acquired lock from no object",
        reactors=[
            Reactor("get", get_returns(rl.LeaderElectionRecord(holder_identity="baz"))),
            Reactor("create", echo),
            Reactor("update", echo),
            Reactor("get", not_found),
        ],
        expect_success=True,
        out_holder="",
    )
    clock = FakeClock(NOW)
    recorder = FakeRecorder()
    watcher = NewLeaderWatcher()
    c = new_fake_client(case.reactors)
    le = _new_elector(c, recorder, clock, case.observed_record, case.observed_time, watcher)

    assert le.try_acquire_or_renew()
    le.maybe_report_transition()
    assert watcher.wait_for(1) == ["baz"]

    assert case.expect_success == le.release()

    _check_outcome(le, c, case)
    le.maybe_report_transition()
    assert watcher.wait_for(2) == ["baz", ""]
    assert recorder.events == case.expected_events


def test_release_method_calls_get() -> None:
    get_called = threading.Event()

    def get(action: Action) -> tuple[bool, Any, BaseException | None]:
        get_called.set()
        record = rl.LeaderElectionRecord(holder_identity="baz", lease_duration_seconds=10)
        return True, create_lock_object(action.namespace, action.name, record), None

    c = new_fake_client([Reactor("get", get), Reactor("update", echo)], strict=False)
    le = _new_elector(
        c, FakeRecorder(), FakeClock(NOW), rl.LeaderElectionRecord(holder_identity="baz"), NOW, None
    )

    le.release()

    assert get_called.is_set(), "release method does not call Get"


def test_release_retries_on_conflict() -> None:
    conflicted = False

    def get(action: Action) -> tuple[bool, Any, BaseException | None]:
        record = rl.LeaderElectionRecord(holder_identity="baz", lease_duration_seconds=10)
        return True, create_lock_object(action.namespace, action.name, record), None

    def update(action: Action) -> tuple[bool, Any, BaseException | None]:
        nonlocal conflicted
        if not conflicted:
            conflicted = True
            return (
                True,
                None,
                errors.new_conflict(
                    "leases.coordination.k8s.io", "bar", "the object has been modified"
                ),
            )
        return True, action.object, None

    c = new_fake_client([Reactor("get", get), Reactor("update", update)], strict=False)
    le = _new_elector(
        c,
        FakeRecorder(),
        FakeClock(NOW),
        rl.LeaderElectionRecord(holder_identity="baz"),
        NOW,
        None,
        renew_deadline=5.0,
    )

    assert le.release(), "release should have succeeded after retrying on conflict"
    assert conflicted, "expected conflict to have occurred"
    assert le.get_observed_record().holder_identity == ""
    assert [a.verb for a in c.actions()] == ["get", "update", "get", "update"]


# --- TestReleaseOnCancellation_Leases -------------------------------------------------


class CancellationScenario:
    """Shared state of the testReleaseOnCancellation reactors."""

    def __init__(self) -> None:
        self.on_new_leader = threading.Event()
        self.on_renew_called = threading.Event()
        self.on_renew_resume = threading.Event()
        self.on_release = threading.Event()
        self.lock_obj: V1Lease | None = None
        self.gets = 0
        self.updates = 0


def _release_on_cancel_update_reactors(s: CancellationScenario) -> list[Reactor]:
    def get(action: Action) -> tuple[bool, Any, BaseException | None]:
        s.gets += 1
        if s.lock_obj is not None:
            return True, s.lock_obj, None
        return not_found(action)

    def create(action: Action) -> tuple[bool, Any, BaseException | None]:
        s.lock_obj = action.object
        return True, s.lock_obj, None

    def update(action: Action) -> tuple[bool, Any, BaseException | None]:
        s.updates += 1
        # Fail the first two fast-path renewals.
        if s.updates % 2 == 1 and s.updates < 5:
            return True, None, CanceledError()
        if s.updates == 4:
            s.on_renew_called.set()
            assert s.on_renew_resume.wait(WAIT)
            return True, None, CanceledError()
        if s.updates == 5:
            s.on_release.set()
        s.lock_obj = action.object
        return True, s.lock_obj, None

    return [Reactor("get", get), Reactor("create", create), Reactor("update", update)]


def _release_on_cancel_get_reactors(s: CancellationScenario) -> list[Reactor]:
    def get(action: Action) -> tuple[bool, Any, BaseException | None]:
        s.gets += 1
        if s.lock_obj is not None:
            if s.gets >= 4:
                if s.gets == 4:
                    s.on_renew_called.set()
                    assert s.on_renew_resume.wait(WAIT)
                return True, None, CanceledError()
            return True, s.lock_obj, None
        return not_found(action)

    def create(action: Action) -> tuple[bool, Any, BaseException | None]:
        s.lock_obj = action.object
        return True, s.lock_obj, None

    def update(action: Action) -> tuple[bool, Any, BaseException | None]:
        s.updates += 1
        # Always skip the fast-path renewal.
        if s.updates % 2 == 1:
            return True, None, CanceledError()
        if s.updates == 4:
            s.on_release.set()
        s.lock_obj = action.object
        return True, s.lock_obj, None

    return [Reactor("get", get), Reactor("create", create), Reactor("update", update)]


@pytest.mark.parametrize(
    "make_reactors",
    [_release_on_cancel_update_reactors, _release_on_cancel_get_reactors],
    ids=[
        "release acquired lock on cancellation of update",
        "release acquired lock on cancellation of get",
    ],
)
def test_release_on_cancellation_leases(
    make_reactors: Callable[[CancellationScenario], list[Reactor]],
) -> None:
    s = CancellationScenario()
    clock = FakeClock(NOW)
    recorder = FakeRecorder()
    c = new_fake_client(make_reactors(s))
    lock = rl.new(
        "leases", "foo", "bar", c.coordination_v1(), rl.ResourceLockConfig("baz", recorder)
    )
    elector = new_leader_elector(
        LeaderElectionConfig(
            lock=lock,
            lease_duration=15.0,
            renew_deadline=2.0,
            retry_period=1.0,
            release_on_cancel=True,
            callbacks=LeaderCallbacks(
                on_new_leader=lambda identity: None,
                on_stopped_leading=lambda: None,
                on_started_leading=lambda stop: s.on_new_leader.set(),
            ),
            clock=clock,
        )
    )
    stop = threading.Event()
    runner = threading.Thread(target=elector.run, args=(stop,), daemon=True)
    runner.start()

    assert s.on_new_leader.wait(WAIT), "failed to become the leader"
    drive(clock, s.on_renew_called, 1.0, elector)

    # Cancel while the renewal is in flight, then let the request return.
    stop.set()
    s.on_renew_resume.set()

    assert s.on_release.wait(WAIT), "the lock was not released"
    runner.join(WAIT)
    assert not runner.is_alive()
    assert recorder.events == [
        "Normal LeaderElection baz became leader",
        "Normal LeaderElection baz stopped leading",
    ]


# --- TestLeaderElectionConfigValidation -----------------------------------------------


def _valid_config(identity: str = "baz") -> LeaderElectionConfig:
    return LeaderElectionConfig(
        lock=rl.LeaseLock(
            lease_meta=V1ObjectMeta(),
            client=FakeClientset().coordination_v1(),
            lock_config=rl.ResourceLockConfig(identity=identity),
        ),
        lease_duration=15.0,
        renew_deadline=2.0,
        retry_period=1.0,
        release_on_cancel=True,
        callbacks=LeaderCallbacks(
            on_new_leader=lambda identity: None,
            on_stopped_leading=lambda: None,
            on_started_leading=lambda stop: None,
        ),
    )


def test_leader_election_config_validation() -> None:
    new_leader_elector(_valid_config())

    with pytest.raises(ValueError) as exc:
        new_leader_elector(_valid_config(identity=""))
    assert str(exc.value) == "Lock identity is empty"


def _with(**changes: Any) -> LeaderElectionConfig:
    lec = _valid_config()
    for key, value in changes.items():
        if key in ("on_started_leading", "on_stopped_leading"):
            setattr(lec.callbacks, key, value)
        else:
            setattr(lec, key, value)
    return lec


@pytest.mark.parametrize(
    ("lec", "message"),
    [
        (_with(lease_duration=2.0), "leaseDuration must be greater than renewDeadline"),
        (_with(retry_period=2.0), "renewDeadline must be greater than retryPeriod*JitterFactor"),
        (
            _with(lease_duration=-1.0, renew_deadline=-2.0, retry_period=-5.0),
            "leaseDuration must be greater than zero",
        ),
        (
            _with(lease_duration=1.0, renew_deadline=-2.0, retry_period=-5.0),
            "renewDeadline must be greater than zero",
        ),
        (_with(retry_period=0.0), "retryPeriod must be greater than zero"),
        (_with(on_started_leading=None), "OnStartedLeading callback must not be nil"),
        (_with(on_stopped_leading=None), "OnStoppedLeading callback must not be nil"),
        (_with(lock=None), "Lock must not be nil."),
    ],
    ids=[
        "lease not above renew",
        "renew not above jittered retry",
        "lease not positive",
        "renew not positive",
        "retry not positive",
        "no OnStartedLeading",
        "no OnStoppedLeading",
        "no lock",
    ],
)
def test_new_leader_elector_validation_errors(lec: LeaderElectionConfig, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        new_leader_elector(lec)
    assert str(exc.value) == message


# --- TestFastPathLeaderElection ---------------------------------------------------


@dataclass
class FastPathState:
    lock_obj: V1Lease | None = None
    updates: int = 0
    lock_ops: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def _fast_path_reactors(
    st: FastPathState, conflict_at: int | None, cancel_at: int
) -> list[Reactor]:
    def get(action: Action) -> tuple[bool, Any, BaseException | None]:
        st.lock_ops.append("get")
        if st.lock_obj is not None:
            return True, st.lock_obj, None
        return not_found(action)

    def create(action: Action) -> tuple[bool, Any, BaseException | None]:
        st.lock_ops.append("create")
        st.lock_obj = action.object
        return True, st.lock_obj, None

    def update(action: Action) -> tuple[bool, Any, BaseException | None]:
        st.updates += 1
        st.lock_ops.append("update")
        if st.updates == conflict_at:
            return (
                True,
                None,
                errors.new_conflict("leases.coordination.k8s.io", "bar", "fake conflict"),
            )
        if st.updates == cancel_at:
            st.stop.set()
        st.lock_obj = action.object
        return True, st.lock_obj, None

    return [Reactor("get", get), Reactor("create", create), Reactor("update", update)]


@pytest.mark.parametrize(
    ("conflict_at", "cancel_at", "expected_lock_ops"),
    [
        (None, 2, ["get", "create", "update", "update"]),
        (2, 4, ["get", "create", "update", "update", "get", "update", "update"]),
    ],
    ids=["Exercise fast path after lock acquired", "Fallback to slow path after fast path fails"],
)
def test_fast_path_leader_election(
    conflict_at: int | None, cancel_at: int, expected_lock_ops: list[str]
) -> None:
    st = FastPathState()
    clock = FakeClock(NOW)
    registry = CollectorRegistry()
    c = new_fake_client(_fast_path_reactors(st, conflict_at, cancel_at))
    lock = rl.new(
        "leases", "foo", "bar", c.coordination_v1(), rl.ResourceLockConfig("baz", FakeRecorder())
    )
    elector = new_leader_elector(
        LeaderElectionConfig(
            lock=lock,
            lease_duration=15.0,
            renew_deadline=2.0,
            retry_period=1.0,
            callbacks=LeaderCallbacks(
                on_new_leader=lambda identity: None,
                on_stopped_leading=lambda: None,
                on_started_leading=lambda stop: None,
            ),
            name="bar",
            clock=clock,
            metrics_provider=PrometheusMetricsProvider(registry),
        )
    )
    finished = threading.Event()

    def run() -> None:
        elector.run(st.stop)
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    drive(clock, finished, 1.0, elector)

    assert st.lock_ops == expected_lock_ops
    slowpath = registry.get_sample_value("leader_election_slowpath_total", {"name": "bar"})
    assert slowpath == (1.0 if conflict_at else None)


# --- behaviour around Run: losing the lease, refusing a foreign one ---------------


def test_run_steps_down_when_renewal_fails() -> None:
    """A leader that cannot renew within the renew deadline stops leading: the leading
    event is set, OnStoppedLeading runs, the lease is not released (another holder may
    own it) unless asked, and the master-status gauge drops to 0."""
    clock = FakeClock(NOW)
    registry = CollectorRegistry()
    c = FakeClientset()
    fail_updates = threading.Event()

    def update(action: Action) -> tuple[bool, Any, BaseException | None]:
        if fail_updates.is_set():
            return True, None, errors.new_internal_error("etcd is down")
        return False, None, None

    c.prepend_reactor("update", "leases", update)
    started = threading.Event()
    leading_stop: list[threading.Event] = []
    stopped = threading.Event()

    def on_started(stop: threading.Event) -> None:
        leading_stop.append(stop)
        started.set()

    elector = new_leader_elector(
        LeaderElectionConfig(
            lock=rl.new(
                "leases", "kube-system", "jobctl", c.coordination_v1(), rl.ResourceLockConfig("me")
            ),
            lease_duration=15.0,
            renew_deadline=10.0,
            retry_period=2.0,
            callbacks=LeaderCallbacks(
                on_started_leading=on_started, on_stopped_leading=stopped.set
            ),
            name="jobctl",
            clock=clock,
            metrics_provider=PrometheusMetricsProvider(registry),
        )
    )
    finished = threading.Event()

    def run() -> None:
        elector.run(threading.Event())
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    assert started.wait(WAIT)
    assert elector.is_leader()
    assert registry.get_sample_value("leader_election_master_status", {"name": "jobctl"}) == 1.0

    fail_updates.set()
    drive(clock, finished, 2.0, elector)

    assert stopped.is_set()
    assert leading_stop[0].is_set()
    assert registry.get_sample_value("leader_election_master_status", {"name": "jobctl"}) == 0.0
    lease = c.coordination_v1().leases("kube-system").get("jobctl")
    assert lease.spec.holder_identity == "me"


def test_run_refuses_valid_foreign_lease_then_takes_expired_one() -> None:
    """A candidate waits while another holder's lease is valid (counting from its own
    observation), takes it once a full lease duration passes without renewals, and
    bumps leaseTransitions."""
    clock = FakeClock(NOW)
    other = rl.LeaderElectionRecord(
        holder_identity="other", lease_duration_seconds=15, acquire_time=NOW, renew_time=NOW
    )
    c = FakeClientset(create_lock_object("kube-system", "jobctl", other))
    started = threading.Event()
    new_leaders = NewLeaderWatcher()
    elector = new_leader_elector(
        LeaderElectionConfig(
            lock=rl.new(
                "leases", "kube-system", "jobctl", c.coordination_v1(), rl.ResourceLockConfig("me")
            ),
            lease_duration=15.0,
            renew_deadline=10.0,
            retry_period=2.0,
            callbacks=LeaderCallbacks(
                on_started_leading=lambda stop: started.set(),
                on_stopped_leading=lambda: None,
                on_new_leader=new_leaders,
            ),
            clock=clock,
        )
    )
    stop = threading.Event()
    runner = threading.Thread(target=elector.run, args=(stop,), daemon=True)
    runner.start()

    assert new_leaders.wait_for(1) == ["other"]
    assert elector.get_leader() == "other"
    assert not elector.is_leader()
    # Within the lease duration: every retry is refused.
    for _ in range(3):
        assert clock.wait_for_waiters(1)
        clock.step(4.4)  # at least one jittered retry period (2s * (1 + 1.2))
        assert not started.is_set()
    drive(clock, started, 4.4, elector)

    assert new_leaders.wait_for(2) == ["other", "me"]
    lease = c.coordination_v1().leases("kube-system").get("jobctl")
    assert lease.spec.holder_identity == "me"
    assert lease.spec.lease_transitions == 1
    stop.set()
    runner.join(WAIT)
    assert not runner.is_alive()


def test_run_releases_on_cancel_so_another_candidate_acquires_at_once() -> None:
    clock = FakeClock(NOW)
    c = FakeClientset()

    def config(identity: str, started: threading.Event) -> LeaderElectionConfig:
        return LeaderElectionConfig(
            lock=rl.new("leases", "ns", "l", c.coordination_v1(), rl.ResourceLockConfig(identity)),
            lease_duration=15.0,
            renew_deadline=10.0,
            retry_period=2.0,
            release_on_cancel=True,
            callbacks=LeaderCallbacks(
                on_started_leading=lambda stop: started.set(), on_stopped_leading=lambda: None
            ),
            clock=clock,
        )

    a_started = threading.Event()
    a = new_leader_elector(config("a", a_started))
    a_stop = threading.Event()
    a_thread = threading.Thread(target=a.run, args=(a_stop,), daemon=True)
    a_thread.start()
    assert a_started.wait(WAIT)

    a_stop.set()
    a_thread.join(WAIT)
    assert not a_thread.is_alive()
    lease = c.coordination_v1().leases("ns").get("l")
    assert lease.spec.holder_identity == ""
    assert lease.spec.lease_duration_seconds == 1

    b_started = threading.Event()
    b = new_leader_elector(config("b", b_started))
    assert b.try_acquire_or_renew()
    lease = c.coordination_v1().leases("ns").get("l")
    assert lease.spec.holder_identity == "b"
    assert lease.spec.lease_transitions == 1


def test_run_or_die_sets_watchdog_and_validates() -> None:
    adaptor = new_leader_healthz_adaptor(20.0)
    lec = _valid_config()
    lec.lease_duration = 1.0
    lec.watch_dog = adaptor
    with pytest.raises(ValueError):
        run_or_die(threading.Event(), lec)
    assert adaptor._le is None

    lec = _valid_config()
    lec.watch_dog = adaptor
    lec.clock = FakeClock(NOW)
    stop = threading.Event()
    stop.set()
    run_or_die(stop, lec)
    assert adaptor._le is not None


# --- TestCheckMethodRace ------------------------------------------------------------


def test_check_method_race() -> None:
    """Check() reads the observed record while the elector writes it."""
    clock = FakeClock(NOW)
    c = FakeClientset()
    elector = new_leader_elector(
        LeaderElectionConfig(
            lock=lease_lock(c, FakeRecorder()),
            lease_duration=2.0,
            renew_deadline=1.0,
            retry_period=0.005,
            callbacks=LeaderCallbacks(
                on_new_leader=lambda identity: None,
                on_started_leading=lambda stop: None,
                on_stopped_leading=lambda: None,
            ),
            clock=clock,
        )
    )
    stop = threading.Event()
    runner = threading.Thread(target=elector.run, args=(stop,), daemon=True)
    runner.start()
    for _ in range(200):
        elector.check(1.0)
        if clock.wait_for_waiters(1, timeout=0.01):
            clock.step(0.005)
    stop.set()
    runner.join(WAIT)
    assert not runner.is_alive()


# --- TestLeaderElectionHealthChecker (healthzadaptor_test.go) -------------------------


class FakeLock:
    """Port of fakeLock: only the identity matters."""

    def __init__(self, identity: str) -> None:
        self._identity = identity

    def get(self) -> tuple[rl.LeaderElectionRecord, bytes]:
        return rl.LeaderElectionRecord(), b""

    def create(self, ler: rl.LeaderElectionRecord) -> None:
        return None

    def update(self, ler: rl.LeaderElectionRecord) -> None:
        return None

    def record_event(self, s: str) -> None:
        return None

    def identity(self) -> str:
        return self._identity

    def describe(self) -> str:
        return "Dummy implementation of lock for testing"


def _health_elector(holder: str, clock_time: datetime) -> LeaderElector:
    le = LeaderElector(
        LeaderElectionConfig(lock=FakeLock("healthTest"), lease_duration=60.0, name="foo"),
        clock=FakeClock(clock_time),
    )
    le._observed_record = rl.LeaderElectionRecord(holder_identity=holder)
    le._observed_time = NOW
    return le


@pytest.mark.parametrize(
    ("elector", "expected"),
    [
        (None, None),
        (
            _health_elector("healthTest", NOW + timedelta(hours=1)),
            "failed election to renew leadership on lease foo",
        ),
        (_health_elector("otherServer", NOW + timedelta(hours=1)), None),
        (_health_elector("healthTest", NOW), None),
        (_health_elector("healthTest", NOW + timedelta(minutes=1, seconds=1)), None),
    ],
    ids=[
        "call check before leader elector initialized",
        "call check when the lease is far expired",
        "call check when the lease is far expired but held by another server",
        "call check when the lease is not expired",
        "call check when the lease is expired but inside the timeout",
    ],
)
def test_leader_election_health_checker(
    elector: LeaderElector | None, expected: str | None
) -> None:
    adaptor = new_leader_healthz_adaptor(20.0)
    assert adaptor._le is None
    if elector is not None:
        elector.config.watch_dog = adaptor
        adaptor.set_leader_election(elector)
        assert adaptor._le is elector
    assert adaptor.name() == "leaderElection"
    if expected is None:
        adaptor.check()
    else:
        with pytest.raises(LeaseRenewalError) as exc:
            adaptor.check()
        assert str(exc.value) == expected
