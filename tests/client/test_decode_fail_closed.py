"""Fail-closed decoding (issue 11, finding 2, client side).

A list with any item that cannot be decoded is an error as a whole (no partial items,
no resourceVersion for the reflector to resume from); a watch event that cannot be
decoded ends the watch with an ERROR event, as client-go's watch decoder and
StreamWatcher do. Decoding is at least as lenient as Go's JSON decoder: unknown fields
are ignored and absent or null required fields take their zero value; it fails where Go
fails (wrong types, JSON that does not parse).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s

from jobctl.client import errors
from jobctl.client.decode import (
    DecodeError,
    decode_list,
    decode_object,
    decode_watch_event,
    prune_pod_for_job_controller,
)
from jobctl.client.interface import ADDED, ERROR, MODIFIED, ListOptions
from tests.client.test_real import raw_pod, recording_clientset


def _list_body(*items: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PodList", "metadata": {"resourceVersion": "100"}, "items": list(items)}


def _wrong_typed_pod() -> dict[str, Any]:
    bad = raw_pod("bad")
    bad["status"]["containerStatuses"][0]["restartCount"] = "many"
    return bad


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda p: p["status"]["containerStatuses"][0].update(restartCount="5"), id="int"
        ),
        pytest.param(lambda p: p["metadata"].update(labels=["a"]), id="map"),
        pytest.param(lambda p: p["spec"].update(containers={"name": "x"}), id="list"),
        pytest.param(lambda p: p["status"]["containerStatuses"][0].update(ready="true"), id="bool"),
        pytest.param(lambda p: p["metadata"].update(generateName=7), id="string"),
    ],
)
def test_list_with_one_wrong_typed_item_fails_as_a_whole(mutate: Any) -> None:
    bad = raw_pod("bad")
    mutate(bad)
    body = json.dumps(_list_body(raw_pod("a"), bad, raw_pod("b")))
    for encoded in (body, body.encode(), json.loads(body)):
        with pytest.raises(DecodeError, match="ns/bad"):
            decode_list(k8s.V1Pod, encoded)


def test_list_with_a_wrong_typed_item_fails_through_the_clientset() -> None:
    cs, pool = recording_clientset()
    pool.answer(200, _list_body(raw_pod("a"), _wrong_typed_pod()))
    with pytest.raises(DecodeError):
        cs.core_v1().pods("ns").list(ListOptions(), transform=prune_pod_for_job_controller)


def test_list_with_an_item_that_is_not_an_object_fails() -> None:
    for items in ([raw_pod("a"), "pod"], {"a": raw_pod("a")}):
        with pytest.raises(DecodeError):
            decode_list(k8s.V1Pod, json.dumps({"metadata": {}, "items": items}))


def test_watch_stream_with_an_undecodable_event_ends_with_an_error_event() -> None:
    cs, pool = recording_clientset()
    lines = [
        {"type": ADDED, "object": raw_pod("a")},
        {"type": MODIFIED, "object": _wrong_typed_pod()},
        {"type": ADDED, "object": raw_pod("after")},
    ]
    pool.answer(200, b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    events = list(cs.core_v1().pods("ns").watch(ListOptions()))
    assert [e.type for e in events] == [ADDED, ERROR]
    assert isinstance(events[0].object, k8s.V1Pod)
    status = errors.StatusError.from_status(events[1].object)
    assert status.code == 500
    assert errors.is_internal_error(status)
    assert "unable to decode an event from the watch stream" in status.message
    assert "ns/bad" in status.message


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"{not json", id="bad-json"),
        pytest.param(json.dumps({"type": "WEIRD", "object": raw_pod()}).encode(), id="bad-type"),
        pytest.param(json.dumps({"type": ADDED, "object": "pod"}).encode(), id="bad-object"),
        pytest.param(json.dumps(["ADDED"]).encode(), id="not-an-event"),
    ],
)
def test_watch_stream_with_a_malformed_line_ends_with_an_error_event(line: bytes) -> None:
    cs, pool = recording_clientset()
    good = json.dumps({"type": ADDED, "object": raw_pod("after")}).encode()
    pool.answer(200, line + b"\n" + good + b"\n")
    events = list(cs.core_v1().pods("ns").watch(ListOptions()))
    assert [e.type for e in events] == [ERROR]


def test_unknown_fields_are_ignored_in_lists_and_watch_events() -> None:
    pod = raw_pod("new")
    pod["metadata"]["fieldFromTheFuture"] = {"x": 1}
    pod["spec"]["containers"][0]["newContainerField"] = [1, 2]
    pod["status"]["containerStatuses"][0]["newStatusField"] = "x"
    pod["brandNewTopLevel"] = True
    page = decode_list(k8s.V1Pod, json.dumps(_list_body(pod)))
    assert [p.metadata.name for p in page.items if p.metadata] == ["new"]
    assert page.resource_version == "100"
    event = decode_watch_event(k8s.V1Pod, json.dumps({"type": MODIFIED, "object": pod}))
    assert event is not None and event.type == MODIFIED
    assert isinstance(event.object, k8s.V1Pod)


def test_absent_or_null_required_fields_take_their_zero_value_as_in_go() -> None:
    pod = raw_pod()
    status = pod["status"]["containerStatuses"][0]
    del status["imageID"]  # required in the model; Go leaves ""
    status["image"] = None  # null: Go leaves ""
    status["ready"] = None  # null: Go leaves false
    pod["spec"]["containers"][0].pop("name")
    pod["spec"]["containers"].append({"image": "x", "ports": [{"protocol": "TCP"}]})
    decoded = decode_object(k8s.V1Pod, pod)
    assert decoded.status is not None and decoded.status.container_statuses
    cs = decoded.status.container_statuses[0]
    assert (cs.image_id, cs.image, cs.ready, cs.restart_count) == ("", "", False, 0)
    assert decoded.spec is not None
    assert [c.name for c in decoded.spec.containers] == ["", ""]
    ports = decoded.spec.containers[1].ports
    assert ports is not None and ports[0].container_port == 0
    null_spec = raw_pod()
    null_spec["spec"]["containers"] = None
    decoded = decode_object(k8s.V1Pod, null_spec)
    assert decoded.spec is not None and decoded.spec.containers == []


def test_a_pod_status_without_image_id_decodes_in_lists() -> None:
    # A kubelet (or a simulator) that leaves out imageID must not stall the informer.
    pod = raw_pod()
    del pod["status"]["containerStatuses"][0]["imageID"]
    page = decode_list(k8s.V1Pod, json.dumps(_list_body(pod)), prune_pod_for_job_controller)
    assert len(page.items) == 1
