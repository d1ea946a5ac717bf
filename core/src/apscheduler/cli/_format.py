"""Turning schedules, jobs and plugins into table cells and JSON documents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from enum import Enum
from typing import Any
from uuid import UUID

from .._clock import get_clock
from .._registry import get_registry
from .._structures import Job, Schedule
from ..abc import Trigger

_NOISE = re.compile(
    r"(?:,\s*)?\b(?:start_time|start_date|timezone)='[^']*'|(?:,\s*)?\bcompleted=True"
)
_FRACTION = re.compile(r"(\d\d:\d\d:\d\d)\.\d+")
_REPR = re.compile(r"^\w+\((.*)\)$", re.DOTALL)


def trigger_name(trigger: Trigger) -> str:
    """The registered name of the trigger's class (its class name if unregistered)."""
    try:
        return get_registry().name_of("trigger", type(trigger))
    except LookupError:
        return type(trigger).__name__


def describe_trigger(trigger: Trigger) -> str:
    """A short description for tables: ``cron hour='9', minute='0', second='0'``."""
    name = trigger_name(trigger)
    match = _REPR.match(repr(trigger))
    if match is None:
        return name
    inner = _NOISE.sub("", match.group(1)).strip(", ")
    inner = inner.replace("[, ", "[").replace("(, ", "(")
    inner = _FRACTION.sub(r"\1", inner)
    return f"{name} {inner}" if inner else name


def format_time(value: datetime | None, tz: tzinfo | None = None) -> str:
    """``2026-11-22 09:00:00+01:00`` in ``tz`` (default: as given); ``-`` for ``None``."""
    if value is None:
        return "-"
    if tz is not None:
        value = value.astimezone(tz)
    return value.isoformat(sep=" ", timespec="seconds")


def format_short_time(value: datetime | None, tz: tzinfo, now: datetime | None = None) -> str:
    """``22:36:34`` for today (in ``tz``), ``2026-11-23 09:00:00`` otherwise."""
    if value is None:
        return "-"
    local = value.astimezone(tz)
    today = (now or get_clock().now()).astimezone(tz).date()
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


def zone_label(tz: tzinfo) -> str:
    """The name of a zone for column headers."""
    return getattr(tz, "key", None) or str(tz)


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """``in 5s`` / ``3m ago``; empty for ``None``."""
    if value is None:
        return ""
    now = now or get_clock().now()
    seconds = (value - now).total_seconds()
    text = format_duration(abs(seconds))
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def format_duration(seconds: float) -> str:
    """``42s``, ``5m 3s``, ``2h 5m``, ``3d 4h``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def jsonable(value: Any) -> Any:
    """Convert to JSON types: datetimes as ISO 8601, durations as seconds, UUIDs as
    strings, enums by name; anything else unknown by its ``repr``."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    return repr(value)


def schedule_state(schedule: Schedule) -> str:
    if schedule.paused:
        return "paused"
    if schedule.next_fire_time is None:
        return "finished"
    return "active"


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """Everything about a schedule, JSON-ready."""
    return {
        "id": schedule.id,
        "name": schedule.name,
        "task_id": schedule.task_id,
        "trigger": {
            "type": trigger_name(schedule.trigger),
            "description": describe_trigger(schedule.trigger),
            "repr": repr(schedule.trigger),
        },
        "state": schedule_state(schedule),
        "paused": schedule.paused,
        "pause_note": schedule.pause_note,
        "next_fire_time": jsonable(schedule.next_fire_time),
        "last_fire_time": jsonable(schedule.last_fire_time),
        "args": jsonable(schedule.args),
        "kwargs": jsonable(schedule.kwargs),
        "coalesce": schedule.coalesce.name,
        "misfire_grace_time": jsonable(schedule.misfire_grace_time),
        "max_jitter": jsonable(schedule.max_jitter),
        "job_executor": schedule.job_executor,
        "job_result_expiration_time": jsonable(schedule.job_result_expiration_time),
        "metadata": jsonable(schedule.metadata),
        "acquired_by": schedule.acquired_by,
        "acquired_until": jsonable(schedule.acquired_until),
    }


def job_state(job: Job, now: datetime | None = None) -> str:
    now = now or get_clock().now()
    if job.acquired_by is not None and (job.acquired_until is None or job.acquired_until > now):
        return "running"
    return "queued"


def job_to_dict(job: Job) -> dict[str, Any]:
    """Everything about a queued or running job, JSON-ready."""
    return {
        "id": str(job.id),
        "task_id": job.task_id,
        "schedule_id": job.schedule_id,
        "state": job_state(job),
        "scheduled_fire_time": jsonable(job.scheduled_fire_time),
        "start_deadline": jsonable(job.start_deadline),
        "created_at": jsonable(job.created_at),
        "executor": job.executor,
        "args": jsonable(job.args),
        "kwargs": jsonable(job.kwargs),
        "metadata": jsonable(job.metadata),
        "acquired_by": job.acquired_by,
        "acquired_until": jsonable(job.acquired_until),
    }
