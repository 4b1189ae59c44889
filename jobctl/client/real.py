"""The real clientset, over the official ``kubernetes`` client.

Shaped like client-go's typed clientset (k8s.io/client-go/kubernetes) for the four
resources jobctl uses (pods, core/v1 events, jobs, leases):

* every request first takes a token from one client-side token bucket per clientset,
  as client-go's rest client does (``Request.tryThrottle``; rest/config.go defaults);
* requests go through the official client's connection pool and credentials by path
  (``jobctl.client.transport`` says why not through the generated API methods), and the
  raw JSON is decoded by ``jobctl.client.decode`` (``Model.model_validate``, tolerant of
  fields a newer server sends), with an optional raw transform for list and watch;
* watches stream the chunked ``watch=true`` response line by line; ``stop()`` shuts the
  socket down so a blocked reader wakes at once;
* non-2xx answers raise ``StatusError`` built from the returned metav1.Status;
  transport failures raise ``APIConnectionError`` (``APIConnectionRefusedError`` when
  the TCP connection was refused), which are not ``StatusError``s.

``load_configuration`` resolves a ``kubernetes.client.Configuration`` the way the
kube-controller-manager flags do (``--kubeconfig``, ``--master``, a context name).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException, ApiTypeError, ApiValueError
from kubernetes.config import ConfigException, load_incluster_config, load_kube_config
from kubernetes.utils.keepalive import tcp_keepalive_socket_options
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import BaseModel, ValidationError

from jobctl.client import jsoncodec
from jobctl.client import metrics as client_metrics
from jobctl.client.deadline import DeadlineExceededError, current_deadline
from jobctl.client.decode import (
    DecodeError,
    decode_list,
    decode_object,
    decode_watch_event,
    drop_managed_fields,
    prune_pod_for_job_controller,
)
from jobctl.client.errors import (
    APIConnectionError,
    APIConnectionRefusedError,
    RequestConstructionError,
    StatusError,
)
from jobctl.client.flowcontrol import RateLimiter, TokenBucketRateLimiter
from jobctl.client.interface import (
    ERROR,
    STRATEGIC_MERGE_PATCH,
    DeleteOptions,
    ListOptions,
    ObjectList,
    RawTransform,
    WatchEvent,
)
from jobctl.client.metrics import observe_rate_limiter_latency, observe_request_latency
from jobctl.client.transport import (
    JSON,
    Timeouts,
    Transport,
    deadline_error,
    drop_idle_connections_of,
    earliest,
    is_timeout,
    read_body,
    resource_path,
    response_socket,
    status_error_from_response,
)
from jobctl.k8s_libs.clock import Clock, RealClock

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_QPS",
    "Clientset",
    "ConfigError",
    "DecodeError",
    "drop_managed_fields",
    "load_configuration",
    "map_exception",
    "new_for_config",
    "prune_pod_for_job_controller",
    "status_error_from_api_exception",
]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# rest/config.go: a QPS or Burst of 0 in the config means these defaults.
DEFAULT_QPS = 5.0
DEFAULT_BURST = 10

_JSON_PATCH = "application/json-patch+json"

# client-go multiplexes every request over one HTTP/2 connection. The official client
# speaks HTTP/1.1 through a urllib3 pool whose default size is 5 x cores; with more
# threads calling at once (the controller's workers plus its pod fan-out), urllib3 opens
# a fresh TLS connection for each extra caller and throws it away afterwards, which costs
# both sides a handshake per request. Keep enough idle connections for every caller.
CONNECTION_POOL_MAXSIZE = 100


class ConfigError(Exception):
    """The client configuration cannot be loaded (bad kubeconfig, unknown context...)."""


# --- error mapping ---------------------------------------------------------------


def status_error_from_api_exception(err: ApiException) -> StatusError:
    """Build a StatusError from the official client's ApiException for a non-2xx answer."""
    headers = err.headers if hasattr(err.headers, "get") else None
    return status_error_from_response(int(err.status or 0), err.body, headers)


def _is_refused(err: BaseException) -> bool:
    seen: set[int] = set()
    stack: list[BaseException] = [err]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return True
        for nxt in (cur.__cause__, cur.__context__, getattr(cur, "reason", None)):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
    return False


def map_exception(err: BaseException) -> BaseException:
    """Translate an exception of the official client / urllib3 into jobctl's errors.

    ``ApiException`` with an HTTP status -> ``StatusError``; an ``ApiException`` without
    one (the client could not build or send the request) and argument validation errors
    -> ``RequestConstructionError``; urllib3 and socket failures -> ``APIConnectionError``
    or, for ECONNREFUSED, ``APIConnectionRefusedError``. Anything else is returned as is.
    """
    if isinstance(err, ApiException):
        if err.status:
            return status_error_from_api_exception(err)
        reason = str(err.reason or "")
        if "SSLError" in reason:
            return APIConnectionError(reason.replace("\n", ": "))
        return RequestConstructionError(reason.strip() or "cannot build the request")
    if isinstance(err, (ValidationError, ApiTypeError, ApiValueError)):
        return RequestConstructionError(str(err))
    if isinstance(err, urllib3.exceptions.SSLError):
        return APIConnectionError(f"SSLError: {err}".replace("\n", ": "))
    if isinstance(err, (urllib3.exceptions.HTTPError, OSError)):
        if _is_refused(err):
            return APIConnectionRefusedError(f"connection refused: {err}")
        return APIConnectionError(str(err))
    return err


@contextlib.contextmanager
def client_errors() -> Iterator[None]:
    """Raise what the block raises as jobctl's errors (``map_exception``); the client's own
    ``StatusError`` and ``DeadlineExceededError`` pass through unchanged."""
    try:
        yield
    except (StatusError, DeadlineExceededError):
        raise
    except Exception as err:
        mapped = map_exception(err)
        if mapped is err:
            raise
        raise mapped from err


# --- resources ---------------------------------------------------------------------


@dataclass(frozen=True)
class _ResourceSpec:
    """Where one resource lives in the API (group/version prefix and plural name)."""

    resource: str
    prefix: str


_PODS = _ResourceSpec("pods", "/api/v1")
_EVENTS = _ResourceSpec("events", "/api/v1")
_JOBS = _ResourceSpec("jobs", "/apis/batch/v1")
_LEASES = _ResourceSpec("leases", "/apis/coordination.k8s.io/v1")


class _ResourceClient(Generic[M]):
    """One namespaced resource: CRUD, patch, list and watch (client-go's typed client)."""

    def __init__(
        self, clientset: Clientset, spec: _ResourceSpec, model: type[M], namespace: str
    ) -> None:
        self._cs = clientset
        self._spec = spec
        self._model = model
        self._ns = namespace

    def _do(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        content_type: str = JSON,
        timeout: float | None = None,
    ) -> bytes:
        """Port of Request.request for a non-watch call: throttle, send, read the body.

        ``timeout`` is Request.Timeout (a client-side deadline from now). The whole call,
        rate limiter wait included, is observed in rest_client_request_duration_seconds.
        """
        cs = self._cs
        start = time.monotonic()
        deadline = current_deadline()
        if timeout is not None:
            deadline = earliest(deadline, start + timeout)
        try:
            with client_errors():
                cs.throttle(method, deadline)
                resp = cs.transport.request(
                    method, path, query or (), body, content_type, deadline=deadline
                )
                return read_body(resp, deadline, cs.transport.timeouts.read_idle)
        finally:
            observe_request_latency(method, cs.transport.host, time.monotonic() - start)

    def _path(self, namespace: str, name: str = "", subresource: str = "") -> str:
        return resource_path(self._spec.prefix, self._spec.resource, namespace, name, subresource)

    def _decode(self, body: bytes) -> M:
        try:
            raw = jsoncodec.loads(body)
        except ValueError as err:
            raise DecodeError(f"{self._spec.resource}: cannot decode the response: {err}") from err
        if not isinstance(raw, dict):
            raise DecodeError(f"{self._spec.resource}: response is not a JSON object")
        return decode_object(self._model, raw)

    def _namespace_for(self, obj: BaseModel) -> str:
        if self._ns:
            return self._ns
        meta = getattr(obj, "metadata", None)
        return str(getattr(meta, "namespace", None) or "")

    def _encode(self, obj: Any) -> bytes:
        try:
            return self._cs.transport.encode(obj)
        except (TypeError, ValueError) as err:
            raise RequestConstructionError(f"cannot encode the request body: {err}") from err

    def create(self, obj: M) -> M:
        """Port of the typed client's Create."""
        path = self._path(self._namespace_for(obj))
        return self._decode(self._do("POST", path, body=self._encode(obj)))

    def get(self, name: str) -> M:
        """Port of the typed client's Get."""
        return self._decode(self._do("GET", self._path(self._ns, _checked_name(name))))

    def update(self, obj: M) -> M:
        """Port of the typed client's Update."""
        path = self._path(self._namespace_for(obj), _name_of(obj))
        return self._decode(self._do("PUT", path, body=self._encode(obj)))

    def _update_status(self, obj: M) -> M:
        path = self._path(self._namespace_for(obj), _name_of(obj), "status")
        return self._decode(self._do("PUT", path, body=self._encode(obj)))

    def delete(self, name: str, options: DeleteOptions | None = None) -> None:
        """Port of the typed client's Delete (preconditions and propagation go in the body)."""
        body = _delete_options_body(options)
        path = self._path(self._ns, _checked_name(name))
        self._do("DELETE", path, body=None if body is None else self._encode(body))

    def patch(
        self,
        name: str,
        patch: bytes | dict[str, Any] | list[Any],
        patch_type: str = STRATEGIC_MERGE_PATCH,
    ) -> M:
        """Port of the typed client's Patch; the request carries ``patch_type`` as its type."""
        if isinstance(patch, (bytes, str)):
            data = patch.encode() if isinstance(patch, str) else patch
            body: Any = jsoncodec.loads(data)
        else:
            body = patch
            data = jsoncodec.dumps(patch)
        if patch_type == _JSON_PATCH and not isinstance(body, list):
            raise RequestConstructionError("a JSON patch must be a list of operations")
        if patch_type != _JSON_PATCH and not isinstance(body, dict):
            raise RequestConstructionError(f"a {patch_type} patch must be a JSON object")
        path = self._path(self._ns, _checked_name(name))
        return self._decode(self._do("PATCH", path, body=data, content_type=patch_type))

    def list(
        self, options: ListOptions | None = None, *, transform: RawTransform | None = None
    ) -> ObjectList[M]:
        """Port of the typed client's List: one page (``limit``/``continue_``) per call.

        ``timeout_seconds`` also bounds the call client-side (Request.Timeout). A list
        with any item that cannot be decoded raises ``DecodeError`` as a whole.
        """
        options = options or ListOptions()
        body = self._do(
            "GET",
            self._path(self._ns),
            _list_query(options, watch=False),
            timeout=None if options.timeout_seconds is None else float(options.timeout_seconds),
        )
        return decode_list(self._model, body, transform)

    def watch(
        self, options: ListOptions | None = None, *, transform: RawTransform | None = None
    ) -> StreamWatcher[M]:
        """Port of the typed client's Watch: a stream of WatchEvents until stopped or closed.

        As in client-go, watches are not rate limited. Reads are bounded by the watch
        idle timeout; with ``timeout_seconds`` the stream also has a client-side deadline
        a margin after the server should have ended it; the caller's ``request_deadline``
        bounds both the request and the stream.
        """
        options = options or ListOptions()
        transport = self._cs.transport
        caller_deadline = current_deadline()
        server_deadline = None
        if options.timeout_seconds is not None:
            server_deadline = (
                time.monotonic()
                + options.timeout_seconds
                + transport.timeouts.watch_deadline_margin
            )
        with client_errors():
            resp = transport.request(
                "GET",
                self._path(self._ns),
                _list_query(options, watch=True),
                deadline=earliest(caller_deadline, server_deadline),
                watch=True,
            )
        return StreamWatcher(
            resp,
            self._model,
            transform,
            idle=transport.timeouts.watch_idle,
            caller_deadline=caller_deadline,
            server_deadline=server_deadline,
        )


class _PodClient(_ResourceClient[k8s.V1Pod]):
    def update_status(self, pod: k8s.V1Pod) -> k8s.V1Pod:
        """Port of PodInterface.UpdateStatus (PUT pods/{name}/status)."""
        return self._update_status(pod)


class _JobClient(_ResourceClient[k8s.V1Job]):
    def update_status(self, job: k8s.V1Job) -> k8s.V1Job:
        """Port of JobInterface.UpdateStatus (PUT jobs/{name}/status)."""
        return self._update_status(job)


def _checked_name(name: str) -> str:
    if not name:
        raise RequestConstructionError("resource name may not be empty")
    return name


def _name_of(obj: BaseModel) -> str:
    meta = getattr(obj, "metadata", None)
    return _checked_name(str(getattr(meta, "name", None) or ""))


def _delete_options_body(options: DeleteOptions | None) -> dict[str, Any] | None:
    if options is None:
        return None
    raw: dict[str, Any] = dict(options.extra)
    if options.grace_period_seconds is not None:
        raw["gracePeriodSeconds"] = options.grace_period_seconds
    if options.propagation_policy is not None:
        raw["propagationPolicy"] = options.propagation_policy
    preconditions: dict[str, Any] = {}
    if options.uid_precondition is not None:
        preconditions["uid"] = options.uid_precondition
    if options.resource_version_precondition is not None:
        preconditions["resourceVersion"] = options.resource_version_precondition
    if preconditions:
        raw["preconditions"] = preconditions
    if not raw:
        return None
    return raw


def _list_query(options: ListOptions, watch: bool) -> list[tuple[str, str]]:
    """Port of metav1.ListOptions' query encoding for the fields list and watch use."""
    query: list[tuple[str, str]] = []
    if options.label_selector:
        query.append(("labelSelector", options.label_selector))
    if options.field_selector:
        query.append(("fieldSelector", options.field_selector))
    if options.resource_version:
        query.append(("resourceVersion", options.resource_version))
    if options.resource_version_match:
        query.append(("resourceVersionMatch", options.resource_version_match))
    if options.timeout_seconds is not None:
        query.append(("timeoutSeconds", str(options.timeout_seconds)))
    if watch:
        query.append(("watch", "true"))
        if options.allow_watch_bookmarks:
            query.append(("allowWatchBookmarks", "true"))
        if options.send_initial_events is not None:
            query.append(("sendInitialEvents", "true" if options.send_initial_events else "false"))
    else:
        if options.limit:
            query.append(("limit", str(options.limit)))
        if options.continue_:
            query.append(("continue", options.continue_))
    return query


# --- watch -------------------------------------------------------------------------


def iter_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Split a stream of byte chunks into lines (without the newline)."""
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        pending += chunk
        if b"\n" not in chunk:
            continue
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


class StreamWatcher(Generic[M]):
    """Port of watch.StreamWatcher over a chunked ``watch=true`` response.

    Iterate for the events (the ResultChan). The iteration ends when the server closes
    the stream (e.g. after ``timeoutSeconds``), when the connection drops, when the
    caller's deadline passes, or after ``stop()``; these end it quietly, as a probable
    EOF or a context deadline does in client-go, and the reflector watches again.

    It ends with one ERROR event (a 500 Status, "unable to decode an event from the
    watch stream: ...", as client-go's ClientErrorReporter builds it) when an event
    cannot be decoded (nothing is skipped), when nothing was read for ``idle`` seconds
    (what client-go's HTTP/2 health check reports as a lost connection), when the
    server did not end the watch by ``server_deadline``, or on any other read failure.
    """

    def __init__(
        self,
        resp: urllib3.BaseHTTPResponse,
        model: type[M],
        transform: RawTransform | None = None,
        *,
        idle: float | None = None,
        caller_deadline: float | None = None,
        server_deadline: float | None = None,
    ) -> None:
        self._resp = resp
        self._model = model
        self._transform = transform
        self._idle = idle
        self._caller_deadline = caller_deadline
        self._server_deadline = server_deadline
        self._lock = threading.Lock()
        self._stopped = False
        self._iterating = False

    def stop(self) -> None:
        """Port of StreamWatcher.Stop: close the connection; iteration ends promptly."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            iterating = self._iterating
        if not iterating:
            # Nobody reads the stream: release it here.
            self._resp.close()
            self._resp.release_conn()
            return
        sock = response_socket(self._resp)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def is_stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def _chunks(self) -> Iterator[bytes]:
        """The body's chunks; before each read the socket timeout is cut to the nearest
        deadline when that is nearer than the idle bound."""
        chunks = self._resp.stream(amt=None, decode_content=True)
        deadline = earliest(self._caller_deadline, self._server_deadline)
        sock = response_socket(self._resp) if deadline is not None else None
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _WatchDeadlineError
                if sock is not None and (self._idle is None or left < self._idle):
                    sock.settimeout(left)
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            yield chunk

    def __iter__(self) -> Iterator[WatchEvent]:
        with self._lock:
            if self._stopped or self._iterating:
                return
            self._iterating = True
        try:
            for line in iter_lines(self._chunks()):
                if self.is_stopped():
                    return
                event = decode_watch_event(self._model, line, self._transform)
                if event is not None:
                    yield event
        except DecodeError as err:
            if not self.is_stopped():
                yield _watch_error_event(str(err))
        except (urllib3.exceptions.HTTPError, OSError, ValueError, _WatchDeadlineError) as err:
            if self.is_stopped():
                logger.debug("watch stream closed: %s", err)
                return
            if isinstance(err, _WatchDeadlineError) or is_timeout(err):
                if deadline_error(None, self._caller_deadline):
                    logger.debug("watch stream ended at the caller's deadline")
                    return
                if deadline_error(None, self._server_deadline):
                    yield _watch_error_event("the server did not end the watch in time")
                    return
                drop_idle_connections_of(self._resp)
                yield _watch_error_event(f"no data for {self._idle}s: {err}")
                return
            if _is_probable_eof(err):
                logger.debug("watch stream closed: %s", err)
                return
            yield _watch_error_event(str(err))
        finally:
            with self._lock:
                self._stopped = True
            self._resp.close()
            self._resp.release_conn()


class _WatchDeadlineError(Exception):
    """A watch stream reached one of its deadlines between two reads."""


def _watch_error_event(cause: str) -> WatchEvent:
    """The ERROR event client-go's StreamWatcher sends when it cannot read the stream.

    Port of ClientErrorReporter.AsObject over NewGenericServerResponse(500, ...).
    """
    message = f"unable to decode an event from the watch stream: {cause}"
    return WatchEvent(
        ERROR,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "code": 500,
            "reason": "InternalError",
            "message": (
                f"an error on the server ({json.dumps(message)}) has prevented the request "
                "from succeeding"
            ),
            "details": {
                "causes": [
                    {"type": "UnexpectedServerResponse", "message": message},
                    {"type": "ClientWatchDecoding", "message": message},
                ]
            },
        },
    )


def _is_probable_eof(err: BaseException) -> bool:
    """Port of utilnet.IsProbableEOF: a connection that just ended."""
    if isinstance(
        err,
        (
            urllib3.exceptions.ProtocolError,
            ConnectionResetError,
            BrokenPipeError,
        ),
    ):
        return True
    text = str(err).lower()
    return any(
        s in text
        for s in (
            "connection reset",
            "broken pipe",
            "use of closed",
            "connection was refused",
            "incomplete",
            "unexpected eof",
        )
    )


# --- the clientset -----------------------------------------------------------------


class CoreV1Client:
    """Port of typed CoreV1Client (pods, events)."""

    def __init__(self, clientset: Clientset) -> None:
        self._cs = clientset

    def pods(self, namespace: str) -> _PodClient:
        return _PodClient(self._cs, _PODS, k8s.V1Pod, namespace)

    def events(self, namespace: str) -> _ResourceClient[k8s.CoreV1Event]:
        return _ResourceClient(self._cs, _EVENTS, k8s.CoreV1Event, namespace)


class BatchV1Client:
    """Port of typed BatchV1Client (jobs)."""

    def __init__(self, clientset: Clientset) -> None:
        self._cs = clientset

    def jobs(self, namespace: str) -> _JobClient:
        return _JobClient(self._cs, _JOBS, k8s.V1Job, namespace)


class CoordinationV1Client:
    """Port of typed CoordinationV1Client (leases)."""

    def __init__(self, clientset: Clientset) -> None:
        self._cs = clientset

    def leases(self, namespace: str) -> _ResourceClient[k8s.V1Lease]:
        return _ResourceClient(self._cs, _LEASES, k8s.V1Lease, namespace)


class Clientset:
    """Port of kubernetes.Clientset for the groups jobctl uses; see ``new_for_config``."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        rate_limiter: RateLimiter | None,
        clock: Clock | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.api_client = api_client
        self.transport = Transport(api_client, clock, timeouts)
        self.rate_limiter = rate_limiter
        self._core = CoreV1Client(self)
        self._batch = BatchV1Client(self)
        self._coordination = CoordinationV1Client(self)

    def throttle(self, verb: str = "GET", deadline: float | None = None) -> None:
        """Port of Request.tryThrottle: wait for a token (no-op when unlimited).

        Never waits past ``deadline`` (``time.monotonic()`` clock; DeadlineExceededError
        when the token would come later). The wait is observed in
        rest_client_rate_limiter_duration_seconds.
        """
        if self.rate_limiter is None:
            return
        start = time.monotonic()
        try:
            self.rate_limiter.wait(deadline)
        finally:
            observe_rate_limiter_latency(verb, self.transport.host, time.monotonic() - start)

    def core_v1(self) -> CoreV1Client:
        return self._core

    def batch_v1(self) -> BatchV1Client:
        return self._batch

    def coordination_v1(self) -> CoordinationV1Client:
        return self._coordination

    def close(self) -> None:
        """Release the connection pool."""
        self.api_client.close()


def new_for_config(
    configuration: k8s.Configuration,
    qps: float = 20.0,
    burst: int = 30,
    user_agent: str | None = None,
    clock: Clock | None = None,
    timeouts: Timeouts | None = None,
    registry: CollectorRegistry | None = None,
) -> Clientset:
    """Port of kubernetes.NewForConfig plus rest.RESTClientFor's rate limiter choice.

    As in client-go: ``qps == 0`` means DEFAULT_QPS (5) and ``burst == 0`` DEFAULT_BURST
    (10); a negative ``qps`` means no client-side limit at all. The defaults of this
    function (20/30) are kube-controller-manager's ``--kube-api-qps``/``--kube-api-burst``.

    Every socket gets client-go's TCP keepalive (30 s idle, then Go's 15 s probes, 9 of
    them) unless the configuration sets its own socket options; ``timeouts`` bound each
    request (``jobctl.client.transport.Timeouts``). The REST client metrics are
    registered on ``registry`` (the global registry by default), as client-go's first
    rest client registers them (``metrics.EnsureRegistered``).
    """
    if qps == 0:
        qps = DEFAULT_QPS
    if burst == 0:
        burst = DEFAULT_BURST
    limiter: RateLimiter | None = None
    clock = clock or RealClock()
    if qps > 0:
        limiter = TokenBucketRateLimiter(qps, burst, clock)
    if (configuration.connection_pool_maxsize or 0) < CONNECTION_POOL_MAXSIZE:
        configuration.connection_pool_maxsize = CONNECTION_POOL_MAXSIZE
    if configuration.socket_options is None:
        configuration.socket_options = tcp_keepalive_socket_options()
    client_metrics.register(registry if registry is not None else REGISTRY)
    api_client = k8s.ApiClient(configuration)
    if user_agent:
        api_client.user_agent = user_agent
    return Clientset(api_client, limiter, clock, timeouts)


# --- configuration -----------------------------------------------------------------


def _one_line(err: BaseException) -> str:
    return re.sub(r"\s+", " ", str(err)).strip()


def load_configuration(
    kubeconfig: str | None = None,
    master: str | None = None,
    context: str | None = None,
) -> k8s.Configuration:
    """Resolve the client configuration (client-go's BuildConfigFromFlags, kubectl order).

    An explicit ``kubeconfig`` path wins, then the KUBECONFIG environment variable (a
    list of files is merged), then the in-cluster service account, then
    ``~/.kube/config``. ``master`` overrides the server URL; with only ``master`` and no
    kubeconfig to be found, the configuration is just that URL. Failures raise
    ``ConfigError`` with a one-line message.
    """
    cfg = k8s.Configuration()
    sources: list[Callable[[], None]] = []

    def from_file(path: str) -> Callable[[], None]:
        def load() -> None:
            paths = [os.path.expanduser(p) for p in path.split(os.pathsep) if p]
            if not any(os.path.isfile(p) for p in paths):
                raise ConfigError(f"kubeconfig {path}: no such file")
            try:
                load_kube_config(
                    config_file=os.pathsep.join(paths),
                    context=context or None,
                    client_configuration=cfg,
                    persist_config=False,
                )
            except ConfigError:
                raise
            except (ConfigException, OSError, ValueError, TypeError, KeyError) as err:
                raise ConfigError(f"kubeconfig {path}: {_one_line(err)}") from err
            except Exception as err:  # yaml errors and the like
                raise ConfigError(f"kubeconfig {path}: {_one_line(err)}") from err

        return load

    if kubeconfig:
        sources.append(from_file(kubeconfig))
    elif os.environ.get("KUBECONFIG"):
        sources.append(from_file(os.environ["KUBECONFIG"]))
    else:
        home_config = os.path.expanduser("~/.kube/config")
        if os.environ.get("KUBERNETES_SERVICE_HOST") and not master:

            def in_cluster() -> None:
                try:
                    load_incluster_config(client_configuration=cfg)
                except ConfigException as err:
                    raise ConfigError(f"in-cluster configuration: {_one_line(err)}") from err

            sources.append(in_cluster)
        if os.path.isfile(home_config):
            sources.append(from_file(home_config))

    errors: list[ConfigError] = []
    for load in sources:
        try:
            load()
            break
        except ConfigError as err:
            errors.append(err)
            if kubeconfig or os.environ.get("KUBECONFIG"):
                raise
    else:
        if not master:
            if errors:
                raise errors[-1]
            raise ConfigError(
                "no configuration: pass --kubeconfig or --master, set KUBECONFIG, "
                "or run in a cluster"
            )
    if master:
        cfg.host = master.rstrip("/")
    return cfg
