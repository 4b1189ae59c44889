"""Tests for jobctl.leaderelection.resourcelock: port of resourcelock/leaselock_test.go."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import V1LeaseSpec, V1ObjectMeta

from jobctl.client import errors
from jobctl.leaderelection import resourcelock as rl
from jobctl.testing.fake_clientset import FakeClientset

TEST_NAMESPACE = "test-namespace"
TEST_NAME = "test-name"
TEST_IDENTITY = "test-identity"
TEST_TIME = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


class MockRecorder:
    """Port of mockRecorder: keeps the formatted messages."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def eventf(self, obj: Any, event_type: str, reason: str, message_fmt: str, *args: Any) -> None:
        self.events.append(message_fmt % args)


class Setup:
    """Port of setup(): a fresh fake clientset, lease lock and record."""

    def __init__(self) -> None:
        self.client = FakeClientset()
        self.recorder = MockRecorder()
        self.lease_lock = rl.LeaseLock(
            lease_meta=V1ObjectMeta(namespace=TEST_NAMESPACE, name=TEST_NAME),
            client=self.client.coordination_v1(),
            lock_config=rl.ResourceLockConfig(identity=TEST_IDENTITY),
        )
        self.test_record = rl.LeaderElectionRecord(
            holder_identity=TEST_IDENTITY,
            lease_duration_seconds=15,
            acquire_time=TEST_TIME,
            renew_time=TEST_TIME,
            leader_transitions=1,
            preferred_holder="preferred-holder",
            strategy="strategy",
        )


@pytest.fixture
def s() -> Setup:
    return Setup()


def test_get_error(s: Setup) -> None:
    with pytest.raises(errors.StatusError) as exc:
        s.lease_lock.get()
    assert errors.is_not_found(exc.value)


def test_get(s: Setup) -> None:
    s.lease_lock.create(s.test_record)

    record, record_bytes = s.lease_lock.get()

    assert record.holder_identity == s.test_record.holder_identity
    assert record.lease_duration_seconds == s.test_record.lease_duration_seconds
    assert record.leader_transitions == s.test_record.leader_transitions
    assert record.preferred_holder == s.test_record.preferred_holder
    assert record.strategy == s.test_record.strategy
    unmarshalled = json.loads(record_bytes)
    assert unmarshalled["holderIdentity"] == TEST_IDENTITY
    assert unmarshalled["leaseDurationSeconds"] == 15


def test_record_event_success(s: Setup) -> None:
    s.lease_lock.lock_config.event_recorder = s.recorder
    s.lease_lock.create(s.test_record)

    s.lease_lock.record_event("test event")

    assert s.recorder.events == [f"{TEST_IDENTITY} test event"]


def test_record_event_nil_recorder(s: Setup) -> None:
    s.lease_lock.create(s.test_record)
    s.lease_lock.lock_config.event_recorder = None
    s.lease_lock.record_event("should not panic")


def test_create_error(s: Setup) -> None:
    s.lease_lock.create(s.test_record)
    with pytest.raises(errors.StatusError) as exc:
        s.lease_lock.create(s.test_record)
    assert errors.is_already_exists(exc.value)


def test_update_error(s: Setup) -> None:
    with pytest.raises(RuntimeError, match="lease not initialized"):
        s.lease_lock.update(s.test_record)


def test_describe(s: Setup) -> None:
    assert s.lease_lock.describe() == f"{TEST_NAMESPACE}/{TEST_NAME}"


def test_lease_conversion(s: Setup) -> None:
    lease_spec = rl.leader_election_record_to_lease_spec(s.test_record)

    assert lease_spec.holder_identity == s.test_record.holder_identity
    assert lease_spec.lease_duration_seconds == s.test_record.lease_duration_seconds
    assert lease_spec.acquire_time == s.test_record.acquire_time
    assert lease_spec.renew_time == s.test_record.renew_time
    assert lease_spec.lease_transitions == s.test_record.leader_transitions
    assert lease_spec.preferred_holder == s.test_record.preferred_holder
    assert lease_spec.strategy == s.test_record.strategy

    converted = rl.lease_spec_to_leader_election_record(lease_spec)

    assert converted == s.test_record


def test_update_with_nil_labels_on_lease(s: Setup) -> None:
    s.lease_lock.create(s.test_record)
    s.lease_lock.get()
    assert s.lease_lock._lease is not None
    s.lease_lock._lease.metadata.labels = None
    s.lease_lock.labels = {"custom-key": "custom-val"}

    s.lease_lock.update(s.test_record)

    stored = s.client.coordination_v1().leases(TEST_NAMESPACE).get(TEST_NAME)
    assert stored.metadata.labels == {"custom-key": "custom-val"}


def test_update_with_nil_labels_on_lease_lock(s: Setup) -> None:
    s.lease_lock.create(s.test_record)
    s.lease_lock.get()
    s.lease_lock.labels = None
    assert s.lease_lock._lease is not None
    s.lease_lock._lease.metadata.labels = {"custom-key": "custom-val"}

    s.lease_lock.update(s.test_record)

    stored = s.client.coordination_v1().leases(TEST_NAMESPACE).get(TEST_NAME)
    assert stored.metadata.labels == {"custom-key": "custom-val"}


def test_label_update(s: Setup) -> None:
    s.lease_lock.labels = {"custom-key": "custom-val"}
    s.lease_lock.create(s.test_record)
    assert s.lease_lock._lease is not None

    # Someone else changes our label and adds one of their own.
    lease = s.lease_lock._lease.model_copy(deep=True)
    lease.metadata.labels["custom-key"] = "new-custom-val"
    lease.metadata.labels["custom-key-2"] = "custom-val-2"
    lease = s.client.coordination_v1().leases(TEST_NAMESPACE).update(lease)
    assert lease.metadata.labels == {"custom-key": "new-custom-val", "custom-key-2": "custom-val-2"}
    s.lease_lock._lease = lease

    s.lease_lock.update(s.test_record)

    lease = s.client.coordination_v1().leases(TEST_NAMESPACE).get(TEST_NAME)
    assert lease.metadata.labels["custom-key"] == "custom-val"
    assert lease.metadata.labels["custom-key-2"] == "custom-val-2"


@pytest.mark.parametrize(
    ("lock_type", "message"),
    [
        ("endpoints", "endpoints lock is removed, migrate to leases"),
        ("configmaps", "configmaps lock is removed, migrate to leases"),
        ("endpointsleases", "endpointsleases lock is removed, migrate to leases"),
        ("configmapsleases", "configmapsleases lock is removed, migrated to leases"),
        ("bogus", "Invalid lock-type bogus"),
    ],
)
def test_new_rejects_removed_lock_types(lock_type: str, message: str) -> None:
    client = FakeClientset()
    with pytest.raises(ValueError) as exc:
        rl.new(lock_type, "ns", "name", client.coordination_v1(), rl.ResourceLockConfig("id"))
    assert str(exc.value) == message


def test_new_leases_and_with_labels() -> None:
    client = FakeClientset()
    lock = rl.new("leases", "ns", "name", client.coordination_v1(), rl.ResourceLockConfig("id"))
    assert isinstance(lock, rl.LeaseLock)
    assert lock.describe() == "ns/name"
    assert lock.identity() == "id"
    labelled = rl.new_with_labels(
        "leases", "ns", "name", client.coordination_v1(), rl.ResourceLockConfig("id"), {"a": "b"}
    )
    labelled.create(rl.LeaderElectionRecord(holder_identity="id"))
    stored = client.coordination_v1().leases("ns").get("name")
    assert stored.metadata.labels == {"a": "b"}


def test_marshal_leader_election_record_matches_go_json() -> None:
    record = rl.LeaderElectionRecord(
        holder_identity="a",
        lease_duration_seconds=15,
        acquire_time=TEST_TIME,
        renew_time=None,
        leader_transitions=2,
    )
    assert rl.marshal_leader_election_record(record) == (
        b'{"holderIdentity":"a","leaseDurationSeconds":15,'
        b'"acquireTime":"2026-03-04T05:06:07Z","renewTime":null,'
        b'"leaderTransitions":2,"strategy":"","preferredHolder":""}'
    )


def test_lease_spec_with_nothing_set_is_zero_record() -> None:
    assert rl.lease_spec_to_leader_election_record(V1LeaseSpec()) == rl.LeaderElectionRecord()
