"""Conformance tests for :class:`apscheduler.abc.Trigger` implementations.

Subclass :class:`TriggerTests` and provide a ``trigger`` fixture returning a new trigger
that fires at least once. The fixture runs with a :class:`~apscheduler._clock.FakeClock`
installed (at :data:`KIT_NOW`; request the ``trigger_clock`` fixture to get it), so
triggers that default their start to "now" are deterministic.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar

import pytest

from .._clock import FakeClock, use_clock
from ..abc import Trigger

#: The fake "now" installed while the ``trigger`` fixture and the tests run.
KIT_NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _json_default(value: Any) -> Any:
    """Accept what the Trigger contract allows beyond JSON: aware datetimes, dates,
    timedeltas."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError(f"naive datetime in trigger state: {value!r}")
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__qualname__} is not allowed in trigger state: {value!r}")


class TriggerTests:
    """Conformance tests of a trigger. See the module docstring and
    ``docs/plugins/conformance-kit.md``.

    Fixture the subclass provides: ``trigger`` (a new instance that fires at least once).

    Class attributes:

    * ``fire_time_count``: how many fire times the tests draw at most.
    * ``check_registration``: the trigger class must be registered by a plugin (needed to
      store it by name in a persistent data store).
    * ``check_json_round_trip``: the trigger must survive the JSON serializer.
    """

    fire_time_count: ClassVar[int] = 20
    check_registration: ClassVar[bool] = True
    check_json_round_trip: ClassVar[bool] = True

    @pytest.fixture(autouse=True)
    def trigger_clock(self) -> Iterator[FakeClock]:
        clock = FakeClock(KIT_NOW)
        with use_clock(clock):
            yield clock

    def _draw(self, trigger: Trigger, count: int | None = None) -> list[datetime]:
        values: list[datetime] = []
        for _ in range(self.fire_time_count if count is None else count):
            value = trigger.next()
            if value is None:
                break
            values.append(value)
        return values

    @staticmethod
    def _restore(trigger: Trigger, state: Any) -> Trigger:
        clone = type(trigger).__new__(type(trigger))
        clone.__setstate__(state)
        return clone

    def test_is_a_trigger(self, trigger: Trigger) -> None:
        assert isinstance(trigger, Trigger)

    def test_fire_times_aware_and_strictly_increasing(self, trigger: Trigger) -> None:
        values = self._draw(trigger)
        assert values, "the trigger fixture must fire at least once"
        for value in values:
            assert isinstance(value, datetime)
            assert value.tzinfo is not None and value.utcoffset() is not None, value
        for earlier, later in zip(values, values[1:]):
            # compare instants: Python ignores ``fold`` between datetimes of one zone
            assert later.astimezone(timezone.utc) > earlier.astimezone(timezone.utc), (
                f"{later} does not come after {earlier}"
            )

    def test_stays_exhausted(self, trigger: Trigger) -> None:
        values = self._draw(trigger)
        if len(values) == self.fire_time_count:
            pytest.skip(f"the trigger did not end within {self.fire_time_count} fire times")
        assert trigger.next() is None
        assert trigger.next() is None

    def test_iterator_protocol(self, trigger: Trigger) -> None:
        expected = self._draw(copy.deepcopy(trigger), 3)
        assert iter(trigger) is trigger
        assert [next(trigger) for _ in expected] == expected

    def test_state_round_trip_before_firing(self, trigger: Trigger) -> None:
        clone = self._restore(trigger, trigger.__getstate__())
        assert self._draw(clone) == self._draw(trigger)

    def test_state_round_trip_continues_identically(self, trigger: Trigger) -> None:
        self._draw(trigger, 2)
        clone = self._restore(trigger, copy.deepcopy(trigger.__getstate__()))
        assert self._draw(clone) == self._draw(trigger)

    def test_state_is_json_compatible(self, trigger: Trigger) -> None:
        """The state holds only JSON values plus aware datetimes, dates and timedeltas,
        before and after firing."""
        json.dumps(trigger.__getstate__(), default=_json_default)
        self._draw(trigger, 3)
        json.dumps(trigger.__getstate__(), default=_json_default)

    def test_preview_does_not_consume(self, trigger: Trigger) -> None:
        preview = trigger.preview(5)
        assert preview, "the trigger fixture must fire at least once"
        assert trigger.preview(5) == preview
        assert self._draw(trigger, 5) == preview

    def test_deepcopy_is_independent(self, trigger: Trigger) -> None:
        clone = copy.deepcopy(trigger)
        first = self._draw(clone, 3)
        assert self._draw(trigger, 3) == first

    def test_registered_by_name(self, trigger: Trigger) -> None:
        if not self.check_registration:
            pytest.skip("check_registration is False")
        from .._registry import get_registry

        registry = get_registry()
        name = registry.name_of("trigger", type(trigger))
        assert registry.resolve("trigger", name) is type(trigger)

    def test_json_serializer_round_trip(self, trigger: Trigger) -> None:
        if not self.check_json_round_trip:
            pytest.skip("check_json_round_trip is False")
        serializers = pytest.importorskip("apscheduler.serializers.json")
        serializer = serializers.JSONSerializer()
        self._draw(trigger, 1)
        clone = serializer.deserialize(serializer.serialize(trigger))
        assert type(clone) is type(trigger)
        assert self._draw(clone) == self._draw(trigger)
