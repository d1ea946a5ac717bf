"""The store and brokers driven by the real AsyncScheduler."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from apscheduler import AsyncScheduler, JobOutcome, SchedulerRole
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.asyncpg import AsyncpgEventBroker
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import RUN_ID, pg_url
from .e2e_jobs import add, trivial

pytestmark = pytest.mark.anyio


async def test_sqlite_url_persists_schedules_across_restart(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    async with AsyncScheduler(data_store=url) as scheduler:
        await scheduler.add_schedule(trivial, "interval", hours=1, id="hourly")
    async with AsyncScheduler(data_store=url) as scheduler:
        [schedule] = await scheduler.get_schedules()
        assert schedule.id == "hourly"
        assert isinstance(schedule.trigger, IntervalTrigger)
        first, second = schedule.trigger.preview(2)
        assert second - first == timedelta(hours=1)
        assert schedule.next_fire_time is not None


async def test_sqlite_runs_jobs_and_keeps_results(sqlite_path: Path) -> None:
    async with AsyncScheduler(data_store=f"sqlite:///{sqlite_path}") as scheduler:
        await scheduler.start_in_background()
        job_ids = [
            await scheduler.add_job(add, args=(i, 1), result_expiration_time=60)
            for i in range(20)
        ]
        with anyio.fail_after(20):
            results = [await scheduler.get_job_result(job_id) for job_id in job_ids]
        assert [result.return_value for result in results] == [i + 1 for i in range(20)]
        assert all(result.outcome is JobOutcome.success for result in results)
        again = await scheduler.get_job_result(job_ids[0], wait=False)
        assert again is not None and again.return_value == 1


async def test_seed_002_postgresql_with_asyncpg_broker(postgresql_schema: str) -> None:
    """The seed's production setup: one async engine shared by the store and the
    LISTEN/NOTIFY broker, a scheduler node and a worker node."""
    engine = create_async_engine(pg_url("asyncpg"))
    try:
        def store() -> SQLAlchemyDataStore:
            return SQLAlchemyDataStore(
                engine, schema=postgresql_schema, table_prefix=f"seed{RUN_ID}_"
            )

        def broker() -> AsyncpgEventBroker:
            return AsyncpgEventBroker.from_async_sqla_engine(engine, channel=f"seed{RUN_ID}")

        async with (
            AsyncScheduler(store(), broker(), role=SchedulerRole.scheduler) as node,
            AsyncScheduler(store(), broker(), role=SchedulerRole.worker) as worker,
        ):
            await node.start_in_background()
            await worker.start_in_background()
            job_id = await node.add_job(add, args=(2, 3), result_expiration_time=60)
            with anyio.fail_after(20):
                result = await node.get_job_result(job_id)
            assert result is not None and result.return_value == 5
            await node.add_schedule(
                trivial, "interval", seconds=1, id="tick", job_result_expiration_time=60
            )
            [schedule] = await node.get_schedules()
            assert schedule.id == "tick"
    finally:
        await engine.dispose()


async def test_two_workers_share_sqlite_file_without_duplicates(sqlite_path: Path) -> None:
    """Two schedulers with their own store on one SQLite file run every job once."""
    url = f"sqlite:///{sqlite_path}"
    released: list[object] = []
    async with (
        AsyncScheduler(data_store=url, lease_duration=timedelta(seconds=30)) as first,
        AsyncScheduler(data_store=url, role=SchedulerRole.worker) as second,
    ):
        for scheduler in (first, second):
            scheduler.subscribe(
                lambda event: released.append((event.job_id, event.scheduler_id)),
                {"JobReleased"},
            )
        job_ids = [await first.add_job(trivial, result_expiration_time=60) for _ in range(100)]
        await first.start_in_background()
        await second.start_in_background()
        with anyio.fail_after(30):
            for job_id in job_ids:
                result = await first.get_job_result(job_id)
                assert result is not None and result.outcome is JobOutcome.success
    ran = [job_id for job_id, _ in released if job_id in set(job_ids)]
    assert sorted(map(str, set(ran))) == sorted(map(str, job_ids))


async def test_corrupt_schedule_does_not_stop_the_scheduler(sqlite_path: Path) -> None:
    """A schedule row with bad JSON is reported (event + log) and skipped; the other
    schedules keep firing and get_schedules() keeps working."""
    store = SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")
    failures: list[object] = []
    async with AsyncScheduler(store) as scheduler:
        scheduler.subscribe(failures.append, {"ScheduleDeserializationFailed"})
        await scheduler.add_schedule(trivial, "interval", seconds=1, id="bad")
        await scheduler.add_schedule(
            add, "interval", seconds=1, id="good", args=(1, 1), job_result_expiration_time=60
        )

        def damage(conn: object) -> None:
            table = store.tables.schedules
            conn.execute(  # type: ignore[attr-defined]
                table.update().where(table.c.id == "bad").values(args=b'{"not": valid json')
            )

        await store._runner.run(damage)
        released = anyio.Event()
        scheduler.subscribe(
            lambda event: released.set() if event.schedule_id == "good" else None,
            {"JobReleased"},
        )
        await scheduler.start_in_background()
        with anyio.fail_after(10):
            await released.wait()
        assert [schedule.id for schedule in await scheduler.get_schedules()] == ["good"]
    assert any(getattr(event, "schedule_id", None) == "bad" for event in failures)
