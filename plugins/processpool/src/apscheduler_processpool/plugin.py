"""Entry point of the processpool plugin: registers its components lazily."""

from __future__ import annotations

from apscheduler.hookspecs import Register, hookimpl


@hookimpl
def register_job_executors(register: Register) -> None:
    register(
        "processpool",
        "apscheduler_processpool.executor:ProcessPoolJobExecutor",
        description="Runs functions in crash-isolated worker processes",
    )
