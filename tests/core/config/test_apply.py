"""Applying a configuration to a store: add, keep, replace, skip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from apscheduler import AsyncScheduler, ConflictPolicy
from apscheduler.config import DIGEST_KEY, apply_config, resolve_config
from apscheduler.datastores.memory import MemoryDataStore

from .conftest import FUNCS

pytestmark = pytest.mark.anyio

CONFIG = f"""
[tasks.greet]
func = "{FUNCS}:greet"
max_running_jobs = 2

[schedules.tick]
task = "greet"
trigger = {{ type = "interval", seconds = 30 }}
args = ["tick"]

[schedules.daily]
func = "{FUNCS}:noop"
trigger = {{ type = "cron", hour = 9 }}
misfire_grace_time = "5m"
"""


@pytest.fixture
def store() -> MemoryDataStore:
    return MemoryDataStore()


@pytest.fixture
async def scheduler(store: MemoryDataStore) -> AsyncIterator[AsyncScheduler]:
    async with AsyncScheduler(store) as scheduler:
        yield scheduler


async def apply(scheduler: AsyncScheduler, parse, text: str):  # type: ignore[no-untyped-def]
    return await apply_config(scheduler, resolve_config(parse(text)))


async def test_adds_tasks_and_schedules(scheduler: AsyncScheduler, parse) -> None:
    report = await apply(scheduler, parse, CONFIG)
    assert report.added == ["tick", "daily"]
    task = await scheduler.get_task("greet")
    assert task.func == f"{FUNCS}:greet"
    assert task.max_running_jobs == 2
    tick = await scheduler.get_schedule("tick")
    assert tick.task_id == "greet"
    assert tick.args == ("tick",)
    assert DIGEST_KEY in tick.metadata
    daily = await scheduler.get_schedule("daily")
    assert daily.task_id == f"{FUNCS}:noop"
    assert daily.misfire_grace_time == timedelta(minutes=5)


async def test_unchanged_schedules_keep_their_state(scheduler: AsyncScheduler, parse) -> None:
    await apply(scheduler, parse, CONFIG)
    before = await scheduler.get_schedule("tick")
    await scheduler.pause_schedule("tick", note="maintenance")

    report = await apply(scheduler, parse, CONFIG)

    assert report.unchanged == ["tick", "daily"]
    after = await scheduler.get_schedule("tick")
    assert after.paused
    assert after.pause_note == "maintenance"
    assert after.next_fire_time == before.next_fire_time
    assert len(await scheduler.get_schedules()) == 2


async def test_edited_schedules_are_replaced(scheduler: AsyncScheduler, parse) -> None:
    await apply(scheduler, parse, CONFIG)
    await scheduler.pause_schedule("tick")

    report = await apply(scheduler, parse, CONFIG.replace('args = ["tick"]', 'args = ["tock"]'))

    assert report.updated == ["tick"]
    assert report.unchanged == ["daily"]
    tick = await scheduler.get_schedule("tick")
    assert tick.args == ("tock",)
    assert not tick.paused  # the file says paused = false


async def test_editing_a_task_updates_its_schedules(scheduler: AsyncScheduler, parse) -> None:
    await apply(scheduler, parse, CONFIG)
    report = await apply(scheduler, parse, CONFIG.replace("max_running_jobs = 2", ""))
    assert report.updated == ["tick"]
    assert (await scheduler.get_task("greet")).max_running_jobs == 1  # back to the default


async def test_finished_schedule_is_added_again(
    scheduler: AsyncScheduler, store: MemoryDataStore, parse
) -> None:
    text = f"""
    [schedules.once]
    func = "{FUNCS}:noop"
    trigger = {{ type = "date", run_time = "+5s" }}
    """
    await apply(scheduler, parse, text)
    finished = await scheduler.get_schedule("once")
    finished.next_fire_time = None
    finished.trigger.next()  # exhaust the date trigger, as firing it would
    await store.add_schedule(finished, ConflictPolicy.replace)

    report = await apply(scheduler, parse, text)

    assert report.added == ["once"]
    assert (await scheduler.get_schedule("once")).next_fire_time is not None


async def test_passed_one_off_is_skipped(scheduler: AsyncScheduler, parse) -> None:
    report = await apply(
        scheduler,
        parse,
        f"""
        [schedules.once]
        func = "{FUNCS}:noop"
        trigger = {{ type = "date", run_time = 2001-01-01T00:00:00Z }}
        """,
    )
    reason = "its only fire time (2001-01-01 00:00:00+00:00) has passed"
    assert report.skipped == [("once", reason)]
    assert await scheduler.get_schedules() == []


async def test_schedules_not_in_the_file_are_left_alone(scheduler: AsyncScheduler, parse) -> None:
    from .cfgfuncs import noop

    await scheduler.add_schedule(noop, "interval", minutes=5, id="from-code")
    await apply(scheduler, parse, CONFIG)
    assert {s.id for s in await scheduler.get_schedules()} == {"from-code", "tick", "daily"}
