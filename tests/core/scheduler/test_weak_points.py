"""One test per APScheduler 4 weak point (reference §12) that concerns the runtime.

Each test name says which weak point it covers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from apscheduler import (
    AsyncScheduler,
    Job,
    JobAdded,
    JobOutcome,
    JobReleased,
    ScheduleTriggerFailed,
    Task,
)
from apscheduler._clock import FakeClock, use_clock
from apscheduler._registry import get_registry
from apscheduler.abc import Trigger
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.hookspecs import hookimpl
from apscheduler.triggers.date import DateTrigger

from .test_async_scheduler import EventCollector

pytestmark = pytest.mark.anyio

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


class LossyBroker(LocalEventBroker):
    """Drops JobAdded notifications, like a lost NOTIFY or pub/sub message."""

    async def publish(self, event: Any) -> None:
        if not isinstance(event, JobAdded):
            await super().publish(event)


async def ran() -> str:
    return "ran"


async def test_weak_point_1_fallback_polling_picks_up_work_after_a_lost_wakeup() -> None:
    clock = FakeClock(START)
    collector = EventCollector()
    with use_clock(clock):
        async with AsyncScheduler(event_broker=LossyBroker(), poll_interval=5) as scheduler:
            scheduler.subscribe(collector, JobReleased)
            await scheduler.start_in_background()
            await wait_all_tasks_blocked()
            await scheduler.add_job(ran)
            await wait_all_tasks_blocked()
            assert not collector.events, "the job must wait for the next poll"
            assert len(await scheduler.get_jobs()) == 1
            with anyio.fail_after(5):
                while not collector.events:
                    clock.advance(5)
                    await wait_all_tasks_blocked()
            assert collector.events[0].outcome is JobOutcome.success


async def test_weak_point_2_no_busy_loop_on_paused_past_due_schedule() -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        async with AsyncScheduler(poll_interval=10) as scheduler:
            calls = 0
            original = scheduler.data_store.acquire_schedules

            async def counting(*args: Any, **kwargs: Any) -> Any:
                nonlocal calls
                calls += 1
                return await original(*args, **kwargs)

            scheduler.data_store.acquire_schedules = counting  # type: ignore[method-assign]
            await scheduler.add_schedule(
                ran, DateTrigger(START - timedelta(hours=1)), id="paused", paused=True
            )
            await scheduler.start_in_background()
            for _ in range(20):
                await wait_all_tasks_blocked()
            assert calls == 1
            clock.advance(10)  # one poll interval later: exactly one more check
            for _ in range(20):
                await wait_all_tasks_blocked()
            assert calls == 2


class ExplodingTrigger(Trigger):
    """Fires once, then raises, like a buggy third-party trigger."""

    def __init__(self, first: datetime) -> None:
        self.first: datetime | None = first

    def next(self) -> datetime | None:
        if self.first is not None:
            value, self.first = self.first, None
            return value
        raise RuntimeError("trigger bug")

    def __getstate__(self) -> Any:
        return {"first": self.first.isoformat() if self.first else None}

    def __setstate__(self, state: Any) -> None:
        self.first = datetime.fromisoformat(state["first"]) if state["first"] else None


class ExplodingPlugin:
    @hookimpl
    def register_triggers(self, register: Any) -> None:
        register("exploding", ExplodingTrigger)


@pytest.fixture
def exploding_trigger_plugin():
    name = get_registry().register_plugin(ExplodingPlugin(), "exploding-test")
    yield
    get_registry().unregister_plugin(name)


async def test_weak_point_31_raising_trigger_is_reported_and_isolated(
    exploding_trigger_plugin: None,
) -> None:
    collector = EventCollector()
    now = datetime.now(timezone.utc)
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, {ScheduleTriggerFailed, JobReleased})
        await scheduler.add_schedule(ran, ExplodingTrigger(now), id="bad")
        await scheduler.add_schedule(ran, DateTrigger(now), id="good")
        await scheduler.start_in_background()
        failed = await collector.wait_for(lambda e: isinstance(e, ScheduleTriggerFailed))
        assert failed[0].schedule_id == "bad"
        assert "trigger bug" in failed[0].exception
        await collector.wait_for(lambda e: isinstance(e, JobReleased) and e.schedule_id == "good")
        assert scheduler.state.name == "started"


async def test_weak_point_32_unknown_executor_releases_job_with_clear_outcome() -> None:
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, JobReleased)
        await scheduler.configure_task("t", func=ran)
        await scheduler.data_store.add_jobs([Job(task_id="t", executor="no-such-executor")])
        await scheduler.start_in_background()
        (event,) = await collector.wait_for(lambda e: True)
        assert event.outcome is JobOutcome.error
        assert "no-such-executor" in event.exception_message
        assert await scheduler.run_job(ran) == "ran"


async def test_weak_point_33_missing_callable_releases_job_and_scheduler_survives() -> None:
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, JobReleased)
        await scheduler.data_store.add_task(
            Task(id="ghost", func="no_such_module_xyz:func", job_executor="async")
        )
        await scheduler.data_store.add_jobs([Job(task_id="ghost", executor="async")])
        await scheduler.start_in_background()
        (event,) = await collector.wait_for(lambda e: True)
        assert event.outcome is JobOutcome.error
        assert event.exception_type.endswith("CallableLookupError")
        assert "no_such_module_xyz" in event.exception_message
        assert await scheduler.run_job(ran) == "ran"


async def test_weak_point_4_wait_until_stopped_really_waits() -> None:
    gate = anyio.Event()
    acquired = EventCollector()

    async def slow() -> None:
        await gate.wait()

    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(acquired, JobAdded)
        await scheduler.start_in_background()
        await scheduler.configure_task("slow", func=slow)
        await scheduler.add_job("slow")
        await acquired.wait_for(lambda e: True)
        await wait_all_tasks_blocked()
        scheduler.stop(timeout=None)
        stopped = False

        async def waiter() -> None:
            nonlocal stopped
            await scheduler.wait_until_stopped()
            stopped = True

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await wait_all_tasks_blocked()
            assert not stopped, "wait_until_stopped returned while a job was still running"
            gate.set()
        assert stopped


async def test_weak_point_21_scheduler_whose_lease_ran_out_cannot_double_fire() -> None:
    """Scheduler A stalls past its lease; B takes the schedule over and fires it. A's late
    release is refused (fencing token), so the fire time produces exactly one job."""
    from apscheduler import LeaseLost, Schedule, ScheduleResult
    from apscheduler.datastores.memory import MemoryDataStore

    clock = FakeClock(START)
    with use_clock(clock):
        store = MemoryDataStore()
        collector = EventCollector()
        async with AsyncScheduler(store) as scheduler:
            scheduler.subscribe(collector, LeaseLost)
            await scheduler.configure_task("t", func=ran)
            await store.add_schedule(
                Schedule(
                    id="s",
                    task_id="t",
                    trigger=DateTrigger(START),
                    job_executor="async",
                    next_fire_time=START,
                ),
                conflict_policy="do_nothing",
            )
            lease = timedelta(seconds=30)
            (stale,) = await store.acquire_schedules("A", lease, 10)
            clock.advance(31)  # A stalls longer than its lease
            (fresh,) = await store.acquire_schedules("B", lease, 10)

            def result(schedule: Schedule) -> ScheduleResult:
                job = Job(
                    task_id="t", executor="async", schedule_id="s", scheduled_fire_time=START
                )
                return ScheduleResult(
                    schedule_id="s",
                    task_id="t",
                    trigger=schedule.trigger,
                    last_fire_time=START,
                    next_fire_time=None,
                    lease_token=schedule.lease_token,
                    jobs=(job,),
                )

            assert await store.release_schedules("B", [result(fresh)]) == []
            assert await store.release_schedules("A", [result(stale)]) == ["s"]
            assert len(await store.get_jobs()) == 1
            (event,) = await collector.wait_for(lambda e: True)
            assert event.scheduler_id == "A" and event.schedule_ids == ("s",)
