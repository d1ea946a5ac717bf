"""A scheduler or worker process of the fault tests.

Run as ``python -m tests.plugins.sqlalchemy.fault_node ROLE IDENTITY`` with the JSON
configuration in ``APS_FAULT_CONFIG``; stops gracefully on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

import tenacity
from apscheduler import AsyncScheduler, RetrySettings
from apscheduler_sqlalchemy.asyncpg_broker import AsyncpgEventBroker
from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore


async def run(role: str, identity: str, config: dict) -> None:
    retry = RetrySettings(
        stop=tenacity.stop_after_delay(120), wait=tenacity.wait_exponential(min=0.1, max=1)
    )
    store = SQLAlchemyDataStore(
        config["url"], schema=config["schema"], table_prefix=config["prefix"],
        retry_settings=retry,
    )
    broker = AsyncpgEventBroker(config["dsn"], channel=config["channel"], retry_settings=retry)
    async with AsyncScheduler(
        store,
        broker,
        role=role,
        identity=identity,
        lease_duration=config["lease"],
        poll_interval=1,
        cleanup_interval=2,
        max_concurrent_jobs=200,
    ) as scheduler:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, scheduler.stop)
        await scheduler.run_until_stopped()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.WARNING, format=f"%(asctime)s {sys.argv[2]} %(levelname)s %(message)s"
    )
    asyncio.run(run(sys.argv[1], sys.argv[2], json.loads(os.environ["APS_FAULT_CONFIG"])))
