"""Seed 000's asyncio examples, run as written (intervals and sleeps shortened).

They call ``scheduler.add_schedule(...)`` without ``await``, start the scheduler without
``async with``, use nested functions and bound methods, and ``await
scheduler.shutdown()``. All of that works under asyncio (see the "eager calls" decision in
docs/design/decisions.md).
"""

from __future__ import annotations

import asyncio
import os

import pytest
from apscheduler import AsyncScheduler, Event, JobAcquired, JobReleased

from . import seedfuncs
from .seedfuncs import async_job


def test_asynchronous_scheduler_foreground() -> None:
    async def main() -> None:
        async with AsyncScheduler() as scheduler:
            scheduler.add_schedule(async_job, "interval", seconds=15, id="async_job")
            scheduler.subscribe(lambda event: scheduler.stop(), JobReleased, one_shot=True)
            # Run the scheduler (blocks)
            await scheduler.run_until_stopped()

    asyncio.run(main())
    assert seedfuncs.wait_ran("async_job", 0)


def test_asynchronous_scheduler_background_with_cron() -> None:
    ran: list[str] = []

    async def background_task() -> None:
        print("Background async task!")

    async def main() -> None:
        async with AsyncScheduler() as scheduler:
            scheduler.add_schedule(background_task, "cron", hour=9, minute=0, id="daily_task")
            # Start in background (non-blocking)
            await scheduler.start_in_background()
            for _ in range(2):  # "while True" in the seed
                print("Main async app running...")
                await asyncio.sleep(0.01)
            schedule = await scheduler.get_schedule("daily_task")
            ran.append(f"{schedule.next_fire_time.hour}:{schedule.next_fire_time.minute}")

    asyncio.run(main())
    assert ran == ["9:0"]


def test_async_event_listeners() -> None:
    received: list[str] = []

    async def async_listener(event: Event) -> None:
        received.append(event.__class__.__name__)
        await asyncio.sleep(0.01)

    async def main() -> None:
        async with AsyncScheduler() as scheduler:
            scheduler.subscribe(async_listener, {JobAcquired, JobReleased})
            scheduler.add_schedule(async_job, "interval", seconds=8, id="async_monitored")
            scheduler.subscribe(lambda event: scheduler.stop(), JobReleased, one_shot=True)
            await scheduler.run_until_stopped()

    asyncio.run(main())
    assert received[:2] == ["JobAcquired", "JobReleased"]


def test_async_scheduler_manager_without_context_manager() -> None:
    """Seed: AsyncSchedulerManager starts AsyncScheduler() without ``async with``, adds a
    lambda schedule via an un-awaited add_schedule, and awaits shutdown()."""
    results: list[str] = []

    class AsyncSchedulerManager:
        def __init__(self):  # type: ignore[no-untyped-def]
            self.scheduler = None

        async def __aenter__(self):  # type: ignore[no-untyped-def]
            self.scheduler = AsyncScheduler()
            await self.scheduler.start_in_background()
            return self

        async def __aexit__(self, exc_type, exc_val, exc_tb):  # type: ignore[no-untyped-def]
            if self.scheduler:
                await self.scheduler.shutdown()

        async def add_job(self, func, trigger, **kwargs):  # type: ignore[no-untyped-def]
            if not self.scheduler:
                raise RuntimeError("Scheduler not started")
            return self.scheduler.add_schedule(func, trigger, **kwargs)

    async def main() -> None:
        async with AsyncSchedulerManager() as manager:
            await manager.add_job(
                lambda: results.append("Async task"), "interval", seconds=30, id="async_task"
            )
            # Keep running (until the job has run, instead of an hour)
            await manager.scheduler.get_next_event(JobReleased)
        assert manager.scheduler.state.name == "stopped"

    asyncio.run(main())
    assert results == ["Async task"]


def test_scrapersky_service_pattern() -> None:
    """Seed: un-awaited add_schedule of bound methods before the scheduler is started,
    then ``await scheduler.start_in_background()`` and ``await scheduler.shutdown()``."""

    class SchedulerService:
        def __init__(self) -> None:
            self.scheduler: AsyncScheduler | None = None
            self.is_running = False
            self.config = {"domain_scheduler_interval": 300, "max_instances": 3}
            self.processed: list[str] = []

        async def initialize(self) -> None:
            self.scheduler = AsyncScheduler()
            await self._setup_core_schedules()

        async def _setup_core_schedules(self) -> None:
            self.scheduler.add_schedule(
                self._process_domain_queue,
                "interval",
                seconds=self.config["domain_scheduler_interval"],
                id="domain_processor",
                max_running_jobs=self.config["max_instances"],
            )
            self.scheduler.add_schedule(
                self._daily_cleanup,
                "cron",
                hour=2,
                minute=0,
                id="daily_cleanup",
                max_running_jobs=1,
            )

        async def _process_domain_queue(self) -> None:
            self.processed.append("domains")

        async def _daily_cleanup(self) -> None:
            self.processed.append("cleanup")

        async def add_one_time_job(self, func, delay_seconds: int, job_id: str, **kwargs):  # type: ignore[no-untyped-def]
            from datetime import datetime, timedelta

            run_time = datetime.now() + timedelta(seconds=delay_seconds)
            return self.scheduler.add_schedule(
                func, "date", run_date=run_time, id=job_id, **kwargs
            )

        async def start(self) -> None:
            if not self.scheduler:
                await self.initialize()
            await self.scheduler.start_in_background()
            self.is_running = True

        async def stop(self) -> None:
            if self.scheduler and self.is_running:
                await self.scheduler.shutdown()
                self.is_running = False

    service = SchedulerService()

    async def main() -> None:
        await service.start()
        await service.add_one_time_job(seedfuncs.async_job, 0, "one_off")
        while "domains" not in service.processed or not seedfuncs.ran.get("async_job"):
            await service.scheduler.get_next_event(JobReleased)
        ids = sorted(s.id for s in await service.scheduler.get_schedules())
        assert ids == ["daily_cleanup", "domain_processor"]  # the one-off has fired
        await service.stop()

    asyncio.run(asyncio.wait_for(main(), 20))
    assert "domains" in service.processed


@pytest.mark.skipif(
    os.environ.get("CI") != "true" and not os.environ.get("APSCHEDULER_TEST_REDIS"),
    reason="runs against the local Redis in CI (set APSCHEDULER_TEST_REDIS=1 locally)",
)
def test_distributed_scheduler_setup_with_redis() -> None:
    """Seed 000 "Distributed Scheduler Setup": RedisDataStore.from_url +
    RedisEventBroker.from_url, nested job functions, un-awaited add_schedule."""
    from apscheduler.datastores.redis import RedisDataStore
    from apscheduler.eventbrokers.redis import RedisEventBroker

    redis_url = "redis://localhost:6379"
    ran: list[str] = []

    class DistributedSchedulerService:
        def __init__(self) -> None:
            self.scheduler = None

        async def setup_scheduler(self, instance_id: str) -> None:
            data_store = RedisDataStore.from_url(redis_url, prefix=f"seed000-{os.getpid()}")
            event_broker = RedisEventBroker.from_url(redis_url)
            self.scheduler = AsyncScheduler(
                data_store=data_store,
                event_broker=event_broker,
                identity=f"scheduler-{instance_id}",
            )

        async def add_distributed_jobs(self) -> None:
            async def distributed_task(task_id: str) -> None:
                ran.append(f"{task_id} on {self.scheduler.identity}")

            self.scheduler.add_schedule(
                distributed_task,
                "interval",
                seconds=30,
                args=["regular_task"],
                id="distributed_job",
                max_running_jobs=1,
            )

        async def start(self, instance_id: str) -> None:
            await self.setup_scheduler(instance_id)
            await self.add_distributed_jobs()
            await self.scheduler.start_in_background()

        async def stop(self) -> None:
            if self.scheduler:
                await self.scheduler.shutdown()

    async def main() -> None:
        service = DistributedSchedulerService()
        await service.start("default")
        try:
            while not ran:
                await service.scheduler.get_next_event(JobReleased)
            await service.scheduler.remove_schedule("distributed_job")
        finally:
            await service.stop()

    asyncio.run(asyncio.wait_for(main(), 20))
    assert ran == ["regular_task on scheduler-default"]
