"""Helpers shared by the trigger tests."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.abc import Trigger

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
HELSINKI = ZoneInfo("Europe/Helsinki")
NEW_YORK = ZoneInfo("America/New_York")

#: The instant the fake clock starts at in these tests.
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)


def utc(value: datetime) -> datetime:
    """The UTC instant of an aware datetime (comparisons that respect ``fold``)."""
    return value.astimezone(timezone.utc)


def take(trigger: Trigger, count: int) -> list[datetime]:
    """Advance ``trigger`` up to ``count`` times."""
    result = []
    for _ in range(count):
        value = trigger.next()
        if value is None:
            break
        result.append(value)
    return result


def json_round_trip(trigger: Trigger) -> Trigger:
    """Rebuild a trigger from its state after a trip through JSON."""
    state: Any = json.loads(json.dumps(trigger.__getstate__()))
    clone = type(trigger).__new__(type(trigger))
    clone.__setstate__(state)
    return clone


def assert_same_future(trigger: Trigger, count: int = 20) -> None:
    """The trigger, its deep copy and its JSON round trip produce the same fire times."""
    copied = copy.deepcopy(trigger)
    restored = json_round_trip(trigger)
    expected = take(trigger, count)
    assert take(copied, count) == expected
    actual = take(restored, count)
    assert [utc(value) for value in actual] == [utc(value) for value in expected]
    assert [value.utcoffset() for value in actual] == [value.utcoffset() for value in expected]
