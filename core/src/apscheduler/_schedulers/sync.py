"""The synchronous scheduler: an :class:`AsyncScheduler` driven from a private event
loop thread, with the same methods as plain blocking calls."""

from __future__ import annotations

import atexit
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import partial
from logging import Logger
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import anyio
from anyio.from_thread import BlockingPortal

from .._context import current_scheduler
from .._enums import CoalescePolicy, ConflictPolicy, RunState, SchedulerRole
from .._events import Event
from .._structures import Job, JobResult, Schedule, Task, TaskDefaults, UnsetValue, unset
from ..abc import DataStore, EventBroker, JobExecutor, Subscription, Trigger
from .async_ import AsyncScheduler

T = TypeVar("T")


async def _invoke(call: Callable[[], Any]) -> Any:
    """Call ``call`` in the event loop thread, awaiting its result if it is awaitable."""
    result = call()
    if inspect.isawaitable(result):
        result = await result
    return result


class _LoopThread:
    """A daemon thread running an event loop with a blocking portal into it.

    A daemon thread (rather than anyio's portal thread) lets the interpreter reach its
    ``atexit`` handlers, where a scheduler used without ``with`` shuts down cleanly.
    """

    def __init__(self) -> None:
        ready = threading.Event()
        self.pid = os.getpid()  # a forked child inherits this object but not the thread
        self.portal: BlockingPortal | None = None
        self.error: BaseException | None = None

        async def main() -> None:
            async with BlockingPortal() as portal:
                self.portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(main)
            except BaseException as exc:  # pragma: no cover - loop start failure
                self.error = exc
                ready.set()

        self.thread = threading.Thread(target=run, name="apscheduler-event-loop", daemon=True)
        self.thread.start()
        ready.wait()
        if self.error is not None:  # pragma: no cover
            raise self.error

    def close(self) -> None:
        portal = self.portal
        if portal is not None and self.thread.is_alive():
            try:
                portal.call(portal.stop)
            except RuntimeError:
                pass
        self.thread.join()


class Scheduler:
    """A scheduler for synchronous code: same API as :class:`AsyncScheduler`, blocking.

    Works as a context manager (``with Scheduler() as scheduler: ...``) and without one
    (WSGI style): the first call starts the services, and they are shut down cleanly
    when the interpreter exits. Plain functions run in a thread pool by default.
    """

    def __init__(
        self,
        data_store: DataStore | str | Mapping[str, Any] | None = None,
        event_broker: EventBroker | str | Mapping[str, Any] | None = None,
        lease_duration: timedelta | float = 30,
        *,
        identity: str = "",
        role: SchedulerRole | str = SchedulerRole.both,
        task_defaults: TaskDefaults | None = None,
        max_concurrent_jobs: int = 100,
        job_executors: MutableMapping[str, JobExecutor] | None = None,
        cleanup_interval: timedelta | float | None = 900,
        poll_interval: timedelta | float = 10,
        stop_timeout: timedelta | float = 30,
        timezone: tzinfo | str | None = None,
        schedule_batch_size: int = 100,
        logger: Logger | None = None,
    ):
        self._async = AsyncScheduler(
            data_store,
            event_broker,
            lease_duration,
            identity=identity,
            role=role,
            task_defaults=task_defaults,
            max_concurrent_jobs=max_concurrent_jobs,
            job_executors=job_executors,
            cleanup_interval=cleanup_interval,
            poll_interval=poll_interval,
            stop_timeout=stop_timeout,
            timezone=timezone,
            schedule_batch_size=schedule_batch_size,
            logger=logger,
        )
        self._lock = threading.RLock()
        self._loop: _LoopThread | None = None
        self._context: Any = None
        self._atexit_registered = False

    # Read-only views of the async scheduler's settings
    @property
    def async_scheduler(self) -> AsyncScheduler:
        return self._async

    @property
    def data_store(self) -> DataStore:
        return self._async.data_store

    @property
    def event_broker(self) -> EventBroker:
        return self._async.event_broker

    @property
    def identity(self) -> str:
        return self._async.identity

    @property
    def role(self) -> SchedulerRole:
        return self._async.role

    @property
    def max_concurrent_jobs(self) -> int:
        return self._async.max_concurrent_jobs

    @property
    def cleanup_interval(self) -> timedelta | None:
        return self._async.cleanup_interval

    @property
    def lease_duration(self) -> timedelta:
        return self._async.lease_duration

    @property
    def job_executors(self) -> MutableMapping[str, JobExecutor]:
        return self._async.job_executors

    @property
    def task_defaults(self) -> TaskDefaults:
        return self._async.task_defaults

    @property
    def timezone(self) -> tzinfo:
        return self._async.timezone

    @property
    def logger(self) -> Logger:
        return self._async.logger

    @property
    def state(self) -> RunState:
        return self._async.state

    # Lifecycle

    def __enter__(self) -> Scheduler:
        self._ensure_services()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._close(exc_type, exc_val, exc_tb)

    def _live_loop(self) -> _LoopThread | None:
        """The running event loop thread, or ``None``. In a process forked from the one
        that started the scheduler, an error: the thread did not survive the fork."""
        loop = self._loop
        if loop is not None and loop.pid != os.getpid():
            raise RuntimeError(
                "This scheduler was started in the parent process before it forked (for "
                "example by gunicorn --preload or a multiprocessing pool); its thread does "
                "not exist in this child. Create or start the scheduler in each child "
                "process instead (for gunicorn: in a post_fork hook, or without --preload)."
            )
        return loop

    def _portal_here(self) -> BlockingPortal | None:
        """The portal of a loop thread running in this process, else ``None``."""
        loop = self._loop
        if loop is None or loop.pid != os.getpid():
            return None
        return loop.portal

    def _ensure_services(self) -> BlockingPortal:
        with self._lock:
            if self._live_loop() is None:
                loop = _LoopThread()
                assert loop.portal is not None
                context = loop.portal.wrap_async_context_manager(self._async)
                try:
                    context.__enter__()
                except BaseException:
                    loop.close()
                    raise
                self._context = context
                self._loop = loop
                current_scheduler.set(self)
                if not self._atexit_registered:
                    atexit.register(self._close_at_exit)
                    self._atexit_registered = True
            assert self._loop is not None and self._loop.portal is not None
            return self._loop.portal

    def _close(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None or loop.pid != os.getpid():
            return  # a copy inherited through fork has nothing to shut down here
        assert loop.portal is not None
        try:
            self._context.__exit__(exc_type, exc_val, exc_tb)
        finally:
            loop.close()
            if current_scheduler.get() is self:
                current_scheduler.set(None)

    def _close_at_exit(self) -> None:
        try:
            self._close()
        except Exception:  # pragma: no cover - nothing left to report to at exit
            self._async.logger.exception("Error shutting down the scheduler at exit")

    def _call(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        portal = self._ensure_services()
        return portal.call(_invoke, partial(method, *args, **kwargs))

    def start_in_background(self) -> None:
        """Run the scheduler in its own thread and return at once."""
        uwsgi = sys.modules.get("uwsgi")
        if uwsgi is not None and not getattr(uwsgi, "has_threads", True):
            raise RuntimeError(
                "uWSGI runs without threads; start it with --enable-threads to use a "
                "background scheduler"
            )
        self._call(self._async.start_in_background)

    def run_until_stopped(self) -> None:
        """Run the scheduler, blocking this thread until :meth:`stop` (or Ctrl-C)."""
        portal = self._ensure_services()
        try:
            portal.call(self._async.run_until_stopped)
        except KeyboardInterrupt:
            self.stop()
            self.wait_until_stopped()
            raise

    def stop(self, *, timeout: float | timedelta | None | UnsetValue = unset) -> None:
        """Ask the scheduler to stop (see :meth:`AsyncScheduler.stop`)."""
        portal = self._portal_here()
        if portal is None:
            return  # not running (in this process: a forked copy has nothing to stop)
        portal.call(partial(self._async.stop, timeout=timeout))

    def wait_until_stopped(self) -> None:
        """Block until the scheduler has completely stopped."""
        portal = self._portal_here()
        if portal is None:
            return  # not running (in this process: a forked copy has nothing to stop)
        portal.call(self._async.wait_until_stopped)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler and release its resources; with ``wait`` running jobs
        finish first."""
        portal = self._portal_here()
        if portal is None:
            return  # not running (in this process: a forked copy has nothing to stop)
        portal.call(partial(self._async.shutdown, wait=wait))
        self._close()

    def cleanup(self) -> None:
        self._call(self._async.cleanup)

    # Events

    def subscribe(
        self,
        callback: Callable[[Event], Any],
        event_types: type[Event] | str | Iterable[type[Event] | str] | None = None,
        *,
        one_shot: bool = False,
    ) -> Subscription:
        """Call ``callback`` (in a thread of its own) for each matching event."""
        self._ensure_services()
        return self._async.subscribe(callback, event_types, one_shot=one_shot, is_async=False)

    def get_next_event(
        self, event_types: type[Event] | str | Iterable[type[Event] | str]
    ) -> Event:
        return self._call(self._async.get_next_event, event_types)

    # Tasks

    def configure_task(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        *,
        func: Callable[..., Any] | UnsetValue = unset,
        job_executor: str | UnsetValue = unset,
        misfire_grace_time: float | timedelta | None | UnsetValue = unset,
        max_running_jobs: int | None | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
    ) -> Task:
        return self._call(
            self._async.configure_task,
            func_or_task_id,
            func=func,
            job_executor=job_executor,
            misfire_grace_time=misfire_grace_time,
            max_running_jobs=max_running_jobs,
            metadata=metadata,
        )

    def get_tasks(self) -> Sequence[Task]:
        return self._call(self._async.get_tasks)

    def get_task(self, task_id: str) -> Task:
        return self._call(self._async.get_task, task_id)

    def remove_task(self, task_id: str) -> None:
        self._call(self._async.remove_task, task_id)

    # Schedules

    def add_schedule(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        trigger: Trigger | str,
        *,
        id: str | None = None,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
        paused: bool = False,
        coalesce: CoalescePolicy | str | bool = CoalescePolicy.latest,
        job_executor: str | UnsetValue = unset,
        misfire_grace_time: float | timedelta | None | UnsetValue = unset,
        max_running_jobs: int | None | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
        max_jitter: float | timedelta | None = None,
        job_result_expiration_time: float | timedelta = 0,
        conflict_policy: ConflictPolicy | str = ConflictPolicy.do_nothing,
        **trigger_kwargs: Any,
    ) -> str:
        return self._call(
            self._async.add_schedule,
            func_or_task_id,
            trigger,
            id=id,
            args=args,
            kwargs=kwargs,
            name=name,
            paused=paused,
            coalesce=coalesce,
            job_executor=job_executor,
            misfire_grace_time=misfire_grace_time,
            max_running_jobs=max_running_jobs,
            metadata=metadata,
            max_jitter=max_jitter,
            job_result_expiration_time=job_result_expiration_time,
            conflict_policy=conflict_policy,
            **trigger_kwargs,
        )

    def get_schedule(self, id: str) -> Schedule:
        return self._call(self._async.get_schedule, id)

    def get_schedules(self) -> list[Schedule]:
        return self._call(self._async.get_schedules)

    def remove_schedule(self, id: str) -> None:
        self._call(self._async.remove_schedule, id)

    def pause_schedule(self, id: str, *, note: str | None = None) -> None:
        self._call(self._async.pause_schedule, id, note=note)

    def unpause_schedule(self, id: str, *, resume_from: datetime | str | None = None) -> None:
        self._call(self._async.unpause_schedule, id, resume_from=resume_from)

    def configure_schedule(self, id: str, **changes: Any) -> Schedule:
        return self._call(self._async.configure_schedule, id, **changes)

    def run_schedule_now(self, id: str) -> UUID:
        return self._call(self._async.run_schedule_now, id)

    # Jobs

    def add_job(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        *,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        job_executor: str | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
        result_expiration_time: timedelta | float = 0,
    ) -> UUID:
        return self._call(
            self._async.add_job,
            func_or_task_id,
            args=args,
            kwargs=kwargs,
            job_executor=job_executor,
            metadata=metadata,
            result_expiration_time=result_expiration_time,
        )

    def get_jobs(self) -> Sequence[Job]:
        return self._call(self._async.get_jobs)

    def remove_job(self, job_id: UUID | str) -> bool:
        return self._call(self._async.remove_job, job_id)

    def get_job_result(self, job_id: UUID | str, *, wait: bool = True) -> JobResult | None:
        return self._call(self._async.get_job_result, job_id, wait=wait)

    def run_job(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        *,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        job_executor: str | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
    ) -> Any:
        return self._call(
            self._async.run_job,
            func_or_task_id,
            args=args,
            kwargs=kwargs,
            job_executor=job_executor,
            metadata=metadata,
        )

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncScheduler", "Scheduler", 1)
