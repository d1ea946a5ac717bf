"""The Redis data store, provided by the ``apscheduler-redis`` plugin.

This module only re-exports
:class:`apscheduler_redis.datastore.RedisDataStore`,
importing it on first access; if the plugin (or its dependencies) is not installed, the
access raises an ``ImportError`` that gives the command to install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._plugin_exports import lazy_plugin_exports

if TYPE_CHECKING:
    from apscheduler_redis.datastore import RedisDataStore

__all__ = ["RedisDataStore"]

__getattr__ = lazy_plugin_exports(
    __name__, {"RedisDataStore": "apscheduler_redis.datastore:RedisDataStore"}, "redis"
)
