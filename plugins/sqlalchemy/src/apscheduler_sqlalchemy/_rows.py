"""Conversions between the core's records and table rows.

Datetimes become integer microseconds since the epoch (UTC) and come back as aware UTC
datetimes; durations become integer microseconds; enums their names. Serialized fields
go through the store's serializer. The ``*_from_row`` functions raise whatever the
serializer or the record's validation raises; callers isolate corrupt rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, overload

from apscheduler import (
    CoalescePolicy,
    Job,
    JobOutcome,
    JobResult,
    Schedule,
    Task,
)
from apscheduler.abc import Serializer
from apscheduler.clock import get_clock

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


@overload
def to_us(value: datetime) -> int: ...
@overload
def to_us(value: None) -> None: ...
@overload
def to_us(value: datetime | None) -> int | None: ...
def to_us(value: datetime | None) -> int | None:
    """Aware datetime -> microseconds since the epoch (``None`` stays ``None``)."""
    if value is None:
        return None
    return (value - EPOCH) // _MICROSECOND


def from_us(value: int | None) -> datetime | None:
    """Microseconds since the epoch -> aware UTC datetime."""
    if value is None:
        return None
    return EPOCH + timedelta(microseconds=value)


@overload
def td_to_us(value: timedelta) -> int: ...
@overload
def td_to_us(value: None) -> None: ...
@overload
def td_to_us(value: timedelta | None) -> int | None: ...
def td_to_us(value: timedelta | None) -> int | None:
    return None if value is None else value // _MICROSECOND


def td_from_us(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(microseconds=value)


class _EmptyValues:
    """The serialized forms of ``()`` and ``{}`` for one serializer: most jobs have no
    arguments, and comparing bytes is far cheaper than (de)serializing."""

    def __init__(self, serializer: Serializer) -> None:
        self.args = serializer.serialize(())
        self.kwargs = serializer.serialize({})


_empty_cache: dict[int, tuple[Serializer, _EmptyValues]] = {}


def _empty(serializer: Serializer) -> _EmptyValues:
    entry = _empty_cache.get(id(serializer))
    if entry is None or entry[0] is not serializer:
        entry = _empty_cache[id(serializer)] = (serializer, _EmptyValues(serializer))
    return entry[1]


def serialize_args(serializer: Serializer, args: tuple[Any, ...]) -> bytes:
    return _empty(serializer).args if not args else serializer.serialize(args)


def serialize_kwargs(serializer: Serializer, kwargs: dict[str, Any]) -> bytes:
    return _empty(serializer).kwargs if not kwargs else serializer.serialize(kwargs)


def deserialize_args(serializer: Serializer, data: bytes) -> Any:
    return () if data == _empty(serializer).args else serializer.deserialize(data)


def deserialize_kwargs(serializer: Serializer, data: bytes) -> Any:
    return {} if data == _empty(serializer).kwargs else serializer.deserialize(data)


# Tasks


def task_to_row(task: Task) -> dict[str, Any]:
    """Row of a task, **without** ``running_jobs`` (the store maintains it)."""
    return {
        "id": task.id,
        "func": task.func,
        "job_executor": task.job_executor,
        "max_running_jobs": task.max_running_jobs,
        "misfire_grace_time": td_to_us(task.misfire_grace_time),
        "metadata": task.metadata,
    }


def task_from_row(row: Mapping[Any, Any]) -> Task:
    return Task(
        id=row["id"],
        func=row["func"],
        job_executor=row["job_executor"],
        max_running_jobs=row["max_running_jobs"],
        misfire_grace_time=td_from_us(row["misfire_grace_time"]),
        metadata=row["metadata"],
        running_jobs=row["running_jobs"],
    )


# Schedules


def schedule_to_row(schedule: Schedule, serializer: Serializer) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "task_id": schedule.task_id,
        "trigger": serializer.serialize(schedule.trigger),
        "args": serialize_args(serializer, schedule.args),
        "kwargs": serialize_kwargs(serializer, schedule.kwargs),
        "name": schedule.name,
        "paused": schedule.paused,
        "pause_note": schedule.pause_note,
        "coalesce": schedule.coalesce.name,
        "misfire_grace_time": td_to_us(schedule.misfire_grace_time),
        "max_jitter": td_to_us(schedule.max_jitter),
        "job_executor": schedule.job_executor,
        "job_result_expiration_time": td_to_us(schedule.job_result_expiration_time),
        "metadata": schedule.metadata,
        "next_fire_time": to_us(schedule.next_fire_time),
        "last_fire_time": to_us(schedule.last_fire_time),
        "acquired_by": schedule.acquired_by,
        "acquired_until": to_us(schedule.acquired_until),
        "lease_token": schedule.lease_token,
    }


def schedule_from_row(row: Mapping[Any, Any], serializer: Serializer) -> Schedule:
    return Schedule(
        id=row["id"],
        task_id=row["task_id"],
        trigger=serializer.deserialize(row["trigger"]),
        args=deserialize_args(serializer, row["args"]),
        kwargs=deserialize_kwargs(serializer, row["kwargs"]),
        name=row["name"],
        paused=bool(row["paused"]),
        pause_note=row["pause_note"],
        coalesce=CoalescePolicy[row["coalesce"]],
        misfire_grace_time=td_from_us(row["misfire_grace_time"]),
        max_jitter=td_from_us(row["max_jitter"]),
        job_executor=row["job_executor"],
        job_result_expiration_time=td_from_us(row["job_result_expiration_time"]) or timedelta(0),
        metadata=row["metadata"],
        next_fire_time=from_us(row["next_fire_time"]),
        last_fire_time=from_us(row["last_fire_time"]),
        acquired_by=row["acquired_by"],
        acquired_until=from_us(row["acquired_until"]),
        lease_token=row["lease_token"],
    )


# Jobs


def job_to_row(job: Job, serializer: Serializer) -> dict[str, Any]:
    return {
        "id": job.id,
        "task_id": job.task_id,
        "args": serialize_args(serializer, job.args),
        "kwargs": serialize_kwargs(serializer, job.kwargs),
        "schedule_id": job.schedule_id,
        "scheduled_fire_time": to_us(job.scheduled_fire_time),
        "executor": job.executor,
        "jitter": td_to_us(job.jitter),
        "start_deadline": to_us(job.start_deadline),
        "result_expiration_time": td_to_us(job.result_expiration_time),
        "metadata": job.metadata,
        "created_at": to_us(job.created_at),
        "acquired_by": job.acquired_by,
        "acquired_until": to_us(job.acquired_until),
        "lease_token": job.lease_token,
    }


def job_from_row(row: Mapping[Any, Any], serializer: Serializer) -> Job:
    return Job(
        id=row["id"],
        task_id=row["task_id"],
        args=deserialize_args(serializer, row["args"]),
        kwargs=deserialize_kwargs(serializer, row["kwargs"]),
        schedule_id=row["schedule_id"],
        scheduled_fire_time=from_us(row["scheduled_fire_time"]),
        executor=row["executor"],
        jitter=td_from_us(row["jitter"]) or timedelta(0),
        start_deadline=from_us(row["start_deadline"]),
        result_expiration_time=td_from_us(row["result_expiration_time"]) or timedelta(0),
        metadata=row["metadata"],
        created_at=from_us(row["created_at"]) or get_clock().now(),
        acquired_by=row["acquired_by"],
        acquired_until=from_us(row["acquired_until"]),
        lease_token=row["lease_token"],
    )


# Job results


def result_to_row(result: JobResult, serializer: Serializer) -> dict[str, Any]:
    marshalled = result.marshal(serializer)
    return {
        "job_id": result.job_id,
        "outcome": result.outcome.name,
        "started_at": to_us(result.started_at),
        "finished_at": to_us(result.finished_at),
        "expires_at": to_us(result.expires_at),
        "exception": marshalled["exception"],
        "return_value": marshalled["return_value"],
        "traceback": result.traceback,
    }


def result_from_row(row: Mapping[Any, Any], serializer: Serializer) -> JobResult:
    return JobResult.unmarshal(
        serializer,
        {
            "job_id": row["job_id"],
            "outcome": JobOutcome[row["outcome"]],
            "started_at": from_us(row["started_at"]),
            "finished_at": from_us(row["finished_at"]),
            "expires_at": from_us(row["expires_at"]),
            "exception": row["exception"],
            "return_value": row["return_value"],
            "traceback": row["traceback"],
        },
    )
