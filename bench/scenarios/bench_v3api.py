"""Scenario bodies for APScheduler 3.11.3.

Coroutine jobs run on ``AsyncIOScheduler`` (its default executor awaits them on the event
loop); plain functions on ``BackgroundScheduler`` with its default thread pool, the usual
APScheduler 3 set-up. Job stores and job defaults are left at their defaults (notably
``misfire_grace_time=1``: a run that starts more than a second late is *missed*, which
the scenarios count separately).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from bench_common import PG_URL_SYNC, Unavailable


def jobstore(store: str, workdir: Path, schema: str) -> Any:
    """The APScheduler 3 job store for ``store`` ("memory", "sqlite" file, "postgresql")."""
    if store == "memory":
        from apscheduler.jobstores.memory import MemoryJobStore

        return MemoryJobStore()
    try:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    except ImportError as exc:
        raise Unavailable(f"SQLAlchemyJobStore cannot be imported: {exc}") from exc
    if store == "sqlite":
        return SQLAlchemyJobStore(url=f"sqlite:///{workdir / 'bench.sqlite'}")
    return SQLAlchemyJobStore(url=PG_URL_SYNC, tableschema=schema)


class Tally:
    """A thread-safe listener counting finished runs (executed, failed or missed)."""

    def __init__(self, target: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.count = 0
        self.missed = 0
        self.errors = 0
        self.target = target
        self._lock = threading.Lock()
        self._loop = loop
        self.done_thread = threading.Event()
        self.done_async = asyncio.Event() if loop is not None else None

    def __call__(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

        with self._lock:
            self.count += 1
            if event.code == EVENT_JOB_MISSED:
                self.missed += 1
            elif event.code == EVENT_JOB_ERROR:
                self.errors += 1
            reached = self.count >= self.target
        if reached:
            self._signal()

    def retarget(self, target: int) -> None:
        with self._lock:
            self.target = target
            reached = self.count >= target
        if reached:
            self._signal()

    def _signal(self) -> None:
        self.done_thread.set()
        if self._loop is not None and self.done_async is not None:
            self._loop.call_soon_threadsafe(self.done_async.set)


def listen(sched: Any, tally: Tally) -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    sched.add_listener(tally, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)


def _result(tally: Tally, n: int, added: int, add_seconds: float, start: float) -> dict:
    elapsed = time.perf_counter() - start
    executed = tally.count - tally.missed - tally.errors
    return {
        "jobs_per_s": executed / elapsed,
        "add_us": add_seconds / max(added, 1) * 1e6,
        "requested": n,
        "added": added,
        "completed": executed,
        "missed": tally.missed,
        "errors": tally.errors,
        "elapsed_s": elapsed,
        "capped": added < n or tally.count < added,
    }


async def throughput_async(store: Any, n: int, time_limit: float) -> dict[str, Any]:
    """``n`` immediate coroutine jobs on ``AsyncIOScheduler``."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from bench_jobs import async_noop

    sched = AsyncIOScheduler(jobstores={"default": store})
    tally = Tally(n, asyncio.get_running_loop())
    listen(sched, tally)
    sched.start()
    start = time.perf_counter()
    deadline = start + time_limit
    added = 0
    while added < n and time.perf_counter() < deadline:
        sched.add_job(async_noop)
        added += 1
        await asyncio.sleep(0)
    add_seconds = time.perf_counter() - start
    tally.retarget(added)
    assert tally.done_async is not None
    try:
        await asyncio.wait_for(tally.done_async.wait(), max(deadline - time.perf_counter(), 0.01))
    except asyncio.TimeoutError:
        pass
    result = _result(tally, n, added, add_seconds, start)
    sched.shutdown(wait=False)
    await asyncio.sleep(0.05)
    return result


def throughput_threads(store: Any, n: int, time_limit: float) -> dict[str, Any]:
    """``n`` immediate plain-function jobs on ``BackgroundScheduler``'s thread pool."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from bench_jobs import sync_noop

    sched = BackgroundScheduler(jobstores={"default": store})
    tally = Tally(n)
    listen(sched, tally)
    sched.start()
    start = time.perf_counter()
    deadline = start + time_limit
    added = 0
    while added < n and time.perf_counter() < deadline:
        sched.add_job(sync_noop)
        added += 1
    add_seconds = time.perf_counter() - start
    tally.retarget(added)
    tally.done_thread.wait(max(deadline - time.perf_counter(), 0.01))
    result = _result(tally, n, added, add_seconds, start)
    sched.shutdown(wait=False)
    return result
