"""Entry point of the mqtt plugin: registers its components lazily.

The target is a ``"module:attr"`` string, so listing plugins never imports paho-mqtt.
"""

from __future__ import annotations

from apscheduler.hookspecs import Register, hookimpl


@hookimpl
def register_event_brokers(register: Register) -> None:
    register(
        "mqtt",
        "apscheduler_mqtt.eventbroker:MQTTEventBroker",
        url_schemes=["mqtt", "mqtts"],
        description="Shares events between processes through an MQTT broker",
    )
