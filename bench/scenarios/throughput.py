"""Throughput: N immediate trivial jobs through one scheduler, default settings.

``--kind async`` adds a coroutine function (run on the event loop), ``--kind sync`` a plain
function run on the thread pool. ``--store`` picks the memory store, a SQLite file or the
local PostgreSQL. The rate counts jobs that ran, from the first ``add_job`` to the last
job released; a run stops after ``--time-limit`` seconds and reports the rate so far.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from bench_common import NotApplicable, parser, pg_drop_schema, pg_reset_schema, run_scenario


async def _run_v4api(
    impl: str, store: str, kind: str, n: int, limit: float, workdir: Path, prefill: bool
) -> dict[str, Any]:
    import bench_v4api as api
    from bench_jobs import async_noop, sync_noop

    schema = f"bench_tp_{impl}_{os.getpid()}"
    if store == "postgresql":
        await pg_reset_schema(schema)
    try:
        data_store = None if store == "memory" else api.sql_store(store, workdir, schema)
        sched = api.scheduler(data_store)
        func, executor = (async_noop, "async") if kind == "async" else (sync_noop, "threadpool")
        async with sched:
            return await api.throughput(sched, func, executor, n, limit, prefill)
    finally:
        if store == "postgresql":
            await pg_drop_schema(schema)


def _run_v3(store: str, kind: str, n: int, limit: float, workdir: Path) -> dict[str, Any]:
    import bench_v3api as api

    schema = f"bench_tp_v3_{os.getpid()}"
    if store == "postgresql":
        asyncio.run(pg_reset_schema(schema))
    try:
        jobstore = api.jobstore(store, workdir, schema)
        if kind == "async":
            return asyncio.run(api.throughput_async(jobstore, n, limit))
        return api.throughput_threads(jobstore, n, limit)
    finally:
        if store == "postgresql":
            asyncio.run(pg_drop_schema(schema))


def main() -> None:
    args_parser = parser(__doc__.splitlines()[0])
    args_parser.add_argument("--store", choices=("memory", "sqlite", "postgresql"), required=True)
    args_parser.add_argument("--kind", choices=("async", "sync"), required=True)
    args_parser.add_argument("--n", type=int, default=20_000, help="number of jobs")
    args_parser.add_argument(
        "--prefill",
        action="store_true",
        help="queue all jobs before starting the scheduler and time only the draining "
        "(APScheduler 4 API only; not part of the published table)",
    )
    args = args_parser.parse_args()
    params = {"store": args.store, "kind": args.kind, "n": args.n, "time_limit": args.time_limit}
    if args.prefill:
        params["prefill"] = True

    def body() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="apscheduler-bench-") as tmp:
            if args.impl == "v3":
                if args.prefill:
                    raise NotApplicable(
                        "--prefill: APScheduler 3 counts jobs queued over 1 s as missed"
                    )
                return _run_v3(args.store, args.kind, args.n, args.time_limit, Path(tmp))
            return asyncio.run(
                _run_v4api(
                    args.impl,
                    args.store,
                    args.kind,
                    args.n,
                    args.time_limit,
                    Path(tmp),
                    args.prefill,
                )
            )

    run_scenario("throughput", args.impl, params, body)


if __name__ == "__main__":
    main()
