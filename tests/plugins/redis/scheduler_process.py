"""A scheduler process for the end-to-end tests.

``python -m tests.plugins.redis.scheduler_process URL PREFIX ROLE IDENTITY POLL_SECONDS``
runs an ``AsyncScheduler`` on ``RedisDataStore`` + ``RedisEventBroker`` (key prefix and
channel ``PREFIX``), prints ``ready`` once it runs, and stops cleanly when its standard
input is closed.
"""

from __future__ import annotations

import logging
import sys

import anyio
from apscheduler import AsyncScheduler
from apscheduler_redis import RedisDataStore, RedisEventBroker


async def main(url: str, prefix: str, role: str, identity: str, poll: float) -> None:
    scheduler = AsyncScheduler(
        RedisDataStore.from_url(url, prefix=prefix),
        RedisEventBroker.from_url(url, channel=prefix),
        identity=identity,
        role=role,
        poll_interval=poll,
    )
    async with scheduler:
        await scheduler.start_in_background()
        print("ready", flush=True)
        await anyio.to_thread.run_sync(sys.stdin.read)
        await scheduler.shutdown()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, prefix, role, identity, poll = sys.argv[1:6]
    anyio.run(main, url, prefix, role, identity, float(poll))
