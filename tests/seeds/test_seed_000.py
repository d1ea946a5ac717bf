"""Seed 000 (APScheduler 4-style guide): its synchronous examples, run as written.

Intervals and sleeps are shortened; ``run_until_stopped()`` is ended by a listener that
stops the scheduler once the seed's job has run, which is what a user's Ctrl-C does.
"""

from __future__ import annotations

import threading
import time

import pytest
from apscheduler import Event, JobAcquired, JobReleased, Scheduler, TaskDefaults, task
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import AndTrigger, OrTrigger
from apscheduler.triggers.cron import CronTrigger

from . import seedfuncs
from .seedfuncs import (
    background_job,
    daily_report,
    data_processor,
    dynamic_job,
    generate_report,
    info_job,
    my_job,
    weekly_backup,
)


def stop_after_first_release(scheduler: Scheduler) -> None:
    scheduler.subscribe(lambda event: scheduler.stop(), {JobReleased}, one_shot=True)


def test_basic_synchronous_scheduler_foreground() -> None:
    with Scheduler() as scheduler:
        # Add a job that runs every 10 seconds
        scheduler.add_schedule(my_job, "interval", seconds=10, id="my_job")
        stop_after_first_release(scheduler)
        # Run the scheduler (blocks)
        scheduler.run_until_stopped()
    assert seedfuncs.wait_ran("my_job", 0)


def test_background_execution() -> None:
    with Scheduler() as scheduler:
        scheduler.add_schedule(background_job, "interval", seconds=5, id="background_job")
        # Start scheduler in background (non-blocking)
        scheduler.start_in_background()
        # Your main application logic here (two rounds instead of forever)
        for _ in range(2):
            print("Main application is running...")
            if seedfuncs.wait_ran("background_job", 5):
                break
    assert seedfuncs.wait_ran("background_job", 0)


def test_cron_style_scheduling() -> None:
    with Scheduler() as scheduler:
        scheduler.add_schedule(daily_report, CronTrigger(hour=8, minute=30), id="daily_report")
        scheduler.add_schedule(
            weekly_backup, CronTrigger(day_of_week="mon", hour=2), id="weekly_backup"
        )
        # Every 15 minutes during business hours (a lambda: fine with the memory store)
        scheduler.add_schedule(
            lambda: print("Health check"),
            CronTrigger(hour="9-17", minute="*/15"),
            id="health_check",
        )
        schedules = {s.id: s for s in scheduler.get_schedules()}
        assert (
            schedules["daily_report"].next_fire_time.hour,
            schedules["daily_report"].next_fire_time.minute,
        ) == (8, 30)
        assert schedules["weekly_backup"].next_fire_time.weekday() == 0
        assert schedules["health_check"].next_fire_time.minute % 15 == 0


def test_combining_triggers_with_varargs() -> None:
    or_trigger = OrTrigger(
        CronTrigger(day_of_week="mon-fri", hour=10),
        CronTrigger(day_of_week="sat-sun", hour=11),
    )
    and_trigger = AndTrigger(
        CalendarIntervalTrigger(months=2, hour=10),
        CronTrigger(day_of_week="mon-fri", hour=10),
    )
    with Scheduler() as scheduler:
        scheduler.add_schedule(seedfuncs.tick, or_trigger, id="flexible")
        scheduler.add_schedule(seedfuncs.tick, and_trigger, id="flexible2")
        flexible = scheduler.get_schedule("flexible").next_fire_time
        assert (flexible.hour == 10 and flexible.weekday() < 5) or (
            flexible.hour == 11 and flexible.weekday() >= 5
        )
        both = scheduler.get_schedule("flexible2").next_fire_time
        assert both.hour == 10 and both.weekday() < 5


def test_adding_modifying_and_removing_jobs() -> None:
    scheduler = Scheduler()
    scheduler.start_in_background()
    try:
        job = scheduler.add_schedule(
            dynamic_job, "interval", seconds=5, args=["Hello World"], id="dynamic_job"
        )
        assert job == "dynamic_job"
        assert seedfuncs.wait_ran("dynamic_job")
        # Modify job
        scheduler.configure_schedule("dynamic_job", seconds=10)
        assert scheduler.get_schedule("dynamic_job").trigger.__getstate__()["interval"]
        # Remove job
        scheduler.remove_schedule("dynamic_job")
        print("Job removed")
        assert scheduler.get_schedules() == []
    finally:
        scheduler.shutdown()
    assert ("dynamic_job", "Hello World") in seedfuncs.seen


def test_job_status_and_information() -> None:
    with Scheduler() as scheduler:
        scheduler.add_schedule(info_job, "interval", seconds=10, id="info_job")
        # Check if job exists
        jobs = scheduler.get_jobs()
        for job in jobs:
            print(f"Active job: {job.id}")
        stop_after_first_release(scheduler)
        scheduler.run_until_stopped()
    assert ("info_job", "info_job") in seedfuncs.seen


def test_task_decorators_and_settings() -> None:
    decorated_processor = task(max_running_jobs=3, metadata={"category": "data_processing"})(
        lambda: data_processor()
    )
    task_defaults = TaskDefaults(
        misfire_grace_time=15,  # 15 seconds grace time
        job_executor="threadpool",
        metadata={"global": True, "version": "1.0"},
    )
    with Scheduler(task_defaults=task_defaults) as scheduler:
        scheduler.configure_task(
            "data_task",
            func=decorated_processor,
            job_executor="threadpool",  # the seed says "processpool" (see test below)
            metadata={"priority": "high"},  # Merge with defaults
        )
        scheduler.configure_task("report_task", func=generate_report)
        scheduler.add_schedule("data_task", "interval", minutes=5)
        scheduler.add_schedule("report_task", "cron", hour=9)
        tasks = {t.id: t for t in scheduler.get_tasks()}
        assert tasks["data_task"].max_running_jobs == 3
        assert tasks["data_task"].metadata == {
            "global": True,
            "version": "1.0",
            "category": "data_processing",
            "priority": "high",
        }
        assert tasks["report_task"].misfire_grace_time.total_seconds() == 15
        assert tasks["report_task"].job_executor == "threadpool"
        stop_after_first_release(scheduler)
        scheduler.run_until_stopped()
    assert seedfuncs.wait_ran("data_processor")


def test_configure_task_with_processpool_executor() -> None:
    pytest.importorskip("apscheduler_processpool")
    with Scheduler() as scheduler:
        scheduler.configure_task("data_task", func=data_processor, job_executor="processpool")
        assert scheduler.get_task("data_task").job_executor == "processpool"
        stop_after_first_release(scheduler)
        scheduler.add_schedule("data_task", "interval", minutes=5)
        scheduler.run_until_stopped()


def test_synchronous_event_listeners() -> None:
    received: list[str] = []
    done = threading.Event()

    def sync_listener(event: Event) -> None:
        print(f"Received {event.__class__.__name__}")
        if hasattr(event, "job_id"):
            print(f"Job ID: {event.job_id}")
        received.append(event.__class__.__name__)
        if isinstance(event, JobReleased):
            done.set()

    with Scheduler() as scheduler:
        scheduler.subscribe(sync_listener, {JobAcquired, JobReleased})
        scheduler.add_schedule(my_job, "interval", seconds=5, id="monitored_job")
        scheduler.start_in_background()
        assert done.wait(10)
    assert received[:2] == ["JobAcquired", "JobReleased"]


def test_job_monitor_subscribes_by_event_name() -> None:
    stats: dict[str, int] = {}
    done = threading.Event()

    def on_job_acquired(event: Event) -> None:
        stats["executions"] = stats.get("executions", 0) + 1
        done.set()

    with Scheduler() as scheduler:
        scheduler.subscribe(on_job_acquired, {"JobAcquired"})
        scheduler.add_schedule(my_job, "interval", seconds=5, id="monitored")
        scheduler.start_in_background()
        assert done.wait(10)
    assert stats["executions"] >= 1


def test_shutdown_with_wait_from_manager_pattern() -> None:
    class SchedulerManager:
        def __init__(self) -> None:
            self.scheduler: Scheduler | None = None

        def start(self) -> None:
            if self.scheduler is None:
                self.scheduler = Scheduler()
                self.scheduler.start_in_background()

        def shutdown(self) -> None:
            if self.scheduler:
                try:
                    self.scheduler.shutdown(wait=True)
                finally:
                    self.scheduler = None

        def add_job(self, func, trigger, **kwargs):  # type: ignore[no-untyped-def]
            if not self.scheduler:
                raise RuntimeError("Scheduler not started")
            return self.scheduler.add_schedule(func, trigger, **kwargs)

    manager = SchedulerManager()
    manager.start()
    started = time.monotonic()
    assert manager.add_job(seedfuncs.tick, "interval", hours=1, id="cleanup") == "cleanup"
    assert seedfuncs.wait_ran("tick")
    manager.shutdown()
    assert time.monotonic() - started < 30
    assert manager.scheduler is None


def test_version_check() -> None:
    import apscheduler

    print(apscheduler.__version__)
    assert apscheduler.__version__[0].isdigit()
