"""Functions named by the configuration tests (as ``tests.core.config.cfgfuncs:...``)."""

from __future__ import annotations

from apscheduler import task

NOT_CALLABLE = 42


def greet(name: str, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


def noop() -> None:
    pass


async def async_noop() -> None:
    pass


@task(job_executor="async", max_running_jobs=3, metadata={"team": "ops"})
async def decorated() -> None:
    pass
