"""apscheduler: run Python code later, once, on an interval, or on cron/calendar rules.

The public API is re-exported here; see the user guide in ``docs/``. Schedulers are
imported lazily so that ``import apscheduler`` stays cheap for plugins and tools.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._context import current_async_scheduler, current_job, current_scheduler
from ._enums import CoalescePolicy, ConflictPolicy, JobOutcome, RunState, SchedulerRole
from ._events import (
    DataStoreEvent,
    Event,
    JobAcquired,
    JobAdded,
    JobDeserializationFailed,
    JobReleased,
    JobRemoved,
    LeaseLost,
    ScheduleAdded,
    ScheduleDeserializationFailed,
    ScheduleRemoved,
    SchedulerEvent,
    SchedulerStarted,
    SchedulerStopped,
    ScheduleTriggerFailed,
    ScheduleUpdated,
    TaskAdded,
    TaskRemoved,
    TaskUpdated,
)
from ._exceptions import (
    CallableLookupError,
    ConflictingIdError,
    DeserializationError,
    JobCancelled,
    JobDeadlineMissed,
    JobLookupError,
    JobResultNotReady,
    JobTimedOut,
    LeaseLostError,
    MaxIterationsReached,
    PluginConflictError,
    ScheduleLookupError,
    SerializationError,
    TaskLookupError,
    UnknownPluginError,
)
from ._structures import (
    Job,
    JobResult,
    RemoteError,
    Schedule,
    ScheduleResult,
    Task,
    TaskDefaults,
    UnsetValue,
    unset,
)
from ._version import __version__, version_info
from .datastores.base import RetrySettings

if TYPE_CHECKING:
    from ._decorators import task
    from ._schedulers.async_ import AsyncScheduler
    from ._schedulers.sync import Scheduler

_LAZY = {
    "AsyncScheduler": "apscheduler._schedulers.async_",
    "Scheduler": "apscheduler._schedulers.sync",
    "task": "apscheduler._decorators",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apscheduler' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AsyncScheduler",
    "CallableLookupError",
    "CoalescePolicy",
    "ConflictPolicy",
    "ConflictingIdError",
    "DataStoreEvent",
    "DeserializationError",
    "Event",
    "Job",
    "JobAcquired",
    "JobAdded",
    "JobCancelled",
    "JobDeadlineMissed",
    "JobDeserializationFailed",
    "JobLookupError",
    "JobOutcome",
    "JobReleased",
    "JobRemoved",
    "JobResult",
    "JobResultNotReady",
    "JobTimedOut",
    "LeaseLost",
    "LeaseLostError",
    "MaxIterationsReached",
    "PluginConflictError",
    "RemoteError",
    "RetrySettings",
    "RunState",
    "Schedule",
    "ScheduleAdded",
    "ScheduleDeserializationFailed",
    "ScheduleLookupError",
    "ScheduleRemoved",
    "ScheduleResult",
    "ScheduleTriggerFailed",
    "ScheduleUpdated",
    "Scheduler",
    "SchedulerEvent",
    "SchedulerRole",
    "SchedulerStarted",
    "SchedulerStopped",
    "SerializationError",
    "Task",
    "TaskAdded",
    "TaskDefaults",
    "TaskLookupError",
    "TaskRemoved",
    "TaskUpdated",
    "UnknownPluginError",
    "UnsetValue",
    "__version__",
    "current_async_scheduler",
    "current_job",
    "current_scheduler",
    "task",
    "unset",
    "version_info",
]
