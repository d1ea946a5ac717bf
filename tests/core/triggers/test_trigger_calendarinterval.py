from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from apscheduler import DeserializationError
from apscheduler._clock import FakeClock
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger

from .helpers import BERLIN, HELSINKI, NEW_YORK, NOW, UTC, assert_same_future, take, utc


def dates(trigger: CalendarIntervalTrigger, count: int) -> list[date]:
    return [value.date() for value in take(trigger, count)]


def test_daily(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(
        days=1, hour=3, minute=4, second=5, start_date="2030-02-01", timezone="Europe/Berlin"
    )
    assert take(trigger, 2) == [
        datetime(2030, 2, 1, 3, 4, 5, tzinfo=BERLIN),
        datetime(2030, 2, 2, 3, 4, 5, tzinfo=BERLIN),
    ]


def test_default_start_is_today(clock: FakeClock) -> None:
    # NOW is 12:00 UTC: 10:00 today has passed, 15:00 has not
    passed = CalendarIntervalTrigger(days=1, hour=10, timezone="UTC")
    assert passed.start_date == NOW.date()
    assert passed.next() == datetime(2030, 1, 2, 10, tzinfo=UTC)
    upcoming = CalendarIntervalTrigger(days=1, hour=15, timezone="UTC")
    assert upcoming.next() == datetime(2030, 1, 1, 15, tzinfo=UTC)


def test_start_time_equal_to_now_fires_now(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=12, timezone="UTC")
    assert trigger.next() == NOW


def test_first_fire_never_in_the_past(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(weeks=2, hour=9, start_date="2029-06-03", timezone="UTC")
    first = trigger.next()
    assert first is not None and first >= NOW
    # it is a member of the sequence: a whole number of fortnights after the start
    assert (first.date() - date(2029, 6, 3)).days % 14 == 0
    assert (first - NOW) <= timedelta(weeks=2)


def test_skip_forward_is_evaluated_at_first_next(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=13, start_date="2020-01-01", timezone="UTC")
    clock.advance(timedelta(days=3))
    assert trigger.next() == datetime(2030, 1, 4, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    "kwargs, start",
    [
        ({"days": 1}, "1970-01-01"),
        ({"days": 3}, "2001-05-07"),
        ({"weeks": 1, "days": 2}, "2011-02-28"),
        ({"months": 1}, "1999-01-31"),
        ({"months": 5}, "2003-08-30"),
        ({"years": 1}, "2000-02-29"),
        ({"years": 3}, "1996-02-29"),
        ({"months": 1, "days": 1}, "2025-01-31"),
        ({"years": 1, "weeks": 1}, "2021-03-03"),
    ],
)
def test_skip_forward_matches_walk(clock: FakeClock, kwargs: dict[str, int], start: str) -> None:
    trigger = CalendarIntervalTrigger(**kwargs, start_date=start, timezone="UTC")  # type: ignore[arg-type]
    expected_walk = CalendarIntervalTrigger(**kwargs, start_date=start, timezone="UTC")  # type: ignore[arg-type]
    # Walk the sequence from the start by hand (a clock far in the past fires the start)
    walk_clock = FakeClock(datetime(1960, 1, 1, tzinfo=timezone.utc))
    from apscheduler._clock import use_clock

    with use_clock(walk_clock):
        walked = expected_walk.next()
        while walked is not None and walked < NOW:
            walked = expected_walk.next()
    assert trigger.next() == walked
    assert take(trigger, 5) == take(expected_walk, 5)


def test_months_keep_the_day(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(months=1, start_date="2030-01-31", timezone="UTC")
    assert dates(trigger, 7) == [
        date(2030, 1, 31),
        date(2030, 3, 31),
        date(2030, 5, 31),
        date(2030, 7, 31),
        date(2030, 8, 31),
        date(2030, 10, 31),
        date(2030, 12, 31),
    ]


def test_leap_day_yearly(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(years=1, start_date="2032-02-29", timezone="UTC")
    assert dates(trigger, 3) == [date(2032, 2, 29), date(2036, 2, 29), date(2040, 2, 29)]


def test_leap_day_skips_century(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(years=4, start_date="2096-02-29", timezone="UTC")
    assert dates(trigger, 2) == [date(2096, 2, 29), date(2104, 2, 29)]


def test_months_then_days(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(months=1, days=1, start_date="2030-01-31", timezone="UTC")
    # 31 Feb does not exist: 31 March, plus a day
    assert dates(trigger, 3) == [date(2030, 1, 31), date(2030, 4, 1), date(2030, 5, 2)]


def test_weeks(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(weeks=2, start_date="2030-01-06", timezone="UTC")
    assert dates(trigger, 3) == [date(2030, 1, 6), date(2030, 1, 20), date(2030, 2, 3)]


def test_end_date_inclusive(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(
        days=1, start_date="2030-02-01", end_date="2030-02-03", timezone="UTC"
    )
    assert len(take(trigger, 10)) == 3
    assert trigger.next() is None


def test_end_of_time(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(years=1, start_date="9998-06-01", timezone="UTC")
    assert dates(trigger, 5) == [date(9998, 6, 1), date(9999, 6, 1)]
    trigger = CalendarIntervalTrigger(days=1, start_date="9999-12-31", timezone="UTC")
    assert dates(trigger, 5) == [date(9999, 12, 31)]


def test_dst_gap_skips_the_date(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(
        days=1, hour=2, minute=30, start_date="2030-03-30", timezone="Europe/Berlin"
    )
    assert dates(trigger, 2) == [date(2030, 3, 30), date(2030, 4, 1)]


@pytest.mark.parametrize(
    "zone, day, hour",
    [
        (BERLIN, date(2030, 10, 27), 2),
        (HELSINKI, date(2030, 10, 27), 3),
        (NEW_YORK, date(2030, 11, 3), 1),
    ],
)
def test_dst_fold_fires_once_at_first_occurrence(
    clock: FakeClock, zone: object, day: date, hour: int
) -> None:
    trigger = CalendarIntervalTrigger(
        days=1,
        hour=hour,
        minute=30,
        start_date=day - timedelta(days=1),
        timezone=zone,  # type: ignore[arg-type]
    )
    before, on_the_day, after = take(trigger, 3)
    assert on_the_day.date() == day and on_the_day.fold == 0
    assert utc(on_the_day) - utc(before) == timedelta(hours=24)
    assert utc(after) - utc(on_the_day) == timedelta(hours=25)


@pytest.mark.parametrize(
    "zone, day, hour",
    [(HELSINKI, date(2030, 3, 31), 3), (NEW_YORK, date(2030, 3, 10), 2)],
)
def test_dst_gap_other_zones(clock: FakeClock, zone: object, day: date, hour: int) -> None:
    trigger = CalendarIntervalTrigger(
        days=1,
        hour=hour,
        minute=15,
        start_date=day - timedelta(days=1),
        timezone=zone,  # type: ignore[arg-type]
    )
    assert dates(trigger, 2) == [day - timedelta(days=1), day + timedelta(days=1)]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({}, ValueError, "at least 1 day"),
        ({"days": -1}, ValueError, "days cannot be negative"),
        ({"days": 1, "hour": 24}, ValueError, "hour must be between 0 and 23"),
        ({"days": 1, "minute": 60}, ValueError, "minute must be between 0 and 59"),
        ({"days": 1, "second": 60}, ValueError, "second must be between 0 and 59"),
        ({"days": 1.5}, TypeError, "days must be an integer"),
        ({"days": True}, TypeError, "days must be an integer"),
        ({"days": 1, "start_date": "yesterday"}, ValueError, "not a valid ISO 8601 date"),
        (
            {"days": 1, "start_date": "2030-01-02", "end_date": "2030-01-01"},
            ValueError,
            "cannot be earlier than start_date",
        ),
        ({"days": 1, "jitter": 3}, TypeError, "jitter"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        CalendarIntervalTrigger(**kwargs)  # type: ignore[arg-type]


def test_start_date_from_aware_datetime() -> None:
    trigger = CalendarIntervalTrigger(
        days=1, start_date=datetime(2030, 1, 1, 23, tzinfo=UTC), timezone="Europe/Berlin"
    )
    assert trigger.start_date == date(2030, 1, 2)


def test_state(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(
        months=1,
        hour=2,
        minute=30,
        start_date="2030-01-31",
        end_date="2031-12-31",
        timezone="Europe/Berlin",
    )
    trigger.next()
    assert trigger.__getstate__() == {
        "version": 1,
        "interval": [0, 1, 0, 0],
        "time": [2, 30, 0],
        "start_date": "2030-01-31",
        "end_date": "2031-12-31",
        "timezone": "Europe/Berlin",
        "last_fire_date": "2030-01-31",
    }
    assert_same_future(trigger)


def test_state_before_first_fire(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(days=3, hour=7, start_date="2029-01-01", timezone="UTC")
    assert_same_future(trigger)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"interval": [0, 0, 0, 0]}, "at least 1 day"),
        ({"interval": [1]}, "4 integers"),
        ({"time": [25, 0, 0]}, "hour"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"start_date": "garbage"}, "Invalid state"),
        ({"version": 0}, "version"),
    ],
)
def test_bad_state(change: dict[str, object], match: str) -> None:
    trigger = CalendarIntervalTrigger(days=1, start_date="2030-01-01", timezone="UTC")
    state = {**trigger.__getstate__(), **change}
    with pytest.raises(DeserializationError, match=match):
        CalendarIntervalTrigger.__new__(CalendarIntervalTrigger).__setstate__(state)


def test_repr() -> None:
    trigger = CalendarIntervalTrigger(
        months=2, hour=8, start_date="2030-01-01", timezone="Europe/Berlin"
    )
    assert repr(trigger) == (
        "CalendarIntervalTrigger(months=2, hour=8, minute=0, second=0, start_date='2030-01-01', "
        "timezone='Europe/Berlin')"
    )


def test_preview(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=13, timezone="UTC")
    assert trigger.preview(2) == [
        datetime(2030, 1, 1, 13, tzinfo=UTC),
        datetime(2030, 1, 2, 13, tzinfo=UTC),
    ]
    assert trigger.next() == datetime(2030, 1, 1, 13, tzinfo=UTC)


def test_strictly_increasing_across_dst(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(days=1, hour=2, minute=30, timezone="Europe/Berlin")
    instants = [utc(value) for value in take(trigger, 800)]
    assert instants == sorted(set(instants))
    assert len(instants) == 800


def test_get_next_fire_time_v3() -> None:
    trigger = CalendarIntervalTrigger(
        days=2, hour=6, start_date="2030-01-01", end_date="2030-01-05", timezone="UTC"
    )
    first = datetime(2030, 1, 1, 6, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, datetime(2029, 1, 1, tzinfo=UTC)) == first
    assert trigger.get_next_fire_time(None, first) == first
    assert trigger.get_next_fire_time(first, first) == datetime(2030, 1, 3, 6, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, datetime(2030, 1, 2, tzinfo=UTC)) == datetime(
        2030, 1, 3, 6, tzinfo=UTC
    )
    assert trigger.get_next_fire_time(datetime(2030, 1, 5, 6, tzinfo=UTC), first) is None


def test_last_fire_date_off_the_sequence(clock: FakeClock) -> None:
    trigger = CalendarIntervalTrigger(days=3, hour=10, start_date="2030-02-01", timezone="UTC")
    state = {**trigger.__getstate__(), "last_fire_date": "2030-02-05"}
    restored = CalendarIntervalTrigger.__new__(CalendarIntervalTrigger)
    restored.__setstate__(state)
    assert dates(restored, 2) == [date(2030, 2, 7), date(2030, 2, 10)]


def test_fixed_offset_zone_state(clock: FakeClock) -> None:
    zone = timezone(timedelta(hours=-9, minutes=-30))
    trigger = CalendarIntervalTrigger(days=1, hour=7, start_date="2030-02-01", timezone=zone)
    assert trigger.__getstate__()["timezone"] == "-09:30"
    assert_same_future(trigger)
    assert trigger.next() == datetime(2030, 2, 21, 7, tzinfo=zone)
