"""Tests of the real clientset (jobctl/client/real.py) and its decode path.

The official client is exercised down to urllib3: its pool manager is swapped for a
recorder that answers from memory, so the requests (URLs, headers, bodies) are the
ones the client really builds. One test streams a watch from a local HTTP server on
127.0.0.1 to check that ``stop()`` unblocks a reader.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from jobctl.client import errors
from jobctl.client.decode import (
    DecodeError,
    decode_list,
    decode_object,
    decode_watch_event,
    drop_managed_fields,
    prune_pod_for_job_controller,
)
from jobctl.client.interface import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    JSON_PATCH,
    MERGE_PATCH,
    MODIFIED,
    STRATEGIC_MERGE_PATCH,
    DeleteOptions,
    ListOptions,
)
from jobctl.client.real import (
    DEFAULT_BURST,
    DEFAULT_QPS,
    Clientset,
    ConfigError,
    iter_lines,
    load_configuration,
    map_exception,
    new_for_config,
)
from jobctl.k8s_libs.clock import FakeClock


def raw_pod(name: str = "pod-a", namespace: str = "ns") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": "42",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"job-name": "j"},
            "finalizers": ["batch.kubernetes.io/job-tracking"],
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": "j",
                    "uid": "ju",
                    "controller": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}},
                }
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sleep", "10"],
                    "resources": {"requests": {"cpu": "100m"}},
                }
            ],
            "tolerations": [{"key": "k", "operator": "Exists"}],
        },
        "status": {
            "phase": "Running",
            "startTime": "2026-01-01T00:00:01Z",
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:02Z"}
            ],
            "containerStatuses": [
                {
                    "name": "main",
                    "image": "busybox",
                    "imageID": "docker://sha",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:02Z"}},
                    "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run"}],
                }
            ],
            "podIP": "10.0.0.1",
        },
    }


# --- decode ------------------------------------------------------------------------


def test_decode_object_drops_unknown_fields() -> None:
    raw = raw_pod()
    raw["metadata"]["fieldFromTheFuture"] = 1
    raw["spec"]["containers"][0]["newContainerField"] = {"x": 1}
    raw["topLevelNew"] = True
    pod = decode_object(k8s.V1Pod, raw)
    assert pod.metadata is not None and pod.metadata.name == "pod-a"
    assert pod.spec is not None and pod.spec.containers[0].name == "main"
    assert "fieldFromTheFuture" not in raw["metadata"]


def test_decode_object_rejects_malformed() -> None:
    raw = raw_pod()
    raw["spec"]["containers"] = "not a list"
    with pytest.raises(DecodeError):
        decode_object(k8s.V1Pod, raw)


def test_decode_list_applies_transform_and_keeps_list_metadata() -> None:
    body = json.dumps(
        {
            "kind": "PodList",
            "metadata": {"resourceVersion": "100", "continue": "tok", "remainingItemCount": 3},
            "items": [raw_pod("a"), raw_pod("b")],
        }
    ).encode()
    seen: list[str] = []

    def transform(obj: dict[str, Any]) -> dict[str, Any]:
        # Runs on the raw dict, before the model exists.
        assert isinstance(obj, dict)
        seen.append(obj["metadata"]["name"])
        return drop_managed_fields(obj)

    page = decode_list(k8s.V1Pod, body, transform)
    assert [p.metadata.name for p in page.items if p.metadata] == ["a", "b"]
    assert all(p.metadata is not None and p.metadata.managed_fields is None for p in page.items)
    assert seen == ["a", "b"]
    assert page.resource_version == "100"
    assert page.continue_ == "tok"
    assert page.remaining_item_count == 3


@pytest.mark.parametrize(
    "body",
    [
        '{"metadata": {"resourceVersion": "9"}, "items": [A, B]}',
        ' \n{ "items" : [ A ,\n B ] , "metadata":{"resourceVersion":"9"} }\n',
        '{"kind": "PodList", "items": [], "metadata": {"resourceVersion": "9"}}',
        '{"items": null, "metadata": {"resourceVersion": "9"}}',
        '{"metadata": {"resourceVersion": "9"}}',
    ],
)
def test_decode_list_streams_items_like_json_loads(body: str) -> None:
    text = body.replace("A", json.dumps(raw_pod("a"))).replace("B", json.dumps(raw_pod("b")))
    expected = decode_list(k8s.V1Pod, json.loads(text))
    for encoded in (text, text.encode()):
        page = decode_list(k8s.V1Pod, encoded)
        assert page == expected
        assert page.resource_version == "9"
    assert [p.metadata.name for p in expected.items if p.metadata] == (
        ["a", "b"] if "A" in body else []
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[]", DecodeError),
        (b"null", DecodeError),
        (b"{", DecodeError),
        (b'{"items": [{"metadata": {}} {}]}', DecodeError),
        (b'{"items": []} trailing', DecodeError),
    ],
)
def test_decode_list_rejects_what_json_loads_rejects(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_list(k8s.V1Pod, body)


def test_prune_pod_for_job_controller_shares_repeated_strings() -> None:
    # json.loads gives each document its own strings; pruned pods share the repeated ones.
    a, b = (
        decode_object(k8s.V1Pod, prune_pod_for_job_controller(json.loads(json.dumps(raw_pod(n)))))
        for n in ("a", "b")
    )
    assert a.metadata is not None and b.metadata is not None
    assert a.metadata.labels is not None and b.metadata.labels is not None
    (key_a, value_a), (key_b, value_b) = (
        next(iter(a.metadata.labels.items())),
        next(iter(b.metadata.labels.items())),
    )
    assert key_a is key_b and value_a is value_b
    assert a.metadata.namespace is b.metadata.namespace
    assert a.metadata.owner_references and b.metadata.owner_references
    assert a.metadata.owner_references[0].uid is b.metadata.owner_references[0].uid
    assert a.status is not None and b.status is not None
    assert a.status.container_statuses and b.status.container_statuses
    assert a.status.container_statuses[0].image is b.status.container_statuses[0].image
    assert a.status is not None and b.status is not None
    assert a.status.phase is not None and a.status.phase is b.status.phase
    assert a.metadata.name == "a" and b.metadata.name == "b"


def test_prune_pod_for_job_controller_keeps_what_the_controller_reads() -> None:
    raw = raw_pod()
    raw["status"]["containerStatuses"][0].update(
        lastState={"terminated": {"exitCode": 1}}, containerID="containerd://c1"
    )
    raw["spec"]["initContainers"] = [{"name": "side", "image": "x", "restartPolicy": "Always"}]
    pod = decode_object(k8s.V1Pod, prune_pod_for_job_controller(raw))
    assert pod.metadata is not None
    assert pod.metadata.managed_fields is None
    assert pod.metadata.labels == {"job-name": "j"}
    assert pod.metadata.finalizers == ["batch.kubernetes.io/job-tracking"]
    assert pod.metadata.owner_references is not None
    assert pod.metadata.owner_references[0].uid == "ju"
    assert pod.metadata.creation_timestamp is not None
    assert pod.spec is not None
    assert pod.spec.node_name == "node-1"
    assert pod.spec.restart_policy == "Never"
    assert pod.spec.containers == []
    assert pod.spec.init_containers is not None
    side = pod.spec.init_containers[0]
    assert (side.name, side.restart_policy, side.image) == ("side", "Always", None)
    assert pod.spec.tolerations is None
    assert pod.status is not None
    assert pod.status.phase == "Running"
    assert pod.status.start_time is not None
    assert pod.status.conditions is not None and pod.status.conditions[0].type == "Ready"
    assert pod.status.container_statuses is not None
    cs = pod.status.container_statuses[0]
    assert (cs.name, cs.ready, cs.restart_count) == ("main", True, 0)
    assert cs.state is not None and cs.state.running is not None
    assert cs.volume_mounts is None
    assert cs.last_state is None and cs.container_id is None
    assert pod.status.pod_ip is None


@pytest.mark.parametrize("event_type", [ADDED, MODIFIED, DELETED])
def test_decode_watch_event_objects(event_type: str) -> None:
    line = json.dumps({"type": event_type, "object": raw_pod()})
    event = decode_watch_event(k8s.V1Pod, line, drop_managed_fields)
    assert event is not None
    assert event.type == event_type
    assert isinstance(event.object, k8s.V1Pod)
    assert event.object.metadata is not None
    assert event.object.metadata.managed_fields is None


def test_decode_watch_event_bookmark() -> None:
    line = json.dumps(
        {
            "type": "BOOKMARK",
            "object": {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {
                    "resourceVersion": "12345",
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
                "spec": {"containers": None},
            },
        }
    )
    event = decode_watch_event(k8s.V1Pod, line)
    assert event is not None and event.type == BOOKMARK
    assert isinstance(event.object, k8s.V1Pod)
    assert event.object.metadata is not None
    assert event.object.metadata.resource_version == "12345"
    assert event.object.metadata.annotations == {"k8s.io/initial-events-end": "true"}
    assert event.object.spec is None


def test_decode_watch_event_error_and_garbage() -> None:
    status = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
    event = decode_watch_event(k8s.V1Pod, json.dumps({"type": "ERROR", "object": status}))
    assert event is not None and event.type == ERROR and event.object == status
    assert errors.is_resource_expired(errors.StatusError.from_status(event.object))
    assert decode_watch_event(k8s.V1Pod, b"") is None
    assert decode_watch_event(k8s.V1Pod, b"  \n") is None
    with pytest.raises(DecodeError, match="not a watch event"):
        decode_watch_event(k8s.V1Pod, b"{not json")
    with pytest.raises(DecodeError, match="got invalid watch event type: WEIRD"):
        decode_watch_event(k8s.V1Pod, json.dumps({"type": "WEIRD", "object": {}}))
    malformed = raw_pod()
    malformed["metadata"]["labels"] = ["not", "a", "map"]
    with pytest.raises(DecodeError, match="unable to decode watch event: ns/pod-a"):
        decode_watch_event(k8s.V1Pod, json.dumps({"type": "ADDED", "object": malformed}))


def test_iter_lines_splits_across_chunks() -> None:
    chunks = [b'{"a":', b'1}\n{"b":2}\n{"c"', b"", b":3}\n\n", b'{"d":4}']
    assert list(iter_lines(iter(chunks))) == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b"", b'{"d":4}']


# --- error mapping -----------------------------------------------------------------


def _api_exception(status: int, body: str, headers: dict[str, str] | None = None) -> ApiException:
    err = ApiException(status=status, reason="reason", body=body)
    err.headers = headers
    return err


def test_map_exception_status_body() -> None:
    body = json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": 'Operation cannot be fulfilled on pods "a": conflict',
            "reason": "Conflict",
            "details": {"name": "a", "kind": "pods"},
            "code": 409,
        }
    )
    mapped = map_exception(_api_exception(409, body))
    assert isinstance(mapped, errors.StatusError)
    assert errors.is_conflict(mapped)
    assert str(mapped) == 'Operation cannot be fulfilled on pods "a": conflict'


def test_map_exception_namespace_terminating_cause() -> None:
    body = json.dumps(
        {
            "kind": "Status",
            "code": 403,
            "reason": "Forbidden",
            "message": "unable to create new content in namespace ns: it is being terminated",
            "details": {
                "causes": [{"type": "NamespaceTerminating", "field": "metadata.namespace"}]
            },
        }
    )
    mapped = map_exception(_api_exception(403, body))
    assert errors.is_forbidden(mapped)
    assert errors.has_status_cause(mapped, errors.NAMESPACE_TERMINATING_CAUSE)


def test_map_exception_non_status_body() -> None:
    mapped = map_exception(_api_exception(503, "<html>down</html>", {"Retry-After": "7"}))
    assert isinstance(mapped, errors.StatusError)
    assert mapped.code == 503
    assert mapped.retry_after_seconds == 7
    assert "503" in str(mapped)
    assert errors.is_not_found(map_exception(_api_exception(404, "")))


def test_map_exception_transport_errors() -> None:
    refused_cause = ConnectionRefusedError(111, "Connection refused")
    conn_err = urllib3.exceptions.NewConnectionError(None, "Failed to establish")  # type: ignore[arg-type]
    conn_err.__cause__ = refused_cause
    retry_err = urllib3.exceptions.MaxRetryError(None, "/api/v1/pods", conn_err)  # type: ignore[arg-type]
    mapped = map_exception(retry_err)
    assert isinstance(mapped, errors.APIConnectionRefusedError)
    assert errors.is_connection_refused(mapped)
    assert not isinstance(mapped, errors.StatusError)

    reset = map_exception(urllib3.exceptions.ProtocolError("Connection aborted."))
    assert isinstance(reset, errors.APIConnectionError)
    assert not errors.is_connection_refused(reset)

    assert isinstance(
        map_exception(ApiException(status=0, reason="Cannot prepare a request message")),
        errors.RequestConstructionError,
    )
    other = KeyError("x")
    assert map_exception(other) is other


# --- the clientset over a recording pool manager -------------------------------------


class _Request:
    def __init__(self, method: str, url: str, headers: dict[str, str], body: Any) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _ClosingBytesIO(io.BytesIO):
    """A body that reports closed at EOF, as a socket-backed http.client response does."""

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if not data:
            self.close()
        return data

    def read1(self, size: int | None = -1) -> bytes:
        return self.read(size)


class RecordingPool:
    """Stands in for urllib3.PoolManager: records requests, answers from a queue."""

    def __init__(self) -> None:
        self.requests: list[_Request] = []
        self.responses: list[tuple[int, bytes]] = []

    def answer(self, status: int, body: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.responses.append((status, data))

    def request(self, method: str, url: str, **kwargs: Any) -> urllib3.HTTPResponse:
        self.requests.append(
            _Request(method, url, dict(kwargs.get("headers") or {}), kwargs.get("body"))
        )
        status, data = self.responses.pop(0)
        return urllib3.HTTPResponse(
            body=_ClosingBytesIO(data),
            status=status,
            headers={"Content-Type": "application/json"},
            preload_content=False,
        )

    def clear(self) -> None:
        pass


def recording_clientset(
    qps: float = -1, clock: FakeClock | None = None
) -> tuple[Clientset, RecordingPool]:
    cfg = k8s.Configuration(host="https://127.0.0.1:6443")
    cs = new_for_config(cfg, qps=qps, burst=2, user_agent="jobctl-test", clock=clock)
    pool = RecordingPool()
    cs.api_client.rest_client.pool_manager = pool
    return cs, pool


def test_get_create_update_status_delete() -> None:
    cs, pool = recording_clientset()
    pool.answer(200, {"kind": "Pod", "apiVersion": "v1", **raw_pod()})
    pod = cs.core_v1().pods("ns").get("pod-a")
    assert pod.metadata is not None and pod.metadata.uid == "uid-pod-a"
    assert pool.requests[-1].method == "GET"
    assert pool.requests[-1].url.endswith("/api/v1/namespaces/ns/pods/pod-a")
    assert pool.requests[-1].headers["User-Agent"] == "jobctl-test"

    pool.answer(201, raw_pod("created"))
    created = cs.core_v1().pods("ns").create(k8s.V1Pod.model_validate(raw_pod("created")))
    assert created.metadata is not None and created.metadata.name == "created"
    assert pool.requests[-1].method == "POST"
    assert pool.requests[-1].url.endswith("/api/v1/namespaces/ns/pods")
    assert pool.requests[-1].json()["metadata"]["name"] == "created"

    job = k8s.V1Job.model_validate(
        {"metadata": {"name": "j", "namespace": "ns"}, "status": {"active": 1}}
    )
    pool.answer(200, {"metadata": {"name": "j", "namespace": "ns"}, "status": {"active": 1}})
    updated = cs.batch_v1().jobs("ns").update_status(job)
    assert updated.status is not None and updated.status.active == 1
    assert pool.requests[-1].method == "PUT"
    assert pool.requests[-1].url.endswith("/apis/batch/v1/namespaces/ns/jobs/j/status")

    pool.answer(200, {"kind": "Status", "status": "Success"})
    cs.core_v1().pods("ns").delete("pod-a", DeleteOptions(uid_precondition="uid-pod-a"))
    assert pool.requests[-1].method == "DELETE"
    assert pool.requests[-1].json()["preconditions"] == {"uid": "uid-pod-a"}


def test_status_errors_are_raised() -> None:
    cs, pool = recording_clientset()
    pool.answer(
        404,
        {"kind": "Status", "code": 404, "reason": "NotFound", "message": 'pods "x" not found'},
    )
    with pytest.raises(errors.StatusError) as info:
        cs.core_v1().pods("ns").get("x")
    assert errors.is_not_found(info.value)
    assert str(info.value) == 'pods "x" not found'


@pytest.mark.parametrize(
    ("patch_type", "patch"),
    [
        (STRATEGIC_MERGE_PATCH, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["f"]}}),
        (MERGE_PATCH, {"metadata": {"labels": {"a": "b"}}}),
        (JSON_PATCH, [{"op": "replace", "path": "/metadata/labels/a", "value": "c"}]),
    ],
    ids=["strategic", "merge", "json"],
)
def test_patch_sends_requested_content_type(patch_type: str, patch: Any) -> None:
    cs, pool = recording_clientset()
    pool.answer(200, raw_pod())
    cs.core_v1().pods("ns").patch("pod-a", json.dumps(patch).encode(), patch_type)
    req = pool.requests[-1]
    assert req.method == "PATCH"
    assert req.headers["Content-Type"] == patch_type
    assert req.json() == patch


def test_list_one_page() -> None:
    cs, pool = recording_clientset()
    pool.answer(
        200,
        {"metadata": {"resourceVersion": "9", "continue": "next"}, "items": [raw_pod("a")]},
    )
    page = (
        cs.core_v1()
        .pods("")
        .list(
            ListOptions(label_selector="job-name=j", limit=500, continue_="prev"),
            transform=drop_managed_fields,
        )
    )
    assert [p.metadata.name for p in page.items if p.metadata] == ["a"]
    assert page.items[0].metadata is not None and page.items[0].metadata.managed_fields is None
    assert (page.resource_version, page.continue_) == ("9", "next")
    url = pool.requests[-1].url
    assert "/api/v1/pods?" in url
    assert "labelSelector=job-name%3Dj" in url
    assert "limit=500" in url and "continue=prev" in url


def test_watch_over_recorded_body() -> None:
    cs, pool = recording_clientset()
    lines = [
        {"type": "ADDED", "object": raw_pod("a")},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "77"}}},
        {"type": "DELETED", "object": raw_pod("a")},
    ]
    pool.answer(200, b"".join(json.dumps(x).encode() + b"\n" for x in lines))
    w = (
        cs.core_v1()
        .pods("ns")
        .watch(ListOptions(resource_version="5", timeout_seconds=30, allow_watch_bookmarks=True))
    )
    events = list(w)
    assert [e.type for e in events] == [ADDED, BOOKMARK, DELETED]
    url = pool.requests[-1].url
    assert "watch=True" in url or "watch=true" in url
    assert "allowWatchBookmarks" in url and "timeoutSeconds=30" in url


# --- throttling --------------------------------------------------------------------


def test_new_for_config_rate_limiter_defaults() -> None:
    cfg = k8s.Configuration(host="https://127.0.0.1:6443")
    cs = new_for_config(cfg, qps=0, burst=0)
    assert cs.rate_limiter is not None
    assert cs.rate_limiter.qps() == DEFAULT_QPS
    assert new_for_config(cfg, qps=-1).rate_limiter is None
    assert DEFAULT_BURST == 10


def test_token_bucket_throttling_with_fake_clock() -> None:
    clock = FakeClock()
    cs, pool = recording_clientset(qps=1.0, clock=clock)
    for _ in range(3):
        pool.answer(200, raw_pod())
    pods = cs.core_v1().pods("ns")
    pods.get("pod-a")
    pods.get("pod-a")
    assert len(pool.requests) == 2

    done = threading.Event()

    def third() -> None:
        pods.get("pod-a")
        done.set()

    t = threading.Thread(target=third, daemon=True)
    t.start()
    assert clock.wait_for_waiters(1)
    assert len(pool.requests) == 2
    clock.step(0.5)
    assert not done.is_set()
    assert len(pool.requests) == 2
    clock.step(0.5)
    assert done.wait(5)
    t.join(5)
    assert len(pool.requests) == 3


# --- a real socket: stop() unblocks a watch -----------------------------------------


class _WatchHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    release = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        line = json.dumps({"type": "ADDED", "object": raw_pod("streamed")}).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        self.wfile.flush()
        # Hold the stream open, as the API server does, until the test ends.
        self.release.wait(10)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def watch_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WatchHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _WatchHandler.release.set()
        server.shutdown()
        server.server_close()


def test_watch_stop_closes_the_stream(watch_server: str) -> None:
    cs = new_for_config(k8s.Configuration(host=watch_server), qps=-1)
    w = cs.core_v1().pods("ns").watch(ListOptions())
    received: list[str] = []
    got_first = threading.Event()
    finished = threading.Event()

    def consume() -> None:
        for event in w:
            assert isinstance(event.object, k8s.V1Pod)
            assert event.object.metadata is not None
            received.append(event.object.metadata.name or "")
            got_first.set()
        finished.set()

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    assert got_first.wait(5)
    assert received == ["streamed"]
    assert not finished.is_set()
    w.stop()
    assert finished.wait(5)
    t.join(5)


def test_connection_refused_maps_to_api_connection_refused() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = k8s.Configuration(host=f"http://127.0.0.1:{port}")
    cfg.retries = False
    cs = new_for_config(cfg, qps=-1)
    with pytest.raises(errors.APIConnectionRefusedError):
        cs.core_v1().pods("ns").get("a")


# --- configuration -----------------------------------------------------------------

_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://10.1.2.3:6443", insecure-skip-tls-verify: true}
- name: c2
  cluster: {server: "https://10.9.9.9:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: abc}
contexts:
- name: one
  context: {cluster: c1, user: u}
- name: two
  context: {cluster: c2, user: u}
current-context: one
"""


def test_load_configuration(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config"
    path.write_text(_KUBECONFIG)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    cfg = load_configuration(str(path), None, None)
    assert cfg.host == "https://10.1.2.3:6443"
    assert load_configuration(str(path), None, "two").host == "https://10.9.9.9:6443"
    assert load_configuration(str(path), "https://master:6443", None).host == "https://master:6443"

    monkeypatch.setenv("KUBECONFIG", str(path))
    assert load_configuration(None, None, "two").host == "https://10.9.9.9:6443"


def test_load_configuration_errors(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no such file"):
        load_configuration(str(tmp_path / "missing"), None, None)
    path = tmp_path / "config"
    path.write_text(_KUBECONFIG)
    with pytest.raises(ConfigError) as info:
        load_configuration(str(path), None, "nope")
    assert "\n" not in str(info.value)
    bad = tmp_path / "bad"
    bad.write_text("{{{ not yaml")
    with pytest.raises(ConfigError):
        load_configuration(str(bad), None, None)
    with pytest.raises(ConfigError, match="no configuration"):
        load_configuration(None, None, None)
    assert load_configuration(None, "http://127.0.0.1:8080", None).host == "http://127.0.0.1:8080"


def test_clientset_implements_interface() -> None:
    from jobctl.client.interface import Interface

    cs: Interface = new_for_config(k8s.Configuration(host="https://127.0.0.1:6443"), qps=-1)
    assert cs.core_v1().pods("ns") is not None
    assert cs.core_v1().events("") is not None
    assert cs.batch_v1().jobs("ns") is not None
    assert cs.coordination_v1().leases("kube-system") is not None


def test_watch_stopped_before_reading_yields_nothing() -> None:
    cs, pool = recording_clientset()
    pool.answer(200, json.dumps({"type": "ADDED", "object": raw_pod()}).encode() + b"\n")
    w = cs.core_v1().pods("ns").watch()
    w.stop()
    assert list(w) == []
