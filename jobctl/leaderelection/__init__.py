"""Leader election: a port of k8s.io/client-go/tools/leaderelection (+ resourcelock).

Why a port and not ``kubernetes.leaderelection`` (shipped with kubernetes==37)?
That package was read and set aside because it lacks the semantics jobctl needs to
behave like kube-controller-manager:

- it cannot be stopped: ``run()`` loops forever with ``time.sleep`` and takes no
  stop signal, so there is no "release on cancel" and no clean SIGTERM path;
- on a lost lease it only calls ``onstopped_leading``; the guarded callback gets no
  signal that leadership ended, so work keeps running after the step-down;
- it never releases the lease (client-go clears the holder on exit so a standby
  takes over at once instead of after a full lease duration);
- it has no fast-path renewal, no leader-transition counting, no OnNewLeader,
  no validation (lease > renew deadline > 1.2 x retry period), no health check
  (HealthzAdaptor) and no metrics;
- it compares records through their string fields and reads wall time directly,
  so it cannot run on an injected clock; jobctl's tests drive every wait with
  ``FakeClock`` and never sleep;
- it talks to the API through its own ``CoordinationV1Api`` instance instead of
  jobctl's clientset, so QPS limits, the fake clientset and error predicates
  (``is_not_found``/``is_conflict``) would not apply.

This package follows client-go's files: ``leaderelection`` (LeaderElector),
``resourcelock`` (LeaderElectionRecord, LeaseLock), ``healthzadaptor`` and
``metrics``.
"""

from __future__ import annotations

from jobctl.leaderelection.healthzadaptor import HealthzAdaptor, new_leader_healthz_adaptor
from jobctl.leaderelection.leaderelection import (
    JITTER_FACTOR,
    LeaderCallbacks,
    LeaderElectionConfig,
    LeaderElector,
    LeaseRenewalError,
    new_leader_elector,
    run_or_die,
)
from jobctl.leaderelection.metrics import PrometheusMetricsProvider
from jobctl.leaderelection.resourcelock import (
    LEASES_RESOURCE_LOCK,
    LeaderElectionRecord,
    LeaseLock,
    ResourceLockConfig,
)

__all__ = [
    "JITTER_FACTOR",
    "LEASES_RESOURCE_LOCK",
    "HealthzAdaptor",
    "LeaderCallbacks",
    "LeaderElectionConfig",
    "LeaderElectionRecord",
    "LeaderElector",
    "LeaseLock",
    "LeaseRenewalError",
    "PrometheusMetricsProvider",
    "ResourceLockConfig",
    "new_leader_elector",
    "new_leader_healthz_adaptor",
    "run_or_die",
]
