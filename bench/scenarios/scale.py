"""Scale: add many far-future schedules; time per add, memory per schedule, idle CPU.

``--n`` date schedules (a year ahead, one second apart) are added one after another to a
running scheduler with the memory store. Memory is the growth of the resident set size
(after garbage collection) divided by ``--n``; idle CPU is the processor time the process
uses over ``--idle`` seconds afterwards, with nothing due.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from bench_common import idle_cpu_seconds, parser, rss_bytes, run_scenario

_SETTLE = 1.0


def _metrics(n: int, add_seconds: float, rss_growth: int, idle: float, cpu: float) -> dict:
    return {
        "add_us": add_seconds / n * 1e6,
        "bytes_per_schedule": rss_growth / n,
        "idle_cpu_ms": cpu * 1e3,
        "idle_cpu_pct": cpu / idle * 100,
        "idle_s": idle,
        "add_s": add_seconds,
    }


async def _run_v4api(n: int, idle: float) -> dict[str, Any]:
    import bench_v4api as api
    from bench_jobs import async_noop

    sched = api.scheduler()
    async with sched:
        await sched.start_in_background()
        await asyncio.sleep(0.1)
        before = rss_bytes()
        first = api.utcnow() + timedelta(days=365)
        step = timedelta(seconds=1)
        add_seconds = await api.add_date_schedules(sched, async_noop, first, n, step)
        await asyncio.sleep(_SETTLE)
        growth = rss_bytes() - before
        cpu = await idle_cpu_seconds(idle)
        await api.stop(sched)
    return _metrics(n, add_seconds, growth, idle, cpu)


async def _run_v3(n: int, idle: float) -> dict[str, Any]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from bench_jobs import async_noop

    sched = AsyncIOScheduler()
    sched.start()
    await asyncio.sleep(0.1)
    before = rss_bytes()
    first = datetime.now(timezone.utc) + timedelta(days=365)
    start = time.perf_counter()
    for i in range(n):
        sched.add_job(async_noop, "date", run_date=first + timedelta(seconds=i))
        await asyncio.sleep(0)
    add_seconds = time.perf_counter() - start
    await asyncio.sleep(_SETTLE)
    growth = rss_bytes() - before
    cpu = await idle_cpu_seconds(idle)
    sched.shutdown(wait=False)
    await asyncio.sleep(0.05)
    return _metrics(n, add_seconds, growth, idle, cpu)


def main() -> None:
    args_parser = parser(__doc__.splitlines()[0])
    args_parser.add_argument("--n", type=int, default=100_000, help="number of schedules")
    args_parser.add_argument("--idle", type=float, default=10.0, help="idle seconds measured")
    args = args_parser.parse_args()
    params = {"n": args.n, "idle": args.idle}

    def body() -> dict[str, Any]:
        if args.impl == "v3":
            return asyncio.run(_run_v3(args.n, args.idle))
        return asyncio.run(_run_v4api(args.n, args.idle))

    run_scenario("scale", args.impl, params, body)


if __name__ == "__main__":
    main()
