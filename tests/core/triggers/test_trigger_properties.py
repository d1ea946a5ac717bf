"""Property tests (hypothesis) for the triggers, including agreement with croniter."""

from __future__ import annotations

import calendar
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler._clock import FakeClock, use_clock
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from .helpers import BERLIN, UTC, assert_same_future, take, utc

croniter_module = pytest.importorskip("croniter")

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: For the more expensive properties that the croniter comparisons already exercise
LIGHT_SETTINGS = settings(SETTINGS, max_examples=120)
ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "Europe/Helsinki", "America/New_York", "Australia/Lord_Howe"]
)
START_TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31))

MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DOW_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


# Strategies for cron syntax that both croniter and CronTrigger understand


@st.composite
def simple_items(draw: st.DrawFn, low: int, high: int, names: list[str] | None = None) -> str:
    """One item of a field: a value, a range or a step, all within ``low``-``high``."""

    def value(number: int) -> str:
        if names and draw(st.booleans()):
            return names[number - low]
        return str(number)

    kind = draw(st.sampled_from(["value", "range", "star_step", "range_step"]))
    if kind == "value":
        return value(draw(st.integers(low, high)))
    if kind == "star_step":
        return f"*/{draw(st.integers(1, high - low))}"
    # (croniter mishandles single-value ranges such as "11-11", so avoid them)
    first = draw(st.integers(low, high - 1))
    last = draw(st.integers(first + 1, high))
    if kind == "range":
        return f"{value(first)}-{value(last)}"
    return f"{first}-{last}/{draw(st.integers(1, high - low))}"


@st.composite
def field_exprs(draw: st.DrawFn, low: int, high: int, names: list[str] | None = None) -> str:
    if draw(st.integers(0, 3)) == 0:
        return "*"
    items = draw(st.lists(simple_items(low, high, names), min_size=1, max_size=3))
    return ",".join(items)


@st.composite
def crontab_lines(draw: st.DrawFn) -> str:
    minute = draw(field_exprs(0, 59))
    hour = draw(field_exprs(0, 23))
    day = draw(field_exprs(1, 31))
    month = draw(field_exprs(1, 12, MONTH_NAMES))
    # croniter ORs a restricted day with a restricted weekday by default; restrict one only
    weekday = "*" if day != "*" else draw(field_exprs(0, 6, DOW_NAMES))
    return f"{minute} {hour} {day} {month} {weekday}"


def transition_days(zone: ZoneInfo, year_from: int, year_to: int) -> set[date]:
    """Local dates on which ``zone`` changes its UTC offset."""
    days = set()
    day = date(year_from, 1, 1)
    previous = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
    while day.year <= year_to:
        day += timedelta(days=1)
        offset = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
        if offset != previous:
            days.add(day - timedelta(days=1))
            days.add(day)
        previous = offset
    return days


BERLIN_TRANSITIONS = transition_days(BERLIN, 1999, 2050)


def next_croniter(reference: Any) -> datetime | None:
    """croniter's next time, or ``None`` where it gives up. Every expression generated
    here that can match at all matches at least every 8 years (29 February), well within
    croniter's 50-year search limit, so giving up means "never"."""
    try:
        result: datetime = reference.get_next(datetime)
    except croniter_module.CroniterBadDateError:
        return None
    return result


@SETTINGS
@given(expr=crontab_lines(), start=START_TIMES)
def test_agrees_with_croniter_utc(expr: str, start: datetime) -> None:
    start = start.replace(microsecond=0, tzinfo=UTC)
    reference = croniter_module.croniter(expr, start, day_or=False)
    trigger = CronTrigger.from_crontab(
        expr, start_time=start + timedelta(microseconds=1), timezone="UTC"
    )
    for _ in range(10):
        ours = trigger.next()
        theirs = next_croniter(reference)
        if theirs is None:  # impossible, like "0 0 30 feb *"
            assert ours is None, expr
            break
        assert ours == theirs, expr


@SETTINGS
@given(expr=crontab_lines(), start=START_TIMES)
def test_agrees_with_croniter_berlin(expr: str, start: datetime) -> None:
    start = start.replace(microsecond=0, tzinfo=BERLIN)
    assume(start.date() not in BERLIN_TRANSITIONS)
    start = utc(start).astimezone(BERLIN)
    reference = croniter_module.croniter(expr, start, day_or=False)
    trigger = CronTrigger.from_crontab(
        expr, start_time=start + timedelta(microseconds=1), timezone=BERLIN
    )
    for _ in range(10):
        ours = trigger.next()
        theirs = next_croniter(reference)
        if theirs is None:
            assert ours is None, expr
            break
        assert ours is not None, expr
        # croniter and CronTrigger treat skipped and repeated wall-clock times
        # differently; compare only up to the first clock change
        if ours.date() in BERLIN_TRANSITIONS or theirs.date() in BERLIN_TRANSITIONS:
            break
        assert utc(ours) == utc(theirs), expr
        assert ours.utcoffset() == theirs.utcoffset()


# Month-dependent day expressions against a brute-force reference


def reference_days(year: int, month: int, day_expr: str, dow_expr: str) -> set[int]:
    """Straightforward (slow) implementation of the ``day``/``day_of_week`` items that
    croniter does not support, for one month."""
    length = calendar.monthrange(year, month)[1]
    weekday_of = {day: date(year, month, day).weekday() for day in range(1, length + 1)}
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    def by_day(item: str) -> set[int]:
        if item == "*":
            return set(weekday_of)
        if item == "L":
            return {length}
        if item.startswith("L-"):
            day = length - int(item[2:])
            return {day} if day >= 1 else set()
        if item == "LW":
            day = length
            while weekday_of[day] >= 5:
                day -= 1
            return {day}
        if item.endswith("W"):
            target = int(item[:-1])
            if target > length:
                return set()
            candidates = [day for day in weekday_of if weekday_of[day] < 5]
            return {min(candidates, key=lambda day: (abs(day - target), day))}
        if " " in item:
            ordinal, name = item.split()
            matching = [day for day in weekday_of if weekday_of[day] == names.index(name)]
            if ordinal == "last":
                return {matching[-1]}
            index = int(ordinal[0]) - 1
            return {matching[index]} if index < len(matching) else set()
        return {int(item)} if int(item) <= length else set()

    def by_weekday(item: str) -> set[int]:
        if item == "*":
            return set(weekday_of)
        if item.endswith("L"):
            weekday = (int(item[:-1]) - 1) % 7
            return {max(day for day in weekday_of if weekday_of[day] == weekday)}
        if "#" in item:
            number, nth = item.split("#")
            weekday = (int(number) - 1) % 7
            matching = [day for day in weekday_of if weekday_of[day] == weekday]
            return {matching[int(nth) - 1]} if int(nth) <= len(matching) else set()
        return {day for day in weekday_of if weekday_of[day] == (int(item) - 1) % 7}

    days = set().union(*(by_day(item) for item in day_expr.split(",")))
    return days & set().union(*(by_weekday(item) for item in dow_expr.split(",")))


DAY_ITEMS = st.one_of(
    st.just("L"),
    st.just("LW"),
    st.integers(0, 30).map(lambda n: f"L-{n}"),
    st.integers(1, 31).map(lambda n: f"{n}W"),
    st.integers(1, 31).map(str),
    st.tuples(
        st.sampled_from(["1st", "2nd", "3rd", "4th", "5th", "last"]),
        st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ).map(" ".join),
)
WEEKDAY_ITEMS = st.one_of(
    st.integers(0, 7).map(str),
    st.integers(0, 7).map(lambda n: f"{n}L"),
    st.tuples(st.integers(0, 7), st.integers(1, 5)).map(lambda pair: f"{pair[0]}#{pair[1]}"),
)


@SETTINGS
@given(
    day_items=st.lists(DAY_ITEMS, min_size=1, max_size=3),
    weekday_items=st.one_of(st.just(["*"]), st.lists(WEEKDAY_ITEMS, min_size=1, max_size=3)),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
)
def test_month_dependent_days_against_reference(
    day_items: list[str], weekday_items: list[str], start: date
) -> None:
    day_expr, dow_expr = ",".join(day_items), ",".join(weekday_items)
    trigger = CronTrigger(
        day=day_expr, day_of_week=dow_expr, hour=12, start_time=start, timezone="UTC"
    )
    expected: list[date] = []
    year, month = start.year, start.month
    for _ in range(36):
        days = reference_days(year, month, day_expr, dow_expr)
        expected += [date(year, month, day) for day in sorted(days)]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    expected = [day for day in expected if day >= start][:8]
    actual = [value.date() for value in take(trigger, len(expected))]
    assert actual == expected, (day_expr, dow_expr)


# General properties


@st.composite
def any_cron_fields(draw: st.DrawFn) -> dict[str, str]:
    fields = {
        "second": draw(field_exprs(0, 59)),
        "minute": draw(field_exprs(0, 59)),
        "hour": draw(field_exprs(0, 23)),
        "month": draw(field_exprs(1, 12, MONTH_NAMES)),
    }
    if draw(st.booleans()):
        fields["day"] = ",".join(draw(st.lists(DAY_ITEMS, min_size=1, max_size=2)))
    else:
        fields["day"] = draw(field_exprs(1, 31))
    if draw(st.booleans()):
        fields["day_of_week"] = ",".join(draw(st.lists(WEEKDAY_ITEMS, min_size=1, max_size=2)))
    else:
        fields["day_of_week"] = draw(field_exprs(0, 6, DOW_NAMES))
    if draw(st.integers(0, 5)) == 0:
        fields["week"] = draw(field_exprs(1, 53))
    return fields


@LIGHT_SETTINGS
@given(fields=any_cron_fields(), zone=ZONES, start=START_TIMES)
def test_cron_strictly_increasing_and_valid(
    fields: dict[str, str], zone: str, start: datetime
) -> None:
    tz = ZoneInfo(zone)
    start_time = utc(start.replace(tzinfo=timezone.utc)).astimezone(tz)
    trigger = CronTrigger(**fields, start_time=start_time, timezone=tz)  # type: ignore[arg-type]
    fired = take(trigger, 25)
    instants = [utc(value) for value in fired]
    assert instants == sorted(set(instants))
    assert not instants or instants[0] >= utc(start_time)
    walls = [value.replace(tzinfo=None) for value in fired]
    assert len(set(walls)) == len(walls)  # each wall-clock time fires at most once
    for value in fired:
        assert value.microsecond == 0
        # the value exists and is labelled with its real offset
        assert utc(value).astimezone(tz).replace(tzinfo=None) == value.replace(tzinfo=None)


CRON_ALPHABET = st.sampled_from(
    list("0123456789*/-,#?LlWw ") + ["mon", "fri", "jan", "last", "1st", "L-", "\t", "@"]
)
CRONISH_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(CRON_ALPHABET, max_size=25).map("".join),
)


@SETTINGS
@given(field=st.sampled_from(CronTrigger.FIELD_NAMES), text=CRONISH_TEXT)
def test_arbitrary_field_text_parses_or_raises_value_error(field: str, text: str) -> None:
    started = time.perf_counter()
    try:
        trigger = CronTrigger(
            **{field: text}, start_time=datetime(2030, 1, 1, tzinfo=UTC), timezone="UTC"
        )  # type: ignore[arg-type]
    except ValueError as exc:
        assert "Invalid cron expression for field" in str(exc)
    else:
        take(trigger, 3)
    assert time.perf_counter() - started < 1


@SETTINGS
@given(text=st.one_of(CRONISH_TEXT, st.lists(CRONISH_TEXT, min_size=5, max_size=7).map(" ".join)))
def test_arbitrary_crontab_parses_or_raises_value_error(text: str) -> None:
    started = time.perf_counter()
    try:
        trigger = CronTrigger.from_crontab(
            text, start_time=datetime(2030, 1, 1, tzinfo=UTC), timezone="UTC"
        )
    except ValueError:
        pass
    else:
        take(trigger, 3)
    assert time.perf_counter() - started < 1


# State round trips


@LIGHT_SETTINGS
@given(fields=any_cron_fields(), zone=ZONES, start=START_TIMES, consumed=st.integers(0, 5))
def test_cron_state_round_trip(
    fields: dict[str, str], zone: str, start: datetime, consumed: int
) -> None:
    tz = ZoneInfo(zone)
    trigger = CronTrigger(**fields, start_time=start, timezone=tz)  # type: ignore[arg-type]
    take(trigger, consumed)
    assert_same_future(trigger)


@SETTINGS
@given(
    seconds=st.integers(1, 10 * 86400),
    microseconds=st.integers(0, 999_999),
    zone=ZONES,
    start=START_TIMES,
    consumed=st.integers(0, 5),
)
def test_interval_state_round_trip(
    seconds: int, microseconds: int, zone: str, start: datetime, consumed: int
) -> None:
    trigger = (
        IntervalTrigger(
            seconds=seconds,
            microseconds=microseconds,
            start_time=start.replace(fold=0),
            timezone=zone,
        )
        if _exists(start, zone)
        else None
    )
    assume(trigger is not None)
    assert trigger is not None
    take(trigger, consumed)
    assert_same_future(trigger)
    instants = [utc(value) for value in take(trigger, 20)]
    interval = timedelta(seconds=seconds, microseconds=microseconds)
    assert all(b - a == interval for a, b in zip(instants, instants[1:]))


@SETTINGS
@given(
    interval=st.tuples(
        st.integers(0, 3), st.integers(0, 14), st.integers(0, 3), st.integers(0, 40)
    ).filter(any),
    time_of_day=st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
    zone=ZONES,
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)),
    consumed=st.integers(0, 5),
)
def test_calendarinterval_state_round_trip(
    interval: tuple[int, int, int, int],
    time_of_day: tuple[int, int, int],
    zone: str,
    start: date,
    consumed: int,
) -> None:
    years, months, weeks, days = interval
    hour, minute, second = time_of_day
    with use_clock(FakeClock(datetime(2030, 6, 1, tzinfo=timezone.utc))):
        trigger = CalendarIntervalTrigger(
            years=years,
            months=months,
            weeks=weeks,
            days=days,
            hour=hour,
            minute=minute,
            second=second,
            start_date=start,
            timezone=zone,
        )
        take(trigger, consumed)
        assert_same_future(trigger)
        fired = take(trigger, 20)
    instants = [utc(value) for value in fired]
    assert instants == sorted(set(instants))
    assert all(value.fold == 0 for value in fired)


def _exists(value: datetime, zone: str) -> bool:
    aware = value.replace(tzinfo=ZoneInfo(zone))
    return utc(aware).astimezone(aware.tzinfo).replace(tzinfo=None) == value
