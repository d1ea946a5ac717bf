from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime, timedelta
from typing import Any

import apscheduler._registry as registry_module
import pytest
from apscheduler import DeserializationError, MaxIterationsReached, SerializationError
from apscheduler.abc import Trigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import AndTrigger, OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .helpers import BERLIN, UTC, assert_same_future, json_round_trip, take

START = datetime(2030, 1, 1, tzinfo=UTC)


class ListTrigger(Trigger):
    """A trigger that nobody registered: fires at the given times."""

    def __init__(self, *times: datetime):
        self.times = list(times)

    def next(self) -> datetime | None:
        return self.times.pop(0) if self.times else None

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "times": [value.isoformat() for value in self.times]}

    def __setstate__(self, state: Any) -> None:
        self.times = [datetime.fromisoformat(value) for value in state["times"]]


class StubRegistry:
    """Only knows ``ListTrigger`` (as "list") and the built-in cron trigger."""

    names = {"list": ListTrigger, "cron": CronTrigger}

    def name_of(self, kind: str, cls: type) -> str:
        assert kind == "trigger"
        for name, registered in self.names.items():
            if registered is cls:
                return name
        raise LookupError(f"{cls.__qualname__} is not registered")

    def resolve(self, kind: str, name: str) -> type:
        assert kind == "trigger"
        try:
            return self.names[name]
        except KeyError:
            raise LookupError(f"Unknown trigger {name!r}") from None


@pytest.fixture
def stub_registry(monkeypatch: pytest.MonkeyPatch) -> StubRegistry:
    stub = StubRegistry()
    monkeypatch.setattr(registry_module, "get_registry", lambda: stub)
    return stub


def minutes(*values: int) -> list[datetime]:
    return [START + timedelta(minutes=value) for value in values]


# Construction


@pytest.mark.parametrize("cls", [AndTrigger, OrTrigger])
def test_varargs_and_list_forms(cls: type[Any]) -> None:
    first, second = DateTrigger(START), DateTrigger(START)
    assert cls(first, second).triggers == [first, second]
    assert cls([first, second]).triggers == [first, second]
    assert cls((first, second)).triggers == [first, second]
    assert cls(first).triggers == [first]


@pytest.mark.parametrize("cls", [AndTrigger, OrTrigger])
def test_rejects_non_triggers(cls: type[Any]) -> None:
    with pytest.raises(TypeError, match="takes triggers"):
        cls(DateTrigger(START), "cron")
    with pytest.raises(TypeError, match="takes triggers"):
        cls([DateTrigger(START), 5])


@pytest.mark.parametrize("cls", [AndTrigger, OrTrigger])
def test_rejects_empty(cls: type[Any]) -> None:
    with pytest.raises(ValueError, match="at least one trigger"):
        cls()
    with pytest.raises(ValueError, match="at least one trigger"):
        cls([])


def test_and_options_are_keyword_only() -> None:
    first, second = DateTrigger(START), DateTrigger(START)
    trigger = AndTrigger(first, second, threshold=timedelta(seconds=5), max_iterations=3)
    assert trigger.triggers == [first, second]
    assert trigger.threshold == timedelta(seconds=5)
    assert AndTrigger(first, threshold=2.5).threshold == timedelta(seconds=2.5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"threshold": -1}, ValueError, "threshold cannot be negative"),
        ({"threshold": "1"}, TypeError, "threshold must be"),
        ({"max_iterations": 0}, ValueError, "at least 1"),
        ({"max_iterations": 1.5}, TypeError, "must be an integer"),
    ],
)
def test_and_invalid_options(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        AndTrigger(DateTrigger(START), **kwargs)


# OrTrigger


def test_or_merges_in_order() -> None:
    trigger = OrTrigger(
        IntervalTrigger(minutes=10, start_time=START),
        IntervalTrigger(minutes=15, start_time=START),
    )
    assert take(trigger, 7) == minutes(0, 10, 15, 20, 30, 40, 45)


def test_or_finishes_when_all_children_finish() -> None:
    trigger = OrTrigger([DateTrigger(START + timedelta(hours=1)), DateTrigger(START)])
    assert take(trigger, 5) == [START, START + timedelta(hours=1)]
    assert trigger.next() is None


def test_or_mixed_zones_compare_instants() -> None:
    berlin = CronTrigger(hour=1, start_time=START, timezone="Europe/Berlin")  # 00:00 UTC
    utc = CronTrigger(hour=0, minute=30, start_time=START, timezone="UTC")
    fired = take(OrTrigger(berlin, utc), 4)
    assert [value.astimezone(UTC).strftime("%d %H:%M") for value in fired] == [
        "01 00:00",
        "01 00:30",
        "02 00:00",
        "02 00:30",
    ]


def test_or_same_instant_from_different_zones_fires_once() -> None:
    trigger = OrTrigger(
        CronTrigger(hour=1, start_time=START, timezone="Europe/Berlin"),
        CronTrigger(hour=0, start_time=START, timezone="UTC"),
    )
    fired = take(trigger, 3)
    assert len({value.astimezone(UTC) for value in fired}) == 3


# AndTrigger


def test_and_intersection() -> None:
    trigger = AndTrigger(
        IntervalTrigger(minutes=10, start_time=START),
        IntervalTrigger(minutes=15, start_time=START),
        threshold=0,
    )
    assert take(trigger, 3) == minutes(0, 30, 60)


def test_and_cron_and_calendar() -> None:
    # Mondays at 09:00 that are also the 1st of the month
    trigger = AndTrigger(
        CronTrigger(day_of_week="mon", hour=9, start_time=START, timezone="UTC"),
        CronTrigger(day=1, hour=9, start_time=START, timezone="UTC"),
    )
    assert [value.date().isoformat() for value in take(trigger, 3)] == [
        "2030-04-01",
        "2030-07-01",
        "2031-09-01",
    ]


def test_and_threshold_returns_earliest() -> None:
    trigger = AndTrigger(
        IntervalTrigger(minutes=10, start_time=START + timedelta(seconds=30)),
        IntervalTrigger(minutes=10, start_time=START),
        threshold=60,
    )
    assert take(trigger, 2) == [START, START + timedelta(minutes=10)]


def test_and_threshold_window_not_anchored_to_earliest() -> None:
    # A: 10:00, 10:01; B: 10:00:50; C: 10:01:10. With a 60 s threshold, {10:01, 10:00:50,
    # 10:01:10} agree even though A's first time does not.
    a = ListTrigger(START, START + timedelta(minutes=1))
    b = ListTrigger(START + timedelta(seconds=50))
    c = ListTrigger(START + timedelta(seconds=70))
    trigger = AndTrigger(a, b, c, threshold=60)
    assert trigger.next() == START + timedelta(seconds=50)


def test_and_finishes_when_any_child_finishes() -> None:
    trigger = AndTrigger(
        IntervalTrigger(minutes=1, start_time=START),
        IntervalTrigger(minutes=1, start_time=START, end_time=START + timedelta(minutes=1)),
    )
    assert take(trigger, 5) == minutes(0, 1)
    assert trigger.next() is None


def test_and_max_iterations() -> None:
    trigger = AndTrigger(
        IntervalTrigger(minutes=2, start_time=START),
        IntervalTrigger(minutes=2, start_time=START + timedelta(minutes=1)),
        threshold=0,
        max_iterations=50,
    )
    with pytest.raises(MaxIterationsReached, match="50 iterations"):
        trigger.next()


def test_and_returns_strictly_increasing() -> None:
    trigger = AndTrigger(
        IntervalTrigger(seconds=20, start_time=START),
        IntervalTrigger(seconds=30, start_time=START + timedelta(seconds=1)),
        threshold=5,
    )
    fired = take(trigger, 50)
    assert fired == sorted(set(fired))


# State


def test_or_state_uses_registered_names() -> None:
    trigger = OrTrigger(
        CronTrigger(hour=9, start_time=START, timezone="Europe/Berlin"),
        IntervalTrigger(hours=5, start_time=START),
        DateTrigger(START),
        CalendarIntervalTrigger(days=1, start_date="2030-01-01", timezone="UTC"),
    )
    state = trigger.__getstate__()
    assert [child["trigger"] for child in state["triggers"]] == [
        "cron",
        "interval",
        "date",
        "calendarinterval",
    ]
    assert state["next_fire_times"] == []
    json.dumps(state)


def test_or_state_round_trip_mid_way() -> None:
    trigger = OrTrigger(
        CronTrigger(minute="*/7", start_time=START, timezone="Europe/Berlin"),
        IntervalTrigger(minutes=5, start_time=START),
    )
    take(trigger, 5)
    restored = json_round_trip(trigger)
    assert isinstance(restored, OrTrigger)
    assert restored._next_fire_times[0].tzinfo == BERLIN  # type: ignore[union-attr]
    assert_same_future(trigger, 30)


def test_and_state_round_trip() -> None:
    trigger = AndTrigger(
        IntervalTrigger(minutes=10, start_time=START),
        CronTrigger(minute="*/15", start_time=START, timezone="UTC"),
        threshold=0,
        max_iterations=500,
    )
    take(trigger, 2)
    state = trigger.__getstate__()
    assert state["threshold"] == 0
    assert state["max_iterations"] == 500
    restored = json_round_trip(trigger)
    assert isinstance(restored, AndTrigger) and restored.max_iterations == 500
    assert_same_future(trigger, 10)


def test_nested_combining_round_trip() -> None:
    trigger = OrTrigger(
        AndTrigger(
            IntervalTrigger(minutes=10, start_time=START),
            CronTrigger(minute="*/15", start_time=START, timezone="UTC"),
        ),
        DateTrigger(START + timedelta(minutes=1)),
    )
    take(trigger, 2)
    state = trigger.__getstate__()
    assert state["triggers"][0]["trigger"] == "and"
    assert_same_future(trigger, 10)


def test_unregistered_child_cannot_be_serialized(stub_registry: StubRegistry) -> None:
    trigger = OrTrigger(IntervalTrigger(minutes=1, start_time=START))
    with pytest.raises(SerializationError, match="IntervalTrigger .* not registered"):
        trigger.__getstate__()


def test_custom_registered_child(stub_registry: StubRegistry) -> None:
    trigger = OrTrigger(ListTrigger(START, START + timedelta(hours=1)))
    state = json.loads(json.dumps(trigger.__getstate__()))
    assert state["triggers"][0]["trigger"] == "list"
    restored = OrTrigger.__new__(OrTrigger)
    restored.__setstate__(state)
    assert isinstance(restored.triggers[0], ListTrigger)
    assert take(restored, 3) == [START, START + timedelta(hours=1)]


@pytest.mark.parametrize(
    "children, match",
    [
        ([{"trigger": "nope", "state": {}}], "Unknown trigger 'nope'"),
        ([{"state": {}}], "Invalid child trigger"),
        (["cron"], "Invalid child trigger"),
        ([], "non-empty list"),
        ("cron", "non-empty list"),
    ],
)
def test_bad_child_state(stub_registry: StubRegistry, children: Any, match: str) -> None:
    with pytest.raises(DeserializationError, match=match):
        OrTrigger.__new__(OrTrigger).__setstate__(
            {"version": 1, "triggers": children, "next_fire_times": []}
        )


def test_bad_next_fire_times() -> None:
    state = OrTrigger(DateTrigger(START)).__getstate__()
    state["next_fire_times"] = ["2030-01-01T00:00:00+00:00", None]
    with pytest.raises(DeserializationError, match="one entry per trigger"):
        OrTrigger.__new__(OrTrigger).__setstate__(state)


def test_bad_version() -> None:
    state = OrTrigger(DateTrigger(START)).__getstate__()
    state["version"] = 2
    with pytest.raises(DeserializationError, match="version 2"):
        OrTrigger.__new__(OrTrigger).__setstate__(state)


def test_copy_and_pickle_do_not_need_registration(stub_registry: StubRegistry) -> None:
    trigger = AndTrigger(
        IntervalTrigger(minutes=10, start_time=START),
        IntervalTrigger(minutes=15, start_time=START),
    )
    assert trigger.preview(2) == minutes(0, 30)
    assert take(copy.deepcopy(trigger), 2) == minutes(0, 30)
    assert take(pickle.loads(pickle.dumps(trigger)), 2) == minutes(0, 30)
    assert take(trigger, 2) == minutes(0, 30)


def test_repr() -> None:
    date_trigger = DateTrigger(START)
    assert repr(OrTrigger(date_trigger)) == f"OrTrigger([{date_trigger!r}])"
    assert repr(AndTrigger(date_trigger, threshold=2)) == (
        f"AndTrigger([{date_trigger!r}], threshold=2.0, max_iterations=10000)"
    )


# APScheduler 3 style


def test_get_next_fire_time_v3() -> None:
    or_trigger = OrTrigger(
        IntervalTrigger(minutes=10, start_time=START),
        IntervalTrigger(minutes=15, start_time=START),
    )
    and_trigger = AndTrigger(
        IntervalTrigger(minutes=10, start_time=START),
        IntervalTrigger(minutes=15, start_time=START),
    )
    now = START + timedelta(minutes=1)
    assert or_trigger.get_next_fire_time(None, now) == START + timedelta(minutes=10)
    assert or_trigger.get_next_fire_time(START + timedelta(minutes=10), now) == minutes(15)[0]
    assert and_trigger.get_next_fire_time(None, now) == minutes(30)[0]
    assert and_trigger.get_next_fire_time(minutes(30)[0], now) == minutes(60)[0]
    # stateless
    assert take(or_trigger, 1) == [START]


def test_get_next_fire_time_v3_needs_support() -> None:
    trigger = OrTrigger(ListTrigger(START))
    with pytest.raises(TypeError, match="no get_next_fire_time"):
        trigger.get_next_fire_time(None, START)


def test_child_state_errors_become_deserialization_errors(stub_registry: StubRegistry) -> None:
    state = {
        "version": 1,
        "triggers": [{"trigger": "list", "state": {"no times": []}}],
        "next_fire_times": [],
    }
    with pytest.raises(DeserializationError, match="Invalid state for the trigger 'list'"):
        OrTrigger.__new__(OrTrigger).__setstate__(state)
