"""Fixtures of the Redis plugin's tests.

``redis_url`` is the one gate to the shared Redis server (127.0.0.1:6379): when it cannot
be reached the test fails if ``CI=true`` and is skipped otherwise. Each test gets its own
key prefix / channel (``redis_prefix``) whose keys are deleted afterwards.

Outage tests never touch the shared server: ``throwaway_redis`` runs a private
``redis-server`` on a free port that the test may stop and restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest
import redis

from ...services import ThrowawayServer, find_binary, service_unavailable

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the shared Redis server, after checking that it answers."""
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}")
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix (and pub/sub channel) unique to the test; its keys are deleted after."""
    prefix = f"apstest-{uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class ThrowawayRedis(ThrowawayServer):
    """A private redis-server on its own port (append-only file on, so its data survives a
    restart), for tests that stop and restart it."""

    name = "redis-server"

    def __init__(self, binary: str, workdir: str) -> None:
        super().__init__(binary)
        self.workdir = workdir

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            self.workdir,
            "--daemonize",
            "no",
            "--logfile",
            "",
        ]


@pytest.fixture
def throwaway_redis(tmp_path: object) -> Iterator[ThrowawayRedis]:
    """A running private redis-server (killed after the test)."""
    binary = find_binary("redis-server", "/usr/bin/redis-server")
    server = ThrowawayRedis(binary, str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()
