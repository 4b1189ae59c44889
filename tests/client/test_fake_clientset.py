"""Tests of jobctl/testing/fake_clientset.py.

The first half ports k8s.io/client-go/testing fixture_test.go and fake_test.go; the rest
checks what the fake adds for jobctl (resource versions, uids, generateName, delete
preconditions) and the patch subset the Job controller sends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client import (
    V1Container,
    V1Job,
    V1JobCondition,
    V1JobStatus,
    V1ObjectMeta,
    V1OwnerReference,
    V1Pod,
    V1PodSpec,
)

from jobctl.client import errors
from jobctl.client.decode import drop_managed_fields
from jobctl.client.interface import (
    ADDED,
    DELETED,
    JSON_PATCH,
    MERGE_PATCH,
    MODIFIED,
    DeleteOptions,
    ListOptions,
    WatchEvent,
)
from jobctl.testing.fake_clientset import (
    Action,
    Fake,
    FakeClientset,
    FakeWatcher,
    ObjectTracker,
    apply_json_patch,
    json_merge_patch,
    object_reaction,
    strategic_merge_patch,
)

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"


def new_pod(name: str, namespace: str = "test_namespace", **meta: Any) -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(name=name, namespace=namespace, **meta),
        spec=V1PodSpec(containers=[V1Container(name="c")]),
    )


def name_of(obj: Any) -> str:
    return str(obj.metadata.name)


def next_event(it: Iterator[WatchEvent], timeout: float = 5.0) -> WatchEvent:
    """Read one event from a watcher iterator, bounded in real time."""
    box: list[WatchEvent] = []
    done = threading.Event()

    def read() -> None:
        box.append(next(it))
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(timeout), "no watch event arrived"
    return box[0]


# --- fixture_test.go -----------------------------------------------------------------


def test_watch_call_non_namespace() -> None:
    o = ObjectTracker()
    test_obj = new_pod("test_name")
    watch = iter(o.watch("pods", "test_namespace"))
    threading.Thread(
        target=o.create, args=("pods", test_obj, "test_namespace"), daemon=True
    ).start()
    out = next_event(watch)
    assert out.type == ADDED
    assert name_of(out.object) == "test_name"


def test_watch_call_all_namespace() -> None:
    o = ObjectTracker()
    test_obj = new_pod("test_name", uid="u")
    w = iter(o.watch("pods", "test_namespace"))
    w_all = iter(o.watch("pods", ""))
    o.create("pods", test_obj, "test_namespace")
    for it in (w, w_all):
        out = next_event(it)
        assert out.type == ADDED
        assert name_of(out.object) == "test_name"
    o.update("pods", test_obj, "test_namespace")
    for it in (w, w_all):
        out = next_event(it)
        assert out.type == MODIFIED
        assert name_of(out.object) == "test_name"
    o.delete("pods", "test_namespace", "test_name")
    for it in (w, w_all):
        out = next_event(it)
        assert out.type == DELETED
        assert name_of(out.object) == "test_name"


_MULTIPLE_INVOCATION_CASES = [
    ("foo", ADDED, "test_namespace"),
    ("bar", ADDED, "test_namespace"),
    ("baz", ADDED, ""),
    ("bar", MODIFIED, "test_namespace"),
    ("baz", MODIFIED, ""),
    ("foo", DELETED, "test_namespace"),
    ("bar", DELETED, "test_namespace"),
    ("baz", DELETED, ""),
]


def test_watch_call_multiple_invocation() -> None:
    o = ObjectTracker()
    watch_namespaces = ["", "", "test_namespace", "test_namespace"]
    watchers = [(ns, iter(o.watch("pods", ns))) for ns in watch_namespaces]
    for name, op, ns in _MULTIPLE_INVOCATION_CASES:
        if op == ADDED:
            o.create("pods", new_pod(name, ns), ns)
        elif op == MODIFIED:
            o.update("pods", new_pod(name, ns), ns)
        else:
            o.delete("pods", ns, name)
    for watch_ns, it in watchers:
        for name, op, ns in _MULTIPLE_INVOCATION_CASES:
            if watch_ns == "" or ns == watch_ns:
                event = next_event(it)
                assert event.type == op
                assert name_of(event.object) == name
                assert (event.object.metadata.namespace or "") == ns


def test_watch_add_after_stop() -> None:
    o = ObjectTracker()
    watch = o.watch("pods", "test_namespace")
    watch.stop()
    o.create("pods", new_pod("test_name"), "test_namespace")
    assert list(watch) == []


def test_patch_with_missing_object() -> None:
    reaction = object_reaction(ObjectTracker())
    action = Action("patch", "pods", "ns", name="node-1", patch=b"{}", patch_type="x")
    handled, node, err = reaction(action)
    assert handled
    assert node is None
    assert str(err) == 'pods "node-1" not found'


def test_get_with_exact_match() -> None:
    o = ObjectTracker()
    o.add(new_pod("pod", "default"))
    assert name_of(o.get("pods", "default", "pod")) == "pod"
    with pytest.raises(errors.StatusError) as info:
        o.get("pods", "", "pod")
    assert str(info.value) == str(errors.new_not_found("pods", "pod"))


_RESOURCE_COVERS = [
    ("*", Action("", ""), True),
    ("serviceaccounts", Action("", ""), False),
    ("serviceaccounts", Action("", "serviceaccounts"), True),
    ("serviceaccounts/token", Action("", ""), False),
    ("serviceaccounts/token", Action("", "serviceaccounts"), False),
    ("serviceaccounts/token", Action("", "", subresource="token"), False),
    ("serviceaccounts/token", Action("", "serviceaccounts", subresource="token"), True),
]


@pytest.mark.parametrize(("resource", "action", "want"), _RESOURCE_COVERS)
def test_resource_covers(resource: str, action: Action, want: bool) -> None:
    fake = Fake()
    fake.add_reactor("*", resource, lambda a: (True, "hit", None))
    assert (fake.invokes(action, "miss") == "hit") is want


# --- fake_test.go --------------------------------------------------------------------


def test_original_object_captured() -> None:
    def set_label(action: Action) -> tuple[bool, Any, BaseException | None]:
        action.object.metadata.labels = {"touched": "yes"}
        return True, action.object, None

    f = Fake()
    f.add_reactor("", "", set_label)
    ret = f.invokes(Action("", "", object=new_pod("test_name")), None)
    assert ret.metadata.labels == {"touched": "yes"}
    actions = f.actions()
    assert len(actions) == 1
    assert actions[0].object.metadata.labels is None


def test_reactor_changes_persisted() -> None:
    def first(action: Action) -> tuple[bool, Any, BaseException | None]:
        action.object.metadata.labels = {"touched": "yes"}
        return False, action.object, None

    def second(action: Action) -> tuple[bool, Any, BaseException | None]:
        assert action.object.metadata.labels == {"touched": "yes"}
        return True, action.object, None

    f = Fake()
    f.add_reactor("", "", first)
    f.add_reactor("", "", second)
    ret = f.invokes(Action("", "", object=new_pod("test_name")), None)
    assert ret.metadata.labels == {"touched": "yes"}
    assert len(f.actions()) == 1
    assert f.actions()[0].object.metadata.labels is None


# --- the clientset --------------------------------------------------------------------


def test_create_fills_uid_generate_name_and_resource_version() -> None:
    cs = FakeClientset()
    pods = cs.core_v1().pods("ns")
    a = pods.create(
        V1Pod(
            metadata=V1ObjectMeta(generate_name="job-"),
            spec=V1PodSpec(containers=[V1Container(name="c")]),
        )
    )
    b = pods.create(new_pod("fixed", "ns"))
    assert a.metadata is not None and b.metadata is not None
    assert a.metadata.name is not None and a.metadata.name.startswith("job-")
    assert len(a.metadata.name) == len("job-") + 5
    assert a.metadata.uid and b.metadata.uid and a.metadata.uid != b.metadata.uid
    assert a.metadata.namespace == "ns"
    assert int(b.metadata.resource_version or 0) > int(a.metadata.resource_version or 0)
    assert pods.list().resource_version == b.metadata.resource_version
    with pytest.raises(errors.StatusError) as info:
        pods.create(new_pod("fixed", "ns"))
    assert errors.is_already_exists(info.value)
    with pytest.raises(errors.StatusError) as info:
        pods.create(V1Pod(metadata=V1ObjectMeta(), spec=V1PodSpec(containers=[])))
    assert errors.is_invalid(info.value)


def test_namespace_mismatch_is_bad_request() -> None:
    cs = FakeClientset()
    with pytest.raises(errors.StatusError) as info:
        cs.core_v1().pods("ns").create(new_pod("a", "other"))
    assert errors.is_bad_request(info.value)
    assert "request namespace does not match object namespace" in str(info.value)


def test_update_and_update_status_record_actions() -> None:
    job = V1Job(metadata=V1ObjectMeta(name="j", namespace="ns", uid="ju"))
    cs = FakeClientset(job)
    jobs = cs.batch_v1().jobs("ns")
    current = jobs.get("j")
    current.status = V1JobStatus(active=2)
    updated = jobs.update_status(current)
    assert updated.status is not None and updated.status.active == 2
    with pytest.raises(errors.StatusError) as info:
        jobs.update(V1Job(metadata=V1ObjectMeta(name="missing", namespace="ns")))
    assert errors.is_not_found(info.value)
    got = [(a.verb, a.resource, a.subresource, a.name) for a in cs.actions()]
    assert got == [
        ("get", "jobs", "", "j"),
        ("update", "jobs", "status", "j"),
        ("update", "jobs", "", "missing"),
    ]
    assert cs.actions()[1].matches("update", "jobs/status")
    assert not cs.actions()[1].matches("update", "jobs")
    cs.clear_actions()
    assert cs.actions() == []


def test_delete_preconditions() -> None:
    cs = FakeClientset(new_pod("a", "ns", uid="uid-a"))
    pods = cs.core_v1().pods("ns")
    with pytest.raises(errors.StatusError) as info:
        pods.delete("a", DeleteOptions(uid_precondition="other"))
    assert errors.is_conflict(info.value)
    assert "Precondition failed: UID in precondition: other, UID in object meta: uid-a" in str(
        info.value
    )
    pods.delete("a", DeleteOptions(uid_precondition="uid-a"))
    with pytest.raises(errors.StatusError) as info:
        pods.get("a")
    assert errors.is_not_found(info.value)
    with pytest.raises(errors.StatusError) as info:
        pods.delete("a")
    assert errors.is_not_found(info.value)


def test_list_filters_by_label_selector() -> None:
    cs = FakeClientset(
        new_pod("a", "ns", labels={"job-name": "x"}),
        new_pod("b", "ns", labels={"job-name": "y"}),
        new_pod("c", "other", labels={"job-name": "x"}),
    )
    names = [name_of(p) for p in cs.core_v1().pods("").list().items]
    assert names == ["a", "b", "c"]
    selected = cs.core_v1().pods("").list(ListOptions(label_selector="job-name in (x)"))
    assert [name_of(p) for p in selected.items] == ["a", "c"]
    in_ns = cs.core_v1().pods("ns").list(ListOptions(label_selector="job-name!=x"))
    assert [name_of(p) for p in in_ns.items] == ["b"]
    with pytest.raises(errors.StatusError) as info:
        cs.core_v1().pods("ns").list(ListOptions(label_selector="job-name in ("))
    assert errors.is_bad_request(info.value)


def test_list_and_watch_apply_transform() -> None:
    pod = new_pod("a", "ns")
    assert pod.metadata is not None
    pod.metadata.managed_fields = []
    pod.metadata.annotations = {"keep": "me"}
    cs = FakeClientset(pod)
    seen: list[str] = []

    def transform(raw: dict[str, Any]) -> dict[str, Any]:
        seen.append(raw["metadata"]["name"])
        raw["metadata"].setdefault("labels", {})["transformed"] = "true"
        return drop_managed_fields(raw)

    listed = cs.core_v1().pods("ns").list(transform=transform).items[0]
    assert listed.metadata is not None
    assert listed.metadata.labels == {"transformed": "true"}
    assert listed.metadata.managed_fields is None
    w = cs.core_v1().pods("ns").watch(ListOptions(), transform=transform)
    event = next_event(iter(w))
    assert event.type == ADDED
    assert event.object.metadata.labels == {"transformed": "true"}
    assert seen == ["a", "a"]
    w.stop()


def test_watch_replays_objects_newer_than_resource_version() -> None:
    cs = FakeClientset(new_pod("a", "ns"), new_pod("b", "ns"))
    rv = cs.core_v1().pods("ns").list().resource_version
    w_all = iter(cs.core_v1().pods("ns").watch(ListOptions()))
    assert {name_of(next_event(w_all).object), name_of(next_event(w_all).object)} == {"a", "b"}
    w_new = iter(cs.core_v1().pods("ns").watch(ListOptions(resource_version=rv)))
    cs.core_v1().pods("ns").create(new_pod("c", "ns"))
    event = next_event(w_new)
    assert (event.type, name_of(event.object)) == (ADDED, "c")
    with pytest.raises(errors.StatusError):
        cs.core_v1().pods("ns").watch(ListOptions(resource_version="abc"))


def test_prepend_reactor_injects_errors() -> None:
    cs = FakeClientset(new_pod("a", "ns"))
    calls: list[str] = []

    def fail_patch(action: Action) -> tuple[bool, Any, BaseException | None]:
        calls.append(action.name)
        return True, None, errors.new_internal_error("boom")

    cs.prepend_reactor("patch", "pods", fail_patch)
    with pytest.raises(errors.StatusError) as info:
        cs.core_v1().pods("ns").patch("a", b"{}")
    assert errors.is_internal_error(info.value)
    assert calls == ["a"]
    # Other verbs still reach the tracker.
    assert name_of(cs.core_v1().pods("ns").get("a")) == "a"
    # A reactor that declines passes the action on.
    cs.prepend_reactor("get", "*", lambda action: (False, None, None))
    assert name_of(cs.core_v1().pods("ns").get("a")) == "a"


def test_watch_reactor() -> None:
    cs = FakeClientset()
    injected = FakeWatcher()
    cs.prepend_watch_reactor("pods", lambda action: (True, injected, None))
    w = cs.core_v1().pods("ns").watch()
    assert w is injected
    injected.add(new_pod("x", "ns"))
    assert name_of(next_event(iter(w)).object) == "x"


def test_concurrent_creates_are_thread_safe() -> None:
    cs = FakeClientset()
    pods = cs.core_v1().pods("ns")

    def create(i: int) -> None:
        for j in range(20):
            pods.create(new_pod(f"p-{i}-{j}", "ns"))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    items = pods.list().items
    assert len(items) == 80
    versions = {p.metadata.resource_version for p in items if p.metadata}
    assert len(versions) == 80


# --- patches ---------------------------------------------------------------------------


def job_owned_pod() -> V1Pod:
    return V1Pod(
        metadata=V1ObjectMeta(
            name="p",
            namespace="ns",
            uid="pod-uid",
            labels={"a": "b"},
            finalizers=[TRACKING_FINALIZER, "other/finalizer"],
            owner_references=[
                V1OwnerReference(
                    api_version="batch/v1", kind="Job", name="j", uid="job-uid", controller=True
                ),
                V1OwnerReference(api_version="v1", kind="Other", name="o", uid="other-uid"),
            ],
        ),
        spec=V1PodSpec(containers=[V1Container(name="c")]),
    )


def test_patch_remove_tracking_finalizer() -> None:
    cs = FakeClientset(job_owned_pod())
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
    pod = cs.core_v1().pods("ns").patch("p", json.dumps(patch).encode())
    assert pod.metadata is not None
    assert pod.metadata.finalizers == ["other/finalizer"]
    action = cs.actions()[-1]
    assert (action.verb, action.patch_type) == ("patch", "application/strategic-merge-patch+json")
    assert json.loads(action.patch) == patch


def test_patch_delete_owner_reference_with_uid_precondition() -> None:
    cs = FakeClientset(job_owned_pod())
    patch = {
        "metadata": {
            "uid": "pod-uid",
            "ownerReferences": [{"$patch": "delete", "uid": "job-uid"}],
            "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER],
        }
    }
    pod = cs.core_v1().pods("ns").patch("p", patch)
    assert pod.metadata is not None and pod.metadata.owner_references is not None
    assert [r.uid for r in pod.metadata.owner_references] == ["other-uid"]
    assert pod.metadata.finalizers == ["other/finalizer"]

    stale = {"metadata": {"uid": "some-older-pod", "ownerReferences": []}}
    with pytest.raises(errors.StatusError) as info:
        cs.core_v1().pods("ns").patch("p", stale)
    assert errors.is_invalid(info.value)
    assert errors.has_status_cause(info.value, "FieldValueInvalid")


def test_patch_adopt_merges_owner_references_and_finalizers() -> None:
    orphan = V1Pod(
        metadata=V1ObjectMeta(name="p", namespace="ns", uid="pod-uid", finalizers=["x/y"]),
        spec=V1PodSpec(containers=[V1Container(name="c")]),
    )
    cs = FakeClientset(orphan)
    patch = {
        "metadata": {
            "uid": "pod-uid",
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": "j",
                    "uid": "job-uid",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "finalizers": [TRACKING_FINALIZER, "x/y"],
        }
    }
    pod = cs.core_v1().pods("ns").patch("p", patch)
    assert pod.metadata is not None and pod.metadata.owner_references is not None
    assert [(r.uid, r.controller) for r in pod.metadata.owner_references] == [("job-uid", True)]
    assert pod.metadata.finalizers == ["x/y", TRACKING_FINALIZER]


def test_patch_job_conditions_merge_by_type() -> None:
    job = V1Job(
        metadata=V1ObjectMeta(name="j", namespace="ns", uid="ju"),
        status=V1JobStatus(
            conditions=[
                V1JobCondition(type="Suspended", status="True", reason="JobSuspended"),
                V1JobCondition(type="Complete", status="False"),
            ]
        ),
    )
    cs = FakeClientset(job)
    patched = (
        cs.batch_v1()
        .jobs("ns")
        .patch("j", {"status": {"conditions": [{"type": "Suspended", "status": "False"}]}})
    )
    assert patched.status is not None and patched.status.conditions is not None
    assert [(c.type, c.status, c.reason) for c in patched.status.conditions] == [
        ("Suspended", "False", "JobSuspended"),
        ("Complete", "False", None),
    ]


def test_merge_and_json_patches_through_the_client() -> None:
    cs = FakeClientset(job_owned_pod())
    pods = cs.core_v1().pods("ns")
    merged = pods.patch("p", {"metadata": {"labels": {"a": None, "c": "d"}}}, MERGE_PATCH)
    assert merged.metadata is not None and merged.metadata.labels == {"c": "d"}
    replaced = pods.patch(
        "p", [{"op": "replace", "path": "/metadata/labels/c", "value": "e"}], JSON_PATCH
    )
    assert replaced.metadata is not None and replaced.metadata.labels == {"c": "e"}
    with pytest.raises(errors.StatusError) as info:
        pods.patch("p", [{"op": "test", "path": "/metadata/labels/c", "value": "x"}], JSON_PATCH)
    assert errors.is_invalid(info.value)


_SMP_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        "plain map merge and null deletes",
        {"a": {"b": 1, "c": 2}, "d": 3},
        {"a": {"b": 5, "c": None}, "e": [1]},
        {"a": {"b": 5}, "d": 3, "e": [1]},
    ),
    (
        "primitive list merge appends unique",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": ["b", "c"]}},
        {"metadata": {"finalizers": ["a", "b", "c"]}},
    ),
    (
        "delete from primitive list empties the field",
        {"metadata": {"finalizers": ["a"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
        {"metadata": {}},
    ),
    (
        "merge keyed list updates and appends",
        {"spec": {"containers": [{"name": "a", "image": "x"}]}},
        {"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b"}]}},
        {"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b"}]}},
    ),
    (
        "unkeyed list is replaced",
        {"spec": {"tolerations": [{"key": "a"}]}},
        {"spec": {"tolerations": [{"key": "b"}]}},
        {"spec": {"tolerations": [{"key": "b"}]}},
    ),
    (
        "map replace directive",
        {"a": {"b": 1, "c": 2}},
        {"a": {"$patch": "replace", "x": 1}},
        {"a": {"x": 1}},
    ),
    (
        "set element order is ignored",
        {"metadata": {"finalizers": ["a"]}},
        {"metadata": {"$setElementOrder/finalizers": ["a"]}},
        {"metadata": {"finalizers": ["a"]}},
    ),
]


@pytest.mark.parametrize(
    ("original", "patch", "want"),
    [c[1:] for c in _SMP_CASES],
    ids=[c[0] for c in _SMP_CASES],
)
def test_strategic_merge_patch(
    original: dict[str, Any], patch: dict[str, Any], want: dict[str, Any]
) -> None:
    before = json.dumps(original)
    assert strategic_merge_patch(original, patch) == want
    assert json.dumps(original) == before


def test_json_merge_patch_rfc7386_examples() -> None:
    assert json_merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert json_merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert json_merge_patch({"a": "b"}, {"a": None}) == {}
    assert json_merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert json_merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert json_merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}


def test_apply_json_patch_operations() -> None:
    doc = {"a": {"b": [1, 2]}, "c": "d"}
    out = apply_json_patch(
        doc,
        [
            {"op": "add", "path": "/a/b/1", "value": 9},
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "remove", "path": "/c"},
            {"op": "copy", "from": "/a/b", "path": "/e"},
            {"op": "move", "from": "/e", "path": "/f"},
            {"op": "test", "path": "/f/0", "value": 1},
            {"op": "add", "path": "/a/x~1y", "value": True},
        ],
    )
    assert out == {"a": {"b": [1, 9, 2, 3], "x/y": True}, "f": [1, 9, 2, 3]}
    assert doc == {"a": {"b": [1, 2]}, "c": "d"}


def test_fake_clientset_implements_interface() -> None:
    from jobctl.client.interface import Interface

    cs: Interface = FakeClientset()
    lease = cs.coordination_v1().leases("kube-system")
    assert lease.list().items == []


def test_watch_list_semantics_unsupported_like_client_go() -> None:
    """client-go's generated fake Clientset and its tracker answer
    IsWatchListSemanticsUnSupported() with true, so reflectors over them LIST + WATCH."""
    cs = FakeClientset(new_pod("a", "ns"))
    assert cs.is_watch_list_semantics_unsupported()
    assert cs.tracker().is_watch_list_semantics_unsupported()


def test_watch_ignores_send_initial_events_like_client_go() -> None:
    """tracker.Watch ignores sendInitialEvents: existing objects come as ADDED events
    (options were given), and no initial-events-end bookmark follows."""
    cs = FakeClientset(new_pod("a", "ns"), new_pod("b", "ns"))
    w = (
        cs.core_v1()
        .pods("ns")
        .watch(
            ListOptions(
                send_initial_events=True,
                resource_version_match="NotOlderThan",
                allow_watch_bookmarks=True,
            )
        )
    )
    events = iter(w)
    first, second = next_event(events), next_event(events)
    assert {(first.type, name_of(first.object)), (second.type, name_of(second.object))} == {
        (ADDED, "a"),
        (ADDED, "b"),
    }
    cs.core_v1().pods("ns").create(new_pod("c", "ns"))
    third = next_event(events)
    # The next event is the live change, not a bookmark.
    assert (third.type, name_of(third.object)) == (ADDED, "c")
    w.stop()


def test_informer_over_fake_clientset_lists_then_watches() -> None:
    """With the WatchListClient gate on, an informer built on the fake still LISTs."""
    from jobctl.informers.factory import new_shared_informer_factory

    cs = FakeClientset(new_pod("a", "ns"))
    factory = new_shared_informer_factory(cs, 0)
    informer = factory.core().v1().pods().informer()
    stop = threading.Event()
    factory.start(stop)
    try:
        assert factory.wait_for_cache_sync(stop)
        verbs = [(a.verb, a.list_options) for a in cs.actions() if a.resource == "pods"]
        assert [v for v, _ in verbs] == ["list", "watch"]
        watch_options = verbs[1][1]
        assert watch_options is not None and watch_options.send_initial_events is None
        assert informer.get_store().list_keys() == ["ns/a"]
    finally:
        stop.set()
        factory.shutdown()
