"""``AsyncIOScheduler`` (APScheduler 3): runs on the application's asyncio event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from .._context import current_job
from .._v3.config import maybe_ref
from .._v3.runtime import Runtime
from .._v3.threads import call_listeners
from ..abc import JobExecutor
from ..events import SchedulerEvent
from .base import STATE_STOPPED, BaseScheduler, Listener

__all__ = ["AsyncIOScheduler"]


class AsyncIOScheduler(BaseScheduler):
    """A scheduler that runs on an asyncio event loop: the loop running when
    :meth:`start` is called (for example in a FastAPI lifespan), or the ``event_loop``
    option.

    Coroutine jobs run on that loop; plain functions run in worker threads (the default
    executor is :class:`~apscheduler.executors.asyncio.AsyncIOExecutor`). Listeners are
    called on the loop.

    Methods called on the loop itself (from coroutines, async endpoints, listeners)
    never block it: their effect is applied to the job stores in the background, in
    order, and they return the job as it will be stored. Called from other threads they
    wait for the job store, like the other schedulers. :meth:`shutdown` called on the
    loop returns an awaitable that completes once the scheduler has stopped.

    Extra options:

    ``event_loop``: the asyncio event loop to use (default: the running loop)
    """

    _eventloop: asyncio.AbstractEventLoop | None = None
    _host_task: asyncio.Future[None] | None = None
    _cancel_jobs_without_wait = True  # as APScheduler 3's AsyncIOExecutor did

    def _configure(self, config: dict[str, Any]) -> None:
        self._eventloop = maybe_ref(config.pop("event_loop", None))
        super()._configure(config)

    def _create_default_executor(self) -> JobExecutor:
        from ..executors.asyncio import AsyncIOExecutor

        return AsyncIOExecutor()

    def start(self, paused: bool = False) -> None:
        loop = self._eventloop
        if loop is None or loop.is_closed():
            loop = asyncio.get_running_loop()
        self._loop = loop
        super().start(paused)

    def _launch(self, runtime: Runtime) -> None:
        loop = self._loop
        runtime.loop = loop
        if self._running_loop() is loop:
            self._create_host_task(runtime)
        else:
            loop.call_soon_threadsafe(self._create_host_task, runtime)

    def _create_host_task(self, runtime: Runtime) -> None:
        task = self._loop.create_task(runtime.run(), name="APScheduler")
        task.add_done_callback(lambda task: self._host_done(runtime, task))
        self._host_task = task

    def _host_done(self, runtime: Runtime, task: asyncio.Future[None]) -> None:
        if task.cancelled():
            exception: BaseException | None = None
        else:
            exception = task.exception()
        with self._lock:
            if self._runtime is runtime:
                self.state = STATE_STOPPED
        if exception is not None:
            self._logger.error("The scheduler stopped with an error", exc_info=exception)

    @staticmethod
    def _running_loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    def _in_loop(self, runtime: Runtime) -> bool:
        return runtime.loop is not None and self._running_loop() is runtime.loop

    def _can_block(self, runtime: Runtime) -> bool:
        loop = runtime.loop
        return loop is not None and not self._in_loop(runtime) and loop.is_running()

    def _deliver(self, event: SchedulerEvent, callbacks: Sequence[Listener]) -> None:
        runtime = self._runtime
        loop = runtime.loop if runtime is not None else None
        if loop is None or loop.is_closed():
            call_listeners(event, callbacks, self._logger)
        else:
            loop.call_soon_threadsafe(call_listeners, event, callbacks, self._logger)

    def _finish_shutdown(self, runtime: Runtime, future: Future[Any], wait: bool) -> Any:
        if self._in_loop(runtime):
            return self._host_task  # awaitable: completes once the scheduler has stopped
        if wait and self._can_block(runtime) and current_job.get(None) is None:
            self._wait(runtime, future)
            runtime.finished.wait()
        return None
