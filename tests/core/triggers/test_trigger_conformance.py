"""The built-in triggers pass the trigger conformance kit (``apscheduler.testing``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.abc import Trigger
from apscheduler.testing.trigger import KIT_NOW, TriggerTests
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import AndTrigger, OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger


class TestDateTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return DateTrigger(KIT_NOW + timedelta(hours=1))


class TestIntervalTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return IntervalTrigger(minutes=7, timezone="Europe/Berlin")


class TestIntervalTriggerWithEnd(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return IntervalTrigger(hours=1, end_time=KIT_NOW + timedelta(hours=5), timezone="UTC")


class TestCalendarIntervalTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return CalendarIntervalTrigger(months=1, hour=9, start_date="2029-01-31", timezone="UTC")


class TestCronTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return CronTrigger.from_crontab("*/5 9-17 * * mon-fri", timezone="Europe/Helsinki")


class TestCronTriggerWithEnd(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return CronTrigger(
            day="L", end_time=datetime(2030, 6, 30, tzinfo=timezone.utc), timezone="UTC"
        )


class TestOrTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return OrTrigger(
            CronTrigger(hour="*/3", timezone="Europe/Berlin"),
            IntervalTrigger(minutes=50, timezone="UTC"),
            DateTrigger(KIT_NOW + timedelta(minutes=1)),
        )


class TestAndTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        return AndTrigger(
            IntervalTrigger(minutes=10, timezone="UTC"),
            CronTrigger(minute="*/15", hour="*", timezone="UTC"),
            threshold=0,
        )
