"""Plumbing shared by the scenario scripts: arguments, the JSON result line, measurements.

The scenario scripts run under three different interpreters (this project's virtual
environment, APScheduler 4.0.0a6's and APScheduler 3.11.3's), so this module imports
nothing from ``apscheduler`` at module level and otherwise only the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

IMPLS = ("ours", "v4", "v3")

#: libpq URI of the benchmark database; override with APSCHEDULER_BENCH_PG.
PG_DSN = os.environ.get("APSCHEDULER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
#: The same database as SQLAlchemy URLs: async (ours, v4) and sync (v3).
PG_URL_ASYNC = PG_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)
PG_URL_SYNC = PG_DSN.replace("postgresql://", "postgresql+psycopg2://", 1)


class Unavailable(Exception):
    """The scenario cannot run for this implementation here (missing plugin or server)."""


class NotApplicable(Exception):
    """The implementation has no equivalent of what the scenario measures."""


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every scenario takes."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--impl", choices=IMPLS, required=True, help="implementation to run")
    result.add_argument(
        "--time-limit",
        type=float,
        default=20.0,
        help="seconds after which a run stops and reports the rate so far",
    )
    return result


def impl_version() -> str:
    """Version of the ``apscheduler`` distribution this interpreter imports."""
    try:
        return version("apscheduler")
    except PackageNotFoundError:
        return "?"


def emit(
    scenario: str,
    impl: str,
    params: dict[str, Any],
    metrics: dict[str, Any] | None = None,
    *,
    status: str = "ok",
    note: str = "",
) -> None:
    """Print the one JSON line a scenario produces (the driver reads the last line)."""
    record = {
        "scenario": scenario,
        "impl": impl,
        "version": impl_version(),
        "python": sys.version.split()[0],
        "status": status,
        "params": params,
        "metrics": metrics or {},
        "note": note,
    }
    sys.stdout.flush()
    print(json.dumps(record, default=str), flush=True)


def run_scenario(scenario: str, impl: str, params: dict[str, Any], body: Any) -> None:
    """Call ``body()`` for the metrics and emit them, or emit why there are none."""
    try:
        metrics = body()
    except Unavailable as exc:
        emit(scenario, impl, params, status="unavailable", note=str(exc))
    except NotApplicable as exc:
        emit(scenario, impl, params, status="n/a", note=str(exc))
    else:
        note = metrics.pop("_note", "") if isinstance(metrics, dict) else ""
        emit(scenario, impl, params, metrics, note=note)


def percentiles(values: Sequence[float], points: Sequence[float]) -> dict[float, float]:
    """Nearest-rank percentiles of ``values`` (which must not be empty)."""
    ordered = sorted(values)
    result = {}
    for point in points:
        rank = max(1, math.ceil(point / 100 * len(ordered)))
        result[point] = ordered[min(rank, len(ordered)) - 1]
    return result


def rss_bytes() -> int:
    """Resident set size of this process, in bytes (after a full garbage collection)."""
    gc.collect()
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def idle_cpu_seconds(seconds: float) -> float:
    """CPU time (user + system, all threads) this process uses while the caller sleeps."""
    before = time.process_time()
    await asyncio.sleep(seconds)
    return time.process_time() - before


def idle_cpu_seconds_blocking(seconds: float) -> float:
    """Like :func:`idle_cpu_seconds`, for a thread-based scheduler."""
    before = time.process_time()
    time.sleep(seconds)
    return time.process_time() - before


async def pg_check() -> None:
    """Raise :class:`Unavailable` if the benchmark database cannot be reached."""
    try:
        import asyncpg
    except ImportError as exc:
        raise Unavailable(f"asyncpg is not installed: {exc}") from exc
    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_DSN), 5)
    except Exception as exc:
        raise Unavailable(f"PostgreSQL at {PG_DSN} unreachable: {exc}") from exc
    await conn.close()


async def pg_reset_schema(schema: str) -> None:
    """Drop and recreate ``schema`` so that each run starts from empty tables."""
    await pg_check()
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


async def pg_drop_schema(schema: str) -> None:
    """Remove a benchmark schema again (best effort)."""
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
    except Exception:
        pass
