"""Process-level metrics every Kubernetes component exports, for jobctl.

- ``kubernetes_build_info`` (component-base ``metrics/prometheus/version``): constant 1,
  labelled with the build. jobctl fills the labels with its own build: ``git_version`` is
  ``v<jobctl version>``, ``major``/``minor`` are the Kubernetes release it ports (so a
  dashboard grouping by minor puts it with 1.37 components), ``go_version`` is the Python
  version (``python3.13.1``), ``compiler`` the Python implementation (``cpython``),
  ``platform`` ``<os>/<arch>``; ``git_commit``, ``git_tree_state`` and ``build_date`` are
  empty unless set in the environment at build time (``JOBCTL_GIT_COMMIT``,
  ``JOBCTL_GIT_TREE_STATE``, ``JOBCTL_BUILD_DATE``).
- ``kubernetes_feature_enabled{name,stage}`` (component-base ``metrics/prometheus/feature``,
  filled by featureGate.AddMetrics): 1 or 0 per known gate.

Also turns off prometheus_client's ``*_created`` series, which component-base never
exports.
"""

from __future__ import annotations

import os
import platform
import sys

from prometheus_client import CollectorRegistry, Gauge

from jobctl.app import UPSTREAM_RELEASE, version
from jobctl.k8s_libs.features import FeatureGate
from jobctl.k8s_libs.metrics_registration import OncePerRegistry, disable_created_series

_BUILD_INFO_HELP = (
    "[BETA] A metric with a constant '1' value labeled by major, minor, git version, git "
    "commit, git tree state, build date, Go version, and compiler from which Kubernetes was "
    "built, and platform on which it is running."
)
_FEATURE_HELP = (
    "[BETA] This metric records the data about the stage and enablement of a k8s feature."
)
BUILD_INFO_LABELS = (
    "major",
    "minor",
    "git_version",
    "git_commit",
    "git_tree_state",
    "build_date",
    "go_version",
    "compiler",
    "platform",
)


def build_info_labels() -> dict[str, str]:
    """The label values of ``kubernetes_build_info`` for this process."""
    major, minor = UPSTREAM_RELEASE.lstrip("v").split(".")[:2]
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {
        "major": major,
        "minor": minor,
        "git_version": f"v{version()}",
        "git_commit": os.environ.get("JOBCTL_GIT_COMMIT", ""),
        "git_tree_state": os.environ.get("JOBCTL_GIT_TREE_STATE", ""),
        "build_date": os.environ.get("JOBCTL_BUILD_DATE", ""),
        "go_version": "python" + ".".join(str(p) for p in sys.version_info[:3]),
        "compiler": sys.implementation.name,
        "platform": f"{sys.platform}/{arch}",
    }


_registration = OncePerRegistry()


def register_component_metrics(registry: CollectorRegistry, gate: FeatureGate) -> None:
    """Register and fill ``kubernetes_build_info`` and ``kubernetes_feature_enabled``
    (call after the feature gates are set, as KCM calls AddMetrics after parsing); once
    per registry."""
    disable_created_series()
    if not _registration.first_time(registry):
        return
    build_info = Gauge(
        "kubernetes_build_info", _BUILD_INFO_HELP, BUILD_INFO_LABELS, registry=registry
    )
    build_info.labels(**build_info_labels()).set(1)
    feature_enabled = Gauge(
        "kubernetes_feature_enabled", _FEATURE_HELP, ("name", "stage"), registry=registry
    )
    for name, spec in sorted(gate.known().items()):
        feature_enabled.labels(name, spec.pre_release).set(1 if gate.enabled(name) else 0)
