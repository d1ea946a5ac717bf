"""Context variables that tell code which scheduler and job it runs under."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._schedulers.async_ import AsyncScheduler
    from ._schedulers.sync import Scheduler
    from ._structures import Job

#: The sync :class:`Scheduler` whose services are running in this context.
current_scheduler: ContextVar[Scheduler | None] = ContextVar("current_scheduler", default=None)
#: The :class:`AsyncScheduler` running in this context.
current_async_scheduler: ContextVar[AsyncScheduler | None] = ContextVar(
    "current_async_scheduler", default=None
)
#: The job being run (inside a job function).
current_job: ContextVar[Job] = ContextVar("current_job")
