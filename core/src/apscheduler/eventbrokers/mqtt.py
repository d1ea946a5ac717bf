"""The MQTT event broker, provided by the ``apscheduler-mqtt`` plugin.

This module only re-exports
:class:`apscheduler_mqtt.eventbroker.MQTTEventBroker`,
importing it on first access; if the plugin (or its dependencies) is not installed, the
access raises an ``ImportError`` that gives the command to install it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler_mqtt.eventbroker import MQTTEventBroker

__all__ = ["MQTTEventBroker"]

_INSTALL_HINT = 'pip install "apscheduler[mqtt]"'


def __getattr__(name: str) -> Any:
    if name != "MQTTEventBroker":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = import_module("apscheduler_mqtt.eventbroker")
    except ImportError as exc:
        raise ImportError(
            f"MQTTEventBroker needs the apscheduler-mqtt plugin and its dependencies ({exc}). "
            f"Install them with: {_INSTALL_HINT}"
        ) from exc
    return module.MQTTEventBroker
