"""MQTT components for apscheduler: :class:`MQTTEventBroker`.

The class is imported lazily, so that discovering the plugin (which imports this package)
never imports paho-mqtt.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .eventbroker import MQTTEventBroker

__all__ = ["MQTTEventBroker"]


def __getattr__(name: str) -> Any:
    if name == "MQTTEventBroker":
        return import_module("apscheduler_mqtt.eventbroker").MQTTEventBroker
    raise AttributeError(f"module 'apscheduler_mqtt' has no attribute {name!r}")
