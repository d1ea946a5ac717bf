"""The MQTT event broker, provided by the ``apscheduler-mqtt`` plugin.

This module only re-exports
:class:`apscheduler_mqtt.eventbroker.MQTTEventBroker`,
importing it on first access; if the plugin (or its dependencies) is not installed, the
access raises an ``ImportError`` that gives the command to install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._plugin_exports import lazy_plugin_exports

if TYPE_CHECKING:
    from apscheduler_mqtt.eventbroker import MQTTEventBroker

__all__ = ["MQTTEventBroker"]

__getattr__ = lazy_plugin_exports(
    __name__, {"MQTTEventBroker": "apscheduler_mqtt.eventbroker:MQTTEventBroker"}, "mqtt"
)
