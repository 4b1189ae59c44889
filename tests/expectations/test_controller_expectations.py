"""Tests for jobctl.expectations.controller_expectations.

Ports TestControllerExpectations and TestUIDExpectations from
pkg/controller/controller_utils_test.go. Upstream expires records in the first test
through a TTL store on a fake clock; here the record's own expiry reads the injected
FakeClock, so the test steps past EXPECTATIONS_TIMEOUT instead of the store's TTL.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from jobctl.expectations.controller_expectations import (
    EXPECTATIONS_TIMEOUT,
    ControlleeExpectations,
    ControllerExpectations,
    ControllerExpectationsInterface,
    exp_key_func,
    new_controller_expectations,
    new_uid_tracking_controller_expectations,
)
from jobctl.k8s_libs.clock import FakeClock

FAKE_TIME = datetime(2009, 11, 10, 23, 0, 0, tzinfo=UTC)
RC_KEY = "default/foobar"


def new_fake_controller_expectations_lookup() -> tuple[ControllerExpectations, FakeClock]:
    """Port of NewFakeControllerExpectationsLookup: expectations on a fake clock."""
    fake_clock = FakeClock(FAKE_TIME)
    return new_controller_expectations(fake_clock), fake_clock


def run_concurrently(n: int, fn: Callable[[], None]) -> None:
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
        assert not t.is_alive()


def test_controller_expectations() -> None:
    e, fake_clock = new_fake_controller_expectations_lookup()
    adds, dels = 10, 30

    e.set_expectations(RC_KEY, adds, dels)
    run_concurrently(adds + 1, lambda: e.creation_observed(RC_KEY))

    assert not e.satisfied_expectations(RC_KEY), "Rc will sync before expectations are met"

    run_concurrently(dels + 1, lambda: e.deletion_observed(RC_KEY))

    # Upstream runs these as ordered subtests over the same expectations object.
    tests = [
        # name, expectations_to_set, expire_expectations, want_pod_expectations, want_satisfied
        ("Expectations have been surpassed", None, False, (-1, -1), True),
        ("Old expectations are cleared because of ttl", (1, 2), True, (1, 2), False),
    ]
    for name, to_set, expire, want_pod_expectations, want_satisfied in tests:
        if to_set is not None:
            e.set_expectations(RC_KEY, to_set[0], to_set[1])
        pod_exp, exists = e.get_expectations(RC_KEY)
        assert exists, name
        assert pod_exp is not None
        assert pod_exp.get_expectations() == want_pod_expectations, name
        assert e.satisfied_expectations(RC_KEY) is want_satisfied, name

        if expire:
            fake_clock.step(EXPECTATIONS_TIMEOUT + 1)
            assert e.satisfied_expectations(RC_KEY), f"{name}: expectations should have expired"


def test_expectations_do_not_expire_before_timeout() -> None:
    e, fake_clock = new_fake_controller_expectations_lookup()
    e.expect_creations(RC_KEY, 1)
    fake_clock.step(EXPECTATIONS_TIMEOUT)
    assert not e.satisfied_expectations(RC_KEY)
    fake_clock.step(0.001)
    assert e.satisfied_expectations(RC_KEY)


def test_satisfied_without_record_and_after_delete() -> None:
    e, _ = new_fake_controller_expectations_lookup()
    assert e.satisfied_expectations("ns/never-seen")
    assert e.get_expectations("ns/never-seen") == (None, False)

    e.expect_deletions(RC_KEY, 2)
    assert not e.satisfied_expectations(RC_KEY)
    e.delete_expectations(RC_KEY)
    assert e.get_expectations(RC_KEY) == (None, False)
    assert e.satisfied_expectations(RC_KEY)
    # Deleting twice, and lowering or raising a missing record, are no-ops.
    e.delete_expectations(RC_KEY)
    e.lower_expectations(RC_KEY, 1, 1)
    e.raise_expectations(RC_KEY, 1, 1)
    assert e.get_expectations(RC_KEY) == (None, False)


def test_set_expectations_overwrites_and_stamps_with_clock() -> None:
    e, fake_clock = new_fake_controller_expectations_lookup()
    e.expect_creations(RC_KEY, 3)
    first, _ = e.get_expectations(RC_KEY)
    assert first is not None
    assert first.get_expectations() == (3, 0)
    assert first.timestamp == FAKE_TIME

    fake_clock.step(10)
    e.expect_deletions(RC_KEY, 2)
    second, _ = e.get_expectations(RC_KEY)
    assert second is not None and second is not first
    assert second.get_expectations() == (0, 2)
    assert second.timestamp == fake_clock.now()
    assert second.key == RC_KEY


def test_raise_and_lower_keep_timestamp() -> None:
    e, fake_clock = new_fake_controller_expectations_lookup()
    e.set_expectations(RC_KEY, 1, 0)
    fake_clock.step(60)
    e.raise_expectations(RC_KEY, 2, 3)
    exp, _ = e.get_expectations(RC_KEY)
    assert exp is not None
    assert exp.get_expectations() == (3, 3)
    assert exp.timestamp == FAKE_TIME
    e.lower_expectations(RC_KEY, 3, 2)
    assert exp.get_expectations() == (0, 1)
    assert not e.satisfied_expectations(RC_KEY)
    e.deletion_observed(RC_KEY)
    assert e.satisfied_expectations(RC_KEY)


def test_controllee_expectations_atomic_add() -> None:
    exp = ControlleeExpectations(add=0, delete=0, key="k", clock=FakeClock(FAKE_TIME))

    def bump() -> None:
        for _ in range(500):
            exp.add(1, -1)

    run_concurrently(8, bump)
    assert exp.get_expectations() == (4000, -4000)
    assert not exp.fulfilled()
    exp.add(-4000, 0)
    assert exp.fulfilled()
    assert exp.marshal_log() == {"add": 0, "del": -4000, "key": "k"}


def test_exp_key_func() -> None:
    assert exp_key_func(ControlleeExpectations(key="ns/name")) == "ns/name"
    with pytest.raises(ValueError, match="could not find key"):
        exp_key_func("not an expectation")


def test_controller_expectations_satisfies_interface() -> None:
    e: ControllerExpectationsInterface = new_controller_expectations()
    e.expect_creations(RC_KEY, 1)
    e.creation_observed(RC_KEY)
    assert e.satisfied_expectations(RC_KEY)


@dataclass
class _UIDTest:
    name: str
    num_replicas: int


def test_uid_expectations() -> None:
    uid_exp = new_uid_tracking_controller_expectations(new_controller_expectations())

    def get_rc_data_from(test: _UIDTest) -> tuple[str, list[str]]:
        rc_name = f"rc-{test.num_replicas}"
        rc_key = f"default/{rc_name}"
        rc_pod_names = [f"default/pod{i}-{rc_name}" for i in range(5)]
        uid_exp.expect_deletions(rc_key, rc_pod_names)
        return rc_key, rc_pod_names

    tests = [
        _UIDTest("Replication controller with 2 replicas", 2),
        _UIDTest("Replication controller with 1 replica", 1),
        _UIDTest("Replication controller with no replicas", 0),
        _UIDTest("Replication controller with 5 replicas", 5),
    ]
    random.shuffle(tests)
    for test in tests:
        rc_key, rc_pod_names = get_rc_data_from(test)
        assert not uid_exp.satisfied_expectations(rc_key), (
            f"Controller {rc_key} satisfied expectations before deletion"
        )
        for p in rc_pod_names:
            uid_exp.deletion_observed(rc_key, p)
        assert uid_exp.satisfied_expectations(rc_key), (
            f"Controller {rc_key} didn't satisfy expectations after deletion"
        )
        uid_exp.delete_expectations(rc_key)
        assert uid_exp.get_uids(rc_key) is None, f"Failed to delete uid expectations for {rc_key}"


def test_uid_expectations_count_each_key_once() -> None:
    uid_exp = new_uid_tracking_controller_expectations(new_controller_expectations())
    uid_exp.expect_deletions(RC_KEY, ["default/a", "default/b"])
    uid_exp.deletion_observed(RC_KEY, "default/a")
    uid_exp.deletion_observed(RC_KEY, "default/a")
    uid_exp.deletion_observed(RC_KEY, "default/unexpected")
    exp, exists = uid_exp.get_expectations(RC_KEY)
    assert exists and exp is not None
    assert exp.get_expectations() == (0, 1)
    assert uid_exp.get_uids(RC_KEY) == {"default/b"}
    assert not uid_exp.satisfied_expectations(RC_KEY)
