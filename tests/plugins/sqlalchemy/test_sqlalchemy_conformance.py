"""The conformance kit's data store tests, on every supported database and driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from apscheduler.testing import DataStoreTests
from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore
from sqlalchemy.ext.asyncio import create_async_engine

from . import helpers
from .conftest import mariadb_url, pg_url


class _SQLStoreTests(DataStoreTests):
    supports_concurrent_stores = True
    serializes_data = True

    async def corrupt_schedule(self, store: Any, schedule_id: str) -> None:
        await helpers.corrupt_schedule(store, schedule_id)

    async def corrupt_job(self, store: Any, job_id: UUID) -> None:
        await helpers.corrupt_job(store, job_id)


class TestSQLite(_SQLStoreTests):
    """``sqlite:///file``: the sync pysqlite fast path."""

    @pytest.fixture
    def datastore(self, sqlite_path: Path) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")

    @pytest.fixture
    def second_datastore(self, sqlite_path: Path) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(f"sqlite:///{sqlite_path}")


class TestAioSQLite(_SQLStoreTests):
    """An async aiosqlite engine passed in by the user."""

    @pytest.fixture
    async def datastore(self, sqlite_path: Path) -> Any:
        engine = create_async_engine(f"sqlite+aiosqlite:///{sqlite_path}")
        yield SQLAlchemyDataStore(engine)
        await engine.dispose()

    @pytest.fixture
    def second_datastore(self, sqlite_path: Path) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(f"sqlite+aiosqlite:///{sqlite_path}")


class TestPostgreSQLAsyncpg(_SQLStoreTests):
    @pytest.fixture
    def datastore(self, postgresql_schema: str, table_prefix: str) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(
            pg_url("asyncpg"), schema=postgresql_schema, table_prefix=table_prefix
        )

    @pytest.fixture
    def second_datastore(self, postgresql_schema: str, table_prefix: str) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(
            pg_url("asyncpg"), schema=postgresql_schema, table_prefix=table_prefix
        )


class TestPostgreSQLPsycopg(_SQLStoreTests):
    @pytest.fixture
    def datastore(self, postgresql_schema: str, table_prefix: str) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(
            pg_url("psycopg"), schema=postgresql_schema, table_prefix=table_prefix
        )

    @pytest.fixture
    def second_datastore(self, postgresql_schema: str, table_prefix: str) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(
            pg_url("psycopg"), schema=postgresql_schema, table_prefix=table_prefix
        )


class TestMariaDB(_SQLStoreTests):
    @pytest.fixture
    def datastore(self, mariadb_database: str, table_prefix: str) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(mariadb_url(mariadb_database), table_prefix=table_prefix)

    @pytest.fixture
    def second_datastore(self, mariadb_database: str, table_prefix: str) -> SQLAlchemyDataStore:
        return SQLAlchemyDataStore(mariadb_url(mariadb_database), table_prefix=table_prefix)
