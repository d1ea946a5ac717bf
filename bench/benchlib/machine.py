"""A description of the machine a benchmark ran on, for the report."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def fsync_ms(samples: int = 30) -> float:
    """Median time of a small write + fsync in the temp directory (where SQLite files go):
    the floor under every committed transaction on this disk."""
    timings = []
    with tempfile.NamedTemporaryFile(prefix="apscheduler-bench-fsync-") as handle:
        for _ in range(samples):
            start = time.perf_counter()
            handle.write(b"x" * 512)
            handle.flush()
            os.fsync(handle.fileno())
            timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1e3


def postgres_version(dsn: str) -> str:
    """The server's version string, or why it is unknown."""
    try:
        import asyncpg
    except ImportError:
        return "unknown (asyncpg not installed)"

    async def query() -> str:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), 5)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        return asyncio.run(query())
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def describe(dsn: str) -> dict[str, str]:
    """Name → value lines of the machine description."""
    ram = ram_gib()
    return {
        "CPU": f"{cpu_model()}, {os.cpu_count()} logical cores",
        "RAM": f"{ram:.1f} GiB" if ram is not None else "unknown",
        "OS": platform.platform(),
        "Python": sys.version.split()[0] + f" ({platform.python_implementation()})",
        "PostgreSQL": postgres_version(dsn),
        "fsync (temp dir)": f"{fsync_ms():.2f} ms median for a 512-byte write + fsync",
    }
