"""The MongoDB data store, provided by the ``apscheduler-mongodb`` plugin.

This module only re-exports :class:`apscheduler_mongodb.datastore.MongoDBDataStore`,
importing it on first access; if the plugin (or pymongo) is not installed, the access
raises an ``ImportError`` that gives the command to install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._plugin_exports import lazy_plugin_exports

if TYPE_CHECKING:
    from apscheduler_mongodb.datastore import MongoDBDataStore

__all__ = ["MongoDBDataStore"]

__getattr__ = lazy_plugin_exports(
    __name__, {"MongoDBDataStore": "apscheduler_mongodb.datastore:MongoDBDataStore"}, "mongodb"
)
