"""APScheduler 3 trigger semantics on top of the core triggers.

The v3 API creates ordinary core triggers (so schedules made through it are plain core
schedules), choosing their arguments so that they fire when APScheduler 3 would have:

* ``"interval"`` without ``start_date`` first fires one interval after the job is added
  (the core ``IntervalTrigger`` fires at once); an all-zero interval means one second;
* ``"cron"`` keeps v3's numeric weekdays (**0 = Monday**): numeric ``day_of_week``
  expressions are rewritten with weekday names before the core ``CronTrigger`` (0 =
  Sunday) sees them;
* ``"date"`` without ``run_date`` means now;
* ``jitter`` is taken out of the trigger arguments and becomes the schedule's
  ``max_jitter``.

A job's first run time is the trigger's ``get_next_fire_time(None, now)`` (v3's
stateless rule: past fire times of a trigger are skipped). The core scheduler then
drives the trigger statefully with ``next()``; :func:`position_after` puts a trigger in
the state where ``next()`` returns the first fire time after a given time.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from .._clock import get_clock
from .._registry import get_registry
from ..abc import Trigger

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NUMERIC_WEEKDAY = re.compile(
    r"(?:(?P<all>\*)|(?P<first>\d+)(?:-(?P<last>\d+))?)(?:/(?P<step>\d+))?"
)
_INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
#: How many fire times a trigger without state support may be advanced to position it
_MAX_ITERATIONS = 100_000


def translate_day_of_week(value: int | str | None) -> int | str | None:
    """Rewrite an APScheduler 3 ``day_of_week`` (numbers: 0 = Monday ... 6 = Sunday) with
    weekday names, which mean the same day in the core ``CronTrigger`` (where numbers
    follow cron: 0 = Sunday).

    ``"0-4"`` becomes ``"mon,tue,wed,thu,fri"``, ``"*/2"`` becomes ``"mon,wed,fri,sun"``;
    names, ``*`` and other expressions are kept. Out-of-range numbers raise
    ``ValueError``, as they did in APScheduler 3 (where 7 was not valid).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("day_of_week must be an integer or a string")
    if isinstance(value, int):
        if not 0 <= value <= 6:
            raise ValueError(f"day_of_week: {value} is not between 0 (mon) and 6 (sun)")
        return WEEKDAYS[value]
    parts: list[str] = []
    for part in str(value).split(","):
        part = part.strip()
        match = _NUMERIC_WEEKDAY.fullmatch(part)
        if match is None or part == "*":
            parts.append(part)
            continue
        step = int(match["step"]) if match["step"] else 1
        if step == 0:
            raise ValueError(f"day_of_week: the step in {part!r} must be higher than 0")
        if match["all"]:
            first, last = 0, 6
        else:
            first = int(match["first"])
            last = int(match["last"]) if match["last"] else (6 if match["step"] else first)
        if not 0 <= first <= last <= 6:
            raise ValueError(
                f"day_of_week: {part!r} is not a valid range of weekdays 0 (mon) to 6 (sun)"
            )
        parts.extend(WEEKDAYS[day] for day in range(first, last + 1, step))
    unique = list(dict.fromkeys(parts))
    return ",".join(unique)


def build_trigger(
    trigger: Trigger | str | None, trigger_args: Mapping[str, Any], timezone: tzinfo
) -> tuple[Trigger, float | None]:
    """Create a trigger the way APScheduler 3's ``add_job()`` does; return it with the
    jitter (seconds) that was given with it."""
    args = dict(trigger_args)
    if isinstance(trigger, Trigger):
        if args:
            raise TypeError(
                f"Unexpected keyword arguments {sorted(args)}: trigger arguments can only be "
                f"given with a trigger name"
            )
        return trigger, None
    if trigger is None:
        trigger = "date"
    if not isinstance(trigger, str):
        raise TypeError(
            f"Expected a trigger instance or string, got {type(trigger).__name__} instead"
        )
    jitter = args.pop("jitter", None)
    if jitter is not None:
        jitter = float(jitter)
        if jitter < 0:
            raise ValueError("jitter cannot be negative")
        jitter = jitter or None
    args.setdefault("timezone", timezone)
    if trigger == "date":
        if args.get("run_date") is None and args.get("run_time") is None:
            args.pop("run_date", None)
            args["run_time"] = get_clock().now()
    elif trigger == "interval":
        _v3_interval_args(args)
    elif trigger == "cron":
        args["day_of_week"] = translate_day_of_week(args.get("day_of_week"))
    cls = get_registry().resolve("trigger", trigger)
    positional: tuple[Any, ...] = ()
    if trigger in ("and", "or"):
        args.pop("timezone")
        positional = tuple(args.pop("triggers", ()))
    elif not _accepts_timezone(cls):
        args.pop("timezone")
    try:
        return cls(*positional, **args), jitter
    except TypeError as exc:
        raise TypeError(f"Invalid arguments for trigger {trigger!r}: {exc}") from None


def _accepts_timezone(cls: Any) -> bool:
    try:
        return "timezone" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _v3_interval_args(args: dict[str, Any]) -> None:
    """Give an ``"interval"`` trigger APScheduler 3's defaults (see the module docstring)."""
    interval = timedelta(**{unit: args.get(unit, 0) for unit in _INTERVAL_UNITS})
    if interval <= timedelta(0) and not args.get("microseconds"):
        for unit in _INTERVAL_UNITS:
            args.pop(unit, None)
        args["seconds"] = 1
        interval = timedelta(seconds=1)
    if args.get("start_date") is None and args.get("start_time") is None:
        args.pop("start_date", None)
        args["start_time"] = get_clock().now() + interval


def first_fire_time(trigger: Trigger, now: datetime) -> datetime | None:
    """The first fire time at or after ``now`` (APScheduler 3's
    ``get_next_fire_time(None, now)``); a :class:`~apscheduler.triggers.date.DateTrigger`
    returns its run time even if it is past (so that the misfire grace time applies)."""
    method = getattr(trigger, "get_next_fire_time", None)
    if method is not None:
        result: datetime | None = method(None, now)
        return result
    clone = copy.deepcopy(trigger)
    for _ in range(_MAX_ITERATIONS):
        value = clone.next()
        if value is None or value >= now:
            return value
    raise ValueError(f"{trigger!r} has no fire time near {now.isoformat()}")


def position_after(trigger: Trigger, moment: datetime | None) -> Trigger:
    """Return a copy of ``trigger`` whose ``next()`` returns its first fire time after
    ``moment`` (``None``: a copy as is)."""
    if moment is None:
        return copy.deepcopy(trigger)
    from ..triggers.calendarinterval import CalendarIntervalTrigger
    from ..triggers.combining import BaseCombiningTrigger, marshal_trigger, unmarshal_trigger
    from ..triggers.cron import CronTrigger
    from ..triggers.date import DateTrigger
    from ..triggers.interval import IntervalTrigger

    if isinstance(trigger, DateTrigger):
        state = trigger.__getstate__()
        state["completed"] = trigger.run_time.timestamp() <= moment.timestamp()
    elif isinstance(trigger, (IntervalTrigger, CronTrigger)):
        state = trigger.__getstate__()
        state["last_fire_time"] = moment.isoformat()
    elif isinstance(trigger, CalendarIntervalTrigger):
        state = trigger.__getstate__()
        state["last_fire_date"] = moment.astimezone(trigger.timezone).date().isoformat()
    elif isinstance(trigger, BaseCombiningTrigger):
        state = trigger.__getstate__()
        state["triggers"] = [
            marshal_trigger(position_after(unmarshal_trigger(child), moment))
            for child in state["triggers"]
        ]
        state["next_fire_times"] = []
    else:
        return _advance_past(trigger, moment)
    clone = type(trigger).__new__(type(trigger))
    clone.__setstate__(state)
    return clone


def _advance_past(trigger: Trigger, moment: datetime) -> Trigger:
    """Position a trigger of an unknown kind by stepping a copy through its fire times."""
    current = copy.deepcopy(trigger)
    for _ in range(_MAX_ITERATIONS):
        snapshot = copy.deepcopy(current)
        value = current.next()
        if value is None or value > moment:
            return snapshot
    raise ValueError(f"Cannot position {trigger!r} after {moment.isoformat()}")
