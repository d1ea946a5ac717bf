"""apscheduler mongodb plugin: :class:`MongoDBDataStore` keeps tasks, schedules, jobs and
results in MongoDB.

The class is imported on first access, so discovering the plugin does not import pymongo.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .datastore import MongoDBDataStore

__all__ = ["MongoDBDataStore"]


def __getattr__(name: str) -> Any:
    if name != "MongoDBDataStore":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return import_module(".datastore", __name__).MongoDBDataStore
