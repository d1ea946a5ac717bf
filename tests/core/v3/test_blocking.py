"""``BlockingScheduler``: ``start()`` runs the scheduler until ``shutdown()``."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

from . import jobfuncs


def test_job_shuts_the_scheduler_down() -> None:
    scheduler = BlockingScheduler(timezone="UTC")

    def last_job() -> None:
        jobfuncs.record("last")
        scheduler.shutdown(wait=False)

    scheduler.add_job(last_job, "interval", seconds=0.05)
    scheduler.start()  # returns once the job has shut the scheduler down
    assert jobfuncs.RECORDS["last"] == [None]
    assert scheduler.state == STATE_STOPPED


def test_shutdown_from_another_thread_and_listener_thread() -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    seen: list[Any] = []

    def listener(event: Any) -> None:
        seen.append(event.code)
        if event.code == EVENT_JOB_EXECUTED:
            threading.Thread(target=scheduler.shutdown).start()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_SCHEDULER_STARTED)
    scheduler.add_job(
        jobfuncs.add,
        "date",
        args=[1, 1],
        run_date=datetime.now(timezone.utc) - timedelta(seconds=0.1),
        misfire_grace_time=None,
    )
    scheduler.start()
    assert jobfuncs.RECORDS["add"] == [2]
    assert seen == [EVENT_SCHEDULER_STARTED, EVENT_JOB_EXECUTED]


def test_start_failure_is_raised() -> None:
    scheduler = BlockingScheduler(
        jobstores={"default": {"type": "sqlalchemy", "url": "nosuchdialect://x"}}
    )
    with pytest.raises(Exception, match="nosuchdialect"):
        scheduler.start()
    assert scheduler.state == STATE_STOPPED
