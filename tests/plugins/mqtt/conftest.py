"""Fixtures of the MQTT plugin's tests.

``mqtt_server`` is the one gate to the shared Mosquitto server (127.0.0.1:1883): when it
cannot be reached the test fails if ``CI=true`` and is skipped otherwise. Each test uses
its own topic (``mqtt_topic``).

Outage tests never touch the shared server: ``throwaway_mosquitto`` runs a private
``mosquitto`` on a free port that the test may stop and restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from ...services import ThrowawayServer, find_binary, port_open, service_unavailable

MQTT_HOST = "127.0.0.1"
MQTT_PORT = 1883


@pytest.fixture(scope="session")
def mqtt_server() -> tuple[str, int]:
    """Host and port of the shared MQTT server, after checking that it accepts TCP."""
    if not port_open(MQTT_HOST, MQTT_PORT, 2):
        service_unavailable(f"Mosquitto is not reachable at {MQTT_HOST}:{MQTT_PORT}")
    return MQTT_HOST, MQTT_PORT


@pytest.fixture
def mqtt_topic(mqtt_server: tuple[str, int]) -> str:
    """A topic unique to the test (MQTT topics hold nothing once subscribers leave)."""
    return f"apstest/{uuid4().hex[:12]}"


class ThrowawayMosquitto(ThrowawayServer):
    """A private mosquitto on its own port, for tests that stop and restart it."""

    name = "mosquitto"

    def __init__(self, binary: str, workdir: Path) -> None:
        super().__init__(binary)
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"
        )

    def command(self) -> list[str]:
        return [self.binary, "-c", str(self.config)]


@pytest.fixture
def throwaway_mosquitto(tmp_path: Path) -> Iterator[ThrowawayMosquitto]:
    """A running private mosquitto (killed after the test)."""
    binary = find_binary("mosquitto", "/usr/sbin/mosquitto")
    server = ThrowawayMosquitto(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
