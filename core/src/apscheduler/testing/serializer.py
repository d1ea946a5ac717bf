"""Conformance tests for :class:`apscheduler.abc.Serializer` implementations.

Subclass :class:`SerializerTests` and provide a ``serializer`` fixture returning a
serializer instance. Values must come back with the same types (a tuple stays a tuple, an
aware datetime keeps its zone); narrow the value tables with the class attributes if your
format cannot do that, and say so in your documentation.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from .._enums import JobOutcome
from .._exceptions import DeserializationError, SerializationError
from .._structures import Job, JobResult, Schedule
from ..abc import Serializer
from ._kit_trigger import FixedTimesTrigger, ensure_kit_trigger_registered

#: Values every serializer must round-trip exactly.
JSON_VALUES: dict[str, Any] = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "negative": -7,
    "big int": 2**70,
    "float": 1.5,
    "empty str": "",
    "unicode str": "ünïcode ✓ 日本",
    "list": [1, "a", None, 2.5],
    "empty list": [],
    "dict": {"a": {"b": [1, 2, {"c": None}]}, "d": "e"},
    "empty dict": {},
}

#: Values a serializer for data stores should round-trip with their exact types.
RICH_VALUES: dict[str, Any] = {
    "tuple": (1, "a", (2, 3)),
    "empty tuple": (),
    "bytes": b"\x00\xffbinary",
    "utc datetime": datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
    "zoned datetime": datetime(2030, 7, 1, 12, 30, tzinfo=ZoneInfo("Europe/Helsinki")),
    "date": date(2030, 2, 28),
    "timedelta": timedelta(days=1, seconds=2, microseconds=3),
    "uuid": UUID("12345678-1234-5678-1234-567812345678"),
    "nested": {"when": [datetime(2030, 1, 1, tzinfo=timezone.utc)], "args": (b"x",)},
}


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types at every level and the same time zones."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset() and str(a.tzinfo) == str(b.tzinfo)
    return bool(a == b)


class SerializerTests:
    """Conformance tests of a serializer. See the module docstring and
    ``docs/plugins/conformance-kit.md``.

    Fixture the subclass provides: ``serializer``.

    Class attributes:

    * ``json_values`` / ``rich_values``: name → value tables that must round-trip
      (defaults: :data:`JSON_VALUES`, :data:`RICH_VALUES`).
    * ``supports_triggers``: registered triggers round-trip (by name and state), and so do
      marshalled schedules.
    * ``unserializable_value``: a value that must raise ``SerializationError``.
    * ``garbage_payloads``: byte strings that must raise ``DeserializationError``.
    """

    json_values: ClassVar[dict[str, Any]] = JSON_VALUES
    rich_values: ClassVar[dict[str, Any]] = RICH_VALUES
    supports_triggers: ClassVar[bool] = True
    unserializable_value: ClassVar[Any] = threading.Lock()
    garbage_payloads: ClassVar[tuple[bytes, ...]] = (
        b"",
        b"\xff\xfe\xfd\x00garbage",
        b"\x80\x05\x95\x10\x00\x00",
    )

    def _check_round_trips(self, serializer: Serializer, values: dict[str, Any]) -> None:
        failures = []
        for name, value in values.items():
            payload = serializer.serialize(value)
            assert isinstance(payload, bytes), f"{name}: serialize() must return bytes"
            restored = serializer.deserialize(payload)
            if not same(restored, value):
                failures.append(f"{name}: {value!r} came back as {restored!r}")
        assert not failures, "\n".join(failures)

    def test_name(self, serializer: Serializer) -> None:
        assert isinstance(serializer.name, str) and serializer.name

    def test_json_values_round_trip(self, serializer: Serializer) -> None:
        self._check_round_trips(serializer, self.json_values)

    def test_rich_values_round_trip(self, serializer: Serializer) -> None:
        self._check_round_trips(serializer, self.rich_values)

    def test_trigger_round_trip(self, serializer: Serializer) -> None:
        if not self.supports_triggers:
            pytest.skip("supports_triggers is False")
        ensure_kit_trigger_registered()
        trigger = FixedTimesTrigger(
            datetime(2030, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 2, tzinfo=timezone.utc)
        )
        trigger.next()
        restored = serializer.deserialize(serializer.serialize(trigger))
        assert type(restored) is FixedTimesTrigger
        assert restored.__getstate__() == trigger.__getstate__()

    def test_schedule_marshal_round_trip(self, serializer: Serializer) -> None:
        if not self.supports_triggers:
            pytest.skip("supports_triggers is False")
        ensure_kit_trigger_registered()
        trigger = FixedTimesTrigger(datetime(2030, 1, 1, tzinfo=timezone.utc))
        schedule = Schedule(
            id="s1",
            task_id="pkg.mod:func",
            trigger=trigger,
            args=(1, "two"),
            kwargs={"three": [3]},
            job_executor="threadpool",
            next_fire_time=trigger.next(),
            misfire_grace_time=timedelta(seconds=30),
            metadata={"k": "v"},
        )
        restored = Schedule.unmarshal(serializer, schedule.marshal(serializer))
        for field in ("id", "task_id", "args", "kwargs", "job_executor", "next_fire_time",
                      "misfire_grace_time", "metadata", "coalesce"):
            assert getattr(restored, field) == getattr(schedule, field), field
        assert restored.trigger.__getstate__() == trigger.__getstate__()

    def test_job_marshal_round_trip(self, serializer: Serializer) -> None:
        job = Job(
            task_id="pkg.mod:func",
            executor="async",
            args=(1, "a"),
            kwargs={"b": [2]},
            created_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
            result_expiration_time=timedelta(minutes=5),
        )
        restored = Job.unmarshal(serializer, job.marshal(serializer))
        for field in ("id", "task_id", "executor", "args", "kwargs", "created_at",
                      "result_expiration_time"):
            assert getattr(restored, field) == getattr(job, field), field

    def test_job_result_marshal_round_trip(self, serializer: Serializer) -> None:
        job = Job(task_id="t", executor="async", result_expiration_time=60)
        finished = datetime(2030, 1, 1, tzinfo=timezone.utc)
        success = JobResult.from_job(
            job, JobOutcome.success, finished_at=finished, return_value={"answer": [42]}
        )
        restored = JobResult.unmarshal(serializer, success.marshal(serializer))
        assert restored.return_value == {"answer": [42]}
        assert restored.expires_at == finished + timedelta(seconds=60)

        failure = JobResult.from_job(
            job, JobOutcome.error, finished_at=finished, exception=ValueError("boom"),
            traceback=["Traceback (most recent call last):", "ValueError: boom"],
        )
        restored = JobResult.unmarshal(serializer, failure.marshal(serializer))
        assert isinstance(restored.exception, BaseException)
        assert str(restored.exception) == "boom"
        assert restored.traceback == failure.traceback

    def test_unserializable_value(self, serializer: Serializer) -> None:
        value = self.unserializable_value
        with pytest.raises(SerializationError) as exc_info:
            serializer.serialize({"arg": [value]})
        assert type(value).__name__.lower() in str(exc_info.value).lower(), (
            "the error must name the offending type"
        )

    def test_garbage_payloads(self, serializer: Serializer) -> None:
        for payload in self.garbage_payloads:
            with pytest.raises(DeserializationError):
                serializer.deserialize(payload)
