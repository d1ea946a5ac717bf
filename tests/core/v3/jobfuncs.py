"""Module-level job functions for the v3 tests (persistent stores and process pools need
importable functions). Runs are recorded in :data:`RECORDS` and signalled through
:func:`wait_for`."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any

RECORDS: dict[str, list[Any]] = defaultdict(list)
_condition = threading.Condition()
#: Set by a test to hold :func:`blocking` jobs until it is released
GATE = threading.Event()


def reset() -> None:
    with _condition:
        RECORDS.clear()
    GATE.clear()


def record(key: str, value: Any = None) -> Any:
    """Record a run of ``key`` and return ``value``."""
    with _condition:
        RECORDS[key].append(value)
        _condition.notify_all()
    return value


def wait_for(key: str, count: int = 1, timeout: float = 10) -> list[Any]:
    """Wait until ``key`` has been recorded ``count`` times; return the records."""
    with _condition:
        if not _condition.wait_for(lambda: len(RECORDS[key]) >= count, timeout):
            raise AssertionError(
                f"{key!r} was recorded {len(RECORDS[key])} time(s), expected {count}"
            )
        return list(RECORDS[key])


def add(x: int, y: int) -> int:
    return record("add", x + y)


def fail(message: str) -> None:
    record("fail", message)
    raise ValueError(message)


async def async_add(x: int, y: int) -> int:
    return record("async_add", x + y)


def blocking(key: str) -> str:
    """Record the start, wait for :data:`GATE`, then record the end."""
    record(f"{key}:start")
    GATE.wait(10)
    return record(f"{key}:end", key)


def process_id() -> int:
    return os.getpid()


def noop(*args: Any, **kwargs: Any) -> None:
    pass
