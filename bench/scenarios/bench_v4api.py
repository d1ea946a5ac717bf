"""Scenario bodies for the APScheduler 4 API, shared by this project ("ours") and 4.0.0a6.

The two differ in a few details handled here: ``stop()`` is a coroutine in 4.0.0a6 and a
plain method in this project, and 4.0.0a6 sends plain functions to the ``async`` executor
unless told otherwise (so the thread pool scenario names ``threadpool`` explicitly for
both). Everything else - the data store, event broker and scheduler settings - is left at
the defaults of each implementation.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench_common import PG_DSN, PG_URL_ASYNC, Unavailable


class Countdown:
    """An event subscriber that sets ``done`` once ``target`` events have arrived."""

    def __init__(self, target: int) -> None:
        self.count = 0
        self.target = target
        self.done = asyncio.Event()

    def __call__(self, event: object) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()

    def retarget(self, target: int) -> None:
        """Lower the target (a run that stopped adding early waits for fewer jobs)."""
        self.target = target
        if self.count >= target:
            self.done.set()


def sql_store(store: str, workdir: Path, schema: str) -> Any:
    """The ``SQLAlchemyDataStore`` for ``store`` ("sqlite" file or "postgresql")."""
    try:
        from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
    except ImportError as exc:
        raise Unavailable(f"SQLAlchemyDataStore cannot be imported: {exc}") from exc
    if store == "sqlite":
        return SQLAlchemyDataStore(f"sqlite:///{workdir / 'bench.sqlite'}")
    return SQLAlchemyDataStore(PG_URL_ASYNC, schema=schema)


def asyncpg_broker(channel: str) -> Any:
    """The PostgreSQL LISTEN/NOTIFY event broker (asyncpg) on its own channel."""
    try:
        from apscheduler.eventbrokers.asyncpg import AsyncpgEventBroker
    except ImportError as exc:
        raise Unavailable(f"AsyncpgEventBroker cannot be imported: {exc}") from exc
    return AsyncpgEventBroker(PG_DSN, channel=channel)


def scheduler(data_store: Any = None, event_broker: Any = None, **options: Any) -> Any:
    """An ``AsyncScheduler`` with the given store and broker (defaults when ``None``)."""
    from apscheduler import AsyncScheduler

    if data_store is not None:
        options["data_store"] = data_store
    if event_broker is not None:
        options["event_broker"] = event_broker
    return AsyncScheduler(**options)


async def stop(sched: Any) -> None:
    """Stop the scheduler whether ``stop()`` is a coroutine (4.0.0a6) or not (ours)."""
    result = sched.stop()
    if inspect.isawaitable(result):
        await result


async def throughput(
    sched: Any,
    func: Callable[..., Any],
    executor: str,
    n: int,
    time_limit: float,
    prefill: bool = False,
) -> dict[str, Any]:
    """Add ``n`` immediate jobs one after another while the scheduler runs; time how long
    until all have been released (or ``time_limit`` passed).

    With ``prefill`` the jobs are all queued before the scheduler starts and only the
    draining of the queue is timed.
    """
    from apscheduler import JobReleased

    countdown = Countdown(n)
    sched.subscribe(countdown, JobReleased)
    if not prefill:
        await sched.start_in_background()
    start = time.perf_counter()
    deadline = start + time_limit
    added = 0
    while added < n and time.perf_counter() < deadline:
        await sched.add_job(func, job_executor=executor)
        added += 1
        # A producer coroutine yields between adds; this lets the scheduler react
        await asyncio.sleep(0)
    add_seconds = time.perf_counter() - start
    countdown.retarget(added)
    if prefill:
        start = time.perf_counter()
        deadline = start + time_limit
        await sched.start_in_background()
    try:
        await asyncio.wait_for(countdown.done.wait(), max(deadline - time.perf_counter(), 0.01))
    except asyncio.TimeoutError:
        pass
    elapsed = time.perf_counter() - start
    completed = countdown.count
    await stop(sched)
    return {
        "jobs_per_s": completed / elapsed,
        "add_us": add_seconds / max(added, 1) * 1e6,
        "requested": n,
        "added": added,
        "completed": completed,
        "elapsed_s": elapsed,
        "capped": completed < n,
    }


async def add_date_schedules(
    sched: Any, func: Callable[..., Any], run_time: datetime, n: int, step: timedelta
) -> float:
    """Add ``n`` date schedules at ``run_time + i * step``; return the seconds it took."""
    from apscheduler.triggers.date import DateTrigger

    start = time.perf_counter()
    for i in range(n):
        await sched.add_schedule(func, DateTrigger(run_time + i * step))
        await asyncio.sleep(0)
    return time.perf_counter() - start


async def add_interval_schedules(
    sched: Any, func: Callable[..., Any], start_time: datetime, n: int
) -> float:
    """Add ``n`` one-second interval schedules all starting at ``start_time``."""
    from apscheduler.triggers.interval import IntervalTrigger

    start = time.perf_counter()
    for _ in range(n):
        await sched.add_schedule(func, IntervalTrigger(seconds=1, start_time=start_time))
        await asyncio.sleep(0)
    return time.perf_counter() - start


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
