"""Module-level job functions standing in for the seeds' functions.

The seeds define their jobs at module level of a script; jobs here live in a module so
that they can be stored by reference, exactly like the seeds' functions would be.
"""

from __future__ import annotations

import threading

from apscheduler import current_job

ran: dict[str, threading.Event] = {}
seen: list[tuple[str, object]] = []


def mark(name: str) -> None:
    ran.setdefault(name, threading.Event()).set()


def wait_ran(name: str, timeout: float = 10) -> bool:
    return ran.setdefault(name, threading.Event()).wait(timeout)


def my_job() -> None:
    print("Job is running!")
    mark("my_job")


def background_job() -> None:
    print("Background job is running!")
    mark("background_job")


def daily_report() -> None:
    print("Generating daily report...")


def weekly_backup() -> None:
    print("Running weekly backup...")


def dynamic_job(message: str) -> None:
    print(f"Dynamic job: {message}")
    seen.append(("dynamic_job", message))
    mark("dynamic_job")


def info_job() -> None:
    job_info = current_job.get()
    print(f"Job ID: {job_info.id}")
    print(f"Schedule ID: {job_info.schedule_id}")
    print(f"Next run: {job_info.next_deadline}")
    seen.append(("info_job", job_info.schedule_id))
    mark("info_job")


def data_processor() -> None:
    print("Processing data...")
    mark("data_processor")


def generate_report() -> None:
    print("Generating report...")
    mark("generate_report")


def tick() -> None:
    mark("tick")


def process_data(source: str, destination: str, batch_size: int) -> int:
    seen.append(("process_data", (source, destination, batch_size)))
    mark("process_data")
    return batch_size


def calculate_result(a: int, b: int) -> int:
    return a + b


async def async_job() -> None:
    mark("async_job")
