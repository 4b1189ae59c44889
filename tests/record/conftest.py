"""Run the upstream record tables through both event copies: ``event_value_copy`` (the
twin of Go's ``eventCopy := *event``, what the recorder uses) and a full deep copy."""

from __future__ import annotations

import pytest

from jobctl.client.deepcopy import deep_copy
from jobctl.record import event, events_cache


@pytest.fixture(autouse=True, params=["value-copy", "deep-copy"])
def event_copy_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "deep-copy":
        monkeypatch.setattr(events_cache, "event_value_copy", deep_copy)
        monkeypatch.setattr(event, "event_value_copy", deep_copy)
    return str(request.param)
