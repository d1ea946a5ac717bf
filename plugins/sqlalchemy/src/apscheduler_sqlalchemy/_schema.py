"""Table definitions of the SQL data store, for the current schema version.

Design choices, shared by every engine so that one set of queries works everywhere:

* Timestamps are ``BIGINT`` microseconds since the Unix epoch, UTC. Integers compare
  and index the same way on SQLite, PostgreSQL and MySQL/MariaDB, and they keep full
  microsecond precision. Datetimes are read back as aware UTC datetimes.
* Durations are ``BIGINT`` microseconds as well.
* Enums are stored by member name.
* Serialized values (trigger, args, kwargs, return value, exception) are binary blobs
  produced by the store's serializer; metadata is a JSON column.
* Every table and index name carries the optional ``table_prefix`` so that several
  independent stores can share one database (index names are per schema on PostgreSQL).
"""

from __future__ import annotations

import attrs
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    Uuid,
)
from sqlalchemy.dialects import mysql, postgresql

#: The schema version this release creates and works with. See ``_migrations``.
CURRENT_SCHEMA_VERSION = 2

_ID_LENGTH = 500

#: Blobs: LONGBLOB on MySQL (plain BLOB stops at 64 KiB), BYTEA/BLOB elsewhere.
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
#: JSON documents: JSONB on PostgreSQL.
JSONDoc = JSON().with_variant(postgresql.JSONB(), "postgresql")


@attrs.define(frozen=True)
class Tables:
    """The tables of one store (one prefix, one schema)."""

    metadata: MetaData
    meta: Table
    tasks: Table
    schedules: Table
    jobs: Table
    job_results: Table

    @property
    def all(self) -> tuple[Table, ...]:
        return (self.meta, self.tasks, self.schedules, self.jobs, self.job_results)


def build_tables(prefix: str = "", schema: str | None = None) -> Tables:
    """Return the current schema's tables, named with ``prefix`` in ``schema``."""
    md = MetaData(schema=schema)

    def name(base: str) -> str:
        return f"{prefix}{base}"

    meta = Table(name("metadata"), md, Column("schema_version", Integer, nullable=False))
    tasks = Table(
        name("tasks"),
        md,
        Column("id", Unicode(_ID_LENGTH), primary_key=True),
        Column("func", Unicode(_ID_LENGTH)),
        Column("job_executor", Unicode(_ID_LENGTH), nullable=False),
        Column("max_running_jobs", Integer),
        Column("misfire_grace_time", BigInteger),
        Column("metadata", JSONDoc, nullable=False),
        Column("running_jobs", Integer, nullable=False, server_default="0"),
    )
    schedules = Table(
        name("schedules"),
        md,
        Column("id", Unicode(_ID_LENGTH), primary_key=True),
        Column("task_id", Unicode(_ID_LENGTH), nullable=False),
        Column("trigger", Blob, nullable=False),
        Column("args", Blob, nullable=False),
        Column("kwargs", Blob, nullable=False),
        Column("name", Unicode(_ID_LENGTH)),
        Column("paused", Boolean, nullable=False),
        Column("pause_note", Text),
        Column("coalesce", String(16), nullable=False),
        Column("misfire_grace_time", BigInteger),
        Column("max_jitter", BigInteger),
        Column("job_executor", Unicode(_ID_LENGTH), nullable=False),
        Column("job_result_expiration_time", BigInteger, nullable=False),
        Column("metadata", JSONDoc, nullable=False),
        Column("next_fire_time", BigInteger),
        Column("last_fire_time", BigInteger),
        Column("acquired_by", Unicode(_ID_LENGTH)),
        Column("acquired_until", BigInteger),
        Column("lease_token", String(32)),
        Index(f"{prefix}ix_schedules_task_id", "task_id"),
        # Due schedules: "paused = false AND next_fire_time <= now ORDER BY next_fire_time"
        Index(f"{prefix}ix_schedules_due", "paused", "next_fire_time", "id"),
    )
    jobs = Table(
        name("jobs"),
        md,
        Column("id", Uuid, primary_key=True),
        Column("task_id", Unicode(_ID_LENGTH), nullable=False),
        Column("args", Blob, nullable=False),
        Column("kwargs", Blob, nullable=False),
        Column("schedule_id", Unicode(_ID_LENGTH)),
        Column("scheduled_fire_time", BigInteger),
        Column("executor", Unicode(_ID_LENGTH), nullable=False),
        Column("jitter", BigInteger, nullable=False),
        Column("start_deadline", BigInteger),
        Column("result_expiration_time", BigInteger, nullable=False),
        Column("metadata", JSONDoc, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("acquired_by", Unicode(_ID_LENGTH)),
        Column("acquired_until", BigInteger),
        Column("lease_token", String(32)),
        # Kept to a minimum: every index is updated when a job is acquired or released.
        # Cleanup's "does this schedule still have jobs":
        Index(f"{prefix}ix_jobs_schedule_id", "schedule_id"),
        # Queued jobs in FIFO order ("acquired_until IS NULL ORDER BY created_at") and
        # expired leases ("acquired_until < now") both use this one.
        Index(f"{prefix}ix_jobs_acquired_until", "acquired_until", "created_at"),
        # Queued jobs past their start deadline
        Index(f"{prefix}ix_jobs_start_deadline", "acquired_until", "start_deadline"),
    )
    job_results = Table(
        name("job_results"),
        md,
        Column("job_id", Uuid, primary_key=True),
        Column("outcome", String(32), nullable=False),
        Column("started_at", BigInteger),
        Column("finished_at", BigInteger, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
        Column("exception", Blob),
        Column("return_value", Blob),
        Column("traceback", JSONDoc),
        Index(f"{prefix}ix_job_results_expires_at", "expires_at"),
    )
    return Tables(md, meta, tasks, schedules, jobs, job_results)
