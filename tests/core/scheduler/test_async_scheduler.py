"""Behaviour of AsyncScheduler that users rely on, with the memory store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import anyio
import pytest
from apscheduler import (
    AsyncScheduler,
    CoalescePolicy,
    ConflictPolicy,
    Event,
    JobAcquired,
    JobAdded,
    JobLookupError,
    JobOutcome,
    JobReleased,
    RunState,
    ScheduleLookupError,
    SchedulerStarted,
    SerializationError,
    TaskDefaults,
    UnknownPluginError,
    task,
)
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import jobfuncs

pytestmark = pytest.mark.anyio


class EventCollector:
    """Collects events and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = anyio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, predicate, timeout: float = 5) -> list[Event]:
        with anyio.fail_after(timeout):
            while True:
                matching = [event for event in self.events if predicate(event)]
                if matching:
                    return matching
                self._changed = anyio.Event()
                await self._changed.wait()


async def test_run_job_returns_value_of_sync_and_async_functions() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.start_in_background()
        assert await scheduler.run_job(jobfuncs.add, args=(1, 2)) == 3
        assert await scheduler.run_job(jobfuncs.async_add, args=(2, 3)) == 5


async def test_sync_function_runs_in_threadpool_by_default() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.configure_task(jobfuncs.add)
        tasks = {task.id: task for task in await scheduler.get_tasks()}
        assert tasks["tests.core.scheduler.jobfuncs:add"].job_executor == "threadpool"
        await scheduler.configure_task(jobfuncs.async_add)
        tasks = {task.id: task for task in await scheduler.get_tasks()}
        assert tasks["tests.core.scheduler.jobfuncs:async_add"].job_executor == "async"


async def test_job_that_raises_is_released_with_error_and_scheduler_goes_on() -> None:
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, {JobReleased})
        await scheduler.start_in_background()
        with pytest.raises(ValueError, match="kaboom"):
            await scheduler.run_job(jobfuncs.fail, args=("kaboom",))
        released = await collector.wait_for(lambda e: e.outcome is JobOutcome.error)
        event = released[0]
        assert event.exception_type == "builtins.ValueError"
        assert event.exception_message == "kaboom"
        assert any("kaboom" in line for line in event.exception_traceback)
        # The scheduler still runs jobs afterwards
        assert await scheduler.run_job(jobfuncs.add, args=(1, 1)) == 2
        assert scheduler.state is RunState.started


async def test_string_trigger_names_with_trigger_options() -> None:
    async with AsyncScheduler() as scheduler:
        run_date = datetime.now(timezone.utc) + timedelta(days=1)
        await scheduler.add_schedule(jobfuncs.record, "interval", seconds=10, id="every10")
        await scheduler.add_schedule(jobfuncs.record, "cron", hour=9, minute=0, id="at9")
        await scheduler.add_schedule(jobfuncs.record, "date", run_date=run_date, id="once")
        schedules = {s.id: s for s in await scheduler.get_schedules()}
        assert type(schedules["every10"].trigger).__name__ == "IntervalTrigger"
        assert type(schedules["at9"].trigger).__name__ == "CronTrigger"
        next_at9 = schedules["at9"].next_fire_time
        assert (next_at9.hour, next_at9.minute) == (9, 0)
        assert schedules["once"].next_fire_time == run_date


async def test_unknown_trigger_name_suggests_the_closest() -> None:
    async with AsyncScheduler() as scheduler:
        with pytest.raises(UnknownPluginError, match="'cron'"):
            await scheduler.add_schedule(jobfuncs.record, "crontab", hour=1)


async def test_trigger_options_with_trigger_object_are_rejected() -> None:
    async with AsyncScheduler() as scheduler:
        with pytest.raises(TypeError, match="trigger options"):
            await scheduler.add_schedule(jobfuncs.record, IntervalTrigger(seconds=1), seconds=5)


async def test_schedule_fires_and_passes_args() -> None:
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, JobReleased)
        await scheduler.add_schedule(
            jobfuncs.add,
            DateTrigger(datetime.now(timezone.utc)),
            args=(2, 5),
            id="s",
            job_result_expiration_time=60,
        )
        await scheduler.start_in_background()
        (event,) = await collector.wait_for(lambda e: e.schedule_id == "s")
        assert event.outcome is JobOutcome.success
        result = await scheduler.get_job_result(event.job_id)
        assert result.return_value == 7
        # Results stay readable until they expire (not deleted on first read)
        again = await scheduler.get_job_result(event.job_id)
        assert again is not None and again.return_value == 7


async def test_subscribe_by_event_name_and_unknown_name_fails() -> None:
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, {"JobAcquired", "JobReleased"})
        with pytest.raises(ValueError, match="JobReleased"):
            scheduler.subscribe(collector, {"JobError"})
        await scheduler.start_in_background()
        await scheduler.run_job(jobfuncs.add, args=(1, 1))
        await collector.wait_for(lambda e: isinstance(e, JobReleased))
        assert any(isinstance(e, JobAcquired) for e in collector.events)


async def test_slow_listener_does_not_delay_others() -> None:
    release_slow = anyio.Event()
    fast = EventCollector()

    async def slow_listener(event: Event) -> None:
        await release_slow.wait()

    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(slow_listener, {JobAdded})
        scheduler.subscribe(fast, {JobAdded})
        await scheduler.add_job(jobfuncs.add, args=(1, 1))
        await fast.wait_for(lambda e: isinstance(e, JobAdded))
        release_slow.set()


async def test_configure_task_is_not_reset_by_scheduling_the_function_again() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.configure_task(jobfuncs.record, max_running_jobs=5, job_executor="async")
        await scheduler.add_schedule(jobfuncs.record, "interval", seconds=30, id="rec")
        await scheduler.add_job(jobfuncs.record)
        (stored,) = [t for t in await scheduler.get_tasks() if t.id.endswith(":record")]
        assert stored.max_running_jobs == 5
        assert stored.job_executor == "async"


async def test_max_running_jobs_accepted_on_add_schedule() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.add_schedule(
            jobfuncs.add, "interval", seconds=30, args=(1, 2), max_running_jobs=3
        )
        (stored,) = [t for t in await scheduler.get_tasks() if t.id.endswith(":add")]
        assert stored.max_running_jobs == 3


async def test_task_decorator_and_task_defaults() -> None:
    @task(id="decorated", max_running_jobs=4, metadata={"category": "x"})
    def decorated() -> None:
        pass

    defaults = TaskDefaults(misfire_grace_time=15, metadata={"global": True})
    async with AsyncScheduler(task_defaults=defaults) as scheduler:
        await scheduler.configure_task(decorated)
        stored = await scheduler.get_task("decorated")
        assert stored.max_running_jobs == 4
        assert stored.misfire_grace_time == timedelta(seconds=15)
        assert stored.metadata == {"global": True, "category": "x"}


async def test_coalesce_accepts_bool() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.add_schedule(jobfuncs.record, "interval", seconds=5, id="a", coalesce=True)
        await scheduler.add_schedule(
            jobfuncs.record, "interval", seconds=5, id="b", coalesce=False
        )
        assert (await scheduler.get_schedule("a")).coalesce is CoalescePolicy.latest
        assert (await scheduler.get_schedule("b")).coalesce is CoalescePolicy.all


async def test_lambda_on_a_persistent_store_is_local_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from apscheduler.datastores.memory import MemoryDataStore

    class PersistentLookingStore(MemoryDataStore):
        persistent = True

    async with AsyncScheduler(PersistentLookingStore()) as scheduler:
        await scheduler.add_schedule(lambda: None, "interval", seconds=1, id="lam")
        (task,) = await scheduler.get_tasks()
        assert task.func is None
        assert "<lambda>@" in task.id
    assert "can only run in processes that schedule or configure it" in caplog.text


async def test_unserializable_argument_fails_at_add_schedule_naming_it() -> None:
    import threading

    from apscheduler.datastores.memory import MemoryDataStore
    from apscheduler.serializers.json import JSONSerializer

    class SerializingStore(MemoryDataStore):
        serializer = JSONSerializer()

    async with AsyncScheduler(SerializingStore()) as scheduler:
        with pytest.raises(SerializationError, match=r"kwargs\['lock'\]"):
            await scheduler.add_schedule(
                jobfuncs.record, "interval", seconds=1, kwargs={"lock": threading.Lock()}
            )
        assert await scheduler.get_schedules() == []


async def test_lambda_on_the_memory_store_runs_in_this_process() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.start_in_background()
        assert await scheduler.run_job(lambda: 41 + 1) == 42


async def test_lambda_with_explicit_task_id_runs_in_this_process() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.configure_task("lambda-task", func=lambda: 42)
        await scheduler.start_in_background()
        assert await scheduler.run_job("lambda-task") == 42


async def test_pause_unpause_configure_and_remove_schedule() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.add_schedule(jobfuncs.record, "interval", seconds=5, id="dyn")
        await scheduler.pause_schedule("dyn", note="maintenance")
        paused = await scheduler.get_schedule("dyn")
        assert paused.paused and paused.pause_note == "maintenance"
        await scheduler.unpause_schedule("dyn", resume_from="now")
        assert not (await scheduler.get_schedule("dyn")).paused
        updated = await scheduler.configure_schedule("dyn", seconds=10, args=["x"])
        assert (
            updated.trigger.__getstate__()["interval"] != paused.trigger.__getstate__()["interval"]
        )
        assert (await scheduler.get_schedule("dyn")).args == ("x",)
        await scheduler.remove_schedule("dyn")
        with pytest.raises(ScheduleLookupError):
            await scheduler.get_schedule("dyn")
        await scheduler.remove_schedule("dyn")  # silent when missing


async def test_configure_schedule_keeps_the_triggers_time_zone() -> None:
    """Changing the hour of a Helsinki cron schedule on a UTC scheduler must not move it
    to UTC; naming a zone, or another kind of trigger, behaves like add_schedule."""
    helsinki = ZoneInfo("Europe/Helsinki")
    async with AsyncScheduler(timezone="UTC") as scheduler:
        await scheduler.add_schedule(
            jobfuncs.record, "cron", hour=9, timezone="Europe/Helsinki", id="report"
        )
        updated = await scheduler.configure_schedule("report", hour=10)
        assert updated.trigger.timezone == helsinki
        assert updated.next_fire_time is not None
        local = updated.next_fire_time.astimezone(helsinki)
        assert (local.hour, local.minute) == (10, 0)
        stored = await scheduler.get_schedule("report")
        assert stored.trigger.timezone == helsinki

        moved = await scheduler.configure_schedule("report", hour=10, timezone="Asia/Tokyo")
        assert moved.trigger.timezone == ZoneInfo("Asia/Tokyo")
        other_kind = await scheduler.configure_schedule("report", trigger="interval", hours=2)
        assert other_kind.trigger.timezone == ZoneInfo("UTC")


async def test_conflict_policies() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.add_schedule(jobfuncs.record, "interval", seconds=5, id="c", args=[1])
        await scheduler.add_schedule(jobfuncs.record, "interval", seconds=5, id="c", args=[2])
        assert (await scheduler.get_schedule("c")).args == (1,)
        await scheduler.add_schedule(
            jobfuncs.record,
            "interval",
            seconds=5,
            id="c",
            args=[3],
            conflict_policy=ConflictPolicy.replace,
        )
        assert (await scheduler.get_schedule("c")).args == (3,)
        with pytest.raises(KeyError):
            await scheduler.add_schedule(
                jobfuncs.record, "interval", seconds=5, id="c", conflict_policy="exception"
            )


async def test_get_job_result_for_unknown_job() -> None:
    from uuid import uuid4

    async with AsyncScheduler() as scheduler:
        with pytest.raises(JobLookupError):
            await scheduler.get_job_result(uuid4())


async def test_current_job_inside_job() -> None:
    async with AsyncScheduler() as scheduler:
        await scheduler.start_in_background()
        schedule_id, job_id = await scheduler.run_job(jobfuncs.job_info)
        assert schedule_id is None
        assert job_id


async def test_stop_lets_running_jobs_finish_and_wait_until_stopped_waits() -> None:
    jobfuncs.gate.clear()
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, {JobAcquired, JobReleased})
        await scheduler.start_in_background()
        job_id = await scheduler.add_job(jobfuncs.wait_for_gate, result_expiration_time=60)
        await collector.wait_for(lambda e: isinstance(e, JobAcquired))
        scheduler.stop(timeout=10)
        assert scheduler.state is RunState.stopping
        jobfuncs.gate.set()
        with anyio.fail_after(10):
            await scheduler.wait_until_stopped()
        assert scheduler.state is RunState.stopped
        released = [e for e in collector.events if isinstance(e, JobReleased)]
        assert [e.outcome for e in released] == [JobOutcome.success]
        assert (await scheduler.data_store.get_job_result(job_id)).return_value == "finished"


async def test_stop_timeout_cancels_async_jobs_that_overrun() -> None:
    collector = EventCollector()
    never = anyio.Event()

    async with AsyncScheduler() as scheduler:
        await scheduler.configure_task("hang", func=never.wait)
        scheduler.subscribe(collector, {JobAcquired, JobReleased})
        await scheduler.start_in_background()
        await scheduler.add_job("hang")
        await collector.wait_for(lambda e: isinstance(e, JobAcquired))
        scheduler.stop(timeout=0)
        with anyio.fail_after(5):
            await scheduler.wait_until_stopped()
        released = [e for e in collector.events if isinstance(e, JobReleased)]
        assert [e.outcome for e in released] == [JobOutcome.cancelled]


async def test_shutdown_waits_for_running_jobs() -> None:
    jobfuncs.gate.clear()
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, {JobAcquired})
        await scheduler.start_in_background()
        await scheduler.add_job(jobfuncs.wait_for_gate)
        await collector.wait_for(lambda e: isinstance(e, JobAcquired))
        async with anyio.create_task_group() as tg:
            tg.start_soon(scheduler.shutdown)
            jobfuncs.gate.set()
        assert scheduler.state is RunState.stopped


async def test_scheduler_started_event_and_lifecycle() -> None:
    collector = EventCollector()
    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(collector, SchedulerStarted)
        await scheduler.start_in_background()
        await collector.wait_for(lambda e: isinstance(e, SchedulerStarted))
    assert scheduler.state is RunState.stopped


async def test_methods_need_the_context_manager() -> None:
    scheduler = AsyncScheduler()
    with pytest.raises(RuntimeError, match="async with"):
        await scheduler.add_job(jobfuncs.add, args=(1, 2))


async def test_string_data_store_and_unknown_executor_errors() -> None:
    with pytest.raises(UnknownPluginError, match="memory"):
        AsyncScheduler(data_store="memroy")
    async with AsyncScheduler(data_store="memory") as scheduler:
        with pytest.raises(UnknownPluginError, match="threadpool"):
            await scheduler.add_job(jobfuncs.add, args=(1, 2), job_executor="threadpol")


async def test_scheduler_default_timezone_applies_to_string_triggers() -> None:
    async with AsyncScheduler(timezone="Asia/Tokyo") as scheduler:
        await scheduler.add_schedule(jobfuncs.record, "cron", hour=9, id="tokyo")
        schedule = await scheduler.get_schedule("tokyo")
        local = schedule.next_fire_time.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
        assert local.hour == 9


async def test_second_stop_with_shorter_timeout_cancels_the_drain() -> None:
    collector = EventCollector()
    never = anyio.Event()

    async with AsyncScheduler() as scheduler:
        await scheduler.configure_task("hang", func=never.wait)
        scheduler.subscribe(collector, {JobAcquired, JobReleased})
        await scheduler.start_in_background()
        await scheduler.add_job("hang")
        await collector.wait_for(lambda e: isinstance(e, JobAcquired))
        scheduler.stop(timeout=None)  # wait as long as the job needs...
        await anyio.wait_all_tasks_blocked()
        scheduler.stop(timeout=0)  # ...then the operator presses Ctrl-C again
        with anyio.fail_after(5):
            await scheduler.wait_until_stopped()
        released = [e for e in collector.events if isinstance(e, JobReleased)]
        assert [e.outcome for e in released] == [JobOutcome.cancelled]


async def test_error_in_async_with_block_propagates_unwrapped() -> None:
    class Oops(Exception):
        pass

    with pytest.raises(Oops) as exc_info:
        async with AsyncScheduler() as scheduler:
            await scheduler.start_in_background()
            raise Oops("from the body")
    assert type(exc_info.value) is Oops
    assert scheduler.state is RunState.stopped
