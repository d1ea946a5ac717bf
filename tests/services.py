"""Helpers shared by the tests that talk to real servers.

* :func:`service_unavailable`: the one policy for a server that cannot be reached: the
  test fails when ``CI=true`` (CI must exercise every backend) and is skipped otherwise.
* :class:`ThrowawayServer`: a private server process on a free port, for outage tests
  that stop and restart a server without disturbing the shared one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest


def service_unavailable(reason: str) -> None:
    """Fail (with ``CI=true``) or skip the current test because a service is missing."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the service is required)")
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str, fallback: str) -> str:
    """The server binary's path; an unavailable-service outcome if it is not installed."""
    binary = shutil.which(name) or (fallback if os.path.exists(fallback) else None)
    if binary is None:
        service_unavailable(f"{name} is not installed: cannot run a throwaway server")
    assert binary is not None
    return binary


class ThrowawayServer:
    """A private server process listening on 127.0.0.1:``port``."""

    name = "server"

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port, 0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start on port {self.port}")
            time.sleep(0.05)  # waiting for an external process to listen

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
