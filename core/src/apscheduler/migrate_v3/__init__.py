"""Import the jobs of an APScheduler 3 job store into a data store of this project.

::

    from apscheduler.migrate_v3 import migrate

    report = migrate("sqlite:///jobs.sqlite", "sqlite:///scheduler.sqlite")
    print(report)

or from the command line: ``python -m apscheduler.migrate_v3 --from URL --to URL``.

Sources: a v3 ``SQLAlchemyJobStore`` table (any SQLAlchemy URL; ``tablename``,
``tableschema``), a v3 ``RedisJobStore`` (``redis://`` URL; ``jobs_key``) or a v3
``MongoDBJobStore`` (``mongodb://`` URL; ``database``, ``collection``). The target is
any data store: an instance, a URL (``"sqlite:///..."``), a registered name or a
configuration dict.

Each v3 job becomes a core task and schedule with the job's ID, keeping its function
reference, arguments, options and stored next run time; its trigger becomes the
equivalent core trigger, positioned so that the following fire times are those v3
would have computed (see :mod:`apscheduler.migrate_v3._convert`). Jobs are unpickled
with a restricted unpickler (:mod:`apscheduler.migrate_v3._unpickler`): no APScheduler 3
code is needed, and arguments of types outside a short safe list are refused unless
``trusted=True``. Nothing is written to the source. Every job is reported as converted
or skipped, with the reason.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any, Literal

import anyio
import attrs

from .._enums import ConflictPolicy
from .._exceptions import ConflictingIdError, TaskLookupError
from .._registry import get_registry
from ..abc import DataStore
from ..eventbrokers.local import LocalEventBroker
from ._convert import ConversionError, convert_job
from ._sources import RawJob, describe, read_mongodb, read_redis, read_sqlalchemy, source_kind
from ._unpickler import load_job_state

__all__ = ["JobReport", "MigrationReport", "main", "migrate", "migrate_async", "read_v3_jobs"]

OnConflict = Literal["skip", "replace", "fail"]
logger = logging.getLogger("apscheduler.migrate_v3")


@attrs.define(frozen=True)
class JobReport:
    """What happened to one v3 job: ``status`` is ``"converted"`` or ``"skipped"``."""

    job_id: str
    status: Literal["converted", "skipped"]
    reason: str | None = None
    next_fire_time: Any = None

    def __str__(self) -> str:
        if self.status == "converted":
            when = "paused" if self.next_fire_time is None else f"next run {self.next_fire_time}"
            return f"converted  {self.job_id} ({when})"
        return f"skipped    {self.job_id}: {self.reason}"


@attrs.define
class MigrationReport:
    """The outcome of a migration, job by job."""

    source: str
    target: str
    dry_run: bool = False
    jobs: list[JobReport] = attrs.field(factory=list)

    @property
    def converted(self) -> list[JobReport]:
        return [job for job in self.jobs if job.status == "converted"]

    @property
    def skipped(self) -> list[JobReport]:
        return [job for job in self.jobs if job.status == "skipped"]

    def __str__(self) -> str:
        verb = "would be converted" if self.dry_run else "converted"
        lines = [f"APScheduler 3 jobs from {self.source} to {self.target}:"]
        lines += [f"  {job}" for job in self.jobs]
        lines.append(
            f"{len(self.converted)} {verb}, {len(self.skipped)} skipped"
            + (" (dry run: nothing was written)" if self.dry_run else "")
        )
        return "\n".join(lines)


def read_v3_jobs(
    source: Any,
    *,
    tablename: str = "apscheduler_jobs",
    tableschema: str | None = None,
    jobs_key: str = "apscheduler.jobs",
    database: str = "apscheduler",
    collection: str = "jobs",
) -> Iterator[RawJob]:
    """Yield ``(job ID, pickled job state)`` from a v3 job store (see the module
    docstring for the sources)."""
    kind = source_kind(source)
    if kind == "redis":
        if isinstance(source, str):
            return read_redis(source, jobs_key)
        return read_redis("", jobs_key, client=source)
    if kind == "mongodb":
        return read_mongodb(source, database, collection)
    return read_sqlalchemy(source, tablename, tableschema)


async def migrate_async(
    source: Any,
    target: DataStore | str | Mapping[str, Any],
    *,
    tablename: str = "apscheduler_jobs",
    tableschema: str | None = None,
    jobs_key: str = "apscheduler.jobs",
    database: str = "apscheduler",
    collection: str = "jobs",
    executors: Mapping[str, str] | None = None,
    on_conflict: OnConflict = "skip",
    dry_run: bool = False,
    trusted: bool = False,
) -> MigrationReport:
    """Copy the jobs of an APScheduler 3 job store into ``target`` (see the module
    docstring).

    :param executors: v3 executor alias → executor name for the schedules (by default
        the alias is kept, which the v3 API of this project maps to the same executor;
        use ``{"default": "threadpool"}`` for schedules run by the new API)
    :param on_conflict: when the target already has a schedule with the job's ID:
        ``"skip"`` the job (reported), ``"replace"`` the schedule, or ``"fail"``
        (raise :class:`~apscheduler.ConflictingIdError`)
    :param dry_run: convert and report, but write nothing
    :param trusted: load job arguments of any type (unpickling can then run code
        chosen by whoever could write to the source)
    """
    if on_conflict not in ("skip", "replace", "fail"):
        raise ValueError("on_conflict must be 'skip', 'replace' or 'fail'")
    store: DataStore = get_registry().create("data_store", target, DataStore)
    report = MigrationReport(describe(source), repr(store), dry_run=dry_run)
    raw_jobs = await anyio.to_thread.run_sync(
        lambda: list(
            read_v3_jobs(
                source,
                tablename=tablename,
                tableschema=tableschema,
                jobs_key=jobs_key,
                database=database,
                collection=collection,
            )
        )
    )
    conflict: ConflictingIdError | None = None
    async with AsyncExitStack() as stack:
        broker = LocalEventBroker()
        await broker.start(stack, logger)
        await store.start(stack, broker, logger)
        for job_id, data in raw_jobs:
            try:
                job_report = await _migrate_one(
                    store, job_id, data, executors, on_conflict, dry_run, trusted
                )
            except ConflictingIdError as exc:
                conflict = exc  # raised once the store is closed
                break
            report.jobs.append(job_report)
    if conflict is not None:
        raise conflict
    for job in report.jobs:
        logger.info("%s", job)
    return report


async def _migrate_one(
    store: DataStore,
    job_id: str,
    data: bytes,
    executors: Mapping[str, str] | None,
    on_conflict: OnConflict,
    dry_run: bool,
    trusted: bool,
) -> JobReport:
    try:
        state = load_job_state(data, trusted=trusted)
    except Exception as exc:
        return JobReport(job_id, "skipped", f"cannot load the pickled job state: {exc}")
    try:
        converted = convert_job(state, executors=executors)
    except ConversionError as exc:
        return JobReport(job_id, "skipped", str(exc))
    except Exception as exc:  # an invalid trigger configuration, for example
        return JobReport(job_id, "skipped", f"cannot convert the job: {exc}")
    schedule, task = converted.schedule, converted.task
    if schedule.id != job_id:
        return JobReport(job_id, "skipped", f"the job state has another ID ({schedule.id!r})")
    existing = await store.get_schedules({schedule.id})
    if existing and on_conflict == "skip":
        return JobReport(job_id, "skipped", "a schedule with this ID exists in the target")
    if existing and on_conflict == "fail":
        raise ConflictingIdError(schedule.id)
    next_fire_time = None if schedule.paused else schedule.next_fire_time
    if dry_run:
        return JobReport(job_id, "converted", next_fire_time=next_fire_time)
    try:
        previous_task = await store.get_task(task.id)
    except TaskLookupError:
        previous_task = None
    await store.add_task(task)
    try:
        await store.add_schedule(schedule, ConflictPolicy.replace)
    except Exception as exc:
        if previous_task is None:
            await store.remove_task(task.id)
        else:
            await store.add_task(previous_task)
        return JobReport(job_id, "skipped", f"the target store cannot store it: {exc}")
    return JobReport(job_id, "converted", next_fire_time=next_fire_time)


def migrate(
    source: Any,
    target: DataStore | str | Mapping[str, Any],
    **options: Any,
) -> MigrationReport:
    """Synchronous :func:`migrate_async` (runs its own event loop)."""
    return anyio.run(lambda: migrate_async(source, target, **options))


def build_parser() -> argparse.ArgumentParser:
    """The command line options (also used by ``apscheduler migrate-v3``)."""
    parser = argparse.ArgumentParser(
        prog="apscheduler migrate-v3",
        description="Import the jobs of an APScheduler 3 job store into a data store.",
    )
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="v3 job store: SQLAlchemy URL, redis:// or mongodb:// URL",
    )
    parser.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="target data store URL (e.g. sqlite:///scheduler.sqlite)",
    )
    parser.add_argument("--table", default="apscheduler_jobs", help="v3 table name")
    parser.add_argument("--table-schema", default=None, help="v3 table schema")
    parser.add_argument("--jobs-key", default="apscheduler.jobs", help="v3 Redis hash key")
    parser.add_argument("--database", default="apscheduler", help="v3 MongoDB database")
    parser.add_argument("--collection", default="jobs", help="v3 MongoDB collection")
    parser.add_argument(
        "--executor",
        action="append",
        default=[],
        metavar="ALIAS=NAME",
        help="map a v3 executor alias to an executor name (repeatable)",
    )
    parser.add_argument("--on-conflict", choices=("skip", "replace", "fail"), default="skip")
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    parser.add_argument(
        "--trusted",
        action="store_true",
        help="load arguments of any type (unpickling may run code)",
    )
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed ``migrate-v3`` command, print the report; exit status 0 if every
    job was converted, 1 if some were skipped."""
    executors = {}
    for item in args.executor:
        alias, sep, name = item.partition("=")
        if not sep or not alias or not name:
            raise SystemExit(f"--executor expects ALIAS=NAME, got {item!r}")
        executors[alias] = name
    report = migrate(
        args.source,
        args.target,
        tablename=args.table,
        tableschema=args.table_schema,
        jobs_key=args.jobs_key,
        database=args.database,
        collection=args.collection,
        executors=executors,
        on_conflict=args.on_conflict,
        dry_run=args.dry_run,
        trusted=args.trusted,
    )
    print(report)
    return 1 if report.skipped else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m apscheduler.migrate_v3 --from URL --to URL [options]``."""
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
