"""Job functions for the process pool tests.

They live in an importable module because worker processes import job functions by
reference (``module:qualname``); a spawned worker gets the parent's ``sys.path``, so this
module is importable there under the same name as in the test process.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from apscheduler import current_job

#: Set in a worker by :func:`initialize`.
initialized_with: str | None = None


def add(a: int, b: int) -> int:
    return a + b


async def async_add(a: int, b: int) -> int:
    return a + b


def pid() -> int:
    return os.getpid()


def job_info(*args: object) -> dict[str, object]:
    """What a job sees of itself in the worker."""
    job = current_job.get()
    return {"pid": os.getpid(), "job_id": job.id, "task_id": job.task_id, "args": job.args}


def burn(iterations: int) -> tuple[float, float]:
    """Pure CPU work (holds the GIL the whole time); returns when it started and ended on
    the system-wide monotonic clock, comparable between processes."""
    started = time.monotonic()
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return started, time.monotonic()


def exit_hard(code: int = 1) -> None:
    os._exit(code)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def segfault() -> None:
    import ctypes

    ctypes.string_at(0)


def call_sys_exit() -> None:
    sys.exit(3)


def fail(message: str) -> None:
    raise ValueError(message)


class PickyError(Exception):
    """An exception whose constructor signature breaks unpickling."""

    def __init__(self, a: str, b: str):
        super().__init__(f"{a}/{b}")


def fail_picky() -> None:
    raise PickyError("x", "y")


def return_unpicklable() -> object:
    import threading

    return threading.Lock()


def announce_and_sleep(path: str, seconds: float) -> None:
    """Write this worker's PID to ``path`` (so the test knows the job started), then
    sleep for ``seconds``."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)


def initialize(value: str) -> None:
    global initialized_with
    initialized_with = value


def get_initialized_value() -> str | None:
    return initialized_with


def failing_initializer() -> None:
    raise OSError("no config here")
