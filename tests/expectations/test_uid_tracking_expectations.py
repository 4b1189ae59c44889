"""Port of TestUIDTrackingExpectations (pkg/controller/job/tracking_utils_test.go)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from jobctl.expectations.uid_tracking_expectations import (
    UIDSet,
    new_uid_tracking_expectations,
    uid_set_key_func,
)

TRACKS = [
    ("foo", ["a", "b", "c", "d"], ["e", "f"]),
    ("bar", ["x", "y", "z"], ["u", "v", "w"]),
    ("baz", ["w"], ["a"]),
]


def _run_all(fns: list[Callable[[], None]]) -> list[BaseException]:
    """Run each function on its own thread (like the upstream goroutines); collect errors."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def wrap(fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as err:
            with lock:
                errors.append(err)

    threads = [threading.Thread(target=wrap, args=(fn,), daemon=True) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    return errors


def test_uid_tracking_expectations() -> None:
    expectations = new_uid_tracking_expectations()

    # Insert the first round of keys in parallel.
    errs = _run_all(
        [partial(expectations.expect_finalizers_removed, job, first) for job, first, _ in TRACKS]
    )
    assert errs == []
    for job, first, _ in TRACKS:
        uids = expectations.get_set(job)
        assert uids is not None, f"Set of UIDs is empty for job {job}"
        assert sorted(uids.set) == sorted(first)

    # Delete the first round of keys and add the second round in parallel.
    fns: list[Callable[[], None]] = []
    for job, first, second in TRACKS:
        fns.extend(partial(expectations.finalizer_removal_observed, job, uid) for uid in first)
        fns.append(partial(expectations.expect_finalizers_removed, job, second))
    errs = _run_all(fns)
    assert errs == []

    for job, _, second in TRACKS:
        uids = expectations.get_set(job)
        assert uids is not None, f"Set of UIDs is empty for job {job}"
        assert sorted(uids.set) == sorted(second)
        assert expectations.get_expected_uids(job) == set(second)

    for job, _, _ in TRACKS:
        expectations.delete_expectations(job)
        assert expectations.get_set(job) is None, f"expectations for {job} were not cleared"


# Beyond upstream: the copy semantics and key function.


def test_get_expected_uids_returns_a_copy() -> None:
    expectations = new_uid_tracking_expectations()
    assert expectations.get_expected_uids("ns/job") == set()
    expectations.expect_finalizers_removed("ns/job", ["a", "b"])
    got = expectations.get_expected_uids("ns/job")
    got.add("c")
    assert expectations.get_expected_uids("ns/job") == {"a", "b"}
    expectations.finalizer_removal_observed("ns/job", "a")
    expectations.finalizer_removal_observed("ns/job", "unknown")
    expectations.finalizer_removal_observed("ns/other", "a")
    assert expectations.get_expected_uids("ns/job") == {"b"}
    expectations.delete_expectations("ns/other")


def test_uid_set_key_func() -> None:
    assert uid_set_key_func(UIDSet(key="ns/job")) == "ns/job"
    with pytest.raises(ValueError, match="could not find key"):
        uid_set_key_func("ns/job")
