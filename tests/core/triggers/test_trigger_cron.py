"""Fire times of CronTrigger: start/end handling, time zones and daylight saving time."""

from __future__ import annotations

import copy
import pickle
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler import DeserializationError
from apscheduler._clock import FakeClock
from apscheduler.triggers.cron import CronTrigger

from .helpers import BERLIN, HELSINKI, NEW_YORK, NOW, UTC, assert_same_future, take, utc

START = datetime(2030, 1, 1, tzinfo=UTC)


def local_times(trigger: CronTrigger, count: int) -> list[str]:
    """Fire times as ``"HH:MM+offset"`` strings, which show both wall clock and instant."""
    return [value.strftime("%m-%d %H:%M%z") for value in take(trigger, count)]


def test_start_time_is_inclusive() -> None:
    trigger = CronTrigger(minute="*/10", start_time=START, timezone="UTC")
    assert take(trigger, 2) == [START, START + timedelta(minutes=10)]


def test_start_time_with_microseconds_rounds_up() -> None:
    trigger = CronTrigger(second="*", start_time=START + timedelta(microseconds=1), timezone="UTC")
    assert trigger.next() == START + timedelta(seconds=1)


def test_default_start_time_is_now(clock: FakeClock) -> None:
    trigger = CronTrigger(minute=30, timezone="UTC")
    assert trigger.start_time == NOW
    assert trigger.next() == NOW + timedelta(minutes=30)


def test_naive_start_time_in_timezone() -> None:
    trigger = CronTrigger(hour=8, start_time=datetime(2030, 7, 1, 8), timezone="Europe/Berlin")
    assert trigger.next() == datetime(2030, 7, 1, 6, tzinfo=UTC)


def test_aware_start_time_converted_to_timezone() -> None:
    start = datetime(2030, 7, 1, 8, tzinfo=NEW_YORK)  # 14:00 in Berlin
    trigger = CronTrigger(hour=8, start_time=start, timezone="Europe/Berlin")
    assert trigger.start_time.tzinfo == BERLIN
    assert trigger.next() == datetime(2030, 7, 2, 8, tzinfo=BERLIN)


def test_iso_start_and_end() -> None:
    trigger = CronTrigger(
        hour="*",
        start_time="2030-01-01T00:00:00Z",
        end_time="2030-01-01T02:00:00Z",
        timezone="UTC",
    )
    assert len(take(trigger, 10)) == 3


def test_v3_start_date_end_date() -> None:
    trigger = CronTrigger(
        hour="*", start_date="2030-01-01 00:00", end_date="2030-01-01 02:00", timezone="UTC"
    )
    assert len(take(trigger, 10)) == 3


def test_end_time_inclusive() -> None:
    trigger = CronTrigger(
        minute="*", start_time=START, end_time=START + timedelta(minutes=2), timezone="UTC"
    )
    assert take(trigger, 10) == [START + timedelta(minutes=n) for n in range(3)]
    assert trigger.next() is None


def test_nonexistent_naive_start_time() -> None:
    with pytest.raises(ValueError, match="does not exist in time zone Europe/Berlin"):
        CronTrigger(hour=1, start_time=datetime(2030, 3, 31, 2, 30), timezone="Europe/Berlin")


def test_ends_after_year_9999() -> None:
    trigger = CronTrigger(month=12, day=31, hour=23, start_time="9998-06-01", timezone="UTC")
    assert take(trigger, 5) == [
        datetime(9998, 12, 31, 23, tzinfo=UTC),
        datetime(9999, 12, 31, 23, tzinfo=UTC),
    ]
    assert trigger.next() is None


def test_ends_after_year_9999_negative_offset() -> None:
    trigger = CronTrigger(
        month=12, day=31, hour=23, start_time="9999-06-01", timezone="America/New_York"
    )
    assert take(trigger, 5) == []


def test_year_field_exhausted() -> None:
    trigger = CronTrigger(year="2030-2031", month=6, start_time=START, timezone="UTC")
    assert len(take(trigger, 5)) == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"month": 2, "day": 30},
        {"month": "4,6,9,11", "day": 31},
        {"month": 2, "day": "5th mon", "year": "2030-2040"},
        {"day": 31, "week": 1, "month": 1},
        {"month": 2, "day": "31W"},
    ],
)
def test_impossible_expressions_end_quickly(fields: dict[str, object]) -> None:
    trigger = CronTrigger(**fields, start_time=START, timezone="UTC")  # type: ignore[arg-type]
    started = time.perf_counter()
    assert trigger.next() is None
    assert trigger.next() is None
    assert time.perf_counter() - started < 2


def test_leap_day() -> None:
    trigger = CronTrigger.from_crontab("0 0 29 2 *", start_time=START, timezone="UTC")
    assert [value.year for value in take(trigger, 4)] == [2032, 2036, 2040, 2044]
    trigger = CronTrigger.from_crontab("0 0 29 2 *", start_time="2096-03-01", timezone="UTC")
    assert [value.year for value in take(trigger, 2)] == [2104, 2108]


def test_seconds_minutes_carry() -> None:
    trigger = CronTrigger(hour="23", minute="59", second="58,59", start_time=START, timezone="UTC")
    assert take(trigger, 3) == [
        datetime(2030, 1, 1, 23, 59, 58, tzinfo=UTC),
        datetime(2030, 1, 1, 23, 59, 59, tzinfo=UTC),
        datetime(2030, 1, 2, 23, 59, 58, tzinfo=UTC),
    ]
    trigger = CronTrigger.from_crontab("59 23 31 12 *", start_time=START, timezone="UTC")
    assert take(trigger, 2) == [
        datetime(2030, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2031, 12, 31, 23, 59, tzinfo=UTC),
    ]


# Daylight saving time


@pytest.mark.parametrize(
    "zone, day, expected",
    [
        # Helsinki: 03:00 -> 04:00 on 31 March 2030, so 03:30 does not exist that day
        (HELSINKI, "2030-03-30", ["03-30 03:30+0200", "04-01 03:30+0300"]),
        # Berlin: 02:00 -> 03:00 on 31 March 2030
        (BERLIN, "2030-03-30", ["03-30 03:30+0100", "03-31 03:30+0200"]),
        # New York: 02:00 -> 03:00 on 10 March 2030
        (NEW_YORK, "2030-03-09", ["03-09 03:30-0500", "03-10 03:30-0400"]),
    ],
)
def test_daily_at_0330_spring(zone: ZoneInfo, day: str, expected: list[str]) -> None:
    trigger = CronTrigger(hour=3, minute=30, start_time=day, timezone=zone)
    assert local_times(trigger, 2) == expected


@pytest.mark.parametrize(
    "zone, hour, day, expected",
    [
        (HELSINKI, 3, "2030-03-30", ["03-30 03:30+0200", "04-01 03:30+0300"]),
        (BERLIN, 2, "2030-03-30", ["03-30 02:30+0100", "04-01 02:30+0200"]),
        (NEW_YORK, 2, "2030-03-09", ["03-09 02:30-0500", "03-11 02:30-0400"]),
    ],
)
def test_nonexistent_time_is_skipped(
    zone: ZoneInfo, hour: int, day: str, expected: list[str]
) -> None:
    trigger = CronTrigger(hour=hour, minute=30, start_time=day, timezone=zone)
    assert local_times(trigger, 2) == expected


@pytest.mark.parametrize(
    "zone, hour, day, expected",
    [
        # Helsinki: 04:00 -> 03:00 on 27 October 2030, so 03:30 happens twice
        (HELSINKI, 3, "2030-10-26", ["10-26 03:30+0300", "10-27 03:30+0300", "10-28 03:30+0200"]),
        (BERLIN, 2, "2030-10-26", ["10-26 02:30+0200", "10-27 02:30+0200", "10-28 02:30+0100"]),
        (NEW_YORK, 1, "2030-11-02", ["11-02 01:30-0400", "11-03 01:30-0400", "11-04 01:30-0500"]),
    ],
)
def test_repeated_time_fires_once(
    zone: ZoneInfo, hour: int, day: str, expected: list[str]
) -> None:
    trigger = CronTrigger(hour=hour, minute=30, start_time=day, timezone=zone)
    assert local_times(trigger, 3) == expected


@pytest.mark.parametrize("day", ["2030-03-30", "2030-10-26"])
def test_0230_in_helsinki_fires_once_on_each_change_day(day: str) -> None:
    """The issue's literal example: Helsinki changes at 03:00/04:00 local time, so 02:30
    is neither skipped nor repeated on either change day; it fires once a day."""
    trigger = CronTrigger(hour=2, minute=30, start_time=day, timezone=HELSINKI)
    first = date.fromisoformat(day)
    expected_days = [(first + timedelta(days=n)).strftime("%m-%d") for n in range(3)]
    times = local_times(trigger, 3)
    assert [time[:5] for time in times] == expected_days
    assert all(time[6:11] == "02:30" for time in times)


def test_hourly_in_repeated_hour_fires_each_wall_clock_time_once() -> None:
    trigger = CronTrigger(minute="0,30", start_time="2030-10-27 01:00", timezone=BERLIN)
    assert local_times(trigger, 6) == [
        "10-27 01:00+0200",
        "10-27 01:30+0200",
        "10-27 02:00+0200",
        "10-27 02:30+0200",
        "10-27 03:00+0100",  # two hours of elapsed time after 02:00 CEST
        "10-27 03:30+0100",
    ]


def test_hourly_in_skipped_hour() -> None:
    trigger = CronTrigger(minute="0,30", start_time="2030-03-31 01:00", timezone=BERLIN)
    assert local_times(trigger, 4) == [
        "03-31 01:00+0100",
        "03-31 01:30+0100",
        "03-31 03:00+0200",  # 02:00 and 02:30 do not exist
        "03-31 03:30+0200",
    ]


def test_start_inside_repeated_hour_uses_second_occurrence() -> None:
    # 02:10 on the second pass (CET): 02:20 and 02:40 have not happened since the start
    start = datetime(2030, 10, 27, 2, 10, fold=1, tzinfo=BERLIN)
    trigger = CronTrigger(minute="*/20", start_time=start, timezone=BERLIN)
    assert local_times(trigger, 3) == ["10-27 02:20+0100", "10-27 02:40+0100", "10-27 03:00+0100"]


def test_start_inside_repeated_hour_from_utc() -> None:
    start = datetime(2030, 10, 27, 1, 10, tzinfo=UTC)  # 02:10 CET, the second pass
    trigger = CronTrigger(minute="*/20", start_time=start, timezone=BERLIN)
    assert utc(trigger.next()) == datetime(2030, 10, 27, 1, 20, tzinfo=UTC)  # type: ignore[arg-type]


def test_end_time_in_repeated_hour() -> None:
    end = datetime(2030, 10, 27, 0, 45, tzinfo=UTC)  # 02:45 CEST
    trigger = CronTrigger(
        minute="*/30", start_time="2030-10-27 02:00", end_time=end, timezone=BERLIN
    )
    assert local_times(trigger, 5) == ["10-27 02:00+0200", "10-27 02:30+0200"]


@pytest.mark.parametrize(
    "zone_name, day, hour",
    [
        # 30-minute daylight saving shift: 02:00 -> 02:30 and 02:00 -> 01:30
        ("Australia/Lord_Howe", "2030-10-06", 2),
        ("Australia/Lord_Howe", "2030-04-07", 1),
        # transitions at midnight: 00:00 -> 01:00 and 01:00 -> 00:00
        ("America/Havana", "2030-03-10", 0),
        ("America/Havana", "2030-11-03", 0),
    ],
)
def test_unusual_transitions(zone_name: str, day: str, hour: int) -> None:
    zone = ZoneInfo(zone_name)
    start = datetime.fromisoformat(day).replace(tzinfo=zone) - timedelta(hours=12)
    trigger = CronTrigger(
        minute="*/10", hour=f"{hour}-{hour + 1}", start_time=start, timezone=zone
    )
    fired = take(trigger, 30)
    instants = [utc(value) for value in fired]
    assert instants == sorted(set(instants))
    walls = [value.replace(tzinfo=None) for value in fired]
    # every wall-clock time fires at most once, and every one that exists fires
    assert len(set(walls)) == len(walls)
    first_day = fired[0].date()
    assert first_day.isoformat() == day
    expected = []
    for minutes in range(hour * 60, (hour + 2) * 60, 10):
        wall = datetime.combine(first_day, datetime.min.time()) + timedelta(minutes=minutes)
        aware = wall.replace(tzinfo=zone)
        if utc(aware).astimezone(zone).replace(tzinfo=None) == wall:
            expected.append(wall)
    assert [wall for wall in walls if wall.date() == first_day] == expected
    for value in fired:  # each value is labelled with its real offset
        assert utc(value).astimezone(zone).replace(tzinfo=None) == value.replace(tzinfo=None)


@pytest.mark.parametrize("zone", [BERLIN, HELSINKI, NEW_YORK])
@pytest.mark.parametrize("month", [3, 10, 11])
def test_every_minute_across_transitions(zone: ZoneInfo, month: int) -> None:
    start = datetime(2030, month, 1, tzinfo=zone)
    trigger = CronTrigger(
        minute="*", hour="0-4", day="*", month=month, start_time=start, timezone=zone
    )
    fired = take(trigger, 31 * 5 * 60)
    instants = [utc(value) for value in fired]
    assert instants == sorted(set(instants))
    walls = [value.replace(tzinfo=None) for value in fired]
    assert len(set(walls)) == len(walls)
    assert all(value.fold == 0 for value in fired)
    for value in fired:
        assert utc(value).astimezone(zone).replace(tzinfo=None) == value.replace(tzinfo=None)


def test_fixed_offset_zone() -> None:
    zone = timezone(timedelta(hours=5, minutes=30))
    trigger = CronTrigger(hour=9, start_time=START, timezone=zone)
    assert trigger.next() == datetime(2030, 1, 1, 9, tzinfo=zone)
    assert trigger.__getstate__()["timezone"] == "+05:30"
    assert_same_future(trigger)


def test_utc_aliases() -> None:
    assert CronTrigger(hour=1, timezone=timezone.utc, start_time=START).timezone == UTC


# State, copies, repr


def test_state() -> None:
    trigger = CronTrigger(
        day_of_week="mon-fri",
        hour="9-17",
        minute="*/5",
        start_time="2030-10-27 02:00",
        end_time="2031-01-01",
        timezone="Europe/Berlin",
    )
    trigger.next()
    assert trigger.__getstate__() == {
        "version": 1,
        "timezone": "Europe/Berlin",
        "fields": {
            "year": "*",
            "month": "*",
            "day": "*",
            "week": "*",
            "day_of_week": "mon-fri",
            "hour": "9-17",
            "minute": "*/5",
            "second": "0",
        },
        "start_time": "2030-10-27T02:00:00+02:00",
        "end_time": "2031-01-01T00:00:00+01:00",
        "last_fire_time": "2030-10-28T09:00:00+01:00",
    }
    assert_same_future(trigger, 50)


def test_state_in_second_pass_of_repeated_hour() -> None:
    start = datetime(2030, 10, 27, 2, 10, fold=1, tzinfo=BERLIN)
    trigger = CronTrigger(minute="*/20", start_time=start, timezone=BERLIN)
    trigger.next()
    assert trigger.__getstate__()["last_fire_time"] == "2030-10-27T02:20:00+01:00"
    assert_same_future(trigger)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"fields": {"hour": "1"}}, "'fields' must map each of"),
        ({"fields": "0 0 * * *"}, "'fields' must map"),
        (
            {"fields": dict.fromkeys(CronTrigger.FIELD_NAMES, "*") | {"hour": "25"}},
            "field 'hour'",
        ),
        ({"timezone": 5}, "expected a time zone name"),
        ({"start_time": None}, "start_time is missing"),
        ({"last_fire_time": "yesterday"}, "Invalid state"),
        ({"version": "1"}, "version"),
    ],
)
def test_bad_state(change: dict[str, object], match: str) -> None:
    trigger = CronTrigger(hour=1, start_time=START, timezone="UTC")
    state = {**trigger.__getstate__(), **change}
    with pytest.raises(DeserializationError, match=match):
        CronTrigger.__new__(CronTrigger).__setstate__(state)


def test_missing_state_key() -> None:
    state = CronTrigger(hour=1, start_time=START, timezone="UTC").__getstate__()
    del state["fields"]
    with pytest.raises(DeserializationError, match="missing the key"):
        CronTrigger.__new__(CronTrigger).__setstate__(state)


def test_preview_copy_pickle() -> None:
    trigger = CronTrigger(minute="*/15", start_time=START, timezone="Europe/Berlin")
    preview = trigger.preview(4)
    assert len(preview) == 4
    assert take(copy.deepcopy(trigger), 4) == preview
    assert take(pickle.loads(pickle.dumps(trigger)), 4) == preview
    assert take(trigger, 4) == preview
    assert trigger.preview(1) == [preview[-1] + timedelta(minutes=15)]


def test_repr() -> None:
    trigger = CronTrigger(hour="9-17", minute="*/5", start_time=START, timezone="Europe/Berlin")
    assert repr(trigger) == (
        "CronTrigger(hour='9-17', minute='*/5', second='0', "
        "start_time='2030-01-01 01:00:00+01:00', timezone='Europe/Berlin')"
    )


def test_get_next_fire_time_v3() -> None:
    trigger = CronTrigger(
        minute="*/15", start_time=START, end_time=START + timedelta(hours=1), timezone="UTC"
    )
    before = START - timedelta(days=1)
    assert trigger.get_next_fire_time(None, before) == START
    assert trigger.get_next_fire_time(None, START + timedelta(minutes=1)) == START + timedelta(
        minutes=15
    )
    assert trigger.get_next_fire_time(START, START) == START + timedelta(minutes=15)
    assert trigger.get_next_fire_time(before, START) == START
    assert trigger.get_next_fire_time(START + timedelta(hours=1), START) is None
    # stateless: nothing was consumed
    assert trigger.next() == START


def test_next_is_fast() -> None:
    trigger = CronTrigger.from_crontab(
        "*/5 9-17 * * mon-fri", start_time=START, timezone="Europe/Berlin"
    )
    trigger.next()
    count = 20_000
    started = time.perf_counter()
    for _ in range(count):
        trigger.next()
    per_call = (time.perf_counter() - started) / count
    assert per_call < 50e-6  # typically about 4 µs; generous for slow CI machines


def test_pytz_timezone() -> None:
    pytz = pytest.importorskip("pytz")
    trigger = CronTrigger(
        hour=2, minute=30, start_time="2030-03-30", timezone=pytz.timezone("Europe/Berlin")
    )
    assert trigger.timezone == BERLIN
    assert local_times(trigger, 2) == ["03-30 02:30+0100", "04-01 02:30+0200"]


def test_v3_attribute_aliases() -> None:
    trigger = CronTrigger(hour=1, start_time=START, end_time="2031-01-01", timezone="UTC")
    assert trigger.start_date == trigger.start_time == START
    assert trigger.end_date == trigger.end_time == datetime(2031, 1, 1, tzinfo=UTC)
