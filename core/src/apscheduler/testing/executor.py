"""Conformance tests for :class:`apscheduler.abc.JobExecutor` implementations.

Subclass :class:`JobExecutorTests` and provide a ``job_executor`` fixture returning a
new, **not started** executor. The job functions used by the tests are defined at module
level here, so executors that send work to other processes can import them by
reference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any, ClassVar
from uuid import UUID

import anyio
import pytest

from .._context import current_job
from .._structures import Job
from ..abc import JobExecutor

#
# Job functions (module level: importable by reference from another process)
#


def sync_add(a: int, b: int, *, scale: int = 1) -> int:
    return (a + b) * scale


async def async_add(a: int, b: int, *, scale: int = 1) -> int:
    await anyio.sleep(0)
    return (a + b) * scale


def sync_echo(*args: Any, **kwargs: Any) -> list[Any]:
    return [list(args), kwargs]


async def async_echo(*args: Any, **kwargs: Any) -> list[Any]:
    return [list(args), kwargs]


def sync_fail(message: str) -> None:
    raise ValueError(message)


async def async_fail(message: str) -> None:
    await anyio.sleep(0)
    raise ValueError(message)


def sync_current_job_id() -> UUID:
    return current_job.get().id


async def async_current_job_id() -> UUID:
    await anyio.sleep(0)
    return current_job.get().id


def make_job(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
    """A job for ``func`` (its reference is the task ID, as the scheduler does)."""
    return Job(
        task_id=f"{func.__module__}:{func.__qualname__}",
        executor="conformance",
        args=args,
        kwargs=kwargs,
    )


class JobExecutorTests:
    """Conformance tests of a job executor. See the module docstring and
    ``docs/plugins/conformance-kit.md``.

    Fixture the subclass provides: ``job_executor`` (a new, not started executor).

    Flags (class attributes):

    * ``supports_sync``: runs plain functions.
    * ``supports_async``: runs coroutine functions (awaiting them). With ``False``, the
      executor must raise for a coroutine function rather than return an un-awaited
      coroutine.
    * ``supports_current_job``: ``apscheduler.current_job`` is set inside the function.
    """

    supports_sync: ClassVar[bool] = True
    supports_async: ClassVar[bool] = True
    supports_current_job: ClassVar[bool] = True
    #: Upper bound (seconds) for any single job run in the tests.
    run_timeout: ClassVar[float] = 30.0

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    async def started_job_executor(
        self, job_executor: JobExecutor, anyio_backend: Any
    ) -> AsyncIterator[JobExecutor]:
        async with AsyncExitStack() as stack:
            await job_executor.start(stack)
            yield job_executor

    async def _run(self, executor: JobExecutor, func: Callable[..., Any], job: Job) -> Any:
        with anyio.fail_after(self.run_timeout):
            return await executor.run_job(func, job)

    def _require(self, flag: str) -> None:
        if not getattr(self, flag):
            pytest.skip(f"{type(self).__name__}.{flag} is False")

    async def test_sync_return_value(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_sync")
        job = make_job(sync_add, 2, 3, scale=10)
        assert await self._run(started_job_executor, sync_add, job) == 50

    async def test_async_return_value(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_async")
        job = make_job(async_add, 2, 3, scale=10)
        assert await self._run(started_job_executor, async_add, job) == 50

    async def test_sync_arguments(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_sync")
        job = make_job(sync_echo, 1, "two", [3], key="value", other={"n": None})
        result = await self._run(started_job_executor, sync_echo, job)
        assert result == [[1, "two", [3]], {"key": "value", "other": {"n": None}}]

    async def test_async_arguments(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_async")
        job = make_job(async_echo, 1, "two", key="value")
        result = await self._run(started_job_executor, async_echo, job)
        assert result == [[1, "two"], {"key": "value"}]

    async def test_sync_exception_propagates(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_sync")
        with pytest.raises(ValueError, match="sync boom"):
            await self._run(started_job_executor, sync_fail, make_job(sync_fail, "sync boom"))

    async def test_async_exception_propagates(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_async")
        with pytest.raises(ValueError, match="async boom"):
            await self._run(
                started_job_executor, async_fail, make_job(async_fail, "async boom")
            )

    async def test_sync_current_job(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_sync")
        self._require("supports_current_job")
        job = make_job(sync_current_job_id)
        assert await self._run(started_job_executor, sync_current_job_id, job) == job.id
        assert current_job.get(None) is None, "current_job leaked into the caller"

    async def test_async_current_job(self, started_job_executor: JobExecutor) -> None:
        self._require("supports_async")
        self._require("supports_current_job")
        job = make_job(async_current_job_id)
        assert await self._run(started_job_executor, async_current_job_id, job) == job.id
        assert current_job.get(None) is None, "current_job leaked into the caller"

    async def test_unsupported_coroutine_function_fails(
        self, started_job_executor: JobExecutor
    ) -> None:
        """An executor that cannot await must fail loudly, not hand back a coroutine."""
        if self.supports_async:
            pytest.skip("the executor runs coroutine functions")
        with pytest.raises(Exception) as exc_info:
            await self._run(started_job_executor, async_add, make_job(async_add, 1, 2))
        assert not isinstance(exc_info.value, TimeoutError), "the executor hung"

    async def test_consecutive_jobs(self, started_job_executor: JobExecutor) -> None:
        """The executor keeps working after a job failed."""
        func, fail = (sync_add, sync_fail) if self.supports_sync else (async_add, async_fail)
        with pytest.raises(ValueError):
            await self._run(started_job_executor, fail, make_job(fail, "first"))
        for i in range(3):
            assert await self._run(started_job_executor, func, make_job(func, i, 1)) == i + 1

    async def test_check_job_arguments_accepts_plain_data(
        self, started_job_executor: JobExecutor
    ) -> None:
        func = sync_add if self.supports_sync else async_add
        started_job_executor.check_job_arguments(func, (1, 2), {"scale": 3})
