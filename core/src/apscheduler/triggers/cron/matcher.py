"""The search for the next wall-clock time that matches a set of parsed cron fields.

The search works on naive wall-clock components and never steps through time second by
second: for each field it bisects the sorted tuple of allowed values, and when a field
runs out of values it carries into the next more significant field, resetting the less
significant ones to their minimum. The days of a month that match the ``day``,
``week`` and ``day_of_week`` fields together are computed once per calendar month and
cached; because the Gregorian calendar repeats every 400 years (146 097 days, exactly
20 871 weeks), the cache key is ``(year % 400, month)`` and the cache never grows past
4 800 entries, and an expression that can never match (``day=31, month=2``) is
recognised after at most 400 years of calendars instead of being searched until 9999.
"""

from __future__ import annotations

from bisect import bisect_left
from calendar import monthrange
from datetime import date
from functools import lru_cache

from .fields import FIELD_NAMES, ParsedField, parse_field

_CYCLE = 400  # years after which the Gregorian calendar repeats

WallClock = tuple[int, int, int, int, int, int]


class CronSpec:
    """Compiled cron fields: answers "what is the first matching wall-clock time at or
    after this one?" (:meth:`next_match`). Immutable apart from its caches, so one
    instance is shared by every trigger with the same expressions."""

    __slots__ = (
        "fields",
        "_years",
        "_months",
        "_hours",
        "_minutes",
        "_seconds",
        "_day",
        "_week",
        "_weekday",
        "_days_cache",
        "_year_cache",
        "_never_matches",
    )

    def __init__(self, fields: dict[str, ParsedField]):
        self.fields = fields
        self._years = fields["year"].values
        self._months = fields["month"].values
        self._hours = fields["hour"].values
        self._minutes = fields["minute"].values
        self._seconds = fields["second"].values
        self._day = fields["day"]
        self._week = fields["week"]
        self._weekday = fields["day_of_week"]
        self._days_cache: dict[tuple[int, int], tuple[int, ...]] = {}
        self._year_cache: dict[int, bool] = {}
        self._never_matches = False

    def __deepcopy__(self, memo: dict[int, object]) -> CronSpec:
        return self  # immutable (its caches are pure functions of the fields)

    def days_of_month(self, year: int, month: int) -> tuple[int, ...]:
        """The sorted days of ``year``-``month`` matching ``day``, ``week`` and
        ``day_of_week``."""
        key = (year % _CYCLE, month)
        cached = self._days_cache.get(key)
        if cached is None:
            cached = self._days_cache[key] = self._compute_days(year, month)
        return cached

    def _compute_days(self, year: int, month: int) -> tuple[int, ...]:
        first_weekday, length = monthrange(year, month)
        day_field, weekday_field, week_field = self._day, self._weekday, self._week
        if day_field.is_wildcard:
            candidates = set(range(1, length + 1))
        else:
            candidates = {day for day in day_field.values if day <= length}
            for expression in day_field.dynamic:
                candidates.update(expression.days(length, first_weekday))
        if not weekday_field.is_wildcard:
            weekdays = weekday_field.values
            allowed = {day for day in candidates if (first_weekday + day - 1) % 7 in weekdays}
            for expression in weekday_field.dynamic:
                allowed.update(candidates.intersection(expression.days(length, first_weekday)))
            candidates = allowed
        if not week_field.is_wildcard:
            weeks = week_field.values
            candidates = {
                day for day in candidates if date(year, month, day).isocalendar()[1] in weeks
            }
        return tuple(sorted(candidates))

    def _year_can_match(self, year: int) -> bool:
        key = year % _CYCLE
        cached = self._year_cache.get(key)
        if cached is None:
            cached = self._year_cache[key] = any(
                self.days_of_month(year, month) for month in self._months
            )
            if len(self._year_cache) == _CYCLE and not any(self._year_cache.values()):
                self._never_matches = True  # no day of any possible calendar matches
        return cached

    def next_match(self, start: WallClock) -> WallClock | None:
        """The first matching wall-clock time at or after ``start``
        (``(year, month, day, hour, minute, second)``), or ``None`` if there is none up
        to the end of year 9999.

        Components of ``start`` may overflow by one (``second=60``, ``minute=60``,
        ``hour=24``, ``day=32``, ``month=13``): they carry into the next field.
        """
        year, month, day, hour, minute, second = start
        years, months = self._years, self._months
        while True:
            index = bisect_left(years, year)
            if index == len(years) or self._never_matches:
                return None
            if years[index] != year:
                year, month, day, hour, minute, second = years[index], 1, 1, 0, 0, 0
            if not self._year_can_match(year):
                year, month, day, hour, minute, second = year + 1, 1, 1, 0, 0, 0
                continue

            index = bisect_left(months, month)
            if index == len(months):
                year, month, day, hour, minute, second = year + 1, 1, 1, 0, 0, 0
                continue
            if months[index] != month:
                month, day, hour, minute, second = months[index], 1, 0, 0, 0

            days = self.days_of_month(year, month)
            index = bisect_left(days, day)
            if index == len(days):
                month, day, hour, minute, second = month + 1, 1, 0, 0, 0
                continue
            if days[index] != day:
                day, hour, minute, second = days[index], 0, 0, 0

            time_of_day = self._next_time_of_day(hour, minute, second)
            if time_of_day is None:
                day, hour, minute, second = day + 1, 0, 0, 0
                continue
            return (year, month, day, *time_of_day)

    def _next_time_of_day(
        self, hour: int, minute: int, second: int
    ) -> tuple[int, int, int] | None:
        """The first matching ``(hour, minute, second)`` at or after the given one on
        the same day, or ``None``."""
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        hour_index = bisect_left(hours, hour)
        if hour_index == len(hours):
            return None
        if hours[hour_index] == hour:
            minute_index = bisect_left(minutes, minute)
            if minute_index < len(minutes):
                if minutes[minute_index] != minute:
                    return hour, minutes[minute_index], seconds[0]
                second_index = bisect_left(seconds, second)
                if second_index < len(seconds):
                    return hour, minute, seconds[second_index]
                if minute_index + 1 < len(minutes):
                    return hour, minutes[minute_index + 1], seconds[0]
            # no more minutes in this hour
            hour_index += 1
            if hour_index == len(hours):
                return None
        return hours[hour_index], minutes[0], seconds[0]


@lru_cache(maxsize=256)
def compile_spec(texts: tuple[str, ...]) -> CronSpec:
    """Parse the eight field expressions (in :data:`.fields.FIELD_NAMES` order) into a
    shared :class:`CronSpec`.

    :raises ValueError: if an expression is invalid
    """
    return CronSpec({name: parse_field(name, text) for name, text in zip(FIELD_NAMES, texts)})
