"""``SQLAlchemyDataStore``: tasks, schedules, jobs and results in a SQL database.

Works with SQLite, PostgreSQL and MySQL/MariaDB, through a sync or an async SQLAlchemy
engine, shared safely by any number of schedulers and workers (see
``docs/plugins/sqlalchemy.md`` for the guarantees and the SQLite specifics).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from logging import Logger
from typing import Any, TypeVar
from uuid import UUID

import tenacity
from apscheduler import (
    ConflictPolicy,
    Job,
    JobOutcome,
    JobResult,
    RemoteError,
    RetrySettings,
    Schedule,
    ScheduleResult,
    SerializationError,
    Task,
    TaskLookupError,
)
from apscheduler.abc import EventBroker, Serializer
from apscheduler.datastores.base import BaseExternalDataStore
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from ._engine import TransactionRunner, configure_sqlite, engine_from_url, is_transient
from ._migrations import prepare_schema
from ._ops import PreparedRelease, SQLOperations
from ._rows import job_to_row, result_to_row, schedule_to_row, task_to_row
from ._schema import Tables, build_tables

T = TypeVar("T")


class SQLAlchemyDataStore(BaseExternalDataStore):
    """A data store backed by a SQL database through SQLAlchemy.

    :param engine_or_url: a database URL (``"sqlite:///jobs.db"``,
        ``"postgresql+asyncpg://user@host/db"``, ``"mysql+asyncmy://..."``), a
        ``sqlalchemy.engine.URL``, or a sync ``Engine`` / ``AsyncEngine``. An engine
        the store creates from a URL is disposed of when the store stops; an engine
        passed in is left to its owner.
    :param schema: database schema holding the tables (PostgreSQL schema, MySQL
        database), created if missing. ``None`` uses the connection's default.
    :param table_prefix: prefix of every table and index name, to keep several
        independent stores in one database.
    :param serializer: serializer (or its registered name) for arguments, triggers and
        results; JSON by default. ``"pickle"`` trusts the database with code execution.
    :param retry_settings: how long and how often to retry transient errors (lost
        connections, deadlocks, a busy SQLite file).
    :param engine_options: keyword arguments for ``create_engine`` /
        ``create_async_engine`` when a URL is given.
    """

    def __init__(
        self,
        engine_or_url: str | URL | Engine | AsyncEngine,
        *,
        schema: str | None = None,
        table_prefix: str = "",
        serializer: Serializer | str | None = None,
        retry_settings: RetrySettings | None = None,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(serializer=serializer, retry_settings=retry_settings)
        if isinstance(engine_or_url, (str, URL)):
            self.engine: Engine | AsyncEngine = engine_from_url(
                engine_or_url, **(engine_options or {})
            )
            self._owns_engine = True
        elif isinstance(engine_or_url, (Engine, AsyncEngine)):
            if engine_options:
                raise TypeError("engine_options can only be given with a URL")
            self.engine = engine_or_url
            self._owns_engine = False
        else:
            raise TypeError(
                f"Expected a database URL, a sqlalchemy URL, Engine or AsyncEngine; got "
                f"{type(engine_or_url).__name__}"
            )
        self.schema = schema
        self.table_prefix = table_prefix
        self.tables: Tables = build_tables(table_prefix, schema)
        self._runner = TransactionRunner(self.engine)
        if self._runner.is_sqlite:
            configure_sqlite(self._runner.sync_engine)
        self._ops: SQLOperations | None = None

    @classmethod
    def from_url(cls, url: str | URL, **options: Any) -> SQLAlchemyDataStore:
        """Build a store from a database URL (what ``data_store="sqlite:///..."`` calls)."""
        return cls(url, **options)

    def __repr__(self) -> str:
        url = self._runner.sync_engine.url.render_as_string(hide_password=True)
        return f"{type(self).__name__}({url!r})"

    # Lifecycle and plumbing

    def _retry(self) -> tenacity.AsyncRetrying:
        retrying = super()._retry()
        return retrying.copy(retry=tenacity.retry_if_exception(is_transient))

    async def start(
        self, exit_stack: AsyncExitStack, event_broker: EventBroker, logger: Logger
    ) -> None:
        await super().start(exit_stack, event_broker, logger)
        if self._owns_engine:
            exit_stack.push_async_callback(self._dispose_engine)
        exit_stack.callback(self._runner.close)
        dialect = self._runner.sync_engine.dialect

        def setup(conn: Connection) -> bool:
            prepare_schema(conn, self.tables)
            return _supports_skip_locked(conn)

        skip_locked = await self._with_retry(lambda: self._runner.run(setup))
        self._ops = SQLOperations(
            self.tables, self.serializer, dialect.name, skip_locked, self._logger
        )

    async def _dispose_engine(self) -> None:
        if isinstance(self.engine, AsyncEngine):
            await self.engine.dispose()
        else:
            self.engine.dispose()

    async def _tx(
        self,
        method: Callable[..., T],
        *args: Any,
        write: bool = True,
        inline: bool = False,
        single_statement: bool = False,
    ) -> T:
        """Run one operation in one transaction (retried on transient errors), then
        publish the events it produced. ``inline``: a short operation, which a SQLite
        file runs on the event loop's thread (see ``TransactionRunner._run_inline``)."""
        events: list[Any] = []

        async def attempt() -> T:
            events.clear()
            ops = self._o
            return await self._runner.run(
                lambda conn: method(ops, conn, events, *args),
                write=write,
                inline=inline,
                single_statement=single_statement,
            )

        try:
            # The first try without tenacity's machinery (most transactions succeed)
            result: T = await attempt()
        except Exception as exc:
            if not is_transient(exc):
                raise
            failed: list[Exception] = [exc]

            async def replay_then_attempt() -> T:
                # The failed try counts as tenacity's first attempt: same waits and stop
                if failed:
                    raise failed.pop()
                return await attempt()

            result = await self._with_retry(replay_then_attempt)
        for event in events:
            await self._publish(event)
        return result

    @property
    def _o(self) -> SQLOperations:
        if self._ops is None:
            raise RuntimeError("The data store has not been started")
        return self._ops

    # Tasks

    async def add_task(self, task: Task) -> None:
        await self._tx(SQLOperations.add_task, task_to_row(task))

    async def remove_task(self, task_id: str) -> None:
        if not await self._tx(SQLOperations.remove_task, task_id):
            raise TaskLookupError(task_id)

    async def get_task(self, task_id: str) -> Task:
        tasks = await self._tx(SQLOperations.get_tasks, task_id, write=False)
        if not tasks:
            raise TaskLookupError(task_id)
        return tasks[0]

    async def get_tasks(self) -> list[Task]:
        return await self._tx(SQLOperations.get_tasks, None, write=False)

    # Schedules

    async def get_schedules(self, ids: set[str] | None = None) -> list[Schedule]:
        id_list = None if ids is None else sorted(ids)
        if id_list == []:
            return []
        return await self._tx(SQLOperations.get_schedules, id_list, write=False)

    async def add_schedule(self, schedule: Schedule, conflict_policy: ConflictPolicy) -> None:
        row = schedule_to_row(schedule, self.serializer)
        await self._tx(
            SQLOperations.add_schedule, row, ConflictPolicy(conflict_policy)
        )

    async def remove_schedules(self, ids: Iterable[str], *, finished: bool = False) -> None:
        id_list = sorted(set(ids))
        if id_list:
            await self._tx(SQLOperations.remove_schedules, id_list, finished)

    async def acquire_schedules(
        self, scheduler_id: str, lease_duration: timedelta, limit: int
    ) -> list[Schedule]:
        return await self._tx(
            SQLOperations.acquire_schedules, scheduler_id, lease_duration, limit, inline=True
        )

    async def release_schedules(
        self, scheduler_id: str, results: Sequence[ScheduleResult]
    ) -> list[str]:
        if not results:
            return []
        prepared = [self._prepare_release(result) for result in results]
        return await self._tx(
            SQLOperations.release_schedules, scheduler_id, prepared, inline=True
        )

    def _prepare_release(self, result: ScheduleResult) -> PreparedRelease:
        next_fire_time = result.next_fire_time
        try:
            trigger: bytes | None = self.serializer.serialize(result.trigger)
        except Exception as exc:
            self._logger.error(
                "Cannot serialize the trigger of schedule %r (%s); it will not fire again",
                result.schedule_id, exc,
            )
            trigger, next_fire_time = None, None
        jobs: list[Job] = []
        rows: list[dict[str, Any]] = []
        for job in result.jobs:
            try:
                rows.append(job_to_row(job, self.serializer))
            except Exception as exc:
                self._logger.error(
                    "Dropping a job of schedule %r: it cannot be serialized (%s)",
                    result.schedule_id, exc,
                )
                continue
            jobs.append(job)
        return PreparedRelease(
            schedule_id=result.schedule_id,
            task_id=result.task_id,
            lease_token=result.lease_token,
            trigger=trigger,
            last_fire_time=result.last_fire_time,
            next_fire_time=next_fire_time,
            job_rows=tuple(rows),
            jobs=tuple(jobs),
        )

    async def get_next_schedule_run_time(self) -> datetime | None:
        return await self._tx(SQLOperations.get_next_schedule_run_time, write=False)

    async def extend_acquired_schedule_leases(
        self, scheduler_id: str, schedule_ids: set[str], duration: timedelta
    ) -> None:
        if schedule_ids:
            await self._tx(
                SQLOperations.extend_schedule_leases,
                scheduler_id,
                sorted(schedule_ids),
                duration,
            )

    # Jobs

    async def add_jobs(self, jobs: Sequence[Job]) -> None:
        if jobs:
            rows = [job_to_row(job, self.serializer) for job in jobs]
            # One row: one INSERT statement, atomic without a transaction
            await self._tx(
                SQLOperations.add_jobs,
                rows,
                list(jobs),
                inline=True,
                single_statement=len(rows) == 1,
            )

    async def get_jobs(self, ids: Iterable[UUID] | None = None) -> list[Job]:
        id_list = None if ids is None else list(dict.fromkeys(ids))
        if id_list == []:
            return []
        # A bounded read (IDs given) is short enough to run inline on a SQLite file
        return await self._tx(
            SQLOperations.get_jobs, id_list, write=False, inline=id_list is not None
        )

    async def remove_jobs(self, ids: Iterable[UUID]) -> list[UUID]:
        id_list = list(dict.fromkeys(ids))
        if not id_list:
            return []
        return await self._tx(SQLOperations.remove_jobs, id_list)

    async def acquire_jobs(
        self, scheduler_id: str, lease_duration: timedelta, limit: int | None = None
    ) -> list[Job]:
        if limit is not None and limit <= 0:
            return []
        return await self._tx(
            SQLOperations.acquire_jobs, scheduler_id, lease_duration, limit, inline=True
        )

    async def release_jobs(
        self, scheduler_id: str, releases: Sequence[tuple[Job, JobResult]]
    ) -> list[UUID]:
        if not releases:
            return []
        checked: list[tuple[Job, JobResult]] = []
        result_rows: dict[UUID, dict[str, Any]] = {}
        for job, result in releases:
            if result.should_be_stored:
                try:
                    result_rows[job.id] = result_to_row(result, self.serializer)
                except SerializationError as exc:
                    self._logger.error(
                        "The return value of job %s cannot be stored: %s", job.id, exc
                    )
                    result = JobResult.from_job(
                        job,
                        JobOutcome.error,
                        finished_at=result.finished_at,
                        started_at=result.started_at,
                        exception=RemoteError(str(exc), "apscheduler.SerializationError"),
                    )
                    result_rows[job.id] = result_to_row(result, self.serializer)
            checked.append((job, result))
        return await self._tx(
            SQLOperations.release_jobs, scheduler_id, checked, result_rows, inline=True
        )

    async def get_job_result(self, job_id: UUID) -> JobResult | None:
        return await self._tx(SQLOperations.get_job_result, job_id, write=False, inline=True)

    async def extend_acquired_job_leases(
        self, scheduler_id: str, job_ids: set[UUID], duration: timedelta
    ) -> None:
        if job_ids:
            await self._tx(
                SQLOperations.extend_job_leases,
                scheduler_id,
                list(job_ids),
                duration,
            )

    async def reap_abandoned_jobs(self, scheduler_id: str) -> None:
        await self._tx(SQLOperations.reap_abandoned_jobs, scheduler_id)

    async def cleanup(self) -> None:
        await self._tx(SQLOperations.cleanup)


def _supports_skip_locked(conn: Connection) -> bool:
    dialect = conn.dialect
    if dialect.name == "postgresql":
        return True
    if dialect.name == "mysql":
        version = dialect.server_version_info or (0,)
        if getattr(dialect, "is_mariadb", False):
            return tuple(version[:2]) >= (10, 6)
        return tuple(version[:3]) >= (8, 0, 1)
    return False
