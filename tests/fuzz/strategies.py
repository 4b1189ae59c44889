"""Hypothesis strategies for API objects as the server sends them (camelCase JSON dicts).

``jobs()`` and ``pods()`` draw well-formed objects with varied fields; ``mutated(...)``
then breaks a few spots: a value of the wrong type, a missing key, an unknown key, a
value wrapped in a list, an out-of-range number. The fuzz tests feed both to the code
that meets API objects (decoding, informer handlers, ``jobctl sync``).

Every test runs with ``FUZZ`` settings: derandomized (the same examples on every CI run),
no example database, no per-example deadline.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
    # Shrinking gives the minimal failing example; the explain phase only costs time.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)

JOB_UID = "11111111-2222-3333-4444-555555555555"
NAMESPACE = "fuzz"
JOB_NAME = "fuzz-job"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"

_names = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)
_timestamps = st.sampled_from(
    ["2026-01-02T03:04:05Z", "2026-01-02T03:04:06Z", "1970-01-01T00:00:00Z", "2026-12-31T23:59:59Z"]
)
# Numbers at the edges of what Go's int32/int64 fields hold, and past them.
_edge_ints = st.sampled_from(
    [0, 1, -1, 2**31 - 1, -(2**31), 2**31, 2**63 - 1, -(2**63), 2**63, 300000000000]
)
_small_ints = st.integers(min_value=0, max_value=20)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | _edge_ints
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def jobs(draw: st.DrawFn) -> dict[str, Any]:
    indexed = draw(st.booleans())
    completions = draw(st.none() | _small_ints)
    spec: dict[str, Any] = {
        "parallelism": draw(st.none() | _small_ints),
        "completions": completions,
        "completionMode": "Indexed" if indexed else draw(st.sampled_from(["NonIndexed", None])),
        "backoffLimit": draw(st.none() | _small_ints),
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": JOB_UID}},
        "managedBy": draw(st.sampled_from([None, "kubernetes.io/job-controller", "other"])),
        "suspend": draw(st.none() | st.booleans()),
        "activeDeadlineSeconds": draw(st.none() | st.integers(1, 10) | _edge_ints),
        "template": {
            "metadata": {"labels": {"batch.kubernetes.io/controller-uid": JOB_UID}},
            "spec": {
                "containers": [{"name": "main", "image": "busybox"}],
                "restartPolicy": "Never",
            },
        },
    }
    if indexed and draw(st.booleans()):
        spec["backoffLimitPerIndex"] = draw(_small_ints)
        spec["maxFailedIndexes"] = draw(st.none() | _small_ints)
    if draw(st.booleans()):
        spec["podFailurePolicy"] = {
            "rules": [
                {
                    "action": draw(st.sampled_from(["FailJob", "Ignore", "Count", "FailIndex"])),
                    "onExitCodes": {
                        "operator": draw(st.sampled_from(["In", "NotIn"])),
                        "values": draw(st.lists(st.integers(0, 255), min_size=1, max_size=3)),
                    },
                }
            ]
        }
    status: dict[str, Any] = {
        "active": draw(st.none() | _small_ints),
        "succeeded": draw(st.none() | _small_ints),
        "failed": draw(st.none() | _small_ints),
        "startTime": draw(st.none() | _timestamps),
    }
    if indexed:
        status["completedIndexes"] = draw(st.sampled_from(["", "0", "0-2", "1,3-4", "x"]))
    if draw(st.booleans()):
        status["conditions"] = [
            {
                "type": draw(st.sampled_from(["Complete", "Failed", "Suspended", "FailureTarget"])),
                "status": draw(st.sampled_from(["True", "False", "Unknown"])),
                "lastTransitionTime": draw(_timestamps),
            }
        ]
    if draw(st.booleans()):
        status["uncountedTerminatedPods"] = {
            "succeeded": draw(st.lists(st.uuids().map(str), max_size=2)),
            "failed": draw(st.lists(st.uuids().map(str), max_size=2)),
        }
    metadata: dict[str, Any] = {
        "name": JOB_NAME,
        "namespace": NAMESPACE,
        "uid": JOB_UID,
        "resourceVersion": str(draw(st.integers(1, 10**6))),
        "creationTimestamp": draw(_timestamps),
    }
    if draw(st.booleans()):
        metadata["deletionTimestamp"] = draw(_timestamps)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


@st.composite
def pods(draw: st.DrawFn) -> dict[str, Any]:
    phase = draw(st.sampled_from(["Pending", "Running", "Succeeded", "Failed", "Unknown", None]))
    annotations: dict[str, str] = {}
    if draw(st.booleans()):
        annotations[INDEX_ANNOTATION] = draw(st.sampled_from(["0", "1", "7", "-1", "x", ""]))
    metadata: dict[str, Any] = {
        "name": draw(_names),
        "namespace": NAMESPACE,
        "uid": str(draw(st.uuids())),
        "resourceVersion": str(draw(st.integers(1, 10**6))),
        "labels": {"batch.kubernetes.io/controller-uid": JOB_UID},
        "annotations": annotations,
        "creationTimestamp": draw(_timestamps),
    }
    if draw(st.booleans()):
        metadata["ownerReferences"] = [
            {
                "apiVersion": "batch/v1",
                "kind": draw(st.sampled_from(["Job", "ReplicaSet"])),
                "name": JOB_NAME,
                "uid": draw(st.sampled_from([JOB_UID, str(draw(st.uuids()))])),
                "controller": draw(st.none() | st.booleans()),
            }
        ]
    if draw(st.booleans()):
        metadata["finalizers"] = [TRACKING_FINALIZER]
    if draw(st.booleans()):
        metadata["deletionTimestamp"] = draw(_timestamps)
    status: dict[str, Any] = {"phase": phase}
    if draw(st.booleans()):
        status["containerStatuses"] = [
            {
                "name": "main",
                "image": "busybox",
                "imageID": "",
                "ready": False,
                "restartCount": draw(_small_ints),
                "state": {
                    "terminated": {
                        "exitCode": draw(st.integers(0, 255)),
                        "finishedAt": draw(_timestamps),
                    }
                },
            }
        ]
    if draw(st.booleans()):
        status["conditions"] = [
            {
                "type": draw(st.sampled_from(["Ready", "DisruptionTarget", "PodScheduled"])),
                "status": draw(st.sampled_from(["True", "False"])),
                "lastTransitionTime": draw(_timestamps),
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [{"name": "main", "image": "busybox"}],
            "restartPolicy": "Never",
            "nodeName": draw(st.sampled_from(["", "node-a"])),
        },
        "status": status,
    }


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(value, (*prefix, i)))
    return out


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """``base`` with 0-3 spots broken."""
    obj = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(obj)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(obj, path)
        key = path[-1]
        op = draw(st.sampled_from(["replace", "delete", "unknown", "wrap", "stringify"]))
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif op == "unknown" and isinstance(parent[key], dict):
            parent[key]["fuzzUnknownField"] = draw(json_values)
        elif op == "wrap":
            parent[key] = [parent[key]]
        elif op == "stringify":
            parent[key] = str(parent[key])
    return obj
