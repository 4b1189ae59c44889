"""Ports of k8s.io/apimachinery/pkg/api/errors/errors_test.go (the predicates jobctl has)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jobctl.client import errors
from jobctl.client.errors import StatusError


def test_error_new() -> None:
    err = errors.new_already_exists("tests", "1")
    assert errors.is_already_exists(err)
    assert not errors.is_conflict(err)
    assert not errors.is_not_found(err)
    assert not errors.is_invalid(err)
    assert not errors.is_bad_request(err)
    assert not errors.is_forbidden(err)
    assert not errors.is_server_timeout(err)
    assert not errors.is_method_not_supported(err)

    assert errors.is_conflict(errors.new_conflict("tests", "2", "message"))
    assert errors.is_not_found(errors.new_not_found("tests", "3"))
    assert errors.is_invalid(errors.new_invalid("Test", "2", []))
    assert errors.is_bad_request(errors.new_bad_request("reason"))
    assert errors.is_forbidden(errors.new_forbidden("tests", "2", "reason"))
    assert errors.is_unauthorized(errors.new_unauthorized("reason"))
    assert errors.is_server_timeout(errors.new_server_timeout("tests", "reason", 0))
    assert errors.is_method_not_supported(errors.new_method_not_supported("foos", "delete"))

    assert errors.is_already_exists(errors.new_generate_name_conflict("tests", "3", 1))
    assert errors.suggests_client_delay(errors.new_generate_name_conflict("tests", "3", 1)) == (
        1,
        True,
    )
    assert errors.suggests_client_delay(
        errors.new_server_timeout("tests", "doing something", 10)
    ) == (10, True)
    assert errors.suggests_client_delay(
        errors.new_server_timeout("tests", "doing something", 0)
    ) == (0, True)
    assert errors.suggests_client_delay(errors.new_timeout_error("test reason", 10)) == (10, True)
    assert errors.suggests_client_delay(errors.new_too_many_requests("doing something", 10)) == (
        10,
        True,
    )
    assert errors.suggests_client_delay(errors.new_too_many_requests("doing something", 1)) == (
        1,
        True,
    )
    generic_429 = StatusError(429, message="doing something", retry_after_seconds=10)
    assert errors.suggests_client_delay(generic_429) == (10, True)
    generic_500 = StatusError(500, message="doing something", retry_after_seconds=10)
    assert errors.suggests_client_delay(generic_500) == (10, True)
    assert errors.suggests_client_delay(StatusError(429, retry_after_seconds=0)) == (0, False)


def test_new_invalid() -> None:
    cause = {"type": "FieldValueDuplicate", "field": "field[0].name", "message": "Duplicate"}
    err = errors.new_invalid("Kind", "name", [cause])
    assert err.code == 422
    assert err.reason == errors.REASON_INVALID
    assert err.causes == [cause]
    assert str(err) == 'Kind "name" is invalid: field[0].name: Duplicate'
    assert str(errors.new_invalid("Kind", "name", [])) == 'Kind "name" is invalid'


def test_reason_for_error() -> None:
    assert errors.reason_for_error(None) == ""
    assert errors.reason_for_error(ValueError("boom")) == ""
    assert errors.reason_for_error(errors.new_not_found("pods", "a")) == errors.REASON_NOT_FOUND


def test_is_too_many_requests_supports_wrapped_errors() -> None:
    err = errors.new_too_many_requests("Too many requests", 1)
    assert errors.is_too_many_requests(err)
    # The code alone is enough, whatever the reason (kept for backward compatibility).
    assert errors.is_too_many_requests(StatusError(429, reason=errors.REASON_CONFLICT))
    assert not errors.is_too_many_requests(StatusError(500))
    assert not errors.is_too_many_requests(RuntimeError("429"))


def test_is_unexpected_object_error() -> None:
    assert errors.is_unexpected_object_error(errors.UnexpectedObjectError("x"))
    assert not errors.is_unexpected_object_error(errors.new_not_found("pods", "a"))
    assert not errors.is_unexpected_object_error(None)


_PREDICATES: list[tuple[str, str, str, bool, int, Callable[[BaseException | None], bool]]] = [
    ("TooManyRequests", "TooManyRequests", "Forbidden", False, 429, errors.is_too_many_requests),
    ("Forbidden", "Forbidden", "NotFound", True, 403, errors.is_forbidden),
    ("NotFound", "NotFound", "Forbidden", True, 404, errors.is_not_found),
]


@pytest.mark.parametrize(
    ("known_reason", "other_reason", "other_reason_considered", "code", "fn"),
    [p[1:] for p in _PREDICATES],
    ids=[p[0] for p in _PREDICATES],
)
def test_is_error_types_by_reason_and_code(
    known_reason: str,
    other_reason: str,
    other_reason_considered: bool,
    code: int,
    fn: Callable[[BaseException | None], bool],
) -> None:
    # by known reason
    assert fn(StatusError(0, reason=known_reason))
    # by code and unknown reason
    assert fn(StatusError(code, reason="SomethingNobodyKnows"))
    assert fn(StatusError(code))
    if other_reason_considered:
        # by code and other known reason
        assert not fn(StatusError(code, reason=other_reason))


def test_status_cause_supports_wrapped_errors() -> None:
    err = StatusError(500, causes=[{"type": "SomeCause"}])
    assert not errors.has_status_cause(None, "SomeCause")
    assert not errors.has_status_cause(ValueError("boom"), "SomeCause")
    assert not errors.has_status_cause(err, "Other")
    assert errors.has_status_cause(err, "SomeCause")


def test_from_status() -> None:
    err = StatusError.from_status(
        {
            "kind": "Status",
            "status": "Failure",
            "message": 'pods "a" not found',
            "reason": "NotFound",
            "details": {"name": "a", "kind": "pods", "retryAfterSeconds": 3},
            "code": 404,
        }
    )
    assert err.code == 404
    assert errors.is_not_found(err)
    assert str(err) == 'pods "a" not found'
    assert err.retry_after_seconds == 3


def test_is_resource_expired_and_gone() -> None:
    expired = errors.new_resource_expired("too old resource version: 1 (2)")
    assert errors.is_resource_expired(expired)
    assert not errors.is_gone(expired)
    gone = StatusError(410)
    assert errors.is_gone(gone)
    assert not errors.is_resource_expired(gone)


def test_is_connection_refused() -> None:
    refused = errors.APIConnectionRefusedError("connection refused")
    assert errors.is_connection_refused(refused)
    assert isinstance(refused, ConnectionError)
    assert not isinstance(refused, StatusError)
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as inner:
            raise errors.APIConnectionError("wrapped") from inner
    except errors.APIConnectionError as wrapped:
        assert errors.is_connection_refused(wrapped)
    assert not errors.is_connection_refused(errors.APIConnectionError("reset"))
    assert not errors.is_connection_refused(None)
