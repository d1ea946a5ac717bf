"""Runs jobs on the event loop."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .._context import current_job
from .._structures import Job
from ..abc import JobExecutor


class AsyncJobExecutor(JobExecutor):
    """Calls the function on the event loop and awaits the result if it is awaitable.

    Meant for coroutine functions. A synchronous function run here blocks the whole
    scheduler while it runs, so the scheduler sends plain functions to ``threadpool``
    unless the task names this executor explicitly.
    """

    async def run_job(self, func: Callable[..., Any], job: Job) -> Any:
        token = current_job.set(job)
        try:
            result = func(*job.args, **job.kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            current_job.reset(token)

    def __repr__(self) -> str:
        return "AsyncJobExecutor()"
