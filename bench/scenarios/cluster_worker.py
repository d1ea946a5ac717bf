"""A worker process of the cluster scenario (started by ``cluster.py``, not by hand).

Connects to the PostgreSQL store and NOTIFY broker, prints ``ready``, starts working when
it reads a line on stdin and stops at the next line (or end of input).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import bench_v4api as api


async def work(schema: str, channel: str) -> None:
    store = api.sql_store("postgresql", Path("."), schema)
    sched = api.scheduler(store, api.asyncpg_broker(channel), role="worker")
    async with sched:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await sched.start_in_background()
        await asyncio.to_thread(sys.stdin.readline)
        await api.stop(sched)


def main() -> None:
    args_parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args_parser.add_argument("--schema", required=True)
    args_parser.add_argument("--channel", required=True)
    args = args_parser.parse_args()
    asyncio.run(work(args.schema, args.channel))


if __name__ == "__main__":
    main()
