"""The APScheduler 3 examples of the seeds (001, 003, 004), run as written.

Only intervals are shortened and SQLite files moved to ``tmp_path``; helpers the seeds
leave to the reader (``parse_cron_expression``, the repository of seed 003) are filled in
minimally. Each test checks what the seed's text says the code does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from . import jobfuncs

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- seed 001, 7.1


def test_001_basic_background_scheduler() -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    def my_job() -> None:
        jobfuncs.record("my_job", datetime.now())

    # Create scheduler
    scheduler = BackgroundScheduler()

    # Add job: run every 3 seconds (shortened)
    scheduler.add_job(my_job, "interval", seconds=0.1)

    # Start scheduler
    scheduler.start()

    # Keep the script running (until the job ran a few times)
    try:
        jobfuncs.wait_for("my_job", 3)
    finally:
        scheduler.shutdown()
    assert len(jobfuncs.RECORDS["my_job"]) >= 3  # it kept running every interval


# ---------------------------------------------------------------- seed 001, 7.2


def scheduled_task() -> None:
    """Task that runs on schedule."""
    logger.info("Scheduled task executed")


def make_fastapi_app(db_path: Path) -> Any:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from fastapi import FastAPI

    # Global scheduler instance
    scheduler = None

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        """Handle application startup and shutdown."""
        nonlocal scheduler

        # Startup
        logger.info("Starting scheduler...")

        jobstores = {"default": SQLAlchemyJobStore(url=f"sqlite:///{db_path}")}

        scheduler = BackgroundScheduler(jobstores=jobstores)

        # Add jobs
        scheduler.add_job(
            scheduled_task, "cron", hour=2, minute=0, id="daily_task", replace_existing=True
        )

        scheduler.start()
        logger.info("Scheduler started")

        yield

        # Shutdown
        logger.info("Shutting down scheduler...")
        scheduler.shutdown(wait=True)
        logger.info("Scheduler stopped")

    # Create FastAPI app with lifespan
    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    def root() -> dict[str, str]:
        return {"message": "Scheduler is running"}

    @app.get("/jobs")
    def list_jobs() -> dict[str, Any]:
        """List all scheduled jobs."""
        jobs = scheduler.get_jobs()  # type: ignore[attr-defined]
        return {
            "total": len(jobs),
            "jobs": [
                {
                    "id": job.id,
                    "name": job.name,
                    "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
                }
                for job in jobs
            ],
        }

    @app.get("/health/scheduler")
    def scheduler_health() -> dict[str, Any]:
        """Check if scheduler is running (seed 001, 11.2)."""
        from fastapi import HTTPException

        if not scheduler.running:  # type: ignore[attr-defined]
            raise HTTPException(status_code=503, detail="Scheduler not running")
        jobs = scheduler.get_jobs()  # type: ignore[attr-defined]
        return {
            "status": "healthy",
            "running": scheduler.running,  # type: ignore[attr-defined]
            "total_jobs": len(jobs),
            "jobstores": list(scheduler._jobstores.keys()),  # type: ignore[attr-defined]
            "executors": list(scheduler._executors.keys()),  # type: ignore[attr-defined]
        }

    return app


def test_001_fastapi_lifespan_with_sqlalchemy_job_store(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    db_path = tmp_path / "jobs.sqlite"
    for _ in range(2):  # a restart finds the stored job and replaces it (replace_existing)
        with TestClient(make_fastapi_app(db_path)) as client:
            assert client.get("/").json() == {"message": "Scheduler is running"}
            listing = client.get("/jobs").json()
            assert listing["total"] == 1
            job = listing["jobs"][0]
            assert (job["id"], job["name"]) == ("daily_task", "scheduled_task")
            next_run = datetime.fromisoformat(job["next_run"])
            assert (next_run.hour, next_run.minute, next_run.second) == (2, 0, 0)
            health = client.get("/health/scheduler").json()
            assert health["running"] is True
            assert health["jobstores"] == ["default"] and health["executors"] == ["default"]
    assert db_path.exists()


# ---------------------------------------------------------------- seed 001, 7.3


def process_user_data(user_id: str) -> None:
    print(f"Processing data for user {user_id}")


def parse_cron_expression(expression: str) -> dict[str, str]:
    """The helper the seed leaves to the reader: crontab fields as cron trigger options."""
    minute, hour, day, month, day_of_week = expression.split()
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": day_of_week}


def test_001_dynamic_job_management() -> None:
    from apscheduler.jobstores.base import JobLookupError
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    scheduler.start()

    class JobManager:
        """Manage scheduled jobs dynamically."""

        @staticmethod
        def add_user_job(user_id: UUID, cron_expression: str) -> str:
            """Add a new scheduled job for a user."""
            job_id = f"user_{user_id}"

            scheduler.add_job(
                func=process_user_data,
                trigger="cron",
                args=[str(user_id)],
                id=job_id,
                replace_existing=True,
                **parse_cron_expression(cron_expression),
            )

            return job_id

        @staticmethod
        def remove_user_job(user_id: UUID) -> bool:
            """Remove a user's scheduled job."""
            job_id = f"user_{user_id}"

            try:
                scheduler.remove_job(job_id)
                return True
            except JobLookupError:
                return False

        @staticmethod
        def update_user_schedule(user_id: UUID, new_cron: str) -> bool:
            """Update a user's schedule."""
            job_id = f"user_{user_id}"

            try:
                scheduler.reschedule_job(job_id, trigger="cron", **parse_cron_expression(new_cron))
                return True
            except JobLookupError:
                return False

        @staticmethod
        def pause_user_job(user_id: UUID) -> bool:
            """Pause a user's job (not deleted, just not scheduled)."""
            job_id = f"user_{user_id}"

            try:
                scheduler.pause_job(job_id)
                return True
            except JobLookupError:
                return False

        @staticmethod
        def resume_user_job(user_id: UUID) -> bool:
            """Resume a paused job."""
            job_id = f"user_{user_id}"

            try:
                scheduler.resume_job(job_id)
                return True
            except JobLookupError:
                return False

    try:
        user_id = uuid4()
        job_id = JobManager.add_user_job(user_id, "0 2 * * *")  # Daily at 2 AM
        job = scheduler.get_job(job_id)
        assert job is not None and job.args == (str(user_id),)
        assert (job.next_run_time.hour, job.next_run_time.minute) == (2, 0)  # type: ignore[union-attr]

        assert JobManager.update_user_schedule(user_id, "0 */6 * * *")  # Every 6 hours
        job = scheduler.get_job(job_id)
        assert job is not None and job.next_run_time is not None
        assert job.next_run_time.hour % 6 == 0 and job.next_run_time.minute == 0

        assert JobManager.pause_user_job(user_id)
        assert scheduler.get_job(job_id).next_run_time is None  # type: ignore[union-attr]
        assert JobManager.resume_user_job(user_id)
        assert scheduler.get_job(job_id).next_run_time is not None  # type: ignore[union-attr]

        assert JobManager.remove_user_job(user_id)
        assert scheduler.get_job(job_id) is None
        unknown = uuid4()
        assert not JobManager.remove_user_job(unknown)
        assert not JobManager.update_user_schedule(unknown, "0 1 * * *")
        assert not JobManager.pause_user_job(unknown)
        assert not JobManager.resume_user_job(unknown)
    finally:
        scheduler.shutdown()


# ---------------------------------------------------------------- seed 001, 7.4 + 8.5


def job_that_might_fail(fail: bool) -> None:
    """Job that may raise exceptions (deterministic here)."""
    if fail:
        raise Exception("Simulated failure")
    logger.info("Job succeeded")


def test_001_error_handling_listener() -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    outcomes: list[tuple[str, str | None]] = []
    done = threading.Event()

    def job_listener(event: Any) -> None:
        """Listen to job execution events."""
        if event.exception:
            logger.error(f"Job {event.job_id} failed: {event.exception}")
            outcomes.append((event.job_id, str(event.exception)))
        else:
            logger.info(f"Job {event.job_id} succeeded")
            outcomes.append((event.job_id, None))
        if len(outcomes) == 2:
            done.set()

    # Add event listeners
    scheduler.add_listener(job_listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    # Add jobs (interval shortened; one fails, one succeeds)
    scheduler.add_job(job_that_might_fail, "interval", seconds=0.1, args=[True], id="bad")
    scheduler.add_job(job_that_might_fail, "interval", seconds=0.1, args=[False], id="good")

    scheduler.start()
    try:
        assert done.wait(10)
    finally:
        scheduler.shutdown()
    assert sorted(outcomes[:2]) == [("bad", "Simulated failure"), ("good", None)]


def test_001_event_listeners_by_type() -> None:
    from apscheduler.events import (
        EVENT_JOB_ADDED,
        EVENT_JOB_ERROR,
        EVENT_JOB_EXECUTED,
        EVENT_JOB_MISSED,
        EVENT_JOB_REMOVED,
    )
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    seen: dict[str, list[str]] = {
        "added": [],
        "removed": [],
        "executed": [],
        "error": [],
        "missed": [],
    }
    all_seen = threading.Event()

    def note(kind: str, event: Any) -> None:
        seen[kind].append(event.job_id)
        if all(seen.values()):
            all_seen.set()

    def job_added_listener(event: Any) -> None:
        print(f"Job {event.job_id} was added")
        note("added", event)

    def job_executed_listener(event: Any) -> None:
        print(f"Job {event.job_id} executed successfully")
        note("executed", event)

    def job_error_listener(event: Any) -> None:
        print(f"Job {event.job_id} failed: {event.exception}")
        note("error", event)

    def job_missed_listener(event: Any) -> None:
        print(f"Job {event.job_id} missed its scheduled time")
        note("missed", event)

    def job_removed_listener(event: Any) -> None:
        note("removed", event)

    # Add listeners
    scheduler.add_listener(job_added_listener, EVENT_JOB_ADDED)
    scheduler.add_listener(job_executed_listener, EVENT_JOB_EXECUTED)
    scheduler.add_listener(job_error_listener, EVENT_JOB_ERROR)
    scheduler.add_listener(job_missed_listener, EVENT_JOB_MISSED)
    scheduler.add_listener(job_removed_listener, EVENT_JOB_REMOVED)

    scheduler.start()
    try:
        now = datetime.now()
        scheduler.add_job(
            job_that_might_fail,
            "date",
            run_date=now,
            args=[False],
            id="ok",
            misfire_grace_time=None,
        )
        scheduler.add_job(
            job_that_might_fail,
            "date",
            run_date=now,
            args=[True],
            id="fails",
            misfire_grace_time=None,
        )
        scheduler.add_job(
            job_that_might_fail,
            "date",
            run_date=now - timedelta(minutes=5),
            args=[False],
            id="late",
        )  # outside the 1 s misfire grace time
        assert all_seen.wait(10)
    finally:
        scheduler.shutdown()
    assert sorted(seen["added"]) == ["fails", "late", "ok"]
    assert seen["executed"] == ["ok"] and seen["error"] == ["fails"]
    assert seen["missed"] == ["late"]


# ---------------------------------------------------------------- seed 001, 8.x + 11.4


def test_001_job_configuration_multiple_stores_and_executors(tmp_path: Path) -> None:
    pytz = pytest.importorskip("pytz")
    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    jobstores = {
        "default": MemoryJobStore(),
        "persistent": SQLAlchemyJobStore(
            url=f"sqlite:///{tmp_path / 'jobs.sqlite'}", tablename="apscheduler_jobs"
        ),
    }
    executors = {
        "default": ThreadPoolExecutor(max_workers=10),
        "processpool": ProcessPoolExecutor(max_workers=3),
    }
    job_defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler = BackgroundScheduler(
        jobstores=jobstores,
        executors=executors,
        job_defaults=job_defaults,
        timezone=pytz.timezone("UTC"),
    )
    executed = threading.Event()
    results: list[Any] = []

    def listener(event: Any) -> None:
        results.append((event.job_id, event.jobstore, event.retval))
        executed.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        scheduler.add_job(
            func=jobfuncs.add,
            trigger="cron",
            hour=2,
            args=[1, 2],
            # Job metadata
            id="my_unique_job_id",
            name="My Descriptive Job Name",
            # Execution control
            max_instances=1,
            coalesce=True,
            misfire_grace_time=300,
            # Job store and executor
            jobstore="persistent",
            executor="processpool",
            # Replacement
            replace_existing=True,
        )
        # 8.3 Getting job information
        job = scheduler.get_job("my_unique_job_id")
        assert job is not None
        assert (job.id, job.name, job.executor) == (
            "my_unique_job_id",
            "My Descriptive Job Name",
            "processpool",
        )
        assert job.next_run_time.hour == 2  # type: ignore[union-attr]
        assert "cron" in str(job.trigger).lower() or "Cron" in repr(job.trigger)
        assert [j.id for j in scheduler.get_jobs(jobstore="persistent")] == ["my_unique_job_id"]
        assert scheduler.get_jobs(jobstore="default") == []

        # 8.4 Modifying scheduled jobs: run it now in the process pool
        scheduler.reschedule_job("my_unique_job_id", trigger="cron", hour=3)
        assert scheduler.get_job("my_unique_job_id").next_run_time.hour == 3  # type: ignore[union-attr]
        scheduler.modify_job("my_unique_job_id", args=[20, 22])
        scheduler.modify_job("my_unique_job_id", next_run_time=datetime.now(pytz.UTC))
        assert executed.wait(30)
        assert results[0] == ("my_unique_job_id", "persistent", 42)
        scheduler.pause_job("my_unique_job_id")
        scheduler.resume_job("my_unique_job_id")
        scheduler.remove_job("my_unique_job_id")
        scheduler.remove_all_jobs()
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown()


def test_001_cron_trigger_get_next_fire_time() -> None:
    """Seed 001, 9.4 "Test Scheduling Logic", as written."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(hour=2, minute=0)

    # Get next 3 run times
    now = datetime(2025, 11, 7, 0, 0, 0)
    runs = [trigger.get_next_fire_time(None, now)]

    for _ in range(2):
        runs.append(trigger.get_next_fire_time(runs[-1], runs[-1]))

    # Verify all at 2 AM
    for run in runs:
        assert run.hour == 2  # type: ignore[union-attr]
        assert run.minute == 0  # type: ignore[union-attr]
    assert len({run.date() for run in runs}) == 3  # type: ignore[union-attr]


# ---------------------------------------------------------------- seed 003


class ScheduledJob:
    def __init__(self, id: str, job_key: str, **options: Any) -> None:
        self.id = id
        self.job_key = job_key
        self.is_enabled = True
        self.job_type = options.get("job_type", "interval")
        self.interval_seconds = options.get("interval_seconds")
        self.interval_minutes = options.get("interval_minutes")
        self.interval_hours = options.get("interval_hours")
        self.interval_days = options.get("interval_days")
        self.cron_expression = options.get("cron_expression")
        self.max_instances = 1
        self.misfire_grace_time = 60
        self.coalesce = True


class SchedulerRepository:
    """In-memory stand-in for the seed's database repository."""

    jobs: dict[str, ScheduledJob] = {}

    async def get_enabled_jobs(self, session: Any) -> list[ScheduledJob]:
        return [job for job in self.jobs.values() if job.is_enabled]

    async def get_job(self, session: Any, job_id: str) -> ScheduledJob | None:
        return self.jobs.get(job_id)


def test_003_scheduler_service() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    class SchedulerService:
        """The seed's service, with its APScheduler calls as written."""

        _scheduler: AsyncIOScheduler | None = None

        def __init__(self) -> None:
            self._repo = SchedulerRepository()
            self.executed: asyncio.Queue[str] = asyncio.Queue()

        async def initialize(self) -> None:
            self._scheduler = AsyncIOScheduler()

        async def start(self, session: Any) -> None:
            if not self._scheduler:
                raise RuntimeError("Scheduler not initialized")
            jobs = await self._repo.get_enabled_jobs(session)
            for job in jobs:
                await self._add_job_to_scheduler(job)
            self._scheduler.start()
            self._is_running = True

        async def _add_job_to_scheduler(self, job: ScheduledJob) -> None:
            if job.job_type == "interval":
                trigger = IntervalTrigger(
                    seconds=job.interval_seconds or 0,
                    minutes=job.interval_minutes or 0,
                    hours=job.interval_hours or 0,
                    days=job.interval_days or 0,
                )
            elif job.job_type == "cron":
                trigger = CronTrigger.from_crontab(job.cron_expression)
            else:
                return

            self._scheduler.add_job(  # type: ignore[union-attr]
                self._execute_job_wrapper,
                trigger,
                id=job.job_key,
                args=[job.id],
                max_instances=job.max_instances,
                misfire_grace_time=job.misfire_grace_time,
                coalesce=job.coalesce,
                replace_existing=True,
            )

        async def _execute_job_wrapper(self, job_id: str) -> None:
            job = await self._repo.get_job(None, job_id)
            if not job or not job.is_enabled:
                return
            await self.executed.put(job_id)

        async def update_job(self, job: ScheduledJob) -> None:
            if self._is_running:
                self._scheduler.remove_job(job.job_key, jobstore="default")  # type: ignore[union-attr]
                if job.is_enabled:
                    await self._add_job_to_scheduler(job)

        async def delete_job(self, job: ScheduledJob) -> None:
            if self._is_running and job:
                self._scheduler.remove_job(job.job_key, jobstore="default")  # type: ignore[union-attr]

    async def main() -> None:
        SchedulerRepository.jobs = {
            "1": ScheduledJob("1", "fast", interval_seconds=0.1),
            "2": ScheduledJob("2", "nightly", job_type="cron", cron_expression="0 9 * * 1"),
        }
        service = SchedulerService()
        await service.initialize()
        await service.start(session=None)
        scheduler = service._scheduler
        assert scheduler is not None and scheduler.running
        assert await asyncio.wait_for(service.executed.get(), 10) == "1"
        nightly = scheduler.get_job("nightly")
        assert nightly is not None and nightly.next_run_time is not None
        # the v4 CronTrigger.from_crontab follows cron: 1 = Monday
        assert nightly.next_run_time.weekday() == 0 and nightly.next_run_time.hour == 9

        fast = SchedulerRepository.jobs["1"]
        fast.interval_seconds = 3600
        await service.update_job(fast)
        job = scheduler.get_job("fast")
        assert job is not None and job.trigger.interval == timedelta(hours=1)  # type: ignore[attr-defined]
        await service.delete_job(fast)
        assert scheduler.get_job("fast") is None
        assert [job.id for job in scheduler.get_jobs()] == ["nightly"]
        await scheduler.shutdown()

    asyncio.run(main())


# ---------------------------------------------------------------- seed 004


def test_004_shared_asyncio_scheduler_in_fastapi_lifespan() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.interval import IntervalTrigger
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    # src/scheduler_instance.py
    scheduler = AsyncIOScheduler()

    class Settings:
        REPORT_SCHEDULER_INTERVAL_MINUTES = 0.002  # shortened (0.12 s)
        REPORT_SCHEDULER_MAX_INSTANCES = 1
        REPORT_SCHEDULER_MISFIRE_GRACE_TIME = 60

    settings = Settings()
    ran = threading.Event()

    # src/services/new_report_generator_scheduler.py
    async def generate_daily_report() -> None:
        batch_id = f"report_batch_{datetime.now().strftime('%Y%m%d_%H%M%S')}"
        logger.info(f"--- Starting Report Generation Batch {batch_id} ---")
        await asyncio.sleep(0)
        ran.set()

    def setup_new_report_scheduler() -> None:
        job_id = "generate_daily_report_job"
        try:
            interval_minutes = settings.REPORT_SCHEDULER_INTERVAL_MINUTES
            max_instances = settings.REPORT_SCHEDULER_MAX_INSTANCES
            grace_time = settings.REPORT_SCHEDULER_MISFIRE_GRACE_TIME

            trigger = IntervalTrigger(minutes=interval_minutes)

            scheduler.add_job(
                generate_daily_report,
                trigger=trigger,
                id=job_id,
                name=f"Generate Daily Reports (interval: {interval_minutes}m)",
                replace_existing=True,
                max_instances=max_instances,
                misfire_grace_time=grace_time,
            )
            logger.info(f"Job '{job_id}' added to the shared scheduler.")
        except Exception as e:
            logger.exception(f"Failed to set up job '{job_id}': {e}")

    states: list[str] = []

    # src/main.py
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        try:
            setup_new_report_scheduler()
            scheduler.start()
            if scheduler.running:
                states.append("started")
            else:
                states.append("failed")
        except Exception:
            logger.exception("Error during scheduler setup or startup:")

        yield

        if scheduler.running:
            scheduler.shutdown()
            states.append("shut down")
        else:
            states.append("not running")

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/v3/dev-tools/scheduler_status")
    async def scheduler_status() -> dict[str, Any]:
        return {
            "jobs": [
                {
                    "id": job.id,
                    "name": job.name,
                    "trigger": str(job.trigger),
                    "next_run_time": str(job.next_run_time),
                }
                for job in scheduler.get_jobs()
            ]
        }

    with TestClient(app) as client:
        assert ran.wait(10)
        status = client.get("/api/v3/dev-tools/scheduler_status").json()
        assert [job["id"] for job in status["jobs"]] == ["generate_daily_report_job"]
        assert status["jobs"][0]["name"] == "Generate Daily Reports (interval: 0.002m)"
        assert status["jobs"][0]["next_run_time"] != "None"
    assert states == ["started", "shut down"]
    assert not scheduler.running
