"""The job executor conformance kit, run against ProcessPoolJobExecutor."""

from __future__ import annotations

import pytest
from apscheduler.abc import JobExecutor
from apscheduler.testing import JobExecutorTests
from apscheduler_processpool import ProcessPoolJobExecutor


class TestProcessPoolJobExecutor(JobExecutorTests):
    @pytest.fixture
    def job_executor(self) -> JobExecutor:
        return ProcessPoolJobExecutor(max_workers=2)
