"""``RedisJobStore``: APScheduler 3's Redis job store, backed by the core's
``RedisDataStore`` (from the ``apscheduler-redis`` plugin).

The store keeps its data under its own keys; existing v3 ``apscheduler.jobs`` hashes are
imported with :func:`apscheduler.migrate_v3.migrate`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .._v3.config import serializer_for
from ..abc import DataStore, Serializer
from .base import BaseJobStore

__all__ = ["RedisJobStore"]

DEFAULT_JOBS_KEY = "apscheduler.jobs"
DEFAULT_RUN_TIMES_KEY = "apscheduler.run_times"
#: connect_args that go into the URL rather than to the client
_URL_ARGS = ("host", "port", "username", "password", "ssl", "unix_socket_path")


class RedisJobStore(BaseJobStore):
    """Stores jobs in Redis.

    :param db: the database number
    :param jobs_key: with the default (``"apscheduler.jobs"``) the store uses the core's
        default key prefix; any other value becomes the key prefix, so several stores can
        share one database
    :param run_times_key: accepted for compatibility (the core store has its own keys)
    :param pickle_protocol: store arguments with pickle, using this protocol (by default
        they are stored as JSON)
    :param serializer: the core serializer to use; overrides ``pickle_protocol``
    :param connect_args: ``host``, ``port``, ``username``, ``password``, ``ssl``,
        ``unix_socket_path`` and any other keyword argument of the redis-py client
        (``socket_timeout``...)
    """

    def __init__(
        self,
        db: int | str = 0,
        jobs_key: str = DEFAULT_JOBS_KEY,
        run_times_key: str = DEFAULT_RUN_TIMES_KEY,
        pickle_protocol: int | None = None,
        *,
        serializer: Serializer | str | None = None,
        **connect_args: Any,
    ):
        if db is None:
            raise ValueError('The "db" parameter must not be empty')
        if not jobs_key:
            raise ValueError('The "jobs_key" parameter must not be empty')
        if not run_times_key:
            raise ValueError('The "run_times_key" parameter must not be empty')
        self.db = int(db)
        self.jobs_key = jobs_key
        self.run_times_key = run_times_key
        self.pickle_protocol = pickle_protocol
        self.serializer = serializer
        self.connect_args = dict(connect_args)

    @property
    def url(self) -> str:
        """The Redis URL built from the connection arguments."""
        args = self.connect_args
        if args.get("unix_socket_path"):
            return f"unix://{args['unix_socket_path']}?db={self.db}"
        scheme = "rediss" if args.get("ssl") else "redis"
        credentials = ""
        if args.get("password") is not None:
            user = quote(str(args.get("username") or ""), safe="")
            credentials = f"{user}:{quote(str(args['password']), safe='')}@"
        host = args.get("host") or "localhost"
        port = int(args.get("port") or 6379)
        return f"{scheme}://{credentials}{host}:{port}/{self.db}"

    @property
    def prefix(self) -> str:
        """The key prefix of the core store."""
        return "apscheduler" if self.jobs_key == DEFAULT_JOBS_KEY else self.jobs_key

    def create_data_store(self) -> DataStore:
        from ..datastores.redis import RedisDataStore

        client_options = {k: v for k, v in self.connect_args.items() if k not in _URL_ARGS}
        options: dict[str, Any] = {"prefix": self.prefix}
        serializer = serializer_for(self.serializer, self.pickle_protocol)
        if serializer is not None:
            options["serializer"] = serializer
        if client_options:
            options["client_options"] = client_options
        return RedisDataStore(self.url, **options)

    def __repr__(self) -> str:
        host = self.connect_args.get("host") or "localhost"
        return f"<RedisJobStore (host={host!r}, db={self.db}, jobs_key={self.jobs_key!r})>"
