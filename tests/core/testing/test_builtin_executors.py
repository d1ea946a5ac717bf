"""The built-in job executors against the job executor conformance kit."""

from __future__ import annotations

import pytest
from apscheduler.abc import JobExecutor
from apscheduler.testing import JobExecutorTests


class TestAsyncJobExecutor(JobExecutorTests):
    supports_sync = True  # runs them on the event loop
    supports_async = True

    @pytest.fixture
    def job_executor(self) -> JobExecutor:
        module = pytest.importorskip("apscheduler.executors.async_")
        return module.AsyncJobExecutor()


class TestThreadPoolJobExecutor(JobExecutorTests):
    supports_sync = True
    supports_async = False  # coroutine functions belong on the "async" executor

    @pytest.fixture
    def job_executor(self) -> JobExecutor:
        module = pytest.importorskip("apscheduler.executors.thread")
        return module.ThreadPoolJobExecutor(max_workers=2)
