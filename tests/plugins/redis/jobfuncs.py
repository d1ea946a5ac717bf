"""Job functions run by the scheduler processes of the end-to-end tests.

They report to Redis (the one thing every process shares), so the test process can wait
for them with blocking Redis reads instead of sleeping.
"""

from __future__ import annotations

import threading
import time

import redis
from apscheduler import current_async_scheduler, current_job

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def _client(url: str) -> redis.Redis:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url)
        return client


def record_start(url: str, key: str) -> None:
    """Push the wall-clock time at which the job started."""
    _client(url).rpush(key, repr(time.time()))


def record_fire(url: str, key: str) -> None:
    """Push ``"<schedule id>|<scheduled fire time>"`` of the running job, and count the
    jobs each scheduler ran."""
    job = current_job.get()
    scheduler = current_async_scheduler.get()
    assert job.scheduled_fire_time is not None and scheduler is not None
    client = _client(url)
    client.hincrby(f"{key}:workers", scheduler.identity, 1)
    client.rpush(key, f"{job.schedule_id}|{job.scheduled_fire_time.isoformat()}")
