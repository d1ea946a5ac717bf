"""Helpers shared by the sqlalchemy plugin tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore
from sqlalchemy import Connection, update

#: Bytes that no serializer reads back.
CORRUPT = b"\x00\xffnot a serialized value"


async def run_sql(store: SQLAlchemyDataStore, func: Any) -> Any:
    """Run ``func(connection)`` in a transaction on the store's engine."""
    return await store._runner.run(func)


async def corrupt_schedule(store: SQLAlchemyDataStore, schedule_id: str) -> None:
    table = store.tables.schedules

    def damage(conn: Connection) -> None:
        conn.execute(update(table).where(table.c.id == schedule_id).values(trigger=CORRUPT))

    await run_sql(store, damage)


async def corrupt_job(store: SQLAlchemyDataStore, job_id: UUID) -> None:
    table = store.tables.jobs

    def damage(conn: Connection) -> None:
        conn.execute(update(table).where(table.c.id == job_id).values(args=CORRUPT))

    await run_sql(store, damage)
