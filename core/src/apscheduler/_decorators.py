"""The :func:`task` decorator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from ._structures import TaskParameters, UnsetValue, check_json_compatible, unset

F = TypeVar("F", bound=Callable[..., Any])

TASK_PARAMETERS_ATTR = "_apscheduler_taskdef"


def task(
    id: str | UnsetValue = unset,
    *,
    job_executor: str | UnsetValue = unset,
    max_running_jobs: int | None | UnsetValue = unset,
    misfire_grace_time: int | float | timedelta | None | UnsetValue = unset,
    metadata: dict[str, Any] | UnsetValue = unset,
) -> Callable[[F], F]:
    """Attach task settings to a function; they apply whenever it is scheduled.

    The decorator only records settings; it does not schedule anything. Explicit
    arguments to ``configure_task`` / ``add_schedule`` override them.
    """
    if isinstance(metadata, dict):
        check_json_compatible(metadata, "metadata")
    if isinstance(max_running_jobs, int) and max_running_jobs < 1:
        raise ValueError("max_running_jobs must be a positive integer or None")

    def decorator(func: F) -> F:
        if not callable(func):
            raise ValueError("The task decorator can only be applied to callables")
        if hasattr(func, TASK_PARAMETERS_ATTR):
            raise ValueError("This function already has task parameters attached")
        params = TaskParameters(
            id=id,
            job_executor=job_executor,
            max_running_jobs=max_running_jobs,
            misfire_grace_time=misfire_grace_time,  # type: ignore[arg-type]
            metadata=metadata,
        )
        setattr(func, TASK_PARAMETERS_ATTR, params)
        return func

    return decorator


def get_task_parameters(func: Any) -> TaskParameters:
    return getattr(func, TASK_PARAMETERS_ATTR, None) or TaskParameters()
