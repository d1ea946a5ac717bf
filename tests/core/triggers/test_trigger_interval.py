from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler import DeserializationError
from apscheduler._clock import FakeClock
from apscheduler.triggers.interval import IntervalTrigger

from .helpers import BERLIN, HELSINKI, NEW_YORK, NOW, UTC, assert_same_future, take, utc


def test_first_fire_is_start_time() -> None:
    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=5, start_time=start)
    assert take(trigger, 3) == [start, start + timedelta(minutes=5), start + timedelta(minutes=10)]


def test_default_start_is_now(clock: FakeClock) -> None:
    trigger = IntervalTrigger(hours=1, timezone="UTC")
    assert trigger.next() == NOW
    assert trigger.next() == NOW + timedelta(hours=1)


def test_default_start_is_now_in_timezone(clock: FakeClock) -> None:
    trigger = IntervalTrigger(hours=1, timezone="Europe/Berlin")
    first = trigger.next()
    assert first == NOW
    assert first is not None and first.tzinfo == BERLIN


@pytest.mark.parametrize(
    "kwargs, interval",
    [
        ({"weeks": 1}, timedelta(weeks=1)),
        ({"days": 2}, timedelta(days=2)),
        ({"hours": 3}, timedelta(hours=3)),
        ({"minutes": 4}, timedelta(minutes=4)),
        ({"seconds": 5}, timedelta(seconds=5)),
        ({"microseconds": 6}, timedelta(microseconds=6)),
        ({"seconds": 1.5}, timedelta(seconds=1.5)),
        ({"hours": 1, "minutes": -30}, timedelta(minutes=30)),
        (
            {"weeks": 1, "days": 1, "hours": 1, "minutes": 1, "seconds": 1, "microseconds": 1},
            timedelta(weeks=1, days=1, hours=1, minutes=1, seconds=1, microseconds=1),
        ),
    ],
)
def test_interval_components(kwargs: dict[str, float], interval: timedelta) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(**kwargs, start_time=start)  # type: ignore[arg-type]
    assert trigger.interval == interval
    assert take(trigger, 2) == [start, start + interval]


@pytest.mark.parametrize(
    "kwargs", [{}, {"seconds": 0}, {"seconds": -1}, {"hours": 1, "minutes": -60}]
)
def test_non_positive_interval(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        IntervalTrigger(**kwargs)  # type: ignore[arg-type]


def test_non_numeric_interval() -> None:
    with pytest.raises(TypeError, match="seconds must be a number"):
        IntervalTrigger(seconds="5")  # type: ignore[arg-type]


def test_unknown_keyword_raises() -> None:
    with pytest.raises(TypeError):
        IntervalTrigger(seconds=5, jitter=2)  # type: ignore[call-arg]


def test_end_time_inclusive() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(hours=1, start_time=start, end_time=start + timedelta(hours=2))
    assert len(take(trigger, 10)) == 3
    assert trigger.next() is None


def test_end_before_start() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot be earlier than start_time"):
        IntervalTrigger(hours=1, start_time=start, end_time=start - timedelta(seconds=1))


def test_v3_aliases() -> None:
    trigger = IntervalTrigger(
        hours=1, start_date="2030-01-01 00:00:00", end_date="2030-01-01 01:00:00", timezone="UTC"
    )
    assert trigger.start_time == datetime(2030, 1, 1, tzinfo=UTC)
    assert trigger.end_time == datetime(2030, 1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("kwargs", [{"start_date": "2030-01-01"}, {"end_date": "2030-01-02"}])
def test_v3_alias_conflicts(kwargs: dict[str, str]) -> None:
    with pytest.raises(TypeError, match="not both"):
        IntervalTrigger(
            hours=1,
            start_time="2030-01-01",
            end_time="2030-01-03",
            **kwargs,  # type: ignore[arg-type]
        )


def test_naive_start_in_timezone() -> None:
    trigger = IntervalTrigger(
        hours=1, start_time=datetime(2030, 7, 1, 12), timezone="Europe/Berlin"
    )
    assert trigger.next() == datetime(2030, 7, 1, 10, tzinfo=UTC)


def test_aware_start_keeps_zone() -> None:
    start = datetime(2030, 7, 1, 12, tzinfo=NEW_YORK)
    trigger = IntervalTrigger(hours=1, start_time=start)
    assert take(trigger, 2)[1].tzinfo == NEW_YORK


def test_aware_start_converted_to_explicit_timezone() -> None:
    start = datetime(2030, 7, 1, 12, tzinfo=NEW_YORK)
    trigger = IntervalTrigger(hours=1, start_time=start, timezone="Europe/Berlin")
    first = trigger.next()
    assert first == start
    assert first is not None and first.tzinfo == BERLIN


def test_nonexistent_naive_start() -> None:
    with pytest.raises(ValueError, match="start_time 2030-03-31T02:30:00 does not exist"):
        IntervalTrigger(hours=1, start_time=datetime(2030, 3, 31, 2, 30), timezone=BERLIN)


@pytest.mark.parametrize(
    "zone, spring, autumn",
    [
        (BERLIN, datetime(2030, 3, 31), datetime(2030, 10, 27)),
        (HELSINKI, datetime(2030, 3, 31), datetime(2030, 10, 27)),
        (NEW_YORK, datetime(2030, 3, 10), datetime(2030, 11, 3)),
    ],
)
def test_dst_measures_elapsed_time(zone: object, spring: datetime, autumn: datetime) -> None:
    for day in (spring, autumn):
        trigger = IntervalTrigger(minutes=30, start_time=day.replace(tzinfo=zone))
        times = take(trigger, 24)
        instants = [utc(value) for value in times]
        # Exactly 30 minutes of elapsed time between consecutive fire times
        assert all(b - a == timedelta(minutes=30) for a, b in zip(instants, instants[1:]))
        # ... so no duplicate instants and every returned value is in the start's zone
        assert len(set(instants)) == len(instants)
        assert all(value.tzinfo is zone for value in times)
        # and every wall-clock value is a real, correctly labelled time
        for value in times:
            assert utc(value).astimezone(zone).replace(tzinfo=None) == value.replace(tzinfo=None)


def test_dst_daily_interval_keeps_24_hours() -> None:
    start = datetime(2030, 3, 30, 12, tzinfo=BERLIN)
    trigger = IntervalTrigger(days=1, start_time=start)
    first, second, third = take(trigger, 3)
    assert utc(second) - utc(first) == timedelta(hours=24)
    assert second.hour == 13  # clocks moved forward: same elapsed time, later wall clock
    assert utc(third) - utc(second) == timedelta(hours=24)


def test_autumn_fold_values_are_distinct() -> None:
    start = datetime(2030, 10, 27, 1, 30, tzinfo=BERLIN)
    times = take(IntervalTrigger(hours=1, start_time=start), 4)
    assert [(value.hour, value.fold) for value in times] == [(1, 0), (2, 0), (2, 1), (3, 0)]


def test_strictly_increasing() -> None:
    trigger = IntervalTrigger(seconds=7, start_time=datetime(2030, 10, 27, 1, 59, tzinfo=BERLIN))
    instants = [utc(value) for value in take(trigger, 2000)]
    assert instants == sorted(set(instants))


def test_overflow_ends_trigger() -> None:
    trigger = IntervalTrigger(weeks=1000, start_time=datetime(9999, 1, 1, tzinfo=UTC))
    assert trigger.next() == datetime(9999, 1, 1, tzinfo=UTC)
    assert trigger.next() is None


def test_state() -> None:
    trigger = IntervalTrigger(
        hours=1,
        minutes=30,
        start_time=datetime(2030, 10, 27, 1, tzinfo=BERLIN),
        end_time=datetime(2030, 10, 28, tzinfo=BERLIN),
    )
    trigger.next()
    assert trigger.__getstate__() == {
        "version": 1,
        "interval": [0, 0, 1, 30, 0, 0],
        "start_time": "2030-10-27T01:00:00+02:00",
        "end_time": "2030-10-28T00:00:00+01:00",
        "timezone": "Europe/Berlin",
        "last_fire_time": "2030-10-27T01:00:00+02:00",
    }
    assert_same_future(trigger)


def test_state_fixed_offset_zone() -> None:
    zone = timezone(timedelta(hours=-3))
    trigger = IntervalTrigger(hours=5, start_time=datetime(2030, 1, 1, tzinfo=zone))
    assert trigger.__getstate__()["timezone"] == "-03:00"
    assert_same_future(trigger)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"interval": [0, 0, 0]}, "interval"),
        ({"interval": [0, 0, 0, 0, 0, 0]}, "positive"),
        ({"start_time": None}, "start_time"),
        ({"start_time": "nope"}, "Invalid state"),
        ({"version": 99}, "version 99"),
    ],
)
def test_bad_state(change: dict[str, object], match: str) -> None:
    trigger = IntervalTrigger(hours=1, start_time=datetime(2030, 1, 1, tzinfo=UTC))
    state = {**trigger.__getstate__(), **change}
    with pytest.raises(DeserializationError, match=match):
        IntervalTrigger.__new__(IntervalTrigger).__setstate__(state)


def test_preview_does_not_consume() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=1, start_time=start)
    assert trigger.preview(3) == [start + timedelta(minutes=n) for n in range(3)]
    assert trigger.next() == start
    assert copy.deepcopy(trigger).next() == start + timedelta(minutes=1)


def test_repr() -> None:
    trigger = IntervalTrigger(hours=1, minutes=30, start_time=datetime(2030, 1, 1, tzinfo=UTC))
    assert repr(trigger) == (
        "IntervalTrigger(hours=1, minutes=30, start_time='2030-01-01 00:00:00+00:00')"
    )


def test_get_next_fire_time_v3() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=10, start_time=start, end_time=start + timedelta(hours=1))
    minute = timedelta(minutes=1)
    assert trigger.get_next_fire_time(None, start - minute) == start
    assert trigger.get_next_fire_time(None, start) == start
    assert trigger.get_next_fire_time(None, start + minute) == start + 10 * minute
    assert trigger.get_next_fire_time(None, start + 10 * minute) == start + 10 * minute
    assert trigger.get_next_fire_time(start, start + 25 * minute) == start + 10 * minute
    assert trigger.get_next_fire_time(start + 13 * minute, start) == start + 20 * minute
    assert trigger.get_next_fire_time(start + 60 * minute, start) is None
    assert trigger.get_next_fire_time(None, start + 61 * minute) is None


def test_pytz_start_time() -> None:
    pytz = pytest.importorskip("pytz")
    start = pytz.timezone("Europe/Berlin").localize(datetime(2030, 10, 27, 1, 30))
    trigger = IntervalTrigger(hours=1, start_time=start)
    fired = take(trigger, 3)
    assert all(value.tzinfo == BERLIN for value in fired)
    assert [utc(value).hour for value in fired] == [23, 0, 1]
    assert trigger.__getstate__()["timezone"] == "Europe/Berlin"


def test_v3_attribute_aliases() -> None:
    trigger = IntervalTrigger(
        hours=1, start_time="2030-01-01", end_time="2030-01-02", timezone=BERLIN
    )
    assert trigger.start_date == trigger.start_time
    assert trigger.end_date == trigger.end_time
    assert trigger.timezone is BERLIN
