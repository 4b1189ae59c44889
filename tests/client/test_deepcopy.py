from kubernetes import client as k8s

from jobctl.client.decode import decode_object
from jobctl.client.deepcopy import deep_copy

RAW_JOB = {
    "metadata": {
        "name": "j",
        "namespace": "ns",
        "uid": "u",
        "labels": {"a": "b"},
        "creationTimestamp": "2026-01-01T00:00:00Z",
    },
    "spec": {
        "parallelism": 2,
        "completions": 4,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
        "template": {
            "metadata": {"labels": {"job-name": "j"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
            },
        },
    },
    "status": {"active": 1, "uncountedTerminatedPods": {"succeeded": ["p1"]}},
}


def test_deep_copy_is_equal_and_shares_nothing_mutable() -> None:
    job = decode_object(k8s.V1Job, RAW_JOB)
    copy = deep_copy(job)
    assert copy == job
    assert copy.model_fields_set == job.model_fields_set
    assert copy.metadata is not job.metadata
    copy.metadata.labels["a"] = "changed"
    copy.spec.template.spec.containers[0].command.append("again")
    copy.status.uncounted_terminated_pods.succeeded.append("p2")
    assert job.metadata.labels == {"a": "b"}
    assert job.spec.template.spec.containers[0].command == ["true"]
    assert job.status.uncounted_terminated_pods.succeeded == ["p1"]


def test_deep_copy_keeps_explicit_none_and_unset_fields_apart() -> None:
    job = k8s.V1Job(metadata=k8s.V1ObjectMeta(name="j", labels=None))
    copy = deep_copy(job)
    assert copy == job
    assert "labels" in copy.metadata.model_fields_set
    assert "annotations" not in copy.metadata.model_fields_set
