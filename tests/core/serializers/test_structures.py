"""Schedules, jobs and job results survive ``marshal`` / ``unmarshal`` with every
serializer, as persistent data stores use them."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

from apscheduler import CoalescePolicy, Job, JobOutcome, JobResult, RemoteError, Schedule
from apscheduler.abc import Serializer
from apscheduler_sample_plugin.trigger import EveryOtherSecondTrigger

from .helpers import Color, identical

START = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
ARGS = (1, "two", (3, 4), datetime(2024, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris")))
KWARGS = {"color": Color.GREEN, "ids": {1, 2}, "delay": timedelta(seconds=90)}


def test_schedule_round_trip(serializer: Serializer) -> None:
    schedule = Schedule(
        id="nightly",
        task_id="tests:report",
        trigger=EveryOtherSecondTrigger(START),
        args=ARGS,
        kwargs=KWARGS,
        coalesce=CoalescePolicy.all,
        misfire_grace_time=30,
        job_executor="threadpool",
        metadata={"owner": "ops"},
        next_fire_time=START,
    )
    restored = Schedule.unmarshal(serializer, schedule.marshal(serializer))
    assert type(restored.trigger) is EveryOtherSecondTrigger
    assert restored.trigger.__getstate__() == schedule.trigger.__getstate__()
    assert identical(restored.args, ARGS)
    assert identical(restored.kwargs, KWARGS)
    assert restored.coalesce is CoalescePolicy.all
    assert restored.misfire_grace_time == timedelta(seconds=30)
    assert restored.next_fire_time == START
    assert restored.metadata == {"owner": "ops"}


def test_job_round_trip(serializer: Serializer) -> None:
    job = Job(
        task_id="tests:report",
        args=ARGS,
        kwargs=KWARGS,
        schedule_id="nightly",
        scheduled_fire_time=START,
        executor="threadpool",
        created_at=START,
    )
    restored = Job.unmarshal(serializer, job.marshal(serializer))
    assert restored.id == job.id
    assert identical(restored.args, ARGS)
    assert identical(restored.kwargs, KWARGS)
    assert restored.scheduled_fire_time == START


def test_job_result_with_return_value(serializer: Serializer) -> None:
    result = JobResult(
        job_id=uuid4(),
        outcome=JobOutcome.success,
        finished_at=START,
        expires_at=START + timedelta(minutes=5),
        return_value={"rows": (1, 2, 3), "at": START},
    )
    restored = JobResult.unmarshal(serializer, result.marshal(serializer))
    assert identical(restored.return_value, {"rows": (1, 2, 3), "at": START})


def test_job_result_with_exception(serializer: Serializer) -> None:
    result = JobResult(
        job_id=uuid4(),
        outcome=JobOutcome.error,
        finished_at=START,
        expires_at=START + timedelta(minutes=5),
        exception=KeyError("missing"),
    )
    restored = JobResult.unmarshal(serializer, result.marshal(serializer))
    assert type(restored.exception) is KeyError
    assert restored.exception.args == ("missing",)


def test_unserializable_exception_falls_back_to_remote_error(
    safe_serializer: Serializer,
) -> None:
    result = JobResult(
        job_id=uuid4(),
        outcome=JobOutcome.error,
        finished_at=START,
        expires_at=START + timedelta(minutes=5),
        exception=RuntimeError("lock held", threading.Lock()),
    )
    restored = JobResult.unmarshal(safe_serializer, result.marshal(safe_serializer))
    assert type(restored.exception) is RemoteError
    assert restored.exception.type_name == "builtins.RuntimeError"
    assert "lock held" in str(restored.exception)


def test_remote_error_keeps_its_type_name(serializer: Serializer) -> None:
    error = RemoteError("boom", "somewhere.CustomError")
    restored = serializer.deserialize(serializer.serialize(error))
    assert type(restored) is RemoteError
    assert restored.type_name == "somewhere.CustomError"
    assert str(restored) == "boom"
