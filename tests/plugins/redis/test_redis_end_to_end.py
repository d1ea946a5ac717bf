"""Schedulers in separate processes sharing RedisDataStore + RedisEventBroker."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest
import redis.asyncio
from anyio.abc import Process
from apscheduler import AsyncScheduler, RunState
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler_redis import RedisDataStore, RedisEventBroker

from .conftest import ThrowawayRedis
from .jobfuncs import record_fire, record_start

pytestmark = [pytest.mark.anyio, pytest.mark.service("redis")]
ROOT = Path(__file__).resolve().parents[3]


async def pop(client: redis.asyncio.Redis, key: str, timeout: float) -> bytes | None:
    """The first item of the list ``key``, waiting for it up to ``timeout`` seconds
    (in short blocking reads: redis-py's socket timeout is shorter than our waits)."""
    with anyio.move_on_after(timeout):
        while True:
            reply = await client.blpop([key], timeout=1)
            if reply is not None:
                return reply[1]
    return None


@asynccontextmanager
async def scheduler_process(
    url: str, prefix: str, role: str, identity: str, poll: float
) -> AsyncIterator[Process]:
    """A scheduler in its own process; returns once it runs, stops it cleanly on exit."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = await anyio.open_process(
        [
            sys.executable,
            "-m",
            "tests.plugins.redis.scheduler_process",
            url,
            prefix,
            role,
            identity,
            str(poll),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        assert process.stdout is not None
        with anyio.fail_after(30):
            line = await process.stdout.receive()
        assert line.strip() == b"ready", line
        yield process
    finally:
        with anyio.CancelScope(shield=True):
            if process.stdin is not None:
                await process.stdin.aclose()
            with anyio.move_on_after(15):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, "the scheduler process did not stop cleanly"


@asynccontextmanager
async def client_scheduler(url: str, prefix: str) -> AsyncIterator[AsyncScheduler]:
    """A scheduler whose services run (to add work) but which processes nothing."""
    scheduler = AsyncScheduler(
        RedisDataStore.from_url(url, prefix=prefix),
        RedisEventBroker.from_url(url, channel=prefix),
        role="scheduler",
    )
    async with scheduler:
        yield scheduler


async def test_job_added_in_one_process_starts_in_another_within_100ms(
    redis_url: str, redis_prefix: str
) -> None:
    """The worker process polls only every 30 s: the job starts at once because the
    JobAdded event reaches it through Redis."""
    key = f"{redis_prefix}:starts"
    client = redis.asyncio.Redis.from_url(redis_url)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(client.aclose)
        await stack.enter_async_context(
            scheduler_process(redis_url, redis_prefix, "worker", "worker-1", 30)
        )
        scheduler = await stack.enter_async_context(client_scheduler(redis_url, redis_prefix))
        delays = []
        for _ in range(4):
            added = time.time()
            await scheduler.add_job(record_start, args=(redis_url, key))
            reply = await pop(client, key, 5)
            assert reply is not None, "the job did not start within 5 s"
            delays.append(float(reply) - added)
        # The first job also pays for the worker importing the function; later ones not
        assert max(delays[1:]) < 0.1, delays
        assert delays[0] < 1, delays


@pytest.mark.slow
async def test_two_schedulers_fire_every_time_exactly_once(
    redis_url: str, redis_prefix: str
) -> None:
    """Two scheduler processes share 200 schedules firing every second for 20 s: every
    fire time runs exactly once (no duplicate, none missing)."""
    key = f"{redis_prefix}:fires"
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=4)
    end = start + timedelta(seconds=19, milliseconds=500)

    def trigger() -> IntervalTrigger:
        return IntervalTrigger(seconds=1, start_time=start, end_time=end)

    expected = Counter(
        f"s{i:03}|{fire_time.isoformat()}"
        for i in range(200)
        for fire_time in trigger().preview(100)
    )
    assert len(expected) == 200 * 20

    client = redis.asyncio.Redis.from_url(redis_url)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(client.aclose)
        async with client_scheduler(redis_url, redis_prefix) as scheduler:
            for i in range(200):
                await scheduler.add_schedule(
                    record_fire,
                    trigger(),
                    id=f"s{i:03}",
                    args=(redis_url, key),
                    coalesce="all",
                    max_running_jobs=None,
                )
        for number in (1, 2):
            await stack.enter_async_context(
                scheduler_process(redis_url, redis_prefix, "both", f"node-{number}", 1)
            )
        records: list[bytes] = []
        with anyio.move_on_after((end - datetime.now(timezone.utc)).total_seconds() + 15):
            while len(records) < len(expected):
                reply = await pop(client, key, 1)
                if reply is not None:
                    records.append(reply)
        workers = await client.hgetall(f"{key}:workers")
    assert set(workers) == {b"node-1", b"node-2"}, "both schedulers ran jobs"
    fired = Counter(record.decode() for record in records)
    duplicates = {fire: n for fire, n in fired.items() if n > 1}
    missing = expected - fired
    unexpected = fired - expected
    assert not duplicates, f"{len(duplicates)} duplicated fire times, e.g. {list(duplicates)[:3]}"
    assert not missing, f"{len(missing)} missing fire times, e.g. {list(missing)[:3]}"
    assert not unexpected, f"unexpected fire times, e.g. {list(unexpected)[:3]}"


@pytest.mark.slow
async def test_scheduler_keeps_working_through_redis_restart(
    redis_url: str, redis_prefix: str, throwaway_redis: ThrowawayRedis
) -> None:
    """A scheduler whose store and broker live on a Redis server that is killed and
    restarted pauses during the outage, then resumes running its schedule by itself;
    its broker reconnects too (a job added after the restart starts at once although the
    scheduler polls only every 30 s)."""
    key = f"{redis_prefix}:ticks"
    client = redis.asyncio.Redis.from_url(redis_url)  # the shared server records the runs
    scheduler = AsyncScheduler(
        RedisDataStore.from_url(throwaway_redis.url),
        RedisEventBroker.from_url(
            throwaway_redis.url, reconnect_delay=0.05, max_reconnect_delay=0.5
        ),
        poll_interval=30,
    )
    async with AsyncExitStack() as stack:
        stack.push_async_callback(client.aclose)
        await stack.enter_async_context(scheduler)
        await scheduler.start_in_background()
        await scheduler.add_schedule(
            record_start, "interval", seconds=0.2, args=(redis_url, key), id="ticker"
        )
        for _ in range(2):
            assert await pop(client, key, 10) is not None

        throwaway_redis.stop()
        await anyio.sleep(1)  # the outage itself, not a synchronisation
        throwaway_redis.start()
        await client.delete(key)
        for _ in range(3):
            assert await pop(client, key, 30) is not None, "the schedule resumed"
        assert scheduler.state is RunState.started

        # The broker is back as well: a new job wakes the worker at once
        await scheduler.pause_schedule("ticker")
        added = time.time()
        await scheduler.add_job(record_start, args=(redis_url, f"{key}:job"))
        reply = await pop(client, f"{key}:job", 10)
        assert reply is not None and float(reply) - added < 5
