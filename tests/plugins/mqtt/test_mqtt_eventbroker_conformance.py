"""MQTTEventBroker against the event broker conformance kit, on the real Mosquitto."""

from __future__ import annotations

import pytest
from apscheduler.abc import EventBroker
from apscheduler.testing import EventBrokerTests
from apscheduler_mqtt import MQTTEventBroker

pytestmark = pytest.mark.service("mqtt")


class TestMQTTEventBrokerConformance(EventBrokerTests):
    @pytest.fixture
    def event_broker(self, mqtt_server: tuple[str, int], mqtt_topic: str) -> EventBroker:
        host, port = mqtt_server
        return MQTTEventBroker(host, port, topic=mqtt_topic)

    @pytest.fixture
    def second_event_broker(self, mqtt_server: tuple[str, int], mqtt_topic: str) -> EventBroker:
        host, port = mqtt_server
        return MQTTEventBroker.from_url(f"mqtt://{host}:{port}/{mqtt_topic}")


class TestMQTTEventBrokerQoS1Conformance(TestMQTTEventBrokerConformance):
    """The same with QoS 1 both ways (acknowledged delivery through the server)."""

    @pytest.fixture
    def event_broker(self, mqtt_server: tuple[str, int], mqtt_topic: str) -> EventBroker:
        host, port = mqtt_server
        return MQTTEventBroker(host, port, topic=mqtt_topic, subscribe_qos=1, publish_qos=1)

    @pytest.fixture
    def second_event_broker(self, mqtt_server: tuple[str, int], mqtt_topic: str) -> EventBroker:
        host, port = mqtt_server
        return MQTTEventBroker.from_url(f"mqtt://{host}:{port}/{mqtt_topic}?qos=1")
