"""Fixtures of the MQTT plugin's tests.

``mqtt_server`` is the one gate to the shared Mosquitto server (127.0.0.1:1883): when it
cannot be reached the test fails if ``CI=true`` and is skipped otherwise. Each test uses
its own topic (``mqtt_topic``).

Outage tests never touch the shared server: ``throwaway_mosquitto`` runs a private
``mosquitto`` on a free port that the test may stop and restart.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

MQTT_HOST = "127.0.0.1"
MQTT_PORT = 1883


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
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
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mqtt_server() -> tuple[str, int]:
    """Host and port of the shared MQTT server, after checking that it accepts TCP."""
    if not port_open(MQTT_HOST, MQTT_PORT, 2):
        _unavailable(f"Mosquitto is not reachable at {MQTT_HOST}:{MQTT_PORT}")
    return MQTT_HOST, MQTT_PORT


@pytest.fixture
def mqtt_topic(mqtt_server: tuple[str, int]) -> str:
    """A topic unique to the test (MQTT topics hold nothing once subscribers leave)."""
    return f"apstest/{uuid4().hex[:12]}"


class ThrowawayMosquitto:
    """A private mosquitto on its own port, for tests that stop and restart it."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port, 0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start on port {self.port}")
            time.sleep(0.05)  # waiting for an external process to listen

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def throwaway_mosquitto(tmp_path: Path) -> Iterator[ThrowawayMosquitto]:
    """A running private mosquitto (killed after the test)."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
    )
    if binary is None:
        _unavailable("mosquitto is not installed: cannot run a throwaway server")
    server = ThrowawayMosquitto(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
