"""Burst latency: many schedules due at the same instant; how late do their jobs start?

``--mode date``: ``--n`` date schedules (default 1,000) all due at one instant.
``--mode interval``: ``--n`` one-second interval schedules (default 200) sharing a start
time, observed for ``--duration`` seconds. Each job records, when it starts, how long
after its scheduled fire time that is (memory store, coroutine job, default settings).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from bench_common import parser, percentiles, run_scenario

#: Leave at least this much time between the last add and the fire time.
_HEADROOM = 0.2


def _metrics(lateness: list[float], expected: int, add_seconds: float, **extra: Any) -> dict:
    metrics: dict[str, Any] = {"runs": len(lateness), "expected": expected, "add_s": add_seconds}
    if lateness:
        points = percentiles(lateness, (50, 95, 99, 100))
        metrics.update(
            p50_ms=points[50] * 1e3,
            p95_ms=points[95] * 1e3,
            p99_ms=points[99] * 1e3,
            max_ms=points[100] * 1e3,
        )
    metrics.update(extra)
    return metrics


async def _wait_for_runs(lateness: list[float], count: int, until: float) -> None:
    while len(lateness) < count and time.time() < until:
        await asyncio.sleep(0.01)


async def _run_v4api(mode: str, n: int, duration: int, time_limit: float) -> dict[str, Any]:
    import bench_v4api as api
    from bench_jobs import LATENESS, record_lateness

    margin = 1.0
    while True:
        LATENESS.clear()
        sched = api.scheduler()
        async with sched:
            await sched.start_in_background()
            fire = api.utcnow() + timedelta(seconds=margin)
            if mode == "date":
                add_seconds = await api.add_date_schedules(
                    sched, record_lateness, fire, n, timedelta(0)
                )
            else:
                add_seconds = await api.add_interval_schedules(sched, record_lateness, fire, n)
            if api.utcnow() > fire - timedelta(seconds=_HEADROOM):
                await api.stop(sched)
                margin = add_seconds * 2 + 1  # adding took too long; start over
                continue
            fire_ts = fire.timestamp()
            if mode == "date":
                expected = n
                await _wait_for_runs(LATENESS, n, fire_ts + time_limit)
            else:
                expected = n * duration
                await _wait_for_runs(LATENESS, expected, fire_ts + duration - 0.1)
            await api.stop(sched)
        return _metrics(list(LATENESS), expected, add_seconds)


async def _run_v3(mode: str, n: int, duration: int, time_limit: float) -> dict[str, Any]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from bench_jobs import LATENESS, record_lateness_at, record_lateness_interval
    from bench_v3api import Tally, listen

    margin = 1.0
    while True:
        LATENESS.clear()
        sched = AsyncIOScheduler()
        tally = Tally(1 << 62, asyncio.get_running_loop())
        listen(sched, tally)
        sched.start()
        planned = time.time() + margin
        fire = datetime.fromtimestamp(planned, timezone.utc)
        start = time.perf_counter()
        for _ in range(n):
            if mode == "date":
                sched.add_job(record_lateness_at, "date", run_date=fire, args=[planned])
            else:
                sched.add_job(
                    record_lateness_interval,
                    "interval",
                    seconds=1,
                    start_date=fire,
                    args=[planned, 1.0],
                )
            await asyncio.sleep(0)
        add_seconds = time.perf_counter() - start
        if time.time() > planned - _HEADROOM:
            sched.shutdown(wait=False)
            await asyncio.sleep(0.05)
            margin = add_seconds * 2 + 1
            continue
        if mode == "date":
            expected = n
            while tally.count < n and time.time() < planned + time_limit:
                await asyncio.sleep(0.01)
        else:
            expected = n * duration
            await _wait_for_runs(LATENESS, expected, planned + duration - 0.1)
        sched.shutdown(wait=False)
        await asyncio.sleep(0.05)
        return _metrics(list(LATENESS), expected, add_seconds, missed=tally.missed)


def main() -> None:
    args_parser = parser(__doc__.splitlines()[0])
    args_parser.add_argument("--mode", choices=("date", "interval"), required=True)
    args_parser.add_argument("--n", type=int, help="schedules (1,000 date / 200 interval)")
    args_parser.add_argument("--duration", type=int, default=10, help="interval mode: seconds")
    args = args_parser.parse_args()
    n = args.n or (1000 if args.mode == "date" else 200)
    params = {"mode": args.mode, "n": n}
    if args.mode == "interval":
        params["duration"] = args.duration

    def body() -> dict[str, Any]:
        if args.impl == "v3":
            return asyncio.run(_run_v3(args.mode, n, args.duration, args.time_limit))
        return asyncio.run(_run_v4api(args.mode, n, args.duration, args.time_limit))

    run_scenario("burst", args.impl, params, body)


if __name__ == "__main__":
    main()
