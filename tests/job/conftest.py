"""Shared fixtures of the Job controller tests."""

from __future__ import annotations

import pytest

from jobctl.controller import controller_utils
from jobctl.controller.controller_ref_manager import PodControllerRefManager
from jobctl.job import job_controller


@pytest.fixture(params=["fast", "plain"])
def sync_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a syncJob table through the quick helpers ``sync_job`` calls ("fast") and
    through their plain, Go-shaped twins ("plain"); both must give the same results."""
    if request.param == "plain":
        monkeypatch.setattr(
            job_controller, "get_new_finished_pods_fast", job_controller.get_new_finished_pods
        )
        monkeypatch.setattr(
            job_controller, "count_ready_pods_fast", job_controller.count_ready_pods
        )
        monkeypatch.setattr(
            job_controller, "filter_active_pods_fast", controller_utils.filter_active_pods
        )
        monkeypatch.setattr(
            job_controller,
            "count_terminating_pods_fast",
            controller_utils.count_terminating_pods,
        )
        monkeypatch.setattr(
            PodControllerRefManager,
            "claim_pods_fast",
            PodControllerRefManager.claim_pods,
        )
        monkeypatch.setattr(
            job_controller.Controller,
            "track_job_status_and_remove_finalizers_fast",
            job_controller.Controller.track_job_status_and_remove_finalizers,
        )
    param: str = request.param
    return param
