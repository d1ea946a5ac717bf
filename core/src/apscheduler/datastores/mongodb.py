"""The MongoDB data store, provided by the ``apscheduler-mongodb`` plugin.

This module only re-exports :class:`apscheduler_mongodb.datastore.MongoDBDataStore`,
importing it on first access; if the plugin (or pymongo) is not installed, the access
raises an ``ImportError`` that gives the command to install it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler_mongodb.datastore import MongoDBDataStore

__all__ = ["MongoDBDataStore"]

_INSTALL_HINT = 'pip install "apscheduler[mongodb]"'


def __getattr__(name: str) -> Any:
    if name != "MongoDBDataStore":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = import_module("apscheduler_mongodb.datastore")
    except ImportError as exc:
        raise ImportError(
            f"MongoDBDataStore needs the apscheduler-mongodb plugin and its dependencies "
            f"({exc}). Install them with: {_INSTALL_HINT}"
        ) from exc
    return module.MongoDBDataStore
