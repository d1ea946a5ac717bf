"""The MongoDB data store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from functools import partial
from logging import Logger
from typing import Any
from urllib.parse import unquote
from uuid import UUID, uuid4

import anyio
from anyio import CapacityLimiter
from apscheduler import (
    ConflictPolicy,
    Job,
    JobResult,
    RetrySettings,
    Schedule,
    ScheduleResult,
    Task,
)
from apscheduler.abc import EventBroker, Serializer
from apscheduler.datastores.base import BaseExternalDataStore
from pymongo import MongoClient
from pymongo.errors import ConnectionFailure

from ._backend import Backend
from ._documents import Documents
from ._operations import Operations

DEFAULT_DATABASE = "apscheduler"


class MongoDBDataStore(BaseExternalDataStore):
    """Keeps tasks, schedules, jobs and results in MongoDB, shared by any number of
    schedulers.

    :param client_or_uri: a ``pymongo.MongoClient`` (or a ``mongomock.MongoClient``), or
        a ``mongodb://`` / ``mongodb+srv://`` URI; a client made from a URI is closed when
        the store stops, a client passed in is left open
    :param database: the database to use; default: the one named in the URI, else
        ``"apscheduler"``
    :param serializer: serializer of arguments, triggers and results (default: JSON;
        ``"pickle"`` trusts whoever can write to the database)
    :param start_from_scratch: drop the store's collections when it starts
    :param retry_settings: how connection failures are retried
    :param collection_prefix: prefix of the collection names (``tasks``, ``schedules``,
        ``jobs``, ``job_results``, ``metadata``), to share one database between stores
    :param client_options: keyword arguments for ``MongoClient`` when it is made from a URI
    :param max_concurrent_operations: how many store operations may wait for the server at
        once (each one occupies a worker thread)

    The store drives pymongo's synchronous client from worker threads, so the very same
    code runs against a real server and against mongomock in tests. It needs no
    transactions (no replica set): see the module docs of ``apscheduler_mongodb`` for
    the guarantees and how each is obtained.
    """

    def __init__(
        self,
        client_or_uri: Any,
        *,
        database: str | None = None,
        serializer: Serializer | str | None = None,
        start_from_scratch: bool = False,
        retry_settings: RetrySettings | None = None,
        collection_prefix: str = "",
        client_options: Mapping[str, Any] | None = None,
        max_concurrent_operations: int = 10,
    ) -> None:
        super().__init__(serializer=serializer, retry_settings=retry_settings)
        self._temporary_failure_exceptions = (ConnectionFailure,)
        if isinstance(client_or_uri, str):
            if not client_or_uri.startswith(("mongodb://", "mongodb+srv://")):
                raise ValueError(
                    f"Expected a mongodb:// or mongodb+srv:// URI, got {_redact(client_or_uri)}"
                )
            self._uri: str | None = client_or_uri
            self._client: Any = None
            if database is None:
                database = _database_in_uri(client_or_uri)
        else:
            if not hasattr(client_or_uri, "get_database"):
                raise TypeError(
                    f"Expected a MongoClient or a mongodb:// URI, got "
                    f"{type(client_or_uri).__name__}"
                )
            self._uri = None
            self._client = client_or_uri
        if max_concurrent_operations < 1:
            raise ValueError("max_concurrent_operations must be at least 1")
        self.database = database or DEFAULT_DATABASE
        self.start_from_scratch = start_from_scratch
        self.collection_prefix = collection_prefix
        self.client_options = dict(client_options or {})
        self.max_concurrent_operations = max_concurrent_operations
        self._ops: Operations | None = None
        self._limiter: CapacityLimiter | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MongoDBDataStore:
        """Make a store from a ``mongodb://`` or ``mongodb+srv://`` URL."""
        return cls(url, **options)

    def __repr__(self) -> str:
        where = _redact(self._uri) if self._uri else type(self._client).__name__
        return f"MongoDBDataStore({where}, database={self.database!r})"

    @property
    def client(self) -> Any:
        """The client in use (``None`` before a store made from a URI is started)."""
        return self._client

    async def start(
        self, exit_stack: AsyncExitStack, event_broker: EventBroker, logger: Logger
    ) -> None:
        await super().start(exit_stack, event_broker, logger)
        if self._uri is not None:
            options = {"tz_aware": True, **self.client_options}
            client = await anyio.to_thread.run_sync(partial(MongoClient, self._uri, **options))
            self._client = client
            exit_stack.callback(client.close)
        backend = Backend(self._client, self._client[self.database], self.collection_prefix)
        self._ops = Operations(backend, Documents(self.serializer), logger)
        self._limiter = CapacityLimiter(self.max_concurrent_operations)
        await self._call(self._ops.initialize, self.start_from_scratch)

    async def _call(self, method: Callable[..., tuple[Any, list[Any]]], *args: Any) -> Any:
        """Run an operation in a worker thread (retrying connection failures), then
        publish its events.

        A retry runs the operation again with the very same arguments: the tokens and the
        ``progress`` dict some operations take are made once per call, not per attempt.
        """
        limiter = self._limiter

        async def attempt() -> tuple[Any, list[Any]]:
            return await anyio.to_thread.run_sync(partial(method, *args), limiter=limiter)

        value, events = await self._with_retry(attempt)
        for event in events:
            await self._publish(event)
        return value

    @property
    def _operations(self) -> Operations:
        if self._ops is None:
            raise RuntimeError("The MongoDB data store has not been started")
        return self._ops

    # Tasks

    async def add_task(self, task: Task) -> None:
        await self._call(self._operations.add_task, task)

    async def remove_task(self, task_id: str) -> None:
        await self._call(self._operations.remove_task, task_id)

    async def get_task(self, task_id: str) -> Task:
        return await self._call(self._operations.get_task, task_id)

    async def get_tasks(self) -> list[Task]:
        return await self._call(self._operations.get_tasks)

    # Schedules

    async def get_schedules(self, ids: set[str] | None = None) -> list[Schedule]:
        ids = None if ids is None else set(ids)
        return await self._call(self._operations.get_schedules, ids)

    async def add_schedule(self, schedule: Schedule, conflict_policy: ConflictPolicy) -> None:
        await self._call(self._operations.add_schedule, schedule, conflict_policy)

    async def remove_schedules(self, ids: Iterable[str], *, finished: bool = False) -> None:
        await self._call(self._operations.remove_schedules, list(ids), finished)

    async def acquire_schedules(
        self, scheduler_id: str, lease_duration: timedelta, limit: int
    ) -> list[Schedule]:
        return await self._call(
            self._operations.acquire_schedules, scheduler_id, lease_duration, limit, _token()
        )

    async def release_schedules(
        self, scheduler_id: str, results: Sequence[ScheduleResult]
    ) -> list[str]:
        if not results:
            return []
        return await self._call(
            self._operations.release_schedules, scheduler_id, list(results), _token(), {}
        )

    async def get_next_schedule_run_time(self) -> datetime | None:
        return await self._call(self._operations.get_next_schedule_run_time)

    async def extend_acquired_schedule_leases(
        self, scheduler_id: str, schedule_ids: set[str], duration: timedelta
    ) -> None:
        if schedule_ids:
            await self._call(
                self._operations.extend_acquired_schedule_leases,
                scheduler_id, set(schedule_ids), duration,
            )

    # Jobs

    async def add_jobs(self, jobs: Sequence[Job]) -> None:
        if jobs:
            await self._call(self._operations.add_jobs, list(jobs))

    async def get_jobs(self, ids: Iterable[UUID] | None = None) -> list[Job]:
        ids = None if ids is None else list(ids)
        return await self._call(self._operations.get_jobs, ids)

    async def remove_jobs(self, ids: Iterable[UUID]) -> list[UUID]:
        return await self._call(self._operations.remove_jobs, list(ids))

    async def acquire_jobs(
        self, scheduler_id: str, lease_duration: timedelta, limit: int | None = None
    ) -> list[Job]:
        return await self._call(
            self._operations.acquire_jobs,
            scheduler_id, lease_duration, limit, _token(), (_token(), _token()), {},
        )

    async def release_jobs(
        self, scheduler_id: str, releases: Sequence[tuple[Job, JobResult]]
    ) -> list[UUID]:
        if not releases:
            return []
        return await self._call(
            self._operations.release_jobs, scheduler_id, list(releases), _token(), {}
        )

    async def get_job_result(self, job_id: UUID) -> JobResult | None:
        return await self._call(self._operations.get_job_result, job_id)

    async def extend_acquired_job_leases(
        self, scheduler_id: str, job_ids: set[UUID], duration: timedelta
    ) -> None:
        if job_ids:
            await self._call(
                self._operations.extend_acquired_job_leases,
                scheduler_id, set(job_ids), duration,
            )

    async def reap_abandoned_jobs(self, scheduler_id: str) -> None:
        await self._call(self._operations.reap_abandoned_jobs, scheduler_id, _token(), {})

    async def cleanup(self) -> None:
        await self._call(self._operations.cleanup, _token(), {})


def _token() -> str:
    return uuid4().hex


def _database_in_uri(uri: str) -> str | None:
    """The database named in the path of a MongoDB URI (no DNS lookups, unlike
    pymongo's parser for ``mongodb+srv``)."""
    rest = uri.partition("://")[2].rpartition("@")[2]
    path = rest.partition("/")[2].partition("?")[0]
    return unquote(path) or None


def _redact(uri: str) -> str:
    """The URI without its password."""
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return uri
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{host}"
