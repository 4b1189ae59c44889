"""API errors: port of k8s.io/apimachinery/pkg/api/errors (the predicates jobctl uses).

Every client call, real or fake, raises ``StatusError`` for a non-2xx answer, carrying
the HTTP code, the ``reason`` of the returned metav1.Status and its causes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# metav1.StatusReason values.
REASON_NOT_FOUND = "NotFound"
REASON_ALREADY_EXISTS = "AlreadyExists"
REASON_CONFLICT = "Conflict"
REASON_GONE = "Gone"
REASON_EXPIRED = "Expired"
REASON_INVALID = "Invalid"
REASON_FORBIDDEN = "Forbidden"
REASON_UNAUTHORIZED = "Unauthorized"
REASON_TOO_MANY_REQUESTS = "TooManyRequests"
REASON_INTERNAL_ERROR = "InternalError"
REASON_TIMEOUT = "Timeout"
REASON_SERVER_TIMEOUT = "ServerTimeout"
REASON_BAD_REQUEST = "BadRequest"

REASON_METHOD_NOT_ALLOWED = "MethodNotAllowed"
REASON_NOT_ACCEPTABLE = "NotAcceptable"
REASON_REQUEST_ENTITY_TOO_LARGE = "RequestEntityTooLarge"
REASON_UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
REASON_SERVICE_UNAVAILABLE = "ServiceUnavailable"
REASON_STORE_READ_ERROR = "StorageReadError"

# Port of knownReasons: a reason outside this set lets the predicates match by code.
_KNOWN_REASONS = frozenset(
    {
        REASON_UNAUTHORIZED,
        REASON_FORBIDDEN,
        REASON_NOT_FOUND,
        REASON_ALREADY_EXISTS,
        REASON_CONFLICT,
        REASON_GONE,
        REASON_INVALID,
        REASON_SERVER_TIMEOUT,
        REASON_STORE_READ_ERROR,
        REASON_TIMEOUT,
        REASON_TOO_MANY_REQUESTS,
        REASON_BAD_REQUEST,
        REASON_METHOD_NOT_ALLOWED,
        REASON_NOT_ACCEPTABLE,
        REASON_REQUEST_ENTITY_TOO_LARGE,
        REASON_UNSUPPORTED_MEDIA_TYPE,
        REASON_INTERNAL_ERROR,
        REASON_EXPIRED,
        REASON_SERVICE_UNAVAILABLE,
    }
)

# Cause type sent when creating in a namespace that is being deleted (corev1).
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"

_DEFAULT_REASON_BY_CODE = {
    400: REASON_BAD_REQUEST,
    401: REASON_UNAUTHORIZED,
    403: REASON_FORBIDDEN,
    404: REASON_NOT_FOUND,
    409: REASON_CONFLICT,
    410: REASON_GONE,
    422: REASON_INVALID,
    429: REASON_TOO_MANY_REQUESTS,
    500: REASON_INTERNAL_ERROR,
    504: REASON_TIMEOUT,
}


@dataclass
class StatusError(Exception):
    """Port of errors.StatusError: an API answer that is not a success."""

    code: int
    reason: str = ""
    message: str = ""
    causes: list[dict[str, Any]] = field(default_factory=list)
    retry_after_seconds: int | None = None

    def __post_init__(self) -> None:
        if not self.reason:
            self.reason = _DEFAULT_REASON_BY_CODE.get(self.code, "")
        super().__init__(self.message or self.reason or str(self.code))

    def __str__(self) -> str:
        return self.message or f"{self.reason or 'error'} ({self.code})"

    @classmethod
    def from_status(cls, status: dict[str, Any], code: int | None = None) -> StatusError:
        """Build from a metav1.Status dict (as sent in a body or a watch ERROR event)."""
        details = status.get("details") or {}
        return cls(
            code=int(status.get("code") or code or 500),
            reason=str(status.get("reason") or ""),
            message=str(status.get("message") or ""),
            causes=list(details.get("causes") or []),
            retry_after_seconds=details.get("retryAfterSeconds"),
        )


def new_not_found(resource: str, name: str) -> StatusError:
    """Port of errors.NewNotFound."""
    return StatusError(404, REASON_NOT_FOUND, f'{resource} "{name}" not found')


def new_already_exists(resource: str, name: str) -> StatusError:
    """Port of errors.NewAlreadyExists."""
    return StatusError(409, REASON_ALREADY_EXISTS, f'{resource} "{name}" already exists')


def new_conflict(resource: str, name: str, message: str) -> StatusError:
    """Port of errors.NewConflict."""
    return StatusError(
        409,
        REASON_CONFLICT,
        f'Operation cannot be fulfilled on {resource} "{name}": {message}',
    )


def new_internal_error(message: str) -> StatusError:
    """Port of errors.NewInternalError."""
    return StatusError(500, REASON_INTERNAL_ERROR, f"Internal error occurred: {message}")


def new_resource_expired(message: str) -> StatusError:
    """Port of errors.NewResourceExpired (410 Expired)."""
    return StatusError(410, REASON_EXPIRED, message)


def reason_for_error(err: BaseException | None) -> str:
    """Port of errors.ReasonForError."""
    return err.reason if isinstance(err, StatusError) else ""


def _has(err: BaseException | None, reason: str, code: int) -> bool:
    # As upstream: the reason matches, or the reason is not one apimachinery knows and
    # the HTTP code matches.
    if not isinstance(err, StatusError):
        return False
    if err.reason == reason:
        return True
    return err.reason not in _KNOWN_REASONS and err.code == code


def is_not_found(err: BaseException | None) -> bool:
    return _has(err, REASON_NOT_FOUND, 404)


def is_already_exists(err: BaseException | None) -> bool:
    """Port of errors.IsAlreadyExists: by reason only."""
    return reason_for_error(err) == REASON_ALREADY_EXISTS


def is_conflict(err: BaseException | None) -> bool:
    return _has(err, REASON_CONFLICT, 409)


def is_invalid(err: BaseException | None) -> bool:
    return _has(err, REASON_INVALID, 422)


def is_forbidden(err: BaseException | None) -> bool:
    return _has(err, REASON_FORBIDDEN, 403)


def is_unauthorized(err: BaseException | None) -> bool:
    return _has(err, REASON_UNAUTHORIZED, 401)


def is_gone(err: BaseException | None) -> bool:
    return _has(err, REASON_GONE, 410)


def is_resource_expired(err: BaseException | None) -> bool:
    """Port of errors.IsResourceExpired: by reason only."""
    return reason_for_error(err) == REASON_EXPIRED


def is_too_many_requests(err: BaseException | None) -> bool:
    return isinstance(err, StatusError) and (
        err.reason == REASON_TOO_MANY_REQUESTS or err.code == 429
    )


def is_internal_error(err: BaseException | None) -> bool:
    return _has(err, REASON_INTERNAL_ERROR, 500)


def has_status_cause(err: BaseException | None, cause_type: str) -> bool:
    """Port of errors.HasStatusCause."""
    if not isinstance(err, StatusError):
        return False
    return any(c.get("type") == cause_type or c.get("reason") == cause_type for c in err.causes)


# --- Additions for the client layer (real clientset, event recorder, reflector). ---


class UnexpectedObjectError(Exception):
    """Port of errors.UnexpectedObjectError: the server answered with an unexpected object."""


class RequestConstructionError(Exception):
    """Port of rest.RequestConstructionError: the request could not be built, never retried."""


class APIConnectionError(ConnectionError):
    """A transport failure talking to the API server (no HTTP status was received).

    Not a ``StatusError``: none of the predicates above match it, as with a Go
    ``*url.Error`` from the rest client.
    """


class APIConnectionRefusedError(APIConnectionError, ConnectionRefusedError):
    """The API server refused the TCP connection (the reflector backs off on it)."""


def is_connection_refused(err: BaseException | None) -> bool:
    """Port of utilnet.IsConnectionRefused: is ``err`` (or its cause) ECONNREFUSED?"""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, ConnectionRefusedError):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def new_bad_request(reason: str) -> StatusError:
    """Port of errors.NewBadRequest."""
    return StatusError(400, REASON_BAD_REQUEST, reason)


def new_forbidden(resource: str, name: str, err: BaseException | str) -> StatusError:
    """Port of errors.NewForbidden."""
    if not resource:
        message = f"forbidden: {err}"
    elif not name:
        message = f"{resource} is forbidden: {err}"
    else:
        message = f'{resource} "{name}" is forbidden: {err}'
    return StatusError(403, REASON_FORBIDDEN, message)


def new_unauthorized(reason: str) -> StatusError:
    """Port of errors.NewUnauthorized."""
    return StatusError(401, REASON_UNAUTHORIZED, reason or "not authorized")


def new_server_timeout(resource: str, operation: str, retry_after_seconds: int) -> StatusError:
    """Port of errors.NewServerTimeout (HTTP 500 with reason ServerTimeout)."""
    return StatusError(
        500,
        REASON_SERVER_TIMEOUT,
        f"The {operation} operation against {resource} could not be completed at this time, "
        "please try again.",
        retry_after_seconds=retry_after_seconds,
    )


def new_method_not_supported(resource: str, action: str) -> StatusError:
    """Port of errors.NewMethodNotSupported."""
    return StatusError(
        405,
        REASON_METHOD_NOT_ALLOWED,
        f'{action} is not supported on resources of kind "{resource}"',
    )


def new_too_many_requests(message: str, retry_after_seconds: int) -> StatusError:
    """Port of errors.NewTooManyRequests."""
    return StatusError(
        429, REASON_TOO_MANY_REQUESTS, message, retry_after_seconds=retry_after_seconds
    )


def new_timeout_error(message: str, retry_after_seconds: int) -> StatusError:
    """Port of errors.NewTimeoutError (HTTP 504)."""
    return StatusError(
        504, REASON_TIMEOUT, f"Timeout: {message}", retry_after_seconds=retry_after_seconds
    )


def new_generate_name_conflict(resource: str, name: str, retry_after_seconds: int) -> StatusError:
    """Port of errors.NewGenerateNameConflict."""
    return StatusError(
        409,
        REASON_ALREADY_EXISTS,
        f'{resource} "{name}" already exists, the server was not able to generate a unique '
        "name for the object",
        retry_after_seconds=retry_after_seconds,
    )


def new_invalid(kind: str, name: str, causes: list[dict[str, Any]]) -> StatusError:
    """Port of errors.NewInvalid; ``causes`` are metav1.StatusCause dicts."""
    message = f'{kind} "{name}" is invalid'
    details = [f"{c.get('field', '')}: {c.get('message', '')}" for c in causes]
    if len(details) == 1:
        message = f"{message}: {details[0]}"
    elif details:
        message = f"{message}: [{', '.join(details)}]"
    return StatusError(422, REASON_INVALID, message, causes=list(causes))


def is_bad_request(err: BaseException | None) -> bool:
    return _has(err, REASON_BAD_REQUEST, 400)


def is_method_not_supported(err: BaseException | None) -> bool:
    return _has(err, REASON_METHOD_NOT_ALLOWED, 405)


def is_service_unavailable(err: BaseException | None) -> bool:
    return _has(err, REASON_SERVICE_UNAVAILABLE, 503)


def is_timeout(err: BaseException | None) -> bool:
    return _has(err, REASON_TIMEOUT, 504)


def is_server_timeout(err: BaseException | None) -> bool:
    """Port of errors.IsServerTimeout: by reason only (no HTTP code means it)."""
    return reason_for_error(err) == REASON_SERVER_TIMEOUT


def is_unexpected_object_error(err: BaseException | None) -> bool:
    """Port of errors.IsUnexpectedObjectError."""
    return isinstance(err, UnexpectedObjectError)


def suggests_client_delay(err: BaseException | None) -> tuple[int, bool]:
    """Port of errors.SuggestsClientDelay: (seconds, True) when the server asked to wait."""
    if not isinstance(err, StatusError) or err.retry_after_seconds is None:
        return 0, False
    if err.reason == REASON_SERVER_TIMEOUT:
        return err.retry_after_seconds, True
    if err.retry_after_seconds > 0:
        return err.retry_after_seconds, True
    return 0, False
