"""The Redis pub/sub event broker, provided by the ``apscheduler-redis`` plugin.

This module only re-exports
:class:`apscheduler_redis.eventbroker.RedisEventBroker`,
importing it on first access; if the plugin (or its dependencies) is not installed, the
access raises an ``ImportError`` that gives the command to install it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler_redis.eventbroker import RedisEventBroker

__all__ = ["RedisEventBroker"]

_INSTALL_HINT = 'pip install "apscheduler[redis]"'


def __getattr__(name: str) -> Any:
    if name != "RedisEventBroker":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = import_module("apscheduler_redis.eventbroker")
    except ImportError as exc:
        raise ImportError(
            f"RedisEventBroker needs the apscheduler-redis plugin and its dependencies ({exc}). "
            f"Install them with: {_INSTALL_HINT}"
        ) from exc
    return module.RedisEventBroker
