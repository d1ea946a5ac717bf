"""Code run in child processes by the multi-process SQLite tests (importable by spawn)."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
from apscheduler import ScheduleResult
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore


def acquire_all(url: str, kind: str, scheduler_id: str, barrier: Any, batch: int) -> list[str]:
    """Acquire schedules or jobs from ``url`` until none is left; return their IDs."""

    async def run() -> list[str]:
        taken: list[str] = []
        async with AsyncExitStack() as stack:
            broker = LocalEventBroker()
            await broker.start(stack, logging.getLogger("child"))
            store = SQLAlchemyDataStore(url)
            await store.start(stack, broker, logging.getLogger("child"))
            barrier.wait(30)
            while True:
                if kind == "jobs":
                    items: list[Any] = await store.acquire_jobs(
                        scheduler_id, timedelta(minutes=5), batch
                    )
                else:
                    items = await store.acquire_schedules(
                        scheduler_id, timedelta(minutes=5), batch
                    )
                    # Processed: the next fire time is far away, so it is no longer due
                    results = [
                        ScheduleResult(
                            schedule_id=schedule.id,
                            task_id=schedule.task_id,
                            trigger=schedule.trigger,
                            last_fire_time=schedule.next_fire_time,
                            next_fire_time=datetime.now(timezone.utc) + timedelta(days=1),
                            lease_token=schedule.lease_token,
                        )
                        for schedule in items
                    ]
                    if await store.release_schedules(scheduler_id, results):
                        raise AssertionError("a release was refused")
                if not items:
                    return taken
                taken.extend(str(item.id) for item in items)
                if len(taken) == len(items):
                    # Both processes hold a first batch before either goes on: from here
                    # on they really compete for the rest
                    barrier.wait(30)

    return anyio.run(run)
