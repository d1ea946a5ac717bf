"""Job functions for the end-to-end tests (importable by worker processes)."""

from __future__ import annotations

import os
from pathlib import Path

import anyio


async def trivial() -> None:
    """Does nothing: measures the scheduler and the store, not the job."""


def add(x: int, y: int) -> int:
    return x + y


async def long_job(pid_file: str) -> None:
    """Writes the worker's PID, then runs long enough to be killed mid-run."""
    Path(pid_file).write_text(str(os.getpid()))
    await anyio.sleep(300)
