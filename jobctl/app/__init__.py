"""The jobctl binary: kube-controller-manager reduced to the Job controller.

Port of the parts of cmd/kube-controller-manager (app/controllermanager.go,
app/batch.go, app/options) and k8s.io/controller-manager that start the Job
controller: flags (``options``), logging (``logging_setup``), the health, metrics and
debugging endpoints (``server``, ``conn_server``, ``delegated_auth``, ``debug``,
``certs``, ``serving``), component metrics (``component_metrics``) and the run flow
with leader election (``controller_manager``).
"""

from __future__ import annotations

from importlib import metadata

# The Kubernetes release whose Job controller and client-go machinery this port mirrors.
UPSTREAM_RELEASE = "v1.37.2"

_FALLBACK_VERSION = "0.1.0"


def version() -> str:
    """The installed jobctl version (the source tree's version when not installed)."""
    try:
        return metadata.version("jobctl")
    except metadata.PackageNotFoundError:
        return _FALLBACK_VERSION
