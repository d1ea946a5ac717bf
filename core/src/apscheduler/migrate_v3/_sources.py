"""Reading the raw job states out of APScheduler 3 job stores.

Each reader yields ``(job ID, pickled job state)`` pairs and never unpickles anything;
it talks to the database with the synchronous client library of that database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

RawJob = tuple[str, bytes]

#: async SQLAlchemy drivers → the synchronous driver used to read the table
_SYNC_DRIVERS = {
    "aiosqlite": "pysqlite",
    "asyncpg": "psycopg",
    "asyncmy": "pymysql",
    "aiomysql": "pymysql",
}


def describe(source: Any) -> str:
    """A printable name of a source, without its password."""
    if isinstance(source, str):
        if "@" in source and "://" in source:
            scheme, _, rest = source.partition("://")
            return f"{scheme}://***@{rest.rpartition('@')[2]}"
        return source
    return repr(source)


def read_sqlalchemy(
    url: str, tablename: str = "apscheduler_jobs", schema: str | None = None
) -> Iterator[RawJob]:
    """The rows of a v3 ``SQLAlchemyJobStore`` table."""
    from sqlalchemy import Column, LargeBinary, MetaData, Table, Unicode, create_engine, select
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if driver in _SYNC_DRIVERS:
        parsed = parsed.set(drivername=f"{backend}+{_SYNC_DRIVERS[driver]}")
    elif not driver and backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif not driver and backend in ("mysql", "mariadb"):
        parsed = parsed.set(drivername=f"{backend}+pymysql")
    table = Table(
        tablename,
        MetaData(),
        Column("id", Unicode(191), primary_key=True),
        Column("job_state", LargeBinary),
        schema=schema,
    )
    engine = create_engine(parsed)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(table.c.id, table.c.job_state).order_by(table.c.id))
            for job_id, job_state in rows:
                yield str(job_id), bytes(job_state)
    finally:
        engine.dispose()


def read_redis(
    url: str,
    jobs_key: str = "apscheduler.jobs",
    client: Any = None,
) -> Iterator[RawJob]:
    """The entries of a v3 ``RedisJobStore`` hash (``jobs_key``)."""
    if client is None:
        import redis

        client = redis.Redis.from_url(url)
        owned = True
    else:
        owned = False
    try:
        entries = client.hgetall(jobs_key)
        for job_id in sorted(entries):
            key = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
            yield key, bytes(entries[job_id])
    finally:
        if owned:
            client.close()


def read_mongodb(
    source: Any, database: str = "apscheduler", collection: str = "jobs"
) -> Iterator[RawJob]:
    """The documents of a v3 ``MongoDBJobStore`` collection. ``source`` is a
    ``mongodb://`` URI, a pymongo client or a collection."""
    owned: Any = None
    if isinstance(source, str):
        import pymongo

        owned = pymongo.MongoClient(source)
        target = owned[database][collection]
    elif hasattr(type(source), "find"):
        target = source  # a collection
    else:
        target = source[database][collection]
    try:
        for document in target.find({}, ["_id", "job_state"], sort=[("_id", 1)]):
            yield str(document["_id"]), bytes(document["job_state"])
    finally:
        if owned is not None:
            owned.close()


def source_kind(source: Any) -> str:
    """``"sqlalchemy"``, ``"redis"`` or ``"mongodb"`` for a source URL or object."""
    if isinstance(source, str):
        scheme = source.partition("://")[0].lower()
        if scheme in ("redis", "rediss", "unix"):
            return "redis"
        if scheme in ("mongodb", "mongodb+srv"):
            return "mongodb"
        return "sqlalchemy"
    # look at the class: pymongo-style objects invent any attribute asked of them
    if hasattr(type(source), "hgetall"):
        return "redis"
    return "mongodb"
