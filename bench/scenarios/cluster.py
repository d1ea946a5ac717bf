"""Cluster: how fast do two worker processes drain PostgreSQL with the NOTIFY broker?

The main process adds ``--n`` immediate coroutine jobs (from ``--producers`` concurrent
tasks) to a ``SQLAlchemyDataStore`` on the local PostgreSQL, with the asyncpg
LISTEN/NOTIFY event broker, while ``--workers`` worker processes wait. Then the workers
start and the rate is the number of jobs released per second until the queue is empty
(counted from ``JobReleased`` events, checked against the store). APScheduler 3 has no
shared-store worker model, so it reports "n/a".
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import NotApplicable, parser, pg_drop_schema, pg_reset_schema, run_scenario

_WORKER = Path(__file__).with_name("cluster_worker.py")


async def _start_workers(count: int, schema: str, channel: str) -> list[Any]:
    procs = []
    for _ in range(count):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(_WORKER),
            "--schema",
            schema,
            "--channel",
            channel,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        procs.append(proc)
    for proc in procs:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"worker did not start (said {line!r})")
    return procs


async def _stop_workers(procs: list[Any]) -> None:
    for proc in procs:
        if proc.returncode is None and proc.stdin is not None:
            try:
                proc.stdin.write(b"stop\n")
                await proc.stdin.drain()
                proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def _add_jobs(sched: Any, n: int, producers: int, time_limit: float) -> int:
    from bench_jobs import async_noop

    deadline = time.perf_counter() + time_limit
    added = 0

    async def produce() -> None:
        nonlocal added
        while added < n and time.perf_counter() < deadline:
            added += 1
            await sched.add_job(async_noop, job_executor="async")

    await asyncio.gather(*(produce() for _ in range(producers)))
    return added


async def _wait_drained(sched: Any, countdown: Any, deadline: float) -> None:
    """Wait for the countdown; if it stalls, ask the store whether the queue is empty."""
    last = -1
    while time.perf_counter() < deadline:
        try:
            await asyncio.wait_for(countdown.done.wait(), 1.0)
            return
        except asyncio.TimeoutError:
            pass
        if countdown.count == last and not await sched.get_jobs():
            return
        last = countdown.count


async def _run(impl: str, n: int, workers: int, producers: int, limit: float) -> dict:
    import bench_v4api as api
    from apscheduler import JobReleased

    schema = channel = f"bench_cluster_{impl}_{os.getpid()}"
    await pg_reset_schema(schema)
    try:
        store = api.sql_store("postgresql", Path("."), schema)
        sched = api.scheduler(store, api.asyncpg_broker(channel), role="scheduler")
        async with sched:
            procs = await _start_workers(workers, schema, channel)
            try:
                start = time.perf_counter()
                added = await _add_jobs(sched, n, producers, limit)
                add_seconds = time.perf_counter() - start
                countdown = api.Countdown(added)
                sched.subscribe(countdown, JobReleased)
                start = time.perf_counter()
                for proc in procs:
                    proc.stdin.write(b"go\n")
                    await proc.stdin.drain()
                await _wait_drained(sched, countdown, start + limit)
                elapsed = time.perf_counter() - start
                remaining = len(await sched.get_jobs())
            finally:
                await _stop_workers(procs)
    finally:
        await pg_drop_schema(schema)
    completed = added - remaining
    return {
        "jobs_per_s": completed / elapsed,
        "add_per_s": added / add_seconds,
        "requested": n,
        "added": added,
        "completed": completed,
        "events": countdown.count,
        "elapsed_s": elapsed,
        "capped": remaining > 0 or added < n,
    }


def main() -> None:
    args_parser = parser(__doc__.splitlines()[0])
    args_parser.add_argument("--n", type=int, default=10_000, help="number of jobs")
    args_parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args_parser.add_argument("--producers", type=int, default=8, help="concurrent adders")
    args = args_parser.parse_args()
    params = {"n": args.n, "workers": args.workers, "producers": args.producers}

    def body() -> dict[str, Any]:
        if args.impl == "v3":
            raise NotApplicable("APScheduler 3 has no shared job queue with worker processes")
        return asyncio.run(_run(args.impl, args.n, args.workers, args.producers, args.time_limit))

    run_scenario("cluster", args.impl, params, body)


if __name__ == "__main__":
    main()
