"""``AsyncIOScheduler`` runs on the application's event loop; its methods never block it."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from apscheduler._clock import FakeClock, use_clock
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_REMOVED
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger

from . import jobfuncs

pytestmark = pytest.mark.anyio


def in_past(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)


class AsyncEvents:
    """A listener (called on the loop) that the test can await events from."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Any) -> None:
        assert asyncio.get_running_loop() is not None  # v3: listeners run on the loop
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, code: int, timeout: float = 10) -> Any:
        with anyio.fail_after(timeout):
            while True:
                for event in self.events:
                    if event.code == code:
                        self.events.remove(event)
                        return event
                self._changed.clear()
                await self._changed.wait()


async def test_start_inside_running_loop_and_jobs_run_on_it() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    assert isinstance(scheduler._create_default_executor(), AsyncIOExecutor)
    events = AsyncEvents()
    scheduler.add_listener(events, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    loop_thread = threading.get_ident()
    ran_in: list[int] = []

    async def coroutine_job(value: int) -> int:
        ran_in.append(threading.get_ident())
        return value * 2

    scheduler.start()
    assert scheduler.state == STATE_RUNNING
    job = scheduler.add_job(
        coroutine_job, "date", run_date=in_past(0.1), args=[21], misfire_grace_time=None, id="co"
    )
    assert job.id == "co"
    event = await events.wait_for(EVENT_JOB_EXECUTED)
    assert (event.job_id, event.retval) == ("co", 42)
    assert ran_in == [loop_thread]  # the coroutine ran on the application's loop

    scheduler.add_job(
        jobfuncs.add, "date", run_date=in_past(0.1), args=[1, 1], misfire_grace_time=None
    )
    event = await events.wait_for(EVENT_JOB_EXECUTED)
    assert event.retval == 2  # plain functions run in a worker thread
    await scheduler.shutdown()
    assert scheduler.state == STATE_STOPPED


async def test_methods_called_on_the_loop_do_not_block() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    job = scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="x")
    assert scheduler.get_job("x") is not None
    with pytest.raises(ConflictingIdError):
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="x")
    replaced = scheduler.add_job(jobfuncs.noop, "interval", hours=2, id="x", replace_existing=True)
    assert replaced.trigger != job.trigger
    assert [j.id for j in scheduler.get_jobs()] == ["x"]
    paused = scheduler.pause_job("x")
    assert paused.next_run_time is None
    resumed = scheduler.resume_job("x")
    assert resumed is not None and resumed.next_run_time is not None
    scheduler.modify_job("x", name="Renamed")
    assert scheduler.get_job("x").name == "Renamed"  # type: ignore[union-attr]
    scheduler.remove_job("x", jobstore="default")
    assert scheduler.get_jobs() == []
    with pytest.raises(JobLookupError):
        scheduler.remove_job("x")
    await scheduler.shutdown()


async def test_in_loop_changes_reach_the_store() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="a", name="A")
    scheduler.modify_job("a", name="B")
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="b")
    scheduler.remove_job("b")

    def read_from_another_thread() -> list[tuple[str, str]]:
        return [(job.id, job.name) for job in scheduler.get_jobs()]

    # another thread waits for the store itself, behind the queued changes
    assert await anyio.to_thread.run_sync(read_from_another_thread) == [("a", "B")]
    await scheduler.shutdown()


async def test_in_loop_remove_after_job_finished() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    events = AsyncEvents()
    scheduler.add_listener(events, EVENT_JOB_REMOVED)
    scheduler.start()
    scheduler.add_job(
        jobfuncs.add,
        "date",
        run_date=in_past(0.1),
        args=[1, 2],
        id="once",
        misfire_grace_time=None,
    )
    assert (await events.wait_for(EVENT_JOB_REMOVED)).job_id == "once"
    assert scheduler.get_job("once") is None
    await scheduler.shutdown()


async def test_interval_first_fires_one_interval_after_adding() -> None:
    clock = FakeClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    with use_clock(clock):
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        job = scheduler.add_job(jobfuncs.noop, "interval", seconds=10)
        assert job.next_run_time == datetime(2030, 1, 1, 0, 0, 10, tzinfo=timezone.utc)
        object_job = scheduler.add_job(
            jobfuncs.noop,
            IntervalTrigger(seconds=10, start_time=clock.now() - timedelta(seconds=25)),
        )
        # a trigger object keeps its start time; past fire times are skipped (v3)
        assert object_job.next_run_time == datetime(2030, 1, 1, 0, 0, 5, tzinfo=timezone.utc)
        await scheduler.shutdown()


async def test_start_requires_a_loop() -> None:
    scheduler = AsyncIOScheduler()

    def start_without_loop() -> None:
        scheduler.start()

    with pytest.raises(RuntimeError):
        await anyio.to_thread.run_sync(start_without_loop)
    assert scheduler.state == STATE_STOPPED


async def test_blocking_call_from_another_thread() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()

    def add_from_thread() -> Any:
        return scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="t")

    job = await anyio.to_thread.run_sync(add_from_thread)
    assert job.id == "t" and job.next_run_time is not None and not job.pending
    await anyio.to_thread.run_sync(lambda: scheduler.shutdown(wait=True))
    assert scheduler.state == STATE_STOPPED


def test_event_loop_option() -> None:
    loop = asyncio.new_event_loop()
    try:
        scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
        scheduler.add_job(
            jobfuncs.add, "date", run_date=in_past(0.1), args=[5, 5], misfire_grace_time=None
        )
        scheduler.start()  # the loop is not running yet: v3's classic run_forever() style

        async def run_until_done() -> None:
            await anyio.to_thread.run_sync(jobfuncs.wait_for, "add")
            await scheduler.shutdown()

        loop.run_until_complete(run_until_done())
        assert jobfuncs.RECORDS["add"] == [10]
    finally:
        loop.close()


async def test_tornado_scheduler_runs_on_the_ioloop_asyncio_loop() -> None:
    from apscheduler.schedulers.tornado import TornadoScheduler

    class FakeIOLoop:  # what tornado.ioloop.IOLoop offers since Tornado 5
        asyncio_loop = asyncio.get_running_loop()

    scheduler = TornadoScheduler(io_loop=FakeIOLoop(), timezone="UTC")
    assert isinstance(scheduler, AsyncIOScheduler)
    assert scheduler._eventloop is FakeIOLoop.asyncio_loop
    scheduler.start()
    scheduler.add_job(
        jobfuncs.add, "date", run_date=in_past(0.1), args=[3, 4], misfire_grace_time=None
    )
    assert await anyio.to_thread.run_sync(jobfuncs.wait_for, "add") == [7]
    await scheduler.shutdown()


@pytest.mark.parametrize(
    ("module", "hint"),
    [
        ("gevent", "BackgroundScheduler"),
        ("twisted", "AsyncIOScheduler"),
        ("qt", "BackgroundScheduler"),
    ],
)
def test_unsupported_schedulers_say_what_to_use(module: str, hint: str) -> None:
    import importlib

    with pytest.raises(ImportError, match=hint):
        importlib.import_module(f"apscheduler.schedulers.{module}")
