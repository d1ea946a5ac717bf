"""The v3 executors are core job executors: they pass the executor conformance kit."""

from __future__ import annotations

import pytest
from apscheduler.abc import JobExecutor
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.testing import JobExecutorTests


class TestV3ThreadPoolExecutor(JobExecutorTests):
    supports_sync = True
    supports_async = True  # coroutine functions run on the event loop

    @pytest.fixture
    def job_executor(self) -> JobExecutor:
        return ThreadPoolExecutor(max_workers=2)


class TestV3AsyncIOExecutor(JobExecutorTests):
    supports_sync = True  # in worker threads
    supports_async = True

    @pytest.fixture
    def job_executor(self) -> JobExecutor:
        return AsyncIOExecutor()
