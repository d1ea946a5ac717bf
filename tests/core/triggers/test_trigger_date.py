from __future__ import annotations

import copy
import pickle
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler import DeserializationError
from apscheduler.triggers.date import DateTrigger

from .helpers import BERLIN, UTC, assert_same_future, json_round_trip


def test_fires_once() -> None:
    run_time = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    trigger = DateTrigger(run_time)
    assert trigger.next() == run_time
    assert trigger.next() is None
    assert trigger.next() is None


def test_keyword_and_v3_alias() -> None:
    run_time = datetime(2030, 5, 6, tzinfo=UTC)
    assert DateTrigger(run_time=run_time).next() == run_time
    assert DateTrigger(run_date=run_time).next() == run_time


def test_both_names_rejected() -> None:
    with pytest.raises(TypeError, match="run_date"):
        DateTrigger(datetime(2030, 1, 1, tzinfo=UTC), run_date=datetime(2030, 1, 1, tzinfo=UTC))


def test_missing_run_time() -> None:
    with pytest.raises(TypeError, match="run_time"):
        DateTrigger()


def test_unknown_keyword() -> None:
    with pytest.raises(TypeError):
        DateTrigger(datetime(2030, 1, 1, tzinfo=UTC), jitter=5)  # type: ignore[call-arg]


def test_naive_uses_timezone() -> None:
    trigger = DateTrigger(datetime(2030, 7, 1, 12), timezone="Europe/Berlin")
    assert trigger.run_time == datetime(2030, 7, 1, 10, tzinfo=timezone.utc)
    assert trigger.run_time.tzinfo == BERLIN


def test_naive_defaults_to_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import apscheduler._converters as converters

    monkeypatch.setattr(converters, "local_timezone", lambda: ZoneInfo("Asia/Tokyo"))
    trigger = DateTrigger(datetime(2030, 7, 1, 12))
    assert trigger.run_time.utcoffset() == timedelta(hours=9)


def test_aware_keeps_its_zone() -> None:
    run_time = datetime(2030, 7, 1, 12, tzinfo=ZoneInfo("America/New_York"))
    trigger = DateTrigger(run_time, timezone="Europe/Berlin")
    assert trigger.run_time is run_time


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2030-07-01T12:00:00+02:00", datetime(2030, 7, 1, 10, tzinfo=UTC)),
        ("2030-07-01T10:00:00Z", datetime(2030, 7, 1, 10, tzinfo=UTC)),
        ("2030-07-01 12:00", datetime(2030, 7, 1, 10, tzinfo=UTC)),
        ("2030-07-01", datetime(2030, 6, 30, 22, tzinfo=UTC)),
    ],
)
def test_iso_strings(text: str, expected: datetime) -> None:
    assert DateTrigger(text, timezone="Europe/Berlin").next() == expected


def test_date_means_midnight() -> None:
    trigger = DateTrigger(date(2030, 7, 1), timezone="UTC")
    assert trigger.next() == datetime(2030, 7, 1, tzinfo=UTC)


def test_invalid_string() -> None:
    with pytest.raises(ValueError, match="run_time: 'tomorrow' is not a valid ISO 8601"):
        DateTrigger("tomorrow")


def test_invalid_type() -> None:
    with pytest.raises(TypeError, match="run_time must be"):
        DateTrigger(12345)  # type: ignore[arg-type]


def test_nonexistent_naive_time() -> None:
    with pytest.raises(ValueError, match="does not exist in time zone Europe/Berlin"):
        DateTrigger(datetime(2030, 3, 31, 2, 30), timezone="Europe/Berlin")


def test_ambiguous_naive_time_uses_first_occurrence() -> None:
    trigger = DateTrigger(datetime(2030, 10, 27, 2, 30), timezone="Europe/Berlin")
    assert trigger.run_time.utcoffset() == timedelta(hours=2)


def test_state_round_trip() -> None:
    trigger = DateTrigger(datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=BERLIN))
    state = trigger.__getstate__()
    assert state == {
        "version": 1,
        "run_time": "2030-10-27T02:30:00+01:00",
        "timezone": "Europe/Berlin",
        "completed": False,
    }
    restored = json_round_trip(trigger)
    assert isinstance(restored, DateTrigger)
    assert restored.run_time.tzinfo == BERLIN
    assert restored.run_time.fold == 1
    assert_same_future(trigger)


def test_state_round_trip_after_firing() -> None:
    trigger = DateTrigger(datetime(2030, 1, 1, tzinfo=UTC))
    trigger.next()
    assert json_round_trip(trigger).next() is None


def test_state_with_fixed_offset() -> None:
    tz = timezone(timedelta(hours=5, minutes=30))
    trigger = DateTrigger(datetime(2030, 1, 1, tzinfo=tz))
    assert trigger.__getstate__()["timezone"] == "+05:30"
    restored = json_round_trip(trigger)
    assert restored.next() == datetime(2030, 1, 1, tzinfo=tz)


@pytest.mark.parametrize(
    "state, match",
    [
        ({"run_time": "2030-01-01T00:00:00+00:00", "completed": False}, "version"),
        ({"version": 2, "run_time": "2030-01-01T00:00:00+00:00", "completed": False}, "2"),
        ({"version": 1, "completed": False}, "run_time"),
        ({"version": 1, "run_time": "garbage", "completed": False}, "Invalid state"),
        ({"version": 1, "run_time": "2030-01-01T00:00:00", "completed": False}, "aware"),
        ("not a dict", "must be a dict"),
    ],
)
def test_bad_state(state: object, match: str) -> None:
    trigger = DateTrigger.__new__(DateTrigger)
    with pytest.raises(DeserializationError, match=match):
        trigger.__setstate__(state)


def test_preview_and_copy() -> None:
    trigger = DateTrigger(datetime(2030, 1, 1, tzinfo=UTC))
    assert trigger.preview(5) == [datetime(2030, 1, 1, tzinfo=UTC)]
    assert trigger.preview() == trigger.preview()
    clone = copy.deepcopy(trigger)
    assert clone.next() == trigger.next()
    assert pickle.loads(pickle.dumps(trigger)).next() is None


def test_iteration() -> None:
    assert list(DateTrigger(datetime(2030, 1, 1, tzinfo=UTC))) == [
        datetime(2030, 1, 1, tzinfo=UTC)
    ]


def test_repr() -> None:
    trigger = DateTrigger(datetime(2030, 1, 1, 8, tzinfo=BERLIN))
    assert repr(trigger) == "DateTrigger(run_time='2030-01-01 08:00:00+01:00')"


def test_get_next_fire_time_v3() -> None:
    run_time = datetime(2030, 1, 1, tzinfo=UTC)
    trigger = DateTrigger(run_time)
    later = run_time + timedelta(days=1)
    assert trigger.get_next_fire_time(None, later) == run_time  # past: caller decides
    assert trigger.get_next_fire_time(run_time, later) is None


def test_v3_attribute_alias() -> None:
    trigger = DateTrigger(run_date="2030-01-01T00:00:00Z")
    assert trigger.run_date == trigger.run_time


def test_pytz_localized_run_time_becomes_zoneinfo_at_the_same_instant() -> None:
    """APScheduler 3 users pass ``pytz`` datetimes; the trigger keeps the instant and
    the zone's name, but not pytz's incompatible ``localize`` protocol."""
    pytz = pytest.importorskip("pytz")
    helsinki = pytz.timezone("Europe/Helsinki")
    run_time = helsinki.localize(datetime(2027, 7, 1, 9, 30))
    trigger = DateTrigger(run_time)
    assert trigger.run_time == run_time
    assert trigger.run_time.tzinfo == ZoneInfo("Europe/Helsinki")
    assert trigger.run_time.utcoffset() == timedelta(hours=3)
    assert trigger.next() == run_time
