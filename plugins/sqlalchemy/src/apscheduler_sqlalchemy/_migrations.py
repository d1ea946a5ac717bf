"""Creating the schema on first start and upgrading it in place on later releases.

The version lives in the ``metadata`` table. Each entry of :data:`MIGRATIONS` upgrades
the schema from its key version to the next one; on start the store applies every step
between the stored version and :data:`~._schema.CURRENT_SCHEMA_VERSION`, in order, so no
upgrade ever starts from scratch. A database whose version is newer than this release
knows is refused with a :class:`RuntimeError` instead of being misread.

Schema setup takes a lock (an advisory lock on PostgreSQL, ``GET_LOCK`` on MySQL/MariaDB,
the write lock on SQLite) so that several processes starting at once create or migrate
the schema only once. PostgreSQL and SQLite run a migration in one transaction;
MySQL/MariaDB commit each DDL statement implicitly, which is why every step is written to
be re-runnable (it checks what already exists).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from sqlalchemy import Connection, Inspector, Table, inspect, select
from sqlalchemy.schema import CreateColumn, CreateSchema

from ._schema import CURRENT_SCHEMA_VERSION, Tables


def _add_column_if_missing(conn: Connection, table: Table, column_name: str) -> None:
    existing = {col["name"] for col in inspect(conn).get_columns(table.name, table.schema)}
    if column_name in existing:
        return
    preparer = conn.dialect.identifier_preparer
    column_ddl = CreateColumn(table.c[column_name]).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {column_ddl}")


def _v1_to_v2(conn: Connection, tables: Tables) -> None:
    """v2 adds the schedule's ``name`` and ``pause_note`` and the result's ``traceback``."""
    _add_column_if_missing(conn, tables.schedules, "name")
    _add_column_if_missing(conn, tables.schedules, "pause_note")
    _add_column_if_missing(conn, tables.job_results, "traceback")


#: version -> step that upgrades a schema of that version to ``version + 1``
MIGRATIONS: dict[int, Callable[[Connection, Tables], None]] = {1: _v1_to_v2}


def _lock_key(tables: Tables) -> str:
    return f"apscheduler:{tables.meta.schema or ''}:{tables.meta.name}"


def _acquire_setup_lock(conn: Connection, tables: Tables) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        key = zlib.crc32(_lock_key(tables).encode())
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
    elif dialect == "mysql":
        conn.exec_driver_sql(f"SELECT GET_LOCK('{_lock_key(tables)[:64]}', 60)")


def _release_setup_lock(conn: Connection, tables: Tables) -> None:
    if conn.dialect.name == "mysql":
        conn.exec_driver_sql(f"SELECT RELEASE_LOCK('{_lock_key(tables)[:64]}')")


#: Columns every version of this store's schema has had, and which APScheduler 4.0's
#: pre-releases (whose ``metadata`` table also says ``schema_version = 1``) lack.
_LAYOUT_MARKERS = {"schedules": "lease_token", "jobs": "lease_token"}


def _check_own_layout(inspector: Inspector, tables: Tables) -> None:
    """Refuse tables that carry a schema version but were written by another program
    (APScheduler 4.0.0a1-a6 used the same table names and version number): migrating
    them in place would damage that program's data."""
    for key, column in _LAYOUT_MARKERS.items():
        table: Table = getattr(tables, key)
        if not inspector.has_table(table.name, schema=table.schema):
            continue  # created with the missing tables below
        names = {col["name"] for col in inspector.get_columns(table.name, table.schema)}
        if column not in names:
            raise RuntimeError(
                f"The table {table.name!r} was not created by apscheduler-sqlalchemy (it "
                f"has no {column!r} column): it looks like the data of an APScheduler 4.0 "
                f"pre-release or of another program. It was left untouched. Use another "
                f"table_prefix or schema, or see the migration guide from APScheduler 4.0."
            )


def prepare_schema(conn: Connection, tables: Tables) -> int:
    """Create the schema if missing, or migrate it to the current version.

    Runs inside the caller's transaction. Returns the version found before any upgrade
    (0 when the tables were created).
    """
    _acquire_setup_lock(conn, tables)
    try:
        schema = tables.meta.schema
        inspector = inspect(conn)
        # Checked first: CREATE SCHEMA needs a privilege that a role owning only its
        # schema lacks, even with IF NOT EXISTS
        if schema and conn.dialect.name != "sqlite" and not inspector.has_schema(schema):
            conn.execute(CreateSchema(schema, if_not_exists=True))
            inspector = inspect(conn)
        if not inspector.has_table(tables.meta.name, schema=schema):
            if inspector.has_table(tables.tasks.name, schema=schema):
                raise RuntimeError(
                    f"Found table {tables.tasks.name!r} but no {tables.meta.name!r} table "
                    f"with a schema version: this database holds data of another "
                    f"scheduler or an unversioned layout; use another table_prefix or schema"
                )
            tables.metadata.create_all(conn)
            conn.execute(tables.meta.insert().values(schema_version=CURRENT_SCHEMA_VERSION))
            return 0

        version = conn.execute(select(tables.meta.c.schema_version)).scalar()
        if version is None:
            raise RuntimeError(f"The {tables.meta.name!r} table holds no schema version")
        if version > CURRENT_SCHEMA_VERSION:
            raise RuntimeError(
                f"The database schema is version {version}, newer than version "
                f"{CURRENT_SCHEMA_VERSION} supported by this apscheduler-sqlalchemy; "
                f"upgrade apscheduler-sqlalchemy on this host"
            )
        _check_own_layout(inspector, tables)
        for from_version in range(version, CURRENT_SCHEMA_VERSION):
            MIGRATIONS[from_version](conn, tables)
        if version < CURRENT_SCHEMA_VERSION:
            # Tables and indexes introduced after the stored version
            tables.metadata.create_all(conn, checkfirst=True)
            conn.execute(tables.meta.update().values(schema_version=CURRENT_SCHEMA_VERSION))
        return int(version)
    finally:
        _release_setup_lock(conn, tables)
