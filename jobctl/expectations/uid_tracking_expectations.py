"""Finalizer-removal expectations: port of uidTrackingExpectations (job/tracking_utils.go).

For each Job key the controller remembers the UIDs of pods whose tracking finalizer it
asked the API server to remove and whose removal the pod informer has not shown yet. Until
then, syncs must not count those pods again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from jobctl.informers.store import Store, new_store

logger = logging.getLogger(__name__)


def uid_set_key_func(obj: object) -> str:
    """Port of uidSetKeyFunc: the Job key a ``UIDSet`` is stored under."""
    if isinstance(obj, UIDSet):
        return obj.key
    raise ValueError(f"could not find key for obj {obj!r}")


@dataclass
class UIDSet:
    """Port of uidSet: the pending UIDs of one Job, guarded by its own lock."""

    key: str
    set: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class UIDTrackingExpectations:
    """Port of uidTrackingExpectations: pending finalizer removals per Job key.

    Safe for concurrent use across Job keys. As upstream, creating a Job's set is not
    atomic with respect to another call for the same key; the work queue never syncs one
    key on two workers at once, so that cannot happen in the controller.
    """

    def __init__(self) -> None:
        self._store: Store = new_store(uid_set_key_func)

    def get_set(self, controller_key: str) -> UIDSet | None:
        """Port of getSet: the live set for a Job (hold its lock to touch it), or None.

        Go twin: uidTrackingExpectations.getSet (tracking_utils.go).
        """
        obj, exists = self._store.get_by_key(controller_key)
        if exists and isinstance(obj, UIDSet):
            return obj
        return None

    def get_expected_uids(self, controller_key: str) -> set[str]:
        """Port of getExpectedUIDs: a copy of the pending UIDs (empty when none).

        Upstream returns a nil set when the Job has no record; an empty set reads the same.

        Go twin: uidTrackingExpectations.getExpectedUIDs (tracking_utils.go).
        """
        uids = self.get_set(controller_key)
        if uids is None:
            return set()
        with uids.lock:
            return set(uids.set)

    def expect_finalizers_removed(self, job_key: str, deleted_keys: Iterable[str]) -> None:
        """Port of expectFinalizersRemoved: remember UIDs whose finalizer removal is pending.

        Go twin: uidTrackingExpectations.expectFinalizersRemoved (tracking_utils.go).
        """
        deleted = list(deleted_keys)
        logger.debug("expecting tracking finalizers removed: key=%s podUIDs=%s", job_key, deleted)
        uids = self.get_set(job_key)
        if uids is None:
            uids = UIDSet(key=job_key)
            self._store.add(uids)
        with uids.lock:
            uids.set.update(deleted)

    def finalizer_removal_observed(self, job_key: str, delete_key: str) -> None:
        """Port of finalizerRemovalObserved: the informer saw the finalizer gone for a UID.

        Go twin: uidTrackingExpectations.finalizerRemovalObserved (tracking_utils.go).
        """
        uids = self.get_set(job_key)
        if uids is None:
            return
        with uids.lock:
            if delete_key in uids.set:
                logger.debug(
                    "observed tracking finalizer removed: key=%s podUID=%s", job_key, delete_key
                )
                uids.set.discard(delete_key)

    def delete_expectations(self, job_key: str) -> None:
        """Port of deleteExpectations (tracking_utils.go): drop everything recorded for a Job."""
        uids = self.get_set(job_key)
        if uids is not None:
            try:
                self._store.delete(uids)
            except Exception:
                logger.exception(
                    "could not delete tracking finalizer UID expectations: key=%s", job_key
                )


def new_uid_tracking_expectations() -> UIDTrackingExpectations:
    """Port of newUIDTrackingExpectations (tracking_utils.go)."""
    return UIDTrackingExpectations()
