"""Eager scheduler calls: configuration methods that start running when called.

Much real-world code (including the examples users copy) calls
``scheduler.add_schedule(...)`` on an :class:`AsyncScheduler` without ``await``, or
before the scheduler has started. With a plain coroutine that silently does nothing.
Under asyncio these methods therefore return an :class:`EagerCall`: the work starts at
once in a task (or as soon as the scheduler's services are up), and awaiting the call
returns its result or raises its exception as usual. A failure that nobody awaits is
logged. Under other event loops (Trio) the methods return plain coroutines.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .async_ import AsyncScheduler

T = TypeVar("T")


class EagerCall(Generic[T]):
    """The result of an eager scheduler method; await it for the return value."""

    __slots__ = ("_coro", "_task", "_scheduler", "_deferred", "_awaited", "_start_handle")

    def __init__(self, scheduler: AsyncScheduler, coro: Coroutine[Any, Any, T]):
        self._coro = coro
        self._scheduler = scheduler
        self._task: asyncio.Task[T] | None = None
        self._deferred = False
        self._awaited = False
        self._start_handle: asyncio.Handle | None = None
        try:
            loop = asyncio.get_running_loop()  # no asyncio loop under Trio: stay lazy
        except RuntimeError:
            return
        # The task is created by a callback on the next event loop iteration. A caller
        # that awaits the call at once (the usual case) cancels the callback and runs
        # the coroutine itself, sparing a task and two event loop turns.
        self._start_handle = loop.call_soon(self._start, loop)
        scheduler._eager_pending += 1

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._start_handle = None
        self._scheduler._eager_pending -= 1
        if self._scheduler._services_initialized:
            self._task = loop.create_task(self._coro)
        else:
            self._deferred = True
            self._task = loop.create_task(self._run_when_initialized())
        self._task.add_done_callback(self._report_unawaited_failure)

    async def _await_after_start(self) -> T:
        while self._task is None:  # earlier calls start first, in call order
            await asyncio.sleep(0)
        return await self

    async def _run_when_initialized(self) -> T:
        await self._scheduler._wait_initialized()
        return await self._coro

    def _report_unawaited_failure(self, task: asyncio.Task[T]) -> None:
        if task.cancelled() or self._awaited:
            return
        exc = task.exception()
        if exc is not None:
            self._scheduler.logger.error(
                "A scheduler call that was not awaited failed: %s: %s",
                type(exc).__name__,
                exc,
                exc_info=exc,
            )

    def __await__(self) -> Generator[Any, None, T]:
        self._awaited = True
        if self._start_handle is not None:
            if self._scheduler._eager_pending == 1:
                # Not started, and no earlier call waits to start before it: run it in
                # the caller's task
                self._start_handle.cancel()
                self._start_handle = None
                self._scheduler._eager_pending -= 1
                if not self._scheduler._services_initialized:
                    self._coro.close()
                    self._scheduler._check_initialized()  # raises the usual RuntimeError
                return self._coro.__await__()
            return self._await_after_start().__await__()
        if self._task is None:
            return self._coro.__await__()
        if self._deferred and not self._scheduler._services_initialized:
            self._task.cancel()
            self._coro.close()
            self._scheduler._check_initialized()  # raises the usual RuntimeError
        return self._task.__await__()

    def __del__(self) -> None:
        if self._task is None and not self._awaited and self._start_handle is None:
            self._coro.close()


def eager(method: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., EagerCall[T]]:
    """Make an ``AsyncScheduler`` coroutine method eager (see the module docstring)."""

    @functools.wraps(method)
    def wrapper(self: AsyncScheduler, *args: Any, **kwargs: Any) -> EagerCall[T]:
        return EagerCall(self, method(self, *args, **kwargs))

    return wrapper
