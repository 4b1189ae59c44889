"""A Job whose activeDeadlineSeconds is far beyond any real delay (issue 11, finding 4).

300000000000 is a valid int64. Upstream computes a delay from it and hands it to the
delaying queue, which accepts any time.Duration; the Job gets its pods. Here the delay
saturates to Go's maximum duration rather than failing the sync.
"""

from __future__ import annotations

from datetime import UTC, datetime

from jobctl.testing.builders import new_job
from jobctl.testing.job_harness import JobHarness


def test_sync_job_with_huge_active_deadline_creates_pods() -> None:
    with JobHarness(now=datetime(2026, 3, 1, tzinfo=UTC)) as h:
        job = new_job(2, 5, 6)
        job.spec.active_deadline_seconds = 300000000000
        h.add_job(job)
        result = h.sync(job)
        assert result.error is None
        assert len(result.created) == 2
        assert result.job is not None and result.job.status.start_time is not None
        assert not any("DeadlineExceeded" in e for e in result.events)
        # The resync for the deadline is pending, not due now.
        h.settle()
        assert h.controller.queue.len() == 0
