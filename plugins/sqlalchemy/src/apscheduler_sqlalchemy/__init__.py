"""apscheduler-sqlalchemy: a SQL data store (SQLite, PostgreSQL, MySQL/MariaDB) and
PostgreSQL LISTEN/NOTIFY event brokers (asyncpg, psycopg) for apscheduler.

The classes are imported on first access, so importing the package (as plugin discovery
does) needs neither SQLAlchemy's extras nor a database driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .asyncpg_broker import AsyncpgEventBroker
    from .datastore import SQLAlchemyDataStore
    from .psycopg_broker import PsycopgEventBroker

_LAZY = {
    "SQLAlchemyDataStore": ".datastore",
    "AsyncpgEventBroker": ".asyncpg_broker",
    "PsycopgEventBroker": ".psycopg_broker",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)


__all__ = ["AsyncpgEventBroker", "PsycopgEventBroker", "SQLAlchemyDataStore"]
