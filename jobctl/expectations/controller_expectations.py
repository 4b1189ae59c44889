"""Controller expectations: port of the expectations half of pkg/controller/controller_utils.go.

A controller records how many creations and deletions of its controllees it is waiting
to observe through the informers; it skips work for a key until those counts drop to
zero or the record is older than ``EXPECTATIONS_TIMEOUT`` (so a lost watch event cannot
stall it for ever).

Deviations from upstream:
- The record timestamp and the expiry check read an injected ``PassiveClock``
  (``new_controller_expectations(clock)``); upstream always reads the real clock. With
  no clock given, ``RealClock`` is used, which is the upstream behaviour.
- Go's ``logger`` parameters are dropped; ``get_expectations`` returns
  ``(record | None, exists)`` and store errors are raised rather than returned.

Ported: ExpectationsTimeout, ExpKeyFunc, ControllerExpectationsInterface,
ControllerExpectations, ControlleeExpectations, NewControllerExpectations, UIDSetKeyFunc,
UIDSet, UIDTrackingControllerExpectations, NewUIDTrackingControllerExpectations.
The pod control, sorting and filtering half of controller_utils.go lives in
``jobctl/controller/controller_utils.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jobctl.informers.store import Store, new_store
from jobctl.k8s_libs.clock import PassiveClock, RealClock

logger = logging.getLogger(__name__)

# Age after which a record counts as satisfied whatever its counts (5 minutes).
EXPECTATIONS_TIMEOUT = 300.0


def exp_key_func(obj: Any) -> str:
    """Port of ExpKeyFunc: the key a ControlleeExpectations record is stored under."""
    if isinstance(obj, ControlleeExpectations):
        return obj.key
    raise ValueError(f"could not find key for obj {obj!r}")


class ControllerExpectationsInterface(Protocol):
    """Port of ControllerExpectationsInterface: set expectations and wait on them."""

    def get_expectations(self, controller_key: str) -> tuple[ControlleeExpectations | None, bool]:
        """The record for a key and whether it exists."""
        ...

    def satisfied_expectations(self, controller_key: str) -> bool:
        """True when the controller should sync (counts met, expired or no record)."""
        ...

    def delete_expectations(self, controller_key: str) -> None:
        """Forget the record for a key."""
        ...

    def set_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Replace the record for a key with fresh counts."""
        ...

    def expect_creations(self, controller_key: str, adds: int) -> None:
        """Replace the record for a key: wait for ``adds`` creations."""
        ...

    def expect_deletions(self, controller_key: str, dels: int) -> None:
        """Replace the record for a key: wait for ``dels`` deletions."""
        ...

    def creation_observed(self, controller_key: str) -> None:
        """One expected creation was seen (or will never happen)."""
        ...

    def deletion_observed(self, controller_key: str) -> None:
        """One expected deletion was seen (or will never happen)."""
        ...

    def raise_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Increase the counts of an existing record."""
        ...

    def lower_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Decrease the counts of an existing record."""
        ...


class ControllerExpectations:
    """Port of ControllerExpectations: a store of per-controller ControlleeExpectations."""

    def __init__(self, store: Store, clock: PassiveClock | None = None) -> None:
        # Go embeds the cache.Store; here it is a public attribute.
        self.store = store
        self.clock: PassiveClock = clock if clock is not None else RealClock()

    def get_expectations(self, controller_key: str) -> tuple[ControlleeExpectations | None, bool]:
        """Port of ControllerExpectations.GetExpectations: the record and whether it exists.

        Go twin: ControllerExpectations.GetExpectations (controller_utils.go).
        """
        exp, exists = self.store.get_by_key(controller_key)
        if exists:
            assert isinstance(exp, ControlleeExpectations)
            return exp, True
        return None, False

    def delete_expectations(self, controller_key: str) -> None:
        """Port of ControllerExpectations.DeleteExpectations: drop the record if present.

        Go twin: ControllerExpectations.DeleteExpectations (controller_utils.go).
        """
        try:
            exp, exists = self.store.get_by_key(controller_key)
            if not exists:
                return
            self.store.delete(exp)
        except Exception as err:
            logger.debug("Error deleting expectations for %s: %s", controller_key, err)

    def satisfied_expectations(self, controller_key: str) -> bool:
        """Port of ControllerExpectations.SatisfiedExpectations (controller_utils.go).

        True (sync now) when the counts are met, the record is older than
        ``EXPECTATIONS_TIMEOUT``, there is no record, or the lookup failed.
        """
        try:
            exp, exists = self.get_expectations(controller_key)
        except Exception as err:
            logger.debug(
                "Error checking expectations for %s, forcing sync: %s", controller_key, err
            )
            return True
        if exists and exp is not None:
            if exp.fulfilled():
                logger.debug("Controller expectations fulfilled: %r", exp)
                return True
            if exp.is_expired():
                logger.debug("Controller expectations expired: %r", exp)
                return True
            logger.debug("Controller still waiting on expectations: %r", exp)
            return False
        logger.debug(
            "Controller %s either never recorded expectations, or the ttl expired",
            controller_key,
        )
        return True

    def set_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Port of ControllerExpectations.SetExpectations: overwrite the record, stamped now.

        Go twin: ControllerExpectations.SetExpectations (controller_utils.go).
        """
        exp = ControlleeExpectations(
            add=add, delete=delete, key=controller_key, timestamp=self.clock.now(), clock=self.clock
        )
        logger.debug("Setting expectations %r", exp)
        self.store.add(exp)

    def expect_creations(self, controller_key: str, adds: int) -> None:
        """Port of ControllerExpectations.ExpectCreations: expect ``adds`` creations only.

        Go twin: ControllerExpectations.ExpectCreations (controller_utils.go).
        """
        self.set_expectations(controller_key, adds, 0)

    def expect_deletions(self, controller_key: str, dels: int) -> None:
        """Port of ControllerExpectations.ExpectDeletions: expect ``dels`` deletions only.

        Go twin: ControllerExpectations.ExpectDeletions (controller_utils.go).
        """
        self.set_expectations(controller_key, 0, dels)

    def lower_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Port of ControllerExpectations.LowerExpectations: subtract from an existing record.

        Go twin: ControllerExpectations.LowerExpectations (controller_utils.go).
        """
        exp, exists = self._lookup(controller_key)
        if exists and exp is not None:
            exp.add(-add, -delete)
            logger.debug("Lowered expectations %r", exp)

    def raise_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Port of ControllerExpectations.RaiseExpectations: add to an existing record.

        Go twin: ControllerExpectations.RaiseExpectations (controller_utils.go).
        """
        exp, exists = self._lookup(controller_key)
        if exists and exp is not None:
            exp.add(add, delete)
            logger.debug("Raised expectations %r", exp)

    def creation_observed(self, controller_key: str) -> None:
        """Port of ControllerExpectations.CreationObserved: one fewer creation to wait for.

        Go twin: ControllerExpectations.CreationObserved (controller_utils.go).
        """
        self.lower_expectations(controller_key, 1, 0)

    def deletion_observed(self, controller_key: str) -> None:
        """Port of ControllerExpectations.DeletionObserved: one fewer deletion to wait for.

        Go twin: ControllerExpectations.DeletionObserved (controller_utils.go).
        """
        self.lower_expectations(controller_key, 0, 1)

    def _lookup(self, controller_key: str) -> tuple[ControlleeExpectations | None, bool]:
        # Upstream ignores the record when the lookup errors; mirror that.
        try:
            return self.get_expectations(controller_key)
        except Exception:
            return None, False


class ControlleeExpectations:
    """Port of ControlleeExpectations: atomic add/del counters of one controller, stamped."""

    __slots__ = ("_add", "_clock", "_del", "_lock", "key", "timestamp")

    def __init__(
        self,
        add: int = 0,
        delete: int = 0,
        key: str = "",
        timestamp: datetime | None = None,
        clock: PassiveClock | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._add = add
        self._del = delete
        self.key = key
        self._clock: PassiveClock = clock if clock is not None else RealClock()
        self.timestamp: datetime = timestamp if timestamp is not None else self._clock.now()

    def is_expired(self) -> bool:
        """Port of ControlleeExpectations.isExpired: older than EXPECTATIONS_TIMEOUT.

        Go twin: ControlleeExpectations.isExpired (controller_utils.go).
        """
        return self._clock.since(self.timestamp) > EXPECTATIONS_TIMEOUT

    def add(self, add: int, delete: int) -> None:
        """Port of ControlleeExpectations.Add: move both counters atomically.

        Go twin: ControlleeExpectations.Add (controller_utils.go).
        """
        with self._lock:
            self._add += add
            self._del += delete

    def fulfilled(self) -> bool:
        """Port of ControlleeExpectations.Fulfilled: both counters at or below zero.

        Go twin: ControlleeExpectations.Fulfilled (controller_utils.go).
        """
        with self._lock:
            return self._add <= 0 and self._del <= 0

    def get_expectations(self) -> tuple[int, int]:
        """Port of ControlleeExpectations.GetExpectations: the (add, del) counters.

        Go twin: ControlleeExpectations.GetExpectations (controller_utils.go).
        """
        with self._lock:
            return self._add, self._del

    def marshal_log(self) -> dict[str, Any]:
        """Port of ControlleeExpectations.MarshalLog: a consistent snapshot for logging.

        Go twin: ControlleeExpectations.MarshalLog (controller_utils.go).
        """
        with self._lock:
            return {"add": self._add, "del": self._del, "key": self.key}

    def __repr__(self) -> str:
        snap = self.marshal_log()
        return f"ControlleeExpectations(add={snap['add']}, del={snap['del']}, key={snap['key']!r})"


def new_controller_expectations(clock: PassiveClock | None = None) -> ControllerExpectations:
    """Port of NewControllerExpectations; ``clock`` stamps and expires records (default real).

    Go twin: NewControllerExpectations (controller_utils.go).
    """
    return ControllerExpectations(new_store(exp_key_func), clock)


def uid_set_key_func(obj: Any) -> str:
    """Port of UIDSetKeyFunc: the key a UIDSet is stored under."""
    if isinstance(obj, UIDSet):
        return obj.key
    raise ValueError(f"could not find key for obj {obj!r}")


@dataclass
class UIDSet:
    """Port of UIDSet: the pod keys a controller still expects to see deleted."""

    uids: set[str]
    key: str


class UIDTrackingControllerExpectations:
    """Port of UIDTrackingControllerExpectations: deletions tracked by the keys expected.

    Remembering which pods a deletion was expected for keeps a graceful delete (first
    seen as a deletion timestamp, then as the final delete) from being counted twice.
    Go embeds the wrapped interface; here every method of the interface is delegated,
    and ``expect_deletions``/``deletion_observed`` take keys instead of a count.
    """

    def __init__(self, ce: ControllerExpectationsInterface) -> None:
        self.controller_expectations = ce
        # Guards uid_store and the sets it holds.
        self._uid_store_lock = threading.Lock()
        self._uid_store: Store = new_store(uid_set_key_func)

    def get_uids(self, controller_key: str) -> set[str] | None:
        """Port of GetUIDs: the keys still expected for a controller, None without a record.

        The set is live, not a copy; it is only changed under the store lock.
        """
        uid_set, exists = self._uid_store.get_by_key(controller_key)
        if exists:
            assert isinstance(uid_set, UIDSet)
            return uid_set.uids
        return None

    def expect_deletions(self, rc_key: str, deleted_keys: Iterable[str]) -> None:
        """Port of UIDTrackingControllerExpectations.ExpectDeletions: expect these keys gone.

        Go twin: UIDTrackingControllerExpectations.ExpectDeletions (controller_utils.go).
        """
        expected_uids = set(deleted_keys)
        logger.debug("Controller %s waiting on deletions for: %s", rc_key, sorted(expected_uids))
        with self._uid_store_lock:
            existing = self.get_uids(rc_key)
            if existing:
                logger.error("Clobbering existing delete keys: %s", sorted(existing))
            self._uid_store.add(UIDSet(expected_uids, rc_key))
            self.controller_expectations.expect_deletions(rc_key, len(expected_uids))

    def deletion_observed(self, rc_key: str, delete_key: str) -> None:
        """Port of UIDTrackingControllerExpectations.DeletionObserved: count a key once.

        Go twin: UIDTrackingControllerExpectations.DeletionObserved (controller_utils.go).
        """
        with self._uid_store_lock:
            uids = self.get_uids(rc_key)
            if uids is not None and delete_key in uids:
                logger.debug("Controller %s received delete for pod %s", rc_key, delete_key)
                self.controller_expectations.deletion_observed(rc_key)
                uids.discard(delete_key)

    def delete_expectations(self, rc_key: str) -> None:
        """Port of UIDTrackingControllerExpectations.DeleteExpectations: drop both records.

        Go twin: UIDTrackingControllerExpectations.DeleteExpectations (controller_utils.go).
        """
        with self._uid_store_lock:
            self.controller_expectations.delete_expectations(rc_key)
            try:
                uid_exp, exists = self._uid_store.get_by_key(rc_key)
                if exists:
                    self._uid_store.delete(uid_exp)
            except Exception as err:
                logger.debug("Error deleting uid expectations for %s: %s", rc_key, err)

    # The rest of ControllerExpectationsInterface, promoted from the wrapped value in Go.

    def get_expectations(self, controller_key: str) -> tuple[ControlleeExpectations | None, bool]:
        """Delegates GetExpectations to the wrapped expectations."""
        return self.controller_expectations.get_expectations(controller_key)

    def satisfied_expectations(self, controller_key: str) -> bool:
        """Delegates SatisfiedExpectations to the wrapped expectations."""
        return self.controller_expectations.satisfied_expectations(controller_key)

    def set_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Delegates SetExpectations to the wrapped expectations."""
        self.controller_expectations.set_expectations(controller_key, add, delete)

    def expect_creations(self, controller_key: str, adds: int) -> None:
        """Delegates ExpectCreations to the wrapped expectations."""
        self.controller_expectations.expect_creations(controller_key, adds)

    def creation_observed(self, controller_key: str) -> None:
        """Delegates CreationObserved to the wrapped expectations."""
        self.controller_expectations.creation_observed(controller_key)

    def raise_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Delegates RaiseExpectations to the wrapped expectations."""
        self.controller_expectations.raise_expectations(controller_key, add, delete)

    def lower_expectations(self, controller_key: str, add: int, delete: int) -> None:
        """Delegates LowerExpectations to the wrapped expectations."""
        self.controller_expectations.lower_expectations(controller_key, add, delete)


def new_uid_tracking_controller_expectations(
    ce: ControllerExpectationsInterface,
) -> UIDTrackingControllerExpectations:
    """Port of NewUIDTrackingControllerExpectations: wrap ``ce`` with per-key delete tracking.

    Go twin: NewUIDTrackingControllerExpectations (controller_utils.go).
    """
    return UIDTrackingControllerExpectations(ce)
