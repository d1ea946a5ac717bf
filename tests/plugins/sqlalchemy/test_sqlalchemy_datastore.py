"""Behaviour of SQLAlchemyDataStore beyond the conformance kit: URLs and engines, schema
creation and migrations, SQLite with several processes, recovery from lost connections,
corrupt rows."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from apscheduler import (
    ConflictPolicy,
    Job,
    ScheduleDeserializationFailed,
    Task,
)
from apscheduler._registry import get_registry
from apscheduler.abc import DataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler_sqlalchemy._schema import CURRENT_SCHEMA_VERSION
from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from . import helpers
from .conftest import mariadb_url, pg_conninfo, pg_url
from .mp_worker import acquire_all

pytestmark = pytest.mark.anyio
LEASE = timedelta(seconds=30)
LOGGER = logging.getLogger("test")


@asynccontextmanager
async def started(store: SQLAlchemyDataStore) -> AsyncIterator[LocalEventBroker]:
    async with AsyncExitStack() as stack:
        broker = LocalEventBroker()
        await broker.start(stack, LOGGER)
        await store.start(stack, broker, LOGGER)
        yield broker


def make_schedule(schedule_id: str, **kwargs: object) -> object:
    from apscheduler import Schedule

    trigger = IntervalTrigger(seconds=10, start_time=datetime(2020, 1, 1, tzinfo=timezone.utc))
    return Schedule(
        id=schedule_id,
        task_id="task",
        trigger=trigger,
        next_fire_time=trigger.next(),
        job_executor="async",
        **kwargs,
    )


#
# URLs and engines
#


def test_registered_url_schemes(sqlite_path: Path) -> None:
    store = get_registry().create("data_store", f"sqlite:///{sqlite_path}", DataStore)
    assert isinstance(store, SQLAlchemyDataStore)
    assert isinstance(store.engine, Engine)
    reg = get_registry().resolve_url("data_store", "mariadb+asyncmy://h/db")
    assert reg.name == "sqlalchemy"


@pytest.mark.parametrize(
    "url, driver, is_async",
    [
        ("sqlite:///x.db", "pysqlite", False),
        ("sqlite+aiosqlite:///x.db", "aiosqlite", True),
        ("postgresql://u@h/db", "asyncpg", True),
        ("postgresql+psycopg://u@h/db", "psycopg", True),
        ("mysql://u@h/db", "asyncmy", True),
        ("mariadb+pymysql://u@h/db", "pymysql", False),
    ],
)
def test_engine_chosen_for_url(url: str, driver: str, is_async: bool) -> None:
    store = SQLAlchemyDataStore(url)
    assert isinstance(store.engine, AsyncEngine) is is_async
    assert store.engine.dialect.driver == driver


def test_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="URL"):
        SQLAlchemyDataStore(42)  # type: ignore[arg-type]


async def test_sqlite_uses_wal(sqlite_path: Path) -> None:
    store = SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")
    async with started(store):
        mode = await helpers.run_sql(
            store, lambda conn: conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        )
    assert mode == "wal"


async def test_user_engine_is_not_disposed(sqlite_path: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_path}")
    store = SQLAlchemyDataStore(engine)
    async with started(store):
        await store.add_task(Task(id="t", func="m:f", job_executor="async"))
    with engine.connect() as conn:  # still usable
        assert conn.execute(text("SELECT id FROM tasks")).scalar() == "t"
    engine.dispose()


async def test_persists_across_restart(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    async with started(SQLAlchemyDataStore(url)):
        pass
    first = SQLAlchemyDataStore(url)
    async with started(first):
        await first.add_task(Task(id="task", func="m:f", job_executor="async"))
        await first.add_schedule(make_schedule("s1", name="kept"), ConflictPolicy.exception)
        await first.add_jobs([Job(task_id="task", executor="async", args=(1, 2))])
    second = SQLAlchemyDataStore(url)
    async with started(second):
        [schedule] = await second.get_schedules()
        assert (schedule.id, schedule.name) == ("s1", "kept")
        assert schedule.next_fire_time == datetime(2020, 1, 1, tzinfo=timezone.utc)
        assert isinstance(schedule.trigger, IntervalTrigger)
        [job] = await second.get_jobs()
        assert job.args == (1, 2)


#
# Schema versions and migrations
#

V1_SQLITE_DDL = [
    "CREATE TABLE v1_metadata (schema_version INTEGER NOT NULL)",
    "INSERT INTO v1_metadata VALUES (1)",
    """CREATE TABLE v1_tasks (id VARCHAR(500) PRIMARY KEY, func VARCHAR(500),
       job_executor VARCHAR(500) NOT NULL, max_running_jobs INTEGER,
       misfire_grace_time BIGINT, metadata JSON NOT NULL,
       running_jobs INTEGER DEFAULT 0 NOT NULL)""",
    """CREATE TABLE v1_schedules (id VARCHAR(500) PRIMARY KEY, task_id VARCHAR(500) NOT NULL,
       trigger BLOB NOT NULL, args BLOB NOT NULL, kwargs BLOB NOT NULL,
       paused BOOLEAN NOT NULL, coalesce VARCHAR(16) NOT NULL, misfire_grace_time BIGINT,
       max_jitter BIGINT, job_executor VARCHAR(500) NOT NULL,
       job_result_expiration_time BIGINT NOT NULL, metadata JSON NOT NULL,
       next_fire_time BIGINT, last_fire_time BIGINT, acquired_by VARCHAR(500),
       acquired_until BIGINT, lease_token VARCHAR(32))""",
    """CREATE TABLE v1_jobs (id CHAR(32) PRIMARY KEY, task_id VARCHAR(500) NOT NULL,
       args BLOB NOT NULL, kwargs BLOB NOT NULL, schedule_id VARCHAR(500),
       scheduled_fire_time BIGINT, executor VARCHAR(500) NOT NULL, jitter BIGINT NOT NULL,
       start_deadline BIGINT, result_expiration_time BIGINT NOT NULL, metadata JSON NOT NULL,
       created_at BIGINT NOT NULL, acquired_by VARCHAR(500), acquired_until BIGINT,
       lease_token VARCHAR(32))""",
    """CREATE TABLE v1_job_results (job_id CHAR(32) PRIMARY KEY, outcome VARCHAR(32) NOT NULL,
       started_at BIGINT, finished_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
       exception BLOB, return_value BLOB)""",
]


async def test_migrates_v1_schema_without_data_loss(sqlite_path: Path) -> None:
    """A database created by schema version 1 (no schedule name / pause note, no stored
    traceback) is upgraded in place on start; its rows stay readable and usable."""
    url = f"sqlite:///{sqlite_path}"
    store = SQLAlchemyDataStore(url, table_prefix="v1_")
    serializer = store.serializer
    schedule = make_schedule("old")
    job_id = uuid4()
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in V1_SQLITE_DDL:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT INTO v1_tasks VALUES ('task', 'm:f', 'async', 2, NULL, '{\"a\": 1}', 0)"
        )
        conn.execute(
            text(
                "INSERT INTO v1_schedules VALUES ('old', 'task', :trigger, :args, :kwargs, 0,"
                " 'latest', NULL, NULL, 'async', 0, '{}', :next, NULL, NULL, NULL, NULL)"
            ),
            {
                "trigger": serializer.serialize(schedule.trigger),
                "args": serializer.serialize((1,)),
                "kwargs": serializer.serialize({}),
                "next": 1_577_836_800_000_000,
            },
        )
        conn.execute(
            text(
                "INSERT INTO v1_jobs VALUES (:id, 'task', :args, :kwargs, 'old', NULL,"
                " 'async', 0, NULL, 0, '{}', 1577836800000000, NULL, NULL, NULL)"
            ),
            {
                "id": job_id.hex,
                "args": serializer.serialize(("x",)),
                "kwargs": serializer.serialize({}),
            },
        )
    engine.dispose()

    async with started(store):
        version = await helpers.run_sql(
            store, lambda conn: conn.exec_driver_sql("SELECT * FROM v1_metadata").scalar()
        )
        assert version == CURRENT_SCHEMA_VERSION
        task = await store.get_task("task")
        assert (task.max_running_jobs, task.metadata) == (2, {"a": 1})
        [stored] = await store.get_schedules()
        assert stored.args == (1,)
        assert stored.name is None and stored.pause_note is None
        assert stored.next_fire_time == datetime(2020, 1, 1, tzinfo=timezone.utc)
        [job] = await store.get_jobs()
        assert (job.id, job.args) == (job_id, ("x",))
        # The new columns work
        await store.add_schedule(
            make_schedule("new", name="named", pause_note="why"), ConflictPolicy.exception
        )
        new = (await store.get_schedules({"new"}))[0]
        assert (new.name, new.pause_note) == ("named", "why")

    async with started(SQLAlchemyDataStore(url, table_prefix="v1_")):
        pass  # starting again on the current version is a no-op


async def test_newer_schema_version_is_refused(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    async with started(SQLAlchemyDataStore(url)):
        pass
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE metadata SET schema_version = {CURRENT_SCHEMA_VERSION + 1}")
    engine.dispose()
    async with AsyncExitStack() as stack:
        with pytest.raises(RuntimeError, match="newer than version"):
            await SQLAlchemyDataStore(url).start(stack, LocalEventBroker(), LOGGER)


#: The table layout APScheduler 4.0.0a6 creates on SQLite (abridged to its columns):
#: the same table names and ``schema_version = 1`` as our first schema
V4_PRERELEASE_SQLITE_DDL = [
    "CREATE TABLE metadata (schema_version INTEGER NOT NULL)",
    "INSERT INTO metadata VALUES (1)",
    """CREATE TABLE tasks (id VARCHAR(500) PRIMARY KEY, func VARCHAR(500),
       job_executor VARCHAR(500) NOT NULL, max_running_jobs INTEGER,
       misfire_grace_time BIGINT, metadata JSON NOT NULL, running_jobs INTEGER NOT NULL)""",
    """CREATE TABLE schedules (id VARCHAR(500) PRIMARY KEY, task_id VARCHAR(500) NOT NULL,
       trigger BLOB, args BLOB, kwargs BLOB, paused BOOLEAN NOT NULL, coalesce VARCHAR(8),
       misfire_grace_time BIGINT, max_jitter BIGINT, job_executor VARCHAR(500) NOT NULL,
       job_result_expiration_time BIGINT, metadata JSON NOT NULL, next_fire_time BIGINT,
       next_fire_time_utcoffset SMALLINT, last_fire_time BIGINT,
       last_fire_time_utcoffset SMALLINT, acquired_by VARCHAR(500), acquired_until BIGINT)""",
    """CREATE TABLE jobs (id CHAR(32) PRIMARY KEY, task_id VARCHAR(500) NOT NULL,
       args BLOB NOT NULL, kwargs BLOB NOT NULL, schedule_id VARCHAR(500),
       scheduled_fire_time BIGINT, executor VARCHAR(500) NOT NULL, jitter BIGINT,
       start_deadline BIGINT, result_expiration_time BIGINT, metadata JSON NOT NULL,
       created_at BIGINT NOT NULL, acquired_by VARCHAR(500), acquired_until BIGINT)""",
    """INSERT INTO schedules VALUES ('nightly', 'backup', x'80', x'80', x'80', 0, 'latest',
       NULL, NULL, 'async', NULL, '{}', 1577836800000000, 0, NULL, NULL, NULL, NULL)""",
]


async def test_apscheduler_4_prerelease_tables_are_refused_untouched(sqlite_path: Path) -> None:
    """A database written by APScheduler 4.0.0a6 also says schema version 1; the store
    must not take it for its own version 1 and "migrate" (damage) it."""
    url = f"sqlite:///{sqlite_path}"
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in V4_PRERELEASE_SQLITE_DDL:
            conn.exec_driver_sql(statement)
    async with AsyncExitStack() as stack:
        with pytest.raises(RuntimeError, match="APScheduler 4.0 pre-release") as exc_info:
            await SQLAlchemyDataStore(url).start(stack, LocalEventBroker(), LOGGER)
    assert "left untouched" in str(exc_info.value)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT schema_version FROM metadata").scalar() == 1
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(schedules)")}
        assert "name" not in columns and "lease_token" not in columns
        assert conn.exec_driver_sql("SELECT id FROM schedules").scalars().all() == ["nightly"]
        tables = {row[0] for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )}
        assert "job_results" not in tables  # nothing was created either
    engine.dispose()


async def test_unversioned_tables_are_refused(sqlite_path: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE tasks (id INTEGER)")
    engine.dispose()
    store = SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")
    async with AsyncExitStack() as stack:
        with pytest.raises(RuntimeError, match="unversioned"):
            await store.start(stack, LocalEventBroker(), LOGGER)


async def test_postgresql_schema_and_prefix_are_used(postgresql_schema: str) -> None:
    prefix = f"p{uuid4().hex[:6]}_"
    store = SQLAlchemyDataStore(pg_url("asyncpg"), schema=postgresql_schema, table_prefix=prefix)
    async with started(store):
        await store.add_task(Task(id="t", func="m:f", job_executor="async"))
    with psycopg.connect(pg_conninfo()) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name LIKE %s ORDER BY 1",
            (postgresql_schema, f"{prefix}%"),
        ).fetchall()
    assert [row[0] for row in rows] == [
        f"{prefix}{name}" for name in ("job_results", "jobs", "metadata", "schedules", "tasks")
    ]


async def test_mariadb_uses_skip_locked(mariadb_database: str, table_prefix: str) -> None:
    store = SQLAlchemyDataStore(mariadb_url(mariadb_database), table_prefix=table_prefix)
    async with started(store):
        version = store.engine.dialect.server_version_info
        assert store._o.skip_locked is (version >= (10, 6))


#
# Several processes on one SQLite file
#


@pytest.mark.parametrize("kind", ["jobs", "schedules"])
async def test_sqlite_processes_never_double_acquire(sqlite_path: Path, kind: str) -> None:
    """Two processes (each with its own store on the same file) acquiring at the same
    time take every item exactly once."""
    url = f"sqlite:///{sqlite_path}"
    store = SQLAlchemyDataStore(url)
    count = 600
    async with started(store):
        await store.add_task(Task(id="task", func="m:f", job_executor="async"))
        if kind == "jobs":
            jobs = [Job(task_id="task", executor="async") for _ in range(count)]
            await store.add_jobs(jobs)
            expected = {str(job.id) for job in jobs}
        else:
            for i in range(count):
                await store.add_schedule(make_schedule(f"s{i:04}"), ConflictPolicy.exception)
            expected = {f"s{i:04}" for i in range(count)}

    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(2, mp_context=ctx) as pool:
        barrier = manager.Barrier(2)
        futures = [
            pool.submit(acquire_all, url, kind, name, barrier, 7) for name in ("P1", "P2")
        ]
        first, second = (future.result(timeout=120) for future in futures)
    assert not set(first) & set(second), "an item was acquired by both processes"
    assert len(first) + len(second) == count
    assert set(first) | set(second) == expected
    assert first and second, "both processes should have taken part"


#
# Lost connections and corrupt rows
#


async def test_survives_killed_connections(postgresql_schema: str, table_prefix: str) -> None:
    """Connections killed on the server (restart, failover) are replaced transparently."""
    app_name = f"aps-store-{uuid4().hex[:8]}"
    store = SQLAlchemyDataStore(
        pg_url("asyncpg"),
        schema=postgresql_schema,
        table_prefix=table_prefix,
        engine_options={"connect_args": {"server_settings": {"application_name": app_name}}},
    )
    async with started(store):
        await store.add_task(Task(id="t", func="m:f", job_executor="async"))
        with psycopg.connect(pg_conninfo(), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (app_name,),
            ).fetchall()
        assert killed
        assert [task.id for task in await store.get_tasks()] == ["t"]
        await store.add_jobs([Job(task_id="t", executor="async")])
        assert len(await store.acquire_jobs("A", LEASE)) == 1


async def test_corrupt_schedule_is_quarantined_not_spun_on(sqlite_path: Path) -> None:
    """An unreadable due schedule is reported once per lease period, not on every
    acquire call, and does not wake schedulers up."""
    store = SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")
    async with started(store) as broker:
        failures: list[object] = []
        broker.subscribe(failures.append, {ScheduleDeserializationFailed})
        await store.add_schedule(make_schedule("bad"), ConflictPolicy.exception)
        await helpers.corrupt_schedule(store, "bad")
        assert await store.acquire_schedules("A", LEASE, 10) == []
        assert await store.acquire_schedules("A", LEASE, 10) == []
        assert await store.get_next_schedule_run_time() is None
        assert await store.get_schedules() == []


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.db'}", None
    if request.param == "postgresql":
        return pg_url("asyncpg"), request.getfixturevalue("postgresql_schema")
    return mariadb_url(request.getfixturevalue("mariadb_database")), None


async def test_migration_on_every_database(any_database_url: tuple[str, str | None]) -> None:
    """A version 1 layout (the current tables without the columns version 2 added) is
    upgraded in place on SQLite, PostgreSQL and MariaDB, keeping its rows."""
    url, schema = any_database_url
    prefix = f"m{uuid4().hex[:6]}_"
    store = SQLAlchemyDataStore(url, schema=schema, table_prefix=prefix)
    async with started(store):
        await store.add_task(Task(id="task", func="m:f", job_executor="async"))
        await store.add_schedule(make_schedule("kept"), ConflictPolicy.exception)

    def downgrade_to_v1(conn: object) -> None:
        tables = store.tables
        for table, column in (
            (tables.schedules, "name"),
            (tables.schedules, "pause_note"),
            (tables.job_results, "traceback"),
        ):
            name = conn.dialect.identifier_preparer.format_table(table)  # type: ignore[attr-defined]
            conn.exec_driver_sql(f"ALTER TABLE {name} DROP COLUMN {column}")  # type: ignore[attr-defined]
        conn.execute(tables.meta.update().values(schema_version=1))  # type: ignore[attr-defined]

    store = SQLAlchemyDataStore(url, schema=schema, table_prefix=prefix)
    async with started(store):
        pass
    await store._runner.run(downgrade_to_v1)
    await store._dispose_engine()

    store = SQLAlchemyDataStore(url, schema=schema, table_prefix=prefix)
    async with started(store):
        [schedule] = await store.get_schedules()
        assert schedule.id == "kept" and schedule.name is None
        await store.add_schedule(make_schedule("new", name="n"), ConflictPolicy.exception)
        assert [s.name for s in await store.get_schedules()] == [None, "n"]
        version = await helpers.run_sql(
            store, lambda conn: conn.execute(store.tables.meta.select()).scalar()
        )
        assert version == CURRENT_SCHEMA_VERSION


#
# Hot path: inline SQLite transactions, fencing with DELETE ... RETURNING
#


def _job(task_id: str = "task") -> Job:
    return Job(task_id=task_id, executor="async")


async def test_sqlite_inline_write_waits_for_another_process(sqlite_path: Path) -> None:
    """Hot writes on a SQLite file run on the event loop's thread, but never wait there
    for a lock held by another process: they go to a worker thread, which waits with
    the busy timeout while the loop keeps running."""
    import sqlite3

    import anyio

    store = SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")
    assert store._runner.inline_writes
    async with started(store):
        await store.add_task(Task(id="task", func=None, job_executor="async"))
        other = sqlite3.connect(sqlite_path, isolation_level=None, check_same_thread=False)
        try:
            other.execute("BEGIN IMMEDIATE")  # another "process" holds the write lock
            ticks = 0
            job = _job()
            async with anyio.create_task_group() as tg:

                async def ticker() -> None:
                    nonlocal ticks
                    while True:
                        ticks += 1
                        await anyio.sleep(0.01)

                tg.start_soon(ticker)
                with anyio.fail_after(10):
                    async with anyio.create_task_group() as adders:
                        adders.start_soon(store.add_jobs, [job])
                        await anyio.sleep(0.3)
                        assert ticks >= 10, "the event loop was blocked by the lock"
                        assert await store.get_jobs() == []
                        other.execute("COMMIT")
                tg.cancel_scope.cancel()
            assert [stored.id for stored in await store.get_jobs()] == [job.id]
            # With the lock free again, the next write runs inline
            [acquired] = await store.acquire_jobs("A", LEASE)
            assert acquired.id == job.id
        finally:
            other.close()


async def test_sqlite_memory_database_does_not_run_inline() -> None:
    store = SQLAlchemyDataStore("sqlite://")
    assert not store._runner.inline_writes


@pytest.mark.parametrize("url_kind", ["sqlite", "postgresql", "mariadb"])
async def test_release_fenced_per_lease_token(
    url_kind: str, sqlite_path: Path, request: pytest.FixtureRequest
) -> None:
    """One release batch holding jobs of two leases, one of them lost (taken over after
    expiry): only the jobs of the held lease are released; the others are refused."""
    from apscheduler import JobOutcome, JobResult
    from apscheduler._clock import FakeClock, use_clock

    if url_kind == "sqlite":
        store = SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")
    elif url_kind == "postgresql":
        schema = request.getfixturevalue("postgresql_schema")
        store = SQLAlchemyDataStore(pg_url("asyncpg"), schema=schema)
    else:
        database = request.getfixturevalue("mariadb_database")
        store = SQLAlchemyDataStore(
            mariadb_url(database), table_prefix=request.getfixturevalue("table_prefix")
        )
    clock = FakeClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    with use_clock(clock):
        async with started(store):
            await store.add_task(Task(id="task", func=None, job_executor="async"))
            first, second = _job(), _job()
            await store.add_jobs([first])
            [held_first] = await store.acquire_jobs("A", LEASE)
            clock.advance(LEASE + timedelta(seconds=1))
            # first's lease expired: B's acquire releases it as abandoned; then A
            # acquires second under a new lease
            assert await store.acquire_jobs("B", LEASE) == []
            await store.add_jobs([second])
            [held_second] = await store.acquire_jobs("A", LEASE)
            assert held_second.id == second.id
            assert held_first.lease_token != held_second.lease_token
            releases = [
                (job, JobResult.from_job(job, JobOutcome.success))
                for job in (held_first, held_second)
            ]
            assert await store.release_jobs("A", releases) == [first.id]
            assert await store.get_jobs() == []
            assert (await store.get_task("task")).running_jobs == 0
