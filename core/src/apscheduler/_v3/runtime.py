"""The asynchronous side of an APScheduler 3 scheduler.

One :class:`Runtime` runs in one event loop (the loop thread of a background or blocking
scheduler, or the application's loop for :class:`AsyncIOScheduler`). It holds one core
:class:`~apscheduler.AsyncScheduler` per job store alias (each with its own data store
and local event broker, all sharing the v3 executors), so there is no second scheduling
engine: fire times, misfires, coalescing, leases and job execution are the core's.

Everything the v3 API does to the stores is an *operation* run by the runtime's host
task, one at a time and in submission order (APScheduler 3 serialised them with a lock
too). Callers in other threads wait for the result; callers in the loop thread (async
jobs, listeners, code running on an ``AsyncIOScheduler``'s loop) cannot block, so they
get their answer from :attr:`Runtime.mirror`, the runtime's copy of the jobs it knows,
kept up to date by the operations and by the stores' events.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from .._clock import get_clock
from .._enums import ConflictPolicy, JobOutcome
from .._events import Event, JobAcquired, JobReleased, ScheduleRemoved, ScheduleUpdated
from .._exceptions import (
    ConflictingIdError,
    JobCancelled,
    JobTimedOut,
    TaskLookupError,
)
from .._marshalling import normalize_callable
from .._schedulers.async_ import AsyncScheduler
from .._structures import RemoteError
from ..abc import DataStore, JobExecutor
from ..eventbrokers.local import LocalEventBroker
from ..events import (
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from ..executors.base import BaseExecutor
from ..job import Job
from ..jobstores.base import BaseJobStore, JobLookupError
from . import jobs as v3jobs

if TYPE_CHECKING:
    from ..schedulers.base import BaseScheduler

Operation = Callable[..., Awaitable[Any]]
Mutation = Callable[[Job], "Job | None"]


class SchedulerStoppedError(RuntimeError):
    """The runtime has shut down (or failed to start) and takes no more operations."""


class Runtime:
    """See the module docstring. Every method not marked thread-safe must be called in
    the runtime's event loop thread."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        jobstores: dict[str, Any],
        executors: dict[str, JobExecutor],
        *,
        paused: bool,
        pending: list[tuple[Job, str, bool]],
    ):
        self._scheduler = scheduler
        self._jobstore_specs = dict(jobstores)
        self._executors = dict(executors)
        self._paused = paused
        self._pending = list(pending)
        #: Until the pending jobs are stored, jobs added in the loop thread join them
        self.accepting_pending = True
        self._logger: logging.Logger = scheduler._logger
        self._schedulers: dict[str, AsyncScheduler] = {}
        self._closers: dict[str, tuple[anyio.Event, anyio.Event]] = {}
        self._task_group: TaskGroup | None = None
        #: alias -> job ID -> the latest known state of the job (loop thread only)
        self.mirror: dict[str, dict[str, Job]] = {}
        #: (alias, job ID) -> the callable of a job whose function has no reference
        self._funcs: dict[tuple[str, str], Callable[..., Any]] = {}
        self._silent_removals: set[tuple[str, str]] = set()
        self._send, self._receive = anyio.create_memory_object_stream[
            tuple[Operation, tuple[Any, ...], "Future[Any] | None"]
        ](math.inf)
        self._closing = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread_id: int | None = None
        #: Set once the runtime has started (or failed to); holds the failure
        self.started: Future[None] = Future()
        #: Set once the runtime has completely stopped
        self.finished = threading.Event()
        self._loop_ready = threading.Event()

    # ------------------------------------------------------------------ thread-safe API

    def in_loop_thread(self) -> bool:
        """Whether the caller runs in the runtime's event loop thread (thread-safe)."""
        return self.loop_thread_id == threading.get_ident()

    def submit(self, operation: Operation, *args: Any) -> Future[Any]:
        """Queue an operation; the returned future gets its result (thread-safe)."""
        future: Future[Any] = Future()
        item = (operation, args, future)
        if self.loop is None and not self.in_loop_thread():
            self._loop_ready.wait(10)  # the host task is about to start
        if self.finished.is_set():
            future.set_exception(SchedulerStoppedError("The scheduler has been shut down"))
        elif self.loop is None or self.in_loop_thread():
            self._queue(item)
        else:
            try:
                self.loop.call_soon_threadsafe(self._queue, item)
            except RuntimeError:  # the loop is closed
                future.set_exception(SchedulerStoppedError("The scheduler has been shut down"))
        return future

    def call(self, operation: Operation, *args: Any) -> Any:
        """Run an operation and wait for its result (from a thread other than the loop's)."""
        return self.submit(operation, *args).result()

    def submit_and_log(self, operation: Operation, *args: Any) -> Future[Any]:
        """Queue an operation nobody waits for; its failure is logged."""
        future = self.submit(operation, *args)
        future.add_done_callback(self._log_failure)
        return future

    def _log_failure(self, future: Future[Any]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None and not isinstance(exc, SchedulerStoppedError):
            self._logger.error("A scheduler operation failed: %s", exc, exc_info=exc)

    def _queue(self, item: tuple[Operation, tuple[Any, ...], Future[Any] | None]) -> None:
        try:
            self._send.send_nowait(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            if item[2] is not None and not item[2].done():
                item[2].set_exception(SchedulerStoppedError("The scheduler has been shut down"))

    # ------------------------------------------------------------------ host task

    async def run(self) -> None:
        """The host task: open the stores, store the pending jobs, start the core
        schedulers, then run operations until shut down."""
        self.loop = asyncio.get_running_loop()
        self.loop_thread_id = threading.get_ident()
        self._loop_ready.set()
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                try:
                    await self._start_up()
                except BaseException as exc:
                    with anyio.CancelScope(shield=True):
                        await self._close_stores()
                    if not self.started.done():
                        self.started.set_exception(exc)
                    raise
                self._scheduler._logger.info("Scheduler started")
                self._dispatch(SchedulerEvent(EVENT_SCHEDULER_STARTED))
                self.started.set_result(None)
                try:
                    await self._serve()
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._stop_engines(wait=False)
                        await self._close_stores()
        finally:
            self._send.close()
            self._fail_queued()
            self.finished.set()

    async def _start_up(self) -> None:
        for alias, spec in self._jobstore_specs.items():
            await self._open_store(alias, spec)
        while self._pending:
            job, alias, replace_existing = self._pending.pop(0)
            try:
                await self.add_job(job, alias, replace_existing)
            except Exception:
                self._logger.exception(
                    "Could not add the job %r (added before start) to job store %r",
                    job.id,
                    alias,
                )
        self.accepting_pending = False
        if not self._paused:
            await self._start_engines()

    async def _serve(self) -> None:
        while not self._closing:
            operation, args, future = await self._receive.receive()
            if future is not None and not future.set_running_or_notify_cancel():
                continue
            try:
                result = await operation(*args)
            except BaseException as exc:
                if future is not None:
                    future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if future is not None:
                    future.set_result(result)

    def _fail_queued(self) -> None:
        while True:
            try:
                _, _, future = self._receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            if future is not None and not future.done():
                future.set_exception(SchedulerStoppedError("The scheduler has been shut down"))
        self._receive.close()

    # ------------------------------------------------------------------ stores

    async def _open_store(self, alias: str, spec: Any) -> None:
        """Start a core scheduler (not yet processing) for the job store ``alias``."""
        data_store: DataStore = spec.data_store if isinstance(spec, BaseJobStore) else spec
        broker = LocalEventBroker()
        scheduler = AsyncScheduler(
            data_store,
            broker,
            job_executors=dict(self._executors),
            timezone=self._scheduler.timezone,
            logger=self._logger,
        )
        close = anyio.Event()
        closed = anyio.Event()
        assert self._task_group is not None
        # The core scheduler's context lives in a task of its own, so that job stores can
        # be closed in any order (a task's cancel scopes must be exited in order)
        await self._task_group.start(self._hold_store, scheduler, close, closed)
        self._closers[alias] = (close, closed)
        self._schedulers[alias] = scheduler
        try:
            broker.subscribe(
                partial(self._on_event, alias),
                {JobAcquired, JobReleased, ScheduleUpdated, ScheduleRemoved},
            )
            self.mirror[alias] = {job.id: job for job in await self._read_jobs(alias)}
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._close_store(alias)
            raise
        for executor in self._executors.values():
            if isinstance(executor, BaseExecutor):
                executor._remember_outcomes = True

    async def _hold_store(
        self,
        scheduler: AsyncScheduler,
        close: anyio.Event,
        closed: anyio.Event,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            async with scheduler:
                task_status.started()
                await close.wait()
        except Exception:
            self._logger.exception("Error closing the job store %r", scheduler.data_store)
        finally:
            closed.set()

    async def _close_store(self, alias: str) -> None:
        scheduler = self._schedulers.pop(alias, None)
        closers = self._closers.pop(alias, None)
        self.mirror.pop(alias, None)
        if scheduler is not None:
            scheduler.stop(timeout=0)
            await scheduler.wait_until_stopped()
        if closers is not None:
            close, closed = closers
            close.set()
            await closed.wait()

    async def _close_stores(self) -> None:
        for alias in list(self._closers):
            await self._close_store(alias)

    def _store(self, alias: str) -> AsyncScheduler:
        try:
            return self._schedulers[alias]
        except KeyError:
            raise KeyError(f"No such job store: {alias}") from None

    def aliases(self, jobstore: str | None) -> list[str]:
        if jobstore is None:
            return list(self._schedulers)
        self._store(jobstore)
        return [jobstore]

    # ------------------------------------------------------------------ core schedulers

    async def _start_engines(self) -> None:
        for scheduler in self._schedulers.values():
            await scheduler.wait_until_stopped()
            await scheduler.start_in_background()

    async def _stop_engines(self, wait: bool) -> None:
        for scheduler in self._schedulers.values():
            scheduler.stop(timeout=None if wait else 0)
        for scheduler in self._schedulers.values():
            await scheduler.wait_until_stopped()

    async def pause(self) -> None:
        """Stop taking new work (running jobs go on); the stores stay open."""
        self._paused = True
        for scheduler in self._schedulers.values():
            scheduler.stop(timeout=None)

    async def resume(self) -> None:
        """Start processing again (once the jobs running at pause time have finished)."""
        self._paused = False
        await self._start_engines()

    async def shutdown(self, wait: bool) -> None:
        """Stop the core schedulers and close the stores; this is the last operation.

        With ``wait`` running jobs finish first; without it they are cancelled if the
        scheduler says so (``_cancel_jobs_without_wait``: asyncio, like APScheduler 3's
        asyncio executor), else left to finish (threads cannot be interrupted, and v3's
        pool executors let them finish and report their results).
        """
        self._closing = True
        await self._stop_engines(wait or not self._scheduler._cancel_jobs_without_wait)
        await self._close_stores()
        self._scheduler._logger.info("Scheduler has been shut down")
        self._dispatch(SchedulerEvent(EVENT_SCHEDULER_SHUTDOWN))

    async def add_jobstore(self, alias: str, spec: Any) -> None:
        await self._open_store(alias, spec)
        if not self._paused:
            await self._schedulers[alias].start_in_background()

    async def remove_jobstore(self, alias: str) -> None:
        self._store(alias)
        await self._close_store(alias)

    async def add_executor(self, alias: str, executor: JobExecutor) -> None:
        self._executors[alias] = executor
        if isinstance(executor, BaseExecutor):
            executor._remember_outcomes = True
        for scheduler in self._schedulers.values():
            scheduler.job_executors[alias] = executor

    async def remove_executor(self, alias: str) -> None:
        self._executors.pop(alias, None)
        for scheduler in self._schedulers.values():
            scheduler.job_executors.pop(alias, None)

    # ------------------------------------------------------------------ reading jobs

    async def _read_jobs(self, alias: str, job_id: str | None = None) -> list[Job]:
        scheduler = self._store(alias)
        store = scheduler.data_store
        schedules = await store.get_schedules(None if job_id is None else {job_id})
        if job_id is not None:
            try:
                tasks = {schedules[0].task_id: await store.get_task(schedules[0].task_id)}
            except (IndexError, TaskLookupError):
                tasks = {}
        else:
            tasks = {task.id: task for task in await store.get_tasks()}
        jobs = []
        for schedule in schedules:
            func = self._funcs.get((alias, schedule.id))
            jobs.append(
                v3jobs.from_schedule(
                    self._scheduler, alias, schedule, tasks.get(schedule.task_id), func
                )
            )
        return jobs

    async def lookup(self, job_id: str, jobstore: str | None) -> Job:
        """The stored job (JobLookupError if there is none)."""
        for alias in self.aliases(jobstore):
            found = await self._read_jobs(alias, job_id)
            if found:
                self.mirror[alias][job_id] = found[0]
                return found[0]._copy()
        raise JobLookupError(job_id)

    async def get_jobs(self, jobstore: str | None) -> list[Job]:
        result: list[Job] = []
        for alias in self.aliases(jobstore):
            jobs = await self._read_jobs(alias)
            self.mirror[alias] = {job.id: job for job in jobs}
            result.extend(job._copy() for job in _sorted_jobs(jobs))
        return result

    def mirror_lookup(self, job_id: str, jobstore: str | None) -> Job:
        for alias in self.aliases(jobstore):
            job = self.mirror.get(alias, {}).get(job_id)
            if job is not None:
                return job._copy()
        raise JobLookupError(job_id)

    def mirror_jobs(self, jobstore: str | None) -> list[Job]:
        result: list[Job] = []
        for alias in self.aliases(jobstore):
            result.extend(job._copy() for job in _sorted_jobs(self.mirror.get(alias, {}).values()))
        return result

    # ------------------------------------------------------------------ writing jobs

    def preview_add(self, job: Job, alias: str, replace_existing: bool, now: datetime) -> Job:
        """What :meth:`add_job` will store, recorded in the mirror at once (for callers in
        the loop thread, who cannot wait for the store)."""
        self._store(alias)
        if not replace_existing and job.id in self.mirror.get(alias, {}):
            raise ConflictingIdError(job.id)
        prepared = v3jobs.prepare_for_store(job, self._scheduler._job_defaults, now)
        prepared._jobstore_alias = alias
        self.mirror[alias][prepared.id] = prepared
        return prepared._copy()

    async def add_job(
        self, job: Job, alias: str, replace_existing: bool, prepared: Job | None = None
    ) -> Job:
        scheduler = self._store(alias)
        if prepared is None:
            prepared = v3jobs.prepare_for_store(
                job, self._scheduler._job_defaults, get_clock().now()
            )
        prepared._jobstore_alias = alias
        policy = ConflictPolicy.replace if replace_existing else ConflictPolicy.exception
        try:
            if not replace_existing and await scheduler.data_store.get_schedules({job.id}):
                raise ConflictingIdError(job.id)
            await self._write(alias, prepared, policy)
        except BaseException:
            self.mirror.get(alias, {}).pop(job.id, None)
            raise
        self._scheduler._logger.info('Added job "%s" to job store "%s"', prepared.name, alias)
        self._dispatch(JobEvent(EVENT_JOB_ADDED, prepared.id, alias))
        return prepared._copy()

    async def _write(self, alias: str, job: Job, policy: ConflictPolicy) -> None:
        scheduler = self._store(alias)
        executor = scheduler.job_executors.get(job.executor)
        if executor is None:
            raise KeyError(f"No such executor: {job.executor}")
        func, args, kwargs = normalize_callable(job.func, job.args, job.kwargs)
        executor.check_job_arguments(func, args, kwargs)
        await scheduler.configure_task(
            job.id, func=func, job_executor=job.executor, max_running_jobs=job.max_instances
        )
        if job.func_ref is None:
            self._funcs[(alias, job.id)] = func
        stored = job._copy()
        stored.func, stored.args, stored.kwargs = func, args, kwargs
        await scheduler.data_store.add_schedule(v3jobs.to_schedule(stored), policy)
        stored._jobstore_alias = alias
        self.mirror[alias][job.id] = stored

    async def update_job(
        self, job_id: str, jobstore: str | None, mutation: Mutation
    ) -> Job | None:
        """Apply ``mutation`` to the stored job and save the result (``None`` from the
        mutation removes the job). Returns the saved job."""
        job = await self.lookup(job_id, jobstore)
        alias = job._jobstore_alias
        assert alias is not None
        updated = mutation(job)
        if updated is None:
            await self.remove_job(job_id, alias)
            return None
        await self._write(alias, updated, ConflictPolicy.replace)
        self._dispatch(JobEvent(EVENT_JOB_MODIFIED, job_id, alias))
        return updated._copy()

    async def remove_job(self, job_id: str, jobstore: str | None) -> None:
        for alias in self.aliases(jobstore):
            store = self._store(alias).data_store
            if await store.get_schedules({job_id}):
                await store.remove_schedules({job_id})
                self.mirror[alias].pop(job_id, None)
                self._funcs.pop((alias, job_id), None)
                self._scheduler._logger.info("Removed job %s", job_id)
                await self._discard_task(alias, job_id)
                return
        raise JobLookupError(job_id)

    async def remove_all_jobs(self, jobstore: str | None) -> None:
        for alias in self.aliases(jobstore):
            store = self._store(alias).data_store
            ids = {schedule.id for schedule in await store.get_schedules()}
            keys = {(alias, job_id) for job_id in ids}
            self._silent_removals |= keys
            try:
                await store.remove_schedules(ids)
            finally:
                self._silent_removals -= keys
            self.mirror[alias] = {}
            for job_id in ids:
                self._funcs.pop((alias, job_id), None)
                await self._discard_task(alias, job_id)
        self._dispatch(SchedulerEvent(EVENT_ALL_JOBS_REMOVED, jobstore))

    async def _discard_task(self, alias: str, task_id: str) -> None:
        """Remove the task of a removed v3 job once none of its runs is queued or running."""
        scheduler = self._schedulers.get(alias)
        if scheduler is None:
            return
        store = scheduler.data_store
        if await store.get_schedules({task_id}):
            return  # the job was added again meanwhile
        if any(job.task_id == task_id for job in await store.get_jobs()):
            return  # removed again once that run is released
        try:
            await scheduler.remove_task(task_id)
        except TaskLookupError:
            pass

    async def _remove_finished(self, alias: str, job_id: str) -> None:
        """Remove a job whose trigger has no more run times (as APScheduler 3 does)."""
        scheduler = self._schedulers.get(alias)
        if scheduler is None:
            return
        found = await scheduler.data_store.get_schedules({job_id})
        if found and found[0].next_fire_time is None and not found[0].paused:
            await scheduler.data_store.remove_schedules({job_id})
            self.mirror[alias].pop(job_id, None)
            await self._discard_task(alias, job_id)

    # ------------------------------------------------------------------ events

    def _dispatch(self, event: SchedulerEvent) -> None:
        self._scheduler._dispatch_event(event)

    def _on_event(self, alias: str, event: Event) -> None:
        """Translate a core event of the store ``alias`` into v3 terms (runs inline when
        the event is published, in the loop thread)."""
        try:
            if isinstance(event, JobReleased):
                self._on_job_released(alias, event)
            elif isinstance(event, JobAcquired):
                run_times = [] if event.scheduled_start is None else [event.scheduled_start]
                job_id = event.schedule_id or str(event.job_id)
                self._dispatch(JobSubmissionEvent(EVENT_JOB_SUBMITTED, job_id, alias, run_times))
            elif isinstance(event, ScheduleUpdated):
                job = self.mirror.get(alias, {}).get(event.schedule_id)
                if job is not None:
                    job._next_fire_time = event.next_fire_time or job._next_fire_time
                    if event.next_fire_time is None and not job._paused:
                        self.submit_and_log(self._remove_finished, alias, event.schedule_id)
            elif isinstance(event, ScheduleRemoved):
                self.mirror.get(alias, {}).pop(event.schedule_id, None)
                if (alias, event.schedule_id) not in self._silent_removals:
                    self._dispatch(JobEvent(EVENT_JOB_REMOVED, event.schedule_id, alias))
        except Exception:
            self._logger.exception("Error translating the %s event", type(event).__name__)

    def _on_job_released(self, alias: str, event: JobReleased) -> None:
        job_id = event.schedule_id or str(event.job_id)
        outcome = None
        for executor in self._executors.values():
            if isinstance(executor, BaseExecutor):
                outcome = executor.pop_outcome(event.job_id)
                if outcome is not None:
                    break
        retval, exception = outcome if outcome is not None else (None, None)
        if event.outcome is JobOutcome.success:
            v3_event = JobExecutionEvent(
                EVENT_JOB_EXECUTED, job_id, alias, event.scheduled_start, retval=retval
            )
        elif event.outcome is JobOutcome.missed_start_deadline:
            v3_event = JobExecutionEvent(EVENT_JOB_MISSED, job_id, alias, event.scheduled_start)
        else:
            exception = exception or _exception_for(event)
            if exception.__traceback__ is not None:
                formatted = "".join(traceback.format_tb(exception.__traceback__))
            else:
                formatted = "".join(event.exception_traceback or [])
            v3_event = JobExecutionEvent(
                EVENT_JOB_ERROR,
                job_id,
                alias,
                event.scheduled_start,
                exception=exception,
                traceback=formatted or None,
            )
        self._dispatch(v3_event)
        if (
            event.schedule_id is not None
            and event.schedule_id == event.task_id
            and event.schedule_id not in self.mirror.get(alias, {})
        ):
            self.submit_and_log(self._discard_task, alias, event.task_id)


def _exception_for(event: JobReleased) -> BaseException:
    """An exception object for a job that did not succeed, when the executor did not keep
    the original one (it ran elsewhere, or it was cancelled, timed out or abandoned)."""
    if event.outcome is JobOutcome.cancelled:
        return JobCancelled(f"Job {event.job_id} was cancelled")
    if event.outcome is JobOutcome.timed_out:
        return JobTimedOut(f"Job {event.job_id} timed out")
    if event.outcome is JobOutcome.error and event.exception_type:
        return RemoteError(event.exception_message or "", event.exception_type)
    return RuntimeError(f"Job {event.job_id} ended with outcome {event.outcome.name}")


def _sorted_jobs(jobs: Any) -> list[Job]:
    """Jobs by next run time, paused ones last (APScheduler 3's order)."""

    def key(job: Job) -> tuple[int, float, str]:
        moment = job.next_run_time
        return (1, 0.0, job.id) if moment is None else (0, moment.timestamp(), job.id)

    return sorted(jobs, key=key)
