"""Turning an APScheduler 3 job state into a core schedule and task.

The schedule keeps the job's ID, name, arguments, options and, above all, its stored
next run time; the trigger is rebuilt as the equivalent core trigger and positioned
after that time, so the following fire times are the ones APScheduler 3 would have
computed. Numeric cron weekdays keep their v3 meaning (0 = Monday), including those of
v3's ``CronTrigger.from_crontab()``, which passed crontab numbers through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs

from .._clock import get_clock
from .._converters import as_timezone
from .._enums import CoalescePolicy
from .._structures import Schedule, Task
from .._v3.triggers import WEEKDAYS, first_fire_time, position_after
from ..abc import Trigger
from ._unpickler import StandIn, stand_in_for

_WEEKDAY_POSITIONS = ("1st", "2nd", "3rd", "4th", "5th", "last")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class ConversionError(ValueError):
    """A v3 job cannot be represented in the core (the message says why)."""


@attrs.define(frozen=True)
class ConvertedJob:
    """A v3 job as the core task and schedule to store."""

    task: Task
    schedule: Schedule


def convert_job(
    state: Any,
    *,
    executors: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> ConvertedJob:
    """Convert an unpickled v3 job state (a dict) into a task and a schedule.

    :param executors: v3 executor alias → executor name in the target (by default the
        v3 alias is kept)
    :raises ConversionError: if the state cannot be converted
    """
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
        state = state[1]  # APScheduler 3.0 layout
    if not isinstance(state, dict):
        raise ConversionError(f"expected a job state dict, got {type(state).__name__}")
    if state.get("version", 1) > 1:
        raise ConversionError(f"unknown job state version {state.get('version')}")
    try:
        job_id = state["id"]
        func_ref = state["func"]
        trigger_obj = state["trigger"]
    except KeyError as exc:
        raise ConversionError(f"the job state has no {exc.args[0]!r}") from None
    if not isinstance(func_ref, str) or ":" not in func_ref:
        raise ConversionError(f"the job's function reference {func_ref!r} is not module:name")
    trigger, jitter = convert_trigger(trigger_obj)
    now = now or get_clock().now()
    next_run_time = state.get("next_run_time")
    paused = next_run_time is None
    if paused:
        next_fire_time = first_fire_time(trigger, now)
    else:
        if not isinstance(next_run_time, datetime) or next_run_time.tzinfo is None:
            raise ConversionError(f"invalid next_run_time {next_run_time!r}")
        next_fire_time = next_run_time
    executor = state.get("executor") or "default"
    executor = (executors or {}).get(executor, executor)
    grace = state.get("misfire_grace_time")
    max_instances = state.get("max_instances") or 1
    args = state.get("args") or ()
    kwargs = state.get("kwargs") or {}
    task = Task(
        id=job_id,
        func=func_ref,
        job_executor=executor,
        max_running_jobs=int(max_instances),
    )
    schedule = Schedule(
        id=job_id,
        task_id=job_id,
        trigger=position_after(trigger, next_fire_time),
        args=tuple(args),
        kwargs=dict(kwargs),
        name=state.get("name") or None,
        paused=paused,
        coalesce=CoalescePolicy.latest if state.get("coalesce", True) else CoalescePolicy.all,
        misfire_grace_time=None if grace is None else timedelta(seconds=grace),
        max_jitter=None if not jitter else timedelta(seconds=jitter),
        job_executor=executor,
        next_fire_time=next_fire_time,
    )
    return ConvertedJob(task, schedule)


def convert_trigger(obj: Any) -> tuple[Trigger, float | None]:
    """Build the core trigger equivalent to a v3 trigger; return it with its jitter."""
    if not isinstance(obj, StandIn):
        raise ConversionError(f"the job's trigger is a {type(obj).__name__}, not a v3 trigger")
    state = obj.state
    if isinstance(state, tuple) and len(state) == 2:
        state = state[1]  # APScheduler 3.0 layout
    if not isinstance(state, dict):
        raise ConversionError(f"the {obj.short_name} state is not a dict")
    converter = _TRIGGER_CONVERTERS.get(obj.short_name)
    if converter is None:
        raise ConversionError(f"the v3 trigger {obj.v3_class} is not supported")
    try:
        return converter(state), state.get("jitter")
    except ConversionError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ConversionError(f"invalid {obj.short_name} state: {exc}") from exc


def _zone(value: Any) -> tzinfo:
    if value is None:
        return as_timezone(None)
    if isinstance(value, str):
        return as_timezone(value)
    if value is timezone.utc:
        return as_timezone("UTC")
    if isinstance(value, tzinfo):
        try:
            return as_timezone(value)
        except (TypeError, ValueError):
            return value
    raise ConversionError(f"unsupported time zone {value!r}")


def _date_trigger(state: dict[str, Any]) -> Trigger:
    from ..triggers.date import DateTrigger

    return DateTrigger(state["run_date"])


def _interval_trigger(state: dict[str, Any]) -> Trigger:
    from ..triggers.interval import IntervalTrigger

    interval: timedelta = state["interval"]
    return IntervalTrigger(
        days=interval.days,
        seconds=interval.seconds,
        microseconds=interval.microseconds,
        start_time=state["start_date"],
        end_time=state.get("end_date"),
        timezone=_zone(state.get("timezone")),
    )


def _cron_trigger(state: dict[str, Any]) -> Trigger:
    from ..triggers.cron import CronTrigger

    fields: dict[str, str] = {}
    for field in state["fields"]:
        if not isinstance(field, StandIn) or not isinstance(field.state, dict):
            raise ConversionError(f"unexpected cron field {field!r}")
        name = field.state["name"]
        texts = [_expression_text(name, expr) for expr in field.state["expressions"]]
        fields[name] = ",".join(dict.fromkeys(texts))
    return CronTrigger(
        **fields,
        start_time=state.get("start_date"),
        end_time=state.get("end_date"),
        timezone=_zone(state.get("timezone")),
    )


def _expression_text(field: str, expr: Any) -> str:
    """The core cron syntax of one v3 field expression; weekday numbers (v3: 0 = Monday)
    become names."""
    if not isinstance(expr, StandIn) or not isinstance(expr.state, dict):
        raise ConversionError(f"unexpected cron expression {expr!r} in field {field!r}")
    kind, values = expr.short_name, expr.state
    step = values.get("step")
    if kind == "AllExpression":
        if field == "day_of_week" and step:
            return ",".join(WEEKDAYS[day] for day in range(0, 7, step))
        return f"*/{step}" if step else "*"
    if kind == "RangeExpression":
        first, last = values["first"], values.get("last")
        if field == "day_of_week":
            end = 6 if last is None else last
            return ",".join(WEEKDAYS[day] for day in range(first, end + 1, step or 1))
        text = str(first) if last in (None, first) else f"{first}-{last}"
        if last is None and step:
            text = f"{first}-{_FIELD_MAX[field]}"
        return f"{text}/{step}" if step else text
    if kind == "MonthRangeExpression":
        first, last = values["first"], values.get("last")
        if last in (None, first):
            return _MONTHS[first - 1]
        return f"{_MONTHS[first - 1]}-{_MONTHS[last - 1]}"
    if kind == "WeekdayRangeExpression":
        first, last = values["first"], values.get("last")
        if last in (None, first):
            return WEEKDAYS[first]
        return f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
    if kind == "WeekdayPositionExpression":
        return f"{_WEEKDAY_POSITIONS[values['option_num']]} {WEEKDAYS[values['weekday']]}"
    if kind == "LastDayOfMonthExpression":
        return "last"
    raise ConversionError(f"unsupported cron expression {expr.v3_class}")


_FIELD_MAX = {
    "year": 9999,
    "month": 12,
    "day": 31,
    "week": 53,
    "day_of_week": 6,
    "hour": 23,
    "minute": 59,
    "second": 59,
}


def _calendar_interval_trigger(state: dict[str, Any]) -> Trigger:
    from ..triggers.calendarinterval import CalendarIntervalTrigger

    years, months, weeks, days = state["interval"]
    hour, minute, second = state["time"]
    start: date = state["start_date"]
    return CalendarIntervalTrigger(
        years=years,
        months=months,
        weeks=weeks,
        days=days,
        hour=hour,
        minute=minute,
        second=second,
        start_date=start,
        end_date=state.get("end_date"),
        timezone=_zone(state.get("timezone")),
    )


def _combining_trigger(kind: str) -> Any:
    def convert(state: dict[str, Any]) -> Trigger:
        from ..triggers.combining import AndTrigger, OrTrigger

        children = []
        for ref, child_state in state["triggers"]:
            cls = stand_in_for(ref)
            if cls is None:
                raise ConversionError(f"unsupported trigger {ref!r} inside {kind}")
            child = cls.__new__(cls)
            child.__setstate__(child_state)
            children.append(convert_trigger(child)[0])
        return (AndTrigger if kind == "AndTrigger" else OrTrigger)(*children)

    return convert


_TRIGGER_CONVERTERS = {
    "DateTrigger": _date_trigger,
    "IntervalTrigger": _interval_trigger,
    "CronTrigger": _cron_trigger,
    "CalendarIntervalTrigger": _calendar_interval_trigger,
    "AndTrigger": _combining_trigger("AndTrigger"),
    "OrTrigger": _combining_trigger("OrTrigger"),
}
