"""The helpers shared by the built-in triggers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo

import pytest
from apscheduler import SerializationError
from apscheduler.triggers._base import (
    gap_or_fold,
    to_date,
    to_datetime,
    zone_from_state,
    zone_to_state,
)

from .helpers import BERLIN, UTC


@pytest.mark.parametrize(
    "zone, name",
    [
        (BERLIN, "Europe/Berlin"),
        (timezone.utc, "UTC"),
        (timezone(timedelta(hours=5, minutes=30)), "+05:30"),
        (timezone(timedelta(hours=-3)), "-03:00"),
        (timezone(timedelta(hours=1, seconds=15)), "+01:00:15"),
        (timezone(-timedelta(minutes=30)), "-00:30"),
    ],
)
def test_zone_state_round_trip(zone: tzinfo, name: str) -> None:
    assert zone_to_state(zone) == name
    restored = zone_from_state(name)
    assert restored is not None
    moment = datetime(2030, 7, 1)
    assert restored.utcoffset(moment) == zone.utcoffset(moment)


def test_nameless_zone_cannot_be_stored() -> None:
    class Odd(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(hours=1)

        def dst(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

    with pytest.raises(SerializationError, match="has no name"):
        zone_to_state(Odd())


def test_gap_or_fold() -> None:
    assert gap_or_fold(datetime(2030, 3, 31, 1, 30, tzinfo=BERLIN)) == 0
    assert gap_or_fold(datetime(2030, 3, 31, 2, 30, tzinfo=BERLIN)) == -1
    assert gap_or_fold(datetime(2030, 10, 27, 2, 30, tzinfo=BERLIN)) == 1
    assert gap_or_fold(datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=BERLIN)) == 1
    assert gap_or_fold(datetime(2030, 10, 27, 2, 30, tzinfo=UTC)) == 0


def test_to_datetime_keeps_fold_of_naive_values() -> None:
    value = to_datetime(datetime(2030, 10, 27, 2, 30, fold=1), BERLIN, "x")
    assert value.utcoffset() == timedelta(hours=1)


def test_to_date() -> None:
    assert to_date("2030-01-02", UTC, "d") == date(2030, 1, 2)
    assert to_date("2030-01-02T23:30:00-02:00", UTC, "d") == date(2030, 1, 3)
    assert to_date(datetime(2030, 1, 2, 23, 30), BERLIN, "d") == date(2030, 1, 2)
    with pytest.raises(ValueError, match="d: 'x' is not a valid ISO 8601 date"):
        to_date("x", UTC, "d")
    with pytest.raises(TypeError, match="d must be a date"):
        to_date(5, UTC, "d")
