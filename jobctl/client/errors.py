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
    if not isinstance(err, StatusError):
        return False
    if err.reason:
        return err.reason == reason
    return err.code == code


def is_not_found(err: BaseException | None) -> bool:
    return _has(err, REASON_NOT_FOUND, 404)


def is_already_exists(err: BaseException | None) -> bool:
    return _has(err, REASON_ALREADY_EXISTS, 409)


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
    return _has(err, REASON_EXPIRED, 410)


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
