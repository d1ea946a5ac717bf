"""The asynchronous scheduler: the engine behind every scheduler class."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
import platform
import random
import sys
import traceback
import weakref
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, tzinfo
from logging import Logger
from types import TracebackType
from typing import Any
from uuid import UUID

import anyio
import anyio.lowlevel

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup
from anyio import TASK_STATUS_IGNORED, CancelScope, get_cancelled_exc_class
from anyio.abc import TaskGroup, TaskStatus

from .._clock import get_clock
from .._context import current_async_scheduler
from .._converters import as_aware_datetime, as_enum, as_timedelta, as_timezone
from .._decorators import get_task_parameters
from .._enums import CoalescePolicy, ConflictPolicy, JobOutcome, RunState, SchedulerRole
from .._events import (
    Event,
    JobAdded,
    JobReleased,
    ScheduleAdded,
    SchedulerStarted,
    SchedulerStopped,
    ScheduleTriggerFailed,
    ScheduleUpdated,
    TaskRemoved,
    TaskUpdated,
)
from .._exceptions import (
    CallableLookupError,
    JobCancelled,
    JobDeadlineMissed,
    JobLookupError,
    JobResultNotReady,
    JobTimedOut,
    ScheduleLookupError,
    SerializationError,
    TaskLookupError,
)
from .._marshalling import callable_from_ref, callable_to_ref, normalize_callable
from .._registry import get_registry
from .._structures import (
    Job,
    JobResult,
    Schedule,
    ScheduleResult,
    Task,
    TaskDefaults,
    TaskParameters,
    UnsetValue,
    new_uuid4,
    unset,
)
from ..abc import DataStore, EventBroker, JobExecutor, Subscription, Trigger
from ..serializers import serialize_arguments
from ._eager import eager
from ._tasks import build_task, tasks_differ

_NOT_FOUND = object()
_NO_JITTER = timedelta(0)
#: At most this many extra event loop turns are spent gathering jobs before acquiring.
_GATHER_TURNS = 16


def _default_identity(obj: object) -> str:
    return f"{platform.node()}-{os.getpid()}-{id(obj)}"


def _holds_only(group: BaseExceptionGroup, exc: BaseException) -> bool:
    """Whether every exception in ``group`` (nested groups included) is ``exc``."""
    return all(
        _holds_only(inner, exc) if isinstance(inner, BaseExceptionGroup) else inner is exc
        for inner in group.exceptions
    )


class AsyncScheduler:
    """Runs schedules and jobs; use it as an async context manager.

    :param data_store: a :class:`~apscheduler.abc.DataStore`, a registered name
        (``"memory"``), a URL (``"sqlite:///jobs.db"``) or a ``{"type": ..., ...}`` dict
    :param event_broker: an :class:`~apscheduler.abc.EventBroker`, a name, a URL
        (``"redis://localhost"``) or a dict
    :param lease_duration: how long acquired schedules and jobs stay reserved for this
        scheduler without renewal (renewed every half of it while jobs run)
    :param identity: unique ID of this scheduler (default: host-pid-object id)
    :param role: ``scheduler`` (process schedules), ``worker`` (run jobs) or ``both``
    :param task_defaults: defaults for tasks that do not set a value
    :param max_concurrent_jobs: how many jobs this scheduler runs at once
    :param job_executors: extra or replacement executors by name; names not listed here
        (``"processpool"``) are created from installed plugins on first use
    :param cleanup_interval: how often to purge expired results, abandoned jobs and
        finished schedules (``None`` disables it)
    :param poll_interval: upper bound on how long the scheduler sleeps without checking
        the store, so a lost wake-up notification never stalls work
    :param stop_timeout: how long ``stop()`` lets running jobs finish before cancelling
    :param timezone: default zone for triggers created by name and naive datetimes
    :param schedule_batch_size: schedules acquired per store round trip
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
        registry = get_registry()
        self.data_store: DataStore = registry.create(
            "data_store", data_store if data_store is not None else "memory", DataStore
        )
        self.event_broker: EventBroker = registry.create(
            "event_broker", event_broker if event_broker is not None else "local", EventBroker
        )
        self.lease_duration = as_timedelta(lease_duration)
        if self.lease_duration <= timedelta(0):
            raise ValueError("lease_duration must be positive")
        self.identity = identity or _default_identity(self)
        # A default identity names this process; a copy of the scheduler in a forked
        # child (gunicorn --preload) gets its own when it starts (see __aenter__)
        self._identity_pid: int | None = None if identity else os.getpid()
        self.role: SchedulerRole = as_enum(SchedulerRole)(role)
        self.task_defaults = task_defaults or TaskDefaults()
        if max_concurrent_jobs < 1:
            raise ValueError("max_concurrent_jobs must be at least 1")
        self.max_concurrent_jobs = max_concurrent_jobs
        self.job_executors: MutableMapping[str, JobExecutor] = {}
        if job_executors:
            for name, executor in job_executors.items():
                self.job_executors[name] = registry.create("job_executor", executor, JobExecutor)
        for name in ("async", "threadpool"):
            if name not in self.job_executors:
                self.job_executors[name] = registry.create("job_executor", name, JobExecutor)
        self.cleanup_interval = (
            None if cleanup_interval is None else as_timedelta(cleanup_interval)
        )
        self.poll_interval = as_timedelta(poll_interval)
        self.stop_timeout = as_timedelta(stop_timeout)
        self.timezone: tzinfo = as_timezone(timezone)
        if schedule_batch_size < 1:
            raise ValueError("schedule_batch_size must be at least 1")
        self.schedule_batch_size = schedule_batch_size
        self.logger = logger or logging.getLogger("apscheduler.scheduler")
        if not isinstance(self.task_defaults.job_executor, UnsetValue):
            self._get_executor_or_fail(self.task_defaults.job_executor)

        self._state = RunState.stopped
        self._services_initialized = False
        self._services_task_group: TaskGroup | None = None
        self._exit_stack: AsyncExitStack | None = None
        self._started_executors: set[str] = set()
        self._task_cache: dict[str, Task] = {}
        self._task_callables: dict[str, Callable[..., Any]] = {}
        self._task_ids: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._stopped_event = anyio.Event()
        self._stopped_event.set()
        self._initialized_event = anyio.Event()
        self._detached_run: Any = None
        self._drain_scope: CancelScope | None = None
        self._schedules_wakeup = anyio.Event()
        self._jobs_wakeup = anyio.Event()
        self._stop_requested = anyio.Event()
        self._job_stop_timeout: float = self.stop_timeout.total_seconds()
        self._running_jobs: dict[UUID, Job] = {}
        self._job_events = 0  # JobAdded/JobReleased events seen (see _gather_jobs)
        self._eager_pending = 0  # eager calls waiting to start (see _eager.EagerCall)
        self._pending_releases: list[tuple[Job, JobResult]] = []
        self._release_wakeup = anyio.Event()
        self._next_schedule_deadline: datetime | None = None
        self._executor_stack = AsyncExitStack()

    # ------------------------------------------------------------------ lifecycle

    @property
    def state(self) -> RunState:
        """The current run state."""
        return self._state

    async def __aenter__(self) -> AsyncScheduler:
        if self._identity_pid is not None and self._identity_pid != os.getpid():
            # Created before a fork: two processes must never share an identity, or
            # each would take the other's leased jobs for its own crashed ones
            self.identity = _default_identity(self)
            self._identity_pid = os.getpid()
        exit_stack = AsyncExitStack()
        await exit_stack.__aenter__()
        try:
            await self._initialize_services(exit_stack)
            self._services_task_group = await exit_stack.enter_async_context(
                anyio.create_task_group()
            )
            exit_stack.push_async_callback(self._stop_and_wait)
        except BaseException:
            await exit_stack.__aexit__(*sys.exc_info())
            raise
        self._exit_stack = exit_stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        exit_stack, self._exit_stack = self._exit_stack, None
        try:
            if exit_stack is not None:
                await exit_stack.__aexit__(exc_type, exc_val, exc_tb)
        except BaseExceptionGroup as group:
            # The services' task group wraps the exception raised in the ``async with``
            # body; when that is all the group holds, let the original propagate as is
            if exc_val is None or not _holds_only(group, exc_val):
                raise
        finally:
            self._services_initialized = False
            self._services_task_group = None

    async def _stop_and_wait(self) -> None:
        if self._state in (RunState.starting, RunState.started):
            self.stop()  # an earlier stop() keeps its own timeout
        await self.wait_until_stopped()

    async def _initialize_services(self, exit_stack: AsyncExitStack) -> None:
        if self._services_initialized:
            return
        await self.event_broker.start(exit_stack, self.logger)
        await self.data_store.start(exit_stack, self.event_broker, self.logger)
        self._services_initialized = True
        self._initialized_event.set()

        def reset() -> None:
            self._services_initialized = False
            self._initialized_event = anyio.Event()

        exit_stack.callback(reset)
        self.event_broker.subscribe(self._on_task_event, {TaskUpdated, TaskRemoved})

    async def _wait_initialized(self) -> None:
        await self._initialized_event.wait()

    def _check_initialized(self) -> None:
        if not self._services_initialized:
            raise RuntimeError(
                "The scheduler has not been initialized yet. Use the scheduler as an async "
                "context manager (async with AsyncScheduler() as scheduler: ...) first."
            )

    def _on_task_event(self, event: Event) -> None:
        task_id = getattr(event, "task_id", None)
        if task_id is not None:
            self._task_cache.pop(task_id, None)

    async def start_in_background(self) -> None:
        """Start the scheduler loops in the background and return once they run.

        Normally called inside ``async with scheduler:``. Under asyncio it also works
        without the context manager: the scheduler then sets up its own services in a
        background task, and ``stop()``/``shutdown()`` tear them down again.
        """
        if self._services_task_group is not None:
            await self._services_task_group.start(self.run_until_stopped)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._check_initialized()
            raise
        started = asyncio.Event()

        async def run_detached() -> None:
            await self.run_until_stopped(task_status=_SetOnStarted(started))

        self._detached_run = loop.create_task(run_detached())
        waiter = loop.create_task(started.wait())
        await asyncio.wait({self._detached_run, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            waiter.cancel()
            self._detached_run.result()  # re-raise why the scheduler could not start

    def stop(self, *, timeout: float | timedelta | None | UnsetValue = unset) -> None:
        """Ask the scheduler to stop; returns at once (see :meth:`wait_until_stopped`).

        No new schedules or jobs are taken. Running jobs may finish for ``timeout``
        seconds (default: the scheduler's ``stop_timeout``; ``None``: as long as they
        need), then they are cancelled.
        """
        if isinstance(timeout, UnsetValue):
            self._job_stop_timeout = self.stop_timeout.total_seconds()
        elif timeout is None:
            self._job_stop_timeout = math.inf
        else:
            self._job_stop_timeout = as_timedelta(timeout).total_seconds()
        drain_scope = self._drain_scope
        if drain_scope is not None:  # already draining: a shorter timeout takes effect
            try:
                deadline = anyio.current_time() + self._job_stop_timeout
            except RuntimeError:  # not called from the event loop thread
                deadline = drain_scope.deadline
            drain_scope.deadline = min(drain_scope.deadline, deadline)
        if self._state in (RunState.starting, RunState.started):
            self._state = RunState.stopping
            self._stop_requested.set()
            self._schedules_wakeup.set()
            self._jobs_wakeup.set()

    async def wait_until_stopped(self) -> None:
        """Return once the scheduler has completely stopped (jobs drained, loops ended)."""
        await self._stopped_event.wait()

    async def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler; with ``wait`` let running jobs finish and wait for that."""
        self.stop(timeout=None if wait else 0)
        if wait:
            await self.wait_until_stopped()

    async def run_until_stopped(
        self, *, task_status: TaskStatus[None] = TASK_STATUS_IGNORED
    ) -> None:
        """Run the scheduler in the foreground until :meth:`stop` is called."""
        if self._state is not RunState.stopped:
            raise RuntimeError(
                f"Cannot start the scheduler when it is in the {self._state.name} state"
            )
        self._state = RunState.starting
        self._stopped_event = anyio.Event()
        self._stop_requested = anyio.Event()
        self._schedules_wakeup = anyio.Event()
        self._jobs_wakeup = anyio.Event()
        exception: BaseException | None = None
        token = current_async_scheduler.set(self)
        try:
            async with AsyncExitStack() as exit_stack:
                if not self._services_initialized:
                    await self._initialize_services(exit_stack)
                async with anyio.create_task_group() as tg:
                    if self.role is not SchedulerRole.worker:
                        await tg.start(self._process_schedules)
                    if self.role is not SchedulerRole.scheduler:
                        await tg.start(self._process_jobs)
                    if self.cleanup_interval is not None:
                        tg.start_soon(self._cleanup_loop)
                    if self._state is RunState.starting:
                        self._state = RunState.started
                    self.logger.info(
                        "Scheduler %s started (role: %s)", self.identity, self.role.name
                    )
                    await self.event_broker.publish_local(SchedulerStarted())
                    self._call_lifecycle_hook("scheduler_started")
                    task_status.started()
                    await self._stop_requested.wait()
                    self._schedules_wakeup.set()
                    self._jobs_wakeup.set()
        except BaseException as exc:
            exception = exc
            if isinstance(exc, Exception):
                self.logger.exception("Scheduler crashed")
            raise
        finally:
            current_async_scheduler.reset(token)
            self._state = RunState.stopped
            self.logger.info("Scheduler %s stopped", self.identity)
            with CancelScope(shield=True), anyio.move_on_after(3):
                await self.event_broker.publish_local(
                    SchedulerStopped(
                        exception=None
                        if isinstance(exception, get_cancelled_exc_class())
                        else exception
                    )
                )
            self._call_lifecycle_hook("scheduler_stopped")
            self._stopped_event.set()

    def _call_lifecycle_hook(self, name: str) -> None:
        """Call every plugin's ``name`` hook; one that raises is logged and does not
        keep the others from being called (pluggy's own call would stop at it)."""
        for impl in getattr(get_registry().hook, name).get_hookimpls():
            try:
                impl.function(scheduler=self)
            except Exception:
                self.logger.exception(
                    "A plugin's %s hook raised (plugin %r)", name, impl.plugin_name
                )

    # ------------------------------------------------------------------ events

    def subscribe(
        self,
        callback: Callable[[Event], Any],
        event_types: type[Event] | str | Iterable[type[Event] | str] | None = None,
        *,
        one_shot: bool = False,
        is_async: bool = True,
    ) -> Subscription:
        """Call ``callback`` for each event of ``event_types`` (classes or names;
        ``None`` = all). ``is_async=False`` runs a blocking callback in its own thread."""
        self._check_initialized()
        return self.event_broker.subscribe(
            callback, event_types, is_async=is_async, one_shot=one_shot
        )

    async def get_next_event(
        self, event_types: type[Event] | str | Iterable[type[Event] | str]
    ) -> Event:
        """Wait for the next event of the given type(s) and return it."""
        received: list[Event] = []
        event = anyio.Event()

        def callback(ev: Event) -> None:
            received.append(ev)
            event.set()

        with self.subscribe(callback, event_types, one_shot=True):
            await event.wait()
        return received[0]

    # ------------------------------------------------------------------ tasks

    @eager
    async def configure_task(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        *,
        func: Callable[..., Any] | UnsetValue = unset,
        job_executor: str | UnsetValue = unset,
        misfire_grace_time: float | timedelta | None | UnsetValue = unset,
        max_running_jobs: int | None | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
    ) -> Task:
        """Add or update a task. Settings come, in order of priority, from the arguments,
        the stored task, the function's ``@task`` decorator and the scheduler's
        ``task_defaults``. Scheduling a function again does not reset them."""
        self._check_initialized()
        explicit = TaskParameters(
            job_executor=job_executor,
            max_running_jobs=max_running_jobs,
            misfire_grace_time=misfire_grace_time,  # type: ignore[arg-type]
            metadata=metadata,
        )
        if isinstance(func_or_task_id, Task):
            task = func_or_task_id
            if not isinstance(func, UnsetValue):
                self._task_callables[task.id] = func
            return await self._store_task(task, func if callable(func) else None, explicit)
        if callable(func_or_task_id):
            if not isinstance(func, UnsetValue):
                raise TypeError("func cannot be given when the first argument is a callable")
            func = func_or_task_id
            task_id = self._task_id_for(func)
        elif isinstance(func_or_task_id, str) and func_or_task_id:
            task_id = func_or_task_id
        else:
            raise TypeError(
                "configure_task() needs a callable, a Task or a non-empty task ID string; "
                f"got {func_or_task_id!r}"
            )
        return await self._configure(task_id, func if callable(func) else None, explicit)

    def _task_id_for(self, func: Callable[..., Any]) -> str:
        try:
            return self._task_ids[func]
        except (KeyError, TypeError):
            pass
        task_id = self._compute_task_id(func)
        try:
            self._task_ids[func] = task_id
        except TypeError:  # not weak-referenceable
            pass
        return task_id

    def _compute_task_id(self, func: Callable[..., Any]) -> str:
        params = get_task_parameters(func)
        if isinstance(params.id, str):
            return params.id
        try:
            return callable_to_ref(func)
        except SerializationError:
            module = getattr(func, "__module__", None)
            qualname = getattr(func, "__qualname__", None)
            if not module or not qualname:
                raise
        # A lambda or nested function: it cannot be imported by other processes, so it
        # becomes a task that runs where it is configured. The ID is stable across runs
        # of the same code, so every process that runs this line can run its jobs.
        task_id = f"{module}:{qualname}"
        code = getattr(func, "__code__", None)
        if "<lambda>" in qualname and code is not None:
            task_id += f"@{code.co_firstlineno}"
        if self.data_store.persistent:
            self.logger.warning(
                "%s cannot be imported by reference, so its jobs can only run in processes "
                "that schedule or configure it (task ID %r). Use a module-level function "
                "for jobs that other workers must run.",
                qualname,
                task_id,
            )
        return task_id

    async def _configure(
        self,
        task_id: str,
        func: Callable[..., Any] | None,
        explicit: TaskParameters,
    ) -> Task:
        nothing_explicit = (
            explicit.job_executor is unset
            and explicit.max_running_jobs is unset
            and explicit.misfire_grace_time is unset
            and explicit.metadata is unset
        )
        cached = self._task_cache.get(task_id)
        if (
            cached is not None
            and nothing_explicit
            and (func is None or task_id in self._task_callables)
        ):
            return cached
        try:
            existing: Task | None = await self.data_store.get_task(task_id)
        except TaskLookupError:
            existing = None
        if func is None and existing is None:
            raise TaskLookupError(task_id)
        func_ref: str | None = None
        if func is not None:
            self._task_callables[task_id] = func
            try:
                func_ref = callable_to_ref(func)
            except SerializationError:
                func_ref = None
        task = build_task(
            task_id,
            func_ref=func_ref,
            func=func,
            existing=existing,
            explicit=explicit,
            defaults=self.task_defaults,
        )
        self._get_executor_or_fail(task.job_executor)
        if existing is None or tasks_differ(existing, task):
            await self.data_store.add_task(task)
        self._task_cache[task_id] = task
        return task

    async def _store_task(
        self, task: Task, func: Callable[..., Any] | None, explicit: TaskParameters
    ) -> Task:
        self._get_executor_or_fail(task.job_executor)
        await self.data_store.add_task(task)
        self._task_cache[task.id] = task
        return task

    async def get_tasks(self) -> Sequence[Task]:
        """All tasks, sorted by ID."""
        self._check_initialized()
        return await self.data_store.get_tasks()

    async def get_task(self, task_id: str) -> Task:
        self._check_initialized()
        return await self.data_store.get_task(task_id)

    async def remove_task(self, task_id: str) -> None:
        """Remove a task (its schedules and queued jobs must be removed first)."""
        self._check_initialized()
        self._task_cache.pop(task_id, None)
        self._task_callables.pop(task_id, None)
        await self.data_store.remove_task(task_id)

    def _get_executor_or_fail(self, name: str) -> JobExecutor:
        executor = self.job_executors.get(name)
        if executor is None:
            executor = get_registry().create("job_executor", name, JobExecutor)
            self.job_executors[name] = executor
        return executor

    async def _resolve_func_and_task(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        args: Iterable[Any] | None,
        kwargs: Mapping[str, Any] | None,
        explicit: TaskParameters,
    ) -> tuple[Task, tuple[Any, ...], dict[str, Any]]:
        args = tuple(args or ())
        kwargs = dict(kwargs or {})
        if isinstance(func_or_task_id, Task):
            task = await self.configure_task(func_or_task_id)
        elif isinstance(func_or_task_id, str):
            task = await self._configure(func_or_task_id, None, explicit)
        elif callable(func_or_task_id):
            func, args, kwargs = normalize_callable(func_or_task_id, args, kwargs)
            task = await self._configure(self._task_id_for(func), func, explicit)
        else:
            raise TypeError(f"Expected a callable or a task ID, got {func_or_task_id!r}")
        return task, args, kwargs

    def _check_arguments(
        self, task: Task, executor_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        executor = self._get_executor_or_fail(executor_name)
        func = self._task_callables.get(task.id)
        if func is not None:
            executor.check_job_arguments(func, args, kwargs)
        serializer = getattr(self.data_store, "serializer", None)
        if serializer is not None and (args or kwargs):
            serialize_arguments(serializer, args, kwargs)

    # ------------------------------------------------------------------ schedules

    @eager
    async def add_schedule(
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
        """Schedule a function (or task ID) with a trigger object or a trigger name plus
        its options (``add_schedule(f, "interval", seconds=10)``). Returns the schedule ID.

        ``max_running_jobs`` sets the limit on the task (how many of its jobs may run at
        once). Arguments the store's serializer or the executor cannot handle are
        rejected here, not when the job runs.
        """
        self._check_initialized()
        trigger = self._build_trigger(trigger, trigger_kwargs)
        task, args_t, kwargs_d = await self._resolve_func_and_task(
            func_or_task_id,
            args,
            kwargs,
            TaskParameters(max_running_jobs=max_running_jobs),
        )
        executor_name = job_executor if isinstance(job_executor, str) else task.job_executor
        self._check_arguments(task, executor_name, args_t, kwargs_d)
        schedule_metadata = dict(task.metadata)
        if isinstance(metadata, dict):
            schedule_metadata.update(metadata)
        serializer = getattr(self.data_store, "serializer", None)
        if serializer is not None:
            serializer.serialize(trigger)  # fail here, not when the schedule is stored
        first_fire_time = trigger.next()
        if first_fire_time is None:
            raise ValueError(
                f"The trigger {trigger!r} has no fire times (is its end time in the past?)"
            )
        schedule = Schedule(
            id=id or str(new_uuid4()),
            task_id=task.id,
            trigger=trigger,
            args=args_t,
            kwargs=kwargs_d,
            name=name,
            paused=paused,
            coalesce=coalesce,
            misfire_grace_time=(
                task.misfire_grace_time
                if isinstance(misfire_grace_time, UnsetValue)
                else misfire_grace_time
            ),
            max_jitter=max_jitter,
            job_executor=executor_name,
            job_result_expiration_time=job_result_expiration_time,
            metadata=schedule_metadata,
            next_fire_time=first_fire_time,
        )
        await self.data_store.add_schedule(schedule, as_enum(ConflictPolicy)(conflict_policy))
        return schedule.id

    def _build_trigger(self, trigger: Trigger | str, trigger_kwargs: dict[str, Any]) -> Trigger:
        if isinstance(trigger, Trigger):
            if trigger_kwargs:
                raise TypeError(
                    f"Unexpected keyword arguments {sorted(trigger_kwargs)}: trigger options "
                    f"go with a trigger name (add_schedule(func, 'interval', seconds=10)), "
                    f"not with a trigger object"
                )
            return trigger
        if isinstance(trigger, str):
            cls = get_registry().resolve("trigger", trigger)
            if "timezone" not in trigger_kwargs and _accepts(cls, "timezone"):
                trigger_kwargs = {**trigger_kwargs, "timezone": self.timezone}
            try:
                return cls(**trigger_kwargs)
            except TypeError as exc:
                hint = ""
                if "jitter" in trigger_kwargs:
                    hint = (
                        " (jitter is an option of the schedule, not of the trigger: "
                        "add_schedule(..., max_jitter=5))"
                    )
                raise TypeError(f"Invalid options for trigger {trigger!r}: {exc}{hint}") from None
        raise TypeError(f"Expected a Trigger or a registered trigger name, got {trigger!r}")

    async def get_schedule(self, id: str) -> Schedule:
        """Return the schedule; :class:`ScheduleLookupError` if there is none."""
        self._check_initialized()
        schedules = await self.data_store.get_schedules({id})
        if not schedules:
            raise ScheduleLookupError(id)
        return schedules[0]

    async def get_schedules(self) -> list[Schedule]:
        """All schedules, sorted by ID."""
        self._check_initialized()
        return await self.data_store.get_schedules()

    @eager
    async def remove_schedule(self, id: str) -> None:
        """Remove the schedule (silently if it does not exist)."""
        self._check_initialized()
        await self.data_store.remove_schedules({id})

    @eager
    async def pause_schedule(self, id: str, *, note: str | None = None) -> None:
        """Stop the schedule from firing until unpaused; ``note`` says why."""
        schedule = await self.get_schedule(id)
        schedule.paused = True
        schedule.pause_note = note
        schedule.acquired_by = schedule.acquired_until = schedule.lease_token = None
        await self.data_store.add_schedule(schedule, ConflictPolicy.replace)

    @eager
    async def unpause_schedule(
        self, id: str, *, resume_from: datetime | str | None = None
    ) -> None:
        """Let the schedule fire again. ``resume_from`` (a datetime or ``"now"``) skips
        the fire times before it; otherwise missed fire times are handled by the
        schedule's coalesce policy and misfire grace time."""
        schedule = await self.get_schedule(id)
        if resume_from == "now":
            resume_from = get_clock().now()
        elif resume_from is not None:
            resume_from = as_aware_datetime(resume_from, self.timezone)
        if resume_from is not None:
            next_fire_time = schedule.next_fire_time
            while next_fire_time is not None and next_fire_time < resume_from:
                next_fire_time = schedule.trigger.next()
            schedule.next_fire_time = next_fire_time
        schedule.paused = False
        schedule.pause_note = None
        schedule.acquired_by = schedule.acquired_until = schedule.lease_token = None
        await self.data_store.add_schedule(schedule, ConflictPolicy.replace)

    @eager
    async def configure_schedule(self, id: str, **changes: Any) -> Schedule:
        """Change an existing schedule in place.

        Accepts ``args``, ``kwargs``, ``name``, ``paused``, ``coalesce``,
        ``misfire_grace_time``, ``max_jitter``, ``job_executor``, ``metadata``,
        ``job_result_expiration_time``, ``trigger`` (object or name) and trigger options
        (``seconds=10``: a new trigger of the same kind, or of ``trigger`` if named). A
        new trigger of the same kind keeps the old one's time zone unless ``timezone`` is
        given; a newly named kind gets the scheduler's time zone.
        """
        schedule = await self.get_schedule(id)
        simple = {
            "args",
            "kwargs",
            "name",
            "paused",
            "coalesce",
            "misfire_grace_time",
            "max_jitter",
            "job_executor",
            "metadata",
            "job_result_expiration_time",
        }
        trigger = changes.pop("trigger", None)
        plain = {key: changes.pop(key) for key in list(changes) if key in simple}
        if trigger is not None or changes:
            if trigger is None:
                trigger = get_registry().name_of("trigger", type(schedule.trigger))
                # Same kind of trigger: it keeps its time zone unless one is given
                old_zone = getattr(schedule.trigger, "timezone", None)
                if old_zone is not None and "timezone" not in changes:
                    changes["timezone"] = old_zone
            new_trigger = self._build_trigger(trigger, changes)
            schedule.trigger = new_trigger
            schedule.next_fire_time = new_trigger.next()
        if "job_executor" in plain:
            self._get_executor_or_fail(plain["job_executor"])
        for key, value in plain.items():
            setattr(schedule, key, value)
        schedule.acquired_by = schedule.acquired_until = schedule.lease_token = None
        await self.data_store.add_schedule(schedule, ConflictPolicy.replace)
        return schedule

    async def run_schedule_now(self, id: str) -> UUID:
        """Queue one job of the schedule right now (its regular fire times are kept)."""
        schedule = await self.get_schedule(id)
        task = await self.data_store.get_task(schedule.task_id)
        job = Job(
            task_id=task.id,
            args=schedule.args,
            kwargs=schedule.kwargs,
            schedule_id=schedule.id,
            executor=schedule.job_executor,
            result_expiration_time=schedule.job_result_expiration_time,
            metadata=schedule.metadata,
        )
        await self.data_store.add_jobs([job])
        return job.id

    # ------------------------------------------------------------------ jobs

    async def add_job(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        *,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        job_executor: str | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
        result_expiration_time: timedelta | float = 0,
    ) -> UUID:
        """Queue a job to run as soon as a worker is free; returns its ID.

        The result is kept for ``result_expiration_time`` (0 = not kept).
        """
        self._check_initialized()
        task, args_t, kwargs_d = await self._resolve_func_and_task(
            func_or_task_id, args, kwargs, TaskParameters()
        )
        executor_name = job_executor if isinstance(job_executor, str) else task.job_executor
        self._check_arguments(task, executor_name, args_t, kwargs_d)
        job_metadata = task.metadata
        if isinstance(metadata, dict):
            job_metadata = {**task.metadata, **metadata}
        job = Job(
            task_id=task.id,
            args=args_t,
            kwargs=kwargs_d,
            executor=executor_name,
            result_expiration_time=result_expiration_time,
            metadata=job_metadata,
        )
        await self.data_store.add_jobs([job])
        return job.id

    async def get_jobs(self) -> Sequence[Job]:
        """Queued and running jobs, oldest first (the job queue, not the schedules)."""
        self._check_initialized()
        return await self.data_store.get_jobs()

    async def remove_job(self, job_id: UUID | str) -> bool:
        """Remove a queued job that has not started; returns whether it was removed."""
        self._check_initialized()
        removed = await self.data_store.remove_jobs([UUID(str(job_id))])
        return bool(removed)

    async def get_job_result(self, job_id: UUID | str, *, wait: bool = True) -> JobResult | None:
        """Return the job's result (readable until it expires).

        If the job has not finished: wait for it (``wait=True``) or raise
        :class:`JobResultNotReady`. :class:`JobLookupError` if there is neither a job nor
        a result with this ID. ``None`` if the job finished without keeping a result.
        """
        self._check_initialized()
        job_id = UUID(str(job_id))
        released = anyio.Event()

        def on_release(event: Event) -> None:
            if getattr(event, "job_id", None) == job_id:
                released.set()

        with self.event_broker.subscribe(on_release, {JobReleased}):
            result = await self.data_store.get_job_result(job_id)
            if result is not None:
                return result
            if not await self.data_store.get_jobs([job_id]):
                # It may have finished between the two look-ups
                if released.is_set():
                    return await self.data_store.get_job_result(job_id)
                result = await self.data_store.get_job_result(job_id)
                if result is not None:
                    return result
                raise JobLookupError(job_id)
            if not wait:
                raise JobResultNotReady(job_id)
            while True:
                with anyio.move_on_after(self.poll_interval.total_seconds()):
                    await released.wait()
                result = await self.data_store.get_job_result(job_id)
                if result is not None or released.is_set():
                    return result
                if not await self.data_store.get_jobs([job_id]):
                    return await self.data_store.get_job_result(job_id)

    async def run_job(
        self,
        func_or_task_id: str | Task | Callable[..., Any],
        *,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        job_executor: str | UnsetValue = unset,
        metadata: dict[str, Any] | UnsetValue = unset,
    ) -> Any:
        """Run a job and return its return value (re-raising its exception)."""
        job_id = await self.add_job(
            func_or_task_id,
            args=args,
            kwargs=kwargs,
            job_executor=job_executor,
            metadata=metadata,
            result_expiration_time=timedelta(minutes=15),
        )
        result = await self.get_job_result(job_id)
        if result is None:
            raise RuntimeError(f"Job {job_id} finished but its result was not stored")
        if result.outcome is JobOutcome.success:
            return result.return_value
        if result.outcome is JobOutcome.error:
            assert result.exception is not None
            raise result.exception
        if result.outcome is JobOutcome.missed_start_deadline:
            raise JobDeadlineMissed
        if result.outcome is JobOutcome.cancelled:
            raise JobCancelled
        if result.outcome is JobOutcome.timed_out:
            raise JobTimedOut
        raise RuntimeError(f"Unknown job outcome: {result.outcome}")

    async def cleanup(self) -> None:
        """Purge expired results, release abandoned jobs, delete finished schedules."""
        await self.data_store.cleanup()

    # ------------------------------------------------------------------ schedule loop

    def _on_schedule_event(self, event: Event) -> None:
        next_fire_time = getattr(event, "next_fire_time", None)
        if next_fire_time is None:
            return
        deadline = self._next_schedule_deadline
        if deadline is None or next_fire_time < deadline:
            self._schedules_wakeup.set()

    async def _process_schedules(self, *, task_status: TaskStatus[None]) -> None:
        clock = get_clock()
        subscription = self.event_broker.subscribe(
            self._on_schedule_event, {ScheduleAdded, ScheduleUpdated}
        )
        try:
            task_status.started()
            while self._state in (RunState.starting, RunState.started):
                self._schedules_wakeup = anyio.Event()
                try:
                    schedules = await self.data_store.acquire_schedules(
                        self.identity, self.lease_duration, self.schedule_batch_size
                    )
                    if schedules:
                        await self._fire_schedules(schedules)
                        if len(schedules) == self.schedule_batch_size:
                            # More may be due: let the job loop start the jobs of this
                            # batch (and other tasks run) before firing the next one
                            await anyio.lowlevel.checkpoint()
                            continue
                    next_time = await self.data_store.get_next_schedule_run_time()
                except Exception:
                    self.logger.exception("Error processing schedules; retrying shortly")
                    next_time = None
                now = clock.now()
                deadline = now + self.poll_interval
                if next_time is not None and next_time < deadline:
                    deadline = next_time
                self._next_schedule_deadline = deadline
                if self._state is not RunState.started and self._state is not RunState.starting:
                    break
                await clock.wait_until(deadline, self._schedules_wakeup)
        finally:
            subscription.unsubscribe()

    async def _fire_schedules(self, schedules: list[Schedule]) -> None:
        now = get_clock().now()
        results: list[ScheduleResult] = []
        failures: list[tuple[Schedule, BaseException]] = []
        for schedule in schedules:
            try:
                fire_times, next_fire_time = self._due_fire_times(schedule, now)
            except Exception as exc:
                failures.append((schedule, exc))
                results.append(
                    ScheduleResult(
                        schedule_id=schedule.id,
                        task_id=schedule.task_id,
                        trigger=schedule.trigger,
                        last_fire_time=schedule.last_fire_time,
                        next_fire_time=None,
                        lease_token=schedule.lease_token,
                    )
                )
                continue
            jobs = tuple(self._jobs_for(schedule, fire_times, next_fire_time))
            results.append(
                ScheduleResult(
                    schedule_id=schedule.id,
                    task_id=schedule.task_id,
                    trigger=schedule.trigger,
                    last_fire_time=fire_times[-1] if fire_times else schedule.last_fire_time,
                    next_fire_time=next_fire_time,
                    lease_token=schedule.lease_token,
                    jobs=jobs,
                )
            )
        refused = await self.data_store.release_schedules(self.identity, results)
        if refused:
            self.logger.warning(
                "Lease lost on %d schedule(s) before release; another scheduler took them "
                "over and nothing was fired twice: %s",
                len(refused),
                ", ".join(refused),
            )
        for schedule, error in failures:
            self.logger.error(
                "The trigger of schedule %r raised %s: %s; the schedule will not fire again "
                "until it is reconfigured",
                schedule.id,
                type(error).__name__,
                error,
                exc_info=error,
            )
            await self.event_broker.publish(
                ScheduleTriggerFailed(
                    schedule_id=schedule.id,
                    task_id=schedule.task_id,
                    exception=f"{type(error).__name__}: {error}",
                )
            )

    @staticmethod
    def _due_fire_times(
        schedule: Schedule, now: datetime
    ) -> tuple[list[datetime], datetime | None]:
        first = schedule.next_fire_time
        assert first is not None
        fire_times = [first]
        trigger = schedule.trigger
        policy = schedule.coalesce
        while True:
            next_time = trigger.next()
            if next_time is None or next_time > now:
                break
            if policy is CoalescePolicy.all:
                fire_times.append(next_time)
            elif policy is CoalescePolicy.latest:
                fire_times[0] = next_time
        return fire_times, next_time

    @staticmethod
    def _jobs_for(
        schedule: Schedule, fire_times: list[datetime], next_fire_time: datetime | None
    ) -> Iterable[Job]:
        max_jitter = schedule.max_jitter
        grace = schedule.misfire_grace_time
        now = get_clock().now
        for index, fire_time in enumerate(fire_times):
            jitter = _NO_JITTER
            if max_jitter:
                following = (
                    fire_times[index + 1] if index + 1 < len(fire_times) else next_fire_time
                )
                limit = max_jitter
                if following is not None:
                    limit = min(limit, following - fire_time - timedelta(microseconds=1))
                if limit > timedelta(0):
                    jitter = timedelta(seconds=random.uniform(0, limit.total_seconds()))
            scheduled = fire_time + jitter
            yield Job._from_schedule(
                schedule,
                scheduled,
                jitter,
                scheduled + grace if grace is not None else None,
                now(),
            )

    # ------------------------------------------------------------------ job loop

    def _on_job_event(self, event: Event) -> None:
        self._job_events += 1
        if len(self._running_jobs) < self.max_concurrent_jobs:
            self._jobs_wakeup.set()

    async def _process_jobs(self, *, task_status: TaskStatus[None]) -> None:
        clock = get_clock()
        await self.data_store.reap_abandoned_jobs(self.identity)
        subscription = self.event_broker.subscribe(self._on_job_event, {JobAdded, JobReleased})
        self._release_wakeup = anyio.Event()
        self._pending_releases = []
        self._started_executors = set()
        try:
            async with AsyncExitStack() as executor_stack, anyio.create_task_group() as service_tg:
                self._executor_stack = executor_stack
                service_tg.start_soon(self._release_loop)
                service_tg.start_soon(self._extend_job_leases)
                async with anyio.create_task_group() as jobs_tg:
                    spawner = _JobSpawner(jobs_tg, self._run_job, self.logger)
                    try:
                        task_status.started()
                        await self._acquire_and_run_jobs(spawner, clock)
                        # Stopping: let running jobs finish for up to the stop timeout
                        with anyio.move_on_after(self._job_stop_timeout) as drain_scope:
                            self._drain_scope = drain_scope
                            while self._running_jobs:
                                self._jobs_wakeup = anyio.Event()
                                await self._jobs_wakeup.wait()
                        self._drain_scope = None
                    finally:
                        await spawner.cancel_all()
                    jobs_tg.cancel_scope.cancel()
                await self._flush_releases()
                service_tg.cancel_scope.cancel()
        finally:
            subscription.unsubscribe()

    async def _acquire_and_run_jobs(self, spawner: _JobSpawner, clock: Any) -> None:
        while self._state in (RunState.starting, RunState.started):
            self._jobs_wakeup = anyio.Event()
            # Let other ready tasks (finishing jobs, producers) run first, so that one
            # store round trip acquires a batch rather than a single job.
            await self._gather_jobs()
            limit = self.max_concurrent_jobs - len(self._running_jobs)
            jobs: list[Job] = []
            if limit > 0:
                try:
                    jobs = await self.data_store.acquire_jobs(
                        self.identity, self.lease_duration, limit
                    )
                except Exception:
                    self.logger.exception("Error acquiring jobs; retrying shortly")
                for job in jobs:
                    self._running_jobs[job.id] = job
                    spawner.spawn(job)
                if jobs:
                    continue
            if self._state is not RunState.started and self._state is not RunState.starting:
                break
            await clock.wait_until(clock.now() + self.poll_interval, self._jobs_wakeup)

    async def _gather_jobs(self) -> None:
        """Pass a few event loop turns while jobs keep arriving (a producer adding jobs
        one by one), so one store round trip acquires them together. Stops at the first
        turn in which nothing arrived: a lone job waits one turn, not longer."""
        seen = self._job_events
        await anyio.lowlevel.checkpoint()
        for _ in range(_GATHER_TURNS):
            if self._job_events == seen:
                break
            seen = self._job_events
            await anyio.lowlevel.checkpoint()

    async def _get_callable(self, job: Job) -> Callable[..., Any]:
        func = self._task_callables.get(job.task_id)
        if func is not None:
            return func
        task = self._task_cache.get(job.task_id)
        if task is None:
            task = await self.data_store.get_task(job.task_id)
            self._task_cache[job.task_id] = task
        if task.func is None:
            raise CallableLookupError(
                f"Task {task.id!r} has no importable function reference and its callable "
                f"was not configured in this process (configure_task({task.id!r}, func=...))"
            )
        func = callable_from_ref(task.func)
        self._task_callables[job.task_id] = func
        return func

    async def _run_job(self, job: Job) -> None:
        clock = get_clock()
        started_at = clock.now()
        outcome = JobOutcome.success
        exception: BaseException | None = None
        return_value: Any = None
        tb: list[str] | None = None
        try:
            if job.start_deadline is not None and started_at > job.start_deadline:
                outcome = JobOutcome.missed_start_deadline
                started_at = None  # type: ignore[assignment]
            else:
                try:
                    func = await self._get_callable(job)
                    executor = self._get_executor_or_fail(job.executor)
                    if job.executor not in self._started_executors:
                        self._started_executors.add(job.executor)
                        await executor.start(self._executor_stack)
                except Exception as exc:
                    outcome = JobOutcome.error
                    exception = exc
                    tb = traceback.format_exception_only(type(exc), exc)
                    self.logger.error("Cannot run job %s of task %r: %s", job.id, job.task_id, exc)
                else:
                    return_value = await executor.run_job(func, job)
        except get_cancelled_exc_class():
            outcome = JobOutcome.cancelled
            self._queue_release(job, started_at, outcome, None, None, None)
            raise
        except JobTimedOut as exc:
            outcome = JobOutcome.timed_out
            exception = exc
        except Exception as exc:
            outcome = JobOutcome.error
            exception = exc
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            self.logger.debug("Job %s raised", job.id, exc_info=True)
        except BaseException as exc:
            outcome = JobOutcome.error
            exception = exc
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            self._queue_release(job, started_at, outcome, exception, None, tb)
            raise
        self._queue_release(job, started_at, outcome, exception, return_value, tb)

    def _queue_release(
        self,
        job: Job,
        started_at: datetime | None,
        outcome: JobOutcome,
        exception: BaseException | None,
        return_value: Any,
        tb: list[str] | None,
    ) -> None:
        result = JobResult.from_job(
            job,
            outcome,
            started_at=started_at,
            exception=exception,
            return_value=return_value,
            traceback=tb,
        )
        self._pending_releases.append((job, result))
        self._release_wakeup.set()

    async def _release_loop(self) -> None:
        while True:
            await self._release_wakeup.wait()
            self._release_wakeup = anyio.Event()
            await self._flush_releases()

    async def _flush_releases(self) -> None:
        while self._pending_releases:
            batch, self._pending_releases = self._pending_releases, []
            with CancelScope(shield=True):
                try:
                    refused = await self.data_store.release_jobs(self.identity, batch)
                except Exception:
                    self.logger.exception("Error releasing %d job(s)", len(batch))
                    refused = []
            if refused:
                self.logger.warning(
                    "Lease lost on %d job(s) before release (they were released as abandoned "
                    "elsewhere): %s",
                    len(refused),
                    ", ".join(map(str, refused)),
                )
            for job, _ in batch:
                self._running_jobs.pop(job.id, None)
            self._jobs_wakeup.set()

    async def _extend_job_leases(self) -> None:
        interval = self.lease_duration.total_seconds() / 2
        while True:
            await anyio.sleep(interval)
            job_ids = set(self._running_jobs)
            if job_ids:
                try:
                    await self.data_store.extend_acquired_job_leases(
                        self.identity, job_ids, self.lease_duration
                    )
                except Exception:
                    self.logger.exception("Error extending job leases")

    async def _cleanup_loop(self) -> None:
        assert self.cleanup_interval is not None
        while self._state in (RunState.starting, RunState.started):
            try:
                await self.cleanup()
            except Exception:
                self.logger.exception("Error during cleanup")
            with anyio.move_on_after(self.cleanup_interval.total_seconds()):
                await self._stop_requested.wait()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(identity={self.identity!r}, role={self.role.name}, "
            f"data_store={self.data_store!r}, event_broker={self.event_broker!r})"
        )


class _JobSpawner:
    """Starts one task per job.

    On asyncio it creates native tasks (a fraction of the cost of a task-group spawn,
    which matters at tens of thousands of jobs per second) and cancels them itself;
    elsewhere (Trio) it uses the anyio task group.
    """

    def __init__(
        self, task_group: TaskGroup, run_job: Callable[[Job], Any], logger: Logger
    ) -> None:
        self._task_group = task_group
        self._run_job = run_job
        self._logger = logger
        self._tasks: set[asyncio.Task[Any]] = set()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def spawn(self, job: Job) -> None:
        if self._loop is None:
            self._task_group.start_soon(self._run_job, job)
            return
        task = self._loop.create_task(self._run_job(job))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._logger.error("Job task crashed", exc_info=task.exception())

    async def cancel_all(self) -> None:
        """Cancel the running job tasks and wait for them to release their jobs."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            with CancelScope(shield=True):
                await asyncio.wait(tasks)


class _SetOnStarted:
    """A minimal ``TaskStatus`` for a scheduler run started outside a task group."""

    def __init__(self, event: asyncio.Event):
        self._event = event

    def started(self, value: Any = None) -> None:
        self._event.set()


def _accepts(cls: Any, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
