"""The built-in triggers (and the kit's own) against the trigger conformance kit.

The ``trigger`` fixtures run under the kit's fake clock (2030-01-01 UTC), so triggers
that start "now" are deterministic.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.abc import Trigger
from apscheduler.testing import FixedTimesTrigger, TriggerTests
from apscheduler.testing._kit_trigger import ensure_kit_trigger_registered

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _trigger_class(module: str, name: str) -> type[Trigger]:
    return getattr(pytest.importorskip(module), name)  # type: ignore[no-any-return]


class TestDateTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        cls = _trigger_class("apscheduler.triggers.date", "DateTrigger")
        return cls(START + timedelta(hours=1))


class TestIntervalTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        cls = _trigger_class("apscheduler.triggers.interval", "IntervalTrigger")
        return cls(minutes=90, start_time=START, end_time=START + timedelta(days=2))


class TestIntervalTriggerInDSTZone(TriggerTests):
    """Across a DST change: elapsed time, so the fire times stay strictly increasing."""

    @pytest.fixture
    def trigger(self) -> Trigger:
        cls = _trigger_class("apscheduler.triggers.interval", "IntervalTrigger")
        return cls(hours=1, start_time="2030-03-31T00:30:00", timezone="Europe/Helsinki")


class TestCalendarIntervalTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        cls = _trigger_class("apscheduler.triggers.calendarinterval", "CalendarIntervalTrigger")
        return cls(months=1, hour=3, minute=30, start_date="2030-01-31", timezone="Europe/Berlin")


class TestCronTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        cls = _trigger_class("apscheduler.triggers.cron", "CronTrigger")
        return cls(day_of_week="mon-fri", hour="9,17", minute=15, timezone="America/New_York")


class TestAndTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        and_cls = _trigger_class("apscheduler.triggers.combining", "AndTrigger")
        interval = _trigger_class("apscheduler.triggers.interval", "IntervalTrigger")
        cron = _trigger_class("apscheduler.triggers.cron", "CronTrigger")
        return and_cls(
            [interval(hours=6, start_time=START), cron(hour="0,12", timezone="UTC")]
        )


class TestOrTrigger(TriggerTests):
    @pytest.fixture
    def trigger(self) -> Trigger:
        or_cls = _trigger_class("apscheduler.triggers.combining", "OrTrigger")
        date = _trigger_class("apscheduler.triggers.date", "DateTrigger")
        interval = _trigger_class("apscheduler.triggers.interval", "IntervalTrigger")
        return or_cls(
            date(START + timedelta(minutes=45)),
            interval(hours=1, start_time=START, end_time=START + timedelta(hours=5)),
        )


class TestFixedTimesTrigger(TriggerTests):
    """The kit's own trigger keeps the contract it checks."""

    @pytest.fixture
    def trigger(self) -> Trigger:
        ensure_kit_trigger_registered()
        return FixedTimesTrigger(*(START + timedelta(minutes=i) for i in range(5)))
