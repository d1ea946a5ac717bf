"""``SQLAlchemyJobStore``: APScheduler 3's SQL job store, backed by the core's
``SQLAlchemyDataStore`` (from the ``apscheduler-sqlalchemy`` plugin).

The store keeps jobs in the core's own tables (tasks, schedules, jobs...), not in a v3
``apscheduler_jobs`` table; existing v3 tables are imported with
:func:`apscheduler.migrate_v3.migrate`.
"""

from __future__ import annotations

from typing import Any

from .._v3.config import maybe_ref, serializer_for
from ..abc import DataStore, Serializer
from .base import BaseJobStore

__all__ = ["SQLAlchemyJobStore"]

#: The v3 default table name; it maps to the core's default (unprefixed) table names.
DEFAULT_TABLENAME = "apscheduler_jobs"


class SQLAlchemyJobStore(BaseJobStore):
    """Stores jobs in a SQL database through SQLAlchemy.

    :param url: database URL (``"sqlite:///jobs.sqlite"``, ``"postgresql://..."``)
    :param engine: a SQLAlchemy ``Engine`` or ``AsyncEngine`` (or a ``"module:name"``
        reference to one) to use instead of ``url``
    :param tablename: with the default (``"apscheduler_jobs"``) the store uses the core's
        default table names; any other value becomes the prefix of the core's table names
        (``"{tablename}_schedules"``...), so several stores can share one database
    :param metadata: accepted for compatibility and ignored (the plugin owns its metadata)
    :param pickle_protocol: store arguments with pickle, using this protocol (by default
        they are stored as JSON, which never runs code when read back)
    :param tableschema: database schema holding the tables
    :param engine_options: keyword arguments for the engine created from ``url``
    :param serializer: the core serializer to use (instance or registered name);
        overrides ``pickle_protocol``
    """

    def __init__(
        self,
        url: str | None = None,
        engine: Any = None,
        tablename: str = DEFAULT_TABLENAME,
        metadata: Any = None,
        pickle_protocol: int | None = None,
        tableschema: str | None = None,
        engine_options: dict[str, Any] | None = None,
        *,
        serializer: Serializer | str | None = None,
    ):
        if engine is None and not url:
            raise ValueError('Need either "engine" or "url" defined')
        if not tablename:
            raise ValueError('The "tablename" parameter must not be empty')
        self.url = url
        self.engine = maybe_ref(engine)
        self.tablename = tablename
        self.tableschema = tableschema
        self.engine_options = engine_options
        self.pickle_protocol = pickle_protocol
        self.serializer = serializer

    @property
    def table_prefix(self) -> str:
        """The prefix of the core tables used for ``tablename``."""
        return "" if self.tablename == DEFAULT_TABLENAME else f"{self.tablename}_"

    def create_data_store(self) -> DataStore:
        from ..datastores.sqlalchemy import SQLAlchemyDataStore

        options: dict[str, Any] = {
            "schema": self.tableschema,
            "table_prefix": self.table_prefix,
            "serializer": serializer_for(self.serializer, self.pickle_protocol),
        }
        if self.engine is not None:
            return SQLAlchemyDataStore(self.engine, **options)
        assert self.url is not None  # the constructor requires url or engine
        return SQLAlchemyDataStore(self.url, engine_options=self.engine_options, **options)

    def __repr__(self) -> str:
        return f"<SQLAlchemyJobStore (tablename={self.tablename!r})>"
