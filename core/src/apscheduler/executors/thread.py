"""Runs jobs in worker threads."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

import anyio
from anyio import CancelScope, CapacityLimiter

from .._context import current_job
from .._structures import Job
from ..abc import JobExecutor


class ThreadPoolJobExecutor(JobExecutor):
    """Runs functions in worker threads, at most ``max_workers`` at a time.

    Context variables (``current_job``, ``current_scheduler``) are visible in the job.
    A thread cannot be interrupted: on scheduler stop, running thread jobs finish.

    Under asyncio the executor keeps its own ``concurrent.futures`` pool, whose hand-off
    costs a fraction of a generic worker-thread call; under other event loops it uses
    AnyIO's worker threads.
    """

    def __init__(self, *, max_workers: int = 40):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._limiter: CapacityLimiter | None = None
        self._pool: ThreadPoolExecutor | None = None

    async def start(self, exit_stack: AsyncExitStack) -> None:
        self._limiter = CapacityLimiter(self.max_workers)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="apscheduler-job")
        pool = self._pool

        def shutdown() -> None:
            pool.shutdown(wait=False)
            if self._pool is pool:
                self._pool = None

        exit_stack.callback(shutdown)

    async def run_job(self, func: Callable[..., Any], job: Job) -> Any:
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

        if self._pool is not None:
            future = asyncio.wrap_future(self._pool.submit(call))
            # A running thread cannot be stopped: wait for it even when cancelled
            with CancelScope(shield=True):
                return await future

        if self._limiter is None:
            self._limiter = CapacityLimiter(self.max_workers)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    def __repr__(self) -> str:
        return f"ThreadPoolJobExecutor(max_workers={self.max_workers})"
