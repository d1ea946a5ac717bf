"""Parsing of cron field expressions and crontab lines."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.cron.fields import parse_field, resolve_field_texts

from .helpers import UTC, take

START = datetime(2030, 1, 1, tzinfo=UTC)  # a Tuesday


def values(name: str, expr: str | int) -> tuple[int, ...]:
    parsed = parse_field(name, expr)
    assert not parsed.dynamic
    return parsed.values


def fire_dates(count: int = 6, **fields: str | int) -> list[date]:
    trigger = CronTrigger(**fields, start_time=START, timezone="UTC")  # type: ignore[arg-type]
    return [value.date() for value in take(trigger, count)]


def crontab(expr: str, count: int = 4) -> list[datetime]:
    return take(CronTrigger.from_crontab(expr, start_time=START, timezone="UTC"), count)


@pytest.mark.parametrize(
    "name, expr, expected",
    [
        ("minute", "*", tuple(range(60))),
        ("minute", "*/15", (0, 15, 30, 45)),
        ("minute", "7", (7,)),
        ("minute", 7, (7,)),
        ("minute", "07", (7,)),
        ("minute", "5-8", (5, 6, 7, 8)),
        ("minute", "5-20/5", (5, 10, 15, 20)),
        ("minute", "50/3", (50, 53, 56, 59)),
        ("minute", "1,3 , 5-6", (1, 3, 5, 6)),
        ("minute", "*/59", (0, 59)),
        ("second", "0-59/30", (0, 30)),
        ("hour", "9-17", tuple(range(9, 18))),
        ("hour", "*/6", (0, 6, 12, 18)),
        ("month", "jan", (1,)),
        ("month", "JAN-Mar", (1, 2, 3)),
        ("month", "jan-dec/3", (1, 4, 7, 10)),
        ("month", "*/4", (1, 5, 9)),
        ("month", "feb/5", (2, 7, 12)),
        ("day", "1,15,31", (1, 15, 31)),
        ("day", "*/10", (1, 11, 21, 31)),
        ("week", "1-3", (1, 2, 3)),
        ("week", "*/26", (1, 27, 53)),
        ("year", "2030", (2030,)),
        ("year", "2030-2040/5", (2030, 2035, 2040)),
        # day_of_week values are Python weekdays (Monday = 0)
        ("day_of_week", "mon", (0,)),
        ("day_of_week", "SUN", (6,)),
        ("day_of_week", "Mon-Fri", (0, 1, 2, 3, 4)),
        ("day_of_week", "sat-mon", (0, 5, 6)),
        ("day_of_week", "fri-tue/2", (1, 4, 6)),
        ("day_of_week", "1", (0,)),
        ("day_of_week", "0", (6,)),
        ("day_of_week", "7", (6,)),
        ("day_of_week", "1-5", (0, 1, 2, 3, 4)),
        ("day_of_week", "1-5/2", (0, 2, 4)),
        ("day_of_week", "0-3", (0, 1, 2, 6)),
        ("day_of_week", "5-1", (0, 4, 5, 6)),
        ("day_of_week", "*/2", (1, 3, 5, 6)),
        ("day_of_week", "1/2", (0, 2, 4)),
        ("day_of_week", "mon/2", (0, 2, 4)),
        ("day_of_week", "sun,6", (5, 6)),
    ],
)
def test_static_values(name: str, expr: str, expected: tuple[int, ...]) -> None:
    assert values(name, expr) == expected


@pytest.mark.parametrize(
    "name, expr",
    [
        ("minute", "*"),
        ("minute", "*/1"),
        ("minute", "0-59"),
        ("day", "?"),
        ("day", "*,5"),
        ("day_of_week", "?"),
        ("day_of_week", "mon-sun"),
        ("day_of_week", "0-7"),
        ("day_of_week", "sun-sat"),
        ("year", "*"),
    ],
)
def test_wildcards(name: str, expr: str) -> None:
    assert parse_field(name, expr).is_wildcard


@pytest.mark.parametrize(
    "day, expected",
    [
        ("L", [date(2030, 1, 31), date(2030, 2, 28), date(2030, 3, 31), date(2030, 4, 30)]),
        ("last", [date(2030, 1, 31), date(2030, 2, 28), date(2030, 3, 31), date(2030, 4, 30)]),
        ("l-1", [date(2030, 1, 30), date(2030, 2, 27), date(2030, 3, 30), date(2030, 4, 29)]),
        ("L-30", [date(2030, 1, 1), date(2030, 3, 1), date(2030, 5, 1), date(2030, 7, 1)]),
        # 15 Feb 2030 is a Friday, 15 Jun 2030 a Saturday, 15 Sep 2030 a Sunday
        ("15W", [date(2030, 1, 15), date(2030, 2, 15), date(2030, 3, 15), date(2030, 4, 15)]),
        # 1 Jun 2030 is a Saturday: not moved into May, but on to Monday the 3rd
        ("1W", [date(2030, 1, 1), date(2030, 2, 1), date(2030, 3, 1), date(2030, 4, 1)]),
        ("LW", [date(2030, 1, 31), date(2030, 2, 28), date(2030, 3, 29), date(2030, 4, 30)]),
        ("1st mon", [date(2030, 1, 7), date(2030, 2, 4), date(2030, 3, 4), date(2030, 4, 1)]),
        ("2ND Tue", [date(2030, 1, 8), date(2030, 2, 12), date(2030, 3, 12), date(2030, 4, 9)]),
        ("5th fri", [date(2030, 3, 29), date(2030, 5, 31), date(2030, 8, 30), date(2030, 11, 29)]),
        ("last fri", [date(2030, 1, 25), date(2030, 2, 22), date(2030, 3, 29), date(2030, 4, 26)]),
        ("1, L", [date(2030, 1, 1), date(2030, 1, 31), date(2030, 2, 1), date(2030, 2, 28)]),
    ],
)
def test_month_dependent_days(day: str, expected: list[date]) -> None:
    assert fire_dates(4, day=day) == expected


def test_nearest_weekday_edges() -> None:
    assert fire_dates(3, year=2030, month="jun,sep", day="15W") == [
        date(2030, 6, 14),  # Saturday -> Friday
        date(2030, 9, 16),  # Sunday -> Monday
    ]
    assert fire_dates(1, year=2030, month="jun", day="1W") == [date(2030, 6, 3)]
    # 31 Aug 2031 is a Sunday: the nearest weekday within the month is Friday the 29th
    assert fire_dates(1, year=2031, month="aug", day="31W") == [date(2031, 8, 29)]
    # 31W selects nothing in a 30-day month
    assert fire_dates(2, year=2030, month="4-7", day="31W") == [
        date(2030, 5, 31),
        date(2030, 7, 31),
    ]


@pytest.mark.parametrize(
    "day_of_week, expected",
    [
        ("MON#2", [date(2030, 1, 14), date(2030, 2, 11), date(2030, 3, 11)]),
        ("1#2", [date(2030, 1, 14), date(2030, 2, 11), date(2030, 3, 11)]),
        ("5#3", [date(2030, 1, 18), date(2030, 2, 15), date(2030, 3, 15)]),
        ("sun # 1", [date(2030, 1, 6), date(2030, 2, 3), date(2030, 3, 3)]),
        ("0#1", [date(2030, 1, 6), date(2030, 2, 3), date(2030, 3, 3)]),
        ("7#1", [date(2030, 1, 6), date(2030, 2, 3), date(2030, 3, 3)]),
        ("5L", [date(2030, 1, 25), date(2030, 2, 22), date(2030, 3, 29)]),
        ("friL", [date(2030, 1, 25), date(2030, 2, 22), date(2030, 3, 29)]),
        ("FRIL", [date(2030, 1, 25), date(2030, 2, 22), date(2030, 3, 29)]),
        ("mon#1,friL", [date(2030, 1, 7), date(2030, 1, 25), date(2030, 2, 4)]),
        ("sat,1#1", [date(2030, 1, 5), date(2030, 1, 7), date(2030, 1, 12)]),
    ],
)
def test_month_dependent_weekdays(day_of_week: str, expected: list[date]) -> None:
    assert fire_dates(3, day_of_week=day_of_week) == expected


def test_fifth_weekday_skips_months_without_one() -> None:
    assert fire_dates(3, day_of_week="mon#5") == [
        date(2030, 4, 29),
        date(2030, 7, 29),
        date(2030, 9, 30),
    ]


def test_day_and_day_of_week_both_apply() -> None:
    # Friday the 13th
    assert fire_dates(3, day=13, day_of_week="fri") == [
        date(2030, 9, 13),
        date(2030, 12, 13),
        date(2031, 6, 13),
    ]


def test_week_filter() -> None:
    assert fire_dates(8, week="1,52", day_of_week="mon") == [
        date(2030, 12, 23),
        date(2030, 12, 30),
        date(2031, 12, 22),
        date(2031, 12, 29),
        date(2032, 12, 20),
        date(2033, 1, 3),
        date(2033, 12, 26),
        date(2034, 1, 2),
    ]
    assert fire_dates(2, week=53) == [date(2032, 12, 27), date(2032, 12, 28)]


def test_question_mark() -> None:
    assert fire_dates(2, day="?", day_of_week="mon") == [date(2030, 1, 7), date(2030, 1, 14)]
    assert fire_dates(2, day="15", day_of_week="?") == [date(2030, 1, 15), date(2030, 2, 15)]


def test_default_rule() -> None:
    assert resolve_field_texts({"hour": 5}) == {
        "year": "*",
        "month": "*",
        "day": "*",
        "week": "*",
        "day_of_week": "*",
        "hour": 5,
        "minute": "0",
        "second": "0",
    }
    assert resolve_field_texts({"month": "6"})["day"] == "1"
    assert resolve_field_texts({})["month"] == "1"
    trigger = CronTrigger(hour=5, start_time=START, timezone="UTC")
    assert take(trigger, 2) == [
        datetime(2030, 1, 1, 5, tzinfo=UTC),
        datetime(2030, 1, 2, 5, tzinfo=UTC),
    ]
    assert CronTrigger(start_time=START, timezone="UTC").preview(2) == [
        datetime(2030, 1, 1, tzinfo=UTC),
        datetime(2031, 1, 1, tzinfo=UTC),
    ]
    assert CronTrigger(day_of_week="sun", start_time=START, timezone="UTC").next() == datetime(
        2030, 1, 6, tzinfo=UTC
    )


def test_fields_property() -> None:
    trigger = CronTrigger(hour="9-17", minute=" */5 ", start_time=START, timezone="UTC")
    assert trigger.fields["minute"] == "*/5"
    assert trigger.fields["hour"] == "9-17"
    assert trigger.fields["second"] == "0"


# from_crontab


def test_crontab_5_fields() -> None:
    assert crontab("*/15 9 * * mon-fri", 3) == [
        datetime(2030, 1, 1, 9, 0, tzinfo=UTC),
        datetime(2030, 1, 1, 9, 15, tzinfo=UTC),
        datetime(2030, 1, 1, 9, 30, tzinfo=UTC),
    ]


def test_crontab_weekday_numbers_are_cron_style() -> None:
    # crontab "1" is Monday (APScheduler 3 passed it through as Tuesday)
    assert crontab("0 9 * * 1", 2) == [
        datetime(2030, 1, 7, 9, tzinfo=UTC),
        datetime(2030, 1, 14, 9, tzinfo=UTC),
    ]
    assert (
        crontab("0 9 * * 0", 1) == crontab("0 9 * * 7", 1) == [datetime(2030, 1, 6, 9, tzinfo=UTC)]
    )


def test_crontab_6_fields_has_seconds() -> None:
    assert crontab("*/20 0 12 * * *", 3) == [
        datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC),
        datetime(2030, 1, 1, 12, 0, 20, tzinfo=UTC),
        datetime(2030, 1, 1, 12, 0, 40, tzinfo=UTC),
    ]


def test_crontab_7_fields_has_year() -> None:
    assert crontab("30 0 0 1 1 ? 2032-2033", 3) == [
        datetime(2032, 1, 1, 0, 0, 30, tzinfo=UTC),
        datetime(2033, 1, 1, 0, 0, 30, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    "macro, expected",
    [
        ("@yearly", [datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)]),
        ("@annually", [datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)]),
        ("@monthly", [datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC)]),
        ("@weekly", [datetime(2030, 1, 6, tzinfo=UTC), datetime(2030, 1, 13, tzinfo=UTC)]),
        ("@daily", [datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)]),
        ("@MIDNIGHT", [datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)]),
        (" @hourly ", [datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, 1, tzinfo=UTC)]),
    ],
)
def test_crontab_macros(macro: str, expected: list[datetime]) -> None:
    assert crontab(macro, 2) == expected


def test_crontab_l_w_hash() -> None:
    assert crontab("0 0 L * *", 2) == [
        datetime(2030, 1, 31, tzinfo=UTC),
        datetime(2030, 2, 28, tzinfo=UTC),
    ]
    assert crontab("0 0 LW * *", 1) == [datetime(2030, 1, 31, tzinfo=UTC)]
    assert crontab("0 0 ? * MON#2", 1) == [datetime(2030, 1, 14, tzinfo=UTC)]
    assert crontab("0 0 ? * 5L", 1) == [datetime(2030, 1, 25, tzinfo=UTC)]


def test_crontab_keyword_arguments() -> None:
    trigger = CronTrigger.from_crontab(
        "0 12 * * *",
        start_time="2030-06-01",
        end_time="2030-06-02 12:00",
        timezone="Europe/Berlin",
    )
    assert [value.isoformat() for value in take(trigger, 5)] == [
        "2030-06-01T12:00:00+02:00",
        "2030-06-02T12:00:00+02:00",
    ]


# Errors


@pytest.mark.parametrize(
    "name, expr, message",
    [
        ("hour", "25", "Invalid cron expression for field 'hour': '25' is out of range 0-23"),
        ("minute", "60", "field 'minute': '60' is out of range 0-59"),
        ("second", "-1", "field 'second': '-1' is not a valid expression"),
        ("day", "0", "field 'day': '0' is out of range 1-31"),
        ("day", "32", "'32' is out of range 1-31"),
        ("month", "13", "field 'month': '13' is out of range 1-12"),
        ("month", "foo", "'foo' in 'foo' is not a valid value; use a number 1-12 or one of: jan"),
        ("month", "jan-foo", "'foo' in 'jan-foo' is not a valid value"),
        ("week", "54", "field 'week': '54' is out of range 1-53"),
        ("year", "1969", "field 'year': '1969' is out of range 1970-9999"),
        ("year", "10000", "'10000' is out of range 1970-9999"),
        ("day_of_week", "8", "field 'day_of_week': '8' is out of range 0-7"),
        ("day_of_week", "monday", "'monday' in 'monday' is not a valid value"),
        ("hour", "5-2", "field 'hour': '5-2': the start of the range (5) is after its end (2)"),
        ("month", "dec-jan", "the start of the range (12) is after its end (1)"),
        ("minute", "*/0", "the step in '*/0' must be at least 1"),
        ("minute", "*/60", "the step in '*/60' is larger than the field's range 0-59"),
        ("minute", "1-5/0", "must be at least 1"),
        ("minute", "*/99999999999999", "is larger than the field's range"),
        ("minute", "99999999999999999999", "is out of range 0-59"),
        ("minute", "", "field 'minute': the expression is empty"),
        ("minute", "  ", "the expression is empty"),
        ("minute", "1,,2", "'1,,2' contains an empty item"),
        ("minute", "1,", "contains an empty item"),
        ("minute", "?", "'?' is only allowed in the 'day' and 'day_of_week' fields"),
        ("minute", "L", "field 'minute': 'L' is not a valid expression"),
        ("minute", "5W", "'5W' is not a valid expression"),
        ("minute", "1#2", "'1#2' is not a valid expression"),
        ("hour", "1 2", "'1 2' is not a valid expression"),
        ("hour", "a-b-c", "'a-b-c' is not a valid expression"),
        ("day", "L-31", "the offset in 'L-31' must be between 0 and 30"),
        ("day", "L-99999999", "must be between 0 and 30"),
        ("day", "32W", "'32' is out of range 1-31"),
        ("day", "0W", "'0' is out of range 1-31"),
        ("day", "1st 1", "the weekday must be one of mon, tue"),
        ("day", "6th mon", "'6th mon' is not a valid expression"),
        ("day", "last funday", "the weekday must be one of"),
        ("day", "mon", "'mon' is not a valid expression"),
        ("day", "L/2", "'L/2' is not a valid expression"),
        ("day", "LW-1", "'LW-1' is not a valid expression"),
        ("day_of_week", "L", "'L' alone is not valid here; use 'L' in the 'day' field"),
        ("day_of_week", "mon#6", "the occurrence in 'mon#6' must be between 1 and 5"),
        ("day_of_week", "mon#0", "must be between 1 and 5"),
        ("day_of_week", "8#1", "'8' is out of range 0-7"),
        ("day_of_week", "8L", "'8' is out of range 0-7"),
        ("day_of_week", "xyzL", "'xyz' in 'xyzL' is not a valid value"),
        ("day_of_week", "15W", "is not a valid"),
        ("day_of_week", "\u0661", "is not a valid expression"),
        ("hour", "\u00b2", "is not a valid expression"),
        (
            "hour",
            "x" * 500,
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a valid expression",
        ),
    ],
)
def test_invalid_expressions(name: str, expr: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        CronTrigger(**{name: expr}, start_time=START, timezone="UTC")  # type: ignore[arg-type]
    assert message in str(excinfo.value)
    assert f"field {name!r}" in str(excinfo.value)


@pytest.mark.parametrize("value", [1.5, True, ["1"], None.__class__])
def test_invalid_field_types(value: object) -> None:
    with pytest.raises(TypeError, match="must be a string or an integer"):
        CronTrigger(hour=value, timezone="UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "expr, message",
    [
        ("* * * *", "Wrong number of fields in crontab expression '* * * *'"),
        ("", "got 0"),
        ("* * * * * * * *", "got 8"),
        ("@reboot", "Unknown crontab macro '@reboot'; use one of: @yearly"),
        ("@daily extra", "Unknown crontab macro"),
        ("61 * * * *", "field 'minute': '61' is out of range 0-59"),
        ("* * * * * 8", "field 'day_of_week': '8' is out of range 0-7"),
        ("0 0 0 * * * 1969", "field 'year': '1969' is out of range"),
        ("0 0 * * mon-fri-sat", "field 'day_of_week'"),
    ],
)
def test_invalid_crontab(expr: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        CronTrigger.from_crontab(expr, timezone="UTC")
    assert message in str(excinfo.value)


def test_crontab_type_error() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        CronTrigger.from_crontab(5)  # type: ignore[arg-type]


def test_unknown_keyword() -> None:
    with pytest.raises(TypeError):
        CronTrigger(hour=1, jitter=5)  # type: ignore[call-arg]


def test_both_start_names() -> None:
    with pytest.raises(TypeError, match="not both"):
        CronTrigger(hour=1, start_time=START, start_date=START)


def test_end_before_start() -> None:
    with pytest.raises(ValueError, match="cannot be earlier"):
        CronTrigger(hour=1, start_time=START, end_time="2029-01-01T00:00:00+00:00")


def test_unknown_timezone() -> None:
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus'"):
        CronTrigger(hour=1, timezone="Mars/Olympus")
