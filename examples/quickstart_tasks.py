"""The functions run by the quick-start demo (``examples/quickstart.toml``).

Each prints one line, so you can watch the schedules fire. The configuration makes this
module importable by listing its directory in ``path``.
"""

from __future__ import annotations

import os
from datetime import datetime


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")


def tick() -> None:
    """Run by the interval schedule."""
    print(f"[{_now()}] tick: the interval schedule runs every 3 seconds", flush=True)


def report(source: str) -> None:
    """Run by the cron schedule."""
    print(f"[{_now()}] report from {source}: the cron schedule runs at every 5th second",
          flush=True)


def hello_once(name: str) -> None:
    """Run by the one-off date schedule, 5 seconds after each start."""
    print(f"[{_now()}] hello, {name}: the one-off date schedule ran once", flush=True)


def crunch(n: int) -> int:
    """Run in a separate process by the processpool executor."""
    total = sum(i * i for i in range(n))
    print(f"[{_now()}] crunch in process {os.getpid()} (scheduler: {os.getppid()}): "
          f"sum of squares below {n} = {total}", flush=True)
    return total
