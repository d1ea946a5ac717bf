"""Input normalisation shared by the public API, the structures and the triggers.

These accept the loose forms users write (ISO strings, numbers of seconds, enum names,
zone names, naive datetimes) and return the strict types the core works with.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._enums import JobOutcome

E = TypeVar("E", bound=Enum)


def local_timezone() -> tzinfo:
    """Return the host's local zone as a ``ZoneInfo`` (falls back to UTC)."""
    from tzlocal import get_localzone

    try:
        return get_localzone()
    except Exception:  # pragma: no cover - exotic hosts
        return ZoneInfo("UTC")


def as_timezone(value: tzinfo | str | None) -> tzinfo:
    """Turn a zone name, ``"local"``, a ``tzinfo`` or a pytz zone into a ``ZoneInfo``-like.

    ``None`` and ``"local"`` mean the host's local zone. pytz zones are converted to the
    ``ZoneInfo`` of the same name, because pytz's ``localize`` protocol is not compatible
    with ordinary datetime arithmetic.
    """
    if value is None or value == "local":
        return local_timezone()
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"Unknown time zone {value!r}") from exc
    if isinstance(value, ZoneInfo):
        return value
    if value is timezone.utc:
        return ZoneInfo("UTC")
    zone_name = getattr(value, "zone", None)  # pytz
    if isinstance(zone_name, str):
        return ZoneInfo(zone_name)
    key = getattr(value, "key", None)
    if isinstance(key, str):
        return ZoneInfo(key)
    if isinstance(value, tzinfo):
        return value
    raise TypeError(f"Expected a time zone name or tzinfo, got {type(value).__name__}")


def timezone_name(tz: tzinfo) -> str:
    """Return a name from which :func:`as_timezone` rebuilds ``tz``."""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if isinstance(key, str):
        return key
    if tz is timezone.utc:
        return "UTC"
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        if offset == timedelta(0):
            return "UTC"
    raise ValueError(f"Time zone {tz!r} has no name; use a ZoneInfo zone")


def as_aware_datetime(value: datetime | str, tz: tzinfo | str | None = None) -> datetime:
    """Return an aware datetime; naive input is taken to be in ``tz`` (default: local)."""
    if type(value) is datetime and value.tzinfo is not None:  # fast path
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"Invalid ISO 8601 datetime string: {value!r}") from exc
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime):
        raise TypeError(f"Expected a datetime or ISO 8601 string, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=as_timezone(tz))
    return value


def as_optional_aware_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or (type(value) is datetime and value.tzinfo is not None):
        return value
    return as_aware_datetime(value)


def as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"Expected a date or ISO 8601 string, got {type(value).__name__}")


def as_timedelta(value: timedelta | float | int) -> timedelta:
    """Accept a ``timedelta`` or a number of seconds."""
    if type(value) is timedelta:
        return value
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Expected a timedelta or a number of seconds, got {value!r}")
    if value == 0:
        return _ZERO  # the common default: share one object rather than allocate
    return timedelta(seconds=value)


_ZERO = timedelta(0)


def as_optional_timedelta(value: timedelta | float | int | None) -> timedelta | None:
    return None if value is None else as_timedelta(value)


def as_enum(enum_class: type[E]) -> Any:
    """Return a converter that accepts a member of ``enum_class`` or a member's name."""

    def convert(value: E | str) -> E:
        if isinstance(value, enum_class):
            return value
        if isinstance(value, str):
            try:
                return enum_class[value]
            except KeyError:
                names = ", ".join(enum_class.__members__)
                raise ValueError(
                    f"{value!r} is not a valid {enum_class.__name__}; expected one of: {names}"
                ) from None
        raise TypeError(f"Expected {enum_class.__name__} or its name, got {value!r}")

    return convert


def as_uuid(value: UUID | str) -> UUID:
    return value if type(value) is UUID or isinstance(value, UUID) else UUID(str(value))


def as_optional_uuid(value: UUID | str | None) -> UUID | None:
    return None if value is None else as_uuid(value)


def as_job_outcome(value: Any) -> Any:
    """Accept a ``JobOutcome`` or its name."""
    if type(value) is JobOutcome:
        return value
    return as_enum(JobOutcome)(value)


def as_str_tuple(values: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in values)


def as_uuid_tuple(values: Any) -> tuple[UUID, ...]:
    return tuple(as_uuid(value) for value in values)


def check_bare_url(url: str, scheme: str, owner: str) -> None:
    """Accept ``"<scheme>://"`` (optionally with a trailing slash) for a component that
    has nothing to configure; anything else is an error naming what was expected."""
    given_scheme, sep, rest = url.partition("://")
    if not sep or given_scheme.lower() != scheme or rest.strip("/"):
        raise ValueError(
            f"{owner} takes the URL {scheme + '://'!r} with nothing after the scheme, "
            f"got {url!r}"
        )
