"""Cron field items whose values depend on the month they are applied to.

Plain values, ranges and steps are turned into fixed sets of numbers by
:mod:`.fields`. The items here (``L``, ``L-3``, ``15W``, ``LW``, ``2nd mon``,
``last fri``, ``MON#2``, ``5L``) select days that move from month to month, so each one
computes its days for a given month. ``first_weekday`` is the weekday of the 1st of the
month, Monday = 0 (Python's :meth:`datetime.date.weekday` convention).
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Iterator

#: Weekday names in Python's order (Monday = 0).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")


class MonthDayExpression(metaclass=ABCMeta):
    """A field item that selects days of a month depending on the month's calendar."""

    __slots__ = ()

    @abstractmethod
    def days(self, month_length: int, first_weekday: int) -> Iterator[int]:
        """Yield the matching days (1-based) of a month with the given length whose 1st
        falls on ``first_weekday``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash((type(self), str(self)))


class LastDayOfMonth(MonthDayExpression):
    """``L`` / ``last``: the last day of the month; ``L-n``: ``n`` days before it."""

    __slots__ = ("offset",)

    def __init__(self, offset: int = 0):
        self.offset = offset

    def days(self, month_length: int, first_weekday: int) -> Iterator[int]:
        day = month_length - self.offset
        if day >= 1:
            yield day

    def __str__(self) -> str:
        return f"L-{self.offset}" if self.offset else "L"


class NearestWeekday(MonthDayExpression):
    """``15W``: the weekday (Monday-Friday) nearest to the given day, within the month.

    A Saturday moves to the Friday before and a Sunday to the Monday after, except at
    the edges of the month: ``1W`` on a Saturday is Monday the 3rd, and a Sunday last day
    gives the Friday two days before. A day beyond the end of the month selects nothing.
    """

    __slots__ = ("day",)

    def __init__(self, day: int):
        self.day = day

    def days(self, month_length: int, first_weekday: int) -> Iterator[int]:
        day = self.day
        if day > month_length:
            return
        weekday = (first_weekday + day - 1) % 7
        if weekday == 5:  # Saturday
            yield day - 1 if day > 1 else day + 2
        elif weekday == 6:  # Sunday
            yield day + 1 if day < month_length else day - 2
        else:
            yield day

    def __str__(self) -> str:
        return f"{self.day}W"


class LastWeekdayOfMonth(MonthDayExpression):
    """``LW``: the last weekday (Monday-Friday) of the month."""

    __slots__ = ()

    def days(self, month_length: int, first_weekday: int) -> Iterator[int]:
        weekday = (first_weekday + month_length - 1) % 7
        yield month_length - max(weekday - 4, 0)

    def __str__(self) -> str:
        return "LW"


class NthWeekdayOfMonth(MonthDayExpression):
    """The n-th (1-5) or last (``nth=-1``) given weekday of the month.

    Written ``2nd mon`` / ``last fri`` in the ``day`` field, and ``MON#2`` / ``FRIL``
    (or ``1#2`` / ``5L``) in the ``day_of_week`` field. A 5th weekday that a month does
    not have selects nothing in that month.
    """

    __slots__ = ("nth", "weekday")

    def __init__(self, nth: int, weekday: int):
        self.nth = nth
        self.weekday = weekday

    def days(self, month_length: int, first_weekday: int) -> Iterator[int]:
        if self.nth == -1:
            last_weekday = (first_weekday + month_length - 1) % 7
            yield month_length - (last_weekday - self.weekday) % 7
        else:
            day = 1 + (self.weekday - first_weekday) % 7 + 7 * (self.nth - 1)
            if day <= month_length:
                yield day

    def __str__(self) -> str:
        ordinal = "last" if self.nth == -1 else _ORDINALS[self.nth - 1]
        return f"{ordinal} {WEEKDAY_NAMES[self.weekday]}"
