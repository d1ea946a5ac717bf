"""Helpers shared by the built-in triggers.

* Input conversion: loose datetimes (ISO strings, naive values, dates) become aware
  datetimes, and a naive wall-clock time that does not exist in its zone is rejected
  rather than silently shifted.
* State conversion: trigger states travel through JSON, so datetimes are stored as ISO
  8601 strings and zones by name, and are converted back explicitly on restore.
* :class:`BaseTrigger`: state version checks, a ``__repr__`` built from the
  configuration, and a ``__deepcopy__`` that does not round-trip through the state.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, TypeVar

from .._converters import as_timezone, timezone_name
from .._exceptions import DeserializationError, SerializationError
from ..abc import Trigger

#: The version of the state dicts the built-in triggers produce (and the newest they read).
STATE_VERSION = 1

UTC = timezone.utc

T = TypeVar("T")

_OFFSET_RE = re.compile(r"([+-])(\d\d):(\d\d)(?::(\d\d))?", re.ASCII)


def to_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (respecting ``fold``).

    Aware datetimes that share a ``tzinfo`` are compared and subtracted by wall-clock
    time in Python, ignoring ``fold``; converting to UTC first gives true ordering.
    """
    return value.astimezone(UTC)


def gap_or_fold(value: datetime) -> int:
    """Classify an aware datetime's wall-clock time in its own zone.

    Returns ``0`` for an ordinary time, ``1`` for an ambiguous time (it occurs twice, at
    the end of daylight saving time) and ``-1`` for a time that does not exist (the gap
    when clocks move forward). Relies on PEP 495 ``fold`` support (``zoneinfo``).
    """
    first = value.replace(fold=0).utcoffset()
    second = value.replace(fold=1).utcoffset()
    if first == second:
        return 0
    if first is None or second is None:  # pragma: no cover - broken tzinfo
        return 0
    return 1 if first > second else -1


def localize(naive: datetime, tz: tzinfo, what: str) -> datetime:
    """Attach ``tz`` to a naive datetime.

    A wall-clock time that does not exist in ``tz`` raises :exc:`ValueError` (there is no
    right answer to guess). An ambiguous time keeps the caller's ``fold`` (0, the first
    occurrence, unless they asked otherwise).
    """
    aware = naive.replace(tzinfo=tz)
    if gap_or_fold(aware) == -1:
        raise ValueError(
            f"{what} {naive.isoformat()} does not exist in time zone {describe_zone(tz)} "
            f"(the clocks skip it when daylight saving time starts)"
        )
    return aware


def describe_zone(tz: tzinfo) -> str:
    """A human readable zone name for messages and reprs."""
    try:
        return timezone_name(tz)
    except ValueError:
        return str(tz)


def to_datetime(value: Any, tz: tzinfo, what: str) -> datetime:
    """Convert a datetime, date or ISO 8601 string to an aware datetime.

    Naive values (and dates, taken at midnight) are interpreted in ``tz``; aware values
    are returned unchanged. ``what`` names the argument in error messages.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a valid ISO 8601 datetime") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime):
        raise TypeError(
            f"{what} must be a datetime, a date or an ISO 8601 string, not {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        return localize(value.replace(tzinfo=None), tz, what)
    return without_pytz(value)


def without_pytz(value: datetime) -> datetime:
    """An aware datetime whose pytz zone (APScheduler 3 users pass them) is replaced by
    the ``ZoneInfo`` of the same name, at the same instant; other values unchanged."""
    zone = value.tzinfo
    return value.astimezone(as_timezone(zone)) if hasattr(zone, "localize") else value


def to_date(value: Any, tz: tzinfo, what: str) -> date:
    """Convert a date, datetime or ISO 8601 string to a date (aware datetimes are first
    converted to ``tz``)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(tz)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return to_date(datetime.fromisoformat(text.replace("Z", "+00:00")), tz, what)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a valid ISO 8601 date") from None
    raise TypeError(f"{what} must be a date or an ISO 8601 string, not {type(value).__name__}")


def pick_alias(name: str, value: T | None, alias: str, alias_value: T | None) -> T | None:
    """Return whichever of an argument and its APScheduler 3 alias was given."""
    if value is not None and alias_value is not None:
        raise TypeError(f"Pass either {name!r} or its alias {alias!r}, not both")
    return alias_value if value is None else value


def check_end_after_start(start: datetime, end: datetime | None) -> None:
    if end is not None and to_utc(end) < to_utc(start):
        raise ValueError(
            f"end_time ({end.isoformat()}) cannot be earlier than start_time ({start.isoformat()})"
        )


def zone_to_state(tz: tzinfo) -> str:
    """Name of ``tz`` for a state dict: a zone name, or ``"+05:30"`` for a fixed offset.

    :raises SerializationError: for a zone that has neither a name nor a fixed offset
    """
    try:
        return timezone_name(tz)
    except ValueError:
        if isinstance(tz, timezone):
            offset = tz.utcoffset(None)
            sign = "-" if offset < timedelta(0) else "+"
            seconds = int(abs(offset).total_seconds())
            hours, rest = divmod(seconds, 3600)
            minutes, seconds = divmod(rest, 60)
            return f"{sign}{hours:02}:{minutes:02}" + (f":{seconds:02}" if seconds else "")
        raise SerializationError(
            f"Cannot serialize the time zone {tz!r}: it has no name. "
            f"Use a zoneinfo.ZoneInfo zone (or a zone name string)."
        ) from None


def zone_from_state(value: Any) -> tzinfo | None:
    """Rebuild a zone stored by :func:`zone_to_state` (``None`` stays ``None``)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a time zone name, got {value!r}")
    match = _OFFSET_RE.fullmatch(value)
    if match:
        sign, hours, minutes, seconds = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
        return timezone(-offset if sign == "-" else offset)
    return as_timezone(value)


def datetime_to_state(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def datetime_from_state(value: Any, tz: tzinfo | None) -> datetime | None:
    """Rebuild an aware datetime stored by :func:`datetime_to_state`.

    The ISO string carries the UTC offset, so converting it to ``tz`` restores the exact
    instant, including the ``fold`` of an ambiguous wall-clock time.
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # a serializer that restores datetimes natively
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"expected an ISO 8601 datetime string, got {value!r}")
    if parsed.tzinfo is None:
        raise ValueError(f"expected an aware datetime, got {value!r}")
    return parsed if tz is None else parsed.astimezone(tz)


def date_from_state(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError(f"expected an ISO 8601 date string, got {value!r}")


def format_datetime(value: datetime) -> str:
    """ISO 8601 with a space separator, for reprs."""
    return value.isoformat(sep=" ")


class BaseTrigger(Trigger):
    """Common behaviour of the built-in triggers (see the module docstring)."""

    __slots__ = ()

    def _check_state(self, state: Any, required: Iterable[str] = ()) -> Mapping[str, Any]:
        """Validate the envelope of a state dict and return it.

        Raises :class:`~apscheduler.DeserializationError` if the state is not a dict, has
        no valid ``version``, has a newer version than this code understands, or lacks
        one of the ``required`` keys.
        """
        name = type(self).__name__
        if not isinstance(state, Mapping):
            raise DeserializationError(
                f"The state of a {name} must be a dict, got {type(state).__name__}"
            )
        version = state.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise DeserializationError(
                f"The state of a {name} has a missing or invalid 'version': {version!r}"
            )
        if version > STATE_VERSION:
            raise DeserializationError(
                f"The state of a {name} has version {version}, but this version of "
                f"apscheduler only understands versions up to {STATE_VERSION}; "
                f"upgrade apscheduler to read it"
            )
        missing = [key for key in required if key not in state]
        if missing:
            raise DeserializationError(
                f"The state of a {name} is missing the key(s): {', '.join(missing)}"
            )
        return state

    def _state_error(self, exc: Exception) -> DeserializationError:
        return DeserializationError(f"Invalid state for a {type(self).__name__}: {exc}")

    def _repr_fields(self) -> list[tuple[str, Any]]:
        """The ``(name, value)`` pairs shown by ``__repr__``; ``None`` values are left out."""
        return []

    def __repr__(self) -> str:
        parts = []
        for key, value in self._repr_fields():
            if value is None:
                continue
            if isinstance(value, datetime):
                value = format_datetime(value)
            elif isinstance(value, tzinfo):
                value = describe_zone(value)
            elif isinstance(value, date):
                value = value.isoformat()
            parts.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __deepcopy__(self, memo: dict[int, Any]) -> BaseTrigger:
        # Copy the attributes directly: going through the (JSON-oriented) state would be
        # slower and, for combining triggers, would need every child to be registered.
        # Immutable values (datetimes, zones, numbers, strings...) are shared, not copied.
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in _attributes(self):
            if type(value) not in _IMMUTABLE and not _is_immutable(value):
                value = copy.deepcopy(value, memo)
            object.__setattr__(clone, key, value)
        return clone


#: Types whose instances never change, so a copy of a trigger may share them.
_IMMUTABLE: frozenset[type] = frozenset(
    {type(None), bool, int, float, complex, str, bytes, datetime, date, time, timedelta}
)


def _is_immutable(value: Any) -> bool:
    if isinstance(value, tzinfo) or type(value) in _SHARED_TYPES:
        return True
    if type(value) is tuple or type(value) is frozenset:
        return all(type(item) in _IMMUTABLE or _is_immutable(item) for item in value)
    return False


#: Further classes whose instances a trigger copy may share (see :func:`share_in_copies`).
_SHARED_TYPES: set[type] = set()


def share_in_copies(cls: type[T]) -> type[T]:
    """Class decorator: instances of ``cls`` are immutable and shared by trigger copies."""
    _SHARED_TYPES.add(cls)
    return cls


def _attributes(obj: Any) -> list[tuple[str, Any]]:
    """The instance attributes of ``obj``, from its ``__dict__`` and its slots."""
    cls = type(obj)
    names = _SLOT_NAMES.get(cls)
    if names is None:
        collected: list[str] = []
        for klass in cls.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            if isinstance(slots, str):
                slots = (slots,)
            collected.extend(name for name in slots if name not in ("__dict__", "__weakref__"))
        names = _SLOT_NAMES[cls] = tuple(dict.fromkeys(collected))
    items: list[tuple[str, Any]] = []
    for name in names:
        try:
            items.append((name, getattr(obj, name)))
        except AttributeError:
            pass  # slot never set
    attributes = getattr(obj, "__dict__", None)
    if attributes:
        items.extend(attributes.items())
    return items


_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def clone_trigger(trigger: Trigger) -> Trigger:
    """An independent copy of ``trigger`` (``copy.deepcopy``, quicker for built-ins)."""
    if getattr(type(trigger), "__deepcopy__", None) is _base_deepcopy:
        return _base_deepcopy(trigger, {})
    return copy.deepcopy(trigger)


_base_deepcopy = BaseTrigger.__deepcopy__
