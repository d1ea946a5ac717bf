"""Seed 002 (APScheduler 4 skill sheet): its examples, run as written.

Examples that need PostgreSQL or Redis run in the plugins' test suites; the persistent
SQLite example runs here when the sqlalchemy plugin is installed.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import anyio
import pytest
from apscheduler import (
    AsyncScheduler,
    CoalescePolicy,
    JobOutcome,
    JobReleased,
    Scheduler,
    TaskDefaults,
)
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..core.scheduler.jobfuncs import fail
from . import seedfuncs
from .seedfuncs import calculate_result, process_data, tick

pytestmark = pytest.mark.anyio


def test_basic_synchronous_scheduler() -> None:
    with Scheduler() as scheduler:
        scheduler.add_schedule(tick, IntervalTrigger(seconds=1))
        scheduler.subscribe(lambda event: scheduler.stop(), JobReleased, one_shot=True)
        scheduler.run_until_stopped()
    assert seedfuncs.wait_ran("tick", 0)


def test_async_scheduler_with_fastapi_lifespan() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    def cleanup_task() -> None:
        print("Running cleanup task...")

    seen: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        scheduler = AsyncScheduler()
        async with scheduler:
            await scheduler.configure_task("cleanup", func=cleanup_task)
            await scheduler.add_schedule("cleanup", IntervalTrigger(hours=1), id="cleanup")
            await scheduler.start_in_background()
            seen["state"] = scheduler.state.name
            yield
        seen["after"] = scheduler.state.name

    app = FastAPI(lifespan=lifespan)
    with TestClient(app):
        pass
    assert seen == {"state": "started", "after": "stopped"}


async def test_in_memory_scheduler_and_jobs_with_arguments() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.add_schedule(
            process_data,
            IntervalTrigger(hours=1),
            kwargs={
                "source": "s3://incoming",
                "destination": "s3://processed",
                "batch_size": 1000,
            },
        )
        await scheduler.add_schedule(seedfuncs.async_job, IntervalTrigger(minutes=5))
        await scheduler.start_in_background()
        with anyio.fail_after(10):
            while not (seedfuncs.ran.get("process_data") and seedfuncs.ran.get("async_job")):
                await scheduler.get_next_event(JobReleased)
    assert ("process_data", ("s3://incoming", "s3://processed", 1000)) in seedfuncs.seen


def test_trigger_examples() -> None:
    IntervalTrigger(seconds=30)
    IntervalTrigger(hours=2, minutes=15)
    IntervalTrigger(days=3)
    weekdays = CronTrigger(hour=9, minute=0, day_of_week="mon-fri")
    assert weekdays.next().weekday() < 5
    assert CronTrigger(minute="*/15").next().minute % 15 == 0
    last_day = CronTrigger(day="last", hour=0, minute=0).next()
    assert (last_day + timedelta(days=1)).day == 1
    assert CronTrigger.from_crontab("0 9 * * 1-5").next().weekday() < 5
    run_time = datetime.now() + timedelta(minutes=5)
    assert DateTrigger(run_time=run_time).next() is not None
    assert DateTrigger(run_time=datetime(2024, 12, 31, 23, 59, 59)).next().year == 2024
    first_of_month = CalendarIntervalTrigger(months=1, hour=9, minute=0)
    assert first_of_month.next().hour == 9


async def test_get_job_results() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.start_in_background()
        job_id = await scheduler.add_job(
            calculate_result, args=(10, 20), result_expiration_time=timedelta(hours=1)
        )
        result = await scheduler.get_job_result(job_id, wait=True)
        print(f"Result: {result.return_value}")
        assert result.return_value == 30


async def test_schedule_management() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.add_schedule(tick, IntervalTrigger(minutes=1), id="my_schedule")
        await scheduler.pause_schedule("my_schedule")
        assert (await scheduler.get_schedule("my_schedule")).paused
        await scheduler.unpause_schedule("my_schedule")
        schedule = await scheduler.get_schedule("my_schedule")
        print(f"Next run: {schedule.next_fire_time}")
        assert not schedule.paused and schedule.next_fire_time is not None
        await scheduler.remove_schedule("my_schedule")
        assert await scheduler.get_schedules() == []


async def test_event_handling_on_job_completed() -> None:
    messages: list[str] = []

    def on_job_completed(event: JobReleased) -> None:
        if event.outcome == JobOutcome.success:
            messages.append(f"Job {event.job_id} completed successfully")
        else:
            messages.append(f"Job {event.job_id} failed: {event.exception}")

    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(on_job_completed, JobReleased)
        await scheduler.start_in_background()
        await scheduler.run_job(calculate_result, args=(1, 2))
        with pytest.raises(ValueError):
            await scheduler.run_job(fail)
    assert messages[0].endswith("completed successfully")
    assert "failed: builtins.ValueError: boom" in messages[1]


async def test_configuration_task_defaults_and_overrides() -> None:
    task_defaults = TaskDefaults(
        job_executor="threadpool", max_running_jobs=3, misfire_grace_time=timedelta(minutes=5)
    )
    async with AsyncScheduler(task_defaults=task_defaults) as scheduler:
        await scheduler.configure_task(
            process_data,
            job_executor="threadpool",
            max_running_jobs=5,
            misfire_grace_time=timedelta(minutes=10),
        )
        schedule_id = await scheduler.add_schedule(
            process_data,
            IntervalTrigger(hours=1),
            kwargs={"source": "a", "destination": "b", "batch_size": 1},
            job_executor="threadpool",
            coalesce=CoalescePolicy.latest,
        )
        (stored,) = [t for t in await scheduler.get_tasks() if t.id.endswith("process_data")]
        assert stored.max_running_jobs == 5
        assert stored.misfire_grace_time == timedelta(minutes=10)
        schedule = await scheduler.get_schedule(schedule_id)
        assert schedule.misfire_grace_time == timedelta(minutes=10)
