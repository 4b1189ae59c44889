"""The clientset's request path: bodies, credentials, paths and error answers."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from kubernetes import client as k8s

from jobctl.client import errors
from jobctl.client.decode import decode_object
from jobctl.client.interface import ListOptions
from jobctl.client.transport import (
    AUTH_REFRESH_INTERVAL,
    Transport,
    resource_path,
    status_error_from_response,
)
from jobctl.k8s_libs.clock import FakeClock
from tests.client.test_real import raw_pod, recording_clientset


def _times_as_datetimes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _times_as_datetimes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times_as_datetimes(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and "T" in value:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def test_encode_matches_the_official_serializer_up_to_the_time_format() -> None:
    raw = raw_pod()
    raw["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z"
    raw["status"] = {"phase": "Running", "startTime": "2026-01-02T03:04:06Z"}
    pod = decode_object(k8s.V1Pod, raw)
    transport = Transport(k8s.ApiClient(k8s.Configuration(host="https://h")))
    ours = json.loads(transport.encode(pod))
    official = transport.api_client.sanitize_for_serialization(pod)
    assert _times_as_datetimes(ours) == _times_as_datetimes(official)
    assert ours["metadata"]["creationTimestamp"] == "2026-01-02T03:04:05Z"
    assert json.loads(transport.encode({"a": [1, None]})) == {"a": [1, None]}


def test_requests_carry_the_bearer_token_refreshed_once_per_interval() -> None:
    clock = FakeClock()
    cs, pool = recording_clientset(clock=clock)
    cfg = cs.api_client.configuration
    tokens = iter(["first", "second"])

    def refresh(c: k8s.Configuration) -> None:
        c.api_key["BearerToken"] = next(tokens)

    cfg.api_key["BearerToken"] = "loaded"
    cfg.api_key_prefix["BearerToken"] = "Bearer"
    cfg.refresh_api_key_hook = refresh
    for step in (0.0, AUTH_REFRESH_INTERVAL / 2, AUTH_REFRESH_INTERVAL / 2):
        clock.step(step)
        pool.answer(200, raw_pod())
        cs.core_v1().pods("ns").get("pod-a")
    assert [r.headers["authorization"] for r in pool.requests] == [
        "Bearer first",
        "Bearer first",
        "Bearer second",
    ]
    assert all(r.headers["Accept"] == "application/json" for r in pool.requests)
    assert "Content-Type" not in pool.requests[0].headers


def test_paths_and_list_query() -> None:
    assert resource_path("/api/v1", "pods") == "/api/v1/pods"
    assert resource_path("/apis/batch/v1", "jobs", "ns", "j", "status") == (
        "/apis/batch/v1/namespaces/ns/jobs/j/status"
    )
    assert resource_path("/api/v1", "pods", "ns", "a/b") == "/api/v1/namespaces/ns/pods/a%2Fb"
    cs, pool = recording_clientset()
    pool.answer(200, {"metadata": {"resourceVersion": "3"}, "items": []})
    cs.batch_v1().jobs("ns").list(
        ListOptions(resource_version="0", resource_version_match="NotOlderThan")
    )
    assert pool.requests[-1].url == (
        "https://127.0.0.1:6443/apis/batch/v1/namespaces/ns/jobs"
        "?resourceVersion=0&resourceVersionMatch=NotOlderThan"
    )


def test_an_empty_name_is_refused_before_sending() -> None:
    cs, pool = recording_clientset()
    with pytest.raises(errors.RequestConstructionError):
        cs.core_v1().pods("ns").get("")
    with pytest.raises(errors.RequestConstructionError):
        cs.core_v1().pods("ns").patch("", b"{}")
    assert pool.requests == []


@pytest.mark.parametrize(
    ("code", "body", "headers", "reason", "retry_after"),
    [
        (
            409,
            {"kind": "Status", "code": 409, "reason": "Conflict", "message": "m"},
            {},
            "Conflict",
            None,
        ),
        (429, b"slow down", {"Retry-After": "3"}, "TooManyRequests", 3),
        (500, b"", {}, "InternalError", None),
    ],
    ids=["status-body", "plain-text-with-retry-after", "empty"],
)
def test_status_error_from_response(
    code: int, body: Any, headers: dict[str, str], reason: str, retry_after: int | None
) -> None:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    err = status_error_from_response(code, data, headers)
    assert err.code == code
    assert err.reason == reason
    assert err.retry_after_seconds == retry_after
