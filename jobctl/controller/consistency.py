"""Read-after-write consistency for controllers: port of pkg/controller/util/consistency
(consistency.go, Kubernetes v1.37.2).

A controller records, per owner object, the newest resource version each of its writes
returned (per group/resource). Before it syncs that owner again it asks the store whether
its informer caches have caught up with those versions; while one lags behind, the sync
is refused with ``ConsistencyError`` so that it does not act on a stale view of its own
writes (feature ``StaleControllerConsistencyJob``). Once the caches have caught up, the
owner's record is dropped.

Owners are ``(namespace, name)`` tuples (Go's ``types.NamespacedName``); UIDs are ``str``.
Go's ``error`` results become raised ``ConsistencyError``s.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import NamedTuple, Protocol

__all__ = [
    "ConsistencyError",
    "ConsistencyStore",
    "GroupResource",
    "LastSyncRVGetter",
    "NoopConsistencyStore",
    "RealConsistencyStore",
    "new_consistency_store",
    "new_noop_consistency_store",
]


class GroupResource(NamedTuple):
    """Port of schema.GroupResource (apimachinery pkg/runtime/schema/group_version.go):
    a resource within an API group."""

    group: str
    resource: str

    def __str__(self) -> str:
        """Port of GroupResource.String (pkg/controller/util/consistency/consistency.go):
        ``resource.group``, or ``resource`` for core."""
        return f"{self.resource}.{self.group}" if self.group else self.resource


class ConsistencyStore(Protocol):
    """Port of ConsistencyStore (pkg/controller/util/consistency/consistency.go): what a controller
    records and checks per owner."""

    def wrote_at(
        self, owner: tuple[str, str], owner_uid: str, resource: GroupResource, rv: str
    ) -> None:
        """Note that a write for ``owner`` (of UID ``owner_uid``) returned version ``rv``."""
        ...

    def clear(self, owner: tuple[str, str], owner_uid: str) -> None:
        """Forget ``owner`` if its record has ``owner_uid``; an empty UID forgets any."""
        ...

    def ensure_ready(self, owner: tuple[str, str]) -> None:
        """Raise ``ConsistencyError`` while a cache is older than a write for ``owner``."""
        ...


class ConsistencyError(Exception):
    """Port of ConsistencyError (pkg/controller/util/consistency/consistency.go): a cache has not
    yet seen a version the controller wrote."""

    def __init__(self, read_rv: str, wrote_rv: str, group_resource: GroupResource) -> None:
        super().__init__(
            f"read version: {read_rv} is not as new as written version: {wrote_rv} "
            f"for group resource {group_resource}"
        )
        self.read_rv = read_rv
        self.wrote_rv = wrote_rv
        self.group_resource = group_resource


class LastSyncRVGetter(Protocol):
    """Port of LastSyncRVGetter (pkg/controller/util/consistency/consistency.go): a cache that
    reports the newest version it has seen.

    An informer's store (``jobctl.informers.store.Store``) is one.
    """

    def last_store_sync_resource_version(self) -> str:
        """The newest resource version the cache has seen ("" when it does not track it)."""
        ...


class RealConsistencyStore:
    """Port of RealConsistencyStore (pkg/controller/util/consistency/consistency.go): the written
    versions of each owner, checked against the caches of each group/resource.

    ``_writes_lock`` guards the ``_writes`` map (adding, replacing and deleting records);
    each record guards its own versions. ``_stores`` is fixed at construction.
    """

    def __init__(self, stores: Mapping[GroupResource, LastSyncRVGetter | None] | None) -> None:
        self._writes_lock = threading.Lock()
        self._writes: dict[tuple[str, str], _OwnerRecord] = {}
        self._stores: Mapping[GroupResource, LastSyncRVGetter | None] = (
            stores if stores is not None else {}
        )

    def _get_written_record(self, owner: tuple[str, str]) -> _OwnerRecord | None:
        """Port of RealConsistencyStore.getWrittenRecord
        (pkg/controller/util/consistency/consistency.go): the owner's record, if any."""
        with self._writes_lock:
            return self._writes.get(owner)

    def _ensure_written_record(self, owner: tuple[str, str], owner_uid: str) -> _OwnerRecord:
        """Port of RealConsistencyStore.ensureWrittenRecord
        (pkg/controller/util/consistency/consistency.go): the owner's record for ``owner_uid``,
        created (or replacing one of another UID) when needed."""
        record = self._get_written_record(owner)
        if record is not None and record.owner_uid == owner_uid:
            return record
        with self._writes_lock:
            # Another thread may have made it between the two lock holds.
            record = self._writes.get(owner)
            if record is not None and record.owner_uid == owner_uid:
                return record
            record = _new_owner_record(owner_uid)
            self._writes[owner] = record
            return record

    def wrote_at(
        self, owner: tuple[str, str], owner_uid: str, resource: GroupResource, rv: str
    ) -> None:
        """Port of RealConsistencyStore.WroteAt (pkg/controller/util/consistency/consistency.go):
        keep ``rv`` if newer than the recorded one."""
        self._ensure_written_record(owner, owner_uid).wrote_at(resource, rv)

    def clear(self, owner: tuple[str, str], owner_uid: str) -> None:
        """Port of RealConsistencyStore.Clear (pkg/controller/util/consistency/consistency.go): drop
        the owner's record when its UID is ``owner_uid`` or ``owner_uid`` is empty."""
        with self._writes_lock:
            record = self._writes.get(owner)
            if record is not None and (not owner_uid or record.owner_uid == owner_uid):
                del self._writes[owner]

    def ensure_ready(self, owner: tuple[str, str]) -> None:
        """Port of RealConsistencyStore.EnsureReady
        (pkg/controller/util/consistency/consistency.go): raise ``ConsistencyError`` while a
        cache lags behind a recorded write; once none does, drop the record.

        Not to be called concurrently with ``wrote_at`` for the same owner.
        """
        record = self._get_written_record(owner)
        if record is None:
            return
        record.ensure_ready(self)
        self.clear(owner, record.owner_uid)


def new_consistency_store(
    stores: Mapping[GroupResource, LastSyncRVGetter | None] | None,
) -> RealConsistencyStore:
    """Port of NewConsistencyStore (pkg/controller/util/consistency/consistency.go): an empty store
    reading the given caches."""
    return RealConsistencyStore(stores)


class _OwnerRecord:
    """Port of ownerRecord (pkg/controller/util/consistency/consistency.go): the newest written
    version per group/resource of one owner.

    ``owner_uid`` never changes; ``versions`` is guarded by ``_versions_lock``.
    """

    def __init__(self, owner_uid: str) -> None:
        self.owner_uid = owner_uid
        self._versions_lock = threading.Lock()
        self.versions: dict[GroupResource, str] = {}

    def wrote_at(self, resource: GroupResource, rv: str) -> None:
        """Port of ownerRecord.WroteAt (pkg/controller/util/consistency/consistency.go): record
        ``rv`` unless a newer one is recorded.

        A version that cannot be compared replaces the recorded one.
        """
        with self._versions_lock:
            if resource not in self.versions:
                self.versions[resource] = rv
                return
            try:
                if _compare_resource_version(self.versions[resource], rv) >= 0:
                    return
            except ValueError:
                pass  # a version that cannot be compared gets replaced
            self.versions[resource] = rv

    def ensure_ready(self, c: RealConsistencyStore) -> None:
        """Port of ownerRecord.EnsureReady (pkg/controller/util/consistency/consistency.go): raise
        ``ConsistencyError`` for the first group/resource whose cache reports a version older
        than the recorded write.

        Caches that are missing, report nothing, or report a malformed version do not
        block (a data problem must not stop syncing).
        """
        with self._versions_lock:
            for gr, wrote_rv in self.versions.items():
                store = c._stores.get(gr)
                if store is None:
                    continue
                read_rv = store.last_store_sync_resource_version()
                if not read_rv:
                    # The stores are synced before use, so "" means the cache does not
                    # track versions at all.
                    continue
                try:
                    cmp = _compare_resource_version(wrote_rv, read_rv)
                except ValueError:
                    continue
                if cmp > 0:
                    raise ConsistencyError(read_rv, wrote_rv, gr)


def _new_owner_record(owner_uid: str) -> _OwnerRecord:
    """Port of newOwnerRecord (pkg/controller/util/consistency/consistency.go): an owner record with
    no versions yet."""
    return _OwnerRecord(owner_uid)


class NoopConsistencyStore:
    """Port of NoopConsistencyStore (pkg/controller/util/consistency/consistency.go): records
    nothing and is always ready (the store used while ``StaleControllerConsistencyJob`` is off)."""

    def wrote_at(
        self, owner: tuple[str, str], owner_uid: str, resource: GroupResource, rv: str
    ) -> None:
        """Port of NoopConsistencyStore.WroteAt (pkg/controller/util/consistency/consistency.go):
        nothing."""

    def read_at(self, resource: GroupResource, rv: str) -> None:
        """Port of NoopConsistencyStore.ReadAt (pkg/controller/util/consistency/consistency.go):
        nothing."""

    def clear(self, owner: tuple[str, str], owner_uid: str) -> None:
        """Port of NoopConsistencyStore.Clear (pkg/controller/util/consistency/consistency.go):
        nothing."""

    def ensure_ready(self, owner: tuple[str, str]) -> None:
        """Port of NoopConsistencyStore.EnsureReady
        (pkg/controller/util/consistency/consistency.go): always ready."""


def new_noop_consistency_store() -> NoopConsistencyStore:
    """Port of NewNoopConsistencyStore (pkg/controller/util/consistency/consistency.go)."""
    return NoopConsistencyStore()


def _compare_resource_version(a: str, b: str) -> int:
    """Port of resourceversion.CompareResourceVersion
    (apimachinery pkg/util/resourceversion/resourceversion.go): -1,
    0 or 1 as ``a`` is older than, equal to or newer than ``b``.

    Versions are positive decimal integers of any length without leading zeros; anything
    else (including "0") raises ValueError, as Go returns InvalidResourceVersion.
    """
    if not _is_well_formed(a):
        raise ValueError(f"resource version is not well formed: {a}")
    if not _is_well_formed(b):
        raise ValueError(f"resource version is not well formed: {b}")
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


def _is_well_formed(s: str) -> bool:
    """Port of isWellFormed (resourceversion.go): ASCII digits only, no leading zero."""
    return bool(s) and s[0] != "0" and s.isascii() and s.isdigit()
