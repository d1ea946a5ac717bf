"""A trigger that fires at a fixed interval of elapsed time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from .._clock import get_clock
from .._converters import as_timezone
from ._base import (
    BaseTrigger,
    check_end_after_start,
    datetime_from_state,
    datetime_to_state,
    pick_alias,
    to_datetime,
    to_utc,
    zone_from_state,
    zone_to_state,
)

_MICROSECOND = timedelta(microseconds=1)


class IntervalTrigger(BaseTrigger):
    """Fires at ``start_time`` and then every ``interval`` of **elapsed** time.

    The arithmetic is done in UTC and each result is converted back to the start time's
    zone, so daylight saving time changes never produce a duplicate instant or a gap:
    with ``hours=1`` the fire times are exactly one hour apart even on the night the
    clocks change (the wall-clock times shown jump by 0 or 2 hours instead).

    :param weeks: number of weeks to wait
    :param days: number of days to wait
    :param hours: number of hours to wait
    :param minutes: number of minutes to wait
    :param seconds: number of seconds to wait
    :param microseconds: number of microseconds to wait
    :param start_time: the first fire time (default: now). Datetime, date or ISO string;
        naive values are taken to be in ``timezone``.
    :param end_time: the latest possible fire time (inclusive)
    :param start_date: APScheduler 3 name of ``start_time``
    :param end_date: APScheduler 3 name of ``end_time``
    :param timezone: the zone of naive start/end times and of the returned fire times
        (default: the zone of an aware ``start_time``, else the host's local zone)
    :raises ValueError: if the interval is not positive or ``end_time < start_time``
    """

    __slots__ = ("interval", "start_time", "end_time", "_components", "_last_fire_time")

    interval: timedelta
    start_time: datetime
    end_time: datetime | None
    _components: tuple[float, ...]
    _last_fire_time: datetime | None

    def __init__(
        self,
        *,
        weeks: float = 0,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        microseconds: float = 0,
        start_time: datetime | date | str | None = None,
        end_time: datetime | date | str | None = None,
        start_date: datetime | date | str | None = None,
        end_date: datetime | date | str | None = None,
        timezone: tzinfo | str | None = None,
    ):
        components = (weeks, days, hours, minutes, seconds, microseconds)
        self._set_interval(components)

        start = pick_alias("start_time", start_time, "start_date", start_date)
        end = pick_alias("end_time", end_time, "end_date", end_date)
        if timezone is not None:
            zone = as_timezone(timezone)
        elif isinstance(start, datetime) and start.tzinfo is not None:
            zone = as_timezone(start.tzinfo)  # pytz zones become ZoneInfo
        else:
            zone = as_timezone(None)

        if start is None:
            self.start_time = get_clock().now().astimezone(zone)
        else:
            self.start_time = to_datetime(start, zone, "start_time").astimezone(zone)
        self.end_time = None
        if end is not None:
            self.end_time = to_datetime(end, zone, "end_time").astimezone(zone)
        check_end_after_start(self.start_time, self.end_time)
        self._last_fire_time = None

    def _set_interval(self, components: tuple[Any, ...]) -> None:
        names = ("weeks", "days", "hours", "minutes", "seconds", "microseconds")
        for name, value in zip(names, components):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
        weeks, days, hours, minutes, seconds, microseconds = components
        interval = timedelta(
            weeks=weeks,
            days=days,
            hours=hours,
            minutes=minutes,
            seconds=seconds,
            microseconds=microseconds,
        )
        if interval <= timedelta(0):
            raise ValueError("The interval must be positive (give weeks, days, hours...)")
        self.interval = interval
        self._components = tuple(components)

    @property
    def timezone(self) -> tzinfo:
        """The zone of the fire times (that of :attr:`start_time`)."""
        return self.start_time.tzinfo  # type: ignore[return-value]

    @property
    def start_date(self) -> datetime:
        """APScheduler 3 name of :attr:`start_time`."""
        return self.start_time

    @property
    def end_date(self) -> datetime | None:
        """APScheduler 3 name of :attr:`end_time`."""
        return self.end_time

    def _fire_time_at(self, utc: datetime) -> datetime | None:
        """Convert a UTC instant to the start time's zone, honouring ``end_time``."""
        if self.end_time is not None and utc > to_utc(self.end_time):
            return None
        return utc.astimezone(self.start_time.tzinfo)

    def next(self) -> datetime | None:
        if self._last_fire_time is None:
            result = self._fire_time_at(to_utc(self.start_time))
        else:
            try:
                result = self._fire_time_at(to_utc(self._last_fire_time) + self.interval)
            except OverflowError:
                result = None
        if result is not None:
            self._last_fire_time = result
        return result

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler 3 style, stateless: the first fire time after
        ``previous_fire_time``, or the first at or after ``now`` if it is ``None``.

        Fire times are aligned on ``start_time + n * interval``.
        """
        start = to_utc(self.start_time)
        step = self.interval // _MICROSECOND
        if previous_fire_time is None:
            elapsed = (to_utc(now) - start) // _MICROSECOND
            count = 0 if elapsed <= 0 else -(-elapsed // step)
        else:
            elapsed = (to_utc(previous_fire_time) - start) // _MICROSECOND
            count = 0 if elapsed < 0 else elapsed // step + 1
        try:
            return self._fire_time_at(start + count * self.interval)
        except OverflowError:
            return None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "interval": list(self._components),
            "start_time": datetime_to_state(self.start_time),
            "end_time": datetime_to_state(self.end_time),
            "timezone": zone_to_state(self.start_time.tzinfo),  # type: ignore[arg-type]
            "last_fire_time": datetime_to_state(self._last_fire_time),
        }

    def __setstate__(self, state: Any) -> None:
        state = self._check_state(state, ("interval", "start_time"))
        try:
            components = state["interval"]
            if not isinstance(components, (list, tuple)) or len(components) != 6:
                raise ValueError(f"'interval' must be a list of 6 numbers, got {components!r}")
            self._set_interval(tuple(components))
            zone = zone_from_state(state.get("timezone"))
            start_time = datetime_from_state(state["start_time"], zone)
            if start_time is None:
                raise ValueError("start_time is missing")
            self.start_time = start_time
            self.end_time = datetime_from_state(state.get("end_time"), zone)
            self._last_fire_time = datetime_from_state(state.get("last_fire_time"), zone)
        except (TypeError, ValueError) as exc:
            raise self._state_error(exc) from exc

    def _repr_fields(self) -> list[tuple[str, Any]]:
        names = ("weeks", "days", "hours", "minutes", "seconds", "microseconds")
        fields: list[tuple[str, Any]] = [
            (name, value) for name, value in zip(names, self._components) if value
        ]
        fields += [("start_time", self.start_time), ("end_time", self.end_time)]
        return fields
