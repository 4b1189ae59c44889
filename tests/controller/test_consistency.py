"""Tests of controller.consistency: port of pkg/controller/util/consistency/consistency_test.go.

Also here: the table of resourceversion_test.go (apimachinery) for the version comparison
the store uses, and the store-level tests that used to live in
test_job_controller_extra.py (malformed versions, clear then ensure_ready, the error).
"""

from __future__ import annotations

import threading

import pytest

from jobctl.controller.consistency import (
    ConsistencyError,
    GroupResource,
    LastSyncRVGetter,
    NoopConsistencyStore,
    RealConsistencyStore,
    _compare_resource_version,
    _new_owner_record,
    _OwnerRecord,
    new_consistency_store,
    new_noop_consistency_store,
)
from jobctl.informers.store import meta_namespace_key_func, new_store

GR_POD = GroupResource(group="", resource="pods")
GR_DS = GroupResource(group="apps", resource="daemonsets")


class _FixedRV:
    """A LastSyncRVGetter reporting a version the test sets."""

    def __init__(self, rv: str = "") -> None:
        self.rv = rv

    def last_store_sync_resource_version(self) -> str:
        return self.rv


def test_owner_record_wrote_at() -> None:
    uid = "owner-uid-1"
    record = _new_owner_record(uid)
    assert record.owner_uid == uid
    assert record.versions is not None

    # First write.
    record.wrote_at(GR_POD, "5")
    assert record.versions[GR_POD] == "5"

    # Second write (higher).
    record.wrote_at(GR_POD, "10")
    assert record.versions[GR_POD] == "10"

    # Third write (lower).
    record.wrote_at(GR_POD, "8")
    assert record.versions[GR_POD] == "10"

    # Write to another resource.
    record.wrote_at(GR_DS, "1")
    assert record.versions[GR_DS] == "1"
    assert record.versions[GR_POD] == "10", "pod version should be unchanged"


def test_owner_record_is_ready() -> None:
    record = _new_owner_record("owner-uid-1")
    pod_store = new_store(meta_namespace_key_func)
    ds_store = new_store(meta_namespace_key_func)
    resource_stores: dict[GroupResource, LastSyncRVGetter | None] = {
        GR_POD: pod_store,
        GR_DS: ds_store,
    }

    store = new_consistency_store(resource_stores)

    # Case 1: no writes. Ready.
    record.ensure_ready(store)

    record.wrote_at(GR_POD, "10")

    # Case 2: a write, nothing read yet. Stays ready.
    record.ensure_ready(store)

    # Case 3: the read is older than the write. Not ready.
    pod_store.bookmark("5")
    with pytest.raises(ConsistencyError):
        record.ensure_ready(store)

    # Case 4: the read equals the write. Ready.
    pod_store.bookmark("10")
    record.ensure_ready(store)

    # Case 5: the read is newer than the write. Ready.
    pod_store.bookmark("15")
    record.ensure_ready(store)

    # Case 6: one resource ready, the other one behind. Not ready.
    record.wrote_at(GR_DS, "100")
    ds_store.bookmark("50")
    with pytest.raises(ConsistencyError):
        record.ensure_ready(store)

    # Case 7: every resource ready. Ready.
    ds_store.bookmark("100")
    record.ensure_ready(store)


def test_consistency_store_new() -> None:
    store = new_consistency_store(None)
    assert store is not None
    assert store._writes is not None
    assert store._writes == {}


def test_consistency_store_ensure_written_record() -> None:
    store = new_consistency_store(None)
    owner = ("", "owner1")
    uid1 = "uid-1"
    uid2 = "uid-2"

    # Create.
    r1 = store._ensure_written_record(owner, uid1)
    assert r1 is not None
    assert r1.owner_uid == uid1
    assert store._writes[owner] is r1

    # Same UID: the existing record.
    r2 = store._ensure_written_record(owner, uid1)
    assert r2 is r1, "should return the existing record for the same UID"

    # Another UID: replaced.
    r3 = store._ensure_written_record(owner, uid2)
    assert r3 is not None
    assert r3 is not r1, "should be a new record"
    assert r3.owner_uid == uid2
    assert store._writes[owner] is r3, "the new record should replace the old one"
    assert r3.versions == {}, "the new record should be empty"

    # The old record is detached.
    r1.wrote_at(GR_POD, "10")
    assert r3.versions == {}, "a write to the old record should not reach the new one"


def test_consistency_store_ensure_written_record_concurrent() -> None:
    store = new_consistency_store(None)
    owner = ("", "owner1")
    uid1 = "uid-1"
    uid2 = "uid-2"
    num_threads = 50

    def run_all(uid: str) -> list[_OwnerRecord]:
        results: list[_OwnerRecord | None] = [None] * num_threads
        start = threading.Barrier(num_threads)

        def claim(i: int) -> None:
            start.wait(5)
            results[i] = store._ensure_written_record(owner, uid)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(num_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        got = [r for r in results if r is not None]
        assert len(got) == num_threads
        return got

    # Concurrent creation with one UID.
    created = run_all(uid1)
    first_record = created[0]
    assert all(r.owner_uid == uid1 for r in created)
    assert all(r is first_record for r in created)
    assert len(store._writes) == 1

    # Concurrent replacement with a new UID.
    replaced = run_all(uid2)
    replacement_record = replaced[0]
    assert all(r.owner_uid == uid2 for r in replaced)
    assert all(r is replacement_record for r in replaced)
    assert len(store._writes) == 1
    assert store._writes[owner] is replacement_record
    assert replacement_record is not first_record


def test_consistency_store_wrote_at() -> None:
    store = new_consistency_store(None)
    owner = ("", "owner1")
    uid1 = "uid-1"

    store.wrote_at(owner, uid1, GR_POD, "10")

    record = store._get_written_record(owner)
    assert record is not None
    assert record.owner_uid == uid1
    assert record.versions[GR_POD] == "10"

    # Write again.
    store.wrote_at(owner, uid1, GR_POD, "20")
    assert record.versions[GR_POD] == "20"


def test_consistency_store_clear() -> None:
    store = new_consistency_store(None)
    owner1 = ("", "owner1")
    owner2 = ("", "owner2")
    uid1 = "uid-1"
    uid2 = "uid-2"

    r1 = store._ensure_written_record(owner1, uid1)
    r2 = store._ensure_written_record(owner2, uid2)
    assert len(store._writes) == 2

    # An owner with no record.
    store.clear(("", "non-existent"), uid1)
    assert len(store._writes) == 2

    # The wrong UID.
    store.clear(owner1, uid2)
    assert len(store._writes) == 2, "should not clear with the wrong UID"
    assert store._writes[owner1] is r1

    # The right UID.
    store.clear(owner1, uid1)
    assert len(store._writes) == 1, "should clear with the right UID"
    assert owner1 not in store._writes
    assert store._writes[owner2] is r2, "the other record should remain"

    store._ensure_written_record(owner1, uid1)
    assert len(store._writes) == 2

    # An empty UID.
    store.clear(owner1, "")
    assert len(store._writes) == 1, "should clear with an empty UID"
    assert owner1 not in store._writes
    assert store._writes[owner2] is r2


def test_consistency_store_is_ready() -> None:
    owner1 = ("", "owner1")
    uid1 = "uid-1"
    pod_store = new_store(meta_namespace_key_func)
    store = new_consistency_store({GR_POD: pod_store})

    # Case 1: no record. Ready.
    store.ensure_ready(owner1)

    pod_store.bookmark("5")
    store.wrote_at(owner1, uid1, GR_POD, "10")

    # Case 2: read < write. Not ready.
    with pytest.raises(ConsistencyError):
        store.ensure_ready(owner1)

    # Case 3: read == write. Ready.
    pod_store.bookmark("10")
    store.ensure_ready(owner1)

    # Case 4: read > write. Ready.
    pod_store.bookmark("15")
    store.ensure_ready(owner1)

    # Once the reads caught up with the newest write, the record is not needed.
    assert store._get_written_record(owner1) is None, "the record should be gone"


# Store-level tests that are not in consistency_test.go.


def test_group_resource_string() -> None:
    assert str(GR_POD) == "pods"
    assert str(GR_DS) == "daemonsets.apps"


def test_consistency_error() -> None:
    record = _OwnerRecord("u")
    record.wrote_at(GR_DS, "10")
    store = RealConsistencyStore({GR_DS: _FixedRV("5")})
    with pytest.raises(ConsistencyError) as info:
        record.ensure_ready(store)
    err = info.value
    assert (err.read_rv, err.wrote_rv, err.group_resource) == ("5", "10", GR_DS)
    assert str(err) == (
        "read version: 5 is not as new as written version: 10 for group resource daemonsets.apps"
    )


def test_malformed_versions_do_not_block() -> None:
    record = _OwnerRecord("u")
    # A malformed written version...
    record.wrote_at(GR_POD, "010")
    record.ensure_ready(RealConsistencyStore({GR_POD: _FixedRV("1")}))
    # ...or read version does not block; neither does a resource without a store.
    record.wrote_at(GR_DS, "7")
    record.ensure_ready(RealConsistencyStore({GR_POD: _FixedRV("1"), GR_DS: _FixedRV("abc")}))
    record.ensure_ready(RealConsistencyStore({GR_DS: None}))
    # A written version that cannot be compared is replaced by the next one.
    record.wrote_at(GR_POD, "3")
    assert record.versions[GR_POD] == "3"


def test_consistency_store_clear_then_ensure_ready() -> None:
    store = RealConsistencyStore({GR_POD: _FixedRV("1")})
    owner = ("ns", "job")
    store.wrote_at(owner, "uid-1", GR_POD, "5")
    # Another UID does not clear the record; an empty UID does.
    store.clear(owner, "uid-2")
    with pytest.raises(ConsistencyError):
        store.ensure_ready(owner)
    store.clear(owner, "")
    store.ensure_ready(owner)
    # A record that is ready is dropped.
    store.wrote_at(owner, "uid-1", GR_POD, "1")
    store.ensure_ready(owner)
    assert owner not in store._writes


def test_noop_consistency_store() -> None:
    store = new_noop_consistency_store()
    assert isinstance(store, NoopConsistencyStore)
    owner = ("ns", "job")
    store.wrote_at(owner, "uid-1", GR_POD, "5")
    store.read_at(GR_POD, "1")
    store.ensure_ready(owner)
    store.clear(owner, "uid-1")
    store.ensure_ready(owner)


@pytest.mark.parametrize(
    ("a", "b", "expected", "err"),
    [
        pytest.param("100", "200", -1, False, id="a less than b"),
        pytest.param("0", "1", 0, True, id="a is zero, invalid"),
        pytest.param("0", "0", 0, True, id="both zero"),
        pytest.param("200", "100", 1, False, id="a greater than b"),
        pytest.param("1", "0", 0, True, id="b is 0, invalid"),
        pytest.param("1", "1", 0, False, id="a equal to b small"),
        pytest.param("100", "100", 0, False, id="a equal to b"),
        pytest.param("99", "100", -1, False, id="a shorter than b"),
        pytest.param("100", "99", 1, False, id="a longer than b"),
        pytest.param("0100", "100", 0, True, id="a with leading zero"),
        pytest.param("100", "0100", 0, True, id="b with leading zero"),
        pytest.param("", "100", 0, True, id="a empty"),
        pytest.param("100", "", 0, True, id="b empty"),
        pytest.param("100a", "100", 0, True, id="a non-digit"),
        pytest.param("100", "100a", 0, True, id="b non-digit"),
        pytest.param(
            "99999999999999999999999999999999999999999999999999",
            "100000000000000000000000000000000000000000000000000",
            -1,
            False,
            id="large int a less than b",
        ),
        pytest.param(
            "100000000000000000000000000000000000000000000000000",
            "99999999999999999999999999999999999999999999999999",
            1,
            False,
            id="large int a greater than b",
        ),
        pytest.param(
            "12345678901234567890123456789012345678901234567890",
            "12345678901234567890123456789012345678901234567890",
            0,
            False,
            id="large int a equal to b",
        ),
        # Not in the Go table: Go compares bytes, so non-ASCII digits are not digits.
        pytest.param("\u0661\u0660\u0660", "100", 0, True, id="a non-ASCII digits"),
    ],
)
def test_compare_resource_version(a: str, b: str, expected: int, err: bool) -> None:
    """TestCompareResourceVersion (apimachinery pkg/util/resourceversion)."""
    if err:
        with pytest.raises(ValueError):
            _compare_resource_version(a, b)
        return
    assert _compare_resource_version(a, b) == expected
