"""Module-level job functions for the scheduler tests (importable by reference)."""

from __future__ import annotations

import threading

from apscheduler import current_job

calls: list[object] = []
gate = threading.Event()


def add(a: int, b: int) -> int:
    return a + b


async def async_add(a: int, b: int) -> int:
    return a + b


def fail(message: str = "boom") -> None:
    raise ValueError(message)


def record(value: object = None) -> object:
    calls.append(value)
    return value


def job_info() -> tuple[str | None, str]:
    job = current_job.get()
    return job.schedule_id, str(job.id)


def wait_for_gate() -> str:
    gate.wait(10)
    return "finished"
