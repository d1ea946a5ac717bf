"""A trigger that fires at a fixed time of day every N years/months/weeks/days."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from .._clock import get_clock
from .._converters import as_timezone
from ._base import (
    UTC,
    BaseTrigger,
    date_from_state,
    gap_or_fold,
    to_date,
    to_utc,
    zone_from_state,
    zone_to_state,
)

#: How many invalid dates in a row (e.g. 29 February with ``years=1``) may be skipped
#: before giving up; far more than any real calendar needs.
_MAX_SKIPS = 10_000


class CalendarIntervalTrigger(BaseTrigger):
    """Fires at ``hour:minute:second`` (wall-clock time in ``timezone``) on every date
    of the sequence ``start_date``, ``start_date + interval``, ...

    Years and months are added first, keeping the day of the month; a date that does not
    exist (31 April, 29 February in a common year) is skipped, and months are added again
    until a valid date is found. Weeks and days are added after that.

    The first fire time is the first one of the sequence that is not in the past (at the
    time :meth:`next` is first called), so a start date of today with a time of day that
    has already passed starts on the next date of the sequence.

    Daylight saving time: if the time of day does not exist on a date (the clocks skip
    it), that date is skipped; if it occurs twice, the trigger fires once, at the first
    occurrence.

    :param years: number of years to wait
    :param months: number of months to wait
    :param weeks: number of weeks to wait
    :param days: number of days to wait
    :param hour: hour of the day to fire on (0-23)
    :param minute: minute to fire on (0-59)
    :param second: second to fire on (0-59)
    :param start_date: the first date of the sequence (default: today in ``timezone``);
        a date, datetime or ISO 8601 string
    :param end_date: the last date on which the trigger may fire (inclusive)
    :param timezone: the zone of the time of day (default: the host's local zone)
    :raises ValueError: if the interval is zero or negative, a time component is out of
        range, or ``end_date < start_date``
    """

    years: int
    months: int
    weeks: int
    days: int
    time: time
    start_date: date
    end_date: date | None
    timezone: tzinfo
    _last_fire_date: date | None

    def __init__(
        self,
        *,
        years: int = 0,
        months: int = 0,
        weeks: int = 0,
        days: int = 0,
        hour: int = 0,
        minute: int = 0,
        second: int = 0,
        start_date: date | datetime | str | None = None,
        end_date: date | datetime | str | None = None,
        timezone: tzinfo | str | None = None,
    ):
        self.timezone = as_timezone(timezone)
        self._configure((years, months, weeks, days), (hour, minute, second))
        if start_date is None:
            self.start_date = get_clock().now().astimezone(self.timezone).date()
        else:
            self.start_date = to_date(start_date, self.timezone, "start_date")
        self.end_date = None
        if end_date is not None:
            self.end_date = to_date(end_date, self.timezone, "end_date")
            if self.end_date < self.start_date:
                raise ValueError(
                    f"end_date ({self.end_date}) cannot be earlier than start_date "
                    f"({self.start_date})"
                )
        self._last_fire_date = None

    def _configure(self, interval: tuple[Any, ...], time_of_day: tuple[Any, ...]) -> None:
        names = ("years", "months", "weeks", "days", "hour", "minute", "second")
        for name, value in zip(names, interval + time_of_day):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{name} cannot be negative (got {value})")
        if not any(interval):
            raise ValueError("The interval must be at least 1 day long")
        hour, minute, second = time_of_day
        for name, value, maximum in (("hour", hour, 23), ("minute", minute, 59)):
            if value > maximum:
                raise ValueError(f"{name} must be between 0 and {maximum} (got {value})")
        if second > 59:
            raise ValueError(f"second must be between 0 and 59 (got {second})")
        self.years, self.months, self.weeks, self.days = interval
        self.time = time(hour, minute, second)

    # The date sequence

    def _add_months(self, current: date, count: int) -> date | None:
        """The date ``count`` months after ``current`` keeping its day, or ``None`` if
        that date does not exist."""
        index = current.year * 12 + current.month - 1 + count
        year, month = divmod(index, 12)
        month += 1
        if year > 9999 or current.day > monthrange(year, month)[1]:
            return None
        return date(year, month, current.day)

    def _advance(self, current: date) -> date | None:
        """The date of the sequence that follows ``current`` (``None`` past year 9999)."""
        month_step = self.years * 12 + self.months
        try:
            if month_step:
                for multiple in range(1, _MAX_SKIPS + 1):
                    candidate = self._add_months(current, month_step * multiple)
                    if candidate is not None:
                        current = candidate
                        break
                    if current.year + (month_step * multiple) // 12 > 9999:
                        return None
                else:
                    return None
            return current + timedelta(days=self.weeks * 7 + self.days)
        except OverflowError:
            return None

    def _date_near(self, target: date) -> date:
        """A date of the sequence on or before ``target`` (but not before the start),
        found without walking the whole sequence when possible."""
        start = self.start_date
        if target <= start:
            return start
        month_step = self.years * 12 + self.months
        day_step = self.weeks * 7 + self.days
        if not month_step:
            count = (target - start).days // day_step
            return start + timedelta(days=count * day_step)
        if not day_step:
            months = (target.year - start.year) * 12 + target.month - start.month
            count = max(months // month_step - 1, 0)
            # The first valid date at or after ``count`` steps is a member of the sequence
            # Every date that ``count`` steps skip over is well before ``target``, and the
            # first valid date from there on is a member of the sequence.
            for extra in range(_MAX_SKIPS):
                candidate = self._add_months(start, (count + extra) * month_step)
                if candidate is not None:
                    return candidate
                if start.year + ((count + extra) * month_step) // 12 > 9999:
                    break
            return start
        return start  # mixed months and days: the sequence must be walked

    def _is_member(self, day: date) -> bool:
        """Whether ``day`` belongs to the date sequence (always assumed for mixed
        month-and-day steps, which can only be followed one date at a time)."""
        month_step = self.years * 12 + self.months
        day_step = self.weeks * 7 + self.days
        start = self.start_date
        if day < start:
            return False
        if not month_step:
            return (day - start).days % day_step == 0
        if not day_step:
            months = (day.year - start.year) * 12 + day.month - start.month
            return day.day == start.day and months % month_step == 0
        return True

    def _fire_time(self, day: date) -> datetime | None:
        """The fire time on ``day``, or ``None`` if the time of day does not exist then."""
        fire_time = datetime.combine(day, self.time, tzinfo=self.timezone)
        return None if gap_or_fold(fire_time) == -1 else fire_time

    def _search(
        self, current: date | None, threshold: datetime, inclusive: bool
    ) -> tuple[date, datetime] | None:
        """The first ``(date, fire time)`` of the sequence, from ``current`` on, whose
        fire time is after ``threshold`` (or equal to it when ``inclusive``)."""
        limit = to_utc(threshold)
        while current is not None:
            if self.end_date is not None and current > self.end_date:
                return None
            fire_time = self._fire_time(current)
            if fire_time is not None:
                utc = fire_time.astimezone(UTC)
                if utc > limit or (inclusive and utc == limit):
                    return current, fire_time
            current = self._advance(current)
        return None

    def _first_at_or_after(
        self, threshold: datetime, inclusive: bool
    ) -> tuple[date, datetime] | None:
        local_day = to_utc(threshold).astimezone(self.timezone).date()
        # Step back one extra day: the fire time on the day before may still be later
        # than the threshold when the zone's offset changes.
        target = local_day - timedelta(days=1) if local_day > date.min else local_day
        return self._search(self._date_near(target), threshold, inclusive)

    def next(self) -> datetime | None:
        if self._last_fire_date is None:
            found = self._first_at_or_after(get_clock().now(), inclusive=True)
        else:
            # Fire times only ever move forward, even across large offset changes
            previous = datetime.combine(self._last_fire_date, self.time, self.timezone)
            if self._is_member(self._last_fire_date):
                following = self._advance(self._last_fire_date)
                found = None
                if following is not None:
                    found = self._search(following, previous, inclusive=False)
            else:
                # A last fire date set from outside that is not in the sequence: find
                # the first member after it, anchored on the start date
                found = self._first_at_or_after(previous, inclusive=False)
        if found is None:
            return None
        self._last_fire_date, fire_time = found
        return fire_time

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler 3 style, stateless: the first fire time after
        ``previous_fire_time``, or the first at or after ``now`` if it is ``None``."""
        if previous_fire_time is None:
            found = self._first_at_or_after(now, inclusive=True)
        else:
            found = self._first_at_or_after(previous_fire_time, inclusive=False)
        return None if found is None else found[1]

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "interval": [self.years, self.months, self.weeks, self.days],
            "time": [self.time.hour, self.time.minute, self.time.second],
            "start_date": self.start_date.isoformat(),
            "end_date": None if self.end_date is None else self.end_date.isoformat(),
            "timezone": zone_to_state(self.timezone),
            "last_fire_date": (
                None if self._last_fire_date is None else self._last_fire_date.isoformat()
            ),
        }

    def __setstate__(self, state: Any) -> None:
        state = self._check_state(state, ("interval", "time", "start_date", "timezone"))
        try:
            interval, time_of_day = state["interval"], state["time"]
            if not isinstance(interval, (list, tuple)) or len(interval) != 4:
                raise ValueError(f"'interval' must be a list of 4 integers, got {interval!r}")
            if not isinstance(time_of_day, (list, tuple)) or len(time_of_day) != 3:
                raise ValueError(f"'time' must be a list of 3 integers, got {time_of_day!r}")
            zone = zone_from_state(state["timezone"])
            if zone is None:
                raise ValueError("timezone is missing")
            self.timezone = zone
            self._configure(tuple(interval), tuple(time_of_day))
            start_date = date_from_state(state["start_date"])
            if start_date is None:
                raise ValueError("start_date is missing")
            self.start_date = start_date
            self.end_date = date_from_state(state.get("end_date"))
            self._last_fire_date = date_from_state(state.get("last_fire_date"))
        except (TypeError, ValueError) as exc:
            raise self._state_error(exc) from exc

    def _repr_fields(self) -> list[tuple[str, Any]]:
        fields: list[tuple[str, Any]] = [
            (name, value)
            for name, value in (
                ("years", self.years),
                ("months", self.months),
                ("weeks", self.weeks),
                ("days", self.days),
            )
            if value
        ]
        fields += [
            ("hour", self.time.hour),
            ("minute", self.time.minute),
            ("second", self.time.second),
            ("start_date", self.start_date),
            ("end_date", self.end_date),
            ("timezone", self.timezone),
        ]
        return fields
