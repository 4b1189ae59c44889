"""Port of k8s.io/client-go/tools/record/util/util.go: event helpers."""

from __future__ import annotations

import re
import uuid

from jobctl.client.errors import StatusError
from jobctl.k8s_libs.api import EVENT_TYPE_NORMAL as EVENT_TYPE_NORMAL
from jobctl.k8s_libs.api import EVENT_TYPE_WARNING as EVENT_TYPE_WARNING

_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS1123_SUBDOMAIN_MAX_LENGTH = 253


def validate_event_type(event_type: str) -> bool:
    """Port of ValidateEventType (util.go): only Normal and Warning are accepted."""
    return event_type in (EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING)


def is_key_not_found_error(err: BaseException | None) -> bool:
    """Port of IsKeyNotFoundError (util.go): a StatusError with HTTP code 404."""
    return isinstance(err, StatusError) and err.code == 404


def _is_dns1123_subdomain(name: str) -> bool:
    return len(name) <= _DNS1123_SUBDOMAIN_MAX_LENGTH and bool(_DNS1123_SUBDOMAIN.match(name))


def generate_event_name(ref_name: str, unix_nano: int) -> str:
    """Port of GenerateEventName: "<name>.<hex nanos>", or a UUID if that is no valid name.

    Go twin: GenerateEventName (util.go).
    """
    name = f"{ref_name}.{unix_nano:x}"
    if not _is_dns1123_subdomain(name):
        name = str(uuid.uuid4())
    return name
