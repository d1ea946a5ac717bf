"""Fixtures of the APScheduler 3 compatibility tests.

``redis_url`` is the one gate to the shared Redis server (127.0.0.1:6379): when it cannot
be reached the test fails if ``CI=true`` and is skipped otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest

from . import jobfuncs

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def _reset_job_records() -> Iterator[None]:
    jobfuncs.reset()
    yield
    jobfuncs.reset()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the shared Redis server, after checking that it answers."""
    redis = pytest.importorskip("redis")
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at 127.0.0.1:6379: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: the service is required)")
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to the test; its keys are deleted afterwards."""
    import redis

    prefix = f"apstest-v3-{uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
