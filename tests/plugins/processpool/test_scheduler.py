"""The process pool executor under a real AsyncScheduler: crashes and timeouts become
job outcomes, and arguments that cannot reach a worker are refused when added."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from uuid import UUID

import anyio
import pytest
from apscheduler import (
    AsyncScheduler,
    Event,
    JobOutcome,
    JobReleased,
    SerializationError,
)
from apscheduler_processpool import ProcessPoolJobExecutor

from . import jobfuncs

pytestmark = pytest.mark.anyio


class Releases:
    """Collects JobReleased events and lets a test wait for a given job's."""

    def __init__(self) -> None:
        self.events: dict[UUID, JobReleased] = {}
        self._changed = anyio.Event()

    def __call__(self, event: Event) -> None:
        assert isinstance(event, JobReleased)
        self.events[event.job_id] = event
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, job_id: UUID, timeout: float = 30) -> JobReleased:
        with anyio.fail_after(timeout):
            while job_id not in self.events:
                await self._changed.wait()
        return self.events[job_id]

    async def wait_for_schedule(self, schedule_id: str, timeout: float = 30) -> JobReleased:
        with anyio.fail_after(timeout):
            while True:
                for event in self.events.values():
                    if event.schedule_id == schedule_id:
                        return event
                await self._changed.wait()


@pytest.fixture
async def scheduler(anyio_backend: str) -> AsyncIterator[AsyncScheduler]:
    executor = ProcessPoolJobExecutor(max_workers=1)
    async with AsyncScheduler(job_executors={"processpool": executor}) as scheduler:
        await scheduler.start_in_background()
        yield scheduler


async def test_crashing_job_is_released_as_error_and_next_job_runs(
    scheduler: AsyncScheduler,
) -> None:
    releases = Releases()
    scheduler.subscribe(releases, JobReleased)
    await scheduler.add_schedule(
        jobfuncs.exit_hard,
        "date",
        run_time=datetime.now(timezone.utc),
        id="crasher",
        job_executor="processpool",
    )
    crashed = await releases.wait_for_schedule("crasher")
    assert crashed.outcome is JobOutcome.error
    assert crashed.exception_type is not None
    assert crashed.exception_type.endswith("WorkerCrashedError")
    assert "exited with code 1" in (crashed.exception_message or "")

    job_id = await scheduler.add_job(
        jobfuncs.add, args=(2, 3), job_executor="processpool", result_expiration_time=60
    )
    released = await releases.wait_for(job_id)
    assert released.outcome is JobOutcome.success
    result = await scheduler.get_job_result(job_id)
    assert result is not None and result.return_value == 5


async def test_job_over_its_timeout_is_released_as_timed_out(
    scheduler: AsyncScheduler, tmp_path: object
) -> None:
    releases = Releases()
    scheduler.subscribe(releases, JobReleased)
    job_id = await scheduler.add_job(
        jobfuncs.announce_and_sleep,
        args=(str(tmp_path / "pid"), 60),  # type: ignore[operator]
        job_executor="processpool",
        metadata={"timeout": 0.5},
    )
    released = await releases.wait_for(job_id)
    assert released.outcome is JobOutcome.timed_out


async def test_unpicklable_arguments_refused_when_added(scheduler: AsyncScheduler) -> None:
    with pytest.raises(SerializationError, match="(?i)processpool.*lock"):
        await scheduler.add_job(
            jobfuncs.add, args=(threading.Lock(), 1), job_executor="processpool"
        )
    with pytest.raises(SerializationError, match="(?i)processpool.*lock"):
        await scheduler.add_schedule(
            jobfuncs.add,
            "interval",
            seconds=60,
            args=(threading.Lock(), 1),
            job_executor="processpool",
        )
