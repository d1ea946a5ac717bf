"""Events published by data stores and schedulers.

Every event class is registered by name in :data:`EVENT_TYPES`, so listeners can
subscribe by class or by name (``{"JobReleased"}``) and external brokers can rebuild
events from the wire. Events are frozen attrs classes; :meth:`Event.marshal` gives a
JSON-compatible dict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs

from ._clock import get_clock
from ._converters import (
    as_aware_datetime,
    as_job_outcome,
    as_optional_aware_datetime,
    as_str_tuple,
    as_uuid,
    as_uuid_tuple,
)
from ._enums import JobOutcome

EVENT_TYPES: dict[str, type[Event]] = {}


def _now() -> datetime:
    return get_clock().now()


@attrs.define(kw_only=True, frozen=True)
class Event:
    """Base class of every event. ``timestamp`` is when it happened (aware, UTC)."""

    timestamp: datetime = attrs.field(factory=_now, converter=as_aware_datetime)
    #: Events marked local-only are never sent over an external broker.
    local_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.__name__] = cls

    def marshal(self) -> dict[str, Any]:
        """Return a JSON-compatible dict of the fields."""
        return attrs.asdict(self, value_serializer=_marshal_value)

    @classmethod
    def unmarshal(cls, data: dict[str, Any]) -> Event:
        return cls(**data)


def _marshal_value(instance: Any, field: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, JobOutcome):
        return value.name
    if isinstance(value, BaseException):
        return f"{type(value).__qualname__}: {value}"
    return value


EVENT_TYPES["Event"] = Event


#
# Data store events
#


@attrs.define(kw_only=True, frozen=True)
class DataStoreEvent(Event):
    """Base class of events published by data stores."""


@attrs.define(kw_only=True, frozen=True)
class TaskAdded(DataStoreEvent):
    task_id: str


@attrs.define(kw_only=True, frozen=True)
class TaskUpdated(DataStoreEvent):
    task_id: str


@attrs.define(kw_only=True, frozen=True)
class TaskRemoved(DataStoreEvent):
    task_id: str


@attrs.define(kw_only=True, frozen=True)
class ScheduleAdded(DataStoreEvent):
    schedule_id: str
    task_id: str
    next_fire_time: datetime | None = attrs.field(converter=as_optional_aware_datetime)


@attrs.define(kw_only=True, frozen=True)
class ScheduleUpdated(DataStoreEvent):
    schedule_id: str
    task_id: str
    next_fire_time: datetime | None = attrs.field(converter=as_optional_aware_datetime)


@attrs.define(kw_only=True, frozen=True)
class ScheduleRemoved(DataStoreEvent):
    schedule_id: str
    task_id: str
    finished: bool = False


@attrs.define(kw_only=True, frozen=True)
class JobAdded(DataStoreEvent):
    job_id: UUID = attrs.field(converter=as_uuid)
    task_id: str
    schedule_id: str | None = None


@attrs.define(kw_only=True, frozen=True)
class JobRemoved(DataStoreEvent):
    """A queued job was removed (cancelled before it started, or its schedule removed)."""

    job_id: UUID = attrs.field(converter=as_uuid)
    task_id: str


@attrs.define(kw_only=True, frozen=True)
class ScheduleDeserializationFailed(DataStoreEvent):
    """A stored schedule could not be read back; it is skipped, not fatal."""

    schedule_id: str
    exception: str


@attrs.define(kw_only=True, frozen=True)
class JobDeserializationFailed(DataStoreEvent):
    """A stored job could not be read back; it is released as ``deserialization_failed``."""

    job_id: UUID = attrs.field(converter=as_uuid)
    exception: str


@attrs.define(kw_only=True, frozen=True)
class ScheduleTriggerFailed(DataStoreEvent):
    """A schedule's trigger raised while computing fire times; the schedule was paused."""

    schedule_id: str
    task_id: str
    exception: str


@attrs.define(kw_only=True, frozen=True)
class LeaseLost(DataStoreEvent):
    """A scheduler's release was refused because its lease had passed to someone else."""

    scheduler_id: str
    schedule_ids: tuple[str, ...] = attrs.field(default=(), converter=as_str_tuple)
    job_ids: tuple[UUID, ...] = attrs.field(default=(), converter=as_uuid_tuple)


#
# Scheduler events
#


@attrs.define(kw_only=True, frozen=True)
class SchedulerEvent(Event):
    """Base class of events published by schedulers."""


@attrs.define(kw_only=True, frozen=True)
class SchedulerStarted(SchedulerEvent):
    local_only: ClassVar[bool] = True


@attrs.define(kw_only=True, frozen=True)
class SchedulerStopped(SchedulerEvent):
    local_only: ClassVar[bool] = True
    exception: BaseException | None = None


@attrs.define(kw_only=True, frozen=True)
class JobAcquired(SchedulerEvent):
    """A worker took a job and is about to run it."""

    job_id: UUID = attrs.field(converter=as_uuid)
    scheduler_id: str
    task_id: str
    schedule_id: str | None = None
    scheduled_start: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )

    @classmethod
    def from_job(cls, job: Any, scheduler_id: str) -> JobAcquired:
        return cls(
            job_id=job.id,
            scheduler_id=scheduler_id,
            task_id=job.task_id,
            schedule_id=job.schedule_id,
            scheduled_start=job.scheduled_fire_time,
        )


@attrs.define(kw_only=True, frozen=True)
class JobReleased(SchedulerEvent):
    """A job finished (in any way); ``outcome`` says how.

    On ``error``, ``exception_type`` is the qualified class name of the exception,
    ``exception_message`` its text and ``exception_traceback`` the formatted traceback.
    """

    job_id: UUID = attrs.field(converter=as_uuid)
    scheduler_id: str
    task_id: str
    schedule_id: str | None = None
    scheduled_start: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    started_at: datetime | None = attrs.field(default=None, converter=as_optional_aware_datetime)
    outcome: JobOutcome = attrs.field(converter=as_job_outcome)
    exception_type: str | None = None
    exception_message: str | None = None
    exception_traceback: list[str] | None = None

    @classmethod
    def from_result(
        cls,
        result: Any,
        scheduler_id: str,
        task_id: str,
        schedule_id: str | None = None,
        scheduled_fire_time: datetime | None = None,
    ) -> JobReleased:
        exc = result.exception
        exc_type = exc_message = None
        if exc is not None:
            type_name = getattr(exc, "type_name", None)
            exc_type = type_name or f"{type(exc).__module__}.{type(exc).__qualname__}"
            exc_message = str(exc)
        return cls(
            timestamp=result.finished_at,
            job_id=result.job_id,
            scheduler_id=scheduler_id,
            task_id=task_id,
            schedule_id=schedule_id,
            scheduled_start=scheduled_fire_time,
            started_at=result.started_at,
            outcome=result.outcome,
            exception_type=exc_type,
            exception_message=exc_message,
            exception_traceback=result.traceback,
        )

    @property
    def exception(self) -> str | None:
        """``"Type: message"`` of the job's exception, or ``None`` (seed convenience)."""
        if self.exception_type is None:
            return None
        return f"{self.exception_type}: {self.exception_message}"


def resolve_event_types(
    event_types: type[Event] | str | Any | None,
) -> frozenset[type[Event]] | None:
    """Turn classes and/or names into a set of event classes; unknown names raise.

    A base class (``Event``, ``DataStoreEvent``...) matches its subclasses too.
    """
    if event_types is None:
        return None
    if isinstance(event_types, (type, str)):
        event_types = [event_types]
    resolved: set[type[Event]] = set()
    for item in event_types:
        if isinstance(item, str):
            try:
                cls = EVENT_TYPES[item]
            except KeyError:
                from difflib import get_close_matches

                close = get_close_matches(item, EVENT_TYPES, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                if item in ("JobError", "JobExecuted", "JobMissed", "JobSubmitted"):
                    hint = (
                        " Subscribe to 'JobReleased' and check event.outcome "
                        "(JobOutcome.error, .success, .missed_start_deadline)."
                    )
                raise ValueError(
                    f"Unknown event type {item!r}.{hint} Known event types: "
                    + ", ".join(sorted(EVENT_TYPES))
                ) from None
        elif isinstance(item, type) and issubclass(item, Event):
            cls = item
        else:
            raise TypeError(f"Expected an Event subclass or its name, got {item!r}")
        resolved.add(cls)
        resolved.update(sub for sub in EVENT_TYPES.values() if issubclass(sub, cls))
    return frozenset(resolved)


__all__ = [name for name in EVENT_TYPES] + ["EVENT_TYPES", "resolve_event_types"]
