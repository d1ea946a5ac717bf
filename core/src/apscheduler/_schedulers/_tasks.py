"""How task settings are resolved from explicit arguments, stored tasks, ``@task`` and
the scheduler's defaults."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from .._decorators import get_task_parameters
from .._structures import (
    Task,
    TaskDefaults,
    TaskParameters,
    UnsetValue,
    check_json_compatible,
    merge_metadata,
    unset,
)


def first_set(*values: Any) -> Any:
    """Return the first value that is not ``unset``."""
    for value in values:
        if not isinstance(value, UnsetValue):
            return value
    return unset


def is_coroutine_callable(func: Any) -> bool:
    while isinstance(func, partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004
    return call is not None and not inspect.isfunction(func) and inspect.iscoroutinefunction(call)


def default_executor_for(func: Callable[..., Any] | None, defaults: TaskDefaults) -> str:
    """The executor a task gets when nothing names one.

    ``TaskDefaults.job_executor`` wins if set; otherwise coroutine functions go to
    ``async`` and everything else to ``threadpool`` (never block the event loop).
    """
    if not isinstance(defaults.job_executor, UnsetValue):
        return defaults.job_executor
    if func is not None and is_coroutine_callable(func):
        return "async"
    return "threadpool"


def build_task(
    task_id: str,
    *,
    func_ref: str | None,
    func: Callable[..., Any] | None,
    existing: Task | None,
    explicit: TaskParameters,
    defaults: TaskDefaults,
) -> Task:
    """Combine the sources of task settings; explicit > stored > ``@task`` > defaults.

    Unlike APScheduler 4.0, scheduling a callable again never resets settings stored
    earlier with ``configure_task``: only explicit arguments change a stored task.
    """
    decorated = get_task_parameters(func) if func is not None else TaskParameters()
    stored: dict[str, Any] = {}
    if existing is not None:
        stored = {
            "job_executor": existing.job_executor,
            "max_running_jobs": existing.max_running_jobs,
            "misfire_grace_time": existing.misfire_grace_time,
        }

    def pick(name: str, default: Any) -> Any:
        value = first_set(
            getattr(explicit, name), stored.get(name, unset), getattr(decorated, name)
        )
        return default if isinstance(value, UnsetValue) else value

    job_executor = pick("job_executor", unset)
    if isinstance(job_executor, UnsetValue):
        job_executor = default_executor_for(func, defaults)
    max_running_jobs = pick("max_running_jobs", defaults.max_running_jobs)
    if max_running_jobs is not None and (
        not isinstance(max_running_jobs, int) or max_running_jobs < 1
    ):
        raise ValueError("max_running_jobs must be a positive integer or None")
    if existing is not None:
        metadata = merge_metadata(existing.metadata, first_set(explicit.metadata, None) or None)
    else:
        metadata = merge_metadata(
            defaults.metadata,
            first_set(decorated.metadata, None),
            first_set(explicit.metadata, None),
        )
    check_json_compatible(metadata, "metadata")
    return Task(
        id=task_id,
        func=func_ref if func_ref is not None else (existing.func if existing else None),
        job_executor=job_executor,
        max_running_jobs=max_running_jobs,
        misfire_grace_time=pick("misfire_grace_time", defaults.misfire_grace_time),
        metadata=metadata,
        running_jobs=existing.running_jobs if existing else 0,
    )


def tasks_differ(a: Task, b: Task) -> bool:
    return (
        a.func != b.func
        or a.job_executor != b.job_executor
        or a.max_running_jobs != b.max_running_jobs
        or a.misfire_grace_time != b.misfire_grace_time
        or a.metadata != b.metadata
    )
