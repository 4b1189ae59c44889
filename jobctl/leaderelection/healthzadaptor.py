"""Health check over leader election.

Port of k8s.io/client-go/tools/leaderelection/healthzadaptor.go: a /healthz check
that fails once this process holds the lease but has not renewed it for longer than
the lease duration plus a grace ``timeout`` (a wedged leader should be restarted).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobctl.leaderelection.leaderelection import LeaderElector


class HealthzAdaptor:
    """Port of HealthzAdaptor: may be created before the elector it watches."""

    def __init__(self, timeout: float) -> None:
        self._pointer_lock = threading.Lock()
        self._le: LeaderElector | None = None
        self._timeout = timeout

    def name(self) -> str:
        """Port of HealthzAdaptor.Name (healthzadaptor.go)."""
        return "leaderElection"

    def check(self) -> None:
        """Port of HealthzAdaptor.Check: raise when the held lease went unrenewed.

        Go twin: HealthzAdaptor.Check (healthzadaptor.go).
        """
        with self._pointer_lock:
            le = self._le
        if le is None:
            return
        le.check(self._timeout)

    def set_leader_election(self, le: LeaderElector) -> None:
        """Port of HealthzAdaptor.SetLeaderElection (healthzadaptor.go)."""
        with self._pointer_lock:
            self._le = le


def new_leader_healthz_adaptor(timeout: float) -> HealthzAdaptor:
    """Port of NewLeaderHealthzAdaptor: ``timeout`` is the grace past lease expiry.

    Go twin: NewLeaderHealthzAdaptor (healthzadaptor.go).
    """
    return HealthzAdaptor(timeout)
