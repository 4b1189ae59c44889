"""Delegated authentication and authorization of the serving endpoints.

Port of what apiserver's ``DelegatingAuthenticationOptions`` and
``DelegatingAuthorizationOptions`` build for KCM (``pkg/authentication/authenticatorfactory``
``DelegatingAuthenticatorConfig`` and ``pkg/authorization/authorizerfactory``
``DelegatingAuthorizerConfig``):

- authentication: a bearer token is checked with a TokenReview against the API server,
  results cached for ``cache_ttl`` (10 s); a request without credentials is
  ``system:anonymous`` in ``system:unauthenticated`` (anonymous enabled, as KCM); a
  token that fails is 401, never anonymous;
- authorization: ``always_allow_paths`` (``/healthz``, ``/readyz``, ``/livez``) and
  ``always_allow_groups`` (``system:masters``) pass; everything else is a
  SubjectAccessReview with non-resource attributes (path, lower-case HTTP method as the
  verb), allowed and denied answers cached 10 s each.

The reviews go through the official client with a request timeout
(``TokenRequestTimeout``/``ClientTimeout``, 10 s); a failed review is a 401 (authn) or a
403 (authz) for that request, never a hang.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

logger = logging.getLogger(__name__)

ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
AUTHENTICATED_GROUP = "system:authenticated"
DEFAULT_ALWAYS_ALLOW_PATHS = ("/healthz", "/readyz", "/livez")
DEFAULT_ALWAYS_ALLOW_GROUPS = ("system:masters",)
DEFAULT_CACHE_TTL = 10.0
DEFAULT_CLIENT_TIMEOUT = 10.0
# Bounds the memory a flood of distinct tokens can take.
_MAX_CACHE_ENTRIES = 4096


@dataclass(frozen=True)
class UserInfo:
    """Port of user.DefaultInfo."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)


ANONYMOUS = UserInfo(ANONYMOUS_USER, groups=(UNAUTHENTICATED_GROUP,))


class AuthenticationError(Exception):
    """The credentials were presented and rejected (or could not be checked): 401."""


class Authenticator(Protocol):
    def authenticate(self, authorization_header: str | None) -> UserInfo: ...


class Authorizer(Protocol):
    def always_allowed(self, path: str) -> bool: ...

    def authorize(self, user: UserInfo, verb: str, path: str) -> tuple[bool, str]: ...


# (token) -> the user when the token is valid, None when not; raises on review failure.
TokenReviewer = Callable[[str], "UserInfo | None"]
# (user, verb, path) -> (allowed, reason); raises on review failure.
AccessReviewer = Callable[[UserInfo, str, str], tuple[bool, str]]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _TTLCache(Generic[K, V]):
    """A small LRU with per-entry expiry (the token and decision caches upstream)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> tuple[bool, V | None]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            expiry, value = entry
            if self._clock() >= expiry:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, value

    def put(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > _MAX_CACHE_ENTRIES:
                self._entries.popitem(last=False)


class DelegatingAuthenticator:
    """Bearer token through TokenReview (cached), anonymous without credentials."""

    def __init__(
        self,
        review: TokenReviewer,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        anonymous: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._review = review
        self._cache_ttl = cache_ttl
        self._anonymous = anonymous
        self._cache: _TTLCache[str, UserInfo | None] = _TTLCache(clock)

    def authenticate(self, authorization_header: str | None) -> UserInfo:
        """The user of a request; AuthenticationError (401) when it cannot be trusted."""
        if authorization_header is None or not authorization_header.strip():
            if self._anonymous:
                return ANONYMOUS
            raise AuthenticationError("Unauthorized")
        scheme, _, token = authorization_header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("Unauthorized")
        key = hashlib.sha256(token.encode()).hexdigest()
        found, cached = self._cache.get(key)
        if found:
            user = cached
        else:
            try:
                user = self._review(token)
            except Exception as err:
                logger.warning("Unable to authenticate the request: %s", err)
                raise AuthenticationError("Unauthorized") from None
            self._cache.put(key, user, self._cache_ttl)
        if user is None:
            raise AuthenticationError("Unauthorized")
        return user


class DelegatingAuthorizer:
    """Always-allowed paths and groups, else SubjectAccessReview (cached)."""

    def __init__(
        self,
        review: AccessReviewer | None,
        always_allow_paths: Sequence[str] = DEFAULT_ALWAYS_ALLOW_PATHS,
        always_allow_groups: Sequence[str] = DEFAULT_ALWAYS_ALLOW_GROUPS,
        allow_ttl: float = DEFAULT_CACHE_TTL,
        deny_ttl: float = DEFAULT_CACHE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._review = review
        self._paths = frozenset(always_allow_paths)
        self._groups = frozenset(always_allow_groups)
        self._allow_ttl = allow_ttl
        self._deny_ttl = deny_ttl
        self._cache: _TTLCache[tuple[Any, ...], tuple[bool, str]] = _TTLCache(clock)

    def always_allowed(self, path: str) -> bool:
        """Paths served without authentication or authorization (the health paths)."""
        return path in self._paths

    def authorize(self, user: UserInfo, verb: str, path: str) -> tuple[bool, str]:
        """(allowed, reason)."""
        if path in self._paths:
            return True, ""
        if self._groups.intersection(user.groups):
            return True, ""
        if self._review is None:
            return False, "no authorization-kubeconfig"
        key = (user, verb, path)
        found, cached = self._cache.get(key)
        if found and cached is not None:
            return cached
        try:
            decision = self._review(user, verb, path)
        except Exception as err:
            logger.warning("Unable to authorize the request: %s", err)
            return False, f"authorization error: {err}"
        self._cache.put(key, decision, self._allow_ttl if decision[0] else self._deny_ttl)
        return decision


# ---------------------------------------------------------------------------------
# reviews through the official client


def token_reviewer(api_client: Any, timeout: float = DEFAULT_CLIENT_TIMEOUT) -> TokenReviewer:
    """TokenReview (authentication.k8s.io/v1) through ``api_client``."""
    from kubernetes.client import AuthenticationV1Api, V1TokenReview, V1TokenReviewSpec

    api = AuthenticationV1Api(api_client)

    def review(token: str) -> UserInfo | None:
        body = V1TokenReview(spec=V1TokenReviewSpec(token=token))
        result = api.create_token_review(body, _request_timeout=timeout)
        status = result.status
        if status is None or not status.authenticated or status.user is None:
            return None
        u = status.user
        extra = tuple(sorted((k, tuple(v or ())) for k, v in (u.extra or {}).items()))
        return UserInfo(u.username or "", u.uid or "", tuple(u.groups or ()), extra)

    return review


def access_reviewer(api_client: Any, timeout: float = DEFAULT_CLIENT_TIMEOUT) -> AccessReviewer:
    """SubjectAccessReview (authorization.k8s.io/v1) for a non-resource path."""
    from kubernetes.client import (
        AuthorizationV1Api,
        V1NonResourceAttributes,
        V1SubjectAccessReview,
        V1SubjectAccessReviewSpec,
    )

    api = AuthorizationV1Api(api_client)

    def review(user: UserInfo, verb: str, path: str) -> tuple[bool, str]:
        body = V1SubjectAccessReview(
            spec=V1SubjectAccessReviewSpec(
                user=user.name,
                uid=user.uid or None,
                groups=list(user.groups) or None,
                extra={k: list(v) for k, v in user.extra} or None,
                non_resource_attributes=V1NonResourceAttributes(path=path, verb=verb),
            )
        )
        result = api.create_subject_access_review(body, _request_timeout=timeout)
        status = result.status
        if status is None:
            return False, ""
        return bool(status.allowed) and not bool(status.denied), str(status.reason or "")

    return review
