"""Redis components for apscheduler: :class:`RedisEventBroker` and :class:`RedisDataStore`.

The classes are imported lazily, so that discovering the plugin (which imports this
package) never imports redis-py.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .datastore import RedisDataStore
    from .eventbroker import RedisEventBroker

_LAZY = {
    "RedisDataStore": "apscheduler_redis.datastore",
    "RedisEventBroker": "apscheduler_redis.eventbroker",
}

__all__ = ["RedisDataStore", "RedisEventBroker"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apscheduler_redis' has no attribute {name!r}")
    return getattr(import_module(module), name)
