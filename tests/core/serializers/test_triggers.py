"""Triggers are stored by registered name + state, so third-party triggers round-trip
through JSON and CBOR without pickle, and only registered trigger classes are ever
created from stored data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from apscheduler import DeserializationError, SerializationError
from apscheduler._registry import register_plugin, unregister_plugin
from apscheduler.abc import Serializer, Trigger
from apscheduler.hookspecs import hookimpl
from apscheduler.serializers import JSONSerializer
from apscheduler.serializers._tagging import TAG
from apscheduler_sample_plugin.trigger import EveryOtherSecondTrigger

from .helpers import encode_tree

START = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


def round_trip(serializer: Serializer, trigger: Trigger) -> Trigger:
    restored = serializer.deserialize(serializer.serialize(trigger))
    assert type(restored) is type(trigger)
    assert restored.__getstate__() == trigger.__getstate__()
    return restored


def test_third_party_trigger_round_trips(serializer: Serializer) -> None:
    trigger = EveryOtherSecondTrigger(START)
    trigger.next()  # progress is part of the state
    restored = round_trip(serializer, trigger)
    assert restored.next() == START + timedelta(seconds=2)


def test_trigger_is_stored_by_its_registered_name() -> None:
    document = json.loads(JSONSerializer().serialize(EveryOtherSecondTrigger(START)))
    assert document == {
        TAG: "trigger",
        "name": "every-other-second",
        "state": {"version": 1, "next_time": "2024-01-01T09:00:00+00:00"},
    }


def test_trigger_inside_arguments(serializer: Serializer) -> None:
    value = {"triggers": (EveryOtherSecondTrigger(START), EveryOtherSecondTrigger(START))}
    restored = serializer.deserialize(serializer.serialize(value))
    assert [type(t) for t in restored["triggers"]] == [EveryOtherSecondTrigger] * 2


def _builtin_triggers() -> list[Trigger]:
    pytest.importorskip("apscheduler.triggers.cron")
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    return [
        CronTrigger(hour=9, minute=30, timezone="Europe/Helsinki", start_time=START),
        IntervalTrigger(minutes=5, start_time=START),
        DateTrigger(START),
        OrTrigger([IntervalTrigger(hours=1, start_time=START), DateTrigger(START)]),
    ]


@pytest.mark.parametrize("index", range(4), ids=["cron", "interval", "date", "or"])
def test_builtin_trigger_round_trips(serializer: Serializer, index: int) -> None:
    trigger = _builtin_triggers()[index]
    first = trigger.next()
    restored = round_trip(serializer, trigger)
    assert first is not None
    # the restored trigger continues where the original left off
    assert restored.preview(3) == trigger.preview(3)


def test_unregistered_trigger_is_refused_with_the_fix(safe_serializer: Serializer) -> None:
    class PrivateTrigger(EveryOtherSecondTrigger):
        pass

    with pytest.raises(SerializationError) as exc_info:
        safe_serializer.serialize((PrivateTrigger(START),))
    message = str(exc_info.value)
    assert "'PrivateTrigger'" in message
    assert "register_triggers" in message
    assert type(safe_serializer).__name__ in message


def test_unknown_trigger_name_on_read(safe_serializer: Serializer) -> None:
    tree = {TAG: "trigger", "name": "every-other-secnd", "state": {}}
    with pytest.raises(DeserializationError, match="Did you mean 'every-other-second'"):
        safe_serializer.deserialize(encode_tree(safe_serializer, tree))


class _RegistersAFunctionAsATrigger:
    @hookimpl
    def register_triggers(self, register: Any) -> None:
        register("not-a-trigger", "os:system")


@pytest.fixture
def bogus_registration() -> Iterator[None]:
    name = register_plugin(_RegistersAFunctionAsATrigger(), "bogus-trigger-plugin")
    yield
    unregister_plugin(name)


@pytest.mark.usefixtures("bogus_registration")
def test_registered_name_must_resolve_to_a_trigger_class(
    safe_serializer: Serializer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("os.system", lambda *args: calls.append(args))
    tree = {TAG: "trigger", "name": "not-a-trigger", "state": "echo pwned"}
    with pytest.raises(DeserializationError, match="not a Trigger subclass"):
        safe_serializer.deserialize(encode_tree(safe_serializer, tree))
    assert calls == []
