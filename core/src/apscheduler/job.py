"""``Job``: APScheduler 3's view of a scheduled job (``apscheduler.job.Job``).

A v3 job is stored as a core :class:`~apscheduler.Schedule` (same ID) plus a core
:class:`~apscheduler.Task` of the same ID that holds the function, its executor and
``max_instances`` (the task's ``max_running_jobs``). :class:`Job` objects are snapshots:
the scheduler's methods (or the shortcuts below) change the stored job.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .abc import Trigger

if TYPE_CHECKING:
    from .schedulers.base import BaseScheduler

__all__ = ["Job"]


class Job:
    """A job: a function, its arguments, a trigger and the options of APScheduler 3.

    Never instantiated by users: :meth:`~apscheduler.schedulers.base.BaseScheduler.add_job`
    and :meth:`~apscheduler.schedulers.base.BaseScheduler.get_job` return them.

    :ivar str id: the unique identifier of this job
    :ivar str name: the description of this job
    :ivar func: the callable to execute
    :ivar str func_ref: the ``"module:name"`` reference of ``func`` (``None`` if it has none)
    :ivar tuple args: positional arguments to the callable
    :ivar dict kwargs: keyword arguments to the callable
    :ivar bool coalesce: whether to only run the job once when several run times are due
    :ivar trigger: the trigger object that controls the schedule of this job
    :ivar str executor: the alias of the executor that runs this job
    :ivar int misfire_grace_time: how many seconds late a run may start (``None``: any)
    :ivar int max_instances: how many runs of this job may run at once
    :ivar datetime next_run_time: the next scheduled run time (``None`` if paused)
    """

    __slots__ = (
        "__weakref__",
        "_jitter",
        "_jobstore_alias",
        "_next_fire_time",
        "_paused",
        "_scheduler",
        "_undefined",
        "args",
        "coalesce",
        "executor",
        "func",
        "func_ref",
        "id",
        "kwargs",
        "max_instances",
        "misfire_grace_time",
        "name",
        "trigger",
    )

    id: str
    name: str
    func: Callable[..., Any]
    func_ref: str | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    trigger: Trigger
    executor: str
    coalesce: bool
    misfire_grace_time: float | None
    max_instances: int

    def __init__(self, scheduler: BaseScheduler, **attributes: Any):
        self._scheduler = scheduler
        self._jobstore_alias: str | None = None
        self._next_fire_time: datetime | None = None
        self._paused = False
        self._jitter: timedelta | None = None
        self._undefined: frozenset[str] = frozenset()
        for key, value in attributes.items():
            setattr(self, key, value)

    # Shortcuts to the scheduler

    def modify(self, **changes: Any) -> Job:
        """Change this job's options and save them (see
        :meth:`~apscheduler.schedulers.base.BaseScheduler.modify_job`)."""
        self._scheduler.modify_job(self.id, self._jobstore_alias, **changes)
        return self

    def reschedule(self, trigger: Any, **trigger_args: Any) -> Job:
        """Switch this job to another trigger (see
        :meth:`~apscheduler.schedulers.base.BaseScheduler.reschedule_job`)."""
        self._scheduler.reschedule_job(self.id, self._jobstore_alias, trigger, **trigger_args)
        return self

    def pause(self) -> Job:
        """Stop running this job until :meth:`resume` is called."""
        self._scheduler.pause_job(self.id, self._jobstore_alias)
        return self

    def resume(self) -> Job:
        """Resume this job's schedule (past run times are skipped)."""
        self._scheduler.resume_job(self.id, self._jobstore_alias)
        return self

    def remove(self) -> None:
        """Unschedule this job and remove it from its job store."""
        self._scheduler.remove_job(self.id, self._jobstore_alias)

    # State

    @property
    def pending(self) -> bool:
        """``True`` while the job waits for the scheduler to start (not stored yet)."""
        return self._jobstore_alias is None

    @property
    def next_run_time(self) -> datetime | None:
        """When the job runs next; ``None`` if it is paused or not scheduled yet."""
        if self._paused:
            return None
        return self._next_fire_time

    def _copy(self) -> Job:
        return copy.copy(self)

    def __copy__(self) -> Job:
        clone = Job.__new__(Job)
        for name in Job.__slots__:
            if name != "__weakref__" and hasattr(self, name):
                setattr(clone, name, getattr(self, name))
        return clone

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Job):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Job (id={self.id} name={self.name})>"

    def __str__(self) -> str:
        if self.pending and self._next_fire_time is None and not self._paused:
            status = "pending"
        elif self.next_run_time is None:
            status = "paused"
        else:
            status = "next run at: " + self.next_run_time.strftime("%Y-%m-%d %H:%M:%S %Z")
        return f"{self.name} (trigger: {self.trigger}, {status})"
