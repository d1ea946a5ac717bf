"""The base class of the APScheduler 3 executors (``apscheduler.executors.base``).

A v3 executor here is a core :class:`~apscheduler.abc.JobExecutor`, so a v3 scheduler
hands it to the core scheduler directly. On top of that it:

* runs coroutine functions on the event loop (v3's thread and process pool executors
  could not run them at all), and plain functions wherever the subclass says;
* can be shared by the core schedulers of several job stores: the pool is started when
  the first of them starts it and stopped when the last one stops, so ``max_workers``
  is a limit for the whole v3 scheduler, as in APScheduler 3;
* remembers the return value or exception object of each job until the v3 scheduler
  has turned the job's ``JobReleased`` event into a ``JobExecutionEvent`` (whose
  ``retval`` and ``exception`` the core event does not carry).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any
from uuid import UUID

from .._context import current_job
from .._schedulers._tasks import is_coroutine_callable
from .._structures import Job
from ..abc import JobExecutor

__all__ = ["BaseExecutor", "MaxInstancesReachedError"]

#: Outcomes kept at most per executor (a listener-less scheduler pops them anyway).
_MAX_REMEMBERED = 1000


class MaxInstancesReachedError(Exception):
    """Kept for import compatibility with APScheduler 3 (never raised: a job whose
    previous run is still going waits for it)."""


class BaseExecutor(JobExecutor):
    """An APScheduler 3 executor: see the module docstring."""

    def __init__(self) -> None:
        self._users = 0
        self._stack: AsyncExitStack | None = None
        self._outcomes: OrderedDict[UUID, tuple[Any, BaseException | None]] = OrderedDict()
        self._remember_outcomes = False

    # Lifecycle (shared by several core schedulers)

    async def start(self, exit_stack: AsyncExitStack) -> None:
        if self._users == 0:
            stack = AsyncExitStack()
            await stack.__aenter__()
            try:
                await self._start_pool(stack)
            except BaseException:
                await stack.aclose()
                raise
            self._stack = stack
        self._users += 1
        exit_stack.push_async_callback(self._release)

    async def _release(self) -> None:
        self._users -= 1
        if self._users == 0 and self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    async def _start_pool(self, exit_stack: AsyncExitStack) -> None:
        """Start the subclass's pool; register its shutdown on ``exit_stack``."""

    # Running jobs

    async def run_job(self, func: Callable[..., Any], job: Job) -> Any:
        try:
            if is_coroutine_callable(func):
                result = await self._run_coroutine_function(func, job)
            else:
                result = await self._run_function(func, job)
        except Exception as exc:
            self._remember(job.id, None, exc)
            raise
        self._remember(job.id, result, None)
        return result

    async def _run_coroutine_function(self, func: Callable[..., Any], job: Job) -> Any:
        token = current_job.set(job)
        try:
            return await func(*job.args, **job.kwargs)
        finally:
            current_job.reset(token)

    async def _run_function(self, func: Callable[..., Any], job: Job) -> Any:
        raise NotImplementedError

    # Outcomes for the v3 events

    def _remember(self, job_id: UUID, retval: Any, exception: BaseException | None) -> None:
        if not self._remember_outcomes:
            return
        self._outcomes[job_id] = (retval, exception)
        while len(self._outcomes) > _MAX_REMEMBERED:
            self._outcomes.popitem(last=False)

    def pop_outcome(self, job_id: UUID) -> tuple[Any, BaseException | None] | None:
        """Return and forget ``(return value, exception)`` of a job this executor ran."""
        return self._outcomes.pop(job_id, None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
