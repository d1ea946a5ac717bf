"""Pool executors under the import path APScheduler 3 users know.

* :class:`ThreadPoolExecutor` and :class:`ProcessPoolExecutor`: the APScheduler 3
  executors (``ThreadPoolExecutor(max_workers=10)``), built on the core's thread pool
  executor and on the ``apscheduler-processpool`` plugin's process pool;
* :class:`ProcessPoolJobExecutor`: re-exported from the ``apscheduler-processpool``
  plugin, imported on first access.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from .._plugin_exports import lazy_plugin_exports
from .._structures import Job
from .base import BaseExecutor
from .thread import ThreadPoolJobExecutor

if TYPE_CHECKING:
    from apscheduler_processpool.executor import ProcessPoolJobExecutor

__all__ = ["ProcessPoolExecutor", "ProcessPoolJobExecutor", "ThreadPoolExecutor"]

__getattr__ = lazy_plugin_exports(
    __name__,
    {"ProcessPoolJobExecutor": "apscheduler_processpool.executor:ProcessPoolJobExecutor"},
    "processpool",
)


class ThreadPoolExecutor(BaseExecutor):
    """Runs functions in a pool of worker threads (APScheduler 3).

    Coroutine functions run on the scheduler's event loop instead (APScheduler 3 could
    not run them in this executor).

    :param max_workers: the maximum number of threads running jobs at once
    :param pool_kwargs: accepted for compatibility; ``concurrent.futures`` options do
        not apply to the core's thread pool and are ignored
    """

    def __init__(self, max_workers: int | str = 10, pool_kwargs: Mapping[str, Any] | None = None):
        super().__init__()
        self.max_workers = int(max_workers)
        self.pool_kwargs = dict(pool_kwargs or {})
        self._pool = ThreadPoolJobExecutor(max_workers=self.max_workers)

    async def _start_pool(self, exit_stack: AsyncExitStack) -> None:
        await self._pool.start(exit_stack)

    async def _run_function(self, func: Callable[..., Any], job: Job) -> Any:
        return await self._pool.run_job(func, job)

    def __repr__(self) -> str:
        return f"ThreadPoolExecutor(max_workers={self.max_workers})"


class ProcessPoolExecutor(BaseExecutor):
    """Runs jobs in a pool of worker processes (APScheduler 3), using the
    ``apscheduler-processpool`` plugin's :class:`ProcessPoolJobExecutor`.

    Functions and their arguments must be picklable; this is checked when the job is
    added. A crashed worker fails only the job it was running.

    :param max_workers: the maximum number of worker processes
    :param pool_kwargs: ``mp_context`` (start method name or context; ``"spawn"`` by
        default, as in APScheduler 3), ``initializer``, ``initargs`` and
        ``max_tasks_per_child`` (replace a worker after that many jobs)
    """

    def __init__(self, max_workers: int | str = 10, pool_kwargs: Mapping[str, Any] | None = None):
        super().__init__()
        self.max_workers = int(max_workers)
        self.pool_kwargs = dict(pool_kwargs or {})
        unknown = set(self.pool_kwargs) - {
            "mp_context", "initializer", "initargs", "max_tasks_per_child"
        }
        if unknown:
            raise TypeError(f"Unsupported pool_kwargs: {', '.join(sorted(unknown))}")
        executor_class = __getattr__("ProcessPoolJobExecutor")
        self._pool = executor_class(
            max_workers=self.max_workers,
            max_jobs_per_worker=self.pool_kwargs.get("max_tasks_per_child"),
            mp_context=self.pool_kwargs.get("mp_context", "spawn"),
            initializer=self.pool_kwargs.get("initializer"),
            initargs=self.pool_kwargs.get("initargs", ()),
        )

    async def _start_pool(self, exit_stack: AsyncExitStack) -> None:
        await self._pool.start(exit_stack)

    def check_job_arguments(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self._pool.check_job_arguments(func, args, kwargs)

    async def _run_coroutine_function(self, func: Callable[..., Any], job: Job) -> Any:
        return await self._pool.run_job(func, job)

    async def _run_function(self, func: Callable[..., Any], job: Job) -> Any:
        return await self._pool.run_job(func, job)

    def __repr__(self) -> str:
        return f"ProcessPoolExecutor(max_workers={self.max_workers})"
