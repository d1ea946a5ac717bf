"""``MongoDBJobStore``: APScheduler 3's MongoDB job store, backed by the core's
``MongoDBDataStore`` (from the ``apscheduler-mongodb`` plugin).

The store keeps its data in its own collections; existing v3 ``jobs`` collections are
imported with :func:`apscheduler.migrate_v3.migrate`.
"""

from __future__ import annotations

import inspect
from typing import Any
from urllib.parse import quote

from .._v3.config import maybe_ref, serializer_for
from ..abc import DataStore, Serializer
from .base import BaseJobStore

__all__ = ["MongoDBJobStore"]

DEFAULT_COLLECTION = "jobs"


class MongoDBJobStore(BaseJobStore):
    """Stores jobs in MongoDB.

    :param database: the database to store jobs in
    :param collection: with the default (``"jobs"``) the store uses the core's default
        collection names; any other value becomes the prefix of the collection names
        (when the installed store supports prefixes)
    :param client: a pymongo client (or a ``"module:name"`` reference to one) to use
        instead of connecting with ``connect_args``
    :param pickle_protocol: store arguments with pickle, using this protocol (by default
        they are stored as JSON)
    :param serializer: the core serializer to use; overrides ``pickle_protocol``
    :param connect_args: ``host`` (a host name or a ``mongodb://`` URI), ``port``,
        ``username``, ``password``
    """

    def __init__(
        self,
        database: str = "apscheduler",
        collection: str = DEFAULT_COLLECTION,
        client: Any = None,
        pickle_protocol: int | None = None,
        *,
        serializer: Serializer | str | None = None,
        **connect_args: Any,
    ):
        if not database:
            raise ValueError('The "database" parameter must not be empty')
        if not collection:
            raise ValueError('The "collection" parameter must not be empty')
        self.database = database
        self.collection = collection
        self.client = maybe_ref(client)
        self.pickle_protocol = pickle_protocol
        self.serializer = serializer
        self.connect_args = dict(connect_args)

    @property
    def uri(self) -> str:
        """The MongoDB URI built from the connection arguments."""
        host = str(self.connect_args.get("host") or "localhost")
        if host.startswith(("mongodb://", "mongodb+srv://")):
            return host
        credentials = ""
        if self.connect_args.get("username") is not None:
            user = quote(str(self.connect_args["username"]), safe="")
            password = quote(str(self.connect_args.get("password") or ""), safe="")
            credentials = f"{user}:{password}@"
        port = int(self.connect_args.get("port") or 27017)
        return f"mongodb://{credentials}{host}:{port}"

    def create_data_store(self) -> DataStore:
        from ..datastores.mongodb import MongoDBDataStore

        options: dict[str, Any] = {"database": self.database}
        serializer = serializer_for(self.serializer, self.pickle_protocol)
        if serializer is not None:
            options["serializer"] = serializer
        if self.collection != DEFAULT_COLLECTION:
            try:
                accepts_prefix = "prefix" in inspect.signature(MongoDBDataStore).parameters
            except (TypeError, ValueError):
                accepts_prefix = False
            if accepts_prefix:
                options["prefix"] = f"{self.collection}_"
        target = self.client if self.client is not None else self.uri
        return MongoDBDataStore(target, **options)

    def __repr__(self) -> str:
        return f"<MongoDBJobStore (database={self.database!r}, collection={self.collection!r})>"
