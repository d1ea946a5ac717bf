"""APScheduler 3 trigger semantics reached through the v3 API (``add_job(..., 'cron')``...),
and what stays v4 (trigger classes imported directly)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler._clock import FakeClock, use_clock
from apscheduler._v3.triggers import build_trigger, position_after, translate_day_of_week
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

UTC = ZoneInfo("UTC")
# 2030-01-06 is a Sunday, 2030-01-07 a Monday
SUNDAY = datetime(2030, 1, 6, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("v3", "names"),
    [
        (0, "mon"),
        (6, "sun"),
        ("0", "mon"),
        ("0-4", "mon,tue,wed,thu,fri"),
        ("*/2", "mon,wed,fri,sun"),
        ("1-5/2", "tue,thu,sat"),
        ("5/1", "sat,sun"),
        ("0,2", "mon,wed"),
        ("mon-fri", "mon-fri"),
        ("sat,0", "sat,mon"),
        ("*", "*"),
    ],
)
def test_v3_weekday_numbers_become_names(v3: int | str, names: str) -> None:
    assert translate_day_of_week(v3) == names


@pytest.mark.parametrize("bad", [7, "7", "3-9", "5-2", "*/0"])
def test_v3_weekday_numbers_out_of_range(bad: int | str) -> None:
    with pytest.raises(ValueError):
        translate_day_of_week(bad)


def test_cron_alias_keeps_v3_monday_zero() -> None:
    with use_clock(FakeClock(SUNDAY)):
        trigger, _ = build_trigger("cron", {"day_of_week": 0, "hour": 9}, UTC)
        first = trigger.get_next_fire_time(None, SUNDAY)  # type: ignore[attr-defined]
    assert first == datetime(2030, 1, 7, 9, tzinfo=UTC)
    assert first.strftime("%A") == "Monday"


def test_cron_class_imported_directly_is_v4_sunday_zero() -> None:
    trigger = CronTrigger(day_of_week=0, hour=9, timezone="UTC", start_time=SUNDAY)
    assert trigger.next().strftime("%A") == "Sunday"  # type: ignore[union-attr]
    crontab = CronTrigger.from_crontab("0 9 * * 1", timezone="UTC", start_time=SUNDAY)
    assert crontab.next().strftime("%A") == "Monday"  # type: ignore[union-attr]


def test_interval_alias_first_fires_after_one_interval() -> None:
    with use_clock(FakeClock(SUNDAY)):
        trigger, jitter = build_trigger("interval", {"minutes": 5}, UTC)
    assert jitter is None
    assert trigger.get_next_fire_time(None, SUNDAY) == SUNDAY + timedelta(minutes=5)  # type: ignore[attr-defined]


def test_interval_alias_of_zero_means_one_second() -> None:
    with use_clock(FakeClock(SUNDAY)):
        trigger, _ = build_trigger("interval", {}, UTC)
    assert isinstance(trigger, IntervalTrigger) and trigger.interval == timedelta(seconds=1)


def test_interval_start_date_aligns_fire_times() -> None:
    trigger, _ = build_trigger("interval", {"hours": 2, "start_date": "2030-01-06 03:00:00"}, UTC)
    assert trigger.get_next_fire_time(None, SUNDAY) == datetime(2030, 1, 6, 13, tzinfo=UTC)  # type: ignore[attr-defined]


def test_date_alias_defaults_to_now_and_takes_run_date() -> None:
    with use_clock(FakeClock(SUNDAY)):
        now_trigger, _ = build_trigger(None, {}, UTC)
    assert isinstance(now_trigger, DateTrigger) and now_trigger.run_time == SUNDAY
    trigger, _ = build_trigger(
        "date", {"run_date": "2030-02-01 10:00:00"}, ZoneInfo("Europe/Helsinki")
    )
    assert trigger.run_time == datetime(2030, 2, 1, 10, tzinfo=ZoneInfo("Europe/Helsinki"))  # type: ignore[attr-defined]


def test_jitter_is_taken_out_of_the_trigger_arguments() -> None:
    trigger, jitter = build_trigger("cron", {"minute": "*/5", "jitter": 30}, UTC)
    assert jitter == 30 and isinstance(trigger, CronTrigger)


def test_end_date_and_timezone() -> None:
    trigger, _ = build_trigger(
        "cron",
        {"hour": 9, "end_date": "2030-01-08", "timezone": "America/New_York"},
        UTC,
    )
    assert trigger.timezone == ZoneInfo("America/New_York")  # type: ignore[attr-defined]
    new_york = ZoneInfo("America/New_York")
    times = [trigger.get_next_fire_time(None, SUNDAY)]  # type: ignore[attr-defined]
    for _ in range(2):
        times.append(trigger.get_next_fire_time(times[-1], times[-1]))  # type: ignore[attr-defined]
    # 12:00 UTC is 07:00 in New York; the end date stops it after Monday
    assert times == [
        datetime(2030, 1, 6, 9, tzinfo=new_york),
        datetime(2030, 1, 7, 9, tzinfo=new_york),
        None,
    ]


def test_trigger_objects_take_no_arguments() -> None:
    with pytest.raises(TypeError, match="trigger arguments"):
        build_trigger(IntervalTrigger(seconds=1), {"minutes": 1}, UTC)
    with pytest.raises(TypeError, match="Invalid arguments"):
        build_trigger("interval", {"fortnights": 1}, UTC)


@pytest.mark.parametrize(
    "trigger",
    [
        IntervalTrigger(minutes=10, start_time=SUNDAY),
        CronTrigger(minute="*/10", timezone="UTC", start_time=SUNDAY),
    ],
)
def test_position_after_continues_after_the_given_time(trigger: object) -> None:
    moment = SUNDAY + timedelta(minutes=30)
    positioned = position_after(trigger, moment)  # type: ignore[arg-type]
    assert positioned.next() == SUNDAY + timedelta(minutes=40)
    assert trigger.next() == SUNDAY  # type: ignore[attr-defined]  # the original is unchanged


def test_position_after_for_combining_and_date_triggers() -> None:
    from apscheduler.triggers.combining import OrTrigger

    combined = OrTrigger(
        CronTrigger(hour=3, timezone="UTC", start_time=SUNDAY),
        CronTrigger(hour=15, timezone="UTC", start_time=SUNDAY),
    )
    positioned = position_after(combined, datetime(2030, 1, 6, 15, tzinfo=UTC))
    assert positioned.next() == datetime(2030, 1, 7, 3, tzinfo=UTC)
    date_trigger = DateTrigger(SUNDAY)
    assert position_after(date_trigger, SUNDAY).next() is None
    assert position_after(date_trigger, SUNDAY - timedelta(seconds=1)).next() == SUNDAY


@pytest.mark.anyio
async def test_add_job_cron_numeric_weekday_through_the_scheduler() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from . import jobfuncs

    with use_clock(FakeClock(SUNDAY)):
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        job = scheduler.add_job(jobfuncs.noop, "cron", day_of_week="0", hour=9)
        assert job.next_run_time == datetime(2030, 1, 7, 9, tzinfo=UTC)  # Monday, as in v3
        job = scheduler.reschedule_job(job.id, trigger="cron", day_of_week="6", hour=9)
        # v3: 6 is Sunday; the Sunday of this week has passed its 09:00, so next week's
        assert job.next_run_time == datetime(2030, 1, 13, 9, tzinfo=UTC)
        await scheduler.shutdown()
