"""Creating, changing and storing APScheduler 3 jobs.

A :class:`~apscheduler.job.Job` is written as a core :class:`~apscheduler.Schedule` and a
core :class:`~apscheduler.Task`, both with the job's ID. Invariant of a job ready to be
written: ``job._next_fire_time`` is the next run time (kept while paused, so the core's
cleanup never takes a paused job for a finished one) and ``job.trigger`` is positioned
so that its ``next()`` returns the run time after it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from .._converters import as_aware_datetime
from .._enums import CoalescePolicy
from .._exceptions import SerializationError
from .._marshalling import callable_from_ref, callable_to_ref
from .._structures import Schedule, Task
from ..abc import Trigger
from ..job import Job
from .config import JobDefaults
from .triggers import build_trigger, first_fire_time, position_after

if TYPE_CHECKING:
    from ..schedulers.base import BaseScheduler

#: Job options that fall back to the scheduler's job defaults
DEFAULTED = ("misfire_grace_time", "coalesce", "max_instances")
#: What ``modify_job()`` accepts (APScheduler 3)
MODIFIABLE = frozenset(
    {
        "func",
        "args",
        "kwargs",
        "name",
        "misfire_grace_time",
        "coalesce",
        "max_instances",
        "trigger",
        "executor",
        "next_run_time",
    }
)


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


#: Marks an ``add_job()`` option that was not given (``None`` has a meaning of its own)
undefined: Any = _Undefined()


def callable_name(func: Any) -> str:
    """APScheduler 3's default job name: the callable's qualified name."""
    if inspect.ismethod(func):
        owner = func.__self__
        cls = owner if inspect.isclass(owner) else type(owner)
        return f"{cls.__qualname__}.{func.__name__}"
    name = getattr(func, "__qualname__", None)
    if isinstance(name, str):
        return name
    return type(func).__qualname__


def resolve_func(func: Any) -> tuple[Callable[..., Any], str | None]:
    """Return the callable and its ``"module:name"`` reference (``None`` if it has none);
    a textual reference is imported, as in APScheduler 3."""
    if isinstance(func, str):
        return callable_from_ref(func), func
    if not callable(func):
        raise TypeError("func must be a callable or a textual reference to one")
    try:
        return func, callable_to_ref(func)
    except SerializationError:
        return func, None


def check_arguments(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Raise ``ValueError`` if ``func`` cannot be called with these arguments."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return  # builtins without a signature: nothing to check
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(
            f"The job's arguments do not match {callable_name(func)!r}: {exc}"
        ) from None


def validate_options(changes: dict[str, Any]) -> None:
    """Validate job options the way APScheduler 3 does (raising TypeError/ValueError)."""
    if "name" in changes and (not changes["name"] or not isinstance(changes["name"], str)):
        raise TypeError("name must be a nonempty string")
    if "misfire_grace_time" in changes:
        value = changes["misfire_grace_time"]
        if isinstance(value, timedelta):
            value = changes["misfire_grace_time"] = value.total_seconds()
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
        ):
            raise TypeError("misfire_grace_time must be either None or a positive integer")
    if "coalesce" in changes:
        changes["coalesce"] = bool(changes["coalesce"])
    if "max_instances" in changes:
        value = changes["max_instances"]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise TypeError("max_instances must be a positive integer")
    if "executor" in changes and not isinstance(changes["executor"], str):
        raise TypeError("executor must be a string")
    if "args" in changes:
        args = changes["args"]
        if isinstance(args, str) or not isinstance(args, Iterable):
            raise TypeError("args must be a non-string iterable")
        changes["args"] = tuple(args)
    if "kwargs" in changes:
        kwargs = changes["kwargs"]
        if isinstance(kwargs, str) or not isinstance(kwargs, Mapping):
            raise TypeError("kwargs must be a dict-like object")
        changes["kwargs"] = dict(kwargs)


def create_job(
    scheduler: BaseScheduler,
    func: Any,
    trigger: Trigger | str | None,
    trigger_args: Mapping[str, Any],
    *,
    args: Any,
    kwargs: Any,
    id: str | None,
    name: str | None,
    misfire_grace_time: Any,
    coalesce: Any,
    max_instances: Any,
    next_run_time: Any,
    executor: str,
    timezone: tzinfo,
) -> Job:
    """Build a (pending) job from ``add_job()``'s arguments."""
    if id is not None and (not isinstance(id, str) or not id):
        raise TypeError("id must be a nonempty string")
    trigger_obj, jitter = build_trigger(trigger, trigger_args, timezone)
    callable_, func_ref = resolve_func(func)
    options: dict[str, Any] = {
        "args": () if args is None else args,
        "kwargs": {} if kwargs is None else kwargs,
        "executor": executor,
    }
    if name is not None:
        options["name"] = name
    given = {
        "misfire_grace_time": misfire_grace_time,
        "coalesce": coalesce,
        "max_instances": max_instances,
    }
    options.update({key: value for key, value in given.items() if value is not undefined})
    validate_options(options)
    check_arguments(callable_, options["args"], options["kwargs"])
    job = Job(
        scheduler,
        id=id or uuid4().hex,
        name=options.pop("name", None) or callable_name(callable_),
        func=callable_,
        func_ref=func_ref,
        trigger=trigger_obj,
        **options,
    )
    job._jitter = None if jitter is None else timedelta(seconds=jitter)
    job._undefined = frozenset(key for key, value in given.items() if value is undefined)
    if next_run_time is not undefined:
        if next_run_time is None:
            job._paused = True
        else:
            job._next_fire_time = as_aware_datetime(next_run_time, timezone)
    return job


def prepare_for_store(job: Job, defaults: JobDefaults, now: datetime) -> Job:
    """Return a copy of a pending job with its defaults and first run time filled in,
    ready to be written (see the module docstring)."""
    prepared = job._copy()
    for key in prepared._undefined:
        setattr(prepared, key, getattr(defaults, key))
    prepared._undefined = frozenset()
    if prepared._next_fire_time is None:
        prepared._next_fire_time = first_fire_time(job.trigger, now)
        if prepared._next_fire_time is None:
            prepared._paused = True  # nothing left to run: kept as a paused job (v3)
    prepared.trigger = position_after(job.trigger, prepared._next_fire_time)
    return prepared


def apply_changes(job: Job, changes: dict[str, Any], timezone: tzinfo) -> Job:
    """Return a copy of ``job`` with ``modify_job()``'s changes applied."""
    unknown = set(changes) - MODIFIABLE
    if unknown:
        raise AttributeError(
            f"The following are not modifiable attributes of Job: {', '.join(sorted(unknown))}"
        )
    changes = dict(changes)
    validate_options(changes)
    updated = job._copy()
    if "func" in changes:
        updated.func, updated.func_ref = resolve_func(changes.pop("func"))
    for key in (
        "args",
        "kwargs",
        "name",
        "misfire_grace_time",
        "coalesce",
        "max_instances",
        "executor",
    ):
        if key in changes:
            setattr(updated, key, changes.pop(key))
    if updated.func is not None:
        check_arguments(updated.func, updated.args, updated.kwargs)
    if "trigger" in changes:
        trigger = changes.pop("trigger")
        if not isinstance(trigger, Trigger):
            raise TypeError(f"Expected a trigger instance, got {type(trigger).__name__} instead")
        updated.trigger = position_after(trigger, updated._next_fire_time)
    if "next_run_time" in changes:
        value = changes.pop("next_run_time")
        if value is None:
            updated._paused = True
        else:
            moment = as_aware_datetime(value, timezone)
            updated._paused = False
            updated._next_fire_time = moment
            updated.trigger = position_after(updated.trigger, moment)
    return updated


def reschedule(job: Job, trigger: Trigger, jitter: float | None, now: datetime) -> Job:
    """Return a copy of ``job`` switched to ``trigger``, next running at the trigger's
    first fire time from now (APScheduler 3's ``reschedule_job()``)."""
    updated = job._copy()
    updated._jitter = None if jitter is None else timedelta(seconds=jitter)
    next_time = first_fire_time(trigger, now)
    updated._paused = next_time is None
    if next_time is not None:
        updated._next_fire_time = next_time
    updated.trigger = position_after(trigger, next_time)
    return updated


def resume(job: Job, now: datetime) -> Job | None:
    """Return a copy of ``job`` resumed from now (past run times skipped), or ``None`` if
    its trigger has no run time left (APScheduler 3 then removes the job)."""
    next_time = first_fire_time(job.trigger, now)
    if next_time is None:
        return None
    updated = job._copy()
    updated._paused = False
    updated._next_fire_time = next_time
    updated.trigger = position_after(job.trigger, next_time)
    return updated


def pause(job: Job) -> Job:
    updated = job._copy()
    updated._paused = True
    return updated


def to_schedule(job: Job) -> Schedule:
    """The core schedule that stores ``job``."""
    grace = job.misfire_grace_time
    return Schedule(
        id=job.id,
        task_id=job.id,
        trigger=job.trigger,
        args=job.args,
        kwargs=job.kwargs,
        name=job.name,
        paused=job._paused,
        coalesce=CoalescePolicy.latest if job.coalesce else CoalescePolicy.all,
        misfire_grace_time=None if grace is None else timedelta(seconds=grace),
        max_jitter=job._jitter,
        job_executor=job.executor,
        next_fire_time=job._next_fire_time,
    )


def from_schedule(
    scheduler: BaseScheduler,
    alias: str,
    schedule: Schedule,
    task: Task | None,
    func: Callable[..., Any] | None,
) -> Job:
    """The v3 view of a stored schedule (and its task)."""
    func_ref = task.func if task is not None else None
    if func is None and func_ref is not None:
        try:
            func = callable_from_ref(func_ref)
        except Exception:
            func = None
    grace = schedule.misfire_grace_time
    job = Job(
        scheduler,
        id=schedule.id,
        name=schedule.name or (callable_name(func) if func is not None else schedule.task_id),
        func=func,
        func_ref=func_ref,
        args=tuple(schedule.args),
        kwargs=dict(schedule.kwargs),
        trigger=schedule.trigger,
        executor=schedule.job_executor,
        coalesce=schedule.coalesce is not CoalescePolicy.all,
        misfire_grace_time=None if grace is None else _seconds(grace),
        max_instances=(task.max_running_jobs if task is not None else None) or 1,
    )
    job._jobstore_alias = alias
    job._paused = schedule.paused
    job._next_fire_time = schedule.next_fire_time
    job._jitter = schedule.max_jitter
    return job


def _seconds(value: timedelta) -> float:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds
