"""Resource locks for leader election.

Port of k8s.io/client-go/tools/leaderelection/resourcelock: ``interface.go`` (the
record, the lock contract and the lock factory) followed by ``leaselock.go`` (the
only lock kind upstream still supports, a coordination.k8s.io/v1 Lease).

Instants in a ``LeaderElectionRecord`` are timezone-aware UTC datetimes; ``None``
stands for Go's zero ``metav1.Time``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from kubernetes.client import V1Lease, V1LeaseSpec, V1ObjectMeta

from jobctl.client.deepcopy import deep_copy
from jobctl.client.interface import CoordinationV1Interface
from jobctl.k8s_libs.api import EVENT_TYPE_NORMAL

logger = logging.getLogger(__name__)

LEADER_ELECTION_RECORD_ANNOTATION_KEY = "control-plane.alpha.kubernetes.io/leader"
ENDPOINTS_RESOURCE_LOCK = "endpoints"
CONFIGMAPS_RESOURCE_LOCK = "configmaps"
LEASES_RESOURCE_LOCK = "leases"
ENDPOINTS_LEASES_RESOURCE_LOCK = "endpointsleases"
CONFIGMAPS_LEASES_RESOURCE_LOCK = "configmapsleases"

# Values written by upstream for events about the lock.
_LEASE_API_VERSION = "coordination.k8s.io/v1"


@dataclass
class LeaderElectionRecord:
    """Port of LeaderElectionRecord: who holds the lock, since when, for how long.

    An empty ``holder_identity`` means nobody holds it (a leader that stepped down
    clears it), so any candidate may take it at once.
    """

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    leader_transitions: int = 0
    strategy: str = ""
    preferred_holder: str = ""


class EventRecorder(Protocol):
    """Port of resourcelock.EventRecorder: the one recorder method a lock needs."""

    def eventf(
        self, obj: Any, event_type: str, reason: str, message_fmt: str, *args: Any
    ) -> None: ...


@dataclass
class ResourceLockConfig:
    """Port of ResourceLockConfig: the candidate identity and an optional recorder."""

    identity: str
    event_recorder: EventRecorder | None = None


class Interface(Protocol):
    """Port of resourcelock.Interface, the lock contract the elector drives.

    ``get`` returns the record plus its serialised form (compared byte-wise by the
    elector to notice any change made by another candidate); API failures raise
    ``jobctl.client.errors.StatusError`` (or a transport error).
    """

    def get(self) -> tuple[LeaderElectionRecord, bytes]: ...

    def create(self, ler: LeaderElectionRecord) -> None: ...

    def update(self, ler: LeaderElectionRecord) -> None: ...

    def record_event(self, s: str) -> None: ...

    def identity(self) -> str: ...

    def describe(self) -> str: ...


def _new(
    lock_type: str,
    namespace: str,
    name: str,
    coordination_client: CoordinationV1Interface,
    rlc: ResourceLockConfig,
    labels: dict[str, str] | None,
) -> Interface:
    """Port of new (interface.go): build a lock of ``lock_type``; only leases remain."""
    lease_lock = LeaseLock(
        lease_meta=V1ObjectMeta(namespace=namespace, name=name),
        client=coordination_client,
        lock_config=rlc,
        labels=labels,
    )
    if lock_type == ENDPOINTS_RESOURCE_LOCK:
        raise ValueError(f"endpoints lock is removed, migrate to {LEASES_RESOURCE_LOCK}")
    if lock_type == CONFIGMAPS_RESOURCE_LOCK:
        raise ValueError(f"configmaps lock is removed, migrate to {LEASES_RESOURCE_LOCK}")
    if lock_type == LEASES_RESOURCE_LOCK:
        return lease_lock
    if lock_type == ENDPOINTS_LEASES_RESOURCE_LOCK:
        raise ValueError(f"endpointsleases lock is removed, migrate to {LEASES_RESOURCE_LOCK}")
    if lock_type == CONFIGMAPS_LEASES_RESOURCE_LOCK:
        raise ValueError(f"configmapsleases lock is removed, migrated to {LEASES_RESOURCE_LOCK}")
    raise ValueError(f"Invalid lock-type {lock_type}")


def new(
    lock_type: str,
    namespace: str,
    name: str,
    coordination_client: CoordinationV1Interface,
    rlc: ResourceLockConfig,
) -> Interface:
    """Port of New (interface.go); the unused core client parameter is dropped."""
    return _new(lock_type, namespace, name, coordination_client, rlc, None)


def new_with_labels(
    lock_type: str,
    namespace: str,
    name: str,
    coordination_client: CoordinationV1Interface,
    rlc: ResourceLockConfig,
    labels: dict[str, str],
) -> Interface:
    """Port of NewWithLabels (interface.go): the holder also stamps ``labels`` on the lock."""
    return _new(lock_type, namespace, name, coordination_client, rlc, labels)


@dataclass
class LeaseLock:
    """Port of LeaseLock (leaselock.go): a lock stored in a coordination/v1 Lease.

    ``_lease`` caches the Lease last read or written; ``update`` needs it (for the
    resourceVersion) and fails until ``get`` or ``create`` has filled it.
    """

    lease_meta: V1ObjectMeta
    client: CoordinationV1Interface
    lock_config: ResourceLockConfig
    labels: dict[str, str] | None = None
    _lease: V1Lease | None = field(default=None, init=False, repr=False)

    def _namespace(self) -> str:
        return self.lease_meta.namespace or ""

    def _name(self) -> str:
        return self.lease_meta.name or ""

    def get(self) -> tuple[LeaderElectionRecord, bytes]:
        """Port of LeaseLock.Get (leaselock.go): read the Lease and turn its spec into a record."""
        lease = self.client.leases(self._namespace()).get(self._name())
        self._lease = lease
        record = lease_spec_to_leader_election_record(lease.spec or V1LeaseSpec())
        return record, marshal_leader_election_record(record)

    def create(self, ler: LeaderElectionRecord) -> None:
        """Port of LeaseLock.Create (leaselock.go): create the Lease holding ``ler``."""
        lease = V1Lease(
            metadata=V1ObjectMeta(
                name=self._name(),
                namespace=self._namespace(),
                labels=dict(self.labels) if self.labels is not None else None,
            ),
            spec=leader_election_record_to_lease_spec(ler),
        )
        self._lease = self.client.leases(self._namespace()).create(lease)

    def update(self, ler: LeaderElectionRecord) -> None:
        """Port of LeaseLock.Update (leaselock.go): write ``ler`` into the cached Lease and send it.

        Only the labels this lock owns are overwritten; others on the Lease stay.
        """
        if self._lease is None:
            raise RuntimeError("lease not initialized, call get or create first")
        lease = deep_copy(self._lease)
        lease.spec = leader_election_record_to_lease_spec(ler)
        if self.labels is not None:
            if lease.metadata is None:
                lease.metadata = V1ObjectMeta()
            merged = dict(lease.metadata.labels or {})
            merged.update(self.labels)
            lease.metadata.labels = merged
        self._lease = self.client.leases(self._namespace()).update(lease)

    def record_event(self, s: str) -> None:
        """Port of LeaseLock.RecordEvent: report ``s`` against the Lease, if recording.

        Go twin: LeaseLock.RecordEvent (leaselock.go).
        """
        recorder = self.lock_config.event_recorder
        if recorder is None:
            return
        message = f"{self.lock_config.identity} {s}"
        meta = self._lease.metadata if self._lease is not None else None
        subject = V1Lease(
            api_version=_LEASE_API_VERSION,
            kind="Lease",
            metadata=deep_copy(meta or self.lease_meta),
        )
        recorder.eventf(subject, EVENT_TYPE_NORMAL, "LeaderElection", "%s", message)

    def describe(self) -> str:
        """Port of LeaseLock.Describe (leaselock.go): ``namespace/name`` of the Lease."""
        return f"{self._namespace()}/{self._name()}"

    def identity(self) -> str:
        """Port of LeaseLock.Identity (leaselock.go)."""
        return self.lock_config.identity


def _as_utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    if t.tzinfo is None:
        return t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


def lease_spec_to_leader_election_record(spec: V1LeaseSpec) -> LeaderElectionRecord:
    """Port of LeaseSpecToLeaderElectionRecord: unset spec fields become zero values.

    Go twin: LeaseSpecToLeaderElectionRecord (leaselock.go).
    """
    return LeaderElectionRecord(
        holder_identity=spec.holder_identity or "",
        lease_duration_seconds=spec.lease_duration_seconds or 0,
        acquire_time=_as_utc(spec.acquire_time),
        renew_time=_as_utc(spec.renew_time),
        leader_transitions=spec.lease_transitions or 0,
        strategy=spec.strategy or "",
        preferred_holder=spec.preferred_holder or "",
    )


def leader_election_record_to_lease_spec(ler: LeaderElectionRecord) -> V1LeaseSpec:
    """Port of LeaderElectionRecordToLeaseSpec (leaselock.go): the record as a LeaseSpec.

    Holder, duration, times and transitions are always written; preferred holder and
    strategy only when set.
    """
    return V1LeaseSpec(
        holder_identity=ler.holder_identity,
        lease_duration_seconds=ler.lease_duration_seconds,
        acquire_time=_as_utc(ler.acquire_time),
        renew_time=_as_utc(ler.renew_time),
        lease_transitions=ler.leader_transitions,
        preferred_holder=ler.preferred_holder or None,
        strategy=ler.strategy or None,
    )


def _marshal_time(t: datetime | None) -> str | None:
    # metav1.Time serialises at whole-second precision, and its zero value as null.
    utc = _as_utc(t)
    if utc is None:
        return None
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def marshal_leader_election_record(ler: LeaderElectionRecord) -> bytes:
    """The JSON form Go's json.Marshal gives a LeaderElectionRecord (same keys, order).

    The elector compares these bytes to decide whether another candidate touched
    the lock, so the encoding (second-precision times) matters.
    """
    doc = {
        "holderIdentity": ler.holder_identity,
        "leaseDurationSeconds": ler.lease_duration_seconds,
        "acquireTime": _marshal_time(ler.acquire_time),
        "renewTime": _marshal_time(ler.renew_time),
        "leaderTransitions": ler.leader_transitions,
        "strategy": ler.strategy,
        "preferredHolder": ler.preferred_holder,
    }
    return json.dumps(doc, separators=(",", ":")).encode()
