"""Parsing of the eight cron fields into sets of allowed values.

Every field expression is a comma-separated list of items. Items with a fixed meaning
(``*``, ``5``, ``1-5``, ``*/15``, ``mon-fri``, ``jan-mar/2``...) become plain numbers,
so that the search in :mod:`.matcher` only has to bisect sorted tuples. Items whose days
change from month to month (``L``, ``15W``, ``2nd mon``, ``MON#2``, ``5L``...) become
:mod:`.expressions` objects.

Every problem raises :exc:`ValueError` with a message of the form
``Invalid cron expression for field 'hour': '25' is out of range 0-23``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .expressions import (
    WEEKDAY_NAMES,
    LastDayOfMonth,
    LastWeekdayOfMonth,
    MonthDayExpression,
    NearestWeekday,
    NthWeekdayOfMonth,
)

#: Field names, most significant first.
FIELD_NAMES = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")

#: The value of an omitted field that is less significant than every given field.
DEFAULT_VALUES = {
    "year": "*",
    "month": "1",
    "day": "1",
    "week": "*",
    "day_of_week": "*",
    "hour": "0",
    "minute": "0",
    "second": "0",
}

#: Inclusive bounds of the values each field accepts (``day_of_week``: cron numbering,
#: 0 and 7 = Sunday).
FIELD_BOUNDS = {
    "year": (1970, 9999),
    "month": (1, 12),
    "day": (1, 31),
    "week": (1, 53),
    "day_of_week": (0, 7),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: Weekday names mapped to cron numbers (Sunday = 0).
CRON_WEEKDAYS = {name: (index + 1) % 7 for index, name in enumerate(WEEKDAY_NAMES)}
_NAMES = {
    "month": {name: index + 1 for index, name in enumerate(MONTH_NAMES)},
    "day_of_week": CRON_WEEKDAYS,
}

_FLAGS = re.IGNORECASE | re.ASCII
_TOKEN = r"[0-9]+|[a-z]+"
_ALL_RE = re.compile(r"\*(?:/(?P<step>[0-9]+))?", _FLAGS)
_RANGE_RE = re.compile(
    rf"(?P<first>{_TOKEN})(?:\s*-\s*(?P<last>{_TOKEN}))?(?:\s*/\s*(?P<step>[0-9]+))?", _FLAGS
)
_LAST_DAY_RE = re.compile(r"(?:l|last)(?:\s*-\s*(?P<offset>[0-9]+))?", _FLAGS)
_LAST_WEEKDAY_RE = re.compile(r"lw", _FLAGS)
_NEAREST_WEEKDAY_RE = re.compile(r"(?P<day>[0-9]+)w", _FLAGS)
_NTH_WEEKDAY_RE = re.compile(r"(?P<nth>1st|2nd|3rd|4th|5th|last)\s+(?P<weekday>[a-z0-9]+)", _FLAGS)
_DOW_LAST_RE = re.compile(rf"(?P<weekday>{_TOKEN})l", _FLAGS)
_DOW_NTH_RE = re.compile(rf"(?P<weekday>{_TOKEN})\s*#\s*(?P<nth>[0-9]+)", _FLAGS)

#: Longest numeric token considered (anything longer is out of range for every field).
_MAX_DIGITS = 6


def _show(text: str, limit: int = 40) -> str:
    """``repr`` of user input, shortened so that error messages stay readable."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


class FieldError(ValueError):
    """A cron field expression is invalid (a :exc:`ValueError`)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"Invalid cron expression for field {field!r}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class ParsedField:
    """The parsed form of one field.

    :ivar name: the field name
    :ivar text: the expression as given (normalised to a string)
    :ivar values: the sorted allowed values from the fixed items; for ``day_of_week``
        these are Python weekdays (Monday = 0)
    :ivar dynamic: the month-dependent items (``day`` and ``day_of_week`` only)
    :ivar is_wildcard: ``True`` if the field allows every value (``*``, ``?``, or a list
        that covers the whole range), so it can be ignored when matching
    """

    name: str
    text: str
    values: tuple[int, ...]
    dynamic: tuple[MonthDayExpression, ...] = ()
    is_wildcard: bool = False


class _FieldParser:
    """Parses the items of one field; one instance per call of :func:`parse_field`."""

    def __init__(self, name: str):
        self.name = name
        self.minimum, self.maximum = FIELD_BOUNDS[name]
        self.names = _NAMES.get(name, {})

    def error(self, problem: str) -> FieldError:
        return FieldError(self.name, problem)

    def number(self, token: str, item: str, *, minimum: int, maximum: int) -> int:
        """Convert a numeric or name token and check that it is within the bounds."""
        if token.isdigit():
            if len(token) > _MAX_DIGITS or not minimum <= int(token) <= maximum:
                raise self.error(f"{_show(token)} is out of range {minimum}-{maximum}")
            return int(token)
        lowered = token.lower()
        if lowered in self.names:
            return self.names[lowered]
        if self.names:
            raise self.error(
                f"{_show(token)} in {_show(item)} is not a valid value; use a number "
                f"{minimum}-{maximum} or one of: {', '.join(self.names)}"
            )
        raise self.error(f"{_show(item)} is not a valid expression")

    def step(self, token: str | None, item: str) -> int:
        if token is None:
            return 1
        span = self.maximum - self.minimum
        if len(token) > _MAX_DIGITS or int(token) > span:
            raise self.error(
                f"the step in {_show(item)} is larger than the field's range "
                f"{self.minimum}-{self.maximum}"
            )
        if int(token) == 0:
            raise self.error(f"the step in {_show(item)} must be at least 1")
        return int(token)

    def parse_range(self, match: re.Match[str], item: str) -> list[int]:
        """Values of ``a``, ``a-b``, ``a/n`` and ``a-b/n`` items."""
        bounds = {"minimum": self.minimum, "maximum": self.maximum}
        first = self.number(match["first"], item, **bounds)
        step = self.step(match["step"], item)
        if match["last"] is not None:
            last = self.number(match["last"], item, **bounds)
        elif match["step"] is not None:
            # ``a/n`` runs to the end of the field (Saturday for weekdays, like ``*/n``)
            last = 6 if self.name == "day_of_week" else self.maximum
        else:
            return [first]
        if last < first:
            if self.name != "day_of_week":
                raise self.error(
                    f"{_show(item)}: the start of the range ({first}) is after its end ({last})"
                )
            last += 7  # weekday ranges may wrap around the week: sat-mon, 5-1
        return list(range(first, last + 1, step))

    def parse_all(self, match: re.Match[str], item: str) -> list[int] | None:
        """Values of ``*/n``; ``None`` for a plain ``*``."""
        if match["step"] is None:
            return None
        step = self.step(match["step"], item)
        maximum = 6 if self.name == "day_of_week" else self.maximum
        return list(range(self.minimum, maximum + 1, step))

    def weekday(self, token: str, item: str) -> int:
        """A weekday token of ``day_of_week`` (name or cron number) as a Python weekday."""
        return (self.number(token, item, minimum=0, maximum=7) - 1) % 7

    def parse_day_item(self, item: str) -> MonthDayExpression | None:
        if match := _LAST_DAY_RE.fullmatch(item):
            offset = int(match["offset"] or 0) if len(match["offset"] or "") <= 3 else 99
            if offset > 30:
                raise self.error(f"the offset in {_show(item)} must be between 0 and 30")
            return LastDayOfMonth(offset)
        if _LAST_WEEKDAY_RE.fullmatch(item):
            return LastWeekdayOfMonth()
        if match := _NEAREST_WEEKDAY_RE.fullmatch(item):
            return NearestWeekday(self.number(match["day"], item, minimum=1, maximum=31))
        if match := _NTH_WEEKDAY_RE.fullmatch(item):
            nth_text, weekday_text = match["nth"].lower(), match["weekday"].lower()
            if weekday_text not in CRON_WEEKDAYS:
                raise self.error(
                    f"{_show(item)}: the weekday must be one of "
                    f"{', '.join(WEEKDAY_NAMES)} (got {_show(weekday_text)})"
                )
            nth = -1 if nth_text == "last" else int(nth_text[0])
            return NthWeekdayOfMonth(nth, WEEKDAY_NAMES.index(weekday_text))
        return None

    def parse_weekday_item(self, item: str) -> MonthDayExpression | None:
        if match := _DOW_NTH_RE.fullmatch(item):
            weekday = self.weekday(match["weekday"], item)
            nth_text = match["nth"]
            if len(nth_text) > 1 or not 1 <= int(nth_text) <= 5:
                raise self.error(f"the occurrence in {_show(item)} must be between 1 and 5")
            return NthWeekdayOfMonth(int(nth_text), weekday)
        if match := _DOW_LAST_RE.fullmatch(item):
            return NthWeekdayOfMonth(-1, self.weekday(match["weekday"], item))
        if item.lower() in ("l", "last"):
            raise self.error(
                f"{_show(item)} alone is not valid here; use 'L' in the 'day' field for the "
                f"last day of the month, or e.g. '5L' / 'friL' for the last Friday"
            )
        return None

    def parse(self, text: str) -> ParsedField:
        if not text.strip():
            raise self.error("the expression is empty")
        values: set[int] = set()
        dynamic: list[MonthDayExpression] = []
        wildcard = False
        for raw_item in text.split(","):
            item = raw_item.strip()
            if not item:
                raise self.error(f"{_show(text)} contains an empty item")
            if item == "?":
                if self.name not in ("day", "day_of_week"):
                    raise self.error("'?' is only allowed in the 'day' and 'day_of_week' fields")
                wildcard = True
                continue
            if match := _ALL_RE.fullmatch(item):
                step_values = self.parse_all(match, item)
                if step_values is None:
                    wildcard = True
                else:
                    values.update(step_values)
                continue
            special: MonthDayExpression | None = None
            if self.name == "day":
                special = self.parse_day_item(item)
            elif self.name == "day_of_week":
                special = self.parse_weekday_item(item)
            if special is not None:
                dynamic.append(special)
                continue
            if match := _RANGE_RE.fullmatch(item):
                values.update(self.parse_range(match, item))
                continue
            raise self.error(f"{_show(item)} is not a valid expression")

        if self.name == "day_of_week":
            values = {(value - 1) % 7 for value in values}  # cron numbers -> Python weekdays
            full = set(range(7))
        else:
            full = set(range(self.minimum, self.maximum + 1))
        if wildcard or (values >= full):
            return ParsedField(self.name, text, tuple(sorted(full)), (), is_wildcard=True)
        return ParsedField(self.name, text, tuple(sorted(values)), tuple(dynamic))


def parse_field(name: str, value: int | str) -> ParsedField:
    """Parse the expression of the field ``name``.

    :raises ValueError: if the expression is invalid (the message names the field)
    :raises TypeError: if ``value`` is neither a string nor an integer
    """
    if name not in FIELD_BOUNDS:
        raise ValueError(f"Unknown cron field {name!r}")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(
            f"The cron field {name!r} must be a string or an integer, not {type(value).__name__}"
        )
    return _FieldParser(name).parse(str(value))


def resolve_field_texts(given: dict[str, int | str | None]) -> dict[str, int | str]:
    """Fill in omitted fields.

    An omitted field that is more significant than the least significant given field
    becomes ``*``; the others get their :data:`DEFAULT_VALUES` entry. So ``hour=5`` means
    05:00:00 every day, and giving no field at all means midnight on 1 January.
    """
    given_names = [name for name in FIELD_NAMES if given.get(name) is not None]
    last_index = FIELD_NAMES.index(given_names[-1]) if given_names else -1
    resolved: dict[str, int | str] = {}
    for index, name in enumerate(FIELD_NAMES):
        value = given.get(name)
        if value is not None:
            resolved[name] = value
        elif index < last_index:
            resolved[name] = "*"
        else:
            resolved[name] = DEFAULT_VALUES[name]
    return resolved
