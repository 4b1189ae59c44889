"""The transport's direct route to the connection pool sends what the pool manager sends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3
from kubernetes import client as k8s
from urllib3.util.url import parse_url

from jobctl.client.interface import ListOptions
from jobctl.client.real import Clientset, new_for_config
from jobctl.client.transport import _case_merged
from tests.client.test_real import raw_pod


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, list[tuple[str, str]], bytes]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, list(self.headers.items()), body))
        if "?" in self.path:
            out = json.dumps({"metadata": {"resourceVersion": "1"}, "items": []}).encode()
        else:
            out = json.dumps(raw_pod("answer")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PATCH = do_PUT = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, str, list[tuple[str, str]], bytes]]]]:
    seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def _clientset(base: str) -> Clientset:
    return new_for_config(k8s.Configuration(host=base), qps=-1, user_agent="jobctl-test")


def _exercise(cs: Clientset) -> list[str]:
    """Send a few requests; return the URLs the pool manager would have been given."""
    pods = cs.core_v1().pods("ns")
    pods.get("pod-a")
    pods.list(ListOptions(label_selector="a in (b,c)", resource_version="0"))
    pods.patch("we ird%name", {"metadata": {"labels": {"x": "y"}}})
    pods.create(k8s.V1Pod.model_validate(raw_pod("new")))
    base = str(cs.api_client.configuration.host)
    return [
        f"{base}/api/v1/namespaces/ns/pods/pod-a",
        f"{base}/api/v1/namespaces/ns/pods?labelSelector=a+in+%28b%2Cc%29&resourceVersion=0",
        f"{base}/api/v1/namespaces/ns/pods/we%20ird%25name",
        f"{base}/api/v1/namespaces/ns/pods",
    ]


@pytest.mark.parametrize("suffix", ["", "/prefix", "/prefix/"])
def test_direct_route_sends_the_request_uri_the_pool_manager_would(
    server: tuple[str, list[Any]], suffix: str
) -> None:
    base, seen = server
    cs = _clientset(base + suffix)
    urls = _exercise(cs)
    assert cs.transport._direct is not None
    assert [path for _, path, _, _ in seen] == [parse_url(u).request_uri for u in urls]
    assert [method for method, _, _, _ in seen] == ["GET", "GET", "PATCH", "POST"]
    for _, _, headers, _ in seen:
        names = [name.lower() for name, _ in headers]
        assert names.count("accept") == 1
        assert dict((k.lower(), v) for k, v in headers)["user-agent"] == "jobctl-test"
    assert json.loads(seen[2][3]) == {"metadata": {"labels": {"x": "y"}}}
    assert dict((k.lower(), v) for k, v in seen[3][2])["content-type"] == "application/json"


def test_manager_path_and_direct_route_send_the_same(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    direct = _clientset(base)
    _exercise(direct)
    by_route = list(seen)
    seen.clear()
    via_manager = _clientset(base)
    # Anything but a plain PoolManager (a proxy manager, a stand-in) keeps the
    # manager's own path: the reference for what goes on the wire.
    manager = urllib3.PoolManager()
    via_manager.api_client.rest_client.pool_manager = _NotAPlainManager(manager)
    _exercise(via_manager)
    assert via_manager.transport._direct is None
    assert [(m, p, b) for m, p, _, b in seen] == [(m, p, b) for m, p, _, b in by_route]
    for (_, _, ours, _), (_, _, theirs, _) in zip(by_route, seen, strict=True):
        assert sorted((k.lower(), v) for k, v in ours) == sorted((k.lower(), v) for k, v in theirs)


class _NotAPlainManager:
    """A stand-in for the pool manager (as tests and proxies are): delegates request()."""

    def __init__(self, manager: urllib3.PoolManager) -> None:
        self._manager = manager

    def request(self, *args: Any, **kwargs: Any) -> Any:
        return self._manager.request(*args, **kwargs)


def test_direct_route_survives_a_cleared_pool_manager(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    cs = _clientset(base)
    cs.core_v1().pods("ns").get("pod-a")
    first = cs.transport._direct
    assert first is not None
    cs.api_client.rest_client.pool_manager.clear()
    cs.core_v1().pods("ns").get("pod-a")
    assert cs.transport._direct is not None and cs.transport._direct is not first
    assert len(seen) == 2


def test_dot_segments_keep_the_pool_manager_normalisation(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    cs = _clientset(base)
    cs.core_v1().pods("ns").get("..")
    assert seen[-1][1] == parse_url(f"{base}/api/v1/namespaces/ns/pods/..").request_uri


def test_headers_differing_in_case_are_merged_as_the_pool_manager_merges_them() -> None:
    plain = {"Accept": "application/json", "User-Agent": "u"}
    assert _case_merged(plain) is plain
    clashing = {"accept": "text/plain", "Accept": "application/json"}
    merged = _case_merged(clashing)
    assert dict(merged.items()) == dict(urllib3.HTTPHeaderDict(clashing).items())
    assert list(merged.keys()) == ["accept"]
