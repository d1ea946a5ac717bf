"""``AsyncIOExecutor`` (APScheduler 3): coroutine functions run on the event loop, other
functions in worker threads."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import anyio

from .._context import current_job
from .._structures import Job
from .base import BaseExecutor

__all__ = ["AsyncIOExecutor"]


class AsyncIOExecutor(BaseExecutor):
    """Runs coroutine functions on the scheduler's event loop and other functions in a
    worker thread (like the event loop's default executor in APScheduler 3).

    This is the default executor of :class:`~apscheduler.schedulers.asyncio.AsyncIOScheduler`.
    """

    async def _run_function(self, func: Callable[..., Any], job: Job) -> Any:
        context = contextvars.copy_context()
        context.run(current_job.set, job)
        return await anyio.to_thread.run_sync(lambda: context.run(func, *job.args, **job.kwargs))
