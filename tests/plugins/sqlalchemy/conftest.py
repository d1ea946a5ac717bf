"""Fixtures of the sqlalchemy plugin tests: one per database service.

The server fixtures check that the local server answers. When it does not, the test is
skipped with the reason, except when ``CI=true``: there an unreachable server is a
failure, so CI never passes by skipping everything.

Each test run works in its own PostgreSQL schema / MariaDB database (dropped at the end),
and each test gets its own table prefix, so parallel runs and tests never collide.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from uuid import uuid4

import pytest

PG_HOST = os.environ.get("APSCHEDULER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("APSCHEDULER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("APSCHEDULER_TEST_PG_USER", "postgres")
PG_DB = os.environ.get("APSCHEDULER_TEST_PG_DB", "test")
MARIADB_HOST = os.environ.get("APSCHEDULER_TEST_MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("APSCHEDULER_TEST_MARIADB_PORT", "3306"))
MARIADB_USER = os.environ.get("APSCHEDULER_TEST_MARIADB_USER", "root")
MARIADB_DB = os.environ.get("APSCHEDULER_TEST_MARIADB_DB", "test")

RUN_ID = uuid4().hex[:8]
_prefixes = count()


def unavailable(service: str, reason: object) -> None:
    """Fail under CI, skip elsewhere."""
    message = f"{service} is not reachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def table_prefix() -> str:
    """A table prefix unique to this test."""
    return f"t{next(_prefixes)}_"


#
# PostgreSQL
#


def pg_conninfo(dbname: str = PG_DB) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname} connect_timeout=3"


def pg_url(driver: str) -> str:
    return f"postgresql+{driver}://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"


@pytest.fixture(scope="session")
def postgresql_schema() -> Iterator[str]:
    """A schema of this test run in the PostgreSQL test database (dropped afterwards)."""
    try:
        import psycopg

        conn = psycopg.connect(pg_conninfo(), autocommit=True)
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    schema = f"aps_{RUN_ID}"
    with conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        # A new connection: a test may have restarted the server meanwhile
        with psycopg.connect(pg_conninfo(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


#
# MariaDB / MySQL
#


def mariadb_url(database: str, driver: str = "asyncmy") -> str:
    return f"mysql+{driver}://{MARIADB_USER}@{MARIADB_HOST}:{MARIADB_PORT}/{database}"


@pytest.fixture(scope="session")
def mariadb_database() -> Iterator[str]:
    """A database of this test run on the MariaDB server (dropped afterwards)."""
    try:
        import pymysql

        conn = pymysql.connect(
            host=MARIADB_HOST,
            port=MARIADB_PORT,
            user=MARIADB_USER,
            database=MARIADB_DB,
            connect_timeout=3,
            autocommit=True,
        )
    except Exception as exc:
        unavailable("MariaDB", exc)
    database = f"aps_{RUN_ID}"
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    try:
        yield database
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        conn.close()


#
# SQLite
#


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    assert sqlite3.sqlite_version_info >= (3, 24)
    return tmp_path / "jobs.db"
