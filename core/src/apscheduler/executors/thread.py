"""Runs jobs in worker threads."""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio
from anyio import CapacityLimiter

from .._context import current_job
from .._structures import Job
from ..abc import JobExecutor


class ThreadPoolJobExecutor(JobExecutor):
    """Runs functions in worker threads, at most ``max_workers`` at a time.

    Context variables (``current_job``, ``current_scheduler``) are visible in the job.
    A thread cannot be interrupted: on scheduler stop, running thread jobs finish.
    """

    def __init__(self, *, max_workers: int = 40):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._limiter: CapacityLimiter | None = None

    async def start(self, exit_stack: AsyncExitStack) -> None:
        self._limiter = CapacityLimiter(self.max_workers)

    async def run_job(self, func: Callable[..., Any], job: Job) -> Any:
        if self._limiter is None:
            self._limiter = CapacityLimiter(self.max_workers)
        context = contextvars.copy_context()
        context.run(current_job.set, job)

        def call() -> Any:
            result = context.run(func, *job.args, **job.kwargs)
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise TypeError(
                    f"{func!r} returned an awaitable; run coroutine functions on the "
                    f"'async' executor"
                )
            return result

        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    def __repr__(self) -> str:
        return f"ThreadPoolJobExecutor(max_workers={self.max_workers})"
