"""The cron trigger: fires on the wall-clock times that match a cron-like expression.

The package is split in four: :mod:`.fields` parses field expressions into sets of
values, :mod:`.expressions` holds the month-dependent items (``L``, ``W``, ``#``...),
:mod:`.matcher` finds the next matching wall-clock time, and :mod:`.crontab` splits
crontab lines. :class:`CronTrigger` adds time zones, start/end times and state.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from ..._clock import get_clock
from ..._converters import as_timezone
from .._base import (
    UTC,
    BaseTrigger,
    check_end_after_start,
    datetime_from_state,
    datetime_to_state,
    gap_or_fold,
    pick_alias,
    share_in_copies,
    to_datetime,
    to_utc,
    zone_from_state,
    zone_to_state,
)
from .crontab import split_crontab
from .fields import FIELD_NAMES, resolve_field_texts
from .matcher import CronSpec, WallClock, compile_spec

share_in_copies(CronSpec)  # compiled once, shared by every trigger with its fields

__all__ = ["CronTrigger"]

_DateTimeInput = datetime | date | str
_FieldInput = int | str | None
_Found = tuple[datetime, WallClock, datetime]  # fire time, its wall clock, its naive UTC


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _wall_clock(value: datetime) -> WallClock:
    return value.year, value.month, value.day, value.hour, value.minute, value.second


@lru_cache(maxsize=4096)
def _regular_offset(tz: tzinfo, year: int, month: int, day: int) -> timedelta | None:
    """The UTC offset of ``tz`` throughout the given day, or ``None`` if the offset
    changes during it (or the day contains a skipped or repeated wall-clock time)."""
    # Assumes at most one clock change per day. A change that is not visible at the
    # start and the end of the day (fold 0) starts or ends exactly at midnight, and then
    # the last second of the day is skipped or repeated (fold 1 differs).
    offset = datetime(year, month, day, tzinfo=tz).utcoffset()
    end = datetime(year, month, day, 23, 59, 59, tzinfo=tz)
    if end.utcoffset() != offset or end.replace(fold=1).utcoffset() != offset:
        return None
    return offset


class CronTrigger(BaseTrigger):
    """Fires on every wall-clock time (in ``timezone``) that matches all the fields.

    Each field takes an integer or an expression string; see the user guide for the
    syntax (``*``, ``*/n``, ``a-b/n``, names, ``L``, ``L-n``, ``15W``, ``LW``,
    ``2nd mon``, ``last fri``, ``MON#2``, ``5L``, ``?``). Omitted fields that are more
    significant than the least significant given field mean "every value"; the others
    take their minimum (so ``CronTrigger(hour=5)`` fires at 05:00:00 every day).

    ``day`` and ``day_of_week`` (and ``week``) must **all** match (AND), unlike classic
    cron, which fires when either the day of month or the weekday matches.

    Numeric weekdays follow cron: 0 and 7 are Sunday, 1 is Monday. Fire times are whole
    seconds.

    Daylight saving time: a wall-clock time that does not exist (the clocks skip it) is
    skipped; a wall-clock time that occurs twice fires once, at its first occurrence.

    :param year: 4-digit year (1970-9999)
    :param month: month (1-12 or ``jan``-``dec``)
    :param day: day of the month (1-31, plus ``L``, ``W``, ``1st mon``...)
    :param week: ISO week (1-53)
    :param day_of_week: weekday (0-7 with 0 and 7 = Sunday, or ``mon``-``sun``, plus
        ``5L``, ``MON#2``...)
    :param hour: hour (0-23)
    :param minute: minute (0-59)
    :param second: second (0-59)
    :param start_time: the earliest possible fire time (inclusive; default: now).
        Naive values are taken to be in ``timezone``; aware ones are converted to it.
    :param end_time: the latest possible fire time (inclusive)
    :param timezone: the zone in which the fields are matched (default: the host's
        local zone)
    :param start_date: APScheduler 3 name of ``start_time``
    :param end_date: APScheduler 3 name of ``end_time``
    :raises ValueError: if an expression is invalid (the message names the field), a
        naive start/end time does not exist in the zone, or ``end_time < start_time``
    """

    FIELD_NAMES = FIELD_NAMES

    timezone: tzinfo
    start_time: datetime
    end_time: datetime | None
    _texts: dict[str, str]
    _spec: CronSpec
    _end_utc: datetime | None
    _last_fire_time: datetime | None
    #: (wall-clock, naive UTC) of the last fire time, to resume the search cheaply
    _cursor: tuple[WallClock, datetime] | None

    def __init__(
        self,
        *,
        year: _FieldInput = None,
        month: _FieldInput = None,
        day: _FieldInput = None,
        week: _FieldInput = None,
        day_of_week: _FieldInput = None,
        hour: _FieldInput = None,
        minute: _FieldInput = None,
        second: _FieldInput = None,
        start_time: _DateTimeInput | None = None,
        end_time: _DateTimeInput | None = None,
        timezone: tzinfo | str | None = None,
        start_date: _DateTimeInput | None = None,
        end_date: _DateTimeInput | None = None,
    ):
        given: dict[str, _FieldInput] = {
            "year": year,
            "month": month,
            "day": day,
            "week": week,
            "day_of_week": day_of_week,
            "hour": hour,
            "minute": minute,
            "second": second,
        }
        self._set_fields(resolve_field_texts(given))
        self.timezone = as_timezone(timezone)
        start = pick_alias("start_time", start_time, "start_date", start_date)
        end = pick_alias("end_time", end_time, "end_date", end_date)
        if start is None:
            self.start_time = get_clock().now().astimezone(self.timezone)
        else:
            self.start_time = to_datetime(start, self.timezone, "start_time")
            self.start_time = self.start_time.astimezone(self.timezone)
        self.end_time = None
        if end is not None:
            self.end_time = to_datetime(end, self.timezone, "end_time").astimezone(self.timezone)
        check_end_after_start(self.start_time, self.end_time)
        self._end_utc = None if self.end_time is None else _naive_utc(self.end_time)
        self._last_fire_time = None
        self._cursor = None

    @classmethod
    def from_crontab(
        cls,
        expr: str,
        *,
        start_time: _DateTimeInput | None = None,
        end_time: _DateTimeInput | None = None,
        timezone: tzinfo | str | None = None,
    ) -> CronTrigger:
        """Create a trigger from a crontab line.

        Accepts ``minute hour day month day_of_week`` (5 fields), a leading ``second``
        (6 fields), a leading ``second`` and a trailing ``year`` (7 fields), and the
        macros ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``,
        ``@midnight`` and ``@hourly``.

        When both ``day`` and ``day_of_week`` are restricted, both must match (see the
        class docstring).

        :raises ValueError: if the line or one of its fields is invalid
        """
        fields = split_crontab(expr)
        return cls(
            year=fields["year"],
            month=fields["month"],
            day=fields["day"],
            day_of_week=fields["day_of_week"],
            hour=fields["hour"],
            minute=fields["minute"],
            second=fields["second"],
            start_time=start_time,
            end_time=end_time,
            timezone=timezone,
        )

    def _set_fields(self, values: dict[str, int | str]) -> None:
        for name in FIELD_NAMES:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise TypeError(
                    f"The cron field {name!r} must be a string or an integer, "
                    f"not {type(value).__name__}"
                )
        texts = {name: str(values[name]).strip() for name in FIELD_NAMES}
        self._spec = compile_spec(tuple(texts[name] for name in FIELD_NAMES))
        self._texts = texts

    @property
    def fields(self) -> dict[str, str]:
        """The expression of each field (after filling in omitted fields), by name."""
        return dict(self._texts)

    @property
    def start_date(self) -> datetime:
        """APScheduler 3 name of :attr:`start_time`."""
        return self.start_time

    @property
    def end_date(self) -> datetime | None:
        """APScheduler 3 name of :attr:`end_time`."""
        return self.end_time

    # Searching

    def _gap_end(self, naive: datetime, skipped: timedelta) -> datetime:
        """The first existing wall-clock second after ``naive``, which lies in a gap of
        (at most) ``skipped`` length."""
        low, high = 0, max(int(skipped.total_seconds()), 1)
        tz = self.timezone
        while high - low > 1:
            middle = (low + high) // 2
            moment = (naive + timedelta(seconds=middle)).replace(tzinfo=tz)
            if gap_or_fold(moment) == -1:
                low = middle
            else:
                high = middle
        return naive + timedelta(seconds=high)

    def _search(self, wall: WallClock, limit: datetime, inclusive: bool) -> _Found | None:
        """The first fire time at or after the wall-clock time ``wall`` whose instant is
        after ``limit`` (naive UTC), or at it when ``inclusive``.

        Returns the fire time with its wall-clock components and naive UTC instant.
        """
        tz = self.timezone
        next_match = self._spec.next_match
        try:
            while True:
                match = next_match(wall)
                if match is None:
                    return None
                try:
                    offset = _regular_offset(tz, match[0], match[1], match[2])
                except TypeError:  # an unhashable tzinfo
                    offset = _regular_offset.__wrapped__(tz, match[0], match[1], match[2])
                if offset is not None:  # fast path: no clock change on this day
                    utc = datetime(*match) - offset
                    if utc < limit or (utc == limit and not inclusive):
                        wall = (*match[:5], match[5] + 1)
                        continue
                    candidate = datetime(*match, tzinfo=tz)
                else:
                    naive = datetime(*match)
                    candidate = naive.replace(tzinfo=tz)
                    first = candidate.utcoffset()
                    second = candidate.replace(fold=1).utcoffset()
                    assert first is not None and second is not None
                    if first < second:
                        # The clocks skip this wall-clock time: resume after the gap
                        gap_end = self._gap_end(naive, second - first)
                        wall = _wall_clock(gap_end)
                        continue
                    utc = naive - first
                    if first > second and (utc < limit or (utc == limit and not inclusive)):
                        # It occurs twice and the first occurrence is before the limit
                        # (which lies inside the repeated period): use the second one
                        candidate, utc = candidate.replace(fold=1), naive - second
                    if utc < limit or (utc == limit and not inclusive):
                        wall = (*match[:5], match[5] + 1)
                        continue
                if self._end_utc is not None and utc > self._end_utc:
                    return None
                return candidate, match, utc
        except OverflowError:  # beyond year 9999
            return None

    def _search_after(self, threshold: datetime, inclusive: bool) -> _Found | None:
        """The first fire time after the aware datetime ``threshold`` (or at it)."""
        try:
            limit = _naive_utc(threshold)
            local = threshold.astimezone(self.timezone).replace(tzinfo=None)
        except OverflowError:
            return None
        wall = _wall_clock(local)
        if local.microsecond:
            wall = (*wall[:5], wall[5] + 1)
        return self._search(wall, limit, inclusive)

    def next(self) -> datetime | None:
        if self._last_fire_time is None:
            found = self._search_after(self.start_time, inclusive=True)
        else:
            if self._cursor is None:
                local = self._last_fire_time.astimezone(self.timezone).replace(tzinfo=None)
                self._cursor = (_wall_clock(local), _naive_utc(self._last_fire_time))
            wall, limit = self._cursor
            found = self._search((*wall[:5], wall[5] + 1), limit, inclusive=False)
        if found is None:
            return None
        self._last_fire_time, wall, limit = found
        self._cursor = (wall, limit)
        return self._last_fire_time

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler 3 style, stateless: the first fire time after
        ``previous_fire_time``, or the first at or after ``now`` if it is ``None``
        (never before ``start_time``)."""
        start = self.start_time
        if previous_fire_time is None:
            threshold = now if to_utc(now) > to_utc(start) else start
            found = self._search_after(threshold, inclusive=True)
        elif to_utc(previous_fire_time) < to_utc(start):
            found = self._search_after(start, inclusive=True)
        else:
            found = self._search_after(previous_fire_time, inclusive=False)
        return None if found is None else found[0]

    # State

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "timezone": zone_to_state(self.timezone),
            "fields": dict(self._texts),
            "start_time": datetime_to_state(self.start_time),
            "end_time": datetime_to_state(self.end_time),
            "last_fire_time": datetime_to_state(self._last_fire_time),
        }

    def __setstate__(self, state: Any) -> None:
        state = self._check_state(state, ("fields", "start_time", "timezone"))
        try:
            fields = state["fields"]
            if not isinstance(fields, dict) or set(fields) != set(FIELD_NAMES):
                raise ValueError(
                    f"'fields' must map each of {', '.join(FIELD_NAMES)} to an expression"
                )
            self._set_fields(fields)
            zone = zone_from_state(state["timezone"])
            start_time = datetime_from_state(state["start_time"], zone)
            if start_time is None:
                raise ValueError("start_time is missing")
            if zone is None:
                raise ValueError("timezone is missing")
            self.timezone = zone
            self.start_time = start_time
            self.end_time = datetime_from_state(state.get("end_time"), self.timezone)
            self._end_utc = None if self.end_time is None else _naive_utc(self.end_time)
            self._last_fire_time = datetime_from_state(state.get("last_fire_time"), self.timezone)
            self._cursor = None
        except (TypeError, ValueError) as exc:
            raise self._state_error(exc) from exc

    def _repr_fields(self) -> list[tuple[str, Any]]:
        fields: list[tuple[str, Any]] = [
            (name, text) for name, text in self._texts.items() if text != "*"
        ]
        fields += [
            ("start_time", self.start_time),
            ("end_time", self.end_time),
            ("timezone", self.timezone),
        ]
        return fields
