"""Job functions of the scenarios.

They live in their own importable module (not in ``__main__``) because the SQL stores and
the cluster workers look functions up by ``"module:qualname"`` reference.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone

#: Lateness (seconds between the scheduled fire time and the job's start) of each run.
LATENESS: list[float] = []


async def async_noop() -> None:
    """The trivial coroutine job of the throughput scenarios."""


def sync_noop() -> None:
    """The trivial plain-function job of the throughput scenarios (runs on a thread)."""


async def record_lateness() -> None:
    """Record how late this run started (APScheduler 4 API: the job knows its fire time)."""
    from apscheduler import current_job

    now = datetime.now(timezone.utc)
    LATENESS.append((now - current_job.get().scheduled_fire_time).total_seconds())


async def record_lateness_at(planned: float) -> None:
    """Record how late this run started against a planned POSIX time (APScheduler 3)."""
    LATENESS.append(time.time() - planned)


async def record_lateness_interval(start: float, interval: float) -> None:
    """Record lateness against the latest fire time of an interval series (APScheduler 3).

    APScheduler 3 does not tell a job its scheduled time; the series fires at
    ``start + k * interval``, so the latest one not after now is the one this run belongs
    to (exact as long as runs are less than one interval late).
    """
    now = time.time()
    fired = start + math.floor((now - start) / interval) * interval
    LATENESS.append(now - fired)
