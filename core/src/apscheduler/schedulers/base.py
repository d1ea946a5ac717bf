"""``BaseScheduler``: the APScheduler 3 scheduler API on top of the core scheduler.

The v3 scheduler classes keep APScheduler 3's methods, options and events, but run no
scheduling engine of their own. When started, a v3 scheduler creates a
:class:`~apscheduler._v3.runtime.Runtime` on an event loop (its own thread for the
blocking and background schedulers, the application's loop for ``AsyncIOScheduler``);
the runtime holds one core :class:`~apscheduler.AsyncScheduler` per job store alias.

Jobs added before ``start()`` are *pending* (as in APScheduler 3) and stored when the
scheduler starts. Each v3 job is stored as a core schedule plus a core task, both with
the job's ID (see :mod:`apscheduler.job`).
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from datetime import timedelta, tzinfo
from typing import IO, Any

from .._clock import get_clock
from .._context import current_job
from .._converters import as_timezone
from .._v3 import jobs as v3jobs
from .._v3.config import JobDefaults, create_executor, create_jobstore, maybe_ref, parse_gconfig
from .._v3.runtime import Mutation, Runtime, SchedulerStoppedError
from .._v3.threads import call_listeners
from .._v3.triggers import build_trigger
from ..abc import JobExecutor, Trigger
from ..events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_EXECUTOR_ADDED,
    EVENT_EXECUTOR_REMOVED,
    EVENT_JOB_REMOVED,
    EVENT_JOBSTORE_ADDED,
    EVENT_JOBSTORE_REMOVED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    JobEvent,
    SchedulerEvent,
)
from ..job import Job
from ..jobstores.base import ConflictingIdError, JobLookupError
from . import SchedulerAlreadyRunningError, SchedulerNotRunningError

__all__ = ["STATE_PAUSED", "STATE_RUNNING", "STATE_STOPPED", "BaseScheduler"]

#: constant indicating a scheduler's stopped state
STATE_STOPPED = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED = 2

undefined = v3jobs.undefined
Listener = Callable[[SchedulerEvent], Any]


class BaseScheduler(metaclass=ABCMeta):
    """Base class of the APScheduler 3 schedulers.

    :param gconfig: a "global" configuration dict; its keys that start with
        ``"apscheduler."`` are used (``"apscheduler.jobstores.default": {...}``,
        ``"apscheduler.job_defaults.coalesce": "false"``...)
    :param options: ``jobstores`` (alias → job store, core data store or configuration
        dict), ``executors`` (alias → executor or configuration dict), ``job_defaults``
        (``coalesce``, ``max_instances``, ``misfire_grace_time``), ``timezone`` (a zone
        name, a ``zoneinfo`` zone or a pytz zone; default: the local zone) and
        ``logger``

    :ivar int state: ``STATE_STOPPED``, ``STATE_RUNNING`` or ``STATE_PAUSED``
    """

    _logger: logging.Logger
    timezone: tzinfo
    _job_defaults: JobDefaults
    #: Whether ``shutdown(wait=False)`` cancels running jobs (else they finish unwatched)
    _cancel_jobs_without_wait = False

    def __init__(self, gconfig: Mapping[str, Any] | None = None, **options: Any):
        self._executors: dict[str, JobExecutor] = {}
        self._jobstores: dict[str, Any] = {}
        self._listeners: list[tuple[Listener, int]] = []
        self._pending_jobs: list[tuple[Job, str, bool]] = []
        self._lock = threading.RLock()
        self._runtime: Runtime | None = None
        self.state = STATE_STOPPED
        self._logger = logging.getLogger("apscheduler.scheduler")
        self.configure(gconfig or {}, **options)

    def __getstate__(self) -> Any:
        raise TypeError(
            "Schedulers cannot be serialized. Ensure that you are not passing a "
            "scheduler instance as an argument to a job, or scheduling an instance "
            "method where the instance contains a scheduler as an attribute."
        )

    # ------------------------------------------------------------------ configuration

    def configure(
        self,
        gconfig: Mapping[str, Any] | None = None,
        prefix: str | None = "apscheduler.",
        **options: Any,
    ) -> None:
        """Reconfigure the scheduler (only while it is stopped).

        :param gconfig: a "global" configuration dict whose values keyword arguments
            override
        :param prefix: use only the ``gconfig`` keys that start with this string
        :raises SchedulerAlreadyRunningError: if the scheduler is running
        """
        if self.state != STATE_STOPPED:
            raise SchedulerAlreadyRunningError
        self._configure(parse_gconfig(gconfig or {}, prefix, options))

    def _configure(self, config: dict[str, Any]) -> None:
        logger = maybe_ref(config.pop("logger", None))
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        self._logger = logger or logging.getLogger("apscheduler.scheduler")
        self.timezone = as_timezone(config.pop("timezone", None))
        config.pop("jobstore_retry_interval", None)
        self._job_defaults = JobDefaults.from_config(config.get("job_defaults"))
        self._executors.clear()
        for alias, value in dict(config.get("executors") or {}).items():
            self.add_executor(value, alias)
        self._jobstores.clear()
        for alias, value in dict(config.get("jobstores") or {}).items():
            self.add_jobstore(value, alias)

    def _create_default_executor(self) -> JobExecutor:
        from ..executors.pool import ThreadPoolExecutor

        return ThreadPoolExecutor()

    def _create_default_jobstore(self) -> Any:
        from ..jobstores.memory import MemoryJobStore

        return MemoryJobStore()

    # ------------------------------------------------------------------ lifecycle

    def start(self, paused: bool = False) -> None:
        """Start the executors and job stores and begin processing scheduled jobs.

        :param paused: if ``True``, don't process jobs until :meth:`resume` is called
        :raises SchedulerAlreadyRunningError: if the scheduler is already running
        """
        runtime = self._prepare_start(paused)
        try:
            self._launch(runtime)
        except BaseException:
            self._abort_start(runtime)
            raise

    def _prepare_start(self, paused: bool) -> Runtime:
        with self._lock:
            if self.state != STATE_STOPPED:
                raise SchedulerAlreadyRunningError
            self._check_uwsgi()
            previous = self._runtime
            if previous is not None and not previous.in_loop_thread():
                previous.finished.wait()
            if "default" not in self._executors:
                self.add_executor(self._create_default_executor(), "default")
            if "default" not in self._jobstores:
                self.add_jobstore(self._create_default_jobstore(), "default")
            pending, self._pending_jobs = self._pending_jobs, []
            runtime = Runtime(
                self, self._jobstores, self._executors, paused=paused, pending=pending
            )
            self._runtime = runtime
            self.state = STATE_PAUSED if paused else STATE_RUNNING
            return runtime

    def _abort_start(self, runtime: Runtime) -> None:
        with self._lock:
            if self._runtime is runtime:
                self.state = STATE_STOPPED
                self._pending_jobs[:0] = runtime._pending

    @abstractmethod
    def _launch(self, runtime: Runtime) -> None:
        """Start the runtime's host task (flavour specific)."""

    def shutdown(self, wait: bool = True) -> Any:
        """Shut down the scheduler, its executors and its job stores.

        Running jobs are not interrupted.

        :param wait: ``True`` to wait until all currently running jobs have finished
        :raises SchedulerNotRunningError: if the scheduler has not been started
        """
        with self._lock:
            if self.state == STATE_STOPPED:
                raise SchedulerNotRunningError
            self.state = STATE_STOPPED
            runtime = self._runtime
        assert runtime is not None
        future = runtime.submit(runtime.shutdown, wait)
        return self._finish_shutdown(runtime, future, wait)

    def _finish_shutdown(self, runtime: Runtime, future: Future[Any], wait: bool) -> Any:
        """Wait for the shutdown (unless that would deadlock or ``wait`` is false)."""
        if wait and self._can_block(runtime) and current_job.get(None) is None:
            self._wait(runtime, future)
            runtime.finished.wait()
        return None

    def pause(self) -> None:
        """Pause job processing (running jobs go on) until :meth:`resume` is called."""
        with self._lock:
            if self.state == STATE_STOPPED:
                raise SchedulerNotRunningError
            if self.state != STATE_RUNNING:
                return
            self.state = STATE_PAUSED
            runtime = self._runtime
        assert runtime is not None
        runtime.submit_and_log(runtime.pause)
        self._logger.info("Paused scheduler job processing")
        self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_PAUSED))

    def resume(self) -> None:
        """Resume job processing."""
        with self._lock:
            if self.state == STATE_STOPPED:
                raise SchedulerNotRunningError
            if self.state != STATE_PAUSED:
                return
            self.state = STATE_RUNNING
            runtime = self._runtime
        assert runtime is not None
        runtime.submit_and_log(runtime.resume)
        self._logger.info("Resumed scheduler job processing")
        self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_RESUMED))

    @property
    def running(self) -> bool:
        """``True`` if the scheduler has been started (``state != STATE_STOPPED``)."""
        return self.state != STATE_STOPPED

    def wakeup(self) -> None:  # noqa: B027 - deliberately a no-op, not abstract
        """Kept for compatibility: the core scheduler wakes up by itself."""

    # ------------------------------------------------------------------ executors, stores

    def add_executor(self, executor: Any, alias: str = "default", **executor_opts: Any) -> None:
        """Add an executor (an instance, or a plugin name such as ``"threadpool"`` with
        its options).

        :raises ValueError: if there is already an executor by the given alias
        """
        self._add_component(
            self._executors, "an executor", alias,
            lambda: create_executor(alias, executor, **executor_opts),
            lambda runtime: runtime.add_executor, EVENT_EXECUTOR_ADDED,
        )

    def remove_executor(self, alias: str, shutdown: bool = True) -> None:
        """Remove the executor by the given alias."""
        self._remove_component(
            self._executors, "executor", alias,
            lambda runtime: runtime.remove_executor, EVENT_EXECUTOR_REMOVED,
        )

    def add_jobstore(self, jobstore: Any, alias: str = "default", **jobstore_opts: Any) -> None:
        """Add a job store (an instance, a core data store, or a plugin name such as
        ``"sqlalchemy"`` with its options).

        :raises ValueError: if there is already a job store by the given alias
        """
        self._add_component(
            self._jobstores, "a job store", alias,
            lambda: create_jobstore(alias, jobstore, **jobstore_opts),
            lambda runtime: runtime.add_jobstore, EVENT_JOBSTORE_ADDED,
        )

    def remove_jobstore(self, alias: str, shutdown: bool = True) -> None:
        """Remove the job store by the given alias."""
        self._remove_component(
            self._jobstores, "job store", alias,
            lambda runtime: runtime.remove_jobstore, EVENT_JOBSTORE_REMOVED,
        )

    def _add_component(
        self,
        components: dict[str, Any],
        label: str,
        alias: str,
        create: Callable[[], Any],
        runtime_method: Callable[[Any], Callable[..., Any]],
        event_code: int,
    ) -> None:
        """Register an executor or job store by alias, then hand it to a running core."""
        with self._lock:
            if alias in components:
                raise ValueError(
                    f'This scheduler already has {label} by the alias of "{alias}"'
                )
            instance = create()
            components[alias] = instance
            runtime = self._active_runtime()
        if runtime is not None:
            self._run(runtime, runtime_method(runtime), alias, instance)
        self._dispatch_event(SchedulerEvent(event_code, alias))

    def _remove_component(
        self,
        components: dict[str, Any],
        label: str,
        alias: str,
        runtime_method: Callable[[Any], Callable[..., Any]],
        event_code: int,
    ) -> None:
        """Forget an executor or job store by alias, on the running core too."""
        with self._lock:
            if alias not in components:
                raise KeyError(f"No such {label}: {alias}")
            del components[alias]
            runtime = self._active_runtime()
        if runtime is not None:
            self._run(runtime, runtime_method(runtime), alias)
        self._dispatch_event(SchedulerEvent(event_code, alias))

    # ------------------------------------------------------------------ listeners

    def add_listener(self, callback: Listener, mask: int = EVENT_ALL) -> None:
        """Call ``callback(event)`` for every event whose code is in ``mask``
        (see :mod:`apscheduler.events`)."""
        with self._lock:
            self._listeners.append((callback, mask))

    def remove_listener(self, callback: Listener) -> None:
        """Remove a previously added event listener."""
        with self._lock:
            self._listeners = [(cb, mask) for cb, mask in self._listeners if cb != callback]

    def _dispatch_event(self, event: SchedulerEvent) -> None:
        with self._lock:
            callbacks = [cb for cb, mask in self._listeners if event.code & mask]
        if callbacks:
            self._deliver(event, callbacks)

    def _deliver(self, event: SchedulerEvent, callbacks: Sequence[Listener]) -> None:
        """Call the listeners (flavour specific: in a thread, on the loop...)."""
        call_listeners(event, callbacks, self._logger)

    # ------------------------------------------------------------------ jobs

    def add_job(
        self,
        func: Callable[..., Any] | str,
        trigger: Trigger | str | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: Any = undefined,
        coalesce: Any = undefined,
        max_instances: Any = undefined,
        next_run_time: Any = undefined,
        jobstore: str = "default",
        executor: str = "default",
        replace_existing: bool = False,
        **trigger_args: Any,
    ) -> Job:
        """Schedule ``func`` and return the :class:`~apscheduler.job.Job`.

        ``func`` is a callable or a ``"package.module:function"`` reference. ``trigger``
        is a trigger object or the name of one (``"date"``, ``"interval"``, ``"cron"``,
        ``"calendarinterval"``, ``"and"``, ``"or"``), whose arguments are given as extra
        keyword arguments; APScheduler 3's meaning of them is kept (see
        :mod:`apscheduler._v3.triggers`). Options left ``undefined`` take the scheduler's
        ``job_defaults``. ``next_run_time=None`` adds the job paused.

        :raises ConflictingIdError: if a job with this ID exists and
            ``replace_existing`` is false
        """
        job = v3jobs.create_job(
            self,
            func,
            trigger,
            trigger_args,
            args=args,
            kwargs=kwargs,
            id=id,
            name=name,
            misfire_grace_time=misfire_grace_time,
            coalesce=coalesce,
            max_instances=max_instances,
            next_run_time=next_run_time,
            executor=executor,
            timezone=self.timezone,
        )
        with self._lock:
            pending = self._pending_list()
            if pending is not None:
                if self.state != STATE_STOPPED:  # the runtime is storing its pending jobs
                    self._replace_pending(pending, job, jobstore, replace_existing)
                    job = v3jobs.prepare_for_store(job, self._job_defaults, get_clock().now())
                pending.append((job, jobstore, replace_existing))
                self._logger.info(
                    "Adding job tentatively -- it will be properly scheduled when the "
                    "scheduler starts"
                )
                return job
            runtime = self._runtime
        assert runtime is not None
        if self._can_block(runtime):
            return self._wait(
                runtime, runtime.submit(runtime.add_job, job, jobstore, replace_existing)
            )
        prepared = runtime.preview_add(job, jobstore, replace_existing, get_clock().now())
        runtime.submit_and_log(runtime.add_job, job, jobstore, replace_existing, prepared)
        return prepared

    def scheduled_job(
        self,
        trigger: Trigger | str | None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: Any = undefined,
        coalesce: Any = undefined,
        max_instances: Any = undefined,
        next_run_time: Any = undefined,
        jobstore: str = "default",
        executor: str = "default",
        **trigger_args: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator version of :meth:`add_job` (with ``replace_existing=True``)."""

        def inner(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add_job(
                func,
                trigger,
                args,
                kwargs,
                id,
                name,
                misfire_grace_time,
                coalesce,
                max_instances,
                next_run_time,
                jobstore,
                executor,
                True,
                **trigger_args,
            )
            return func

        return inner

    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job:
        """Change the options of a job (``args``, ``kwargs``, ``name``, ``func``,
        ``coalesce``, ``misfire_grace_time``, ``max_instances``, ``executor``,
        ``trigger``, ``next_run_time``).

        :raises JobLookupError: if the job was not found
        """
        timezone = self.timezone
        result = self._update(
            job_id, jobstore, lambda job: v3jobs.apply_changes(job, changes, timezone)
        )
        assert result is not None
        return result

    def reschedule_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        trigger: Trigger | str | None = None,
        **trigger_args: Any,
    ) -> Job:
        """Give a job a new trigger; it next runs at the trigger's first fire time."""
        new_trigger, jitter = build_trigger(trigger, trigger_args, self.timezone)

        def mutation(job: Job) -> Job:
            if job.pending and job._next_fire_time is None:  # run time computed at start
                updated = job._copy()
                updated.trigger = new_trigger
                updated._jitter = None if jitter is None else timedelta(seconds=jitter)
                updated._next_fire_time = None
                return updated
            return v3jobs.reschedule(job, new_trigger, jitter, get_clock().now())

        result = self._update(job_id, jobstore, mutation)
        assert result is not None
        return result

    def pause_job(self, job_id: str, jobstore: str | None = None) -> Job:
        """Stop running a job until it is resumed."""
        result = self._update(job_id, jobstore, v3jobs.pause)
        assert result is not None
        return result

    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """Resume a paused job from now on (run times passed meanwhile are skipped).

        :return: the job, or ``None`` if its trigger has no run time left (the job is
            then removed)
        """

        def mutation(job: Job) -> Job | None:
            if job.pending and job._next_fire_time is None:  # run time computed at start
                updated = job._copy()
                updated._paused = False
                updated._next_fire_time = None
                return updated
            return v3jobs.resume(job, get_clock().now())

        return self._update(job_id, jobstore, mutation)

    def _update(self, job_id: str, jobstore: str | None, mutation: Mutation) -> Job | None:
        with self._lock:
            pending = self._pending_list()
            if pending is not None:
                for index, (job, alias, replace) in enumerate(pending):
                    if job.id == job_id and jobstore in (None, alias):
                        updated = mutation(job)
                        assert updated is not None
                        pending[index] = (updated, alias, replace)
                        return updated
                raise JobLookupError(job_id)
            runtime = self._runtime
        assert runtime is not None
        if self._can_block(runtime):
            return self._wait(
                runtime, runtime.submit(runtime.update_job, job_id, jobstore, mutation)
            )
        current = runtime.mirror_lookup(job_id, jobstore)
        updated = mutation(current)
        store_alias = current._jobstore_alias
        assert store_alias is not None
        if updated is None:
            runtime.mirror[store_alias].pop(job_id, None)
        else:
            runtime.mirror[store_alias][job_id] = updated
        runtime.submit_and_log(runtime.update_job, job_id, store_alias, mutation)
        return updated

    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Job]:
        """Return the pending jobs (before start) or the scheduled jobs, of one job store
        or of all of them."""
        if pending is not None:
            warnings.warn(
                'The "pending" option is deprecated -- get_jobs() always returns scheduled '
                "jobs if the scheduler has been started and pending jobs otherwise",
                DeprecationWarning,
                stacklevel=2,
            )
        with self._lock:
            pending_jobs = self._pending_list()
            if pending_jobs is not None:
                return [job for job, alias, _ in pending_jobs if jobstore in (None, alias)]
            runtime = self._runtime
        assert runtime is not None
        if self._can_block(runtime):
            return self._wait(runtime, runtime.submit(runtime.get_jobs, jobstore))
        return runtime.mirror_jobs(jobstore)

    def get_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """Return the job with the given ID, or ``None`` if there is none."""
        with self._lock:
            pending = self._pending_list()
            if pending is not None:
                for job, alias, _ in pending:
                    if job.id == job_id and jobstore in (None, alias):
                        return job
                return None
            runtime = self._runtime
        assert runtime is not None
        try:
            if self._can_block(runtime):
                return self._wait(runtime, runtime.submit(runtime.lookup, job_id, jobstore))
            return runtime.mirror_lookup(job_id, jobstore)
        except JobLookupError:
            return None

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        """Remove a job, so that it does not run any more.

        :raises JobLookupError: if the job was not found
        """
        with self._lock:
            pending = self._pending_list()
            if pending is not None:
                for index, (job, alias, _) in enumerate(pending):
                    if job.id == job_id and jobstore in (None, alias):
                        del pending[index]
                        break
                else:
                    raise JobLookupError(job_id)
                self._dispatch_event(JobEvent(EVENT_JOB_REMOVED, job_id, alias))
                self._logger.info("Removed job %s", job_id)
                return
            runtime = self._runtime
        assert runtime is not None
        if self._can_block(runtime):
            self._wait(runtime, runtime.submit(runtime.remove_job, job_id, jobstore))
            return
        found = runtime.mirror_lookup(job_id, jobstore)
        assert found._jobstore_alias is not None
        runtime.mirror[found._jobstore_alias].pop(job_id, None)
        runtime.submit_and_log(runtime.remove_job, job_id, found._jobstore_alias)

    def remove_all_jobs(self, jobstore: str | None = None) -> None:
        """Remove all jobs, of one job store or of all of them."""
        with self._lock:
            pending = self._pending_list()
            if pending is not None:
                pending[:] = [item for item in pending if jobstore not in (None, item[1])]
                self._dispatch_event(SchedulerEvent(EVENT_ALL_JOBS_REMOVED, jobstore))
                return
            runtime = self._runtime
        assert runtime is not None
        if self._can_block(runtime):
            self._wait(runtime, runtime.submit(runtime.remove_all_jobs, jobstore))
            return
        for alias in runtime.aliases(jobstore):
            runtime.mirror[alias] = {}
        runtime.submit_and_log(runtime.remove_all_jobs, jobstore)

    def print_jobs(self, jobstore: str | None = None, out: IO[str] | None = None) -> None:
        """Print a listing of the jobs (of one job store or all of them)."""
        out = out or sys.stdout
        with self._lock:
            pending = self._pending_list()
            if pending is not None:
                print("Pending jobs:", file=out)
                shown = [job for job, alias, _ in pending if jobstore in (None, alias)]
                for job in shown:
                    print(f"    {job}", file=out)
                if not shown:
                    print("    No pending jobs", file=out)
                return
            runtime = self._runtime
        assert runtime is not None
        aliases = sorted(self._jobstores) if jobstore is None else [jobstore]
        for alias in aliases:
            print(f"Jobstore {alias}:", file=out)
            jobs = self.get_jobs(alias)
            for job in jobs:
                print(f"    {job}", file=out)
            if not jobs:
                print("    No scheduled jobs", file=out)

    def export_jobs(self, outfile: Any, jobstore: str | None = None) -> None:
        """Not supported: the job stores are core data stores; use them directly."""
        raise NotImplementedError(
            "export_jobs() is not supported; jobs are core schedules, readable with "
            "apscheduler.Scheduler.get_schedules() on the same data store"
        )

    def import_jobs(self, infile: Any, jobstore: str = "default") -> None:
        """Not supported: import APScheduler 3 job stores with apscheduler.migrate_v3."""
        raise NotImplementedError(
            "import_jobs() is not supported; import APScheduler 3 job stores with "
            "apscheduler.migrate_v3.migrate()"
        )

    # ------------------------------------------------------------------ plumbing

    def _pending_list(self) -> list[tuple[Job, str, bool]] | None:
        """Where jobs are pending, if they are: the scheduler's list while stopped, or
        the starting runtime's list while it has not stored its pending jobs yet (for
        callers in its loop thread)."""
        if self.state == STATE_STOPPED:
            return self._pending_jobs
        runtime = self._runtime
        if runtime is not None and runtime.accepting_pending and self._in_loop(runtime):
            return runtime._pending
        return None

    @staticmethod
    def _replace_pending(
        pending: list[tuple[Job, str, bool]], job: Job, jobstore: str, replace_existing: bool
    ) -> None:
        for index, (other, alias, _) in enumerate(pending):
            if other.id == job.id and alias == jobstore:
                if not replace_existing:
                    raise ConflictingIdError(job.id)
                del pending[index]
                return

    def _active_runtime(self) -> Runtime | None:
        return self._runtime if self.state != STATE_STOPPED else None

    def _in_loop(self, runtime: Runtime) -> bool:
        """Whether the caller runs in the runtime's event loop thread."""
        return runtime.in_loop_thread()

    def _can_block(self, runtime: Runtime) -> bool:
        """Whether the caller may wait for an operation (not in the loop thread)."""
        return not self._in_loop(runtime)

    def _run(self, runtime: Runtime, operation: Any, *args: Any) -> Any:
        if self._can_block(runtime):
            return self._wait(runtime, runtime.submit(operation, *args))
        runtime.submit_and_log(operation, *args)
        return None

    @staticmethod
    def _wait(runtime: Runtime, future: Future[Any]) -> Any:
        while True:
            try:
                return future.result(timeout=0.5)
            except FutureTimeoutError:
                if runtime.finished.is_set() and not future.done():
                    raise SchedulerStoppedError("The scheduler has been shut down") from None

    def _check_uwsgi(self) -> None:
        uwsgi = sys.modules.get("uwsgi")
        if uwsgi is not None and not getattr(uwsgi, "has_threads", True):
            raise RuntimeError(
                "The scheduler seems to be running under uWSGI, but threads have been "
                "disabled. You must run uWSGI with the --enable-threads option for the "
                "scheduler to work."
            )

    def __repr__(self) -> str:
        states = {STATE_STOPPED: "stopped", STATE_RUNNING: "running", STATE_PAUSED: "paused"}
        return f"<{type(self).__name__} ({states.get(self.state, self.state)})>"


__all__ += ["ConflictingIdError", "JobLookupError"]
