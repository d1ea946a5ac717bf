"""Fixtures of the Redis plugin's tests.

``redis_url`` is the one gate to the shared Redis server (127.0.0.1:6379): when it cannot
be reached the test fails if ``CI=true`` and is skipped otherwise. Each test gets its own
key prefix / channel (``redis_prefix``) whose keys are deleted afterwards.

Outage tests never touch the shared server: ``throwaway_redis`` runs a private
``redis-server`` on a free port that the test may stop and restart.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from uuid import uuid4

import pytest
import redis

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the service is required)")
    pytest.skip(reason)


def _port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the shared Redis server, after checking that it answers."""
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        _unavailable(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}")
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayRedis:
    """A private redis-server on its own port (append-only file on, so its data survives a
    restart), for tests that stop and restart it."""

    def __init__(self, binary: str, workdir: str) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
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
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.port, 0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)  # waiting for an external process to listen

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def throwaway_redis(tmp_path: object) -> Iterator[ThrowawayRedis]:
    """A running private redis-server (killed after the test)."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if binary is None:
        _unavailable("redis-server is not installed: cannot run a throwaway server")
    server = ThrowawayRedis(binary, str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()
